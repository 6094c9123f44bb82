// SPDX-License-Identifier: MIT
/*
 * End-to-end protection information: generating, verifying, remapping
 * and corrupting PI tuples on the host, for the three guard formats of the
 * NVM Command Set, types 1 to 3, PI first or last in the metadata, with or
 * without a storage tag, in separate or interleaved metadata.
 *
 * The per-block work is one CRC over the data (ISA-L where it has it) and
 * a few byte stores; the layout arithmetic is done once per call.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <isa-l/crc.h>
#include "internal.h"
#include "complete.h"

/* Where the pieces of one block lie, worked out once per call. */
struct pi_walk {
	struct nvmeta_pi_format f;	/* a copy: stores into the buffers
					 * cannot alias it */
	unsigned char *data, *meta;
	size_t data_stride, meta_stride;
	size_t pi_offset;		/* of the tuple inside the block's metadata */
	unsigned int space_bits;	/* 32, 48 or 80 */
	unsigned int ref_bits;		/* the reference tag's part of the space */
};

static unsigned int space_bits(const struct nvmeta_pi_format *f)
{
	return f->guard_bits == 32 ? 80 : f->guard_bits == 64 ? 48 : 32;
}

static int check_format(const struct nvmeta_pi_format *f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(f->resv); i++)
		if (f->resv[i])
			return nvmeta_fail(-EINVAL, "nvmeta_pi_format resv[%zu] is not zero", i);
	if (f->pi_type < 1 || f->pi_type > 3)
		return nvmeta_fail(-EINVAL, "PI type %u: must be 1, 2 or 3", f->pi_type);
	if (!((f->guard_bits == 16 && f->pi_size == 8) ||
	      (f->guard_bits == 32 && f->pi_size == 16) ||
	      (f->guard_bits == 64 && f->pi_size == 16)))
		return nvmeta_fail(-EINVAL, "a %u-bit guard in %u bytes of PI is not an NVMe PI format",
				   f->guard_bits, f->pi_size);
	if (f->ms < f->pi_size)
		return nvmeta_fail(-EINVAL, "%u bytes of metadata cannot hold %u bytes of PI",
				   f->ms, f->pi_size);
	/* The reference tag is at most 64 bits: the 80-bit space of a
	 * 32-bit guard always gives at least 16 of them to a storage tag. */
	if (f->sts > space_bits(f) || f->sts > 64 || space_bits(f) - f->sts > 64)
		return nvmeta_fail(-EINVAL, "storage tag size %u does not fit the %u-bit tag space of a %u-bit guard%s",
				   f->sts, space_bits(f), f->guard_bits,
				   f->guard_bits == 32 ? " (16 to 64 bits: the reference tag has at most 64)" : "");
	if (!f->block_size)
		return nvmeta_fail(-EINVAL, "block size 0");
	return 0;
}

static int check_tags(const struct pi_walk *w, const struct nvmeta_pi_tags *t)
{
	if (t->resv[0])
		return nvmeta_fail(-EINVAL, "nvmeta_pi_tags reserved fields are not zero");
	if (w->ref_bits < 64 && t->ref_tag >> w->ref_bits)
		return nvmeta_fail(-EINVAL, "reference tag 0x%llx is wider than its %u bits",
				   (unsigned long long)t->ref_tag, w->ref_bits);
	if (w->f.sts < 64 && t->storage_tag >> w->f.sts)
		return nvmeta_fail(-EINVAL, "storage tag 0x%llx is wider than its %u bits",
				   (unsigned long long)t->storage_tag, w->f.sts);
	return 0;
}

static int check_buffers(const struct nvmeta_pi_format *f, const void *data, const void *meta,
			 uint32_t nlb)
{
	if (!data || (!f->extended && !meta))
		return nvmeta_fail(-EINVAL, "PI of %u blocks: %s buffer missing", nlb,
				   data ? "metadata" : "data");
	return 0;
}

/* Lay out a walk over a format that passed the checks, without buffers
 * (the scatter lists have none). */
static void walk_format(struct pi_walk *w, const struct nvmeta_pi_format *f)
{
	w->f = *f;
	w->data = w->meta = NULL;
	if (f->extended) {
		w->data_stride = w->meta_stride = (size_t)f->block_size + f->ms;
	} else {
		w->data_stride = f->block_size;
		w->meta_stride = f->ms;
	}
	w->pi_offset = f->pi_first ? 0 : f->ms - f->pi_size;
	w->space_bits = space_bits(f);
	w->ref_bits = w->space_bits - f->sts;
}

/* Lay out a walk over a format and buffers that passed the checks. */
static void walk_layout(struct pi_walk *w, const struct nvmeta_pi_format *f, const void *data,
			const void *meta)
{
	walk_format(w, f);
	w->data = (unsigned char *)data;
	w->meta = f->extended ? w->data + f->block_size : (unsigned char *)meta;
}

/*
 * Check, then lay out.  The layout is written on every path that returns
 * 0: nvmeta_fail() returns its argument, but the compiler cannot see that
 * from here, and a walk left unwritten behind a 0 would be read.
 */
static int walk_init(struct pi_walk *w, const struct nvmeta_pi_format *f, const void *data,
		     const void *meta, uint32_t nlb)
{
	int ret = check_format(f);

	if (!ret)
		ret = check_buffers(f, data, meta, nlb);
	if (ret)
		return ret;
	walk_layout(w, f, data, meta);
	return 0;
}

/* Big-endian 64-bit loads and stores: a tuple is one or two words. */
static uint64_t load_be64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return be64toh(v);
}

