// SPDX-License-Identifier: MIT
/*
 * nvmeta-check: run the copy-back checker's matrix on a namespace and
 * report, per case, the predicted path and whether every byte came back
 * and nothing else moved.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "nvmeta.h"
#include "nvmeta-check.h"
#include "report.h"

struct options {
	const char *path;
	const char *filter;
	unsigned int runs;
	bool json;
	bool ktap;		/* --format ktap */
	const char *ktap_path;	/* --ktap FILE: KTAP there, beside the output */
	bool list;
	bool quiet;
	bool no_kprobes;
	bool weakness;
	bool reformat;
	bool commands;		/* --commands: the NVM command cases */
	bool road_rw;		/* --road rw: the attribute road */
	struct nvmeta_bdev *bdev;	/* the road's, with --road rw */
	struct nvmeta_bdev *probe_bdev;	/* the block device the probes use, if any */
	struct nvmeta_check_probes probes;
};

/*
 * SIGINT, SIGTERM, SIGHUP and SIGPIPE end a run between two cases, so that
 * the kprobes go and the device is idle: the handler only records the
 * signal, the case loop looks at it, and main() cleans up and dies of the
 * same signal.  A case in flight finishes first (nvmeta_io_sync waits for
 * its own completion across signals).
 */
static volatile sig_atomic_t stop_signal;
static unsigned int cases_done, cases_total;
/* Where KTAP goes: standard output with --format ktap or --ktap -, FILE
 * with --ktap FILE, else nowhere (NULL).  With --ktap -, its lines and
 * the output's share standard output, each line whole: KTAP's begin with
 * "KTAP", "#", "1..", "ok", "not ok" or "Bail out!", the JSON's with "{",
 * "}" or a space (the lab's guest suite, which can run nothing after the
 * checker on a kernel it damaged, streams both so). */
static FILE *kt;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa = { .sa_handler = on_signal }, old;	/* no SA_RESTART */
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* An ignored signal stays ignored: nohup, or a shell that
		 * starts a background job, asked for that. */
		if (!sigaction(sigs[i], NULL, &old) && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}

static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "SIGINT";
	case SIGTERM: return "SIGTERM";
	case SIGHUP: return "SIGHUP";
	case SIGPIPE: return "SIGPIPE";
	default: return "a signal";
	}
}

/* After cleanup: say so, then die of @sig so the exit status shows it. */
static int die_of_signal(int sig, bool had_probes)
{
	fprintf(stderr, "nvmeta-check: interrupted by %s after %u of %u cases; %s\n",
		signal_name(sig), cases_done, cases_total,
		had_probes ? "probes removed" : "no probes were registered");
	fflush(stdout);
	signal(sig, SIG_DFL);
	raise(sig);
	return 128 + sig;
}

/* Kernel-weakness probes overrun memory on purpose (the kernel's heap on
 * the bounce path), and the reformat case erases the namespace: only in a
 * throw-away machine, only when asked. */
static bool selected(const struct options *o, const struct nvmeta_check_case *tc)
{
	if ((tc->flags & NVMETA_CHECK_SHORT_META) && !o->weakness)
		return false;
	if ((tc->flags & NVMETA_CHECK_REFORMAT) && !o->reformat)
		return false;
	if ((tc->flags & NVMETA_CHECK_COMMAND) && !o->commands)
		return false;
	/* "pi" is a word of its own: as text it would also pick "pinned". */
	if (o->filter && !strcmp(o->filter, "pi"))
		return tc->flags & NVMETA_CHECK_PI;
	return !o->filter || strstr(tc->name, o->filter);
}

static const char *const dir_names[] = { "read", "write", "both" };
/* By enum nvmeta_kind; the words the JSON calls "subject". */
static const char *const kind_names[] = { "meta", "data" };

static const char *observed_name(const struct nvmeta_check_result *r)
{
	return r->observed < 0 ? "-" : nvmeta_path_name(r->observed);
}

static void print_row(const struct nvmeta_check_result *r)
{
	bool skip = r->verdict == NVMETA_VERDICT_SKIP;

	printf("%-26s %-4s %-5s %6u  %-11s %-7s %-7s %-13s %s\n", r->tc->name,
	       kind_names[r->tc->kind], dir_names[r->tc->dir], r->nlb,
	       skip ? "-" : nvmeta_layout_name(r->layout),
	       skip ? "-" : nvmeta_path_name(r->pred.path), observed_name(r),
	       nvmeta_verdict_name(r->verdict), r->detail);
}

