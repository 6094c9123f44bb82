// SPDX-License-Identifier: MIT
/*
 * The checker's judgement against behaviour probes, fed probe results
 * instead of a kernel: a case expects what the probe found, and fails on
 * anything else.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "check/check.h"
#include "fake_info.h"

#define NLB 8
#define MS 8

static struct nvmeta_dev_info info;
static struct nvmeta_check_result res;
static struct nvmeta_check_probes probes;
static struct check c;
static uint8_t data_mem[NLB * 512], meta_mem[NLB * MS];
static struct nvmeta_buf data_buf, meta_buf;
static struct check_side dst;
/* Only its address matters: not NULL means the attribute road. */
static char road_token;
#define ROAD ((const struct nvmeta_bdev *)(void *)&road_token)

static const struct nvmeta_check_case *table_case(const char *name)
{
	const struct nvmeta_check_case *tc;
	int n = nvmeta_check_table(&tc), i;

	for (i = 0; i < n; i++)
		if (!strcmp(tc[i].name, name))
			return &tc[i];
	cr_assert_fail("no case %s in the table", name);
	return NULL;
}

static void set_probe(enum nvmeta_check_probe_id id, int value, const char *text)
{
	probes.probe[id].known = true;
	probes.probe[id].value = value;
	snprintf(probes.probe[id].text, sizeof(probes.probe[id].text), "%s", text);
}

static void setup(void)
{
	fake_info_6_12(&info);
	info.lba_size = 512;
	info.ms = MS;
	memset(&res, 0, sizeof(res));
	memset(&probes, 0, sizeof(probes));
	probes.count = NVMETA_PROBE_COUNT;
	res.slba = 100;
	res.nlb = NLB;
	c = (struct check){ .info = &info, .res = &res, .run = 1, .lba_bytes = 512,
			    .has_meta = true, .probes = &probes };
	data_buf = (struct nvmeta_buf){ .addr = data_mem, .len = sizeof(data_mem) };
	meta_buf = (struct nvmeta_buf){ .addr = meta_mem, .len = sizeof(meta_mem) };
	dst = (struct check_side){ .data = &data_buf, .meta = &meta_buf, .meta_is_case = true,
				   .observed = -1 };
	c.dst = dst;
}

TestSuite(probe, .init = setup);

/* The case's expected errno, then its judgement of @ret. */
static bool judge(const char *name, const struct nvmeta_bdev *road, int ret, int *want)
{
	c.tc = table_case(name);
	c.bdev = road;
	c.probe_why[0] = '\0';
	*want = nvmeta_check_expected_err(&c, &c.dst, true);
	return nvmeta_check_io_outcome(&c, "read", &c.dst, ret, *want);
}

#define EFAULT_WORDS "probe: the kernel answers EFAULT for a read into read-only metadata on the attribute road"
#define EIO_WORDS "probe: the kernel answers EIO for a read into read-only metadata on the attribute road"

Test(probe, road_efault_probe_passes_efault)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META_RW, -EFAULT, "EFAULT");
	cr_assert(judge("meta-readonly-dst-8", ROAD, -EFAULT, &want));
	cr_assert_eq(want, -EFAULT);
	cr_assert_str_eq(c.probe_why, EFAULT_WORDS);
}

Test(probe, road_efault_probe_fails_eio)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META_RW, -EFAULT, "EFAULT");
	cr_assert_not(judge("meta-readonly-dst-8", ROAD, -EIO, &want));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL);
	cr_assert_eq(res.err, -EIO);
	cr_assert_neq(strstr(res.detail, "read returned Input/output error, expected Bad address"),
		      NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, EFAULT_WORDS), NULL, "detail: %s", res.detail);
}

Test(probe, road_eio_probe_passes_eio)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META_RW, -EIO, "EIO");
	cr_assert(judge("meta-readonly-dst-8", ROAD, -EIO, &want));
	cr_assert_eq(want, -EIO);
	cr_assert_str_eq(c.probe_why, EIO_WORDS);
}

