// SPDX-License-Identifier: MIT
/*
 * Metadata slots for many I/Os in flight.  A slot that straddles a page
 * boundary needs two segments and bounces where the queue allows one, so
 * slots are packed per page and never cross one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

struct nvmeta_slots {
	char *base;
	size_t map_len;
	size_t stride;		/* slot length rounded up to the DMA alignment */
	unsigned int per_page;
	unsigned int count;
	size_t page;
};

int nvmeta_slots_create(const struct nvmeta_dev_info *info, size_t slot_len,
			unsigned int count, struct nvmeta_slots **slotsp)
{
	size_t align = (size_t)info->limits.dma_alignment + 1;
	struct nvmeta_slots *s;
	size_t pages;

	if (!count || !slot_len)
		return nvmeta_fail(-EINVAL, "slots: %u slots of %zu bytes", count, slot_len);
	s = calloc(1, sizeof(*s));
	if (!s)
		return nvmeta_fail(-ENOMEM, "out of memory");
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->stride = (slot_len + align - 1) / align * align;
	if (s->stride > s->page) {
		free(s);
		return nvmeta_fail(-EINVAL, "slots: a %zu-byte slot does not fit a page; use a PINNED buffer per I/O",
				   slot_len);
	}
	s->per_page = s->page / s->stride;
	s->count = count;
	pages = (count + s->per_page - 1) / s->per_page;
	s->map_len = pages * s->page;
	s->base = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (s->base == MAP_FAILED) {
		free(s);
		return nvmeta_fail(-ENOMEM, "slots: mmap of %zu pages: %m", pages);
	}
	*slotsp = s;
	return 0;
}

void *nvmeta_slot(const struct nvmeta_slots *s, unsigned int index)
{
	if (index >= s->count)
		return NULL;
	return s->base + (index / s->per_page) * s->page + (index % s->per_page) * s->stride;
}

void nvmeta_slots_destroy(struct nvmeta_slots *s)
{
	if (!s)
		return;
	munmap(s->base, s->map_len);
	free(s);
}
