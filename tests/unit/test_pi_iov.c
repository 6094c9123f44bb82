// SPDX-License-Identifier: MIT
/*
 * PI over scatter lists, copy with PI, streams and the checked remap,
 * against the contiguous calls: every split of a range into iovecs (every
 * pair of cut points on small blocks, every single cut and single-byte
 * pieces on real ones, random cuts on longer ranges) must give the same
 * tuples byte for byte, the same verdicts and the same error lists, for
 * every guard size, storage tag size, PI type and place, with separate
 * and interleaved metadata.  Each piece is an allocation of its own, so
 * that a read or write past one is caught under ASan.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"

#define MAX_PIECES 4200
#define MAX_ERR 16

struct fmtcase {
	uint8_t guard, sts;
};

/* Storage tag sizes at the edges of each guard's tag space. */
static const struct fmtcase guards[] = {
	{ 16, 0 }, { 16, 16 }, { 16, 32 },
	{ 32, 16 }, { 32, 40 }, { 32, 64 },
	{ 64, 0 }, { 64, 8 }, { 64, 48 },
};

static struct nvmeta_pi_format mkfmt(uint8_t guard, uint8_t sts, uint8_t type, bool first,
				     bool ext, uint32_t bs, uint32_t extra)
{
	uint8_t pi = guard == 16 ? 8 : 16;
	struct nvmeta_pi_format f = {
		.block_size = bs, .ms = pi + extra, .pi_type = type, .guard_bits = guard,
		.pi_size = pi, .sts = sts, .pi_first = first, .extended = ext,
	};
	return f;
}

static uint64_t rnd = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return rnd;
}

static void fill(unsigned char *p, size_t n)
{
	while (n--)
		*p++ = (unsigned char)next();
}

/* A range: the contiguous reference and the bytes the scattered copy
 * ends up holding. */
struct range {
	struct nvmeta_pi_format f;
	uint32_t nlb;
	size_t dlen, mlen;	/* bytes of data (with metadata if extended), metadata */
	unsigned char *data, *meta;
};

static void range_init(struct range *r, const struct nvmeta_pi_format *f, uint32_t nlb)
{
	r->f = *f;
	r->nlb = nlb;
	r->dlen = (size_t)nlb * (f->block_size + (f->extended ? f->ms : 0));
	r->mlen = f->extended ? 0 : (size_t)nlb * f->ms;
	r->data = malloc(r->dlen + 1);
	r->meta = malloc(r->mlen + 1);
	fill(r->data, r->dlen);
	fill(r->meta, r->mlen);
}

static void range_free(struct range *r)
{
	free(r->data);
	free(r->meta);
}

static void *metaptr(const struct range *r, unsigned char *m)
{
	return r->f.extended ? NULL : m;
}

/* A buffer cut into pieces, each malloc'ed on its own. */
struct pieces {
	struct iovec iov[MAX_PIECES];
	uint32_t n;
};

/* Cut @len bytes of @src at the @ncut sorted points of @cut. */
static void cut(struct pieces *p, const unsigned char *src, size_t len, const size_t *cuts,
		unsigned int ncut)
{
	size_t at = 0;
	unsigned int k;

	p->n = 0;
	for (k = 0; k <= ncut; k++) {
		size_t end = k < ncut ? cuts[k] : len, n = end - at;

		cr_assert(p->n < MAX_PIECES);
		/* A 0-length piece keeps a base of its own, or NULL. */
		p->iov[p->n].iov_base = n ? malloc(n) : (k & 1 ? NULL : malloc(1));
		p->iov[p->n].iov_len = n;
		if (n)
			memcpy(p->iov[p->n].iov_base, src + at, n);
		p->n++;
		at = end;
	}
}

/* Single-byte pieces throughout. */
static void cut_bytes(struct pieces *p, const unsigned char *src, size_t len)
{
	static size_t cuts[MAX_PIECES];
	size_t k;

	cr_assert(len < MAX_PIECES);
	for (k = 1; k < len; k++)
		cuts[k - 1] = k;
	cut(p, src, len, cuts, len ? (unsigned int)len - 1 : 0);
}

static void cut_random(struct pieces *p, const unsigned char *src, size_t len)
{
	size_t cuts[24];
	unsigned int n = (unsigned int)(next() % 24), k, j;

	for (k = 0; k < n; k++)
		cuts[k] = len ? next() % (len + 1) : 0;
	for (k = 1; k < n; k++)
		for (j = k; j > 0 && cuts[j - 1] > cuts[j]; j--) {
			size_t x = cuts[j];

			cuts[j] = cuts[j - 1];
			cuts[j - 1] = x;
		}
	cut(p, src, len, cuts, n);
}

