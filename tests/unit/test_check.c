// SPDX-License-Identifier: MIT
/* The checker's verdicts, fed outcomes instead of a device. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "check/check.h"
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
	{ "meta-pi-pinned-1", "meta", "anon" },
	{ "meta-pi-pinned-8", "meta", "anon" },
	{ "meta-pi-misaligned+1-1", "meta", "anon" },
	{ "meta-pi-misaligned+1-1w", "meta", "anon" },
	{ "meta-pi-misaligned+1-8", "meta", "anon" },
	{ "meta-pi-fragmented-1", "meta", "anon" },
	{ "meta-pi-fragmented-8", "meta", "anon" },
	{ "meta-pi-fragmented-8w", "meta", "anon" },
	{ "vec-odd-8-meta+1", "meta", "anon" },
	{ "vec-odd-max-meta+1", "meta", "anon" },
	{ "vec-odd-8-meta-page", "meta", "anon" },
	{ "rw-vec-8-meta+1", "meta", "anon" },
	{ "rw-vec-max-meta+1", "meta", "anon" },
	{ "rw-vec-8-meta-page", "meta", "anon" },
	{ "vec-pi-odd-8-meta+1", "meta", "anon" },
	{ "vec-pi-odd-8-meta-page", "meta", "anon" },
	{ "data-fixed-buf-big-registration", "data", "anon" },
	{ "data-fixed-buf-vec-cut", "data", "anon" },
	{ "cmd-write-zeroes", "data", "anon" },
	{ "cmd-write-zeroes-pract", "data", "anon" },
	{ "cmd-write-zeroes-deac", "data", "anon" },
	{ "cmd-dsm-deallocate", "data", "anon" },
	{ "cmd-write-uncorrectable", "data", "anon" },
	{ "cmd-verify", "data", "anon" },
	{ "cmd-compare", "data", "anon" },
	{ "cmd-copy", "data", "anon" },
	{ "cmd-copy-carry", "data", "anon" },
	{ "reformat-under-handle", "meta", "anon" },
	{ "raw-shortmeta-pin-read", "meta", "anon" },
	{ "raw-shortmeta-pin-write", "meta", "anon" },
	{ "raw-shortmeta+1-write", "meta", "anon" },
	{ "meta-untouched-8", "meta", "untouched" },
	{ "meta-untouched+1-8", "meta", "untouched" },
	{ "meta-untouched-max", "meta", "untouched" },
	{ "raw-shortmeta+1-read", "meta", "anon" },
};

/* A vec case's data, cut off the DMA alignment, is copied: on 6.1
 * (max_segments 127) 512 KiB of it needs 128 bounce pages, which the
 * kernel may refuse with EINVAL, as it did once in the lab (bookworm
 * 6.1.176, vec-odd-max-meta+1, 2026-12-07).  The library's prediction of
 * the iovecs says so; the checker allows it even though the case buffer,
 * the metadata, predicts nothing of the kind. */
Test(check, vec_data_bounce_past_max_segments_may_fail)
{
	static uint8_t mem[(512u << 10) + 64];
	struct iovec iov[3] = { { mem + 1, 1000 }, { mem + 1001, 3 },
				{ mem + 1004, (512u << 10) - 1003 } };
	struct check_side s = side(NVMETA_PATH_BOUNCE, true);

	info.limits.max_segments = 127;
	cr_assert_eq(nvmeta_check_vec_may_err(&info, iov, 3), -EINVAL);
	info.limits.max_segments = 128;
	cr_assert_eq(nvmeta_check_vec_may_err(&info, iov, 3), 0, "6.12's 128 hold it");
	iov[2].iov_len -= 4096;
	info.limits.max_segments = 127;
	cr_assert_eq(nvmeta_check_vec_may_err(&info, iov, 3), 0, "127 pages fit");

	c.src = s;
	c.dst = s;
	c.vec_may_err = -EINVAL;
	nvmeta_fail(-EINVAL, "Invalid argument");
	cr_assert_not(nvmeta_check_io_outcome(&c, "write", &c.src, -EINVAL, 0));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_PASS, "%s", res.detail);
	cr_assert(strstr(res.detail, "which the prediction allowed"), "%s", res.detail);
	c.vec_may_err = 0;
	cr_assert_not(nvmeta_check_io_outcome(&c, "write", &c.src, -EINVAL, 0));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL, "%s", res.detail);
}

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

	cr_assert_eq(run_case(&tc), 0, "%s", nvmeta_check_last_error());
	cr_assert_eq(res.verdict, NVMETA_VERDICT_SKIP, "detail: %s", res.detail);
}

