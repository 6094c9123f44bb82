// SPDX-License-Identifier: MIT
/*
 * pi-scatter: protection information the way a storage engine holds its
 * data, with no device: a write's blocks scattered over iovecs that split
 * blocks and tuples, their PI generated there and checked; a read's data
 * copied out to the application while its PI is checked; the same blocks
 * arriving in pieces through a stream; and a move to another LBA that
 * rewrites the reference tags only once the old ones are checked.
 *
 * usage: pi-scatter          (exit 0 when every step gave what it should)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvmeta.h>

#define NLB 4
#define BS 512
#define MS 16	/* 8 bytes of the application's, then the 8-byte PI */

static int fail(const char *what, int ret)
{
	fprintf(stderr, "pi-scatter: %s: %d: %s\n", what, ret, nvmeta_last_error());
	return 1;
}

int main(void)
{
	/* 512+16, PI last: the guard also covers the 8 bytes before it. */
	struct nvmeta_pi_format f = { .block_size = BS, .ms = MS, .pi_type = 1,
				      .guard_bits = 16, .pi_size = 8 };
	uint64_t lba = 1000;	/* where the write goes, for its reference tags */
	struct nvmeta_pi_tags t = { .ref_tag = nvmeta_pi_ref_tag(&f, lba), .app_tag = 0x42,
				    .app_mask = 0xffff, .checks = NVMETA_PI_CHECK_ALL, .lba = lba };
	static unsigned char a[700], b[1000], c[NLB * BS - 1700], meta[NLB * MS], out[NLB * BS];
	/* The data in three pieces of odd sizes: blocks 1 and 3 are split;
	 * the metadata in two, the second block's tuple split between them. */
	struct iovec data[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec md[2] = { { meta, MS + 11 }, { meta + MS + 11, sizeof(meta) - MS - 11 } };
	struct nvmeta_pi_iov io = { .data = data, .ndata = 3, .meta = md, .nmeta = 2, .nlb = NLB };
	struct nvmeta_pi_injection inj = { .block = 2, .field = NVMETA_PI_FIELD_REF };
	struct nvmeta_pi_error errs[NLB];
	struct nvmeta_pi_report rep;
	struct nvmeta_pi_stream s;
	struct iovec dst = { out, sizeof(out) };
	size_t at, n;
	int ret;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	memset(c, 'c', sizeof(c));
	memset(meta, 0x5a, sizeof(meta));	/* the application's bytes */

	/* A write: PI over the scattered blocks, checked. */
	ret = nvmeta_pi_generate_iov(&f, &io, &t);
	if (ret)
		return fail("generate_iov", ret);
	ret = nvmeta_pi_verify_iov(&f, &io, &t, &rep, errs, NLB);
	if (ret)
		return fail("verify_iov", ret);
	printf("%u scattered blocks written with PI and checked\n", NLB);

	/* A corrupted reference tag is found and named by its LBA. */
	ret = nvmeta_pi_inject_iov(&f, &io, &inj);
	if (ret)
		return fail("inject_iov", ret);
	ret = nvmeta_pi_verify_iov(&f, &io, &t, &rep, errs, NLB);
	if (ret != -EILSEQ || rep.bad != 1 || errs[0].lba != lba + 2)
		return fail("verify_iov of a corrupted block", ret);
	printf("bad block found: LBA %llu, %s\n", (unsigned long long)errs[0].lba,
	       nvmeta_pi_field_name(errs[0].field));
	ret = nvmeta_pi_inject_iov(&f, &io, &inj);	/* the same bit back */
	if (ret)
		return fail("inject_iov", ret);

	/* The same blocks as a stream of 100-byte pieces: the same verdict.
	 * (The stream is the data; the metadata is one buffer.) */
	memcpy(out, a, sizeof(a));
	memcpy(out + sizeof(a), b, sizeof(b));
	memcpy(out + sizeof(a) + sizeof(b), c, sizeof(c));
	ret = nvmeta_pi_stream_init(&s, &f, meta, NLB, &t, NVMETA_PI_STREAM_VERIFY, errs, NLB);
	for (at = 0; !ret && at < sizeof(out); at += n) {
		n = sizeof(out) - at < 100 ? sizeof(out) - at : 100;
		ret = nvmeta_pi_stream_update(&s, at, out + at, n);
	}
	if (!ret)
		ret = nvmeta_pi_stream_finish(&s, &rep);
	if (ret)
		return fail("stream", ret);
	printf("the stream of %zu-byte pieces agrees\n", (size_t)100);

	/* A read copied out to the application, checked on the way. */
	memset(out, 0, sizeof(out));
	{
		/* The command's buffer: the blocks contiguous, as a bounce
		 * buffer or a registered one holds them. */
		static unsigned char cmd[NLB * BS];

		memcpy(cmd, a, sizeof(a));
		memcpy(cmd + sizeof(a), b, sizeof(b));
		memcpy(cmd + sizeof(a) + sizeof(b), c, sizeof(c));
		ret = nvmeta_pi_verify_copy(&f, &dst, 1, cmd, meta, NLB, &t, &rep, errs, NLB);
		if (ret || memcmp(out, cmd, sizeof(cmd)))
			return fail("verify_copy", ret);
		printf("read copied out and checked in one pass\n");

		/* Moved to LBA 5000: checked against the old tags first. */
		ret = nvmeta_pi_remap_check_iov(&f, &io, &t, nvmeta_pi_ref_tag(&f, 5000), &rep,
						errs, NLB);
		if (ret)
			return fail("remap_check_iov", ret);
		t.ref_tag = nvmeta_pi_ref_tag(&f, 5000);
		t.lba = 5000;
		ret = nvmeta_pi_verify_iov(&f, &io, &t, &rep, errs, NLB);
		if (ret)
			return fail("verify_iov after the move", ret);
		printf("moved to LBA 5000 after checking the old reference tags\n");
	}
	return 0;
}
