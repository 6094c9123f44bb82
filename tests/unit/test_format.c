// SPDX-License-Identifier: MIT
/*
 * nvmeta_dev_check() on this machine's own block devices: no NVMe is
 * needed to see it notice a changed or vanished view, stay quiet on an
 * unchanged one, race safely with itself, and do nothing uncalled.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"

static struct nvmeta_dev dev;
static char data[512];

/* A block device with a capacity: one of 0 reads as out of service. */
static void any_block_device(char *name, size_t len)
{
	struct dirent *de;
	char path[300], val[32];
	DIR *d = opendir("/sys/block");

	name[0] = '\0';
	while (d && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/block/%s/size", de->d_name);
		if (de->d_name[0] != '.' && strlen(de->d_name) < len &&
		    !nvmeta_sysfs_read(path, val, sizeof(val)) && strcmp(val, "0")) {
			strcpy(name, de->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
	if (!name[0])
		cr_skip_test("no block device with a capacity in /sys/block");
}

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.fd = -1;
	strcpy(dev.info.generic_path, "/dev/ng9n1");
	dev.info.nsid = 1;
	dev.info.nsze = 1000;
	dev.info.lba_size = 512;
	dev.info.guard_bits = 16;
	memset(dev.attr_fds, -1, sizeof(dev.attr_fds));
	any_block_device(dev.info.block_name, sizeof(dev.info.block_name));
}

static void teardown(void)
{
	nvmeta_format_close(&dev);
}

TestSuite(format, .init = setup, .fini = teardown);

static int prep(void)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .nlb = 1, .data = data, .data_len = sizeof(data),
	};

	return nvmeta_prep(&dev, sqe, &io);
}

Test(format, an_unchanged_view_stays_fresh)
{
	cr_assert_eq(nvmeta_fingerprint_read("/sys", dev.info.block_name, &dev.seen), 0);
	cr_assert(strstr(dev.seen.text, "size="), "%s", dev.seen.text);
	nvmeta_format_open(&dev);
	cr_assert_geq(dev.attr_fds[0], 0, "size opened once, at open");
	cr_assert_eq(nvmeta_dev_check(&dev), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_dev_check(&dev), 0, "%s", nvmeta_last_error());
	cr_assert_eq(prep(), 0, "%s", nvmeta_last_error());
}

/* No thread looks behind the caller: a changed view goes unseen until the
 * call, then stops every command. */
Test(format, a_changed_view_stops_every_command_once_checked)
{
	strcpy(dev.seen.text, "size=1 logical_block_size=512 metadata_bytes=8");
	nvmeta_format_open(&dev);
	usleep(50 * 1000);
	cr_assert_eq(prep(), 0, "nothing is noticed before nvmeta_dev_check()");
	cr_assert_eq(nvmeta_dev_check(&dev), -ESTALE);
	cr_assert(strstr(nvmeta_last_error(), "format changed"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "was size=1 "), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "nvmeta_dev_refresh"));
	cr_assert_eq(prep(), -ESTALE, "every command after it");
	cr_assert(strstr(nvmeta_last_error(), "was size=1 "), "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_dev_check(&dev), -ESTALE, "stays stale");
}

/* Descriptors that could not be opened (EMFILE at open) fall back to
 * reading by path: the same verdicts. */
Test(format, without_descriptors_it_reads_by_path)
{
	cr_assert_eq(nvmeta_fingerprint_read("/sys", dev.info.block_name, &dev.seen), 0);
	cr_assert_eq(nvmeta_dev_check(&dev), 0, "%s", nvmeta_last_error());
	strcpy(dev.seen.text, "size=1");
	cr_assert_eq(nvmeta_dev_check(&dev), -ESTALE);
}

Test(format, a_vanished_namespace_stops_every_command)
{
	strcpy(dev.info.block_name, "nvme97n3");
	nvmeta_format_open(&dev);
	cr_assert_eq(nvmeta_dev_check(&dev), -ESTALE);
	cr_assert(strstr(nvmeta_last_error(), "nvme97n3 is gone"), "%s", nvmeta_last_error());
	cr_assert_eq(prep(), -ESTALE);
}

/* A namespace being removed shows capacity 0 before it leaves sysfs:
 * said as such, not as a format change.  Any block device of capacity 0
 * (an unbound loop device) stands in for it. */
Test(format, capacity_zero_is_said_as_out_of_service)
{
	struct dirent *de;
	char path[300], val[32];
	DIR *d = opendir("/sys/block");

	dev.info.block_name[0] = '\0';
	while (d && (de = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/block/%s/size", de->d_name);
		if (de->d_name[0] != '.' && strlen(de->d_name) < sizeof(dev.info.block_name) &&
		    !nvmeta_sysfs_read(path, val, sizeof(val)) && !strcmp(val, "0")) {
			strcpy(dev.info.block_name, de->d_name);
			break;
		}
	}
	if (d)
		closedir(d);
	if (!dev.info.block_name[0])
		cr_skip_test("no block device of capacity 0 in /sys/block");
	strcpy(dev.seen.text, "size=1000 logical_block_size=512 metadata_bytes=8");
	nvmeta_format_open(&dev);
	cr_assert_eq(nvmeta_dev_check(&dev), -ESTALE);
	cr_assert_eq(prep(), -ESTALE);
	cr_assert(strstr(nvmeta_last_error(), "has capacity 0 now"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "was size=1000 "), "%s", nvmeta_last_error());
}

/* Checks on several threads while others prepare: one of them writes the
 * message, and no reader sees it half written. */
static void *check_and_prep(void *arg)
{
	int i, bad = 0;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		if (nvmeta_dev_check(&dev) != -ESTALE || !strstr(nvmeta_last_error(), "was size=7 "))
			bad++;
		if (prep() != -ESTALE || !strstr(nvmeta_last_error(), "was size=7 "))
			bad++;
	}
	return (void *)(intptr_t)bad;
}

Test(format, checks_on_four_threads_agree)
{
	pthread_t t[4];
	void *bad;
	int i;

	strcpy(dev.seen.text, "size=7 logical_block_size=512");
	nvmeta_format_open(&dev);
	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, check_and_prep, NULL), 0);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(t[i], &bad), 0);
		cr_assert_eq((intptr_t)bad, 0, "thread %d saw %ld wrong answers", i, (long)(intptr_t)bad);
	}
}

/* A thread count that stays: the library starts none. */
static unsigned int tasks(void)
{
	unsigned int n = 0;
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

Test(format, no_thread_is_started)
{
	unsigned int before = tasks();

	nvmeta_format_open(&dev);
	cr_assert_eq(nvmeta_dev_check(&dev), -ESTALE);	/* seen is empty */
	cr_assert_eq(tasks(), before);
}
