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
 */
#include <errno.h>
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

void nvmeta_quirks_decide(struct nvmeta_dev *dev)
{
	const struct nvmeta_dev_info *in = &dev->info;
	int ret;

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
