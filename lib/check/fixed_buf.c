// SPDX-License-Identifier: MIT
/*
 * The checker's registered-buffer case (NVMETA_CHECK_FIXED_BUF): a command
 * of one block whose data lies at the start of a registered buffer that
 * spans more pages than the queue's max_segments.  The command needs one
 * or two segments; the registration's size is none of the kernel's
 * business.  Linux 6.1 refuses it with EINVAL all the same: it measures
 * the registration, not the command (seen in the lab: 127 pages go, 128
 * do not, with max_segments 127; 6.12 and 7.2 take both).
 *
 * A control command first, from a registration of twice the command's
 * pages: if that fails too, the cause is something else and the case
 * FAILs.
 * Both commands write a pattern and read it back through the registered
 * buffer; the metadata, when separate, is a plain buffer.
 *
 * With NVMETA_CHECK_VEC the data goes as two iovecs inside the
 * registration (NVMETA_IO_VEC | NVMETA_IO_FIXED_BUF), cut 700 bytes in:
 * inside the first block and inside a page, a gap the queue's virtual
 * boundary does not allow, so the kernel must copy or refuse.  The same
 * iovecs from plain memory are the control.  A kernel that refuses
 * vectored registered buffers (EINVAL; the library itself where sending
 * them is a known defect) is a SKIP; one that takes the command and
 * loses bytes, or builds a transfer the device refuses, a KERNEL-DEFECT.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "check.h"

struct fixed {
	const struct nvmeta_dev *dev;
	struct nvmeta_check_result *res;
	struct io_uring ring;
	size_t page;		/* the running system's: max_segments counts these */
	unsigned char *reg;	/* the registered memory */
	size_t reg_len;
	unsigned char *meta;
	size_t dlen, mlen;
};

static unsigned char byte_of(size_t i, unsigned int salt)
{
	return (unsigned char)(i * 29 + salt * 7 + 1);
}

#define VEC_CUT 700	/* inside the first block and the first page */

/* @buf as the command's data: flat, or two iovecs cut @cut bytes in. */
static void set_data(struct fixed *f, struct nvmeta_io *io, struct iovec *iov,
		     unsigned char *buf, size_t cut)
{
	if (!cut) {
		io->data = buf;
		io->data_len = f->dlen;
		return;
	}
	iov[0] = (struct iovec){ buf, cut };
	iov[1] = (struct iovec){ buf + cut, f->dlen - cut };
	io->data = iov;
	io->data_len = 2;
	io->flags |= NVMETA_IO_VEC;
}

/* Write @salt's pattern from @src to the case's blocks, read it back into
 * @dst, compare; @flags adds NVMETA_IO_FIXED_BUF, @cut makes the data two
 * iovecs.  Returns 0, the errno of the I/O (its message in
 * nvmeta_last_error()), or 1 + the offset of the first byte that differs
 * (the metadata's after the data's). */
static int64_t round_trip_io(struct fixed *f, unsigned char *src, unsigned char *dst,
			     unsigned int salt, uint32_t flags, size_t cut)
{
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_WRITE, .slba = f->res->slba, .nlb = f->res->nlb,
		.flags = flags, .meta = f->mlen ? f->meta : NULL, .meta_len = f->mlen,
	};
	struct iovec iov[2];
	size_t i;
	int ret;

	for (i = 0; i < f->dlen; i++)
		src[i] = byte_of(i, salt);
	for (i = 0; i < f->mlen; i++)
		f->meta[i] = byte_of(i, salt + 1);
	set_data(f, &io, iov, src, cut);
	ret = nvmeta_io_sync(f->dev, &f->ring, &io, NULL);
	if (ret)
		return ret;
	memset(dst, 0, f->dlen);
	memset(f->meta, 0, f->mlen);
	io.opcode = NVMETA_OP_READ;
	io.flags = flags;
	set_data(f, &io, iov, dst, cut);
	ret = nvmeta_io_sync(f->dev, &f->ring, &io, NULL);
	if (ret)
		return ret;
	for (i = 0; i < f->dlen; i++)
		if (dst[i] != byte_of(i, salt))
			return 1 + (int64_t)i;
	for (i = 0; i < f->mlen; i++)
		if (f->meta[i] != byte_of(i, salt + 1))
			return 1 + (int64_t)(f->dlen + i);
	return 0;
}

/* One block from the registration's start, read back into its end. */
static int round_trip(struct fixed *f, unsigned int salt)
{
	int64_t ret = round_trip_io(f, f->reg, f->reg + f->reg_len - f->dlen, salt,
				    NVMETA_IO_FIXED_BUF, 0);

	return ret > 0 ? 1 : (int)ret;
}

