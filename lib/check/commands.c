// SPDX-License-Identifier: MIT
/*
 * The checker's command cases (NVMETA_CHECK_COMMAND): the NVM commands
 * that change blocks and metadata without a plain transfer, each run on
 * the case's blocks through passthrough, and what the NVM Command Set
 * says of their metadata asserted on what reads back:
 *
 *  - Write Zeroes: the metadata is all 0h (PRACT clear), or the PI the
 *    controller generates over the zeroes with the command's tags (PRACT);
 *    with DEAC each block may instead read as deallocated (DLFEAT).
 *  - Dataset Management deallocate: each block keeps what it held or
 *    reads as deallocated: data and metadata outside the PI as DLFEAT bits
 *    2:0 say, a PI whose guard is 0xFFFF (or the CRC, DLFEAT bit 4), app
 *    tag 0xFFFF and reference tag all ones, which disables the checks.
 *  - Write Uncorrectable: the read fails with Unrecovered Read Error and
 *    copies nothing back; a write heals the blocks.
 *  - Verify: the device checks the stored PI with no transfer.
 *  - Compare: data and metadata are compared; the PI is checked.
 *  - Copy: the destination takes the data and the metadata; its PI is
 *    generated anew under PRINFOW's PRACT (reference tags re-based to the
 *    destination), carried as it is without.
 *
 * The cases reason on a block's data and metadata apart.  On an extended
 * LBA format the transfers interleave them (each block's metadata right
 * after its data, in the data buffer): a write interleaves the two images
 * into a buffer of its own, and a read splits what came back into the
 * read buffers the judging looks at, its poison included.
 *
 * A controller that answers Invalid Command Opcode or Invalid Field does
 * not have the command: SKIP, with the status.  Only libnvmeta's public
 * API is used: the commands go through nvmeta_io_sync(), RAW where the
 * library refuses one the controller does not list.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

#define CMD_APP_TAG	0x6e76	/* "nv", not the 0xffff escape */
#define CMD_POISON	0xc5	/* read buffers, so a copy-back shows */
#define SC_GENERIC	0
#define SC_MEDIA	2

struct cmd {
	struct check *c;
	const struct nvmeta_dev_info *in;
	struct nvmeta_check_result *r;
	bool pi;
	struct nvmeta_pi_format fmt;
	uint8_t prchk;			/* every PRCHK bit the format checks */
	unsigned int pi_off;		/* where the tuple sits in a block's metadata */
	uint64_t slba;
	uint32_t nlb;
	size_t dlen, mlen;		/* bytes of nlb blocks */
	struct nvmeta_buf *d[2], *m[2];	/* [0]: written, [1]: read into */
	struct nvmeta_buf *ext[2];	/* extended LBA: what moves, interleaved */
	size_t xlen;			/* its bytes; 0 on a separate format */
	uint8_t *img_d, *img_m;		/* what was written: the source image */
	uint8_t *want_d, *want_m;	/* what a read must return */
	struct nvmeta_status st;
	char note[200];			/* the library's refusal, before a RAW send */
};

__attribute__((format(printf, 3, 4)))
static void say(struct cmd *x, enum nvmeta_verdict v, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	nvmeta_check_verdict_v(x->r, v, fmt, ap);
	va_end(ap);
	n = strlen(x->r->detail);
	if (x->note[0] && n < sizeof(x->r->detail))
		snprintf(x->r->detail + n, sizeof(x->r->detail) - n,
			 "; sent RAW: the library refused it (%s)", x->note);
}

static uint8_t pattern(uint64_t lba, size_t off, unsigned int salt)
{
	uint32_t v = (uint32_t)lba * 0x9e3779b1u ^ (uint32_t)off * 0x85ebca77u ^ salt * 0xc2b2ae3du;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	return (uint8_t)(v ^ v >> 13);
}

static struct nvmeta_pi_tags tags_at(const struct cmd *x, uint64_t lba)
{
	return (struct nvmeta_pi_tags){
		.ref_tag = nvmeta_pi_ref_tag(&x->fmt, lba), .app_tag = CMD_APP_TAG,
		.app_mask = 0xffff, .checks = NVMETA_PI_CHECK_ALL,
	};
}

/* The source image of blocks @lba..: the pattern of @salt, PI over it. */
static void make_image(struct cmd *x, uint8_t *d, uint8_t *m, uint64_t lba, unsigned int salt)
{
	struct nvmeta_pi_tags t = tags_at(x, lba);
	size_t i;

	for (i = 0; i < x->dlen; i++)
		d[i] = pattern(lba + i / x->in->lba_size, i % x->in->lba_size, salt);
	for (i = 0; i < x->mlen; i++)
		m[i] = pattern(lba + i / x->in->ms, i % x->in->ms, salt + 0x80);
	if (x->pi)
		nvmeta_pi_generate(&x->fmt, d, m, x->nlb, &t);
}

/* Send @io; where the library refuses it as not supported (ONCS, OCFS),
 * send it RAW: the controller's own answer is what the case reports. */
