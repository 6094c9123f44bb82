// SPDX-License-Identifier: MIT
/*
 * Metadata slots: sizes that cannot be, slot addresses at the edges, and
 * memory the library makes (or nvmeta_mem_prepare() readies) being the
 * caller's own pages when it is handed out, not the shared zero page.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "fake_info.h"

static struct nvmeta_dev_info info;
static const size_t page = 4096;

static void setup(void)
{
	fake_info_6_12(&info);
}

TestSuite(slots, .init = setup);

static void assert_names(const char *what, unsigned long long v)
{
	char want[32];

	snprintf(want, sizeof(want), "%llu", v);
	cr_assert(strstr(nvmeta_last_error(), want), "%s %llu not named: \"%s\"", what, v,
		  nvmeta_last_error());
}

/* SIZE_MAX and SIZE_MAX - 2 rounded up to the 4-byte alignment wrapped
 * to a 0-byte stride, and page / stride divided by zero (SIGFPE). */
Test(slots, slot_longer_than_a_page)
{
	static const size_t lens[] = {
		SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 2, SIZE_MAX - 3, SIZE_MAX / 2 + 1,
		(size_t)PTRDIFF_MAX + 1, (size_t)UINT32_MAX + 1, 4097,
	};
	struct nvmeta_slots *s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		s = NULL;
		nvmeta_fail(0, "stale");
		cr_assert_eq(nvmeta_slots_create(&info, lens[i], 4, &s), -EINVAL, "%zu bytes: %s",
			     lens[i], nvmeta_last_error());
		cr_assert_null(s);
		assert_names("slot length", lens[i]);
	}
}

/* count + per_page - 1 wrapped in unsigned int: UINT_MAX slots became a
 * 0-page mapping (-ENOMEM from mmap), or with one slot a page, 16 TiB. */
Test(slots, count_near_uint_max)
{
	static const unsigned int counts[] = { UINT_MAX, UINT_MAX - 1, UINT_MAX / 2 + 1 };
	static const size_t lens[] = { 1, 8, 64, 2048, 4096 };
	struct nvmeta_slots *s;
	size_t c, l;

	for (c = 0; c < ARRAY_SIZE(counts); c++)
		for (l = 0; l < ARRAY_SIZE(lens); l++) {
			s = NULL;
			nvmeta_fail(0, "stale");
			cr_assert_eq(nvmeta_slots_create(&info, lens[l], counts[c], &s), -E2BIG,
				     "%u slots of %zu bytes: %s", counts[c], lens[l],
				     nvmeta_last_error());
			cr_assert_null(s);
			assert_names("count", counts[c]);
		}
}

/* The slot memory is bounded like a buffer: 4 GiB - 1.  2^20 page-sized
 * slots are exactly 4 GiB. */
Test(slots, memory_limit)
{
	struct nvmeta_slots *s = NULL;

	cr_assert_eq(nvmeta_slots_create(&info, page, 1u << 20, &s), -E2BIG);
	cr_assert_null(s);
	assert_names("limit", UINT32_MAX);
}

/* A DMA alignment above a page cannot give a slot inside a page. */
Test(slots, dma_alignment_above_a_page)
{
	static const uint32_t masks[] = { UINT32_MAX, UINT32_MAX - 1, 8191 };
	struct nvmeta_slots *s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(masks); i++) {
		s = NULL;
		info.limits.dma_alignment = masks[i];
		cr_assert_eq(nvmeta_slots_create(&info, 8, 4, &s), -EINVAL, "mask 0x%x", masks[i]);
		cr_assert_null(s);
	}
}

/* Every slot of a large set lies inside the mapping, and indexes at the
 * end of the range are refused. */
Test(slots, every_slot_is_writable_and_indexes_stop_at_count)
{
	const unsigned int count = 100000;
	struct nvmeta_slots *s;
	unsigned int i;
	char *prev = NULL;

	cr_assert_eq(nvmeta_slots_create(&info, 61, count, &s), 0, "%s", nvmeta_last_error());
	for (i = 0; i < count; i++) {
		char *p = nvmeta_slot(s, i);

		cr_assert_not_null(p);
		cr_assert_eq((uintptr_t)p % 4, 0);
		cr_assert_eq((uintptr_t)p / page, ((uintptr_t)p + 60) / page, "slot %u straddles", i);
		cr_assert(p > prev, "slot %u overlaps slot %u", i, i - 1);
		memset(p, 0x5a, 61);
		prev = p;
	}
	cr_assert_null(nvmeta_slot(s, count));
	cr_assert_null(nvmeta_slot(s, UINT_MAX));
	cr_assert_null(nvmeta_slot(s, UINT_MAX - 1));
	nvmeta_slots_destroy(s);
}

/* Whether every page of @addr..+@len is present (pagemap bit 63) and
 * mapped by this process alone (bit 56): a page faulted in for writing,
 * not the zero page a read fault maps. */
static bool pages_ready(const void *addr, size_t len)
{
	uintptr_t first = (uintptr_t)addr / page, last = ((uintptr_t)addr + len - 1) / page;
	uint64_t ent;
	bool ready = true;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	cr_assert_geq(fd, 0);
	for (; first <= last && ready; first++) {
		cr_assert_eq(pread(fd, &ent, 8, (off_t)(first * 8)), 8);
		ready = (ent >> 56 & 0x81) == 0x81;
	}
	close(fd);
	return ready;
}

Test(slots, slots_and_buffers_are_ready_when_made)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_PAGE, .len = 3 * page };
	struct nvmeta_slots *s;
	struct nvmeta_buf *b;
	unsigned int i;

	cr_assert_eq(nvmeta_slots_create(&info, 64, 200, &s), 0, "%s", nvmeta_last_error());
	for (i = 0; i < 200; i++)
		cr_assert(pages_ready(nvmeta_slot(s, i), 64), "slot %u", i);
	nvmeta_slots_destroy(s);
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), 0, "%s", nvmeta_last_error());
	cr_assert(pages_ready(b->addr, b->len));
	nvmeta_buf_free(b);
}

Test(slots, mem_prepare_faults_pages_in_for_writing)
{
	size_t len = 4 * page;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char c;

	cr_assert_neq(m, MAP_FAILED);
	c = m[0];	/* a read fault maps the shared zero page */
	(void)c;
	cr_assert_not(pages_ready(m, len));
	cr_assert_eq(nvmeta_mem_prepare(m + 1, len - 2), 0, "%s", nvmeta_last_error());
	cr_assert(pages_ready(m, len));
	cr_assert_eq(mprotect(m, len, PROT_READ), 0);
	cr_assert_eq(nvmeta_mem_prepare(m, len), -EFAULT);
	cr_assert_eq(nvmeta_mem_prepare(m, 0), -EINVAL);
	cr_assert_eq(nvmeta_mem_prepare((void *)(UINTPTR_MAX - 10), 100), -EFAULT);
	munmap(m, len);
}
