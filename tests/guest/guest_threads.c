// SPDX-License-Identifier: MIT
/*
 * In the lab: many threads on one shared device, each on its own ring,
 * with its own buffer layouts, on its own LBA range, at once.  What the
 * umbrella header promises: a device may be shared, a ring may not, slots
 * are shared read-only, a buffer carries one command at a time.
 *
 * Each thread keeps QD commands in flight with nvmeta_queue()/nvmeta_reap()
 * (IOS in all): per slot a write of a new generation of a pattern unique
 * to thread, LBA and byte, then READS_PER_WRITE reads into a buffer filled
 * with the pattern's complement, every byte of data and metadata compared
 * and the buffer's canaries checked after every completion.  Another
 * thread's command landing in this thread's blocks or buffers, a lost or
 * misrouted completion, or a DMA past a buffer all show up.
 *
 * LBAs 12288 up: 64 blocks a thread, 16 threads at most (to 13311), below
 * the blocks nvmeta-ring uses at the end of the namespace.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest_env.h"
#include "nvmeta.h"

#define BASE_LBA	12288
#define THREAD_LBAS	64
#define NLB		4
#define QD		4
#define CHUNKS		(THREAD_LBAS / NLB)	/* 16: each slot owns 4 */
#define IOS		200
#define READS_PER_WRITE	2
#define MAX_THREADS	16
/* Blocks between threads' ranges; building with -DTHREAD_STRIDE=0 puts
 * every thread on the same blocks, which must fail (the test's own test). */
#ifndef THREAD_STRIDE
#define THREAD_STRIDE	THREAD_LBAS
#endif
#define META_SLOTS	(-1)	/* the thread takes the shared slots */

struct layout {
	const char *name;
	int meta;		/* enum nvmeta_layout, or META_SLOTS */
	enum nvmeta_backing meta_backing;
	size_t meta_offset;
	int data;		/* enum nvmeta_layout */
	enum nvmeta_backing data_backing;
	size_t data_offset;
};

/* One per thread: every layout on both buffers, and the shared slots. */
static const struct layout layouts[8] = {
	{ "meta pinned, data page", NVMETA_LAYOUT_PINNED, 0, 0, NVMETA_LAYOUT_PAGE, 0, 0 },
	{ "meta misaligned, data page", NVMETA_LAYOUT_MISALIGNED, 0, 1, NVMETA_LAYOUT_PAGE, 0, 0 },
	{ "meta fragmented, data pinned", NVMETA_LAYOUT_FRAGMENTED, 0, 0, NVMETA_LAYOUT_PINNED, 0, 0 },
	{ "meta page, data misaligned", NVMETA_LAYOUT_PAGE, 0, 0, NVMETA_LAYOUT_MISALIGNED, 0, 2 },
	{ "meta malloc, data malloc", NVMETA_LAYOUT_MALLOC, 0, 0, NVMETA_LAYOUT_MALLOC, 0, 0 },
	{ "meta slots, data fragmented", META_SLOTS, 0, 0, NVMETA_LAYOUT_FRAGMENTED, 0, 0 },
	{ "meta huge-span, data memfd page", NVMETA_LAYOUT_HUGE_SPAN, 0, 0, NVMETA_LAYOUT_PAGE,
	  NVMETA_BACKING_MEMFD, 0 },
	{ "meta memfd misaligned, data malloc", NVMETA_LAYOUT_MISALIGNED, NVMETA_BACKING_MEMFD, 3,
	  NVMETA_LAYOUT_MALLOC, 0, 0 },
};

struct slot {
	struct nvmeta_buf *data, *meta;	/* meta NULL: none, or a shared slot */
	unsigned char *meta_addr;
	unsigned int chunk;		/* which of the thread's chunks: 0..3 */
	unsigned int reads_left;
	uint32_t gen;
	bool reading;
};

