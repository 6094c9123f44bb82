// SPDX-License-Identifier: MIT
/*
 * The benchmark's outputs: a table for people, JSON and CSV for machines,
 * and the latency histograms as CSV for plots.  Every figure is the
 * median over rounds with min and max; ratios are taken round by round
 * against the group's reference, then summarised the same way.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"
#include "report.h"

/* Which figure of a round. */
enum figure { F_IOPS, F_MBPS, F_CPU, F_USR, F_SYS, F_P50, F_P99, F_P999, F_COUNT };

static const struct {
	const char *name;
	size_t offset;
} figures[F_COUNT] = {
	{ "iops", offsetof(struct round, iops) },
	{ "mbps", offsetof(struct round, mbps) },
	{ "cpu_us_per_io", offsetof(struct round, cpu_us) },
	{ "usr_us_per_io", offsetof(struct round, usr_us) },
	{ "sys_us_per_io", offsetof(struct round, sys_us) },
	{ "lat_p50_us", offsetof(struct round, p50_us) },
	{ "lat_p99_us", offsetof(struct round, p99_us) },
	{ "lat_p999_us", offsetof(struct round, p999_us) },
};

struct mmm {
	double med, min, max;
};

static double fig(const struct round *r, enum figure f)
{
	return *(const double *)((const char *)r + figures[f].offset);
}

static struct mmm summary(const struct variant *v, enum figure f)
{
	double x[BENCH_MAX_ROUNDS];
	struct mmm m;
	unsigned int i;

	for (i = 0; i < v->rounds; i++)
		x[i] = fig(&v->r[i], f);
	stats_mmm(x, v->rounds, &m.med, &m.min, &m.max);
	return m;
}

/* Ratio to the reference, round by round: both ran in the same round, a
 * few slices apart, so drift between rounds cancels. */
static bool ratio(const struct variant *v, const struct variant *ref, enum figure f,
		  struct mmm *m)
{
	double x[BENCH_MAX_ROUNDS];
	unsigned int i, n;

	if (!ref)
		return false;
	n = v->rounds < ref->rounds ? v->rounds : ref->rounds;
	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		double d = fig(&ref->r[i], f);

		x[i] = d > 0 ? fig(&v->r[i], f) / d : 0;
	}
	stats_mmm(x, n, &m->med, &m->min, &m->max);
	return true;
}

static const char *api_name(enum bench_api a)
{
	return a == API_RAW ? "raw" : a == API_FIO ? "fio" : a == API_RW ? "attribute" :
	       a == API_ODIRECT ? "o-direct" : "lib";
}

void report_table(FILE *f, struct variant *vs, unsigned int n)
{
	const char *group = "";
	unsigned int i;

	fprintf(f, "%-18s %-16s %-11s %9s %17s %7s %13s %8s %7s %8s %8s %8s %7s\n",
		"group", "variant", "path p/o", "IOPS", "min-max", "xIOPS", "xIOPS min-max",
		"CPU us", "xCPU", "p50 us", "p99 us", "p99.9 us", "xp99");
	for (i = 0; i < n; i++) {
		const struct variant *v = &vs[i], *ref = group_reference(vs, n, v);
		struct mmm io = summary(v, F_IOPS), cpu = summary(v, F_CPU);
		struct mmm rio, rcpu, rp99;
		char path[24];

		if (strcmp(group, v->group))
			fputc('\n', f);
		group = v->group;
		if (v->skip[0] || !v->rounds) {
			fprintf(f, "%-18s %-16s skipped: %s\n", v->group, v->name,
				v->skip[0] ? v->skip : "no rounds");
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", v->predicted ? v->predicted : "-",
			 v->observed ? v->observed : "-");
		fprintf(f, "%-18s %-16s %-11s %9.0f %8.0f-%-8.0f", v->group, v->name, path,
			io.med, io.min, io.max);
		if (ref && ref->rounds && ratio(v, ref, F_IOPS, &rio) &&
		    ratio(v, ref, F_CPU, &rcpu) && ratio(v, ref, F_P99, &rp99))
			fprintf(f, " %7.3f %6.3f-%-6.3f %8.2f %7.3f", rio.med, rio.min, rio.max,
				cpu.med, rcpu.med);
		else
			fprintf(f, " %7s %13s %8.2f %7s", "-", "", cpu.med, "-");
		/* Below 1000 samples the 99.9th percentile is the maximum. */
		fprintf(f, " %8.1f %8.1f", summary(v, F_P50).med, summary(v, F_P99).med);
		if (v->lat.total >= 1000 * v->rounds)
			fprintf(f, " %8.1f", summary(v, F_P999).med);
		else
			fprintf(f, " %8s", "-");
		if (ref && ref->rounds && ratio(v, ref, F_P99, &rp99))
			fprintf(f, " %7.3f\n", rp99.med);
		else
			fprintf(f, " %7s\n", "-");
	}
	fprintf(f, "\nMedians over rounds; x: ratio to the group's first (reference) variant, taken per round.\n"
		   "path p/o: the metadata path predicted / observed with kprobes (pin, bounce).\n");
}

