// SPDX-License-Identifier: MIT
/*
 * Finishing a command the application reaped itself (issue 17, item 4):
 * nvmeta_complete() decodes a CQE, explains end-to-end statuses and 0x181
 * in words with what the format expects, and verifies a read's PI listing
 * every bad block; nvmeta_pi_ref_tag() is the reference tag rule; the
 * attribute road gets the same (nvmeta_complete_rw()).  CQEs are made up
 * here: no device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "complete.h"

#define NLB 8

static struct nvmeta_dev dev;
static unsigned char data[NLB * 4096], meta[NLB * 16];
/* A 32-byte CQE: the second half holds the result's dword 1. */
static struct io_uring_cqe cqe[2];

/* 4096+16, PI last (which, with 16 bytes, is also first), type @type,
 * guard @guard. */
static void dev_as(uint8_t type, uint8_t guard, uint8_t sts)
{
	memset(&dev, 0, sizeof(dev));
	dev.fd = -1;
	strcpy(dev.info.generic_path, "/dev/ng9n1");
	strcpy(dev.info.ctrl_name, "nvme-none");
	dev.info.nsid = 1;
	dev.info.nsze = 1 << 20;
	dev.info.lba_size = 4096;
	dev.info.ms = 16;
	dev.info.pi_type = type;
	dev.info.guard_bits = guard;
	dev.info.pi_size = guard == 16 ? 8 : 16;
	dev.info.sts = sts;
	dev.info.pi_first = true;
	nvmeta_pi_decide(&dev);
	cr_assert_eq(dev.has_pi, type != 0, "%s", nvmeta_last_error());
}

static void setup(void)
{
	dev_as(1, 64, 0);
}

TestSuite(complete, .init = setup);

static struct nvmeta_io read_io(uint64_t slba)
{
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = slba, .nlb = NLB, .flags = NVMETA_IO_PI_VERIFY,
		.prinfo = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP | NVMETA_PRCHK_REF,
		.apptag = 0x42, .appmask = 0xffff, .reftag = nvmeta_pi_ref_tag(&dev.pi, slba),
		.data = data, .data_len = sizeof(data), .meta = meta, .meta_len = sizeof(meta),
	};
	return io;
}

/* The read's blocks as the device would return them: good PI. */
static void good_blocks(const struct nvmeta_io *io)
{
	struct nvmeta_pi_tags t = { .ref_tag = io->reftag, .app_tag = io->apptag };
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 13 + i / 509);
	cr_assert_eq(nvmeta_pi_generate(&dev.pi, data, meta, NLB, &t), 0, "%s",
		     nvmeta_last_error());
}

static void inject(uint32_t block, enum nvmeta_pi_field field)
{
	struct nvmeta_pi_injection inj = { .block = block, .field = field };

	cr_assert_eq(nvmeta_pi_inject(&dev.pi, data, meta, NLB, &inj), 0, "%s",
		     nvmeta_last_error());
}

static void cqe_status(int res)
{
	memset(cqe, 0, sizeof(cqe));
	cqe[0].res = res;
}

Test(complete, a_good_read_is_verified_without_a_message)
{
	struct nvmeta_io io = read_io(1000);
	struct nvmeta_result res = { 0 };

	good_blocks(&io);
	cqe_status(0);
	nvmeta_fail(-EIO, "a message to keep");
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), 0, "%s", nvmeta_last_error());
	cr_assert_str_eq(nvmeta_last_error(), "a message to keep", "success wrote a message");
	cr_assert_eq(res.pi.bad, 0);
	cr_assert_eq(res.pi.field, NVMETA_PI_FIELD_NONE);
	cr_assert_eq(res.status.status, 0);
}

/* Every bad block, not only the first, with its LBA, field, expected and
 * found values; the report's first block as nvmeta_pi_verify() gives. */
