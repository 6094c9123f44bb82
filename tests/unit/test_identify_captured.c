// SPDX-License-Identifier: MIT
/*
 * Identify parsing on structures captured from the lab's QEMU controllers
 * (tests/guest/dump_identify, one file per controller and preset).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include "internal.h"

struct captured {
	char file[48];	/* inline: Criterion hands parameters to a new process */
	uint32_t lba, ms;
	bool ext;
	uint8_t pi, guard;
	bool sgl_meta;
};

static int load(const char *file, struct nvme_id_ctrl *ctrl, struct nvme_id_ns *ns,
		struct nvme_nvm_id_ns *nvm)
{
	char path[512], name[8], hex[65];
	unsigned int off, i, byte;
	unsigned char *dst;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", NVMETA_TEST_DATA, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	memset(ctrl, 0, sizeof(*ctrl));
	memset(ns, 0, sizeof(*ns));
	memset(nvm, 0, sizeof(*nvm));
	while (fscanf(f, "%7s %x %64s", name, &off, hex) == 3) {
		dst = !strcmp(name, "ctrl") ? (unsigned char *)ctrl :
		      !strcmp(name, "ns") ? (unsigned char *)ns : (unsigned char *)nvm;
		for (i = 0; i < 32 && off + i < 4096; i++) {
			sscanf(hex + 2 * i, "%2x", &byte);
			dst[off + i] = byte;
		}
	}
	fclose(f);
	return 0;
}

ParameterizedTestParameters(captured, parses_like_the_preset)
{
	static struct captured files[] = {
		{ "identify-qemu7.2-512+8.txt", 512, 8, false, 0, 16, false },
		{ "identify-qemu7.2-4096+16-pi1-g64.txt", 4096, 16, false, 1, 64, false },
		{ "identify-qemu10-512+16-pi1.txt", 512, 16, false, 1, 16, true },
		{ "identify-qemu7.2-512+8-ext.txt", 512, 8, true, 0, 16, false },
		{ "identify-qemu7.2-4096+8-pi2.txt", 4096, 8, false, 2, 16, false },
	};

	return cr_make_param_array(struct captured, files, sizeof(files) / sizeof(files[0]));
}

ParameterizedTest(struct captured *c, captured, parses_like_the_preset)
{
	static struct nvme_nvm_id_ns nvm;
	static struct nvme_id_ctrl ctrl;
	static struct nvme_id_ns ns;
	static struct nvmeta_dev_info info;

	cr_assert_eq(load(c->file, &ctrl, &ns, &nvm), 0, "cannot read %s", c->file);
	cr_assert_eq(nvmeta_parse_identify(&ctrl, &ns, &nvm, &info), 0, "%s: %s", c->file,
		     nvmeta_last_error());
	cr_assert_str_eq(info.model, "QEMU NVMe Ctrl");
	cr_assert_str_eq(info.serial, "deadbeef");
	cr_assert_eq(info.lba_size, c->lba, "%s", c->file);
	cr_assert_eq(info.ms, c->ms, "%s", c->file);
	cr_assert_eq(info.extended_lba, c->ext, "%s", c->file);
	cr_assert_eq(info.pi_type, c->pi, "%s", c->file);
	cr_assert_eq(info.guard_bits, c->guard, "%s", c->file);
	cr_assert_eq(info.sgl_metadata, c->sgl_meta, "%s", c->file);
	cr_assert(info.sgl_supported);
	cr_assert_eq(info.mdts_bytes, 512 * 1024, "%s", c->file);
	cr_assert_gt(info.nsze, 0);
}