static void store_be64(unsigned char *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* The guard of block @i: over its data, then the metadata before a PI
 * that sits last. */
static uint64_t guard_of(const struct pi_walk *w, uint32_t i)
{
	const unsigned char *d = w->data + (size_t)i * w->data_stride;
	const unsigned char *m = w->meta + (size_t)i * w->meta_stride;
	uint32_t bs = w->f.block_size;
	size_t pre = w->pi_offset;

	switch (w->f.guard_bits) {
	case 16: {
		uint16_t crc = nvmeta_crc16_t10dif(d, bs, 0);

		return pre ? nvmeta_crc16_t10dif(m, pre, crc) : crc;
	}
	case 32: {
		uint32_t crc = nvmeta_crc32c(d, bs, 0);

		return pre ? nvmeta_crc32c(m, pre, crc) : crc;
	}
	default: {
		uint64_t crc = nvmeta_crc64_nvme(d, bs, 0);

		return pre ? nvmeta_crc64_nvme(m, pre, crc) : crc;
	}
	}
}

static unsigned char *tuple(const struct pi_walk *w, uint32_t i)
{
	return w->meta + (size_t)i * w->meta_stride + w->pi_offset;
}

/* The tag space as a high part (above 64 bits, 80-bit space only) and a
 * low part. */
struct space {
	uint64_t hi, lo;
};

/*
 * A tuple as two big-endian words (the second unused for 8-byte PI):
 *   16-bit guard: w0 = guard 16 | app 16 | space 32
 *   64-bit guard: w0 = guard 64;  w1 = app 16 | space 48
 *   32-bit guard: w0 = guard 32 | app 16 | space 79:64;  w1 = space 63:0
 */
struct words {
	uint64_t w0, w1;
};

static struct words tuple_load(const struct pi_walk *w, const unsigned char *pi)
{
	struct words x = { load_be64(pi), w->f.pi_size == 16 ? load_be64(pi + 8) : 0 };

	return x;
}

static void tuple_store(const struct pi_walk *w, unsigned char *pi, struct words x)
{
	store_be64(pi, x.w0);
	if (w->f.pi_size == 16)
		store_be64(pi + 8, x.w1);
}

static struct words tuple_make(const struct pi_walk *w, uint64_t guard, uint16_t app,
			       struct space sp)
{
	struct words x;

	switch (w->f.guard_bits) {
	case 16:
		x.w0 = guard << 48 | (uint64_t)app << 32 | (sp.lo & 0xffffffffull);
		x.w1 = 0;
		break;
	case 64:
		x.w0 = guard;
		x.w1 = (uint64_t)app << 48 | (sp.lo & 0xffffffffffffull);
		break;
	default:
		x.w0 = guard << 32 | (uint64_t)app << 16 | (sp.hi & 0xffff);
		x.w1 = sp.lo;
		break;
	}
	return x;
}

static uint64_t words_guard(const struct pi_walk *w, struct words x)
{
	return w->f.guard_bits == 16 ? x.w0 >> 48 : w->f.guard_bits == 64 ? x.w0 : x.w0 >> 32;
}

static uint16_t words_app(const struct pi_walk *w, struct words x)
{
	return (uint16_t)(w->f.guard_bits == 16 ? x.w0 >> 32 :
			  w->f.guard_bits == 64 ? x.w1 >> 48 : x.w0 >> 16);
}

static struct space words_space(const struct pi_walk *w, struct words x)
{
	struct space sp = { 0, 0 };

	if (w->f.guard_bits == 16)
		sp.lo = x.w0 & 0xffffffffull;
	else if (w->f.guard_bits == 64)
		sp.lo = x.w1 & 0xffffffffffffull;
	else
		sp.hi = x.w0 & 0xffff, sp.lo = x.w1;
	return sp;
}

static struct space space_read(const struct pi_walk *w, const unsigned char *pi)
{
	return words_space(w, tuple_load(w, pi));
}

/* Replace a tuple's tag space, keeping its guard and app tag. */
static void space_write(const struct pi_walk *w, unsigned char *pi, struct space sp)
{
	struct words x = tuple_load(w, pi);

	tuple_store(w, pi, tuple_make(w, words_guard(w, x), words_app(w, x), sp));
}

static uint64_t low_bits(uint64_t v, unsigned int bits)
{
	return bits >= 64 ? v : v & ((1ull << bits) - 1);
}

/* Split a space into its storage tag (top sts bits) and reference tag. */
static uint64_t space_ref(const struct pi_walk *w, struct space sp)
{
	return low_bits(sp.lo, w->ref_bits);
}

static uint64_t space_storage(const struct pi_walk *w, struct space sp)
{
	unsigned int r = w->ref_bits;

	if (!w->f.sts)
		return 0;
	if (r >= 64)
		return low_bits(sp.hi >> (r - 64), w->f.sts);
	return low_bits(sp.lo >> r | (r ? sp.hi << (64 - r) : 0), w->f.sts);
}

static struct space space_make(const struct pi_walk *w, uint64_t storage, uint64_t ref)
{
	unsigned int r = w->ref_bits;
	struct space sp = { 0, low_bits(ref, r) };

	if (!w->f.sts)
		return sp;
	if (r >= 64) {
		sp.hi = storage << (r - 64);
	} else {
		sp.lo |= storage << r;
		sp.hi = r ? storage >> (64 - r) : 0;
	}
	if (w->space_bits == 80)
		sp.hi &= 0xffff;
	else
		sp.lo = low_bits(sp.lo, w->space_bits), sp.hi = 0;
	return sp;
}

/* The reference tag block @i of a range starting at @first carries. */
static uint64_t ref_of(const struct pi_walk *w, uint64_t first, uint32_t i)
{
	if (w->f.pi_type == 3)
		return first;
	return low_bits(first + i, w->ref_bits);
}

static void write_tuple(const struct pi_walk *w, uint32_t i, uint64_t guard, uint16_t app,
			struct space sp)
{
	tuple_store(w, tuple(w, i), tuple_make(w, guard, app, sp));
}

/*
 * The fast road of generation and verification: everything a block needs
 * that does not depend on the block, decided once per call, and one loop
 * per guard size and PI position, so that inside it the CRC, the tuple's
 * layout and whether metadata is under the guard are constants.
 *
 * A tuple is built from its fixed bits (app tag, storage tag), the guard
 * at the top of its first word and the reference tag at the bottom of its
 * last: the 16-bit guard's 8 bytes are one word, guard 63:48 and reference
 * tag in 31:0; the others' 16 bytes are two, with the guard in 63:32 (32-
 * bit) or the whole of the first word (64-bit), the reference tag in the
 * low bits of the second.  Each word is one big-endian 64-bit store.
 */
struct pi_plan {
	const unsigned char *data;	/* block 0's data */
	const unsigned char *pre;	/* block 0's metadata under the guard */
	unsigned char *pi;		/* block 0's tuple */
	size_t data_stride, meta_stride;
	size_t bs, pre_len;		/* bytes of data, of metadata under the guard */
	uint64_t w0, w1;		/* the tuple's fixed bits, expected or written */
	uint64_t m0, m1;		/* verification: the bits compared */
	uint64_t ref, ref_inc, ref_mask; /* block 0's reference tag, the count */
	uint64_t (*crc64)(const void *buf, size_t len, uint64_t crc);
	void (*crc64_blocks)(const struct nvmeta_crc64_blocks *b, uint32_t n, uint64_t *out);
};

#define PI_INLINE static inline __attribute__((always_inline))

/* The fast road passes lengths to ISA-L as int: blocks and metadata under
 * 1 GiB (every real format), else the general road. */
static bool plan_fits(const struct pi_walk *w)
{
	return w->f.block_size < (1u << 30) && w->pi_offset < (1u << 30);
}

/* The plan of a walk without buffers: the lengths, the words and the
 * count. */
static void plan_words(struct pi_plan *p, const struct pi_walk *w, const struct nvmeta_pi_tags *t)
{
	struct space fixed = space_make(w, t->storage_tag, 0);
	struct words x = tuple_make(w, 0, t->app_tag, fixed);

	memset(p, 0, sizeof(*p));
	p->data_stride = w->data_stride;
	p->meta_stride = w->meta_stride;
	p->bs = w->f.block_size;
	p->pre_len = w->pi_offset;
	p->w0 = x.w0;
	p->w1 = x.w1;
	p->ref = t->ref_tag;
	p->ref_inc = w->f.pi_type == 3 ? 0 : 1;
	p->ref_mask = low_bits(~0ull, w->ref_bits);
}

static void plan_init(struct pi_plan *p, const struct pi_walk *w, const struct nvmeta_pi_tags *t)
{
	const struct nvmeta_crc64_variant *c64 = NULL;

	plan_words(p, w, t);
	p->data = w->data;
	p->pi = w->meta + w->pi_offset;
	p->pre = w->meta;
	/* The CRC64 in use is the first of the variants: looked up once a
	 * call, then called directly a block. */
	p->crc64 = NULL;
	p->crc64_blocks = NULL;
	if (w->f.guard_bits == 64 && nvmeta_crc64_variants(&c64, 1)) {
		p->crc64 = c64->fn;
		p->crc64_blocks = c64->blocks;
	}
}

/* Verification: the bits of the tuple that the checks of @t compare. */
static void plan_masks(struct pi_plan *p, const struct pi_walk *w, const struct nvmeta_pi_tags *t)
{
	struct space ref = { 0, 0 }, sto = { 0, 0 }, sp;
	struct words m;

	if (t->checks & NVMETA_PI_CHECK_REF)
		ref = space_make(w, 0, p->ref_mask);
	if ((t->checks & NVMETA_PI_CHECK_STORAGE) && w->f.sts)
		sto = space_make(w, low_bits(~0ull, w->f.sts), 0);
	sp.hi = ref.hi | sto.hi;
	sp.lo = ref.lo | sto.lo;
	m = tuple_make(w, low_bits(~0ull, w->f.guard_bits),
		       t->checks & NVMETA_PI_CHECK_APP ? t->app_mask : 0, sp);
	p->m0 = m.w0;
	p->m1 = m.w1;
}

/* The guard of one block, ISA-L's CRC16 and CRC32C called directly: over
 * its data, then on from there over the metadata before the PI. */
PI_INLINE uint64_t plan_guard(const struct pi_plan *p, unsigned int bits, bool pre,
			      const unsigned char *d, const unsigned char *m)
{
	if (bits == 16) {
		uint16_t crc = crc16_t10dif(0, d, p->bs);

		return pre ? crc16_t10dif(crc, m, p->pre_len) : crc;
	}
	if (bits == 32) {
		/* The raw register, inverted once at each end (crc.c). */
		uint32_t reg = crc32_iscsi((unsigned char *)d, (int)p->bs, ~0u);

		if (pre)
			reg = crc32_iscsi((unsigned char *)m, (int)p->pre_len, reg);
		return (uint32_t)~reg;
	}
	{
		uint64_t crc = p->crc64(d, p->bs, 0);

		return pre ? p->crc64(m, p->pre_len, crc) : crc;
	}
}

/* The tuple's first word with guard @g. */
PI_INLINE uint64_t plan_word0(unsigned int bits, uint64_t fixed, uint64_t g)
{
	return (bits == 16 ? g << 48 : bits == 32 ? g << 32 : g) | fixed;
}

/* Its app tag, from its first (16- and 32-bit guards) or second word. */
PI_INLINE uint16_t plan_app(unsigned int bits, uint64_t x0, uint64_t x1)
{
	return (uint16_t)(bits == 16 ? x0 >> 32 : bits == 32 ? x0 >> 16 : x1 >> 48);
}

/*
 * The per-block work is a cost the CRC sets the scale of: at 512 bytes
 * ISA-L's AVX-512 CRC takes about 30 cycles, and every instruction around
 * it competes with its own (issue 18).  So the loops below keep as little
 * as they can: the data pointer against an end, the tuple pointer (the
 * metadata under the guard is just before it), and the tuple's words as
 * they lie in memory, in the host's byte order ("raw"), so that no word
 * is swapped, only the guard.  The word that holds the reference tag
 * counts on by itself: within a run of blocks in which the tag neither
 * wraps past its mask nor carries out of its last byte, adding one to
 * that byte, wherever the host keeps it, is adding one to the tag.
 */

/* Blocks in a row from reference tag @ref on, counting by @inc, before
 * the tag wraps past @mask or carries out of its last byte: at least 1,
 * at most @n (> 0). */
static uint32_t ref_run(uint64_t ref, uint64_t inc, uint64_t mask, uint32_t n)
{
	uint64_t room = mask - ref;	/* blocks after this one before the wrap */

	if (!inc)
		return n;
	if (room > 255 - (ref & 0xff))
		room = 255 - (ref & 0xff);
	return room >= n - 1 ? n : (uint32_t)room + 1;
}

/* A big-endian word @v as a native load of its 8 bytes reads it. */
PI_INLINE uint64_t raw_of(uint64_t v)
{
	return htobe64(v);
}

/* The raw first word of a tuple with guard @g and fixed bits @fixed_raw
 * (16-bit guard: the reference tag's word too). */
PI_INLINE uint64_t raw_word0(unsigned int bits, uint64_t fixed_raw, uint64_t g)
{
#if __BYTE_ORDER == __LITTLE_ENDIAN
	/* The guard's bytes come first: the low bytes of the native word. */
	if (bits == 16)
		return fixed_raw | __builtin_bswap16((uint16_t)g);
	if (bits == 32)
		return fixed_raw | __builtin_bswap32((uint32_t)g);
	return __builtin_bswap64(g);	/* the whole word; nothing fixed */
#else
	return bits == 64 ? g : fixed_raw | g << (64 - bits);
#endif
}

/* The tuple's word that holds the reference tag (its last), for @ref. */
PI_INLINE uint64_t plan_ref_word(const struct pi_plan *p, unsigned int bits, uint64_t ref)
{
	return (bits == 16 ? p->w0 : p->w1) | ref;
}

PI_INLINE uint64_t load_raw(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

PI_INLINE void store_raw(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Store the tuple of guard @g and raw tag word @e at @pi. */
PI_INLINE void tuple_put(unsigned char *pi, unsigned int bits, uint64_t w0, uint64_t e, uint64_t g)
{
	if (bits == 16) {
		store_raw(pi, raw_word0(bits, e, g));
	} else {
		store_raw(pi, raw_word0(bits, w0, g));
		store_raw(pi + 8, e);
	}
}

/*
 * The 64-bit guard's CRCs come a batch of blocks at a time from the
 * variant in use (nvmeta_crc64_variant.blocks: for the 512-bit folding,
 * one call with the CRC inline in its loop, its constants in registers),
 * then the batch's tuples.  A block's CRC call, its set-up and the
 * registers saved around it were what kept 512+16 at 0.95 to 0.96 of the
 * bare CRC (issue 18).
 */
#define PI_BATCH 16

PI_INLINE struct nvmeta_crc64_blocks plan_blocks(const struct pi_plan *p,
						  const unsigned char *d,
						  const unsigned char *pi)
{
	struct nvmeta_crc64_blocks b = {
		.data = d, .pre = pi - p->pre_len,
		.data_stride = p->data_stride, .pre_stride = p->meta_stride,
		.len = p->bs, .pre_len = p->pre_len,
	};

	return b;
}

/* @n blocks of a run from data @d, tuple @pi, raw tag word @e on. */
PI_INLINE void plan_generate64(const struct pi_plan *p, const unsigned char *d,
			       unsigned char *pi, uint64_t e, uint32_t n)
{
	struct nvmeta_crc64_blocks b = plan_blocks(p, d, pi);
	const uint64_t inc = raw_of(p->ref_inc);
	const size_t ms = p->meta_stride;
	uint64_t g[PI_BATCH];
	uint32_t k, j;

	while (n) {
		k = n < PI_BATCH ? n : PI_BATCH;
		p->crc64_blocks(&b, k, g);
		for (j = 0; j < k; j++, pi += ms, e += inc)
			tuple_put(pi, 64, 0, e, g[j]);
		b.data += (size_t)k * b.data_stride;
		b.pre += (size_t)k * ms;
		n -= k;
	}
}

/*
 * The 16- and 32-bit guards' CRCs are ISA-L's, a call a block.
 * Each block's tuple is stored after the next block's CRCs, not before:
 * a store waits for its CRC to retire, every younger store waits for it,
 * and ISA-L's CRC of fewer than 16 bytes (the metadata under the guard of
 * 512+16 PI last) reads back its own stores to the stack, which must wait
 * for them all: one block's CRC could not start its last call before the
 * previous one had ended.  The fields are copied into locals: stores
 * through the tuple's unsigned char pointer could alias the plan, and
 * would reload it.
 */
PI_INLINE void plan_generate(const struct pi_plan *p0, uint32_t nlb, unsigned int bits, bool pre)
{
	const struct pi_plan p = *p0;
	const unsigned char *d = p.data;
	unsigned char *pi = p.pi;
	const uint64_t w0 = raw_of(p.w0), inc = raw_of(p.ref_inc);
	const size_t ds = p.data_stride, ms = p.meta_stride;
	uint64_t ref = p.ref;

	while (nlb) {
		uint32_t n = ref_run(ref, p.ref_inc, p.ref_mask, nlb);
		const unsigned char *end = d + (size_t)n * ds;
		uint64_t e = raw_of(plan_ref_word(&p, bits, ref));

		if (bits == 64) {
			plan_generate64(&p, d, pi, e, n);
			d = end;
			pi += (size_t)n * ms;
		} else {
			uint64_t g = plan_guard(&p, bits, pre, d, pi - p.pre_len), next;

			for (d += ds; d != end; d += ds, pi += ms, e += inc, g = next) {
				next = plan_guard(&p, bits, pre, d, pi + ms - p.pre_len);
				tuple_put(pi, bits, w0, e, g);
			}
			tuple_put(pi, bits, w0, e, g);
			pi += ms;
		}
		ref = (ref + n * p.ref_inc) & p.ref_mask;
		nlb -= n;
	}
}

int nvmeta_pi_generate(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		       const struct nvmeta_pi_tags *t)
{
	struct pi_walk w;
	struct pi_plan p;
	uint32_t i;
	int ret;

	ret = walk_init(&w, f, data, meta, nlb);
	if (!ret)
		ret = check_tags(&w, t);
	if (ret)
		return ret;
	if (!plan_fits(&w)) {
		for (i = 0; i < nlb; i++)
			write_tuple(&w, i, guard_of(&w, i), t->app_tag,
				    space_make(&w, t->storage_tag, ref_of(&w, t->ref_tag, i)));
		return 0;
	}
	plan_init(&p, &w, t);
	switch (f->guard_bits | (p.pre_len ? 1 : 0)) {
	case 16: plan_generate(&p, nlb, 16, false); break;
	case 17: plan_generate(&p, nlb, 16, true); break;
	case 32: plan_generate(&p, nlb, 32, false); break;
	case 33: plan_generate(&p, nlb, 32, true); break;
	case 64: plan_generate(&p, nlb, 64, false); break;
	default: plan_generate(&p, nlb, 64, true); break;
	}
	return 0;
}

static bool all_ones(const struct pi_walk *w, struct words x)
{
	return x.w0 == ~0ull && (w->f.pi_size == 8 || x.w1 == ~0ull);
}

/* The escapes of the specification: checking is off for the block. */
static bool escaped(const struct pi_walk *w, uint16_t app, struct space sp)
{
	if (app != 0xffff)
		return false;
	if (w->f.pi_type != 3)
		return true;
	return space_ref(w, sp) == low_bits(~0ull, w->ref_bits);
}

/* Where a verification writes what it finds. */
struct pi_list {
	struct nvmeta_pi_report *rep;
	struct nvmeta_pi_error *errors;	/* the caller's, or NULL */
	uint32_t max;
	uint64_t lba;			/* of the range's first block */
};

/* Block @i is bad: the report keeps the first, the list every one it
 * has room for.  No message here: it is built once, at the end. */
static void mismatch(struct pi_list *l, uint32_t i, enum nvmeta_pi_field field,
		     uint64_t expected, uint64_t found)
{
	struct nvmeta_pi_report *rep = l->rep;

	if (!rep->bad++) {
		rep->block = i;
		rep->field = field;
		rep->expected = expected;
		rep->found = found;
	}
	if (rep->listed < l->max)
		l->errors[rep->listed++] = (struct nvmeta_pi_error){
			.lba = l->lba + i, .block = i, .field = field,
			.expected = expected, .found = found,
		};
}

/* One block's tuple @x against the tags; the first field that fails, in
 * the order a controller checks them, makes it bad.  @guard: the block's
 * guard, worked out already, or NULL to work it out from the walk's
 * buffers if the check needs it. */
static void judge(const struct pi_walk *w, const struct nvmeta_pi_tags *t, uint32_t i,
		  struct words x, const uint64_t *guard, struct pi_list *l)
{
	uint16_t app = words_app(w, x);
	struct space sp = words_space(w, x);
	uint64_t want, got;

	if (all_ones(w, x)) {
		l->rep->unwritten++;
		return;
	}
	if (escaped(w, app, sp)) {
		l->rep->escaped++;
		return;
	}
	if (t->checks & NVMETA_PI_CHECK_GUARD) {
		want = guard ? *guard : guard_of(w, i);
		got = words_guard(w, x);
		if (want != got) {
			mismatch(l, i, NVMETA_PI_FIELD_GUARD, want, got);
			return;
		}
	}
	if ((t->checks & NVMETA_PI_CHECK_APP) && ((app ^ t->app_tag) & t->app_mask)) {
		mismatch(l, i, NVMETA_PI_FIELD_APP, t->app_tag, app);
		return;
	}
	if (t->checks & NVMETA_PI_CHECK_REF) {
		want = ref_of(w, t->ref_tag, i);
		got = space_ref(w, sp);
		if (want != got) {
			mismatch(l, i, NVMETA_PI_FIELD_REF, want, got);
			return;
		}
	}
	if ((t->checks & NVMETA_PI_CHECK_STORAGE) && w->f.sts) {
		got = space_storage(w, sp);
		if (got != t->storage_tag)
			mismatch(l, i, NVMETA_PI_FIELD_STORAGE, t->storage_tag, got);
	}
}

static void verify_block(const struct pi_walk *w, const struct nvmeta_pi_tags *t, uint32_t i,
			 struct pi_list *l)
{
	judge(w, t, i, tuple_load(w, tuple(w, i)), NULL, l);
}

/*
 * The fast road of verification: a block whose app tag is not 0xFFFF (so
 * neither all ones nor escaped) and whose tuple equals the expected one in
 * every bit the checks compare has passed them all.  Any other block goes
 * to verify_block(), which decides as it always has (and runs the CRC
 * again: bad blocks are rare).
 *
 * Testing the app tag before each block's CRC, so that an unwritten
 * range costs no CRC, cost 512-byte blocks 2 to 4 % (a branch more a
 * block, ahead of the call).  Where the checks compare the app tag in a
 * bit in which the expected one is 0, a tag of 0xFFFF fails the compare
 * anyway, and the test can wait until a block fails (plan_verify()).
 */

/* Where a run of blocks of plan_verify() is: its next block's data and
 * tuple, and its raw word with the reference tag. */
struct pi_run {
	const unsigned char *d, *pi;
	uint64_t e;
};

/* Whether the tuple at @pi, its block's guard @g, is as expected in every
 * bit the checks compare (@e: the raw word with the reference tag). */
PI_INLINE bool tuple_good(const struct pi_plan *p, unsigned int bits, const unsigned char *pi,
			  uint64_t g, uint64_t e)
{
	/* The 64-bit guard's first word is the guard alone, all compared. */
	const uint64_t w0 = raw_of(p->w0), m0 = raw_of(p->m0), m1 = raw_of(p->m1);

	if (bits == 16)
		return !((load_raw(pi) ^ raw_word0(bits, e, g)) & m0);
	if (bits == 32)
		return !(((load_raw(pi) ^ raw_word0(bits, w0, g)) & m0) |
			 ((load_raw(pi + 8) ^ e) & m1));
	return !((load_raw(pi) ^ raw_word0(bits, w0, g)) | ((load_raw(pi + 8) ^ e) & m1));
}

/*
 * The blocks of a run up to data pointer @end while each passes: the
 * CRC, the compare, one branch a block.  Stops at the first that does
 * not, @r at it.  For checks under which a tuple whose app tag is 0xFFFF
 * cannot pass (plan_verify()), so that no such block is let through.
 */
PI_INLINE void verify_fast(const struct pi_plan *p, struct pi_run *r, const unsigned char *end,
			   unsigned int bits, bool pre)
{
	const uint64_t inc = raw_of(p->ref_inc);
	const size_t ds = p->data_stride, ms = p->meta_stride;
	const unsigned char *d = r->d, *pi = r->pi;
	uint64_t e = r->e;

	if (bits == 64) {
		/* A batch's CRCs (plan_generate64()), then its compares: on a
		 * block that fails, the CRCs of the rest of its batch are
		 * wasted, and bad blocks are rare. */
		struct nvmeta_crc64_blocks b = plan_blocks(p, d, pi);
		size_t n = (size_t)(end - d) / ds;
		uint64_t g[PI_BATCH];
		uint32_t k, j;

		for (; n; n -= k, b.data = d, b.pre = pi - p->pre_len) {
			k = n < PI_BATCH ? (uint32_t)n : PI_BATCH;
			p->crc64_blocks(&b, k, g);
			for (j = 0; j < k; j++, d += ds, pi += ms, e += inc)
				if (__builtin_expect(!tuple_good(p, bits, pi, g[j], e), 0))
					goto stop;
		}
	} else {
		for (; d != end; d += ds, pi += ms, e += inc)
			if (__builtin_expect(!tuple_good(p, bits, pi,
							 plan_guard(p, bits, pre, d, pi - p->pre_len),
							 e), 0))
				break;
	}
stop:
	r->d = d;
	r->pi = pi;
	r->e = e;
}

/* The blocks of a run up to @end, each judged: a block whose app tag is
 * 0xFFFF (unwritten, or escaped) goes to verify_block() before any CRC,
 * one that fails the compare after its CRC. */
PI_INLINE void verify_each(const struct pi_plan *p, const struct pi_walk *w,
			   const struct nvmeta_pi_tags *t, struct pi_list *l, struct pi_run *r,
			   const unsigned char *end, unsigned int bits, bool pre)
{
	/* 0xFFFF reads the same in either byte order: two bytes as they are. */
	const size_t app_at = bits == 16 ? 2 : bits == 32 ? 4 : 8;
	const uint64_t inc = raw_of(p->ref_inc);
	const size_t ds = p->data_stride, ms = p->meta_stride;
	const unsigned char *d = r->d, *pi = r->pi;
	uint64_t e = r->e;
	uint16_t app;

	for (; d != end; d += ds, pi += ms, e += inc) {
		memcpy(&app, pi + app_at, 2);
		if (__builtin_expect(app != 0xffff, 1) &&
		    __builtin_expect(tuple_good(p, bits, pi, plan_guard(p, bits, pre, d,
									pi - p->pre_len), e), 1))
			continue;
		verify_block(w, t, (uint32_t)((size_t)(pi - p->pi) / ms), l);
	}
	r->d = d;
	r->pi = pi;
	r->e = e;
}

/*
 * Run by run (ref_run(): types 1 and 2, 256 blocks at most): where the
 * checks make a tuple with app tag 0xFFFF fail the compare, verify_fast()
 * until a block fails, that block judged, and the rest of the run
 * verify_each(): an unwritten range costs one CRC a run, not one a block.
 * Under other checks, verify_each() throughout.
 */
PI_INLINE void plan_verify(const struct pi_plan *p0, const struct pi_walk *w,
			   const struct nvmeta_pi_tags *t, struct pi_list *l, uint32_t nlb,
			   unsigned int bits, bool pre)
{
	const struct pi_plan p = *p0;
	const bool fast = (t->checks & NVMETA_PI_CHECK_APP) && ((t->app_tag ^ 0xffff) & t->app_mask);
	struct pi_run r = { p.data, p.pi, 0 };
	uint64_t ref = p.ref;

	while (nlb) {
		uint32_t n = ref_run(ref, p.ref_inc, p.ref_mask, nlb);
		const unsigned char *end = r.d + (size_t)n * p.data_stride;

		r.e = raw_of(plan_ref_word(&p, bits, ref));
		if (fast) {
			verify_fast(&p, &r, end, bits, pre);
			if (r.d != end) {
				verify_block(w, t, (uint32_t)((size_t)(r.pi - p.pi) / p.meta_stride), l);
				r.d += p.data_stride;
				r.pi += p.meta_stride;
				r.e += raw_of(p.ref_inc);
			}
		}
		verify_each(&p, w, t, l, &r, end, bits, pre);
		ref = (ref + n * p.ref_inc) & p.ref_mask;
		nlb -= n;
	}
}

/* The message of a verification that found bad blocks: the first, and
 * how many in all. */
static int bad_blocks(const struct nvmeta_pi_report *rep)
{
	char more[48] = "";

	if (rep->bad > 1)
		snprintf(more, sizeof(more), " (%u bad blocks in all)", rep->bad);
	return nvmeta_fail(-EILSEQ, "block %u: %s 0x%llx, expected 0x%llx%s", rep->block,
			   nvmeta_pi_field_name(rep->field), (unsigned long long)rep->found,
			   (unsigned long long)rep->expected, more);
}

int nvmeta_pi_verify_list(const struct nvmeta_pi_format *f, const void *data, const void *meta,
			  uint32_t nlb, const struct nvmeta_pi_tags *t,
			  struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
			  uint32_t max)
{
	struct pi_list l = { rep, errors, errors ? max : 0, t->lba };
	struct pi_walk w;
	struct pi_plan p;
	uint32_t i;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = walk_init(&w, f, data, meta, nlb);
	if (!ret)
		ret = check_tags(&w, t);
	if (ret)
		return ret;
	/* Without the guard check there is no CRC to run: the general
	 * road is as fast. */
	if (!(t->checks & NVMETA_PI_CHECK_GUARD) || !plan_fits(&w)) {
		for (i = 0; i < nlb; i++)
			verify_block(&w, t, i, &l);
		return rep->bad ? bad_blocks(rep) : 0;
	}
	plan_init(&p, &w, t);
	plan_masks(&p, &w, t);
	switch (f->guard_bits | (p.pre_len ? 1 : 0)) {
	case 16: plan_verify(&p, &w, t, &l, nlb, 16, false); break;
	case 17: plan_verify(&p, &w, t, &l, nlb, 16, true); break;
	case 32: plan_verify(&p, &w, t, &l, nlb, 32, false); break;
	case 33: plan_verify(&p, &w, t, &l, nlb, 32, true); break;
	case 64: plan_verify(&p, &w, t, &l, nlb, 64, false); break;
	default: plan_verify(&p, &w, t, &l, nlb, 64, true); break;
	}
	return rep->bad ? bad_blocks(rep) : 0;
}

int nvmeta_pi_verify(const struct nvmeta_pi_format *f, const void *data, const void *meta,
		     uint32_t nlb, const struct nvmeta_pi_tags *t, struct nvmeta_pi_report *rep)
{
	return nvmeta_pi_verify_list(f, data, meta, nlb, t, rep, NULL, 0);
}

/* Give block @i reference tag @ref.  The guard does not cover the tags:
 * only the space moves.  A tuple verification skips (never written, or
 * escaped) stays as it is: new tags would make it look written, or end
 * the escape of a type 3 tuple, and its guard was never meant to hold. */
static void remap_tuple(const struct pi_walk *w, unsigned char *pi, uint64_t ref)
{
	struct words x = tuple_load(w, pi);
	struct space sp = words_space(w, x);

	if (all_ones(w, x) || escaped(w, words_app(w, x), sp))
		return;
	space_write(w, pi, space_make(w, space_storage(w, sp), ref));
}

static void remap_block(const struct pi_walk *w, uint32_t i, uint64_t ref)
{
	remap_tuple(w, tuple(w, i), ref);
}

int nvmeta_pi_remap(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		    uint64_t ref_tag)
{
	struct nvmeta_pi_tags t = { .ref_tag = ref_tag };
	struct pi_walk w;
	uint32_t i;
	int ret;

	ret = walk_init(&w, f, data, meta, nlb);
	if (!ret)
		ret = check_tags(&w, &t);
	if (ret)
		return ret;
	for (i = 0; i < nlb; i++)
		remap_block(&w, i, ref_of(&w, ref_tag, i));
	return 0;
}

int nvmeta_pi_strip(const struct nvmeta_pi_format *f, const void *ext, void *data, uint32_t nlb)
{
	const unsigned char *src = ext;
	unsigned char *dst = data;
	uint32_t i;

	if (!f->extended)
		return nvmeta_fail(-EINVAL, "nvmeta_pi_strip: the format keeps metadata apart already");
	for (i = 0; i < nlb; i++)
		memcpy(dst + (size_t)i * f->block_size,
		       src + (size_t)i * (f->block_size + f->ms), f->block_size);
	return 0;
}

/* The checks of an injection that do not depend on the buffers. */
static int inject_check(const struct pi_walk *w, uint32_t nlb,
			const struct nvmeta_pi_injection *inj)
{
	if (inj->resv[0] || inj->resv[1] || inj->resv[2])
		return nvmeta_fail(-EINVAL, "nvmeta_pi_injection reserved fields are not zero");
	if (inj->block >= nlb)
		return nvmeta_fail(-EINVAL, "inject into block %u of a %u-block range", inj->block, nlb);
	if (inj->field == NVMETA_PI_FIELD_DATA && inj->offset >= w->f.block_size)
		return nvmeta_fail(-EINVAL, "inject into byte %u of a %u-byte block",
				   inj->offset, w->f.block_size);
	return 0;
}

/* Corrupt one field of the tuple at @pi (not the data). */
static int inject_tuple(const struct pi_walk *w, unsigned char *pi, uint32_t field)
{
	const struct nvmeta_pi_format *f = &w->f;

	switch (field) {
	case NVMETA_PI_FIELD_GUARD:
		/* The guard's last byte is its lowest: bytes 1, 3 or 7. */
		pi[f->guard_bits / 8 - 1] ^= 1;
		return 0;
	case NVMETA_PI_FIELD_APP:
		pi[f->guard_bits / 8 + 1] ^= 1;
		return 0;
	case NVMETA_PI_FIELD_REF:
		/* The reference tag ends the tuple: its lowest bit is the
		 * last byte's, unless a storage tag fills the whole space. */
		if (!w->ref_bits)
			return nvmeta_fail(-EINVAL, "a storage tag of %u bits fills the %u-bit tag space of a %u-bit guard: no reference tag to corrupt",
					   f->sts, w->space_bits, f->guard_bits);
		pi[f->pi_size - 1] ^= 1;
		return 0;
	case NVMETA_PI_FIELD_STORAGE: {
		struct space sp = space_read(w, pi);

		if (!f->sts)
			return nvmeta_fail(-EINVAL, "this format has no storage tag to corrupt");
		space_write(w, pi, space_make(w, space_storage(w, sp) ^ 1, space_ref(w, sp)));
		return 0;
	}
	default:
		return nvmeta_fail(-EINVAL, "unknown PI field %u", field);
	}
}

int nvmeta_pi_inject(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		     const struct nvmeta_pi_injection *inj)
{
	struct pi_walk w;
	int ret;

	ret = walk_init(&w, f, data, meta, nlb);
	if (!ret)
		ret = inject_check(&w, nlb, inj);
	if (ret)
		return ret;
	if (inj->field == NVMETA_PI_FIELD_DATA) {
		w.data[(size_t)inj->block * w.data_stride + inj->offset] ^= 1;
		return 0;
	}
	return inject_tuple(&w, tuple(&w, inj->block), inj->field);
}

int nvmeta_pi_format_of(const struct nvmeta_dev_info *info, struct nvmeta_pi_format *f)
{
	memset(f, 0, sizeof(*f));
	if (!info->pi_type)
		return nvmeta_fail(-EPROTO, "%s: the namespace's format (%u+%u) has no protection information",
				   info->generic_path, info->lba_size, info->ms);
	f->block_size = info->lba_size;
	f->ms = info->ms;
	f->pi_type = info->pi_type;
	f->guard_bits = info->guard_bits;
	f->pi_size = info->pi_size;
	f->sts = info->sts;
	f->pi_first = info->pi_first;
	f->extended = info->extended_lba;
	return check_format(f);
}

const char *nvmeta_pi_field_name(enum nvmeta_pi_field field)
{
	static const char *const names[] = {
		[NVMETA_PI_FIELD_NONE] = "none",
		[NVMETA_PI_FIELD_GUARD] = "guard",
		[NVMETA_PI_FIELD_APP] = "application tag",
		[NVMETA_PI_FIELD_REF] = "reference tag",
		[NVMETA_PI_FIELD_STORAGE] = "storage tag",
		[NVMETA_PI_FIELD_DATA] = "data",
	};

	return (unsigned int)field < ARRAY_SIZE(names) ? names[field] : "unknown";
}

/* Decided once per device (at open and refresh): its PI layout, if any. */
void nvmeta_pi_decide(struct nvmeta_dev *dev)
{
	dev->has_pi = !nvmeta_pi_format_of(&dev->info, &dev->pi);
}

/* The tags an I/O asks for, in the terms of <nvmeta/pi.h>: given once,
 * in the command, and used by the encoder, generation and verification. */
struct nvmeta_pi_tags nvmeta_pi_io_tags(const struct nvmeta_io *io)
{
	struct nvmeta_pi_tags t = {
		.ref_tag = io->reftag, .storage_tag = io->storage_tag, .app_tag = io->apptag,
		.app_mask = io->appmask,
		.checks = io->pi_checks ? io->pi_checks : NVMETA_PI_CHECK_ALL,
		.lba = io->slba,
	};
	return t;
}

static int refuse_pi(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	const char *what = io->flags & NVMETA_IO_PI_GENERATE ? "NVMETA_IO_PI_GENERATE" :
			   "NVMETA_IO_PI_VERIFY";

	if (!dev->has_pi)
		return nvmeta_fail(-EPROTO, "%s: %s, but the namespace's format (%u+%u) has no protection information",
				   dev->info.generic_path, what, dev->info.lba_size, dev->info.ms);
	return nvmeta_fail(-EINVAL, "%s on a %s command: generation is for writes, verification for reads",
			   what, io->opcode == NVMETA_OP_READ ? "read" : "write");
}

static uint64_t pi_data_bytes(const struct nvmeta_pi_format *f, uint32_t nlb)
{
	return (uint64_t)nlb * (f->block_size + (f->extended ? f->ms : 0));
}

static uint64_t pi_meta_bytes(const struct nvmeta_pi_format *f, uint32_t nlb)
{
	return f->extended ? 0 : (uint64_t)nlb * f->ms;
}

static bool pi_short(const struct nvmeta_pi_format *f, const struct nvmeta_io *io)
{
	return !io->data || nvmeta_io_data_bytes(io) < pi_data_bytes(f, io->nlb) ||
	       (!f->extended && (!io->meta || io->meta_len < pi_meta_bytes(f, io->nlb)));
}

int nvmeta_pi_io_fits(const struct nvmeta_pi_format *f, const char *name,
		      const struct nvmeta_io *io)
{
	if (io->pi_checks & ~NVMETA_PI_CHECK_ALL)
		return nvmeta_fail(-EINVAL, "%s: pi_checks 0x%x: unknown bits", name, io->pi_checks);
	if (io->prinfo & NVMETA_PRACT)
		return nvmeta_fail(-EINVAL, "%s: PRACT set: the controller inserts and strips the PI, so the host has none to generate or verify",
				   name);
	/* RAW commands skip validation, and the inline encoder checks
	 * nothing, but the host's own PI work must never reach past the
	 * buffers it was given. */
	if (!io->nlb || pi_short(f, io))
		return nvmeta_fail(-EOVERFLOW, "%s: %u blocks of PI need %llu data and %llu metadata bytes; the buffers hold %llu and %u",
				   name, io->nlb, (unsigned long long)pi_data_bytes(f, io->nlb),
				   (unsigned long long)pi_meta_bytes(f, io->nlb),
				   io->data ? (unsigned long long)nvmeta_io_data_bytes(io) : 0, io->meta_len);
	return 0;
}

/* Before submission, off the path of commands without PI: check that PI
 * work fits the command, and generate a write's PI. */
int nvmeta_pi_prepare(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	bool write = io->opcode == NVMETA_OP_WRITE || io->opcode == NVMETA_OP_COMPARE;
	int ret;

	if (!dev->has_pi || ((io->flags & NVMETA_IO_PI_GENERATE) && !write) ||
	    ((io->flags & NVMETA_IO_PI_VERIFY) && io->opcode != NVMETA_OP_READ))
		return refuse_pi(dev, io);
	ret = nvmeta_pi_io_fits(&dev->pi, dev->info.generic_path, io);
	if (ret || !(io->flags & NVMETA_IO_PI_GENERATE))
		return ret;
	return nvmeta_pi_generate_io(dev, io);
}

/* NVMETA_IO_VEC: the command's buffers as the iovec calls take them,
 * the data as its iovecs and the one metadata buffer as @meta (none on
 * an extended format, where the metadata is inside the data). */
static void io_pi_iov(const struct nvmeta_pi_format *f, const struct nvmeta_io *io,
		      struct iovec *meta, struct nvmeta_pi_iov *b)
{
	nvmeta_pi_iov_of_io(io, meta, b);
	if (f->extended) {
		b->meta = NULL;
		b->nmeta = 0;
	}
}

int nvmeta_pi_generate_io(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	struct nvmeta_pi_tags t = nvmeta_pi_io_tags(io);
	struct nvmeta_pi_iov b;
	struct iovec meta;

	if (!(io->flags & NVMETA_IO_VEC))
		return nvmeta_pi_generate(&dev->pi, io->data, io->meta, io->nlb, &t);
	io_pi_iov(&dev->pi, io, &meta, &b);
	return nvmeta_pi_generate_iov(&dev->pi, &b, &t);
}

/* nvmeta_pi_verify_list() over @io's buffers, flat or vectored. */
static int verify_io(const struct nvmeta_pi_format *f, const struct nvmeta_io *io,
		     const struct nvmeta_pi_tags *t, struct nvmeta_pi_report *rep,
		     struct nvmeta_pi_error *errors, uint32_t max)
{
	struct nvmeta_pi_iov b;
	struct iovec meta;

	if (!(io->flags & NVMETA_IO_VEC))
		return nvmeta_pi_verify_list(f, io->data, io->meta, io->nlb, t, rep, errors, max);
	io_pi_iov(f, io, &meta, &b);
	return nvmeta_pi_verify_iov(f, &b, t, rep, errors, max);
}

void nvmeta_pi_iov_of_io(const struct nvmeta_io *io, struct iovec *miov, struct nvmeta_pi_iov *v)
{
	*miov = (struct iovec){ io->meta, io->meta_len };
	*v = (struct nvmeta_pi_iov){
		.data = io->data, .ndata = io->data_len, .nlb = io->nlb,
		.meta = io->meta ? miov : NULL, .nmeta = io->meta ? 1 : 0,
	};
}

int nvmeta_pi_verify_io_list(const struct nvmeta_pi_format *f, const char *name,
			     const struct nvmeta_io *io, struct nvmeta_pi_report *rep,
			     struct nvmeta_pi_error *errors, uint32_t max)
{
	struct nvmeta_pi_tags t = nvmeta_pi_io_tags(io);
	char more[48] = "";
	int ret;

	ret = verify_io(f, io, &t, rep, errors, max);
	if (ret != -EILSEQ)
		return ret;
	if (rep->bad > 1)
		snprintf(more, sizeof(more), "; %u of %u blocks bad", rep->bad, io->nlb);
	return nvmeta_fail(ret, "%s: LBA %llu: %s 0x%llx, expected 0x%llx (host PI verification%s)",
			   name, (unsigned long long)(io->slba + rep->block),
			   nvmeta_pi_field_name(rep->field), (unsigned long long)rep->found,
			   (unsigned long long)rep->expected, more);
}

int nvmeta_pi_verify_io(const struct nvmeta_dev *dev, const struct nvmeta_io *io,
			struct nvmeta_pi_report *rep)
{
	return nvmeta_pi_verify_io_list(&dev->pi, dev->info.generic_path, io, rep, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Scatter lists, copy with PI, streams, checked remap                 */
/* ------------------------------------------------------------------ */

/* A guard's CRC run over pieces: the raw register of ISA-L's CRC16 and
 * CRC32C (inverted once at each end for the latter, as plan_guard()), the
 * running CRC64 of the variant in use. */
struct gcrc {
	unsigned int bits;
	bool avx;		/* the CPU has AVX: gcrc_clean() */
	uint64_t reg;
	uint64_t (*crc64)(const void *buf, size_t len, uint64_t crc);
};

/*
 * ISA-L's AVX-512 CRCs return with the upper halves of the vector
 * registers dirty (no VZEROUPPER), and the first SSE instruction after
 * that pays a state transition: the struct copies and small memcpy()s
 * between the CRCs of the scatter-list roads ran up to 17 times slower
 * for it (512-byte blocks).  The contiguous roads do nothing but scalar
 * work between CRCs and never saw it.  VZEROUPPER after each CRC, where
 * the CPU has AVX (without AVX nothing could have dirtied them).
 */
PI_INLINE void gcrc_clean(const struct gcrc *g)
{
#if defined(__x86_64__)
	if (g->avx)
		__asm__ volatile("vzeroupper");
#else
	(void)g;
#endif
}

/* ISA-L's lengths are ints in places: pieces of at most this many. */
#define PI_PIECE_MAX ((size_t)1 << 30)

static void gcrc_start(struct gcrc *g, const struct pi_walk *w)
{
	const struct nvmeta_crc64_variant *c64 = NULL;

	g->bits = w->f.guard_bits;
#if defined(__x86_64__)
	g->avx = __builtin_cpu_supports("avx");
#else
	g->avx = false;
#endif
	g->reg = g->bits == 32 ? 0xffffffffu : 0;
	g->crc64 = nvmeta_crc64_nvme;
	if (g->bits == 64 && nvmeta_crc64_variants(&c64, 1))
		g->crc64 = c64->fn;
}

PI_INLINE void gcrc_feed(struct gcrc *g, const unsigned char *p, size_t n)
{
	if (g->bits == 16) {
		g->reg = crc16_t10dif((uint16_t)g->reg, p, n);
	} else if (g->bits == 32) {
		for (; n > PI_PIECE_MAX; n -= PI_PIECE_MAX, p += PI_PIECE_MAX)
			g->reg = crc32_iscsi((unsigned char *)p, (int)PI_PIECE_MAX,
					     (uint32_t)g->reg);
		g->reg = crc32_iscsi((unsigned char *)p, (int)n, (uint32_t)g->reg);
	} else {
		g->reg = g->crc64(p, n, g->reg);
	}
	gcrc_clean(g);
}

/*
 * Copy @n bytes from @src to @dst and run them through the CRC: the CRC
 * first, then the copy from bytes in cache.  ISA-L's stitched CRC16 with
 * copy (crc16_t10dif_copy) is not used: it has only a 128-bit (SSE)
 * version, and measured here it made copy+PI 0.5 to 0.8 of copy then PI,
 * where its AVX-512 CRC16 then memcpy() make 1.3 to 1.4 (4 KiB blocks;
 * docs/benchmarks.md).
 */
PI_INLINE void gcrc_copy(struct gcrc *g, unsigned char *dst, const unsigned char *src, size_t n)
{
	gcrc_feed(g, src, n);
	memcpy(dst, src, n);
}

PI_INLINE uint64_t gcrc_end(const struct gcrc *g)
{
	return g->bits == 32 ? (uint32_t)~g->reg : g->reg;
}

PI_INLINE void gcrc_restart(struct gcrc *g)
{
	g->reg = g->bits == 32 ? 0xffffffffu : 0;
}

/* A place in a scatter list. */
struct iov_cur {
	const struct iovec *iov;
	uint32_t left;		/* iovecs from iov on */
	size_t off;		/* into *iov */
};

static void cur_init(struct iov_cur *c, const struct iovec *iov, uint32_t n)
{
	c->iov = iov;
	c->left = iov ? n : 0;
	c->off = 0;
}

/* The bytes from the cursor on inside its iovec, at most @max, at *@p;
 * 0 only past the end (which the checks rule out). */
PI_INLINE size_t cur_span(struct iov_cur *c, size_t max, unsigned char **p)
{
	size_t n;

	while (c->left && c->off >= c->iov->iov_len) {
		c->iov++;
		c->left--;
		c->off = 0;
	}
	if (!c->left) {
		*p = NULL;
		return 0;
	}
	n = c->iov->iov_len - c->off;
	if (n > max)
		n = max;
	if (n > PI_PIECE_MAX)
		n = PI_PIECE_MAX;
	*p = (unsigned char *)c->iov->iov_base + c->off;
	return n;
}

enum cur_op { CUR_SKIP, CUR_CRC, CUR_GET, CUR_PUT };

/* Walk @len bytes from the cursor on, a piece at a time: skip them, run
 * them through @g, gather them to @buf or scatter them from it. */
static void cur_walk(struct iov_cur *c, size_t len, enum cur_op op, struct gcrc *g,
		     unsigned char *buf)
{
	unsigned char *p;
	size_t n;

	while (len && (n = cur_span(c, len, &p))) {
		if (op == CUR_CRC)
			gcrc_feed(g, p, n);
		else if (op == CUR_GET)
			memcpy(buf, p, n);
		else if (op == CUR_PUT)
			memcpy(p, buf, n);
		if (buf)
			buf += n;
		c->off += n;
		len -= n;
	}
}

static void cur_skip(struct iov_cur *c, size_t len)
{
	cur_walk(c, len, CUR_SKIP, NULL, NULL);
}

static void cur_crc(struct iov_cur *c, struct gcrc *g, size_t len)
{
	cur_walk(c, len, CUR_CRC, g, NULL);
}

static void cur_get(struct iov_cur *c, unsigned char *out, size_t len)
{
	cur_walk(c, len, CUR_GET, NULL, out);
}

static void cur_put(struct iov_cur *c, const unsigned char *in, size_t len)
{
	cur_walk(c, len, CUR_PUT, NULL, (unsigned char *)in);
}

/* One scatter list against the bytes it must hold. */
static int iov_check(const char *what, const struct iovec *iov, uint32_t n, uint64_t need,
		     uint32_t nlb)
{
	uint64_t total = 0;
	uint32_t k;

	if (!need)
		return 0;
	if (!iov || !n)
		return nvmeta_fail(-EINVAL, "PI of %u blocks: %llu %s bytes, but no %s iovecs", nlb,
				   (unsigned long long)need, what, what);
	for (k = 0; k < n; k++) {
		if (!iov[k].iov_base && iov[k].iov_len)
			return nvmeta_fail(-EINVAL, "%s iovec %u: a NULL base with %zu bytes", what, k,
					   iov[k].iov_len);
		if (total < need)
			total += iov[k].iov_len;
	}
	if (total >= need)
		return 0;
	return nvmeta_fail(-EINVAL, "PI of %u blocks needs %llu %s bytes; the %u %s iovecs hold %llu",
			   nlb, (unsigned long long)need, what, n, what, (unsigned long long)total);
}

static uint64_t data_bytes(const struct pi_walk *w, uint32_t nlb)
{
	return (uint64_t)nlb * w->data_stride;
}

/* Check a format, its scatter lists and tags; lay out a walk without
 * buffers. */
static int iov_init(struct pi_walk *w, const struct nvmeta_pi_format *f,
		    const struct nvmeta_pi_iov *b, const struct nvmeta_pi_tags *t)
{
	int ret = check_format(f);

	if (ret)
		return ret;
	if (b->resv0 || b->resv[0] || b->resv[1])
		return nvmeta_fail(-EINVAL, "nvmeta_pi_iov reserved fields are not zero");
	walk_format(w, f);
	if (f->extended && (b->meta || b->nmeta))
		return nvmeta_fail(-EINVAL, "an extended format keeps the metadata in the data iovecs: meta must be NULL and nmeta 0");
	ret = iov_check("data", b->data, b->ndata, data_bytes(w, b->nlb), b->nlb);
	if (!ret && !f->extended)
		ret = iov_check("metadata", b->meta, b->nmeta, (uint64_t)b->nlb * f->ms, b->nlb);
	if (!ret && t)
		ret = check_tags(w, t);
	return ret;
}

/* Cursors on a range's scatter lists: an extended format has one, which
 * both name. */
struct iov_pair {
	struct iov_cur d, m_own;
	struct iov_cur *m;
};

static void pair_init(struct iov_pair *c, const struct pi_walk *w, const struct nvmeta_pi_iov *b)
{
	cur_init(&c->d, b->data, b->ndata);
	cur_init(&c->m_own, b->meta, b->nmeta);
	c->m = w->f.extended ? &c->d : &c->m_own;
}

/*
 * Through one block: its data into the CRC (unless @g is NULL, then
 * skipped), and its metadata, the bytes before a PI that sits last into
 * the CRC too; the tuple's place is left in @at and, unless @tup is NULL,
 * its bytes gathered there.  Both cursors end at the next block.
 */
static void block_walk(const struct pi_walk *w, struct iov_pair *c, struct gcrc *g,
		       struct iov_cur *at, unsigned char *tup)
{
	size_t rest = w->f.ms - w->f.pi_size - w->pi_offset;

	if (g) {
		cur_crc(&c->d, g, w->f.block_size);
		cur_crc(c->m, g, w->pi_offset);
	} else {
		cur_skip(&c->d, w->f.block_size);
		cur_skip(c->m, w->pi_offset);
	}
	*at = *c->m;
	if (tup)
		cur_get(c->m, tup, w->f.pi_size);
	else
		cur_skip(c->m, w->f.pi_size);
	cur_skip(c->m, rest);
}

/* A tuple's words to @p. */
static void words_put(const struct pi_walk *w, unsigned char *p, struct words x)
{
	tuple_store(w, p, x);
}

/* The same, the tuple's size a constant of the loop. */
PI_INLINE void tuple_store_bits(unsigned char *pi, struct words x, unsigned int bits)
{
	store_be64(pi, x.w0);
	if (bits != 16)
		store_be64(pi + 8, x.w1);
}

/* The tuple generation writes for block @i with guard @g (the plan's
 * fixed words, as plan_generate() builds them). */
PI_INLINE struct words plan_tuple(const struct pi_plan *p, unsigned int bits, uint64_t g,
			       uint64_t ref)
{
	struct words x;

	if (bits == 16) {
		x.w0 = plan_word0(bits, p->w0, g) | ref;
		x.w1 = 0;
	} else {
		x.w0 = plan_word0(bits, p->w0, g);
		x.w1 = p->w1 | ref;
	}
	return x;
}

/* Verification of block @i whose tuple is @x and guard @g: the fast test
 * of plan_verify(), then judge() for a block that fails it. */
PI_INLINE void verify_words(const struct pi_walk *w, const struct pi_plan *p,
			 const struct nvmeta_pi_tags *t, struct pi_list *l, uint32_t i,
			 struct words x, uint64_t g, uint64_t ref)
{
	unsigned int bits = w->f.guard_bits;
	struct words want;

	if ((t->checks & NVMETA_PI_CHECK_GUARD) && plan_app(bits, x.w0, x.w1) != 0xffff) {
		want = plan_tuple(p, bits, g, ref);
		if (!(((x.w0 ^ want.w0) & p->m0) | ((x.w1 ^ want.w1) & p->m1)))
			return;
	}
	judge(w, t, i, x, &g, l);
}

/*
 * The road of generation and verification (with the guard check) over
 * scatter lists: a block whose data and metadata (extended: the two
 * together) each lie inside one iovec, as every block of page-sized
 * iovecs does, is done in place as plan_generate() and plan_verify() do
 * it; any other goes through block_walk() a piece at a time.  One loop
 * per guard size, PI position and direction, as on the contiguous road.
 */
PI_INLINE void iov_loop(const struct pi_plan *p0, const struct pi_walk *w, struct iov_pair *c,
			const struct gcrc *g0, const struct nvmeta_pi_tags *t, struct pi_list *l,
			uint32_t nlb, unsigned int bits, bool pre, bool verify)
{
	const struct pi_plan p = *p0;
	struct gcrc g = *g0;
	bool ext = w->f.extended;
	size_t dlen = ext ? w->data_stride : p.bs, ms = w->f.ms, pi_size = bits == 16 ? 8 : 16;
	uint64_t ref = p.ref;
	uint32_t i;

	g.bits = bits;
	for (i = 0; i < nlb; i++) {
		unsigned char *d, *m = NULL, *pi;

		if (cur_span(&c->d, dlen, &d) == dlen &&
		    (ext ? (m = d + p.bs) != NULL : cur_span(c->m, ms, &m) == ms)) {
			c->d.off += dlen;
			if (!ext)
				c->m->off += ms;
			pi = m + w->pi_offset;
			gcrc_restart(&g);
			gcrc_feed(&g, d, p.bs);
			if (pre)
				gcrc_feed(&g, m, p.pre_len);
			if (verify) {
				struct words x = { load_be64(pi), bits == 16 ? 0 : load_be64(pi + 8) };

				verify_words(w, &p, t, l, i, x, gcrc_end(&g), ref);
			} else {
				tuple_store_bits(pi, plan_tuple(&p, bits, gcrc_end(&g), ref), bits);
			}
		} else {
			/* Split: a copy of the CRC's state, so that the loop's
			 * own never escapes and keeps its constants. */
			struct gcrc gs = g;
			unsigned char tup[16];
			struct iov_cur at;

			gcrc_restart(&gs);
			block_walk(w, c, &gs, &at, verify ? tup : NULL);
			if (verify) {
				verify_words(w, &p, t, l, i, tuple_load(w, tup), gcrc_end(&gs), ref);
			} else {
				words_put(w, tup, plan_tuple(&p, bits, gcrc_end(&gs), ref));
				cur_put(&at, tup, pi_size);
			}
		}
		ref = (ref + p.ref_inc) & p.ref_mask;
	}
}

static void iov_dispatch(const struct pi_plan *p, const struct pi_walk *w, struct iov_pair *c,
			 const struct gcrc *g, const struct nvmeta_pi_tags *t, struct pi_list *l,
			 uint32_t nlb, bool verify)
{
	switch (w->f.guard_bits << 2 | (w->pi_offset ? 2 : 0) | verify) {
	case 16 << 2: iov_loop(p, w, c, g, t, l, nlb, 16, false, false); break;
	case 16 << 2 | 1: iov_loop(p, w, c, g, t, l, nlb, 16, false, true); break;
	case 16 << 2 | 2: iov_loop(p, w, c, g, t, l, nlb, 16, true, false); break;
	case 16 << 2 | 3: iov_loop(p, w, c, g, t, l, nlb, 16, true, true); break;
	case 32 << 2: iov_loop(p, w, c, g, t, l, nlb, 32, false, false); break;
	case 32 << 2 | 1: iov_loop(p, w, c, g, t, l, nlb, 32, false, true); break;
	case 32 << 2 | 2: iov_loop(p, w, c, g, t, l, nlb, 32, true, false); break;
	case 32 << 2 | 3: iov_loop(p, w, c, g, t, l, nlb, 32, true, true); break;
	case 64 << 2: iov_loop(p, w, c, g, t, l, nlb, 64, false, false); break;
	case 64 << 2 | 1: iov_loop(p, w, c, g, t, l, nlb, 64, false, true); break;
	case 64 << 2 | 2: iov_loop(p, w, c, g, t, l, nlb, 64, true, false); break;
	default: iov_loop(p, w, c, g, t, l, nlb, 64, true, true); break;
	}
}

int nvmeta_pi_generate_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			   const struct nvmeta_pi_tags *t)
{
	struct iov_pair c;
	struct pi_walk w;
	struct pi_plan p;
	struct gcrc g;
	int ret;

	ret = iov_init(&w, f, b, t);
	if (ret)
		return ret;
	plan_words(&p, &w, t);
	gcrc_start(&g, &w);
	pair_init(&c, &w, b);
	iov_dispatch(&p, &w, &c, &g, t, NULL, b->nlb, false);
	return 0;
}

int nvmeta_pi_verify_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			 const struct nvmeta_pi_tags *t, struct nvmeta_pi_report *rep,
			 struct nvmeta_pi_error *errors, uint32_t max)
{
	struct pi_list l = { rep, errors, errors ? max : 0, t->lba };
	bool crc = t->checks & NVMETA_PI_CHECK_GUARD;
	unsigned char tup[16];
	struct iov_pair c;
	struct iov_cur at;
	struct pi_walk w;
	struct pi_plan p;
	struct gcrc g;
	uint64_t ref;
	uint32_t i;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = iov_init(&w, f, b, t);
	if (ret)
		return ret;
	plan_words(&p, &w, t);
	plan_masks(&p, &w, t);
	gcrc_start(&g, &w);
	pair_init(&c, &w, b);
	if (crc) {
		iov_dispatch(&p, &w, &c, &g, t, &l, b->nlb, true);
		return rep->bad ? bad_blocks(rep) : 0;
	}
	/* Without the guard check no data is read: tuples only. */
	ref = p.ref;
	for (i = 0; i < b->nlb; i++) {
		block_walk(&w, &c, NULL, &at, tup);
		verify_words(&w, &p, t, &l, i, tuple_load(&w, tup), 0, ref);
		ref = (ref + p.ref_inc) & p.ref_mask;
	}
	return rep->bad ? bad_blocks(rep) : 0;
}

int nvmeta_pi_inject_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			 const struct nvmeta_pi_injection *inj)
{
	unsigned char tup[16] = { 0 };	/* filled by cur_get(); zeroed for the compiler */
	struct iov_pair c;
	struct iov_cur at;
	struct pi_walk w;
	int ret;

	ret = iov_init(&w, f, b, NULL);
	if (!ret)
		ret = inject_check(&w, b->nlb, inj);
	if (ret)
		return ret;
	pair_init(&c, &w, b);
	if (inj->field == NVMETA_PI_FIELD_DATA) {
		cur_skip(&c.d, (size_t)inj->block * w.data_stride + inj->offset);
		at = c.d;
		cur_get(&c.d, tup, 1);
		tup[0] ^= 1;
		cur_put(&at, tup, 1);
		return 0;
	}
	cur_skip(&c.d, (size_t)inj->block * w.data_stride);
	if (!f->extended)
		cur_skip(c.m, (size_t)inj->block * w.meta_stride);
	block_walk(&w, &c, NULL, &at, tup);
	ret = inject_tuple(&w, tup, inj->field);
	if (!ret)
		cur_put(&at, tup, f->pi_size);
	return ret;
}

int nvmeta_pi_remap_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			uint64_t ref_tag)
{
	struct nvmeta_pi_tags t = { .ref_tag = ref_tag };
	unsigned char tup[16];
	struct iov_pair c;
	struct iov_cur at;
	struct pi_walk w;
	uint32_t i;
	int ret;

	ret = iov_init(&w, f, b, &t);
	if (ret)
		return ret;
	pair_init(&c, &w, b);
	/* With separate metadata the data is never read: its cursor stays. */
	if (!f->extended)
		c.d.left = 0;
	for (i = 0; i < b->nlb; i++) {
		block_walk(&w, &c, NULL, &at, tup);
		remap_tuple(&w, tup, ref_of(&w, ref_tag, i));
		cur_put(&at, tup, f->pi_size);
	}
	return 0;
}

static int remap_old_checks(const struct nvmeta_pi_tags *old)
{
	if (!(old->checks & NVMETA_PI_CHECK_REF))
		return nvmeta_fail(-EINVAL, "a checked remap checks the old reference tags: NVMETA_PI_CHECK_REF is not in checks 0x%x",
				   old->checks);
	return 0;
}

int nvmeta_pi_remap_check_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			      const struct nvmeta_pi_tags *old, uint64_t new_ref,
			      struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
			      uint32_t max)
{
	struct nvmeta_pi_tags t = { .ref_tag = new_ref };
	struct pi_walk w;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = remap_old_checks(old);
	/* Both tags before either pass: a wide new tag fails before the
	 * check, not after it. */
	if (!ret)
		ret = iov_init(&w, f, b, &t);
	if (!ret)
		ret = nvmeta_pi_verify_iov(f, b, old, rep, errors, max);
	if (ret)
		return ret;
	return nvmeta_pi_remap_iov(f, b, new_ref);
}

