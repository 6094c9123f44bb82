// SPDX-License-Identifier: MIT
/*
 * In the lab: buffers the kernel cannot use, and buffers taken away while
 * the kernel uses them.  Validation sees only lengths and addresses; what
 * is mapped there is the kernel's to find out.
 *
 *   - An unmapped data or metadata buffer: -EFAULT, and nothing else moved
 *     (not the namespace's blocks, not the other buffer, not the pages
 *     around the hole).
 *   - Data and metadata munmap'ed while reads into them are in flight, the
 *     addresses mapped afresh at once, the completions processed only
 *     then (a DEFER_TASKRUN ring): every completion arrives, and memory
 *     mapped afresh over a pinned buffer is not written, since the kernel
 *     holds its pin on the old pages (aligned data always; metadata from
 *     Linux 6.8, which also copies a bounced one back into its pinned
 *     pages).  A bounced buffer is another matter: a read's copy-out at
 *     completion goes to the user address, into whatever is mapped there
 *     by then (data off the DMA alignment on every kernel, all metadata
 *     before 6.8).  include/nvmeta/buf.h (nvmeta_buf_free) says what a
 *     caller must not do.

 *   - The controller reset (sysfs reset_controller) while commands are in
 *     flight: no hang, any failure a plain errno, and afterwards every
 *     command works and every byte written before is there.  (A removed
 *     controller is not tried here: the suite's later steps need it.)
 *
 * LBAs 13312 up, past guest_threads' range and below nvmeta-ring's.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest_env.h"
#include "nvmeta.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define EDGE_LBA	13312
#define EDGE_NLB	2
#define FLIGHT_LBA	13376
#define FLIGHT_IOS	8
#define FLIGHT_BYTES	(64 * 1024)	/* data bytes a read */
#define RESET_LBA	13320		/* to 13351: between the two above */
#define RESET_NLB	8
#define RESET_SLOTS	4

#define SENTINEL	0x5c
#define FRESH		0xc5

static struct nvmeta_dev *dev;
static const struct nvmeta_dev_info *info;
static struct io_uring ring;
static uint32_t per_lba;
static bool separate;
static size_t page;

static void setup(void)
{
	info = guest_open(&dev, &ring, 2 * FLIGHT_IOS);
	per_lba = info->lba_size + (info->extended_lba ? info->ms : 0);
	separate = info->ms && !info->extended_lba;
	page = (size_t)sysconf(_SC_PAGESIZE);
}

static void teardown(void)
{
	guest_close(dev, &ring);
}

TestSuite(edges, .init = setup, .fini = teardown);

static bool metadata_pinned_kernel(void)
{
	return NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 8);
}

static size_t round_page(size_t len)
{
	return (len + page - 1) / page * page;
}

/* @len bytes of unmapped memory, rounded up to pages, between two mapped
 * pages full of SENTINEL: returns the hole.  Make it last: the next mmap
 * of its size would land in it. */
static unsigned char *hole(size_t len)
{
	size_t mid = round_page(len);
	unsigned char *p = mmap(NULL, mid + 2 * page, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	memset(p, SENTINEL, mid + 2 * page);
	cr_assert_eq(munmap(p + page, mid), 0);
	return p + page;
}

static void hole_check(unsigned char *h, size_t len, const char *what)
{
	size_t mid = round_page(len), i;

	for (i = 0; i < page; i++) {
		cr_assert_eq(h[-(ptrdiff_t)page + i], SENTINEL, "%s: the page before the hole moved (byte %zu)",
			     what, i);
		cr_assert_eq(h[mid + i], SENTINEL, "%s: the page after the hole moved (byte %zu)", what, i);
	}
	munmap(h - page, page);
	munmap(h + mid, page);
}

static unsigned char *mapped(size_t len, int fill)
{
	unsigned char *p = mmap(NULL, round_page(len), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	memset(p, fill, round_page(len));
	return p;
}

static void unmap(unsigned char *p, size_t len)
{
	munmap(p, round_page(len));
}

static unsigned char byte_at(size_t i, int gen)
{
	return (unsigned char)(i * 13 + i / 509 + gen * 71 + 3);
}

static void fill_gen(unsigned char *p, size_t len, int gen)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = byte_at(i, gen);
}

/* The offset of the first byte not of generation @gen, plus one; 0. */
static size_t differs_gen(const unsigned char *p, size_t len, int gen)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != byte_at(i, gen))
			return i + 1;
	return 0;
}

static size_t differs(const unsigned char *p, size_t len, int c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return i + 1;
	return 0;
}

