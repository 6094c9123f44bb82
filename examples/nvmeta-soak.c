// SPDX-License-Identifier: MIT
/*
 * nvmeta-soak: writers and readers, each on its own ring and thread, on
 * one or more namespaces for a time or a count of writes, with host PI
 * made on write and verified on read, and a journal that makes "no
 * acknowledged write is lost or corrupted" checkable after anything: a
 * controller reset, a reformat under the open handles, the controller
 * removed, the tool killed.
 *
 * Every block carries a header (magic, CRC32C of the rest of the block,
 * LBA, generation, writer, format epoch) and a payload derived from LBA
 * and generation, so a block read back names what it is.  The journal
 * (64-byte records, each with a sequence number and a CRC32C) gets an
 * INTENT before a write is submitted and an ACK after it completed, each
 * batch made durable with fdatasync(2); a write is counted acknowledged
 * only once its ACK is durable.  Verify accepts, per block, the last
 * acknowledged generation, or a newer one whose write has an intent and
 * no ACK (it may be there or not); anything else is reported with the
 * LBA, the generation expected and found, and what differs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <nvme/ioctl.h>
#include "nvmeta.h"
#include "args.h"
#include "report.h"

#define PROG		"nvmeta-soak"
#define MAX_DEV		4
#define MAX_THREADS	32
#define MAX_QD		64
#define MAX_CHUNK	64		/* blocks a chunk, the most one command moves */
#define MAX_BYTES	(128u << 10)	/* bytes one command moves at most */
#define APPTAG		0x50ac
#define BLK_MAGIC	0x4b414f53u	/* "SOAK" */
#define J_MAGIC		0x4a53564eu	/* "NVSJ" */
#define EXIT_GONE	3
#define POISON_NSID	0x50ac50acu	/* --poison-sqes: no namespace has it */
#define POISON_RING	256		/* --poison-sqes: SQ entries, so a poisoned
					 * entry stays so for many batches */

/* ------------------------------------------------------------ journal */

enum jtype { J_START = 1, J_INTENT, J_ACK, J_FAIL, J_FORMAT, J_RESUME };

struct jrec {
	uint32_t magic;
	uint8_t type;		/* enum jtype */
	uint8_t dev;
	uint16_t writer;
	uint32_t nlb;		/* START, FORMAT: the format epoch */
	uint32_t crc;		/* CRC32C of the record with crc 0 */
	uint64_t seq;		/* 0, 1, 2 ...: a gap is a lost record */
	uint64_t lba;		/* START, FORMAT: blocks in the region */
	uint64_t gen;		/* START, FORMAT: lba_size << 32 | ms */
	uint64_t data_digest;	/* CRC64 of the write's data; START: pi type */
	uint64_t pi_digest;	/* CRC64 of its metadata */
	uint64_t resv;
};
_Static_assert(sizeof(struct jrec) == 64, "journal record size");

/* ----------------------------------------------------------- geometry */

struct geo {
	uint32_t lba_size, ms, pi_size, chunk;	/* chunk: blocks */
	bool pi, pi_first;
	uint8_t pi_type;
	struct nvmeta_pi_format pf;
	uint64_t region;			/* blocks, a multiple of chunk */
};

struct blkhdr {
	uint32_t magic, crc;
	uint64_t lba, gen;
	uint32_t writer, epoch;
};

/* ------------------------------------------------------------- state */

struct sdev {
	char path[PATH_MAX];
	char ctrl[32];
	struct nvmeta_dev *dev;		/* the main thread's handle */
	struct geo g;
	uint32_t epoch;
	uint8_t lbaf0;			/* the format it started in */
	atomic_uchar *busy;		/* per chunk: a command on it */
	_Atomic uint64_t *acked;	/* per block: the last acknowledged generation */
	unsigned int nw;		/* writers on it */
};

struct worker {
	pthread_t tid;
	int id, devi, index;		/* index among the device's writers */
	bool reader;
	unsigned int regbufs;
	char why[512];
};

struct res {
	long rss_kb, fds, threads, regbufs;
	long iowq;			/* io_uring's workers: the kernel's, reported apart */
};

static struct {
	/* options */
	uint64_t time_s, count, region_mb, reset_every, format_every, seed, explain_s;
	int64_t inject_sector;		/* -1, or the 512-byte sector the device fails */
	int vdev;			/* verify() of this device only, or -1: all */
	unsigned int writers, readers, qd;
	bool json, quiet, verify_only, no_verify, resume, poison, sqe_async;
	const char *journal;
	int ndev;
	struct sdev d[MAX_DEV];
	/* journal */
	int jfd;
	pthread_mutex_t jlock;
	uint64_t jseq;
	bool jfailed;
	/* run */
	atomic_bool stop, gone;
	atomic_uint ready;
	_Atomic uint64_t gen, issued;
	pthread_mutex_t pl;
	pthread_cond_t pc;
	atomic_bool pause_req;
	int paused, running;
	_Atomic int64_t last_fault_ns;
	_Atomic int64_t reset_start_ns, reset_end_ns;	/* the last reset's write(2) */
	int64_t t0;			/* the run's start, for diagnostics */
	char gone_why[512];
	/* counters */
	_Atomic uint64_t writes, acked, wfail, reads, rfail, pi_err, content_err, estale,
		refreshes, stale_refused, resets, formats, explained, unexplained, blocks_acked,
		injected;
	struct worker w[MAX_THREADS * 2];
	unsigned int nworkers;
	struct res r0, r1;
	unsigned int regbufs;
} S = {
	.time_s = 60, .region_mb = 8, .writers = 2, .readers = 1, .qd = 8, .explain_s = 10,
	.seed = 1, .jfd = -1, .inject_sector = -1, .vdev = -1, .jlock = PTHREAD_MUTEX_INITIALIZER, .pl = PTHREAD_MUTEX_INITIALIZER,
	.pc = PTHREAD_COND_INITIALIZER,
};

static volatile sig_atomic_t got_signal;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fault_now(void)
{
	atomic_store(&S.last_fault_ns, now_ns());
}

/* Whether a failure now is explained by a fault injected within the window. */
static bool explained(void)
{
	int64_t f = atomic_load(&S.last_fault_ns);

	return atomic_load(&S.gone) || (f && now_ns() - f < (int64_t)S.explain_s * 1000000000);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* -------------------------------------------------------- diagnostics */

/* What each recent write was, by generation (the last WH_SIZE), so that
 * a block read back with an unexpected generation can be told apart: an
 * older acknowledged write, one that failed, one still in flight. */
#define WH_SIZE		(1u << 16)
#define DIAG_MAX	400
struct whist {
	uint64_t gen, lba;
	int64_t t_sub, t_done;
	uint32_t nlb;
	int32_t ret;
	uint16_t writer;
	uint8_t done;
};
static struct whist *WH;
static _Atomic unsigned int diag_lines;
static const char *trace_dir;		/* $NVMETA_SOAK_TRACE: tracefs */
static atomic_bool trace_stopped;

static double rel_s(int64_t t)
{
	return t ? (double)(t - S.t0) / 1e9 : -1;
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (atomic_fetch_add(&diag_lines, 1) >= DIAG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": DIAG %s\n", line);
}

static void trace_write(const char *file, const char *text)
{
	char p[PATH_MAX];
	int fd;

	if (!trace_dir)
		return;
	snprintf(p, sizeof(p), "%s/%s", trace_dir, file);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0)
		(void)0;
	close(fd);
}

/* The first anomaly freezes the kernel's trace buffer around it. */
static void trace_stop(const char *why)
{
	if (!trace_dir || atomic_exchange(&trace_stopped, true))
		return;
	trace_write("trace_marker", why);
	trace_write("tracing_on", "0");
	diag("kernel trace stopped: %s", why);
}

static void whist_put(uint64_t gen, uint64_t lba, uint32_t nlb, uint16_t writer)
{
	struct whist *h;

	if (!WH)
		return;
	h = &WH[gen % WH_SIZE];
	*h = (struct whist){ .gen = gen, .lba = lba, .nlb = nlb, .writer = writer,
			     .t_sub = now_ns() };
}

static void whist_done(uint64_t gen, int ret)
{
	struct whist *h;

	if (!WH)
		return;
	h = &WH[gen % WH_SIZE];
	if (h->gen != gen)
		return;
	h->ret = ret;
	h->t_done = now_ns();
	h->done = 1;
}

/* "write 12+3 by 2, submitted 4.123 s, done 4.130 s: ok" */
static void whist_say(uint64_t gen, char *out, size_t len)
{
	const struct whist *h = WH ? &WH[gen % WH_SIZE] : NULL;

	if (!h || h->gen != gen || !h->t_sub)
		snprintf(out, len, "gen %" PRIu64 ": not in the recent history", gen);
	else if (!h->done)
		snprintf(out, len, "gen %" PRIu64 ": write %" PRIu64 "+%u by %u, submitted %.6f s, "
			 "not completed", gen, h->lba, h->nlb, h->writer, rel_s(h->t_sub));
	else
		snprintf(out, len, "gen %" PRIu64 ": write %" PRIu64 "+%u by %u, submitted %.6f s, "
			 "completed %.6f s: %s", gen, h->lba, h->nlb, h->writer, rel_s(h->t_sub),
			 rel_s(h->t_done), h->ret ? strerror(-h->ret) : "ok");
}

/* ------------------------------------------------------------ content */

static void fill_block(uint8_t *p, uint32_t bs, uint64_t lba, uint64_t gen, uint32_t writer,
		       uint32_t epoch)
{
	struct blkhdr h = { BLK_MAGIC, 0, lba, gen, writer, epoch };
	uint64_t x = (lba * 0x9e3779b97f4a7c15ull) ^ (gen * 0xd1b54a32d192ed03ull) ^ 1;
	uint32_t off;

	for (off = sizeof(h); off + 8 <= bs; off += 8) {
		rnd(&x);
		memcpy(p + off, &x, 8);
	}
	memcpy(p, &h, sizeof(h));
	h.crc = nvmeta_crc32c(p + 8, bs - 8, 0);
	memcpy(p + 4, &h.crc, 4);
}

/* The block's header when it is whole, else false. */
static bool read_hdr(const uint8_t *p, uint32_t bs, struct blkhdr *h)
{
	memcpy(h, p, sizeof(*h));
	return h->magic == BLK_MAGIC && h->crc == nvmeta_crc32c(p + 8, bs - 8, 0);
}

static void fill_meta(uint8_t *m, const struct geo *g, uint64_t lba, uint64_t gen)
{
	uint32_t off = g->pi && g->pi_first ? g->pi_size : 0, n = g->ms - (g->pi ? g->pi_size : 0), i;

	for (i = 0; i < n; i++)
		m[off + i] = (uint8_t)(gen * 31 + lba * 7 + i);
}

static int geo_of(const struct nvmeta_dev_info *in, uint64_t region_bytes, struct geo *g)
{
	uint64_t max = MAX_BYTES;

	memset(g, 0, sizeof(*g));
	if (!in->ms || in->extended_lba)
		return -EPROTO;
	g->lba_size = in->lba_size;
	g->ms = in->ms;
	g->pi = !nvmeta_pi_format_of(in, &g->pf);
	g->pi_size = g->pi ? g->pf.pi_size : 0;
	g->pi_first = g->pi && g->pf.pi_first;
	g->pi_type = g->pi ? g->pf.pi_type : 0;
	if (in->mdts_bytes && in->mdts_bytes < max)
		max = in->mdts_bytes;
	if (in->limits.max_hw_sectors_kb && (uint64_t)in->limits.max_hw_sectors_kb * 1024 < max)
		max = (uint64_t)in->limits.max_hw_sectors_kb * 1024;
	g->chunk = (uint32_t)(max / in->lba_size);
	if (g->chunk > MAX_CHUNK)
		g->chunk = MAX_CHUNK;
	if (!g->chunk)
		return -E2BIG;
	g->region = region_bytes / in->lba_size;
	if (g->region > in->nsze)
		g->region = in->nsze;
	g->region -= g->region % g->chunk;
	return g->region ? 0 : -ENOSPC;
}

