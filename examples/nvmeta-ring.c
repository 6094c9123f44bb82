// SPDX-License-Identifier: MIT
/*
 * nvmeta-ring: metadata I/O on the application's own ring, the way a
 * storage engine would do it.  The ring is set up here with liburing, not
 * by nvmeta; the device is a registered file, the data lives in one
 * registered buffer, metadata in slots made ready once; each command shape
 * is validated once, and every command is filled by the inline encoder
 * nvmeta_prep_cmd().  It writes a pattern unique to each LBA and byte,
 * reads it back and compares data and metadata byte for byte.
 *
 * Options ask for io_uring's fast paths: --iopoll (the namespace needs poll
 * queues), --sqpoll, --fixed-file, --fixed-buf.  Each is checked against
 * the kernel's answer first (nvmeta_ring_probe()), and a missing one is
 * named.  It writes to the namespace: use a scratch one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "args.h"
#include "nvmeta.h"

#define PROG "nvmeta-ring"

struct options {
	const char *path;
	bool iopoll, sqpoll, fixed_file, fixed_buf, json;
	uint64_t slba;
	uint32_t nlb, count, depth;
};

/* What one run set up; torn down by finish(). */
struct run {
	struct nvmeta_dev *dev;
	const struct nvmeta_dev_info *info;
	struct io_uring ring;
	bool ring_up;
	uint32_t features;
	uint32_t block_bytes;		/* data bytes per block in the data buffer */
	uint32_t meta_bytes;		/* separate metadata bytes per command */
	unsigned char *data;
	size_t data_len;
	uint32_t per_buf;		/* --fixed-buf: commands a registered buffer */
	struct nvmeta_slots *slots;
	uint64_t mismatches, first_bad_lba;
	const char *first_bad_where;
	double write_ms, read_ms;
};

static int usage(int ret)
{
	fprintf(ret ? stderr : stdout,
		"usage: " PROG " [--iopoll] [--sqpoll] [--fixed-file] [--fixed-buf]\n"
		"       [--slba N] [--blocks N] [--count N] [--depth N] [--json] /dev/ngXnY\n"
		"Writes COUNT commands of BLOCKS blocks from SLBA on, reads them back on\n"
		"the program's own io_uring and compares data and metadata byte for byte.\n");
	return ret;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{ "iopoll", no_argument, NULL, 'p' }, { "sqpoll", no_argument, NULL, 's' },
		{ "fixed-file", no_argument, NULL, 'f' }, { "fixed-buf", no_argument, NULL, 'b' },
		{ "slba", required_argument, NULL, 'l' }, { "blocks", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' }, { "depth", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	*o = (struct options){ .nlb = 8, .count = 64, .depth = 16 };
	while ((c = getopt_long(argc, argv, "psfbl:n:c:d:jh", longs, NULL)) != -1) {
		switch (c) {
		case 'p': o->iopoll = true; break;
		case 's': o->sqpoll = true; break;
		case 'f': o->fixed_file = true; break;
		case 'b': o->fixed_buf = true; break;
		case 'j': o->json = true; break;
		case 'h': exit(usage(0));
		case 'l':
			if (args_u64(PROG, "--slba", optarg, 0, UINT64_MAX, &o->slba))
				return -1;
			break;
		case 'n':
			if (args_u64(PROG, "--blocks", optarg, 1, 65536, &v))
				return -1;
			o->nlb = v;
			break;
		case 'c':
			if (args_u64(PROG, "--count", optarg, 1, 1u << 20, &v))
				return -1;
			o->count = v;
			break;
		case 'd':
			if (args_u64(PROG, "--depth", optarg, 1, 4096, &v))
				return -1;
			o->depth = v;
			break;
		default:
			return -1;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, PROG ": name one device\n");
		return -1;
	}
	o->path = argv[optind];
	return 0;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, PROG ": %s: %s\n", what, err ? nvmeta_last_error() : "");
	return -1;
}

