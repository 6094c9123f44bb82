// SPDX-License-Identifier: MIT
/*
 * In the lab: reading metadata into never-touched memory through the
 * library's default path must leave the shared zero page alone, also on
 * kernels (6.12) that pin such buffers without write access.  If the
 * work-around in lib/quirks.c stopped working, the zero page check here
 * fails (or the guest dies, which the lab reports as a failure).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "guest_env.h"
#include "internal.h"

static struct nvmeta_dev *dev;
static const struct nvmeta_dev_info *info;
static struct io_uring ring;

static void setup(void)
{
	info = guest_open(&dev, &ring, 4);
	if (!info->ms || info->extended_lba)
		cr_skip_test("no separate metadata on this preset");
}

static void teardown(void)
{
	guest_close(dev, &ring);
}

TestSuite(quirks, .init = setup, .fini = teardown);

static void *fresh(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	return p;
}

static void expect_zero_page_clean(void)
{
	const size_t len = 8 * 4096;
	unsigned char *p = fresh(len);
	size_t i;

	for (i = 0; i < len; i++)
		cr_assert_eq(p[i], 0, "shared zero page dirty at byte %zu (kernel %s)", i,
			     info->kernel.release);
	munmap(p, len);
}

Test(quirks, metadata_read_into_untouched_memory_keeps_zero_page_clean)
{
	uint32_t nlb = 16;
	size_t dlen = (size_t)nlb * info->lba_size, mlen = (size_t)nlb * info->ms;
	unsigned char *data = fresh(dlen), *wmeta = fresh(8192), *rmeta = fresh(8192 + 4096);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_WRITE, .slba = 64, .nlb = nlb,
		.data = data, .data_len = dlen, .meta = wmeta, .meta_len = mlen,
	};
	size_t i;

	memset(data, 0x3c, dlen);
	for (i = 0; i < mlen; i++)
		wmeta[i] = (unsigned char)(i * 7 + 1);
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s", nvmeta_last_error());
	io.opcode = NVMETA_OP_READ;
	io.meta = rmeta + 4096 - 8;	/* untouched, crossing a page */
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s", nvmeta_last_error());
	expect_zero_page_clean();
	cr_assert_eq(memcmp(io.meta, wmeta, mlen), 0, "metadata did not come back");
}

Test(quirks, read_into_read_only_metadata_is_refused_cleanly)
{
	unsigned char *data = fresh(info->lba_size), *meta = fresh(4096);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = 0, .nlb = 1,
		.data = data, .data_len = info->lba_size, .meta = meta, .meta_len = info->ms,
	};

	cr_assert_eq(mprotect(meta, 4096, PROT_READ), 0);
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), -EFAULT, "%s", nvmeta_last_error());
	/* Where the kernel pins it without write access the library refuses
	 * it first; elsewhere the kernel refuses it (pinning for writing, or
	 * 6.1's copy-back). */
	if (dev->populate_reads)
		cr_assert(strstr(nvmeta_last_error(), "cannot be written"), "%s",
			  nvmeta_last_error());
	else
		cr_assert(strstr(nvmeta_last_error(), "Bad address"), "%s", nvmeta_last_error());
}

/*
 * The work-around is decided once per device by a probe of what the
 * kernel does, not by its version; on the lab's kernels the probe must
 * find what the lab measured: only 6.12 pins a read's metadata without
 * write access.  Elsewhere a read costs no madvise.
 */
Test(quirks, the_probe_finds_the_kernels_that_need_the_work_around)
{
	bool needs = info->kernel.major == 6 && info->kernel.minor == 12;

	cr_assert_eq(dev->populate_reads, needs, "kernel %s: populate_reads %d (%s)",
		     info->kernel.release, dev->populate_reads, dev->quirk_why);
	printf("quirks: kernel %s: %s\n", info->kernel.release,
	       dev->populate_reads ? dev->quirk_why : "reads go out without madvise");
}