static struct variant *find(struct variant *vs, unsigned int n, const char *group,
			    const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(vs[i].group, group) && !strcmp(vs[i].name, name) && vs[i].rounds)
			return &vs[i];
	return NULL;
}

static void summary_line(FILE *f, struct variant *vs, unsigned int n, const char *what,
			 const char *group, const char *name)
{
	struct variant *v = find(vs, n, group, name), *ref;
	struct mmm io, cpu;

	if (!v || !(ref = group_reference(vs, n, v)) || !ref->rounds)
		return;
	ratio(v, ref, F_IOPS, &io);
	ratio(v, ref, F_CPU, &cpu);
	fprintf(f, "  %-40s IOPS x%.3f [%.3f-%.3f]  CPU/IO x%.3f [%.3f-%.3f]\n", what, io.med,
		io.min, io.max, cpu.med, cpu.min, cpu.max);
}

void report_summary(FILE *f, struct variant *vs, unsigned int n, double bookkeeping_us)
{
	struct variant *raw1 = find(vs, n, "api-qd1", "raw"), *raw32 = find(vs, n, "api-qd32", "raw");

	fprintf(f, "\nSummary (ratio median [min-max] over rounds):\n");
	summary_line(f, vs, n, "bounced/pinned metadata, QD1", "meta-layout-qd1", "misaligned");
	summary_line(f, vs, n, "bounced/pinned metadata, QD32", "meta-layout-qd32", "misaligned");
	summary_line(f, vs, n, "library/raw SQEs, QD1", "api-qd1", "lib");
	summary_line(f, vs, n, "library/raw SQEs, QD32", "api-qd32", "lib");
	summary_line(f, vs, n, "library (memory ready)/raw, QD1", "api-qd1", "lib-ready");
	summary_line(f, vs, n, "library (memory ready)/raw, QD32", "api-qd32", "lib-ready");
	summary_line(f, vs, n, "fio/raw SQEs, QD1", "api-qd1", "fio");
	summary_line(f, vs, n, "fio/raw SQEs, QD32", "api-qd32", "fio");
	summary_line(f, vs, n, "host PI verify/none, reads QD1", "pi-read-qd1", "host-verify");
	summary_line(f, vs, n, "host PI verify/none, reads QD32", "pi-read-qd32", "host-verify");
	summary_line(f, vs, n, "host PI generate/none, writes QD32", "pi-write-qd32", "host-generate");
	summary_line(f, vs, n, "attribute road/passthrough, QD1", "road-qd1", "attribute");
	summary_line(f, vs, n, "attribute road/passthrough, QD32", "road-qd32", "attribute");
	summary_line(f, vs, n, "O_DIRECT, no metadata/passthrough, QD1", "road-qd1", "o-direct");
	summary_line(f, vs, n, "O_DIRECT, no metadata/passthrough, QD32", "road-qd32", "o-direct");
		summary_line(f, vs, n, "no metadata/with metadata, QD1", "nometa-qd1", "no-meta");
	summary_line(f, vs, n, "no metadata/with metadata, QD32", "nometa-qd32", "no-meta");
	if (raw1 && raw32)
		fprintf(f, "  bookkeeping (clock + histogram) per I/O: %.3f us, %.2f%% of the raw baseline's CPU per I/O at QD1, %.2f%% at QD32\n",
			bookkeeping_us, 100 * bookkeeping_us / summary(raw1, F_CPU).med,
			100 * bookkeeping_us / summary(raw32, F_CPU).med);
}

