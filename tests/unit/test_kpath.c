// SPDX-License-Identifier: MIT
/*
 * kprobe_events parsing (which probes a dead run left behind) and the
 * path decision from hit counts, without tracefs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check/check.h"

#define NS 4026531836ULL

/* Pids 100 and 300 are alive; everything else is dead. */
static bool alive_100_300(int pid, void *arg)
{
	int *calls = arg;

	if (calls)
		(*calls)++;
	return pid == 100 || pid == 300;
}

static int stale(const char *text, char (*names)[NVMETA_KPATH_EVENT_MAX], int max)
{
	return nvmeta_kpath_stale(text, NS, alive_100_300, NULL, names, max);
}

Test(kpath, dead_owner_probes_are_stale_live_ones_stay)
{
	static const char text[] =
		"p:kprobes/nvmeta_100_4026531836_meta_map blk_rq_integrity_map_user\n"
		"p:kprobes/nvmeta_200_4026531836_meta_map blk_rq_integrity_map_user\n"
		"p:kprobes/nvmeta_200_4026531836_meta_copy bio_integrity_add_page\n"
		"p:kprobes/nvmeta_200_4026531836_data_map blk_rq_map_user_iov\n"
		"p:kprobes/nvmeta_200_4026531836_data_pin bio_iov_iter_get_pages\n"
		"p:kprobes/nvmeta_300_4026531836_data_pin bio_map_user_iov\n";
	char names[8][NVMETA_KPATH_EVENT_MAX];

	cr_assert_eq(stale(text, names, 8), 4);
	cr_assert_str_eq(names[0], "nvmeta_200_4026531836_meta_map");
	cr_assert_str_eq(names[1], "nvmeta_200_4026531836_meta_copy");
	cr_assert_str_eq(names[2], "nvmeta_200_4026531836_data_map");
	cr_assert_str_eq(names[3], "nvmeta_200_4026531836_data_pin");
}

Test(kpath, name_without_group_and_no_final_newline)
{
	char names[2][NVMETA_KPATH_EVENT_MAX];

	cr_assert_eq(stale("p:nvmeta_7_4026531836_data_map blk_rq_map_user_iov", names, 2), 1);
	cr_assert_str_eq(names[0], "nvmeta_7_4026531836_data_map");
	/* Arguments after the symbol, as other writers may add them. */
	cr_assert_eq(stale("p:kprobes/nvmeta_7_4026531836_meta_copy bio_integrity_add_page "
			   "arg1=%di:u64\n", names, 2), 1);
	cr_assert_str_eq(names[0], "nvmeta_7_4026531836_meta_copy");
}

Test(kpath, other_tools_probes_are_left_alone)
{
	static const char text[] =
		"p:kprobes/myprobe do_sys_open\n"
		"r:kprobes/nvmeta_7_4026531836_meta_map blk_rq_integrity_map_user\n"
		"r16:kprobes/nvmeta_7_4026531836_meta_map blk_rq_integrity_map_user\n"
		"p:perf/nvmeta_7_4026531836_meta_map blk_rq_integrity_map_user\n"
		"p:kprobesx/nvmeta_7_4026531836_meta_map blk_rq_integrity_map_user\n"
		"p:kprobes/nvmeta_7_4026531836_other blk_rq_integrity_map_user\n"
		"p:kprobes/nvmeta_7_4026531836_meta_map_x blk_rq_integrity_map_user\n"
		"p:kprobes/xnvmeta_7_4026531836_meta_map blk_rq_integrity_map_user\n"
		/* The old naming, nvmeta_<pid>_<probe>, says nothing of the
		 * namespace its pid belongs to. */
		"p:kprobes/nvmeta_7_meta_map blk_rq_integrity_map_user\n"
		/* Another pid namespace: its pid 7 is not our pid 7. */
		"p:kprobes/nvmeta_7_4026532000_meta_map blk_rq_integrity_map_user\n";
	char names[4][NVMETA_KPATH_EVENT_MAX];

	cr_assert_eq(stale(text, names, 4), 0);
}

