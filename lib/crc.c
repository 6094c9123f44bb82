// SPDX-License-Identifier: MIT
/*
 * The CRCs of the protection information guards: CRC-16/T10-DIF and
 * CRC-32C from ISA-L, and the NVMe CRC64 from ISA-L where the installed
 * version has it (2.31 and later), else from carry-less multiply folding
 * where the CPU has PCLMULQDQ (512 bits at a time where it also has
 * VPCLMULQDQ and AVX-512), else from tables.
 *
 * Conventions of the public functions (nvmeta/pi.h): a running CRC goes in
 * and comes out, 0 to start.  For the reflected CRCs with an all-ones
 * initial value and final XOR, that means the inversions happen inside,
 * as in zlib: f(b, f(a, 0)) == f(a||b, 0).
 *
 * The CRC64 implementations below work on the raw register, without the
 * inversions: crc64_*_raw(reg, p, len) returns the register after @len
 * more bytes.  In polynomial terms (reflected: bit 0 of the register is
 * the coefficient of x^63, bit 63 that of x^0) the register after a
 * message M is M(x) * x^64 mod P(x), with the starting register XORed into
 * M's first 8 bytes, little-endian.
 */
#include <endian.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <isa-l/crc.h>
#ifdef NVMETA_HAVE_ISAL_CRC64_ROCKSOFT
#include <isa-l/crc64.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#define CRC64_CLMUL 1
#endif
#include "internal.h"

/* ------------------------------------------------------------------ */
/* CRC-16/T10-DIF and CRC-32C: ISA-L                                   */
/* ------------------------------------------------------------------ */

/* ISA-L's crc16_t10dif() takes the register as it is: initial value 0,
 * no inversion in or out, which is the CRC's own definition; so the
 * running CRC is the register and passes straight through. */
uint16_t nvmeta_crc16_t10dif(const void *buf, size_t len, uint16_t crc)
{
	return crc16_t10dif(crc, buf, len);
}

/*
 * ISA-L's crc32_iscsi() takes and returns the raw register: it neither
 * inverts the initial value nor the result (crc32_iscsi(p, n, ~0u) ^ ~0u
 * is the CRC-32C of p).  Inverting here on the way in and out makes the
 * register of a running CRC its published value, zlib's way.
 * Its length is an int and its buffer not const (it does not write it):
 * longer buffers go in pieces.
 */
static __attribute__((noinline)) uint32_t crc32c_pieces(unsigned char *p, size_t len,
							uint32_t reg)
{
	while (len) {
		size_t n = len < (1u << 30) ? len : (1u << 30);

		reg = crc32_iscsi(p, (int)n, reg);
		p += n;
		len -= n;
	}
	return reg;
}

/* Every real length is one call with nothing around it but the two
 * inversions.  The loop over pieces inline made every call save and
 * restore three registers: at 512 bytes ISA-L called directly was then
 * 8 to 10 % faster, 6 % with the loop apart (the call in a call stays). */
uint32_t nvmeta_crc32c(const void *buf, size_t len, uint32_t crc)
{
	unsigned char *p = (unsigned char *)buf;

	if (__builtin_expect(len < (1u << 30), 1))
		return ~crc32_iscsi(p, (int)len, ~crc);
	return ~crc32c_pieces(p, len, ~crc);
}

/* ------------------------------------------------------------------ */
/* CRC64: tables, slice by 8                                           */
/* ------------------------------------------------------------------ */

/*
 * P(x) = x^64 + 0xAD93D23594C93659 (the x^64 term implicit); reflected,
 * bit i holding the coefficient of x^(63-i), that is 0x9A6C9329AC4BC9B5.
 *
 * Slice by 8: table k maps a byte followed by k zero bytes to its
 * register, and the register after 8 bytes b0..b7 (XORed with the
 * register before) is T7[b0] ^ T6[b1] ^ ... ^ T0[b7].  A table is linear
 * in its index, so each entry is the XOR of the entries of its set bits;
 * and bit 7-j of a byte followed by k zero bytes stands for x^(8k+j), so
 * Tk[0x80 >> j] = x^(8k+j) * x^64 mod P.  Those 64 values, x^64 .. x^127
 * mod P (reflected), are below; the rest of the tables is built from them
 * by the preprocessor and lives in .rodata.  x^64 mod P is the reflected
 * polynomial itself, each next one is the last times x:
 * (v >> 1) ^ (v & 1 ? 0x9A6C9329AC4BC9B5 : 0).  The unit test checks
 * every table against a bit-at-a-time CRC.
 */
