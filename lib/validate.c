// SPDX-License-Identifier: MIT
/*
 * Checks before submission.  The kernel passes metadata_len through
 * unchecked: a buffer shorter than nlb x ms lets the device DMA past its
 * end into user memory (pinned path) or into kernel slab slack (bounce
 * path).  Refusing it here is the only protection a caller has.
 */
#include <errno.h>
#include <inttypes.h>
#include "internal.h"

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
	size_t i;

	/* A later version may give them a meaning: refusing them now keeps
	 * a caller built against it from being misread by this one. */
	for (i = 0; i < ARRAY_SIZE(io->resv); i++)
		if (io->resv[i])
			return nvmeta_fail(-EINVAL, "nvmeta_io resv[%zu] is 0x%llx: reserved fields must be zero (zero the struct before filling it in)",
					   i, (unsigned long long)io->resv[i]);
	if (io->resv0)
		return nvmeta_fail(-EINVAL, "nvmeta_io resv0 is 0x%x: reserved fields must be zero",
				   io->resv0);
	if (io->flags & ~NVMETA_IO_FLAGS_KNOWN)
		return nvmeta_fail(-EINVAL, "nvmeta_io flags 0x%x: unknown bits 0x%x (this library knows 0x%x)",
				   io->flags, io->flags & ~NVMETA_IO_FLAGS_KNOWN,
				   NVMETA_IO_FLAGS_KNOWN);
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

struct io_check {
	const struct nvmeta_dev_info *info;
	const struct nvmeta_io *io;
	uint64_t lba_bytes;	/* bytes one block occupies in the data buffer */
};

static int check_encodable(const struct io_check *c)
{
	return nvmeta_check_encodable(c->info, c->io);
}

/* With PRACT set and metadata that is exactly one PI tuple, the
 * controller inserts or strips PI itself and no metadata moves: not in a
 * separate buffer, and not inside the data buffer of an extended LBA
 * format either (NVM Command Set, end-to-end protection, PRACT). */
static bool controller_owns_metadata(const struct nvmeta_dev_info *info,
				     const struct nvmeta_io *io)
{
	return (io->prinfo & NVMETA_PRACT) && info->pi_type && info->ms == info->pi_size;
}