Test(kpath, malformed_lines_do_not_count)
{
	static const char text[] =
		"\n"
		"p\n"
		"p:\n"
		"p: \n"
		"p:kprobes/\n"
		"p:/nvmeta_7_4026531836_meta_map x\n"
		"p:kprobes/nvmeta__4026531836_meta_map x\n"
		"p:kprobes/nvmeta_07_4026531836_meta_map x\n"
		"p:kprobes/nvmeta_-7_4026531836_meta_map x\n"
		"p:kprobes/nvmeta_0_4026531836_meta_map x\n"
		"p:kprobes/nvmeta_2147483648_4026531836_meta_map x\n"
		"p:kprobes/nvmeta_99999999999999999999_4026531836_meta_map x\n"
		"p:kprobes/nvmeta_7_18446744073709551616_meta_map x\n"
		"p:kprobes/nvmeta_7_4026531836\n"
		"p:kprobes/nvmeta_7\n"
		"p:kprobes/a/b/nvmeta_7_4026531836_meta_map x\n"
		"garbage without a colon\n"
		"\t\t\n";
	char names[4][NVMETA_KPATH_EVENT_MAX];

	cr_assert_eq(stale(text, names, 4), 0);
	cr_assert_eq(stale("", names, 4), 0);
}

Test(kpath, largest_ids_still_parse)
{
	char names[1][NVMETA_KPATH_EVENT_MAX];

	cr_assert_eq(stale("p:kprobes/nvmeta_2147483647_4026531836_meta_copy x\n", names, 1), 1);
	cr_assert_eq(nvmeta_kpath_stale("p:nvmeta_9_18446744073709551615_data_pin x\n",
					18446744073709551615ULL, alive_100_300, NULL, names, 1), 1);
	cr_assert_str_eq(names[0], "nvmeta_9_18446744073709551615_data_pin");
}

Test(kpath, overlong_names_are_skipped_without_overflow)
{
	char names[2][NVMETA_KPATH_EVENT_MAX], text[8192];
	size_t n;

	/* Nothing the kernel accepts is longer than 63 characters, but this
	 * text is outside input (ASan checks the copies). */
	n = snprintf(text, sizeof(text), "p:kprobes/nvmeta_7_4026531836_");
	memset(text + n, 'a', sizeof(text) - n - 1);
	text[sizeof(text) - 1] = '\0';
	memset(names, 0x5a, sizeof(names));
	cr_assert_eq(stale(text, names, 2), 0);
	for (n = 0; n < sizeof(names); n++)
		cr_assert_eq(((unsigned char *)names)[n], 0x5a);
}

Test(kpath, more_than_max_counts_all_copies_max)
{
	static const char text[] =
		"p:kprobes/nvmeta_5_4026531836_meta_map x\n"
		"p:kprobes/nvmeta_5_4026531836_meta_copy x\n"
		"p:kprobes/nvmeta_6_4026531836_data_map x\n";
	char names[3][NVMETA_KPATH_EVENT_MAX];

	memset(names[2], 0x5a, sizeof(names[2]));
	cr_assert_eq(stale(text, names, 2), 3);
	cr_assert_str_eq(names[1], "nvmeta_5_4026531836_meta_copy");
	cr_assert_eq((unsigned char)names[2][0], 0x5a);
	cr_assert_eq(stale(text, NULL, 0), 3);
}

Test(kpath, unknown_namespace_removes_nothing)
{
	char names[1][NVMETA_KPATH_EVENT_MAX];
	int calls = 0;

	cr_assert_eq(nvmeta_kpath_stale("p:kprobes/nvmeta_5_4026531836_meta_map x\n", 0,
					alive_100_300, &calls, names, 1), 0);
	cr_assert_eq(calls, 0);
}

Test(kpath, liveness_asked_only_for_our_probes)
{
	static const char text[] =
		"p:kprobes/myprobe do_sys_open\n"
		"p:kprobes/nvmeta_5_4026532000_meta_map x\n"
		"p:kprobes/nvmeta_100_4026531836_meta_map x\n";
	char names[1][NVMETA_KPATH_EVENT_MAX];
	int calls = 0;

	cr_assert_eq(nvmeta_kpath_stale(text, NS, alive_100_300, &calls, names, 1), 0);
	cr_assert_eq(calls, 1);
}

Test(kpath, decide_metadata)
{
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_META, 1, 0), NVMETA_PATH_PIN);
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_META, 1, 1), NVMETA_PATH_BOUNCE);
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_META, 2, 5), NVMETA_PATH_BOUNCE);
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_META, 0, 0), -ENODATA);
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_META, 0, 3), -ENODATA);
}

Test(kpath, decide_data)
{
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_DATA, 1, 1), NVMETA_PATH_PIN);
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_DATA, 1, 0), NVMETA_PATH_BOUNCE);
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_DATA, 0, 0), -ENODATA);
	cr_assert_eq(nvmeta_kpath_decide(NVMETA_KIND_DATA, 0, 1), -ENODATA);
}
