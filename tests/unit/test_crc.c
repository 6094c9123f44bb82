// SPDX-License-Identifier: MIT
/*
 * The guard CRCs against their check values, the NVM Command Set's test
 * blocks, bit-at-a-time references written from their definitions here,
 * and each other: every CRC64 implementation this build and CPU have.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <criterion/criterion.h>
#include "internal.h"

#define MAX_LEN 9000
#define MAX_SHIFT 64

static const char check_input[] = "123456789";

/* ------------------------------------------------------------------ */
/* References: one bit at a time, from each CRC's parameters           */
/* ------------------------------------------------------------------ */

static uint64_t bitrev(uint64_t v, unsigned int bits)
{
	uint64_t r = 0;
	unsigned int i;

	for (i = 0; i < bits; i++, v >>= 1)
		r = (r << 1) | (v & 1);
	return r;
}

/* CRC-16/T10-DIF: poly 0x8BB7, MSB first, init 0, no final XOR. */
static uint16_t ref_crc16(const void *buf, size_t len, uint16_t crc)
{
	const unsigned char *p = buf;
	int i;

	while (len--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (i = 0; i < 8; i++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x8BB7 : crc << 1);
	}
	return crc;
}

/* A reflected CRC of @bits bits with all-ones init and final XOR. */
static uint64_t ref_reflected(const void *buf, size_t len, uint64_t crc,
			      uint64_t poly, unsigned int bits)
{
	const uint64_t ones = bits == 64 ? ~0ull : (1ull << bits) - 1;
	const uint64_t rpoly = bitrev(poly, bits);
	const unsigned char *p = buf;
	int i;

	crc ^= ones;
	while (len--) {
		crc ^= *p++;
		for (i = 0; i < 8; i++)
			crc = crc & 1 ? (crc >> 1) ^ rpoly : crc >> 1;
	}
	return crc ^ ones;
}

static uint32_t ref_crc32c(const void *buf, size_t len, uint32_t crc)
{
	return (uint32_t)ref_reflected(buf, len, crc, 0x1EDC6F41, 32);
}

