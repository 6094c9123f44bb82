// SPDX-License-Identifier: MIT
/*
 * Checks before submission.  The kernel passes metadata_len through
 * unchecked: a buffer shorter than nlb x ms lets the device DMA past its
 * end into user memory (pinned path) or into kernel slab slack (bounce
 * path).  Refusing it here is the only protection a caller has.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <sys/uio.h>
#include "internal.h"

/* The most ranges a Dataset Management or Copy carries: NR is 8 bits. */
#define MAX_RANGES 256u

static const char *opcode_name(uint8_t op)
{
	switch (op) {
	case NVMETA_OP_WRITE: return "write";
	case NVMETA_OP_READ: return "read";
	case NVMETA_OP_WRITE_UNCOR: return "write uncorrectable";
	case NVMETA_OP_COMPARE: return "compare";
	case NVMETA_OP_WRITE_ZEROES: return "write zeroes";
	case NVMETA_OP_DSM: return "dataset management";
	case NVMETA_OP_VERIFY: return "verify";
	case NVMETA_OP_COPY: return "copy";
	default: return "opcode";
	}
}

/* What a command has no bits for: Write Uncorrectable and Dataset
 * Management carry no PRINFO, no tags and no FUA; only Write Zeroes and
 * Dataset Management have a deallocate bit; only Copy has PRINFOR. */
static int check_command_fields(const struct nvmeta_io *io)
{
	bool bare = io->opcode == NVMETA_OP_WRITE_UNCOR || io->opcode == NVMETA_OP_DSM;
	const char *name = opcode_name(io->opcode);

	if ((io->flags & NVMETA_IO_DEAC) && io->opcode != NVMETA_OP_WRITE_ZEROES &&
	    io->opcode != NVMETA_OP_DSM)
		return nvmeta_fail(-EINVAL, "NVMETA_IO_DEAC on %s (0x%02x): only write zeroes (DEAC) and dataset management (AD) have a deallocate bit",
				   name, io->opcode);
	if (io->prinfo >> 4 && io->opcode != NVMETA_OP_COPY)
		return nvmeta_fail(-EINVAL, "prinfo 0x%x has bits above PRACT (4 bits: PRACT 8, PRCHK 4 guard, 2 app, 1 ref; the high four are Copy's PRINFOR only)",
				   io->prinfo);
	if (bare && (io->prinfo || io->reftag || io->apptag || io->appmask || io->storage_tag))
		return nvmeta_fail(-EINVAL, "%s carries no protection information fields: prinfo 0x%x, reftag 0x%llx, apptag 0x%x, appmask 0x%x, storage tag 0x%llx must be 0",
				   name, io->prinfo, (unsigned long long)io->reftag, io->apptag,
				   io->appmask, (unsigned long long)io->storage_tag);
	if (bare && (io->flags & NVMETA_IO_FUA))
		return nvmeta_fail(-EINVAL, "%s has no FUA bit (NVMETA_IO_FUA)", name);
	if (bare && (io->flags & (NVMETA_IO_PI_GENERATE | NVMETA_IO_PI_VERIFY)))
		return nvmeta_fail(-EINVAL, "%s moves no block: NVMETA_IO_PI_GENERATE and NVMETA_IO_PI_VERIFY have nothing to work on",
				   name);
	if ((io->flags & NVMETA_IO_VEC) && !nvmeta_opcode_transfers(io->opcode))
		return nvmeta_fail(-EINVAL, "NVMETA_IO_VEC on %s: only read, write and compare take their data as iovecs",
				   name);
	if (nvmeta_opcode_ranges(io->opcode) && (!io->nlb || io->nlb > MAX_RANGES))
		return nvmeta_fail(-EDOM, "%s: nlb %u counts its ranges: must be 1 to %u",
				   name, io->nlb, MAX_RANGES);
	return 0;
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
	size_t i;
	int ret;

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
	ret = check_command_fields(io);
	if (ret)
		return ret;
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
		{ NVMETA_OP_WRITE_UNCOR, NVME_CTRL_ONCS_WRITE_UNCORRECTABLE, "write uncorrectable" },
		{ NVMETA_OP_DSM, NVME_CTRL_ONCS_DSM, "dataset management" },
		{ NVMETA_OP_COPY, NVME_CTRL_ONCS_COPY, "copy" },
	};
	unsigned int fmt = nvmeta_copy_desc_format(c->info);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (ops[i].op != c->io->opcode)
			continue;
		if (ops[i].oncs_bit && !(c->info->oncs & ops[i].oncs_bit))
			return nvmeta_fail(-EOPNOTSUPP, "%s: the controller does not support %s (ONCS 0x%x)",
					   c->info->generic_path, ops[i].name, c->info->oncs);
		if (ops[i].op == NVMETA_OP_COPY && !(c->info->ocfs & (1u << fmt)))
			return nvmeta_fail(-EOPNOTSUPP, "%s: copy needs source range descriptor format %u on this format (%u-bit guard), which the controller does not list (OCFS 0x%x)",
					   c->info->generic_path, fmt, c->info->guard_bits, c->info->ocfs);
		if (ops[i].op == NVMETA_OP_DSM && !(c->io->flags & NVMETA_IO_DEAC))
			return nvmeta_fail(-EINVAL, "dataset management: nvmeta sends its deallocate attribute only: set NVMETA_IO_DEAC");
		return 0;
	}
	return nvmeta_fail(-EINVAL, "opcode 0x%02x is not an NVM I/O command nvmeta sends",
			   c->io->opcode);
}

