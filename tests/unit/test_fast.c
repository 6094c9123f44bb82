// SPDX-License-Identifier: MIT
/*
 * The fast path of validation (nvmeta_io_plain(), validate.c) against the
 * checks it stands in for: on many device formats and on commands drawn
 * around every bound the checks have, whatever the fast path accepts the
 * checks accept too; and the plain commands applications send (a read or
 * write of a few blocks with its metadata) do take the fast path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "fake_info.h"

struct fmt {
	uint32_t lba, ms, mdts, hw_kb;
	bool ext;
	uint8_t pi, guard, sts;
	uint64_t nsze;
};

static const struct fmt fmts[] = {
	{ 512, 8, 0, 512, false, 0, 16, 0, 1 << 20 },
	{ 512, 16, 131072, 512, false, 1, 16, 0, 1 << 20 },
	{ 4096, 16, 0, 128, false, 1, 64, 0, 1 << 18 },
	{ 4096, 16, 524288, 0, false, 3, 64, 8, 1 << 18 },
	{ 512, 8, 0, 512, true, 1, 16, 0, 1000 },
	{ 512, 0, 0, 512, false, 0, 16, 0, 4096 },
	{ 4096, 64, 65536, 32, false, 2, 64, 16, 1 << 16 },
	{ 512, 8, 0, 0, false, 0, 16, 0, UINT64_MAX / 2 },
	{ 4096, 0, 4096, 4, false, 0, 16, 0, 100 },
	{ 512, 8, 0, 1024, false, 1, 32, 20, 1 << 20 },
};

static void make_dev(struct nvmeta_dev *dev, const struct fmt *f)
{
	struct nvmeta_dev_info *in = &dev->info;

	memset(dev, 0, sizeof(*dev));
	fake_info_6_12(in);
	strcpy(in->generic_path, "/dev/ng9n1");
	in->nsid = 1;
	in->lba_size = f->lba;
	in->ms = f->ms;
	in->extended_lba = f->ext;
	in->pi_type = f->pi;
	in->pi_size = f->guard == 16 ? 8 : 16;
	in->guard_bits = f->guard;
	in->sts = f->sts;
	in->nsze = f->nsze;
	in->mdts_bytes = f->mdts;
	in->limits.max_hw_sectors_kb = f->hw_kb;
	in->oncs = 0xff;
	nvmeta_fast_decide(dev);
}

static uint64_t rnd(void)
{
	return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^ (uint64_t)random();
}

/* A value near @edge: edge - 2 .. edge + 2, or anything. */
static uint64_t near(uint64_t edge)
{
	switch (random() % 6) {
	case 0:
		return rnd();
	case 1:
		return edge;
	default:
		return edge + (uint64_t)(random() % 5) - 2;
	}
}

static void draw(const struct nvmeta_dev *dev, struct nvmeta_io *io, void *buf)
{
	const struct nvmeta_dev_info *in = &dev->info;
	const struct nvmeta_fast *f = &dev->fast;
	uint32_t lba_bytes = in->lba_size + (in->extended_lba ? in->ms : 0);

	memset(io, 0, sizeof(*io));
	io->opcode = random() % 4 ? (random() % 2 ? NVMETA_OP_READ : NVMETA_OP_WRITE) : random() % 0x20;
	io->nlb = random() % 3 ? (uint64_t)(1 + random() % 16) : near(f->max_nlb ? f->max_nlb : NVMETA_MAX_NLB);
	io->slba = random() % 3 ? (uint64_t)(random() % 64) : near(in->nsze - io->nlb);
	io->data = random() % 16 ? buf : NULL;
	io->data_len = random() % 3 ? (uint64_t)io->nlb * lba_bytes : near((uint64_t)io->nlb * lba_bytes);
	if (random() % 4) {
		io->meta = random() % 16 ? buf : NULL;
		io->meta_len = random() % 3 ? (uint64_t)io->nlb * in->ms :
			       near(random() % 2 ? (uint64_t)io->nlb * in->ms : f->max_meta);
	}
	io->flags = random() % 3 ? 0 : random() % 0x100;
	io->prinfo = random() % 3 ? 0 : random() % 0x20;
	io->reftag = random() % 3 ? io->slba & 0xffffffff : near(~f->ref_mask + 1);
	io->storage_tag = random() % 4 ? 0 : near(~f->sts_mask + 1);
	if (!(random() % 20))
		io->resv[random() % 3] = 1;
	if (!(random() % 20))
		io->resv0 = 1;
}

Test(fast, accepts_only_what_every_check_accepts)
{
	static char buf[64];
	struct nvmeta_dev dev;
	struct nvmeta_io io;
	size_t i, n, plain = 0;

	srandom(20261206);
	for (i = 0; i < ARRAY_SIZE(fmts); i++) {
		make_dev(&dev, &fmts[i]);
		cr_assert(dev.fast.ready, "format %zu", i);
		for (n = 0; n < 200000; n++) {
			draw(&dev, &io, buf);
			if (!nvmeta_io_plain(&dev.fast, &io))
				continue;
			plain++;
			cr_assert_eq(nvmeta_validate_info(&dev.info, &io), 0,
				     "format %zu: the fast path took op 0x%x slba %llu nlb %u data_len %u meta %p/%u flags 0x%x prinfo 0x%x reftag 0x%llx sts 0x%llx, the checks refuse it: %s",
				     i, io.opcode, (unsigned long long)io.slba, io.nlb, io.data_len, io.meta,
				     io.meta_len, io.flags, io.prinfo, (unsigned long long)io.reftag,
				     (unsigned long long)io.storage_tag, nvmeta_last_error());
		}
	}
	cr_assert_gt(plain, 100000, "only %zu commands took the fast path", plain);
}

