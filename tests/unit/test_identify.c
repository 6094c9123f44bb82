// SPDX-License-Identifier: MIT
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"

static struct nvme_id_ctrl ctrl;
static struct nvme_id_ns ns;
static struct nvme_nvm_id_ns nvm;
static struct nvmeta_dev_info info;

static void setup(void)
{
	memset(&ctrl, 0, sizeof(ctrl));
	memset(&ns, 0, sizeof(ns));
	memset(&nvm, 0, sizeof(nvm));
	memset(&info, 0, sizeof(info));
	memcpy(ctrl.mn, "QEMU NVMe Ctrl                          ", 40);
	memcpy(ctrl.sn, "deadbeef            ", 20);
	memcpy(ctrl.fr, "7.2.0   ", 8);
	ctrl.mdts = 7;
	ctrl.sgls = htole32(0x00080001);
	ctrl.oncs = htole16(0x15d);
	ns.nsze = htole64(131072);
	ns.nlbaf = 7;
	ns.lbaf[0].ds = 9;
	ns.lbaf[1].ds = 9;
	ns.lbaf[1].ms = htole16(8);
	ns.lbaf[2].ds = 9;
	ns.lbaf[2].ms = htole16(16);
	ns.lbaf[5].ds = 12;
	ns.lbaf[5].ms = htole16(16);
	ns.lbaf[6].ds = 12;
	ns.lbaf[6].ms = htole16(8);
}

TestSuite(identify, .init = setup);

Test(identify, strings_are_trimmed)
{
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_str_eq(info.model, "QEMU NVMe Ctrl");
	cr_assert_str_eq(info.serial, "deadbeef");
	cr_assert_str_eq(info.firmware, "7.2.0");
}

Test(identify, separate_metadata_without_pi)
{
	ns.flbas = 1;
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_eq(info.lba_size, 512);
	cr_assert_eq(info.ms, 8);
	cr_assert_not(info.extended_lba);
	cr_assert_eq(info.pi_type, 0);
	cr_assert_eq(info.guard_bits, 16);
	cr_assert_eq(info.nsze, 131072);
	cr_assert_eq(info.mdts_bytes, 512 * 1024);
}

Test(identify, extended_lba_is_flbas_bit_4)
{
	ns.flbas = 0x10 | 1;
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert(info.extended_lba);
	cr_assert_eq(info.lbaf, 1);
}

Test(identify, extended_bit_without_metadata_is_not_extended)
{
	ns.flbas = 0x10;
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_not(info.extended_lba);
	cr_assert_eq(info.ms, 0);
}

Test(identify, pi_type_and_location_from_dps)
{
	ns.flbas = 2;
	ns.dps = 0x8 | 1;
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_eq(info.pi_type, 1);
	cr_assert(info.pi_first);
	cr_assert_eq(info.pi_size, 8);
}

Test(identify, guard_format_from_elbaf_when_ctratt_says_so)
{
	ns.flbas = 5;
	ns.dps = 1;
	nvm.elbaf[5] = htole32(2 << 7);
	ctrl.ctratt = htole32(NVME_CTRL_CTRATT_ELBAS);
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, &nvm, &info), 0);
	cr_assert_eq(info.lba_size, 4096);
	cr_assert_eq(info.pif, 2);
	cr_assert_eq(info.guard_bits, 64);
	cr_assert_eq(info.pi_size, 16);
}

Test(identify, elbaf_ignored_without_ctratt_elbas)
{
	ns.flbas = 5;
	ns.dps = 1;
	nvm.elbaf[5] = htole32(2 << 7);
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, &nvm, &info), 0);
	cr_assert_eq(info.guard_bits, 16);
}

Test(identify, sgl_bits)
{
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert(info.sgl_supported);
	cr_assert(info.sgl_metadata);
	ctrl.sgls = htole32(1);
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_not(info.sgl_metadata);
}

Test(identify, high_format_index_bits_used_beyond_16_formats)
{
	ns.nlbaf = 20;
	ns.lbaf[17].ds = 12;
	ns.lbaf[17].ms = htole16(64);
	ns.flbas = (1 << 5) | 1;
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_eq(info.lbaf, 17);
	cr_assert_eq(info.ms, 64);
}

Test(identify, bad_structures_are_refused)
{
	ns.flbas = 9;	/* beyond nlbaf */
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), -EIO);
	cr_assert(strstr(nvmeta_last_error(), "NLBAF"));
	ns.flbas = 1;
	ns.dps = 1;
	ns.lbaf[1].ms = htole16(4);	/* PI needs 8 bytes */
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), -EIO);
	ns.dps = 5;
	ns.lbaf[1].ms = htole16(8);
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), -EIO);
}

Test(identify, mdts_zero_means_unlimited)
{
	ctrl.mdts = 0;
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_eq(info.mdts_bytes, 0);
}

/* 4096u << 32 is undefined; UBSan in the test command catches a shift
 * done before the range check. */
Test(identify, mdts_beyond_32_bits_is_no_limit_without_an_undefined_shift)
{
	static const uint8_t big[] = { 20, 31, 32, 33, 63, 255 };
	size_t i;

	for (i = 0; i < sizeof(big); i++) {
		ctrl.mdts = big[i];
		cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
		cr_assert_eq(info.mdts_bytes, 0, "mdts %u", big[i]);
		cr_assert_eq(info.mdts, big[i]);
	}
	ctrl.mdts = 19;
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, NULL, &info), 0);
	cr_assert_eq(info.mdts_bytes, 4096u << 19);
}

Test(identify, storage_tag_size_from_elbaf)
{
	ctrl.ctratt = htole32(NVME_CTRL_CTRATT_ELBAS);
	ns.flbas = 5;
	ns.dps = 1;
	nvm.elbaf[5] = htole32(2 << 7 | 8);	/* 64-bit guard, STS 8 */
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, &nvm, &info), 0);
	cr_assert_eq(info.guard_bits, 64);
	cr_assert_eq(info.sts, 8);
	nvm.elbaf[5] = htole32(2 << 7 | 49);	/* more than the 48-bit space */
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, &nvm, &info), -EIO);
	cr_assert(strstr(nvmeta_last_error(), "storage tag size 49"));
}

/* PIF 11b is not reserved since NVMe 2.1 (TP4141): it is the qualified
 * type, whose format the QPIF field names.  This library does not decode
 * QPIF yet; the refusal says what the controller reported. */
Test(identify, pif_3_is_refused_as_the_qualified_format)
{
	ctrl.ctratt = htole32(NVME_CTRL_CTRATT_ELBAS);
	ns.flbas = 5;
	ns.dps = 1;
	nvm.elbaf[5] = htole32(3 << 7);
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, &nvm, &info), -EIO);
	cr_assert(strstr(nvmeta_last_error(), "format 3"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "qualified protection information format"), "%s",
		  nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "QPIF"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "NVMe 2.1"), "%s", nvmeta_last_error());
}
