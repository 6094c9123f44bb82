// SPDX-License-Identifier: MIT
/* Every bad input gets its own errno and a message naming the problem. */
#include <errno.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "fake_info.h"
#include "expect_validation.h"

static struct nvmeta_dev_info info;
static char data[64 * 1024];
static char meta[1024];

static void setup(void)
{
	fake_info_512_8(&info);
	info.mdts_bytes = 32 * 1024;
	info.oncs = NVME_CTRL_ONCS_COMPARE;
}

TestSuite(validate, .init = setup);

static struct nvmeta_io rw(uint8_t op, uint32_t nlb)
{
	struct nvmeta_io io = {
		.opcode = op, .nlb = nlb, .slba = 0,
		.data = data, .data_len = nlb * 512,
		.meta = meta, .meta_len = nlb * 8,
	};
	return io;
}

static void expect(const struct nvmeta_io *io, int err, const char *words)
{
	expect_validation(&info, io, err, words);
}

Test(validate, good_read_and_write_pass)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 8);

	expect(&io, 0, NULL);
	io.opcode = NVMETA_OP_WRITE;
	expect(&io, 0, NULL);
	io.meta_len += 100;	/* longer is harmless */
	expect(&io, 0, NULL);
}

Test(validate, short_metadata_is_refused_before_the_device_overruns_it)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 8);

	io.meta_len -= 8;
	expect(&io, -EOVERFLOW, "short");
}

Test(validate, missing_metadata_buffer)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 2);

	io.meta = NULL;
	io.meta_len = 0;
	expect(&io, -ENODATA, "metadata buffer");
}

Test(validate, pract_with_pi_only_metadata_needs_no_buffer)
{
	struct nvmeta_io io = rw(NVMETA_OP_WRITE, 2);

	info.pi_type = 1;
	io.meta = NULL;
	io.meta_len = 0;
	io.prinfo = NVMETA_PRACT;
	expect(&io, 0, NULL);
	info.ms = 16;	/* PI plus 8 user bytes: those still move */
	expect(&io, -ENODATA, NULL);
}

Test(validate, metadata_on_a_namespace_without_metadata)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 1);

	info.ms = 0;
	expect(&io, -EPROTO, "no metadata");
}

Test(validate, separate_metadata_on_extended_lba)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 2);

	info.extended_lba = true;
	io.data_len = 2 * 520;
	expect(&io, -EPROTO, "extended LBA");
	io.meta = NULL;
	io.meta_len = 0;
	expect(&io, 0, NULL);
	io.data_len = 2 * 512;
	expect(&io, -EMSGSIZE, "extended LBA");
}

Test(validate, data_length_must_match_blocks)
{
	struct nvmeta_io io = rw(NVMETA_OP_WRITE, 4);

	io.data_len = 3 * 512;
	expect(&io, -EMSGSIZE, "data length 1536");
}

Test(validate, buffer_and_length_go_together)
{
	struct nvmeta_io io = rw(NVMETA_OP_WRITE, 1);

	io.data = NULL;
	expect(&io, -EFAULT, "data buffer");
	io = rw(NVMETA_OP_WRITE, 1);
	io.meta_len = 0;
	expect(&io, -EFAULT, "metadata buffer");
}

Test(validate, block_count_limits)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 1);

	io.nlb = 0;
	expect(&io, -EDOM, "nlb 0");
	io.nlb = 65537;
	expect(&io, -EDOM, NULL);
}

Test(validate, range_within_namespace)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 8);

	io.slba = 993;
	expect(&io, -ERANGE, "namespace size 1000");
	io.slba = 992;
	expect(&io, 0, NULL);
	io.slba = UINT64_MAX;
	expect(&io, -ERANGE, NULL);
}

Test(validate, transfer_size_against_mdts_and_max_hw_sectors)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 65);

	expect(&io, -E2BIG, "MDTS");
	info.mdts_bytes = 0;
	info.limits.max_hw_sectors_kb = 16;
	expect(&io, -E2BIG, "max_hw_sectors_kb");
}

Test(validate, opcodes_and_oncs)
{
	struct nvmeta_io io = rw(NVMETA_OP_COMPARE, 1);

	expect(&io, 0, NULL);
	io = (struct nvmeta_io){ .opcode = NVMETA_OP_WRITE_ZEROES, .nlb = 4 };
	expect(&io, -EOPNOTSUPP, "write zeroes");
	info.oncs |= NVME_CTRL_ONCS_WRITE_ZEROES;
	expect(&io, 0, NULL);
	io.data = data;
	io.data_len = 512;
	expect(&io, -EFAULT, "transfers no data");
	io = rw(0x7f, 1);
	expect(&io, -EINVAL, "opcode 0x7f");
	io = rw(NVMETA_OP_READ, 1);
	io.prinfo = 0x10;
	expect(&io, -EINVAL, "prinfo");
}

Test(validate, raw_flag_skips_everything)
{
	struct nvmeta_dev dev = { .fd = -1 };
	struct nvmeta_io io = rw(NVMETA_OP_READ, 8);

	dev.info = info;
	io.meta_len = 1;
	cr_assert_eq(nvmeta_io_validate(&dev, &io), -EOVERFLOW);
	io.flags = NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_io_validate(&dev, &io), 0);
}

/* Extended LBA, PI type 1, metadata exactly the 8-byte PI: with PRACT the
 * controller inserts or strips the PI and nlb x 512 bytes move.  The lab's
 * device left 32 of 2,080 bytes untouched when nlb x 520 was demanded. */
Test(validate, extended_lba_with_pract_and_pi_only_metadata_moves_data_only)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 4);

	info.extended_lba = true;
	info.pi_type = 1;
	io.meta = NULL;
	io.meta_len = 0;
	io.prinfo = NVMETA_PRACT;
	io.data_len = 4 * 512;
	expect(&io, 0, NULL);
	io.data_len = 4 * 520;
	expect(&io, -EMSGSIZE, "need 2048");
	cr_assert_eq(nvmeta_io_block_bytes(&info, &io), 512);
	/* Without PRACT the PI travels inside the data buffer. */
	io.prinfo = NVMETA_PRCHK_GUARD;
	expect(&io, 0, NULL);
	io.data_len = 4 * 512;
	expect(&io, -EMSGSIZE, "extended LBA");
	/* Metadata larger than the PI moves even with PRACT. */
	info.ms = 16;
	io.prinfo = NVMETA_PRACT;
	io.data_len = 4 * 528;
	expect(&io, 0, NULL);
}

Test(validate, tags_wider_than_the_format_are_refused)
{
	struct nvmeta_io io = rw(NVMETA_OP_WRITE, 1);

	io.reftag = 0xffffffffull;
	expect(&io, 0, NULL);
	io.reftag = 1ull << 32;
	expect(&io, -EINVAL, "reference tag 0x100000000 does not fit the 32 bits");
	info.guard_bits = 64;
	info.pi_size = 16;
	info.ms = 16;
	io.meta_len = 16;
	expect(&io, 0, NULL);
	io.reftag = 1ull << 48;
	expect(&io, -EINVAL, "48 bits");
	info.sts = 8;
	io.reftag = (1ull << 40) - 1;
	expect(&io, 0, NULL);
	io.reftag = 1ull << 40;
	expect(&io, -EINVAL, "storage tag size 8");
	io.reftag = 0;
	io.storage_tag = 0xff;
	expect(&io, 0, NULL);
	io.storage_tag = 0x100;
	expect(&io, -EINVAL, "storage tag 0x100 does not fit the 8 bits");
	/* RAW mode skips checks, not encoding. */
	io.flags = NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_check_encodable(&info, &io), -EINVAL);
}