/* Gather the pieces back, and free them. */
static void gather(struct pieces *p, unsigned char *dst)
{
	uint32_t k;

	for (k = 0; k < p->n; k++) {
		if (p->iov[k].iov_len)
			memcpy(dst, p->iov[k].iov_base, p->iov[k].iov_len);
		dst += p->iov[k].iov_len;
		free(p->iov[k].iov_base);
	}
	p->n = 0;
}

static struct pieces pd, pm;

/* The exhaustive cut loops leave injection to the single-byte and random
 * runs, which inject into every field of every block: time under ASan. */
static bool with_inject = true;

/* The range's corruptions: block i%6 is 0 good, 1 a data bit, 2 never
 * written, 3 a reference tag bit, 4 escaped, 5 a storage tag or app tag
 * bit; so every report has several entries. */
static void corrupt(const struct range *r)
{
	void *m = metaptr(r, r->meta);
	size_t pi_off = r->f.pi_first ? 0 : r->f.ms - r->f.pi_size;
	uint32_t i;

	for (i = 0; i < r->nlb; i++) {
		struct nvmeta_pi_injection inj = { .block = i };
		unsigned char *tup = r->f.extended ?
			r->data + (size_t)i * (r->f.block_size + r->f.ms) + r->f.block_size + pi_off :
			r->meta + (size_t)i * r->f.ms + pi_off;

		switch (i % 6) {
		case 1:
			inj.field = NVMETA_PI_FIELD_DATA;
			inj.offset = (uint32_t)(next() % r->f.block_size);
			break;
		case 2:
			memset(tup, 0xff, r->f.pi_size);
			continue;
		case 3:
			inj.field = NVMETA_PI_FIELD_REF;
			if (nvmeta_pi_ref_bits(&r->f))
				break;
			continue;
		case 4:
			tup[r->f.guard_bits / 8] = tup[r->f.guard_bits / 8 + 1] = 0xff;
			continue;
		case 5:
			inj.field = r->f.sts ? NVMETA_PI_FIELD_STORAGE : NVMETA_PI_FIELD_APP;
			break;
		default:
			continue;
		}
		cr_assert_eq(nvmeta_pi_inject(&r->f, r->data, m, r->nlb, &inj), 0, "%s",
			     nvmeta_last_error());
	}
}

static struct nvmeta_pi_tags tags_of(const struct nvmeta_pi_format *f, uint32_t checks)
{
	unsigned int bits = nvmeta_pi_ref_bits(f);
	uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	struct nvmeta_pi_tags t = {
		/* Types 1 and 2 count up over the top of the field. */
		.ref_tag = mask > 2 ? mask - 1 : 0,
		.storage_tag = f->sts ? (f->sts >= 64 ? 0x8877665544332211ull :
					 0x5a5a5a5a5a5a5a5aull & ((1ull << f->sts) - 1)) : 0,
		.app_tag = 0x1234, .app_mask = 0xffff, .checks = checks, .lba = 1000,
	};
	return t;
}

static void same_report(int r1, const struct nvmeta_pi_report *a, const struct nvmeta_pi_error *ea,
			int r2, const struct nvmeta_pi_report *b, const struct nvmeta_pi_error *eb,
			const char *what)
{
	cr_assert_eq(r1, r2, "%s: %d against %d", what, r1, r2);
	cr_assert_eq(memcmp(a, b, sizeof(*a)), 0,
		     "%s: report block %u/%u field %u/%u bad %u/%u unwritten %u/%u", what,
		     a->block, b->block, a->field, b->field, a->bad, b->bad, a->unwritten,
		     b->unwritten);
	cr_assert_eq(memcmp(ea, eb, sizeof(*ea) * MAX_ERR), 0, "%s: error lists differ", what);
}

/* A new reference tag that fits the format. */
static uint64_t nref(const struct nvmeta_pi_format *f, uint64_t v)
{
	return nvmeta_pi_ref_tag(f, v);
}

/* One split of the range: @cut_fn cuts the data, then the metadata. */
typedef void (*splitter)(struct pieces *p, const unsigned char *src, size_t len, void *arg);

struct one_cut {
	size_t a, b;		/* cut points: data at a (and b if extended), meta at b */
	bool two_in_data;
};

/*
 * Every operation, scattered as @split says, against the contiguous one.
 */