/*
 * One case a line, ended and flushed as soon as the case is judged: a
 * guest that dies in the next case (a kernel oops) loses only that one.
 * The separator therefore starts the next line.
 */
static void print_json_case(const struct nvmeta_check_result *r, unsigned int run, bool first)
{
	printf("%s{\"case\": ", first ? "    " : "  , ");
	report_json_string(stdout, r->tc->name);
	printf(", \"run\": %u, \"subject\": \"%s\", \"dir\": \"%s\", \"slba\": %llu, \"nlb\": %u, "
	       "\"layout\": \"%s\", \"predicted\": \"%s\", \"prediction_assumed\": %s, "
	       "\"segments\": %u, \"max_segments\": %u, \"reason\": ",
	       run, kind_names[r->tc->kind], dir_names[r->tc->dir],
	       (unsigned long long)r->slba, r->nlb, nvmeta_layout_name(r->layout),
	       nvmeta_path_name(r->pred.path), r->pred.assumed ? "true" : "false",
	       r->pred.segments, r->pred.max_segments);
	report_json_string(stdout, r->pred.reason);
	printf(", \"observed\": \"%s\", \"evidence\": ", observed_name(r));
	report_json_string(stdout, r->evidence);
	printf(", \"expected_errno\": %d, \"errno\": %d, \"verdict\": \"%s\", \"detail\": ",
	       -r->expect_err, -r->err, nvmeta_verdict_name(r->verdict));
	report_json_string(stdout, r->detail);
	if (r->where) {
		printf(", \"where\": \"%s\", \"bad_lba\": %llu, \"bad_offset\": %zu, "
		       "\"expected_byte\": %u, \"found_byte\": %u", r->where,
		       (unsigned long long)r->bad_lba, r->bad_offset, r->expected, r->found);
	}
	printf("}\n");
	fflush(stdout);
}

/*
 * The probes on one line of their own, before the cases, so that a
 * reader that takes nvmeta-check's JSON a line at a time finds them:
 *   "probes": {"NAME": {"value": "EFAULT", "code": -14, "known": true, "how": "..."}, ...},
 */
static void print_probes_json(const struct nvmeta_check_probes *p)
{
	unsigned int i;

	printf("  \"probes\": {");
	for (i = 0; i < p->count; i++) {
		printf("%s", i ? ", " : "");
		report_json_string(stdout, p->probe[i].name);
		printf(": {\"value\": ");
		report_json_string(stdout, p->probe[i].text);
		printf(", \"code\": %d, \"known\": %s, \"how\": ", p->probe[i].value,
		       p->probe[i].known ? "true" : "false");
		report_json_string(stdout, p->probe[i].how);
		putchar('}');
	}
	printf("},\n");
}

/* The probes in the table: one line before the cases. */
static void print_probes_text(FILE *out, const struct nvmeta_check_probes *p)
{
	unsigned int i;

	fprintf(out, "probes:");
	for (i = 0; i < p->count; i++)
		fprintf(out, "%s %s %s", i ? "," : "", p->probe[i].name, p->probe[i].text);
	fputc('\n', out);
}

/*
 * KTAP (--format ktap), for kernel CI: kselftest's conventions.  A
 * version line, the kernel, controller and format as diagnostics, the
 * plan, then one test point a case, flushed as it is judged:
 *   PASS            ok N case
 *   SKIP            ok N case # SKIP <detail>
 *   KERNEL-DEFECT   ok N case # XFAIL kernel defect: <detail>
 *   FAIL, DEVICE-ERROR  diagnostics, then not ok N case
 * A kernel defect is the kernel's, not nvmeta's nor the device's: an
 * expected failure in kselftest's sense (ksft_test_result_xfail()), kept
 * apart from passes and skips so that the totals match the table's.
 * Which defects the lab already knows (tests/vm/known-defects.tsv) is
 * the lab's to say; the detail names the defect.
 */

/* @s on one KTAP line, in ASCII: control characters and bytes past
 * ASCII (a device's strings need not be UTF-8) as \xNN. */
static void ktap_text(const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c >= 0x7f)
			fprintf(kt, "\\x%02x", c);
		else
			putc(c, kt);
	}
}

