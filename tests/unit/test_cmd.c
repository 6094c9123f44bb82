// SPDX-License-Identifier: MIT
/* SQE encoding and CQE status decoding. */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"

static struct nvmeta_dev dev;
static char data[4096], meta[64];

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.fd = 7;
	dev.info.nsid = 3;
	dev.info.nsze = 1ull << 40;
	dev.info.lba_size = 512;
	dev.info.ms = 8;
	dev.info.pi_size = 8;
	dev.info.guard_bits = 16;
	dev.info.limits.max_hw_sectors_kb = 512;
}

TestSuite(cmd, .init = setup);

Test(cmd, read_fills_a_big_sqe)
{
	struct io_uring_sqe sqe[2];
	struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)sqe[0].cmd;
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = 0x123456789ull, .nlb = 8,
		.data = data, .data_len = 4096, .meta = meta, .meta_len = 64,
		.prinfo = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_REF, .reftag = 0xabcdef01,
		.apptag = 0x1234, .appmask = 0xffff, .flags = NVMETA_IO_FUA,
		.timeout_ms = 5000,
	};

	memset(sqe, 0xa5, sizeof(sqe));
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0);
	cr_assert_eq(sqe[0].opcode, IORING_OP_URING_CMD);
	cr_assert_eq(sqe[0].fd, 7);
	cr_assert_eq(sqe[0].cmd_op, NVME_URING_CMD_IO);
	cr_assert_eq(sqe[0].flags, 0);
	cr_assert_eq(c->opcode, 0x02);
	cr_assert_eq(c->nsid, 3);
	cr_assert_eq(c->addr, (uintptr_t)data);
	cr_assert_eq(c->data_len, 4096);
	cr_assert_eq(c->metadata, (uintptr_t)meta);
	cr_assert_eq(c->metadata_len, 64);
	cr_assert_eq(c->cdw10, 0x23456789);
	cr_assert_eq(c->cdw11, 0x1);
	cr_assert_eq(c->cdw12, 7 | (5u << 26) | (1u << 30));
	cr_assert_eq(c->cdw14, 0xabcdef01);
	cr_assert_eq(c->cdw15, 0xffff1234);
	cr_assert_eq(c->cdw3, 0);
	cr_assert_eq(c->timeout_ms, 5000);
}

Test(cmd, sixty_four_bit_guard_puts_reftag_high_bits_in_cdw3)
{
	struct nvme_uring_cmd c;
	struct nvmeta_io io = { .opcode = NVMETA_OP_WRITE, .nlb = 1,
				.reftag = 0xbeef00000001ull };

	dev.info.guard_bits = 64;
	nvmeta_encode(&dev.info, &io, &c);
	cr_assert_eq(c.cdw14, 1);
	cr_assert_eq(c.cdw3, 0xbeef);
}

Test(cmd, write_zeroes_carries_no_buffers)
{
	struct nvme_uring_cmd c;
	struct nvmeta_io io = { .opcode = NVMETA_OP_WRITE_ZEROES, .nlb = 16,
				.data = data, .data_len = 1 };

	nvmeta_encode(&dev.info, &io, &c);
	cr_assert_eq(c.addr, 0);
	cr_assert_eq(c.data_len, 0);
	cr_assert_eq(c.cdw12, 15);
}

Test(cmd, prep_refuses_invalid_io_and_leaves_sqe_alone)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = { .opcode = NVMETA_OP_READ, .nlb = 1,
				.data = data, .data_len = 512, .meta = meta, .meta_len = 4 };

	memset(sqe, 0xa5, sizeof(sqe));
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EOVERFLOW);
	cr_assert_eq(sqe[0].opcode, 0xa5);
	io.flags = NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0);
}

static int decode(int res, struct nvmeta_status *st)
{
	struct {
		struct io_uring_cqe cqe;
		uint64_t extra[2];
	} big = { .cqe = { .res = res } };

	big.cqe.big_cqe[0] = 0x42;
	return nvmeta_status_decode(&big.cqe, st);
}

Test(cmd, status_decoding_separates_errno_from_nvme_status)
{
	struct nvmeta_status st;

	cr_assert_eq(decode(0, &st), 0);
	cr_assert_eq(st.result, 0x42);
	cr_assert_str_eq(nvmeta_status_name(&st), "Success");

	cr_assert_eq(decode(-EINVAL, &st), -EINVAL);
	cr_assert_eq(st.err, -EINVAL);
	cr_assert_eq(st.status, 0);

	cr_assert_eq(decode(0x4282, &st), -EIO);
	cr_assert_eq(st.err, 0);
	cr_assert_eq(st.sct, 2);
	cr_assert_eq(st.sc, 0x82);
	cr_assert(st.dnr);
	cr_assert_str_eq(nvmeta_status_name(&st), "End-to-end Guard Check Error");
	cr_assert(strstr(nvmeta_last_error(), "Guard Check"));

	cr_assert_eq(decode(0x080, &st), -EIO);
	cr_assert_not(st.dnr);
	cr_assert_str_eq(nvmeta_status_name(&st), "LBA Out of Range");
	cr_assert_eq(decode(0x3ff, &st), -EIO);
	cr_assert_str_eq(nvmeta_status_name(&st), "Unknown");
}