#define CRC64_POLY_REFL 0x9a6c9329ac4bc9b5ULL

#define CRC64_X0 0x9a6c9329ac4bc9b5ULL, 0xd75adabd7a6e2d6fULL, 0xf1c1fe77117cdf02ULL, \
		 0x78e0ff3b88be6f81ULL, 0xa61cecb46814fe75ULL, 0xc962e5739841b68fULL, \
		 0xfedde190606b12f2ULL, 0x7f6ef0c830358979ULL
#define CRC64_X1 0xa5dbeb4db4510d09ULL, 0xc881668f76634f31ULL, 0xfe2c206e177a6e2dULL, \
		 0xe57a831ea7f6fea3ULL, 0xe8d1d2a6ffb0b6e4ULL, 0x7468e9537fd85b72ULL, \
		 0x3a3474a9bfec2db9ULL, 0x8776a97d73bddf69ULL
#define CRC64_X2 0xd9d7c79715952601ULL, 0xf68770e226815ab5ULL, 0xe12f2b58bf0b64efULL, \
		 0xeafb0685f3ce7bc2ULL, 0x757d8342f9e73de1ULL, 0xa0d25288d0b85745ULL, \
		 0xca05ba6dc417e217ULL, 0xff6e4e1f4e4038beULL
#define CRC64_X3 0x7fb7270fa7201c5fULL, 0xa5b700ae7fdbc79aULL, 0x52db80573fede3cdULL, \
		 0xb301530233bd3853ULL, 0xc3ec3aa8b595559cULL, 0x61f61d545acaaaceULL, \
		 0x30fb0eaa2d655567ULL, 0x8211147cbaf96306ULL
#define CRC64_X4 0x41088a3e5d7cb183ULL, 0xbae8d63682f59174ULL, 0x5d746b1b417ac8baULL, \
		 0x2eba358da0bd645dULL, 0x8d3189ef7c157b9bULL, 0xdcf457de12417478ULL, \
		 0x6e7a2bef0920ba3cULL, 0x373d15f784905d1eULL
#define CRC64_X5 0x1b9e8afbc2482e8fULL, 0x97a3d6544d6fdef2ULL, 0x4bd1eb2a26b7ef79ULL, \
		 0xbf8466bcbf103e09ULL, 0xc5aea077f3c3d6b1ULL, 0xf8bbc31255aa22edULL, \
		 0xe63172a0869ed8c3ULL, 0xe9742a79ef04a5d4ULL
#define CRC64_X6 0x74ba153cf78252eaULL, 0x3a5d0a9e7bc12975ULL, 0x8742166691ab5d0fULL, \
		 0xd9cd981ae49e6732ULL, 0x6ce6cc0d724f3399ULL, 0xac1ff52f156c5079ULL, \
		 0xcc6369be26fde189ULL, 0xfc5d27f6bf353971ULL
#define CRC64_X7 0xe44200d2f3d1550dULL, 0xe84d9340d5a36333ULL, 0xee4a5a89c69a782cULL, \
		 0x77252d44e34d3c16ULL, 0x3b9296a271a69e0bULL, 0x87a5d878949886b0ULL, \
		 0x43d2ec3c4a4c4358ULL, 0x21e9761e252621acULL

#define CRC64_E_(i, a, b, c, d, e, f, g, h)					\
	(((i) & 0x80 ? a : 0) ^ ((i) & 0x40 ? b : 0) ^ ((i) & 0x20 ? c : 0) ^	\
	 ((i) & 0x10 ? d : 0) ^ ((i) & 0x08 ? e : 0) ^ ((i) & 0x04 ? f : 0) ^	\
	 ((i) & 0x02 ? g : 0) ^ ((i) & 0x01 ? h : 0))
/* @k names the table: its 8 values are pasted in only at the innermost
 * step, so each level passes one argument. */
#define CRC64_EV(i, ...) CRC64_E_(i, __VA_ARGS__)
#define CRC64_E(i, k) CRC64_EV(i, CRC64_X##k)
#define CRC64_E4(i, k) CRC64_E(i, k), CRC64_E(i + 1, k), CRC64_E(i + 2, k), CRC64_E(i + 3, k)
#define CRC64_E16(i, k) CRC64_E4(i, k), CRC64_E4(i + 4, k), CRC64_E4(i + 8, k), CRC64_E4(i + 12, k)
#define CRC64_E64(i, k) CRC64_E16(i, k), CRC64_E16(i + 16, k), CRC64_E16(i + 32, k), \
			CRC64_E16(i + 48, k)