static uint64_t geo_word(const struct geo *g)
{
	return (uint64_t)g->lba_size << 32 | g->ms;
}

/* ------------------------------------------------------------ journal */

static void jseal(struct jrec *r)
{
	r->magic = J_MAGIC;
	r->crc = 0;
	r->crc = nvmeta_crc32c(r, sizeof(*r), 0);
}

static bool jvalid(const struct jrec *r)
{
	struct jrec c = *r;

	c.crc = 0;
	return r->magic == J_MAGIC && r->crc == nvmeta_crc32c(&c, sizeof(c), 0);
}

/* Append @n records, durable when it returns 0. */
static int jappend(struct jrec *r, unsigned int n)
{
	size_t len = n * sizeof(*r), done = 0;
	unsigned int i;
	int ret = 0;

	pthread_mutex_lock(&S.jlock);
	if (S.jfailed) {
		ret = -EIO;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r[i].seq = S.jseq++;
		jseal(&r[i]);
	}
	while (done < len) {
		ssize_t w = write(S.jfd, (char *)r + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -ENOSPC;
			break;
		}
		done += (size_t)w;
	}
	if (!ret && fdatasync(S.jfd))
		ret = -errno;
	if (ret) {
		S.jfailed = true;
		snprintf(S.gone_why, sizeof(S.gone_why), "journal %s: %s (the records of this batch "
			 "are not counted)", S.journal, strerror(-ret));
	}
out:
	pthread_mutex_unlock(&S.jlock);
	return ret;
}

/* ---------------------------------------------------------- resources */

static void res_read(struct res *r)
{
	char line[256];
	DIR *d = opendir("/proc/self/fd");
	FILE *f = fopen("/proc/self/status", "r");
	struct dirent *e;

	memset(r, 0, sizeof(*r));
	while (d && (e = readdir(d)))
		r->fds += e->d_name[0] != '.';
	if (d) {
		closedir(d);
		r->fds--;	/* the directory's own */
	}
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "VmRSS: %ld", &r->rss_kb);
	if (f)
		fclose(f);
	/* The process's own threads; io_uring's io-wq workers (iou-wrk-*)
	 * are the kernel's, come and go with load, and are counted apart. */
	d = opendir("/proc/self/task");
	while (d && (e = readdir(d))) {
		char p[300], comm[32] = "";
		FILE *c;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/self/task/%s/comm", e->d_name);
		c = fopen(p, "r");
		if (c && fgets(comm, sizeof(comm), c) && !strncmp(comm, "iou-", 4))
			r->iowq++;
		else
			r->threads++;
		if (c)
			fclose(c);
	}
	if (d)
		closedir(d);
	r->regbufs = S.regbufs;
}

/* ------------------------------------------------------------ workers */

struct slot {
	struct nvmeta_request rq;
	struct nvmeta_buf *meta;
	uint8_t *data;
	bool fixed;
	uint64_t chunk;
	uint64_t gen;
	int64_t t_sub;		/* when it was queued (diagnostics) */
};

struct wctx {
	struct worker *w;
	struct sdev *sd;
	struct nvmeta_dev *dev;		/* this thread's own handle */
	struct geo g;
	struct io_uring ring;
	bool ring_up, fixed_ok;
	uint8_t *data_area;
	struct slot s[MAX_QD];
	unsigned int inflight, fails;
	struct nvmeta_pi_error perr[4];
	char layout_note[160];
};

static const char *slot_kind(const struct wctx *c, const struct slot *s)
{
	int kind = (int)(((unsigned int)(s - c->s) + (unsigned int)c->w->id) % 3);

	return kind == 1 ? "bounced metadata" : s->fixed ? "pinned metadata, registered data" :
	       "pinned metadata";
}

static void bufs_free(struct wctx *c)
{
	unsigned int i;

	if (c->ring_up && c->w->regbufs) {
		io_uring_unregister_buffers(&c->ring);
		__atomic_fetch_sub(&S.regbufs, c->w->regbufs, __ATOMIC_RELAXED);
		c->w->regbufs = 0;
	}
	for (i = 0; i < S.qd; i++) {
		nvmeta_buf_free(c->s[i].meta);
		c->s[i].meta = NULL;
	}
	if (c->data_area)
		munmap(c->data_area, (size_t)S.qd * MAX_BYTES);
	c->data_area = NULL;
}

/* Buffers for the current geometry: metadata pinned, bounce-forcing
 * (misaligned) and pinned beside a registered data buffer, slot by slot. */
static int bufs_make(struct wctx *c)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(c->dev);
	struct iovec iov[MAX_QD];
	unsigned int i, nreg = 0;
	int ret;

	c->data_area = mmap(NULL, (size_t)S.qd * MAX_BYTES, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->data_area == MAP_FAILED) {
		c->data_area = NULL;
		return -ENOMEM;
	}
	if (nvmeta_mem_prepare(c->data_area, (size_t)S.qd * MAX_BYTES))
		return -ENOMEM;
	for (i = 0; i < S.qd; i++) {
		struct nvmeta_buf_spec spec = { .len = (size_t)c->g.chunk * c->g.ms };
		int kind = (int)((i + (unsigned int)c->w->id) % 3);

		spec.layout = kind == 1 ? NVMETA_LAYOUT_MISALIGNED : NVMETA_LAYOUT_PINNED;
		ret = nvmeta_buf_alloc(in, &spec, &c->s[i].meta);
		if (ret == -EOPNOTSUPP) {	/* nothing pins here (before 6.8): a page */
			snprintf(c->layout_note, sizeof(c->layout_note), "%s", nvmeta_last_error());
			spec.layout = NVMETA_LAYOUT_PAGE;
			ret = nvmeta_buf_alloc(in, &spec, &c->s[i].meta);
		}
		if (ret)
			return ret;
		c->s[i].data = c->data_area + (size_t)i * MAX_BYTES;
		c->s[i].fixed = kind == 2 && c->fixed_ok;
		if (c->s[i].fixed) {
			iov[nreg].iov_base = c->s[i].data;
			iov[nreg].iov_len = MAX_BYTES;
			c->s[i].rq.io.buf_index = (uint16_t)nreg++;
		}
	}
	if (nreg) {
		ret = io_uring_register_buffers(&c->ring, iov, nreg);
		if (ret)
			return ret;
		c->w->regbufs = nreg;
		__atomic_fetch_add(&S.regbufs, nreg, __ATOMIC_RELAXED);
	}
	return 0;
}

static bool gone_errno(int e)
{
	return e == -ENODEV || e == -ENXIO || e == -ENOENT || e == -EBADF || e == -ESHUTDOWN;
}

/* Whether the namespace is still there: its node, and a controller that
 * is not being deleted (a reset passes through resetting, connecting). */
static bool dev_present(const struct sdev *sd)
{
	char p[96], st[32] = "";
	FILE *f;

	if (access(sd->path, F_OK))
		return false;
	snprintf(p, sizeof(p), "/sys/class/nvme/%s/state", sd->ctrl);
	f = fopen(p, "r");
	if (!f)
		return false;
	if (!fgets(st, sizeof(st), f))
		st[0] = 0;
	fclose(f);
	return strncmp(st, "deleting", 8) && strncmp(st, "dead", 4);
}

/* Failures by what they were, for the summary: errno or NVMe status. */
static struct {
	pthread_mutex_t lock;
	unsigned int n;
	struct { int ret; uint16_t status; bool write; int explained; uint64_t count; char what[160]; } e[8];
} E = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* @expl: 0 no fault explains it, 1 a reset or format did, 2 the device was
 * told to fail there. */
static void note_error(int ret, const struct nvmeta_status *st, bool write, int expl)
{
	unsigned int i;

	pthread_mutex_lock(&E.lock);
	for (i = 0; i < E.n; i++)
		if (E.e[i].ret == ret && E.e[i].status == st->status && E.e[i].write == write &&
		    E.e[i].explained == expl)
			break;
	if (i == E.n && E.n < 8) {
		E.e[i].ret = ret;
		E.e[i].status = st->status;
		E.e[i].write = write;
		E.e[i].explained = expl;
		snprintf(E.e[i].what, sizeof(E.e[i].what), "%s: %s", strerror(-ret),
			 ret == -EIO ? nvmeta_status_name(st) : ret == -EILSEQ ?
			 "a PI check failed (host verification)" : "from the kernel");
		E.n++;
	}
	if (i < E.n)
		E.e[i].count++;
	pthread_mutex_unlock(&E.lock);
}

static void set_gone(const char *who, int e)
{
	if (!atomic_exchange(&S.gone, true))
		snprintf(S.gone_why, sizeof(S.gone_why), "%.128s: %s (%.300s): the namespace is gone",
			 who, strerror(-e), nvmeta_last_error());
	atomic_store(&S.stop, true);
}