static int cmd_send(struct cmd *x, struct nvmeta_io *io)
{
	int ret;

	memset(&x->st, 0, sizeof(x->st));
	ret = nvmeta_io_sync(x->c->dev, x->c->ring, io, &x->st);
	if (ret != -EOPNOTSUPP || (io->flags & NVMETA_IO_RAW))
		return ret;
	snprintf(x->note, sizeof(x->note), "%s", nvmeta_last_error());
	io->flags |= NVMETA_IO_RAW;
	memset(&x->st, 0, sizeof(x->st));
	return nvmeta_io_sync(x->c->dev, x->c->ring, io, &x->st);
}

static bool status_is(const struct cmd *x, int ret, uint8_t sct, uint8_t sc)
{
	return ret == -EIO && x->st.sct == sct && x->st.sc == sc;
}

/* The controller does not have the command: SKIP with its answer. */
static bool not_there(struct cmd *x, int ret, const char *what)
{
	if (!status_is(x, ret, SC_GENERIC, 0x01) && !status_is(x, ret, SC_GENERIC, 0x02))
		return false;
	say(x, NVMETA_VERDICT_SKIP, "%s: the controller answered %s (NVMe status 0x%03x): it does not take the command here (ONCS 0x%x, OCFS 0x%x)",
	    what, nvmeta_status_name(&x->st), x->st.status, x->in->oncs, x->in->ocfs);
	return true;
}

/* A command that had to succeed did not: the device's answer, or ours. */
static void failed(struct cmd *x, int ret, const char *what)
{
	x->r->err = ret;
	x->r->where = what;
	if (ret == -EIO && x->st.status)
		say(x, NVMETA_VERDICT_DEVICE_ERROR, "%s failed: NVMe status 0x%03x (%s)", what,
		    x->st.status, nvmeta_status_name(&x->st));
	else
		say(x, NVMETA_VERDICT_FAIL, "%s returned %s: %s", what, strerror(-ret),
		    nvmeta_last_error());
}

/* A command that had to fail with @sct/@sc: true when it did. */
static bool failed_as(struct cmd *x, int ret, uint8_t sct, uint8_t sc, const char *what)
{
	if (status_is(x, ret, sct, sc))
		return true;
	x->r->err = ret;
	x->r->where = what;
	if (!ret)
		say(x, NVMETA_VERDICT_DEVICE_ERROR, "%s succeeded; expected NVMe status 0x%03x",
		    what, sct << 8 | sc);
	else if (ret == -EIO)
		say(x, NVMETA_VERDICT_DEVICE_ERROR, "%s failed with NVMe status 0x%03x (%s); expected 0x%03x",
		    what, x->st.status, nvmeta_status_name(&x->st), sct << 8 | sc);
	else
		say(x, NVMETA_VERDICT_FAIL, "%s returned %s (%s); expected NVMe status 0x%03x",
		    what, strerror(-ret), nvmeta_last_error(), sct << 8 | sc);
	return false;
}

/*
 * The buffers @io moves for @nlb blocks: the data and metadata buffers
 * [@i], or on an extended format ext[@i], with @d and @m interleaved into
 * it for a write (@d NULL: a read, poisoned).
 */
static void transfer(struct cmd *x, struct nvmeta_io *io, int i, uint32_t nlb, const uint8_t *d,
		     const uint8_t *m)
{
	size_t bs = x->in->lba_size, ms = x->in->ms, b;
	uint8_t *p;

	if (!x->xlen) {
		io->data = x->d[i]->addr;
		io->data_len = nlb * bs;
		if (d)
			memcpy(x->d[i]->addr, d, x->dlen);
		if (!x->mlen)
			return;
		if (m)
			memcpy(x->m[i]->addr, m, x->mlen);
		io->meta = x->m[i]->addr;
		io->meta_len = nlb * ms;
		return;
	}
	p = x->ext[i]->addr;
	io->data = p;
	io->data_len = nlb * (bs + ms);
	if (!d) {
		memset(p, CMD_POISON, x->xlen);
		return;
	}
	for (b = 0; b < x->nlb; b++, p += bs + ms) {
		memcpy(p, d + b * bs, bs);
		memcpy(p + bs, m + b * ms, ms);
	}
}

/* After a read on an extended format: its blocks apart into the read
 * buffers the cases judge. */
static void split_read(struct cmd *x)
{
	size_t bs = x->in->lba_size, ms = x->in->ms, b;
	const uint8_t *p = x->ext[1]->addr;

	if (!x->xlen)
		return;
	for (b = 0; b < x->nlb; b++, p += bs + ms) {
		memcpy((uint8_t *)x->d[1]->addr + b * bs, p, bs);
		memcpy((uint8_t *)x->m[1]->addr + b * ms, p + bs, ms);
	}
}

static int write_blocks(struct cmd *x, uint64_t lba, const uint8_t *d, const uint8_t *m,
			uint8_t prinfo)
{
	struct nvmeta_pi_tags t = tags_at(x, lba);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_WRITE, .slba = lba, .nlb = x->nlb, .prinfo = prinfo,
		.flags = NVMETA_IO_NO_PREFAULT,
		.reftag = x->pi ? t.ref_tag : 0, .apptag = x->pi ? CMD_APP_TAG : 0,
		.appmask = x->pi ? 0xffff : 0,
	};

	transfer(x, &io, 0, x->nlb, d, m);
	return cmd_send(x, &io);
}