/* The application's own ring: liburing, with the flags it chose. */
static int ring_up(struct run *r, const struct options *o)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	int ret;

	if (o->iopoll)
		p.flags |= IORING_SETUP_IOPOLL;
	if (o->sqpoll)
		p.flags |= IORING_SETUP_SQPOLL;
	ret = io_uring_queue_init_params(o->depth, &r->ring, &p);
	if (ret) {
		fprintf(stderr, PROG ": io_uring setup%s%s: %s\n", o->iopoll ? " with IOPOLL" : "",
			o->sqpoll ? " with SQPOLL" : "", strerror(-ret));
		return -1;
	}
	r->ring_up = true;
	ret = nvmeta_ring_probe(&r->ring, &r->features);
	if (ret)
		return fail("asking the kernel what the ring can do", ret);
	if (!(r->features & NVMETA_FEAT_URING_CMD))
		return fail("this kernel's io_uring has no IORING_OP_URING_CMD (Linux 5.19)", 0);
	if (o->fixed_buf && !(r->features & NVMETA_FEAT_FIXED_BUF)) {
		fprintf(stderr, PROG ": --fixed-buf: this kernel does not take registered buffers for passthrough (IORING_URING_CMD_FIXED)\n");
		return -1;
	}
	if (o->iopoll && !r->info->limits.io_poll) {
		fprintf(stderr, PROG ": --iopoll: %s has no poll queues (queue/io_poll is 0): load nvme with poll_queues=N\n",
			r->info->generic_path);
		return -1;
	}
	return 0;
}

/*
 * The data buffer registered in pieces of whole commands, each piece
 * spanning fewer pages than the queue's max_segments: Linux 6.1 refuses
 * (EINVAL) a passthrough command on a registered buffer whose whole
 * registration spans more pages than that, whatever part the command uses
 * (known-defects.tsv: linux-6.1-fixed-buf-registration).  Later kernels
 * take any size; the pieces cost them nothing.
 */
static int register_data(struct run *r, const struct options *o)
{
	size_t cmd_len = (size_t)o->nlb * r->block_bytes, pages, i, n;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);	/* max_segments counts these */
	uint32_t segs = r->info->limits.max_segments ? r->info->limits.max_segments : 1;
	struct iovec *iov;
	int ret;

	/* A piece of G commands spans at most G x cmd_len / page + 2 pages. */
	pages = segs > 2 ? segs - 2 : 1;
	r->per_buf = (uint32_t)(pages * page / cmd_len);
	if (!r->per_buf)
		r->per_buf = 1;
	if (r->per_buf > o->count)
		r->per_buf = o->count;
	n = (o->count + r->per_buf - 1) / r->per_buf;
	if (n > 16384) {	/* io_uring's limit, IORING_MAX_REG_BUFFERS */
		fprintf(stderr, PROG ": --fixed-buf: %u commands of %zu bytes need %zu registered buffers of at most %u pages (max_segments %u): io_uring takes 16384\n",
			o->count, cmd_len, n, (unsigned int)pages, segs);
		return -1;
	}
	iov = calloc(n, sizeof(*iov));
	if (!iov)
		return fail("registered buffers", -ENOMEM);
	for (i = 0; i < n; i++) {
		size_t first = i * r->per_buf, cmds = o->count - first;

		if (cmds > r->per_buf)
			cmds = r->per_buf;
		iov[i] = (struct iovec){ .iov_base = r->data + first * cmd_len,
					 .iov_len = cmds * cmd_len };
	}
	ret = io_uring_register_buffers(&r->ring, iov, (unsigned int)n);
	free(iov);
	if (ret) {
		fprintf(stderr, PROG ": io_uring_register_buffers (%zu buffers of up to %zu bytes): %s\n",
			n, (size_t)r->per_buf * cmd_len, strerror(-ret));
		return -1;
	}
	return 0;
}

/* Data in one buffer the kernel may keep pinned; metadata in slots. */
static int buffers_up(struct run *r, const struct options *o)
{
	const struct nvmeta_dev_info *in = r->info;
	int fd = nvmeta_dev_fd(r->dev), ret;

	r->data_len = (size_t)r->block_bytes * o->nlb * o->count;
	if (r->data_len / o->count / o->nlb != r->block_bytes || r->data_len > 1ul << 30) {
		fprintf(stderr, PROG ": %u commands of %u blocks of %u bytes: more than 1 GiB of data\n",
			o->count, o->nlb, r->block_bytes);
		return -1;
	}
	/* Anonymous memory, written once now: its pages are ours, faulted
	 * in for writing, and fit to be registered. */
	r->data = mmap(NULL, r->data_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->data == MAP_FAILED) {
		r->data = NULL;
		return fail("data buffer", -errno);
	}
	if (r->meta_bytes) {
		ret = nvmeta_slots_create(in, r->meta_bytes, o->count, &r->slots);
		if (ret)
			return fail("metadata slots", ret);
	}
	if (o->fixed_buf) {
		ret = register_data(r, o);
		if (ret)
			return ret;
	}
	if (o->fixed_file) {
		ret = io_uring_register_files(&r->ring, &fd, 1);
		if (ret) {
			fprintf(stderr, PROG ": io_uring_register_files: %s\n", strerror(-ret));
			return -1;
		}
	}
	return 0;
}