/* A read of one block of the first format, with its metadata. */
static struct nvmeta_io one_block_read(void *buf)
{
	return (struct nvmeta_io){
		.opcode = NVMETA_OP_READ, .nlb = 1, .data = buf, .data_len = 512,
		.meta = buf, .meta_len = 8,
	};
}

/* A device never decided (or one whose format nvmeta_fast_decide() cannot
 * bound) sends every command through the checks. */
Test(fast, an_undecided_device_takes_the_checks)
{
	static char buf[4096];
	struct nvmeta_dev dev;
	struct nvmeta_io io = one_block_read(buf);

	make_dev(&dev, &fmts[0]);
	cr_assert(nvmeta_io_plain(&dev.fast, &io));
	memset(&dev.fast, 0, sizeof(dev.fast));
	cr_assert_not(nvmeta_io_plain(&dev.fast, &io));
	cr_assert_eq(nvmeta_io_validate(&dev, &io), 0);
	io.meta_len = 7;
	cr_assert_eq(nvmeta_io_validate(&dev, &io), -EOVERFLOW);
}

/* What applications send: reads and writes with their metadata, fixed
 * buffers and files, FUA; each takes the fast path on its format. */
Test(fast, plain_commands_take_it)
{
	static char buf[4096];
	static const uint32_t flags[] = {
		0, NVMETA_IO_FUA, NVMETA_IO_FIXED_BUF | NVMETA_IO_FIXED_FILE, NVMETA_IO_NO_PREFAULT,
	};
	struct nvmeta_dev dev;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(fmts); i++) {
		const struct fmt *f = &fmts[i];

		make_dev(&dev, f);
		for (j = 0; j < ARRAY_SIZE(flags); j++) {
			struct nvmeta_io io = {
				.opcode = j % 2 ? NVMETA_OP_WRITE : NVMETA_OP_READ,
				.slba = 0, .nlb = 1, .data = buf,
				.data_len = f->lba + (f->ext ? f->ms : 0),
				.meta = f->ms && !f->ext ? buf : NULL,
				.meta_len = f->ext ? 0 : f->ms, .flags = flags[j],
				.prinfo = f->pi ? NVMETA_PRCHK_GUARD : 0,
			};

			cr_assert(nvmeta_io_plain(&dev.fast, &io), "format %zu, flags 0x%x", i,
				  flags[j]);
		}
	}
}

/* A draw of the fields that only the encoder reads. */
static void draw_encoded(struct nvmeta_io *io)
{
	io->apptag = (uint16_t)random();
	io->appmask = (uint16_t)random();
	io->buf_index = (uint16_t)random();
	io->file_index = (uint32_t)random();
	io->timeout_ms = random() % 2 ? 0 : (uint32_t)random();
	io->pi_checks = (uint32_t)random();
}

/* The library's own submissions encode a plain command from the device's
 * template (nvmeta_fill_plain()); applications encode it with the inline
 * nvmeta_prep_cmd(): the 128 bytes must be the same, on every format
 * (guards of 16, 32 and 64 bits, with and without storage tags) and with
 * fixed files and buffers, FUA and PRINFO. */
Test(fast, the_template_encodes_as_the_encoder_does)
{
	static char buf[64];
	struct io_uring_sqe want[2], got[2];
	struct nvmeta_dev dev;
	struct nvmeta_io io;
	size_t i, n, plain = 0;

	srandom(20261207);
	for (i = 0; i < ARRAY_SIZE(fmts); i++) {
		make_dev(&dev, &fmts[i]);
		dev.fd = 7 + (int)i;
		nvmeta_fast_decide(&dev);
		for (n = 0; n < 50000; n++) {
			draw(&dev, &io, buf);
			draw_encoded(&io);
			if (!nvmeta_io_goes_plain(&dev, &io))
				continue;
			plain++;
			/* The encoder leaves the command's last 8 bytes as
			 * they are; the template writes them as zeros. */
			memset(want, 0, sizeof(want));
			nvmeta_prep_cmd(want, dev.fd, &dev.info, &io);
			memset(got, 0xa5, sizeof(got));
			nvmeta_fill_plain(&dev, got, &io);
			cr_assert_arr_eq(got, want, sizeof(want),
					 "format %zu: op 0x%x slba %llu nlb %u flags 0x%x prinfo 0x%x reftag 0x%llx sts 0x%llx encoded otherwise",
					 i, io.opcode, (unsigned long long)io.slba, io.nlb, io.flags,
					 io.prinfo, (unsigned long long)io.reftag,
					 (unsigned long long)io.storage_tag);
		}
	}
	cr_assert_gt(plain, 20000, "only %zu commands were plain", plain);
}

/* A device whose format moved, and a read whose metadata this kernel
 * needs populated first, never go out plain. */
Test(fast, stale_devices_and_prefaulted_reads_take_the_checks)
{
	static char buf[4096];
	struct nvmeta_dev dev;
	struct nvmeta_io io = one_block_read(buf);

	make_dev(&dev, &fmts[0]);
	cr_assert(nvmeta_io_goes_plain(&dev, &io));
	atomic_store(&dev.fast.stale, 1);
	cr_assert_not(nvmeta_io_goes_plain(&dev, &io));
	atomic_store(&dev.fast.stale, 0);
	dev.populate_reads = true;
	nvmeta_fast_decide(&dev);
	cr_assert_not(nvmeta_io_goes_plain(&dev, &io));
	io.flags = NVMETA_IO_NO_PREFAULT;
	cr_assert(nvmeta_io_goes_plain(&dev, &io));
	io.flags = 0;
	io.opcode = NVMETA_OP_WRITE;
	cr_assert(nvmeta_io_goes_plain(&dev, &io));
}