/* Issue 21, item 6: every command of the enum has its case, in order,
 * and a command case takes no other flag nor an unknown command. */
Test(check, command_cases_cover_every_command_and_go_alone)
{
	const struct nvmeta_check_case *t;
	struct nvmeta_check_case tc;
	int n = nvmeta_check_table(&t), i;
	unsigned int next = 0;

	for (i = 0; i < n; i++) {
		if (!(t[i].flags & NVMETA_CHECK_COMMAND))
			continue;
		cr_assert_eq(NVMETA_CHECK_CMD_OF(t[i].flags), next, "%s", t[i].name);
		cr_assert_eq(t[i].flags, NVMETA_CHECK_CMD(next), "%s", t[i].name);
		next++;
		tc = t[i];
	}
	cr_assert_eq(next, NVMETA_CHECK_CMD_COUNT);
	cr_assert_eq(run_case(&tc), 0, "%s", nvmeta_check_last_error());
	cr_assert_eq(res.verdict, NVMETA_VERDICT_SKIP, "detail: %s", res.detail);
	tc.flags |= NVMETA_CHECK_PI;
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert(strstr(nvmeta_check_last_error(), "NVMETA_CHECK_COMMAND goes alone"), "%s",
		  nvmeta_check_last_error());
	tc.flags = NVMETA_CHECK_CMD(NVMETA_CHECK_CMD_COUNT);
	cr_assert_eq(run_case(&tc), -EINVAL);
	tc.flags = NVMETA_CHECK_CMD(0) & ~(uint32_t)NVMETA_CHECK_COMMAND;
	cr_assert_eq(tc.flags, 0u, "command 0 without the flag is no flag at all");
	tc.flags = 1u << 9;	/* command bits without NVMETA_CHECK_COMMAND */
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert(strstr(nvmeta_check_last_error(), "unknown flags"), "%s",
		  nvmeta_check_last_error());
}

Test(check, run_refuses_a_case_with_resv_set)
{
	struct nvmeta_check_case tc = first_case();

	tc.resv[2] = 1;
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert_neq(strstr(nvmeta_check_last_error(), "resv[2]"), NULL, "error: %s",
		      nvmeta_check_last_error());
	cr_assert_neq(strstr(nvmeta_check_last_error(), tc.name), NULL, "error: %s",
		      nvmeta_check_last_error());
}

Test(check, run_refuses_a_backing_it_cannot_allocate)
{
	struct nvmeta_check_case tc = first_case();
	enum nvmeta_backing bad[] = { NVMETA_BACKING_HEAP, NVMETA_BACKING_CALLER };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		tc.backing = bad[i];
		cr_assert_eq(run_case(&tc), -EINVAL, "backing %d", (int)bad[i]);
		cr_assert_neq(strstr(nvmeta_check_last_error(), "backing"), NULL, "error: %s",
			      nvmeta_check_last_error());
	}
}

Test(check, run_refuses_unknown_flags_and_kinds)
{
	struct nvmeta_check_case tc = first_case();

	tc.flags = 1u << 31;
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert_neq(strstr(nvmeta_check_last_error(), "unknown flags 0x80000000"), NULL, "error: %s",
		      nvmeta_check_last_error());
	tc = first_case();
	tc.kind = (enum nvmeta_kind)2;
	cr_assert_eq(run_case(&tc), -EINVAL);
	cr_assert_neq(strstr(nvmeta_check_last_error(), "kind 2"), NULL, "error: %s",
		      nvmeta_check_last_error());
}

/* ---- protection information cases (NVMETA_CHECK_PI) ---- */

/* The PI cases: new names for metadata pinned and bounced, one and eight
 * blocks, both directions, and the vectored ones (vec-pi-*, with
 * NVMETA_CHECK_VEC too); every other case without the flag. */
