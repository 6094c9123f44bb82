// SPDX-License-Identifier: MIT
/*
 * IOSQE_ASYNC on kernels that read a passthrough SQE again after
 * submission (quirks.c): the probe's verdicts, its failures (the ring is
 * closed, nothing left behind), and the flag on every SQE the library
 * fills, queued and sync, plain and checked, on /dev/null.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "fake_info.h"

static struct nvmeta_dev dev;
static char data[4096] __attribute__((aligned(4096)));

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cr_assert_geq(dev.fd, 0);
	fake_info_6_12(&dev.info);
	strcpy(dev.info.generic_path, "/dev/null");
	dev.info.nsid = 1;
	dev.info.nsze = 1000;
	dev.info.lba_size = 512;
	dev.info.guard_bits = 16;
}

static void teardown(void)
{
	close(dev.fd);
}

TestSuite(sqe_async, .init = setup, .fini = teardown);

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct verdict {
	int setup_err, res;
	bool async;
	uint32_t bits;
	const char *says;
};

Test(sqe_async, the_probes_outcome_decides_the_flag)
{
	static const struct verdict v[] = {
		{ 0, 0, false, 0, "copied" },
		{ 0, -EINVAL, true, NVMETA_QUIRK_SQE_ASYNC, "read a linked passthrough SQE again" },
		{ -EINVAL, 0, false, 0, "no DEFER_TASKRUN" },
		{ -EPERM, 0, false, 0, "no DEFER_TASKRUN" },
		{ -ENOMEM, 0, true, NVMETA_QUIRK_SQE_ASYNC | NVMETA_QUIRK_SQE_UNSURE, "ring set-up" },
		{ 0, -ETIME, true, NVMETA_QUIRK_SQE_ASYNC | NVMETA_QUIRK_SQE_UNSURE, "Flush" },
		{ 0, -EACCES, true, NVMETA_QUIRK_SQE_ASYNC | NVMETA_QUIRK_SQE_UNSURE, "Flush" },
		{ 0, 0x4002, true, NVMETA_QUIRK_SQE_ASYNC | NVMETA_QUIRK_SQE_UNSURE, "NVMe status 0x4002" },
	};
	char why[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		/* Bits of a former verdict go, others stay. */
		uint32_t q = NVMETA_QUIRK_SQE_ASYNC | NVMETA_QUIRK_SQE_UNSURE | 1u << 31;
		bool async = nvmeta_sqe_probe_judge(v[i].setup_err, v[i].res, &q, why, sizeof(why));

		cr_assert_eq(async, v[i].async, "%zu: %s", i, why);
		cr_assert_eq(q, v[i].bits | 1u << 31, "%zu: quirks 0x%x", i, q);
		cr_assert(strstr(why, v[i].says), "%zu: '%s'", i, why);
	}
}

/* A Flush the kernel refuses (here: no descriptor, EBADF; /dev/null
 * answers 0 on some kernels): the probe cannot tell,
 * the flag goes on, and the probe's ring is gone. */
Test(sqe_async, a_probe_that_cannot_tell_sets_the_flag_and_leaves_nothing, .timeout = 30)
{
	int before, fd = dev.fd;

	dev.fd = -1;
	before = open_fds();
	nvmeta_quirks_decide(&dev);
	dev.fd = fd;
	cr_assert(strstr(dev.sqe_async_why, "Bad file descriptor"), "%s", dev.sqe_async_why);
	cr_assert(dev.sqe_async, "%s", dev.sqe_async_why);
	cr_assert_eq(dev.info.kernel.quirks, NVMETA_QUIRK_SQE_ASYNC | NVMETA_QUIRK_SQE_UNSURE);
	cr_assert(strstr(dev.sqe_async_why, "could not tell"), "%s", dev.sqe_async_why);
	cr_assert_eq(open_fds(), before, "the probe left a descriptor open");
}

/* A ring that cannot be set up for want of descriptors: no verdict
 * either way, the flag goes on (only EINVAL, a kernel without
 * DEFER_TASKRUN, clears it). */
