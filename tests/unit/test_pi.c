// SPDX-License-Identifier: MIT
/*
 * Protection information against the specification's rules, written out
 * here a second time in the plainest form: bit-at-a-time CRCs from their
 * polynomials, tuples assembled byte by byte, big-endian, guard over the
 * data (and the metadata before a PI that sits last), the storage tag in
 * the top STS bits of the tag space.  Every guard size, type, placement,
 * storage tag size and layout is generated and compared byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"

/* Bit-at-a-time CRCs, straight from their definitions. */
static uint16_t ref_crc16(const unsigned char *p, size_t n, uint16_t crc)
{
	int b;

	while (n--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (uint16_t)(crc << 1 ^ 0x8bb7) : (uint16_t)(crc << 1);
	}
	return crc;
}

/* Reflected CRCs with all-ones init and xorout, continued zlib-style. */
static uint64_t ref_crc_reflected(const unsigned char *p, size_t n, uint64_t crc, uint64_t poly_r,
				  uint64_t ones)
{
	int b;

	crc = ~crc & ones;
	while (n--) {
		crc ^= *p++;
		for (b = 0; b < 8; b++)
			crc = crc & 1 ? crc >> 1 ^ poly_r : crc >> 1;
	}
	return ~crc & ones;
}

static uint32_t ref_crc32c(const unsigned char *p, size_t n, uint32_t crc)
{
	return (uint32_t)ref_crc_reflected(p, n, crc, 0x82f63b78, 0xffffffff);
}

static uint64_t ref_crc64(const unsigned char *p, size_t n, uint64_t crc)
{
	return ref_crc_reflected(p, n, crc, 0x9a6c9329ac4bc9b5ull, ~0ull);
}

Test(pi, reference_crcs_have_the_standard_check_values)
{
	const unsigned char *s = (const unsigned char *)"123456789";

	cr_assert_eq(ref_crc16(s, 9, 0), 0xd0db);
	cr_assert_eq(ref_crc32c(s, 9, 0), 0xe3069283);
	cr_assert_eq(ref_crc64(s, 9, 0), 0xae8b14860a799888ull);
	cr_assert_eq(nvmeta_crc16_t10dif(s, 9, 0), 0xd0db);
	cr_assert_eq(nvmeta_crc32c(s, 9, 0), 0xe3069283);
	cr_assert_eq(nvmeta_crc64_nvme(s, 9, 0), 0xae8b14860a799888ull);
}

struct shape {
	uint8_t guard, type, sts;
	bool first, extended;
	uint32_t bs, ms;
};

static void put(unsigned char *p, unsigned int n, uint64_t v)
{
	while (n--) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

/* The tuple of one block as the specification draws it. */
static void expected_tuple(const struct shape *s, const unsigned char *data,
			   const unsigned char *meta, uint64_t ref, uint64_t st, uint16_t app,
			   unsigned char *out)
{
	unsigned int pi = s->guard == 16 ? 8 : 16, gb = s->guard / 8;
	unsigned int space = s->guard == 16 ? 32 : s->guard == 64 ? 48 : 80;
	size_t pre = s->first ? 0 : s->ms - pi;
	unsigned __int128 field;
	uint64_t guard;
	unsigned int i;

	if (s->guard == 16)
		guard = ref_crc16(meta, pre, ref_crc16(data, s->bs, 0));
	else if (s->guard == 32)
		guard = ref_crc32c(meta, pre, ref_crc32c(data, s->bs, 0));
	else
		guard = ref_crc64(meta, pre, ref_crc64(data, s->bs, 0));
	put(out, gb, guard);
	put(out + gb, 2, app);
	field = (unsigned __int128)st << (space - s->sts) | ref;
	for (i = 0; i < space / 8; i++)
		out[gb + 2 + i] = (unsigned char)(field >> (space - 8 * (i + 1)));
	(void)pi;
}

static struct nvmeta_pi_format format_of(const struct shape *s)
{
	struct nvmeta_pi_format f = {
		.block_size = s->bs, .ms = s->ms, .pi_type = s->type, .guard_bits = s->guard,
		.pi_size = s->guard == 16 ? 8 : 16, .sts = s->sts, .pi_first = s->first,
		.extended = s->extended,
	};
	return f;
}

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 31 + seed * 7 + (i >> 9));
}