static void judge_vec(struct fixed *f, size_t pages)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(f->dev);
	struct nvmeta_check_result *res = f->res;
	unsigned char *dst = f->reg + pages * f->page - f->dlen;
	struct iovec reg = { .iov_base = f->reg, .iov_len = pages * f->page };
	int64_t ret;

	if (f->dlen <= VEC_CUT) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_SKIP, "%zu data bytes: no room for a cut %u bytes in",
				     f->dlen, VEC_CUT);
		return;
	}
	ret = round_trip_io(f, f->reg, dst, 7, 0, VEC_CUT);
	if (ret) {
		res->err = ret < 0 ? (int)ret : 0;
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "control: the same two iovecs from plain memory: %s",
				     ret < 0 ? nvmeta_last_error() : "read back other bytes");
		return;
	}
	ret = io_uring_register_buffers(&f->ring, &reg, 1);
	if (ret) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "io_uring_register_buffers (%zu pages): %s",
				     pages, strerror((int)-ret));
		return;
	}
	ret = round_trip_io(f, f->reg, dst, 9, NVMETA_IO_FIXED_BUF, VEC_CUT);
	io_uring_unregister_buffers(&f->ring);
	res->err = ret < 0 ? (int)ret : 0;
	if (ret == -EOPNOTSUPP || ret == -EINVAL) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_SKIP, "vectored data in a registered buffer refused (%s): %s",
				     strerrorname_np((int)-ret), nvmeta_last_error());
		return;
	}
	if (ret < 0) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_KERNEL_DEFECT, "kernel defect: two iovecs of a registered buffer, cut %u bytes in (inside a block and a page), failed where the same iovecs from plain memory went through: %s (kernel %s)",
				     VEC_CUT, nvmeta_last_error(), in->kernel.release);
		return;
	}
	if (ret > 0) {
		res->where = "data";
		res->bad_offset = (size_t)(ret - 1);
		nvmeta_check_verdict(res, NVMETA_VERDICT_KERNEL_DEFECT, "kernel defect: two iovecs of a registered buffer, cut %u bytes in (inside a block and a page), read back other bytes from byte %zu on (data, then metadata), where the same iovecs from plain memory read back exact (kernel %s)",
				     VEC_CUT, (size_t)(ret - 1), in->kernel.release);
		return;
	}
	nvmeta_check_verdict(res, NVMETA_VERDICT_PASS, "%zu bytes as two iovecs cut %u bytes in, from plain memory and from a registered buffer, read back exact",
			     f->dlen, VEC_CUT);
}

/* Register @pages pages of f->reg as buffer 0 and run a round trip. */
static int with_registration(struct fixed *f, size_t pages, unsigned int salt)
{
	struct iovec iov = { .iov_base = f->reg, .iov_len = pages * f->page };
	int ret;

	ret = io_uring_register_buffers(&f->ring, &iov, 1);
	if (ret)
		return nvmeta_check_fail(ret, "io_uring_register_buffers (%zu pages): %s", pages,
				   strerror(-ret));
	f->reg_len = iov.iov_len;
	ret = round_trip(f, salt);
	io_uring_unregister_buffers(&f->ring);
	return ret;
}

static void judge(struct fixed *f, size_t big, uint32_t segs)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(f->dev);
	struct nvmeta_check_result *res = f->res;
	size_t small = (f->dlen + f->page - 1) / f->page * 2;
	int ret;

	ret = with_registration(f, small, 3);
	if (ret) {
		res->err = ret < 0 ? ret : 0;
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "control: one block from a registration of %zu pages: %s",
				     small, ret < 0 ? nvmeta_last_error() : "read back other bytes");
		return;
	}
	ret = with_registration(f, big, 5);
	res->err = ret < 0 ? ret : 0;
	if (ret == -EINVAL) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_KERNEL_DEFECT,
				     "kernel defect: one block from the start of a registered buffer of %zu pages failed with EINVAL (queue max_segments %u; from %zu pages it went through): the kernel counts the registration's pages, not the command's (kernel %s)",
				     big, segs, small, in->kernel.release);
		return;
	}
	if (ret) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "one block from a registration of %zu pages: %s",
				     big, ret < 0 ? nvmeta_last_error() : "read back other bytes");
		return;
	}
	nvmeta_check_verdict(res, NVMETA_VERDICT_PASS, "one block from registrations of %zu and %zu pages (queue max_segments %u), read back exact",
			     small, big, segs);
}

int nvmeta_check_fixed_buf(const struct nvmeta_dev *dev, struct nvmeta_check_result *res,
			   bool vec)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(dev);
	struct fixed f = { .dev = dev, .res = res, .page = (size_t)sysconf(_SC_PAGESIZE) };
	uint32_t features = 0, segs = in->limits.max_segments;
	size_t big;

	res->layout = NVMETA_LAYOUT_PAGE;
	res->expect_err = 0;
	if (nvmeta_ring_init(&f.ring, 4)) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "ring: %s", nvmeta_last_error());
		return 0;
	}
	if (nvmeta_ring_probe(&f.ring, &features) || !(features & NVMETA_FEAT_FIXED_BUF)) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_SKIP, "kernel %s takes no registered buffers for passthrough",
				     in->kernel.release);
		goto out;
	}
	if (!segs || segs > 4096) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_SKIP, "queue max_segments %u: no bound to cross",
				     segs);
		goto out;
	}
	f.dlen = (size_t)res->nlb * (in->lba_size + (in->extended_lba ? in->ms : 0));
	f.mlen = in->extended_lba ? 0 : (size_t)res->nlb * in->ms;
	big = segs + 1 + 2 * ((f.dlen + f.page - 1) / f.page);
	f.reg = mmap(NULL, big * f.page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	f.meta = mmap(NULL, f.mlen ? f.mlen : 1, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (f.reg == MAP_FAILED || f.meta == MAP_FAILED) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "mmap of %zu pages: %m", big);
		goto unmap;
	}
	nvmeta_predict(in, NVMETA_KIND_DATA, f.reg, f.dlen, &res->pred);
	if (vec)
		judge_vec(&f, (f.dlen + f.page - 1) / f.page * 2);
	else
		judge(&f, big, segs);
unmap:
	if (f.reg != MAP_FAILED)
		munmap(f.reg, big * f.page);
	if (f.meta != MAP_FAILED)
		munmap(f.meta, f.mlen ? f.mlen : 1);
out:
	io_uring_queue_exit(&f.ring);
	return 0;
}
