// SPDX-License-Identifier: MIT
/* In the lab: every field nvmeta reports against the preset it booted. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "guest_env.h"
#include "nvmeta.h"

static struct nvmeta_dev *dev;
static const struct nvmeta_dev_info *info;

static void setup(void)
{
	int ret = nvmeta_dev_open(guest_dev_path(), &dev);

	cr_assert_eq(ret, 0, "open %s: %s", guest_dev_path(), nvmeta_last_error());
	info = nvmeta_dev_info(dev);
}

static void teardown(void)
{
	nvmeta_dev_close(dev);
}

TestSuite(dev, .init = setup, .fini = teardown);

Test(dev, format_matches_preset)
{
	cr_assert_eq(info->lba_size, expect_num("NVMETA_EXPECT_LBA"));
	cr_assert_eq(info->ms, expect_num("NVMETA_EXPECT_MS"));
	cr_assert_eq(info->extended_lba, expect_num("NVMETA_EXPECT_EXT") && info->ms);
	cr_assert_eq(info->nsid, 1);
	cr_assert_gt(info->nsze, 0);
}

/* ctrl_name is a controller, also under native multipath (QEMU 10's
 * controller here), where the nodes belong to the subsystem: the
 * controller is then one of the subsystem's, with a path to the
 * namespace, and subsys_name names the subsystem. */
Test(dev, controller_is_a_controller_and_subsystem_named)
{
	char path[256], link[256];
	unsigned int c, s, h;
	int end = 0;
	ssize_t n;

	cr_assert(sscanf(info->ctrl_name, "nvme%u%n", &c, &end) == 1 && !info->ctrl_name[end],
		  "ctrl_name '%s' is not a controller name (nvmeX)", info->ctrl_name);
	snprintf(path, sizeof(path), "/sys/class/nvme/%s/state", info->ctrl_name);
	cr_assert_eq(access(path, R_OK), 0, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "/sys/class/nvme-generic/%s/device",
		 strrchr(info->generic_path, '/') + 1);
	n = readlink(path, link, sizeof(link) - 1);
	cr_assert_gt(n, 0, "%s: %s", path, strerror(errno));
	link[n] = '\0';
	if (!strstr(link, "nvme-subsys")) {
		cr_assert_str_empty(info->subsys_name);
		cr_assert_str_eq(strrchr(link, '/') + 1, info->ctrl_name);
		return;
	}
	cr_assert_str_eq(strrchr(link, '/') + 1, info->subsys_name);
	cr_assert_eq(sscanf(info->block_name, "nvme%un%u", &s, &h), 2);
	snprintf(path, sizeof(path), "/sys/block/nvme%uc%un%u", s, c, h);
	cr_assert_eq(access(path, F_OK), 0, "%s (the path of %s through %s): %s", path,
		     info->block_name, info->ctrl_name, strerror(errno));
	snprintf(path, sizeof(path), "/sys/class/nvme-subsystem/%s/%s", info->subsys_name,
		 info->ctrl_name);
	cr_assert_eq(access(path, F_OK), 0, "%s: %s", path, strerror(errno));
	cr_log_info("%s: native multipath head of %s, controller %s", info->generic_path,
		    info->subsys_name, info->ctrl_name);
}

Test(dev, protection_information_matches_preset)
{
	static const int guard_of_pif[] = { 16, 32, 64 };
	long pi = expect_num("NVMETA_EXPECT_PI");

	cr_assert_eq(info->pi_type, pi);
	cr_assert_eq(info->guard_bits, guard_of_pif[expect_num("NVMETA_EXPECT_PIF")]);
	if (!pi)
		return;
	cr_assert_eq(info->pi_first, expect_num("NVMETA_EXPECT_PIL"));
	/* The tuple: 8 bytes beside a 16-bit guard, 16 beside a 32- or
	 * 64-bit one (NVM Command Set, 5.3.1). */
	cr_assert_eq(info->pi_size, info->guard_bits == 16 ? 8 : 16, "pi_size %u with a %u-bit guard",
		     info->pi_size, info->guard_bits);
}

Test(dev, controller_sgl_matches_qemu)
{
	cr_assert_eq(info->sgl_metadata, expect_num("NVMETA_EXPECT_MSGL"));
	cr_assert_str_eq(info->model, "QEMU NVMe Ctrl");
	cr_assert_str_eq(info->serial, "deadbeef");
	cr_assert_gt(info->mdts_bytes, 0);
}

