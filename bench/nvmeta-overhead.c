// SPDX-License-Identifier: MIT
/*
 * nvmeta-overhead: the library's own cost per command, against the same
 * commands built by hand, on one ring with the same buffers and the same
 * loop shape:
 *
 *	for each batch: QD SQEs filled, io_uring_submit_and_wait(QD),
 *	                QD completions reaped
 *
 * Variants, at each queue depth, with and without a registered file and
 * registered data buffer:
 *   raw         the SQE filled field by field, no library code; reaped
 *               with io_uring_for_each_cqe() and io_uring_cq_advance()
 *   prep_cmd    the inline encoder nvmeta_prep_cmd(); reaped as raw
 *   prep        nvmeta_prep() (validation, then the encoder); reaped as raw
 *   queue       nvmeta_queue(); reaped as raw
 *   queue+reap  nvmeta_queue() and nvmeta_reap(): the library end to end
 *   vec+reap    the same, the data as one iovec over the same buffer
 *               (NVMETA_IO_VEC, NVME_URING_CMD_IO_VEC), so that the command
 *               stays one block; against queue+reap as a difference and a
 *               ratio (issue 21): natively the library's checks of the
 *               iovecs, on a device the kernel's vectored mapping too.
 *               Registered, it needs Linux 6.16 (skipped below, as the
 *               library refuses it)
 * and one command at a time:
 *   sync-raw    hand-built SQE, io_uring_submit_and_wait(1), reaped as raw
 *   io_sync     nvmeta_io_sync()
 *
 * Without a device (native mode) the commands go to /dev/null, which has
 * no uring_cmd: the kernel completes every one at once with -EOPNOTSUPP,
 * the same work for every variant.  The device description is synthetic
 * (512+8, separate metadata), filled through lib/internal.h as the unit
 * tests fill it; the benchmark links the static library for that.  So
 * that the library takes the path it takes on a successful command, and
 * not the one that formats an error message for every completion (and
 * reads sysfs to explain it, in nvmeta_io_sync()), nvmeta_status_decode()
 * is linked wrapped (ld --wrap): the wrapper decodes a copy of an
 * -EOPNOTSUPP CQE with the result 0.  Its copy counts against the
 * library.  --as-is leaves the results alone.  With a namespace
 * (nvmeta-overhead /dev/ngXnY) the same variants read one block into a
 * buffer with metadata.
 *
 * Every variant runs one slice a round (a number of batches calibrated to
 * about --slice-ms of wall time), in an order that rotates and alternates
 * from round to round, after an unrecorded warm-up round.  A slice's
 * figures are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) and the wall
 * time (CLOCK_MONOTONIC) per command; the report gives the median with
 * min and max over rounds, and for each variant its difference to raw of
 * the same depth and registration (sync-raw for io_sync), taken round by
 * round before the median.
 *
 * Allocations are counted by malloc() and its siblings, defined here over
 * glibc's own.  System calls are counted in a separate pass: a child
 * process runs each variant under a seccomp filter that hands every call
 * to a supervising thread (SECCOMP_RET_USER_NOTIF), which counts it and
 * lets it go on (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include "args.h"
#include "bench.h"
#include "internal.h"
#include "report.h"

#define PROG "nvmeta-overhead"
#define MAX_QD 64
#define MAX_QDS 4
#define MAX_VARIANTS 56
#define COUNT_CMDS 256		/* commands of a variant in the counting pass */

#ifdef IO_URING_VERSION_MAJOR
#define STR_(x) #x
#define STR(x) STR_(x)
#define LIBURING STR(IO_URING_VERSION_MAJOR) "." STR(IO_URING_VERSION_MINOR)
#else
#define LIBURING "before 2.4 (no version macro)"
#endif

#ifndef NVMETA_BUILD_TYPE
#define NVMETA_BUILD_TYPE "unknown"
#endif

#if defined(__x86_64__)
#define OVH_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define OVH_ARCH AUDIT_ARCH_AARCH64
#else
#define OVH_ARCH 0
#endif

/* The targets, in ns a command: printed, never asserted. */
#define TARGET_LIB_NS 10.0
#define TARGET_PREP_CMD_NS 3.0
#define TARGET_SYNC_NS 15.0

/* ------------------------------------------------------------------ */
/* Allocations: malloc and its siblings over glibc's own               */
/* ------------------------------------------------------------------ */

/* A sanitizer's allocator owns malloc and free there: glibc's underneath
 * would free what the sanitizer allocated.  Such builds count nothing,
 * and say so ("allocs_per_cmd": null). */
#if defined(__SANITIZE_ADDRESS__)
#define COUNT_ALLOCS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_ALLOCS 0
#endif
#endif
#ifndef COUNT_ALLOCS
#define COUNT_ALLOCS 1
#endif

static _Atomic unsigned long allocs;	/* stays 0 without COUNT_ALLOCS */

#if COUNT_ALLOCS
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);


static void count_alloc(void)
{
	atomic_fetch_add_explicit(&allocs, 1, memory_order_relaxed);
}