#define CRC64_E256(k) { CRC64_E64(0, k), CRC64_E64(64, k), CRC64_E64(128, k), CRC64_E64(192, k) }

static const uint64_t crc64_table[8][256] = {
	CRC64_E256(0), CRC64_E256(1), CRC64_E256(2), CRC64_E256(3),
	CRC64_E256(4), CRC64_E256(5), CRC64_E256(6), CRC64_E256(7),
};

static uint64_t crc64_table_raw(uint64_t reg, const unsigned char *p, size_t len)
{
	const uint64_t (*t)[256] = crc64_table;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		v = le64toh(v) ^ reg;
		reg = t[7][v & 0xff] ^ t[6][(v >> 8) & 0xff] ^
		      t[5][(v >> 16) & 0xff] ^ t[4][(v >> 24) & 0xff] ^
		      t[3][(v >> 32) & 0xff] ^ t[2][(v >> 40) & 0xff] ^
		      t[1][(v >> 48) & 0xff] ^ t[0][v >> 56];
	}
	while (len--)
		reg = t[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
	return reg;
}

static uint64_t crc64_table_fn(const void *buf, size_t len, uint64_t crc)
{
	return ~crc64_table_raw(~crc, buf, len);
}

static bool crc64_always(void)
{
	return true;
}

/* ------------------------------------------------------------------ */
/* CRC64: carry-less multiply folding (x86-64 PCLMULQDQ)               */
/* ------------------------------------------------------------------ */

#ifdef CRC64_CLMUL
/*
 * The method of Intel's "Fast CRC Computation for Generic Polynomials
 * Using PCLMULQDQ", derived here for this reflected polynomial.
 *
 * Sixteen bytes loaded little-endian into a register X hold, reflected,
 * a polynomial of degree < 128: bit k is the coefficient of x^(127-k).
 * So the low quadword is the high half: X = Xlo * x^64 + Xhi, each half
 * a reflected 64-bit polynomial.
 *
 * PCLMULQDQ of two reflected quadwords A and B sets bit k of its result
 * to the coefficient of x^(126-k) of A*B; read as a reflected 128-bit
 * value (bit k is x^(127-k)) that is A*B*x.  Each constant below is thus
 * taken one power of x lower than the algebra asks for.
 *
 * Folding: to move X forward over D more bits of message, replace it by
 * X * x^D mod P = Xlo * x^(D+64) + Xhi * x^D, congruent to
 *   clmul(Xlo, x^(D+63) mod P) ^ clmul(Xhi, x^(D-1) mod P),
 * a value of degree < 128 again, then XOR in the next 16 bytes.  Constants
 * (x^n mod P, reflected; computed by long division and cross-checked
 * against the tables at run time by the unit test):
 *   D = 128 (one 16-byte block):   x^191, x^127
 *   D = 512 (four blocks at once): x^575, x^511
 * Four accumulators, 64 bytes apart, hide PCLMULQDQ's latency; at the
 * end each folds into the next by 128 bits.
 *
 * Reduction: once the message is folded into X (X = M mod P), the
 * register is X * x^64 mod P.  First Y = Xlo * x^128 + Xhi * x^64, the
 * same fold with D = 64: clmul(Xlo, x^127 mod P) ^ (Xhi moved to the low
 * quadword).  Then, with R = Ylo, R * x^64 mod P by Barrett: for
 * mu = floor(x^128 / P) = x^64 + mu' (degree 64, as P's degree is 64),
 *   q = floor(R * mu / x^64) = R ^ floor(R * mu' / x^64)
 * is exactly floor(R * x^64 / P) (deg R < 64), and the remainder is the
 * low 64 bits of q * P, which are those of q * (P - x^64).  In reflected
 * terms (bit k of a product is x^(126-k)): floor(R * mu' / x^64) is the
 * product's low quadword shifted left by one, and the low 64 bits of
 * q * (P - x^64) are the product's bits 63..126.  mu' reflected is
 * 0x13F67D194D77CFBB.  The register is that remainder ^ Yhi.
 *
 * Messages under 16 bytes go to the tables; from 16 to 63 bytes there is
 * one accumulator.  A length that is not a multiple of 16 leaves 1..15
 * bytes, folded in before the reduction (crc64_clmul_finish()).
 */
