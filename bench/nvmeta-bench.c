// SPDX-License-Identifier: MIT
/*
 * nvmeta-bench: metadata I/O measured side by side.  Every variant is set
 * up once; after a warm-up round, each round runs one short slice of every
 * variant, starting one variant later than the round before, so that
 * drift on a shared host falls on all of them alike.  Figures are reported
 * per variant as median, min and max over rounds, and as ratios to the
 * reference variant of each group, taken round by round.
 *
 * Groups: metadata layouts, data layouts, queue depths and transfer sizes
 * (each pinned against bounced), threads, io_uring's fast options, the
 * library against hand-built SQEs (and fio), reads on a namespace without
 * metadata, writes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "args.h"
#include "bench.h"

#define PROG "nvmeta-bench"
#define MAX_VARIANTS 160

struct plan {
	struct variant v[MAX_VARIANTS];
	unsigned int n;
	const struct nvmeta_dev_info *info;
	const struct bench_opts *o;
	unsigned int nlb;		/* blocks of the usual 4 KiB transfer */
	unsigned int max_nlb;		/* blocks of the largest transfer */
	bool fio;
};

static struct variant *add(struct plan *p, const char *group, const char *name, bool ref)
{
	struct variant *v;

	if (p->n == MAX_VARIANTS)
		return NULL;
	v = &p->v[p->n++];
	memset(v, 0, sizeof(*v));
	v->group = group;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->reference = ref;
	v->api = API_LIB;
	v->opcode = NVMETA_OP_READ;
	v->meta_layout = NVMETA_LAYOUT_PINNED;
	v->data_layout = NVMETA_LAYOUT_PINNED;
	v->qd = 1;
	v->nlb = p->nlb;
	v->threads = 1;
	return v;
}

/* Group names must outlive the plan: keep them in a static pool. */
static const char *group_name(const char *fmt, unsigned int n)
{
	static char pool[64][32];
	static unsigned int used;
	char *g;

	if (used == 64)
		return "overflow";
	g = pool[used++];
	snprintf(g, sizeof(pool[0]), fmt, n);
	return g;
}

/* Pinned metadata (the reference) against metadata the kernel bounces. */
static void pin_vs_bounce(struct plan *p, const char *group, unsigned int qd, unsigned int nlb,
			  uint8_t op)
{
	struct variant *v;

	v = add(p, group, "pinned", true);
	if (v) {
		v->qd = qd, v->nlb = nlb, v->opcode = op;
	}
	v = add(p, group, "misaligned", false);
	if (v) {
		v->qd = qd, v->nlb = nlb, v->opcode = op;
		v->meta_layout = NVMETA_LAYOUT_MISALIGNED;
	}
}

static void plan_layouts(struct plan *p, unsigned int qd)
{
	static const struct { const char *name; enum nvmeta_layout l; } meta[] = {
		{ "pinned", NVMETA_LAYOUT_PINNED }, { "misaligned", NVMETA_LAYOUT_MISALIGNED },
		{ "fragmented", NVMETA_LAYOUT_FRAGMENTED }, { "page", NVMETA_LAYOUT_PAGE },
		{ "malloc", NVMETA_LAYOUT_MALLOC },
	};
	const char *g = group_name("meta-layout-qd%u", qd);
	struct variant *v;
	unsigned int i;

	for (i = 0; i < 5; i++) {
		v = add(p, g, meta[i].name, i == 0);
		if (v) {
			v->qd = qd;
			v->meta_layout = meta[i].l;
		}
	}
}

static void plan_data_layouts(struct plan *p)
{
	struct variant *v;

	add(p, "data-layout-qd32", "data-pinned", true)->qd = 32;
	v = add(p, "data-layout-qd32", "data-misaligned", false);
	v->qd = 32;
	v->data_layout = NVMETA_LAYOUT_MISALIGNED;
}

static void plan_depths(struct plan *p)
{
	unsigned int qd;

	for (qd = 1; qd <= BENCH_MAX_QD; qd *= 2) {
		if (p->o->quick && qd != 1 && qd != 32)
			continue;
		pin_vs_bounce(p, group_name("qd%u", qd), qd, p->nlb, NVMETA_OP_READ);
	}
}

static void plan_sizes(struct plan *p)
{
	unsigned int nlb;

	for (nlb = 1; nlb <= p->max_nlb; nlb *= 2) {
		if (p->o->quick && nlb != 1 && nlb * 2 <= p->max_nlb)
			continue;
		pin_vs_bounce(p, group_name("blocks-%u", nlb), 4, nlb, NVMETA_OP_READ);
	}
}