Test(dev, kernel_limits_are_consistent)
{
	const struct nvmeta_limits *l = &info->limits;

	cr_assert_eq(l->logical_block_size, info->lba_size);
	cr_assert_eq(l->dma_alignment & (l->dma_alignment + 1), 0,
		     "dma_alignment 0x%x is not a mask", l->dma_alignment);
	cr_assert_leq((uint64_t)l->max_hw_sectors_kb * 1024, info->mdts_bytes);
	cr_assert_geq(l->max_segments, 1);
	/* Extended LBAs carry metadata inside the data: no integrity at all. */
	if (!info->ms || info->extended_lba)
		return;
	if (!info->sgl_metadata)
		cr_assert_eq(l->max_integrity_segments, 1,
			     "without a metadata SGL the driver maps one segment");
	else if (NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 12))
		cr_assert_gt(l->max_integrity_segments, 1);
	else
		cr_assert_geq(l->max_integrity_segments, 1);
}

Test(dev, integrity_profile_matches_pi)
{
	const char *fmt = info->limits.integrity_format;

	if (info->extended_lba || !info->ms)
		cr_assert_str_eq(fmt, "none");
	else if (!info->pi_type)
		cr_assert_str_eq(fmt, "nop");
	else if (info->ms != info->pi_size && !info->pi_first &&
		 !NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 12))
		/* Seen on 6.1: PI is used when it fills the metadata or comes
		 * first in it (512+16-pi1-first: T10-DIF-TYPE1-CRC), not when
		 * it is last in a larger one. */
		cr_assert_str_eq(fmt, "nop");
	else if (info->guard_bits == 64)
		cr_assert_str_eq(fmt, info->pi_type == 3 ? "EXT-DIF-TYPE3-CRC64" :
				 "EXT-DIF-TYPE1-CRC64");
	else
		cr_assert_str_eq(fmt, info->pi_type == 3 ? "T10-DIF-TYPE3-CRC" :
				 "T10-DIF-TYPE1-CRC");
}

Test(dev, kernel_matches_suite)
{
	const char *suite = expect_str("NVMETA_LAB_KERNEL");
	const struct nvmeta_kernel *k = &info->kernel;

	if (!strcmp(suite, "bookworm"))
		cr_assert(k->major == 6 && k->minor == 1, "%s", k->release);
	else if (!strcmp(suite, "trixie"))
		cr_assert(k->major == 6 && k->minor == 12, "%s", k->release);
	else
		cr_assert(NVMETA_KERNEL_AT_LEAST(k, 6, 13), "%s", k->release);
}

Test(dev, block_path_finds_the_same_namespace)
{
	struct nvmeta_dev *other;
	char path[64];

	snprintf(path, sizeof(path), "/dev/%s", info->block_name);
	cr_assert_eq(nvmeta_dev_open(path, &other), 0, "%s", nvmeta_last_error());
	cr_assert_str_eq(nvmeta_dev_info(other)->generic_path, info->generic_path);
	nvmeta_dev_close(other);
}

Test(dev, list_finds_the_namespace)
{
	char **paths;
	int n, i;
	bool found = false;

	n = nvmeta_list(&paths);
	cr_assert_geq(n, 1, "%s", nvmeta_last_error());
	for (i = 0; i < n; i++)
		found |= !strcmp(paths[i], info->generic_path);
	nvmeta_list_free(paths, n);
	cr_assert(found);
}

Test(dev, wrong_devices_are_named)
{
	struct nvmeta_dev *d = NULL;

	cr_assert_eq(nvmeta_dev_open("/dev/null", &d), -ENODEV);
	cr_assert(strstr(nvmeta_last_error(), "not an NVMe namespace"), "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_dev_open("/dev/nvme0", &d), -ENODEV);
	cr_assert(strstr(nvmeta_last_error(), "controller"), "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_dev_open("/dev/ng9n9", &d), -ENOENT);
	cr_assert(strstr(nvmeta_last_error(), "/dev/ng9n9"));
	cr_assert_eq(nvmeta_dev_open("/tmp", &d), -ENODEV);
}
