// SPDX-License-Identifier: MIT
/*
 * Work-arounds for kernel defects that nvmeta's own lab found.
 *
 * Linux 6.12 (seen on Debian's 6.12.117, which carries the 6.12.92
 * backport of the iov_iter rework of bio_integrity_map_user() but not the
 * upstream fix "block: flip iter directions in blk_rq_integrity_map_user()")
 * pins a passthrough read's metadata buffer without asking for write access.  Pages of an anonymous
 * mapping that were never touched are then the kernel's shared zero page,
 * and the device's metadata (pinned path) or the kernel's copy-back
 * (bounce path) lands in it: every process's untouched memory stops
 * reading as zero and the machine falls over.  Populating the pages for
 * writing first gives the kernel real pages to pin.  6.1 copies through
 * kmalloc and 7.2 pins correctly, but populating is cheap, so it is done
 * on every kernel that pins (6.8 on) unless the caller asks otherwise.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int populate_for_write(void *addr, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t start = (uintptr_t)addr & ~(page - 1);
	uintptr_t end = ((uintptr_t)addr + len + page - 1) & ~(page - 1);

	/* MADV_POPULATE_WRITE (5.14) faults without a signal: read-only
	 * memory comes back as EFAULT instead of killing the caller. */
	if (!madvise((void *)start, end - start, MADV_POPULATE_WRITE))
		return 0;
	/* EINVAL: read-only (or PFN-mapped) memory.  Handing it to a kernel
	 * that pins without write access would let the device write it. */
	return nvmeta_fail(-EFAULT, "metadata buffer %p (%zu bytes) cannot be written: %m",
			   addr, len);
}

int nvmeta_prepare_buffers(const struct nvmeta_dev_info *info, const struct nvmeta_io *io)
{
	if (io->flags & NVMETA_IO_NO_PREFAULT || io->opcode != NVMETA_OP_READ ||
	    !io->meta || !io->meta_len || !NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 8))
		return 0;
	return populate_for_write(io->meta, io->meta_len);
}
