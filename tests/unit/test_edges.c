// SPDX-License-Identifier: MIT
/*
 * Bad input at the edges, without a device: what validation and the
 * library's own preparation say, each outcome asserted.  The device is
 * fake (/dev/null, an info struct filled in); what only the kernel can
 * find out (an unmapped buffer at submission, one unmapped while in
 * flight) is in tests/guest/guest_edges.c.
 *
 * Decisions, from the NVM Command Set and the kernels the lab runs:
 *   - A metadata length that is not a multiple of 4.  The device moves
 *     nlb x ms bytes whatever the length says; the spec asks a dword
 *     aligned metadata pointer (MPTR) of the controller's view only, and
 *     the kernel never hands the device a user address or length off
 *     dma_alignment: it copies through its own aligned buffer (6.8+:
 *     bio_integrity_map_user(); before 6.8 always).  So only a short one
 *     is refused (-EOVERFLOW: the device would write past it); a longer or
 *     odd one is accepted, and nvmeta_predict() says it bounces.
 *   - A metadata length near 4 GiB.  Lengths are 32-bit everywhere;
 *     validation computes nlb x ms in 64 bits, so the largest format
 *     (ms 65535, nlb 65536) is judged exactly.  A length far above nlb x ms
 *     is the caller's claim about its buffer and passes validation today;
 *     the kernel refuses it (6.8+: more than max_hw_sectors and 256
 *     vectors, E2BIG, which nvmeta_predict() foretells).  But 6.1 kmallocs
 *     all of it: in the lab (bookworm 6.1.176) 8 MiB and 4 GiB - 4 failed
 *     with ENOMEM after a page-allocator WARNING in the kernel log, and 1
 *     to 4 MiB were copied to and from memory past a 4 KiB buffer (EFAULT
 *     where it ran out).  Refusing a length above max_hw_sectors is
 *     proposed (the report of issue 11's concurrency and edges task);
 *     this test then expects -E2BIG.
 *   - A block count whose nlb x block size overflows 32 bits: the data
 *     length (32-bit) cannot say it; -EMSGSIZE, never a wrapped match.
 *   - A metadata buffer on a namespace without metadata: -EPROTO (and a
 *     length without a buffer -EFAULT first); RAW passes it to the kernel.
 *   - An unmapped buffer: validation sees addresses, not mappings, and
 *     accepts it; the library's own work on reads where the kernel pins
 *     metadata without write access (6.12) finds it (-EFAULT), elsewhere
 *     the kernel does (guest_edges).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"

static struct nvmeta_dev dev;
static char data[64 * 1024] __attribute__((aligned(4096)));
static char meta[4096] __attribute__((aligned(4096)));

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cr_assert_geq(dev.fd, 0);
	strcpy(dev.info.generic_path, "/dev/ng0n1");
	dev.info.nsid = 1;
	dev.info.nsze = 1u << 20;
	dev.info.lba_size = 512;
	dev.info.ms = 8;
	dev.info.guard_bits = 16;
	dev.info.mdts_bytes = 512 * 1024;
	dev.info.limits.max_hw_sectors_kb = 512;
	dev.info.limits.dma_alignment = 3;
	dev.info.limits.max_integrity_segments = 1;
	dev.info.limits.max_segments = 127;
	dev.info.kernel.major = 6;
	dev.info.kernel.minor = 12;
}

static void teardown(void)
{
	close(dev.fd);
}

TestSuite(edges, .init = setup, .fini = teardown);

static struct nvmeta_io rd(uint32_t nlb)
{
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = 0, .nlb = nlb,
		.data = data, .data_len = nlb * dev.info.lba_size,
		.meta = meta, .meta_len = nlb * dev.info.ms,
	};
	return io;
}

static void expect(const struct nvmeta_io *io, int err, const char *words)
{
	int ret = nvmeta_io_validate(&dev, io);

	cr_assert_eq(ret, err, "meta_len %u data_len %u nlb %u: got %d (%s), want %d", io->meta_len,
		     io->data_len, io->nlb, ret, ret ? nvmeta_last_error() : "", err);
	if (words)
		cr_assert(strstr(nvmeta_last_error(), words), "message '%s' lacks '%s'",
			  nvmeta_last_error(), words);
}

static void expect_path(enum nvmeta_kind kind, const void *addr, size_t len, enum nvmeta_path path,
			int err, const char *words)
{
	struct nvmeta_prediction p;

	cr_assert_eq(nvmeta_predict(&dev.info, kind, addr, len, &p), 0, "%s", nvmeta_last_error());
	cr_assert_eq(p.path, path, "%zu bytes: %s (%s), want %s", len, nvmeta_path_name(p.path),
		     p.reason, nvmeta_path_name(path));
	cr_assert_eq(p.err, err, "%zu bytes: err %d, want %d (%s)", len, p.err, err, p.reason);
	cr_assert(strstr(p.reason, words), "reason '%s' lacks '%s'", p.reason, words);
}

Test(edges, metadata_length_not_a_multiple_of_4_is_refused_only_when_short)
{
	struct nvmeta_io io = rd(3);	/* 24 bytes needed */
	uint32_t len;

	for (len = 21; len <= 23; len++) {
		io.meta_len = len;
		expect(&io, -EOVERFLOW, "short");
	}
	for (len = 25; len <= 27; len++) {
		io.meta_len = len;
		expect(&io, 0, NULL);
		expect_path(NVMETA_KIND_META, meta, len, NVMETA_PATH_BOUNCE, 0,
			    "not a multiple of 4");
	}
}

