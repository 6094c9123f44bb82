/* SPDX-License-Identifier: MIT */
/*
 * nvmeta-bench: what the benchmark's parts share.  A variant is one way
 * of doing the same I/O (a metadata layout, a queue depth, the library or
 * hand-built SQEs, fio ...); every variant runs one short slice per
 * round, in an order that rotates from round to round, so that drift on a
 * noisy host hits every variant alike.  Figures are kept per round; the
 * report gives the median with min and max, and each figure's ratio to
 * its group's reference variant, taken per round.
 */
#ifndef NVMETA_BENCH_H
#define NVMETA_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "nvmeta.h"
#include "nvmeta-check.h"

#define BENCH_MAX_ROUNDS	32
#define BENCH_MAX_THREADS	16
#define BENCH_MAX_QD		128

/* Latency histogram: log-linear, 16 sub-buckets an octave of
 * nanoseconds, so a percentile is within 1/16 of an octave (about 4%)
 * of the true value; a fixed array, no allocation per sample. */
#define HIST_SUB_BITS		4
#define HIST_BUCKETS		(64 << HIST_SUB_BITS)

struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t total;
};

void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* The value (ns, upper edge of its bucket) at quantile @q (0..1). */
uint64_t hist_quantile(const struct hist *h, double q);
/* The upper edge in ns of bucket @i. */
uint64_t hist_bucket_upper(unsigned int i);

/* How the I/O is submitted. */
enum bench_api {
	API_LIB,	/* nvmeta_queue() and nvmeta_reap() */
	API_RAW,	/* hand-built SQEs: liburing and the inline encoder only */
	API_FIO,	/* fio's io_uring_cmd engine, in a child process */
	API_RW,		/* io_uring READ/WRITE with a PI attribute on the block device */
	API_ODIRECT,	/* io_uring READ/WRITE on the block device, no metadata */
};

/* One slice's figures. */
struct slice {
	uint64_t ios;
	uint64_t bytes;		/* data and metadata moved */
	double wall_s;
	double usr_s, sys_s;	/* getrusage(RUSAGE_SELF), or fio's own */
	struct hist lat;	/* per I/O, submission to completion */
	/* Percentiles taken elsewhere (fio's own, from its finer histogram):
	 * used instead of @lat's. */
	bool have_pct;
	double p50_us, p99_us, p999_us;
	char error[160];	/* non-empty: the slice failed */
};

/* A variant's figures of one round. */
struct round {
	double iops, mbps, cpu_us, usr_us, sys_us;	/* cpu_us: per I/O */
	double p50_us, p99_us, p999_us;
};

struct variant {
	char name[64];
	const char *group;		/* the comparison it belongs to */
	bool reference;			/* the group's denominator */
	enum bench_api api;
	uint8_t opcode;			/* NVMETA_OP_READ or _WRITE */
	enum nvmeta_layout meta_layout, data_layout;
	unsigned int qd, nlb, threads;
	uint32_t ring_flags;		/* NVMETA_RING_IOPOLL, _SQPOLL */
	uint32_t sq_idle_ms;		/* SQPOLL: when the kernel thread sleeps */
	bool fixed;			/* registered file and data buffers */
	bool no_meta;			/* on the namespace without metadata */
	uint32_t io_flags;		/* added to every command (NVMETA_IO_*) */
	/* Results. */
	unsigned int rounds;
	struct round r[BENCH_MAX_ROUNDS];
	struct hist lat;		/* all rounds together */
	const char *predicted;		/* "pin", "bounce", "fail", "-" */
	const char *observed;		/* by kprobes in an untimed pass, or "-" */
	char skip[160];			/* non-empty: not run, and why */
	void *state;			/* runner.c's set-up, kept across rounds */
};

struct bench_opts {
	const char *dev_path, *nometa_path, *fio_path;
	const char *json_path, *csv_path, *lat_csv_path;
	unsigned int rounds, slice_ms;
	bool quick, writes, observe, quiet;
	uint64_t slba;			/* start of the scratch range */
};

/* runner.c: set a variant up (rings, buffers, its LBA range written once
 * before any read), run one slice, tear it down.  setup fills v->skip
 * instead of failing when this namespace or kernel cannot do the variant. */
int runner_setup(struct variant *v, const struct bench_opts *o, struct nvmeta_dev *dev,
		 struct nvmeta_dev *nometa, struct nvmeta_bdev *bdev);
int runner_slice(struct variant *v, unsigned int ms, struct slice *s);
/* What a slice's own bookkeeping costs per I/O, in microseconds: a clock
 * read and a histogram add, measured in a tight loop. */
double runner_bookkeeping_us(void);
/* One untimed command with kprobes around it: the path metadata took. */
void runner_observe(struct variant *v, struct nvmeta_kpath *kp);
void runner_teardown(struct variant *v);

/* fio.c: one slice of @v through fio's io_uring_cmd engine on
 * @o->dev_path; -ENOENT when no fio with md_per_io_size is there. */
int fio_check(const char *fio, char *why, size_t len);
int fio_slice(const struct variant *v, const struct bench_opts *o,
	      const struct nvmeta_dev_info *info, unsigned int ms, struct slice *s);

/* report.c: the table, JSON and CSV. */
void report_table(FILE *f, struct variant *vs, unsigned int n);
/* A few lines: pinned against bounced, and the library against raw
 * SQEs and fio, at queue depths 1 and 32; @bookkeeping_us is what the
 * benchmark's own clock and histogram cost per I/O. */
void report_summary(FILE *f, struct variant *vs, unsigned int n, double bookkeeping_us);
int report_json(const char *path, struct variant *vs, unsigned int n,
		const struct nvmeta_dev_info *info, const struct bench_opts *o,
		double bookkeeping_us);
int report_csv(const char *path, struct variant *vs, unsigned int n);
int report_lat_csv(const char *path, struct variant *vs, unsigned int n);

/* stats.c: median, min and max of @n values; a figure of a round. */
void stats_mmm(const double *x, unsigned int n, double *med, double *min, double *max);
void round_from_slice(struct round *r, const struct slice *s);
/* The reference variant of @v's group, or NULL. */
struct variant *group_reference(struct variant *vs, unsigned int n, const struct variant *v);

#endif