Test(complete, every_bad_block_is_listed)
{
	struct nvmeta_io io = read_io(2000);
	struct nvmeta_pi_error errs[8];
	struct nvmeta_result res = { .errors = errs, .max_errors = 8 };

	good_blocks(&io);
	inject(1, NVMETA_PI_FIELD_DATA);
	inject(3, NVMETA_PI_FIELD_APP);
	inject(6, NVMETA_PI_FIELD_REF);
	inject(7, NVMETA_PI_FIELD_GUARD);
	cqe_status(0);
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EILSEQ);
	cr_assert_eq(res.pi.bad, 4);
	cr_assert_eq(res.pi.listed, 4);
	cr_assert_eq(res.pi.block, 1);
	cr_assert_eq(res.pi.field, NVMETA_PI_FIELD_GUARD);
	cr_assert_eq(errs[0].lba, 2001);
	cr_assert_eq(errs[0].field, NVMETA_PI_FIELD_GUARD);
	cr_assert_eq(errs[1].lba, 2003);
	cr_assert_eq(errs[1].field, NVMETA_PI_FIELD_APP);
	cr_assert_eq(errs[1].expected, 0x42);
	cr_assert_eq(errs[1].found, 0x43);
	cr_assert_eq(errs[2].lba, 2006);
	cr_assert_eq(errs[2].block, 6);
	cr_assert_eq(errs[2].field, NVMETA_PI_FIELD_REF);
	cr_assert_eq(errs[2].expected, 2006);
	cr_assert_eq(errs[2].found, 2007);
	cr_assert_eq(errs[3].lba, 2007);
	cr_assert_eq(errs[3].field, NVMETA_PI_FIELD_GUARD);
	cr_assert(strstr(nvmeta_last_error(), "LBA 2001: guard"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "4 of 8 blocks bad"), "%s", nvmeta_last_error());
	/* Less room than bad blocks: all counted, as many listed as fit. */
	res.max_errors = 2;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EILSEQ);
	cr_assert_eq(res.pi.bad, 4);
	cr_assert_eq(res.pi.listed, 2);
	/* No room at all (NULL): counted, none listed. */
	res.errors = NULL;
	res.max_errors = 8;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EILSEQ);
	cr_assert_eq(res.pi.bad, 4);
	cr_assert_eq(res.pi.listed, 0);
	cr_assert_eq(res.pi.block, 1);
	/* nvmeta_pi_verify() keeps its ABI: the first block, and now the count. */
	{
		struct nvmeta_pi_tags t = nvmeta_pi_io_tags(&io);
		struct nvmeta_pi_report rep;

		cr_assert_eq(nvmeta_pi_verify(&dev.pi, data, meta, NLB, &t, &rep), -EILSEQ);
		cr_assert_eq(rep.block, 1);
		cr_assert_eq(rep.bad, 4);
		cr_assert_eq(rep.listed, 0);
	}
}

/* Verification asked of a command that cannot have it: refused before a
 * byte of its buffers is read (the inline encoder checked nothing). */
Test(complete, verification_that_cannot_be_is_refused)
{
	struct nvmeta_io io = read_io(0);
	struct nvmeta_result res = { 0 };

	cqe_status(0);
	io.meta_len = 16;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EOVERFLOW);
	io = read_io(0);
	io.meta = NULL;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EOVERFLOW);
	io = read_io(0);
	io.prinfo |= NVMETA_PRACT;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EINVAL);
	io = read_io(0);
	io.opcode = NVMETA_OP_WRITE;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EINVAL);
	io = read_io(0);
	dev_as(0, 16, 0);
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EPROTO);
	/* Without the flag nothing is read: PI costs nothing unasked. */
	io.flags = 0;
	io.meta = NULL;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), 0);
}

Test(complete, a_kernel_errno_is_returned_as_it_is)
{
	struct nvmeta_io io = read_io(0);
	struct nvmeta_result res = { 0 };

	cqe_status(-EOPNOTSUPP);
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EOPNOTSUPP);
	cr_assert_eq(res.status.err, -EOPNOTSUPP);
	cr_assert(strstr(nvmeta_last_error(), "/dev/ng9n1"), "%s", nvmeta_last_error());
}

/* The status of a command, and the words its message must hold. */
static void expect_words(const struct nvmeta_io *io, int status, const char *const *words)
{
	struct nvmeta_result res = { 0 };

	cqe_status(status);
	cr_assert_eq(nvmeta_complete(&dev, io, cqe, &res), -EIO);
	cr_assert_eq(res.status.status, status & 0x7ff);
	for (; *words; words++)
		cr_assert(strstr(nvmeta_last_error(), *words), "no \"%s\" in: %s", *words,
			  nvmeta_last_error());
}

