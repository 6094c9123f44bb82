// SPDX-License-Identifier: MIT
/*
 * Running one variant: its rings and buffers are made once, before the
 * first round, and its slices then do nothing but I/O and the same
 * bookkeeping for every API (a clock read a batch, a histogram add an
 * I/O), so that the library and hand-built SQEs differ only in how the
 * SQE is filled and the CQE read.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include "bench.h"

struct worker {
	struct variant *v;
	struct nvmeta_dev *dev;
	const struct nvmeta_dev_info *info;
	struct io_uring ring;
	bool ring_up;
	struct nvmeta_buf *meta[BENCH_MAX_QD], *data[BENCH_MAX_QD];
	struct nvmeta_io io[BENCH_MAX_QD];	/* one command a slot, made once */
	/* Reads verified on the host at reap go through requests. */
	struct nvmeta_request rq[BENCH_MAX_QD];
	/* The block device's roads: with the PI attribute, or without. */
	const struct nvmeta_bdev *bdev;
	struct nvmeta_rw rw[BENCH_MAX_QD];
	uint64_t submitted_ns[BENCH_MAX_QD];
	unsigned int free_slots[BENCH_MAX_QD];
	pthread_t thread;
	unsigned int ms;
	struct slice s;
};

struct state {
	unsigned int workers;
	struct worker w[BENCH_MAX_THREADS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is read in the vDSO: no system call. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int skip(struct variant *v, int err, const char *what)
{
	snprintf(v->skip, sizeof(v->skip), "%s%s%s", what, err ? ": " : "",
		 err ? nvmeta_last_error() : "");
	return 0;
}

static int alloc_slot(struct worker *w, unsigned int i, uint64_t slba)
{
	const struct nvmeta_dev_info *in = w->info;
	struct variant *v = w->v;
	struct nvmeta_io *io = &w->io[i];
	struct nvmeta_buf_spec ds = { .layout = v->data_layout, .flags = NVMETA_BUF_DATA };
	/* No fallback: a fragmented layout this namespace cannot make is
	 * skipped, not measured as another one. */
	struct nvmeta_buf_spec ms = { .layout = v->meta_layout };
	uint32_t block;
	int ret;

	*io = (struct nvmeta_io){ .opcode = v->opcode, .slba = slba, .nlb = v->nlb,
				  .flags = v->io_flags };
	/* Type 1 PI: the reference tag is the LBA's low bits (the ranges
	 * here start far below 2^32). */
	if (v->io_flags & (NVMETA_IO_PI_GENERATE | NVMETA_IO_PI_VERIFY))
		io->reftag = slba, io->appmask = 0xffff;
	block = nvmeta_io_block_bytes(in, io);
	ds.len = (size_t)block * v->nlb;
	ret = nvmeta_buf_alloc(in, &ds, &w->data[i]);
	if (ret == -EOPNOTSUPP && ds.layout == NVMETA_LAYOUT_PINNED) {
		ds.layout = NVMETA_LAYOUT_PAGE;
		ret = nvmeta_buf_alloc(in, &ds, &w->data[i]);
	}
	if (ret)
		return ret;
	io->data = w->data[i]->addr;
	io->data_len = (uint32_t)ds.len;
	if (in->ms && !in->extended_lba) {
		ms.len = (size_t)in->ms * v->nlb;
		ret = nvmeta_buf_alloc(in, &ms, &w->meta[i]);
		/* A kernel that copies all metadata (before 6.8) pins nothing:
		 * the pinned variant keeps its shape (page-aligned, in one
		 * page), so that bounce/pinned there is a noise check. */
		if (ret == -EOPNOTSUPP && ms.layout == NVMETA_LAYOUT_PINNED) {
			ms.layout = NVMETA_LAYOUT_PAGE;
			ret = nvmeta_buf_alloc(in, &ms, &w->meta[i]);
		}
		if (ret)
			return ret;
		io->meta = w->meta[i]->addr;
		io->meta_len = (uint32_t)ms.len;
	}
	if (v->fixed) {
		io->flags |= NVMETA_IO_FIXED_FILE | NVMETA_IO_FIXED_BUF;
		io->file_index = 0;
		io->buf_index = (uint16_t)i;
	}
	return 0;
}

static int register_fixed(struct worker *w)
{
	struct iovec iov[BENCH_MAX_QD];
	int fd = nvmeta_dev_fd(w->dev), ret;
	unsigned int i;

	for (i = 0; i < w->v->qd; i++)
		iov[i] = (struct iovec){ w->data[i]->addr, w->data[i]->len };
	ret = io_uring_register_buffers(&w->ring, iov, w->v->qd);
	if (!ret)
		ret = io_uring_register_files(&w->ring, &fd, 1);
	return ret;
}

/* Write every slot's blocks once, so that reads read written blocks. */
static int prefill(struct worker *w)
{
	struct nvmeta_status st;
	unsigned int i;
	int ret;

	for (i = 0; i < w->v->qd; i++) {
		struct nvmeta_io io = w->io[i];

		io.opcode = NVMETA_OP_WRITE;
		/* Reads that verify PI need blocks written with valid PI. */
		if (io.flags & NVMETA_IO_PI_VERIFY)
			io.flags = (io.flags & ~NVMETA_IO_PI_VERIFY) | NVMETA_IO_PI_GENERATE;
		ret = nvmeta_io_sync(w->dev, &w->ring, &io, &st);
		if (ret)
			return ret;
	}
	return 0;
}

static int worker_setup(struct worker *w, const struct bench_opts *o, unsigned int t)
{
	struct nvmeta_ring_params p = { .flags = w->v->ring_flags,
					.sq_thread_idle = w->v->sq_idle_ms };
	struct variant *v = w->v;
	/* A gap of one transfer between slots: the block layer would merge
	 * adjacent reads on the block device's roads, passthrough never. */
	uint64_t span = (uint64_t)v->threads * v->qd * v->nlb * 2;
	unsigned int i;
	int ret;

	if (o->slba + span > w->info->nsze)
		return skip(v, 0, "the namespace is too small for this many blocks in flight"), 1;
	if (v->fixed)
		p.flags |= NVMETA_RING_FIXED_BUF;
	ret = nvmeta_ring_setup(&w->ring, v->qd < 8 ? 8 : v->qd, &p);
	if (ret)
		return skip(v, ret, "ring"), 1;
	w->ring_up = true;
	for (i = 0; i < v->qd; i++) {
		ret = alloc_slot(w, i, o->slba + ((uint64_t)t * v->qd + i) * v->nlb * 2);
		if (ret)
			return skip(v, ret, "buffers"), 1;
		w->free_slots[i] = i;
		w->rq[i] = (struct nvmeta_request){ .io = w->io[i], .user_data = i };
		w->rw[i] = (struct nvmeta_rw){ .io = w->io[i] };
		if (v->api == API_ODIRECT)
			w->rw[i].io.meta = NULL, w->rw[i].io.meta_len = 0;
	}
	if (v->fixed && (ret = register_fixed(w)))
		return skip(v, 0, "registering the data buffers and the device failed"), 1;
	if (v->opcode == NVMETA_OP_READ && (ret = prefill(w)))
		return skip(v, ret, "writing the blocks to read"), 1;
	return 0;
}

int runner_setup(struct variant *v, const struct bench_opts *o, struct nvmeta_dev *dev,
		 struct nvmeta_dev *nometa, struct nvmeta_bdev *bdev)
{
	struct state *st;
	unsigned int t;

	if (v->api == API_FIO)
		return 0;
	if (v->no_meta && !nometa)
		return skip(v, 0, "no namespace without metadata given (--nometa)");
	if ((v->api == API_RW || v->api == API_ODIRECT) && !bdev)
		return skip(v, 0, "the namespace's block device could not be opened");
	if (v->api == API_RW && nvmeta_bdev_road(bdev))
		return skip(v, 1, "attribute road");
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	v->state = st;
	st->workers = v->threads;
	for (t = 0; t < v->threads; t++) {
		struct worker *w = &st->w[t];

		w->v = v;
		w->bdev = bdev;
		w->dev = v->no_meta ? nometa : dev;
		w->info = nvmeta_dev_info(w->dev);
		if (worker_setup(w, o, t))
			break;
	}
	return 0;
}

static void slot_done(struct worker *w, unsigned int slot, int res, uint64_t t, unsigned int *nfree)
{
	struct slice *s = &w->s;

	if (res && !s->error[0])
		snprintf(s->error, sizeof(s->error), "%s of blocks %llu+%u: %s",
			 w->v->opcode == NVMETA_OP_READ ? "read" : "write",
			 (unsigned long long)w->io[slot].slba, w->v->nlb,
			 res < 0 ? strerror(-res) : "NVMe error status");
	hist_add(&s->lat, t - w->submitted_ns[slot]);
	s->ios++;
	w->free_slots[(*nfree)++] = slot;
}

/* The library's road: nvmeta_queue() fills and checks, nvmeta_reap()
 * decodes. */
static int queue_lib(struct worker *w, unsigned int slot)
{
	if (w->io[slot].flags & NVMETA_IO_PI_VERIFY)
		return nvmeta_queue_request(w->dev, &w->ring, &w->rq[slot]);
	return nvmeta_queue(w->dev, &w->ring, &w->io[slot], slot);
}

static unsigned int reap_lib(struct worker *w, uint64_t t, unsigned int *nfree)
{
	struct nvmeta_completion c[BENCH_MAX_QD];
	int n, i;

	n = nvmeta_reap(&w->ring, 0, c, BENCH_MAX_QD);
	for (i = 0; i < n; i++)
		slot_done(w, (unsigned int)c[i].user_data, c[i].ret, t, nfree);
	return n < 0 ? 0 : (unsigned int)n;
}

/* Hand-built: liburing and the header's inline encoder, no library call. */
static int queue_raw(struct worker *w, unsigned int slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	if (!sqe)
		return -EBUSY;
	nvmeta_prep_cmd(sqe, nvmeta_dev_fd(w->dev), w->info, &w->io[slot]);
	sqe->user_data = slot;
	return 0;
}

static unsigned int reap_raw(struct worker *w, uint64_t t, unsigned int *nfree)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&w->ring, head, cqe) {
		slot_done(w, (unsigned int)cqe->user_data, cqe->res, t, nfree);
		n++;
	}
	io_uring_cq_advance(&w->ring, n);
	return n;
}