/* Generate nlb blocks, compare every tuple with the spec's, verify. */
static void check_shape(const struct shape *s)
{
	struct nvmeta_pi_format f = format_of(s);
	unsigned int nlb = 5, pi = f.pi_size, space = s->guard == 16 ? 32 : s->guard == 64 ? 48 : 80;
	unsigned int ref_bits = space - s->sts;
	size_t stride = s->extended ? s->bs + s->ms : s->bs;
	unsigned char *data = calloc(nlb, s->bs + s->ms), *meta = calloc(nlb, s->ms);
	unsigned char want[16];
	uint64_t mask = ref_bits >= 64 ? ~0ull : (1ull << ref_bits) - 1;
	/* Types 1 and 2 count up from near the top: the count wraps. */
	uint64_t ref0 = mask >= 3 ? mask - 2 : 0;
	uint64_t st = s->sts ? (s->sts >= 64 ? 0x1122334455667788ull : (1ull << s->sts) - 2) : 0;
	struct nvmeta_pi_tags t = { .ref_tag = ref0, .storage_tag = st, .app_tag = 0x1234,
				    .app_mask = 0xffff, .checks = NVMETA_PI_CHECK_ALL };
	struct nvmeta_pi_report rep;
	unsigned int i;

	fill(data, (size_t)nlb * (s->bs + s->ms), s->guard + s->type);
	fill(meta, (size_t)nlb * s->ms, s->sts);
	cr_assert_eq(nvmeta_pi_generate(&f, data, s->extended ? NULL : meta, nlb, &t), 0, "%s",
		     nvmeta_last_error());
	for (i = 0; i < nlb; i++) {
		unsigned char *d = data + i * stride;
		unsigned char *m = s->extended ? d + s->bs : meta + (size_t)i * s->ms;
		uint64_t ref = s->type == 3 ? ref0 : (ref0 + i) & mask;

		expected_tuple(s, d, m, ref, st, 0x1234, want);
		cr_assert_eq(memcmp(m + (s->first ? 0 : s->ms - pi), want, pi), 0,
			     "guard %u type %u sts %u %s %s %u+%u block %u", s->guard, s->type,
			     s->sts, s->first ? "first" : "last", s->extended ? "ext" : "sep",
			     s->bs, s->ms, i);
	}
	cr_assert_eq(nvmeta_pi_verify(&f, data, s->extended ? NULL : meta, nlb, &t, &rep), 0,
		     "%s", nvmeta_last_error());
	free(data);
	free(meta);
}

Test(pi, every_guard_type_placement_and_storage_tag_matches_the_specification)
{
	static const struct { uint8_t guard; uint32_t bs, ms; uint8_t sts[4]; } g[] = {
		{ 16, 512, 8, { 0, 8, 16, 32 } },
		{ 16, 512, 16, { 0, 4, 31, 0 } },
		{ 64, 4096, 16, { 0, 16, 47, 48 } },
		{ 64, 512, 64, { 0, 8, 0, 0 } },
		{ 32, 4096, 16, { 16, 40, 64, 16 } },
		{ 32, 512, 32, { 16, 24, 0, 0 } },
	};
	unsigned int i, type, k, place, ext;

	for (i = 0; i < ARRAY_SIZE(g); i++)
		for (type = 1; type <= 3; type++)
			for (k = 0; k < 4; k++)
				for (place = 0; place < 2; place++)
					for (ext = 0; ext < 2; ext++) {
						struct shape s = { g[i].guard, (uint8_t)type,
								   g[i].sts[k], place, ext,
								   g[i].bs, g[i].ms };

						if (g[i].guard == 32 && g[i].sts[k] < 16)
							continue;
						check_shape(&s);
					}
}

/* A 512+8 block of zeros, type 1, LBA 0x12345678: guard 0 (the CRC of
 * zeros with a zero seed), app tag, reference tag = the LBA's low bits. */
Test(pi, a_zero_block_of_type_1)
{
	struct nvmeta_pi_format f = { .block_size = 512, .ms = 8, .pi_type = 1,
				      .guard_bits = 16, .pi_size = 8, .pi_first = true };
	struct nvmeta_pi_tags t = { .ref_tag = 0x12345678, .app_tag = 0xabcd };
	static const unsigned char want[8] = { 0, 0, 0xab, 0xcd, 0x12, 0x34, 0x56, 0x78 };
	unsigned char data[512] = { 0 }, meta[8];

	cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 1, &t), 0);
	cr_assert_eq(memcmp(meta, want, 8), 0);
}

static struct nvmeta_pi_format f64 = { .block_size = 4096, .ms = 16, .pi_type = 1,
				       .guard_bits = 64, .pi_size = 16, .pi_first = true };