static struct nvmeta_io edge_io(uint8_t op, void *data, void *meta)
{
	struct nvmeta_io io = {
		.opcode = op, .slba = EDGE_LBA, .nlb = EDGE_NLB,
		.data = data, .data_len = EDGE_NLB * per_lba,
		.meta = separate ? meta : NULL, .meta_len = separate ? EDGE_NLB * info->ms : 0,
	};
	return io;
}

/* Write generation @gen to the edge blocks, or check that they hold it. */
static void edge_blocks(int gen, bool write, const char *after)
{
	size_t dlen = EDGE_NLB * per_lba, mlen = EDGE_NLB * info->ms;
	unsigned char *d = mapped(dlen, 0), *m = mapped(mlen ? mlen : 1, 0);
	struct nvmeta_io io = edge_io(write ? NVMETA_OP_WRITE : NVMETA_OP_READ, d, m);
	size_t bad;

	if (write) {
		fill_gen(d, dlen, gen);
		fill_gen(m, mlen, gen + 1);
	}
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s: %s",
		     write ? "write" : "read", nvmeta_last_error());
	if (!write) {
		bad = differs_gen(d, dlen, gen);
		cr_assert_eq(bad, 0, "after %s: data byte %zu of the blocks changed", after, bad - 1);
		bad = separate ? differs_gen(m, mlen, gen + 1) : 0;
		cr_assert_eq(bad, 0, "after %s: metadata byte %zu of the blocks changed", after,
			     bad - 1);
	}
	unmap(d, dlen);
	unmap(m, mlen ? mlen : 1);
}

static void expect_efault(struct nvmeta_io *io, const char *what)
{
	int ret = nvmeta_io_sync(dev, &ring, io, NULL);

	cr_assert_eq(ret, -EFAULT, "%s: got %d (%s), want -EFAULT", what, ret,
		     ret ? nvmeta_last_error() : "success");
	cr_log_info("%s: -EFAULT (%s)", what, nvmeta_last_error());
}

Test(edges, unmapped_write_buffers_fail_with_efault_and_move_no_block)
{
	size_t dlen = EDGE_NLB * per_lba, mlen = EDGE_NLB * info->ms, bad;
	unsigned char *d, *m;
	struct nvmeta_io io;

	edge_blocks(1, true, NULL);

	m = mapped(mlen ? mlen : 1, 0);	/* first: a later mmap may fill the hole */
	fill_gen(m, mlen, 7);
	d = hole(dlen);
	io = edge_io(NVMETA_OP_WRITE, d, m);
	expect_efault(&io, "write from unmapped data");
	hole_check(d, dlen, "write from unmapped data");
	bad = differs_gen(m, mlen, 7);
	cr_assert_eq(bad, 0, "write from unmapped data: metadata source byte %zu moved", bad - 1);
	unmap(m, mlen ? mlen : 1);
	edge_blocks(1, false, "a write from unmapped data");

	if (!separate)
		return;
	d = mapped(dlen, 0);
	fill_gen(d, dlen, 7);
	m = hole(mlen);
	io = edge_io(NVMETA_OP_WRITE, d, m);
	expect_efault(&io, "write from unmapped metadata");
	hole_check(m, mlen, "write from unmapped metadata");
	bad = differs_gen(d, dlen, 7);
	cr_assert_eq(bad, 0, "write from unmapped metadata: data source byte %zu moved", bad - 1);
	unmap(d, dlen);
	edge_blocks(1, false, "a write from unmapped metadata");
}

