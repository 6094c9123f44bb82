// SPDX-License-Identifier: MIT
/* The pin/bounce/fail model against synthetic limits and page maps. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "fake_info.h"

#define KPF_TAIL (1ull << 16)

static struct nvmeta_dev_info info;
static char *mem;		/* 64 pages, faulted in */
static const size_t page = 4096;

static void setup(void)
{
	fake_info_6_12(&info);
	mem = mmap(NULL, 64 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(mem, MAP_FAILED);
	memset(mem, 1, 64 * page);
}

static void teardown(void)
{
	munmap(mem, 64 * page);
}

TestSuite(predict, .init = setup, .fini = teardown);

static struct nvmeta_prediction meta(size_t off, size_t len)
{
	struct nvmeta_prediction p;

	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_META, mem + off, len, &p), 0);
	return p;
}

Test(predict, aligned_inside_one_page_pins)
{
	struct nvmeta_prediction p = meta(0, 64);

	cr_assert_eq(p.path, NVMETA_PATH_PIN, "%s", p.reason);
	cr_assert_eq(p.pages, 1);
	cr_assert_eq(p.segments, 1);
	p = meta(4, 64);
	cr_assert_eq(p.path, NVMETA_PATH_PIN, "%s", p.reason);
}

Test(predict, unaligned_address_bounces)
{
	struct nvmeta_prediction p = meta(1, 64);

	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE);
	cr_assert(strstr(p.reason, "not 4-byte aligned"), "%s", p.reason);
	p = meta(2, 64);
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE);
}

Test(predict, unaligned_length_bounces)
{
	struct nvmeta_prediction p = meta(0, 62);

	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE);
	cr_assert(strstr(p.reason, "length 62"), "%s", p.reason);
}

Test(predict, old_kernel_always_bounces)
{
	struct nvmeta_prediction p;

	info.kernel.minor = 1;
	p = meta(0, 64);
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE);
	cr_assert(strstr(p.reason, "before 6.8"), "%s", p.reason);
	info.kernel.minor = 8;
	cr_assert_eq(meta(0, 64).path, NVMETA_PATH_PIN);
}

Test(predict, crossing_small_pages_needs_two_segments)
{
	struct nvmeta_prediction p = meta(page - 4, 8);

	cr_assert_eq(p.pages, 2);
	cr_assert_eq(p.segments, 2, "small pages are separate folios even if adjacent");
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE, "%s", p.reason);
	cr_assert(strstr(p.reason, "max_integrity_segments 1"), "%s", p.reason);
	info.limits.max_integrity_segments = 15;	/* metadata SGL */
	cr_assert_eq(meta(page - 4, 8).path, NVMETA_PATH_PIN);
}

Test(predict, too_many_pages_fail_with_e2big)
{
	struct nvmeta_prediction p;
	char *big = mmap(NULL, 300 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	info.limits.max_hw_sectors_kb = 4096;
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_META, big, 257 * page, &p), 0);
	cr_assert_eq(p.path, NVMETA_PATH_FAIL);
	cr_assert_eq(p.err, -E2BIG);
	cr_assert(p.assumed, "untouched pages have no frames yet");
	munmap(big, 300 * page);
}

Test(predict, size_beyond_max_hw_sectors_fails)
{
	struct nvmeta_prediction p;

	info.limits.max_hw_sectors_kb = 64;
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_DATA, mem, 128 * 1024, &p), 0);
	cr_assert_eq(p.path, NVMETA_PATH_FAIL);
	cr_assert_eq(p.err, -EINVAL);
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_META, mem, 128 * 1024, &p), 0);
	cr_assert_eq(p.err, -E2BIG);
}

Test(predict, data_unaligned_is_copied_too_many_segments_fails)
{
	struct nvmeta_prediction p;

	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_DATA, mem + 1, 4096, &p), 0);
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE);
	info.limits.max_segments = 2;
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_DATA, mem, 16 * page, &p), 0);
	if (!p.assumed && p.segments <= 2)
		cr_skip_test("the kernel gave 16 contiguous frames");
	cr_assert_eq(p.path, NVMETA_PATH_FAIL, "%s", p.reason);
	cr_assert_eq(p.err, -EINVAL);
	cr_assert(strstr(p.reason, "max_segments 2"), "%s", p.reason);
}

Test(predict, misaligned_data_longer_than_max_segments_bounce_pages_may_fail)
{
	struct nvmeta_prediction p;
	char *big = mmap(NULL, 130 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	info.limits.max_segments = 127;
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_DATA, big + 2, 128 * page, &p), 0);
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE, "%s", p.reason);
	cr_assert_eq(p.may_err, -EINVAL);
	cr_assert(strstr(p.reason, "128 bounce pages"), "%s", p.reason);
	info.limits.max_segments = 128;
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_DATA, big + 2, 128 * page, &p), 0);
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE, "%s", p.reason);
	cr_assert_eq(p.may_err, 0);
	munmap(big, 130 * page);
}

Test(predict, zero_length_is_an_error)
{
	struct nvmeta_prediction p;

	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_META, mem, 0, &p), -EINVAL);
}