Test(pi, each_injected_field_is_found_and_named)
{
	static const uint32_t fields[] = { NVMETA_PI_FIELD_GUARD, NVMETA_PI_FIELD_APP,
					   NVMETA_PI_FIELD_REF, NVMETA_PI_FIELD_DATA };
	static const uint32_t reported[] = { NVMETA_PI_FIELD_GUARD, NVMETA_PI_FIELD_APP,
					     NVMETA_PI_FIELD_REF, NVMETA_PI_FIELD_GUARD };
	struct nvmeta_pi_tags t = { .ref_tag = 100, .app_tag = 7, .app_mask = 0xffff,
				    .checks = NVMETA_PI_CHECK_ALL };
	static unsigned char data[4 * 4096], meta[4 * 16];
	struct nvmeta_pi_report rep;
	unsigned int i;

	for (i = 0; i < 4; i++) {
		struct nvmeta_pi_injection inj = { .block = 2, .field = fields[i], .offset = 100 };

		fill(data, sizeof(data), i);
		cr_assert_eq(nvmeta_pi_generate(&f64, data, meta, 4, &t), 0);
		cr_assert_eq(nvmeta_pi_inject(&f64, data, meta, 4, &inj), 0, "%s", nvmeta_last_error());
		cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 4, &t, &rep), -EILSEQ);
		cr_assert_eq(rep.block, 2);
		cr_assert_eq(rep.field, reported[i], "field %u reported as %u", fields[i], rep.field);
		cr_assert_neq(rep.expected, rep.found);
		cr_assert(strstr(nvmeta_last_error(), "block 2"), "%s", nvmeta_last_error());
		/* The same injection again undoes it: deterministic. */
		cr_assert_eq(nvmeta_pi_inject(&f64, data, meta, 4, &inj), 0);
		cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 4, &t, &rep), 0);
	}
}

Test(pi, only_the_fields_asked_for_are_checked_and_the_app_mask_holds)
{
	struct nvmeta_pi_tags t = { .ref_tag = 5, .app_tag = 0x00f0, .app_mask = 0xffff,
				    .checks = NVMETA_PI_CHECK_ALL };
	struct nvmeta_pi_injection inj = { .block = 0, .field = NVMETA_PI_FIELD_GUARD };
	static unsigned char data[2 * 4096], meta[2 * 16];
	struct nvmeta_pi_report rep;

	cr_assert_eq(nvmeta_pi_generate(&f64, data, meta, 2, &t), 0);
	cr_assert_eq(nvmeta_pi_inject(&f64, data, meta, 2, &inj), 0);
	t.checks = NVMETA_PI_CHECK_APP | NVMETA_PI_CHECK_REF;
	cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 2, &t, &rep), 0);
	t.app_tag = 0x00f1;			/* differs in bit 0 ... */
	cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 2, &t, &rep), -EILSEQ);
	t.app_mask = 0xfffe;			/* ... which the mask leaves out */
	cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 2, &t, &rep), 0);
	t.ref_tag = 6;
	cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 2, &t, &rep), -EILSEQ);
	cr_assert_eq(rep.field, NVMETA_PI_FIELD_REF);
}

Test(pi, unwritten_blocks_and_escapes_are_reported_not_failed)
{
	struct nvmeta_pi_tags t = { .ref_tag = 9, .app_mask = 0xffff, .checks = NVMETA_PI_CHECK_ALL };
	static unsigned char data[3 * 4096], meta[3 * 16];
	struct nvmeta_pi_report rep;
	struct nvmeta_pi_format f3 = f64;

	cr_assert_eq(nvmeta_pi_generate(&f64, data, meta, 3, &t), 0);
	memset(meta, 0xff, 16);			/* block 0: deallocated */
	meta[16 + 8] = 0xff, meta[16 + 9] = 0xff;	/* block 1: app tag 0xFFFF */
	data[2 * 4096] ^= 1;			/* block 2: bad data */
	cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 3, &t, &rep), -EILSEQ);
	cr_assert_eq(rep.unwritten, 1);
	cr_assert_eq(rep.escaped, 1);
	cr_assert_eq(rep.block, 2);
	/* Type 3 escapes only with an all-ones reference tag too. */
	f3.pi_type = 3;
	cr_assert_eq(nvmeta_pi_generate(&f3, data, meta, 3, &t), 0);
	meta[16 + 8] = 0xff, meta[16 + 9] = 0xff;
	data[4096] ^= 1;
	cr_assert_eq(nvmeta_pi_verify(&f3, data, meta, 3, &t, &rep), -EILSEQ);
	cr_assert_eq(rep.block, 1);
	memset(meta + 16 + 10, 0xff, 6);
	cr_assert_eq(nvmeta_pi_verify(&f3, data, meta, 3, &t, &rep), 0);
	cr_assert_eq(rep.escaped, 1);
}