static void plan_threads(struct plan *p)
{
	static const unsigned int counts[] = { 1, 2, 4 };
	char name[32];
	struct variant *v;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		if (p->o->quick && counts[i] == 4)
			continue;
		snprintf(name, sizeof(name), "threads-%u", counts[i]);
		v = add(p, "threads-qd8", name, i == 0);
		if (v) {
			v->qd = 8;
			v->threads = counts[i];
		}
	}
}

static void plan_options(struct plan *p, unsigned int qd)
{
	const char *g = group_name("options-qd%u", qd);
	struct variant *v;

	add(p, g, "plain", true)->qd = qd;
	v = add(p, g, "fixed", false);
	v->qd = qd, v->fixed = true;
	v = add(p, g, "iopoll-fixed", false);
	v->qd = qd, v->fixed = true, v->ring_flags = NVMETA_RING_IOPOLL;
	v = add(p, g, "sqpoll-fixed", false);
	v->qd = qd, v->fixed = true, v->ring_flags = NVMETA_RING_SQPOLL;
	/* The kernel's default keeps the submission thread spinning for a
	 * second after the slice: on one CPU it would run in the next
	 * variants' slices and count in their CPU time. */
	v->sq_idle_ms = 1;
}

/* Hand-built SQEs are the reference: the library's ratio is its cost. */
static void plan_api(struct plan *p, unsigned int qd)
{
	const char *g = group_name("api-qd%u", qd);
	struct variant *v;

	v = add(p, g, "raw", true);
	v->qd = qd, v->api = API_RAW;
	v = add(p, g, "lib", false);
	v->qd = qd;
	v = add(p, g, "lib-ready", false);
	v->qd = qd, v->io_flags = NVMETA_IO_NO_PREFAULT;
	if (p->fio) {
		v = add(p, g, "fio", false);
		v->qd = qd, v->api = API_FIO;
	}
}

/* Host PI on a PI namespace: reads verified at reap, writes generated at
 * queue time, each against the same I/O without. */
static void plan_pi(struct plan *p, unsigned int qd)
{
	const char *g = group_name("pi-read-qd%u", qd), *gw = group_name("pi-write-qd%u", qd);
	struct variant *v;

	add(p, g, "no-pi", true)->qd = qd;
	v = add(p, g, "host-verify", false);
	v->qd = qd, v->io_flags = NVMETA_IO_PI_VERIFY;
	v = add(p, gw, "no-pi", true);
	v->qd = qd, v->opcode = NVMETA_OP_WRITE;
	v = add(p, gw, "host-generate", false);
	v->qd = qd, v->opcode = NVMETA_OP_WRITE, v->io_flags = NVMETA_IO_PI_GENERATE;
}

/* The two roads to the same blocks, and the block device without
 * metadata: passthrough (the reference), the PI attribute, plain O_DIRECT. */
static void plan_roads(struct plan *p, unsigned int qd)
{
	const char *g = group_name("road-qd%u", qd);
	struct variant *v;

	add(p, g, "passthrough", true)->qd = qd;
	v = add(p, g, "attribute", false);
	v->qd = qd, v->api = API_RW;
	v = add(p, g, "o-direct", false);
	v->qd = qd, v->api = API_ODIRECT;
}

static void plan_nometa(struct plan *p, unsigned int qd)
{
	const char *g = group_name("nometa-qd%u", qd);
	struct variant *v;

	add(p, g, "with-meta", true)->qd = qd;
	v = add(p, g, "no-meta", false);
	v->qd = qd, v->no_meta = true;
}

static void plan_all(struct plan *p)
{
	plan_layouts(p, 1);
	plan_layouts(p, 32);
	plan_data_layouts(p);
	if (!p->o->quick)
		plan_depths(p);
	plan_sizes(p);
	plan_threads(p);
	if (!p->o->quick)
		plan_options(p, 1);
	plan_options(p, 32);
	plan_api(p, 1);
	plan_api(p, 32);
	if (!p->info->extended_lba) {
		plan_roads(p, 1);
		plan_roads(p, 32);
	}
	if (p->info->pi_type) {
		plan_pi(p, 1);
		plan_pi(p, 32);
	}
	if (p->o->nometa_path) {
		plan_nometa(p, 1);
		plan_nometa(p, 32);
	}
	if (p->o->writes) {
		pin_vs_bounce(p, "write-qd1", 1, p->nlb, NVMETA_OP_WRITE);
		pin_vs_bounce(p, "write-qd32", 32, p->nlb, NVMETA_OP_WRITE);
	}
}

/* The usual transfer is 4 KiB of data; the largest is what MDTS and the
 * queue allow, in powers of two. */