Test(check, table_has_pi_cases_for_pinned_and_bounced_metadata)
{
	const struct nvmeta_check_case *tc;
	int n = nvmeta_check_table(&tc), i;
	unsigned int pi = 0, layouts = 0, sizes = 0, dirs = 0;

	for (i = 0; i < n; i++) {
		bool vec = strncmp(tc[i].name, "vec-pi-", 7) == 0;
		bool named = vec || strncmp(tc[i].name, "meta-pi-", 8) == 0;

		cr_assert_eq(named, !!(tc[i].flags & NVMETA_CHECK_PI), "%s", tc[i].name);
		if (!named)
			continue;
		pi++;
		cr_assert_eq(tc[i].kind, NVMETA_KIND_META, "%s", tc[i].name);
		cr_assert_eq(tc[i].flags, NVMETA_CHECK_PI | (vec ? NVMETA_CHECK_VEC : 0), "%s",
			     tc[i].name);
		cr_assert_eq(tc[i].expect_err, 0, "%s", tc[i].name);
		layouts |= 1u << tc[i].layout;
		sizes |= 1u << tc[i].size;
		dirs |= 1u << tc[i].dir;
	}
	cr_assert_geq(pi, 6);
	cr_assert(layouts & (1u << NVMETA_LAYOUT_PINNED));
	cr_assert(layouts & (1u << NVMETA_LAYOUT_MISALIGNED));
	cr_assert(layouts & (1u << NVMETA_LAYOUT_FRAGMENTED));
	cr_assert_eq(sizes, (1u << NVMETA_SIZE_ONE) | (1u << NVMETA_SIZE_FEW));
	cr_assert_eq(dirs, (1u << NVMETA_DIR_READ) | (1u << NVMETA_DIR_WRITE) |
			   (1u << NVMETA_DIR_BOTH));
}

static struct nvmeta_check_case pi_case(void)
{
	struct nvmeta_check_case tc = first_case();

	tc.name = "meta-pi-test";
	tc.flags = NVMETA_CHECK_PI;
	return tc;
}

/* A namespace without PI: the case is accepted and skipped with a reason. */
Test(check, pi_case_without_pi_is_skipped_with_a_reason)
{
	struct nvmeta_check_case tc = pi_case();

	fake_dev.fd = -1;
	fake_dev.info = info;
	fake_dev.info.nsze = 1 << 20;
	fake_dev.info.pi_type = 0;
	cr_assert_eq(nvmeta_check_run(&fake_dev, NULL, NULL, &tc, 0, 1, &res), 0, "%s",
		     nvmeta_check_last_error());
	cr_assert_eq(res.verdict, NVMETA_VERDICT_SKIP, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "no protection information"), NULL, "detail: %s",
		      res.detail);
}

/* Generation writes the write's source: read-only memory cannot take it,
 * and the probes send commands of their own.  NVMETA_CHECK_VEC goes with
 * it (the vec-pi-* cases). */
Test(check, run_refuses_pi_with_flags_it_cannot_go_with)
{
	static const uint32_t bad[] = { NVMETA_CHECK_READONLY, NVMETA_CHECK_SHORT_META,
					NVMETA_CHECK_REFORMAT, NVMETA_CHECK_FIXED_BUF,
					NVMETA_CHECK_RW_VEC };
	struct nvmeta_check_case tc = pi_case();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		tc.flags = NVMETA_CHECK_PI | bad[i];
		cr_assert_eq(run_case(&tc), -EINVAL, "flags %#x", tc.flags);
		cr_assert_neq(strstr(nvmeta_check_last_error(), "NVMETA_CHECK_PI cannot go with"), NULL,
			      "error: %s", nvmeta_check_last_error());
	}
}

/* The attribute road's vectored cases say on passthrough that they are
 * the other road's, and run nothing there. */
Test(check, rw_vec_cases_skip_on_passthrough)
{
	const struct nvmeta_check_case *tc;
	int n = nvmeta_check_table(&tc), i, seen = 0;

	for (i = 0; i < n; i++) {
		if (!(tc[i].flags & NVMETA_CHECK_RW_VEC))
			continue;
		seen++;
		cr_assert_eq(tc[i].flags & NVMETA_CHECK_VEC, 0, "%s", tc[i].name);
		cr_assert_eq(run_case(&tc[i]), 0, "%s: %s", tc[i].name, nvmeta_check_last_error());
		cr_assert_eq(res.verdict, NVMETA_VERDICT_SKIP, "%s: %s", tc[i].name, res.detail);
		cr_assert_neq(strstr(res.detail, "an attribute-road case"), NULL, "%s", res.detail);
	}
	cr_assert_eq(seen, 3);
}

/* A 512+16 type 1 format, PI in the last 8 bytes, as preset 512+16-pi1. */
static void pi_info(struct nvmeta_dev_info *in, uint8_t type, uint8_t guard_bits)
{
	in->pi_type = type;
	in->guard_bits = guard_bits;
	in->pif = guard_bits == 64 ? 2 : 0;
	in->pi_size = guard_bits == 16 ? 8 : 16;
	in->pi_first = false;
}

/* The checker compares the read back with the pattern and the PI
 * generated over it: the image, not the bare pattern, and a changed PI
 * byte is caught. */