/* Read @nlb blocks at @lba into the poisoned read buffers. */
static int read_blocks(struct cmd *x, uint64_t lba, uint32_t nlb, uint8_t prinfo)
{
	struct nvmeta_pi_tags t = tags_at(x, lba);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = lba, .nlb = nlb, .prinfo = prinfo,
		.flags = NVMETA_IO_NO_PREFAULT,
		.reftag = x->pi ? t.ref_tag : 0, .apptag = x->pi ? CMD_APP_TAG : 0,
		.appmask = x->pi ? 0xffff : 0,
	};
	int ret;

	memset(x->d[1]->addr, CMD_POISON, x->dlen);
	if (x->mlen)
		memset(x->m[1]->addr, CMD_POISON, x->mlen);
	transfer(x, &io, 1, nlb, NULL, NULL);
	ret = cmd_send(x, &io);
	split_read(x);
	return ret;
}

/* The first byte of @got that is not @want's, into the result. */
static bool differs(struct cmd *x, const uint8_t *got, const uint8_t *want, size_t len,
		    size_t per, uint64_t lba, const char *where)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (got[i] == want[i])
			continue;
		x->r->where = where;
		x->r->bad_lba = lba + i / per;
		x->r->bad_offset = i % per;
		x->r->expected = want[i];
		x->r->found = got[i];
		return true;
	}
	return false;
}

/* The read back is the wanted image; else DEVICE-ERROR saying @what. */
static bool read_matches(struct cmd *x, uint64_t lba, const char *what)
{
	const struct nvmeta_check_result *r = x->r;

	if (!differs(x, x->d[1]->addr, x->want_d, x->dlen, x->in->lba_size, lba, "data") &&
	    !(x->mlen && differs(x, x->m[1]->addr, x->want_m, x->mlen, x->in->ms, lba, "metadata")))
		return true;
	say(x, NVMETA_VERDICT_DEVICE_ERROR, "%s: %s of LBA %llu byte %zu is 0x%02x, expected 0x%02x",
	    what, r->where, (unsigned long long)r->bad_lba, r->bad_offset, r->found, r->expected);
	return false;
}

/* What @n bytes at @got are, against the source image @old: words. */
static const char *bytes_word(const uint8_t *got, const uint8_t *old, size_t n)
{
	size_t i, zero = 0, ones = 0, kept = 0;

	for (i = 0; i < n; i++) {
		zero += got[i] == 0;
		ones += got[i] == 0xff;
		kept += got[i] == old[i];
	}
	return zero == n ? "0h" : ones == n ? "all ones" : kept == n ? "as written before" :
	       "other bytes";
}

/* After a failed zeroing: what the first bad block's metadata holds, its
 * bytes outside the PI and its tuple apart, into the detail. */
static void describe_meta(struct cmd *x)
{
	size_t b = x->r->bad_lba - x->slba, n = strlen(x->r->detail), ms = x->in->ms;
	const uint8_t *got = (const uint8_t *)x->m[1]->addr + b * ms;
	const uint8_t *old = x->img_m + b * ms;
	unsigned int po = x->pi_off, ps = x->pi ? x->fmt.pi_size : 0;
	char opaque[64] = "";

	if (!x->mlen || n >= sizeof(x->r->detail))
		return;
	if (ms > ps)
		snprintf(opaque, sizeof(opaque), "its %zu bytes outside the PI %s", ms - ps,
			 bytes_word(po ? got : got + ps, po ? old : old + ps, ms - ps));
	snprintf(x->r->detail + n, sizeof(x->r->detail) - n, " (LBA %llu's metadata: %s%s%s%s)",
		 (unsigned long long)x->r->bad_lba, opaque, opaque[0] && ps ? ", " : "",
		 ps ? "its PI tuple " : "", ps ? bytes_word(got + po, old + po, ps) : "");
}

/* One deallocated block's metadata as DLFEAT describes it, into @m; its
 * data into @d.  False when DLFEAT does not say what it reads as. */
static bool deallocated_block(const struct cmd *x, uint8_t *d, uint8_t *m)
{
	unsigned int rb = x->in->dlfeat & 7;
	uint8_t fill = rb == 2 ? 0xff : 0;
	struct nvmeta_pi_tags t = { .app_tag = 0xffff, .app_mask = 0xffff };
	uint8_t *tuple = m + x->pi_off;

	if (rb != 1 && rb != 2)
		return false;
	memset(d, fill, x->in->lba_size);
	memset(m, fill, x->in->ms);
	if (!x->pi)
		return true;
	memset(tuple, 0xff, x->fmt.pi_size);
	if (x->in->dlfeat & 0x10) {	/* the guard is the CRC of what reads back */
		t.ref_tag = nvmeta_pi_ref_bits(&x->fmt) < 64 ?
			    (1ull << nvmeta_pi_ref_bits(&x->fmt)) - 1 : ~0ull;
		t.storage_tag = x->fmt.sts ? (x->fmt.sts < 64 ? (1ull << x->fmt.sts) - 1 : ~0ull) : 0;
		nvmeta_pi_generate(&x->fmt, d, m, 1, &t);
	}
	return true;
}

