// SPDX-License-Identifier: MIT
/* Layout construction, fallbacks, canaries, guard pages and slots. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
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