static int check_opcode(const struct io_check *c)
{
	static const struct { uint8_t op; uint16_t oncs_bit; const char *name; } ops[] = {
		{ NVMETA_OP_WRITE, 0, "write" },
		{ NVMETA_OP_READ, 0, "read" },
		{ NVMETA_OP_COMPARE, NVME_CTRL_ONCS_COMPARE, "compare" },
		{ NVMETA_OP_WRITE_ZEROES, NVME_CTRL_ONCS_WRITE_ZEROES, "write zeroes" },
		{ NVMETA_OP_VERIFY, NVME_CTRL_ONCS_VERIFY, "verify" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (ops[i].op != c->io->opcode)
			continue;
		if (ops[i].oncs_bit && !(c->info->oncs & ops[i].oncs_bit))
			return nvmeta_fail(-EOPNOTSUPP, "%s: the controller does not support %s (ONCS 0x%x)",
					   c->info->generic_path, ops[i].name, c->info->oncs);
		return 0;
	}
	return nvmeta_fail(-EINVAL, "opcode 0x%02x is not an NVM I/O command nvmeta sends",
			   c->io->opcode);
}

static int check_range(const struct io_check *c)
{
	const struct nvmeta_io *io = c->io;

	if (io->slba >= c->info->nsze || io->nlb > c->info->nsze - io->slba)
		return nvmeta_fail(-ERANGE, "blocks %" PRIu64 "..%" PRIu64 " beyond namespace size %" PRIu64,
				   io->slba, io->slba + io->nlb - 1, c->info->nsze);
	return 0;
}

static int check_transfer_size(const struct io_check *c)
{
	uint64_t bytes = c->lba_bytes * c->io->nlb;
	uint64_t hw_max = (uint64_t)c->info->limits.max_hw_sectors_kb * 1024;

	if (!nvmeta_opcode_transfers(c->io->opcode))
		return 0;
	if (c->info->mdts_bytes && bytes > c->info->mdts_bytes)
		return nvmeta_fail(-E2BIG, "%u blocks = %" PRIu64 " bytes exceed the controller's MDTS of %u bytes",
				   c->io->nlb, bytes, c->info->mdts_bytes);
	if (hw_max && bytes > hw_max)
		return nvmeta_fail(-E2BIG, "%u blocks = %" PRIu64 " bytes exceed the kernel's max_hw_sectors_kb %u",
				   c->io->nlb, bytes, c->info->limits.max_hw_sectors_kb);
	return 0;
}

static int check_data(const struct io_check *c)
{
	const struct nvmeta_io *io = c->io;
	uint64_t need = c->lba_bytes * io->nlb;

	if (!nvmeta_opcode_transfers(io->opcode)) {
		if (io->data || io->data_len || io->meta || io->meta_len)
			return nvmeta_fail(-EFAULT, "this command transfers no data: pass no buffers");
		return 0;
	}
	if (!io->data != !io->data_len)
		return nvmeta_fail(-EFAULT, "data buffer %p with length %u: need both or neither",
				   io->data, io->data_len);
	if (io->data_len != need)
		return nvmeta_fail(-EMSGSIZE, "data length %u, but %u blocks of %" PRIu64 " bytes%s need %" PRIu64,
				   io->data_len, io->nlb, c->lba_bytes,
				   c->lba_bytes > c->info->lba_size ? " (data + metadata, extended LBA)" :
				   c->info->extended_lba ? " (PRACT: the controller inserts or strips the PI)" : "",
				   need);
	return 0;
}

static int check_metadata(const struct io_check *c)
{
	const struct nvmeta_dev_info *info = c->info;
	const struct nvmeta_io *io = c->io;
	uint64_t need = (uint64_t)info->ms * io->nlb;
	uint64_t hw_max = (uint64_t)info->limits.max_hw_sectors_kb * 1024;

	if (!nvmeta_opcode_transfers(io->opcode))
		return 0;
	if (!io->meta != !io->meta_len)
		return nvmeta_fail(-EFAULT, "metadata buffer %p with length %u: need both or neither",
				   io->meta, io->meta_len);
	if (!info->ms && io->meta)
		return nvmeta_fail(-EPROTO, "%s has no metadata (format %u: %u+0), yet a metadata buffer was passed",
				   info->generic_path, info->lbaf, info->lba_size);
	if (info->extended_lba && io->meta)
		return nvmeta_fail(-EPROTO, "%s uses extended LBAs: metadata travels inside the data buffer, not in a separate one",
				   info->generic_path);
	if (!info->ms || info->extended_lba)
		return 0;
	if (!io->meta && !controller_owns_metadata(info, io))
		return nvmeta_fail(-ENODATA, "%s has %u metadata bytes per block: %u blocks need a %" PRIu64 "-byte metadata buffer",
				   info->generic_path, info->ms, io->nlb, need);
	if (io->meta && io->meta_len < need)
		return nvmeta_fail(-EOVERFLOW, "metadata buffer of %u bytes is short: %u blocks x %u bytes need %" PRIu64 " (the kernel would let the device write past it)",
				   io->meta_len, io->nlb, info->ms, need);
	/* The kernel maps all of meta_len, not nlb x ms: 6.8 on refuses more
	 * than max_hw_sectors (E2BIG); 6.1 kmallocs it, and above 4 MiB the
	 * page allocator WARNs before the command fails with ENOMEM. */
	if (io->meta && hw_max && io->meta_len > hw_max)
		return nvmeta_fail(-E2BIG, "metadata length %u exceeds the kernel's max_hw_sectors_kb %u (%u blocks x %u bytes need %" PRIu64 ")",
				   io->meta_len, info->limits.max_hw_sectors_kb, io->nlb, info->ms, need);
	return 0;
}

int nvmeta_validate_info(const struct nvmeta_dev_info *info, const struct nvmeta_io *io)
{
	static int (*const checks[])(const struct io_check *) = {
		check_encodable, check_opcode, check_range, check_transfer_size, check_data, check_metadata,
	};
	struct io_check c = { .info = info, .io = io };
	size_t i;
	int ret;

	c.lba_bytes = nvmeta_io_block_bytes(info, io);
	for (i = 0; i < ARRAY_SIZE(checks); i++) {
		ret = checks[i](&c);
		if (ret)
			return ret;
	}
	return 0;
}

uint32_t nvmeta_io_block_bytes(const struct nvmeta_dev_info *info, const struct nvmeta_io *io)
{
	if (!info->extended_lba || controller_owns_metadata(info, io))
		return info->lba_size;
	return info->lba_size + info->ms;
}

/* What nvmeta_prep_cmd() writes alike into every plain command of the
 * device; nvmeta_fill_plain() starts from it. */
static void fast_template(struct nvmeta_fast *f, int fd, uint32_t nsid)
{
	struct nvme_uring_cmd *cmd = (struct nvme_uring_cmd *)f->sqe[0].cmd;

	memset(f->sqe, 0, sizeof(f->sqe));
	f->sqe[0].opcode = IORING_OP_URING_CMD;
	f->sqe[0].fd = fd;
	f->sqe[0].cmd_op = NVME_URING_CMD_IO;
	cmd->nsid = nsid;
}

void nvmeta_fast_decide(struct nvmeta_dev *dev)
{
	const struct nvmeta_dev_info *in = &dev->info;
	struct nvmeta_fast *f = &dev->fast;
	uint64_t hw_max = (uint64_t)in->limits.max_hw_sectors_kb * 1024;
	unsigned int space = nvmeta_tag_field_bits(in), ref_bits;
	uint64_t max = NVMETA_MAX_NLB;

	memset(f, 0, sizeof(*f));
	if (!in->lba_size || !in->nsze || in->sts > space)
		return;
	ref_bits = space - in->sts;
	/* What nvmeta_io_block_bytes() gives a command without PRACT. */
	f->lba_bytes = in->lba_size + (in->extended_lba ? in->ms : 0);
	f->ms = in->extended_lba ? 0 : in->ms;
	if (in->mdts_bytes && in->mdts_bytes / f->lba_bytes < max)
		max = in->mdts_bytes / f->lba_bytes;
	if (hw_max && hw_max / f->lba_bytes < max)
		max = hw_max / f->lba_bytes;
	f->max_nlb = max;
	f->max_meta = hw_max && hw_max < UINT32_MAX ? hw_max : UINT32_MAX;
	f->nsze = in->nsze;
	f->ref_mask = ref_bits < 64 ? ~0ull << ref_bits : 0;
	f->sts_mask = in->sts < 64 ? ~0ull << in->sts : 0;
	f->prefault_reads = dev->populate_reads;
	f->ref_only = in->guard_bits != 32 && in->guard_bits != 64 && !in->sts;
	fast_template(f, dev->fd, in->nsid);
	f->ready = max > 0;
}

int nvmeta_io_validate(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	if (nvmeta_io_plain(&dev->fast, io))
		return 0;
	if (io->flags & NVMETA_IO_RAW)
		return nvmeta_check_encodable(&dev->info, io);
	return nvmeta_validate_info(&dev->info, io);
}
