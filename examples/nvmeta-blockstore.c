// SPDX-License-Identifier: MIT
/*
 * nvmeta-blockstore: a block store with end-to-end protection information
 * on its own io_uring, the example to copy.  Tags are set once per command
 * (nvmeta_pi_ref_tag()); nvmeta_prep() makes a write's PI and fills the
 * SQE; nvmeta_complete() decodes each CQE and verifies a read's PI.  It
 * writes COUNT blocks of 8 LBAs at QD 32, reads them back, then injects
 * (1) a bad guard the device refuses and (2) a wrong stored reference tag
 * the host names, repairs and goes on.  Exit 0, 1, or 77 without PI.  It
 * writes the namespace: use a scratch one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "nvmeta.h"

#define QD	32		/* commands in flight */
#define NLB	8		/* LBAs a store block */
#define APPTAG	0xb10c		/* this store's application tag */

struct store {
	struct nvmeta_dev *dev;
	struct nvmeta_pi_format pf;
	struct io_uring ring;
	uint64_t slba;
	uint32_t count, dbytes, mbytes;	/* a store block's data, metadata bytes */
	unsigned char *data, *meta;
	struct nvmeta_io io[QD];	/* commands in flight, by slot */
	struct nvmeta_pi_error bad[16];	/* what the last failed read listed */
	uint32_t nbad;
	char why[512];			/* the last failure's message */
};

/* Store block @b's command.  The tags are given here, once: the encoder,
 * generation and verification all take them from the command. */
static struct nvmeta_io block_io(struct store *s, uint8_t op, uint32_t b, uint8_t prchk)
{
	uint64_t lba = s->slba + (uint64_t)b * NLB;
	struct nvmeta_io io = {
		.opcode = op, .slba = lba, .nlb = NLB, .prinfo = prchk,
		.flags = NVMETA_IO_NO_PREFAULT |
			 (op == NVMETA_OP_WRITE ? NVMETA_IO_PI_GENERATE : NVMETA_IO_PI_VERIFY),
		.reftag = nvmeta_pi_ref_tag(&s->pf, lba), .apptag = APPTAG, .appmask = 0xffff,
		.data = s->data + (size_t)b * s->dbytes, .data_len = s->dbytes,
	};

	if (s->mbytes) {
		io.meta = s->meta + (size_t)b * s->mbytes;
		io.meta_len = s->mbytes;
	}
	return io;
}

/* Blocks [first, first + n) through the ring, QD in flight; @inj, when
 * set, corrupts one block's buffer after its PI was made.  Returns how
 * many commands failed; the last failure is kept in s->why, s->bad. */
static int pass(struct store *s, uint8_t op, uint32_t first, uint32_t n, uint8_t prchk,
		const struct nvmeta_pi_injection *inj)
{
	uint32_t next = 0, done = 0, free_slot[QD], nfree = QD, i;
	struct io_uring_cqe *cqe;
	int failed = 0;

	for (i = 0; i < QD; i++)	/* slots of s->io free to take */
		free_slot[i] = i;
	while (done < n) {
		while (next < n && nfree) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);
			uint32_t slot = free_slot[--nfree];

			s->io[slot] = block_io(s, op, first + next, prchk);
			if (nvmeta_prep(s->dev, sqe, &s->io[slot]))	/* checks, makes PI */
				exit((fprintf(stderr, "nvmeta-blockstore: %s\n", nvmeta_last_error()), 1));
			if (inj && inj->block / NLB == first + next) {
				struct nvmeta_pi_injection one = *inj;

				one.block %= NLB;
				nvmeta_pi_inject(&s->pf, s->io[slot].data, s->io[slot].meta, NLB, &one);
			}
			sqe->user_data = slot;
			next++;
		}
		io_uring_submit_and_wait(&s->ring, 1);
		while (!io_uring_peek_cqe(&s->ring, &cqe)) {
			uint32_t slot = (uint32_t)cqe->user_data;
			struct nvmeta_result res = { .errors = s->bad, .max_errors = 16 };

			if (nvmeta_complete(s->dev, &s->io[slot], cqe, &res)) {
				failed++;
				snprintf(s->why, sizeof(s->why), "%s", nvmeta_last_error());
				s->nbad = res.pi.listed;
			}
			io_uring_cqe_seen(&s->ring, cqe);
			free_slot[nfree++] = slot;
			done++;
		}
	}
	return failed;
}

static const char usage[] = "usage: nvmeta-blockstore [--slba LBA] [--count 4..4096] /dev/ngXnY\n";

/* A whole number (decimal or 0x) up to @max, else the usage and exit 2. */
static uint64_t number(const char *arg, uint64_t max)
{
	char *end;
	unsigned long long v = (errno = 0, strtoull(arg, &end, 0));

	if (*arg < '0' || *arg > '9' || *end || errno || v > max)
		exit((fprintf(stderr, "nvmeta-blockstore: bad number '%s'\n%s", arg, usage), 2));
	return v;
}