Test(edges, unmapped_read_buffers_fail_with_efault)
{
	size_t dlen = EDGE_NLB * per_lba, mlen = EDGE_NLB * info->ms, bad;
	unsigned char *d, *m;
	struct nvmeta_io io;

	edge_blocks(3, true, NULL);

	/* The data is mapped first and fails at once: the metadata buffer
	 * stays as it was on every kernel. */
	m = mapped(mlen ? mlen : 1, SENTINEL);
	d = hole(dlen);
	io = edge_io(NVMETA_OP_READ, d, m);
	expect_efault(&io, "read into unmapped data");
	hole_check(d, dlen, "read into unmapped data");
	bad = differs(m, mlen, SENTINEL);
	cr_assert_eq(bad, 0, "read into unmapped data: metadata byte %zu moved", bad - 1);
	unmap(m, mlen ? mlen : 1);
	if (!separate)
		return;

	/* Unmapped metadata, past the library's own check (which on 6.12
	 * finds it first: the next case) to the kernel's. */
	d = mapped(dlen, SENTINEL);
	m = hole(mlen);
	io = edge_io(NVMETA_OP_READ, d, m);
	io.flags = NVMETA_IO_NO_PREFAULT;
	expect_efault(&io, "read into unmapped metadata (no prefault)");
	hole_check(m, mlen, "read into unmapped metadata (no prefault)");
	bad = differs(d, dlen, SENTINEL);
	if (metadata_pinned_kernel()) {
		/* 6.8+ pins the metadata before the command goes out. */
		cr_assert_eq(bad, 0, "read into unmapped metadata: data byte %zu moved", bad - 1);
	} else {
		/* Before 6.8 the command runs and the copy-out at completion
		 * fails: the data arrived. */
		cr_log_info("kernel %s: read into unmapped metadata: data buffer %s", info->kernel.release,
			    bad ? "was read into (the metadata copy-out failed afterwards)" : "untouched");
	}
	unmap(d, dlen);

	d = mapped(dlen, SENTINEL);
	m = hole(mlen);
	io = edge_io(NVMETA_OP_READ, d, m);
	expect_efault(&io, "read into unmapped metadata");
	hole_check(m, mlen, "read into unmapped metadata");
	/* The library's check (6.12) or the kernel's pin (6.8+) comes first:
	 * no command runs; before 6.8 it may, as above. */
	bad = differs(d, dlen, SENTINEL);
	if (metadata_pinned_kernel())
		cr_assert_eq(bad, 0, "read into unmapped metadata: data byte %zu moved", bad - 1);
	unmap(d, dlen);
	edge_blocks(3, false, "the reads");
}

/* The test's process is its own: nothing else maps into the range between
 * munmap and mmap. */
static void remap_fresh(unsigned char *p, size_t len)
{
	void *q;

	cr_assert_eq(munmap(p, len), 0);
	q = mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		 -1, 0);
	cr_assert_eq(q, (void *)p, "mmap at %p again: %p", (void *)p, q);
	memset(p, FRESH, len);
}

/* A ring whose completions are only processed when the test reaps them
 * (DEFER_TASKRUN, 6.1 on): whenever the device finishes, the kernel's
 * completion work (unpinning, and the copy-out of a bounced read) runs
 * after the buffers were unmapped and mapped afresh, on every run. */
static void deferred_ring(struct io_uring *r)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | IORING_SETUP_SINGLE_ISSUER |
			 IORING_SETUP_DEFER_TASKRUN,
	};
	int ret = io_uring_queue_init_params(2 * FLIGHT_IOS, r, &p);

	cr_assert_eq(ret, 0, "io_uring_queue_init_params(DEFER_TASKRUN): %d", ret);
}

struct flight {
	uint32_t nlb;
	size_t dlen, dstride, mlen, mstride, dall, mall, doff;
	unsigned char *d, *m;
};

static struct nvmeta_io flight_io(const struct flight *f, uint8_t op, unsigned int i)
{
	struct nvmeta_io io = {
		.opcode = op, .slba = FLIGHT_LBA + i * f->nlb, .nlb = f->nlb,
		.data = f->d + i * f->dstride + f->doff, .data_len = f->dlen,
		.meta = separate ? f->m + i * f->mstride : NULL, .meta_len = separate ? f->mlen : 0,
	};
	return io;
}

/*
 * Queue FLIGHT_IOS reads, submit, munmap data and metadata, map the same
 * addresses afresh (FRESH), then reap.  @doff: the data's offset in its
 * page, 0 (pinned) or off the DMA alignment (bounced through the kernel).
 */
