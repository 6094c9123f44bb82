// SPDX-License-Identifier: MIT
/*
 * The copy-back checker's matrix: one line a case.  Metadata cases put
 * the case's layout on the metadata buffer and keep data plain; data
 * cases do the opposite.
 */
#include "internal.h"

#define META(n, dir, size, layout, off, src, err) \
	{ n, NVMETA_SUBJECT_META, NVMETA_DIR_##dir, NVMETA_SIZE_##size, \
	  NVMETA_LAYOUT_##layout, off, NVMETA_SOURCE_##src, err }
#define DATA(n, dir, size, layout, off, src, err) \
	{ n, NVMETA_SUBJECT_DATA, NVMETA_DIR_##dir, NVMETA_SIZE_##size, \
	  NVMETA_LAYOUT_##layout, off, NVMETA_SOURCE_##src, err }

static const struct nvmeta_check_case cases[] = {
	/*   name                       dir    size  layout      off source     err */
	META("meta-pinned-1",           BOTH,  ONE,  PINNED,     0, ANON,      0),
	META("meta-pinned-8",           BOTH,  FEW,  PINNED,     0, ANON,      0),
	META("meta-pinned-max",         BOTH,  MAX,  PINNED,     0, ANON,      0),
	META("meta-page+0-8",           BOTH,  FEW,  PAGE,       0, ANON,      0),
	META("meta-page+4-8",           BOTH,  FEW,  PAGE,       4, ANON,      0),
	META("meta-page+0-max",         BOTH,  MAX,  PAGE,       0, ANON,      0),
	META("meta-misaligned+1-1",     READ,  ONE,  MISALIGNED, 1, ANON,      0),
	META("meta-misaligned+1-1w",    WRITE, ONE,  MISALIGNED, 1, ANON,      0),
	META("meta-misaligned+1-8",     BOTH,  FEW,  MISALIGNED, 1, ANON,      0),
	META("meta-misaligned+2-8",     BOTH,  FEW,  MISALIGNED, 2, ANON,      0),
	META("meta-misaligned+3-8",     BOTH,  FEW,  MISALIGNED, 3, ANON,      0),
	META("meta-misaligned+4093-8",  BOTH,  FEW,  MISALIGNED, 4093, ANON,   0),
	META("meta-misaligned+1-max",   BOTH,  MAX,  MISALIGNED, 1, ANON,      0),
	META("meta-fragmented-1",       BOTH,  ONE,  FRAGMENTED, 0, ANON,      0),
	META("meta-fragmented-8",       READ,  FEW,  FRAGMENTED, 0, ANON,      0),
	META("meta-fragmented-8w",      WRITE, FEW,  FRAGMENTED, 0, ANON,      0),
	META("meta-fragmented-max",     BOTH,  MAX,  FRAGMENTED, 0, ANON,      0),
	META("meta-huge-span-1",        BOTH,  ONE,  HUGE_SPAN,  0, ANON,      0),
	META("meta-huge-span-max",      BOTH,  MAX,  HUGE_SPAN,  0, ANON,      0),
	META("meta-huge-8",             BOTH,  FEW,  PAGE,       0, HUGE,      0),
	META("meta-malloc-1",           BOTH,  ONE,  MALLOC,     0, ANON,      0),
	META("meta-malloc-8",           BOTH,  FEW,  MALLOC,     0, ANON,      0),
	META("meta-malloc-max",         BOTH,  MAX,  MALLOC,     0, ANON,      0),
	META("meta-memfd-8",            BOTH,  FEW,  PAGE,       0, MEMFD,     0),
	META("meta-memfd+2-8",          BOTH,  FEW,  MISALIGNED, 2, MEMFD,     0),
	META("meta-readonly-src-8",     WRITE, FEW,  PAGE,       0, READONLY,  0),
	META("meta-readonly-src+1-8",   WRITE, FEW,  MISALIGNED, 1, READONLY,  0),
	META("meta-readonly-dst-8",     READ,  FEW,  PAGE,       0, READONLY,  -EFAULT),
	META("meta-readonly-dst+1-8",   READ,  FEW,  MISALIGNED, 1, READONLY,  -EFAULT),
	DATA("data-pinned-1",           BOTH,  ONE,  PINNED,     0, ANON,      0),
	DATA("data-pinned-max",         BOTH,  MAX,  PINNED,     0, ANON,      0),
	DATA("data-page-max",           BOTH,  MAX,  PAGE,       0, ANON,      0),
	DATA("data-misaligned+1-1",     BOTH,  ONE,  MISALIGNED, 1, ANON,      0),
	DATA("data-misaligned+2-max",   BOTH,  MAX,  MISALIGNED, 2, ANON,      0),
	DATA("data-fragmented-max",     BOTH,  MAX,  FRAGMENTED, 0, ANON,      0),
	DATA("data-huge-8",             BOTH,  FEW,  PAGE,       0, HUGE,      0),
	DATA("data-malloc-8",           BOTH,  FEW,  MALLOC,     0, ANON,      0),
	DATA("data-memfd-8",            BOTH,  FEW,  PAGE,       0, MEMFD,     0),
	DATA("data-readonly-src-8",     WRITE, FEW,  PAGE,       0, READONLY,  0),
	DATA("data-readonly-dst-8",     READ,  FEW,  PAGE,       0, READONLY,  -EFAULT),
	DATA("data-untouched-8",        READ,  FEW,  PAGE,       0, UNTOUCHED, 0),
	/* Last: on a kernel that writes the shared zero page these take the
	 * whole machine down, so every other case reports first. */
	META("meta-untouched-8",        READ,  FEW,  PAGE,       0, UNTOUCHED, 0),
	META("meta-untouched+1-8",      READ,  FEW,  MISALIGNED, 1, UNTOUCHED, 0),
	META("meta-untouched-max",      READ,  MAX,  PAGE,       0, UNTOUCHED, 0),
};

int nvmeta_check_table(const struct nvmeta_check_case **out)
{
	*out = cases;
	return ARRAY_SIZE(cases);
}
