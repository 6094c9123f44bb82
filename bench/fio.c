// SPDX-License-Identifier: MIT
/*
 * fio's io_uring_cmd engine as a baseline (issue 8, baseline c): the job
 * the runner does, run by fio in a child process, its figures read back
 * from fio's JSON.  The job matches runner.c's: v->qd commands of v->nlb
 * blocks in flight over the qd * nlb blocks from o->slba (fio reads them
 * in turn, the runner each slot its own; the same blocks either way), the
 * metadata in a separate buffer of nlb * ms bytes a command, PRINFO 0
 * (pi_act=0, no pi_chk), a plain ring (no fixed buffers, registered files
 * or polling unless the variant asks for them), and the runner's batching:
 * every free slot is submitted at once, and a wait returns after one
 * completion.  What differs is fio's business: its metadata buffers are
 * its own (malloc, one slot after the other), so the variant's metadata
 * layout does not apply, and it keeps its own statistics.
 *
 * CPU time: the runner's figures are getrusage(RUSAGE_SELF) over the
 * slice, the whole process with its bookkeeping.  fio's usr_cpu and
 * sys_cpu are percentages of the job's runtime of its job thread's
 * getrusage(RUSAGE_THREAD) (we run fio with --thread), from just before
 * its I/O loop to its end: fio's start-up, option parsing, engine set-up
 * and its main thread are not in them, so they are, if anything, low
 * against ours.  fio sums them in whole milliseconds, so in a 100 ms slice
 * they are good to a few per cent.  Wall time is fio's own runtime of the
 * reads, in milliseconds (the figure its "iops" is computed from).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

extern char **environ;

#define FIO_GRACE_MS	60000	/* past ramp and runtime: fio's start-up and exit under TCG */
#define ERR_KEEP	1024	/* of fio's stderr: enough for its first line */