/* Block @i of the read back, against @d/@m (one block each). */
static bool block_is(const struct cmd *x, uint32_t i, const uint8_t *d, const uint8_t *m)
{
	const uint8_t *gd = (const uint8_t *)x->d[1]->addr + (size_t)i * x->in->lba_size;
	const uint8_t *gm = x->mlen ? (const uint8_t *)x->m[1]->addr + (size_t)i * x->in->ms : NULL;

	return !memcmp(gd, d, x->in->lba_size) && (!gm || !memcmp(gm, m, x->in->ms));
}

/* Block @i of the read back reads as a deallocated block (DLFEAT). */
static bool reads_deallocated(const struct cmd *x, uint32_t i)
{
	uint8_t dd[65536], dm[256];

	return x->mlen <= sizeof(dm) && x->in->lba_size <= sizeof(dd) &&
	       deallocated_block(x, dd, dm) && block_is(x, i, dd, dm);
}

/* What block @i's data read back as, against the source image. */
static const char *data_word(const struct cmd *x, uint32_t i)
{
	size_t at = (size_t)i * x->in->lba_size;

	return bytes_word((const uint8_t *)x->d[1]->addr + at, x->img_d + at, x->in->lba_size);
}

/* ------------------------------------------------------------------ */
/* The commands                                                        */
/* ------------------------------------------------------------------ */

static int write_source(struct cmd *x, unsigned int salt)
{
	int ret;

	make_image(x, x->img_d, x->img_m, x->slba, salt);
	ret = write_blocks(x, x->slba, x->img_d, x->img_m, x->prchk);
	if (ret)
		failed(x, ret, "the write of the case's blocks");
	return ret;
}

static void write_zeroes(struct cmd *x, bool pract, bool deac)
{
	struct nvmeta_pi_tags t = tags_at(x, x->slba);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_WRITE_ZEROES, .slba = x->slba, .nlb = x->nlb,
		.flags = deac ? NVMETA_IO_DEAC : 0,
	};
	const char *what = deac ? "write zeroes with DEAC" : pract ? "write zeroes with PRACT" :
			   "write zeroes";
	uint32_t i, dealloc = 0;
	int ret;

	if (pract && !x->pi) {
		say(x, NVMETA_VERDICT_SKIP, "no protection information on this format: PRACT has no tuple to generate");
		return;
	}
	if (write_source(x, 1))
		return;
	if (pract) {
		io.prinfo = NVMETA_PRACT;
		io.reftag = t.ref_tag;
		io.apptag = CMD_APP_TAG;
		io.appmask = 0xffff;
	}
	ret = cmd_send(x, &io);
	if (not_there(x, ret, what))
		return;
	if (ret)
		return failed(x, ret, what);
	/* With PRACT the device checks the PI it generated on the way out. */
	ret = read_blocks(x, x->slba, x->nlb, pract ? x->prchk : 0);
	if (ret)
		return failed(x, ret, pract ? "the read back with every PRCHK bit" : "the read back");
	memset(x->want_d, 0, x->dlen);
	memset(x->want_m, 0, x->mlen);
	if (pract)
		nvmeta_pi_generate(&x->fmt, x->want_d, x->want_m, x->nlb, &t);
	if (!deac) {
		if (!read_matches(x, x->slba, pract ?
				  "write zeroes with PRACT must read as zeroes with the PI generated over them (guard of the zeroes, the command's app and reference tags)" :
				  "write zeroes must read as zeroes, its metadata PI included all 0h")) {
			if (x->r->where && !strcmp(x->r->where, "metadata"))
				describe_meta(x);
			return;
		}
		say(x, NVMETA_VERDICT_PASS, "%u blocks read as zeroes, metadata %s", x->nlb,
		    pract ? "0h with the PI generated over the zeroes (checked by the device and compared)" :
		    x->mlen ? "all 0h" : "none");
		return;
	}
	/* DEAC: zeroes, or deallocated as DLFEAT says (read value 001b). */
	for (i = 0; i < x->nlb; i++) {
		const uint8_t *zd = x->want_d + (size_t)i * x->in->lba_size;
		const uint8_t *zm = x->want_m + (size_t)i * x->in->ms;

		if (block_is(x, i, zd, zm))
			continue;
		if (reads_deallocated(x, i)) {
			dealloc++;
			continue;
		}
		x->r->bad_lba = x->slba + i;
		x->r->where = "read back";
		say(x, NVMETA_VERDICT_DEVICE_ERROR, "write zeroes with DEAC: LBA %llu reads neither as zeroes with 0h metadata nor as deallocated (DLFEAT 0x%x); data %s",
		    (unsigned long long)(x->slba + i), x->in->dlfeat, data_word(x, i));
		describe_meta(x);
		return;
	}
	say(x, NVMETA_VERDICT_PASS, "%u blocks read as zeroes: %u with 0h metadata, %u deallocated as DLFEAT 0x%x says (bit 3, DEAC in write zeroes: %s)",
	    x->nlb, x->nlb - dealloc, dealloc, x->in->dlfeat, x->in->dlfeat & 8 ? "set" : "clear");
}