int nvmeta_pi_remap_check(const struct nvmeta_pi_format *f, void *data, void *meta,
			  uint32_t nlb, const struct nvmeta_pi_tags *old, uint64_t new_ref,
			  struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
			  uint32_t max)
{
	struct nvmeta_pi_tags t = { .ref_tag = new_ref };
	struct pi_walk w;
	uint32_t i;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = remap_old_checks(old);
	if (!ret)
		ret = walk_init(&w, f, data, meta, nlb);
	if (!ret)
		ret = check_tags(&w, &t);
	if (!ret)
		ret = nvmeta_pi_verify_list(f, data, meta, nlb, old, rep, errors, max);
	if (ret)
		return ret;
	for (i = 0; i < nlb; i++)
		remap_block(&w, i, ref_of(&w, new_ref, i));
	return 0;
}

/* ---- copy with PI ---- */

/*
 * One block's data between the contiguous @blk and the scatter list @c,
 * into @g: to @blk (generation, @in) or from it (verification).  A block
 * inside one iovec is one call; a split one a call a piece.
 */
PI_INLINE void copy_block(struct gcrc *g, unsigned char *blk, struct iov_cur *c, size_t bs,
			  bool in)
{
	unsigned char *p;
	size_t off = 0, n;

	while (off < bs && (n = cur_span(c, bs - off, &p))) {
		if (in)
			gcrc_copy(g, blk + off, p, n);
		else
			gcrc_copy(g, p, blk + off, n);
		c->off += n;
		off += n;
	}
}

