// SPDX-License-Identifier: MIT
/*
 * Protection information a device returns: nvmeta_pi_verify() on
 * arbitrary data and metadata under an arbitrary layout and tags, and the
 * round trips the API promises: what nvmeta_pi_generate() wrote verifies,
 * after nvmeta_pi_remap() too, and a guard or data bit that
 * nvmeta_pi_inject() flips is caught.
 *
 * Input: struct hdr (30 bytes, little-endian), then the blocks' bytes (data
 * then metadata, or interleaved on an extended format), zeros past the
 * end.  Buffers are exactly sized so ASan sees any access past them.
 */
#include <errno.h>
#include <nvmeta/pi.h>
#include "internal.h"
#include "fuzz.h"

#define MAX_BYTES 65536

struct hdr {
	uint16_t block_size;
	uint8_t ms, pi_type, guard_bits, pi_size, sts;
	uint8_t flags;		/* 1 pi_first, 2 extended, 4 a reserved field set */
	uint8_t nlb;
	uint64_t ref_tag;
	uint16_t app_tag, app_mask;
	uint8_t checks;
	uint32_t remap_to;	/* low bits of the remap's reference tag */
	uint8_t inj_block, inj_field;
	uint16_t inj_offset;
} __attribute__((packed));

static void *dup_buf(const void *src, size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, src, len);
	return p;
}

static void check_report(int ret, const struct nvmeta_pi_report *rep, uint32_t nlb)
{
	FUZZ_ASSERT(ret == 0 || ret == -EILSEQ || ret == -EINVAL, "verify %d", ret);
	FUZZ_ASSERT(rep->unwritten + rep->escaped <= nlb, "unwritten %u escaped %u of %u",
		    rep->unwritten, rep->escaped, nlb);
	if (ret == -EILSEQ)
		FUZZ_ASSERT(rep->block < nlb && rep->field >= NVMETA_PI_FIELD_GUARD &&
			    rep->field <= NVMETA_PI_FIELD_STORAGE,
			    "block %u of %u, field %u", rep->block, nlb, rep->field);
	else
		FUZZ_ASSERT(rep->field == NVMETA_PI_FIELD_NONE, "field %u on %d", rep->field, ret);
}

/* Generate over copies, then check the promised round trips. */
static void round_trip(const struct nvmeta_pi_format *f, const struct hdr *h,
		       const uint8_t *data, size_t dlen, const uint8_t *meta, size_t mlen,
		       uint32_t nlb, struct nvmeta_pi_tags t)
{
	uint8_t *d = dup_buf(data, dlen), *m = meta ? dup_buf(meta, mlen) : NULL;
	struct nvmeta_pi_injection inj = { 0 };
	struct nvmeta_pi_report rep;
	int ret;

	if (nvmeta_pi_generate(f, d, m, nlb, &t))
		goto out;	/* tags wider than their fields */
	t.checks = NVMETA_PI_CHECK_ALL;
	t.app_mask = 0xffff;
	ret = nvmeta_pi_verify(f, d, m, nlb, &t, &rep);
	FUZZ_ASSERT(ret == 0, "generated PI fails: %d at block %u field %u (%s)", ret, rep.block,
		    rep.field, nvmeta_last_error());
	if (!nvmeta_pi_remap(f, d, m, nlb, h->remap_to)) {
		t.ref_tag = h->remap_to;
		ret = nvmeta_pi_verify(f, d, m, nlb, &t, &rep);
		FUZZ_ASSERT(ret == 0, "remapped PI fails: %d at block %u field %u", ret,
			    rep.block, rep.field);
	}
	if (!nlb)
		goto out;
	inj.block = h->inj_block % nlb;
	inj.field = h->inj_field % 6;
	inj.offset = h->inj_offset;
	if (nvmeta_pi_inject(f, d, m, nlb, &inj))
		goto out;
	ret = nvmeta_pi_verify(f, d, m, nlb, &t, &rep);
	check_report(ret, &rep, nlb);
	/* Not escaped (app tag not all ones): a flipped guard or data bit
	 * is a guard mismatch at that block. */
	if (t.app_tag != 0xffff &&
	    (inj.field == NVMETA_PI_FIELD_GUARD || inj.field == NVMETA_PI_FIELD_DATA))
		FUZZ_ASSERT(ret == -EILSEQ && rep.block == inj.block &&
			    rep.field == NVMETA_PI_FIELD_GUARD,
			    "injected %s at block %u: verify %d block %u field %u",
			    nvmeta_pi_field_name(inj.field), inj.block, ret, rep.block, rep.field);
out:
	free(d);
	free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	struct fuzz_in in = { input, size };
	struct nvmeta_pi_format f = { 0 };
	struct nvmeta_pi_tags t = { 0 };
	struct nvmeta_pi_report rep;
	uint8_t *data, *meta = NULL, *blocks, *stripped;
	size_t per, dlen, mlen, total;
	uint32_t nlb;
	struct hdr h;
	int ret;

	fuzz_take(&in, &h, sizeof(h));
	f.block_size = h.block_size;
	f.ms = h.ms;
	f.pi_type = h.pi_type;
	f.guard_bits = h.guard_bits;
	f.pi_size = h.pi_size;
	f.sts = h.sts;
	f.pi_first = h.flags & 1;
	f.extended = h.flags & 2;
	if (h.flags & 4)
		f.resv[h.flags >> 6] = 1;
	t.ref_tag = h.ref_tag;
	t.storage_tag = h.ref_tag >> 17;
	t.app_tag = h.app_tag;
	t.app_mask = h.app_mask;
	t.checks = h.checks & NVMETA_PI_CHECK_ALL;

	per = (size_t)f.block_size + f.ms;
	nlb = per ? h.nlb : 0;
	if (per && nlb > MAX_BYTES / per)
		nlb = MAX_BYTES / per;
	total = nlb * per;
	blocks = malloc(total ? total : 1);
	if (!blocks)
		abort();
	fuzz_take(&in, blocks, total);
	if (f.extended) {
		dlen = total;
		mlen = 0;
		data = dup_buf(blocks, dlen);
	} else {
		dlen = (size_t)nlb * f.block_size;
		mlen = (size_t)nlb * f.ms;
		data = dup_buf(blocks, dlen);
		meta = dup_buf(blocks + dlen, mlen);
	}

	ret = nvmeta_pi_verify(&f, data, meta, nlb, &t, &rep);
	check_report(ret, &rep, nlb);
	if (ret != -EINVAL)
		round_trip(&f, &h, data, dlen, meta, mlen, nlb, t);
	if (f.extended) {
		stripped = malloc(nlb * (size_t)f.block_size + 1);
		if (!stripped)
			abort();
		FUZZ_ASSERT(nvmeta_pi_strip(&f, data, stripped, nlb) == 0, "strip");
		free(stripped);
	}
	free(blocks);
	free(data);
	free(meta);
	return 0;
}
