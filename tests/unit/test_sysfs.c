// SPDX-License-Identifier: MIT
/* Queue limits from a fake sysfs tree in a temporary directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"

static char root[64];

static void put(const char *rel, const char *val)
{
	char path[256], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	cr_assert_not_null(f, "cannot create %s", path);
	fprintf(f, "%s\n", val);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	cr_assert_eq(symlink(target, path), 0);
}

static void fake_queue(const char *dev)
{
	static const char *const attrs[][2] = {
		{ "max_integrity_segments", "1" }, { "dma_alignment", "3" },
		{ "max_segments", "128" }, { "max_segment_size", "4294967295" },
		{ "max_hw_sectors_kb", "512" }, { "virt_boundary_mask", "4095" },
		{ "logical_block_size", "512" },
	};
	char rel[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(rel, sizeof(rel), "block/%s/queue/%s", dev, attrs[i][0]);
		put(rel, attrs[i][1]);
	}
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/nvmeta-sysfs-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(sysfs, .init = setup, .fini = teardown);

Test(sysfs, reads_every_limit)
{
	struct nvmeta_limits lim;

	fake_queue("nvme0n1");
	put("block/nvme0n1/integrity/format", "T10-DIF-TYPE1-CRC");
	put("block/nvme0n1/integrity/tag_size", "2");
	put("block/nvme0n1/integrity/protection_interval_bytes", "512");
	cr_assert_eq(nvmeta_read_limits(root, "nvme0n1", &lim), 0);
	cr_assert_eq(lim.max_integrity_segments, 1);
	cr_assert_eq(lim.dma_alignment, 3);
	cr_assert_eq(lim.max_segments, 128);
	cr_assert_eq(lim.max_segment_size, 4294967295u);
	cr_assert_eq(lim.max_hw_sectors_kb, 512);
	cr_assert_eq(lim.virt_boundary_mask, 4095);
	cr_assert_eq(lim.logical_block_size, 512);
	cr_assert_str_eq(lim.integrity_format, "T10-DIF-TYPE1-CRC");
	cr_assert_eq(lim.integrity_tag_size, 2);
	cr_assert_eq(lim.integrity_interval, 512);
}

Test(sysfs, integrity_absent_reads_as_none)
{
	struct nvmeta_limits lim;

	fake_queue("nvme0n1");
	cr_assert_eq(nvmeta_read_limits(root, "nvme0n1", &lim), 0);
	cr_assert_str_eq(lim.integrity_format, "none");
}

Test(sysfs, missing_required_attribute_is_named)
{
	struct nvmeta_limits lim;
	char path[256];

	fake_queue("nvme0n1");
	snprintf(path, sizeof(path), "%s/block/nvme0n1/queue/dma_alignment", root);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(nvmeta_read_limits(root, "nvme0n1", &lim), -ENOENT);
	cr_assert(strstr(nvmeta_last_error(), "queue/dma_alignment"), "%s", nvmeta_last_error());
}

Test(sysfs, optional_attribute_may_be_missing)
{
	struct nvmeta_limits lim;
	char path[256];

	fake_queue("nvme0n1");
	snprintf(path, sizeof(path), "%s/block/nvme0n1/queue/virt_boundary_mask", root);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(nvmeta_read_limits(root, "nvme0n1", &lim), 0);
	cr_assert_eq(lim.virt_boundary_mask, 0);
}

Test(sysfs, garbage_value_is_refused)
{
	struct nvmeta_limits lim;

	fake_queue("nvme0n1");
	put("block/nvme0n1/queue/max_segments", "many");
	cr_assert_eq(nvmeta_read_limits(root, "nvme0n1", &lim), -EINVAL);
	put("block/nvme0n1/queue/max_segments", "8589934592");
	cr_assert_eq(nvmeta_read_limits(root, "nvme0n1", &lim), -ERANGE);
}

Test(sysfs, missing_device_is_named)
{
	struct nvmeta_limits lim;

	cr_assert_eq(nvmeta_read_limits(root, "nvme9n9", &lim), -ENOENT);
	cr_assert(strstr(nvmeta_last_error(), "nvme9n9"));
}

Test(sysfs, finds_block_device_by_controller_and_nsid)
{
	char name[32];

	put("block/nvme0n1/nsid", "1");
	put("block/nvme0n2/nsid", "2");
	put("block/nvme1n1/nsid", "1");
	put("block/sda/size", "0");
	put("ctrl/nvme0/x", "");
	put("ctrl/nvme1/x", "");
	link_to("block/nvme0n1/device", "../../ctrl/nvme0");
	link_to("block/nvme0n2/device", "../../ctrl/nvme0");
	link_to("block/nvme1n1/device", "../../ctrl/nvme1");
	cr_assert_eq(nvmeta_find_block(root, "nvme0", 2, name, sizeof(name)), 0);
	cr_assert_str_eq(name, "nvme0n2");
	cr_assert_eq(nvmeta_find_block(root, "nvme1", 1, name, sizeof(name)), 0);
	cr_assert_str_eq(name, "nvme1n1");
	cr_assert_eq(nvmeta_find_block(root, "nvme1", 2, name, sizeof(name)), -ENOENT);
}

/* The fingerprint at open and the watcher's reads trim alike: a value
 * with blanks before its newline once looked like a format change. */
Test(sysfs, values_are_trimmed_of_newlines_and_blanks_alike)
{
	char a[] = "T10-DIF-TYPE1-CRC \n", b[] = "T10-DIF-TYPE1-CRC\n", c[] = "\n";

	cr_assert_eq(nvmeta_sysfs_trim(a, strlen(a)), 17);
	cr_assert_eq(nvmeta_sysfs_trim(b, strlen(b)), 17);
	cr_assert_str_eq(a, b);
	cr_assert_eq(nvmeta_sysfs_trim(c, 1), 0);
	cr_assert_str_eq(c, "");
}
