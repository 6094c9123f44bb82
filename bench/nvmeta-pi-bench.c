// SPDX-License-Identifier: MIT
/*
 * nvmeta-pi-bench: protection information generated and verified on the
 * host, against the bare CRC of the same guard over the same bytes.  Pure
 * CPU work: no device, no kernel, no VM.
 *
 * For each PI format, over one buffer of data and its separate metadata:
 *   generate     nvmeta_pi_generate()
 *   verify       nvmeta_pi_verify(), every check on
 *   gen+verify   both, one after the other
 *   crc          the guard's CRC, one call a block over the bytes the guard
 *                covers (data, and the metadata before a PI that sits
 *                last): the least any generation or verification can do;
 *                the reference of the ratios.  The fastest entry there is:
 *                ISA-L's crc16_t10dif() and crc32_iscsi() themselves (as
 *                lib/pi.c calls them), nvmeta_crc64_nvme() for the 64-bit
 *                guard (ISA-L's NVMe CRC64 inside, where it has one)
 *   crc 1 call   the guard's CRC over all the data in one call: what a
 *                per-block CRC costs against one long run
 *   crc table    a plain byte-at-a-time table CRC of the guard, one call a
 *                block: what the library's CRCs are worth
 *   crc16        (32- and 64-bit guards) ISA-L's CRC16 over the same
 *                bytes: what a wider guard costs
 *   crc64 isa-l  (64-bit guard) the fastest 64-bit CRC the installed ISA-L
 *                has, one call a block over the same bytes: its NVMe CRC64
 *                (crc64_rocksoft_refl, 2.31 and later) where it has one,
 *                else its ECMA one (crc64_ecma_refl: another polynomial,
 *                the same folding code); where nvmeta's own CRC64 stands
 *   gen iov      nvmeta_pi_generate_iov() over the same buffers cut into
 *   verify iov   4 KiB iovecs (data and metadata), against generate and
 *                verify (issue 21)
 *   gen iov odd  the same over 1000-byte iovecs: blocks and tuples split
 *   ver iov odd  across iovec boundaries
 *   copy,gen     memcpy() of the data from an application buffer, then
 *                nvmeta_pi_generate(): copy then generate
 *   copy+gen     nvmeta_pi_generate_copy(): both in one pass, against
 *                copy,gen
 *   ver,copy     nvmeta_pi_verify(), then memcpy() of the data out to an
 *                application buffer
 *   copy+ver     nvmeta_pi_verify_copy(): both in one pass, against
 *                ver,copy
 *
 * Targets (reported, never asserted): generate, verify and the two
 * together at least 0.97 of the bare CRC over the same bytes, for every
 * format: 512-byte and 4 KiB blocks, 8- and 16-byte tuples, 8, 16 and 64
 * bytes of metadata, PI first and last.
 *
 * Throughput counts the protected data, block_size bytes a block,
 * metadata excluded, in every variant alike, per second of the thread's
 * CPU time: the ratios are ratios of time.  As in nvmeta-bench, every
 * variant runs one short slice a round, in an order that rotates and
 * alternates from round to round, after an unrecorded warm-up round;
 * figures are the median with min and max over rounds, and ratios are
 * taken round by round (both sides of a ratio ran within one round of
 * each other) before their median.
 */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "args.h"
#include "nvmeta.h"
#include "nvmeta/pi.h"
#include "report.h"

#define PROG "nvmeta-pi-bench"
#define MAX_ROUNDS 32
#define MAX_VARIANTS 256

/* The target of issue 18: generate, verify and gen+verify at this much of
 * the guard's bare CRC over the same bytes, every format.  Reported,
 * never asserted. */
#define TARGET 0.97

enum op {
	OP_GEN, OP_VERIFY, OP_GENVER, OP_CRC, OP_BULK, OP_TABLE, OP_CRC16, OP_C64,
	OP_GEN_IOV, OP_VER_IOV, OP_GEN_ODD, OP_VER_ODD,
	OP_COPY_THEN_GEN, OP_COPY_GEN, OP_VER_THEN_COPY, OP_COPY_VER, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	[OP_GEN] = "generate", [OP_VERIFY] = "verify", [OP_GENVER] = "gen+verify",
	[OP_CRC] = "crc", [OP_BULK] = "crc 1 call", [OP_TABLE] = "crc table",
	[OP_CRC16] = "crc16 isa-l", [OP_C64] = "crc64 isa-l",
	[OP_GEN_IOV] = "gen iov", [OP_VER_IOV] = "verify iov", [OP_GEN_ODD] = "gen iov odd",
	[OP_VER_ODD] = "ver iov odd", [OP_COPY_THEN_GEN] = "copy,gen", [OP_COPY_GEN] = "copy+gen",
	[OP_VER_THEN_COPY] = "ver,copy", [OP_COPY_VER] = "copy+ver",
};

/* The variant each of issue 21's is measured against: the contiguous call,
 * or the copy and the PI one after the other. */
static const enum op op_base[OP_COUNT] = {
	[OP_GEN_IOV] = OP_GEN, [OP_VER_IOV] = OP_VERIFY, [OP_GEN_ODD] = OP_GEN,
	[OP_VER_ODD] = OP_VERIFY, [OP_COPY_GEN] = OP_COPY_THEN_GEN,
	[OP_COPY_VER] = OP_VER_THEN_COPY,
};

