// SPDX-License-Identifier: MIT
/*
 * The format watcher on this machine's own block devices: no NVMe is
 * needed to see it notice a changed or vanished view, stay quiet on an
 * unchanged one, and survive a fork.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
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
	any_block_device(dev.info.block_name, sizeof(dev.info.block_name));
}

static void teardown(void)
{
	nvmeta_watch_stop(&dev);
}

TestSuite(watch, .init = setup, .fini = teardown);

static int prep(void)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .nlb = 1, .data = data, .data_len = sizeof(data),
	};

	return nvmeta_prep(&dev, sqe, &io);
}

/* Poll the submission path for up to @ms milliseconds. */
static int prep_within(int ms)
{
	struct timespec step = { 0, 1000 * 1000 };
	int i, ret = 0;

	for (i = 0; i < ms; i++) {
		ret = prep();
		if (ret)
			break;
		nanosleep(&step, NULL);
	}
	return ret;
}

Test(watch, an_unchanged_view_stays_fresh)
{
	cr_assert_eq(nvmeta_fingerprint_read("/sys", dev.info.block_name, &dev.seen), 0);
	cr_assert(strstr(dev.seen.text, "size="), "%s", dev.seen.text);
	cr_assert_eq(nvmeta_watch_start(&dev, 5), 0, "%s", nvmeta_last_error());
	cr_assert_eq(prep_within(200), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_watch_check(&dev), 0);
}

Test(watch, a_changed_view_stops_every_command)
{
	strcpy(dev.seen.text, "size=1 logical_block_size=512 metadata_bytes=8");
	cr_assert_eq(nvmeta_watch_start(&dev, 5), 0);
	cr_assert_eq(prep_within(2000), -ESTALE, "not noticed");
	cr_assert(strstr(nvmeta_last_error(), "format changed"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "was size=1 "), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "nvmeta_dev_refresh"));
	cr_assert_eq(prep(), -ESTALE, "stays stale");
}

Test(watch, a_vanished_namespace_stops_every_command)
{
	strcpy(dev.info.block_name, "nvme97n3");
	cr_assert_eq(nvmeta_watch_start(&dev, 5), 0);
	cr_assert_eq(prep_within(2000), -ESTALE);
	cr_assert(strstr(nvmeta_last_error(), "nvme97n3 is gone"), "%s", nvmeta_last_error());
}

/* A namespace being removed shows capacity 0 before it leaves sysfs:
 * said as such, not as a format change.  Any block device of capacity 0
 * (an unbound loop device) stands in for it. */
Test(watch, capacity_zero_is_said_as_out_of_service)
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
	cr_assert_eq(nvmeta_watch_check(&dev), 1);
	cr_assert_eq(prep(), -ESTALE);
	cr_assert(strstr(nvmeta_last_error(), "has capacity 0 now"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "was size=1000 "), "%s", nvmeta_last_error());
}

/* The eventfd that stops the thread is shared with a forked child: had
 * the child's close written it, the parent's watcher would have quit. */
Test(watch, a_forked_child_leaves_the_parents_watcher_alone)
{
	int status;
	pid_t pid;

	strcpy(dev.seen.text, "size=1");
	cr_assert_eq(nvmeta_watch_start(&dev, 300), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		nvmeta_watch_stop(&dev);
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && !WEXITSTATUS(status));
	cr_assert_eq(prep_within(3000), -ESTALE, "the parent's watcher stopped with the child");
}

Test(watch, intervals_beyond_a_minute_are_refused)
{
	cr_assert_eq(nvmeta_dev_watch(&dev, 60001), -EINVAL);
	cr_assert_eq(nvmeta_dev_watch(&dev, 0), 0);
	cr_assert_null(dev.watch);
}