void *malloc(size_t n)
{
	count_alloc();
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	count_alloc();
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	count_alloc();
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

void *aligned_alloc(size_t align, size_t n)
{
	count_alloc();
	return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n)
{
	count_alloc();
	return __libc_memalign(align, n);
}

int posix_memalign(void **p, size_t align, size_t n)
{
	void *m;

	if (!align || align % sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	count_alloc();
	m = __libc_memalign(align, n);
	if (!m)
		return ENOMEM;
	*p = m;
	return 0;
}
#endif /* COUNT_ALLOCS */

static unsigned long allocs_now(void)
{
	return atomic_load_explicit(&allocs, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Native completions taken as successes                               */
/* ------------------------------------------------------------------ */

int __real_nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st);
int __wrap_nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st);

static bool as_success;	/* native mode, unless --as-is */

int __wrap_nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st)
{
	struct io_uring_cqe ok[2];	/* a 32-byte CQE */

	if (as_success && cqe->res == -EOPNOTSUPP) {
		memcpy(ok, cqe, sizeof(ok));
		ok[0].res = 0;
		return __real_nvmeta_status_decode(ok, st);
	}
	return __real_nvmeta_status_decode(cqe, st);
}

/* ------------------------------------------------------------------ */
/* Variants                                                            */
/* ------------------------------------------------------------------ */

/* The batched variants first: count_child() tells them from the sync ones
 * by order. */
enum way { V_RAW, V_PREP_CMD, V_PREP, V_QUEUE, V_QUEUE_REAP, V_VEC, V_SYNC_RAW, V_SYNC };

static const char *const way_names[] = {
	[V_RAW] = "raw", [V_PREP_CMD] = "prep_cmd", [V_PREP] = "prep",
	[V_QUEUE] = "queue", [V_QUEUE_REAP] = "queue+reap", [V_VEC] = "vec+reap",
	[V_SYNC_RAW] = "sync-raw", [V_SYNC] = "io_sync",
};

static const char *const way_what[] = {
	[V_RAW] = "SQE filled field by field, for_each_cqe + cq_advance",
	[V_PREP_CMD] = "nvmeta_prep_cmd(), reaped as raw",
	[V_PREP] = "nvmeta_prep(), reaped as raw",
	[V_QUEUE] = "nvmeta_queue(), reaped as raw",
	[V_QUEUE_REAP] = "nvmeta_queue() + nvmeta_reap()",
	[V_VEC] = "nvmeta_queue() + nvmeta_reap(), NVMETA_IO_VEC: the data as 1 iovec over the same buffer",
	[V_SYNC_RAW] = "hand-built SQE, submit_and_wait(1), one at a time",
	[V_SYNC] = "nvmeta_io_sync()",
};

static bool way_is_lib(enum way a)
{
	return a != V_RAW && a != V_SYNC_RAW;
}

/* What the counting pass saw of one variant. */
struct count {
	int done;		/* 1 counted, 0 not (why says) */
	char why[120];
	uint64_t cmds, batches, enter, other, allocs;
	long first_other;	/* the first other call's number */
};

struct ovh_variant {
	enum way way;
	unsigned int qd;
	bool fixed;		/* registered file and data buffer */
	struct ovh_variant *ref;	/* raw (sync-raw) of the same depth and registration */
	struct ovh_variant *single;	/* vec+reap: queue+reap of the same */
	uint64_t batches;	/* a slice, from calibration */
	unsigned int rounds;
	double cpu[BENCH_MAX_ROUNDS], wall[BENCH_MAX_ROUNDS];	/* ns a command */
	uint64_t cmds, allocs;	/* over the timed slices */
	char skip[240];
	struct count count;
};

struct opts {
	const char *dev_path, *json_path;
	unsigned int rounds, slice_ms;
	unsigned int qds[MAX_QDS], nqds;
	bool quick, quiet, as_is, no_count;
};

/* The ring, the buffers and the device every variant shares. */
struct ctx {
	const struct nvmeta_dev *dev;
	const struct nvmeta_dev_info *info;
	int fd;
	bool native;
	struct io_uring ring;
	bool fixed_ok;
	char fixed_why[120];
	unsigned char *data, *meta;
	size_t data_bytes, meta_bytes;
	uint32_t dlen, mlen;	/* a command's */
	struct nvmeta_io tmpl[2];	/* [fixed] */
	struct nvmeta_io vtmpl[2];	/* [fixed], NVMETA_IO_VEC */
	/* A slot's data as one iovec, made once: the kernel reads the array
	 * when it issues the command, so every slot in flight has its own. */
	struct iovec iov[MAX_QD];
	int want;		/* the kernel's answer: -EOPNOTSUPP natively, else 0 */
	uint64_t bad;		/* completions with another answer */
	int err;		/* a library call that failed */
	char err_msg[200];
	struct nvmeta_completion comp[MAX_QD];
};

/* ------------------------------------------------------------------ */
/* The loops                                                           */
/* ------------------------------------------------------------------ */

static int fail(struct ctx *c, int ret, const char *what)
{
	if (!c->err) {
		c->err = ret;
		snprintf(c->err_msg, sizeof(c->err_msg), "%s: %d (%s)", what, ret,
			 nvmeta_last_error()[0] ? nvmeta_last_error() : strerror(-ret));
	}
	return ret;
}

/* Every field the kernel reads, as an application writes them. */
static inline void raw_fill(struct ctx *c, struct io_uring_sqe *sqe, unsigned int i, bool fixed)
{
	struct nvme_uring_cmd *cmd = (struct nvme_uring_cmd *)sqe->cmd;

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = fixed ? IOSQE_FIXED_FILE : 0;
	sqe->ioprio = 0;
	sqe->fd = fixed ? 0 : c->fd;
	sqe->off = 0;
	sqe->cmd_op = NVME_URING_CMD_IO;
	sqe->addr = 0;
	sqe->len = 0;
	sqe->uring_cmd_flags = fixed ? IORING_URING_CMD_FIXED : 0;
	sqe->user_data = i;
	sqe->buf_index = 0;
	sqe->personality = 0;
	sqe->file_index = 0;
	cmd->opcode = NVMETA_OP_READ;
	cmd->flags = 0;
	cmd->rsvd1 = 0;
	cmd->nsid = c->info->nsid;
	cmd->cdw2 = 0;
	cmd->cdw3 = 0;
	cmd->metadata = c->mlen ? (uintptr_t)(c->meta + (size_t)i * c->mlen) : 0;
	cmd->addr = (uintptr_t)(c->data + (size_t)i * c->dlen);
	cmd->metadata_len = c->mlen;
	cmd->data_len = c->dlen;
	cmd->cdw10 = i;
	cmd->cdw11 = 0;
	cmd->cdw12 = 0;		/* one block */
	cmd->cdw13 = 0;
	cmd->cdw14 = 0;
	cmd->cdw15 = 0;
	cmd->timeout_ms = 0;
	cmd->rsvd2 = 0;
}

/* The command of slot @i, as a caller of the library fills it. */
static inline void io_at(struct ctx *c, struct nvmeta_io *io, unsigned int i)
{
	io->slba = i;
	io->data = c->data + (size_t)i * c->dlen;
	io->meta = c->mlen ? c->meta + (size_t)i * c->mlen : NULL;
}

/* The same with the data as slot @i's iovec: one pointer, as above. */
static inline void vec_at(struct ctx *c, struct nvmeta_io *io, unsigned int i)
{
	io->slba = i;
	io->data = &c->iov[i];
	io->meta = c->mlen ? c->meta + (size_t)i * c->mlen : NULL;
}

static inline void raw_reap(struct ctx *c, unsigned int n)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;

	io_uring_for_each_cqe(&c->ring, head, cqe) {
		c->bad += cqe->res != c->want;
		if (++seen == n)
			break;
	}
	io_uring_cq_advance(&c->ring, seen);
	c->bad += n - seen;
}

static inline int submit(struct ctx *c, unsigned int qd)
{
	int ret = io_uring_submit_and_wait(&c->ring, qd);

	return ret == (int)qd ? 0 : fail(c, ret < 0 ? ret : -EAGAIN, "io_uring_submit_and_wait");
}

static __attribute__((noinline)) int loop_raw(struct ctx *c, unsigned int qd, bool fixed,
					      uint64_t batches)
{
	unsigned int i;

	while (batches--) {
		for (i = 0; i < qd; i++)
			raw_fill(c, io_uring_get_sqe(&c->ring), i, fixed);
		if (submit(c, qd))
			return c->err;
		raw_reap(c, qd);
	}
	return 0;
}

static __attribute__((noinline)) int loop_prep_cmd(struct ctx *c, unsigned int qd, bool fixed,
						   uint64_t batches)
{
	struct nvmeta_io io = c->tmpl[fixed];
	struct io_uring_sqe *sqe;
	unsigned int i;

	while (batches--) {
		for (i = 0; i < qd; i++) {
			sqe = io_uring_get_sqe(&c->ring);
			io_at(c, &io, i);
			nvmeta_prep_cmd(sqe, c->fd, c->info, &io);
			sqe->user_data = i;
		}
		if (submit(c, qd))
			return c->err;
		raw_reap(c, qd);
	}
	return 0;
}

static __attribute__((noinline)) int loop_prep(struct ctx *c, unsigned int qd, bool fixed,
					       uint64_t batches)
{
	struct nvmeta_io io = c->tmpl[fixed];
	struct io_uring_sqe *sqe;
	unsigned int i;
	int ret;

	while (batches--) {
		for (i = 0; i < qd; i++) {
			sqe = io_uring_get_sqe(&c->ring);
			io_at(c, &io, i);
			ret = nvmeta_prep(c->dev, sqe, &io);
			if (ret) {
				/* The SQE is taken: send a NOP in its place. */
				io_uring_prep_nop(sqe);
				return fail(c, ret, "nvmeta_prep");
			}
			sqe->user_data = i;
		}
		if (submit(c, qd))
			return c->err;
		raw_reap(c, qd);
	}
	return 0;
}

/* Inlined into each caller with @vec constant: queue and queue+reap keep
 * the code they had before vec+reap came. */