Test(check, pi_image_is_what_the_bytes_are_compared_with)
{
	struct check_side s = side(NVMETA_PATH_BOUNCE, true);
	struct nvmeta_pi_report rep;

	pi_info(&info, 1, 16);
	cr_assert_eq(nvmeta_pi_format_of(&info, &c.pi_fmt), 0, "%s", nvmeta_check_last_error());
	c.pi = true;
	c.pi_tags = (struct nvmeta_pi_tags){ .ref_tag = res.slba, .app_tag = 0x6e76,
					     .app_mask = 0xffff, .checks = NVMETA_PI_CHECK_ALL };
	cr_assert_eq(nvmeta_check_pi_images(&c, sizeof(data_mem), sizeof(meta_mem)), 0, "%s",
		     nvmeta_check_last_error());
	/* The buffers hold the bare pattern: the PI bytes differ. */
	cr_assert_not(nvmeta_check_bytes_match(&c, &s, "data", "metadata"));
	cr_assert_str_eq(res.where, "metadata");
	cr_assert_geq(res.bad_offset, MS - 8, "offset %zu", res.bad_offset);
	/* Generated as the write does: every byte is the image. */
	cr_assert_eq(nvmeta_pi_generate(&c.pi_fmt, data_mem, meta_mem, NLB, &c.pi_tags), 0);
	memset(&res, 0, sizeof(res));
	res.slba = 100;
	res.nlb = NLB;
	cr_assert(nvmeta_check_bytes_match(&c, &s, "data", "metadata"), "detail: %s", res.detail);
	cr_assert_eq(nvmeta_pi_verify(&c.pi_fmt, data_mem, meta_mem, NLB, &c.pi_tags, &rep), 0);
	/* Outside the PI the metadata is still the pattern. */
	cr_assert_eq(memcmp(meta_mem, c.want[META_BYTES], sizeof(meta_mem)), 0);
	/* A reference tag byte of block 5 changed. */
	meta_mem[5 * MS + MS - 1] ^= 0x01;
	cr_assert_not(nvmeta_check_bytes_match(&c, &s, "data", "metadata"));
	cr_assert_eq(res.bad_lba, 105);
	cr_assert_eq(res.bad_offset, MS - 1);
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT);
	free(c.want[DATA_BYTES]);
	free(c.want[META_BYTES]);
}

static const struct nvmeta_status ok_status;
static const struct nvmeta_status guard_error = { .status = 0x282, .sct = 2, .sc = 0x82 };
static const struct nvmeta_status app_error = { .status = 0x283, .sct = 2, .sc = 0x83 };
static const struct nvmeta_status ref_error = { .status = 0x284, .sct = 2, .sc = 0x84 };
static const struct nvmeta_status lba_range = { .status = 0x080, .sct = 0, .sc = 0x80 };

#define PRCHK_ALL (NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP | NVMETA_PRCHK_REF)

static struct check_pi pi_read(int ret)
{
	return (struct check_pi){ .is_read = true, .ret = ret, .prchk = PRCHK_ALL,
				  .path = NVMETA_PATH_BOUNCE, .slba = 100, .bytes_match = true };
}

Test(check, pi_e2e_statuses_name_their_field)
{
	cr_assert_eq(nvmeta_check_e2e_field(&guard_error), NVMETA_PI_FIELD_GUARD);
	cr_assert_eq(nvmeta_check_e2e_field(&app_error), NVMETA_PI_FIELD_APP);
	cr_assert_eq(nvmeta_check_e2e_field(&ref_error), NVMETA_PI_FIELD_REF);
	cr_assert_eq(nvmeta_check_e2e_field(&lba_range), NVMETA_PI_FIELD_NONE);
	cr_assert_eq(nvmeta_check_e2e_field(&ok_status), NVMETA_PI_FIELD_NONE);
}

/* Success, and errors that are no PI matter, go to the ordinary judgement. */
Test(check, pi_verdict_leaves_other_outcomes_alone)
{
	struct check_pi o = pi_read(0);

	cr_assert_not(nvmeta_check_pi_verdict(&info, &o, &res));
	o = pi_read(-EIO);
	o.status = lba_range;
	cr_assert_not(nvmeta_check_pi_verdict(&info, &o, &res));
	o.is_read = false;
	cr_assert_not(nvmeta_check_pi_verdict(&info, &o, &res));
	o = pi_read(-EFAULT);
	cr_assert_not(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_PASS);
}

/* The device checked the PI on the write and on the read and completed
 * both; the host finds it wrong and a byte differs: the kernel changed it
 * between the device and the caller's memory. */
