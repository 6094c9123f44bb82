/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared inside the library.  Not installed; the unit tests
 * reach these through the static library.
 */
#ifndef NVMETA_INTERNAL_H
#define NVMETA_INTERNAL_H

#include <stdarg.h>
#include <linux/nvme_ioctl.h>
#include <nvme/types.h>
#include "nvmeta.h"

#define NVMETA_HIDDEN __attribute__((visibility("hidden")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct nvmeta_dev {
	int fd;
	struct nvmeta_dev_info info;
};

/* error.c: record a message and return @err, so callers can write
 * "return nvmeta_fail(-EINVAL, ...)". */
int nvmeta_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) NVMETA_HIDDEN;

/* identify.c: fill the identify part of @info from raw structures.
 * @nvm may be NULL when the controller has no extended LBA formats. */
int nvmeta_parse_identify(const struct nvme_id_ctrl *ctrl,
			  const struct nvme_id_ns *ns,
			  const struct nvme_nvm_id_ns *nvm,
			  struct nvmeta_dev_info *info) NVMETA_HIDDEN;

/* sysfs.c: read the queue limits and integrity profile of block device
 * @block_name under @sysroot (normally "/sys"). */
int nvmeta_read_limits(const char *sysroot, const char *block_name,
		       struct nvmeta_limits *lim) NVMETA_HIDDEN;

/* sysfs.c: read one sysfs attribute as text, trailing newline removed. */
int nvmeta_sysfs_read(const char *path, char *buf, size_t len) NVMETA_HIDDEN;

/* sysfs.c: find the block device of namespace @nsid on controller
 * @ctrl under @sysroot; writes its name to @name. */
int nvmeta_find_block(const char *sysroot, const char *ctrl, uint32_t nsid,
		      char *name, size_t len) NVMETA_HIDDEN;

/* kernel.c: parse a uname release such as "6.12.117+deb13-amd64". */
int nvmeta_kernel_parse(const char *release, struct nvmeta_kernel *k) NVMETA_HIDDEN;

/* cmd.c: encode @io into the passthrough command @cmd without checks. */
void nvmeta_encode(const struct nvmeta_dev_info *info, const struct nvmeta_io *io,
		   struct nvme_uring_cmd *cmd) NVMETA_HIDDEN;

/* cmd.c: everything before an SQE is filled: validation, then buffer
 * preparation. */
int nvmeta_io_ready(const struct nvmeta_dev *dev, const struct nvmeta_io *io) NVMETA_HIDDEN;

/* cmd.c: fill a 128-byte SQE for @io without validating it. */
void nvmeta_fill_sqe(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		     const struct nvmeta_io *io) NVMETA_HIDDEN;

/* quirks.c: what must happen to @io's buffers before submission on this
 * kernel. */
int nvmeta_prepare_buffers(const struct nvmeta_dev_info *info,
			   const struct nvmeta_io *io) NVMETA_HIDDEN;

/* validate.c: nvmeta_io_validate() against an info struct alone. */
int nvmeta_validate_info(const struct nvmeta_dev_info *info,
			 const struct nvmeta_io *io) NVMETA_HIDDEN;

/* buf.c: where in its first page a layout starts, and how many pages
 * it spans. */
struct nvmeta_placement {
	size_t offset;
	size_t pages;
};

#define NVMETA_HEAP_CANARY 64

int nvmeta_place(const struct nvmeta_dev_info *info, const struct nvmeta_buf_spec *spec,
		 size_t page, struct nvmeta_placement *pl) NVMETA_HIDDEN;
uint8_t nvmeta_canary_byte(size_t i) NVMETA_HIDDEN;

/* pagemap.c: the physical side of a virtual range. */
struct nvmeta_page_map {
	unsigned int pages;
	unsigned int phys_runs;		/* physically contiguous runs */
	unsigned int folio_runs;	/* runs inside one folio */
	unsigned int huge_pages;	/* pages that belong to a THP or hugetlb page */
	bool known;			/* frames were read */
	bool folios_known;		/* kpageflags were read too */
	bool all_present;
};

int nvmeta_page_map_read(const void *addr, size_t len, struct nvmeta_page_map *pm) NVMETA_HIDDEN;
void nvmeta_count_runs(const uint64_t *pfn, const uint64_t *kflags, unsigned int n,
		       unsigned int *phys_runs, unsigned int *folio_runs) NVMETA_HIDDEN;

#endif /* NVMETA_INTERNAL_H */