static inline __attribute__((always_inline)) int
queue_loop(struct ctx *c, unsigned int qd, bool fixed, uint64_t batches, bool lib_reap,
	   bool vec)
{
	struct nvmeta_io io = vec ? c->vtmpl[fixed] : c->tmpl[fixed];
	unsigned int i;
	int ret;

	while (batches--) {
		for (i = 0; i < qd; i++) {
			if (vec)
				vec_at(c, &io, i);
			else
				io_at(c, &io, i);
			ret = nvmeta_queue(c->dev, &c->ring, &io, i);
			if (ret)
				return fail(c, ret, "nvmeta_queue");
		}
		if (submit(c, qd))
			return c->err;
		if (!lib_reap) {
			raw_reap(c, qd);
			continue;
		}
		ret = nvmeta_reap(&c->ring, qd, c->comp, qd);
		if (ret < 0)
			return fail(c, ret, "nvmeta_reap");
		for (i = 0; i < (unsigned int)ret; i++)
			c->bad += c->comp[i].ret != (as_success ? 0 : c->want);
		c->bad += qd - (unsigned int)ret;
	}
	return 0;
}

static __attribute__((noinline)) int loop_queue(struct ctx *c, unsigned int qd, bool fixed,
						uint64_t batches, bool lib_reap)
{
	return queue_loop(c, qd, fixed, batches, lib_reap, false);
}

static __attribute__((noinline)) int loop_vec(struct ctx *c, unsigned int qd, bool fixed,
					      uint64_t batches)
{
	return queue_loop(c, qd, fixed, batches, true, true);
}

static __attribute__((noinline)) int loop_sync_raw(struct ctx *c, bool fixed, uint64_t cmds)
{
	struct io_uring_cqe *cqe;

	while (cmds--) {
		raw_fill(c, io_uring_get_sqe(&c->ring), 0, fixed);
		if (submit(c, 1))
			return c->err;
		if (io_uring_peek_cqe(&c->ring, &cqe)) {
			c->bad++;
			continue;
		}
		c->bad += cqe->res != c->want;
		io_uring_cqe_seen(&c->ring, cqe);
	}
	return 0;
}

static __attribute__((noinline)) int loop_sync(struct ctx *c, bool fixed, uint64_t cmds)
{
	struct nvmeta_io io = c->tmpl[fixed];
	struct nvmeta_status st;
	int ret;

	io_at(c, &io, 0);
	while (cmds--) {
		ret = nvmeta_io_sync(c->dev, &c->ring, &io, &st);
		if (ret && !(c->want && !as_success && ret == c->want))
			return fail(c, ret, "nvmeta_io_sync");
	}
	return 0;
}

/* @batches batches of @v; a batch of a sync variant is one command. */
static int run(struct ctx *c, const struct ovh_variant *v, uint64_t batches)
{
	switch (v->way) {
	case V_RAW:
		return loop_raw(c, v->qd, v->fixed, batches);
	case V_PREP_CMD:
		return loop_prep_cmd(c, v->qd, v->fixed, batches);
	case V_PREP:
		return loop_prep(c, v->qd, v->fixed, batches);
	case V_QUEUE:
		return loop_queue(c, v->qd, v->fixed, batches, false);
	case V_QUEUE_REAP:
		return loop_queue(c, v->qd, v->fixed, batches, true);
	case V_VEC:
		return loop_vec(c, v->qd, v->fixed, batches);
	case V_SYNC_RAW:
		return loop_sync_raw(c, v->fixed, batches);
	default:
		return loop_sync(c, v->fixed, batches);
	}
}

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

/* The synthetic device of native mode: 512+8, separate metadata, no PI,
 * as a 6.12 kernel describes QEMU's controller, on /dev/null. */
static int fake_dev(struct nvmeta_dev *dev)
{
	struct nvmeta_dev_info *in = &dev->info;
	unsigned int i;

	memset(dev, 0, sizeof(*dev));
	for (i = 0; i < ARRAY_SIZE(dev->attr_fds); i++)
		dev->attr_fds[i] = -1;
	dev->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return -errno;
	if (nvmeta_kernel_read(&in->kernel))
		in->kernel = (struct nvmeta_kernel){ .major = 6, .minor = 12 };
	snprintf(in->generic_path, sizeof(in->generic_path), "/dev/null");
	snprintf(in->model, sizeof(in->model), "synthetic");
	in->nsid = 1;
	in->nsze = 1 << 20;
	in->lba_size = 512;
	in->ms = 8;
	in->guard_bits = 16;
	in->limits.dma_alignment = 3;
	in->limits.max_integrity_segments = 1;
	in->limits.max_segments = 128;
	in->limits.max_hw_sectors_kb = 512;
	in->limits.logical_block_size = 512;
	snprintf(in->limits.integrity_format, sizeof(in->limits.integrity_format), "none");
	/* What nvmeta_dev_open() decides once per device. */
	nvmeta_fast_decide(dev);
	return 0;
}

static int ring_open(struct ctx *c)
{
	struct nvmeta_ring_params p = { 0 };
	struct iovec iov = { .iov_base = c->data, .iov_len = c->data_bytes };
	int ret;

	ret = nvmeta_ring_setup(&c->ring, MAX_QD, &p);
	if (ret) {
		fprintf(stderr, PROG ": ring: %s\n", nvmeta_last_error());
		return ret;
	}
	c->fixed_ok = false;
	if (!(p.features & NVMETA_FEAT_FIXED_BUF)) {
		snprintf(c->fixed_why, sizeof(c->fixed_why),
			 "this kernel takes no registered buffers for passthrough");
		return 0;
	}
	ret = io_uring_register_files(&c->ring, &c->fd, 1);
	if (ret) {
		snprintf(c->fixed_why, sizeof(c->fixed_why), "io_uring_register_files: %s",
			 strerror(-ret));
		return 0;
	}
	ret = io_uring_register_buffers(&c->ring, &iov, 1);
	if (ret) {
		snprintf(c->fixed_why, sizeof(c->fixed_why), "io_uring_register_buffers: %s",
			 strerror(-ret));
		return 0;
	}
	c->fixed_ok = true;
	return 0;
}

static int buffers(struct ctx *c)
{
	const struct nvmeta_dev_info *in = c->info;
	long page = sysconf(_SC_PAGESIZE);
	unsigned int i;
	void *p;

	c->dlen = in->lba_size + (in->extended_lba ? in->ms : 0);
	c->mlen = in->extended_lba ? 0 : in->ms;
	c->data_bytes = ((size_t)MAX_QD * c->dlen + page - 1) / page * page;
	c->meta_bytes = ((size_t)MAX_QD * (c->mlen ? c->mlen : 1) + page - 1) / page * page;
	if (posix_memalign(&p, page, c->data_bytes))
		return -ENOMEM;
	c->data = p;
	if (posix_memalign(&p, page, c->meta_bytes))
		return -ENOMEM;
	c->meta = p;
	/* Ready once, so that no variant does work per command for it
	 * (the library's commands carry NVMETA_IO_NO_PREFAULT). */
	memset(c->data, 0, c->data_bytes);
	memset(c->meta, 0, c->meta_bytes);
	nvmeta_mem_prepare(c->data, c->data_bytes);
	nvmeta_mem_prepare(c->meta, c->meta_bytes);
	c->tmpl[0] = (struct nvmeta_io){
		.opcode = NVMETA_OP_READ, .nlb = 1, .flags = NVMETA_IO_NO_PREFAULT,
		.data_len = c->dlen, .meta_len = c->mlen,
	};
	c->tmpl[1] = c->tmpl[0];
	c->tmpl[1].flags |= NVMETA_IO_FIXED_FILE | NVMETA_IO_FIXED_BUF;
	/* One iovec a command: the command stays the one block the others
	 * read, so only the way its data is described differs.  Registered,
	 * the iovec lies inside registered buffer 0, as the flat one does. */
	for (i = 0; i < MAX_QD; i++)
		c->iov[i] = (struct iovec){ .iov_base = c->data + (size_t)i * c->dlen,
					    .iov_len = c->dlen };
	for (i = 0; i < 2; i++) {
		c->vtmpl[i] = c->tmpl[i];
		c->vtmpl[i].flags |= NVMETA_IO_VEC;
		c->vtmpl[i].data_len = 1;	/* iovecs, not bytes */
	}
	return 0;
}