static void compare_all(const struct range *r0, void (*split)(struct pieces *, struct pieces *,
							      const struct range *, void *),
			void *arg)
{
	struct range a = *r0, b = *r0;
	struct nvmeta_pi_tags t = tags_of(&r0->f, NVMETA_PI_CHECK_ALL);
	struct nvmeta_pi_tags tnog = tags_of(&r0->f, NVMETA_PI_CHECK_ALL & ~NVMETA_PI_CHECK_GUARD);
	struct nvmeta_pi_report ra, rb;
	struct nvmeta_pi_error ea[MAX_ERR], eb[MAX_ERR];
	struct nvmeta_pi_iov io = { 0 };
	int x, y;
	unsigned int k;

	a.data = malloc(r0->dlen + 1);
	a.meta = malloc(r0->mlen + 1);
	b.data = malloc(r0->dlen + 1);
	b.meta = malloc(r0->mlen + 1);
	memcpy(a.data, r0->data, r0->dlen);
	memcpy(a.meta, r0->meta, r0->mlen);

#define SCATTER() do {								\
		split(&pd, &pm, &a, arg);					\
		io = (struct nvmeta_pi_iov){ .data = pd.iov, .ndata = pd.n,	\
			.meta = r0->f.extended ? NULL : pm.iov,			\
			.nmeta = r0->f.extended ? 0 : pm.n, .nlb = r0->nlb };	\
	} while (0)
#define GATHER() do {								\
		gather(&pd, b.data);						\
		gather(&pm, b.meta);						\
	} while (0)
#define SAME_BYTES(what) do {							\
		cr_assert_eq(memcmp(a.data, b.data, r0->dlen), 0, "%s: data", what); \
		cr_assert_eq(memcmp(a.meta, b.meta, r0->mlen), 0, "%s: metadata", what); \
	} while (0)

	/* Generation. */
	SCATTER();
	x = nvmeta_pi_generate(&a.f, a.data, metaptr(&a, a.meta), a.nlb, &t);
	y = nvmeta_pi_generate_iov(&a.f, &io, &t);
	cr_assert_eq(x, 0, "%s", nvmeta_last_error());
	cr_assert_eq(y, 0, "%s", nvmeta_last_error());
	GATHER();
	SAME_BYTES("generate");

	/* Verification of a clean range, then of a corrupted one, with and
	 * without the guard check. */
	for (k = 0; k < 4; k++) {
		const struct nvmeta_pi_tags *tk = k & 1 ? &tnog : &t;

		if (k == 2)
			corrupt(&a);
		SCATTER();
		memset(ea, 0x55, sizeof(ea));
		memset(eb, 0x55, sizeof(eb));
		x = nvmeta_pi_verify_list(&a.f, a.data, metaptr(&a, a.meta), a.nlb, tk, &ra, ea,
					  MAX_ERR);
		y = nvmeta_pi_verify_iov(&a.f, &io, tk, &rb, eb, MAX_ERR);
		same_report(x, &ra, ea, y, &rb, eb, "verify");
		GATHER();
		SAME_BYTES("verify leaves the bytes");
	}

	/* Injection into every block, every field. */
	for (k = 0; with_inject && k < r0->nlb * 5; k++) {
		struct nvmeta_pi_injection inj = { .block = k / 5, .field = k % 5 + 1,
						   .offset = (uint32_t)(k * 7 % r0->f.block_size) };

		SCATTER();
		x = nvmeta_pi_inject(&a.f, a.data, metaptr(&a, a.meta), a.nlb, &inj);
		y = nvmeta_pi_inject_iov(&a.f, &io, &inj);
		cr_assert_eq(x, y, "inject field %u: %d against %d", inj.field, x, y);
		GATHER();
		SAME_BYTES("inject");
	}

	/* Checked remap: fails on the corrupted range, nothing rewritten... */
	SCATTER();
	x = nvmeta_pi_remap_check(&a.f, a.data, metaptr(&a, a.meta), a.nlb, &t, nref(&a.f, 7), &ra, ea,
				  MAX_ERR);
	y = nvmeta_pi_remap_check_iov(&a.f, &io, &t, nref(&a.f, 7), &rb, eb, MAX_ERR);
	same_report(x, &ra, ea, y, &rb, eb, "remap_check");
	GATHER();
	SAME_BYTES("remap_check");

	/* ...plain remap, then a checked one back that passes. */
	SCATTER();
	x = nvmeta_pi_remap(&a.f, a.data, metaptr(&a, a.meta), a.nlb, nref(&a.f, 3));
	y = nvmeta_pi_remap_iov(&a.f, &io, nref(&a.f, 3));
	cr_assert_eq(x, y);
	GATHER();
	SAME_BYTES("remap");
	x = nvmeta_pi_generate(&a.f, a.data, metaptr(&a, a.meta), a.nlb, &t);
	memcpy(b.data, a.data, r0->dlen);
	memcpy(b.meta, a.meta, r0->mlen);
	SCATTER();
	x = nvmeta_pi_remap_check(&a.f, a.data, metaptr(&a, a.meta), a.nlb, &t, nref(&a.f, 5), &ra, ea,
				  MAX_ERR);
	y = nvmeta_pi_remap_check_iov(&a.f, &io, &t, nref(&a.f, 5), &rb, eb, MAX_ERR);
	cr_assert_eq(x, 0, "%s", nvmeta_last_error());
	same_report(x, &ra, ea, y, &rb, eb, "remap_check passing");
	GATHER();
	SAME_BYTES("remap_check passing");
