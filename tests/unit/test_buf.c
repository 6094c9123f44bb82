// SPDX-License-Identifier: MIT
/* Layout construction, fallbacks, canaries, guard pages and slots. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
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

TestSuite(buf, .init = setup);

static struct nvmeta_buf *alloc(enum nvmeta_layout layout, size_t len, uint32_t flags)
{
	struct nvmeta_buf_spec spec = { .layout = layout, .len = len, .flags = flags };
	struct nvmeta_buf *b = NULL;
	int ret = nvmeta_buf_alloc(&info, &spec, &b);

	cr_assert_eq(ret, 0, "%s: %s", nvmeta_layout_name(layout), nvmeta_last_error());
	return b;
}

Test(buf, placement_of_each_layout)
{
	struct nvmeta_buf_spec s = { .layout = NVMETA_LAYOUT_MISALIGNED, .len = 64, .offset = 2 };
	struct nvmeta_placement pl;

	cr_assert_eq(nvmeta_place(&info, &s, page, &pl), 0);
	cr_assert_eq(pl.offset, 2);
	cr_assert_eq(pl.pages, 1);
	s.offset = 8;
	cr_assert_eq(nvmeta_place(&info, &s, page, &pl), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "not misaligned"));

	s = (struct nvmeta_buf_spec){ .layout = NVMETA_LAYOUT_FRAGMENTED, .len = 8 };
	cr_assert_eq(nvmeta_place(&info, &s, page, &pl), 0);
	cr_assert_eq(pl.offset, page - 4);
	cr_assert_eq(pl.pages, 2);
	s.len = 4;
	cr_assert_eq(nvmeta_place(&info, &s, page, &pl), -ENOSPC);

	info.limits.max_integrity_segments = 15;
	s.len = 4 + 14 * page;
	cr_assert_eq(nvmeta_place(&info, &s, page, &pl), -ENOSPC);
	s.len += 4;
	cr_assert_eq(nvmeta_place(&info, &s, page, &pl), 0);
	cr_assert_eq(pl.pages, 16);
}

Test(buf, misaligned_is_off_by_the_offset)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_MISALIGNED, .len = 100,
					.offset = 2, .flags = NVMETA_BUF_CANARY };
	struct nvmeta_buf *b;

	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), 0);
	cr_assert_eq((uintptr_t)b->addr % page, 2);
	cr_assert_eq(b->layout, NVMETA_LAYOUT_MISALIGNED);
	nvmeta_buf_free(b);
}

Test(buf, fragmented_really_spans_separate_segments)
{
	struct nvmeta_buf *b = alloc(NVMETA_LAYOUT_FRAGMENTED, 8, NVMETA_BUF_CANARY);
	struct nvmeta_prediction p;

	cr_assert_eq(b->backing, NVMETA_BACKING_MEMFD);
	cr_assert_eq((uintptr_t)b->addr % page, page - 4);
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_META, b->addr, b->len, &p), 0);
	cr_assert_eq(p.segments, 2, "%s", p.reason);
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE, "%s", p.reason);
	nvmeta_buf_free(b);
}

Test(buf, fragmented_too_small_falls_back_only_when_asked)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_FRAGMENTED, .len = 4 };
	struct nvmeta_buf *b = NULL;

	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -ENOSPC);
	cr_assert_null(b);
	spec.flags = NVMETA_BUF_FALLBACK;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), 0);
	cr_assert_eq(b->layout, NVMETA_LAYOUT_MISALIGNED);
	cr_assert(strstr(b->note, "fell back"), "%s", b->note);
	nvmeta_buf_free(b);
}

Test(buf, pinned_small_buffer_is_predicted_to_pin)
{
	struct nvmeta_buf *b = alloc(NVMETA_LAYOUT_PINNED, 64, NVMETA_BUF_CANARY | NVMETA_BUF_GUARD);
	struct nvmeta_prediction p;

	cr_assert_eq((uintptr_t)b->addr % page, 0);
	cr_assert_eq(nvmeta_predict(&info, NVMETA_KIND_META, b->addr, b->len, &p), 0);
	cr_assert_eq(p.path, NVMETA_PATH_PIN, "%s", p.reason);
	nvmeta_buf_free(b);
}

Test(buf, pinned_refused_with_reason_on_old_kernel_or_bad_length)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_PINNED, .len = 64 };
	struct nvmeta_buf *b = NULL;

	info.kernel.minor = 1;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EOPNOTSUPP);
	cr_assert(strstr(nvmeta_last_error(), "before 6.8"), "%s", nvmeta_last_error());
	info.kernel.minor = 12;
	spec.len = 62;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EOPNOTSUPP);
	cr_assert(strstr(nvmeta_last_error(), "length 62"), "%s", nvmeta_last_error());
}

Test(buf, canaries_catch_one_byte_either_side)
{
	struct nvmeta_buf *b = alloc(NVMETA_LAYOUT_PAGE, 100, NVMETA_BUF_CANARY);
	unsigned char *p = b->addr;
	ptrdiff_t bad = 0;

	cr_assert_geq(b->canary_before, page);
	cr_assert_geq(b->canary_after, page);
	memset(p, 0x77, 100);
	cr_assert_eq(nvmeta_buf_check_canaries(b, &bad), 0);
	p[100] ^= 1;
	cr_assert_eq(nvmeta_buf_check_canaries(b, &bad), -EFAULT);
	cr_assert_eq(bad, 100);
	p[100] ^= 1;
	p[-1] ^= 1;
	cr_assert_eq(nvmeta_buf_check_canaries(b, &bad), -EFAULT);
	cr_assert_eq(bad, -1);
	nvmeta_buf_free(b);
}

Test(buf, malloc_canaries)
{
	struct nvmeta_buf *b = alloc(NVMETA_LAYOUT_MALLOC, 33, NVMETA_BUF_CANARY);
	ptrdiff_t bad;

	cr_assert_eq(b->canary_before, NVMETA_HEAP_CANARY);
	((char *)b->addr)[33] = 0;
	cr_assert_eq(nvmeta_buf_check_canaries(b, &bad), -EFAULT);
	cr_assert_eq(nvmeta_buf_protect(b, true), -EINVAL);
	nvmeta_buf_free(b);
}

Test(buf, guard_page_faults, .signal = SIGSEGV)
{
	struct nvmeta_buf *b = alloc(NVMETA_LAYOUT_PAGE, page, NVMETA_BUF_GUARD | NVMETA_BUF_CANARY);
	volatile char *end = (char *)b->addr + b->len + b->canary_after;

	*end = 1;
}

Test(buf, readonly_protection_faults_writes, .signal = SIGSEGV)
{
	struct nvmeta_buf *b = alloc(NVMETA_LAYOUT_PAGE, 64, 0);

	cr_assert_eq(nvmeta_buf_protect(b, true), 0);
	((volatile char *)b->addr)[0] = 1;
}

Test(buf, huge_span_crosses_a_4k_boundary)
{
	struct nvmeta_buf *b = alloc(NVMETA_LAYOUT_HUGE_SPAN, 64, NVMETA_BUF_CANARY);
	uintptr_t a = (uintptr_t)b->addr;

	cr_assert_eq(b->backing, NVMETA_BACKING_HUGE);
	cr_assert_neq(a / page, (a + 63) / page);
	cr_assert_eq(a % 4, 0);
	nvmeta_buf_free(b);
}

Test(buf, bad_specs)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_PAGE };
	struct nvmeta_buf *b;

	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EINVAL);
	spec.len = 8;
	spec.layout = 42;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EINVAL);
	spec.layout = NVMETA_LAYOUT_CALLER;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EFAULT);
}

Test(buf, slots_never_straddle_a_page)
{
	struct nvmeta_slots *s;
	unsigned int i;

	cr_assert_eq(nvmeta_slots_create(&info, 62, 200, &s), 0);
	for (i = 0; i < 200; i++) {
		uintptr_t a = (uintptr_t)nvmeta_slot(s, i);

		cr_assert_eq(a % 4, 0);
		cr_assert_eq(a / page, (a + 61) / page, "slot %u straddles", i);
	}
	cr_assert_null(nvmeta_slot(s, 200));
	nvmeta_slots_destroy(s);
	cr_assert_eq(nvmeta_slots_create(&info, page + 1, 2, &s), -EINVAL);
	cr_assert_eq(nvmeta_slots_create(&info, 8, 0, &s), -EINVAL);
}

/*
 * Lengths no buffer can have.  Before the size checks, PAGE, MISALIGNED,
 * FRAGMENTED and PINNED wrapped the page count and then zeroed SIZE_MAX
 * bytes (SIGSEGV), MALLOC with canaries wrote past a tiny malloc(),
 * HUGE_SPAN and CALLER returned success.
 */