static uint64_t ref_crc64(const void *buf, size_t len, uint64_t crc)
{
	return ref_reflected(buf, len, crc, 0xAD93D23594C93659ull, 64);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* xorshift64: reproducible random inputs. */
static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static unsigned char *random_buf(size_t len)
{
	unsigned char *b = malloc(len);
	size_t i;

	cr_assert_not_null(b);
	for (i = 0; i < len; i++)
		b[i] = (unsigned char)rnd();
	return b;
}

static unsigned int variants(const struct nvmeta_crc64_variant **v, unsigned int max)
{
	unsigned int n = nvmeta_crc64_variants(v, max);

	cr_assert(n >= 1 && n <= max, "%u CRC64 implementations", n);
	return n;
}

static const struct nvmeta_crc64_variant *variant(const char *name)
{
	const struct nvmeta_crc64_variant *v[4];
	unsigned int i, n = variants(v, 4);

	for (i = 0; i < n; i++)
		if (!strcmp(v[i]->name, name))
			return v[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Check values over "123456789"                                       */
/* ------------------------------------------------------------------ */

Test(crc, check_values)
{
	cr_assert_eq(ref_crc16(check_input, 9, 0), 0xD0DB);
	cr_assert_eq(ref_crc32c(check_input, 9, 0), 0xE3069283);
	cr_assert_eq(ref_crc64(check_input, 9, 0), 0xAE8B14860A799888ull);

	cr_assert_eq(nvmeta_crc16_t10dif(check_input, 9, 0), 0xD0DB);
	cr_assert_eq(nvmeta_crc32c(check_input, 9, 0), 0xE3069283);
	cr_assert_eq(nvmeta_crc64_nvme(check_input, 9, 0), 0xAE8B14860A799888ull,
		     "got %#llx", (unsigned long long)nvmeta_crc64_nvme(check_input, 9, 0));
}

/*
 * The CRC64 form tested is the standard one, the value the register holds
 * after the final XOR, as every implementation returns it and as the
 * 64-bit guard stores it: 0xAE8B14860A799888 (the RevEng catalogue's
 * check).  The NVM Command Set specification prints the check value
 * bit-reversed, 0x11199E506128D175; the two must be exactly that.
 */
Test(crc, crc64_check_value_as_the_specification_prints_it)
{
	cr_assert_eq(bitrev(0xAE8B14860A799888ull, 64), 0x11199E506128D175ull);
	cr_assert_eq(bitrev(nvmeta_crc64_nvme(check_input, 9, 0), 64), 0x11199E506128D175ull);
}

Test(crc, every_crc64_implementation_has_the_check_value)
{
	const struct nvmeta_crc64_variant *v[4];
	unsigned int i, n = variants(v, 4);

	for (i = 0; i < n; i++)
		cr_assert_eq(v[i]->fn(check_input, 9, 0), 0xAE8B14860A799888ull, "%s: %#llx",
			     v[i]->name, (unsigned long long)v[i]->fn(check_input, 9, 0));
}

Test(crc, empty_input_returns_the_running_crc)
{
	const struct nvmeta_crc64_variant *v[4];
	unsigned int i, n = variants(v, 4);

	cr_assert_eq(nvmeta_crc16_t10dif(check_input, 0, 0x1234), 0x1234);
	cr_assert_eq(nvmeta_crc32c(check_input, 0, 0x12345678), 0x12345678);
	for (i = 0; i < n; i++)
		cr_assert_eq(v[i]->fn(check_input, 0, 0x123456789abcdefull), 0x123456789abcdefull,
			     "%s", v[i]->name);
}

/* A run of blocks in one call (lib/pi.c's 64-bit guard) is the CRC of
 * each block, data then the metadata under the guard, one call each:
 * the lengths the 512-bit folding makes constants (512 and 4096 bytes,
 * nothing after them) and others, strides with gaps between blocks. */
Test(crc, every_crc64_implementation_runs_blocks_as_one_call_a_block)
{
	static const struct {
		size_t len, pre_len, gap;
	} cases[] = {
		{ 512, 0, 0 }, { 512, 0, 8 }, { 4096, 0, 0 }, { 4096, 0, 64 }, { 512, 8, 0 },
		{ 512, 48, 16 }, { 4096, 48, 0 }, { 520, 0, 0 }, { 64, 0, 3 }, { 16, 0, 0 },
		{ 1, 0, 1 }, { 200, 7, 5 }, { 512, 1, 0 },
	};
	const struct nvmeta_crc64_variant *v[4];
	unsigned int i, j, k, n = variants(v, 4);
	unsigned char *data = random_buf(17 * (4096 + 64)), *pre = random_buf(17 * 64);
	uint64_t out[17];

	for (i = 0; i < n; i++) {
		for (j = 0; j < ARRAY_SIZE(cases); j++) {
			struct nvmeta_crc64_blocks b = {
				.data = data, .pre = pre,
				.data_stride = cases[j].len + cases[j].gap,
				.pre_stride = cases[j].pre_len + cases[j].gap,
				.len = cases[j].len, .pre_len = cases[j].pre_len,
			};

			v[i]->blocks(&b, 17, out);
			for (k = 0; k < 17; k++) {
				uint64_t want = v[i]->fn(data + k * b.data_stride, b.len, 0);

				if (b.pre_len)
					want = v[i]->fn(pre + k * b.pre_stride, b.pre_len, want);
				cr_assert_eq(out[k], want, "%s, %zu + %zu bytes, block %u: %#llx, expected %#llx",
					     v[i]->name, b.len, b.pre_len, k,
					     (unsigned long long)out[k], (unsigned long long)want);
			}
		}
	}
	free(data);
	free(pre);
}

/* ------------------------------------------------------------------ */
/* The NVM Command Set's test blocks                                   */
/* ------------------------------------------------------------------ */

enum pattern { ZEROS, ONES, INCREMENTING, DECREMENTING };

static void fill(unsigned char *b, size_t len, enum pattern pat)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = pat == ZEROS ? 0 : pat == ONES ? 0xFF :
		       pat == INCREMENTING ? (unsigned char)i : (unsigned char)(len - 1 - i);
}

/*
 * The 32- and 64-bit guards of the specification's 4 KiB test blocks
 * (NVM Command Set 1.0, "Protection Information" test cases; the same
 * values are the Linux crypto test manager's and SPDK's), checked against
 * the references too.  The 16-bit guards of 512-byte and 4 KiB blocks
 * were computed here with the bit-at-a-time reference above:
 *   512 x 00h: 0x0000   512 x FFh: 0xE6A1
 *   4 KiB x 00h: 0x0000 x FFh: 0x8B5D, incrementing: 0x8F6D,
 *   decrementing: 0x0430
 */
Test(crc, specification_test_blocks)
{
	static const struct {
		size_t len;
		enum pattern pat;
		uint16_t crc16;
		uint32_t crc32c;
		uint64_t crc64;
	} cases[] = {
		{ 512, ZEROS, 0x0000, 0x30FCEDC0, 0x1DE60E2868A782E9ull },
		{ 512, ONES, 0xE6A1, 0x5BD99297, 0x5277682DDAEB44B6ull },
		{ 4096, ZEROS, 0x0000, 0x98F94189, 0x6482D367EB22B64Eull },
		{ 4096, ONES, 0x8B5D, 0x25C1FE13, 0xC0DDBA7302ECA3ACull },
		{ 4096, INCREMENTING, 0x8F6D, 0x9C71FE32, 0x3E729F5F6750449Cull },
		{ 4096, DECREMENTING, 0x0430, 0x214941A8, 0x9A2DF64B8E9E517Eull },
	};
	const struct nvmeta_crc64_variant *v[4];
	unsigned int i, j, n = variants(v, 4);
	unsigned char b[4096];

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = cases[i].len;

		fill(b, len, cases[i].pat);
		cr_assert_eq(ref_crc16(b, len, 0), cases[i].crc16, "case %u", i);
		cr_assert_eq(ref_crc32c(b, len, 0), cases[i].crc32c, "case %u", i);
		cr_assert_eq(ref_crc64(b, len, 0), cases[i].crc64, "case %u", i);
		cr_assert_eq(nvmeta_crc16_t10dif(b, len, 0), cases[i].crc16, "case %u", i);
		cr_assert_eq(nvmeta_crc32c(b, len, 0), cases[i].crc32c, "case %u", i);
		cr_assert_eq(nvmeta_crc64_nvme(b, len, 0), cases[i].crc64, "case %u", i);
		for (j = 0; j < n; j++)
			cr_assert_eq(v[j]->fn(b, len, 0), cases[i].crc64, "case %u, %s", i,
				     v[j]->name);
	}
}

/* ------------------------------------------------------------------ */
/* Implementations against the references and each other               */
/* ------------------------------------------------------------------ */

/* Every entry of the slice-by-8 tables: an 8-byte message, all FFh but
 * byte @i, reaches table 7-i at index b ^ FFh (the initial register is all
 * ones) and the other tables at a fixed index; so a wrong entry shows. */
Test(crc, every_table_entry)
{
	const struct nvmeta_crc64_variant *table = variant("table");
	unsigned char m[8];
	unsigned int i, b;

	cr_assert_not_null(table);
	for (i = 0; i < 8; i++) {
		for (b = 0; b < 256; b++) {
			memset(m, 0xFF, sizeof(m));
			m[i] = (unsigned char)b;
			cr_assert_eq(table->fn(m, 8, 0), ref_crc64(m, 8, 0),
				     "byte %u = %#x", i, b);
			cr_assert_eq(table->fn(m, 1, 0), ref_crc64(m, 1, 0),
				     "byte %u = %#x alone", i, b);
		}
	}
}

/* On x86-64 with PCLMULQDQ the folding code must be there and in use
 * unless ISA-L's own is; the 512-bit one where AVX-512 VPCLMULQDQ is. */
Test(crc, clmul_is_offered_where_the_cpu_has_it)
{
	const struct nvmeta_crc64_variant *v[4];
	const char *impl = nvmeta_crc64_impl();

	variants(v, 4);
	cr_assert_str_eq(impl, v[0]->name);
	cr_assert(!strcmp(impl, "isa-l") || !strcmp(impl, "vpclmul") || !strcmp(impl, "clmul") ||
		  !strcmp(impl, "table"), "%s", impl);
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1")) {
		bool wide = __builtin_cpu_supports("avx512f") &&
			    __builtin_cpu_supports("vpclmulqdq");

		cr_assert_not_null(variant("clmul"));
		cr_assert_eq(variant("vpclmul") != NULL, wide);
		if (!variant("isa-l"))
			cr_assert_str_eq(impl, wide ? "vpclmul" : "clmul");
	}
#endif
}