static struct nvmeta_io command(const struct run *r, const struct options *o, uint8_t op,
				uint32_t i)
{
	struct nvmeta_io io = {
		.opcode = op, .slba = o->slba + (uint64_t)i * o->nlb, .nlb = o->nlb,
		.data = r->data + (size_t)i * o->nlb * r->block_bytes,
		.data_len = o->nlb * r->block_bytes,
		/* The slots were made ready when they were made. */
		.flags = NVMETA_IO_NO_PREFAULT,
	};

	if (r->meta_bytes) {
		io.meta = nvmeta_slot(r->slots, i);
		io.meta_len = r->meta_bytes;
	}
	if (o->fixed_file)
		io.flags |= NVMETA_IO_FIXED_FILE;	/* file_index 0 */
	if (o->fixed_buf) {
		io.flags |= NVMETA_IO_FIXED_BUF;
		io.buf_index = (uint16_t)(r->per_buf ? i / r->per_buf : 0);
	}
	return io;
}

/* Check the shape once, at both ends of the range: every command between
 * differs only in where it starts. */
static int validate_shape(const struct run *r, const struct options *o)
{
	struct nvmeta_io io;
	int ret, ends[2] = { 0, (int)o->count - 1 }, e;

	for (e = 0; e < 2; e++) {
		io = command(r, o, NVMETA_OP_WRITE, ends[e]);
		ret = nvmeta_io_validate(r->dev, &io);
		if (ret)
			return fail("command", ret);
	}
	return 0;
}

static unsigned char pattern(uint64_t lba, uint32_t off, bool meta)
{
	return (unsigned char)(lba * 131 + off * 7 + (meta ? 0x5a : 0x33) + (lba >> 8));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Keep up to depth commands in flight until all count completed. */
static int pass(struct run *r, const struct options *o, uint8_t op, double *ms)
{
	const int fd = o->fixed_file ? 0 : nvmeta_dev_fd(r->dev);
	uint32_t next = 0, done = 0, inflight = 0;
	double t0 = now_ms();
	struct nvmeta_status st;
	struct io_uring_cqe *cqe;
	struct nvmeta_io io;
	int ret;

	while (done < o->count) {
		while (next < o->count && inflight < o->depth) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

			if (!sqe)
				break;
			io = command(r, o, op, next);
			nvmeta_prep_cmd(sqe, fd, r->info, &io);
			sqe->user_data = next++;
			inflight++;
		}
		ret = io_uring_submit_and_wait(&r->ring, 1);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, PROG ": io_uring_submit_and_wait: %s\n", strerror(-ret));
			return -1;
		}
		while (!io_uring_peek_cqe(&r->ring, &cqe)) {
			uint64_t i = cqe->user_data;

			ret = nvmeta_status_decode(cqe, &st);
			io_uring_cqe_seen(&r->ring, cqe);
			if (ret) {
				fprintf(stderr, PROG ": %s of blocks %" PRIu64 "+%u: %s\n",
					op == NVMETA_OP_WRITE ? "write" : "read",
					o->slba + i * o->nlb, o->nlb, nvmeta_last_error());
				return -1;
			}
			inflight--;
			done++;
		}
	}
	*ms = now_ms() - t0;
	return 0;
}

/* Fill (write) or compare (read) every byte of data and metadata. */
static void walk(struct run *r, const struct options *o, bool fill)
{
	uint32_t i, b, off;

	for (i = 0; i < o->count; i++) {
		unsigned char *meta = r->meta_bytes ? nvmeta_slot(r->slots, i) : NULL;

		for (b = 0; b < o->nlb; b++) {
			uint64_t lba = o->slba + (uint64_t)i * o->nlb + b;
			unsigned char *d = r->data + ((size_t)i * o->nlb + b) * r->block_bytes;
			unsigned char *m = meta ? meta + (size_t)b * r->info->ms : NULL;

			for (off = 0; off < r->block_bytes; off++) {
				if (fill)
					d[off] = pattern(lba, off, false);
				else if (d[off] != pattern(lba, off, false) && !r->mismatches++) {
					r->first_bad_lba = lba;
					r->first_bad_where = "data";
				}
			}
			for (off = 0; m && off < r->info->ms; off++) {
				if (fill)
					m[off] = pattern(lba, off, true);
				else if (m[off] != pattern(lba, off, true) && !r->mismatches++) {
					r->first_bad_lba = lba;
					r->first_bad_where = "metadata";
				}
			}
		}
	}
}

