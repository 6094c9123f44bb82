// SPDX-License-Identifier: MIT
/* The checker's verdicts, fed outcomes instead of a device. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "fake_info.h"

#define NLB 8
#define MS 16
#define RELEASE "6.12.117+deb13-amd64"

static struct nvmeta_dev_info info;
static struct nvmeta_check_result res;
static struct check c;
static uint8_t data_mem[NLB * 512], meta_mem[NLB * MS];
static struct nvmeta_buf data_buf, meta_buf;

static void setup(void)
{
	fake_info_6_12(&info);
	info.lba_size = 512;
	info.ms = MS;
	snprintf(info.kernel.release, sizeof(info.kernel.release), "%s", RELEASE);
	memset(&res, 0, sizeof(res));
	res.slba = 100;
	res.nlb = NLB;
	/* As during a case: the result's prediction is not filled in yet. */
	res.pred.path = NVMETA_PATH_PIN;
	c = (struct check){ .info = &info, .res = &res, .run = 3, .lba_bytes = 512,
			    .has_meta = true };
	data_buf = (struct nvmeta_buf){ .addr = data_mem, .len = sizeof(data_mem) };
	meta_buf = (struct nvmeta_buf){ .addr = meta_mem, .len = sizeof(meta_mem) };
	nvmeta_check_fill(&data_buf, &c, 512, DATA_BYTES);
	nvmeta_check_fill(&meta_buf, &c, MS, META_BYTES);
}

TestSuite(check, .init = setup);

static struct check_side side(enum nvmeta_path predicted, bool meta_is_case)
{
	struct check_side s = { .data = &data_buf, .meta = &meta_buf, .observed = -1,
				.meta_is_case = meta_is_case, .data_is_case = !meta_is_case };

	s.pred.path = predicted;
	return s;
}

Test(check, intact_bytes_match)
{
	struct check_side s = side(NVMETA_PATH_BOUNCE, true);

	cr_assert(nvmeta_check_bytes_match(&c, &s, "data", "metadata"));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_PASS);
	cr_assert_str_empty(res.detail);
}

Test(check, mismatch_names_the_bounce_the_side_predicted)
{
	struct check_side s = side(NVMETA_PATH_BOUNCE, true);

	meta_mem[3 * MS + 5] ^= 0x40;
	cr_assert_not(nvmeta_check_bytes_match(&c, &s, "data", "metadata"));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	cr_assert_str_eq(res.where, "metadata");
	cr_assert_eq(res.bad_lba, 103);
	cr_assert_eq(res.bad_offset, 5);
	cr_assert_neq(strstr(res.detail, "predicted bounce"), NULL, "detail: %s", res.detail);
	cr_assert_eq(strstr(res.detail, "predicted pin"), NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, RELEASE), NULL, "detail: %s", res.detail);
}

/* The other way round: the result says bounce, the side was predicted to
 * pin; the side's own prediction is the one that counts. */
Test(check, mismatch_names_the_pin_the_side_predicted)
{
	struct check_side s = side(NVMETA_PATH_PIN, false);

	res.pred.path = NVMETA_PATH_BOUNCE;
	data_mem[2 * 512 + 7] ^= 1;
	cr_assert_not(nvmeta_check_bytes_match(&c, &s, "write data source", "write metadata source"));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	cr_assert_str_eq(res.where, "write data source");
	cr_assert_eq(res.bad_lba, 102);
	cr_assert_neq(strstr(res.detail, "predicted pin"), NULL, "detail: %s", res.detail);
}

Test(check, mismatch_on_a_failing_prediction_says_fail)
{
	struct check_side s = side(NVMETA_PATH_FAIL, true);

	meta_mem[0] ^= 0xff;
	cr_assert_not(nvmeta_check_bytes_match(&c, &s, "data", "metadata"));
	cr_assert_neq(strstr(res.detail, "predicted fail"), NULL, "detail: %s", res.detail);
}

/* The side of a case that lays out only the other I/O's buffer has no
 * prediction: the message must not invent one. */