Test(sqe_async, a_ring_that_cannot_be_set_up_is_no_verdict, .timeout = 30)
{
	struct rlimit old, low;
	int before = open_fds(), lowest = dup(0);

	/* No descriptor below the lowest free one is free. */
	cr_assert_geq(lowest, 0);
	close(lowest);
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	nvmeta_quirks_decide(&dev);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	cr_assert(dev.sqe_async, "%s", dev.sqe_async_why);
	cr_assert(strstr(dev.sqe_async_why, "ring set-up"), "%s", dev.sqe_async_why);
	cr_assert_eq(open_fds(), before);
}

static struct io_uring_sqe *last_sqe(struct io_uring *ring)
{
	unsigned int shift = ring->flags & IORING_SETUP_SQE128 ? 1 : 0;

	return &ring->sq.sqes[((ring->sq.sqe_tail - 1) & ring->sq.ring_mask) << shift];
}

static struct nvmeta_io read_one(uint32_t flags)
{
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .nlb = 1, .data = data, .data_len = 512,
		.flags = flags,
	};
	return io;
}

/* Plain commands (the template) and checked ones (the encoder): a read
 * on a kernel that populates reads' metadata is not plain. */
static void decide(bool async, bool checked)
{
	dev.sqe_async = async;
	dev.populate_reads = checked;
	dev.info.ms = checked ? 8 : 0;
	nvmeta_fast_decide(&dev);
}

static void expect_queued(bool async, bool checked)
{
	static char meta[8];
	struct nvmeta_io io = read_one(0), fixed = read_one(NVMETA_IO_FIXED_FILE);
	struct io_uring ring;
	uint8_t want = async ? IOSQE_ASYNC : 0;

	decide(async, checked);
	if (checked) {
		io.meta = fixed.meta = meta;
		io.meta_len = fixed.meta_len = sizeof(meta);
	}
	cr_assert_eq(nvmeta_io_goes_plain(&dev, &io), !checked);
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, 1), 0, "%s", nvmeta_last_error());
	cr_assert_eq(last_sqe(&ring)->flags, want, "async %d checked %d: flags 0x%x", async,
		     checked, last_sqe(&ring)->flags);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &fixed, 2), 0, "%s", nvmeta_last_error());
	cr_assert_eq(last_sqe(&ring)->flags, want | IOSQE_FIXED_FILE,
		     "async %d checked %d, fixed file: flags 0x%x", async, checked,
		     last_sqe(&ring)->flags);
	nvmeta_ring_exit(&ring);
}

Test(sqe_async, queued_commands_carry_the_flag_when_the_kernel_needs_it)
{
	expect_queued(true, false);
	expect_queued(true, true);
	expect_queued(false, false);
	expect_queued(false, true);
}

/* The SQE stays in the ring's memory after the call: what went out. */
static void expect_sync(bool async, bool checked)
{
	static char meta[8];
	struct nvmeta_io io = read_one(0);
	struct nvmeta_status st;
	struct io_uring ring;

	decide(async, checked);
	if (checked) {
		io.meta = meta;
		io.meta_len = sizeof(meta);
	}
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	/* /dev/null answers EOPNOTSUPP (or 0): either is fine here. */
	nvmeta_io_sync(&dev, &ring, &io, &st);
	cr_assert_eq(last_sqe(&ring)->opcode, IORING_OP_URING_CMD);
	cr_assert_eq(last_sqe(&ring)->flags, async ? IOSQE_ASYNC : 0,
		     "async %d checked %d: flags 0x%x", async, checked, last_sqe(&ring)->flags);
	nvmeta_ring_exit(&ring);
}

Test(sqe_async, sync_commands_carry_the_flag_when_the_kernel_needs_it)
{
	expect_sync(true, false);
	expect_sync(true, true);
	expect_sync(false, false);
	expect_sync(false, true);
}

/* A refresh reads the kernel anew; the probe's bits stay. */
Test(sqe_async, the_quirk_bits_are_in_the_info_callers_read)
{
	struct nvmeta_kernel k;

	cr_assert_eq(nvmeta_kernel_read(&k), 0);
	cr_assert_eq(k.quirks, 0, "no device, no probe");
	cr_assert_eq(sizeof(k), offsetof(struct nvmeta_kernel, resv) + sizeof(k.resv));
	cr_assert_eq(offsetof(struct nvmeta_kernel, quirks) + 4 * sizeof(uint32_t), sizeof(k));
}