/* The block device's roads: nvmeta_prep_rw() fills a plain READ or WRITE,
 * with the PI attribute when the command has a metadata buffer. */
static int queue_rw(struct worker *w, unsigned int slot)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	int ret;

	if (!sqe)
		return -EBUSY;
	ret = nvmeta_prep_rw(w->bdev, sqe, &w->rw[slot]);
	if (ret) {
		/* The SQE is taken: send a NOP nobody counts. */
		io_uring_prep_nop(sqe);
		sqe->user_data = UINT64_MAX >> 1;
		return ret;
	}
	sqe->user_data = slot;
	return 0;
}

static unsigned int reap_rw(struct worker *w, uint64_t t, unsigned int *nfree)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	unsigned int seen = 0;

	io_uring_for_each_cqe(&w->ring, head, cqe) {
		unsigned int slot = (unsigned int)cqe->user_data;
		int res = cqe->res;

		seen++;
		if (cqe->user_data >= w->v->qd)
			continue;	/* the NOP of a refused command */
		if (res >= 0)
			res = (uint32_t)res == w->rw[slot].io.data_len ? 0 : -EIO;
		slot_done(w, slot, res, t, nfree);
		n++;
	}
	io_uring_cq_advance(&w->ring, seen);
	return n;
}

struct road {
	int (*queue)(struct worker *w, unsigned int slot);
	unsigned int (*reap)(struct worker *w, uint64_t t, unsigned int *nfree);
};