/* One block a read found wrong: what it holds against what was acknowledged. */
static void block_diag(const struct wctx *c, const struct slot *s, uint32_t b,
		       const struct blkhdr *h, uint64_t acked)
{
	const uint8_t *p = s->data + (size_t)b * c->g.lba_size;
	const uint8_t *m = (const uint8_t *)s->meta->addr + (size_t)b * c->g.ms;
	char wa[200], wf[200], pi[80] = "";
	uint32_t i;

	whist_say(acked, wa, sizeof(wa));
	if (h->magic == BLK_MAGIC)
		whist_say(h->gen, wf, sizeof(wf));
	else
		snprintf(wf, sizeof(wf), "no header (first bytes %02x%02x%02x%02x%02x%02x%02x%02x)",
			 p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
	for (i = 0; i < c->g.ms && i < 16; i++)
		snprintf(pi + 2 * i, sizeof(pi) - 2 * i, "%02x", m[i]);
	diag("  LBA %" PRIu64 ": acknowledged %s; found lba %" PRIu64 " gen %" PRIu64 " writer %u "
	     "epoch %u (run's epoch %u), header CRC %s; metadata %s; found %s",
	     s->rq.io.slba + b, wa, h->lba, h->gen, h->writer, h->epoch, c->sd->epoch, read_hdr(p, c->g.lba_size, &(struct blkhdr){ 0 }) ? "good" : "bad",
	     pi, wf);
}

/* A read whose PI failed on the host: the blocks it names, as they came. */
static void pi_diag(const struct wctx *c, const struct slot *s)
{
	const struct nvmeta_io *io = &s->rq.io;
	uint32_t b, bad = 0;

	diag("read %" PRIu64 "+%u slot %u (%s) thread %d: host PI: %s; report: first block %u "
	     "field %u expected 0x%" PRIx64 " found 0x%" PRIx64 ", %u bad; queued %.6f s, "
	     "reaped %.6f s, last reset %.6f-%.6f s", io->slba, io->nlb,
	     (unsigned int)(s - c->s), slot_kind(c, s), c->w->id, nvmeta_last_error(),
	     s->rq.pi.block, s->rq.pi.field, s->rq.pi.expected, s->rq.pi.found, s->rq.pi.bad,
	     rel_s(s->t_sub), rel_s(now_ns()), rel_s(atomic_load(&S.reset_start_ns)),
	     rel_s(atomic_load(&S.reset_end_ns)));
	for (b = 0; b < io->nlb && bad < 6; b++) {
		struct blkhdr h;
		uint64_t a = atomic_load(&c->sd->acked[io->slba + b]);
		bool ok = read_hdr(s->data + (size_t)b * c->g.lba_size, c->g.lba_size, &h);

		if (ok && h.lba == io->slba + b && h.gen >= a && h.epoch == c->sd->epoch &&
		    b != s->rq.pi.block)
			continue;
		bad++;
		block_diag(c, s, b, &h, a);
	}
}

/* Completions of everything in flight; writes are journalled. */
static int reap(struct wctx *c, unsigned int min)
{
	struct nvmeta_completion comp[MAX_QD];
	struct jrec rec[MAX_QD];
	unsigned int i, n = 0, nacked = 0;
	uint64_t blocks = 0;
	int got = nvmeta_reap(&c->ring, min, comp, MAX_QD);

	if (got == -EINTR)
		return 0;
	if (got < 0)
		return got;
	for (i = 0; i < (unsigned int)got; i++) {
		struct slot *s = &c->s[comp[i].user_data - 1];
		struct nvmeta_io *io = &s->rq.io;
		bool w = io->opcode == NVMETA_OP_WRITE;
		int ret = comp[i].ret;

		c->inflight--;
		if (w)
			whist_done(s->gen, ret);
		if (ret && ret != -EINVAL && ret != -EINTR && ret != -EILSEQ) {
			diag("%s %" PRIu64 "+%u slot %u (%s) thread %d, gen %" PRIu64 ": %s (%s); "
			     "queued %.6f s, reaped %.6f s, last reset %.6f-%.6f s", w ? "write" : "read",
			     io->slba, io->nlb, (unsigned int)(s - c->s), slot_kind(c, s), c->w->id,
			     w ? s->gen : 0, strerror(-ret), nvmeta_last_error(), rel_s(s->t_sub),
			     rel_s(now_ns()), rel_s(atomic_load(&S.reset_start_ns)),
			     rel_s(atomic_load(&S.reset_end_ns)));
			if (ret != -EIO || !explained())
				trace_stop("nvmeta-soak: unusual error");
		}
		if (w) {
			memset(&rec[n], 0, sizeof(rec[n]));
			rec[n].type = ret ? J_FAIL : J_ACK;
			rec[n].dev = (uint8_t)c->w->devi;
			rec[n].writer = (uint16_t)c->w->id;
			rec[n].lba = io->slba;
			rec[n].nlb = io->nlb;
			rec[n].gen = s->gen;
			n++;
		}
		if (ret) {
			c->fails++;
			atomic_fetch_add(w ? &S.wfail : &S.rfail, 1);
			if (ret == -EILSEQ)
				atomic_fetch_add(&S.pi_err, 1);
			if (gone_errno(ret) || (ret != -EILSEQ && !dev_present(c->sd)))
				set_gone(c->sd->path, ret);
			/* The device was told to fail I/O on this sector
			 * (QEMU's blkdebug, --injected-sector). */
			if (S.inject_sector >= 0 && ret == -EIO &&
			    (uint64_t)S.inject_sector * 512 >= io->slba * c->g.lba_size &&
			    (uint64_t)S.inject_sector * 512 < (io->slba + io->nlb) * c->g.lba_size) {
				atomic_fetch_add(&S.injected, 1);
				atomic_fetch_add(&S.explained, 1);
				note_error(ret, &comp[i].status, w, 2);
			} else if (explained() || ret == -EILSEQ) {
				note_error(ret, &comp[i].status, w, ret != -EILSEQ && explained());
				atomic_fetch_add(ret == -EILSEQ ? &S.unexplained : &S.explained, 1);
			} else {
				note_error(ret, &comp[i].status, w, 0);
				atomic_fetch_add(&S.unexplained, 1);
				snprintf(c->w->why, sizeof(c->w->why), "LBA %" PRIu64 "+%u %s: %s",
					 io->slba, io->nlb, w ? "write" : "read", nvmeta_last_error());
			}
			if (ret == -EILSEQ) {
				snprintf(c->w->why, sizeof(c->w->why), "LBA %" PRIu64 "+%u read: %s",
					 io->slba, io->nlb, nvmeta_last_error());
				trace_stop("nvmeta-soak: host PI verification failed");
				pi_diag(c, s);
			}
		} else if (!w) {
			uint32_t b, nbad = 0;

			atomic_fetch_add(&S.reads, 1);
			for (b = 0; b < io->nlb; b++) {
				struct blkhdr h;
				uint64_t lba = io->slba + b;
				uint64_t a = atomic_load(&c->sd->acked[lba]);

				if (!a)
					continue;
				if (!read_hdr(s->data + (size_t)b * c->g.lba_size, c->g.lba_size, &h) ||
				    h.lba != lba || h.gen < a || h.epoch != c->sd->epoch) {
					if (!nbad++)
						trace_stop("nvmeta-soak: a read returned an older block");
					if (nbad <= 4)
						block_diag(c, s, b, &h, a);
					atomic_fetch_add(&S.content_err, 1);
					atomic_fetch_add(&S.unexplained, 1);
					snprintf(c->w->why, sizeof(c->w->why), "read LBA %" PRIu64
						 ": acknowledged generation %" PRIu64 ", found %s %" PRIu64,
						 lba, a, h.magic == BLK_MAGIC ? "generation" : "no header",
						 h.magic == BLK_MAGIC ? h.gen : 0);
				}
			}
			if (nbad)
				diag("read %" PRIu64 "+%u slot %u (%s) thread %d: %u of %u blocks "
				     "older than acknowledged or wrong; queued %.6f s, reaped %.6f s, "
				     "last reset %.6f-%.6f s", io->slba, io->nlb,
				     (unsigned int)(s - c->s), slot_kind(c, s), c->w->id, nbad, io->nlb,
				     rel_s(s->t_sub), rel_s(now_ns()),
				     rel_s(atomic_load(&S.reset_start_ns)),
				     rel_s(atomic_load(&S.reset_end_ns)));
		}
		if (!w) {
			atomic_store(&c->sd->busy[s->chunk], 0);
			s->rq.user_data = 0;
		}
	}
	if (n && jappend(rec, n)) {
		atomic_store(&S.stop, true);
		return -EIO;
	}
	for (i = 0; i < (unsigned int)got; i++) {
		struct slot *s = &c->s[comp[i].user_data - 1];
		uint32_t b;

		if (s->rq.io.opcode != NVMETA_OP_WRITE)
			continue;
		if (!comp[i].ret) {
			for (b = 0; b < s->rq.io.nlb; b++) {
				_Atomic uint64_t *a = &c->sd->acked[s->rq.io.slba + b];
				uint64_t old = atomic_load(a);

				while (old < s->gen && !atomic_compare_exchange_weak(a, &old, s->gen))
					;
			}
			nacked++;
			blocks += s->rq.io.nlb;
		}
		atomic_store(&c->sd->busy[s->chunk], 0);
		s->rq.user_data = 0;
	}
	atomic_fetch_add(&S.acked, nacked);
	atomic_fetch_add(&S.blocks_acked, blocks);
	return got;
}

static int drain(struct wctx *c)
{
	while (c->inflight) {
		int ret = reap(c, c->inflight);

		if (ret < 0 && ret != -EINTR)
			return ret;
	}
	return 0;
}

/* After a pause: the handle's own check finds the new format. */
static int recheck(struct wctx *c)
{
	int ret = nvmeta_dev_check(c->dev);
	struct io_uring_sqe sqe[2];
	struct nvmeta_io io;

	if (ret == 0)
		return 0;
	if (ret != -ESTALE)
		return ret;
	atomic_fetch_add(&S.estale, 1);
	/* A write in the old geometry is refused before anything is sent. */
	io = (struct nvmeta_io){ .opcode = NVMETA_OP_WRITE, .nlb = 1, .data = c->s[0].data,
				 .data_len = c->g.lba_size, .meta = c->s[0].meta->addr,
				 .meta_len = c->g.ms };
	if (nvmeta_prep(c->dev, sqe, &io) == -ESTALE)
		atomic_fetch_add(&S.stale_refused, 1);
	/* A controller resetting answers identify with EAGAIN for a while. */
	for (int tries = 0; (ret = nvmeta_dev_refresh(c->dev)) < 0 && tries < 60; tries++) {
		if ((ret != -EAGAIN && ret != -EBUSY && ret != -EINTR) || !dev_present(c->sd))
			break;
		usleep(500000);
	}
	if (ret < 0)
		return ret;
	atomic_fetch_add(&S.refreshes, 1);
	bufs_free(c);
	c->g = c->sd->g;
	return bufs_make(c);
}

static bool pause_point(struct wctx *c)
{
	if (!atomic_load(&S.pause_req))
		return false;
	drain(c);
	pthread_mutex_lock(&S.pl);
	S.paused++;
	pthread_cond_broadcast(&S.pc);
	while (atomic_load(&S.pause_req))
		pthread_cond_wait(&S.pc, &S.pl);
	S.paused--;
	pthread_mutex_unlock(&S.pl);
	return true;
}

static bool take_chunk(struct sdev *sd, uint64_t ch)
{
	unsigned char z = 0;

	return atomic_compare_exchange_strong(&sd->busy[ch], &z, 1);
}

/* One command's size: often one block, sometimes the most, else any. */
static uint32_t pick_nlb(uint64_t *rs, uint32_t chunk)
{
	uint64_t x = rnd(rs) % 10;

	return x < 3 ? 1 : x == 3 ? chunk : 1 + (uint32_t)(rnd(rs) % chunk);
}

/*
 * --poison-sqes: once io_uring_enter() has returned, the kernel has taken
 * the SQEs it consumed and the application may reuse their slots.  Write
 * a namespace ID no namespace has into each: a kernel that reads one of
 * them again later (a command it issues afterwards from io-wq) refuses it
 * with EINVAL and logs the marker ("nsid (1353470124) in cmd does not
 * match"), instead of executing whatever the slot holds by then.
 */
static void poison_sqes(struct io_uring *ring, unsigned int first, unsigned int n)
{
	unsigned int shift = ring->flags & IORING_SETUP_SQE128 ? 1 : 0, i;

	for (i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = &ring->sq.sqes[((first + i) & ring->sq.ring_mask) << shift];
		uint32_t nsid = POISON_NSID;

		/* struct nvme_uring_cmd at sqe->cmd: opcode, flags, rsvd1, nsid */
		__atomic_store_n((uint32_t *)((uint8_t *)sqe->cmd + 4), nsid, __ATOMIC_RELEASE);
	}
}

/*
 * --sqe-async: IOSQE_ASYNC on the SQE nvmeta_queue_request() just filled
 * (the last one queued; the API lets callers OR IOSQE_* flags into an SQE
 * the library filled).  A forced-async IORING_OP_URING_CMD has its SQE
 * copied into the kernel at prep (6.12's io_uring_cmd_prep_setup()), so
 * nothing reads its SQ slot after io_uring_enter() has returned; the price
 * is that every command is issued by an io-wq worker.
 */
static void sqe_set_async(struct io_uring *ring)
{
	unsigned int shift = ring->flags & IORING_SETUP_SQE128 ? 1 : 0;

	ring->sq.sqes[((ring->sq.sqe_tail - 1) & ring->sq.ring_mask) << shift].flags |= IOSQE_ASYNC;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct wctx *c = calloc(1, sizeof(*c));
	struct nvmeta_ring_params rp = { .flags = NVMETA_RING_FIXED_BUF };
	uint64_t rs = S.seed * 0x9e3779b97f4a7c15ull + (uint64_t)w->id * 7919 + 1;
	int64_t next_check = 0;
	int ret;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (!c) {
		snprintf(w->why, sizeof(w->why), "out of memory");
		goto out;
	}
	c->w = w;
	c->sd = &S.d[w->devi];
	ret = nvmeta_dev_open(c->sd->path, &c->dev);
	if (ret) {
		snprintf(w->why, sizeof(w->why), "%s", nvmeta_last_error());
		goto out;
	}
	c->g = c->sd->g;
	if (nvmeta_ring_setup(&c->ring, S.poison ? POISON_RING : S.qd * 2, &rp)) {
		rp.flags = 0;
		if (nvmeta_ring_setup(&c->ring, S.poison ? POISON_RING : S.qd * 2, &rp)) {
			snprintf(w->why, sizeof(w->why), "%s", nvmeta_last_error());
			goto out;
		}
	}
	c->ring_up = true;
	c->fixed_ok = rp.features & NVMETA_FEAT_FIXED_BUF;
	ret = bufs_make(c);
	if (ret) {
		snprintf(w->why, sizeof(w->why), "buffers: %s", nvmeta_last_error());
		goto out;
	}
	atomic_fetch_add(&S.ready, 1);
	while (!atomic_load(&S.stop)) {
		uint64_t nchunks = c->g.region / c->g.chunk, per, base;
		struct jrec rec[MAX_QD];
		unsigned int i, n = 0;

		if (pause_point(c))
			next_check = 0;
		if (atomic_load(&S.stop))
			break;
		if (now_ns() >= next_check) {	/* a format by someone else */
			ret = recheck(c);
			if (ret && (gone_errno(ret) || !dev_present(c->sd)))
				set_gone(c->sd->path, ret);
			else if (ret)
				snprintf(w->why, sizeof(w->why), "refresh: %s", nvmeta_last_error());
			if (ret)
				break;
			next_check = now_ns() + 200000000;
			nchunks = c->g.region / c->g.chunk;
		}
		per = w->reader ? nchunks : nchunks / c->sd->nw;
		base = w->reader ? 0 : per * (uint64_t)w->index;
		for (i = 0; i < S.qd && c->inflight + n < S.qd; i++) {
			struct slot *s = NULL;
			unsigned int k;
			uint64_t ch = base + rnd(&rs) % per, lba;
			uint32_t nlb = pick_nlb(&rs, c->g.chunk), b;

			if (!w->reader && S.count && atomic_fetch_add(&S.issued, 1) >= S.count) {
				atomic_store(&S.stop, true);
				break;
			}
			if (!take_chunk(c->sd, ch))
				continue;
			for (k = 0; k < S.qd; k++)	/* a free slot */
				if (!c->s[k].rq.user_data) {
					s = &c->s[k];
					break;
				}
			if (!s) {
				atomic_store(&c->sd->busy[ch], 0);
				break;
			}
			lba = ch * c->g.chunk + rnd(&rs) % (c->g.chunk - nlb + 1);
			s->chunk = ch;
			s->rq.io = (struct nvmeta_io){
				.opcode = w->reader ? NVMETA_OP_READ : NVMETA_OP_WRITE,
				.slba = lba, .nlb = nlb, .data = s->data,
				.data_len = nlb * c->g.lba_size, .meta = s->meta->addr,
				.meta_len = nlb * c->g.ms, .buf_index = s->rq.io.buf_index,
				.flags = NVMETA_IO_NO_PREFAULT | (s->fixed ? NVMETA_IO_FIXED_BUF : 0),
			};
			if (c->g.pi) {
				s->rq.io.reftag = nvmeta_pi_ref_tag(&c->g.pf, lba);
				s->rq.io.apptag = APPTAG;
				s->rq.io.appmask = 0xffff;
				s->rq.io.prinfo = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP |
						  (c->g.pi_type != 3 ? NVMETA_PRCHK_REF : 0);
				s->rq.io.flags |= w->reader ? NVMETA_IO_PI_VERIFY : NVMETA_IO_PI_GENERATE;
			}
			if (w->reader) {
				/* Host verification only where every block was written. */
				for (b = 0; b < nlb; b++)
					if (!atomic_load(&c->sd->acked[lba + b]))
						break;
				if (b < nlb) {
					s->rq.io.flags &= ~(uint32_t)NVMETA_IO_PI_VERIFY;
					s->rq.io.prinfo = 0;
				}
			} else {
				s->gen = atomic_fetch_add(&S.gen, 1);
				for (b = 0; b < nlb; b++) {
					fill_block(s->data + (size_t)b * c->g.lba_size, c->g.lba_size,
						   lba + b, s->gen, (uint32_t)w->id, c->sd->epoch);
					fill_meta((uint8_t *)s->meta->addr + (size_t)b * c->g.ms, &c->g,
						  lba + b, s->gen);
				}
			}
			s->rq.user_data = (uint64_t)(s - c->s) + 1;
			s->t_sub = now_ns();
			if (!w->reader)
				whist_put(s->gen, lba, nlb, (uint16_t)w->id);
			s->rq.pi_errors = c->perr;
			s->rq.pi_errors_max = 4;
			ret = nvmeta_queue_request(c->dev, &c->ring, &s->rq);
			if (ret) {
				s->rq.user_data = 0;
				atomic_store(&c->sd->busy[ch], 0);
				if (ret == -ESTALE)
					next_check = 0;
				else
					snprintf(w->why, sizeof(w->why), "queue: %s", nvmeta_last_error());
				break;
			}
			if (S.sqe_async)
				sqe_set_async(&c->ring);
			n++;
			if (!w->reader) {	/* PI is made: the digests of what goes out */
				memset(&rec[n - 1], 0, sizeof(rec[0]));
				rec[n - 1].type = J_INTENT;
				rec[n - 1].dev = (uint8_t)w->devi;
				rec[n - 1].writer = (uint16_t)w->id;
				rec[n - 1].lba = lba;
				rec[n - 1].nlb = nlb;
				rec[n - 1].gen = s->gen;
				rec[n - 1].data_digest = nvmeta_crc64_nvme(s->data, s->rq.io.data_len, 0);
				rec[n - 1].pi_digest = nvmeta_crc64_nvme(s->meta->addr, s->rq.io.meta_len, 0);
			}
		}
		if (!w->reader && n && jappend(rec, n)) {
			/* Intents not durable: nothing of this batch may go out.
			 * Its SQEs are queued but not flushed to the kernel (only
			 * a submission does that), and none follows: they go with
			 * the ring. */
			atomic_store(&S.stop, true);
			break;
		}
		if (n) {
			unsigned int first = c->ring.sq.sqe_head;

			ret = io_uring_submit(&c->ring);
			if (ret > 0 && S.poison)
				poison_sqes(&c->ring, first, (unsigned int)ret);
			if (ret < 0) {
				if (gone_errno(ret))
					set_gone(c->sd->path, ret);
				snprintf(w->why, sizeof(w->why), "submit: %s", strerror(-ret));
				break;
			}
			if (!w->reader)
				atomic_fetch_add(&S.writes, n);
			c->inflight += n;
		}
		if (c->inflight) {
			ret = reap(c, 1);
			if (ret < 0 && ret != -EINTR) {
				snprintf(w->why, sizeof(w->why), "reap: %s", strerror(-ret));
				break;
			}
			if (c->fails) {	/* a reset: no busy loop of failing commands */
				c->fails = 0;
				usleep(5000);
			}
		} else if (!n) {
			usleep(1000);
		}
	}
out:
	if (c) {
		if (c->ring_up)
			drain(c);
		bufs_free(c);
		if (c->ring_up)
			nvmeta_ring_exit(&c->ring);
		nvmeta_dev_close(c->dev);
		free(c);
	}
	pthread_mutex_lock(&S.pl);
	S.running--;
	pthread_cond_broadcast(&S.pc);
	pthread_mutex_unlock(&S.pl);
	return NULL;
}

/* ------------------------------------------------------------- faults */

static int pause_all(void)
{
	struct timespec ts;
	int ret = 0;

	pthread_mutex_lock(&S.pl);
	atomic_store(&S.pause_req, true);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 120;
	while (S.paused < S.running && !ret)
		ret = pthread_cond_timedwait(&S.pc, &S.pl, &ts);
	return ret ? -ETIMEDOUT : 0;	/* the lock is held */
}

static void resume_all(void)
{
	atomic_store(&S.pause_req, false);
	pthread_cond_broadcast(&S.pc);
	pthread_mutex_unlock(&S.pl);
}

static int epoch_verify(int devi, char *why, size_t len);

static int jgeo(struct sdev *sd, uint8_t type, int devi)
{
	struct jrec r = { .type = type, .dev = (uint8_t)devi, .nlb = sd->epoch,
			  .lba = sd->g.region, .gen = geo_word(&sd->g), .data_digest = sd->g.pi_type };

	return jappend(&r, 1);
}

/* Another LBA format with the same metadata size, through the admin ioctl
 * (the kernel rescans the namespace before it returns), every writer and
 * reader paused and drained; they find it with nvmeta_dev_check() on
 * their own handles.  Returns 0, or a negative errno with @why. */
static int reformat(int devi, char *why, size_t len)
{
	struct sdev *sd = &S.d[devi];
	const struct nvmeta_dev_info *in = nvmeta_dev_info(sd->dev);
	int fd = nvmeta_dev_fd(sd->dev), ret, i, target = -1;
	struct nvme_id_ns ns;
	uint32_t result = 0;
	struct geo g;

	if (nvme_identify_ns(fd, in->nsid, &ns))
		return snprintf(why, len, "identify: %s", strerror(errno)), -EIO;
	for (i = 0; i <= ns.nlbaf && i < 16; i++)
		if (ns.lbaf[i].ms == ns.lbaf[in->lbaf].ms && ns.lbaf[i].ds != ns.lbaf[in->lbaf].ds)
			target = i;
	if (target < 0)
		return snprintf(why, len, "no other LBA format with %u metadata bytes", in->ms), -ENOTSUP;
	if (pause_all()) {
		resume_all();
		return snprintf(why, len, "the workers did not pause within 120 s"), -ETIMEDOUT;
	}
	/* The format erases what this epoch wrote: verify it first, with
	 * nothing in flight. */
	ret = epoch_verify(devi, why, len);
	if (ret)
		goto out;
	struct nvme_format_nvm_args a = {
		.args_size = sizeof(a), .fd = fd, .nsid = in->nsid, .lbaf = (uint8_t)target,
		.pi = in->pi_type, .pil = in->pi_first, .timeout = 120000, .result = &result,
	};
	fault_now();
	ret = nvme_format_nvm(&a);
	if (ret) {
		snprintf(why, len, "Format NVM to LBA format %d: %s%s", target,
			 ret < 0 ? strerror(errno) : "NVMe status ",
			 ret < 0 ? "" : nvmeta_status_name(&(struct nvmeta_status){
				 .status = (uint16_t)(ret & 0x7ff), .sct = (uint8_t)((ret >> 8) & 7),
				 .sc = (uint8_t)ret }));
		if (ret > 0)
			snprintf(why + strlen(why), len - strlen(why), " (0x%03x)", ret & 0x7ff);
		ret = -EIO;
		goto out;
	}
	ret = nvmeta_dev_refresh(sd->dev);
	if (ret < 0 || geo_of(nvmeta_dev_info(sd->dev), S.region_mb << 20, &g)) {
		snprintf(why, len, "refresh after the format: %s", nvmeta_last_error());
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	sd->g = g;
	sd->epoch++;
	memset(sd->acked, 0, sizeof(*sd->acked) * ((S.region_mb << 20) / 512));
	memset(sd->busy, 0, (S.region_mb << 20) / 512);
	ret = jgeo(sd, J_FORMAT, devi);
	if (!ret)
		atomic_fetch_add(&S.formats, 1);
	fault_now();
out:
	resume_all();
	return ret;
}

static int reset_ctrl(struct sdev *sd)
{
	char p[96];
	int fd, ret = 0;

	snprintf(p, sizeof(p), "/sys/class/nvme/%s/reset_controller", sd->ctrl);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return -errno;
	fault_now();
	atomic_store(&S.reset_start_ns, now_ns());
	trace_write("trace_marker", "nvmeta-soak: reset_controller");
	if (write(fd, "1", 1) != 1)
		ret = -errno;
	close(fd);
	fault_now();
	atomic_store(&S.reset_end_ns, now_ns());
	trace_write("trace_marker", "nvmeta-soak: reset_controller returned");
	if (!ret)
		atomic_fetch_add(&S.resets, 1);
	return ret;
}

/* ------------------------------------------------------------- verify */

struct wrec {
	uint64_t gen, lba, data_digest, pi_digest;
	uint32_t nlb, epoch;
	uint8_t dev, state;		/* J_INTENT, J_ACK or J_FAIL */
	uint16_t writer;
};

struct vdev {
	struct geo g;
	uint32_t epoch;
	bool seen;
};

struct vres {
	uint64_t records, acked_writes, failed_writes, open_intents, blocks, blocks_written,
		 blocks_ok, pending_present, pending_absent, writes_whole, digests_ok;
	uint64_t lost, corrupted, unexpected, digest_bad, journal_bad, read_err;
	bool torn_tail;
	uint64_t max_gen, next_seq;
	uint64_t valid_bytes;
	char first[8][300];
	unsigned int nfirst;
};

static void vbad(struct vres *v, uint64_t *counter, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vbad(struct vres *v, uint64_t *counter, const char *fmt, ...)
{
	va_list ap;
	char line[300];

	(*counter)++;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (v->nfirst < 8)
		snprintf(v->first[v->nfirst++], sizeof(v->first[0]), "%s", line);
	if (!S.json || v->nfirst <= 64)
		fprintf(stderr, PROG ": BAD %s\n", line);
}

static int wcmp(const void *a, const void *b)
{
	const struct wrec *x = a, *y = b;

	return x->gen < y->gen ? -1 : x->gen > y->gen;
}

static struct wrec *wfind(struct wrec *w, size_t n, uint64_t gen)
{
	struct wrec key = { .gen = gen };

	return bsearch(&key, w, n, sizeof(*w), wcmp);
}

/* Parse the journal into writes (sorted by generation) and each device's
 * last format.  Torn tail: ignored; anything else wrong: journal_bad. */
static int jload(const char *path, struct vres *v, struct vdev *vd, struct wrec **wp, size_t *np)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	struct jrec *r;
	struct wrec *w = NULL;
	size_t n = 0, cap = 0, i, nrec;
	uint64_t expect = 0;

	if (fd < 0 || fstat(fd, &st))
		return -errno;
	nrec = (size_t)st.st_size / sizeof(*r);
	r = nrec ? mmap(NULL, nrec * sizeof(*r), PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (r == MAP_FAILED)
		return -errno;
	if (st.st_size % (off_t)sizeof(*r))
		v->torn_tail = true;
	for (i = 0; i < nrec; i++) {
		if (!jvalid(&r[i])) {
			size_t k;

			for (k = i + 1; k < nrec && !jvalid(&r[k]); k++)
				;
			if (k < nrec)
				vbad(v, &v->journal_bad, "journal record %zu is damaged and valid ones follow it", i);
			else
				v->torn_tail = true;
			break;
		}
		v->valid_bytes = (i + 1) * sizeof(*r);
		v->records++;
		if (r[i].seq != expect)
			vbad(v, &v->journal_bad, "journal records %" PRIu64 "..%" PRIu64 " are missing "
			     "(record %zu has sequence %" PRIu64 ")", expect, r[i].seq - 1, i, r[i].seq);
		expect = r[i].seq + 1;
		if (r[i].dev >= MAX_DEV) {
			vbad(v, &v->journal_bad, "journal record %zu names device %u", i, r[i].dev);
			continue;
		}
		switch (r[i].type) {
		case J_START:
		case J_FORMAT: {
			struct vdev *d = &vd[r[i].dev];

			d->seen = true;
			d->epoch = r[i].nlb;
			d->g.lba_size = (uint32_t)(r[i].gen >> 32);
			d->g.ms = (uint32_t)r[i].gen;
			d->g.region = r[i].lba;
			d->g.pi_type = (uint8_t)r[i].data_digest;
			break;
		}
		case J_INTENT:
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				w = realloc(w, cap * sizeof(*w));
				if (!w)
					return -ENOMEM;
			}
			w[n++] = (struct wrec){ .gen = r[i].gen, .lba = r[i].lba, .nlb = r[i].nlb,
						.dev = r[i].dev, .writer = r[i].writer,
						.epoch = vd[r[i].dev].epoch, .state = J_INTENT,
						.data_digest = r[i].data_digest,
						.pi_digest = r[i].pi_digest };
			if (r[i].gen > v->max_gen)
				v->max_gen = r[i].gen;
			break;
		case J_ACK:
		case J_FAIL:
		case J_RESUME:
			break;
		default:
			vbad(v, &v->journal_bad, "journal record %zu has type %u", i, r[i].type);
		}
	}
	if (n)
		qsort(w, n, sizeof(*w), wcmp);
	for (i = 0; i < v->records; i++) {
		struct wrec *x;

		if (r[i].type != J_ACK && r[i].type != J_FAIL)
			continue;
		x = wfind(w, n, r[i].gen);
		if (!x || x->lba != r[i].lba || x->nlb != r[i].nlb || x->dev != r[i].dev)
			vbad(v, &v->journal_bad, "journal: %s of generation %" PRIu64 " without its intent",
			     r[i].type == J_ACK ? "ACK" : "FAIL", r[i].gen);
		else
			x->state = r[i].type;
	}
	v->next_seq = expect;
	if (r)
		munmap(r, nrec * sizeof(*r));
	*wp = w;
	*np = n;
	return 0;
}

/* Verification's big arrays from mmap, given back whole: from malloc,
 * glibc raises its mmap threshold after the first free and keeps later
 * ones in the heap, and RSS grows by a region a format (seen: +32 MiB). */
static void *big(size_t n)
{
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void big_free(void *p, size_t n)
{
	if (p)
		munmap(p, n ? n : 1);
}

/* Read the region back and hold every block to the journal. */
static int verify_dev(int devi, struct nvmeta_dev *dev, const struct vdev *vd, struct wrec *w,
		      size_t n, struct vres *v)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(dev);
	const struct geo *jg = &vd->g;
	struct geo g;
	uint64_t *exp = NULL, *fnd = NULL, b, nb;
	uint8_t *data = NULL, *meta = NULL, *ed = NULL, *em = NULL, *unread = NULL;
	struct io_uring ring;
	size_t i;
	int ret = geo_of(in, (uint64_t)jg->region * jg->lba_size, &g);

	if (ret || g.lba_size != jg->lba_size || g.ms != jg->ms || g.pi_type != jg->pi_type ||
	    g.region != jg->region) {
		vbad(v, &v->journal_bad, "%s: the namespace is %u+%u PI type %u, the journal's last "
		     "format %u+%u PI type %u: formatted behind the journal's back", in->generic_path,
		     in->lba_size, in->ms, g.pi_type, jg->lba_size, jg->ms, jg->pi_type);
		return 0;
	}
	nb = g.region;
	exp = big(nb * sizeof(*exp));
	fnd = big(nb * sizeof(*fnd));
	unread = big(nb);
	data = big(nb * g.lba_size);
	meta = big(nb * g.ms);
	ed = malloc(g.lba_size);
	em = malloc(g.ms);
	if (!exp || !fnd || !unread || !data || !meta || !ed || !em || nvmeta_ring_init(&ring, 8)) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (w[i].dev != devi || w[i].epoch != vd->epoch)
			continue;
		if (w[i].lba + w[i].nlb > nb) {
			vbad(v, &v->journal_bad, "journal: generation %" PRIu64 " at LBA %" PRIu64
			     " is outside the region", w[i].gen, w[i].lba);
			continue;
		}
		if (w[i].state == J_ACK) {
			v->acked_writes++;
			for (b = w[i].lba; b < w[i].lba + w[i].nlb; b++)
				if (w[i].gen > exp[b])
					exp[b] = w[i].gen;
		} else {
			(*(w[i].state == J_FAIL ? &v->failed_writes : &v->open_intents))++;
		}
	}
	for (b = 0; b < nb; b += g.chunk) {
		struct nvmeta_io io = {
			.opcode = NVMETA_OP_READ, .slba = b, .nlb = g.chunk,
			.data = data + b * g.lba_size, .data_len = g.chunk * g.lba_size,
			.meta = meta + b * g.ms, .meta_len = g.chunk * g.ms,
		};

		ret = nvmeta_io_sync(dev, &ring, &io, NULL);
		if (ret) {
			vbad(v, &v->read_err, "%s: read LBA %" PRIu64 "+%u: %s", in->generic_path, b,
			     g.chunk, nvmeta_last_error());
			memset(data + b * g.lba_size, 0, (size_t)g.chunk * g.lba_size);
			memset(unread + b, 1, g.chunk);	/* counted as read errors, not lost */
			if (gone_errno(ret))
				goto out;
		}
	}
	ret = 0;
	for (b = 0; b < nb; b++) {
		const uint8_t *p = data + b * g.lba_size, *m = meta + b * g.ms;
		struct blkhdr h;
		bool whole = read_hdr(p, g.lba_size, &h) && h.lba == b && h.epoch == vd->epoch;
		struct wrec *x = whole ? wfind(w, n, h.gen) : NULL;
		uint64_t e = exp[b];

		if (unread[b])
			continue;
		v->blocks++;
		fnd[b] = whole ? h.gen : 0;
		if (e)
			v->blocks_written++;
		if (whole && h.gen == e) {
			x = wfind(w, n, e);
		} else if (whole && x && x->state != J_ACK && x->dev == devi && h.gen > e &&
			   b >= x->lba && b < x->lba + x->nlb) {
			v->pending_present++;	/* not acknowledged, there: allowed */
		} else if (whole && h.gen < e) {
			vbad(v, &v->lost, "%s LBA %" PRIu64 ": expected generation %" PRIu64
			     ", found %" PRIu64 " (an acknowledged write is lost)", in->generic_path,
			     b, e, h.gen);
			continue;
		} else if (whole) {
			vbad(v, &v->unexpected, "%s LBA %" PRIu64 ": expected generation %" PRIu64
			     ", found %" PRIu64 ", which no journalled write explains (written "
			     "behind the journal's back)", in->generic_path, b, e, h.gen);
			continue;
		} else if (!e) {
			continue;	/* never acknowledged: anything but a known block */
		} else {
			vbad(v, h.magic == BLK_MAGIC ? &v->corrupted : &v->lost,
			     "%s LBA %" PRIu64 ": expected generation %" PRIu64 ", found %s (data "
			     "digest)", in->generic_path, b, e, h.magic == BLK_MAGIC ?
			     "a block whose header CRC fails" : "no block of this soak");
			continue;
		}
		if (!x) {
			vbad(v, &v->journal_bad, "LBA %" PRIu64 ": generation %" PRIu64 " has no intent", b, h.gen);
			continue;
		}
		fill_block(ed, g.lba_size, b, h.gen, x->writer, vd->epoch);
		if (memcmp(ed, p, g.lba_size)) {
			vbad(v, &v->corrupted, "%s LBA %" PRIu64 ": generation %" PRIu64 " found, its "
			     "data differs (data digest)", in->generic_path, b, h.gen);
			continue;
		}
		fill_meta(em, &g, b, h.gen);
		if (g.pi) {
			struct nvmeta_pi_tags t = {
				.ref_tag = nvmeta_pi_ref_tag(&g.pf, g.pi_type == 3 ? x->lba : b),
				.app_tag = APPTAG,
			};

			nvmeta_pi_generate(&g.pf, ed, em, 1, &t);
		}
		if (memcmp(em, m, g.ms)) {
			vbad(v, &v->corrupted, "%s LBA %" PRIu64 ": generation %" PRIu64 " found, its "
			     "metadata differs (PI digest)", in->generic_path, b, h.gen);
			continue;
		}
		if (h.gen == e)
			v->blocks_ok++;
	}
	/* Blocks of unacknowledged writes that are not there. */
	for (i = 0; i < n; i++) {
		struct blkhdr h;

		if (w[i].dev != devi || w[i].epoch != vd->epoch || w[i].state == J_ACK ||
		    w[i].lba + w[i].nlb > nb)
			continue;
		for (b = w[i].lba; b < w[i].lba + w[i].nlb; b++)
			if (!read_hdr(data + b * g.lba_size, g.lba_size, &h) || h.gen != w[i].gen)
				v->pending_absent++;
	}
	/* Acknowledged writes still whole: their journal digests. */
	for (i = 0; i < n; i++) {
		uint64_t dd, pd;

		if (w[i].dev != devi || w[i].epoch != vd->epoch || w[i].state != J_ACK ||
		    w[i].lba + w[i].nlb > nb)
			continue;
		for (b = w[i].lba; b < w[i].lba + w[i].nlb && fnd[b] == w[i].gen; b++)
			;
		if (b < w[i].lba + w[i].nlb)
			continue;
		v->writes_whole++;
		dd = nvmeta_crc64_nvme(data + w[i].lba * g.lba_size, (size_t)w[i].nlb * g.lba_size, 0);
		pd = nvmeta_crc64_nvme(meta + w[i].lba * g.ms, (size_t)w[i].nlb * g.ms, 0);
		if (dd != w[i].data_digest || pd != w[i].pi_digest)
			vbad(v, &v->digest_bad, "%s LBA %" PRIu64 "+%u generation %" PRIu64 ": %s "
			     "digest differs from the journal's", in->generic_path, w[i].lba,
			     w[i].nlb, w[i].gen, dd != w[i].data_digest ? "data" : "PI");
		else
			v->digests_ok++;
	}
	nvmeta_ring_exit(&ring);
out:
	big_free(exp, nb * sizeof(*exp));
	big_free(fnd, nb * sizeof(*fnd));
	big_free(unread, nb);
	big_free(data, nb * g.lba_size);
	big_free(meta, nb * g.ms);
	free(ed);
	free(em);
	return ret;
}

static uint64_t vfail(const struct vres *v)
{
	return v->lost + v->corrupted + v->unexpected + v->digest_bad + v->journal_bad + v->read_err;
}

/* Verify every device against the journal @path. */
static int verify(const char *path, struct vres *v)
{
	struct vdev vd[MAX_DEV] = { 0 };
	struct wrec *w = NULL;
	size_t n = 0;
	int i, ret;

	memset(v, 0, sizeof(*v));
	ret = jload(path, v, vd, &w, &n);
	if (ret) {
		fprintf(stderr, PROG ": journal %s: %s\n", path, strerror(-ret));
		return ret;
	}
	for (i = 0; i < S.ndev && !ret; i++) {
		if (S.vdev >= 0 && i != S.vdev)
			continue;
		if (!vd[i].seen) {
			vbad(v, &v->journal_bad, "journal %s has no start record for device %d", path, i);
			continue;
		}
		ret = verify_dev(i, S.d[i].dev, &vd[i], w, n, v);
	}
	free(w);
	return ret;
}

/* What the verifications before each format found, summed. */
static struct vres EV;
static unsigned int ev_epochs;

static int epoch_verify(int devi, char *why, size_t len)
{
	struct vres v;
	int ret;

	S.vdev = devi;
	ret = verify(S.journal, &v);
	S.vdev = -1;
	ev_epochs++;
	EV.acked_writes += v.acked_writes;
	EV.failed_writes += v.failed_writes + v.open_intents;
	EV.pending_absent += v.pending_absent;
	EV.blocks += v.blocks;
	EV.blocks_written += v.blocks_written;
	EV.blocks_ok += v.blocks_ok;
	EV.pending_present += v.pending_present;
	EV.digests_ok += v.digests_ok;
	EV.lost += v.lost;
	EV.corrupted += v.corrupted;
	EV.unexpected += v.unexpected;
	EV.digest_bad += v.digest_bad;
	EV.journal_bad += v.journal_bad;
	EV.read_err += v.read_err;
	if (ret < 0 || vfail(&v)) {
		snprintf(why, len, "verify before the format: %" PRIu64 " lost, %" PRIu64 " corrupted, %"
			 PRIu64 " unexpected, %" PRIu64 " digest, %" PRIu64 " journal, %" PRIu64
			 " read errors", v.lost, v.corrupted, v.unexpected, v.digest_bad, v.journal_bad,
			 v.read_err);
		return ret < 0 ? ret : -EIO;
	}
	return 0;
}

/* ---------------------------------------------------------------- run */

static void on_signal(int sig)
{
	got_signal = sig;
	atomic_store(&S.stop, true);
}

static void progress(double t, uint64_t last_acked, double dt)
{
	fprintf(stderr, PROG ": %6.0f s: %" PRIu64 " writes acknowledged (%.0f/s), %" PRIu64
		" reads, errors %" PRIu64 " explained %" PRIu64 " not, PI errors %" PRIu64
		", resets %" PRIu64 ", formats %" PRIu64 ", ESTALE %" PRIu64 " refreshed %" PRIu64 "\n",
		t, atomic_load(&S.acked), (double)(atomic_load(&S.acked) - last_acked) / dt,
		atomic_load(&S.reads), atomic_load(&S.explained), atomic_load(&S.unexplained),
		atomic_load(&S.pi_err), atomic_load(&S.resets), atomic_load(&S.formats),
		atomic_load(&S.estale), atomic_load(&S.refreshes));
}

/* The writers and readers for --time or --count, with the faults asked
 * for; the end snapshot of resources is taken while they still run. */
static int run(void)
{
	int64_t t0 = now_ns(), next_reset, next_format, last = t0;

	S.t0 = t0;
	uint64_t last_acked = 0;
	unsigned int i, wi = 0;
	bool r0 = false;
	char why[256];

	next_reset = S.reset_every ? t0 + (int64_t)S.reset_every * 1000000000 : INT64_MAX;
	next_format = S.format_every ? t0 + (int64_t)S.format_every * 1000000000 : INT64_MAX;
	atomic_store(&S.stop, false);
	atomic_store(&S.ready, 0);
	S.nworkers = S.writers + S.readers;
	for (i = 0; i < S.nworkers; i++) {
		struct worker *w = &S.w[i];

		memset(w, 0, sizeof(*w));
		w->id = (int)i + 1;
		w->reader = i >= S.writers;
		w->devi = (int)(i % (unsigned int)S.ndev);
		if (!w->reader)
			w->index = (int)(wi++ / (unsigned int)S.ndev);
	}
	pthread_mutex_lock(&S.pl);
	S.running = (int)S.nworkers;
	pthread_mutex_unlock(&S.pl);
	for (i = 0; i < S.nworkers; i++)
		if (pthread_create(&S.w[i].tid, NULL, worker_main, &S.w[i])) {
			fprintf(stderr, PROG ": cannot start thread %u\n", i);
			atomic_store(&S.stop, true);
			S.nworkers = i;
			pthread_mutex_lock(&S.pl);
			S.running = (int)i;
			pthread_mutex_unlock(&S.pl);
			break;
		}
	while (!atomic_load(&S.stop)) {
		int64_t t = now_ns();
		struct timespec ts = { 0, 100000000 };

		if (S.time_s && t - t0 >= (int64_t)S.time_s * 1000000000)
			break;
		pthread_mutex_lock(&S.pl);
		if (!S.running)
			atomic_store(&S.stop, true);
		pthread_mutex_unlock(&S.pl);
		if (!r0 && (t - t0 >= 1000000000 || atomic_load(&S.ready) == S.nworkers)) {
			/* everything set up: rings, buffers, registrations */
			res_read(&S.r0);
			r0 = true;
		}
		if (t >= next_reset) {
			int ret = reset_ctrl(&S.d[0]);

			if (ret)
				fprintf(stderr, PROG ": reset of %s: %s\n", S.d[0].ctrl, strerror(-ret));
			next_reset = t + (int64_t)S.reset_every * 1000000000;
		}
		if (t >= next_format) {
			int ret = reformat(0, why, sizeof(why));

			if (ret) {
				fprintf(stderr, PROG ": reformat: %s\n", why);
				if (ret != -ENOTSUP)
					atomic_fetch_add(&S.unexplained, 1);
			}
			next_format = now_ns() + (int64_t)S.format_every * 1000000000;
		}
		if (t - last >= 1000000000) {
			if (!S.quiet)
				progress((double)(t - t0) / 1e9, last_acked, (double)(t - last) / 1e9);
			last_acked = atomic_load(&S.acked);
			last = t;
		}
		nanosleep(&ts, NULL);
	}
	if (!r0)
		res_read(&S.r0);
	res_read(&S.r1);
	atomic_store(&S.stop, true);
	pthread_mutex_lock(&S.pl);	/* a pause in progress ends */
	atomic_store(&S.pause_req, false);
	pthread_cond_broadcast(&S.pc);
	pthread_mutex_unlock(&S.pl);
	for (i = 0; i < S.nworkers; i++)
		pthread_join(S.w[i].tid, NULL);
	if (!S.quiet)
		progress((double)(now_ns() - t0) / 1e9, last_acked, 1);
	return 0;
}

/* ------------------------------------------------------------ devices */

static int dev_setup(int i, const char *path)
{
	struct sdev *sd = &S.d[i];
	const struct nvmeta_dev_info *in;
	size_t max = (S.region_mb << 20) / 512;
	int ret;

	snprintf(sd->path, sizeof(sd->path), "%s", path);
	if (nvmeta_dev_open(path, &sd->dev))
		return fprintf(stderr, PROG ": %s\n", nvmeta_last_error()), 2;
	in = nvmeta_dev_info(sd->dev);
	snprintf(sd->ctrl, sizeof(sd->ctrl), "%s", in->ctrl_name);
	ret = geo_of(in, S.region_mb << 20, &sd->g);
	if (ret == -EPROTO)
		return printf(PROG ": skipped: %s is %u+%u%s: the soak needs separate metadata\n",
			      path, in->lba_size, in->ms, in->extended_lba ? " (extended)" : ""), 77;
	if (ret)
		return fprintf(stderr, PROG ": %s: no region of %" PRIu64 " MiB fits (%s)\n", path,
			       S.region_mb, strerror(-ret)), 2;
	sd->lbaf0 = in->lbaf;
	sd->acked = calloc(max, sizeof(*sd->acked));
	sd->busy = calloc(max, 1);
	if (!sd->acked || !sd->busy)
		return fprintf(stderr, PROG ": out of memory\n"), 2;
	return 0;
}

/* --------------------------------------------------------------- output */

static void res_out(struct report *r, const char *name, const struct res *x)
{
	report_section(r, name);
	report_u64(r, "rss_kb", (uint64_t)x->rss_kb);
	report_u64(r, "fds", (uint64_t)x->fds);
	report_u64(r, "threads", (uint64_t)x->threads);
	report_u64(r, "registered_buffers", (uint64_t)x->regbufs);
	report_u64(r, "io_uring_workers", (uint64_t)x->iowq);
	report_section_end(r);
}

/* Resources may not grow: fds, threads and registered buffers by none,
 * RSS by at most 16 MiB (allocator arenas, the kernel's page tables). */
static bool res_grew(char *why, size_t len)
{
	const struct res *a = &S.r0, *b = &S.r1;

	if (b->fds > a->fds || b->threads > a->threads || b->regbufs > a->regbufs ||
	    b->rss_kb > a->rss_kb + 16384) {
		snprintf(why, len, "resources grew: RSS %ld -> %ld KiB, fds %ld -> %ld, threads %ld -> "
			 "%ld, registered buffers %ld -> %ld", a->rss_kb, b->rss_kb, a->fds, b->fds,
			 a->threads, b->threads, a->regbufs, b->regbufs);
		return true;
	}
	return false;
}

static void vres_out(struct report *r, const char *name, const struct vres *v,
		     unsigned int epochs)
{
	report_section(r, name);
	if (epochs)
		report_u64(r, "epochs", epochs);
	else
		report_u64(r, "journal_records", v->records);
	if (!epochs)
		report_bool(r, "journal_torn_tail_ignored", v->torn_tail);
	report_u64(r, "acknowledged_writes", v->acked_writes);
	report_u64(r, "unacknowledged_writes", v->failed_writes + v->open_intents);
	report_u64(r, "blocks_read", v->blocks);
	report_u64(r, "blocks_acknowledged", v->blocks_written);
	report_u64(r, "blocks_verified", v->blocks_ok);
	report_u64(r, "unacknowledged_present", v->pending_present);
	report_u64(r, "unacknowledged_absent", v->pending_absent);
	report_u64(r, "writes_whole_digests_ok", v->digests_ok);
	report_u64(r, "lost", v->lost);
	report_u64(r, "corrupted", v->corrupted);
	report_u64(r, "unexpected", v->unexpected);
	report_u64(r, "digest_mismatches", v->digest_bad);
	report_u64(r, "journal_errors", v->journal_bad);
	report_u64(r, "read_errors", v->read_err);
	report_section_end(r);
}

static void summary(bool ran, const struct vres *v, bool verified, int rc, const char *verdict)
{
	struct report r;
	unsigned int i;

	report_begin(&r, stdout, S.json);
	report_str(&r, "tool", PROG);
	report_str(&r, "result", verdict);
	report_u64(&r, "exit", (uint64_t)rc);
	report_section(&r, "devices");
	for (i = 0; i < (unsigned int)S.ndev; i++) {
		char k[12], d[PATH_MAX + 160];

		snprintf(k, sizeof(k), "%u", i);
		snprintf(d, sizeof(d), "%s %s %u+%u PI type %u, region %" PRIu64 " blocks, epoch %u",
			 S.d[i].path, S.d[i].ctrl, S.d[i].g.lba_size, S.d[i].g.ms, S.d[i].g.pi_type,
			 S.d[i].g.region, S.d[i].epoch);
		report_str(&r, k, d);
	}
	report_section_end(&r);
	if (ran) {
		report_section(&r, "run");
		report_u64(&r, "writers", S.writers);
		report_u64(&r, "readers", S.readers);
		report_u64(&r, "queue_depth", S.qd);
		report_u64(&r, "writes_submitted", atomic_load(&S.writes));
		report_u64(&r, "writes_acknowledged", atomic_load(&S.acked));
		report_u64(&r, "blocks_acknowledged", atomic_load(&S.blocks_acked));
		report_u64(&r, "writes_failed", atomic_load(&S.wfail));
		report_u64(&r, "reads", atomic_load(&S.reads));
		report_u64(&r, "reads_failed", atomic_load(&S.rfail));
		report_u64(&r, "pi_errors", atomic_load(&S.pi_err));
		report_u64(&r, "content_errors", atomic_load(&S.content_err));
		report_u64(&r, "errors_explained_by_faults", atomic_load(&S.explained));
		report_u64(&r, "errors_injected_by_the_device", atomic_load(&S.injected));
		report_u64(&r, "errors_unexplained", atomic_load(&S.unexplained));
		report_u64(&r, "resets_injected", atomic_load(&S.resets));
		report_u64(&r, "formats_injected", atomic_load(&S.formats));
		report_u64(&r, "estale_seen", atomic_load(&S.estale));
		report_u64(&r, "old_geometry_writes_refused", atomic_load(&S.stale_refused));
		report_u64(&r, "refreshes", atomic_load(&S.refreshes));
		report_bool(&r, "namespace_gone", atomic_load(&S.gone));
		report_bool(&r, "sqes_poisoned", S.poison);
		report_bool(&r, "sqes_async", S.sqe_async);
		report_section(&r, "errors");
		for (i = 0; i < E.n; i++) {
			char k[200];

			snprintf(k, sizeof(k), "%s %s (%s)", E.e[i].write ? "write" : "read",
				 E.e[i].what, E.e[i].explained == 2 ? "injected by the device" :
				 E.e[i].explained ? "during a fault" : "no fault");
			report_u64(&r, k, E.e[i].count);
		}
		report_section_end(&r);
		report_section_end(&r);
		res_out(&r, "resources_start", &S.r0);
		res_out(&r, "resources_end", &S.r1);
	}
	if (ev_epochs)	/* each epoch a format erased, verified before it */
		vres_out(&r, "verify_before_formats", &EV, ev_epochs);
	if (verified)
		vres_out(&r, "verify", v, 0);
	report_end(&r);
	fflush(stdout);
}

/* ---------------------------------------------------------- self-test */

static int copy_journal(const char *from, const char *to, int64_t drop, int64_t drop2,
			bool renumber, size_t torn)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	struct jrec r;
	uint64_t seq = 0;
	int64_t i = 0;

	if (in < 0 || out < 0)
		return -errno;
	while (read(in, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		if (i != drop && i != drop2) {
			if (renumber) {
				r.seq = seq++;
				jseal(&r);
			}
			if (write(out, &r, sizeof(r)) != (ssize_t)sizeof(r))
				return -EIO;
		}
		i++;
	}
	if (torn && write(out, &r, torn) != (ssize_t)torn)
		return -EIO;
	close(in);
	close(out);
	return 0;
}

/* Record index of the INTENT and ACK of an acknowledged write still whole. */
static int pick_write(const char *path, int64_t *ii, int64_t *ia, struct jrec *out)
{
	int fd = open(path, O_RDONLY);
	struct jrec r, intent = { 0 };
	int64_t i = 0, cand = -1;

	if (fd < 0)
		return -errno;
	int64_t pi = -1, pa = -1;
	struct jrec prev = { 0 };

	/* The last write acknowledged whose ACK is not the journal's last
	 * record: dropping the last record leaves no gap, and is what a crash
	 * before the ACK looks like (the write is then unacknowledged). */
	while (read(fd, &r, sizeof(r)) == (ssize_t)sizeof(r)) {
		if (r.type == J_INTENT) {
			cand = i;
			intent = r;
		}
		if (r.type == J_ACK && cand >= 0 && r.gen == intent.gen) {
			pi = *ii;
			pa = *ia;
			prev = *out;
			*ii = cand;
			*ia = i;
			*out = intent;
		}
		i++;
	}
	close(fd);
	if (*ia == i - 1) {
		*ii = pi;
		*ia = pa;
		*out = prev;
	}
	return *ia >= 0 ? 0 : -ENOENT;
}

static int raw_block(int devi, uint64_t lba, uint8_t *data, uint8_t *meta, bool write)
{
	struct sdev *sd = &S.d[devi];
	struct io_uring ring;
	struct nvmeta_io io = {
		.opcode = write ? NVMETA_OP_WRITE : NVMETA_OP_READ, .slba = lba, .nlb = 1,
		.data = data, .data_len = sd->g.lba_size, .meta = meta, .meta_len = sd->g.ms,
	};
	int ret = nvmeta_ring_init(&ring, 4);

	if (ret)
		return ret;
	ret = nvmeta_io_sync(sd->dev, &ring, &io, NULL);
	nvmeta_ring_exit(&ring);
	return ret;
}

static bool expect_fail(const char *what, const char *journal, uint64_t want)
{
	struct vres v;
	bool json = S.json;

	S.json = true;	/* keep the BAD lines short */
	verify(journal, &v);
	S.json = json;
	fprintf(stderr, PROG ": self-test: %s: %s (%" PRIu64 " reports; lost %" PRIu64 ", corrupted %"
		PRIu64 ", unexpected %" PRIu64 ", journal %" PRIu64 ")\n", what,
		(vfail(&v) >= want && want) ? "failed loudly, as it must" :
		(!want && !vfail(&v)) ? "passed, as it must" : "WRONG", vfail(&v), v.lost,
		v.corrupted, v.unexpected, v.journal_bad);
	return want ? vfail(&v) >= want : !vfail(&v);
}

static int self_test(void)
{
	char drop[PATH_MAX + 16], hide[PATH_MAX + 16], torn[PATH_MAX + 16];
	const struct geo *g = &S.d[0].g;
	uint8_t *d = aligned_alloc(4096, MAX_BYTES), *m = aligned_alloc(4096, 4096);
	uint8_t *d2 = aligned_alloc(4096, MAX_BYTES), *m2 = aligned_alloc(4096, 4096);
	int64_t ii = -1, ia = -1;
	struct jrec wr = { 0 };
	bool ok = true;
	struct nvmeta_pi_tags t = { .app_tag = APPTAG };

	if (!d || !m || !d2 || !m2)
		return 1;
	snprintf(drop, sizeof(drop), "%s.dropped", S.journal);
	snprintf(hide, sizeof(hide), "%s.hidden", S.journal);
	snprintf(torn, sizeof(torn), "%s.torn", S.journal);
	ok &= expect_fail("the run's own journal", S.journal, 0);
	if (pick_write(S.journal, &ii, &ia, &wr))
		return fprintf(stderr, PROG ": self-test: no acknowledged write\n"), 1;
	copy_journal(S.journal, torn, -1, -1, false, 37);
	ok &= expect_fail("a torn last record (ignored)", torn, 0);
	copy_journal(S.journal, drop, ia, -1, false, 0);
	ok &= expect_fail("one ACK record dropped from the journal", drop, 1);
	copy_journal(S.journal, hide, ii, ia, true, 0);
	ok &= expect_fail("a write's records removed and the rest renumbered", hide, 1);
	/* Behind the journal's back: one byte of an acknowledged block, its
	 * PI made again so that the device takes it. */
	if (raw_block(0, wr.lba, d, m, false))
		return fprintf(stderr, PROG ": self-test: read: %s\n", nvmeta_last_error()), 1;
	memcpy(d2, d, g->lba_size);
	memcpy(m2, m, g->ms);
	d2[g->lba_size / 2] ^= 1;
	t.ref_tag = g->pi ? nvmeta_pi_ref_tag(&g->pf, wr.lba) : 0;
	if (g->pi)
		nvmeta_pi_generate(&g->pf, d2, m2, 1, &t);
	if (raw_block(0, wr.lba, d2, m2, true))
		return fprintf(stderr, PROG ": self-test: write: %s\n", nvmeta_last_error()), 1;
	ok &= expect_fail("one byte of an acknowledged block changed", S.journal, 1);
	/* A well-formed block of a generation no journal record has. */
	fill_block(d2, g->lba_size, wr.lba, wr.gen + 1000000, wr.writer, S.d[0].epoch);
	fill_meta(m2, g, wr.lba, wr.gen + 1000000);
	if (g->pi)
		nvmeta_pi_generate(&g->pf, d2, m2, 1, &t);
	if (raw_block(0, wr.lba, d2, m2, true))
		return fprintf(stderr, PROG ": self-test: write: %s\n", nvmeta_last_error()), 1;
	ok &= expect_fail("a whole block written behind the journal's back", S.journal, 1);
	if (raw_block(0, wr.lba, d, m, true))	/* put back */
		return fprintf(stderr, PROG ": self-test: write: %s\n", nvmeta_last_error()), 1;
	ok &= expect_fail("the block put back", S.journal, 0);
	unlink(drop);
	unlink(hide);
	unlink(torn);
	free(d);
	free(m);
	free(d2);
	free(m2);
	fprintf(stderr, PROG ": self-test: %s\n", ok ? "pass" : "FAIL");
	return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static const char usage[] =
	"usage: nvmeta-soak --journal FILE [--time SECS | --count N] [--writers N] [--readers N]\n"
	"                   [--qd N] [--region-mb N] [--reset-every SECS] [--format-every SECS]\n"
	"                   [--explain-window SECS] [--injected-sector N] [--seed N]\n"
	"                   [--resume] [--no-verify] [--poison-sqes] [--sqe-async]\n"
	"                   [--json] [--quiet] /dev/ngXnY...\n"
	"       nvmeta-soak --journal FILE --verify [--json] /dev/ngXnY...\n"
	"       nvmeta-soak --journal FILE --self-test [--count N] /dev/ngXnY\n"
	"It writes the namespaces: use scratch ones.\n";

static int opt_num(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *v)
{
	if (args_u64(PROG, opt, arg, min, max, v))
		exit((fputs(usage, stderr), 2));
	return 0;
}

/* Open the journal: fresh (truncated, START records), or --resume / verify
 * of an existing one (its torn tail cut off before anything is added). */
static int journal_open(bool fresh, struct vres *v)
{
	int i;

	S.jfd = open(S.journal, O_RDWR | O_CREAT | (fresh ? O_TRUNC : 0) | O_APPEND | O_CLOEXEC, 0644);
	if (S.jfd < 0)
		return fprintf(stderr, PROG ": journal %s: %s\n", S.journal, strerror(errno)), 2;
	if (fresh) {
		/* A run's own epoch: blocks an earlier run left (epoch 0 or
		 * another's) are not taken for this one's. */
		uint32_t run = (uint32_t)(now_ns() ^ ((int64_t)getpid() << 20)) & 0x7ffff000u;

		for (i = 0; i < S.ndev; i++)
			S.d[i].epoch = run | 1;
		for (i = 0; i < S.ndev; i++)
			if (jgeo(&S.d[i], J_START, i))
				return fprintf(stderr, PROG ": %s\n", S.gone_why), 1;
		return 0;
	}
	/* Resume: the sequence and generations go on after the journal's. */
	if (verify(S.journal, v) < 0 || v->journal_bad)
		return fprintf(stderr, PROG ": journal %s cannot be resumed\n", S.journal), 1;
	if (ftruncate(S.jfd, (off_t)v->valid_bytes))
		return fprintf(stderr, PROG ": journal: %s\n", strerror(errno)), 1;
	S.jseq = v->next_seq;
	atomic_store(&S.gen, v->max_gen + 1);
	{
		struct jrec r = { .type = J_RESUME };

		if (jappend(&r, 1))
			return fprintf(stderr, PROG ": %s\n", S.gone_why), 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, NULL, 'j' }, { "time", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' }, { "writers", required_argument, NULL, 'w' },
		{ "readers", required_argument, NULL, 'r' }, { "qd", required_argument, NULL, 'q' },
		{ "region-mb", required_argument, NULL, 'R' },
		{ "reset-every", required_argument, NULL, 'E' },
		{ "format-every", required_argument, NULL, 'F' },
		{ "explain-window", required_argument, NULL, 'X' },
		{ "injected-sector", required_argument, NULL, 'I' },
		{ "seed", required_argument, NULL, 's' }, { "resume", no_argument, NULL, 'c' },
		{ "verify", no_argument, NULL, 'v' }, { "no-verify", no_argument, NULL, 'N' },
		{ "self-test", no_argument, NULL, 'T' }, { "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'Q' }, { "help", no_argument, NULL, 'h' },
		{ "poison-sqes", no_argument, NULL, 'P' },
		{ "sqe-async", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	bool self = false, ran = false, verified = false;
	struct vres v = { 0 };
	char why[512] = "";
	uint64_t x;
	int c, i, rc = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': S.journal = optarg; break;
		case 't': opt_num("--time", optarg, 1, 30 * 86400, &S.time_s); break;
		case 'n': opt_num("--count", optarg, 1, UINT32_MAX, &S.count); S.time_s = 0; break;
		case 'w': opt_num("--writers", optarg, 1, MAX_THREADS, &x); S.writers = (unsigned int)x; break;
		case 'r': opt_num("--readers", optarg, 0, MAX_THREADS, &x); S.readers = (unsigned int)x; break;
		case 'q': opt_num("--qd", optarg, 1, MAX_QD, &x); S.qd = (unsigned int)x; break;
		case 'R': opt_num("--region-mb", optarg, 1, 1024, &S.region_mb); break;
		case 'E': opt_num("--reset-every", optarg, 1, 86400, &S.reset_every); break;
		case 'F': opt_num("--format-every", optarg, 1, 86400, &S.format_every); break;
		case 'X': opt_num("--explain-window", optarg, 0, 3600, &S.explain_s); break;
		case 's': opt_num("--seed", optarg, 1, UINT64_MAX, &S.seed); break;
		case 'I': opt_num("--injected-sector", optarg, 0, INT64_MAX / 512, &x);
			S.inject_sector = (int64_t)x; break;
		case 'c': S.resume = true; break;
		case 'v': S.verify_only = true; break;
		case 'N': S.no_verify = true; break;
		case 'T': self = true; break;
		case 'J': S.json = true; break;
		case 'Q': S.quiet = true; break;
		case 'P': S.poison = true; break;
		case 'A': S.sqe_async = true; break;
		case 'h': return fputs(usage, stdout), 0;
		default: return fputs(usage, stderr), 2;
		}
	}
	if (!S.journal || optind >= argc || argc - optind > MAX_DEV ||
	    (self && (S.verify_only || argc - optind != 1)))
		return fputs(usage, stderr), 2;
	if (self && !S.count)
		S.count = 400, S.time_s = 0;
	if ((S.writers + (unsigned int)S.readers) > MAX_THREADS * 2)
		return fputs(usage, stderr), 2;
	S.ndev = argc - optind;
	for (i = 0; i < S.ndev; i++) {
		rc = dev_setup(i, argv[optind + i]);
		if (rc)
			return rc;
	}
	if (S.writers < (unsigned int)S.ndev)
		S.writers = (unsigned int)S.ndev;
	for (i = 0; i < S.ndev; i++)
		S.d[i].nw = (S.writers + (unsigned int)(S.ndev - 1 - i)) / (unsigned int)S.ndev;
	/* A fixed threshold: big blocks (the journal's table in verify) are
	 * mapped and unmapped whole, not kept in the heap once freed. */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atomic_store(&S.gen, 1);
	if (S.verify_only) {
		if (verify(S.journal, &v) < 0)
			return 1;
		verified = true;
		rc = vfail(&v) ? 1 : 0;
		summary(false, &v, true, rc, rc ? "FAIL" : "pass");
		return rc;
	}
	rc = journal_open(!S.resume, &v);
	if (rc)
		return rc;
	for (i = 0; i < S.ndev; i++)
		if (S.resume && S.d[i].epoch == 0) {	/* the epoch of the journal's last format */
			struct vdev vd[MAX_DEV] = { 0 };
			struct wrec *w = NULL;
			size_t n;
			struct vres tmp = { 0 };

			if (!jload(S.journal, &tmp, vd, &w, &n))
				S.d[i].epoch = vd[i].epoch;
			free(w);
		}
	/* Diagnostics: the history of recent writes, touched now so that it
	 * is part of the resident set from the start. */
	WH = mmap(NULL, WH_SIZE * sizeof(*WH), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (WH == MAP_FAILED)
		WH = NULL;
	else
		memset(WH, 0, WH_SIZE * sizeof(*WH));
	trace_dir = getenv("NVMETA_SOAK_TRACE");
	run();
	ran = true;
	if (S.jfailed)
		snprintf(why, sizeof(why), "%s", S.gone_why);
	for (i = 0; i < (int)S.nworkers && !why[0]; i++)
		if (S.w[i].why[0] && !atomic_load(&S.gone) &&
		    (atomic_load(&S.unexplained) || !got_signal))
			/* The thread's words, cut to leave room for its number. */
			snprintf(why, sizeof(why), "thread %d: %.480s", S.w[i].id, S.w[i].why);
	for (i = 0; i < S.ndev; i++)
		if (!dev_present(&S.d[i]) && !atomic_load(&S.gone))
			set_gone(S.d[i].path, -ENODEV);
	if (atomic_load(&S.gone)) {
		fprintf(stderr, PROG ": %s; the journal holds every acknowledged write: verify it "
			"with --verify once the namespace is back\n", S.gone_why);
		summary(true, &v, false, EXIT_GONE, "namespace gone");
		return EXIT_GONE;
	}
	if (self) {
		rc = self_test();
		summary(true, &v, false, rc, rc ? "FAIL" : "pass");
		return rc;
	}
	if (!S.no_verify && !S.jfailed) {
		if (verify(S.journal, &v) < 0)
			rc = 1;
		verified = true;
	}
	if (vfail(&EV) && !why[0])
		snprintf(why, sizeof(why), "verify before a format: %" PRIu64 " lost, %" PRIu64
			 " corrupted, %" PRIu64 " unexpected, %" PRIu64 " digest, %" PRIu64 " journal, %"
			 PRIu64 " read errors", EV.lost, EV.corrupted, EV.unexpected, EV.digest_bad,
			 EV.journal_bad, EV.read_err);
	if (vfail(&v) && !why[0])
		snprintf(why, sizeof(why), "verify: %" PRIu64 " lost, %" PRIu64 " corrupted, %" PRIu64
			 " unexpected, %" PRIu64 " digest, %" PRIu64 " journal, %" PRIu64 " read errors",
			 v.lost, v.corrupted, v.unexpected, v.digest_bad, v.journal_bad, v.read_err);
	if (!why[0] && atomic_load(&S.unexplained))
		snprintf(why, sizeof(why), "%" PRIu64 " errors no injected fault explains",
			 atomic_load(&S.unexplained));
	if (!why[0] && !got_signal)
		res_grew(why, sizeof(why));
	if (!why[0] && !atomic_load(&S.acked))
		snprintf(why, sizeof(why), "no write was acknowledged");
	if (why[0]) {
		fprintf(stderr, PROG ": FAIL: %s\n", why);
		rc = 1;
	}
	summary(ran, &v, verified, rc, rc ? "FAIL" : got_signal ? "pass (stopped by a signal)" : "pass");
	for (i = 0; i < S.ndev; i++)
		nvmeta_dev_close(S.d[i].dev);
	close(S.jfd);
	return rc;
}
