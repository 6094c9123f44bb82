// SPDX-License-Identifier: MIT
/*
 * Readying a command (validation, buffers, PI) and filling SQEs through
 * the inline encoder of <nvmeta/core.h>.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

void nvmeta_fill_sqe(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		     const struct nvmeta_io *io)
{
	/* One encoder for every road: the inline one callers use too. */
	nvmeta_prep_cmd(sqe, dev->fd, &dev->info, io);
}

int nvmeta_io_ready(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	int ret;

	/* One load: nvmeta_dev_check() sets it when the kernel's view of the
	 * namespace's format changed under this handle. */
	if (atomic_load_explicit(&dev->fast.stale, memory_order_acquire))
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
	return nvmeta_fail(-EINVAL, "NVMETA_IO_PI_VERIFY needs the command kept until it completes: queue it with nvmeta_queue_request(), or fill your own SQE with nvmeta_prep() and finish its CQE with nvmeta_complete()");
}

/* NVMETA_IO_PI_VERIFY is taken: the caller reaps the CQE and finishes it
 * with nvmeta_complete(), which verifies. */
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