static void print_ktap_header(const struct options *o, const struct nvmeta_dev_info *in)
{
	fprintf(kt, "KTAP version 1\n# nvmeta-check: kernel ");
	ktap_text(in->kernel.release);
	fprintf(kt, ", device ");
	ktap_text(in->generic_path);
	fprintf(kt, " (%s, ", in->ctrl_name[0] ? in->ctrl_name : "-");
	ktap_text(in->model);
	fprintf(kt, ", firmware ");
	ktap_text(in->firmware);
	fprintf(kt, "), format %u+%u%s pi %u, road %s\n# nvmeta %s, %u run%s\n# ", in->lba_size,
		    in->ms, in->extended_lba ? " extended" : "", in->pi_type,
		    o->road_rw ? "rw" : "passthrough", nvmeta_version(), o->runs,
		    o->runs == 1 ? "" : "s");
	print_probes_text(kt, &o->probes);
	fprintf(kt, "1..%u\n", cases_total);
	fflush(kt);
}

/* Test point @num: case @r of run @run (named "case run N" beyond one run). */
static void print_ktap_case(const struct options *o, const struct nvmeta_check_result *r,
			    unsigned int run, unsigned int num)
{
	bool bad = r->verdict == NVMETA_VERDICT_FAIL || r->verdict == NVMETA_VERDICT_DEVICE_ERROR;

	if (bad) {
		fprintf(kt, "# %s: %s ", r->tc->name, nvmeta_verdict_name(r->verdict));
		ktap_text(r->detail);
		fprintf(kt, "\n# %s: predicted %s (", r->tc->name, nvmeta_path_name(r->pred.path));
		ktap_text(r->pred.reason);
		fprintf(kt, "), kernel took %s, errno %d expected %d\n", observed_name(r), -r->err,
			    -r->expect_err);
		if (r->where)
			fprintf(kt, "# %s: %s LBA %llu byte %zu: expected 0x%02x, found 0x%02x\n",
				    r->tc->name, r->where, (unsigned long long)r->bad_lba,
				    r->bad_offset, r->expected, r->found);
	}
	fprintf(kt, "%s %u %s", bad ? "not ok" : "ok", num, r->tc->name);
	if (o->runs > 1)
		fprintf(kt, " run %u", run);
	if (r->verdict == NVMETA_VERDICT_SKIP) {
		fprintf(kt, " # SKIP ");
		ktap_text(r->detail);
	} else if (r->verdict == NVMETA_VERDICT_KERNEL_DEFECT) {
		/* The library's details of a kernel defect or weakness
		 * mostly say so already. */
		fprintf(kt, " # XFAIL %s", strncmp(r->detail, "kernel ", 7) ? "kernel defect: " : "");
		ktap_text(r->detail);
	}
	fprintf(kt, "\n");
	fflush(kt);
}

/*
 * kselftest's totals line, "Bail out!" when the run ended before its plan
 * (@stopped), and kselftest's exit status (KSFT_* of kselftest.h):
 * 1 (KSFT_FAIL) a case failed or the run stopped; 4 (KSFT_SKIP) nothing
 * was tested, every case skipped; 0 (KSFT_PASS) otherwise, kernel
 * defects (XFAIL) included.
 */
static int print_ktap_footer(const unsigned int *counts, const char *stopped)
{
	unsigned int fail = counts[NVMETA_VERDICT_FAIL] + counts[NVMETA_VERDICT_DEVICE_ERROR];

	if (stopped) {
		fprintf(kt, "Bail out! ");
		ktap_text(stopped);
		fprintf(kt, "\n");
	}
	fprintf(kt, "# Totals: pass:%u fail:%u xfail:%u xpass:0 skip:%u error:0\n",
		    counts[NVMETA_VERDICT_PASS], fail, counts[NVMETA_VERDICT_KERNEL_DEFECT],
		    counts[NVMETA_VERDICT_SKIP]);
	if (stopped || fail)
		return 1;
	if (!counts[NVMETA_VERDICT_PASS] && !counts[NVMETA_VERDICT_KERNEL_DEFECT])
		return 4;
	return 0;
}

/* No case could start: the device, the ring or the road could not be
 * had, nothing to test here, as kselftest's ksft_exit_skip() says it (4);
 * or the probes failed (@fail): the run stopped before its plan (1). */