static struct nvme_uring_cmd *encode_tags(uint8_t guard, uint8_t sts, uint64_t reftag,
					  uint64_t stag)
{
	static struct io_uring_sqe sqe[2];
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .nlb = 1, .data = data, .data_len = 512,
		.meta = meta, .meta_len = 16, .reftag = reftag, .storage_tag = stag,
	};

	dev.info.guard_bits = guard;
	dev.info.sts = sts;
	dev.info.ms = 16;
	dev.info.pi_size = guard == 16 ? 8 : 16;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0, "%s", nvmeta_last_error());
	return (struct nvme_uring_cmd *)sqe[0].cmd;
}

/* The storage tag takes the top STS bits of the tag space, the reference
 * tag the bits below; the space is 32, 48 or 80 bits by guard size. */
Test(cmd, storage_and_reference_tags_fill_cdw2_cdw3_cdw14)
{
	struct nvme_uring_cmd *c;

	c = encode_tags(16, 8, 0x00abcdef, 0x5a);
	cr_assert_eq(c->cdw14, 0x5aabcdef);
	cr_assert_eq(c->cdw3, 0);
	cr_assert_eq(c->cdw2, 0);
	c = encode_tags(64, 0, 0xfedcba987654ull, 0);
	cr_assert_eq(c->cdw14, 0xba987654);
	cr_assert_eq(c->cdw3, 0xfedc);
	c = encode_tags(64, 16, 0x12345678, 0xbeef);
	cr_assert_eq(c->cdw14, 0x12345678);
	cr_assert_eq(c->cdw3, 0xbeef);
	c = encode_tags(32, 16, 0x0123456789abcdefull, 0xbeef);
	cr_assert_eq(c->cdw14, 0x89abcdef);
	cr_assert_eq(c->cdw3, 0x01234567);
	cr_assert_eq(c->cdw2, 0xbeef);
	c = encode_tags(32, 48, 0xffffffff, 0x123456789abcull);
	cr_assert_eq(c->cdw14, 0xffffffff);
	cr_assert_eq(c->cdw3, 0x56789abc);
	cr_assert_eq(c->cdw2, 0x1234);
	c = encode_tags(32, 64, 0xffff, 0x8000000000000001ull);
	cr_assert_eq(c->cdw14, 0x0001ffff);
	cr_assert_eq(c->cdw3, 0x00000000);
	cr_assert_eq(c->cdw2, 0x8000);
}

/* RAW skips validation, never the encoding: nlb 0 went out as 65,536
 * blocks and 65,537 as 1; prinfo 0x10 as 0. */
Test(cmd, raw_mode_refuses_what_the_command_cannot_carry)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .nlb = 0, .flags = NVMETA_IO_RAW,
		.data = data, .data_len = 512,
	};

	memset(sqe, 0xa5, sizeof(sqe));
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EDOM);
	cr_assert(strstr(nvmeta_last_error(), "nlb 0"));
	io.nlb = 65537;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EDOM);
	io.nlb = 65536;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0);
	cr_assert_eq(((struct nvme_uring_cmd *)sqe[0].cmd)->cdw12 & 0xffff, 0xffff);
	io.prinfo = 0x10;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EINVAL);
	io.prinfo = 0;
	io.reftag = 1ull << 32;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EINVAL);
	/* What RAW is for still goes through: a short metadata buffer. */
	io.reftag = 0;
	io.nlb = 8;
	io.meta = meta;
	io.meta_len = 8;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0);
}

/* A device whose format changed under it refuses every command, RAW too. */
Test(cmd, a_stale_device_refuses_commands)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .nlb = 1, .data = data, .data_len = 512,
		.meta = meta, .meta_len = 8,
	};

	strcpy(dev.info.generic_path, "/dev/ng0n1");
	strcpy(dev.stale_why, "the namespace's format changed (metadata_bytes=64, was metadata_bytes=8)");
	atomic_store(&dev.stale, 1);
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -ESTALE);
	cr_assert(strstr(nvmeta_last_error(), "metadata_bytes=64"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "nvmeta_dev_refresh"));
	io.flags = NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -ESTALE);
	atomic_store(&dev.stale, 0);
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0);
}