/* Check a copy's format, buffers, tags and scatter list @iov (the
 * application's data, @what); lay out its walk, plan, CRC and cursor. */
static int copy_init(struct pi_walk *w, struct pi_plan *p, struct gcrc *g, struct iov_cur *c,
		     const struct nvmeta_pi_format *f, const void *data, const void *meta,
		     uint32_t nlb, const struct nvmeta_pi_tags *t, const char *what,
		     const struct iovec *iov, uint32_t n)
{
	int ret = walk_init(w, f, data, meta, nlb);

	if (!ret)
		ret = check_tags(w, t);
	if (!ret)
		ret = iov_check(what, iov, n, (uint64_t)nlb * f->block_size, nlb);
	if (ret)
		return ret;
	plan_init(p, w, t);
	plan_masks(p, w, t);
	gcrc_start(g, w);
	cur_init(c, iov, n);
	return 0;
}

PI_INLINE void plan_generate_copy(const struct pi_plan *p0, struct gcrc *g0, struct iov_cur *src,
				  uint32_t nlb, unsigned int bits, bool pre)
{
	const struct pi_plan p = *p0;
	struct gcrc g = *g0;
	unsigned char *d = (unsigned char *)p.data, *pi = p.pi;
	const unsigned char *m = p.pre;
	uint64_t ref = p.ref;
	uint32_t i;

	g.bits = bits;
	for (i = 0; i < nlb; i++) {
		gcrc_restart(&g);
		copy_block(&g, d, src, p.bs, true);
		if (pre)
			gcrc_feed(&g, m, p.pre_len);
		tuple_store_bits(pi, plan_tuple(&p, bits, gcrc_end(&g), ref), bits);
		ref = (ref + p.ref_inc) & p.ref_mask;
		d += p.data_stride;
		m += p.meta_stride;
		pi += p.meta_stride;
	}
}