Test(complete, a_guard_status_explains_itself)
{
	struct nvmeta_io io = read_io(4096);
	const char *w64[] = { "0x282", "guard check failed", "64-bit CRC-64 NVMe",
			      "4096 data bytes", "LBA 4096", NULL };
	const char *w16[] = { "guard check failed", "16-bit CRC-16 T10-DIF",
			      "and the 8 metadata bytes before the PI", "the PI the write sent",
			      NULL };

	expect_words(&io, 0x282 | 1 << 14, w64);
	/* 16-bit guard, PI last in 16 bytes: the guard covers 8 of them. */
	dev.info.guard_bits = 16;
	dev.info.pi_size = 8;
	dev.info.pi_first = false;
	nvmeta_pi_decide(&dev);
	io.opcode = NVMETA_OP_WRITE;
	io.flags = NVMETA_IO_PI_GENERATE;
	expect_words(&io, 0x282, w16);
}

Test(complete, an_application_tag_status_explains_itself)
{
	struct nvmeta_io io = read_io(8);
	const char *w[] = { "0x283", "application tag check failed", "type 1",
			    "mask 0xff00", "0x4200", NULL };

	io.apptag = 0x4200;
	io.appmask = 0xff00;
	expect_words(&io, 0x283, w);
}

Test(complete, a_reference_tag_status_says_what_the_type_expects)
{
	struct nvmeta_io io = read_io((1ull << 48) + 5);
	const char *t1[] = { "0x284", "reference tag check failed: type 1 expects the LBA's low 48 bits",
			     "0x5 at LBA 281474976710661", NULL };
	const char *t1_16[] = { "type 1 expects the LBA's low 32 bits", "0x5 at LBA 4294967301",
				NULL };
	const char *t1_sts[] = { "type 1 expects the LBA's low 40 bits", NULL };
	const char *t2[] = { "type 2 expects the command's initial reference tag 0x77",
			     "48 bits, wrapping", NULL };
	const char *t3[] = { "type 3 has no reference tag check", NULL };

	expect_words(&io, 0x284, t1);
	dev_as(1, 16, 0);
	io = read_io((1ull << 32) + 5);
	expect_words(&io, 0x284, t1_16);
	dev_as(1, 64, 8);
	expect_words(&io, 0x284, t1_sts);
	dev_as(2, 64, 0);
	io.reftag = 0x77;
	expect_words(&io, 0x284, t2);
	dev_as(3, 64, 0);
	expect_words(&io, 0x284, t3);
}

Test(complete, a_storage_tag_status_explains_itself)
{
	struct nvmeta_io io;
	const char *w[] = { "0x288", "storage tag check failed", "top 16 bits of the 48-bit tag space",
			    "0xbeef", NULL };

	dev_as(1, 64, 16);
	io = read_io(3);
	io.storage_tag = 0xbeef;
	expect_words(&io, 0x288, w);
}

/* 0x181: a reference tag of 0 with the reference check on type 1, and a
 * reference check asked of type 3. */
Test(complete, invalid_protection_information_says_why)
{
	struct nvmeta_io io = read_io(1000);
	const char *t1[] = { "0x181", "invalid protection information",
			     "type 1 with the reference tag check (NVMETA_PRCHK_REF)",
			     "low 48 bits, 0x3e8 for LBA 1000", "it is 0x0", NULL };
	const char *t3[] = { "type 3 has no reference tag to check", "clear NVMETA_PRCHK_REF", NULL };
	const char *other[] = { "PRINFO 0x4", "type 1, 64-bit CRC-64 NVMe guard", NULL };

	io.reftag = 0;
	expect_words(&io, 0x181, t1);
	io.prinfo = NVMETA_PRCHK_GUARD;
	expect_words(&io, 0x181, other);
	dev_as(3, 64, 0);
	io.prinfo = NVMETA_PRCHK_REF;
	expect_words(&io, 0x181, t3);
}

/* Without a format (no PI on the namespace as identified), the words say
 * what the code means; other statuses get none. */
Test(complete, words_without_a_format_and_for_other_statuses)
{
	struct nvmeta_status st = { .status = 0x284 };
	char buf[320];

	cr_assert_not_null(nvmeta_pi_status_words(&st, NULL, NULL, buf, sizeof(buf)));
	cr_assert(strstr(buf, "type 1: the LBA's low bits"), "%s", buf);
	st.status = 0x288;
	cr_assert_not_null(nvmeta_pi_status_words(&st, NULL, NULL, buf, sizeof(buf)));
	cr_assert(strstr(buf, "storage tag"), "%s", buf);
	st.status = 0x281;
	cr_assert_null(nvmeta_pi_status_words(&st, NULL, NULL, buf, sizeof(buf)));
	st.status = 0x80;
	cr_assert_null(nvmeta_pi_status_words(&st, NULL, NULL, buf, sizeof(buf)));
}