static int print_ktap_unable(const char *path, const char *why, bool fail)
{
	fprintf(kt, "KTAP version 1\n# nvmeta-check: device ");
	ktap_text(path);
	fprintf(kt, "\n%s", fail ? "Bail out! " : "1..0 # SKIP ");
	ktap_text(why);
	fprintf(kt, "\n");
	return fail ? 1 : 4;
}

static void print_header(const struct options *o, const struct nvmeta_dev_info *in, int n)
{
	if (kt)
		print_ktap_header(o, in);
	if (o->ktap)
		return;
	if (o->json) {
		printf("{\n  \"device\": ");
		report_json_string(stdout, in->generic_path);
		printf(",\n  \"kernel\": ");
		report_json_string(stdout, in->kernel.release);
		printf(",\n  \"format\": {\"lba\": %u, \"ms\": %u, \"extended_lba\": %s, "
		       "\"pi_type\": %u},\n  \"road\": \"%s\",\n", in->lba_size,
		       in->ms, in->extended_lba ? "true" : "false", in->pi_type,
		       o->road_rw ? "rw" : "passthrough");
		print_probes_json(&o->probes);
		printf("  \"cases\": [\n");
		fflush(stdout);
		return;
	}
	printf("nvmeta-check %s: kernel %s, format %u+%u%s pi %u, road %s, %d cases x %u run%s\n",
	       in->generic_path, in->kernel.release, in->lba_size, in->ms,
	       in->extended_lba ? " extended" : "", in->pi_type,
	       o->road_rw ? "rw (PI attribute)" : "passthrough", n, o->runs,
	       o->runs == 1 ? "" : "s");
	print_probes_text(stdout, &o->probes);
	printf("\n%-26s %-4s %-5s %6s  %-11s %-7s %-7s %-13s %s\n", "Case", "Buf", "Dir", "Blocks",
	       "Layout", "Predict", "Kernel", "Result", "Detail");
}

/*
 * The end of the output.  JSON is closed however the run ends: with
 * @stopped (why the run ended: a case that could not run, or a signal,
 * which the tool then dies of) beside the counts of the cases that ran.
 * The text table gets its summary line when every case ran (@whole).
 */
static void print_footer(const struct options *o, const unsigned int *counts,
			 const char *stopped, bool whole)
{
	if (o->json) {
		printf("  ],\n  \"summary\": {\"pass\": %u, \"skip\": %u, \"fail\": %u, "
		       "\"kernel_defect\": %u, \"device_error\": %u}", counts[0], counts[1],
		       counts[2], counts[3], counts[4]);
		if (stopped) {
			printf(",\n  \"stopped\": ");
			report_json_string(stdout, stopped);
		}
		printf("\n}\n");
	} else if (whole) {
		printf("\n%u passed, %u failed, %u skipped, %u kernel defects, %u device errors\n",
		       counts[0], counts[2] + counts[3] + counts[4], counts[1], counts[3], counts[4]);
	}
}

/* Case @i of the table, once; 0 with its verdict in @r, or 2 with the
 * reason it could not run in @why (already said on stderr). */
static int run_case(const struct options *o, struct nvmeta_dev *dev, struct io_uring *ring,
		    struct nvmeta_kpath *kp, const struct nvmeta_check_case *tc, int i,
		    unsigned int run, struct nvmeta_check_result *r, char *why, size_t len)
{
	/* The checker opts in to noticing a format change by someone else
	 * (libnvmeta watches nothing by itself): a case on a stale device
	 * would size its buffers for the old format. */
	if (nvmeta_dev_check(dev) < 0) {
		snprintf(why, len, "%s", nvmeta_last_error());
		fprintf(stderr, "\nnvmeta-check: %s\n", why);
		return 2;
	}
	if (nvmeta_check_run_probed(dev, o->bdev, ring, kp, &o->probes, tc, i, run, r)) {
		snprintf(why, len, "%s", nvmeta_check_last_error());
		if (!stop_signal)
			fprintf(stderr, "\nnvmeta-check: %s\n", why);
		else if (!o->quiet)
			fprintf(stderr, "interrupted\n");
		return 2;
	}
	/* The reformat case changed the format under this handle too, and
	 * restored it: learn it again. */
	if ((tc->flags & NVMETA_CHECK_REFORMAT) && nvmeta_dev_refresh(dev) < 0) {
		snprintf(why, len, "after the reformat case: %s", nvmeta_last_error());
		fprintf(stderr, "\nnvmeta-check: %s\n", why);
		return 2;
	}
	return 0;
}