struct worker {
	unsigned int idx;		/* unique across the test: the pattern's thread */
	struct nvmeta_dev *dev;
	const struct nvmeta_dev_info *info;
	const struct layout *lay;
	struct nvmeta_slots *slots;	/* shared by every thread, read-only */
	pthread_barrier_t *start;
	uint64_t base;
	struct io_uring ring;
	struct slot s[QD];
	uint32_t per_lba;
	bool meta;			/* the namespace takes a separate buffer */
	unsigned int issued, done, writes, reads;
	char became[400];		/* the layouts as allocated, fallbacks named */
	bool quiet;			/* slots after the first: said once is enough */
	int failed;
	char err[400];
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Byte @off of a block whose seed is block_seed(). */
static uint8_t pattern(uint64_t seed, size_t off)
{
	return (uint8_t)(seed >> ((off & 7) * 8)) ^ (uint8_t)((off >> 3) * 0x3b);
}

/* Block @lba, generation @gen of thread @idx, in the data (@kind 0) or
 * metadata (1): every input changes every byte's pattern. */
static uint64_t block_seed(unsigned int idx, uint64_t lba, uint32_t gen, int kind)
{
	return mix((uint64_t)idx << 56 ^ lba << 20 ^ (uint64_t)gen << 1 ^ (uint64_t)kind);
}

static void fill(unsigned char *p, uint32_t unit, unsigned int idx, uint64_t slba, uint32_t gen,
		 int kind, bool invert)
{
	unsigned int b;
	size_t i;

	for (b = 0; b < NLB; b++) {
		uint64_t seed = block_seed(idx, slba + b, gen, kind);

		for (i = 0; i < unit; i++)
			p[b * unit + i] = pattern(seed, i) ^ (invert ? 0xff : 0);
	}
}

/* 0, or the offset of the first wrong byte plus one. */
static size_t verify(const unsigned char *p, uint32_t unit, unsigned int idx, uint64_t slba,
		     uint32_t gen, int kind)
{
	unsigned int b;
	size_t i;

	for (b = 0; b < NLB; b++) {
		uint64_t seed = block_seed(idx, slba + b, gen, kind);

		for (i = 0; i < unit; i++)
			if (p[b * unit + i] != pattern(seed, i))
				return b * unit + i + 1;
	}
	return 0;
}

static void failf(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->failed++)
		return;
	n = snprintf(w->err, sizeof(w->err), "thread %u (%s) on %s: ", w->idx, w->lay->name,
		     w->info->generic_path);
	va_start(ap, fmt);
	vsnprintf(w->err + n, sizeof(w->err) - n, fmt, ap);
	va_end(ap);
}

static void note(struct worker *w, const char *what, const struct nvmeta_buf *b, int asked)
{
	size_t n = strlen(w->became);

	if (w->quiet || ((int)b->layout == asked && !b->note[0]))
		return;
	snprintf(w->became + n, sizeof(w->became) - n, "%s%s became %s%s%s", n ? "; " : "", what,
		 nvmeta_layout_name(b->layout), b->note[0] ? ": " : "", b->note);
}

static int alloc_buf(struct worker *w, int layout, enum nvmeta_backing backing, size_t offset,
		     size_t len, uint32_t flags, const char *what, struct nvmeta_buf **out)
{
	struct nvmeta_buf_spec spec = {
		.layout = (enum nvmeta_layout)layout, .backing = backing, .len = len,
		.offset = offset, .flags = flags | NVMETA_BUF_CANARY | NVMETA_BUF_FALLBACK,
	};
	int ret;

	/* Data above max_segments fails in the kernel (it has no copy path
	 * for that), so a fragmented data buffer spans two pages that are
	 * not physically contiguous: within the limit, yet more than one
	 * segment. */
	if (layout == NVMETA_LAYOUT_FRAGMENTED && (flags & NVMETA_BUF_DATA))
		spec.segments = 2;
	ret = nvmeta_buf_alloc(w->info, &spec, out);
	/* PINNED before 6.8 (metadata always bounces) and HUGE_SPAN without
	 * huge pages cannot be had: the thread runs on PAGE instead, and
	 * says so. */
	if (ret && (layout == NVMETA_LAYOUT_PINNED || layout == NVMETA_LAYOUT_HUGE_SPAN)) {
		size_t n = strlen(w->became);

		if (!w->quiet)
			snprintf(w->became + n, sizeof(w->became) - n,
				 "%s%s %s refused (%d: %.160s), page instead", n ? "; " : "", what,
				 nvmeta_layout_name(spec.layout), ret, nvmeta_last_error());
		spec.layout = NVMETA_LAYOUT_PAGE;
		spec.backing = NVMETA_BACKING_ANON;
		spec.offset = 0;
		return nvmeta_buf_alloc(w->info, &spec, out);
	}
	if (!ret)
		note(w, what, *out, layout);
	return ret;
}