/* ,"KEY":"S": messages may hold quotes and backslashes, the model string
 * any byte the device put there (report_json_string() escapes them). */
static void json_str(FILE *f, const char *key, const char *s)
{
	fprintf(f, ",\"%s\":", key);
	report_json_string(f, s);
}

static void json_mmm(FILE *f, const char *key, struct mmm m)
{
	report_json_mmm(f, key, m.med, m.min, m.max);
}

static void json_variant(FILE *f, const struct variant *v, const struct variant *ref)
{
	struct mmm m;
	unsigned int k;

	fputs("{\"group\":", f);
	report_json_string(f, v->group);
	json_str(f, "name", v->name);
	json_str(f, "predicted", v->predicted ? v->predicted : "-");
	json_str(f, "observed", v->observed ? v->observed : "-");
	fprintf(f, ",\"reference\":%s,\"api\":\"%s\","
		   "\"op\":\"%s\",\"meta_layout\":\"%s\",\"data_layout\":\"%s\",\"qd\":%u,"
		   "\"blocks\":%u,\"threads\":%u,\"iopoll\":%s,\"sqpoll\":%s,\"fixed\":%s,"
		   "\"no_meta\":%s,\"rounds\":%u,\"latency_samples\":%llu",
		v->reference ? "true" : "false", api_name(v->api),
		v->opcode == NVMETA_OP_READ ? "read" : "write", nvmeta_layout_name(v->meta_layout),
		nvmeta_layout_name(v->data_layout), v->qd, v->nlb, v->threads,
		v->ring_flags & NVMETA_RING_IOPOLL ? "true" : "false",
		v->ring_flags & NVMETA_RING_SQPOLL ? "true" : "false", v->fixed ? "true" : "false",
		v->no_meta ? "true" : "false", v->rounds, (unsigned long long)v->lat.total);
	if (v->skip[0])
		json_str(f, "skipped", v->skip);
	for (k = 0; k < F_COUNT && v->rounds; k++) {
		fputc(',', f);
		json_mmm(f, figures[k].name, summary(v, (enum figure)k));
	}
	if (ref && ref != v && v->rounds && ref->rounds) {
		json_str(f, "ratio_to", ref->name);
		fputs(",\"ratio\":{", f);
		for (k = 0; k < F_COUNT; k++) {
			ratio(v, ref, (enum figure)k, &m);
			if (k)
				fputc(',', f);
			json_mmm(f, figures[k].name, m);
		}
		fputc('}', f);
	}
	fputc('}', f);
}