static void munmap_in_flight(size_t doff)
{
	struct flight f = { .nlb = FLIGHT_BYTES / info->lba_size, .doff = doff };
	struct nvmeta_completion c[FLIGHT_IOS];
	unsigned int i, got = 0;
	struct io_uring r;
	struct nvmeta_io io;
	size_t bad;
	int n;

	f.dlen = (size_t)f.nlb * per_lba;
	f.dstride = round_page(f.dlen + doff);
	f.mlen = (size_t)f.nlb * info->ms;
	f.mstride = round_page(f.mlen ? f.mlen : 1);
	f.dall = f.dstride * FLIGHT_IOS;
	f.mall = f.mstride * FLIGHT_IOS;
	f.d = mapped(f.dall, 0);
	f.m = mapped(f.mall, 0);
	cr_assert_leq(FLIGHT_LBA + (uint64_t)f.nlb * FLIGHT_IOS, info->nsze);
	/* Something to read that differs from both fills. */
	for (i = 0; i < FLIGHT_IOS; i++) {
		io = flight_io(&f, NVMETA_OP_WRITE, i);
		fill_gen(io.data, f.dlen, 11 + i);
		fill_gen(f.m + i * f.mstride, f.mlen, 21 + i);
		cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s", nvmeta_last_error());
	}
	memset(f.d, SENTINEL, f.dall);
	memset(f.m, SENTINEL, f.mall);

	deferred_ring(&r);
	for (i = 0; i < FLIGHT_IOS; i++) {
		io = flight_io(&f, NVMETA_OP_READ, i);
		cr_assert_eq(nvmeta_queue(dev, &r, &io, i), 0, "%s", nvmeta_last_error());
	}
	cr_assert_eq(io_uring_submit(&r), FLIGHT_IOS);
	remap_fresh(f.d, f.dall);
	remap_fresh(f.m, f.mall);
	while (got < FLIGHT_IOS) {
		n = nvmeta_reap(&r, 1, c, FLIGHT_IOS);
		if (n == -EINTR)
			continue;
		cr_assert_gt(n, 0, "reap: %d %s", n, nvmeta_last_error());
		for (i = 0; i < (unsigned int)n; i++) {
			cr_assert_lt(c[i].user_data, FLIGHT_IOS);
			cr_assert_eq(c[i].ret, 0, "read %" PRIu64 ": %d (status 0x%x)",
				     c[i].user_data, c[i].ret, c[i].status.status);
		}
		got += n;
	}
	io_uring_queue_exit(&r);

	for (i = 0; i < FLIGHT_IOS; i++) {
		unsigned char *dp = f.d + i * f.dstride, *mp = f.m + i * f.mstride;

		if (!doff) {
			/* Pinned: the device wrote the old pages, which the
			 * kernel held until it was done with them. */
			bad = differs(dp, f.dstride, FRESH);
			cr_assert_eq(bad, 0, "pinned data: memory mapped afresh at read %u's address was written (byte %zu)",
				     i, bad - 1);
		} else {
			/* Bounced: the copy-out goes to the address. */
			bad = differs_gen(dp + doff, f.dlen, 11 + i);
			cr_assert_eq(bad, 0, "bounced data: read %u's copy-out did not land at its address (byte %zu)",
				     i, bad - 1);
		}
		if (!separate)
			continue;
		if (metadata_pinned_kernel()) {
			/* 6.8+ pins metadata, and copies a bounced one back
			 * into the pinned pages, not to the address. */
			bad = differs(mp, f.mstride, FRESH);
			cr_assert_eq(bad, 0, "kernel %s: metadata mapped afresh at read %u's address was written (byte %zu)",
				     info->kernel.release, i, bad - 1);
		} else {
			/* Before 6.8: copy_to_user() at completion. */
			bad = differs_gen(mp, f.mlen, 21 + i);
			cr_assert_eq(bad, 0, "kernel %s: read %u's metadata copy-out did not land at its address (byte %zu)",
				     info->kernel.release, i, bad - 1);
		}
	}
	cr_log_info("kernel %s, data %s: %u reads completed after their buffers were unmapped; data mapped afresh %s, metadata mapped afresh %s",
		    info->kernel.release, doff ? "off the DMA alignment (bounced)" : "aligned (pinned)",
		    FLIGHT_IOS, doff ? "received the copy-out" : "untouched",
		    !separate ? "(none)" : metadata_pinned_kernel() ? "untouched" : "received the copy-out");
	unmap(f.d, f.dall);
	unmap(f.m, f.mall);
}

Test(edges, munmap_while_in_flight_pinned_data_keeps_the_pin, .timeout = 300)
{
	munmap_in_flight(0);
}

Test(edges, munmap_while_in_flight_bounced_data_is_copied_to_the_address, .timeout = 300)
{
	/* Without a DMA alignment no data address bounces: offset 0 would
	 * run the pinned case under this name. */
	if (!info->limits.dma_alignment)
		cr_skip_test("%s: dma_alignment 0, no data buffer is bounced", info->generic_path);
	munmap_in_flight(1);
}

struct resetter {
	char path[128];
	useconds_t delay;
	int err;		/* 0, or the errno of the write */
	_Atomic bool done;
};