static int setup_slot(struct worker *w, unsigned int i)
{
	struct slot *s = &w->s[i];
	int ret;

	w->quiet = i > 0;
	ret = alloc_buf(w, w->lay->data, w->lay->data_backing, w->lay->data_offset,
			(size_t)NLB * w->per_lba, NVMETA_BUF_DATA, "data", &s->data);
	if (ret)
		return ret;
	if (!w->meta)
		return 0;
	if (w->lay->meta == META_SLOTS) {
		s->meta_addr = nvmeta_slot(w->slots, w->idx * QD + i);
		return s->meta_addr ? 0 : -ERANGE;
	}
	ret = alloc_buf(w, w->lay->meta, w->lay->meta_backing, w->lay->meta_offset,
			(size_t)NLB * w->info->ms, 0, "meta", &s->meta);
	if (ret)
		return ret;
	s->meta_addr = s->meta->addr;
	return 0;
}

static uint64_t slot_lba(const struct worker *w, unsigned int i)
{
	/* Slot i owns chunks i, i + QD, ...: no two slots share a block. */
	return w->base + (uint64_t)(w->s[i].chunk * QD + i) * NLB;
}

/* Queue the slot's next command: a write of a new generation, or a read
 * of the last one into a buffer that holds the complement meanwhile. */
static int issue(struct worker *w, unsigned int i)
{
	struct slot *s = &w->s[i];
	uint64_t lba = slot_lba(w, i);
	struct nvmeta_io io = {
		.opcode = s->reading ? NVMETA_OP_READ : NVMETA_OP_WRITE, .slba = lba, .nlb = NLB,
		.data = s->data->addr, .data_len = NLB * w->per_lba,
		.meta = w->meta ? s->meta_addr : NULL, .meta_len = w->meta ? NLB * w->info->ms : 0,
	};
	int ret;

	fill(s->data->addr, w->per_lba, w->idx, lba, s->gen, 0, s->reading);
	if (w->meta)
		fill(s->meta_addr, w->info->ms, w->idx, lba, s->gen, 1, s->reading);
	ret = nvmeta_queue(w->dev, &w->ring, &io, i);
	if (ret) {
		failf(w, "queue %s of LBA %" PRIu64 ": %d %s", s->reading ? "read" : "write", lba,
		      ret, nvmeta_last_error());
		return ret;
	}
	w->issued++;
	return 0;
}

static void check_canaries(struct worker *w, const struct nvmeta_buf *b, const char *what)
{
	ptrdiff_t bad;

	if (b && nvmeta_buf_check_canaries(b, &bad))
		failf(w, "%s canary: %s", what, nvmeta_last_error());
}