Test(check, mismatch_on_a_plain_side_names_no_prediction)
{
	struct check_side s = side(NVMETA_PATH_PIN, true);

	s.meta_is_case = false;
	meta_mem[9] ^= 0x10;
	cr_assert_not(nvmeta_check_bytes_match(&c, &s, "write data source", "write metadata source"));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	cr_assert_str_eq(res.where, "write metadata source");
	cr_assert_eq(strstr(res.detail, "predicted"), NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "plain buffers"), NULL, "detail: %s", res.detail);
}

/* ---- short-metadata probes: the kernel's side of a short buffer ---- */

static struct check_short probe(bool is_read, enum nvmeta_path path)
{
	return (struct check_short){ .is_read = is_read, .path = path, .declared = 64,
				     .needed = 512 };
}

static void assert_weakness(const char *detail)
{
	cr_assert_neq(strstr(detail, "kernel weakness: the kernel does not check metadata_len against nlb x ms"),
		      NULL, "detail: %s", detail);
	cr_assert_neq(strstr(detail, "CVE-2023-6238"), NULL, "detail: %s", detail);
	cr_assert_neq(strstr(detail, "upstream mitigation: metadata SGL"), NULL, "detail: %s", detail);
	cr_assert_neq(strstr(detail, "kernel " RELEASE), NULL, "detail: %s", detail);
}

Test(check, short_read_past_a_pinned_buffer_is_a_kernel_weakness)
{
	struct check_short o = probe(true, NVMETA_PATH_PIN);

	o.past = 448;
	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	assert_weakness(res.detail);
	cr_assert_neq(strstr(res.detail, "the device wrote 448 bytes past the declared 64-byte buffer"),
		      NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "pinned path"), NULL, "detail: %s", res.detail);
	cr_assert_str_eq(res.where, "past the metadata buffer");
}

Test(check, short_read_seen_in_the_kernel_log_is_a_kernel_weakness)
{
	struct check_short o = probe(true, NVMETA_PATH_BOUNCE);

	snprintf(o.klog, sizeof(o.klog), "\"BUG kmalloc-64 (Tainted: G    B): Right Redzone overwritten\"");
	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	assert_weakness(res.detail);
	cr_assert_neq(strstr(res.detail, "bounce path"), NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "Right Redzone overwritten"), NULL, "detail: %s", res.detail);
	cr_assert_str_eq(res.where, "kernel log");
}

Test(check, short_write_of_caller_memory_is_a_kernel_weakness)
{
	struct check_short o = probe(false, NVMETA_PATH_PIN);

	o.past = 448;
	o.past_is_caller = true;
	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	assert_weakness(res.detail);
	cr_assert_neq(strstr(res.detail, "read 448 bytes past the declared 64-byte buffer and stored them on disk"),
		      NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "the caller's memory after the buffer"), NULL,
		      "detail: %s", res.detail);
}

Test(check, short_write_of_kernel_memory_shows_the_bytes)
{
	struct check_short o = probe(false, NVMETA_PATH_BOUNCE);

	o.past = 448;
	snprintf(o.stored, sizeof(o.stored), "cc cc cc cc");
	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	assert_weakness(res.detail);
	cr_assert_neq(strstr(res.detail, "not the caller's, starting cc cc cc cc"), NULL,
		      "detail: %s", res.detail);
}

Test(check, short_command_refused_by_the_device_passes)
{
	struct check_short o = probe(true, NVMETA_PATH_PIN);

	o.ret = -EIO;
	o.status = (struct nvmeta_status){ .status = 0x281, .sct = 2, .sc = 0x81 };
	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_PASS, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "device refused: metadata SGL length check"), NULL,
		      "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "0x281"), NULL, "detail: %s", res.detail);
}

Test(check, short_command_refused_but_overrun_is_a_defect)
{
	struct check_short o = probe(true, NVMETA_PATH_PIN);

	o.ret = -EIO;
	o.status = (struct nvmeta_status){ .status = 0x281, .sct = 2, .sc = 0x81 };
	o.past = 8;
	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "yet 8 bytes past the declared 64-byte buffer moved"), NULL,
		      "detail: %s", res.detail);
}