static void dsm(struct cmd *x)
{
	unsigned char list[2 * NVMETA_DSM_RANGE_BYTES];
	uint32_t half = x->nlb / 2 ? x->nlb / 2 : 1, nr = x->nlb > 1 ? 2 : 1, i, kept = 0, gone = 0;
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_DSM, .nlb = nr, .data = list,
		.data_len = nr * NVMETA_DSM_RANGE_BYTES, .flags = NVMETA_IO_DEAC,
	};
	int ret;

	if (write_source(x, 2))
		return;
	nvmeta_dsm_range(list, 0, x->slba, half);
	if (nr > 1)
		nvmeta_dsm_range(list, 1, x->slba + half, x->nlb - half);
	ret = cmd_send(x, &io);
	if (not_there(x, ret, "dataset management (deallocate)"))
		return;
	if (ret)
		return failed(x, ret, "dataset management (deallocate)");
	ret = read_blocks(x, x->slba, x->nlb, 0);
	if (ret)
		return failed(x, ret, "the read back");
	for (i = 0; i < x->nlb; i++) {
		const uint8_t *od = x->img_d + (size_t)i * x->in->lba_size;
		const uint8_t *om = x->img_m + (size_t)i * x->in->ms;

		if (block_is(x, i, od, om)) {
			kept++;
			continue;
		}
		if (reads_deallocated(x, i)) {
			gone++;
			continue;
		}
		x->r->bad_lba = x->slba + i;
		x->r->where = "read back";
		say(x, NVMETA_VERDICT_DEVICE_ERROR, "deallocate: LBA %llu reads neither as it was written nor as a deallocated block (DLFEAT 0x%x: %s, guard %s); data %s",
		    (unsigned long long)(x->slba + i), x->in->dlfeat,
		    (x->in->dlfeat & 7) == 1 ? "zeroes" : (x->in->dlfeat & 7) == 2 ? "ones" : "not reported",
		    x->in->dlfeat & 0x10 ? "the CRC" : "0xFFFF", data_word(x, i));
		describe_meta(x);
		return;
	}
	/* Kept blocks carry good PI; deallocated ones the escape: every check
	 * must pass. */
	if (x->pi && (ret = read_blocks(x, x->slba, x->nlb, x->prchk)))
		return failed(x, ret, "the read back with every PRCHK bit after deallocate");
	say(x, NVMETA_VERDICT_PASS, "%u blocks in %u ranges: %u kept what they held (not deallocated), %u read as deallocated (DLFEAT 0x%x)%s",
	    x->nlb, nr, kept, gone, x->in->dlfeat,
	    x->pi ? "; a read with every PRCHK bit passed" : "");
}

static void write_uncor(struct cmd *x)
{
	uint32_t n = x->nlb > 2 ? 2 : 1;
	uint64_t bad = x->slba + x->nlb - n;
	struct nvmeta_io io = { .opcode = NVMETA_OP_WRITE_UNCOR, .slba = bad, .nlb = n };
	size_t i, dl = n * x->in->lba_size, ml = n * x->in->ms;
	int ret;

	if (write_source(x, 3))
		return;
	ret = cmd_send(x, &io);
	if (not_there(x, ret, "write uncorrectable"))
		return;
	if (ret)
		return failed(x, ret, "write uncorrectable");
	ret = read_blocks(x, bad, n, 0);
	if (!failed_as(x, ret, SC_MEDIA, 0x81, "a read of the uncorrectable blocks"))
		return;
	for (i = 0; i < dl + ml; i++) {
		uint8_t b = i < dl ? ((uint8_t *)x->d[1]->addr)[i] : ((uint8_t *)x->m[1]->addr)[i - dl];

		if (b == CMD_POISON)
			continue;
		x->r->where = i < dl ? "data" : "metadata";
		x->r->bad_offset = i < dl ? i : i - dl;
		say(x, NVMETA_VERDICT_KERNEL_DEFECT, "the read failed with Unrecovered Read Error, yet byte %zu of its %s buffer changed to 0x%02x",
		    x->r->bad_offset, x->r->where, b);
		return;
	}
	/* A write makes them readable again. */
	ret = write_blocks(x, x->slba, x->img_d, x->img_m, x->prchk);
	if (ret)
		return failed(x, ret, "the write over the uncorrectable blocks");
	ret = read_blocks(x, x->slba, x->nlb, x->prchk);
	if (ret)
		return failed(x, ret, "the read after the blocks were written again");
	memcpy(x->want_d, x->img_d, x->dlen);
	memcpy(x->want_m, x->img_m, x->mlen);
	if (!read_matches(x, x->slba, "after write uncorrectable and a write"))
		return;
	say(x, NVMETA_VERDICT_PASS, "%u blocks marked: their read failed with Unrecovered Read Error (0x281) and left the data and metadata buffers untouched; written again, they read back exact",
	    n);
}