int nvmeta_pi_generate_copy(const struct nvmeta_pi_format *f, void *data, void *meta,
			    const struct iovec *src, uint32_t nsrc, uint32_t nlb,
			    const struct nvmeta_pi_tags *t)
{
	struct iov_cur c;
	struct pi_walk w;
	struct pi_plan p;
	struct gcrc g;
	int ret;

	ret = copy_init(&w, &p, &g, &c, f, data, meta, nlb, t, "source", src, nsrc);
	if (ret)
		return ret;
	switch (f->guard_bits | (p.pre_len ? 1 : 0)) {
	case 16: plan_generate_copy(&p, &g, &c, nlb, 16, false); break;
	case 17: plan_generate_copy(&p, &g, &c, nlb, 16, true); break;
	case 32: plan_generate_copy(&p, &g, &c, nlb, 32, false); break;
	case 33: plan_generate_copy(&p, &g, &c, nlb, 32, true); break;
	case 64: plan_generate_copy(&p, &g, &c, nlb, 64, false); break;
	default: plan_generate_copy(&p, &g, &c, nlb, 64, true); break;
	}
	return 0;
}

PI_INLINE void plan_verify_copy(const struct pi_plan *p0, struct gcrc *g0, const struct pi_walk *w,
				const struct nvmeta_pi_tags *t, struct pi_list *l,
				struct iov_cur *dst, uint32_t nlb, unsigned int bits, bool pre)
{
	const struct pi_plan p = *p0;
	struct gcrc g = *g0;
	unsigned char *d = (unsigned char *)p.data;
	const unsigned char *m = p.pre, *pi = p.pi;
	uint64_t ref = p.ref;
	uint32_t i;