static int check_range(const struct io_check *c)
{
	const struct nvmeta_io *io = c->io;

	if (io->opcode == NVMETA_OP_DSM) {
		if (io->slba)
			return nvmeta_fail(-EINVAL, "dataset management: slba %" PRIu64 " must be 0: its ranges carry the blocks",
					   io->slba);
		return 0;
	}
	if (io->opcode == NVMETA_OP_COPY)
		return 0;	/* check_ranges(): the destination's length is the ranges' sum */
	if (io->slba >= c->info->nsze || io->nlb > c->info->nsze - io->slba)
		return nvmeta_fail(-ERANGE, "blocks %" PRIu64 "..%" PRIu64 " beyond namespace size %" PRIu64,
				   io->slba, io->slba + io->nlb - 1, c->info->nsze);
	return 0;
}

static int check_transfer_size(const struct io_check *c)
{
	uint64_t bytes = c->lba_bytes * c->io->nlb;
	uint64_t hw_max = (uint64_t)c->info->limits.max_hw_sectors_kb * 1024;
	uint8_t own = c->io->opcode == NVMETA_OP_WRITE_ZEROES ? c->info->wzsl :
		      c->io->opcode == NVMETA_OP_VERIFY ? c->info->vsl :
		      c->io->opcode == NVMETA_OP_WRITE_UNCOR ? c->info->wusl : 0;
	const char *own_name = c->io->opcode == NVMETA_OP_WRITE_ZEROES ? "WZSL" :
			       c->io->opcode == NVMETA_OP_VERIFY ? "VSL" : "WUSL";

	/* MDTS bounds transfers; these move nothing and have limits of their
	 * own, in units of the minimum page size (4 KiB assumed, as for
	 * MDTS), where the controller reports one. */
	if (own && own <= 19 && bytes > (4096ull << own))
		return nvmeta_fail(-E2BIG, "%s: %u blocks = %" PRIu64 " bytes exceed the controller's %s of %llu bytes",
				   opcode_name(c->io->opcode), c->io->nlb, bytes, own_name,
				   4096ull << own);
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

/* The bytes of one range of @io's list. */
static unsigned int range_bytes(const struct nvmeta_dev_info *info, const struct nvmeta_io *io)
{
	return io->opcode == NVMETA_OP_DSM ? NVMETA_DSM_RANGE_BYTES : nvmeta_copy_desc_bytes(info);
}

static bool all_zero(const unsigned char *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

/* One range of a Dataset Management list or Copy descriptor list. */
static int check_one_range(const struct io_check *c, unsigned int i, uint64_t *total)
{
	const struct nvmeta_dev_info *info = c->info;
	const unsigned char *r = (const unsigned char *)c->io->data + (size_t)i * range_bytes(info, c->io);
	bool dsm = c->io->opcode == NVMETA_OP_DSM;
	unsigned int size = range_bytes(info, c->io);
	uint64_t slba, max = dsm ? info->dmrsl : info->mssrl;
	uint32_t nlb32;
	uint16_t nlb16;

	memcpy(&slba, r + 8, 8);
	slba = le64toh(slba);
	if (dsm) {
		memcpy(&nlb32, r + 4, 4);
		nlb32 = le32toh(nlb32);
		if (!nlb32)
			return nvmeta_fail(-EDOM, "dataset management range %u (LBA %" PRIu64 "): 0 blocks",
					   i, slba);
	} else {
		memcpy(&nlb16, r + 16, 2);
		nlb32 = (uint32_t)le16toh(nlb16) + 1;
		if (!all_zero(r, 8) || !all_zero(r + 18, size == 32 ? 6 : 8))
			return nvmeta_fail(-EINVAL, "copy descriptor %u (format %u): reserved bytes 0-7 or 18-%u are not zero (made with nvmeta_copy_range()?)",
					   i, nvmeta_copy_desc_format(info), size == 32 ? 23 : 25);
	}
	if (slba >= info->nsze || nlb32 > info->nsze - slba)
		return nvmeta_fail(-ERANGE, "%s range %u: blocks %" PRIu64 "..%" PRIu64 " beyond namespace size %" PRIu64,
				   opcode_name(c->io->opcode), i, slba, slba + nlb32 - 1, info->nsze);
	if (max && nlb32 > max)
		return nvmeta_fail(-E2BIG, "%s range %u: %u blocks exceed the controller's %s of %" PRIu64,
				   opcode_name(c->io->opcode), i, nlb32, dsm ? "DMRSL" : "MSSRL", max);
	*total += nlb32;
	return 0;
}

/* Dataset Management and Copy: the range list, and every range in it. */
static int check_range_buffer(const struct io_check *c)
{
	const struct nvmeta_dev_info *info = c->info;
	const struct nvmeta_io *io = c->io;
	bool dsm = io->opcode == NVMETA_OP_DSM;
	unsigned int size = range_bytes(info, io), most = dsm ? info->dmrl : info->msrc + 1u;
	uint64_t need = (uint64_t)size * io->nlb, total = 0, max_total = dsm ? info->dmsl : info->mcl;
	unsigned int i;
	int ret;

	if (!io->data || !io->data_len)
		return nvmeta_fail(-EFAULT, "%s takes its %u ranges as data: data %p, %u bytes",
				   opcode_name(io->opcode), io->nlb, io->data, io->data_len);
	if (io->meta || io->meta_len)
		return nvmeta_fail(-EFAULT, "%s moves no metadata: pass no metadata buffer",
				   opcode_name(io->opcode));
	if (io->data_len != need)
		return nvmeta_fail(-EMSGSIZE, "%s: data length %u, but %u ranges of %u bytes%s need %" PRIu64,
				   opcode_name(io->opcode), io->data_len, io->nlb, size,
				   dsm ? "" : nvmeta_copy_desc_format(info) ? " (descriptor format 1)" :
				   " (descriptor format 0)", need);
	if ((dsm && info->dmrl) || !dsm) {
		if (io->nlb > most)
			return nvmeta_fail(-E2BIG, "%s: %u ranges exceed the controller's %s of %u",
					   opcode_name(io->opcode), io->nlb, dsm ? "DMRL" : "MSRC", most);
	}
	for (i = 0; i < io->nlb; i++) {
		ret = check_one_range(c, i, &total);
		if (ret)
			return ret;
	}
	if (max_total && total > max_total)
		return nvmeta_fail(-E2BIG, "%s: %" PRIu64 " blocks in all exceed the controller's %s of %" PRIu64,
				   opcode_name(io->opcode), total, dsm ? "DMSL" : "MCL", max_total);
	if (!dsm && (io->slba >= info->nsze || total > info->nsze - io->slba))
		return nvmeta_fail(-ERANGE, "copy: destination blocks %" PRIu64 "..%" PRIu64 " beyond namespace size %" PRIu64,
				   io->slba, io->slba + total - 1, info->nsze);
	return 0;
}

/* nvmeta_prep_cmd() sets cmd_op's low bit from flag bit 8. */
_Static_assert(NVME_URING_CMD_IO_VEC == (NVME_URING_CMD_IO | 1) && NVMETA_IO_VEC == 1 << 8,
	       "NVMETA_IO_VEC encodes as NVME_URING_CMD_IO_VEC");

int nvmeta_check_iov_array(const struct nvmeta_io *io, uint32_t max_segments)
{
	if (!io->data || !io->data_len)
		return nvmeta_fail(-EFAULT, "NVMETA_IO_VEC: iovec array %p with %u iovecs: need an array of at least one",
				   io->data, io->data_len);
	if (io->data_len > NVMETA_UIO_MAXIOV)
		return nvmeta_fail(-E2BIG, "NVMETA_IO_VEC: %u iovecs, but the kernel takes at most %u (UIO_MAXIOV: import_iovec() fails with EINVAL)",
				   io->data_len, NVMETA_UIO_MAXIOV);
	if (max_segments && io->data_len > max_segments)
		return nvmeta_fail(-E2BIG, "NVMETA_IO_VEC: %u iovecs exceed max_segments %u: each is a segment of its own unless its pages are physically contiguous with the next one's (nvmeta's caution; NVMETA_IO_RAW sends it on passthrough)",
				   io->data_len, max_segments);
	return 0;
}

static int check_iov(const struct iovec *v, uint32_t i, uint32_t count)
{
	uintptr_t end;

	if (!v->iov_len)
		return nvmeta_fail(-EFAULT, "NVMETA_IO_VEC: iovec %u of %u has length 0 (the kernel skips it; nvmeta refuses it as a likely mistake)",
				   i, count);
	if (!v->iov_base)
		return nvmeta_fail(-EFAULT, "NVMETA_IO_VEC: iovec %u of %u: NULL base with %zu bytes",
				   i, count, v->iov_len);
	if (__builtin_add_overflow((uintptr_t)v->iov_base, v->iov_len, &end))
		return nvmeta_fail(-EFAULT, "NVMETA_IO_VEC: iovec %u of %u: %zu bytes at %p wrap past the end of the address space",
				   i, count, v->iov_len, v->iov_base);
	return 0;
}

static int check_iov_add(const struct nvmeta_io *io, uint32_t i, uint64_t *total,
			 uint64_t block_bytes)
{
	const struct iovec *iov = io->data;
	uint64_t need = block_bytes * io->nlb;

	if (__builtin_add_overflow(*total, (uint64_t)iov[i].iov_len, total) || *total > need)
		return nvmeta_fail(-EMSGSIZE, "NVMETA_IO_VEC: iovecs 0..%u already hold more than the %" PRIu64 " bytes %u blocks of %" PRIu64 " need",
				   i, need, io->nlb, block_bytes);
	return 0;
}

static int check_iov_sum(const struct nvmeta_io *io, uint64_t total, uint64_t block_bytes)
{
	uint64_t need = block_bytes * io->nlb;

	if (total == need)
		return 0;
	return nvmeta_fail(-EMSGSIZE, "NVMETA_IO_VEC: %u iovecs hold %" PRIu64 " bytes, but %u blocks of %" PRIu64 " bytes need %" PRIu64,
			   io->data_len, total, io->nlb, block_bytes, need);
}

int nvmeta_check_iov_list(const struct nvmeta_io *io, uint64_t block_bytes,
			  nvmeta_iov_rule extra, const void *ctx)
{
	const struct iovec *iov = io->data;
	uint64_t total = 0;
	uint32_t i;
	int ret;

	for (i = 0; i < io->data_len; i++) {
		ret = check_iov(&iov[i], i, io->data_len);
		if (!ret && extra)
			ret = extra(ctx, &iov[i], i, io->data_len);
		if (!ret)
			ret = check_iov_add(io, i, &total, block_bytes);
		if (ret)
			return ret;
	}
	return check_iov_sum(io, total, block_bytes);
}

/*
 * NVMETA_IO_VEC: io->data is an array of io->data_len iovecs.  The
 * kernel's rules: at most UIO_MAXIOV of them, each range inside the
 * address space, registered buffers with them only from 6.16 (before, the
 * kernel refuses them itself; 6.1 badly, see below).  nvmeta's
 * own: no more iovecs than max_segments (each is a segment unless its
 * pages happen to be physically contiguous with its neighbour's), no
 * empty iovec (the kernel skips it), and the lengths adding up to the
 * bytes nlb blocks need, as a flat buffer's length must.  Alignment is
 * not refused: an iovec off dma_alignment or the virtual boundary makes
 * the kernel copy the whole command's data (nvmeta_predict_iov()).
 */
static int check_vec_data(const struct io_check *c)
{
	const struct nvmeta_dev_info *info = c->info;
	const struct nvmeta_io *io = c->io;
	const struct nvmeta_kernel *k = &info->kernel;
	int ret;

	ret = nvmeta_check_iov_array(io, info->limits.max_segments);
	if (ret)
		return ret;
	/* The lab's linux-6.1-vec-fixed-buf-warn: only there is sending it
	 * worse than an errno.  Elsewhere the kernel answers for itself
	 * (6.12: EINVAL, which nvmeta_explain_failure() words; 6.16 on:
	 * done), so no version decides it. */
	if ((io->flags & NVMETA_IO_FIXED_BUF) && k->major && !NVMETA_KERNEL_AT_LEAST(k, 6, 12))
		return nvmeta_fail(-EOPNOTSUPP, "NVMETA_IO_VEC with NVMETA_IO_FIXED_BUF on Linux %u.%u: the kernel refuses it with EINVAL after a WARN in its log and leaks the request, so that the machine cannot power off (known defect linux-6.1-vec-fixed-buf-warn, seen on 6.1; 6.12 answers a plain EINVAL, 6.16 takes it)",
				   k->major, k->minor);
	return nvmeta_check_iov_list(io, c->lba_bytes, NULL, NULL);
}

static int check_data(const struct io_check *c)
{
	const struct nvmeta_io *io = c->io;
	uint64_t need = c->lba_bytes * io->nlb;

	if (nvmeta_opcode_ranges(io->opcode))
		return check_range_buffer(c);
	if (!nvmeta_opcode_transfers(io->opcode)) {
		if (io->data || io->data_len || io->meta || io->meta_len)
			return nvmeta_fail(-EFAULT, "%s transfers no data: pass no buffers (data %p, %u bytes; metadata %p, %u bytes)",
					   opcode_name(io->opcode), io->data, io->data_len,
					   io->meta, io->meta_len);
		return 0;
	}
	if (io->flags & NVMETA_IO_VEC)
		return check_vec_data(c);
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

	/* All but stale, which nvmeta_dev_check() may set meanwhile. */
	memset((char *)f + offsetof(struct nvmeta_fast, ready), 0,
	       sizeof(*f) - offsetof(struct nvmeta_fast, ready));
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