static int verify_cmd(struct cmd *x, uint8_t prinfo)
{
	struct nvmeta_pi_tags t = tags_at(x, x->slba);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_VERIFY, .slba = x->slba, .nlb = x->nlb, .prinfo = prinfo,
		.reftag = x->pi ? t.ref_tag : 0, .apptag = x->pi ? CMD_APP_TAG : 0,
		.appmask = x->pi ? 0xffff : 0,
	};

	return cmd_send(x, &io);
}

static void verify(struct cmd *x)
{
	static const struct { uint8_t prchk; uint8_t sc; const char *field; } f[] = {
		{ NVMETA_PRCHK_GUARD, 0x82, "guard" },
		{ NVMETA_PRCHK_APP, 0x83, "application tag" },
		{ NVMETA_PRCHK_REF, 0x84, "reference tag" },
	};
	uint32_t k = x->nlb / 2;
	unsigned int i, done = 0;
	char what[96];
	int ret;

	if (write_source(x, 4))
		return;
	ret = verify_cmd(x, x->prchk);
	if (not_there(x, ret, "verify"))
		return;
	if (ret)
		return failed(x, ret, "verify of good blocks");
	if (!x->pi) {
		say(x, NVMETA_VERDICT_PASS, "verify of %u good blocks passed (no PI on this format to check)",
		    x->nlb);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		uint8_t *tuple = x->want_m + (size_t)k * x->in->ms + x->pi_off;
		unsigned int at = i == 0 ? 0 : i == 1 ? x->fmt.guard_bits / 8 : x->fmt.pi_size - 1u;

		if (!(x->prchk & f[i].prchk))
			continue;	/* type 3: no reference tag to check */
		memcpy(x->want_d, x->img_d, x->dlen);
		memcpy(x->want_m, x->img_m, x->mlen);
		tuple[at] ^= 0x01;
		/* Stored without checks: the device keeps the bad field. */
		ret = write_blocks(x, x->slba, x->want_d, x->want_m, 0);
		if (ret)
			return failed(x, ret, "the write of a bad tuple without PRCHK");
		snprintf(what, sizeof(what), "verify with PRCHK %s of LBA %llu's bad %s", f[i].field,
			 (unsigned long long)(x->slba + k), f[i].field);
		ret = verify_cmd(x, f[i].prchk);
		if (!failed_as(x, ret, SC_MEDIA, f[i].sc, what))
			return;
		ret = verify_cmd(x, 0);
		if (ret)
			return failed(x, ret, "verify without PRCHK over a bad tuple");
		done++;
	}
	ret = write_blocks(x, x->slba, x->img_d, x->img_m, x->prchk);
	if (ret)
		return failed(x, ret, "the write restoring the blocks");
	say(x, NVMETA_VERDICT_PASS, "verify passed on %u good blocks; a stored bad %s failed it under its PRCHK bit with %s and passed without (%u-bit guard, type %u)",
	    x->nlb, done == 3 ? "guard, app tag and ref tag each" : "guard and app tag each",
	    done == 3 ? "0x282, 0x283, 0x284" : "0x282, 0x283", x->fmt.guard_bits, x->fmt.pi_type);
}

static int compare_cmd(struct cmd *x, uint8_t prinfo)
{
	struct nvmeta_pi_tags t = tags_at(x, x->slba);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_COMPARE, .slba = x->slba, .nlb = x->nlb, .prinfo = prinfo,
		.flags = NVMETA_IO_NO_PREFAULT,
		.reftag = x->pi ? t.ref_tag : 0, .apptag = x->pi ? CMD_APP_TAG : 0,
		.appmask = x->pi ? 0xffff : 0,
	};

	transfer(x, &io, 0, x->nlb, x->want_d, x->want_m);
	return cmd_send(x, &io);
}

static void compare(struct cmd *x)
{
	uint32_t k = x->nlb / 2;
	bool opaque = x->mlen && (!x->pi || x->in->ms > x->fmt.pi_size);
	char pi_said[96] = "";
	size_t at, n;
	int ret;

	if (write_source(x, 5))
		return;
	memcpy(x->want_d, x->img_d, x->dlen);
	memcpy(x->want_m, x->img_m, x->mlen);
	ret = compare_cmd(x, x->prchk);
	if (not_there(x, ret, "compare"))
		return;
	if (ret)
		return failed(x, ret, "compare of equal data and metadata");
	x->want_d[(size_t)k * x->in->lba_size + 7] ^= 0x10;
	ret = compare_cmd(x, x->prchk);
	if (!failed_as(x, ret, SC_MEDIA, 0x85, "compare with one data byte different"))
		return;
	x->want_d[(size_t)k * x->in->lba_size + 7] ^= 0x10;
	if (x->pi) {
		/* The app tag of one tuple, with no check asked: reported, not
		 * judged (is the PI compared, or only checked under PRCHK?). */
		at = (size_t)k * x->in->ms + x->pi_off + x->fmt.guard_bits / 8;
		x->want_m[at] ^= 0x01;
		ret = compare_cmd(x, 0);
		x->want_m[at] ^= 0x01;
		snprintf(pi_said, sizeof(pi_said), "; a tuple's app tag different, no PRCHK: %s",
			 !ret ? "success (the PI is not compared)" : ret == -EIO ?
			 nvmeta_status_name(&x->st) : strerror(-ret));
	}
	if (opaque) {
		/* A metadata byte outside the PI: PI last, the first byte; PI
		 * first, the last byte; no PI, any. */
		at = (size_t)k * x->in->ms + (x->pi && x->fmt.pi_first ? x->in->ms - 1 : 0);
		x->want_m[at] ^= 0x10;
		ret = compare_cmd(x, x->prchk);
		x->want_m[at] ^= 0x10;
		if (!failed_as(x, ret, SC_MEDIA, 0x85,
			       "compare with one metadata byte outside the PI different")) {
			n = strlen(x->r->detail);
			snprintf(x->r->detail + n, sizeof(x->r->detail) - n, "%s", pi_said);
			return;
		}
	}
	say(x, NVMETA_VERDICT_PASS, "compare: equal data and metadata succeeded%s; a data byte%s different failed with Compare Failure (0x285)%s",
	    x->pi ? " with every PRCHK bit" : "",
	    opaque ? " or a metadata byte outside the PI" : "", pi_said);
}

