/* SPDX-License-Identifier: MIT */
/* A device as a 6.12 kernel describes QEMU 7.2's controller (lab notes). */
#ifndef NVMETA_FAKE_INFO_H
#define NVMETA_FAKE_INFO_H

#include <string.h>
#include "nvmeta.h"

static inline void fake_info_6_12(struct nvmeta_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->kernel.major = 6;
	info->kernel.minor = 12;
	info->limits.dma_alignment = 3;
	info->limits.max_integrity_segments = 1;
	info->limits.max_segments = 128;
	info->limits.max_hw_sectors_kb = 512;
}

/* A 512+8 namespace of 1000 blocks behind /dev/ng0n1 with a 16-bit guard
 * and nothing else known: the base the validation tests change what they
 * need of. */
static inline void fake_info_512_8(struct nvmeta_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	strcpy(info->generic_path, "/dev/ng0n1");
	info->nsid = 1;
	info->nsze = 1000;
	info->lba_size = 512;
	info->ms = 8;
	info->pi_size = 8;
	info->guard_bits = 16;
	info->limits.max_hw_sectors_kb = 512;
}

#endif
