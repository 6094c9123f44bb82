// SPDX-License-Identifier: MIT
/*
 * The attribute road without an NVMe device: what nvmeta_prep_rw() puts
 * into the SQE and the attribute, what it refuses before touching the
 * SQE, and a real read and write through nvmeta_rw_sync() on a plain
 * (16-byte CQE) ring against an O_DIRECT file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "fake_bdev.h"

static struct nvmeta_bdev b;
static char path[] = "/var/tmp/nvmeta-rw-XXXXXX";
static unsigned char *data;
static unsigned char meta[64];

static void setup(void)
{
	fake_bdev(&b, path, 4096);
	b.info.limits.dma_alignment = 511;
	data = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(data, MAP_FAILED);
}

static void teardown(void)
{
	close(b.fd);
	munmap(data, 8 * 4096);
}

TestSuite(rw, .init = setup, .fini = teardown);

static struct nvmeta_rw read2(void)
{
	struct nvmeta_rw rw = { .io = {
		.opcode = NVMETA_OP_READ, .slba = 3, .nlb = 2, .data = data, .data_len = 8192,
		.meta = meta, .meta_len = 16, .reftag = 3, .apptag = 0x77,
		.prinfo = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_REF } };
	return rw;
}

Test(rw, the_attribute_carries_the_checks_the_seed_and_the_buffer)
{
	struct io_uring_sqe sqe;
	struct nvmeta_rw rw = read2();

	memset(&sqe, 0xa5, sizeof(sqe));
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), 0, "%s", nvmeta_last_error());
	cr_assert_eq(sqe.opcode, IORING_OP_READ);
	cr_assert_eq(sqe.fd, b.fd);
	cr_assert_eq(sqe.off, 3 * 4096);
	cr_assert_eq(sqe.addr, (uintptr_t)data);
	cr_assert_eq(sqe.len, 8192);
	cr_assert_eq(sqe.addr3, (uintptr_t)&rw.attr);
	cr_assert_eq(sqe.__pad2[0], 1);		/* IORING_RW_ATTR_FLAG_PI */
	cr_assert_eq(rw.attr.flags, 1 | 2);	/* GUARD | REFTAG */
	cr_assert_eq(rw.attr.app_tag, 0x77);
	cr_assert_eq(rw.attr.len, 16);
	cr_assert_eq(rw.attr.addr, (uintptr_t)meta);
	cr_assert_eq(rw.attr.seed, 3);
	cr_assert_eq(rw.attr.rsvd, 0);
}

Test(rw, a_closed_road_and_bad_commands_are_refused_before_the_sqe)
{
	struct io_uring_sqe sqe;
	struct nvmeta_rw rw = read2();

	memset(&sqe, 0xa5, sizeof(sqe));
	b.road = -EOPNOTSUPP;
	strcpy(b.road_why, "the kernel's io_uring lacks IORING_FEAT_RW_ATTR");
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), -EOPNOTSUPP);
	cr_assert(strstr(nvmeta_last_error(), "IORING_FEAT_RW_ATTR"), "%s", nvmeta_last_error());
	cr_assert_eq(sqe.opcode, 0xa5);
	b.road = 0;
	rw.io.meta_len = 8;	/* the kernel wants exactly nlb x ms */
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), -EOVERFLOW);
	rw = read2();
	rw.io.data = data + 1;
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), -EFAULT);
	rw = read2();
	rw.io.opcode = NVMETA_OP_COMPARE;
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), -EINVAL);
	rw = read2();
	rw.io.slba = UINT64_MAX / 4096;
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), -ERANGE);
	rw = read2();
	rw.io.prinfo = NVMETA_PRACT;
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), -EINVAL);
	rw = read2();
	strcpy(b.info.limits.integrity_format, "none");
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), -EPROTO);
	cr_assert_eq(sqe.opcode, 0xa5);
}

/* Data alone needs no attribute: a write and a read back through a real
 * ring with 16-byte CQEs, which the sync wait must index as such. */
Test(rw, data_round_trips_on_a_plain_ring)
{
	struct nvmeta_rw w = { .io = { .opcode = NVMETA_OP_WRITE, .slba = 5, .nlb = 2,
				       .data = data, .data_len = 8192 } };
	struct nvmeta_rw r = w;
	struct io_uring ring;
	int i;

	r.io.opcode = NVMETA_OP_READ;
	r.io.data = data + 8192;
	cr_assert_eq(io_uring_queue_init(4, &ring, 0), 0);
	for (i = 0; i < 8192; i++)
		data[i] = (unsigned char)(i * 7);
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &w), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &r), 0, "%s", nvmeta_last_error());
	cr_assert_eq(memcmp(data, data + 8192, 8192), 0);
	io_uring_queue_exit(&ring);
}