static struct road road_of(enum bench_api api)
{
	switch (api) {
	case API_RAW:
		return (struct road){ queue_raw, reap_raw };
	case API_RW:
	case API_ODIRECT:
		return (struct road){ queue_rw, reap_rw };
	default:
		return (struct road){ queue_lib, reap_lib };
	}
}

/* Keep qd commands in flight until the slice's time is up, then drain. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct road road = road_of(w->v->api);
	bool raw = w->v->api == API_RAW;
	unsigned int nfree = w->v->qd, inflight = 0, slot;
	uint64_t t = now_ns(), end = t + (uint64_t)w->ms * 1000000ull;
	int ret;

	while (!w->s.error[0]) {
		while (t < end && nfree) {
			slot = w->free_slots[--nfree];
			ret = road.queue(w, slot);
			if (ret) {
				snprintf(w->s.error, sizeof(w->s.error), "queue: %s",
					 raw ? strerror(-ret) : nvmeta_last_error());
				break;
			}
			w->submitted_ns[slot] = t;
			inflight++;
		}
		if (!inflight)
			break;
		ret = io_uring_submit_and_wait(&w->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			snprintf(w->s.error, sizeof(w->s.error), "io_uring_submit_and_wait: %s",
				 strerror(-ret));
			break;
		}
		t = now_ns();
		inflight -= road.reap(w, t, &nfree);
	}
	return NULL;
}

double runner_bookkeeping_us(void)
{
	static struct hist h;
	const unsigned int n = 1000000;
	uint64_t t0 = now_ns(), t = t0;
	unsigned int i;

	/* At most one clock read and one histogram add an I/O: a batch
	 * shares its clock read, so this is an upper bound. */
	for (i = 0; i < n; i++) {
		t = now_ns();
		hist_add(&h, t - t0);
	}
	return (now_ns() - t0) / 1e3 / n;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

