// SPDX-License-Identifier: MIT
/* CQE status decoding, and the names of NVMe statuses (libnvme's). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"

/* A 32-byte CQE with @res and result dword 0x42.  A union, not a struct
 * with room after the CQE: big_cqe[] is a flexible array member, which
 * may not be followed by another member. */
static int decode(int res, struct nvmeta_status *st)
{
	union {
		struct io_uring_cqe cqe;
		unsigned char cqe32[2 * sizeof(struct io_uring_cqe)];
	} big;

	memset(&big, 0, sizeof(big));
	big.cqe.res = res;
	big.cqe.big_cqe[0] = 0x42;
	return nvmeta_status_decode(&big.cqe, st);
}

static const char *name_of(uint16_t status)
{
	struct nvmeta_status st = { .status = status };

	return nvmeta_status_name(&st);
}

Test(status, success_is_zero_with_the_result)
{
	struct nvmeta_status st;

	memset(&st, 0xa5, sizeof(st));
	cr_assert_eq(decode(0, &st), 0);
	cr_assert_eq(st.err, 0);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(st.sct, 0);
	cr_assert_eq(st.sc, 0);
	cr_assert_not(st.dnr);
	cr_assert_not(st.more);
	cr_assert_eq(st.result, 0x42);
	cr_assert_str_eq(nvmeta_status_name(&st), "Successful Completion");
}

/* DNR (bit 14) and More (bit 13) are flags beside the status, not part
 * of it: the name and the status field stay those of SCT 2, SC 0x81. */
Test(status, dnr_and_more_are_split_off_the_status)
{
	struct nvmeta_status st;

	cr_assert_eq(decode(0x6281, &st), -EIO);
	cr_assert_eq(st.err, 0);
	cr_assert_eq(st.status, 0x281);
	cr_assert_eq(st.sct, 2);
	cr_assert_eq(st.sc, 0x81);
	cr_assert(st.dnr);
	cr_assert(st.more);
	cr_assert_eq(st.result, 0x42);
	cr_assert_str_eq(nvmeta_status_name(&st), "Unrecovered Read Error");
	cr_assert(strstr(nvmeta_last_error(), "0x281 (Unrecovered Read Error), do not retry"),
		  "%s", nvmeta_last_error());

	cr_assert_eq(decode(0x2282, &st), -EIO);
	cr_assert_eq(st.status, 0x282);
	cr_assert_not(st.dnr);
	cr_assert(st.more);
	cr_assert_str_eq(nvmeta_status_name(&st), "End-to-end Guard Check Error");
	cr_assert_null(strstr(nvmeta_last_error(), "do not retry"), "%s", nvmeta_last_error());

	cr_assert_eq(decode(0x4282, &st), -EIO);
	cr_assert(st.dnr);
	cr_assert_not(st.more);
	cr_assert(strstr(nvmeta_last_error(), "Guard Check"), "%s", nvmeta_last_error());

	cr_assert_eq(decode(0x080, &st), -EIO);
	cr_assert_eq(st.sct, 0);
	cr_assert_eq(st.sc, 0x80);
	cr_assert_not(st.dnr);
	cr_assert_str_eq(nvmeta_status_name(&st), "LBA Out of Range");
}

/* A negative res is the kernel's errno: no NVMe status at all. */
Test(status, a_negative_res_is_an_errno)
{
	struct nvmeta_status st;

	cr_assert_eq(decode(-EINVAL, &st), -EINVAL);
	cr_assert_eq(st.err, -EINVAL);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(st.sct, 0);
	cr_assert_eq(st.sc, 0);
	cr_assert_not(st.dnr);
	cr_assert_not(st.more);
	cr_assert(strstr(nvmeta_last_error(), strerror(EINVAL)), "%s", nvmeta_last_error());

	cr_assert_eq(decode(-EAGAIN, &st), -EAGAIN);
	cr_assert_eq(st.err, -EAGAIN);
}

Test(status, names_are_libnvmes_short_names)
{
	cr_assert_str_eq(name_of(0x280), "Write Fault");
	cr_assert_str_eq(name_of(0x281), "Unrecovered Read Error");
	cr_assert_str_eq(name_of(0x282), "End-to-end Guard Check Error");
	cr_assert_str_eq(name_of(0x283), "End-to-end Application Tag Check Error");
	cr_assert_str_eq(name_of(0x284), "End-to-end Reference Tag Check Error");
	cr_assert_str_eq(name_of(0x285), "Compare Failure");
	/* Two the library's own table lacked before it used libnvme. */
	cr_assert_str_eq(name_of(0x287), "Deallocated or Unwritten Logical Block");
	cr_assert_str_eq(name_of(0x288), "End-to-End Storage Tag Check Error");
	cr_assert_str_eq(name_of(0x080), "LBA Out of Range");
	cr_assert_str_eq(name_of(0x002), "Invalid Field in Command");
	cr_assert_str_eq(name_of(0x181), "Invalid Protection Information");
	cr_assert_str_eq(name_of(0x700), "Vendor Specific Status");
}