Test(rw, only_a_block_device_of_a_namespace_opens)
{
	struct nvmeta_bdev *bd;

	cr_assert_eq(nvmeta_bdev_open("/dev/null", &bd), -ENOTBLK);
	cr_assert_eq(nvmeta_bdev_open("/nonexistent/nvme0n1", &bd), -ENOENT);
}

static struct nvmeta_rw read_plain(uint64_t slba, uint32_t nlb, uint64_t user_data)
{
	struct nvmeta_rw rw = { .io = {
		.opcode = NVMETA_OP_READ, .slba = slba, .nlb = nlb, .data = data,
		.data_len = nlb * 4096 }, .user_data = user_data };
	return rw;
}

/*
 * Issue 16, item 5: nvmeta_reap() decoded an attribute-road completion
 * (the bytes moved) as a passthrough status, so a good 4096-byte read
 * came back as -EIO and a short one went unnoticed.  Commands queued with
 * nvmeta_queue_rw() are decoded by their road.
 */
Test(rw, reaped_attribute_road_commands_are_decoded_as_transfers)
{
	struct nvmeta_rw whole = read_plain(3, 1, 41), cut = read_plain(255, 2, 42);
	struct nvmeta_completion c[4];
	struct io_uring ring;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_queue_rw(&b, &ring, &whole), 0, "%s", nvmeta_last_error());
	/* The file ends after block 255: a read of 255+2 moves one block. */
	cr_assert_eq(nvmeta_queue_rw(&b, &ring, &cut), 0, "%s", nvmeta_last_error());
	cr_assert_eq(io_uring_submit(&ring), 2);
	cr_assert_eq(nvmeta_reap(&ring, 2, c, 4), 2);
	cr_assert_eq(c[0].user_data, 41);
	cr_assert_eq(c[0].ret, 0, "%d", c[0].ret);
	cr_assert_eq(c[1].user_data, 42);
	cr_assert_eq(c[1].ret, -EIO);
	nvmeta_ring_exit(&ring);
}

Test(rw, a_completion_result_means_bytes_moved)
{
	struct nvmeta_rw rw = read_plain(3, 2, 0);

	cr_assert_eq(nvmeta_rw_complete(&rw, 8192), 0);
	cr_assert_eq(nvmeta_rw_complete(&rw, 512), -EIO);
	cr_assert(strstr(nvmeta_last_error(), "short transfer, 512 of 8192 bytes"), "%s",
		  nvmeta_last_error());
	cr_assert_eq(nvmeta_rw_complete(&rw, 2048), -EIO, "a multiple of 2 KiB passes no more");
	cr_assert_eq(nvmeta_rw_complete(&rw, -EILSEQ), -EILSEQ);
	cr_assert(strstr(nvmeta_last_error(), "integrity check failed"), "%s", nvmeta_last_error());
}

/* Issue 16, item 1, on this road: the failed write is a NOP by the time
 * nvmeta_rw_sync() returns, and never reaches the file. */
Test(rw, a_sync_write_that_failed_to_submit_never_lands)
{
	struct io_uring_params p = { .flags = IORING_SETUP_R_DISABLED };
	struct nvmeta_rw w = read_plain(5, 1, 0), r = read_plain(5, 1, 0), other = read_plain(6, 1, 0);
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	unsigned int i;

	w.io.opcode = NVMETA_OP_WRITE;
	r.io.data = data + 4096;
	memset(data, 0xa5, 4096);
	cr_assert_eq(io_uring_queue_init_params(4, &ring, &p), 0);
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &w), -EBADFD);
	cr_assert(strstr(nvmeta_last_error(), "nvme9n1"), "%s", nvmeta_last_error());
	cr_assert_eq(syscall(__NR_io_uring_register, ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
			     NULL, 0), 0);
	memset(data, 0x5a, 4096);	/* the caller reuses its buffer */
	other.io.data = data + 8192;
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &other), 0, "%s", nvmeta_last_error());
	/* What the failed call left went out with that read: its completion
	 * is the one left in the ring. */
	cr_assert_eq(io_uring_wait_cqe(&ring, &cqe), 0);
	io_uring_cqe_seen(&ring, cqe);
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &r), 0, "%s", nvmeta_last_error());
	for (i = 0; i < 4096; i++)
		cr_assert_eq(data[4096 + i], 0, "byte %u of the block is 0x%x", i, data[4096 + i]);
	nvmeta_ring_exit(&ring);
}