#undef SCATTER
#undef GATHER
#undef SAME_BYTES
	free(a.data);
	free(a.meta);
	free(b.data);
	free(b.meta);
}

/* Splitters: the data (and metadata) as the argument says. */
static void split_cut(struct pieces *d, struct pieces *m, const struct range *r, void *arg)
{
	const struct one_cut *c = arg;
	size_t cuts[2] = { c->a, c->b };

	if (r->f.extended || c->two_in_data) {
		cut(d, r->data, r->dlen, cuts, 2);
		cut(m, r->meta, r->mlen, NULL, 0);
	} else {
		cut(d, r->data, r->dlen, cuts, 1);
		cut(m, r->meta, r->mlen, cuts + 1, 1);
	}
}

static void split_bytes(struct pieces *d, struct pieces *m, const struct range *r, void *arg)
{
	(void)arg;
	cut_bytes(d, r->data, r->dlen);
	cut_bytes(m, r->meta, r->mlen);
}

static void split_random(struct pieces *d, struct pieces *m, const struct range *r, void *arg)
{
	(void)arg;
	cut_random(d, r->data, r->dlen);
	cut_random(m, r->meta, r->mlen);
}

static void split_metapair(struct pieces *d, struct pieces *m, const struct range *r, void *arg)
{
	const struct one_cut *c = arg;
	size_t cuts[2] = { c->a, c->b };

	cut(d, r->data, r->dlen, NULL, 0);
	cut(m, r->meta, r->mlen, cuts, 2);
}

/* Every format of the small exhaustive runs: every guard and storage tag
 * size, PI first and last, separate and extended, metadata of the PI
 * alone or with 8 bytes more, type @type. */
#define FOR_EACH_FORMAT(f, bs, type)						\
	for (unsigned int g_ = 0; g_ < ARRAY_SIZE(guards); g_++)		\
		for (unsigned int v_ = 0; v_ < 8; v_++)				\
			for (struct nvmeta_pi_format f = mkfmt(guards[g_].guard, \
				guards[g_].sts, (type), v_ & 1, v_ & 2, (bs),	\
				v_ & 4 ? 8 : 0), *once_ = &f; once_; once_ = NULL)

/* Every pair of cut points, for the formats of one guard size. */
static void every_pair(uint8_t guard)
{
	FOR_EACH_FORMAT(f, 16, 1) {
		struct range r;
		struct one_cut c = { 0 };

		if (f.guard_bits != guard)
			continue;
		range_init(&r, &f, 2);
		with_inject = false;
		if (f.extended) {
			for (c.a = 0; c.a <= r.dlen; c.a++)
				for (c.b = c.a; c.b <= r.dlen; c.b++)
					compare_all(&r, split_cut, &c);
		} else {
			for (c.a = 0; c.a <= r.dlen; c.a++)
				for (c.b = 0; c.b <= r.mlen; c.b++)
					compare_all(&r, split_cut, &c);
			for (c.a = 0; c.a <= r.mlen; c.a++)
				for (c.b = c.a; c.b <= r.mlen; c.b++)
					compare_all(&r, split_metapair, &c);
		}
		with_inject = true;
		range_free(&r);
	}
}

Test(pi_iov, every_pair_of_cut_points_on_small_blocks_guard_16)
{
	every_pair(16);
}

Test(pi_iov, every_pair_of_cut_points_on_small_blocks_guard_32)
{
	every_pair(32);
}

