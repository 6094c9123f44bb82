// SPDX-License-Identifier: MIT
/*
 * Host PI with vectored passthrough (NVMETA_IO_VEC with
 * NVMETA_IO_PI_GENERATE or NVMETA_IO_PI_VERIFY): what nvmeta_prep()
 * generates over iovecs cut at odd places, down to single bytes and
 * inside blocks and tuples, is byte for byte what it generates over the
 * same data in one buffer; what nvmeta_complete() reports over them is
 * the same report and message.  No device: SQEs are filled, CQEs made up.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "complete.h"

#define NLB 8
#define MAX_PIECES 100

static struct nvmeta_dev dev;
static unsigned char data[NLB * (4096 + 16)];
static unsigned char meta_flat[NLB * 16], meta_vec[NLB * 16];
static struct iovec iov[MAX_PIECES];
static struct io_uring_sqe sqe[2];
static struct io_uring_cqe cqe[2];

/* A namespace of @lba+@ms bytes, PI type 1 with a @guard-bit guard,
 * last in the metadata (so a 16-byte format's guard also covers the 8
 * bytes before it), separate or @extended. */
static void dev_as(uint32_t lba, uint8_t ms, uint8_t guard, bool extended)
{
	memset(&dev, 0, sizeof(dev));
	dev.fd = -1;
	strcpy(dev.info.generic_path, "/dev/ng9n1");
	dev.info.nsid = 1;
	dev.info.nsze = 1 << 20;
	dev.info.lba_size = lba;
	dev.info.ms = ms;
	dev.info.extended_lba = extended;
	dev.info.pi_type = 1;
	dev.info.guard_bits = guard;
	dev.info.pi_size = guard == 16 ? 8 : 16;
	dev.info.limits.max_hw_sectors_kb = 512;
	nvmeta_pi_decide(&dev);
	cr_assert(dev.has_pi, "%s", nvmeta_last_error());
}

TestSuite(vec_pi);

static size_t block_bytes(void)
{
	return dev.info.lba_size + (dev.info.extended_lba ? dev.info.ms : 0);
}

/* The data cut into iovecs: first single bytes, then odd lengths that
 * end inside blocks (and, extended, inside tuples), the rest in one. */
static uint32_t cut(size_t len)
{
	static const size_t lens[] = { 1, 1, 1, 3, 509, 2, 1, 7, 1021, 1, 13, 4093, 1, 511 };
	size_t at = 0;
	uint32_t n = 0;

	while (n + 1 < ARRAY_SIZE(lens) && at + lens[n] < len) {
		iov[n] = (struct iovec){ data + at, lens[n] };
		at += lens[n++];
	}
	iov[n++] = (struct iovec){ data + at, len - at };
	return n;
}

/* The data, every byte a single iovec (up to MAX_PIECES), the rest in one. */
static uint32_t cut_bytes(size_t len)
{
	uint32_t n;

	for (n = 0; n + 1 < MAX_PIECES && n + 1 < len; n++)
		iov[n] = (struct iovec){ data + n, 1 };
	iov[n] = (struct iovec){ data + n, len - n };
	return n + 1;
}

static struct nvmeta_io pi_io(uint8_t op, uint32_t flags, unsigned char *meta)
{
	struct nvmeta_io io = {
		.opcode = op, .slba = 777, .nlb = NLB, .flags = flags | NVMETA_IO_NO_PREFAULT,
		.prinfo = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP | NVMETA_PRCHK_REF,
		.apptag = 0x4242, .appmask = 0xffff, .reftag = 777,
		.data = data, .data_len = (uint32_t)(NLB * block_bytes()),
	};

	if (!dev.info.extended_lba) {
		io.meta = meta;
		io.meta_len = NLB * dev.info.ms;
	}
	return io;
}

/* The data afresh (an extended format's tuples are in it). */
static void fill(void)
{
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 31 + i / 509);
}

/* A write with NVMETA_IO_PI_GENERATE prepared flat, then over @n iovecs:
 * the same metadata bytes, and for an extended format the same data. */
static void generate_both(uint32_t (*cutter)(size_t))
{
	size_t len = NLB * block_bytes();
	unsigned char flat[sizeof(data)];
	struct nvmeta_io io;

	memset(meta_flat, 'Z', sizeof(meta_flat));
	memset(meta_vec, 'Z', sizeof(meta_vec));
	fill();
	io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE, meta_flat);
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0, "flat: %s", nvmeta_last_error());
	memcpy(flat, data, len);
	fill();
	io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE | NVMETA_IO_VEC, meta_vec);
	io.data = iov;
	io.data_len = cutter(len);
	cr_assert_gt(io.data_len, 8, "cut into %u iovecs", io.data_len);
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0, "vec: %s", nvmeta_last_error());
	cr_assert_eq(memcmp(meta_flat, meta_vec, sizeof(meta_flat)), 0,
		     "%u+%u: the metadata over %u iovecs differs from the flat buffer's",
		     dev.info.lba_size, dev.info.ms, io.data_len);
	cr_assert_eq(memcmp(flat, data, len), 0, "the iovecs' data (and tuples) differ");
	/* Not equal by both doing nothing: the first tuple was written. */
	if (!dev.info.extended_lba)
		cr_assert_neq(memcmp(meta_vec + dev.info.ms - dev.info.pi_size, "ZZZZZZZZ", 8), 0);
}