/* A completion for slot @i: check it, then pick the slot's next command. */
static void complete(struct worker *w, const struct nvmeta_completion *c)
{
	unsigned int i = (unsigned int)c->user_data;
	struct slot *s;
	uint64_t lba;
	size_t bad;

	if (c->user_data >= QD) {
		failf(w, "completion of a tag not ours: %" PRIu64, c->user_data);
		return;
	}
	s = &w->s[i];
	lba = slot_lba(w, i);
	w->done++;
	if (c->ret)
		failf(w, "%s of LBA %" PRIu64 ": %d (status 0x%x)", s->reading ? "read" : "write",
		      lba, c->ret, c->status.status);
	check_canaries(w, s->data, "data");
	check_canaries(w, s->meta, "metadata");
	if (s->reading) {
		w->reads++;
		bad = verify(s->data->addr, w->per_lba, w->idx, lba, s->gen, 0);
		if (bad)
			failf(w, "data byte %zu of LBAs %" PRIu64 "+%u, generation %u, is wrong",
			      bad - 1, lba, NLB, s->gen);
		bad = w->meta ? verify(s->meta_addr, w->info->ms, w->idx, lba, s->gen, 1) : 0;
		if (bad)
			failf(w, "metadata byte %zu of LBAs %" PRIu64 "+%u, generation %u, is wrong",
			      bad - 1, lba, NLB, s->gen);
		if (--s->reads_left)
			return;
		s->reading = false;
		s->chunk = (s->chunk + 1) % (CHUNKS / QD);
		s->gen++;
		return;
	}
	w->writes++;
	s->reading = true;
	s->reads_left = READS_PER_WRITE;
}

static void run(struct worker *w)
{
	struct nvmeta_completion c[QD];
	unsigned int i;
	int n, k;

	for (i = 0; i < QD; i++)
		if (issue(w, i))
			return;
	while (w->done < w->issued) {
		n = io_uring_submit(&w->ring);
		if (n < 0) {
			failf(w, "submit: %d", n);
			return;
		}
		n = nvmeta_reap(&w->ring, 1, c, QD);
		if (n == -EINTR)
			continue;
		if (n < 0) {
			failf(w, "reap: %d %s", n, nvmeta_last_error());
			return;
		}
		for (k = 0; k < n; k++) {
			complete(w, &c[k]);
			i = (unsigned int)c[k].user_data;
			if (!w->failed && i < QD && w->issued < IOS && issue(w, i))
				return;
		}
	}
}

/* The synchronous road too, at once with the other threads: its tags
 * and the status names' table are shared or per thread as the header says. */
static void sync_read(struct worker *w)
{
	struct slot *s = &w->s[0];
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = w->base, .nlb = NLB,
		.data = s->data->addr, .data_len = NLB * w->per_lba,
		.meta = w->meta ? s->meta_addr : NULL, .meta_len = w->meta ? NLB * w->info->ms : 0,
	};
	struct nvmeta_status st;
	int ret = nvmeta_io_sync(w->dev, &w->ring, &io, &st);

	if (ret)
		failf(w, "sync read of LBA %" PRIu64 ": %d %s", w->base, ret, nvmeta_last_error());
	else if (strcmp(nvmeta_status_name(&st), "Successful Completion"))
		failf(w, "sync read: status named '%s'", nvmeta_status_name(&st));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned int i;
	int ret;

	ret = nvmeta_ring_init(&w->ring, 2 * QD);
	if (ret) {
		failf(w, "ring: %d %s", ret, nvmeta_last_error());
		pthread_barrier_wait(w->start);
		return NULL;
	}
	for (i = 0; i < QD && !w->failed; i++) {
		ret = setup_slot(w, i);
		if (ret)
			failf(w, "buffers of slot %u: %d %s", i, ret, nvmeta_last_error());
	}
	pthread_barrier_wait(w->start);	/* everyone starts at once */
	if (!w->failed)
		sync_read(w);
	if (!w->failed)
		run(w);
	for (i = 0; i < QD; i++) {
		nvmeta_buf_free(w->s[i].data);
		nvmeta_buf_free(w->s[i].meta);
	}
	io_uring_queue_exit(&w->ring);
	return NULL;
}

struct team {
	struct nvmeta_dev *dev[2];
	struct nvmeta_slots *slots[2];
	struct worker w[MAX_THREADS];
	unsigned int n;
};

