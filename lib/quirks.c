// SPDX-License-Identifier: MIT
/*
 * Work-arounds for kernel defects that nvmeta's own lab found, each
 * decided once per device by what the running kernel does, never by its
 * version and never per command.
 *
 * Linux 6.12 (seen on Debian's 6.12.117, which carries the 6.12.92
 * backport of the iov_iter rework of bio_integrity_map_user() but not the
 * upstream fix "block: flip iter directions in blk_rq_integrity_map_user()")
 * pins a passthrough read's metadata buffer without asking for write
 * access.  Pages of an anonymous mapping that were never touched are then
 * the kernel's shared zero page, and the device's metadata (pinned path)
 * or the kernel's copy-back (bounce path) lands in it: every process's
 * untouched memory stops reading as zero and the machine falls over.
 * Populating the pages for writing first gives the kernel real pages to
 * pin.  That costs a system call per read, so it is done only on a device
 * whose kernel showed the defect when the device was opened.
 *
 * Linux 6.10 to 6.12.y (5eff57fa9f3a; fixed in 6.14 by e663da62ba86 and
 * d6211ebbdaa5, and in 6.13.y) reads a passthrough command's SQE from the
 * application's SQ ring after io_uring_enter() returned when the command
 * is issued late: reissued after -EAGAIN (a frozen queue, every
 * controller reset), or linked, or drained.  By then the slot may hold
 * another command: wrong LBA, wrong buffers.  IOSQE_ASYNC makes the
 * kernel copy the SQE while it prepares it; on a device whose kernel
 * showed the late read at open, every SQE the library fills carries it,
 * and info->kernel.quirks tells callers who fill their own.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

int nvmeta_populate_write(void *addr, size_t len)
{
	uintptr_t page = page_size();
	uintptr_t start = (uintptr_t)addr & ~(page - 1);
	uintptr_t end = ((uintptr_t)addr + len + page - 1) & ~(page - 1);

	/* MADV_POPULATE_WRITE (5.14) faults without a signal: read-only
	 * memory comes back as EFAULT instead of killing the caller. */
	if (!madvise((void *)start, end - start, MADV_POPULATE_WRITE))
		return 0;
	/* EINVAL: read-only (or PFN-mapped) memory.  Handing it to a kernel
	 * that pins without write access would let the device write it. */
	return nvmeta_fail(-EFAULT, "buffer %p (%zu bytes) cannot be written: %m", addr, len);
}

int nvmeta_mem_prepare(void *addr, size_t len)
{
	if (!len)
		return nvmeta_fail(-EINVAL, "nvmeta_mem_prepare: zero length");
	if ((uintptr_t)addr + len < (uintptr_t)addr)
		return nvmeta_fail(-EFAULT, "buffer %p + %zu bytes wraps past the end of the address space",
				   addr, len);
	return nvmeta_populate_write(addr, len);
}

int nvmeta_prepare_buffers(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	if (!dev->populate_reads || io->flags & NVMETA_IO_NO_PREFAULT ||
	    io->opcode != NVMETA_OP_READ || !io->meta || !io->meta_len)
		return 0;
	return nvmeta_populate_write(io->meta, io->meta_len);
}

/*
 * The harmless probe: a one-block READ whose metadata buffer is a
 * read-only shared mapping of a fresh memfd (only this process sees it).
 * A kernel that pins for writing, or copies back with copy_to_user,
 * refuses it with EFAULT (6.1.176 and 7.2.13 in the lab); 6.12.117
 * accepts it and the device's bytes land in the page.  The ioctl takes
 * the same mapping path as io_uring passthrough.
 */
static int probe_read_only_pin(const struct nvmeta_dev *dev)
{
	const struct nvmeta_dev_info *in = &dev->info;
	size_t page = page_size(), mlen = (in->ms + page - 1) / page * page;
	size_t dlen = (in->lba_size + page - 1) / page * page;
	struct nvme_passthru_cmd64 cmd;
	void *meta = MAP_FAILED, *data = MAP_FAILED;
	int fd, ret = -ENOMEM;

	fd = memfd_create("nvmeta-probe", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, mlen))
		goto out;
	meta = mmap(NULL, mlen, PROT_READ, MAP_SHARED, fd, 0);
	data = mmap(NULL, dlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (meta == MAP_FAILED || data == MAP_FAILED)
		goto out;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVMETA_OP_READ;
	cmd.nsid = in->nsid;
	cmd.addr = (uintptr_t)data;
	cmd.data_len = in->lba_size;
	cmd.metadata = (uintptr_t)meta;
	cmd.metadata_len = in->ms;
	ret = ioctl(dev->fd, NVME_IOCTL_IO64_CMD, &cmd) < 0 ? -errno : 0;
out:
	if (meta != MAP_FAILED)
		munmap(meta, mlen);
	if (data != MAP_FAILED)
		munmap(data, dlen);
	close(fd);
	return ret;
}

/* How long the SQE probe waits for its Flush: a hung controller must not
 * hang nvmeta_dev_open(). */
#define SQE_PROBE_WAIT_MS 5000

/* The Flush's NVMe command flags once it has been submitted: any value
 * but 0 makes nvme_uring_cmd_io() refuse the command (-EINVAL) before it
 * looks at anything else, and logs nothing (a wrong nsid would log a line
 * on every open). */
#define SQE_PROBE_FLAGS 0xa5