static void clear(struct run *r, const struct options *o)
{
	uint32_t i;

	memset(r->data, 0xee, r->data_len);
	for (i = 0; r->meta_bytes && i < o->count; i++)
		memset(nvmeta_slot(r->slots, i), 0xee, r->meta_bytes);
}

static void report(const struct run *r, const struct options *o)
{
	const char *verdict = r->mismatches ? "FAIL" : "pass";
	uint64_t bytes = (uint64_t)o->count * o->nlb * (r->block_bytes + r->meta_bytes / o->nlb);

	if (o->json) {
		printf("{\"device\":\"%s\",\"kernel\":\"%s\",\"iopoll\":%s,\"sqpoll\":%s,"
		       "\"fixed_file\":%s,\"fixed_buf\":%s,\"features\":%u,\"commands\":%u,"
		       "\"blocks_per_command\":%u,\"bytes\":%" PRIu64 ",\"write_ms\":%.1f,"
		       "\"read_ms\":%.1f,\"mismatches\":%" PRIu64 ",\"result\":\"%s\"}\n",
		       r->info->generic_path, r->info->kernel.release, o->iopoll ? "true" : "false",
		       o->sqpoll ? "true" : "false", o->fixed_file ? "true" : "false",
		       o->fixed_buf ? "true" : "false", r->features, o->count, o->nlb, bytes,
		       r->write_ms, r->read_ms, r->mismatches, verdict);
		return;
	}
	printf("%-12s %s (kernel %s)\n", "device", r->info->generic_path, r->info->kernel.release);
	printf("%-12s%s%s%s%s%s\n", "ring", " SQE128|CQE32", o->iopoll ? " IOPOLL" : "",
	       o->sqpoll ? " SQPOLL" : "", o->fixed_file ? " fixed-file" : "",
	       o->fixed_buf ? " fixed-buf" : "");
	printf("%-12s %u x %u blocks, %" PRIu64 " bytes with metadata\n", "commands", o->count,
	       o->nlb, bytes);
	printf("%-12s write %.1f ms, read %.1f ms\n", "time", r->write_ms, r->read_ms);
	if (r->mismatches)
		printf("%-12s %s: %" PRIu64 " bytes differ, first in %s of LBA %" PRIu64 "\n",
		       "result", verdict, r->mismatches, r->first_bad_where, r->first_bad_lba);
	else
		printf("%-12s %s: data and metadata read back byte-exact\n", "result", verdict);
}

static void finish(struct run *r)
{
	if (r->ring_up)
		io_uring_queue_exit(&r->ring);
	nvmeta_slots_destroy(r->slots);
	if (r->data)
		munmap(r->data, r->data_len);
	nvmeta_dev_close(r->dev);
}

static int run(struct run *r, const struct options *o)
{
	struct nvmeta_io probe = { .opcode = NVMETA_OP_WRITE, .nlb = o->nlb };
	int ret;

	ret = nvmeta_dev_open(o->path, &r->dev);
	if (ret)
		return fail(o->path, ret);
	r->info = nvmeta_dev_info(r->dev);
	r->block_bytes = nvmeta_io_block_bytes(r->info, &probe);
	r->meta_bytes = r->info->extended_lba ? 0 : o->nlb * r->info->ms;
	if (ring_up(r, o) || buffers_up(r, o) || validate_shape(r, o))
		return -1;
	walk(r, o, true);
	if (pass(r, o, NVMETA_OP_WRITE, &r->write_ms))
		return -1;
	clear(r, o);
	if (pass(r, o, NVMETA_OP_READ, &r->read_ms))
		return -1;
	walk(r, o, false);
	report(r, o);
	return r->mismatches ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct run r = { 0 };
	int ret;

	if (parse(argc, argv, &o))
		return usage(2);
	if (NVMETA_VERSION_CHECK()) {
		fprintf(stderr, PROG ": %s\n", nvmeta_last_error());
		return 1;
	}
	ret = run(&r, &o);
	finish(&r);
	return ret < 0 ? 1 : ret;
}