	g.bits = bits;
	for (i = 0; i < nlb; i++) {
		struct words x = { load_be64(pi), bits == 16 ? 0 : load_be64(pi + 8) };

		gcrc_restart(&g);
		copy_block(&g, d, dst, p.bs, false);
		if (pre)
			gcrc_feed(&g, m, p.pre_len);
		verify_words(w, &p, t, l, i, x, gcrc_end(&g), ref);
		ref = (ref + p.ref_inc) & p.ref_mask;
		d += p.data_stride;
		m += p.meta_stride;
		pi += p.meta_stride;
	}
}

int nvmeta_pi_verify_copy(const struct nvmeta_pi_format *f, const struct iovec *dst,
			  uint32_t ndst, const void *data, const void *meta, uint32_t nlb,
			  const struct nvmeta_pi_tags *t, struct nvmeta_pi_report *rep,
			  struct nvmeta_pi_error *errors, uint32_t max)
{
	struct pi_list l = { rep, errors, errors ? max : 0, t->lba };
	struct iov_cur c;
	struct pi_walk w;
	struct pi_plan p;
	struct gcrc g;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = copy_init(&w, &p, &g, &c, f, data, meta, nlb, t, "destination", dst, ndst);
	if (ret)
		return ret;
	switch (f->guard_bits | (p.pre_len ? 1 : 0)) {
	case 16: plan_verify_copy(&p, &g, &w, t, &l, &c, nlb, 16, false); break;
	case 17: plan_verify_copy(&p, &g, &w, t, &l, &c, nlb, 16, true); break;
	case 32: plan_verify_copy(&p, &g, &w, t, &l, &c, nlb, 32, false); break;
	case 33: plan_verify_copy(&p, &g, &w, t, &l, &c, nlb, 32, true); break;
	case 64: plan_verify_copy(&p, &g, &w, t, &l, &c, nlb, 64, false); break;
	default: plan_verify_copy(&p, &g, &w, t, &l, &c, nlb, 64, true); break;
	}
	return rep->bad ? bad_blocks(rep) : 0;
}