Test(pi, remap_moves_reference_tags_and_keeps_the_guard)
{
	struct nvmeta_pi_tags t = { .ref_tag = 1000, .app_mask = 0xffff, .checks = NVMETA_PI_CHECK_ALL };
	static unsigned char data[4 * 4096], meta[4 * 16];
	struct nvmeta_pi_report rep;

	fill(data, sizeof(data), 3);
	cr_assert_eq(nvmeta_pi_generate(&f64, data, meta, 4, &t), 0);
	cr_assert_eq(nvmeta_pi_remap(&f64, data, meta, 4, 77), 0);
	cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 4, &t, &rep), -EILSEQ);
	t.ref_tag = 77;
	cr_assert_eq(nvmeta_pi_verify(&f64, data, meta, 4, &t, &rep), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_pi_remap(&f64, data, meta, 4, 1ull << 48), -EINVAL);
}

Test(pi, strip_takes_the_data_out_of_an_extended_buffer)
{
	struct nvmeta_pi_format f = { .block_size = 512, .ms = 8, .pi_type = 1, .guard_bits = 16,
				      .pi_size = 8, .extended = true };
	unsigned char ext[3 * 520], out[3 * 512];
	unsigned int i;

	fill(ext, sizeof(ext), 1);
	cr_assert_eq(nvmeta_pi_strip(&f, ext, out, 3), 0);
	for (i = 0; i < 3; i++)
		cr_assert_eq(memcmp(out + i * 512, ext + i * 520, 512), 0);
	f.extended = false;
	cr_assert_eq(nvmeta_pi_strip(&f, ext, out, 3), -EINVAL);
}

Test(pi, bad_formats_tags_and_injections_are_refused)
{
	struct nvmeta_pi_format f = f64;
	struct nvmeta_pi_tags t = { .ref_tag = 1ull << 48 };
	struct nvmeta_pi_injection inj = { .block = 4, .field = NVMETA_PI_FIELD_GUARD };
	static unsigned char data[4 * 4096], meta[4 * 16];
	struct nvmeta_dev_info info = { .lba_size = 512, .ms = 8 };

	cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 4, &t), -EINVAL);
	t.ref_tag = 0;
	cr_assert_eq(nvmeta_pi_generate(&f, data, NULL, 4, &t), -EINVAL);
	cr_assert_eq(nvmeta_pi_inject(&f, data, meta, 4, &inj), -EINVAL);
	inj.block = 0, inj.field = NVMETA_PI_FIELD_STORAGE;
	cr_assert_eq(nvmeta_pi_inject(&f, data, meta, 4, &inj), -EINVAL);
	f.pi_size = 8;
	cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 4, &t), -EINVAL);
	f = f64, f.ms = 8;
	cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 4, &t), -EINVAL);
	f = f64, f.guard_bits = 32, f.sts = 8;
	cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 4, &t), -EINVAL);
	cr_assert_eq(nvmeta_pi_format_of(&info, &f), -EPROTO);
}

/* The hot path: generation at queue time, verification at reap, on a
 * real ring.  A NOP tagged as a request stands in for a read that
 * completed: the verification then runs on what the buffers hold. */
static struct nvmeta_dev pidev;

static void pidev_setup(void)
{
	memset(&pidev, 0, sizeof(pidev));
	pidev.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	strcpy(pidev.info.generic_path, "/dev/null");
	pidev.info.nsid = 1;
	pidev.info.nsze = 1 << 20;
	pidev.info.lba_size = 4096;
	pidev.info.ms = 16;
	pidev.info.pi_type = 1;
	pidev.info.guard_bits = 64;
	pidev.info.pi_size = 16;
	pidev.info.pi_first = true;
	pidev.info.limits.max_hw_sectors_kb = 512;
	nvmeta_pi_decide(&pidev);
	cr_assert(pidev.has_pi);
}

static void pidev_teardown(void)
{
	close(pidev.fd);
}

static unsigned char pidata[4 * 4096], pimeta[4 * 16];

static struct nvmeta_io pi_io(uint8_t op, uint32_t flags)
{
	struct nvmeta_io io = {
		.opcode = op, .slba = 1000, .nlb = 4, .reftag = 1000, .apptag = 0x42,
		.appmask = 0xffff, .flags = flags, .data = pidata, .data_len = sizeof(pidata),
		.meta = pimeta, .meta_len = sizeof(pimeta),
	};
	return io;
}