static void *buffer(size_t len)
{
	void *p = mmap(NULL, len ? len : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED && (!len || !nvmeta_mem_prepare(p, len)))
		return p;
	exit((fprintf(stderr, "nvmeta-blockstore: %zu bytes of memory\n", len), 1));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "slba", required_argument, NULL, 's' }, { "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct store s = { .count = 64 };
	struct nvmeta_pi_injection guard = { .field = NVMETA_PI_FIELD_GUARD };
	struct nvmeta_pi_injection ref = { .field = NVMETA_PI_FIELD_REF };
	const struct nvmeta_dev_info *in;
	char why1[512];
	int c, failed, refused, ok, chk;
	uint32_t i;

	while ((c = getopt_long(argc, argv, "s:n:h", opts, NULL)) != -1) {
		if (c == 's')
			s.slba = number(optarg, UINT64_MAX);
		else if (c == 'n')
			s.count = number(optarg, 4096);
		else
			return fputs(usage, c == 'h' ? stdout : stderr), c == 'h' ? 0 : 2;
	}
	if (optind + 1 != argc || s.count < 4 || s.count > 4096)
		return fputs(usage, stderr), 2;
	if (nvmeta_dev_open(argv[optind], &s.dev))
		return fprintf(stderr, "nvmeta-blockstore: %s\n", nvmeta_last_error()), 2;
	in = nvmeta_dev_info(s.dev);
	if (nvmeta_pi_format_of(in, &s.pf))
		return printf("nvmeta-blockstore: skipped: %s\n", nvmeta_last_error()), 77;
	/* Type 3 has no reference tag for the device to check. */
	chk = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP | (s.pf.pi_type != 3 ? NVMETA_PRCHK_REF : 0);
	if (io_uring_queue_init(QD, &s.ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32)) /* 128/32 B */
		return fprintf(stderr, "nvmeta-blockstore: io_uring setup failed\n"), 1;
	s.dbytes = NLB * (in->lba_size + (in->extended_lba ? in->ms : 0));
	s.mbytes = in->extended_lba ? 0 : NLB * in->ms;
	s.data = buffer((size_t)s.count * s.dbytes);
	s.meta = buffer((size_t)s.count * s.mbytes);
	for (i = 0; i < s.count * s.dbytes; i++)
		s.data[i] = (unsigned char)(i * 7 + i / 4093);
	/* Write everything, read it back, verify every block's PI. */
	failed = pass(&s, NVMETA_OP_WRITE, 0, s.count, chk, NULL);
	failed += pass(&s, NVMETA_OP_READ, 0, s.count, chk, NULL);
	/* 1: a guard corrupted after generation: the device refuses it. */
	guard.block = 5 * NLB + 3;
	refused = pass(&s, NVMETA_OP_WRITE, 0, 8, chk, &guard);
	snprintf(why1, sizeof(why1), "%s", refused ? s.why : "NOT refused");
	refused = refused == 1 && strstr(why1, "guard check failed") &&
		  !pass(&s, NVMETA_OP_WRITE, 0, 8, chk, NULL);		/* written again */
	/* 2: a wrong reference tag stored (no device check on the write, none
	 * on the read): host verification names the block and the field. */
	ref.block = (s.count / 2 + 1) * NLB + 6;
	ok = !pass(&s, NVMETA_OP_WRITE, ref.block / NLB, 1, 0, &ref);
	s.nbad = 0;
	ok = ok && pass(&s, NVMETA_OP_READ, 0, s.count, 0, NULL) == 1 && s.nbad == 1 &&
	     s.bad[0].lba == s.slba + ref.block && s.bad[0].field == NVMETA_PI_FIELD_REF;
	/* The store repairs the block and carries on. */
	ok = ok && !pass(&s, NVMETA_OP_WRITE, ref.block / NLB, 1, chk, NULL) &&
	     !pass(&s, NVMETA_OP_READ, 0, s.count, chk, NULL) && refused && !failed;
	printf("%s: %u blocks of %u LBAs (%u+%u, PI type %u, %u-bit guard) from LBA %" PRIu64 " at QD %u: %d failed\n",
	       in->generic_path, s.count, NLB, in->lba_size, in->ms, s.pf.pi_type,
	       s.pf.guard_bits, s.slba, QD, failed);
	printf("inject 1: guard of LBA %" PRIu64 " corrupted before the write: %s\n"
	       "inject 2: reference tag of LBA %" PRIu64 " stored wrong: %s\n",
	       s.slba + guard.block, why1, s.slba + ref.block, s.why);
	for (i = 0; i < s.nbad; i++)
		printf("  bad block: LBA %" PRIu64 ", %s: expected 0x%" PRIx64 ", found 0x%" PRIx64 "\n",
		       s.bad[i].lba, nvmeta_pi_field_name(s.bad[i].field), s.bad[i].expected,
		       s.bad[i].found);
	printf("repaired, read back: result %s\n", ok ? "pass" : "FAIL");
	io_uring_queue_exit(&s.ring);
	nvmeta_dev_close(s.dev);
	return ok ? 0 : 1;
}