/* The failure of 6.16 and 6.17 before the probe, now judged against a
 * probe that says EIO: still a failure, never a pass by default. */
Test(probe, road_eio_probe_fails_efault)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META_RW, -EIO, "EIO");
	cr_assert_not(judge("meta-readonly-dst-8", ROAD, -EFAULT, &want));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL);
	cr_assert_neq(strstr(res.detail, "read returned Bad address, expected Input/output error"),
		      NULL, "detail: %s", res.detail);
	cr_assert_neq(strstr(res.detail, EIO_WORDS), NULL, "detail: %s", res.detail);
}

Test(probe, a_refusal_never_passes_as_success)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META_RW, -EFAULT, "EFAULT");
	cr_assert_not(judge("meta-readonly-dst-8", ROAD, 0, &want));
	cr_assert_eq(res.verdict, NVMETA_VERDICT_FAIL);
}

/* Each road, each alignment has its own probe. */
Test(probe, road_and_alignment_pick_their_probe)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META, -EFAULT, "EFAULT");
	set_probe(NVMETA_PROBE_RO_READ_META_MIS, -EACCES, "EACCES");
	set_probe(NVMETA_PROBE_RO_READ_META_RW, -EIO, "EIO");
	set_probe(NVMETA_PROBE_RO_READ_META_RW_MIS, -EPERM, "EPERM");
	cr_assert(judge("meta-readonly-dst-8", NULL, -EFAULT, &want));
	cr_assert(judge("meta-readonly-dst+1-8", NULL, -EACCES, &want));
	cr_assert_str_eq(c.probe_why, "probe: the kernel answers EACCES for a read into read-only metadata at page+1 on passthrough");
	cr_assert(judge("meta-readonly-dst-8", ROAD, -EIO, &want));
	cr_assert(judge("meta-readonly-dst+1-8", ROAD, -EPERM, &want));
	cr_assert_not(judge("meta-readonly-dst+1-8", ROAD, -EIO, &want));
}

Test(probe, data_destination_uses_the_data_probe)
{
	int want;

	dst.meta_is_case = false;
	dst.data_is_case = true;
	c.dst = dst;
	set_probe(NVMETA_PROBE_RO_READ_DATA, -EFAULT, "EFAULT");
	set_probe(NVMETA_PROBE_RO_READ_META, -EIO, "EIO");
	cr_assert(judge("data-readonly-dst-8", NULL, -EFAULT, &want));
	cr_assert_neq(strstr(c.probe_why, "read-only data on passthrough"), NULL, "%s", c.probe_why);
}

/* A probe that saw the read accepted found a defect, not an answer: the
 * case still expects a refusal. */
Test(probe, accepted_probe_still_expects_a_refusal)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META, 0, "accepted");
	cr_assert(judge("meta-readonly-dst-8", NULL, -EFAULT, &want));
	cr_assert_eq(want, -EFAULT);
	cr_assert_neq(strstr(c.probe_why, "(a defect)"), NULL, "%s", c.probe_why);
}

Test(probe, unknown_probe_says_so)
{
	int want;

	snprintf(probes.probe[NVMETA_PROBE_RO_READ_META_RW].how,
		 sizeof(probes.probe[0].how), "the block device is not open");
	cr_assert_not(judge("meta-readonly-dst-8", ROAD, -EIO, &want));
	cr_assert_eq(want, -EFAULT);
	cr_assert_neq(strstr(res.detail, "unknown (the block device is not open)"), NULL,
		      "detail: %s", res.detail);
}

/* Cases without a read-only destination take nothing from the probes. */
Test(probe, other_cases_ignore_the_errno_probes)
{
	int want;

	set_probe(NVMETA_PROBE_RO_READ_META_RW, -EIO, "EIO");
	cr_assert(judge("meta-page+0-8", ROAD, 0, &want));
	cr_assert_eq(want, 0);
	cr_assert_str_empty(c.probe_why);
}

