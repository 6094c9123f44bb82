// SPDX-License-Identifier: MIT
/*
 * overhead-icount: one loop shape of nvmeta-overhead, a fixed number of
 * times, for counting instructions under callgrind, which counts the
 * same whatever else the host runs (nvmeta-overhead's nanoseconds do
 * not).  Not installed.  Instructions a command of a loop are the
 * difference of two runs' totals, divided by the count:
 *
 *	valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *		build/bench/overhead-icount LOOP 20000
 *
 * minus the same with LOOP "none".  The commands go to /dev/null with
 * the synthetic 512+8 description nvmeta-overhead uses natively.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

static const char *const loops[] = {
	"none", "raw-sync", "io_sync", "raw-qd1", "queue+reap-qd1", "raw-qd32", "queue+reap-qd32",
};

static char data[32][512] __attribute__((aligned(4096)));
static char meta[32][8];

static int synthetic(struct nvmeta_dev *dev)
{
	struct nvmeta_dev_info *in = &dev->info;
	size_t i;

	memset(dev, 0, sizeof(*dev));
	for (i = 0; i < ARRAY_SIZE(dev->attr_fds); i++)
		dev->attr_fds[i] = -1;
	dev->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return -1;
	in->kernel = (struct nvmeta_kernel){ .major = 6, .minor = 12 };
	in->nsid = 1;
	in->nsze = 1 << 20;
	in->lba_size = 512;
	in->ms = 8;
	in->guard_bits = 16;
	in->limits.max_hw_sectors_kb = 512;
	in->limits.logical_block_size = 512;
	nvmeta_fast_decide(dev);
	return 0;
}

static struct nvmeta_io io_at(unsigned int i)
{
	return (struct nvmeta_io){
		.opcode = NVMETA_OP_READ, .slba = i, .nlb = 1, .data = data[i],
		.data_len = 512, .meta = meta[i], .meta_len = 8,
	};
}

/* @qd hand-encoded reads, submitted and reaped as an application would. */
static void raw(struct nvmeta_dev *dev, struct io_uring *ring, unsigned int qd)
{
	struct io_uring_cqe *cqe;
	unsigned int i, head, seen = 0;

	for (i = 0; i < qd; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct nvmeta_io io = io_at(i);

		nvmeta_prep_cmd(sqe, dev->fd, &dev->info, &io);
		sqe->user_data = i;
	}
	io_uring_submit_and_wait(ring, qd);
	io_uring_for_each_cqe(ring, head, cqe)
		seen++;
	io_uring_cq_advance(ring, seen);
}

static void lib(struct nvmeta_dev *dev, struct io_uring *ring, unsigned int qd)
{
	struct nvmeta_completion comp[32];
	unsigned int i;

	for (i = 0; i < qd; i++) {
		struct nvmeta_io io = io_at(i);

		nvmeta_queue(dev, ring, &io, i);
	}
	io_uring_submit_and_wait(ring, qd);
	nvmeta_reap(ring, qd, comp, qd);
}

static void raw_sync(struct nvmeta_dev *dev, struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct nvmeta_io io = io_at(0);
	struct io_uring_cqe *cqe;

	nvmeta_prep_cmd(sqe, dev->fd, &dev->info, &io);
	io_uring_submit_and_wait(ring, 1);
	if (!io_uring_peek_cqe(ring, &cqe))
		io_uring_cqe_seen(ring, cqe);
}

int main(int argc, char **argv)
{
	struct nvmeta_io io = io_at(0);
	struct nvmeta_status st;
	struct nvmeta_dev dev;
	struct io_uring ring;
	unsigned long n, k;
	size_t loop;

	for (loop = 0; argc == 3 && loop < ARRAY_SIZE(loops); loop++)
		if (!strcmp(argv[1], loops[loop]))
			break;
	if (argc != 3 || loop == ARRAY_SIZE(loops)) {
		fprintf(stderr, "usage: overhead-icount none|raw-sync|io_sync|raw-qd1|queue+reap-qd1|raw-qd32|queue+reap-qd32 COUNT\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);
	if (synthetic(&dev) || nvmeta_ring_init(&ring, 64)) {
		fprintf(stderr, "overhead-icount: set-up failed: %s\n", nvmeta_last_error());
		return 1;
	}
	for (k = 0; k < n; k++) {
		switch (loop) {
		case 1: raw_sync(&dev, &ring); break;
		case 2: nvmeta_io_sync(&dev, &ring, &io, &st); break;
		case 3: raw(&dev, &ring, 1); break;
		case 4: lib(&dev, &ring, 1); break;
		case 5: raw(&dev, &ring, 32); break;
		case 6: lib(&dev, &ring, 32); break;
		default: break;
		}
	}
	nvmeta_ring_exit(&ring);
	close(dev.fd);
	return 0;
}
