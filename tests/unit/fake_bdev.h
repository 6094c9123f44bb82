/* SPDX-License-Identifier: MIT */
/* A block device for the attribute road without NVMe: an unlinked 1 MiB
 * file behind the name nvme9n1, a 16-bit-guard type 1 profile, 8 bytes
 * of metadata a block.  Criterion runs each test in a process of its
 * own, so @path (a mkstemp() template) is fresh for each. */
#ifndef NVMETA_FAKE_BDEV_H
#define NVMETA_FAKE_BDEV_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"

static inline void fake_bdev(struct nvmeta_bdev *b, char *path, uint32_t lba_size)
{
	memset(b, 0, sizeof(*b));
	b->fd = mkstemp(path);
	cr_assert_geq(b->fd, 0);
	unlink(path);
	cr_assert_eq(ftruncate(b->fd, 1 << 20), 0);
	strcpy(b->info.block_name, "nvme9n1");
	b->info.lba_size = lba_size;
	b->info.ms = 8;
	b->info.limits.logical_block_size = lba_size;
	b->info.limits.max_hw_sectors_kb = 512;
	strcpy(b->info.limits.integrity_format, "T10-DIF-TYPE1-CRC");
}

#endif