int report_json(const char *path, struct variant *vs, unsigned int n,
		const struct nvmeta_dev_info *info, const struct bench_opts *o,
		double bookkeeping_us)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	unsigned int i;

	if (!f) {
		fprintf(stderr, "nvmeta-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("{\"device\":", f);
	report_json_string(f, info->generic_path);
	json_str(f, "model", info->model);
	json_str(f, "kernel", info->kernel.release);
	fprintf(f, ",\"lba_size\":%u,\"ms\":%u,\"extended_lba\":%s,\"pi_type\":%u,"
		   "\"rounds\":%u,\"slice_ms\":%u,\"bookkeeping_us_per_io\":",
		info->lba_size, info->ms, info->extended_lba ? "true" : "false", info->pi_type,
		o->rounds, o->slice_ms);
	report_json_num(f, bookkeeping_us);
	fputs(",\"variants\":[", f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(",\n", f);
		json_variant(f, &vs[i], group_reference(vs, n, &vs[i]));
	}
	fputs("]}\n", f);
	/* A full disk must not leave a cut-off file behind a success. */
	if (f == stdout ? fflush(f) : fclose(f)) {
		fprintf(stderr, "nvmeta-bench: writing %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int report_csv(const char *path, struct variant *vs, unsigned int n)
{
	FILE *f = fopen(path, "w");
	unsigned int i, k;
	struct mmm m;

	if (!f) {
		fprintf(stderr, "nvmeta-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("group,variant,reference,api,op,meta_layout,data_layout,qd,blocks,threads,"
	      "iopoll,sqpoll,fixed,no_meta,predicted,observed,rounds,skipped", f);
	for (k = 0; k < F_COUNT; k++)
		fprintf(f, ",%s_med,%s_min,%s_max", figures[k].name, figures[k].name, figures[k].name);
	for (k = 0; k < F_COUNT; k++)
		fprintf(f, ",ratio_%s_med,ratio_%s_min,ratio_%s_max", figures[k].name,
			figures[k].name, figures[k].name);
	fputc('\n', f);
	for (i = 0; i < n; i++) {
		const struct variant *v = &vs[i], *ref = group_reference(vs, n, v);

		fprintf(f, "%s,%s,%d,%s,%s,%s,%s,%u,%u,%u,%d,%d,%d,%d,%s,%s,%u,%d", v->group,
			v->name, v->reference, api_name(v->api),
			v->opcode == NVMETA_OP_READ ? "read" : "write",
			nvmeta_layout_name(v->meta_layout), nvmeta_layout_name(v->data_layout), v->qd,
			v->nlb, v->threads, !!(v->ring_flags & NVMETA_RING_IOPOLL),
			!!(v->ring_flags & NVMETA_RING_SQPOLL), v->fixed, v->no_meta,
			v->predicted ? v->predicted : "-", v->observed ? v->observed : "-", v->rounds,
			v->skip[0] != 0);
		for (k = 0; k < F_COUNT; k++) {
			m = summary(v, (enum figure)k);
			fprintf(f, ",%.6g,%.6g,%.6g", m.med, m.min, m.max);
		}
		for (k = 0; k < F_COUNT; k++) {
			if (ref && ref->rounds && ratio(v, ref, (enum figure)k, &m))
				fprintf(f, ",%.6g,%.6g,%.6g", m.med, m.min, m.max);
			else
				fputs(",,,", f);
		}
		fputc('\n', f);
	}
	fclose(f);
	return 0;
}

/* One line a non-empty bucket: enough for a distribution plot. */
int report_lat_csv(const char *path, struct variant *vs, unsigned int n)
{
	FILE *f = fopen(path, "w");
	unsigned int i, b;

	if (!f) {
		fprintf(stderr, "nvmeta-bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("group,variant,qd,upper_ns,count,cumulative_fraction\n", f);
	for (i = 0; i < n; i++) {
		const struct variant *v = &vs[i];
		uint64_t seen = 0;

		for (b = 0; b < HIST_BUCKETS && v->lat.total; b++) {
			if (!v->lat.count[b])
				continue;
			seen += v->lat.count[b];
			fprintf(f, "%s,%s,%u,%llu,%llu,%.6f\n", v->group, v->name, v->qd,
				(unsigned long long)hist_bucket_upper(b),
				(unsigned long long)v->lat.count[b], (double)seen / v->lat.total);
		}
	}
	fclose(f);
	return 0;
}