Test(pi_iov, every_pair_of_cut_points_on_small_blocks_guard_64)
{
	every_pair(64);
}

Test(pi_iov, every_type_with_single_byte_pieces_and_random_cuts)
{
	for (uint8_t type = 1; type <= 3; type++)
		FOR_EACH_FORMAT(f, 24, type) {
			struct range r;
			unsigned int k;

			range_init(&r, &f, 7);
			compare_all(&r, split_bytes, NULL);
			for (k = 0; k < 8; k++)
				compare_all(&r, split_random, NULL);
			range_free(&r);
		}
}

/* Real block sizes: every single cut point across three blocks (data and
 * metadata), single bytes, and random cuts over longer ranges. */
Test(pi_iov, real_formats_every_cut_and_random_cuts)
{
	static const struct { uint8_t guard, sts; uint32_t bs, extra; } real[] = {
		{ 16, 0, 512, 0 }, { 16, 16, 512, 8 }, { 64, 0, 4096, 0 }, { 32, 16, 512, 0 },
		{ 64, 48, 512, 48 },
	};
	unsigned int i, v, k;

	for (i = 0; i < ARRAY_SIZE(real); i++)
		for (v = 0; v < 4; v++) {
			struct nvmeta_pi_format f = mkfmt(real[i].guard, real[i].sts, 1 + v % 3,
							  v & 1, v & 2, real[i].bs, real[i].extra);
			struct one_cut c = { 0 };
			struct range r;
			size_t step = real[i].bs > 512 ? 127 : 13;

			range_init(&r, &f, 3);
			with_inject = false;
			for (c.a = 0; c.a <= r.dlen; c.a += (c.a % (f.block_size + f.ms)) < 4 ||
					 (c.a + 24) % (f.block_size + f.ms) < 48 ? 1 : step) {
				c.b = f.extended ? c.a : c.a % (r.mlen + 1);
				compare_all(&r, split_cut, &c);
			}
			with_inject = true;
			if (r.dlen < MAX_PIECES)
				compare_all(&r, split_bytes, NULL);
			range_free(&r);
			range_init(&r, &f, 40);
			for (k = 0; k < 6; k++)
				compare_all(&r, split_random, NULL);
			range_free(&r);
		}
}

/* ---- copy with PI ---- */

static void compare_copy(const struct range *r, struct pieces *p)
{
	struct nvmeta_pi_tags t = tags_of(&r->f, NVMETA_PI_CHECK_ALL);
	size_t plain = (size_t)r->nlb * r->f.block_size, stride = r->f.block_size +
		       (r->f.extended ? r->f.ms : 0);
	unsigned char *app = malloc(plain + 1), *a = malloc(r->dlen + 1), *am = malloc(r->mlen + 1);
	unsigned char *b = malloc(r->dlen + 1), *bm = malloc(r->mlen + 1), *out = malloc(plain + 1);
	struct nvmeta_pi_report ra, rb;
	struct nvmeta_pi_error ea[MAX_ERR], eb[MAX_ERR];
	uint32_t i;
	int x, y;

	/* The application's data, copied into the range and generated; the
	 * same through the one pass. */
	fill(app, plain);
	memcpy(a, r->data, r->dlen);
	memcpy(am, r->meta, r->mlen);
	memcpy(b, r->data, r->dlen);
	memcpy(bm, r->meta, r->mlen);
	for (i = 0; i < r->nlb; i++)
		memcpy(a + i * stride, app + (size_t)i * r->f.block_size, r->f.block_size);
	x = nvmeta_pi_generate(&r->f, a, metaptr(r, am), r->nlb, &t);
	cut_random(p, app, plain);
	y = nvmeta_pi_generate_copy(&r->f, b, metaptr(r, bm), p->iov, p->n, r->nlb, &t);
	gather(p, out);
	cr_assert_eq(x, 0);
	cr_assert_eq(y, 0, "%s", nvmeta_last_error());
	cr_assert_eq(memcmp(a, b, r->dlen), 0, "generate_copy: data");
	cr_assert_eq(memcmp(am, bm, r->mlen), 0, "generate_copy: metadata");

	/* Out again, verified, on a corrupted range: the same verdicts, and
	 * the data as it was. */
	{
		struct range c = *r;

		c.data = a;
		c.meta = am;
		corrupt(&c);
	}
	memset(ea, 0x55, sizeof(ea));
	memset(eb, 0x55, sizeof(eb));
	x = nvmeta_pi_verify_list(&r->f, a, metaptr(r, am), r->nlb, &t, &ra, ea, MAX_ERR);
	memset(out, 0, plain);
	cut_random(p, out, plain);
	y = nvmeta_pi_verify_copy(&r->f, p->iov, p->n, a, metaptr(r, am), r->nlb, &t, &rb, eb,
				  MAX_ERR);
	gather(p, out);
	same_report(x, &ra, ea, y, &rb, eb, "verify_copy");
	for (i = 0; i < r->nlb; i++)
		cr_assert_eq(memcmp(out + (size_t)i * r->f.block_size, a + i * stride,
				    r->f.block_size), 0, "verify_copy: block %u's data", i);
	free(app);
	free(a);
	free(am);
	free(b);
	free(bm);
	free(out);
}