static const size_t impossible_lens[] = {
	SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2 + 1, SIZE_MAX - 4095,
	(size_t)1 << 63, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX,
	(size_t)UINT32_MAX + 1,
};

/* A message left over from an earlier call must not pass for a new one. */
static void clear_error(void)
{
	nvmeta_fail(0, "stale");
}

static void assert_names(const char *what, size_t v)
{
	char want[32];

	snprintf(want, sizeof(want), "%zu", v);
	cr_assert(strstr(nvmeta_last_error(), want), "%s %zu not named: \"%s\"", what, v,
		  nvmeta_last_error());
}

static void refuses_impossible_lengths(enum nvmeta_layout layout)
{
	static char caller_mem[64];
	static const uint32_t flag_sets[] = {
		0, NVMETA_BUF_CANARY, NVMETA_BUF_GUARD, NVMETA_BUF_CANARY | NVMETA_BUF_GUARD,
		NVMETA_BUF_UNTOUCHED, NVMETA_BUF_FALLBACK | NVMETA_BUF_DATA | NVMETA_BUF_CANARY,
	};
	static const enum nvmeta_backing backings[] = {
		NVMETA_BACKING_ANON, NVMETA_BACKING_MEMFD, NVMETA_BACKING_HUGE,
	};
	size_t l, f, k;

	for (l = 0; l < ARRAY_SIZE(impossible_lens); l++)
		for (f = 0; f < ARRAY_SIZE(flag_sets); f++)
			for (k = 0; k < ARRAY_SIZE(backings); k++) {
				struct nvmeta_buf_spec spec = {
					.layout = layout, .backing = backings[k],
					.len = impossible_lens[l], .flags = flag_sets[f],
					.addr = caller_mem,
				};
				struct nvmeta_buf *b = NULL;
				int ret;

				clear_error();
				ret = nvmeta_buf_alloc(&info, &spec, &b);
				cr_assert(ret == -EINVAL || ret == -E2BIG,
					  "%s, %zu bytes, flags 0x%x, backing %d: returned %d (%s)",
					  nvmeta_layout_name(layout), spec.len, spec.flags,
					  spec.backing, ret, nvmeta_last_error());
				cr_assert_null(b);
				assert_names("length", spec.len);
			}
}