Test(pi, a_queued_write_carries_generated_pi, .init = pidev_setup, .fini = pidev_teardown)
{
	struct nvmeta_io io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE);
	struct nvmeta_pi_tags t = { .ref_tag = 1000, .app_tag = 0x42, .app_mask = 0xffff,
				    .checks = NVMETA_PI_CHECK_ALL };
	struct nvmeta_pi_report rep;
	struct io_uring ring;

	fill(pidata, sizeof(pidata), 9);
	memset(pimeta, 0, sizeof(pimeta));
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_queue(&pidev, &ring, &io, 1), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_pi_verify(&pidev.pi, pidata, pimeta, 4, &t, &rep), 0, "%s",
		     nvmeta_last_error());
	io_uring_queue_exit(&ring);
}

static int reap_one_request(struct io_uring *ring, struct nvmeta_request *rq,
			    struct nvmeta_completion *c)
{
	struct io_uring_sqe *sqe;
	uint64_t tag;

	cr_assert_eq(nvmeta_queue_request(&pidev, ring, rq), 0, "%s", nvmeta_last_error());
	/* No device behind /dev/null: the queued command becomes a NOP under
	 * the library's tag, which completes as a good read would. */
	sqe = &ring->sq.sqes[((ring->sq.sqe_tail - 1) & ring->sq.ring_mask) << 1];
	tag = sqe->user_data;
	cr_assert(NVMETA_IS_TAG_USER_DATA(tag), "tag 0x%llx", (unsigned long long)tag);
	io_uring_prep_nop(sqe);
	sqe->user_data = tag;
	cr_assert_eq(io_uring_submit(ring), 1);
	return nvmeta_reap(ring, 1, c, 1);
}

Test(pi, a_reaped_read_is_verified_and_names_the_lba, .init = pidev_setup, .fini = pidev_teardown)
{
	struct nvmeta_request rq = { .io = pi_io(NVMETA_OP_READ, NVMETA_IO_PI_VERIFY),
				     .user_data = 77 };
	struct nvmeta_pi_tags t = { .ref_tag = 1000, .app_tag = 0x42 };
	struct nvmeta_completion c;
	struct io_uring ring;

	fill(pidata, sizeof(pidata), 4);
	cr_assert_eq(nvmeta_pi_generate(&pidev.pi, pidata, pimeta, 4, &t), 0);
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(reap_one_request(&ring, &rq, &c), 1);
	cr_assert_eq(c.user_data, 77);
	cr_assert_eq(c.ret, 0, "%s", nvmeta_last_error());
	pidata[2 * 4096 + 5] ^= 0x10;
	cr_assert_eq(reap_one_request(&ring, &rq, &c), 1);
	cr_assert_eq(c.ret, -EILSEQ);
	cr_assert_eq(rq.pi.block, 2);
	cr_assert_eq(rq.pi.field, NVMETA_PI_FIELD_GUARD);
	cr_assert(strstr(nvmeta_last_error(), "LBA 1002"), "%s", nvmeta_last_error());
	/* Without the flag nothing is verified: PI costs nothing unasked. */
	rq.io.flags = 0;
	cr_assert_eq(reap_one_request(&ring, &rq, &c), 1);
	cr_assert_eq(c.ret, 0);
	io_uring_queue_exit(&ring);
}

Test(pi, pi_work_that_does_not_fit_the_command_is_refused, .init = pidev_setup,
     .fini = pidev_teardown)
{
	struct nvmeta_io io = pi_io(NVMETA_OP_READ, NVMETA_IO_PI_GENERATE);
	struct io_uring ring;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_queue(&pidev, &ring, &io, 1), -EINVAL);
	io = pi_io(NVMETA_OP_READ, NVMETA_IO_PI_VERIFY);
	cr_assert_eq(nvmeta_queue(&pidev, &ring, &io, 1), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "nvmeta_queue_request"), "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_queue(&pidev, &ring, &io, NVMETA_TAG_USER_DATA | 8), -EINVAL);
	/* RAW skips validation, never the bounds of the host's own PI work. */
	io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE | NVMETA_IO_RAW);
	io.meta_len = 16;
	cr_assert_eq(nvmeta_queue(&pidev, &ring, &io, 1), -EOVERFLOW);
	io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE);
	io.prinfo = NVMETA_PRACT;
	cr_assert_eq(nvmeta_queue(&pidev, &ring, &io, 1), -EINVAL);
	pidev.has_pi = false;
	io = pi_io(NVMETA_OP_WRITE, NVMETA_IO_PI_GENERATE);
	cr_assert_eq(nvmeta_queue(&pidev, &ring, &io, 1), -EPROTO);
	cr_assert_eq(io_uring_sq_ready(&ring), 0);
	io_uring_queue_exit(&ring);
}

