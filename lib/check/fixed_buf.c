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

/* Write @salt's pattern from the registration's start to the case's
 * blocks, read it back into its second half, compare.  Returns 0, the
 * errno of the I/O (its message in nvmeta_last_error()), or 1 when the
 * bytes differ. */
static int round_trip(struct fixed *f, unsigned int salt)
{
	unsigned char *src = f->reg, *dst = f->reg + f->reg_len - f->dlen;
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_WRITE, .slba = f->res->slba, .nlb = f->res->nlb,
		.data = src, .data_len = f->dlen, .flags = NVMETA_IO_FIXED_BUF,
		.meta = f->mlen ? f->meta : NULL, .meta_len = f->mlen,
	};
	size_t i;
	int ret;

	for (i = 0; i < f->dlen; i++)
		src[i] = byte_of(i, salt);
	for (i = 0; i < f->mlen; i++)
		f->meta[i] = byte_of(i, salt + 1);
	ret = nvmeta_io_sync(f->dev, &f->ring, &io, NULL);
	if (ret)
		return ret;
	memset(dst, 0, f->dlen);
	memset(f->meta, 0, f->mlen);
	io.opcode = NVMETA_OP_READ;
	io.data = dst;
	ret = nvmeta_io_sync(f->dev, &f->ring, &io, NULL);
	if (ret)
		return ret;
	for (i = 0; i < f->dlen; i++)
		if (dst[i] != byte_of(i, salt))
			return 1;
	for (i = 0; i < f->mlen; i++)
		if (f->meta[i] != byte_of(i, salt + 1))
			return 1;
	return 0;
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

int nvmeta_check_fixed_buf(const struct nvmeta_dev *dev, struct nvmeta_check_result *res)
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
