// SPDX-License-Identifier: MIT
/*
 * A small program that links the installed library and calls it: the
 * version check, the kernel, and the inline encoder from the installed
 * headers alone.
 */
#include <stdio.h>
#include <nvmeta.h>

int main(void)
{
	struct nvmeta_dev_info in = { .nsid = 1, .guard_bits = 16 };
	struct nvmeta_io io = { .opcode = NVMETA_OP_READ, .slba = 8, .nlb = 2 };
	struct io_uring_sqe *sqe;
	struct nvme_uring_cmd *c;
	struct nvmeta_kernel k;
	struct io_uring ring;

	if (NVMETA_VERSION_CHECK()) {
		fprintf(stderr, "%s\n", nvmeta_last_error());
		return 1;
	}
	if (nvmeta_kernel_read(&k))
		return 1;
	/* An SQE from a real ring, as an application gets it: compilers
	 * must see nothing to warn about in the inline encoder. */
	if (nvmeta_ring_init(&ring, 4))
		return 1;
	sqe = io_uring_get_sqe(&ring);
	nvmeta_prep_cmd(sqe, 3, &in, &io);
	c = (struct nvme_uring_cmd *)sqe->cmd;
	if (sqe->opcode != IORING_OP_URING_CMD || c->cdw10 != 8 || c->cdw12 != 1)
		return 1;
	io_uring_queue_exit(&ring);
	printf("nvmeta %s on kernel %u.%u\n", nvmeta_version(), k.major, k.minor);
	return 0;
}