/*
 * The kernel's answer to the commands, from one of them: a namespace's
 * read must succeed.  /dev/null answers 0 where it has a uring_cmd that
 * completes at once (recent kernels), else -EOPNOTSUPP, which the
 * library then is made to take as a success (--as-is aside).
 */
static int probe_answer(struct ctx *c)
{
	struct io_uring_cqe *cqe;
	int ret;

	raw_fill(c, io_uring_get_sqe(&c->ring), 0, false);
	ret = io_uring_submit_and_wait(&c->ring, 1);
	if (ret == 1)
		ret = io_uring_peek_cqe(&c->ring, &cqe);
	else
		ret = ret < 0 ? ret : -EAGAIN;
	if (ret) {
		fprintf(stderr, PROG ": the first command: %s\n", strerror(-ret));
		return ret;
	}
	c->want = cqe->res;
	io_uring_cqe_seen(&c->ring, cqe);
	if (c->native && c->want && c->want != -EOPNOTSUPP) {
		fprintf(stderr, PROG ": /dev/null answered %d (%s) to a passthrough command\n",
			c->want, strerror(-c->want));
		return -EIO;
	}
	if (!c->native && c->want) {
		fprintf(stderr, PROG ": %s: a read of block 0 answered %d (%s)\n",
			c->info->generic_path, c->want,
			c->want < 0 ? strerror(-c->want) : "an NVMe status");
		return -EIO;
	}
	as_success = as_success && c->want == -EOPNOTSUPP;
	return 0;
}

static int ctx_open(struct ctx *c, const struct opts *o, struct nvmeta_dev *fake)
{
	struct nvmeta_dev *dev;
	int ret;

	memset(c, 0, sizeof(*c));
	c->native = !o->dev_path;
	if (c->native) {
		ret = fake_dev(fake);
		if (ret) {
			fprintf(stderr, PROG ": /dev/null: %s\n", strerror(-ret));
			return ret;
		}
		dev = fake;
	} else {
		ret = nvmeta_dev_open(o->dev_path, &dev);
		if (ret) {
			fprintf(stderr, PROG ": %s: %s\n", o->dev_path, nvmeta_last_error());
			return ret;
		}
	}
	c->dev = dev;
	c->info = nvmeta_dev_info(dev);
	c->fd = nvmeta_dev_fd(dev);
	ret = buffers(c);
	if (ret) {
		fprintf(stderr, PROG ": buffers: %s\n", strerror(-ret));
		return ret;
	}
	ret = ring_open(c);
	return ret ? ret : probe_answer(c);
}

/* Everything ctx_open() made, whatever it got to. */
static void ctx_close(struct ctx *c, struct nvmeta_dev *fake)
{
	if (c->ring.ring_fd > 0) {
		nvmeta_ring_exit(&c->ring);
		io_uring_queue_exit(&c->ring);
	}
	free(c->data);
	free(c->meta);
	if (c->dev == fake)
		close(fake->fd);
	else
		nvmeta_dev_close((struct nvmeta_dev *)c->dev);
	memset(c, 0, sizeof(*c));
}

/* ------------------------------------------------------------------ */
/* The plan, calibration and rounds                                    */
/* ------------------------------------------------------------------ */

static struct ovh_variant vars[MAX_VARIANTS];
static unsigned int nvars;

static struct ovh_variant *add(enum way way, unsigned int qd, bool fixed, struct ovh_variant *ref)
{
	struct ovh_variant *v = &vars[nvars++];

	v->way = way;
	v->qd = qd;
	v->fixed = fixed;
	v->ref = ref;
	return v;
}

/*
 * Whether vec+reap can run with registration @fixed: the library refuses
 * NVMETA_IO_VEC with NVMETA_IO_FIXED_BUF before Linux 6.16, and a kernel
 * may answer the vectored command otherwise than the flat one, which
 * would fail the run.  One command, queued and reaped as the loop does;
 * a refusal or another answer goes into @why.  Returns -1 when the ring
 * itself failed.
 */
static int vec_probe(struct ctx *c, bool fixed, char *why, size_t len)
{
	struct nvmeta_io io = c->vtmpl[fixed];
	int ret;

	vec_at(c, &io, 0);
	ret = nvmeta_queue(c->dev, &c->ring, &io, 0);
	if (ret) {
		/* Refused before an SQE was taken: the ring is as it was. */
		snprintf(why, len, "nvmeta_queue() refuses it: %s", nvmeta_last_error());
		return 0;
	}
	ret = io_uring_submit_and_wait(&c->ring, 1);
	if (ret != 1) {
		fail(c, ret < 0 ? ret : -EAGAIN, "vectored command: io_uring_submit_and_wait");
		return -1;
	}
	ret = nvmeta_reap(&c->ring, 1, c->comp, 1);
	if (ret != 1) {
		fail(c, ret < 0 ? ret : -EAGAIN, "vectored command: nvmeta_reap");
		return -1;
	}
	ret = c->comp[0].ret;
	if (ret != (as_success ? 0 : c->want))
		snprintf(why, len, "the kernel answers %d (%s, NVMe status 0x%x) to NVME_URING_CMD_IO_VEC",
			 ret, strerror(-ret), c->comp[0].status.status);
	return 0;
}

static int plan(const struct opts *o, struct ctx *c)
{
	char why[2][sizeof(vars[0].skip)] = { "", "" };
	unsigned int q, f;
	enum way a;

	/* Without registration every fixed variant is skipped below. */
	for (f = 0; f < 2; f++)
		if ((!f || c->fixed_ok) && vec_probe(c, f, why[f], sizeof(why[f])))
			return -1;
	for (q = 0; q < o->nqds; q++) {
		for (f = 0; f < 2; f++) {
			struct ovh_variant *raw = add(V_RAW, o->qds[q], f, NULL), *single = NULL;

			for (a = V_PREP_CMD; a <= V_VEC; a++) {
				struct ovh_variant *v = add(a, o->qds[q], f, raw);

				if (a == V_QUEUE_REAP)
					single = v;
				if (a != V_VEC)
					continue;
				v->single = single;
				memcpy(v->skip, why[f], sizeof(v->skip));
			}
		}
	}
	for (f = 0; f < 2; f++) {
		struct ovh_variant *raw = add(V_SYNC_RAW, 1, f, NULL);

		add(V_SYNC, 1, f, raw);
	}
	for (q = 0; q < nvars; q++)
		if (vars[q].fixed && !c->fixed_ok)
			snprintf(vars[q].skip, sizeof(vars[q].skip), "%s", c->fixed_why);
	return 0;
}

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Batches for about @ms of wall time. */
static int calibrate(struct ctx *c, struct ovh_variant *v, unsigned int ms)
{
	uint64_t n = 1;
	double t;

	for (;;) {
		t = clock_ns(CLOCK_MONOTONIC);
		if (run(c, v, n))
			return c->err;
		t = clock_ns(CLOCK_MONOTONIC) - t;
		if (t >= ms * 1e6 / 8 || n >= (1ull << 30))
			break;
		n *= 4;
	}
	v->batches = (uint64_t)(n * (ms * 1e6) / (t > 0 ? t : 1));
	if (!v->batches)
		v->batches = 1;
	return 0;
}