/* ---- streams ---- */

/* The state of a stream, inside the caller's struct nvmeta_pi_stream. */
struct pi_stream {
	struct pi_walk w;		/* no data; meta: separate metadata */
	struct pi_plan p;		/* the words, the masks, the count */
	struct nvmeta_pi_tags t;
	struct nvmeta_pi_report rep;
	struct pi_list l;
	struct gcrc g;
	enum nvmeta_pi_stream_mode mode;
	uint32_t nlb;
	uint32_t block;			/* the block under way */
	uint64_t ref;			/* its reference tag */
	uint64_t offset;		/* stream bytes taken */
	uint64_t total;			/* stream bytes in all */
	size_t pos;			/* into the block's stride */
	unsigned char tup[16];		/* its tuple, as it passes */
};

_Static_assert(sizeof(struct pi_stream) <= sizeof(struct nvmeta_pi_stream),
	       "struct nvmeta_pi_stream has no room for the stream");
_Static_assert(_Alignof(struct pi_stream) <= _Alignof(struct nvmeta_pi_stream),
	       "struct nvmeta_pi_stream is not aligned for the stream");

int nvmeta_pi_stream_init(struct nvmeta_pi_stream *s, const struct nvmeta_pi_format *f,
			  void *meta, uint32_t nlb, const struct nvmeta_pi_tags *t,
			  enum nvmeta_pi_stream_mode mode, struct nvmeta_pi_error *errors,
			  uint32_t max)
{
	struct pi_stream *x = (struct pi_stream *)s->opaque;
	int ret;

	memset(s, 0, sizeof(*s));
	if (mode != NVMETA_PI_STREAM_GENERATE && mode != NVMETA_PI_STREAM_VERIFY)
		return nvmeta_fail(-EINVAL, "PI stream mode %d: neither generate nor verify", (int)mode);
	ret = check_format(f);
	if (ret)
		return ret;
	walk_format(&x->w, f);
	if (!f->extended && !meta)
		return nvmeta_fail(-EINVAL, "PI stream of %u blocks: metadata buffer missing", nlb);
	if (f->extended && meta)
		return nvmeta_fail(-EINVAL, "PI stream: an extended format's metadata comes in the stream; meta must be NULL");
	ret = check_tags(&x->w, t);
	if (ret)
		return ret;
	x->w.meta = f->extended ? NULL : meta;
	x->t = *t;
	plan_words(&x->p, &x->w, t);
	plan_masks(&x->p, &x->w, t);
	x->l = (struct pi_list){ &x->rep, errors, errors ? max : 0, t->lba };
	gcrc_start(&x->g, &x->w);
	x->mode = mode;
	x->nlb = nlb;
	x->ref = t->ref_tag;
	x->total = data_bytes(&x->w, nlb);
	return 0;
}