/* ---- whether the kernel pins metadata at all ---- */

Test(probe, pinning_unknown_keeps_the_prediction)
{
	char why[120];

	cr_assert_eq(nvmeta_check_probe_path(&probes, NVMETA_PATH_BOUNCE, NVMETA_PATH_PIN, why,
					     sizeof(why)), NVMETA_PATH_BOUNCE);
	cr_assert_str_empty(why);
	cr_assert_eq(nvmeta_check_probe_path(NULL, NVMETA_PATH_PIN, NVMETA_PATH_PIN, why,
					     sizeof(why)), NVMETA_PATH_PIN);
}

Test(probe, pinning_kernel_expects_what_the_limits_say)
{
	char why[120];

	set_probe(NVMETA_PROBE_META_PINNING, NVMETA_PATH_PIN, "pin");
	/* A version rule said bounce; the kernel pins: the limits decide. */
	cr_assert_eq(nvmeta_check_probe_path(&probes, NVMETA_PATH_BOUNCE, NVMETA_PATH_PIN, why,
					     sizeof(why)), NVMETA_PATH_PIN);
	cr_assert_neq(strstr(why, "probe: the kernel pins"), NULL, "%s", why);
	cr_assert_eq(nvmeta_check_probe_path(&probes, NVMETA_PATH_BOUNCE, NVMETA_PATH_BOUNCE, why,
					     sizeof(why)), NVMETA_PATH_BOUNCE);
	cr_assert_str_empty(why);
}

Test(probe, bouncing_kernel_expects_bounce_where_the_limits_pin)
{
	char why[120];

	set_probe(NVMETA_PROBE_META_PINNING, NVMETA_PATH_BOUNCE, "bounce");
	cr_assert_eq(nvmeta_check_probe_path(&probes, NVMETA_PATH_PIN, NVMETA_PATH_PIN, why,
					     sizeof(why)), NVMETA_PATH_BOUNCE);
	cr_assert_neq(strstr(why, "it pins no metadata"), NULL, "%s", why);
	/* A buffer the kernel refuses stays refused. */
	cr_assert_eq(nvmeta_check_probe_path(&probes, NVMETA_PATH_FAIL, NVMETA_PATH_FAIL, why,
					     sizeof(why)), NVMETA_PATH_FAIL);
	/* The pinning code's own limits (E2BIG) do not bind a kernel
	 * without it: its bounce stands. */
	cr_assert_eq(nvmeta_check_probe_path(&probes, NVMETA_PATH_BOUNCE, NVMETA_PATH_FAIL, why,
					     sizeof(why)), NVMETA_PATH_BOUNCE);
	cr_assert_str_empty(why);
}

/* The limits alone: the model without its version rule. */
Test(probe, limits_prediction_ignores_the_kernel_version)
{
	static uint8_t page[8192] __attribute__((aligned(4096)));
	struct nvmeta_prediction p, lim;

	info.kernel.major = 6;
	info.kernel.minor = 1;
	nvmeta_predict(&info, NVMETA_KIND_META, page, 64, &p);
	nvmeta_check_predict_limits(&info, NVMETA_KIND_META, page, 64, &lim);
	cr_assert_eq(p.path, NVMETA_PATH_BOUNCE, "%s", p.reason);
	cr_assert_eq(lim.path, NVMETA_PATH_PIN, "%s", lim.reason);
	nvmeta_check_predict_limits(&info, NVMETA_KIND_META, page + 1, 64, &lim);
	cr_assert_eq(lim.path, NVMETA_PATH_BOUNCE, "%s", lim.reason);
}

Test(probe, errno_words)
{
	char w[24];

	cr_assert_str_eq(nvmeta_check_errno_word(-EFAULT, w, sizeof(w)), "EFAULT");
	cr_assert_str_eq(nvmeta_check_errno_word(EIO, w, sizeof(w)), "EIO");
	cr_assert_str_eq(nvmeta_check_errno_word(0, w, sizeof(w)), "success");
}