static int slice(struct ctx *c, struct ovh_variant *v, bool record)
{
	uint64_t cmds = v->batches * v->qd;
	unsigned long a0 = allocs_now();
	double cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID), wall = clock_ns(CLOCK_MONOTONIC);

	if (run(c, v, v->batches))
		return c->err;
	wall = clock_ns(CLOCK_MONOTONIC) - wall;
	cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu;
	if (!record)
		return 0;
	v->allocs += allocs_now() - a0;
	v->cmds += cmds;
	v->cpu[v->rounds] = cpu / cmds;
	v->wall[v->rounds] = wall / cmds;
	v->rounds++;
	return 0;
}

static void label(const struct ovh_variant *v, char *buf, size_t len)
{
	snprintf(buf, len, "QD%u %s %s", v->qd, v->fixed ? "fixed" : "plain", way_names[v->way]);
}

static int run_rounds(struct ctx *c, const struct opts *o)
{
	unsigned int r, i, done = 0, total = (o->rounds + 1) * nvars;
	double last = clock_ns(CLOCK_MONOTONIC), start = last;
	char name[48];

	for (i = 0; i < nvars; i++)
		if (!vars[i].skip[0] && calibrate(c, &vars[i], o->slice_ms))
			goto failed;
	for (r = 0; r <= o->rounds; r++) {
		for (i = 0; i < nvars; i++, done++) {
			unsigned int k = ((r % 2 ? nvars - 1 - i : i) + r * 7) % nvars;
			struct ovh_variant *v = &vars[k];
			double now;

			if (v->skip[0])
				continue;
			if (slice(c, v, r > 0)) {
				i = k;
				goto failed;
			}
			now = clock_ns(CLOCK_MONOTONIC);
			if (!o->quiet && now - last >= 1e9) {
				label(v, name, sizeof(name));
				fprintf(stderr, PROG ": %s %u/%u, %3.0f%%, %.0f s, last %s\n",
					r ? "round" : "warm-up", r, o->rounds, 100.0 * done / total,
					(now - start) / 1e9, name);
				last = now;
			}
		}
	}
	return 0;
failed:
	label(&vars[i], name, sizeof(name));
	fprintf(stderr, PROG ": %s: %s\n", name, c->err_msg);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Counting system calls                                               */
/* ------------------------------------------------------------------ */

struct count_shared {
	_Atomic int listener;
	_Atomic int armed;
	struct count c;
	uint64_t bad;
	int err;
	char err_msg[200];
};

static void *supervise(void *arg)
{
	struct count_shared *s = arg;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	int fd;

	while ((fd = atomic_load(&s->listener)) < 0)
		sched_yield();
	for (;;) {
		memset(&req, 0, sizeof(req));
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req)) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (atomic_load(&s->armed)) {
			if (req.data.nr == __NR_io_uring_enter) {
				s->c.enter++;
			} else {
				if (!s->c.other)
					s->c.first_other = req.data.nr;
				s->c.other++;
			}
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
	return NULL;
}

static int notify_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OVH_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

/* In the child: a ring of its own, the variant warmed up, then counted. */
static __attribute__((noreturn)) void count_child(struct ctx *c, const struct ovh_variant *v,
						 struct count_shared *s)
{
	uint64_t batches = v->way >= V_SYNC_RAW ? COUNT_CMDS : (COUNT_CMDS + v->qd - 1) / v->qd;
	pthread_t t;
	unsigned long a0;
	int fd;

	if (ring_open(c) || (v->fixed && !c->fixed_ok)) {
		snprintf(s->c.why, sizeof(s->c.why), "no ring in the child");
		syscall(__NR_exit_group, 1);
	}
	if (run(c, v, 2))
		goto failed;
	if (pthread_create(&t, NULL, supervise, s)) {
		snprintf(s->c.why, sizeof(s->c.why), "no thread");
		syscall(__NR_exit_group, 1);
	}
	fd = notify_filter();
	if (fd < 0) {
		snprintf(s->c.why, sizeof(s->c.why), "seccomp user notification: %s",
			 strerror(fd == -1 ? errno : -fd));
		syscall(__NR_exit_group, 1);
	}
	atomic_store(&s->listener, fd);
	c->bad = 0;
	a0 = allocs_now();
	atomic_store(&s->armed, 1);
	if (run(c, v, batches))
		goto failed;
	atomic_store(&s->armed, 0);
	s->c.allocs = allocs_now() - a0;
	s->c.batches = batches;
	s->c.cmds = batches * v->qd;
	s->bad = c->bad;
	s->c.done = 1;
	syscall(__NR_exit_group, 0);
failed:
	atomic_store(&s->armed, 0);
	s->err = c->err;
	memcpy(s->err_msg, c->err_msg, sizeof(s->err_msg));
	snprintf(s->c.why, sizeof(s->c.why), "failed: %.100s", c->err_msg);
	syscall(__NR_exit_group, 1);
	__builtin_unreachable();
}

static void count_pass(struct ctx *c, const struct opts *o)
{
	struct count_shared *s;
	unsigned int i;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < nvars; i++) {
		struct ovh_variant *v = &vars[i];
		pid_t pid;
		int status;

		if (v->skip[0])
			continue;
		if (o->no_count || !OVH_ARCH || s == MAP_FAILED) {
			snprintf(v->count.why, sizeof(v->count.why), "%s",
				 o->no_count ? "--no-count" : "not counted on this architecture");
			continue;
		}
		memset(s, 0, sizeof(*s));
		atomic_store(&s->listener, -1);
		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			snprintf(v->count.why, sizeof(v->count.why), "fork: %s", strerror(errno));
			continue;
		}
		if (!pid)
			count_child(c, v, s);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		v->count = s->c;
		if (!v->count.done && !v->count.why[0])
			snprintf(v->count.why, sizeof(v->count.why), "child ended with status 0x%x",
				 status);
		if (v->count.done && s->bad)
			snprintf(v->count.why, sizeof(v->count.why),
				 "%llu completions with another result", (unsigned long long)s->bad);
	}
	if (s != MAP_FAILED)
		munmap(s, sizeof(*s));
}

/* ------------------------------------------------------------------ */
/* Figures                                                             */
/* ------------------------------------------------------------------ */

struct mmm {
	double med, min, max;
};

static struct mmm mmm_of(const double *x, unsigned int n)
{
	struct mmm m;

	stats_mmm(x, n, &m.med, &m.min, &m.max);
	return m;
}

/* @v minus @r, or @v over @r, round by round: both ran in the same
 * round, under the same load. */
static bool compare(const struct ovh_variant *v, const struct ovh_variant *r, bool wall,
		    bool ratio, struct mmm *m)
{
	double x[BENCH_MAX_ROUNDS], a, b;
	unsigned int i, n;

	if (!r || !r->rounds || !v->rounds)
		return false;
	n = v->rounds < r->rounds ? v->rounds : r->rounds;
	for (i = 0; i < n; i++) {
		a = wall ? v->wall[i] : v->cpu[i];
		b = wall ? r->wall[i] : r->cpu[i];
		x[i] = ratio ? a / b : a - b;
	}
	*m = mmm_of(x, n);
	return true;
}

/* @v minus its reference (raw, or sync-raw). */
static bool delta(const struct ovh_variant *v, bool wall, struct mmm *m)
{
	return compare(v, v->ref, wall, false, m);
}

static double allocs_per_cmd(const struct ovh_variant *v)
{
	if (!COUNT_ALLOCS)
		return NAN;
	return v->cmds ? (double)v->allocs / v->cmds : 0;
}