/* Random lengths 0..9000 at random misalignments, from a random running
 * CRC: every CRC64 implementation agrees with the reference; CRC16 and
 * CRC32C too. */
Test(crc, implementations_agree_on_random_inputs)
{
	const struct nvmeta_crc64_variant *v[4];
	unsigned int i, j, n = variants(v, 4);
	unsigned char *big = random_buf(MAX_LEN + MAX_SHIFT);

	for (i = 0; i < 400; i++) {
		/* Lengths near the folding code's block edges, and any. */
		size_t len = i < 200 ? rnd() % 300 : rnd() % (MAX_LEN + 1);
		size_t shift = rnd() % MAX_SHIFT;
		uint64_t start = i % 3 ? rnd() : 0;
		const unsigned char *p = big + shift;
		uint64_t want = ref_crc64(p, len, start);

		for (j = 0; j < n; j++)
			cr_assert_eq(v[j]->fn(p, len, start), want,
				     "%s: len %zu shift %zu start %#llx", v[j]->name, len,
				     shift, (unsigned long long)start);
		cr_assert_eq(nvmeta_crc64_nvme(p, len, start), want);
		cr_assert_eq(nvmeta_crc32c(p, len, (uint32_t)start),
			     ref_crc32c(p, len, (uint32_t)start), "len %zu", len);
		cr_assert_eq(nvmeta_crc16_t10dif(p, len, (uint16_t)start),
			     ref_crc16(p, len, (uint16_t)start), "len %zu", len);
	}
	free(big);
}

