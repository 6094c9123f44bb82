// SPDX-License-Identifier: MIT
/*
 * Encoding NVMe I/O commands into 128-byte SQEs, and decoding the
 * 32-byte CQEs that come back.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

static bool transfers_data(uint8_t opcode)
{
	return opcode == NVMETA_OP_READ || opcode == NVMETA_OP_WRITE ||
	       opcode == NVMETA_OP_COMPARE;
}

unsigned int nvmeta_tag_field_bits(const struct nvmeta_dev_info *info)
{
	/* The storage and reference tag space of the PI format: CDW14 alone
	 * (16-bit guard), plus CDW3 bits 15:0 (64-bit guard), plus all of
	 * CDW3 and CDW2 bits 15:0 (32-bit guard). */
	switch (info->guard_bits) {
	case 32:
		return 80;
	case 64:
		return 48;
	default:
		return 32;
	}
}

static void encode_tags(const struct nvmeta_dev_info *info, const struct nvmeta_io *io,
			struct nvme_uring_cmd *cmd)
{
	unsigned int width = nvmeta_tag_field_bits(info);
	unsigned __int128 field;

	/* The storage tag takes the top STS bits of the space, the
	 * reference tag the rest (checked to fit before we get here). */
	field = (unsigned __int128)io->storage_tag << (width - info->sts) | io->reftag;
	cmd->cdw14 = (uint32_t)field;
	if (width == 48)
		cmd->cdw3 = (uint32_t)(field >> 32) & 0xffff;
	if (width == 80) {
		cmd->cdw3 = (uint32_t)(field >> 32);
		cmd->cdw2 = (uint32_t)(field >> 64) & 0xffff;
	}
}

void nvmeta_encode(const struct nvmeta_dev_info *info, const struct nvmeta_io *io,
		   struct nvme_uring_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opcode = io->opcode;
	cmd->nsid = info->nsid;
	if (transfers_data(io->opcode)) {
		cmd->addr = (uintptr_t)io->data;
		cmd->data_len = io->data_len;
		cmd->metadata = (uintptr_t)io->meta;
		cmd->metadata_len = io->meta_len;
	}
	cmd->cdw10 = (uint32_t)io->slba;
	cmd->cdw11 = (uint32_t)(io->slba >> 32);
	cmd->cdw12 = (io->nlb - 1) | (uint32_t)io->prinfo << 26;
	if (io->flags & NVMETA_IO_FUA)
		cmd->cdw12 |= 1u << 30;
	encode_tags(info, io, cmd);
	cmd->cdw15 = io->apptag | (uint32_t)io->appmask << 16;
	cmd->timeout_ms = io->timeout_ms;
}

void nvmeta_fill_sqe(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		     const struct nvmeta_io *io)
{
	/* An SQE128 entry spans two struct io_uring_sqe slots. */
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = dev->fd;
	sqe->cmd_op = NVME_URING_CMD_IO;
	nvmeta_encode(&dev->info, io, (struct nvme_uring_cmd *)sqe->cmd);
}

/*
 * What the command's fields can carry, checked even in RAW mode: RAW
 * skips the checks a caller may want to break, never the encoding.  A
 * value cut to fit would send a different command than the one asked for
 * (nlb 0 would go out as 65536 blocks, 65537 as 1).
 */
int nvmeta_check_encodable(const struct nvmeta_dev_info *info, const struct nvmeta_io *io)
{
	unsigned int width = nvmeta_tag_field_bits(info);
	unsigned int ref_bits = width - info->sts;

	if (!io->nlb || io->nlb > NVMETA_MAX_NLB)
		return nvmeta_fail(-EDOM, "nlb %u: must be 1 to %u blocks", io->nlb, NVMETA_MAX_NLB);
	if (io->prinfo & ~0xf)
		return nvmeta_fail(-EINVAL, "prinfo 0x%x has bits above PRACT (4 bits: PRACT 8, PRCHK 4 guard, 2 app, 1 ref)",
				   io->prinfo);
	if (ref_bits < 64 && io->reftag >> ref_bits)
		return nvmeta_fail(-EINVAL, "reference tag 0x%llx does not fit the %u bits this format gives it (%u-bit guard, storage tag size %u)",
				   (unsigned long long)io->reftag, ref_bits, info->guard_bits, info->sts);
	if (info->sts < 64 && io->storage_tag >> info->sts)
		return nvmeta_fail(-EINVAL, "storage tag 0x%llx does not fit the %u bits of this format's storage tag",
				   (unsigned long long)io->storage_tag, info->sts);
	return 0;
}