Test(pi_iov, copy_with_pi_matches_copy_then_pi)
{
	static struct pieces p;
	unsigned int k;

	for (uint8_t type = 1; type <= 3; type++)
		FOR_EACH_FORMAT(f, 512, type) {
			struct range r;

			range_init(&r, &f, 9);
			for (k = 0; k < 4; k++)
				compare_copy(&r, &p);
			range_free(&r);
		}
}

/* ---- streams ---- */

static void compare_stream(const struct range *r, const size_t *cuts, unsigned int ncut)
{
	struct nvmeta_pi_tags t = tags_of(&r->f, NVMETA_PI_CHECK_ALL);
	unsigned char *a = malloc(r->dlen + 1), *am = malloc(r->mlen + 1);
	unsigned char *b = malloc(r->dlen + 1), *bm = malloc(r->mlen + 1);
	struct nvmeta_pi_report ra, rb;
	struct nvmeta_pi_error ea[MAX_ERR], eb[MAX_ERR];
	struct nvmeta_pi_stream s;
	unsigned int pass, k;
	int x, y;

	memcpy(a, r->data, r->dlen);
	memcpy(am, r->meta, r->mlen);
	for (pass = 0; pass < 2; pass++) {
		enum nvmeta_pi_stream_mode mode = pass ? NVMETA_PI_STREAM_VERIFY :
					       NVMETA_PI_STREAM_GENERATE;
		size_t at = 0;

		memcpy(b, a, r->dlen);
		memcpy(bm, am, r->mlen);
		memset(ea, 0x55, sizeof(ea));
		memset(eb, 0x55, sizeof(eb));
		if (pass) {
			struct range c = *r;

			c.data = a;
			c.meta = am;
			corrupt(&c);
			memcpy(b, a, r->dlen);
			memcpy(bm, am, r->mlen);
			x = nvmeta_pi_verify_list(&r->f, a, metaptr(r, am), r->nlb, &t, &ra, ea,
						  MAX_ERR);
		} else {
			x = nvmeta_pi_generate(&r->f, a, metaptr(r, am), r->nlb, &t);
			memset(&ra, 0, sizeof(ra));
		}
		cr_assert_eq(nvmeta_pi_stream_init(&s, &r->f, metaptr(r, bm), r->nlb, &t, mode, eb,
						   MAX_ERR), 0, "%s", nvmeta_last_error());
		for (k = 0; k <= ncut; k++) {
			size_t end = k < ncut ? cuts[k] : r->dlen;
			/* Each piece a copy of its own, written back. */
			unsigned char *piece = malloc(end - at + 1);

			memcpy(piece, b + at, end - at);
			cr_assert_eq(nvmeta_pi_stream_update(&s, at, piece, end - at), 0, "%s",
				     nvmeta_last_error());
			memcpy(b + at, piece, end - at);
			free(piece);
			if (end < r->dlen)
				cr_assert_eq(nvmeta_pi_stream_finish(&s, &rb), -EINVAL);
			at = end;
		}
		y = nvmeta_pi_stream_finish(&s, &rb);
		same_report(x, &ra, ea, y, pass ? &rb : &ra, pass ? eb : ea, "stream");
		cr_assert_eq(memcmp(a, b, r->dlen), 0, "stream: data");
		cr_assert_eq(memcmp(am, bm, r->mlen), 0, "stream: metadata");
	}
	free(a);
	free(am);
	free(b);
	free(bm);
}

Test(pi_stream, every_pair_of_piece_ends_on_small_blocks)
{
	FOR_EACH_FORMAT(f, 16, 2) {
		struct range r;
		size_t c[2];

		range_init(&r, &f, 2);
		for (c[0] = 0; c[0] <= r.dlen; c[0]++)
			for (c[1] = c[0]; c[1] <= r.dlen; c[1]++)
				compare_stream(&r, c, 2);
		range_free(&r);
	}
}