static void open_dev(struct team *t, unsigned int d, const char *path)
{
	const struct nvmeta_dev_info *info;
	size_t slot_len;

	cr_assert_eq(nvmeta_dev_open(path, &t->dev[d]), 0, "open %s: %s", path, nvmeta_last_error());
	info = nvmeta_dev_info(t->dev[d]);
	slot_len = info->ms ? (size_t)NLB * info->ms : 8;
	cr_assert_eq(nvmeta_slots_create(info, slot_len, MAX_THREADS * QD, &t->slots[d]), 0, "%s",
		     nvmeta_last_error());
}

/* Thread @idx (unique in the test) on device @d with layout @lay. */
static void add(struct team *t, unsigned int d, unsigned int idx, const struct layout *lay)
{
	struct worker *w = &t->w[t->n++];
	const struct nvmeta_dev_info *info = nvmeta_dev_info(t->dev[d]);

	cr_assert_lt(idx, MAX_THREADS);
	w->idx = idx;
	w->dev = t->dev[d];
	w->info = info;
	w->lay = lay;
	w->slots = t->slots[d];
	w->base = BASE_LBA + (uint64_t)idx * THREAD_STRIDE;
	w->per_lba = info->lba_size + (info->extended_lba ? info->ms : 0);
	w->meta = info->ms && !info->extended_lba;
	cr_assert_leq(w->base + THREAD_LBAS, info->nsze, "namespace too small: %" PRIu64 " blocks",
		      info->nsze);
}

static void run_team(struct team *t)
{
	pthread_t th[MAX_THREADS];
	pthread_barrier_t start;
	unsigned int i;
	int failed = 0;

	cr_assert_eq(pthread_barrier_init(&start, NULL, t->n), 0);
	for (i = 0; i < t->n; i++) {
		t->w[i].start = &start;
		cr_assert_eq(pthread_create(&th[i], NULL, worker_main, &t->w[i]), 0);
	}
	for (i = 0; i < t->n; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&start);
	for (i = 0; i < t->n; i++) {
		struct worker *w = &t->w[i];

		cr_log_info("thread %u on %s, %s%s: %u I/Os (%u writes, %u reads)%s%s", w->idx,
			    w->info->generic_path, w->lay->name,
			    w->meta ? "" : " (no separate metadata: data only)", w->done, w->writes,
			    w->reads, w->became[0] ? "; " : "", w->became);
		if (w->failed) {
			cr_log_error("%s (%d failures)", w->err, w->failed);
			failed++;
		} else if (w->done != IOS) {
			cr_log_error("thread %u did %u I/Os, not %u", w->idx, w->done, IOS);
			failed++;
		}
	}
	for (i = 0; i < 2; i++) {
		nvmeta_slots_destroy(t->slots[i]);
		nvmeta_dev_close(t->dev[i]);
	}
	cr_assert_eq(failed, 0, "%d of %u threads failed: %s", failed, t->n,
		     t->w[0].failed ? t->w[0].err : "see the log");
}

Test(threads, eight_threads_eight_layouts_one_device, .timeout = 600)
{
	static struct team t;
	unsigned int i;

	open_dev(&t, 0, guest_dev_path());
	for (i = 0; i < 8; i++)
		add(&t, 0, i, &layouts[i]);
	run_team(&t);
}

/* lab run --nometa-ns: /init finds nsid 2, without metadata, and names it
 * in NVMETA_NOMETA_DEV.  Four threads on each namespace at once, on LBAs
 * apart from the first case's. */
Test(threads, four_threads_on_each_of_two_namespaces, .timeout = 600)
{
	const char *second = getenv("NVMETA_NOMETA_DEV");
	static struct team t;
	unsigned int i;

	if (!second || !*second)
		cr_skip_test("one namespace: boot with lab run --nometa-ns for the second");
	open_dev(&t, 0, guest_dev_path());
	open_dev(&t, 1, second);
	for (i = 0; i < 4; i++) {
		add(&t, 0, 8 + i, &layouts[i * 2]);
		add(&t, 1, 12 + i, &layouts[i * 2 + 1]);
	}
	run_team(&t);
}