static int run_all(const struct options *o, struct nvmeta_dev *dev, struct io_uring *ring,
		   struct nvmeta_kpath *kp)
{
	const struct nvmeta_check_case *cases;
	struct nvmeta_check_result r;
	unsigned int counts[5] = { 0 }, run, total = 0, done = 0;
	int n = nvmeta_check_table(&cases), i, ret = 0;
	bool first = true;
	char why[512] = "";
	int kret = 0;

	for (i = 0; i < n; i++)
		total += selected(o, &cases[i]);
	total *= o->runs;
	cases_total = total;
	print_header(o, nvmeta_dev_info(dev), n);
	for (run = 1; run <= o->runs && !ret && !stop_signal; run++) {
		for (i = 0; i < n && !ret && !stop_signal; i++) {
			if (!selected(o, &cases[i]))
				continue;
			done++;
			if (!o->quiet)
				fprintf(stderr, "[%3u/%u] %-26s ", done, total, cases[i].name);
			ret = run_case(o, dev, ring, kp, &cases[i], i, run, &r, why, sizeof(why));
			if (ret)
				continue;
			cases_done = done;
			if (!o->quiet)
				fprintf(stderr, "%s\n", nvmeta_verdict_name(r.verdict));
			counts[r.verdict]++;
			if (kt)
				print_ktap_case(o, &r, run, done);
			if (!o->ktap && o->json)
				print_json_case(&r, run, first);
			else if (!o->ktap)
				print_row(&r);
			first = false;
		}
	}
	/* A signal ends the run (main() dies of it), whatever else did. */
	if (stop_signal)
		snprintf(why, sizeof(why), "interrupted by %s after %u of %u cases",
			 signal_name(stop_signal), cases_done, cases_total);
	if (kt)
		kret = print_ktap_footer(counts, why[0] ? why : NULL);
	if (o->ktap)
		return kret;
	print_footer(o, counts, why[0] ? why : NULL, !ret && cases_done == cases_total);
	if (ret || stop_signal)
		return 2;
	return counts[2] || counts[3] || counts[4] ? 1 : 0;
}

/* Which option a case needs to be selected, or NULL. */
static const char *case_needs(const struct nvmeta_check_case *c)
{
	if (c->flags & NVMETA_CHECK_SHORT_META)
		return "--kernel-weakness";
	if (c->flags & NVMETA_CHECK_REFORMAT)
		return "--reformat";
	if (c->flags & NVMETA_CHECK_COMMAND)
		return "--commands";
	return NULL;
}

static void list_case_json(const struct nvmeta_check_case *c, bool first)
{
	const char *needs = case_needs(c);

	printf("%s\n    {\"case\": ", first ? "" : ",");
	report_json_string(stdout, c->name);
	printf(", \"subject\": \"%s\", \"dir\": \"%s\", \"layout\": \"%s\", \"offset\": %zu, "
	       "\"pi\": %s, \"needs\": ", kind_names[c->kind], dir_names[c->dir],
	       nvmeta_layout_name(c->layout), c->offset,
	       c->flags & NVMETA_CHECK_PI ? "true" : "false");
	if (needs)
		report_json_string(stdout, needs);
	else
		printf("null");
	putchar('}');
}

static void list_cases(bool json)
{
	const struct nvmeta_check_case *c;
	int n = nvmeta_check_table(&c), i;
	const char *tag;

	if (json)
		printf("{\n  \"cases\": [");
	for (i = 0; i < n; i++) {
		if (json) {
			list_case_json(&c[i], !i);
			continue;
		}
		tag = case_needs(&c[i]);
		if (!tag && (c[i].flags & NVMETA_CHECK_PI))
			tag = "pi";
		printf("%-26s %-4s %-5s %s+%zu%s%s%s\n", c[i].name, kind_names[c[i].kind],
		       dir_names[c[i].dir], nvmeta_layout_name(c[i].layout), c[i].offset,
		       tag ? "  (" : "", tag ? tag : "", tag ? ")" : "");
	}
	if (json)
		printf("\n  ]\n}\n");
}

