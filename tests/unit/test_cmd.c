// SPDX-License-Identifier: MIT
/*
 * SQE encoding: the inline encoder of <nvmeta/core.h>, what it sets and
 * leaves to the caller, the tag space against a 128-bit reference, and
 * the validating road, which fills the very same bytes.  (CQE status
 * decoding is in test_status.c.)
 */
#include <errno.h>
#include <stdlib.h>
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

/* The command alone, as the inline encoder fills it. */
static void encode_cmd(const struct nvmeta_dev_info *info, const struct nvmeta_io *io,
			  struct nvme_uring_cmd *cmd)
{
	struct io_uring_sqe sqe[2];

	nvmeta_prep_cmd(sqe, -1, info, io);
	memcpy(cmd, sqe[0].cmd, sizeof(*cmd));
}

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
	encode_cmd(&dev.info, &io, &c);
	cr_assert_eq(c.cdw14, 1);
	cr_assert_eq(c.cdw3, 0xbeef);
}

Test(cmd, write_zeroes_carries_no_buffers)
{
	struct nvme_uring_cmd c;
	struct nvmeta_io io = { .opcode = NVMETA_OP_WRITE_ZEROES, .nlb = 16,
				.data = data, .data_len = 1 };

	encode_cmd(&dev.info, &io, &c);
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
	atomic_store(&dev.fast.stale, 1);
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -ESTALE);
	cr_assert(strstr(nvmeta_last_error(), "metadata_bytes=64"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "nvmeta_dev_refresh"));
	io.flags = NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -ESTALE);
	atomic_store(&dev.fast.stale, 0);
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0);
}

static struct nvmeta_io read8(void)
{
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = 16, .nlb = 8,
		.data = data, .data_len = 4096, .meta = meta, .meta_len = 64,
	};
	return io;
}

Test(cmd, sets_all_128_bytes_and_leaves_user_data_and_personality_zero)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = read8();

	memset(sqe, 0xa5, sizeof(sqe));
	nvmeta_prep_cmd(sqe, 9, &dev.info, &io);
	cr_assert_eq(sqe[0].opcode, IORING_OP_URING_CMD);
	cr_assert_eq(sqe[0].fd, 9);
	cr_assert_eq(sqe[0].cmd_op, NVME_URING_CMD_IO);
	cr_assert_eq(sqe[0].flags, 0);
	cr_assert_eq(sqe[0].user_data, 0);
	cr_assert_eq(sqe[0].personality, 0);
	cr_assert_eq(sqe[0].uring_cmd_flags, 0);
	cr_assert_eq(sqe[0].buf_index, 0);
	cr_assert_eq(sqe[0].ioprio, 0);
	cr_assert_eq(sqe[0].file_index, 0);
	cr_assert_eq(sqe[0].addr, 0);
	cr_assert_eq(sqe[0].len, 0);
	/* Every byte of the command the kernel reads: only the fields set. */
	{
		struct nvme_uring_cmd want = { .opcode = NVMETA_OP_READ, .nsid = dev.info.nsid,
					       .metadata = (uintptr_t)meta, .addr = (uintptr_t)data,
					       .metadata_len = 64, .data_len = 4096, .cdw10 = 16,
					       .cdw12 = 7 };

		cr_assert(!memcmp(sqe[0].cmd, &want, sizeof(want)));
	}
}

Test(cmd, fixed_file_and_fixed_buffer_are_taken_from_the_command)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = read8();

	io.flags = NVMETA_IO_FIXED_FILE | NVMETA_IO_FIXED_BUF;
	io.file_index = 3;
	io.buf_index = 17;
	nvmeta_prep_cmd(sqe, 9, &dev.info, &io);
	cr_assert_eq(sqe[0].fd, 3);
	cr_assert_eq(sqe[0].flags, IOSQE_FIXED_FILE);
	cr_assert_eq(sqe[0].uring_cmd_flags, IORING_URING_CMD_FIXED);
	cr_assert_eq(sqe[0].buf_index, 17);
	/* The data address stays: the kernel finds it inside buffer 17. */
	cr_assert_eq(((struct nvme_uring_cmd *)sqe[0].cmd)->addr, (uintptr_t)data);
}