/* A format whose metadata is not a whole number of dwords (MS is any
 * 16-bit count): nlb x ms itself is odd, and exactly that is right. */
Test(edges, odd_metadata_size_per_block_needs_exactly_nlb_times_ms)
{
	struct nvmeta_io io;

	dev.info.ms = 5;
	io = rd(3);
	cr_assert_eq(io.meta_len, 15);
	expect(&io, 0, NULL);
	io.meta_len = 14;
	expect(&io, -EOVERFLOW, "3 blocks x 5 bytes need 15");
	expect_path(NVMETA_KIND_META, meta, 15, NVMETA_PATH_BOUNCE, 0, "not a multiple of 4");
	/* Before 6.8 all of it bounces anyway. */
	dev.info.kernel.minor = 1;
	expect_path(NVMETA_KIND_META, meta, 15, NVMETA_PATH_BOUNCE, 0, "before 6.8");
}

/* The kernel maps all of meta_len, not nlb x ms: 6.8 on refuses more
 * than max_hw_sectors (E2BIG); 6.1 kmallocs it, and from 8 MiB the page
 * allocator WARNs before the command fails with ENOMEM (seen in the lab).
 * Validation refuses what the kernel would not map. */
Test(edges, metadata_length_near_4_gib_is_refused_above_what_the_kernel_maps)
{
	struct nvmeta_io io = rd(1);

	io.meta_len = dev.info.limits.max_hw_sectors_kb * 1024;
	expect(&io, 0, NULL);
	io.meta_len++;
	expect(&io, -E2BIG, "max_hw_sectors_kb");
	io.meta_len = UINT32_MAX;
	expect(&io, -E2BIG, "4294967295");
	io.meta_len = UINT32_MAX - 3;
	expect(&io, -E2BIG, "max_hw_sectors_kb");
	/* What 6.8+ does with it: above max_hw_sectors (and 256 vectors). */
	expect_path(NVMETA_KIND_META, meta, UINT32_MAX - 3, NVMETA_PATH_FAIL, -E2BIG,
		    "exceed max_hw_sectors_kb");
	/* One byte more than a command carries. */
	expect_path(NVMETA_KIND_META, meta, (size_t)UINT32_MAX + 1, NVMETA_PATH_FAIL, -E2BIG,
		    "4294967295");
}

/* The largest format: ms 65535, nlb 65536 need 4294901760 bytes, just
 * below 4 GiB; computed in 32 bits from a 16-bit ms it would still fit,
 * but a check that wrapped anywhere would take 65535 for enough. */
Test(edges, metadata_need_is_exact_at_the_largest_format)
{
	struct nvmeta_io io;

	dev.info.ms = 65535;
	dev.info.mdts_bytes = 0;
	dev.info.limits.max_hw_sectors_kb = 0;
	io = rd(65536);
	io.data_len = 65536u * 512;
	io.meta_len = 4294901760u;
	expect(&io, 0, NULL);
	io.meta_len = 4294901759u;
	expect(&io, -EOVERFLOW, "4294901760");
	io.meta_len = 65535;
	expect(&io, -EOVERFLOW, "short");
}

/* nlb x block size above 32 bits: 65536 blocks of 64 KiB are 4 GiB, which
 * a 32-bit data length wraps to 0.  No length can say it. */