Test(pi_stream, single_bytes_and_random_pieces_every_type)
{
	static size_t cuts[MAX_PIECES];

	for (uint8_t type = 1; type <= 3; type++)
		FOR_EACH_FORMAT(f, 512, type) {
			struct range r;
			unsigned int k, n, j;

			range_init(&r, &f, 3);
			for (k = 1; k < r.dlen; k++)
				cuts[k - 1] = k;
			compare_stream(&r, cuts, (unsigned int)r.dlen - 1);
			for (k = 0; k < 6; k++) {
				n = (unsigned int)(next() % 40);
				for (j = 0; j < n; j++)
					cuts[j] = next() % (r.dlen + 1);
				for (j = 1; j < n; j++)
					for (unsigned int q = j; q > 0 && cuts[q - 1] > cuts[q]; q--) {
						size_t x = cuts[q];

						cuts[q] = cuts[q - 1];
						cuts[q - 1] = x;
					}
				compare_stream(&r, cuts, n);
			}
			range_free(&r);
		}
}

Test(pi_stream, pieces_out_of_order_or_past_the_end_are_refused)
{
	struct nvmeta_pi_format f = mkfmt(16, 0, 1, false, true, 512, 0);
	struct nvmeta_pi_tags t = tags_of(&f, NVMETA_PI_CHECK_ALL);
	unsigned char buf[2 * 520] = { 0 };
	struct nvmeta_pi_stream s;

	cr_assert_eq(nvmeta_pi_stream_init(&s, &f, NULL, 2, &t, 3, NULL, 0), -EINVAL);
	cr_assert_eq(nvmeta_pi_stream_init(&s, &f, buf, 2, &t, NVMETA_PI_STREAM_GENERATE, NULL,
					   0), -EINVAL);
	cr_assert_eq(nvmeta_pi_stream_init(&s, &f, NULL, 2, &t, NVMETA_PI_STREAM_GENERATE, NULL,
					   0), 0);
	cr_assert_eq(nvmeta_pi_stream_update(&s, 1, buf, 10), -EINVAL);
	cr_assert_eq(nvmeta_pi_stream_update(&s, 0, buf, 100), 0);
	cr_assert_eq(nvmeta_pi_stream_update(&s, 0, buf, 100), -EINVAL);
	cr_assert_eq(nvmeta_pi_stream_update(&s, 100, buf, sizeof(buf)), -EINVAL);
	cr_assert_eq(nvmeta_pi_stream_finish(&s, NULL), -EINVAL);
	cr_assert_eq(nvmeta_pi_stream_update(&s, 100, buf + 100, sizeof(buf) - 100), 0);
	cr_assert_eq(nvmeta_pi_stream_finish(&s, NULL), 0);
}

/* ---- checks and the checked remap ---- */

Test(pi_iov, bad_scatter_lists_are_refused_before_any_byte_moves)
{
	struct nvmeta_pi_format f = mkfmt(16, 0, 1, false, false, 512, 0);
	struct nvmeta_pi_tags t = tags_of(&f, NVMETA_PI_CHECK_ALL);
	unsigned char d[1024], m[16];
	struct iovec dv[2] = { { d, 512 }, { d + 512, 512 } }, mv[1] = { { m, 16 } };
	struct iovec nul[2] = { { d, 512 }, { NULL, 512 } };
	struct nvmeta_pi_iov b = { .data = dv, .ndata = 2, .meta = mv, .nmeta = 1, .nlb = 2 };
	struct nvmeta_pi_report rep;

	memset(m, 0xa5, sizeof(m));
	cr_assert_eq(nvmeta_pi_generate_iov(&f, &b, &t), 0, "%s", nvmeta_last_error());
	b.nlb = 3;
	cr_assert_eq(nvmeta_pi_generate_iov(&f, &b, &t), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "data"), "%s", nvmeta_last_error());
	b.nlb = 2;
	b.data = nul;
	cr_assert_eq(nvmeta_pi_verify_iov(&f, &b, &t, &rep, NULL, 0), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "NULL"), "%s", nvmeta_last_error());
	b.data = dv;
	b.ndata = 0;
	cr_assert_eq(nvmeta_pi_remap_iov(&f, &b, 1), -EINVAL);
	b.ndata = 2;
	b.nmeta = 0;
	cr_assert_eq(nvmeta_pi_remap_iov(&f, &b, 1), -EINVAL);
	b.nmeta = 1;
	b.resv[1] = 1;
	cr_assert_eq(nvmeta_pi_remap_iov(&f, &b, 1), -EINVAL);
	b.resv[1] = 0;
	f.extended = true;
	cr_assert_eq(nvmeta_pi_remap_iov(&f, &b, 1), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "extended"), "%s", nvmeta_last_error());
	f.extended = false;
	cr_assert_eq(nvmeta_pi_generate_copy(&f, d, m, nul, 2, 2, &t), -EINVAL);
	cr_assert_eq(nvmeta_pi_verify_copy(&f, dv, 1, d, m, 2, &t, &rep, NULL, 0), -EINVAL);
	/* A wide new tag fails before anything is checked or written. */
	cr_assert_eq(nvmeta_pi_remap_check(&f, d, m, 2, &t, 1ull << 32, &rep, NULL, 0), -EINVAL);
	t.checks = NVMETA_PI_CHECK_GUARD;
	cr_assert_eq(nvmeta_pi_remap_check(&f, d, m, 2, &t, 1, &rep, NULL, 0), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "NVMETA_PI_CHECK_REF"), "%s", nvmeta_last_error());
}