/* A request lists every bad block where the caller gave it room, through
 * the same code as nvmeta_complete(). */
Test(pi, a_reaped_request_lists_every_bad_block, .init = pidev_setup, .fini = pidev_teardown)
{
	struct nvmeta_pi_error errs[4];
	struct nvmeta_request rq = { .io = pi_io(NVMETA_OP_READ, NVMETA_IO_PI_VERIFY),
				     .pi_errors = errs, .pi_errors_max = 4 };
	struct nvmeta_pi_tags t = { .ref_tag = 1000, .app_tag = 0x42 };
	struct nvmeta_completion c;
	struct io_uring ring;

	fill(pidata, sizeof(pidata), 6);
	cr_assert_eq(nvmeta_pi_generate(&pidev.pi, pidata, pimeta, 4, &t), 0);
	pidata[0 * 4096 + 9] ^= 1;
	pimeta[3 * 16 + 15] ^= 1;	/* block 3's reference tag, low byte */
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(reap_one_request(&ring, &rq, &c), 1);
	cr_assert_eq(c.ret, -EILSEQ);
	cr_assert_eq(rq.pi.bad, 2);
	cr_assert_eq(rq.pi.listed, 2);
	cr_assert_eq(errs[0].lba, 1000);
	cr_assert_eq(errs[0].field, NVMETA_PI_FIELD_GUARD);
	cr_assert_eq(errs[1].lba, 1003);
	cr_assert_eq(errs[1].field, NVMETA_PI_FIELD_REF);
	cr_assert_eq(errs[1].expected, 1003);
	cr_assert(strstr(nvmeta_last_error(), "2 of 4 blocks bad"), "%s", nvmeta_last_error());
	nvmeta_ring_exit(&ring);
}

/* The sync road keeps the report in the request. */
Test(pi, a_sync_request_keeps_its_report, .init = pidev_setup, .fini = pidev_teardown)
{
	struct nvmeta_request rq = { .io = pi_io(NVMETA_OP_READ, NVMETA_IO_PI_VERIFY) };
	struct nvmeta_pi_tags t = { .ref_tag = 1000, .app_tag = 0x42 };
	struct io_uring ring;
	int ret;

	fill(pidata, sizeof(pidata), 5);
	cr_assert_eq(nvmeta_pi_generate(&pidev.pi, pidata, pimeta, 4, &t), 0);
	pimeta[3 * 16 + 9] ^= 1;	/* block 3's app tag, low byte */
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	ret = nvmeta_request_sync(&pidev, &ring, &rq, NULL);
	/* Passthrough on /dev/null completes with 0 or EOPNOTSUPP, by kernel:
	 * only a successful read is verified. */
	if (!ret || ret == -EILSEQ) {
		cr_assert_eq(ret, -EILSEQ);
		cr_assert_eq(rq.pi.block, 3);
		cr_assert_eq(rq.pi.field, NVMETA_PI_FIELD_APP);
		cr_assert_eq(rq.pi.found, 0x43);
	}
	io_uring_queue_exit(&ring);
}

/* The shapes that bound each guard's tag space: no storage tag (or the
 * least a 32-bit guard allows), one in the middle, and one that fills
 * all the space a storage tag may take.  PI sits last, after 8 bytes of
 * other metadata, so the tuple's offset counts too. */
static const struct { uint8_t guard, sts; } edges[] = {
	{ 16, 0 }, { 16, 16 }, { 16, 32 },
	{ 32, 16 }, { 32, 40 }, { 32, 64 },
	{ 64, 0 }, { 64, 24 }, { 64, 48 },
};

static struct nvmeta_pi_format edge_format(unsigned int e, uint8_t type)
{
	struct shape s = { edges[e].guard, type, edges[e].sts, false, false, 512,
			   edges[e].guard == 16 ? 16 : 24 };

	return format_of(&s);
}

static unsigned int edge_ref_bits(unsigned int e)
{
	return (edges[e].guard == 16 ? 32 : edges[e].guard == 64 ? 48 : 80) - edges[e].sts;
}