int runner_slice(struct variant *v, unsigned int ms, struct slice *s)
{
	struct state *st = v->state;
	struct rusage r0, r1;
	uint64_t t0, per_io;
	unsigned int t;

	memset(s, 0, sizeof(*s));
	for (t = 0; t < st->workers; t++) {
		memset(&st->w[t].s, 0, sizeof(st->w[t].s));
		st->w[t].ms = ms;
	}
	/* Reads that verify PI need their own blocks as they wrote them:
	 * other variants write the same range.  Rewritten before the clock
	 * starts. */
	for (t = 0; t < st->workers && (v->io_flags & NVMETA_IO_PI_VERIFY); t++)
		if (prefill(&st->w[t]))
			return snprintf(s->error, sizeof(s->error), "rewriting the blocks to verify: %.100s",
					nvmeta_last_error()), -EIO;
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ns();
	if (st->workers == 1) {
		worker_run(&st->w[0]);
	} else {
		for (t = 0; t < st->workers; t++)
			pthread_create(&st->w[t].thread, NULL, worker_run, &st->w[t]);
		for (t = 0; t < st->workers; t++)
			pthread_join(st->w[t].thread, NULL);
	}
	s->wall_s = (now_ns() - t0) / 1e9;
	getrusage(RUSAGE_SELF, &r1);
	s->usr_s = tv_s(r1.ru_utime) - tv_s(r0.ru_utime);
	s->sys_s = tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
	per_io = (uint64_t)st->w[0].io[0].data_len + st->w[0].io[0].meta_len;
	for (t = 0; t < st->workers; t++) {
		struct slice *ws = &st->w[t].s;

		s->ios += ws->ios;
		hist_merge(&s->lat, &ws->lat);
		if (ws->error[0] && !s->error[0])
			memcpy(s->error, ws->error, sizeof(s->error));
	}
	s->bytes = s->ios * per_io;
	return s->error[0] ? -EIO : 0;
}

void runner_observe(struct variant *v, struct nvmeta_kpath *kp)
{
	struct state *st = v->state;
	struct nvmeta_kpath_sample before, after;
	struct nvmeta_prediction pred;
	struct worker *w;
	char evidence[128];
	int path;

	v->predicted = v->observed = "-";
	if (!st || v->skip[0] || !st->w[0].meta[0] || v->api == API_ODIRECT)
		return;
	w = &st->w[0];
	if (!nvmeta_predict(w->info, NVMETA_KIND_META, w->meta[0]->addr, w->meta[0]->len, &pred))
		v->predicted = nvmeta_path_name(pred.path);
	if (!kp || nvmeta_kpath_sample(kp, &before))
		return;
	if (v->api == API_RW ? nvmeta_rw_sync(w->bdev, &w->ring, &w->rw[0]) :
	    nvmeta_io_sync(w->dev, &w->ring, &w->rq[0].io, NULL))
		return;
	if (nvmeta_kpath_sample(kp, &after))
		return;
	path = nvmeta_kpath_observe(kp, NVMETA_KIND_META, &before, &after, evidence, sizeof(evidence));
	if (path >= 0)
		v->observed = nvmeta_path_name(path);
}

void runner_teardown(struct variant *v)
{
	struct state *st = v->state;
	unsigned int t, i;

	if (!st)
		return;
	for (t = 0; t < st->workers; t++) {
		struct worker *w = &st->w[t];

		if (w->ring_up)
			io_uring_queue_exit(&w->ring);
		for (i = 0; i < BENCH_MAX_QD; i++) {
			nvmeta_buf_free(w->meta[i]);
			nvmeta_buf_free(w->data[i]);
		}
	}
	free(st);
	v->state = NULL;
}