static int copy_cmd(struct cmd *x, uint64_t dst, uint8_t prinfow, uint8_t prinfor)
{
	unsigned char list[2 * 40];
	uint32_t half = x->nlb / 2 ? x->nlb / 2 : 1, nr = x->nlb > 1 ? 2 : 1;
	struct nvmeta_pi_tags s0 = tags_at(x, x->slba), s1 = tags_at(x, x->slba + half);
	struct nvmeta_pi_tags d = tags_at(x, dst);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_COPY, .slba = dst, .nlb = nr, .data = list,
		.data_len = nr * nvmeta_copy_desc_bytes(x->in),
		.prinfo = NVMETA_COPY_PRINFO(prinfow, prinfor),
		.reftag = x->pi ? d.ref_tag : 0, .apptag = x->pi ? CMD_APP_TAG : 0,
		.appmask = x->pi ? 0xffff : 0,
	};

	nvmeta_copy_range(x->in, list, 0, x->slba, half, x->pi ? s0.ref_tag : 0,
			  x->pi ? CMD_APP_TAG : 0, x->pi ? 0xffff : 0);
	if (nr > 1)
		nvmeta_copy_range(x->in, list, 1, x->slba + half, x->nlb - half,
				  x->pi ? s1.ref_tag : 0, x->pi ? CMD_APP_TAG : 0, x->pi ? 0xffff : 0);
	return cmd_send(x, &io);
}

static void copy(struct cmd *x, bool carry)
{
	uint64_t dst = x->slba + x->nlb;
	struct nvmeta_pi_tags d = tags_at(x, dst);
	uint8_t pract = x->pi && !carry ? NVMETA_PRACT : 0;
	int ret;

	if (carry && !x->pi) {
		say(x, NVMETA_VERDICT_SKIP, "no protection information on this format: cmd-copy covers the copy itself");
		return;
	}
	if (dst + x->nlb > x->in->nsze) {
		say(x, NVMETA_VERDICT_SKIP, "no room for the destination after the case's blocks");
		return;
	}
	if (write_source(x, carry ? 7 : 6))
		return;
	/* PRACT alike in PRINFOR and PRINFOW: the source's PI checked against
	 * the descriptors' tags, the destination's generated anew. */
	ret = copy_cmd(x, dst, pract, pract | x->prchk);
	if (not_there(x, ret, carry ? "copy without PRACT" : "copy"))
		return;
	if (ret)
		return failed(x, ret, carry ? "copy without PRACT" : "copy");
	ret = read_blocks(x, dst, x->nlb, carry ? 0 : x->prchk);
	if (ret)
		return failed(x, ret, "the read of the destination");
	memcpy(x->want_d, x->img_d, x->dlen);
	memcpy(x->want_m, x->img_m, x->mlen);
	if (pract)
		nvmeta_pi_generate(&x->fmt, x->want_d, x->want_m, x->nlb, &d);
	if (!read_matches(x, dst, pract ?
			  "copy with PRACT: the destination must hold the source's data and metadata with PI generated for it (reference tags from its LBA)" :
			  carry ? "copy without PRACT: the destination must hold the source's blocks, PI as it was" :
			  "copy: the destination must hold the source's data and metadata"))
		return;
	if (!carry) {
		say(x, NVMETA_VERDICT_PASS, "copy of %u blocks in 2 ranges (descriptor format %u): %s",
		    x->nlb, nvmeta_copy_desc_format(x->in),
		    x->pi ? "the source's PI checked under PRINFOR, the destination's generated with PRACT: reference tags re-based to the destination, checked by the device on the read and compared" :
		    "every data and metadata byte carried");
		return;
	}
	if (x->fmt.pi_type == 3) {
		say(x, NVMETA_VERDICT_PASS, "copy without PRACT carried the source's PI as it was (type 3: no reference tag to re-base)");
		return;
	}
	/* Carried, not re-based: checked against the destination, the
	 * source's reference tags fail. */
	ret = copy_cmd(x, dst, NVMETA_PRCHK_REF, x->prchk);
	if (!failed_as(x, ret, SC_MEDIA, 0x84,
		       "copy without PRACT, PRINFOW checking the reference tags against the destination"))
		return;
	say(x, NVMETA_VERDICT_PASS, "copy without PRACT carried the source's PI as it was (reference tags of the source, not re-based); with PRINFOW's reference tag check against the destination it failed with 0x284");
}