Test(edges, block_count_times_block_size_overflowing_32_bits_is_refused)
{
	static const uint32_t lens[] = { 0, 1, 65536, UINT32_MAX };
	struct nvmeta_io io;
	size_t i;

	dev.info.lba_size = 65536;
	dev.info.ms = 0;
	dev.info.mdts_bytes = 0;
	dev.info.limits.max_hw_sectors_kb = 0;
	io = rd(65536);
	io.meta = NULL;
	io.meta_len = 0;
	cr_assert_eq((uint32_t)(io.nlb * dev.info.lba_size), 0, "the product wraps in 32 bits");
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		io.data_len = lens[i];
		io.data = lens[i] ? data : NULL;
		expect(&io, -EMSGSIZE, "4294967296");
	}
	/* An extended LBA format gets there sooner: 65536 x (65535 + 1). */
	dev.info.lba_size = 65535;
	dev.info.ms = 1;
	dev.info.extended_lba = true;
	io.data_len = 0;
	io.data = NULL;
	expect(&io, -EMSGSIZE, "4294967296");
	/* With the kernel's limit in place, the transfer size says it first. */
	dev.info.limits.max_hw_sectors_kb = 512;
	io.data = data;
	io.data_len = 1;
	expect(&io, -E2BIG, "4294967296 bytes");
}

Test(edges, a_range_that_wraps_64_bits_is_out_of_range)
{
	struct nvmeta_io io = rd(4);

	io.slba = UINT64_MAX - 1;
	expect(&io, -ERANGE, "beyond namespace size");
	io.slba = dev.info.nsze - 3;
	expect(&io, -ERANGE, "beyond namespace size");
	io.slba = dev.info.nsze - 4;
	expect(&io, 0, NULL);
}

Test(edges, metadata_buffer_on_a_namespace_without_metadata)
{
	struct nvmeta_io io;

	dev.info.ms = 0;
	io = rd(2);
	io.meta = meta;
	io.meta_len = 16;
	expect(&io, -EPROTO, "no metadata");
	/* A length without a buffer is a different mistake, said first. */
	io.meta = NULL;
	expect(&io, -EFAULT, "need both or neither");
	/* Without either, the same read is fine. */
	io.meta_len = 0;
	expect(&io, 0, NULL);
	/* RAW: what the fields can carry is all that is checked. */
	io.meta = meta;
	io.meta_len = 16;
	io.flags = NVMETA_IO_RAW;
	expect(&io, 0, NULL);
	/* Extended LBA: the metadata rides in the data buffer. */
	dev.info.ms = 8;
	dev.info.extended_lba = true;
	io = rd(2);
	io.data_len = 2 * 520;
	expect(&io, -EPROTO, "extended LBA");
}

static void *unmapped_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	cr_assert_eq(munmap(p, 4096), 0);
	return p;
}

Test(edges, unmapped_buffer_passes_validation_and_the_read_populate_finds_it)
{
	unsigned char sqe[128] __attribute__((aligned(64)));
	struct nvmeta_io io = rd(2);
	void *hole = unmapped_page();

	/* Validation sees an address and a length. */
	io.meta = hole;
	expect(&io, 0, NULL);
	io.data = hole;
	io.meta = meta;
	expect(&io, 0, NULL);

	/* A kernel that pins a read's metadata without write access (6.12):
	 * the library populates it first and finds the hole itself. */
	io = rd(2);
	io.meta = hole;
	dev.populate_reads = true;
	cr_assert_eq(nvmeta_prep(&dev, (struct io_uring_sqe *)sqe, &io), -EFAULT, "%s",
		     nvmeta_last_error());
	/* Told the memory was made ready, it leaves it to the kernel. */
	io.flags = NVMETA_IO_NO_PREFAULT;
	cr_assert_eq(nvmeta_prep(&dev, (struct io_uring_sqe *)sqe, &io), 0, "%s",
		     nvmeta_last_error());
	/* A write's metadata is only read by the kernel: nothing to do. */
	io.flags = 0;
	io.opcode = NVMETA_OP_WRITE;
	cr_assert_eq(nvmeta_prep(&dev, (struct io_uring_sqe *)sqe, &io), 0, "%s",
		     nvmeta_last_error());
	/* Elsewhere the kernel finds it (guest_edges: EFAULT). */
	io.opcode = NVMETA_OP_READ;
	dev.populate_reads = false;
	cr_assert_eq(nvmeta_prep(&dev, (struct io_uring_sqe *)sqe, &io), 0, "%s",
		     nvmeta_last_error());
}
