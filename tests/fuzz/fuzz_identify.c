// SPDX-License-Identifier: MIT
/*
 * Identify Controller, Identify Namespace and the NVM Command Set's
 * Identify Namespace, as a device returns them: nvmeta_parse_identify(),
 * then nvmeta_pi_format_of() on what it accepted.
 *
 * Input: the first CTRL_BYTES of the controller structure, the first
 * NS_BYTES of the namespace one, then the first NVM_BYTES of the NVM one;
 * an input that ends before the NVM part passes none (NULL), as for a
 * controller without extended LBA formats.  Every field the parser reads
 * lies in these prefixes; the rest of each structure is zero.
 */
#include <errno.h>
#include "internal.h"
#include "fuzz.h"

#define CTRL_BYTES 1024
#define NS_BYTES 512
#define NVM_BYTES 512

static bool power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct nvme_id_ctrl *ctrl = calloc(1, sizeof(*ctrl));
	struct nvme_id_ns *ns = calloc(1, sizeof(*ns));
	struct nvme_nvm_id_ns *nvm = NULL;
	struct nvmeta_dev_info info;
	struct nvmeta_pi_format f;
	int ret;

	if (!ctrl || !ns)
		abort();
	fuzz_take(&in, ctrl, CTRL_BYTES);
	fuzz_take(&in, ns, NS_BYTES);
	if (in.left) {
		nvm = calloc(1, sizeof(*nvm));
		if (!nvm)
			abort();
		fuzz_take(&in, nvm, NVM_BYTES);
	}
	memset(&info, 0, sizeof(info));
	ret = nvmeta_parse_identify(ctrl, ns, nvm, &info);
	FUZZ_ASSERT(ret == 0 || ret == -EIO, "ret %d", ret);
	/* The strings are NUL-terminated within their fields. */
	FUZZ_ASSERT(memchr(info.model, 0, sizeof(info.model)), "model");
	FUZZ_ASSERT(memchr(info.serial, 0, sizeof(info.serial)), "serial");
	FUZZ_ASSERT(memchr(info.firmware, 0, sizeof(info.firmware)), "firmware");
	if (ret)
		goto out;
	FUZZ_ASSERT(power_of_two(info.lba_size) && info.lba_size >= 512 &&
		    info.lba_size <= 65536, "lba_size %u", info.lba_size);
	FUZZ_ASSERT(!info.mdts_bytes || power_of_two(info.mdts_bytes), "mdts_bytes %u",
		    info.mdts_bytes);
	FUZZ_ASSERT(info.lbaf <= ns->nlbaf, "lbaf %u nlbaf %u", info.lbaf, ns->nlbaf);
	FUZZ_ASSERT(info.pi_type <= 3, "pi_type %u", info.pi_type);
	FUZZ_ASSERT(!info.pi_type || info.ms >= info.pi_size, "ms %u pi_size %u", info.ms,
		    info.pi_size);
	FUZZ_ASSERT(!info.extended_lba || info.ms, "extended without metadata");
	ret = nvmeta_pi_format_of(&info, &f);
	FUZZ_ASSERT(info.pi_type ? ret == 0 || ret == -EINVAL : ret == -EPROTO,
		    "pi_format_of %d for type %u", ret, info.pi_type);
out:
	free(ctrl);
	free(ns);
	free(nvm);
	return 0;
}