Test(pi_remap_check, every_mismatch_is_listed_and_nothing_rewritten)
{
	for (uint8_t type = 1; type <= 3; type++) {
		struct nvmeta_pi_format f = mkfmt(16, 0, type, false, false, 512, 0);
		struct nvmeta_pi_tags t = tags_of(&f, NVMETA_PI_CHECK_REF);
		unsigned char d[8 * 512], m[8 * 8], keep[8 * 8];
		struct nvmeta_pi_error e[8];
		struct nvmeta_pi_report rep;
		struct nvmeta_pi_injection inj = { .field = NVMETA_PI_FIELD_REF };

		fill(d, sizeof(d));
		t.ref_tag = 100;
		cr_assert_eq(nvmeta_pi_generate(&f, d, m, 8, &t), 0);
		/* Block 2 unwritten, block 4 escaped, 5 and 7 with wrong tags. */
		memset(m + 2 * 8, 0xff, 8);
		m[4 * 8 + 2] = m[4 * 8 + 3] = 0xff;
		if (type == 3)
			memset(m + 4 * 8 + 4, 0xff, 4);
		inj.block = 5;
		cr_assert_eq(nvmeta_pi_inject(&f, d, m, 8, &inj), 0);
		inj.block = 7;
		cr_assert_eq(nvmeta_pi_inject(&f, d, m, 8, &inj), 0);
		memcpy(keep, m, sizeof(m));
		cr_assert_eq(nvmeta_pi_remap_check(&f, d, m, 8, &t, 5000, &rep, e, 8), -EILSEQ);
		cr_assert_eq(memcmp(keep, m, sizeof(m)), 0, "nothing rewritten");
		cr_assert_eq(rep.bad, 2);
		cr_assert_eq(rep.listed, 2);
		cr_assert_eq(rep.unwritten, 1);
		cr_assert_eq(rep.escaped, 1);
		cr_assert_eq(e[0].block, 5);
		cr_assert_eq(e[0].lba, 1005);
		cr_assert_eq(e[0].field, NVMETA_PI_FIELD_REF);
		cr_assert_eq(e[0].expected, type == 3 ? 100 : 105);
		cr_assert_eq(e[1].block, 7);
		/* Mended, it goes through; the unwritten and escaped stay. */
		inj.block = 5;
		cr_assert_eq(nvmeta_pi_inject(&f, d, m, 8, &inj), 0);
		inj.block = 7;
		cr_assert_eq(nvmeta_pi_inject(&f, d, m, 8, &inj), 0);
		cr_assert_eq(nvmeta_pi_remap_check(&f, d, m, 8, &t, 5000, &rep, e, 8), 0, "%s",
			     nvmeta_last_error());
		cr_assert_eq(memcmp(keep + 2 * 8, m + 2 * 8, 8), 0);
		cr_assert_eq(memcmp(keep + 4 * 8, m + 4 * 8, 8), 0);
		t.ref_tag = 5000;
		t.checks = NVMETA_PI_CHECK_ALL;
		cr_assert_eq(nvmeta_pi_verify(&f, d, m, 8, &t, &rep), 0, "%s", nvmeta_last_error());
		cr_assert_eq(rep.unwritten, 1);
		cr_assert_eq(rep.escaped, 1);
	}
}