/* Pieces of the scatter lists: a page, and an odd size that splits blocks
 * and tuples. */
#define IOV_PAGE 4096
#define IOV_ODD 1000

/* ISA-L's fastest 64-bit CRC, looked up in the library the process runs
 * with (libnvmeta's own ISA-L), so that the figure is the installed
 * version's: its signature is the same for every polynomial. */
typedef uint64_t (*isal_crc64_fn)(uint64_t crc, const unsigned char *buf, uint64_t len);

static isal_crc64_fn isal_crc64;
static const char *isal_crc64_name = "none";

static void isal_crc64_find(void)
{
	static const char *const names[] = { "crc64_rocksoft_refl", "crc64_ecma_refl" };
	void *h = dlopen("libisal.so.2", RTLD_NOW | RTLD_NOLOAD);
	unsigned int i;

	if (!h)
		h = dlopen("libisal.so.2", RTLD_NOW);
	for (i = 0; h && i < 2 && !isal_crc64; i++) {
		isal_crc64 = (isal_crc64_fn)dlsym(h, names[i]);
		if (isal_crc64)
			isal_crc64_name = names[i];
	}
}

static uint64_t isal_c64(const unsigned char *p, size_t n, uint64_t crc)
{
	return isal_crc64(crc, p, n);
}

/*
 * The bare CRC of the 16- and 32-bit guards is ISA-L's own function,
 * called directly, as lib/pi.c calls it: nvmeta_crc32c() around it (a
 * call inside a call, for the inversions) was 6 to 8 % slower a 512-byte
 * block, a reference that flattered the PI calls.  Found in the same
 * ISA-L as the library's, else the library's functions.
 */
typedef uint16_t (*isal_crc16_fn)(uint16_t crc, const unsigned char *buf, uint64_t len);
typedef uint32_t (*isal_crc32c_fn)(unsigned char *buf, int len, uint32_t reg);

static isal_crc16_fn isal_crc16;
static isal_crc32c_fn isal_crc32c;

static void isal_find(void)
{
	void *h = dlopen("libisal.so.2", RTLD_NOW | RTLD_NOLOAD);

	if (!h)
		h = dlopen("libisal.so.2", RTLD_NOW);
	if (!h)
		return;
	isal_crc16 = (isal_crc16_fn)dlsym(h, "crc16_t10dif");
	isal_crc32c = (isal_crc32c_fn)dlsym(h, "crc32_iscsi");
}

/* The guards' CRCs with nvmeta's conventions (a running CRC in and out),
 * ISA-L's where found.  Lengths here are at most a block and its
 * metadata: ISA-L's int is enough. */
static uint16_t bare_crc16(const unsigned char *p, size_t n, uint16_t crc)
{
	return isal_crc16 ? isal_crc16(crc, p, n) : nvmeta_crc16_t10dif(p, n, crc);
}

static uint32_t bare_crc32c(const unsigned char *p, size_t n, uint32_t crc)
{
	return isal_crc32c ? ~isal_crc32c((unsigned char *)p, (int)n, ~crc) :
			     nvmeta_crc32c(p, n, crc);
}

/* Passes over the bytes an operation makes: gen+verify makes two, so its
 * ratios are taken against two passes of the bare CRC. */
static unsigned int op_passes(enum op op)
{
	return op == OP_GENVER ? 2 : 1;
}

struct fmt {
	const char *name;
	struct nvmeta_pi_format f;
	struct nvmeta_pi_tags t;
	unsigned char *meta;
	uint32_t nlb;
	size_t pre;		/* metadata bytes under the guard */
	struct nvmeta_pi_iov iov, odd;	/* data and metadata cut into pieces */
};

struct variant {
	struct fmt *fmt;
	enum op op;
	struct variant *crc, *crc16;	/* the references of the ratios */
	struct variant *c64;		/* 64-bit guard: ISA-L's 64-bit CRC */
	struct variant *base;		/* issue 21's: what it is measured against */
	double gbps[MAX_ROUNDS];
	unsigned int rounds;
};

struct opts {
	const char *json_path;
	const char *format;	/* only the formats whose name holds this */
	unsigned int rounds, slice_ms;
	size_t size;
	bool quick, quiet;
	bool targets;		/* only the targets' variants and their reference */
};

static unsigned char *data;
static unsigned char *app_buf, *out_buf;	/* the application's: copy in, copy out */
static struct iovec app_iov, out_iov;
static volatile uint64_t sink;	/* keeps the bare CRCs from being dropped */

/* ------------------------------------------------------------------ */
/* Plain table CRCs: one table lookup a byte                           */
/* ------------------------------------------------------------------ */

static uint16_t t16[256];
static uint32_t t32[256];
static uint64_t t64[256];

static void tables_init(void)
{
	unsigned int i, k;

	for (i = 0; i < 256; i++) {
		uint16_t c16 = (uint16_t)(i << 8);
		uint32_t c32 = i;
		uint64_t c64 = i;

		for (k = 0; k < 8; k++) {
			c16 = (uint16_t)(c16 & 0x8000 ? c16 << 1 ^ 0x8bb7 : c16 << 1);
			c32 = c32 & 1 ? c32 >> 1 ^ 0x82f63b78u : c32 >> 1;
			c64 = c64 & 1 ? c64 >> 1 ^ 0x9a6c9329ac4bc9b5ull : c64 >> 1;
		}
		t16[i] = c16;
		t32[i] = c32;
		t64[i] = c64;
	}
}