/* A target: a variant's median difference to its reference. */
struct target {
	const struct ovh_variant *v;
	const char *what;
	double goal;
	struct mmm d;
};

static unsigned int targets(struct target *t)
{
	unsigned int i, n = 0;

	for (i = 0; i < nvars; i++) {
		const struct ovh_variant *v = &vars[i];
		const char *what = v->way == V_QUEUE_REAP ? "nvmeta_queue+nvmeta_reap - raw" :
				   v->way == V_PREP_CMD ? "nvmeta_prep_cmd - raw" :
				   v->way == V_SYNC ? "nvmeta_io_sync - sync-raw" : NULL;

		if (!what || !delta(v, false, &t[n].d))
			continue;
		t[n].v = v;
		t[n].what = what;
		t[n].goal = v->way == V_QUEUE_REAP ? TARGET_LIB_NS :
			    v->way == V_PREP_CMD ? TARGET_PREP_CMD_NS : TARGET_SYNC_NS;
		n++;
	}
	return n;
}

/* The counting pass's verdict on a variant: only io_uring_enter, at most
 * one a batch. */
static bool calls_ok(const struct ovh_variant *v)
{
	return v->count.done && !v->count.other && v->count.enter <= v->count.batches;
}

static const char *call_name(long nr)
{
	static const struct { long nr; const char *name; } names[] = {
		{ __NR_madvise, "madvise" }, { __NR_mmap, "mmap" }, { __NR_munmap, "munmap" },
		{ __NR_write, "write" }, { __NR_read, "read" }, { __NR_openat, "openat" },
		{ __NR_close, "close" }, { __NR_futex, "futex" }, { __NR_brk, "brk" },
		{ __NR_clock_gettime, "clock_gettime" }, { __NR_ioctl, "ioctl" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return "?";
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

struct machine {
	char kernel[65], cpu[128], load_start[64], load_end[64];
	long cpus;
};

static void loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");

	snprintf(buf, len, "unknown");
	if (f && fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

static void describe(FILE *f, const struct ctx *c, const struct opts *o,
		     const struct machine *m)
{
	const struct nvmeta_dev_info *in = c->info;

	if (c->native)
		fprintf(f, "native: device description synthetic, %u+%u separate metadata, fd /dev/null; the kernel answers %d%s\n",
			in->lba_size, in->ms, c->want,
			!c->want ? " (/dev/null's uring_cmd): the library's success path" :
			as_success ? ", which the library decodes as a success (nvmeta_status_decode wrapped)" :
			" as it is (--as-is): the library's failure path");
	else
		fprintf(f, "device: %s, %s, %u+%u%s, reads of 1 block%s\n", in->generic_path, in->model,
			in->lba_size, in->ms, in->extended_lba ? " extended" : " separate metadata",
			in->ms && !in->extended_lba ? " into a buffer with metadata" : "");
	fprintf(f, "machine: Linux %s, %s, %ld CPUs online, load average at start %s, at end %s\n",
		m->kernel, m->cpu, m->cpus, m->load_start, m->load_end);
	fprintf(f, "build: %s, %s; nvmeta %s, liburing %s\n", NVMETA_BUILD_TYPE,
#ifdef __clang__
		"clang " __clang_version__,
#else
		"gcc " __VERSION__,
#endif
		nvmeta_version(), LIBURING);
	fprintf(f, "%u rounds of ~%u ms slices (after a warm-up round), variants in an order that rotates each round\n",
		o->rounds, o->slice_ms);
}

static void table(FILE *f, const struct ctx *c)
{
	unsigned int i;
	struct mmm cpu, wall, d;
	char dbuf[40];

	fprintf(f, "\nns per command: thread CPU time and wall time, median [min-max] over rounds;\n"
		   "-raw: the median [min-max] of per-round differences in CPU time to raw\n"
		   "(sync-raw for io_sync) of the same QD and registration\n\n");
	fprintf(f, "%-3s %-5s %-10s %9s %17s %9s %17s %26s %5s %5s %5s\n", "QD", "reg", "variant",
		"CPU ns", "min-max", "wall ns", "min-max", "-raw CPU ns [min..max]", "alloc",
		"enter", "other");
	for (i = 0; i < nvars; i++) {
		const struct ovh_variant *v = &vars[i];
		char r1[24], r2[24];

		if (i && (v->qd != vars[i - 1].qd || v->fixed != vars[i - 1].fixed ||
			  v->way == V_SYNC_RAW))
			fputc('\n', f);
		if (v->skip[0]) {
			fprintf(f, "%-3u %-5s %-10s skipped: %s\n", v->qd, v->fixed ? "fixed" : "plain",
				way_names[v->way], v->skip);
			continue;
		}
		cpu = mmm_of(v->cpu, v->rounds);
		wall = mmm_of(v->wall, v->rounds);
		snprintf(r1, sizeof(r1), "%.1f-%.1f", cpu.min, cpu.max);
		snprintf(r2, sizeof(r2), "%.1f-%.1f", wall.min, wall.max);
		if (delta(v, false, &d))
			snprintf(dbuf, sizeof(dbuf), "%+.1f [%+.1f..%+.1f]", d.med, d.min, d.max);
		else
			snprintf(dbuf, sizeof(dbuf), "-");
		fprintf(f, "%-3u %-5s %-10s %9.1f %17s %9.1f %17s %26s %5.2f", v->qd,
			v->fixed ? "fixed" : "plain", way_names[v->way], cpu.med, r1, wall.med, r2,
			dbuf, allocs_per_cmd(v));
		if (v->count.done)
			fprintf(f, " %5.2f %5.2f\n", (double)v->count.enter / v->count.cmds,
				(double)v->count.other / v->count.cmds);
		else
			fprintf(f, " %5s %5s\n", "-", "-");
	}
	fprintf(f, "\nalloc: allocations a command over the timed slices; enter, other: io_uring_enter\n"
		   "and other system calls a command, counted in a separate pass of %u commands\n",
		COUNT_CMDS);
	for (i = 0; i < nvars; i++)
		if (!vars[i].skip[0] && !vars[i].count.done && vars[i].count.why[0]) {
			fprintf(f, "system calls not counted (QD%u %s %s): %s\n", vars[i].qd,
				vars[i].fixed ? "fixed" : "plain", way_names[vars[i].way],
				vars[i].count.why);
			break;
		}
	(void)c;
}

/* vec+reap beside queue+reap of the same depth and registration. */
static void vec_table(FILE *f)
{
	const struct ovh_variant *v;
	unsigned int i, k;
	struct mmm m;
	char buf[4][40];

	fprintf(f, "\nVectored against single-buffer passthrough: vec+reap (1 iovec a command) against\n"
		   "queue+reap of the same QD and registration, median [min..max] of per-round\n"
		   "differences in ns and of per-round ratios vec / single\n\n");
	fprintf(f, "%-3s %-5s %30s %21s %30s %21s\n", "QD", "reg", "CPU ns vec-single",
		"CPU vec/single", "wall ns vec-single", "wall vec/single");
	for (i = 0; i < nvars; i++) {
		v = &vars[i];
		if (v->way != V_VEC)
			continue;
		/* queue+reap of the same registration is skipped with it. */
		if (v->skip[0]) {
			fprintf(f, "%-3u %-5s skipped: %s\n", v->qd, v->fixed ? "fixed" : "plain",
				v->skip);
			continue;
		}
		for (k = 0; k < 4; k++) {
			char *b = buf[k];
			size_t n = sizeof(buf[k]);

			/* k: bit 0 ratio, else difference; bit 1 wall, else CPU. */
			if (!compare(v, v->single, k & 2, k & 1, &m))
				snprintf(b, n, "-");
			else if (k & 1)
				snprintf(b, n, "%.3f [%.3f..%.3f]", m.med, m.min, m.max);
			else
				snprintf(b, n, "%+.1f [%+.1f..%+.1f]", m.med, m.min, m.max);
		}
		fprintf(f, "%-3u %-5s %30s %21s %30s %21s\n", v->qd, v->fixed ? "fixed" : "plain",
			buf[0], buf[1], buf[2], buf[3]);
	}
}

/* Rounds that spread over ten times the goal cannot tell PASS from MISS. */
static bool unresolved(const struct target *t)
{
	return t->d.max - t->d.min > 10 * t->goal;
}

static void targets_table(FILE *f)
{
	struct target t[MAX_VARIANTS];
	unsigned int i, n = targets(t);
	bool allocs_ok = true, counted = true, calls = true;
	const struct ovh_variant *worst = NULL;

	fprintf(f, "\nTargets (issue 18), CPU ns a command, median [min..max] of per-round differences:\n");
	for (i = 0; i < n; i++)
		fprintf(f, "  %-32s QD%-2u %-5s %+9.1f [%+.1f..%+.1f]  goal <= %+.0f  %s%s\n",
			t[i].what, t[i].v->qd, t[i].v->fixed ? "fixed" : "plain", t[i].d.med,
			t[i].d.min, t[i].d.max, t[i].goal, t[i].d.med <= t[i].goal ? "PASS" : "MISS",
			unresolved(&t[i]) ? " (unresolved: rounds spread over more than 10x the goal)" : "");
	for (i = 0; i < nvars; i++) {
		const struct ovh_variant *v = &vars[i];

		if (v->skip[0])
			continue;
		if (way_is_lib(v->way) && (v->allocs || v->count.allocs))
			allocs_ok = false;
		if (!v->count.done)
			counted = false;
		else if (!calls_ok(v) && (!worst || way_is_lib(v->way)))
			worst = v, calls = false;
	}
	fprintf(f, "  %-32s %-8s %7s %21s  goal 0        %s\n", "allocations, library variants", "",
		!COUNT_ALLOCS ? "-" : allocs_ok ? "0" : ">0", "",
		!COUNT_ALLOCS ? "not counted (sanitizer build)" : allocs_ok ? "PASS" : "MISS");
	if (!counted && calls) {
		fprintf(f, "  %-32s not counted\n", "system calls");
		return;
	}
	if (calls) {
		fprintf(f, "  %-32s %-8s %7s %21s  goal: io_uring_enter only, <= 1 a batch  PASS\n",
			"system calls, every variant", "", "ok", "");
		return;
	}
	fprintf(f, "  %-32s QD%-2u %-5s %s: %.2f io_uring_enter a batch, %.2f other a command%s%s%s  MISS\n",
		"system calls", worst->qd, worst->fixed ? "fixed" : "plain", way_names[worst->way],
		(double)worst->count.enter / worst->count.batches,
		(double)worst->count.other / worst->count.cmds,
		worst->count.other ? " (first: " : "",
		worst->count.other ? call_name(worst->count.first_other) : "",
		worst->count.other ? ")" : "");
}

static void json_count(FILE *f, const struct ovh_variant *v)
{
	fprintf(f, ",\"syscalls\":{\"counted\":%s", v->count.done ? "true" : "false");
	if (v->count.why[0]) {
		fputs(",\"why\":", f);
		report_json_string(f, v->count.why);
	}
	if (v->count.done)
		fprintf(f, ",\"commands\":%llu,\"batches\":%llu,\"io_uring_enter\":%llu,\"other\":%llu,\"first_other\":%ld,\"allocs\":%llu",
			(unsigned long long)v->count.cmds, (unsigned long long)v->count.batches,
			(unsigned long long)v->count.enter, (unsigned long long)v->count.other,
			v->count.other ? v->count.first_other : -1L,
			(unsigned long long)v->count.allocs);
	fputc('}', f);
}

/* vec+reap against queue+reap: new keys, so that readers of the others
 * ("minus", "delta") see what they saw before. */
static void json_single(FILE *f, const struct ovh_variant *v)
{
	static const char *const keys[] = { "delta", "ratio" };
	const char *sep;
	unsigned int k, w;
	struct mmm m;

	fprintf(f, ",\"iovecs\":1,\"single\":{\"variant\":\"%s\"", way_names[v->single->way]);
	for (k = 0; k < 2; k++) {
		fprintf(f, ",\"%s\":{", keys[k]);
		for (w = 0, sep = ""; w < 2; w++) {
			if (!compare(v, v->single, w, k, &m))
				continue;
			fputs(sep, f);
			report_json_mmm(f, w ? "ns_wall" : "ns_cpu", m.med, m.min, m.max);
			sep = ",";
		}
		fputc('}', f);
	}
	fputc('}', f);
}

static void json_variant(FILE *f, const struct ovh_variant *v)
{
	struct mmm m;

	fprintf(f, "  {\"name\":\"%s\",\"what\":", way_names[v->way]);
	report_json_string(f, way_what[v->way]);
	fprintf(f, ",\"library\":%s,\"qd\":%u,\"registered\":%s", way_is_lib(v->way) ? "true" : "false",
		v->qd, v->fixed ? "true" : "false");
	if (v->skip[0]) {
		fputs(",\"skipped\":", f);
		report_json_string(f, v->skip);
		fputc('}', f);
		return;
	}
	fprintf(f, ",\"rounds\":%u,\"commands\":%llu,\"commands_per_slice\":%llu,", v->rounds,
		(unsigned long long)v->cmds, (unsigned long long)(v->batches * v->qd));
	m = mmm_of(v->cpu, v->rounds);
	report_json_mmm(f, "ns_cpu", m.med, m.min, m.max);
	fputc(',', f);
	m = mmm_of(v->wall, v->rounds);
	report_json_mmm(f, "ns_wall", m.med, m.min, m.max);
	if (v->ref) {
		fprintf(f, ",\"minus\":\"%s\",\"delta\":{", way_names[v->ref->way]);
		if (delta(v, false, &m))
			report_json_mmm(f, "ns_cpu", m.med, m.min, m.max);
		fputc(',', f);
		if (delta(v, true, &m))
			report_json_mmm(f, "ns_wall", m.med, m.min, m.max);
		fputc('}', f);
	}
	if (v->single)
		json_single(f, v);
	fputs(",\"allocs_per_cmd\":", f);
	report_json_num(f, allocs_per_cmd(v));
	json_count(f, v);
	fputc('}', f);
}

static int json(const char *path, const struct ctx *c, const struct opts *o,
		const struct machine *m)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	struct target t[MAX_VARIANTS];
	unsigned int i, n;
	bool allocs_ok = true;

	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "{\"tool\":\"" PROG "\",\"mode\":\"%s\",\"device\":", c->native ? "native" : "device");
	report_json_string(f, c->info->generic_path);
	fputs(",\"description\":", f);
	report_json_string(f, c->native ? "synthetic 512+8, separate metadata, fd /dev/null" :
			   c->info->model);
	fprintf(f, ",\"lba_size\":%u,\"ms\":%u,\"extended_lba\":%s,\"completions\":\"%s\"",
		c->info->lba_size, c->info->ms, c->info->extended_lba ? "true" : "false",
		!c->native ? "device" : !c->want ? "success" :
		as_success ? "-EOPNOTSUPP decoded as success" : "-EOPNOTSUPP as-is");
	fputs(",\n \"machine\":{\"kernel\":", f);
	report_json_string(f, m->kernel);
	fputs(",\"cpu\":", f);
	report_json_string(f, m->cpu);
	fprintf(f, ",\"cpus_online\":%ld,\"loadavg_start\":", m->cpus);
	report_json_string(f, m->load_start);
	fputs(",\"loadavg_end\":", f);
	report_json_string(f, m->load_end);
	fprintf(f, "},\n \"build\":{\"type\":\"%s\",\"compiler\":", NVMETA_BUILD_TYPE);
#ifdef __clang__
	report_json_string(f, "clang " __clang_version__);
#else
	report_json_string(f, "gcc " __VERSION__);
#endif
	fprintf(f, ",\"nvmeta\":\"%s\",\"liburing\":\"%s\"},\n", nvmeta_version(), LIBURING);
	fprintf(f, " \"rounds\":%u,\"slice_ms\":%u,\"clock_cpu\":\"CLOCK_THREAD_CPUTIME_ID\",\"clock_wall\":\"CLOCK_MONOTONIC\",\n",
		o->rounds, o->slice_ms);
	fputs(" \"variants\":[\n", f);
	for (i = 0; i < nvars; i++) {
		json_variant(f, &vars[i]);
		fputs(i + 1 < nvars ? ",\n" : "\n", f);
		if (!vars[i].skip[0] && way_is_lib(vars[i].way) &&
		    (vars[i].allocs || vars[i].count.allocs))
			allocs_ok = false;
	}
	fputs(" ],\n \"targets\":[\n", f);
	n = targets(t);
	for (i = 0; i < n; i++) {
		fprintf(f, "  {\"what\":\"%s\",\"qd\":%u,\"registered\":%s,\"goal_ns\":%.0f,",
			t[i].what, t[i].v->qd, t[i].v->fixed ? "true" : "false", t[i].goal);
		report_json_mmm(f, "delta_ns_cpu", t[i].d.med, t[i].d.min, t[i].d.max);
		fprintf(f, ",\"pass\":%s,\"resolved\":%s},\n", t[i].d.med <= t[i].goal ? "true" : "false",
			unresolved(&t[i]) ? "false" : "true");
	}
	fprintf(f, "  {\"what\":\"allocations, library variants\",\"goal\":0,\"pass\":%s}",
		!COUNT_ALLOCS ? "null" : allocs_ok ? "true" : "false");
	for (i = 0; i < nvars; i++)
		if (!vars[i].skip[0] && vars[i].count.done)
			break;
	if (i < nvars) {
		bool ok = true;

		for (i = 0; i < nvars; i++)
			if (!vars[i].skip[0] && vars[i].count.done && !calls_ok(&vars[i]))
				ok = false;
		fprintf(f, ",\n  {\"what\":\"system calls: io_uring_enter only, at most one a batch\",\"pass\":%s}",
			ok ? "true" : "false");
	}
	fputs("\n ]}\n", f);
	if (f == stdout ? fflush(f) : fclose(f)) {
		fprintf(stderr, PROG ": writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Command line                                                        */
/* ------------------------------------------------------------------ */

static int usage(int ret)
{
	fprintf(ret ? stderr : stdout,
		"usage: " PROG " [--quick] [--rounds N] [--slice-ms N] [--qd N[,N...]] [--json FILE|-]\n"
		"       [--as-is] [--no-count] [--quiet] [/dev/ngXnY]\n"
		"The library's own cost per command against hand-built SQEs, on one ring.\n"
		"Without a device: /dev/null and a synthetic 512+8 description (native).\n"
		"With one: reads of 1 block with metadata on that namespace.\n"
		"--qd: queue depths, 1 to %u (default 1,32); --json -: JSON on stdout, the\n"
		"table on stderr.\n", MAX_QD);
	return ret;
}

static int parse_qds(const char *text, struct opts *o)
{
	char buf[64], *tok, *save = NULL;
	uint64_t val;

	snprintf(buf, sizeof(buf), "%s", text);
	o->nqds = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->nqds == MAX_QDS) {
			fprintf(stderr, PROG ": --qd: at most %u depths\n", MAX_QDS);
			return -1;
		}
		if (args_u64(PROG, "--qd", tok, 1, MAX_QD, &val))
			return -1;
		o->qds[o->nqds++] = (unsigned int)val;
	}
	return o->nqds ? 0 : -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "quick", no_argument, NULL, 'q' }, { "rounds", required_argument, NULL, 'r' },
		{ "slice-ms", required_argument, NULL, 's' }, { "qd", required_argument, NULL, 'd' },
		{ "json", required_argument, NULL, 'j' }, { "as-is", no_argument, NULL, 'A' },
		{ "no-count", no_argument, NULL, 'N' }, { "quiet", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	uint64_t val;
	int c;

	*o = (struct opts){ .qds = { 1, 32 }, .nqds = 2 };
	while ((c = getopt_long(argc, argv, "qr:s:d:j:ANQh", longs, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = true; break;
		case 'j': o->json_path = optarg; break;
		case 'A': o->as_is = true; break;
		case 'N': o->no_count = true; break;
		case 'Q': o->quiet = true; break;
		case 'h': exit(usage(0));
		case 'r':
			if (args_u64(PROG, "--rounds", optarg, 1, BENCH_MAX_ROUNDS, &val))
				return -1;
			o->rounds = val;
			break;
		case 's':
			if (args_u64(PROG, "--slice-ms", optarg, 1, 10000, &val))
				return -1;
			o->slice_ms = val;
			break;
		case 'd':
			if (parse_qds(optarg, o))
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind < argc)
		o->dev_path = argv[optind++];
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!o->rounds)
		o->rounds = o->quick ? 7 : 15;
	if (!o->slice_ms)
		o->slice_ms = o->quick ? 10 : 20;
	return 0;
}

int main(int argc, char **argv)
{
	static struct nvmeta_dev fake;
	struct machine m = { 0 };
	struct utsname u;
	struct opts o;
	struct ctx c;
	FILE *out = stdout;
	int ret;

	if (parse(argc, argv, &o))
		return usage(2);
	as_success = !o.dev_path && !o.as_is;
	if (ctx_open(&c, &o, &fake)) {
		ctx_close(&c, &fake);
		return 1;
	}
	if (plan(&o, &c)) {
		fprintf(stderr, PROG ": %s\n", c.err_msg);
		ctx_close(&c, &fake);
		return 1;
	}
	if (!uname(&u))
		snprintf(m.kernel, sizeof(m.kernel), "%s", u.release);
	report_cpu_model(m.cpu, sizeof(m.cpu));
	m.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	loadavg(m.load_start, sizeof(m.load_start));
	if (!o.quiet)
		fprintf(stderr, PROG ": %u variants, %u rounds of ~%u ms slices, %s\n", nvars,
			o.rounds, o.slice_ms, c.native ? "native (/dev/null)" : o.dev_path);
	if (run_rounds(&c, &o)) {
		ctx_close(&c, &fake);
		return 1;
	}
	if (!o.quiet)
		fprintf(stderr, PROG ": counting system calls%s\n", o.no_count ? " (skipped)" : "");
	count_pass(&c, &o);
	loadavg(m.load_end, sizeof(m.load_end));
	if (c.bad)
		fprintf(stderr, PROG ": %llu completions did not answer %d as expected\n",
			(unsigned long long)c.bad, c.want);
	if (o.json_path && !strcmp(o.json_path, "-"))
		out = stderr;
	describe(out, &c, &o, &m);
	table(out, &c);
	vec_table(out);
	targets_table(out);
	ret = o.json_path && json(o.json_path, &c, &o, &m) ? 1 : c.bad ? 1 : 0;
	ctx_close(&c, &fake);
	return ret;
}