Test(cmd, the_validating_road_fills_the_same_bytes)
{
	struct io_uring_sqe a[2], b[2];
	struct nvmeta_io io = read8();

	io.prinfo = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_REF;
	io.reftag = 0x1234567;
	io.apptag = 0xbeef;
	io.appmask = 0xffff;
	io.flags = NVMETA_IO_FUA | NVMETA_IO_FIXED_BUF;
	io.buf_index = 2;
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	cr_assert_eq(nvmeta_prep(&dev, a, &io), 0, "%s", nvmeta_last_error());
	nvmeta_prep_cmd(b, dev.fd, &dev.info, &io);
	/* All the kernel reads: the SQE's first half and the command. */
	cr_assert_eq(memcmp(a, b, offsetof(struct io_uring_sqe, cmd) + sizeof(struct nvme_uring_cmd)), 0);
}

/* The tag space as one 128-bit number, the way the spec draws it. */
static void reference_tags(unsigned int width, unsigned int sts, uint64_t ref, uint64_t st,
			   uint32_t *cdw14, uint32_t *cdw3, uint32_t *cdw2)
{
	unsigned __int128 field = (unsigned __int128)st << (width - sts) | ref;

	*cdw14 = (uint32_t)field;
	*cdw3 = width == 48 ? (uint32_t)(field >> 32) & 0xffff :
		width == 80 ? (uint32_t)(field >> 32) : 0;
	*cdw2 = width == 80 ? (uint32_t)(field >> 64) & 0xffff : 0;
}

static uint64_t random_bits(unsigned int bits)
{
	uint64_t v = (uint64_t)random() << 42 ^ (uint64_t)random() << 21 ^ (uint64_t)random();

	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

Test(cmd, tags_match_a_128_bit_reference_for_every_guard_and_storage_tag_size)
{
	static const struct { uint8_t guard; unsigned int width; } g[] = {
		{ 16, 32 }, { 64, 48 }, { 32, 80 },
	};
	uint32_t w14, w3, w2;
	unsigned int i, sts, n;

	srandom(7);
	for (i = 0; i < 3; i++) {
		for (sts = 0; sts <= g[i].width && sts <= 64; sts++) {
			for (n = 0; n < 64; n++) {
				struct io_uring_sqe sqe[2];
				struct nvme_uring_cmd *c = (struct nvme_uring_cmd *)sqe[0].cmd;
				struct nvmeta_io io = read8();
				unsigned int ref_bits = g[i].width - sts;

				dev.info.guard_bits = g[i].guard;
				dev.info.sts = sts;
				io.reftag = random_bits(ref_bits > 64 ? 64 : ref_bits);
				io.storage_tag = sts ? random_bits(sts) : 0;
				if (n == 0) {	/* all ones: every bit must land */
					io.reftag = ref_bits >= 64 ? ~0ull : (1ull << ref_bits) - 1;
					io.storage_tag = sts >= 64 ? ~0ull : (1ull << sts) - 1;
				}
				nvmeta_prep_cmd(sqe, 1, &dev.info, &io);
				reference_tags(g[i].width, sts, io.reftag, io.storage_tag, &w14, &w3, &w2);
				cr_assert_eq(c->cdw14, w14, "guard %u sts %u", g[i].guard, sts);
				cr_assert_eq(c->cdw3, w3, "guard %u sts %u", g[i].guard, sts);
				cr_assert_eq(c->cdw2, w2, "guard %u sts %u", g[i].guard, sts);
				cr_assert_eq(nvmeta_io_validate(&dev, &io), 0, "guard %u sts %u: %s",
					     g[i].guard, sts, nvmeta_last_error());
			}
		}
	}
}

Test(cmd, reserved_fields_are_refused_even_raw)
{
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io = read8();

	io.resv[2] = 1;
	cr_assert_eq(nvmeta_io_validate(&dev, &io), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "resv[2]"), "%s", nvmeta_last_error());
	io.flags = NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EINVAL);
	io.resv[2] = 0;
	io.resv0 = 1;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "resv0"), "%s", nvmeta_last_error());
}

Test(cmd, version_check_takes_older_minors_of_the_same_major_only)
{
	cr_assert_eq(NVMETA_VERSION_CHECK(), 0);
	cr_assert_eq(nvmeta_version_check(NVMETA_VERSION_MAJOR, 0), 0);
	cr_assert_eq(nvmeta_version_check(NVMETA_VERSION_MAJOR, NVMETA_VERSION_MINOR + 1), -ENOTSUP);
	cr_assert(strstr(nvmeta_last_error(), nvmeta_version()), "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_version_check(NVMETA_VERSION_MAJOR + 1, 0), -ENOTSUP);
}