Test(check, short_command_refused_by_the_kernel_passes)
{
	struct check_short o = probe(false, NVMETA_PATH_BOUNCE);

	o.ret = -EINVAL;
	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_PASS, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "the kernel refused metadata_len 64 for 512 bytes"), NULL,
		      "detail: %s", res.detail);
}

/* Success without a trace is not a pass: with red zones on, the overrun
 * or a refusal must show. */
Test(check, short_command_without_a_trace_fails)
{
	struct check_short o = probe(true, NVMETA_PATH_BOUNCE);

	nvmeta_check_short_verdict(&info, &o, &res);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL, "detail: %s", res.detail);
}

/* ---- the case table and the cases nvmeta_check_run accepts ---- */

/* The words a case's source of memory had before backing and the flags
 * took its place: tests/vm/known-defects.tsv and the lab's scripts match
 * case names, and tools may print these. */
static const char *source_word(const struct nvmeta_check_case *tc)
{
	static const char *const backing[] = { "anon", "memfd", "huge" };

	if (tc->flags & NVMETA_CHECK_UNTOUCHED)
		return "untouched";
	if (tc->flags & NVMETA_CHECK_READONLY)
		return "readonly";
	return tc->backing <= NVMETA_BACKING_HUGE ? backing[tc->backing] : "?";
}

/* The table as it was when subject and source were enums of their own. */
static const struct {
	const char *name, *kind, *source;
} table_before[] = {
	{ "meta-pinned-1", "meta", "anon" },
	{ "meta-pinned-8", "meta", "anon" },
	{ "meta-pinned-max", "meta", "anon" },
	{ "meta-page+0-8", "meta", "anon" },
	{ "meta-page+4-8", "meta", "anon" },
	{ "meta-page+0-max", "meta", "anon" },
	{ "meta-misaligned+1-1", "meta", "anon" },
	{ "meta-misaligned+1-1w", "meta", "anon" },
	{ "meta-misaligned+1-8", "meta", "anon" },
	{ "meta-misaligned+2-8", "meta", "anon" },
	{ "meta-misaligned+3-8", "meta", "anon" },
	{ "meta-misaligned+4093-8", "meta", "anon" },
	{ "meta-misaligned+1-max", "meta", "anon" },
	{ "meta-fragmented-1", "meta", "anon" },
	{ "meta-fragmented-8", "meta", "anon" },
	{ "meta-fragmented-8w", "meta", "anon" },
	{ "meta-fragmented-max", "meta", "anon" },
	{ "meta-huge-span-1", "meta", "anon" },
	{ "meta-huge-span-max", "meta", "anon" },
	{ "meta-huge-8", "meta", "huge" },
	{ "meta-malloc-1", "meta", "anon" },
	{ "meta-malloc-8", "meta", "anon" },
	{ "meta-malloc-max", "meta", "anon" },
	{ "meta-memfd-8", "meta", "memfd" },
	{ "meta-memfd+2-8", "meta", "memfd" },
	{ "meta-readonly-src-8", "meta", "readonly" },
	{ "meta-readonly-src+1-8", "meta", "readonly" },
	{ "meta-readonly-dst-8", "meta", "readonly" },
	{ "meta-readonly-dst+1-8", "meta", "readonly" },
	{ "data-pinned-1", "data", "anon" },
	{ "data-pinned-max", "data", "anon" },
	{ "data-page-max", "data", "anon" },
	{ "data-misaligned+1-1", "data", "anon" },
	{ "data-misaligned+2-max", "data", "anon" },
	{ "data-fragmented-max", "data", "anon" },
	{ "data-huge-8", "data", "huge" },
	{ "data-malloc-8", "data", "anon" },
	{ "data-memfd-8", "data", "memfd" },
	{ "data-readonly-src-8", "data", "readonly" },
	{ "data-readonly-dst-8", "data", "readonly" },
	{ "data-untouched-8", "data", "untouched" },
	{ "reformat-under-handle", "meta", "anon" },
	{ "raw-shortmeta-pin-read", "meta", "anon" },
	{ "raw-shortmeta-pin-write", "meta", "anon" },
	{ "raw-shortmeta+1-write", "meta", "anon" },
	{ "meta-untouched-8", "meta", "untouched" },
	{ "meta-untouched+1-8", "meta", "untouched" },
	{ "meta-untouched-max", "meta", "untouched" },
	{ "raw-shortmeta+1-read", "meta", "anon" },
};