/* FS_IOC_GETLBMD_CAP's guard types (the kernel's LBMD_PI_CSUM_*): only
 * those of NVMe PI are known; any other closes the road, naming it,
 * instead of being taken for a 16-bit guard. */
Test(rw, only_the_guard_types_of_nvme_pi_open_the_road)
{
	struct nvmeta_lbmd l = { .known = true, .size = 8, .pi_size = 8, .guard_type = 2 };
	char want[32];
	unsigned int type;

	cr_assert_eq(nvmeta_lbmd_guard_bits(&l), 16);
	l.size = l.pi_size = 16, l.guard_type = 4;
	cr_assert_eq(nvmeta_lbmd_guard_bits(&l), 64);
	l.pi_size = 0, l.guard_type = 0;	/* metadata without PI */
	cr_assert_eq(nvmeta_lbmd_guard_bits(&l), 0);
	l.pi_size = 8, l.guard_type = 1;	/* IP checksum: not NVMe PI */
	cr_assert_eq(nvmeta_lbmd_guard_bits(&l), -EOPNOTSUPP);
	cr_assert(strstr(nvmeta_last_error(), "guard type 1 (IP checksum)"), "%s",
		  nvmeta_last_error());
	for (type = 3; type < 256; type++) {
		if (type == 4)
			continue;
		l.guard_type = (uint8_t)type;
		cr_assert_eq(nvmeta_lbmd_guard_bits(&l), -EOPNOTSUPP, "guard type %u", type);
		snprintf(want, sizeof(want), "guard type %u ", type);
		cr_assert(strstr(nvmeta_last_error(), want), "%s", nvmeta_last_error());
	}
	l.guard_type = 0;			/* a PI tuple without a guard */
	cr_assert_eq(nvmeta_lbmd_guard_bits(&l), -EOPNOTSUPP);
	cr_assert(strstr(nvmeta_last_error(), "guard type 0"), "%s", nvmeta_last_error());
}

/*
 * The probe's verdict from what its two reads of block 0 left in metadata
 * filled with the pattern and with its complement.  Whatever the block
 * holds, even one of the patterns, a kernel that honours the attribute
 * writes it into both; one that ignores it leaves both patterns.
 */
Test(rw, the_road_probe_is_not_fooled_by_what_block_0_holds)
{
	const unsigned char fill0 = NVMETA_ROAD_PROBE_FILL, fill1 = (unsigned char)~fill0;
	static const size_t sizes[] = { 1, 8, 16, 64, 256 };
	unsigned char a[256], b1[256];
	size_t i, ms;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ms = sizes[i];
		memset(a, fill0, ms);			/* ignored */
		memset(b1, fill1, ms);
		cr_assert_not(nvmeta_road_probe_honoured(a, b1, ms), "ms %zu: ignored", ms);
		memset(a, 0, ms);			/* honoured: zeros */
		memset(b1, 0, ms);
		cr_assert(nvmeta_road_probe_honoured(a, b1, ms), "ms %zu: zeros", ms);
		memset(a, fill0, ms);			/* the block holds pattern 0 */
		memset(b1, fill0, ms);
		cr_assert(nvmeta_road_probe_honoured(a, b1, ms), "ms %zu: block holds 0x%02x", ms,
			  fill0);
		memset(a, fill1, ms);			/* ... or pattern 1 */
		memset(b1, fill1, ms);
		cr_assert(nvmeta_road_probe_honoured(a, b1, ms), "ms %zu: block holds 0x%02x", ms,
			  fill1);
		memset(a, 0x11, ms);			/* one read's last byte not written */
		memset(b1, 0x11, ms);
		a[ms - 1] = fill0;
		cr_assert_not(nvmeta_road_probe_honoured(a, b1, ms), "ms %zu: a byte left", ms);
		memset(b1, 0x22, ms);			/* two reads that disagree */
		memset(a, 0x11, ms);
		cr_assert_not(nvmeta_road_probe_honoured(a, b1, ms), "ms %zu: disagree", ms);
	}
}

/* A sync call's failure names the device before what failed, whole. */
Test(rw, a_short_sync_read_names_the_device_and_the_blocks)
{
	struct nvmeta_rw r = read_plain(255, 2, 0);
	struct io_uring ring;

	cr_assert_eq(nvmeta_ring_init(&ring, 4), 0);
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &r), -EIO);
	cr_assert_str_eq(nvmeta_last_error(),
			 "nvme9n1: read of blocks 255+2: short transfer, 4096 of 8192 bytes");
	nvmeta_ring_exit(&ring);
}