#define CLMUL_TARGET __attribute__((target("pclmul,sse4.1")))
/*
 * Always inline, so that the 512-bit code below gets its own, VEX-encoded
 * copy: its loop over blocks calls the 128-bit code for what is under the
 * guard after the data (48 bytes, 512+64 PI last) with the upper halves
 * of the vector registers dirty, and the SSE-encoded copy then ran ten
 * times slower (the SSE/AVX transition).
 */
#define CLMUL_INLINE CLMUL_TARGET static inline __attribute__((always_inline))

#define CRC64_X127 0x21e9761e252621acULL
#define CRC64_X191 0xeadc41fd2ba3d420ULL
#define CRC64_X511 0x62242240ace5045aULL
#define CRC64_X575 0x0c32cdb31e18a84aULL
#define CRC64_MU 0x13f67d194d77cfbbULL

CLMUL_INLINE __m128i crc64_fold(__m128i x, __m128i k)
{
	/* imm 0x00: low quadwords; 0x11: high quadwords. */
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
			     _mm_clmulepi64_si128(x, k, 0x11));
}

CLMUL_INLINE __m128i crc64_load(const unsigned char *p)
{
	return _mm_loadu_si128((const __m128i *)p);
}

CLMUL_INLINE __m128i crc64_q(uint64_t v)
{
	return _mm_cvtsi64_si128((long long)v);
}

/* The register of the message folded into @x: @x * x^64 mod P. */
CLMUL_INLINE uint64_t crc64_reduce(__m128i x)
{
	__m128i y, c;
	uint64_t r, low, q;

	/* Xlo * x^128 + Xhi * x^64: imm 0x00 multiplies the low quadwords. */
	y = _mm_xor_si128(_mm_clmulepi64_si128(x, crc64_q(CRC64_X127), 0x00),
			  _mm_srli_si128(x, 8));
	r = (uint64_t)_mm_cvtsi128_si64(y);
	low = (uint64_t)_mm_extract_epi64(y, 1);

	c = _mm_clmulepi64_si128(crc64_q(r), crc64_q(CRC64_MU), 0x00);
	q = r ^ ((uint64_t)_mm_cvtsi128_si64(c) << 1);
	c = _mm_clmulepi64_si128(crc64_q(q), crc64_q(CRC64_POLY_REFL), 0x00);
	return ((uint64_t)_mm_cvtsi128_si64(c) >> 63) ^
	       ((uint64_t)_mm_extract_epi64(c, 1) << 1) ^ low;
}

/*
 * The last 1..15 bytes of a message of at least 16, as ISA-L does them:
 * @x holds the 16 bytes before them, folded.  With r bytes left, the 16
 * + r bytes x || tail are x's first r bytes, as a polynomial of degree
 * < 128 (zero bytes in front of them change nothing), followed by 16
 * bytes: x's last 16 - r and the tail.  The first part folds over those
 * 128 bits onto the second.  The tail is loaded as the message's last 16
 * bytes, which lie in the buffer.  The byte shuffles come from sliding a
 * 16-byte window r bytes along the tables below.
 */
static const unsigned char crc64_shuf[48] __attribute__((aligned(16))) = {
	/* x's bytes r..15 to 0..15-r, then (at +16) its bytes 0..r-1 to
	 * 16-r..15; 0x80 makes a zero byte */
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
};

/* The 16-byte folds after the wide ones, the partial last block and the
 * reduction: @x holds at least 16 bytes of message folded, @p the @len
 * bytes still to come. */
CLMUL_INLINE uint64_t crc64_clmul_finish(__m128i x, const unsigned char *p,
						       size_t len)
{
	const __m128i k128 = _mm_set_epi64x((long long)CRC64_X127, (long long)CRC64_X191);

	for (; len >= 16; p += 16, len -= 16)
		x = _mm_xor_si128(crc64_fold(x, k128), crc64_load(p));
	if (len) {
		__m128i lo = _mm_loadu_si128((const __m128i *)(crc64_shuf + len));
		__m128i hi = _mm_loadu_si128((const __m128i *)(crc64_shuf + 16 + len));
		/* Where hi moves a byte of x, the tail's byte goes instead. */
		__m128i tail = _mm_andnot_si128(_mm_cmpeq_epi8(hi, _mm_set1_epi8((char)0x80)),
						crc64_load(p + len - 16));

		x = _mm_xor_si128(crc64_fold(_mm_shuffle_epi8(x, hi), k128),
				  _mm_or_si128(_mm_shuffle_epi8(x, lo), tail));
	}
	return crc64_reduce(x);
}