Test(complete, the_end_to_end_statuses_have_names)
{
	static const uint16_t codes[] = { 0x181, 0x282, 0x283, 0x284, 0x288 };
	struct nvmeta_status st = { 0 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		st.status = codes[i];
		cr_assert_str_neq(nvmeta_status_name(&st), "Unknown", "0x%x", codes[i]);
	}
}

/* The rule: the LBA's low bits, as many as the format's reference tag has. */
Test(complete, the_reference_tag_rule)
{
	struct nvmeta_pi_format f = { .block_size = 512, .ms = 16, .pi_type = 1,
				      .guard_bits = 16, .pi_size = 8 };

	cr_assert_eq(nvmeta_pi_ref_bits(&f), 32);
	cr_assert_eq(nvmeta_pi_ref_tag(&f, 0x123456789ull), 0x23456789);
	cr_assert_eq(nvmeta_pi_ref_tag(&f, UINT64_MAX), 0xffffffff);
	f.sts = 32;		/* all of the space is the storage tag's */
	cr_assert_eq(nvmeta_pi_ref_bits(&f), 0);
	cr_assert_eq(nvmeta_pi_ref_tag(&f, 0x1234), 0);
	f = (struct nvmeta_pi_format){ .block_size = 4096, .ms = 16, .pi_type = 2,
				       .guard_bits = 64, .pi_size = 16 };
	cr_assert_eq(nvmeta_pi_ref_bits(&f), 48);
	cr_assert_eq(nvmeta_pi_ref_tag(&f, (1ull << 48) + 7), 7);
	cr_assert_eq(nvmeta_pi_ref_tag(&f, UINT64_MAX), 0xffffffffffffull);
	f.sts = 8;
	cr_assert_eq(nvmeta_pi_ref_bits(&f), 40);
	cr_assert_eq(nvmeta_pi_ref_tag(&f, 0xab12345678ffull), 0x12345678ffull);
	f = (struct nvmeta_pi_format){ .block_size = 4096, .ms = 16, .pi_type = 3,
				       .guard_bits = 32, .pi_size = 16, .sts = 16 };
	cr_assert_eq(nvmeta_pi_ref_bits(&f), 64);
	cr_assert_eq(nvmeta_pi_ref_tag(&f, UINT64_MAX), UINT64_MAX);
	f.sts = 40;
	cr_assert_eq(nvmeta_pi_ref_bits(&f), 40);
}

/* A range whose reference tags wrap at 2^32 (16-bit guard) and 2^48
 * (64-bit guard): the LBA named is the range's, the tags the wrapped ones. */
Test(complete, reference_tags_wrap_and_lbas_do_not)
{
	static const uint8_t guards[] = { 16, 64 };
	struct nvmeta_pi_error errs[NLB];
	size_t g;

	for (g = 0; g < ARRAY_SIZE(guards); g++) {
		uint64_t top = guards[g] == 16 ? 1ull << 32 : 1ull << 48;
		struct nvmeta_result res = { .errors = errs, .max_errors = NLB };
		struct nvmeta_io io;

		dev_as(1, guards[g], 0);
		io = read_io(top * 3 - 2);	/* blocks 0, 1 below the wrap, 2.. above */
		io.meta_len = NLB * 16;
		cr_assert_eq(io.reftag, top - 2);
		good_blocks(&io);
		cqe_status(0);
		cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), 0, "%s", nvmeta_last_error());
		inject(3, NVMETA_PI_FIELD_REF);
		cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EILSEQ);
		cr_assert_eq(res.pi.listed, 1);
		cr_assert_eq(errs[0].lba, top * 3 + 1);
		cr_assert_eq(errs[0].expected, 1);
		cr_assert_eq(errs[0].found, 0);
	}
}