struct out {
	char *buf;
	size_t len, cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int out_read(struct out *o, int fd)
{
	ssize_t n;

	if (o->cap - o->len < 4096) {
		size_t cap = o->cap ? o->cap * 2 : 65536;
		char *b = realloc(o->buf, cap);

		if (!b)
			return -ENOMEM;
		o->buf = b;
		o->cap = cap;
	}
	n = read(fd, o->buf + o->len, o->cap - o->len - 1);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	o->len += (size_t)n;
	o->buf[o->len] = '\0';
	return n > 0;
}

/* Keep the first ERR_KEEP bytes of @fd, drop the rest. */
static int err_read(char *err, size_t *len, int fd)
{
	char junk[4096];
	ssize_t n;

	if (*len < ERR_KEEP)
		n = read(fd, err + *len, ERR_KEEP - *len);
	else
		n = read(fd, junk, sizeof(junk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (*len < ERR_KEEP)
		*len += (size_t)n;
	err[*len] = '\0';
	return n > 0;
}

/* The first non-empty line of @text into @line. */
static void first_line(const char *text, char *line, size_t len)
{
	text += strspn(text, "\n");
	snprintf(line, len, "%.*s", (int)strcspn(text, "\n"), text);
}

/* Drain the child's stdout and stderr until both close or @deadline. */
static int drain(int ofd, int efd, struct out *o, char *err, size_t *elen, int64_t deadline)
{
	struct pollfd p[2] = { { .fd = ofd, .events = POLLIN }, { .fd = efd, .events = POLLIN } };
	int ret = 0, left;

	while (p[0].fd >= 0 || p[1].fd >= 0) {
		left = (int)(deadline - now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(p, 2, left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents && (ret = out_read(o, ofd)) <= 0)
			p[0].fd = -1;
		if (ret < 0)
			return ret;
		if (p[1].revents && (ret = err_read(err, elen, efd)) <= 0)
			p[1].fd = -1;
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * Run @argv (searched in PATH when it has no slash) with stdin from
 * /dev/null, its stdout into @o and the first line of its stderr into
 * @errline.  After @timeout_ms the child is killed.  Returns its wait
 * status, or a negative errno when it could not be run or waited for.
 */
static int run(char *const argv[], struct out *o, char *errline, size_t errlen, int timeout_ms)
{
	posix_spawn_file_actions_t fa;
	int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, ret, status;
	char err[ERR_KEEP + 1] = "";
	size_t elen = 0;
	pid_t pid;

	errline[0] = '\0';
	if (pipe2(op, O_CLOEXEC) || pipe2(ep, O_CLOEXEC)) {
		ret = -errno;
		goto close;
	}
	ret = -posix_spawn_file_actions_init(&fa);
	if (ret)
		goto close;
	/* dup2 clears O_CLOEXEC on the copies the child keeps. */
	ret = -posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!ret)
		ret = -posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	if (!ret)
		ret = -posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	if (!ret)
		ret = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		goto close;
	close(op[1]);
	close(ep[1]);
	op[1] = ep[1] = -1;
	ret = drain(op[0], ep[0], o, err, &elen, now_ms() + timeout_ms);
	if (ret)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			ret = ret ? ret : -errno;
			break;
		}
	first_line(err, errline, errlen);
	if (!ret)
		ret = status;
close:
	for (int i = 0; i < 2; i++) {
		if (op[i] >= 0)
			close(op[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	return ret;
}

/* "exit 1", "signal 9" */
static const char *status_str(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		snprintf(buf, len, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, len, "signal %d", WTERMSIG(st));
	else
		snprintf(buf, len, "status %#x", st);
	return buf;
}

int fio_check(const char *fio, char *why, size_t len)
{
	char *const vargv[] = { (char *)fio, "--version", NULL };
	char *const hargv[] = { (char *)fio, "--enghelp=io_uring_cmd", NULL };
	char err[160], ver[48] = "", st[24];
	struct out o = { 0 };
	int ret;

	ret = run(vargv, &o, err, sizeof(err), 10000);
	if (ret < 0) {
		snprintf(why, len, "%s: %s", fio, strerror(-ret));
		goto out;
	}
	if (ret) {
		snprintf(why, len, "%s --version: %s%s%s", fio, status_str(ret, st, sizeof(st)),
			 err[0] ? ": " : "", err);
		goto out;
	}
	first_line(o.buf ? o.buf : "", ver, sizeof(ver));
	o.len = 0;
	ret = run(hargv, &o, err, sizeof(err), 10000);
	if (ret) {
		/* fio without the engine says so and exits 1. */
		snprintf(why, len, "%s (%s) has no io_uring_cmd engine: %s", fio, ver,
			 ret < 0 ? strerror(-ret) : err[0] ? err : status_str(ret, st, sizeof(st)));
		goto out;
	}
	if (!o.buf || !strstr(o.buf, "md_per_io_size")) {
		snprintf(why, len, "%s (%s): its io_uring_cmd engine has no md_per_io_size "
			 "(fio 3.36 and later have it)", fio, ver);
		ret = -ENOENT;
		goto out;
	}
	snprintf(why, len, "%s", ver);
out:
	free(o.buf);
	return ret ? -ENOENT : 0;
}

/*
 * Just enough JSON to read fio's report: walk an object's members at its
 * own level, so that a key of the same name deeper down ("runtime" in
 * "job options", say) is never taken for the one wanted.
 */
static const char *ws(const char *p)
{
	return p + strspn(p, " \t\r\n");
}

/* Past the string that starts at @p, or NULL. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past the value that starts at @p, or NULL when it does not end. */
static const char *skip_value(const char *p)
{
	int depth = 0;

	for (p = ws(p); *p;) {
		if (*p == '"') {
			p = skip_string(p);
			if (!p || !depth)
				return p;
			continue;
		}
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (!depth)
				return p;
			if (!--depth)
				return p + 1;
		} else if (!depth && (*p == ',' || strchr(" \t\r\n", *p))) {
			return p;
		}
		p++;
	}
	return depth ? NULL : p;
}

/* The member after @p ('{' of the object, or the end of the member
 * before): its key and value; returns the end of the value, or NULL. */
static const char *member(const char *p, const char **key, size_t *klen, const char **val)
{
	const char *e;

	p = ws(p);
	if (*p != '{' && *p != ',')
		return NULL;
	p = ws(p + 1);
	if (*p != '"' || !(e = skip_string(p)))
		return NULL;
	*key = p + 1;
	*klen = (size_t)(e - p - 2);
	p = ws(e);
	if (*p != ':')
		return NULL;
	*val = ws(p + 1);
	return skip_value(*val);
}

/* The value of @key in the object at @obj, or NULL. */
static const char *obj_get(const char *obj, const char *key)
{
	size_t want = strlen(key), klen;
	const char *p, *k, *v;

	if (!obj || *ws(obj) != '{')
		return NULL;
	for (p = member(obj, &k, &klen, &v); p; p = member(p, &k, &klen, &v))
		if (klen == want && !memcmp(k, key, want))
			return v;
	return NULL;
}

/* Element @i of the array at @arr, or NULL. */
static const char *arr_get(const char *arr, unsigned int i)
{
	const char *p;

	if (!arr || *(p = ws(arr)) != '[')
		return NULL;
	p = ws(p + 1);
	if (*p == ']')
		return NULL;
	while (i--) {
		p = skip_value(p);
		if (!p || *(p = ws(p)) != ',')
			return NULL;
		p = ws(p + 1);
	}
	return p;
}

static bool num(const char *obj, const char *key, double *x)
{
	const char *p = obj_get(obj, key);
	char *end;

	if (!p)
		return false;
	*x = strtod(p, &end);
	return end != p;
}

/* fio's latency bins ("ns": count) into the slice's histogram. */
static void add_bins(struct hist *h, const char *bins)
{
	const char *p, *k, *v;
	uint64_t ns, n;
	size_t klen;

	if (!bins || *ws(bins) != '{')
		return;
	for (p = member(bins, &k, &klen, &v); p; p = member(p, &k, &klen, &v)) {
		ns = strtoull(k, NULL, 10);
		for (n = strtoull(v, NULL, 10); n; n--)
			hist_add(h, ns);
	}
}

/*
 * One job of fio's report into @s: the reads (or writes) and CPU time are
 * added, the wall time is the longest job's, the percentiles the first
 * job's (with --group_reporting there is one).  @md: metadata bytes a
 * command, which fio's io_bytes leave out.
 */
static int parse_job(const char *job, const char *dir_name, uint64_t md, struct slice *s)
{
	double err = 0, ios, bytes, run_ms, job_ms, usr, sys, p50, p99, p999;
	const char *dir = obj_get(job, dir_name), *lat, *pct;

	if (num(job, "error", &err) && err) {
		snprintf(s->error, sizeof(s->error), "fio: the job failed: %s (error %d)",
			 strerror((int)err), (int)err);
		return -EIO;
	}
	if (!num(dir, "total_ios", &ios) || !num(dir, "io_bytes", &bytes) ||
	    !num(dir, "runtime", &run_ms) || !num(job, "job_runtime", &job_ms) ||
	    !num(job, "usr_cpu", &usr) || !num(job, "sys_cpu", &sys)) {
		snprintf(s->error, sizeof(s->error),
			 "fio's JSON has no %s.total_ios, io_bytes, runtime, job_runtime, usr_cpu or sys_cpu",
			 dir_name);
		return -EPROTO;
	}
	s->ios += (uint64_t)ios;
	s->bytes += (uint64_t)bytes + (uint64_t)ios * md;
	if (run_ms / 1e3 > s->wall_s)
		s->wall_s = run_ms / 1e3;
	/* Per cent of the job's runtime (ms): back to seconds. */
	s->usr_s += usr / 100 * job_ms / 1e3;
	s->sys_s += sys / 100 * job_ms / 1e3;
	lat = obj_get(dir, "lat_ns");
	pct = obj_get(lat, "percentile");
	if (!s->have_pct && num(pct, "50.000000", &p50) && num(pct, "99.000000", &p99) &&
	    num(pct, "99.900000", &p999)) {
		s->have_pct = true;
		s->p50_us = p50 / 1e3;
		s->p99_us = p99 / 1e3;
		s->p999_us = p999 / 1e3;
	}
	add_bins(&s->lat, obj_get(lat, "bins"));
	return 0;
}

static int parse_report(const char *text, const char *dir_name, uint64_t md, struct slice *s)
{
	const char *root = text, *jobs, *job;
	unsigned int i;
	int ret;

	/* fio may print a note or two before the report. */
	if (*root != '{' && (root = strstr(text, "\n{")))
		root++;
	jobs = obj_get(root, "jobs");
	if (!arr_get(jobs, 0)) {
		snprintf(s->error, sizeof(s->error), "fio printed no JSON report with jobs");
		return -EPROTO;
	}
	for (i = 0; (job = arr_get(jobs, i)); i++) {
		ret = parse_job(job, dir_name, md, s);
		if (ret)
			return ret;
	}
	if (!s->ios || s->wall_s <= 0) {
		snprintf(s->error, sizeof(s->error), "fio did no %s in %.3f s", dir_name, s->wall_s);
		return -EIO;
	}
	return 0;
}

/* fio takes ':' in a file name for a separator between names. */
static void fio_filename(char *buf, size_t len, const char *path)
{
	size_t n = 0;

	for (; *path && n + 3 < len; path++) {
		if (*path == ':')
			buf[n++] = '\\';
		buf[n++] = *path;
	}
	buf[n] = '\0';
}

#define FIO_MAX_ARGS	40
#define FIO_ARG_LEN	600	/* "--filename=" and a path, its ':' escaped */

struct args {
	char *argv[FIO_MAX_ARGS + 1];
	char buf[FIO_MAX_ARGS][FIO_ARG_LEN];
	unsigned int n;
};

static void arg(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(struct args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n == FIO_MAX_ARGS)
		return;
	va_start(ap, fmt);
	vsnprintf(a->buf[a->n], sizeof(a->buf[0]), fmt, ap);
	va_end(ap);
	a->argv[a->n] = a->buf[a->n];
	a->argv[++a->n] = NULL;
}

int fio_slice(const struct variant *v, const struct bench_opts *o,
	      const struct nvmeta_dev_info *info, unsigned int ms, struct slice *s)
{
	/* An extended LBA carries its metadata in the data buffer. */
	uint64_t block = info->lba_size + (info->extended_lba ? info->ms : 0);
	uint64_t md = info->extended_lba ? 0 : (uint64_t)info->ms * v->nlb;
	uint64_t span = (uint64_t)v->qd * v->nlb;	/* blocks a job */
	unsigned int threads = v->threads ? v->threads : 1;
	bool write = v->opcode == NVMETA_OP_WRITE;
	char file[FIO_ARG_LEN - 16], st[24];
	struct out out = { 0 };
	struct args *a;
	int ret;

	memset(s, 0, sizeof(*s));
	if (v->no_meta || (v->opcode != NVMETA_OP_READ && !write)) {
		snprintf(s->error, sizeof(s->error), "fio: only reads and writes on the main namespace");
		return -EINVAL;
	}
	if (o->slba + span * threads > info->nsze) {
		snprintf(s->error, sizeof(s->error), "fio: %" PRIu64 " blocks from %" PRIu64
			 " do not fit in the namespace's %" PRIu64, span * threads, o->slba, info->nsze);
		return -ERANGE;
	}
	if (strlen(o->dev_path) >= sizeof(file) / 2) {
		snprintf(s->error, sizeof(s->error), "fio: the device path is longer than %zu bytes",
			 sizeof(file) / 2 - 1);
		return -ENAMETOOLONG;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	fio_filename(file, sizeof(file), o->dev_path);
	arg(a, "%s", o->fio_path);
	arg(a, "--output-format=json+");	/* + : the latency bins */
	arg(a, "--name=nvmeta-bench");
	arg(a, "--thread=1");			/* one process: a kill ends it all */
	arg(a, "--ioengine=io_uring_cmd");
	arg(a, "--cmd_type=nvme");
	arg(a, "--filename=%s", file);
	arg(a, "--rw=%s", write ? "write" : "read");
	arg(a, "--bs=%" PRIu64, v->nlb * block);
	arg(a, "--offset=%" PRIu64, o->slba * block);
	arg(a, "--size=%" PRIu64, span * block);
	if (threads > 1) {
		arg(a, "--numjobs=%u", threads);
		arg(a, "--offset_increment=%" PRIu64, span * block);
	}
	arg(a, "--group_reporting=1");
	arg(a, "--iodepth=%u", v->qd);
	arg(a, "--iodepth_batch_submit=%u", v->qd);
	arg(a, "--iodepth_batch_complete_min=1");
	arg(a, "--iodepth_batch_complete_max=%u", v->qd);
	if (md)
		arg(a, "--md_per_io_size=%" PRIu64, md);
	arg(a, "--pi_act=0");			/* PRINFO 0: no pi_chk either */
	arg(a, "--fixedbufs=%d", v->fixed);
	arg(a, "--registerfiles=%d", v->fixed);
	arg(a, "--hipri=%d", !!(v->ring_flags & NVMETA_RING_IOPOLL));
	arg(a, "--sqthread_poll=%d", !!(v->ring_flags & NVMETA_RING_SQPOLL));
	/* The runner's rings and buffers were made once and warmed up by a
	 * round before the first measured one; fio makes its own anew in
	 * every slice.  Its first commands in a fresh process (page faults
	 * on its buffers and ring, and under TCG the translation of its
	 * code) would otherwise be measured: in a first lab run without a
	 * ramp, fio's QD1 slices of 100 ms ranged from 25 to 354 IOPS.
	 * After ramp_time fio clears its counters, latencies and rusage. */
	arg(a, "--ramp_time=%ums", ms);
	arg(a, "--time_based=1");
	arg(a, "--runtime=%ums", ms);
	/* Submission to completion, as the runner measures. */
	arg(a, "--lat_percentiles=1");
	arg(a, "--clat_percentiles=0");
	arg(a, "--percentile_list=50:99:99.9");
	ret = run(a->argv, &out, s->error, sizeof(s->error), 2 * (int)ms + FIO_GRACE_MS);
	free(a);
	if (ret < 0) {
		char why[sizeof(s->error)];

		snprintf(why, sizeof(why), "%s", s->error);
		snprintf(s->error, sizeof(s->error), "fio: %s%s%.100s", strerror(-ret),
			 why[0] ? ": " : "", why);
	} else if (ret) {
		char why[sizeof(s->error)];

		snprintf(why, sizeof(why), "%s", s->error);
		snprintf(s->error, sizeof(s->error), "fio: %s: %.120s", status_str(ret, st, sizeof(st)),
			 why[0] ? why : "(nothing on stderr)");
		ret = -EIO;
	} else {
		s->error[0] = '\0';
		ret = parse_report(out.buf ? out.buf : "", write ? "write" : "read", md, s);
	}
	free(out.buf);
	return ret;
}