CLMUL_INLINE uint64_t crc64_clmul_raw(uint64_t reg, const unsigned char *p, size_t len)
{
	const __m128i k512 = _mm_set_epi64x((long long)CRC64_X511, (long long)CRC64_X575);
	const __m128i k128 = _mm_set_epi64x((long long)CRC64_X127, (long long)CRC64_X191);
	__m128i a0, a1, a2, a3;

	if (len < 16)
		return crc64_table_raw(reg, p, len);
	/* The register goes into the message's first 8 bytes. */
	a0 = _mm_xor_si128(crc64_load(p), crc64_q(reg));
	if (len < 64)
		return crc64_clmul_finish(a0, p + 16, len - 16);

	a1 = crc64_load(p + 16);
	a2 = crc64_load(p + 32);
	a3 = crc64_load(p + 48);
	for (p += 64, len -= 64; len >= 64; p += 64, len -= 64) {
		a0 = _mm_xor_si128(crc64_fold(a0, k512), crc64_load(p));
		a1 = _mm_xor_si128(crc64_fold(a1, k512), crc64_load(p + 16));
		a2 = _mm_xor_si128(crc64_fold(a2, k512), crc64_load(p + 32));
		a3 = _mm_xor_si128(crc64_fold(a3, k512), crc64_load(p + 48));
	}
	a1 = _mm_xor_si128(crc64_fold(a0, k128), a1);
	a2 = _mm_xor_si128(crc64_fold(a1, k128), a2);
	a3 = _mm_xor_si128(crc64_fold(a2, k128), a3);
	return crc64_clmul_finish(a3, p, len);
}

CLMUL_TARGET static uint64_t crc64_clmul_fn(const void *buf, size_t len, uint64_t crc)
{
	return ~crc64_clmul_raw(~crc, buf, len);
}

static bool crc64_clmul_usable(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

/*
 * The same folding four 16-byte lanes at a time, with the 512-bit
 * VPCLMULQDQ of AVX-512 (Ice Lake and later, Zen 4): what ISA-L's own
 * "by16_10" CRCs do.  Each 128-bit lane of a ZMM register is a folding
 * register as above; the constants are the same kind, x^(D+63) and
 * x^(D-1) mod P for a fold over D bits, in every lane:
 *   D = 2048 (four ZMM accumulators, 256 bytes at once): x^2111, x^2047
 *   D = 512  (one ZMM, 64 bytes):                        x^575,  x^511
 * At the end the four lanes of the last ZMM fold into its top one, by
 * 384, 256 and 128 bits (x^447, x^383; x^319, x^255; x^191, x^127), and
 * the 128-bit code above finishes: 16-byte folds, the partial last block
 * and the reduction.  Messages under 64 bytes go to it whole.
 */
#define ZMM_TARGET __attribute__((target("avx512f,vpclmulqdq,pclmul,sse4.1")))

#define CRC64_X255 0xe1e0bb9d45d7a44cULL
#define CRC64_X319 0xb0bc2e589204f500ULL
#define CRC64_X383 0xa3ffdc1fe8e82a8bULL
#define CRC64_X447 0xbdd7ac0ee1a4a0f0ULL
#define CRC64_X2047 0xa043808c0f782663ULL
#define CRC64_X2111 0x37ccd3e14069cabcULL

ZMM_TARGET static inline __m512i crc64_zfold(__m512i x, __m512i k, __m512i next)
{
	/* imm 0x96: the XOR of all three. */
	return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, k, 0x00),
					 _mm512_clmulepi64_epi128(x, k, 0x11), next, 0x96);
}

ZMM_TARGET static inline __m512i crc64_zload(const unsigned char *p)
{
	return _mm512_loadu_si512((const void *)p);
}

/* The same 128-bit constant pair in every lane: low quadword first. */
ZMM_TARGET static inline __m512i crc64_zk(uint64_t lo, uint64_t hi)
{
	return _mm512_set_epi64((long long)hi, (long long)lo, (long long)hi, (long long)lo,
				(long long)hi, (long long)lo, (long long)hi, (long long)lo);
}

