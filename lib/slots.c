// SPDX-License-Identifier: MIT
/*
 * Metadata slots for many I/Os in flight.  A slot that straddles a page
 * boundary needs two segments and bounces where the queue allows one, so
 * slots are packed per page and never cross one.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

/* The slot memory is bounded like one buffer (see buf.c): 4 GiB - 1. */
#define SLOTS_MAX_LEN ((size_t)((uintmax_t)UINT32_MAX < (uintmax_t)PTRDIFF_MAX ? \
				UINT32_MAX : PTRDIFF_MAX))

struct nvmeta_slots {
	char *base;
	size_t map_len;
	size_t stride;		/* slot length rounded up to the DMA alignment */
	unsigned int per_page;
	unsigned int count;
	size_t page;
};

/*
 * The slot length rounded up to the DMA alignment.  The length is
 * compared with the page before it is rounded: SIZE_MAX rounded up wraps
 * to a 0-byte stride, and page / stride then divides by zero.
 */
static int slot_stride(const struct nvmeta_dev_info *info, size_t slot_len, size_t page,
		       size_t *stride)
{
	size_t align, rem;

	if (slot_len > page)
		return nvmeta_fail(-EINVAL, "slots: a %zu-byte slot does not fit a %zu-byte page; use a PINNED buffer per I/O",
				   slot_len, page);
	if (__builtin_add_overflow((size_t)info->limits.dma_alignment, 1, &align))
		return nvmeta_fail(-EINVAL, "slots: DMA alignment mask 0x%x has no size_t alignment",
				   info->limits.dma_alignment);
	rem = slot_len % align;
	if (__builtin_add_overflow(slot_len, rem ? align - rem : 0, stride) || *stride > page)
		return nvmeta_fail(-EINVAL, "slots: a %zu-byte slot rounded up to the %zu-byte DMA alignment does not fit a %zu-byte page",
				   slot_len, align, page);
	return 0;
}

int nvmeta_slots_create(const struct nvmeta_dev_info *info, size_t slot_len,
			unsigned int count, struct nvmeta_slots **slotsp)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), stride = 0, pages, map_len;
	struct nvmeta_slots *s;
	unsigned int per_page;
	int ret;

	if (!count || !slot_len)
		return nvmeta_fail(-EINVAL, "slots: %u slots of %zu bytes", count, slot_len);
	ret = slot_stride(info, slot_len, page, &stride);
	if (ret)
		return ret;
	/* count + per_page - 1 would wrap in unsigned int near UINT_MAX. */
	per_page = page / stride;
	pages = count / per_page + !!(count % per_page);
	if (__builtin_mul_overflow(pages, page, &map_len) || map_len > SLOTS_MAX_LEN)
		return nvmeta_fail(-E2BIG, "slots: %u slots of %zu bytes need %zu pages, more than the %zu-byte limit",
				   count, slot_len, pages, SLOTS_MAX_LEN);
	s = calloc(1, sizeof(*s));
	if (!s)
		return nvmeta_fail(-ENOMEM, "out of memory");
	s->page = page;
	s->stride = stride;
	s->per_page = per_page;
	s->count = count;
	s->map_len = map_len;
	s->base = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->base == MAP_FAILED) {
		free(s);
		return nvmeta_fail(-ENOMEM, "slots: mmap of %zu pages: %m", pages);
	}
	*slotsp = s;
	return 0;
}

/* index < count keeps the offset inside map_len, which was checked. */
void *nvmeta_slot(const struct nvmeta_slots *s, unsigned int index)
{
	if (index >= s->count)
		return NULL;
	return s->base + (size_t)(index / s->per_page) * s->page +
	       (size_t)(index % s->per_page) * s->stride;
}

void nvmeta_slots_destroy(struct nvmeta_slots *s)
{
	if (!s)
		return;
	munmap(s->base, s->map_len);
	free(s);
}