Test(runs, folio_runs_need_compound_tails)
{
	uint64_t pfn[] = { 100, 101, 102, 200, 201 };
	uint64_t thp[] = { 0, KPF_TAIL, KPF_TAIL, 0, KPF_TAIL };
	uint64_t small[] = { 0, 0, 0, 0, 0 };
	unsigned int phys, folio;

	nvmeta_count_runs(pfn, small, 5, &phys, &folio);
	cr_assert_eq(phys, 2);
	cr_assert_eq(folio, 5);
	nvmeta_count_runs(pfn, thp, 5, &phys, &folio);
	cr_assert_eq(phys, 2);
	cr_assert_eq(folio, 2);
	nvmeta_count_runs(pfn, NULL, 5, &phys, &folio);
	cr_assert_eq(folio, 5);
	nvmeta_count_runs(pfn, thp, 0, &phys, &folio);
	cr_assert_eq(phys, 0);
}

Test(runs, reversed_frames_never_merge)
{
	uint64_t pfn[] = { 503, 502, 501, 500 };
	uint64_t tails[] = { KPF_TAIL, KPF_TAIL, KPF_TAIL, KPF_TAIL };
	unsigned int phys, folio;

	nvmeta_count_runs(pfn, tails, 4, &phys, &folio);
	cr_assert_eq(phys, 4);
	cr_assert_eq(folio, 4);
}

Test(names, paths_and_layouts)
{
	cr_assert_str_eq(nvmeta_path_name(NVMETA_PATH_BOUNCE), "bounce");
	cr_assert_str_eq(nvmeta_layout_name(NVMETA_LAYOUT_FRAGMENTED), "fragmented");
	cr_assert_str_eq(nvmeta_layout_name(99), "unknown");
}

/*
 * A range that wraps past the top of the address space is refused by the
 * kernel (EFAULT).  Before the checks, the top page predicted "bounce"
 * with segments read past the end of /proc/self/pagemap.
 */
Test(predict, range_wrapping_the_address_space_fails)
{
	static const uintptr_t addrs[] = { UINTPTR_MAX - 4095, UINTPTR_MAX - 3, UINTPTR_MAX,
					   UINTPTR_MAX - 8191 };
	static const size_t lens[] = { 8192, 8192 + 4, SIZE_MAX - 4095, SIZE_MAX };
	static const uint32_t hw_kb[] = { 512, 0, UINT32_MAX };
	struct nvmeta_prediction p;
	size_t a, l, h, k;

	for (a = 0; a < ARRAY_SIZE(addrs); a++)
		for (l = 0; l < ARRAY_SIZE(lens); l++)
			for (h = 0; h < ARRAY_SIZE(hw_kb); h++)
				for (k = 0; k <= NVMETA_KIND_DATA; k++) {
					info.limits.max_hw_sectors_kb = hw_kb[h];
					cr_assert_eq(nvmeta_predict(&info, k, (void *)addrs[a],
								    lens[l], &p), 0);
					cr_assert_eq(p.path, NVMETA_PATH_FAIL,
						     "0x%lx + %zu, kind %zu: %s", (unsigned long)addrs[a],
						     lens[l], k, p.reason);
					cr_assert_eq(p.err, -EFAULT, "%s", p.reason);
					cr_assert(strstr(p.reason, "wrap"), "%s", p.reason);
				}
}

/*
 * No command carries more than 4 GiB - 1 (its lengths are 32-bit).  With
 * max_hw_sectors unknown, SIZE_MAX - 3 bytes used to wrap to 0 pages and
 * 0 segments and predict "pinned".
 */
Test(predict, lengths_no_command_carries_fail)
{
	static const size_t lens[] = {
		SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 3, SIZE_MAX / 2 + 1, SIZE_MAX - 4095,
		(size_t)1 << 63, (size_t)PTRDIFF_MAX + 1, (size_t)UINT32_MAX + 1,
		(size_t)UINT32_MAX + 4096,
	};
	static const uint32_t hw_kb[] = { 0, UINT32_MAX, 512 };
	struct nvmeta_prediction p;
	char want[32];
	size_t l, h, k;

	for (l = 0; l < ARRAY_SIZE(lens); l++)
		for (h = 0; h < ARRAY_SIZE(hw_kb); h++)
			for (k = 0; k <= NVMETA_KIND_DATA; k++) {
				info.limits.max_hw_sectors_kb = hw_kb[h];
				cr_assert_eq(nvmeta_predict(&info, k, mem, lens[l], &p), 0);
				cr_assert_eq(p.path, NVMETA_PATH_FAIL, "%zu bytes, max_hw %u KiB, kind %zu: %s",
					     lens[l], hw_kb[h], k, p.reason);
				cr_assert(p.err == -E2BIG || p.err == -EFAULT, "%d: %s", p.err, p.reason);
				snprintf(want, sizeof(want), "%zu", lens[l]);
				cr_assert(strstr(p.reason, want), "%s", p.reason);
			}
}

/* The page-map reader refuses what it cannot count in an unsigned int. */
Test(predict, page_map_of_impossible_ranges)
{
	struct nvmeta_page_map pm;
	int ret;

	cr_assert_eq(nvmeta_page_map_read((void *)(UINTPTR_MAX - 4095), 8192, &pm), -EINVAL);
	cr_assert_eq(pm.pages, 0);
	cr_assert_eq(nvmeta_page_map_read(mem, SIZE_MAX, &pm), -EINVAL);
	cr_assert_eq(nvmeta_page_map_read(mem, (size_t)1 << 62, &pm), -E2BIG);
	cr_assert_eq(pm.pages, 0);
	/* Still counted right for a real range (frames need CAP_SYS_ADMIN). */
	ret = nvmeta_page_map_read(mem + 1, 2 * page, &pm);
	cr_assert(ret == 0 || ret == -EPERM, "%d", ret);
	cr_assert_eq(pm.pages, 3);
}