/* Off the hot path: the message is built only here. */
int nvmeta_refuse_stale(const struct nvmeta_dev *dev)
{
	int state = atomic_load_explicit(&dev->stale, memory_order_acquire);

	return nvmeta_fail(-ESTALE, "%s: %s; commands are refused until nvmeta_dev_refresh()",
			   dev->info.generic_path,
			   state == 1 ? dev->stale_why : "the namespace's format changed");
}

int nvmeta_io_ready(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	int ret;

	/* One load: the watcher thread sets it when the kernel's view of the
	 * namespace's format changed under this handle. */
	if (atomic_load_explicit(&dev->stale, memory_order_acquire))
		return nvmeta_refuse_stale(dev);
	ret = nvmeta_io_validate(dev, io);
	if (ret)
		return ret;
	return nvmeta_prepare_buffers(dev, io);
}

int nvmeta_prep(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		const struct nvmeta_io *io)
{
	int ret;

	ret = nvmeta_io_ready(dev, io);
	if (ret)
		return ret;
	nvmeta_fill_sqe(dev, sqe, io);
	return 0;
}

/*
 * The kernel hands back nvme_req(req)->status: the CQE status field
 * without its phase bit.  SC is bits 7:0, SCT 10:8, More 13, DNR 14.
 */
int nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st)
{
	memset(st, 0, sizeof(*st));
	st->result = cqe->big_cqe[0];
	if (cqe->res < 0) {
		st->err = cqe->res;
		return nvmeta_fail(cqe->res, "command failed in the kernel: %s",
				   strerror(-cqe->res));
	}
	st->status = cqe->res & 0x7ff;
	st->sc = cqe->res & 0xff;
	st->sct = (cqe->res >> 8) & 0x7;
	st->more = cqe->res & (1 << 13);
	st->dnr = cqe->res & (1 << 14);
	if (!st->status)
		return 0;
	return nvmeta_fail(-EIO, "NVMe status 0x%03x (%s)%s", st->status,
			   nvmeta_status_name(st), st->dnr ? ", do not retry" : "");
}

struct status_name {
	uint16_t status;
	const char *name;
};

static const struct status_name status_names[] = {
	{ 0x000, "Success" },
	{ 0x001, "Invalid Command Opcode" },
	{ 0x002, "Invalid Field in Command" },
	{ 0x004, "Data Transfer Error" },
	{ 0x006, "Internal Error" },
	{ 0x007, "Command Abort Requested" },
	{ 0x00b, "Invalid Namespace or Format" },
	{ 0x00d, "Invalid SGL Segment Descriptor" },
	{ 0x00e, "Invalid Number of SGL Descriptors" },
	{ 0x00f, "Data SGL Length Invalid" },
	{ 0x010, "Metadata SGL Length Invalid" },
	{ 0x011, "SGL Descriptor Type Invalid" },
	{ 0x013, "PRP Offset Invalid" },
	{ 0x080, "LBA Out of Range" },
	{ 0x081, "Capacity Exceeded" },
	{ 0x082, "Namespace Not Ready" },
	{ 0x180, "Conflicting Attributes" },
	{ 0x181, "Invalid Protection Information" },
	{ 0x182, "Attempted Write to Read Only Range" },
	{ 0x280, "Write Fault" },
	{ 0x281, "Unrecovered Read Error" },
	{ 0x282, "End-to-end Guard Check Error" },
	{ 0x283, "End-to-end Application Tag Check Error" },
	{ 0x284, "End-to-end Reference Tag Check Error" },
	{ 0x285, "Compare Failure" },
	{ 0x286, "Access Denied" },
};

const char *nvmeta_status_name(const struct nvmeta_status *st)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(status_names); i++)
		if (status_names[i].status == st->status)
			return status_names[i].name;
	return "Unknown";
}