static void plan_sizes_of(struct plan *p)
{
	const struct nvmeta_dev_info *in = p->info;
	uint64_t max = (uint64_t)in->limits.max_hw_sectors_kb * 1024;

	if (in->mdts_bytes && in->mdts_bytes < max)
		max = in->mdts_bytes;
	p->nlb = in->lba_size >= 4096 ? 1 : 4096 / in->lba_size;
	p->max_nlb = 1;
	while ((uint64_t)p->max_nlb * 2 * in->lba_size <= max && p->max_nlb < 65536)
		p->max_nlb *= 2;
	if (p->max_nlb < p->nlb)
		p->nlb = p->max_nlb;
}

static void progress(const struct bench_opts *o, const char *what, unsigned int i,
		     unsigned int n, const struct variant *v)
{
	if (o->quiet)
		return;
	fprintf(stderr, "\r%s %u/%u %-16s %-18s", what, i + 1, n, v->group, v->name);
	if (i + 1 == n)
		fputc('\n', stderr);
}

static void run_one(struct plan *p, struct variant *v, unsigned int round, bool keep)
{
	const struct bench_opts *o = p->o;
	struct slice s;
	int ret;

	if (v->skip[0])
		return;
	if (v->api == API_FIO)
		ret = fio_slice(v, o, p->info, o->slice_ms, &s);
	else
		ret = runner_slice(v, o->slice_ms, &s);
	if (ret) {
		snprintf(v->skip, sizeof(v->skip), "round %u: %.140s", round,
			 s.error[0] ? s.error : strerror(-ret));
		return;
	}
	if (!keep)
		return;
	round_from_slice(&v->r[v->rounds++], &s);
	hist_merge(&v->lat, &s.lat);
}

/* Round r starts seven variants further on than round r - 1, and every
 * other round runs backwards: each variant's place in the round and the
 * variant before it change, so that what one variant leaves behind (a
 * warm cache, a kernel thread winding down) does not always fall on the
 * same other one. */
static void run_rounds(struct plan *p)
{
	const struct bench_opts *o = p->o;
	unsigned int r, i, n = p->n, total = o->rounds + 1;
	char what[32];

	for (r = 0; r < total; r++) {
		snprintf(what, sizeof(what), r ? "round %u/%u" : "warm-up", r, o->rounds);
		for (i = 0; i < n; i++) {
			unsigned int k = ((r % 2 ? n - 1 - i : i) + r * 7) % n;

			progress(o, what, i, n, &p->v[k]);
			run_one(p, &p->v[k], r, r > 0);
		}
	}
}

static int usage(int ret)
{
	fprintf(ret ? stderr : stdout,
		"usage: " PROG " [--quick] [--rounds N] [--slice-ms N] [--writes] [--nometa /dev/ngXnZ]\n"
		"       [--fio PATH] [--slba N] [--no-observe] [--json FILE] [--csv FILE]\n"
		"       [--lat-csv FILE] [--quiet] /dev/ngXnY\n"
		"Reads (and with --writes, writes) with metadata on DEVICE, which it\n"
		"overwrites from SLBA on: use a scratch namespace.\n"
		"--json -: JSON on stdout, the table on stderr.\n");
	return ret;
}