static uint64_t edge_low(uint64_t v, unsigned int bits)
{
	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

/* A reference tag injection must corrupt a reference tag bit: where the
 * storage tag fills the tag space (STS 32 with the 16-bit guard, 48 with
 * the 64-bit one) there is none, and the bit it would flip is the storage
 * tag's.  The 32-bit guard always keeps 16 or more reference tag bits. */
Test(pi, injections_hit_their_own_field_at_every_storage_tag_edge)
{
	static unsigned char data[3 * 512], meta[3 * 24], before[3 * 24];
	struct nvmeta_pi_injection ref = { .block = 1, .field = NVMETA_PI_FIELD_REF };
	struct nvmeta_pi_injection st = { .block = 1, .field = NVMETA_PI_FIELD_STORAGE };
	struct nvmeta_pi_report rep;
	unsigned int e, type;

	for (e = 0; e < ARRAY_SIZE(edges); e++)
		for (type = 1; type <= 3; type++) {
			struct nvmeta_pi_format f = edge_format(e, (uint8_t)type);
			unsigned int rb = edge_ref_bits(e);
			struct nvmeta_pi_tags t = {
				.ref_tag = edge_low(0x1234, rb), .app_tag = 7, .app_mask = 0xffff,
				.storage_tag = edge_low(0xa5a5a5a5a5a5a5a5ull, f.sts),
				.checks = NVMETA_PI_CHECK_ALL };
			int ret;

			fill(data, sizeof(data), e);
			fill(meta, sizeof(meta), type);
			cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 3, &t), 0, "%s",
				     nvmeta_last_error());
			memcpy(before, meta, sizeof(meta));
			ret = nvmeta_pi_inject(&f, data, meta, 3, &ref);
			if (!rb) {
				cr_assert_eq(ret, -EINVAL, "guard %u sts %u type %u: reference tag injected into a format without one",
					     f.guard_bits, f.sts, type);
				cr_assert(strstr(nvmeta_last_error(), "storage tag"), "%s",
					  nvmeta_last_error());
				cr_assert_eq(memcmp(meta, before, sizeof(meta)), 0);
			} else {
				cr_assert_eq(ret, 0, "%s", nvmeta_last_error());
				cr_assert_eq(nvmeta_pi_verify(&f, data, meta, 3, &t, &rep), -EILSEQ);
				cr_assert_eq(rep.field, NVMETA_PI_FIELD_REF, "guard %u sts %u type %u: field %u",
					     f.guard_bits, f.sts, type, rep.field);
				cr_assert_eq(rep.block, 1);
				memcpy(meta, before, sizeof(meta));
			}
			ret = nvmeta_pi_inject(&f, data, meta, 3, &st);
			if (!f.sts) {
				cr_assert_eq(ret, -EINVAL);
				continue;
			}
			cr_assert_eq(ret, 0, "%s", nvmeta_last_error());
			cr_assert_eq(nvmeta_pi_verify(&f, data, meta, 3, &t, &rep), -EILSEQ);
			cr_assert_eq(rep.field, NVMETA_PI_FIELD_STORAGE, "guard %u sts %u type %u: field %u",
				     f.guard_bits, f.sts, type, rep.field);
		}
}

/* A remap moves the tags of written blocks only: an all-ones tuple (never
 * written) stays all ones, and an escaped one keeps the tags that escape
 * it, as verification reads them. */
Test(pi, remap_leaves_unwritten_and_escaped_tuples_alone)
{
	static unsigned char data[4 * 512], meta[4 * 24], before[4 * 24];
	struct nvmeta_pi_report rep;
	unsigned int e, type;

	for (e = 0; e < ARRAY_SIZE(edges); e++)
		for (type = 1; type <= 3; type++) {
			struct nvmeta_pi_format f = edge_format(e, (uint8_t)type);
			unsigned int rb = edge_ref_bits(e);
			struct nvmeta_pi_tags t = {
				.ref_tag = edge_low(1000, rb), .app_tag = 7, .app_mask = 0xffff,
				.storage_tag = edge_low(0x5a5a5a5a5a5a5a5aull, f.sts),
				.checks = NVMETA_PI_CHECK_ALL };
			struct nvmeta_pi_tags esc = t;

			fill(data, sizeof(data), e);
			fill(meta, sizeof(meta), type);
			cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 4, &t), 0, "%s",
				     nvmeta_last_error());
			memset(meta + f.ms - f.pi_size, 0xff, f.pi_size);	/* block 0 */
			esc.app_tag = 0xffff;		/* block 1: escaped on every type */
			esc.ref_tag = edge_low(~0ull, rb);
			cr_assert_eq(nvmeta_pi_generate(&f, data + 512, meta + f.ms, 1, &esc), 0);
			memcpy(before, meta, sizeof(meta));
			t.ref_tag = edge_low(77, rb);
			cr_assert_eq(nvmeta_pi_remap(&f, data, meta, 4, t.ref_tag), 0, "%s",
				     nvmeta_last_error());
			cr_assert_eq(memcmp(meta, before, 2 * f.ms), 0,
				     "guard %u sts %u type %u: an unwritten or escaped tuple was remapped",
				     f.guard_bits, f.sts, type);
			cr_assert_eq(nvmeta_pi_verify(&f, data, meta, 4, &t, &rep), 0,
				     "guard %u sts %u type %u: %s", f.guard_bits, f.sts, type,
				     nvmeta_last_error());
			cr_assert_eq(rep.unwritten, 1);
			cr_assert_eq(rep.escaped, 1);
		}
}

