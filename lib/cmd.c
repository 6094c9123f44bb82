// SPDX-License-Identifier: MIT
/*
 * Checking what a command's fields can carry, and filling SQEs through
 * the inline encoder of <nvmeta/core.h>.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

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

void nvmeta_fill_sqe(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		     const struct nvmeta_io *io)
{
	/* One encoder for every road: the inline one callers use too. */
	nvmeta_prep_cmd(sqe, dev->fd, &dev->info, io);
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
	if (io->flags & (NVMETA_IO_PI_GENERATE | NVMETA_IO_PI_VERIFY)) {
		ret = nvmeta_pi_prepare(dev, io);
		if (ret)
			return ret;
	}
	return nvmeta_prepare_buffers(dev, io);
}

/* A command whose completion the caller takes itself: nothing would
 * verify its PI, so the flag is refused rather than ignored. */
int nvmeta_refuse_unkept_verify(const struct nvmeta_io *io)
{
	if (!(io->flags & NVMETA_IO_PI_VERIFY))
		return 0;
	return nvmeta_fail(-EINVAL, "NVMETA_IO_PI_VERIFY needs the command kept until it completes: queue it with nvmeta_queue_request(), or verify with nvmeta_pi_verify() after reaping");
}

int nvmeta_prep(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		const struct nvmeta_io *io)
{
	int ret;

	ret = nvmeta_refuse_unkept_verify(io);
	if (ret)
		return ret;
	ret = nvmeta_io_ready(dev, io);
	if (ret)
		return ret;
	nvmeta_fill_sqe(dev, sqe, io);
	return 0;
}