Test(check, table_keeps_its_names_and_words)
{
	static const char *const kinds[] = { "meta", "data" };
	const struct nvmeta_check_case *tc;
	int n = nvmeta_check_table(&tc), i;
	size_t j;

	cr_assert_eq(n, (int)ARRAY_SIZE(table_before));
	for (i = 0; i < n; i++) {
		cr_assert_str_eq(tc[i].name, table_before[i].name);
		cr_assert(tc[i].kind == NVMETA_KIND_META || tc[i].kind == NVMETA_KIND_DATA,
			  "%s: kind %d", tc[i].name, (int)tc[i].kind);
		cr_assert_str_eq(kinds[tc[i].kind], table_before[i].kind, "%s", tc[i].name);
		cr_assert_str_eq(source_word(&tc[i]), table_before[i].source, "%s", tc[i].name);
		for (j = 0; j < ARRAY_SIZE(tc[i].resv); j++)
			cr_assert_eq(tc[i].resv[j], 0, "%s: resv[%zu]", tc[i].name, j);
	}
}

/* A device nvmeta_check_run would skip every case on (no blocks): a case
 * it accepts returns 0 without I/O, one it refuses returns -EINVAL. */
static struct nvmeta_dev fake_dev;

static int run_case(const struct nvmeta_check_case *tc)
{
	fake_dev.fd = -1;
	fake_dev.info = info;
	fake_dev.info.nsze = 0;
	return nvmeta_check_run(&fake_dev, NULL, NULL, tc, 0, 1, &res);
}

static struct nvmeta_check_case first_case(void)
{
	const struct nvmeta_check_case *tc;

	nvmeta_check_table(&tc);
	return tc[0];
}

Test(check, run_accepts_a_table_case)
{
	struct nvmeta_check_case tc = first_case();

	cr_assert_eq(run_case(&tc), 0, "%s", nvmeta_last_error());
	cr_assert_eq(res.verdict, NVMETA_VERDICT_SKIP, "detail: %s", res.detail);
}

Test(check, run_refuses_a_case_with_resv_set)
{
	struct nvmeta_check_case tc = first_case();

	tc.resv[2] = 1;
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert_neq(strstr(nvmeta_last_error(), "resv[2]"), NULL, "error: %s",
		      nvmeta_last_error());
	cr_assert_neq(strstr(nvmeta_last_error(), tc.name), NULL, "error: %s",
		      nvmeta_last_error());
}

Test(check, run_refuses_a_backing_it_cannot_allocate)
{
	struct nvmeta_check_case tc = first_case();
	enum nvmeta_backing bad[] = { NVMETA_BACKING_HEAP, NVMETA_BACKING_CALLER };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		tc.backing = bad[i];
		cr_assert_eq(run_case(&tc), -EINVAL, "backing %d", (int)bad[i]);
		cr_assert_neq(strstr(nvmeta_last_error(), "backing"), NULL, "error: %s",
			      nvmeta_last_error());
	}
}

Test(check, run_refuses_unknown_flags_and_kinds)
{
	struct nvmeta_check_case tc = first_case();

	tc.flags = 1u << 31;
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert_neq(strstr(nvmeta_last_error(), "unknown flags 0x80000000"), NULL, "error: %s",
		      nvmeta_last_error());
	tc = first_case();
	tc.kind = (enum nvmeta_kind)2;
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert_neq(strstr(nvmeta_last_error(), "kind 2"), NULL, "error: %s",
		      nvmeta_last_error());
}