/* An LBA near 2^64 is named as it is (no check here is the range's). */
Test(complete, an_lba_near_the_top)
{
	struct nvmeta_pi_error errs[2];
	struct nvmeta_result res = { .errors = errs, .max_errors = 2 };
	struct nvmeta_io io = read_io(UINT64_MAX - NLB);

	good_blocks(&io);
	inject(NLB - 1, NVMETA_PI_FIELD_GUARD);
	cqe_status(0);
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EILSEQ);
	cr_assert_eq(errs[0].lba, UINT64_MAX - 1);
}

/* Escaped blocks (app tag 0xFFFF) and unwritten ones (all ones) are not
 * bad, whatever their guard; type 3 escapes only with an all-ones
 * reference tag too. */
Test(complete, escapes_are_not_bad_blocks)
{
	struct nvmeta_pi_error errs[NLB];
	struct nvmeta_result res = { .errors = errs, .max_errors = NLB };
	struct nvmeta_io io = read_io(64);

	good_blocks(&io);
	meta[2 * 16 + 8] = 0xff;	/* block 2: app tag 0xffff */
	meta[2 * 16 + 9] = 0xff;
	meta[2 * 16 + 7] ^= 1;		/* and a bad guard */
	memset(meta + 5 * 16, 0xff, 16);	/* block 5: never written */
	cqe_status(0);
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), 0, "%s", nvmeta_last_error());
	cr_assert_eq(res.pi.escaped, 1);
	cr_assert_eq(res.pi.unwritten, 1);
	dev_as(3, 64, 0);
	io = read_io(64);
	good_blocks(&io);
	meta[2 * 16 + 8] = 0xff;	/* app tag 0xffff, reference tag not all ones */
	meta[2 * 16 + 9] = 0xff;
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), -EILSEQ);
	cr_assert_eq(res.pi.listed, 1);
	cr_assert_eq(errs[0].field, NVMETA_PI_FIELD_APP);
	memset(meta + 2 * 16 + 10, 0xff, 6);	/* and an all-ones reference tag */
	cr_assert_eq(nvmeta_complete(&dev, &io, cqe, &res), 0, "%s", nvmeta_last_error());
	cr_assert_eq(res.pi.escaped, 1);
}

/* Metadata larger than the PI, the PI last: the guard covers the bytes
 * before it, so a corrupted byte there is a guard error of its block.
 * Extended LBA: no separate buffer. */
Test(complete, pi_last_in_larger_metadata_and_extended_lbas)
{
	static unsigned char ext[NLB * (512 + 64)];
	struct nvmeta_pi_format f = { .block_size = 512, .ms = 64, .pi_type = 1,
				      .guard_bits = 64, .pi_size = 16, .extended = true };
	struct nvmeta_pi_tags t = { .ref_tag = 9, .app_tag = 1, .app_mask = 0xffff,
				    .checks = NVMETA_PI_CHECK_ALL, .lba = 9 };
	struct nvmeta_pi_error errs[NLB];
	struct nvmeta_pi_report rep;

	memset(ext, 0x3c, sizeof(ext));
	cr_assert_eq(nvmeta_pi_generate(&f, ext, NULL, NLB, &t), 0, "%s", nvmeta_last_error());
	ext[4 * (512 + 64) + 512 + 10] ^= 0x80;	/* block 4, metadata byte 10 of 48 before the PI */
	cr_assert_eq(nvmeta_pi_verify_list(&f, ext, NULL, NLB, &t, &rep, errs, NLB), -EILSEQ);
	cr_assert_eq(rep.bad, 1);
	cr_assert_eq(errs[0].lba, 13);
	cr_assert_eq(errs[0].field, NVMETA_PI_FIELD_GUARD);
	/* PI first: those bytes are outside the guard. */
	f.pi_first = true;
	cr_assert_eq(nvmeta_pi_generate(&f, ext, NULL, NLB, &t), 0);
	ext[4 * (512 + 64) + 512 + 20] ^= 0x80;
	cr_assert_eq(nvmeta_pi_verify_list(&f, ext, NULL, NLB, &t, &rep, errs, NLB), 0, "%s",
		     nvmeta_last_error());
}

/* The most blocks a command takes, every one of them bad: all counted,
 * the list as long as its room. */