/*
 * Does the kernel read a passthrough SQE from the SQ ring after
 * submission?  On a private DEFER_TASKRUN ring a NOP linked to an NVMe
 * Flush: the Flush is prepared while io_uring_enter() submits, and issued
 * from task work, which runs only when the ring is waited on.  In
 * between, its slot gets command flags no command may carry.  The Flush
 * then completes 0 where the kernel copied the SQE at prep (6.1.176,
 * 7.2.13 in the lab), -EINVAL where it read the slot again (6.12.117).
 * *@setup_err: the ring could not be set up (no DEFER_TASKRUN before 6.1:
 * -EINVAL), else 0.  Returns the Flush's result, or -ETIME when it did
 * not complete in time.  The ring is closed before it returns: every
 * completion it may still get is the private ring's.
 */
static int probe_sqe_reread(const struct nvmeta_dev *dev, int *setup_err)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 |
			 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	};
	struct __kernel_timespec ts = {
		.tv_sec = SQE_PROBE_WAIT_MS / 1000,
		.tv_nsec = SQE_PROBE_WAIT_MS % 1000 * 1000000L,
	};
	struct nvme_uring_cmd *cmd;
	struct io_uring_sqe *nop, *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int ret, res = -ETIME, got = 0;

	*setup_err = io_uring_queue_init_params(2, &ring, &p);
	if (*setup_err)
		return 0;
	nop = io_uring_get_sqe(&ring);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(nop);
	nop->flags |= IOSQE_IO_LINK;
	nop->user_data = 0;
	/* Every field a store, as nvmeta_prep_cmd() does it; the ring is
	 * fresh, so the command's last 8 bytes are zero. */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, dev->fd, NULL, 0, 0);
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->user_data = 1;
	cmd = (struct nvme_uring_cmd *)sqe->cmd;
	*cmd = (struct nvme_uring_cmd){
		.opcode = 0x00,		/* Flush: no data, no LBA */
		.nsid = dev->info.nsid,
	};
	/* Submit without waiting: no task work runs yet. */
	ret = io_uring_submit(&ring);
	if (ret != 2) {
		res = ret < 0 ? ret : -EIO;
		goto out;
	}
	__atomic_store_n(&cmd->flags, SQE_PROBE_FLAGS, __ATOMIC_RELEASE);
	while (got < 2) {
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (ret == -EINTR)
			continue;
		if (ret)
			break;
		if (cqe->user_data == 1)
			res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		got++;
	}
out:
	io_uring_queue_exit(&ring);
	return res;
}

/* What the SQE probe's outcome means: true where the library must set
 * IOSQE_ASYNC.  @why gets the reason nvmeta-info shows. */
bool nvmeta_sqe_probe_judge(int setup_err, int res, uint32_t *quirks, char *why, size_t len)
{
	bool async;

	*quirks &= ~(NVMETA_QUIRK_SQE_ASYNC | NVMETA_QUIRK_SQE_UNSURE);
	if (setup_err == -EINVAL || setup_err == -ENOSYS || setup_err == -EPERM) {
		/* Before 6.1 (no DEFER_TASKRUN), or no io_uring at all. */
		snprintf(why, len, "no DEFER_TASKRUN ring (%s): a kernel before the late read",
			 strerror(-setup_err));
		return false;
	}
	if (!setup_err && !res) {
		snprintf(why, len, "the kernel copied a linked passthrough SQE at submission");
		return false;
	}
	async = true;
	*quirks |= NVMETA_QUIRK_SQE_ASYNC;
	if (!setup_err && res == -EINVAL) {
		snprintf(why, len, "the kernel read a linked passthrough SQE again after submission: IOSQE_ASYNC on every one");
		return async;
	}
	*quirks |= NVMETA_QUIRK_SQE_UNSURE;
	if (!setup_err && res > 0)
		snprintf(why, len, "the probe could not tell (Flush: NVMe status 0x%x): IOSQE_ASYNC on every passthrough SQE",
			 res);
	else
		snprintf(why, len, "the probe could not tell (%s: %s): IOSQE_ASYNC on every passthrough SQE",
			 setup_err ? "ring set-up" : "Flush", strerror(-(setup_err ? setup_err : res)));
	return async;
}

void nvmeta_quirks_decide(struct nvmeta_dev *dev)
{
	struct nvmeta_dev_info *in = &dev->info;
	int ret, setup_err;

	ret = probe_sqe_reread(dev, &setup_err);
	dev->sqe_async = nvmeta_sqe_probe_judge(setup_err, ret, &in->kernel.quirks,
						dev->sqe_async_why, sizeof(dev->sqe_async_why));

	/* Before 6.8 metadata always bounces through kmalloc and the copy
	 * back checks the user pages; without separate metadata nothing is
	 * pinned for it. */
	dev->populate_reads = false;
	if (!NVMETA_KERNEL_AT_LEAST(&in->kernel, 6, 8) || !in->ms || in->extended_lba)
		return;
	ret = probe_read_only_pin(dev);
	/* Anything but a clean EFAULT (success, a device error, no
	 * permission) leaves the work-around on: it is always safe. */
	dev->populate_reads = ret != -EFAULT;
	snprintf(dev->quirk_why, sizeof(dev->quirk_why), "%s",
		 !ret ? "a read into read-only metadata went through: populating reads' metadata" :
		 ret == -EFAULT ? "" : "the probe could not tell: populating reads' metadata");
}