Test(check, pi_host_mismatch_after_checked_write_is_a_kernel_defect)
{
	struct check_pi o = pi_read(-EILSEQ);

	o.bytes_match = false;
	o.rep = (struct nvmeta_pi_report){ .block = 3, .field = NVMETA_PI_FIELD_GUARD,
					   .expected = 0x1234, .found = 0x1235 };
	res.where = "metadata";
	res.bad_lba = 103;
	res.bad_offset = 9;
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "LBA 103 guard 0x1235, expected 0x1234"), NULL,
		      "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "the device checked it on the write and the read (PRCHK guard|app|ref)"),
		      NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "metadata LBA 103 byte 9"), NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "bounce path"), NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, RELEASE), NULL, "detail: %s", res.detail);
}

/* Type 3: the device does not check the reference tag; a changed byte
 * after a successful read is still the kernel's, said without the claim. */
Test(check, pi_host_mismatch_of_an_unchecked_field_is_a_kernel_defect_too)
{
	struct check_pi o = pi_read(-EILSEQ);

	o.prchk = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP;
	o.bytes_match = false;
	o.rep = (struct nvmeta_pi_report){ .field = NVMETA_PI_FIELD_REF, .expected = 100,
					   .found = 101 };
	res.where = "metadata";
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_KERNEL_DEFECT, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "the device does not check it (PRCHK guard|app)"), NULL,
		      "detail: %s", res.detail);
}

/* Nothing changed in transit, yet the host's verification fails: the
 * library disagrees with itself. */
Test(check, pi_host_mismatch_with_every_byte_intact_fails_the_library)
{
	struct check_pi o = pi_read(-EILSEQ);

	o.rep = (struct nvmeta_pi_report){ .field = NVMETA_PI_FIELD_APP, .expected = 0x6e76,
					   .found = 0x6e77 };
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL, "detail: %s", res.detail);
	cr_assert_str_eq(res.where, "host PI verification");
	cr_assert_neq(strstr(res.detail, "disagrees with its own generation"), NULL,
		      "detail: %s", res.detail);
}

/* The device accepted the PI, checked, on the write and refuses it on the
 * read: its stored copy changed. */
Test(check, pi_read_refused_by_the_device_is_a_device_error)
{
	struct check_pi o = pi_read(-EIO);

	o.status = ref_error;
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_DEVICE_ERROR, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "0x284"), NULL, "detail: %s", res.detail);
}

static struct check_pi pi_write_refused_by(const struct nvmeta_status *st)
{
	return (struct check_pi){ .ret = -EIO, .status = *st, .prchk = PRCHK_ALL,
				  .path = NVMETA_PATH_PIN, .source_verifies = true,
				  .guard_spec_ok = true };
}

/* The device rejects what the host generated: the library's generation
 * fails, with the reason the device cannot be blamed. */
Test(check, pi_write_refused_fails_the_generation)
{
	struct check_pi o = pi_write_refused_by(&app_error);

	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL, "detail: %s", res.detail);
	cr_assert_str_eq(res.where, "write PI");
	cr_assert_neq(strstr(res.detail, "the device rejects the PI nvmeta generated"), NULL,
		      "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "the tags are the library's to set"), NULL,
		      "detail: %s", res.detail);

	o = pi_write_refused_by(&guard_error);
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "covers the metadata before the PI too"), NULL,
		      "detail: %s", res.detail);

	o.guard_data_only = true;
	o.source_verifies = false;
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "do not verify on the host either"), NULL,
		      "detail: %s", res.detail);

	o.source_verifies = true;
	o.guard_spec_ok = false;
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "check value"), NULL, "detail: %s", res.detail);
}

/* A guard that is the specification's CRC of the data alone, refused: the
 * device computes it wrongly. */
Test(check, pi_write_refusing_the_specification_guard_is_a_device_error)
{
	struct check_pi o = pi_write_refused_by(&guard_error);

	o.guard_data_only = true;
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_DEVICE_ERROR, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, "specification's CRC of the data"), NULL, "detail: %s",
		      res.detail);
	cr_assert_neq(strstr(res.detail, "pinned path"), NULL, "detail: %s", res.detail);
}

/* The write of a read case goes through plain buffers, which have no
 * predicted path: the detail must not name one. */
Test(check, pi_write_refused_on_plain_buffers_names_no_path)
{
	struct check_pi o = pi_write_refused_by(&guard_error);

	o.plain = true;
	cr_assert(nvmeta_check_pi_verdict(&info, &o, &res));
	cr_assert_neq(strstr(res.detail, "(plain buffers)"), NULL, "detail: %s", res.detail);
	cr_assert_eq(strstr(res.detail, "pinned path"), NULL, "detail: %s", res.detail);
}