static void usage(FILE *out)
{
	fprintf(out, "usage: nvmeta-check [options] DEVICE\n"
		     "  -j, --json          print JSON\n"
		     "      --format FMT    table (default), json (as --json), or ktap: KTAP for\n"
		     "                      kernel CI, kernel defects as XFAIL\n"
		     "      --ktap FILE     also write the KTAP to FILE (-: standard output, its\n"
		     "                      lines among the output's), beside the output (one\n"
		     "                      run, both reports; the exit status is the output's)\n"
		     "  -f, --filter TEXT   only cases whose name contains TEXT; \"pi\": the\n"
		     "                      protection-information cases (skipped on a namespace\n"
		     "                      without PI), not every name with \"pi\" in it\n"
		     "  -r, --runs N        run the matrix N times with fresh patterns\n"
		     "  -q, --quiet         no progress lines\n"
		     "  -l, --list          list the cases and exit\n"
		     "  -K, --no-kprobes    do not observe the kernel's path with kprobes\n"
		     "  -W, --kernel-weakness\n"
		     "                      also run the RAW probes of a metadata buffer shorter\n"
		     "                      than nlb x ms (the device overruns user or kernel\n"
		     "                      memory; for a throw-away test machine booted with\n"
		     "                      slub_debug=FZ; never on a machine that matters)\n"
		     "  -F, --reformat      also format the namespace under an open handle and\n"
		     "                      back (erases the whole namespace)\n"
		     "  -C, --commands      also run the NVM command cases (write zeroes, DSM\n"
		     "                      deallocate, write uncorrectable, verify, compare,\n"
		     "                      copy), each with its metadata semantics asserted\n"
		     "  -R, --road ROAD     passthrough (default), or rw: the copy-back matrix as\n"
		     "                      io_uring read/write with a PI attribute on the\n"
		     "                      namespace's block device (Linux 6.14); refused before\n"
		     "                      any I/O where the kernel does not honour it\n"
		     "exit status: 0 all passed or skipped, 1 a case failed, 2 could not run;\n"
		     "with --format ktap kselftest's: 0 passed, 1 failed, 4 nothing tested;\n"
		     "SIGINT, SIGTERM, SIGHUP, SIGPIPE: the case in flight finishes, the probes\n"
		     "are removed, and the tool dies of that signal\n");
}