Test(vec_pi, generation_over_odd_iovecs_matches_the_flat_buffer)
{
	dev_as(512, 8, 16, false);
	generate_both(cut);
	generate_both(cut_bytes);
	/* The guard also covers the 8 metadata bytes before the tuple. */
	dev_as(512, 16, 16, false);
	generate_both(cut);
	dev_as(4096, 16, 64, false);
	generate_both(cut);
	generate_both(cut_bytes);
	/* Extended: the tuples are in the iovecs, split by the cuts too. */
	dev_as(512, 8, 16, true);
	generate_both(cut);
	generate_both(cut_bytes);
}

/* A read of good blocks with four bad ones, as the device returns it. */
static void bad_read(void)
{
	struct nvmeta_io io = pi_io(NVMETA_OP_READ, 0, meta_flat);
	struct nvmeta_pi_tags t = nvmeta_pi_io_tags(&io);
	static const struct { uint32_t block; enum nvmeta_pi_field field; } bad[] = {
		{ 1, NVMETA_PI_FIELD_DATA }, { 3, NVMETA_PI_FIELD_APP },
		{ 6, NVMETA_PI_FIELD_REF }, { 7, NVMETA_PI_FIELD_GUARD },
	};
	size_t i;

	fill();
	cr_assert_eq(nvmeta_pi_generate(&dev.pi, data, io.meta, NLB, &t), 0, "%s",
		     nvmeta_last_error());
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct nvmeta_pi_injection inj = { .block = bad[i].block, .field = bad[i].field };

		cr_assert_eq(nvmeta_pi_inject(&dev.pi, data, io.meta, NLB, &inj), 0, "%s",
			     nvmeta_last_error());
	}
}

/* The flat read's report, then the same memory's over iovecs: equal. */
static void verify_both(uint32_t (*cutter)(size_t))
{
	struct nvmeta_pi_error ef[NLB], ev[NLB];
	struct nvmeta_result rf = { .errors = ef, .max_errors = NLB };
	struct nvmeta_result rv = { .errors = ev, .max_errors = NLB };
	char msg[512];
	struct nvmeta_io io;

	bad_read();
	memset(ef, 0, sizeof(ef));
	memset(ev, 0xee, sizeof(ev));
	io = pi_io(NVMETA_OP_READ, NVMETA_IO_PI_VERIFY, meta_flat);
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &rf), -EILSEQ);
	snprintf(msg, sizeof(msg), "%s", nvmeta_last_error());
	cr_assert_eq(rf.pi.bad, 4, "flat: %u bad", rf.pi.bad);
	io.flags |= NVMETA_IO_VEC;
	io.data = iov;
	io.data_len = cutter(NLB * block_bytes());
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &rv), -EILSEQ, "%s", nvmeta_last_error());
	cr_assert_str_eq(nvmeta_last_error(), msg);
	cr_assert_eq(memcmp(&rv.pi, &rf.pi, sizeof(rf.pi)), 0, "the reports differ");
	cr_assert_eq(memcmp(ev, ef, sizeof(ef[0]) * rf.pi.listed), 0, "the lists differ");
}

Test(vec_pi, verification_over_iovecs_reports_the_flat_buffers_bad_blocks)
{
	memset(cqe, 0, sizeof(cqe));
	dev_as(512, 8, 16, false);
	verify_both(cut);
	verify_both(cut_bytes);
	cr_assert(strstr(nvmeta_last_error(), "/dev/ng9n1: LBA 778: guard"), "%s",
		  nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "4 of 8 blocks bad"), "%s", nvmeta_last_error());
	dev_as(4096, 16, 64, false);
	verify_both(cut);
	dev_as(512, 8, 16, true);
	verify_both(cut);
	verify_both(cut_bytes);
}

Test(vec_pi, a_good_vectored_read_verifies_clean)
{
	struct nvmeta_result res = { 0 };
	struct nvmeta_io io;

	memset(cqe, 0, sizeof(cqe));
	dev_as(4096, 16, 64, false);
	fill();
	io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE | NVMETA_IO_VEC, meta_vec);
	io.data = iov;
	io.data_len = cut(NLB * block_bytes());
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), 0, "%s", nvmeta_last_error());
	io.opcode = NVMETA_OP_READ;
	io.flags ^= NVMETA_IO_PI_GENERATE | NVMETA_IO_PI_VERIFY;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), 0, "%s", nvmeta_last_error());
	cr_assert_eq(res.pi.bad, 0);
}

/* RAW skips validation, not the bounds of the host's own PI work: iovecs
 * holding a block less than nlb needs are refused before a byte of
 * metadata is written, and the message counts their bytes. */
Test(vec_pi, short_iovecs_are_refused_even_raw)
{
	struct nvmeta_io io;
	uint32_t n;

	dev_as(512, 8, 16, false);
	fill();
	memset(meta_vec, 'Z', sizeof(meta_vec));
	io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE | NVMETA_IO_VEC | NVMETA_IO_RAW,
		   meta_vec);
	n = cut(NLB * 512);
	iov[n - 1].iov_len -= 512;
	io.data = iov;
	io.data_len = n;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EOVERFLOW, "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "the buffers hold 3584 and 64"), "%s",
		  nvmeta_last_error());
	cr_assert_eq(meta_vec[0], 'Z', "metadata written before the refusal");
	io.flags &= ~NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EMSGSIZE, "validated: %s", nvmeta_last_error());
}