/* The block under way is whole: its tuple written or judged. */
static void stream_block_done(struct pi_stream *x, unsigned char *tup)
{
	const struct pi_walk *w = &x->w;

	if (x->mode == NVMETA_PI_STREAM_VERIFY)
		verify_words(w, &x->p, &x->t, &x->l, x->block, tuple_load(w, tup),
			     gcrc_end(&x->g), x->ref);
	x->block++;
	x->ref = (x->ref + x->p.ref_inc) & x->p.ref_mask;
	x->pos = 0;
	gcrc_restart(&x->g);
}

/* The guard of the block under way is complete: the tuple to write. */
static void stream_make_tuple(struct pi_stream *x)
{
	words_put(&x->w, x->tup, plan_tuple(&x->p, x->w.f.guard_bits, gcrc_end(&x->g), x->ref));
}

/* Separate metadata: the block's data is whole; the rest is in @meta. */
static void stream_separate_done(struct pi_stream *x)
{
	const struct pi_walk *w = &x->w;
	unsigned char *m = w->meta + (size_t)x->block * w->meta_stride;

	if (w->pi_offset)
		gcrc_feed(&x->g, m, w->pi_offset);
	if (x->mode == NVMETA_PI_STREAM_GENERATE) {
		stream_make_tuple(x);
		memcpy(m + w->pi_offset, x->tup, w->f.pi_size);
	}
	stream_block_done(x, m + w->pi_offset);
}

int nvmeta_pi_stream_update(struct nvmeta_pi_stream *s, uint64_t offset, void *buf, size_t len)
{
	struct pi_stream *x = (struct pi_stream *)s->opaque;
	const struct pi_walk *w = &x->w;
	size_t bs = w->f.block_size, pi_at = bs + w->pi_offset, pi_end = pi_at + w->f.pi_size;
	unsigned char *p = buf;

	if (offset != x->offset)
		return nvmeta_fail(-EINVAL, "PI stream: a piece at byte %llu, but the next is byte %llu (pieces come in order)",
				   (unsigned long long)offset, (unsigned long long)x->offset);
	if (len > x->total - x->offset)
		return nvmeta_fail(-EINVAL, "PI stream: %zu bytes at byte %llu go past the stream's %llu",
				   len, (unsigned long long)offset, (unsigned long long)x->total);
	if (len && !buf)
		return nvmeta_fail(-EINVAL, "PI stream: a NULL piece of %zu bytes", len);
	x->offset += len;
	while (len) {
		size_t n;

		if (x->pos < bs) {
			/* Data: into the guard. */
			n = bs - x->pos < len ? bs - x->pos : len;
			gcrc_feed(&x->g, p, n);
			x->pos += n;
			if (!w->f.extended && x->pos == bs)
				stream_separate_done(x);
		} else if (x->pos < pi_at) {
			/* Metadata before a PI that sits last: guarded. */
			n = pi_at - x->pos < len ? pi_at - x->pos : len;
			gcrc_feed(&x->g, p, n);
			x->pos += n;
		} else if (x->pos < pi_end) {
			size_t k = x->pos - pi_at;

			n = pi_end - x->pos < len ? pi_end - x->pos : len;
			if (x->mode == NVMETA_PI_STREAM_GENERATE) {
				if (!k)
					stream_make_tuple(x);
				memcpy(p, x->tup + k, n);
			} else {
				memcpy(x->tup + k, p, n);
			}
			x->pos += n;
		} else {
			/* Metadata after a PI that sits first: not guarded. */
			n = w->data_stride - x->pos < len ? w->data_stride - x->pos : len;
			x->pos += n;
		}
		if (w->f.extended && x->pos == w->data_stride)
			stream_block_done(x, x->tup);
		p += n;
		len -= n;
	}
	return 0;
}

int nvmeta_pi_stream_finish(struct nvmeta_pi_stream *s, struct nvmeta_pi_report *rep)
{
	struct pi_stream *x = (struct pi_stream *)s->opaque;

	if (x->offset != x->total)
		return nvmeta_fail(-EINVAL, "PI stream: %llu of %llu bytes given; the stream is not finished",
				   (unsigned long long)x->offset, (unsigned long long)x->total);
	if (rep)
		*rep = x->rep;
	return x->rep.bad ? bad_blocks(&x->rep) : 0;
}