enum { OPT_FORMAT = 0x100, OPT_KTAP };	/* long options without a letter */

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "filter", required_argument, NULL, 'f' },
		{ "runs", required_argument, NULL, 'r' }, { "quiet", no_argument, NULL, 'q' },
		{ "list", no_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
		{ "no-kprobes", no_argument, NULL, 'K' },
		{ "kernel-weakness", no_argument, NULL, 'W' },
		{ "reformat", no_argument, NULL, 'F' },
		{ "commands", no_argument, NULL, 'C' },
		{ "road", required_argument, NULL, 'R' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "ktap", required_argument, NULL, OPT_KTAP },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t runs;
	int c;

	o->runs = 1;
	while ((c = getopt_long(argc, argv, "jf:r:qlhKWFCR:", opts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'f': o->filter = optarg; break;
		case 'r':
			/* A sane bound: a million runs of the matrix is days. */
			if (args_u64("nvmeta-check", "-r/--runs", optarg, 1, 1000000, &runs))
				return -1;
			o->runs = runs;
			break;
		case 'q': o->quiet = true; break;
		case 'l': o->list = true; break;
		case 'K': o->no_kprobes = true; break;
		case 'W': o->weakness = true; break;
		case 'F': o->reformat = true; break;
		case 'C': o->commands = true; break;
		case 'R':
			if (strcmp(optarg, "rw") && strcmp(optarg, "passthrough")) {
				fprintf(stderr, "nvmeta-check: -R/--road '%s': passthrough or rw\n", optarg);
				return -1;
			}
			o->road_rw = !strcmp(optarg, "rw");
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") && strcmp(optarg, "json") &&
			    strcmp(optarg, "ktap")) {
				fprintf(stderr, "nvmeta-check: --format '%s': table, json or ktap\n",
					optarg);
				return -1;
			}
			o->json = !strcmp(optarg, "json");
			o->ktap = !strcmp(optarg, "ktap");
			break;
		case OPT_KTAP: o->ktap_path = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (o->list)
		return 0;
	if (optind + 1 != argc || !o->runs)
		return -1;
	if (o->ktap && o->ktap_path) {
		fprintf(stderr, "nvmeta-check: --ktap FILE with --format ktap: the KTAP is on "
			"standard output already\n");
		return -1;
	}
	o->path = argv[optind];
	return 0;
}

/* The attribute road goes through the namespace's block device; a
 * kernel that does not honour it is refused here, before any I/O. */
static int open_road(struct options *o, const struct nvmeta_dev_info *in)
{
	char path[64];

	if (!in->block_name[0]) {
		fprintf(stderr, "nvmeta-check: --road rw: %s has no block device\n", in->generic_path);
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/%s", in->block_name);
	if (nvmeta_bdev_open(path, &o->bdev) || nvmeta_bdev_road(o->bdev)) {
		fprintf(stderr, "nvmeta-check: --road rw: %s\n", nvmeta_last_error());
		return -1;
	}
	return 0;
}

/* The probes of the attribute road and of the block device's fields go
 * through the block device whatever road the cases take: the road's own,
 * or one opened for them alone (none if it cannot be opened; those
 * probes then say why they are unknown). */
static void open_probe_bdev(struct options *o, const struct nvmeta_dev_info *in)
{
	char path[64];

	if (o->bdev) {
		o->probe_bdev = o->bdev;
		return;
	}
	if (!in->block_name[0])
		return;
	snprintf(path, sizeof(path), "/dev/%s", in->block_name);
	if (nvmeta_bdev_open(path, &o->probe_bdev))
		o->probe_bdev = NULL;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct nvmeta_kpath *kp = NULL;
	struct nvmeta_dev *dev;
	struct io_uring ring;
	bool had_probes;
	int ret;

	if (parse(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (o.list) {
		list_cases(o.json);
		return 0;
	}
	/* Each result goes out as soon as it is known: a case can take the
	 * machine down, and what was found before it must survive. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.ktap || (o.ktap_path && !strcmp(o.ktap_path, "-"))) {
		kt = stdout;
	} else if (o.ktap_path) {
		kt = fopen(o.ktap_path, "w");
		if (!kt) {
			fprintf(stderr, "nvmeta-check: --ktap %s: %s\n", o.ktap_path, strerror(errno));
			return 2;
		}
		setvbuf(kt, NULL, _IOLBF, 0);
	}
	if (nvmeta_dev_open(o.path, &dev) || nvmeta_ring_init(&ring, 8)) {
		fprintf(stderr, "nvmeta-check: %s\n", nvmeta_last_error());
		ret = kt ? print_ktap_unable(o.path, nvmeta_last_error(), false) : 2;
		return o.ktap ? ret : 2;
	}
	if (o.road_rw && open_road(&o, nvmeta_dev_info(dev))) {
		nvmeta_dev_close(dev);
		ret = kt ? print_ktap_unable(o.path, "--road rw: not here (see standard error)",
					     false) : 2;
		return o.ktap ? ret : 2;
	}
	catch_signals();
	if (!o.no_kprobes && nvmeta_kpath_open(nvmeta_dev_info(dev), &kp))
		fprintf(stderr, "nvmeta-check: paths not observed: %s\n", nvmeta_check_last_error());
	open_probe_bdev(&o, nvmeta_dev_info(dev));
	/* Once, before the cases: what this kernel does where kernels
	 * differ; every case is judged against it. */
	if (nvmeta_check_probe(dev, o.probe_bdev, kp, &o.probes)) {
		fprintf(stderr, "nvmeta-check: probes: %s\n", nvmeta_check_last_error());
		ret = kt ? print_ktap_unable(o.path, nvmeta_check_last_error(), true) : 2;
		ret = o.ktap ? ret : 2;
		goto out;
	}
	ret = run_all(&o, dev, &ring, kp);
out:
	had_probes = kp;
	nvmeta_kpath_close(kp);
	io_uring_queue_exit(&ring);
	if (o.probe_bdev != o.bdev)
		nvmeta_bdev_close(o.probe_bdev);
	nvmeta_bdev_close(o.bdev);
	nvmeta_dev_close(dev);
	if (kt && kt != stdout)
		fclose(kt);
	if (stop_signal)
		return die_of_signal(stop_signal, had_probes);
	return ret;
}