/* Every implementation agrees with the table on every length up to 300
 * (each path of the folding code, with each tail length). */
Test(crc, implementations_agree_on_every_short_length)
{
	const struct nvmeta_crc64_variant *v[4];
	const struct nvmeta_crc64_variant *table = variant("table");
	unsigned int j, n = variants(v, 4);
	unsigned char *b = random_buf(301);
	size_t len;

	cr_assert_not_null(table);
	for (len = 0; len <= 300; len++)
		for (j = 0; j < n; j++)
			cr_assert_eq(v[j]->fn(b + 1, len, 0), table->fn(b + 1, len, 0),
				     "%s: len %zu", v[j]->name, len);
	free(b);
}

/* The 512-bit folding takes 256 bytes a step, after its first 64: every
 * length to 1100 (none, one and two steps, each remainder of 64 and of
 * 16 after them), every implementation against the bit-at-a-time
 * reference, from a running CRC, at an odd address. */
Test(crc, implementations_agree_on_every_length_to_1100)
{
	const struct nvmeta_crc64_variant *v[4];
	unsigned int j, n = variants(v, 4);
	unsigned char *b = random_buf(1103);
	size_t len;

	for (len = 0; len <= 1100; len++) {
		uint64_t want = ref_crc64(b + 3, len, 0x0123456789abcdefull);

		for (j = 0; j < n; j++)
			cr_assert_eq(v[j]->fn(b + 3, len, 0x0123456789abcdefull), want,
				     "%s (variant %u): len %zu", v[j]->name, j, len);
	}
	free(b);
}

/* ------------------------------------------------------------------ */
/* Continuation                                                        */
/* ------------------------------------------------------------------ */

Test(crc, continuation_equals_one_pass)
{
	const struct nvmeta_crc64_variant *v[4];
	unsigned int i, j, n = variants(v, 4);
	unsigned char *b = random_buf(MAX_LEN);

	for (i = 0; i < 300; i++) {
		size_t len = rnd() % (MAX_LEN + 1);
		size_t cut = len ? rnd() % (len + 1) : 0;

		cr_assert_eq(nvmeta_crc16_t10dif(b + cut, len - cut,
						 nvmeta_crc16_t10dif(b, cut, 0)),
			     nvmeta_crc16_t10dif(b, len, 0), "len %zu cut %zu", len, cut);
		cr_assert_eq(nvmeta_crc32c(b + cut, len - cut, nvmeta_crc32c(b, cut, 0)),
			     nvmeta_crc32c(b, len, 0), "len %zu cut %zu", len, cut);
		for (j = 0; j < n; j++)
			cr_assert_eq(v[j]->fn(b + cut, len - cut, v[j]->fn(b, cut, 0)),
				     v[j]->fn(b, len, 0), "%s: len %zu cut %zu",
				     v[j]->name, len, cut);
	}
	free(b);
}

/*
 * ISA-L's CRC32C takes an int length: longer buffers must go in pieces.
 * 4 GiB + 16 bytes of the zero page (read-only, never committed; huge
 * zero pages where the kernel has them, to fault less) against the same
 * bytes given 1 GiB at a time.
 */
Test(crc, crc32c_of_more_than_4_gib)
{
	const size_t piece = 1ul << 30, len = 4 * piece + 16;
	char *z = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	uint32_t whole, parts = 0;
	size_t off;

	cr_assert_neq(z, MAP_FAILED);
	madvise(z, len, MADV_HUGEPAGE);
	whole = nvmeta_crc32c(z, len, 0);
	for (off = 0; off < len; off += piece)
		parts = nvmeta_crc32c(z + off, len - off < piece ? len - off : piece, parts);
	munmap(z, len);
	cr_assert_eq(whole, parts, "whole %#x, 1 GiB at a time %#x", whole, parts);
}