static int parse(int argc, char **argv, struct bench_opts *o)
{
	static const struct option longs[] = {
		{ "quick", no_argument, NULL, 'q' }, { "rounds", required_argument, NULL, 'r' },
		{ "slice-ms", required_argument, NULL, 's' }, { "writes", no_argument, NULL, 'w' },
		{ "nometa", required_argument, NULL, 'n' }, { "fio", required_argument, NULL, 'f' },
		{ "slba", required_argument, NULL, 'l' }, { "no-observe", no_argument, NULL, 'O' },
		{ "json", required_argument, NULL, 'j' }, { "csv", required_argument, NULL, 'c' },
		{ "lat-csv", required_argument, NULL, 'L' }, { "quiet", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	uint64_t val;
	int c;

	*o = (struct bench_opts){ .rounds = 5, .slice_ms = 200, .observe = true };
	while ((c = getopt_long(argc, argv, "qr:s:wn:f:l:Oj:c:L:Qh", longs, NULL)) != -1) {
		switch (c) {
		case 'q': o->quick = true; break;
		case 'w': o->writes = true; break;
		case 'n': o->nometa_path = optarg; break;
		case 'f': o->fio_path = optarg; break;
		case 'O': o->observe = false; break;
		case 'j': o->json_path = optarg; break;
		case 'c': o->csv_path = optarg; break;
		case 'L': o->lat_csv_path = optarg; break;
		case 'Q': o->quiet = true; break;
		case 'h': exit(usage(0));
		case 'r':
			if (args_u64(PROG, "--rounds", optarg, 1, BENCH_MAX_ROUNDS, &val))
				return -1;
			o->rounds = val;
			break;
		case 's':
			if (args_u64(PROG, "--slice-ms", optarg, 1, 60000, &val))
				return -1;
			o->slice_ms = val;
			break;
		case 'l':
			if (args_u64(PROG, "--slba", optarg, 0, UINT64_MAX >> 1, &o->slba))
				return -1;
			break;
		default:
			return -1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, PROG ": name one device\n");
		return -1;
	}
	o->dev_path = argv[optind];
	if (o->quick && o->rounds == 5)
		o->rounds = 3;
	if (o->quick && o->slice_ms == 200)
		o->slice_ms = 100;
	return 0;
}

static void observe(struct plan *p, struct nvmeta_dev *dev)
{
	struct nvmeta_kpath *kp = NULL;
	unsigned int i;

	if (p->o->observe && nvmeta_kpath_open(nvmeta_dev_info(dev), &kp))
		fprintf(stderr, PROG ": paths not observed: %s\n", nvmeta_check_last_error());
	for (i = 0; i < p->n; i++)
		runner_observe(&p->v[i], p->v[i].no_meta ? NULL : kp);
	nvmeta_kpath_close(kp);
}

/* The namespace's block device, for the attribute road and plain
 * O_DIRECT; NULL (those variants are skipped) when it cannot be opened. */
static struct nvmeta_bdev *open_bdev(const struct nvmeta_dev_info *in)
{
	struct nvmeta_bdev *b;
	char path[64];

	if (!in->block_name[0])
		return NULL;
	snprintf(path, sizeof(path), "/dev/%s", in->block_name);
	if (nvmeta_bdev_open(path, &b)) {
		fprintf(stderr, PROG ": %s: %s\n", path, nvmeta_last_error());
		return NULL;
	}
	return b;
}

static int setup_all(struct plan *p, struct nvmeta_dev *dev, struct nvmeta_dev *nometa,
		     struct nvmeta_bdev *bdev)
{
	unsigned int i;
	int ret;

	for (i = 0; i < p->n; i++) {
		progress(p->o, "setting up", i, p->n, &p->v[i]);
		ret = runner_setup(&p->v[i], p->o, dev, nometa, bdev);
		if (ret)
			return ret;
	}
	return 0;
}

static int outputs(struct plan *p)
{
	const struct bench_opts *o = p->o;
	double book = runner_bookkeeping_us();
	/* --json -: the JSON alone on stdout, the table on stderr. */
	FILE *table = o->json_path && !strcmp(o->json_path, "-") ? stderr : stdout;
	int ret = 0;

	report_table(table, p->v, p->n);
	report_summary(table, p->v, p->n, book);
	if (o->json_path)
		ret |= report_json(o->json_path, p->v, p->n, p->info, o, book);
	if (o->csv_path)
		ret |= report_csv(o->csv_path, p->v, p->n);
	if (o->lat_csv_path)
		ret |= report_lat_csv(o->lat_csv_path, p->v, p->n);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct plan plan;
	struct nvmeta_dev *dev = NULL, *nometa = NULL;
	struct nvmeta_bdev *bdev = NULL;
	struct bench_opts o;
	char why[160];
	unsigned int i;
	int ret = 1;

	if (parse(argc, argv, &o))
		return usage(2);
	if (nvmeta_dev_open(o.dev_path, &dev)) {
		fprintf(stderr, PROG ": %s\n", nvmeta_last_error());
		return 1;
	}
	if (o.nometa_path && nvmeta_dev_open(o.nometa_path, &nometa)) {
		fprintf(stderr, PROG ": --nometa: %s\n", nvmeta_last_error());
		goto out;
	}
	plan.info = nvmeta_dev_info(dev);
	plan.o = &o;
	if (!plan.info->ms)
		fprintf(stderr, PROG ": warning: %s has no metadata: the figures are not about metadata\n",
			o.dev_path);
	if (nometa && nvmeta_dev_info(nometa)->ms)
		fprintf(stderr, PROG ": warning: --nometa %s has %u metadata bytes a block\n",
			o.nometa_path, nvmeta_dev_info(nometa)->ms);
	if (o.fio_path) {
		plan.fio = !fio_check(o.fio_path, why, sizeof(why));
		if (!plan.fio)
			fprintf(stderr, PROG ": fio baseline skipped: %s\n", why);
	}
	plan_sizes_of(&plan);
	plan_all(&plan);
	bdev = open_bdev(plan.info);
	if (setup_all(&plan, dev, nometa, bdev))
		goto out;
	run_rounds(&plan);
	observe(&plan, dev);
	ret = outputs(&plan);
out:
	for (i = 0; i < plan.n; i++)
		runner_teardown(&plan.v[i]);
	nvmeta_bdev_close(bdev);
	nvmeta_dev_close(nometa);
	nvmeta_dev_close(dev);
	return ret;
}
