// SPDX-License-Identifier: MIT
/* In the lab: write then read blocks with metadata, byte for byte. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "guest_env.h"
#include "nvmeta.h"

#define NLB 4
#define SLBA 8

static struct nvmeta_dev *dev;
static const struct nvmeta_dev_info *info;
static struct io_uring ring;

static void setup(void)
{
	info = guest_open(&dev, &ring, 8);
}

static void teardown(void)
{
	guest_close(dev, &ring);
}

TestSuite(roundtrip, .init = setup, .fini = teardown);

/* A byte that depends on the LBA, the offset and the run. */
static void fill(unsigned char *p, size_t len, uint64_t lba, size_t per_lba, unsigned int run)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((lba + i / per_lba) * 131 + (i % per_lba) * 7 + run * 29 + 1);
}

static void *alloc(size_t len)
{
	void *p = NULL;

	cr_assert_eq(posix_memalign(&p, 4096, len), 0);
	return p;
}

static void roundtrip(unsigned int run)
{
	uint32_t per_lba = info->lba_size + (info->extended_lba ? info->ms : 0);
	size_t dlen = (size_t)NLB * per_lba, mlen = (size_t)NLB * info->ms;
	bool separate = info->ms && !info->extended_lba;
	unsigned char *wd = alloc(dlen), *rd = alloc(dlen);
	unsigned char *wm = separate ? alloc(mlen) : NULL, *rm = separate ? alloc(mlen) : NULL;
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_WRITE, .slba = SLBA, .nlb = NLB,
		.data = wd, .data_len = dlen,
		.meta = wm, .meta_len = separate ? mlen : 0,
	};
	struct nvmeta_status st;
	size_t i;

	fill(wd, dlen, SLBA, per_lba, run);
	memset(rd, 0, dlen);
	if (separate) {
		fill(wm, mlen, SLBA, info->ms, run + 100);
		memset(rm, 0, mlen);
	}
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), 0, "write: %s", nvmeta_last_error());
	io.opcode = NVMETA_OP_READ;
	io.data = rd;
	io.meta = rm;
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), 0, "read: %s", nvmeta_last_error());
	for (i = 0; i < dlen; i++)
		cr_assert_eq(rd[i], wd[i], "data byte %zu (LBA %zu): wrote 0x%02x read 0x%02x",
			     i, SLBA + i / per_lba, wd[i], rd[i]);
	for (i = 0; i < mlen && separate; i++)
		cr_assert_eq(rm[i], wm[i], "metadata byte %zu (LBA %zu): wrote 0x%02x read 0x%02x",
			     i, SLBA + i / info->ms, wm[i], rm[i]);
	free(wd);
	free(rd);
	free(wm);
	free(rm);
}

Test(roundtrip, write_then_read_matches_byte_for_byte)
{
	roundtrip(1);
	roundtrip(2);	/* a second pattern: the first could not have lingered */
}

/* Before submission: nothing reaches the ring, and neither buffer is
 * read into (LBAs SLBA.. hold roundtrip()'s patterns, never 0x5a). */
Test(roundtrip, short_metadata_is_refused_before_submission)
{
	unsigned char *d = alloc(info->lba_size * 2), *m = alloc(4096);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = SLBA, .nlb = 2,
		.data = d, .data_len = info->lba_size * 2,
		.meta = m, .meta_len = info->ms * 2 - 1,
	};
	size_t i;

	if (!info->ms || info->extended_lba)
		cr_skip_test("no separate metadata on this preset");
	roundtrip(3);		/* something on the blocks that differs from 0x5a */
	memset(d, 0x5a, info->lba_size * 2);
	memset(m, 0x5a, 4096);
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), -EOVERFLOW);
	cr_assert(strstr(nvmeta_last_error(), "short"), "%s", nvmeta_last_error());
	cr_assert_eq(io_uring_sq_ready(&ring), 0, "the refusal left an SQE in the ring");
	for (i = 0; i < info->lba_size * 2; i++)
		cr_assert_eq(d[i], 0x5a, "data byte %zu changed: the read went out", i);
	for (i = 0; i < 4096; i++)
		cr_assert_eq(m[i], 0x5a, "metadata byte %zu changed: the read went out", i);
	free(d);
	free(m);
}

Test(roundtrip, out_of_range_read_gets_an_nvme_status_in_raw_mode)
{
	uint32_t per_lba = info->lba_size + (info->extended_lba ? info->ms : 0);
	unsigned char *d = alloc(per_lba), *m = alloc(4096);
	bool separate = info->ms && !info->extended_lba;
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = info->nsze, .nlb = 1,
		.data = d, .data_len = per_lba,
		.meta = separate ? m : NULL, .meta_len = separate ? info->ms : 0,
	};
	struct nvmeta_status st;

	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), -ERANGE);
	io.flags = NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), -EIO, "%s", nvmeta_last_error());
	cr_assert_eq(st.sct, 0);
	cr_assert_eq(st.sc, 0x80, "status 0x%x", st.status);
	free(d);
	free(m);
}