Test(complete, sixty_five_thousand_bad_blocks)
{
	const uint32_t nlb = 65536;
	struct nvmeta_pi_format f = { .block_size = 512, .ms = 8, .pi_type = 1,
				      .guard_bits = 16, .pi_size = 8, .extended = true };
	struct nvmeta_pi_tags t = { .ref_tag = 0xfffffff0, .checks = NVMETA_PI_CHECK_ALL,
				    .lba = 0xfffffff0 };
	unsigned char *buf = calloc(nlb, 520);
	struct nvmeta_pi_error *errs = calloc(nlb, sizeof(*errs));
	struct nvmeta_pi_report rep;

	cr_assert(buf && errs);
	/* Zero data and zero PI: the guard (CRC of zeros) and app tag hold;
	 * only block 16, whose tag wraps to 0, has the reference tag it
	 * needs. */
	cr_assert_eq(nvmeta_pi_verify_list(&f, buf, NULL, nlb, &t, &rep, errs, nlb), -EILSEQ);
	cr_assert_eq(rep.bad, nlb - 1);
	cr_assert_eq(rep.listed, nlb - 1);
	cr_assert_eq(errs[15].lba, 0xffffffffull);
	cr_assert_eq(errs[16].lba, 0x100000001ull);
	cr_assert_eq(errs[16].expected, 1);
	cr_assert_eq(errs[nlb - 2].expected, 0xffef);
	cr_assert_eq(nvmeta_pi_verify_list(&f, buf, NULL, nlb, &t, &rep, errs, 100), -EILSEQ);
	cr_assert_eq(rep.listed, 100);
	free(buf);
	free(errs);
}

/* The attribute road: EILSEQ in words, and host verification listing
 * every bad block of a read the application reaped. */
Test(complete, the_attribute_road_says_integrity_and_lists_bad_blocks)
{
	struct nvmeta_bdev b = { .fd = -1 };
	struct nvmeta_pi_error errs[NLB];
	struct nvmeta_result res = { .errors = errs, .max_errors = NLB };
	struct nvmeta_rw rw = { .io = read_io(300) };

	strcpy(b.info.block_name, "nvme9n1");
	b.info.lba_size = 4096;
	b.info.ms = 16;
	b.info.pi_type = 1;
	b.info.guard_bits = 64;
	b.info.pi_size = 16;
	b.info.pi_first = true;
	strcpy(b.info.limits.integrity_format, "EXT-DIF-TYPE1-CRC64");
	cr_assert_eq(nvmeta_rw_complete(&rw, -EILSEQ), -EILSEQ);
	cr_assert(strstr(nvmeta_last_error(), "integrity check failed"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "the guard, the reference tag"), "%s",
		  nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "the application tag"), "%s", nvmeta_last_error());
	cr_assert_null(strstr(nvmeta_last_error(), "multibyte"), "%s", nvmeta_last_error());
	cqe_status(-EILSEQ);
	cr_assert_eq(nvmeta_complete_rw(&b, &rw, cqe, &res), -EILSEQ);
	cr_assert(strstr(nvmeta_last_error(), "nvme9n1: read of blocks 300+8: integrity check failed"),
		  "%s", nvmeta_last_error());
	cr_assert_eq(res.status.err, -EILSEQ);
	good_blocks(&rw.io);
	inject(2, NVMETA_PI_FIELD_REF);
	inject(5, NVMETA_PI_FIELD_GUARD);
	cqe_status((int)sizeof(data));
	cr_assert_eq(nvmeta_complete_rw(&b, &rw, cqe, &res), -EILSEQ);
	cr_assert_eq(res.status.result, sizeof(data));
	cr_assert_eq(res.pi.bad, 2);
	cr_assert_eq(errs[0].lba, 302);
	cr_assert_eq(errs[0].field, NVMETA_PI_FIELD_REF);
	cr_assert_eq(errs[1].lba, 305);
	cr_assert_eq(errs[1].field, NVMETA_PI_FIELD_GUARD);
	cr_assert(strstr(nvmeta_last_error(), "nvme9n1: LBA 302: reference tag"), "%s",
		  nvmeta_last_error());
	/* A short transfer is not verified. */
	cqe_status(4096);
	cr_assert_eq(nvmeta_complete_rw(&b, &rw, cqe, &res), -EIO);
	/* No PI as the kernel shows it: verification is refused. */
	b.info.pi_type = 0;
	cqe_status((int)sizeof(data));
	cr_assert_eq(nvmeta_complete_rw(&b, &rw, cqe, &res), -EPROTO);
}