Test(buf, impossible_lengths_pinned)
{
	refuses_impossible_lengths(NVMETA_LAYOUT_PINNED);
}

Test(buf, impossible_lengths_misaligned)
{
	refuses_impossible_lengths(NVMETA_LAYOUT_MISALIGNED);
}

Test(buf, impossible_lengths_fragmented)
{
	refuses_impossible_lengths(NVMETA_LAYOUT_FRAGMENTED);
}

Test(buf, impossible_lengths_huge_span)
{
	refuses_impossible_lengths(NVMETA_LAYOUT_HUGE_SPAN);
}

Test(buf, impossible_lengths_page)
{
	refuses_impossible_lengths(NVMETA_LAYOUT_PAGE);
}

Test(buf, impossible_lengths_malloc)
{
	refuses_impossible_lengths(NVMETA_LAYOUT_MALLOC);
}

Test(buf, impossible_lengths_caller)
{
	refuses_impossible_lengths(NVMETA_LAYOUT_CALLER);
}

/* nvmeta_place() itself never hands out a wrapped page count. */
Test(buf, placement_refuses_impossible_lengths)
{
	static const enum nvmeta_layout layouts[] = {
		NVMETA_LAYOUT_MISALIGNED, NVMETA_LAYOUT_FRAGMENTED, NVMETA_LAYOUT_HUGE_SPAN,
		NVMETA_LAYOUT_PAGE,
	};
	struct nvmeta_placement pl;
	size_t l, i;

	for (l = 0; l < ARRAY_SIZE(impossible_lens); l++)
		for (i = 0; i < ARRAY_SIZE(layouts); i++) {
			struct nvmeta_buf_spec s = { .layout = layouts[i], .len = impossible_lens[l],
						     .offset = page - 1 };
			int ret = nvmeta_place(&info, &s, page, &pl);

			cr_assert(ret == -EINVAL || ret == -E2BIG,
				  "%s, %zu bytes: returned %d, %zu pages",
				  nvmeta_layout_name(s.layout), s.len, ret, pl.pages);
		}
}

/* The limit is the 32-bit length of a command, and it is named. */
Test(buf, longest_buffer_is_what_one_command_carries)
{
	size_t max = UINT32_MAX;
	void *mem = mmap(NULL, max, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_CALLER, .len = max, .addr = mem };
	struct nvmeta_buf *b = NULL;

	cr_assert_neq(mem, MAP_FAILED);
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), 0, "%s", nvmeta_last_error());
	nvmeta_buf_free(b);
	b = NULL;
	spec.len = max + 1;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -E2BIG);
	cr_assert_null(b);
	assert_names("length", max + 1);
	assert_names("limit", max);
	spec.layout = NVMETA_LAYOUT_MALLOC;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -E2BIG);
	munmap(mem, max);
}

/* A caller's range that wraps past the top of the address space. */
Test(buf, caller_range_may_not_wrap)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_CALLER, .len = 128,
					.addr = (void *)(UINTPTR_MAX - 63) };
	struct nvmeta_buf *b = NULL;

	clear_error();
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EINVAL);
	cr_assert_null(b);
	assert_names("length", 128);
}