/* ------------------------------------------------------------------ */

static int alloc_bufs(struct cmd *x)
{
	struct nvmeta_buf_spec sd = {
		.layout = NVMETA_LAYOUT_PAGE, .len = x->dlen,
		.flags = NVMETA_BUF_CANARY | NVMETA_BUF_GUARD | NVMETA_BUF_DATA,
	};
	struct nvmeta_buf_spec sm = {
		.layout = NVMETA_LAYOUT_PAGE, .len = x->mlen,
		.flags = NVMETA_BUF_CANARY | NVMETA_BUF_GUARD,
	};
	struct nvmeta_buf_spec sx = sd;
	int i, ret;

	sx.len = x->xlen;
	for (i = 0; i < 2; i++) {
		ret = nvmeta_buf_alloc(x->in, &sd, &x->d[i]);
		if (!ret && x->mlen)
			ret = nvmeta_buf_alloc(x->in, &sm, &x->m[i]);
		if (!ret && x->xlen)
			ret = nvmeta_buf_alloc(x->in, &sx, &x->ext[i]);
		if (ret)
			return ret;
	}
	x->img_d = malloc(x->dlen);
	x->want_d = malloc(x->dlen);
	x->img_m = malloc(x->mlen + 1);
	x->want_m = malloc(x->mlen + 1);
	if (!x->img_d || !x->want_d || !x->img_m || !x->want_m)
		return nvmeta_check_fail(-ENOMEM, "images of %zu bytes", x->dlen);
	return 0;
}

static bool canaries_ok(struct cmd *x)
{
	ptrdiff_t bad;
	int i;

	for (i = 0; i < 2; i++) {
		if ((x->d[i] && nvmeta_buf_check_canaries(x->d[i], &bad)) ||
		    (x->m[i] && nvmeta_buf_check_canaries(x->m[i], &bad)) ||
		    (x->ext[i] && nvmeta_buf_check_canaries(x->ext[i], &bad))) {
			x->r->where = "canary";
			say(x, NVMETA_VERDICT_KERNEL_DEFECT, "%s (kernel %s)", nvmeta_last_error(),
			    x->in->kernel.release);
			return false;
		}
	}
	return true;
}

int nvmeta_check_command(struct check *c)
{
	struct cmd x = { .c = c, .in = c->info, .r = c->res };
	int ret, i;

	x.slba = c->res->slba;
	x.nlb = c->res->nlb;
	x.pi = x.in->pi_type && !nvmeta_pi_format_of(x.in, &x.fmt);
	/* The images keep data and metadata apart, whatever the format. */
	x.fmt.extended = false;
	if (x.pi) {
		x.prchk = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP |
			  (x.fmt.pi_type != 3 ? NVMETA_PRCHK_REF : 0);
		x.pi_off = x.fmt.pi_first ? 0 : x.fmt.ms - x.fmt.pi_size;
	}
	x.dlen = (size_t)x.nlb * x.in->lba_size;
	x.mlen = (size_t)x.nlb * x.in->ms;
	x.xlen = x.in->extended_lba ? x.dlen + x.mlen : 0;
	ret = alloc_bufs(&x);
	if (ret) {
		say(&x, ret == -ENOMEM ? NVMETA_VERDICT_FAIL : NVMETA_VERDICT_SKIP, "buffer setup: %s",
		    nvmeta_last_error());
		goto out;
	}
	switch (NVMETA_CHECK_CMD_OF(c->tc->flags)) {
	case NVMETA_CHECK_CMD_WRITE_ZEROES: write_zeroes(&x, false, false); break;
	case NVMETA_CHECK_CMD_WRITE_ZEROES_PRACT: write_zeroes(&x, true, false); break;
	case NVMETA_CHECK_CMD_WRITE_ZEROES_DEAC: write_zeroes(&x, false, true); break;
	case NVMETA_CHECK_CMD_DSM: dsm(&x); break;
	case NVMETA_CHECK_CMD_WRITE_UNCOR: write_uncor(&x); break;
	case NVMETA_CHECK_CMD_VERIFY: verify(&x); break;
	case NVMETA_CHECK_CMD_COMPARE: compare(&x); break;
	case NVMETA_CHECK_CMD_COPY: copy(&x, false); break;
	default: copy(&x, true); break;
	}
	canaries_ok(&x);
out:
	for (i = 0; i < 2; i++) {
		nvmeta_buf_free(x.d[i]);
		nvmeta_buf_free(x.m[i]);
		nvmeta_buf_free(x.ext[i]);
	}
	free(x.img_d);
	free(x.img_m);
	free(x.want_d);
	free(x.want_m);
	return 0;
}