static void *reset_controller(void *arg)
{
	struct resetter *r = arg;
	int fd;

	usleep(r->delay);
	fd = open(r->path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		r->err = errno;
	if (fd >= 0)
		close(fd);
	r->done = true;
	return NULL;
}

/* The controller's reset_controller.  info->ctrl_name is the controller
 * (nvme0), or, for a namespace under native multipath (QEMU 10's
 * controller here), its subsystem (nvme-subsys0): then its first
 * controller's. */
static void reset_path(char *path, size_t len)
{
	glob_t g;

	snprintf(path, len, "/sys/class/nvme/%s/reset_controller", info->ctrl_name);
	if (!access(path, F_OK))
		return;
	snprintf(path, len, "/sys/class/nvme-subsystem/%s/nvme[0-9]*/reset_controller",
		 info->ctrl_name);
	if (glob(path, 0, NULL, &g))
		return;
	snprintf(path, len, "%s", g.gl_pathv[0]);
	globfree(&g);
}

/* Write generation @gen to slot @i's blocks and read it back, both
 * synchronous.  Returns 0, or the first failure's errno. */
static int reset_roundtrip(unsigned char *d, unsigned char *m, unsigned int i, int gen,
			   bool *exact)
{
	size_t dlen = RESET_NLB * per_lba, mlen = RESET_NLB * info->ms;
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_WRITE, .slba = RESET_LBA + i * RESET_NLB, .nlb = RESET_NLB,
		.data = d, .data_len = dlen,
		.meta = separate ? m : NULL, .meta_len = separate ? mlen : 0,
	};
	int ret;

	fill_gen(d, dlen, gen);
	fill_gen(m, mlen, gen + 1);
	ret = nvmeta_io_sync(dev, &ring, &io, NULL);
	if (ret)
		return ret;
	memset(d, 0, dlen);
	memset(m, 0, mlen);
	io.opcode = NVMETA_OP_READ;
	ret = nvmeta_io_sync(dev, &ring, &io, NULL);
	if (ret)
		return ret;
	*exact = !differs_gen(d, dlen, gen) && !(separate && differs_gen(m, mlen, gen + 1));
	return 0;
}

Test(edges, controller_reset_in_flight_no_hang_and_exact_after, .timeout = 300)
{
	size_t dlen = RESET_NLB * per_lba, mlen = RESET_NLB * info->ms;
	unsigned char *d = mapped(dlen, 0), *m = mapped(mlen ? mlen : 1, 0);
	struct resetter r = { .delay = 100000 };
	unsigned int k, after = 0, failed = 0, inexact = 0;
	int last[RESET_SLOTS] = { 0 }, ret, first_err = 0;
	pthread_t th;
	bool exact, done_in_time;

	reset_path(r.path, sizeof(r.path));
	if (access(r.path, W_OK))
		cr_skip_test("%s: not writable here", r.path);
	cr_assert_eq(pthread_create(&th, NULL, reset_controller, &r), 0);
	/* Round trips until the reset is done, and 100 more. */
	for (k = 0; k < 100000 && after < 100; k++) {
		unsigned int i = k % RESET_SLOTS;

		after += r.done;
		ret = reset_roundtrip(d, m, i, (int)k, &exact);
		if (ret) {
			/* A failed write may or may not have landed. */
			failed++;
			first_err = first_err ? first_err : ret;
			last[i] = -1;
			cr_assert_lt(ret, 0);
			continue;
		}
		last[i] = (int)k;
		inexact += !exact;
	}
	/* Read before the join, which waits for the reset however long it
	 * takes: done then is always true. */
	done_in_time = r.done;
	pthread_join(th, NULL);
	cr_assert(done_in_time, "the reset did not finish within %u round trips", k);
	cr_assert_eq(r.err, 0, "write to %s: %s", r.path, strerror(r.err));
	cr_log_info("%s: controller reset during %u round trips: %u failed (first %d: %s), %u read back wrong",
		    r.path, k, failed, first_err, first_err ? nvmeta_last_error() : "none", inexact);
	cr_assert_eq(inexact, 0, "%u round trips read back other bytes than they wrote", inexact);

	/* After the reset: every slot holds its last good write, and new
	 * commands work. */
	for (k = 0; k < RESET_SLOTS; k++) {
		struct nvmeta_io io = {
			.opcode = NVMETA_OP_READ, .slba = RESET_LBA + k * RESET_NLB, .nlb = RESET_NLB,
			.data = d, .data_len = dlen,
			.meta = separate ? m : NULL, .meta_len = separate ? mlen : 0,
		};
		size_t bad;

		cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "read after the reset: %s",
			     nvmeta_last_error());
		if (last[k] < 0)
			goto fresh;
		bad = differs_gen(d, dlen, last[k]);
		cr_assert_eq(bad, 0, "slot %u: data byte %zu differs from the last good write", k, bad - 1);
		bad = separate ? differs_gen(m, mlen, last[k] + 1) : 0;
		cr_assert_eq(bad, 0, "slot %u: metadata byte %zu differs from the last good write", k,
			     bad - 1);
fresh:
		cr_assert_eq(reset_roundtrip(d, m, k, 9000 + (int)k, &exact), 0, "%s", nvmeta_last_error());
		cr_assert(exact);
	}
	unmap(d, dlen);
	unmap(m, mlen ? mlen : 1);
}
