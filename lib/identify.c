// SPDX-License-Identifier: MIT
/*
 * Turn raw identify structures into struct nvmeta_dev_info.  Kept apart
 * from the ioctls so the unit tests can feed captured structures.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include "internal.h"

/* Identify strings are space padded, not NUL terminated. */
static void copy_trimmed(char *dst, const char *src, size_t n)
{
	while (n && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static uint8_t format_index(const struct nvme_id_ns *ns)
{
	uint8_t idx = ns->flbas & NVME_NS_FLBAS_LOWER_MASK;

	/* Bits 6:5 extend the index only when more than 16 formats exist. */
	if (ns->nlbaf >= 16)
		idx |= (ns->flbas & NVME_NS_FLBAS_HIGHER_MASK) >> 1;
	return idx;
}

/* PIF 3: name the qualified format the controller reports, and refuse it. */
static int refuse_qpif(const struct nvme_nvm_id_ns *nvm, uint32_t elbaf,
		       const struct nvmeta_dev_info *info)
{
	static const char *const guards[] = { "16-bit guard", "32-bit guard", "64-bit guard" };
	unsigned int qpif = (elbaf >> 9) & 0xf;
	bool qpifs = nvm && (nvm->pic & 0x8);

	if (!qpifs)
		return nvmeta_fail(-EIO, "identify: format %u has protection information format 3, the qualified protection information format of NVMe 2.1 (QPIF), but the controller does not report qualified PI formats (PIC 0x%x, bit 3 QPIFS clear): the format is not valid",
				   info->lbaf, nvm ? nvm->pic : 0);
	return nvmeta_fail(-EIO, "identify: format %u uses NVMe 2.1's qualified protection information format (PIF 3, QPIF %u: %s; PIC 0x%x): this library does not take qualified PI formats (their storage tag masking, PIFA and LBSTM, is not applied here)",
			   info->lbaf, qpif, qpif < 3 ? guards[qpif] : "a reserved value",
			   nvm->pic);
}

static int parse_pi(const struct nvme_id_ns *ns, const struct nvme_nvm_id_ns *nvm,
		    struct nvmeta_dev_info *info)
{
	uint32_t elbaf = nvm ? le32toh(nvm->elbaf[info->lbaf]) : 0;

	info->pi_type = ns->dps & 0x7;
	info->pi_first = ns->dps & 0x8;
	info->pif = (elbaf & NVME_NVM_ELBAF_PIF_MASK) >> 7;
	info->sts = elbaf & NVME_NVM_ELBAF_STS_MASK;
	switch (info->pif) {
	case 0:
		info->guard_bits = 16;
		info->pi_size = 8;
		break;
	case 1:
		info->guard_bits = 32;
		info->pi_size = 16;
		break;
	case 2:
		info->guard_bits = 64;
		info->pi_size = 16;
		break;
	default:
		/* 11b was reserved before NVMe 2.1 (TP4141): the format is
		 * then the extended LBA format's QPIF field (bits 12:9),
		 * valid where PIC bit 3 (QPIFS) is set, with storage tag
		 * masking rules (PIFA, LBSTM) this library does not apply. */
		return refuse_qpif(nvm, elbaf, info);
	}
	if (info->sts > nvmeta_tag_field_bits(info))
		return nvmeta_fail(-EIO, "identify: storage tag size %u is not valid with a %u-bit guard",
				   info->sts, info->guard_bits);
	if (info->pi_type > 3)
		return nvmeta_fail(-EIO, "identify: reserved PI type %u", info->pi_type);
	if (info->pi_type && info->ms < info->pi_size)
		return nvmeta_fail(-EIO, "identify: PI type %u needs %u metadata bytes, format has %u",
				   info->pi_type, info->pi_size, info->ms);
	return 0;
}

int nvmeta_parse_identify(const struct nvme_id_ctrl *ctrl, const struct nvme_id_ns *ns,
			  const struct nvme_nvm_id_ns *nvm, struct nvmeta_dev_info *info)
{
	const struct nvme_lbaf *lbaf;

	copy_trimmed(info->model, ctrl->mn, sizeof(ctrl->mn));
	copy_trimmed(info->serial, ctrl->sn, sizeof(ctrl->sn));
	copy_trimmed(info->firmware, ctrl->fr, sizeof(ctrl->fr));
	info->mdts = ctrl->mdts;
	/* MPSMIN lives in CAP, which userspace cannot read; 4 KiB is what
	 * nearly every controller (and QEMU) reports.  Above 2^19 pages the
	 * limit does not fit 32 bits and is beyond anything the kernel sends
	 * (max_hw_sectors caps it): treat it as no limit.  Range first, then
	 * shift: 4096 << 20 and up is undefined for a 32-bit value. */
	info->mdts_bytes = 0;
	if (ctrl->mdts && ctrl->mdts <= 19)
		info->mdts_bytes = 4096u << ctrl->mdts;
	info->oncs = le16toh(ctrl->oncs);
	info->ctratt = le32toh(ctrl->ctratt);
	info->sgls = le32toh(ctrl->sgls);
	info->sgl_supported = info->sgls & NVME_CTRL_SGLS_SUPPORTED;
	info->sgl_metadata = info->sgls & NVME_CTRL_SGLS_MPTR_SGL;

	info->nsze = le64toh(ns->nsze);
	info->lbaf = format_index(ns);
	if (info->lbaf > ns->nlbaf)
		return nvmeta_fail(-EIO, "identify: format index %u beyond NLBAF %u",
				   info->lbaf, ns->nlbaf);
	lbaf = &ns->lbaf[info->lbaf];
	if (lbaf->ds < 9 || lbaf->ds > 16)
		return nvmeta_fail(-EIO, "identify: unsupported LBA data size 2^%u", lbaf->ds);
	info->lba_size = 1u << lbaf->ds;
	info->ms = le16toh(lbaf->ms);
	info->extended_lba = info->ms && (ns->flbas & NVME_NS_FLBAS_META_EXT);
	info->dlfeat = ns->dlfeat;
	info->msrc = ns->msrc;
	info->mssrl = le16toh(ns->mssrl);
	info->mcl = le32toh(ns->mcl);
	info->ocfs = le16toh(ctrl->ocfs);
	if (!(info->ctratt & NVME_CTRL_CTRATT_ELBAS))
		nvm = NULL;
	return parse_pi(ns, nvm, info);
}

void nvmeta_parse_identify_nvm_ctrl(const struct nvme_id_ctrl_nvm *nvm,
				    struct nvmeta_dev_info *info)
{
	info->vsl = nvm ? nvm->vsl : 0;
	info->wzsl = nvm ? nvm->wzsl : 0;
	info->wusl = nvm ? nvm->wusl : 0;
	info->dmrl = nvm ? nvm->dmrl : 0;
	info->dmrsl = nvm ? le32toh(nvm->dmrsl) : 0;
	info->dmsl = nvm ? le64toh(nvm->dmsl) : 0;
}

unsigned int nvmeta_tag_field_bits(const struct nvmeta_dev_info *info)
{
	return nvmeta_pi_tag_space(info->guard_bits);
}
