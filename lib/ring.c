// SPDX-License-Identifier: MIT
/* Rings for NVMe passthrough: big SQEs and CQEs, sync submission. */
#include <errno.h>
#include <string.h>
#include "internal.h"

int nvmeta_ring_init(struct io_uring *ring, unsigned int depth)
{
	int ret;

	ret = io_uring_queue_init(depth, ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	if (ret)
		return nvmeta_fail(ret, "io_uring setup with SQE128|CQE32, depth %u: %s%s",
				   depth, strerror(-ret),
				   ret == -EINVAL ? " (kernel older than 5.19?)" : "");
	return 0;
}

int nvmeta_queue(const struct nvmeta_dev *dev, struct io_uring *ring,
		 const struct nvmeta_io *io, uint64_t user_data)
{
	struct io_uring_sqe *sqe;
	int ret;

	/* Checks first: an SQE taken from the ring cannot be given back. */
	ret = nvmeta_io_ready(dev, io);
	if (ret)
		return ret;
	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return nvmeta_fail(-EBUSY, "submission queue full: submit and reap first");
	nvmeta_fill_sqe(dev, sqe, io);
	sqe->user_data = user_data;
	return 0;
}

int nvmeta_io_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
		   const struct nvmeta_io *io, struct nvmeta_status *st)
{
	struct nvmeta_status local;
	struct io_uring_cqe *cqe;
	int ret;

	ret = nvmeta_queue(dev, ring, io, 0);
	if (ret)
		return ret;
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret < 0)
		return nvmeta_fail(ret, "io_uring_submit: %s", strerror(-ret));
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return nvmeta_fail(ret, "io_uring_wait_cqe: %s", strerror(-ret));
	ret = nvmeta_status_decode(cqe, st ? st : &local);
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

int nvmeta_reap(struct io_uring *ring, unsigned int min, struct nvmeta_completion *out,
		unsigned int max)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;
	int ret;

	if (min) {
		ret = io_uring_wait_cqe_nr(ring, &cqe, min);
		if (ret)
			return nvmeta_fail(ret, "io_uring_wait_cqe_nr: %s", strerror(-ret));
	}
	while (n < max && !io_uring_peek_cqe(ring, &cqe)) {
		out[n].user_data = cqe->user_data;
		out[n].ret = nvmeta_status_decode(cqe, &out[n].status);
		io_uring_cqe_seen(ring, cqe);
		n++;
	}
	return n;
}