/* The check that finds a fault in @field: a data fault is the guard's. */
static uint32_t check_of(uint32_t field)
{
	return field == NVMETA_PI_FIELD_APP ? NVMETA_PI_CHECK_APP :
	       field == NVMETA_PI_FIELD_REF ? NVMETA_PI_CHECK_REF :
	       field == NVMETA_PI_FIELD_STORAGE ? NVMETA_PI_CHECK_STORAGE : NVMETA_PI_CHECK_GUARD;
}

/* One fault in @field of block 1 of 3 on format @f, found by exactly the
 * subsets of checks that have its own. */
static void check_subsets(struct nvmeta_pi_format f, struct nvmeta_pi_tags t, uint32_t field)
{
	static unsigned char data[3 * 512], meta[3 * 24];
	struct nvmeta_pi_injection inj = { .block = 1, .field = field, .offset = 77 };
	uint32_t want = field == NVMETA_PI_FIELD_DATA ? NVMETA_PI_FIELD_GUARD : field;
	struct nvmeta_pi_report rep;
	unsigned int checks;
	int ret;

	fill(data, sizeof(data), f.guard_bits + f.sts);
	fill(meta, sizeof(meta), field);
	cr_assert_eq(nvmeta_pi_generate(&f, data, meta, 3, &t), 0, "%s", nvmeta_last_error());
	if (nvmeta_pi_inject(&f, data, meta, 3, &inj))
		return;		/* no such field in this format */
	for (checks = 0; checks <= NVMETA_PI_CHECK_ALL; checks++) {
		t.checks = checks;
		ret = nvmeta_pi_verify(&f, data, meta, 3, &t, &rep);
		if (!(checks & check_of(field))) {
			cr_assert_eq(ret, 0, "guard %u sts %u type %u first %d field %u checks %#x: %s",
				     f.guard_bits, f.sts, f.pi_type, f.pi_first, field, checks,
				     nvmeta_last_error());
			cr_assert_eq(rep.bad, 0);
			continue;
		}
		cr_assert_eq(ret, -EILSEQ, "guard %u sts %u type %u first %d field %u checks %#x",
			     f.guard_bits, f.sts, f.pi_type, f.pi_first, field, checks);
		cr_assert_eq(rep.field, want, "guard %u sts %u type %u first %d field %u checks %#x: %u",
			     f.guard_bits, f.sts, f.pi_type, f.pi_first, field, checks, rep.field);
		cr_assert_eq(rep.block, 1);
		cr_assert_eq(rep.bad, 1);
	}
}

/*
 * Verification passes a block at once when every bit of its tuple that
 * the checks compare is as expected, and otherwise decides field by
 * field: every subset of the checks, against one fault in each field, at
 * every storage tag edge, each type, PI first and last, fails on exactly
 * the faults its checks cover, naming the field, and counts one block.
 */
Test(pi, every_check_subset_finds_exactly_its_own_faults)
{
	static const uint32_t fields[] = { NVMETA_PI_FIELD_GUARD, NVMETA_PI_FIELD_APP,
					   NVMETA_PI_FIELD_REF, NVMETA_PI_FIELD_STORAGE,
					   NVMETA_PI_FIELD_DATA };
	unsigned int e, type, first, k;

	for (e = 0; e < ARRAY_SIZE(edges); e++)
		for (type = 1; type <= 3; type++)
			for (first = 0; first < 2; first++)
				for (k = 0; k < ARRAY_SIZE(fields); k++) {
					struct nvmeta_pi_format f = edge_format(e, (uint8_t)type);
					struct nvmeta_pi_tags t = {
						.ref_tag = edge_low(0x1234, edge_ref_bits(e)),
						.app_tag = 7, .app_mask = 0xffff,
						.storage_tag = edge_low(0xa5a5a5a5a5a5a5a5ull, f.sts),
					};

					f.pi_first = first;
					check_subsets(f, t, fields[k]);
				}
}