/* Where libnvme 1.3 has a sentence instead of a name, ours stands in. */
Test(status, own_names_fill_libnvmes_gaps)
{
	cr_assert_str_eq(name_of(0x12c), "Invalid I/O Command Set");
	cr_assert_str_eq(name_of(0x134), "ZoneGroup Originator Invalid");
}

/* libnvme's "unrecognized" (a hole in its tables) and "Unknown status"
 * (SCT 4 to 6) both read "Unknown". */
Test(status, unknown_codes_read_unknown)
{
	cr_assert_str_eq(name_of(0x3ff), "Unknown");
	cr_assert_str_eq(name_of(0x2ff), "Unknown");
	cr_assert_str_eq(name_of(0x0ff), "Unknown");
	cr_assert_str_eq(name_of(0x400), "Unknown");
	cr_assert_str_eq(name_of(0x6aa), "Unknown");
}

/* Every status has a name fit for one line: no libnvme description after
 * a colon, and no sentence. */
Test(status, every_name_is_short)
{
	unsigned int s;
	const char *n;

	for (s = 0; s < 0x800; s++) {
		n = name_of(s);
		cr_assert(n && *n, "status 0x%03x has no name", s);
		cr_assert_null(strchr(n, ':'), "status 0x%03x: '%s'", s, n);
		cr_assert_leq(strlen(n), 64, "status 0x%03x: '%s'", s, n);
	}
}

static void *name_many(void *arg)
{
	const char **out = arg;
	unsigned int s;

	for (s = 0; s < 0x800; s++)
		out[s] = name_of(s);
	return NULL;
}

/* The first calls race in several threads (each Criterion test runs in
 * its own process, so nothing was named before): every thread gets the
 * same string for a status, which stays put. */
Test(status, names_are_stable_across_threads)
{
	static const char *seen[4][0x800];
	pthread_t t[4];
	unsigned int i, s;

	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, name_many, seen[i]), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (s = 0; s < 0x800; s++)
		for (i = 1; i < 4; i++)
			cr_assert_eq(seen[i][s], seen[0][s], "status 0x%03x", s);
	cr_assert_eq(name_of(0x281), seen[0][0x281]);
	cr_assert_str_eq(seen[2][0x281], "Unrecovered Read Error");
}

/*
 * A failed command's message names the device, and where the controller
 * is not live (here: no such controller in sysfs), says so; a multipath
 * head's EINVAL is explained as a head without a usable path.
 */
Test(status, failures_name_the_device_and_a_controller_that_is_gone)
{
	struct nvmeta_dev_info info = { .generic_path = "/dev/ng97n1", .ctrl_name = "nvme97",
					.nsid = 3 };
	struct nvmeta_status st;
	int ret;

	struct nvmeta_io io = { .opcode = NVMETA_OP_READ, .nlb = 1 };

	ret = decode(-ENODEV, &st);
	ret = nvmeta_explain_failure(ret, &st, &info, &io);
	cr_assert_eq(ret, -ENODEV);
	cr_assert(strstr(nvmeta_last_error(), "/dev/ng97n1: command failed in the kernel: No such device"),
		  "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "controller nvme97 is gone"), "%s", nvmeta_last_error());

	/* An NVMe status keeps its own words, with the device before them. */
	ret = decode(0x371, &st);
	ret = nvmeta_explain_failure(ret, &st, &info, &io);
	cr_assert_eq(ret, -EIO);
	cr_assert(strstr(nvmeta_last_error(), "/dev/ng97n1: NVMe status 0x371"), "%s",
		  nvmeta_last_error());

	/* EINVAL: a plain one without multipath, explained on a head. */
	ret = decode(-EINVAL, &st);
	ret = nvmeta_explain_failure(ret, &st, &info, &io);
	cr_assert_eq(ret, -EINVAL);
	cr_assert_null(strstr(nvmeta_last_error(), "multipath"), "%s", nvmeta_last_error());
	memcpy(info.subsys_name, "nvme-subsys7", sizeof("nvme-subsys7"));
	ret = decode(-EINVAL, &st);
	ret = nvmeta_explain_failure(ret, &st, &info, &io);
	cr_assert_eq(ret, -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "namespace 3 is a native multipath head of nvme-subsys7"),
		  "%s", nvmeta_last_error());

	/* EINVAL on a registered buffer before 6.12: the registration's
	 * size is named as the likely cause; from 6.12 it is not. */
	info.subsys_name[0] = '\0';
	info.limits.max_segments = 127;
	info.kernel.major = 6;
	info.kernel.minor = 1;
	io.flags = NVMETA_IO_FIXED_BUF;
	io.buf_index = 2;
	ret = decode(-EINVAL, &st);
	ret = nvmeta_explain_failure(ret, &st, &info, &io);
	cr_assert(strstr(nvmeta_last_error(), "registered buffer 2: Linux 6.1 refuses"), "%s",
		  nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "at most 127 pages"), "%s", nvmeta_last_error());
	info.kernel.minor = 12;
	ret = decode(-EINVAL, &st);
	ret = nvmeta_explain_failure(ret, &st, &info, &io);
	cr_assert_null(strstr(nvmeta_last_error(), "registered buffer"), "%s", nvmeta_last_error());
}