Test(buf, offsets_near_size_max)
{
	static const size_t offsets[] = { SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 4095, SIZE_MAX / 2 + 1,
					  4097, 4096 };
	static const enum nvmeta_layout layouts[] = { NVMETA_LAYOUT_PAGE, NVMETA_LAYOUT_MISALIGNED };
	size_t o, i;

	for (o = 0; o < ARRAY_SIZE(offsets); o++)
		for (i = 0; i < ARRAY_SIZE(layouts); i++) {
			struct nvmeta_buf_spec spec = { .layout = layouts[i], .len = 64,
							.offset = offsets[o],
							.flags = NVMETA_BUF_CANARY | NVMETA_BUF_GUARD };
			struct nvmeta_buf *b = NULL;

			clear_error();
			cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EINVAL, "%s offset %zu",
				     nvmeta_layout_name(spec.layout), spec.offset);
			cr_assert_null(b);
			assert_names("offset", spec.offset);
		}
}

/* FRAGMENTED with more segments than any buffer can span: -ENOSPC (so
 * that FALLBACK still works), never a page count that wrapped.  Each
 * count needs more than the 4 GiB - 1 limit: (segments - 2) pages >= 4 GiB. */
Test(buf, segments_near_uint_max)
{
	static const unsigned int segs[] = { UINT_MAX, UINT_MAX - 1, UINT_MAX / 4096 + 3, (1u << 20) + 2 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_FRAGMENTED, .len = 64,
						.segments = segs[i] };
		struct nvmeta_buf *b = NULL;

		clear_error();
		cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -ENOSPC, "%u segments: %s",
			     segs[i], nvmeta_last_error());
		cr_assert_null(b);
		assert_names("segments", segs[i]);
		spec.len = UINT32_MAX;
		cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -ENOSPC, "%u segments, 4 GiB",
			     segs[i]);
		spec.flags = NVMETA_BUF_FALLBACK;
		spec.len = 64;
		cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), 0, "%s", nvmeta_last_error());
		cr_assert_eq(b->layout, NVMETA_LAYOUT_MISALIGNED);
		nvmeta_buf_free(b);
	}
}

/* A queue that allows UINT_MAX segments cannot be exceeded: the default
 * (the limit + 1) used to wrap to 0, and a 2-page buffer that pins was
 * returned as FRAGMENTED. */
Test(buf, unexceedable_segment_limit_is_not_fragmented)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_FRAGMENTED, .len = 64 };
	struct nvmeta_buf *b = NULL;

	info.limits.max_integrity_segments = UINT32_MAX;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -ENOSPC, "returned a buffer: %s",
		     b ? nvmeta_layout_name(b->layout) : nvmeta_last_error());
	cr_assert_null(b);
	info.limits.max_integrity_segments = 1;
	info.limits.max_segments = UINT32_MAX;
	spec.flags = NVMETA_BUF_DATA;
	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -ENOSPC);
	cr_assert_null(b);
}

/* An aligned start "align bytes before a page end" does not exist when
 * the alignment is larger than a page: it used to wrap the offset and
 * zero memory far outside the mapping. */
Test(buf, dma_alignment_above_a_page)
{
	static const uint32_t masks[] = { 8191, UINT32_MAX, UINT32_MAX - 1 };
	static const enum nvmeta_layout layouts[] = { NVMETA_LAYOUT_FRAGMENTED,
						      NVMETA_LAYOUT_HUGE_SPAN };
	size_t m, i;

	for (m = 0; m < ARRAY_SIZE(masks); m++)
		for (i = 0; i < ARRAY_SIZE(layouts); i++) {
			struct nvmeta_buf_spec spec = { .layout = layouts[i], .len = 8193,
							.flags = NVMETA_BUF_CANARY };
			struct nvmeta_buf *b = NULL;

			info.limits.dma_alignment = masks[m];
			cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), -EINVAL,
				     "%s, mask 0x%x: %s", nvmeta_layout_name(spec.layout), masks[m],
				     nvmeta_last_error());
			cr_assert_null(b);
		}
}

Test(buf, canary_check_takes_a_null_offset)
{
	struct nvmeta_buf_spec spec = { .layout = NVMETA_LAYOUT_PAGE, .len = 64, .offset = 128,
					.flags = NVMETA_BUF_CANARY };
	struct nvmeta_buf *b;

	cr_assert_eq(nvmeta_buf_alloc(&info, &spec, &b), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_buf_check_canaries(b, NULL), 0);
	((unsigned char *)b->addr)[64] ^= 1;
	cr_assert_eq(nvmeta_buf_check_canaries(b, NULL), -EFAULT);
	nvmeta_buf_free(b);
}