ZMM_TARGET static inline __attribute__((always_inline)) uint64_t
crc64_zmm_raw(uint64_t reg, const unsigned char *p, size_t len)
{
	const __m512i k512 = crc64_zk(CRC64_X575, CRC64_X511);
	__m512i a0, a1, a2, a3, kl;
	__m128i x;

	if (len < 64)
		return crc64_clmul_raw(reg, p, len);

	/* The register goes into the message's first 8 bytes. */
	a3 = _mm512_xor_si512(crc64_zload(p), _mm512_zextsi128_si512(crc64_q(reg)));
	p += 64, len -= 64;
	if (len >= 192) {
		const __m512i k2048 = crc64_zk(CRC64_X2111, CRC64_X2047);

		a0 = a3;
		a1 = crc64_zload(p);
		a2 = crc64_zload(p + 64);
		a3 = crc64_zload(p + 128);
		for (p += 192, len -= 192; len >= 256; p += 256, len -= 256) {
			a0 = crc64_zfold(a0, k2048, crc64_zload(p));
			a1 = crc64_zfold(a1, k2048, crc64_zload(p + 64));
			a2 = crc64_zfold(a2, k2048, crc64_zload(p + 128));
			a3 = crc64_zfold(a3, k2048, crc64_zload(p + 192));
		}
		a1 = crc64_zfold(a0, k512, a1);
		a2 = crc64_zfold(a1, k512, a2);
		a3 = crc64_zfold(a2, k512, a3);
	}
	for (; len >= 64; p += 64, len -= 64)
		a3 = crc64_zfold(a3, k512, crc64_zload(p));

	/* Lanes 0, 1 and 2 onto lane 3; lane 3's own constants are zero. */
	kl = _mm512_set_epi64(0, 0, (long long)CRC64_X127, (long long)CRC64_X191,
			      (long long)CRC64_X255, (long long)CRC64_X319,
			      (long long)CRC64_X383, (long long)CRC64_X447);
	a0 = crc64_zfold(a3, kl, _mm512_setzero_si512());
	x = _mm_xor_si128(_mm_xor_si128(_mm512_castsi512_si128(a0),
					_mm512_extracti32x4_epi32(a0, 1)),
			  _mm_xor_si128(_mm512_extracti32x4_epi32(a0, 2),
					_mm512_extracti32x4_epi32(a3, 3)));
	return crc64_clmul_finish(x, p, len);
}

/* Compiled for the same CPU as crc64_zmm_raw(), so that it is inlined:
 * one call a CRC, not two. */
ZMM_TARGET static uint64_t crc64_zmm_fn(const void *buf, size_t len, uint64_t crc)
{
	return ~crc64_zmm_raw(~crc, buf, len);
}

/*
 * The CRCs of a run of blocks in one call, the folding inline in the loop:
 * its constants stay in registers from block to block, and there is no
 * call, no inversion in and out and no test of the length a block where
 * the length is one of the usual ones (512 bytes and 4 KiB, nothing under
 * the guard after them), made a constant here.  A 512-byte block is about
 * 30 cycles of folding: the call and the set-up around it were a few
 * percent of it (issue 18).
 */
ZMM_TARGET static inline __attribute__((always_inline)) void
crc64_zmm_blocks_of(const struct nvmeta_crc64_blocks *b, uint32_t n, uint64_t *out, size_t len,
		    size_t pre_len)
{
	const unsigned char *d = b->data, *m = b->pre;
	const size_t ds = b->data_stride, ms = b->pre_stride;
	uint32_t i;

	for (i = 0; i < n; i++, d += ds, m += ms) {
		uint64_t reg = crc64_zmm_raw(~0ull, d, len);

		if (pre_len)
			reg = crc64_zmm_raw(reg, m, pre_len);
		out[i] = ~reg;
	}
}

ZMM_TARGET static void crc64_zmm_blocks(const struct nvmeta_crc64_blocks *b, uint32_t n,
					uint64_t *out)
{
	if (b->len == 512 && !b->pre_len)
		crc64_zmm_blocks_of(b, n, out, 512, 0);
	else if (b->len == 4096 && !b->pre_len)
		crc64_zmm_blocks_of(b, n, out, 4096, 0);
	else
		crc64_zmm_blocks_of(b, n, out, b->len, b->pre_len);
}

/* __builtin_cpu_supports() also asks the kernel (XCR0) whether it saves
 * the ZMM registers: "avx512f" is false where it does not. */