/* The same conventions as <nvmeta/pi.h>: a running CRC in and out. */
static uint16_t tab_crc16(const unsigned char *p, size_t n, uint16_t crc)
{
	while (n--)
		crc = (uint16_t)(crc << 8 ^ t16[(crc >> 8 ^ *p++) & 0xff]);
	return crc;
}

static uint32_t tab_crc32c(const unsigned char *p, size_t n, uint32_t crc)
{
	crc = ~crc;
	while (n--)
		crc = crc >> 8 ^ t32[(crc ^ *p++) & 0xff];
	return ~crc;
}

static uint64_t tab_crc64(const unsigned char *p, size_t n, uint64_t crc)
{
	crc = ~crc;
	while (n--)
		crc = crc >> 8 ^ t64[(crc ^ *p++) & 0xff];
	return ~crc;
}

/* A table that disagrees with the library would make its figures
 * meaningless: check both on the published check values and on a block
 * of the benchmark's own data. */
static int tables_check(void)
{
	static const unsigned char check[] = "123456789";
	size_t n = 4096 + 56;

	if (tab_crc16(check, 9, 0) != 0xd0db || tab_crc32c(check, 9, 0) != 0xe3069283u ||
	    tab_crc64(check, 9, 0) != 0xae8b14860a799888ull ||
	    tab_crc16(data, n, 0) != nvmeta_crc16_t10dif(data, n, 0) ||
	    tab_crc32c(data, n, 0) != nvmeta_crc32c(data, n, 0) ||
	    tab_crc64(data, n, 0) != nvmeta_crc64_nvme(data, n, 0) ||
	    bare_crc16(data, n, 0) != nvmeta_crc16_t10dif(data, n, 0) ||
	    bare_crc16(data + 100, 56, bare_crc16(data, 100, 0)) != tab_crc16(data, 156, 0) ||
	    bare_crc32c(data, n, 0) != nvmeta_crc32c(data, n, 0) ||
	    bare_crc32c(data + 100, 56, bare_crc32c(data, 100, 0)) != tab_crc32c(data, 156, 0)) {
		fprintf(stderr, PROG ": the plain table CRCs disagree with the library's\n");
		return -1;
	}
	/* ISA-L's NVMe CRC64, where it has one, is the same CRC. */
	if (isal_crc64 && !strcmp(isal_crc64_name, "crc64_rocksoft_refl") &&
	    (isal_c64(check, 9, 0) != 0xae8b14860a799888ull ||
	     isal_c64(data, n, 0) != nvmeta_crc64_nvme(data, n, 0))) {
		fprintf(stderr, PROG ": ISA-L's crc64_rocksoft_refl disagrees with the library's CRC64\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Formats and operations                                              */
/* ------------------------------------------------------------------ */

#define FMT(n, bs, m, g, ps, ...) \
	{ .name = n, .f = { .block_size = bs, .ms = m, .guard_bits = g, .pi_size = ps, __VA_ARGS__ } }

/* 512-byte and 4 KiB blocks; the 8-byte tuple (16-bit guard) in 8, 16
 * and 64 bytes of metadata, the 16-byte tuples (32- and 64-bit guards) in
 * 16 and 64; PI last (the default: the guard covers the metadata before
 * it) and first.  The 80-bit tag space of a 32-bit guard holds at most a
 * 64-bit reference tag: at least 16 bits of storage tag. */
static struct fmt fmts[] = {
	FMT("512+8 crc16", 512, 8, 16, 8),
	FMT("4096+8 crc16", 4096, 8, 16, 8),
	FMT("512+16 crc16 last", 512, 16, 16, 8),
	FMT("512+16 crc64", 512, 16, 64, 16),
	FMT("4096+16 crc64", 4096, 16, 64, 16),
	FMT("512+16 crc32c", 512, 16, 32, 16, .sts = 16),
	FMT("4096+16 crc32c", 4096, 16, 32, 16, .sts = 16),
	FMT("512+64 crc16 last", 512, 64, 16, 8),
	FMT("4096+64 crc16 first", 4096, 64, 16, 8, .pi_first = true),
	FMT("4096+64 crc16 last", 4096, 64, 16, 8),
	FMT("512+64 crc64 last", 512, 64, 64, 16),
	FMT("4096+64 crc64 last", 4096, 64, 64, 16),
};

#define NFMTS (sizeof(fmts) / sizeof(fmts[0]))

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static void fill(unsigned char *p, size_t n)
{
	while (n--) {
		rnd_state ^= rnd_state << 13;
		rnd_state ^= rnd_state >> 7;
		rnd_state ^= rnd_state << 17;
		*p++ = (unsigned char)(rnd_state >> 24);
	}
}

/* One buffer as iovecs of @piece bytes. */
static struct iovec *cut_one(unsigned char *p, size_t len, size_t piece, uint32_t *n)
{
	struct iovec *v = calloc(len / piece + 1, sizeof(*v));
	size_t at;

	*n = 0;
	for (at = 0; v && at < len; at += piece) {
		v[*n].iov_base = p + at;
		v[*n].iov_len = len - at < piece ? len - at : piece;
		(*n)++;
	}
	return v;
}

static int cut_iov(struct nvmeta_pi_iov *b, struct fmt *m, size_t piece)
{
	*b = (struct nvmeta_pi_iov){ .nlb = m->nlb };
	b->data = cut_one(data, (size_t)m->nlb * m->f.block_size, piece, &b->ndata);
	b->meta = cut_one(m->meta, (size_t)m->nlb * m->f.ms, piece, &b->nmeta);
	if (!b->data || !b->meta) {
		fprintf(stderr, PROG ": %s: iovecs: out of memory\n", m->name);
		return -1;
	}
	return 0;
}

static int fmt_setup(struct fmt *m, size_t size)
{
	m->f.pi_type = 1;
	m->nlb = (uint32_t)(size / m->f.block_size);
	m->pre = m->f.pi_first ? 0 : m->f.ms - m->f.pi_size;
	m->t = (struct nvmeta_pi_tags){
		.ref_tag = 0x1000, .app_tag = 0x1234, .app_mask = 0xffff,
		.storage_tag = m->f.sts ? 0xbeef : 0, .checks = NVMETA_PI_CHECK_ALL,
	};
	m->meta = malloc((size_t)m->nlb * m->f.ms);
	if (!m->meta) {
		fprintf(stderr, PROG ": %s: %zu bytes of metadata: out of memory\n", m->name,
			(size_t)m->nlb * m->f.ms);
		return -1;
	}
	/* The bytes around the PI: under the guard when it sits last. */
	fill(m->meta, (size_t)m->nlb * m->f.ms);
	if (cut_iov(&m->iov, m, IOV_PAGE) || cut_iov(&m->odd, m, IOV_ODD))
		return -1;
	if (nvmeta_pi_generate(&m->f, data, m->meta, m->nlb, &m->t)) {
		fprintf(stderr, PROG ": %s: %s\n", m->name, nvmeta_last_error());
		return -1;
	}
	return 0;
}

/*
 * The guard's CRC of every block over what the guard covers.  The
 * metadata before the PI is a second call only where there is some, as
 * in lib/pi.c: an empty call a block would flatter the ratios.
 */
#define CRC_BLOCKS(m, fn, type, acc)						\
	do {									\
		const unsigned char *d_ = data, *md_ = (m)->meta;		\
		uint32_t i_;							\
										\
		for (i_ = 0; i_ < (m)->nlb; i_++) {				\
			type c_ = fn(d_, (m)->f.block_size, 0);			\
										\
			if ((m)->pre)						\
				c_ = fn(md_, (m)->pre, c_);			\
			(acc) ^= c_;						\
			d_ += (m)->f.block_size;				\
			md_ += (m)->f.ms;					\
		}								\
	} while (0)

static uint64_t crc_blocks(const struct fmt *m, unsigned int bits, bool table)
{
	uint64_t acc = 0;

	if (bits == 1) {	/* ISA-L's 64-bit CRC */
		CRC_BLOCKS(m, isal_c64, uint64_t, acc);
		return acc;
	}
	switch (bits) {
	case 16:
		if (table)
			CRC_BLOCKS(m, tab_crc16, uint16_t, acc);
		else
			CRC_BLOCKS(m, bare_crc16, uint16_t, acc);
		break;
	case 32:
		if (table)
			CRC_BLOCKS(m, tab_crc32c, uint32_t, acc);
		else
			CRC_BLOCKS(m, bare_crc32c, uint32_t, acc);
		break;
	default:
		if (table)
			CRC_BLOCKS(m, tab_crc64, uint64_t, acc);
		else
			CRC_BLOCKS(m, nvmeta_crc64_nvme, uint64_t, acc);
		break;
	}
	return acc;
}

static uint64_t crc_bulk(const struct fmt *m)
{
	size_t n = (size_t)m->nlb * m->f.block_size;

	switch (m->f.guard_bits) {
	case 16:
		return nvmeta_crc16_t10dif(data, n, 0);
	case 32:
		return nvmeta_crc32c(data, n, 0);
	default:
		return nvmeta_crc64_nvme(data, n, 0);
	}
}

static int verify(struct fmt *m)
{
	struct nvmeta_pi_report rep;
	int ret = nvmeta_pi_verify(&m->f, data, m->meta, m->nlb, &m->t, &rep);

	if (ret || rep.unwritten || rep.escaped) {
		fprintf(stderr, PROG ": %s: verification failed (%d, %u unwritten, %u escaped): %s\n",
			m->name, ret, rep.unwritten, rep.escaped, ret ? nvmeta_last_error() : "");
		return -1;
	}
	return 0;
}

static int generate(struct fmt *m)
{
	if (nvmeta_pi_generate(&m->f, data, m->meta, m->nlb, &m->t)) {
		fprintf(stderr, PROG ": %s: %s\n", m->name, nvmeta_last_error());
		return -1;
	}
	return 0;
}

static int fail(const struct fmt *m, const char *what)
{
	fprintf(stderr, PROG ": %s: %s: %s\n", m->name, what, nvmeta_last_error());
	return -1;
}

/* Issue 21's operations.  The application's buffer holds the same bytes
 * as the data, so copying it in changes nothing the others see. */
static int run_iov(const struct fmt *m, enum op op)
{
	struct nvmeta_pi_report rep;
	size_t n = (size_t)m->nlb * m->f.block_size;

	switch (op) {
	case OP_GEN_IOV:
		return nvmeta_pi_generate_iov(&m->f, &m->iov, &m->t) ? fail(m, "gen iov") : 0;
	case OP_VER_IOV:
		return nvmeta_pi_verify_iov(&m->f, &m->iov, &m->t, &rep, NULL, 0) ?
			fail(m, "verify iov") : 0;
	case OP_GEN_ODD:
		return nvmeta_pi_generate_iov(&m->f, &m->odd, &m->t) ? fail(m, "gen iov odd") : 0;
	case OP_VER_ODD:
		return nvmeta_pi_verify_iov(&m->f, &m->odd, &m->t, &rep, NULL, 0) ?
			fail(m, "ver iov odd") : 0;
	case OP_COPY_THEN_GEN:
		memcpy(data, app_buf, n);
		return nvmeta_pi_generate(&m->f, data, m->meta, m->nlb, &m->t) ?
			fail(m, "copy,gen") : 0;
	case OP_COPY_GEN:
		return nvmeta_pi_generate_copy(&m->f, data, m->meta, &app_iov, 1, m->nlb, &m->t) ?
			fail(m, "copy+gen") : 0;
	case OP_VER_THEN_COPY:
		if (nvmeta_pi_verify(&m->f, data, m->meta, m->nlb, &m->t, &rep))
			return fail(m, "ver,copy");
		memcpy(out_buf, data, n);
		return 0;
	default:
		return nvmeta_pi_verify_copy(&m->f, &out_iov, 1, data, m->meta, m->nlb, &m->t, &rep,
					     NULL, 0) ? fail(m, "copy+ver") : 0;
	}
}

/* One pass of @v's operation over its buffer. */
static int run_op(const struct variant *v)
{
	struct fmt *m = v->fmt;

	switch (v->op) {
	case OP_GEN:
		return generate(m);
	case OP_VERIFY:
		return verify(m);
	case OP_GENVER:
		return generate(m) || verify(m) ? -1 : 0;
	case OP_CRC:
		sink ^= crc_blocks(m, m->f.guard_bits, false);
		return 0;
	case OP_BULK:
		sink ^= crc_bulk(m);
		return 0;
	case OP_TABLE:
		sink ^= crc_blocks(m, m->f.guard_bits, true);
		return 0;
	case OP_C64:
		sink ^= crc_blocks(m, 1, false);
		return 0;
	case OP_CRC16:
		sink ^= crc_blocks(m, 16, false);
		return 0;
	default:
		return run_iov(m, v->op);
	}
}

/*
 * The thread's CPU time, not the wall clock: on a shared host the
 * benchmark is preempted for whole milliseconds at a time, which would
 * land on whichever variant happened to run then.  The work here makes no
 * system call and waits for nothing, so its CPU time is its cost.
 */
static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Passes for @ms milliseconds of CPU time (at least one); the GB/s of
 * protected data. */
static double slice(const struct variant *v, unsigned int ms)
{
	double bytes = (double)v->fmt->nlb * v->fmt->f.block_size;
	/* The clock is a system call: read it once every 1 MiB or so. */
	unsigned int k, batch = bytes < (1 << 20) ? (unsigned int)((1 << 20) / bytes) : 1;
	double start = cpu_s(), t;
	uint64_t passes = 0;

	do {
		for (k = 0; k < batch; k++)
			if (run_op(v))
				exit(1);
		passes += batch;
		t = cpu_s() - start;
	} while (t < ms / 1e3);
	return passes * bytes / t / 1e9;
}

/* ------------------------------------------------------------------ */
/* The plan and the rounds                                             */
/* ------------------------------------------------------------------ */

static struct variant vars[MAX_VARIANTS];
static unsigned int nvars;

static struct variant *add(struct fmt *m, enum op op)
{
	struct variant *v = &vars[nvars++];

	v->fmt = m;
	v->op = op;
	return v;
}

static void plan(const struct opts *o)
{
	unsigned int i, k;

	for (i = 0; i < NFMTS; i++) {
		struct fmt *m = &fmts[i];
		struct variant *first = &vars[nvars], *crc = NULL, *crc16 = NULL, *c64 = NULL, *v;
		struct variant *of[OP_COUNT] = { NULL };

		if (o->format && !strstr(m->name, o->format))
			continue;
		for (k = 0; k < OP_COUNT; k++) {
			if (o->targets && k > OP_CRC)
				continue;
			if (k == OP_CRC16 && m->f.guard_bits == 16)
				continue;
			if (k == OP_C64 && (m->f.guard_bits != 64 || !isal_crc64))
				continue;
			v = add(m, (enum op)k);
			of[k] = v;
			if (k == OP_CRC)
				crc = v;
			if (k == OP_CRC16)
				crc16 = v;
			if (k == OP_C64)
				c64 = v;
		}
		/* A 16-bit guard's own CRC is ISA-L's CRC16. */
		for (v = first; v < &vars[nvars]; v++) {
			v->crc = crc;
			v->crc16 = crc16 ? crc16 : crc;
			v->c64 = c64;
			if (v->op >= OP_GEN_IOV && v->op != OP_COPY_THEN_GEN &&
			    v->op != OP_VER_THEN_COPY)
				v->base = of[op_base[v->op]];
		}
	}
}

static void progress(const struct opts *o, const char *what, unsigned int i,
		     const struct variant *v)
{
	if (o->quiet)
		return;
	fprintf(stderr, "\r%-12s %2u/%u %-20s %-12s", what, i + 1, nvars, v->fmt->name,
		op_names[v->op]);
	if (i + 1 == nvars)
		fputc('\n', stderr);
}

/* Round r starts seven variants further on than round r - 1, and every
 * other round runs backwards: a variant's neighbours change from round to
 * round, so what one leaves in the caches, or a burst of load from
 * elsewhere, does not always fall on the same other one. */
static void run_rounds(const struct opts *o)
{
	unsigned int r, i, total = o->rounds + 1;
	char what[32];

	for (r = 0; r < total; r++) {
		snprintf(what, sizeof(what), r ? "round %u/%u" : "warm-up", r, o->rounds);
		for (i = 0; i < nvars; i++) {
			unsigned int k = ((r % 2 ? nvars - 1 - i : i) + r * 7) % nvars;
			struct variant *v = &vars[k];
			double g;

			progress(o, what, i, v);
			g = slice(v, o->slice_ms);
			if (r)
				v->gbps[v->rounds++] = g;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Figures                                                             */
/* ------------------------------------------------------------------ */

struct mmm {
	double med, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct mmm mmm_of(const double *x, unsigned int n)
{
	double s[MAX_ROUNDS];
	struct mmm m = { 0, 0, 0 };

	if (!n)
		return m;
	memcpy(s, x, n * sizeof(*x));
	qsort(s, n, sizeof(*s), cmp_double);
	m.min = s[0];
	m.max = s[n - 1];
	m.med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	return m;
}

/* @v against @ref, round by round: time of @ref's passes over the same
 * bytes against @v's. */
static struct mmm ratio_of(const struct variant *v, const struct variant *ref)
{
	double x[MAX_ROUNDS];
	unsigned int r;

	for (r = 0; r < v->rounds && r < ref->rounds; r++)
		x[r] = v->gbps[r] * op_passes(v->op) / ref->gbps[r];
	return mmm_of(x, r);
}

static bool has_crc16_ratio(const struct variant *v)
{
	return v->fmt->f.guard_bits != 16 && v->op != OP_CRC16;
}

static void table(FILE *f, const struct opts *o)
{
	const struct fmt *last = NULL;
	unsigned int i;

	fprintf(f, "\nGB/s of protected data (data bytes only) a second of CPU time, median\n"
		"[min..max] of %u rounds.  Ratios taken per round, against the guard's\n"
		"bare CRC a block (x/crc) and ISA-L's CRC16 a block (x/c16) over the same\n"
		"bytes; gen+verify's against two passes of them.\n",
		o->rounds);
	for (i = 0; i < nvars; i++) {
		const struct variant *v = &vars[i];
		struct mmm g = mmm_of(v->gbps, v->rounds), r = ratio_of(v, v->crc);

		if (v->fmt != last) {
			last = v->fmt;
			fprintf(f, "\n%s: %u blocks, %zu KiB of data\n", last->name, last->nlb,
				(size_t)last->nlb * last->f.block_size / 1024);
			fprintf(f, "  %-12s %7s %17s %6s %13s %6s %13s\n", "", "GB/s", "min..max",
				"x/crc", "min..max", "x/c16", "min..max");
		}
		fprintf(f, "  %-12s %7.2f %8.2f..%-7.2f %6.2f %6.2f..%-5.2f", op_names[v->op], g.med,
			g.min, g.max, r.med, r.min, r.max);
		if (has_crc16_ratio(v)) {
			r = ratio_of(v, v->crc16);
			fprintf(f, " %6.2f %6.2f..%-5.2f", r.med, r.min, r.max);
		}
		fputc('\n', f);
	}
}

/* Issue 18's targets: generation, verification and the two together at
 * 0.97 of the guard's bare CRC a block over the same bytes (gen+verify
 * against two passes of it), every format.  Reported, not asserted: a
 * shared host's noise is not a bug. */
struct target {
	const struct variant *v;
	struct mmm ratio;
};

static unsigned int targets(struct target *out)
{
	unsigned int i, n = 0;

	for (i = 0; i < nvars; i++) {
		const struct variant *v = &vars[i];

		if (v->op > OP_GENVER)
			continue;
		out[n].v = v;
		out[n].ratio = ratio_of(v, v->crc);
		n++;
	}
	return n;
}

static const char *verdict(const struct target *t)
{
	return t->ratio.med >= TARGET ? "PASS" : "MISS";
}

static void targets_table(FILE *f)
{
	struct target t[MAX_VARIANTS];
	unsigned int i, n = targets(t), pass = 0;

	fprintf(f, "\nTargets: median ratio to the guard's bare CRC a block over the same bytes\n"
		"(x/crc), goal %.2f:\n", TARGET);
	for (i = 0; i < n; i++) {
		pass += t[i].ratio.med >= TARGET;
		fprintf(f, "  %-20s %-12s %6.3f  [%5.3f..%5.3f]  goal %.2f  %s\n",
			t[i].v->fmt->name, op_names[t[i].v->op], t[i].ratio.med, t[i].ratio.min,
			t[i].ratio.max, TARGET, verdict(&t[i]));
	}
	fprintf(f, "  %u of %u PASS\n", pass, n);
}

/* The 64-bit guard: nvmeta's own CRC64 (the bare "crc" of those formats)
 * and its generation and verification against ISA-L's fastest 64-bit CRC
 * over the same bytes, one call a block. */
static void crc64_table(FILE *f)
{
	unsigned int i;

	if (!isal_crc64) {
		fprintf(f, "\n64-bit guard: no 64-bit CRC found in ISA-L to compare with\n");
		return;
	}
	fprintf(f, "\n64-bit guard: nvmeta's CRC64 (%s) against ISA-L's %s%s, one call a\n"
		"block over the same bytes, median [min..max] of the per-round ratios:\n",
		nvmeta_crc64_impl(), isal_crc64_name,
		strcmp(isal_crc64_name, "crc64_rocksoft_refl") ?
			" (the fastest 64-bit CRC of this ISA-L, another polynomial: it has no NVMe CRC64)" : "");
	for (i = 0; i < nvars; i++) {
		const struct variant *v = &vars[i];
		struct mmm r;

		if (!v->c64 || v->op > OP_CRC)
			continue;
		r = ratio_of(v, v->c64);
		fprintf(f, "  %-20s %-12s %6.3f  [%5.3f..%5.3f]  of ISA-L's\n", v->fmt->name,
			v->op == OP_CRC ? "nvmeta crc64" : op_names[v->op], r.med, r.min, r.max);
	}
}

/* Issue 21's: PI over iovecs against the contiguous calls, copy with PI
 * in one pass against the copy and the PI one after the other. */
static void base_table(FILE *f)
{
	unsigned int i;

	fprintf(f, "\nPI over iovecs against contiguous, copy with PI in one pass against copy\n"
		"then PI (x/base: time of the base over time of the variant, >1 faster),\n"
		"median [min..max] of the per-round ratios:\n");
	for (i = 0; i < nvars; i++) {
		const struct variant *v = &vars[i];
		struct mmm r;

		if (!v->base)
			continue;
		r = ratio_of(v, v->base);
		fprintf(f, "  %-20s %-12s %6.3f  [%5.3f..%5.3f]  of %s\n", v->fmt->name,
			op_names[v->op], r.med, r.min, r.max, op_names[v->base->op]);
	}
}

static void json_mmm(FILE *f, const char *key, struct mmm m)
{
	report_json_mmm(f, key, m.med, m.min, m.max);
}

static void json_variant(FILE *f, const struct variant *v)
{
	const struct fmt *m = v->fmt;
	unsigned int r;

	fprintf(f, "    {\"format\": \"%s\", \"block_size\": %u, \"ms\": %u, \"guard_bits\": %u, "
		"\"pi_first\": %s, \"op\": \"%s\", \"blocks\": %u,\n     ", m->name,
		m->f.block_size, m->f.ms, m->f.guard_bits, m->f.pi_first ? "true" : "false",
		op_names[v->op], m->nlb);
	json_mmm(f, "gbps", mmm_of(v->gbps, v->rounds));
	fprintf(f, ", \"gbps_rounds\": [");
	for (r = 0; r < v->rounds; r++) {
		fputs(r ? ", " : "", f);
		report_json_num(f, v->gbps[r]);
	}
	fprintf(f, "],\n     ");
	json_mmm(f, "ratio_crc", ratio_of(v, v->crc));
	fprintf(f, ", ");
	json_mmm(f, "ratio_crc16", ratio_of(v, v->crc16));
	if (v->c64) {
		fprintf(f, ", ");
		json_mmm(f, "ratio_isal_crc64", ratio_of(v, v->c64));
	}
	if (v->base) {
		fprintf(f, ", \"base\": \"%s\", ", op_names[v->base->op]);
		json_mmm(f, "ratio_base", ratio_of(v, v->base));
	}
	fprintf(f, "}");
}

static void json_target(FILE *f, const struct target *t, bool more)
{
	fprintf(f, "    {\"format\": \"%s\", \"block_size\": %u, \"guard_bits\": %u, \"op\": \"%s\", ",
		t->v->fmt->name, t->v->fmt->f.block_size, t->v->fmt->f.guard_bits,
		op_names[t->v->op]);
	json_mmm(f, "ratio_crc", t->ratio);
	fprintf(f, ", \"target\": %.2f, \"verdict\": \"%s\"}%s\n", TARGET, verdict(t),
		more ? "," : "");
}

static int json(const char *path, const struct opts *o)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	struct target t[MAX_VARIANTS];
	unsigned int i, n;
	char cpu[128], date[32];
	time_t now = time(NULL);

	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	report_cpu_model(cpu, sizeof(cpu));
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(f, "{\n  \"tool\": \"" PROG "\", \"date\": \"%s\", \"cpu\": ", date);
	report_json_string(f, cpu);	/* /proc/cpuinfo's text, as it is */
	fputs(",\n", f);
	fprintf(f, "  \"crc64_impl\": \"%s\", \"isal_crc64\": \"%s\", \"rounds\": %u, \"slice_ms\": %u, \"data_bytes\": %zu,\n",
		nvmeta_crc64_impl(), isal_crc64_name, o->rounds, o->slice_ms, o->size);
	fprintf(f, "  \"counted\": \"data bytes only, metadata excluded\", \"clock\": \"thread CPU time\",\n");
	fprintf(f, "  \"variants\": [\n");
	for (i = 0; i < nvars; i++) {
		json_variant(f, &vars[i]);
		fprintf(f, "%s\n", i + 1 < nvars ? "," : "");
	}
	fprintf(f, "  ],\n  \"targets\": [\n");
	n = targets(t);
	for (i = 0; i < n; i++)
		json_target(f, &t[i], i + 1 < n);
	fprintf(f, "  ]\n}\n");
	/* A full disk must not leave a cut-off file behind a success. */
	if (f == stdout ? fflush(f) : fclose(f)) {
		fprintf(stderr, PROG ": writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

static int usage(int ret)
{
	fprintf(ret ? stderr : stdout,
		"usage: " PROG " [--quick] [--rounds N] [--slice-ms N] [--size BYTES] [--json FILE|-]\n"
		"       [--quiet] [--format TEXT] [--targets]\n"
		"Host PI generation and verification against the bare CRCs, on this CPU.\n"
		"--size: data bytes a format (multiple of 4096; default 1 MiB, --quick 64 KiB).\n"
		"--format: only the formats whose name holds TEXT (\"512+\": the 512-byte ones).\n"
		"--targets: only generate, verify, gen+verify and the bare CRC they are taken against.\n"
		"--json -: JSON on stdout, the table on stderr.\n");
	return ret;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "quick", no_argument, NULL, 'q' }, { "rounds", required_argument, NULL, 'r' },
		{ "slice-ms", required_argument, NULL, 's' }, { "size", required_argument, NULL, 'S' },
		{ "json", required_argument, NULL, 'j' }, { "quiet", no_argument, NULL, 'Q' },
		{ "format", required_argument, NULL, 'f' }, { "targets", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	uint64_t val;
	int c;

	*o = (struct opts){ 0 };
	while ((c = getopt_long(argc, argv, "qr:s:S:j:Qf:th", longs, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = true; break;
		case 'j': o->json_path = optarg; break;
		case 'Q': o->quiet = true; break;
		case 'f': o->format = optarg; break;
		case 't': o->targets = true; break;
		case 'h': exit(usage(0));
		case 'r':
			if (args_u64(PROG, "--rounds", optarg, 1, MAX_ROUNDS, &val))
				return -1;
			o->rounds = val;
			break;
		case 's':
			if (args_u64(PROG, "--slice-ms", optarg, 1, 60000, &val))
				return -1;
			o->slice_ms = val;
			break;
		case 'S':
			if (args_u64(PROG, "--size", optarg, 4096, 1ull << 30, &val))
				return -1;
			if (val % 4096) {
				fprintf(stderr, PROG ": --size %s: not a multiple of 4096\n", optarg);
				return -1;
			}
			o->size = val;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->rounds)
		o->rounds = o->quick ? 3 : 7;
	if (!o->slice_ms)
		o->slice_ms = o->quick ? 5 : 50;
	if (!o->size)
		o->size = o->quick ? 64 << 10 : 1 << 20;
	return 0;
}

int main(int argc, char **argv)
{
	FILE *out = stdout;
	struct opts o;
	unsigned int i;
	char cpu[128];

	if (parse(argc, argv, &o))
		return usage(2);
	/* Room for the table check's 4096 + 56 bytes at any --size. */
	data = malloc(o.size + 4096);
	if (!data) {
		fprintf(stderr, PROG ": %zu bytes of data: out of memory\n", o.size);
		return 1;
	}
	fill(data, o.size + 4096);
	app_buf = malloc(o.size);
	out_buf = malloc(o.size);
	if (!app_buf || !out_buf) {
		fprintf(stderr, PROG ": %zu bytes of application buffers: out of memory\n", o.size);
		return 1;
	}
	memcpy(app_buf, data, o.size);
	app_iov = (struct iovec){ app_buf, o.size };
	out_iov = (struct iovec){ out_buf, o.size };
	isal_crc64_find();
	isal_find();
	tables_init();
	if (tables_check())
		return 1;
	for (i = 0; i < NFMTS; i++)
		if (fmt_setup(&fmts[i], o.size))
			return 1;
	plan(&o);
	if (!nvars) {
		fprintf(stderr, PROG ": no format's name holds '%s'\n", o.format);
		return 2;
	}
	report_cpu_model(cpu, sizeof(cpu));
	if (!o.quiet)
		fprintf(stderr, PROG ": %s, CRC64 %s, %zu KiB of data a format, %u rounds of %u ms slices\n",
			cpu, nvmeta_crc64_impl(), o.size / 1024, o.rounds, o.slice_ms);
	run_rounds(&o);
	if (o.json_path && !strcmp(o.json_path, "-"))
		out = stderr;
	fprintf(out, PROG ": %s, CRC64 %s\n", cpu, nvmeta_crc64_impl());
	table(out, &o);
	targets_table(out);
	crc64_table(out);
	base_table(out);
	if (o.json_path && json(o.json_path, &o))
		return 1;
	return 0;
}