static bool crc64_zmm_usable(void)
{
	return crc64_clmul_usable() && __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("vpclmulqdq");
}
#endif /* CRC64_CLMUL */

/* ------------------------------------------------------------------ */
/* CRC64: ISA-L 2.31 and later                                         */
/* ------------------------------------------------------------------ */

#ifdef NVMETA_HAVE_ISAL_CRC64_ROCKSOFT
/* crc64_rocksoft_refl() inverts inside, as the functions here do: its
 * init_crc is the running CRC, 0 to start.  It picks its own code for
 * the CPU at run time. */
static uint64_t crc64_isal_fn(const void *buf, size_t len, uint64_t crc)
{
	return crc64_rocksoft_refl(crc, buf, len);
}
#endif

/* ------------------------------------------------------------------ */
/* CRC64: the choice                                                   */
/* ------------------------------------------------------------------ */

/* The other implementations' runs of blocks: a call a block. */
#define CRC64_BLOCKS(name, fn)								\
	static void name(const struct nvmeta_crc64_blocks *b, uint32_t n, uint64_t *out)	\
	{										\
		const unsigned char *d = b->data, *m = b->pre;				\
		uint32_t i;								\
											\
		for (i = 0; i < n; i++, d += b->data_stride, m += b->pre_stride) {	\
			uint64_t crc = fn(d, b->len, 0);				\
											\
			out[i] = b->pre_len ? fn(m, b->pre_len, crc) : crc;		\
		}									\
	}

#ifdef NVMETA_HAVE_ISAL_CRC64_ROCKSOFT
CRC64_BLOCKS(crc64_isal_blocks, crc64_isal_fn)
#endif
#ifdef CRC64_CLMUL
CRC64_BLOCKS(crc64_clmul_blocks, crc64_clmul_fn)
#endif
CRC64_BLOCKS(crc64_table_blocks, crc64_table_fn)

struct crc64_entry {
	struct nvmeta_crc64_variant impl;
	bool (*usable)(void);
};

/* Best first. */
static const struct crc64_entry crc64_entries[] = {
#ifdef NVMETA_HAVE_ISAL_CRC64_ROCKSOFT
	{ { "isa-l", crc64_isal_fn, crc64_isal_blocks }, crc64_always },
#endif
#ifdef CRC64_CLMUL
	/* Both fold with carry-less multiplies: 512 bits at a time (AVX-512
	 * VPCLMULQDQ), and 128. */
	{ { "vpclmul", crc64_zmm_fn, crc64_zmm_blocks }, crc64_zmm_usable },
	{ { "clmul", crc64_clmul_fn, crc64_clmul_blocks }, crc64_clmul_usable },
#endif
	{ { "table", crc64_table_fn, crc64_table_blocks }, crc64_always },
};

unsigned int nvmeta_crc64_variants(const struct nvmeta_crc64_variant **out, unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(crc64_entries); i++) {
		if (!crc64_entries[i].usable())
			continue;
		if (n < max)
			out[n] = &crc64_entries[i].impl;
		n++;
	}
	return n;
}

/*
 * The implementation in use, chosen on the first call.  Threads that race
 * to choose all choose the same, so a plain atomic store is enough; the
 * pointer is the library's only state here.
 */
static _Atomic(const struct nvmeta_crc64_variant *) crc64_chosen;

/* The first call's choice, apart: inline, its loop made every call save
 * and restore four registers before the jump to the variant. */
static __attribute__((noinline)) const struct nvmeta_crc64_variant *crc64_choose(void)
{
	const struct nvmeta_crc64_variant *impl = NULL;

	/* The table is always usable: there is at least one. */
	nvmeta_crc64_variants(&impl, 1);
	atomic_store_explicit(&crc64_chosen, impl, memory_order_release);
	return impl;
}

static inline const struct nvmeta_crc64_variant *crc64_get(void)
{
	const struct nvmeta_crc64_variant *impl;

	impl = atomic_load_explicit(&crc64_chosen, memory_order_acquire);
	if (__builtin_expect(impl != NULL, 1))
		return impl;
	return crc64_choose();
}

uint64_t nvmeta_crc64_nvme(const void *buf, size_t len, uint64_t crc)
{
	return crc64_get()->fn(buf, len, crc);
}

const char *nvmeta_crc64_impl(void)
{
	return crc64_get()->name;
}
