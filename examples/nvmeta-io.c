// SPDX-License-Identifier: MIT
/*
 * nvmeta-io: one NVMe read or write with a separate metadata buffer laid
 * out as asked, data and metadata from or to files; the role of
 * `nvme read/write --metadata`, plus the path the kernel is predicted to
 * take for each buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nvmeta.h"
#include "report.h"

struct options {
	const char *path, *data_file, *meta_file;
	struct nvmeta_io io;
	struct nvmeta_buf_spec meta_spec, data_spec;
	bool json;
};

static const struct { const char *name; enum nvmeta_layout layout; } layouts[] = {
	{ "pinned", NVMETA_LAYOUT_PINNED }, { "misaligned", NVMETA_LAYOUT_MISALIGNED },
	{ "fragmented", NVMETA_LAYOUT_FRAGMENTED }, { "huge-span", NVMETA_LAYOUT_HUGE_SPAN },
	{ "page", NVMETA_LAYOUT_PAGE }, { "malloc", NVMETA_LAYOUT_MALLOC },
};

static const struct { const char *name; uint8_t op; } ops[] = {
	{ "read", NVMETA_OP_READ }, { "write", NVMETA_OP_WRITE },
	{ "compare", NVMETA_OP_COMPARE }, { "write-zeroes", NVMETA_OP_WRITE_ZEROES },
	{ "verify", NVMETA_OP_VERIFY },
};

static int parse_layout(const char *s, struct nvmeta_buf_spec *spec)
{
	size_t i;

	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (!strcmp(s, layouts[i].name)) {
			spec->layout = layouts[i].layout;
			return 0;
		}
	}
	fprintf(stderr, "nvmeta-io: unknown layout '%s'\n", s);
	return -1;
}

static int parse_op(const char *s, uint8_t *op)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!strcmp(s, ops[i].name)) {
			*op = ops[i].op;
			return 0;
		}
	}
	fprintf(stderr, "nvmeta-io: unknown command '%s'\n", s);
	return -1;
}

static bool is_write(uint8_t op)
{
	return op == NVMETA_OP_WRITE || op == NVMETA_OP_COMPARE;
}

static bool moves_data(uint8_t op)
{
	return is_write(op) || op == NVMETA_OP_READ;
}

/* Exactly @len bytes from @file into @dst: a short file is an error,
 * never silently padded. */
static int load(const char *file, void *dst, size_t len)
{
	ssize_t n;
	int fd = open(file, O_RDONLY);

	if (fd < 0) {
		fprintf(stderr, "nvmeta-io: %s: %s\n", file, strerror(errno));
		return -1;
	}
	n = read(fd, dst, len);
	close(fd);
	if (n != (ssize_t)len) {
		fprintf(stderr, "nvmeta-io: %s has %zd bytes, the command needs %zu\n", file,
			n < 0 ? 0 : n, len);
		return -1;
	}
	return 0;
}

static int store(const char *file, const void *src, size_t len)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "nvmeta-io: %s: %s\n", file, strerror(errno));
		return -1;
	}
	n = write(fd, src, len);
	close(fd);
	if (n != (ssize_t)len) {
		fprintf(stderr, "nvmeta-io: writing %s failed\n", file);
		return -1;
	}
	return 0;
}

static int alloc_buffer(const struct nvmeta_dev_info *in, struct nvmeta_buf_spec *spec,
			size_t len, bool data, struct nvmeta_buf **buf, struct report *r,
			const char *section)
{
	struct nvmeta_prediction p;

	spec->len = len;
	spec->flags |= NVMETA_BUF_CANARY | (data ? NVMETA_BUF_DATA : 0);
	if (nvmeta_buf_alloc(in, spec, buf)) {
		fprintf(stderr, "nvmeta-io: %s buffer: %s\n", section, nvmeta_last_error());
		return -1;
	}
	nvmeta_predict(in, data ? NVMETA_KIND_DATA : NVMETA_KIND_META, (*buf)->addr, len, &p);
	report_section(r, section);
	report_str(r, "layout", nvmeta_layout_name((*buf)->layout));
	report_u64(r, "bytes", len);
	report_hex(r, "address", (uintptr_t)(*buf)->addr);
	report_str(r, "predicted_path", nvmeta_path_name(p.path));
	report_str(r, "reason", p.reason);
	if ((*buf)->note[0])
		report_str(r, "note", (*buf)->note);
	report_section_end(r);
	return 0;
}

static int run(struct options *o, struct nvmeta_dev *dev, struct report *r)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(dev);
	size_t dlen = (size_t)o->io.nlb * (in->lba_size + (in->extended_lba ? in->ms : 0));
	size_t mlen = (size_t)o->io.nlb * in->ms;
	bool want_meta = moves_data(o->io.opcode) && in->ms && !in->extended_lba && o->meta_file;
	struct nvmeta_buf *data = NULL, *meta = NULL;
	struct nvmeta_status st = { 0 };
	struct io_uring ring;
	int ret = 1;

	if (moves_data(o->io.opcode)) {
		if (!o->data_file) {
			fprintf(stderr, "nvmeta-io: --data FILE is required for this command\n");
			return 1;
		}
		if (alloc_buffer(in, &o->data_spec, dlen, true, &data, r, "data"))
			goto out;
		o->io.data = data->addr;
		o->io.data_len = dlen;
		if (is_write(o->io.opcode) && load(o->data_file, data->addr, dlen))
			goto out;
	}
	if (want_meta) {
		if (alloc_buffer(in, &o->meta_spec, mlen, false, &meta, r, "metadata"))
			goto out;
		o->io.meta = meta->addr;
		o->io.meta_len = mlen;
		if (is_write(o->io.opcode) && load(o->meta_file, meta->addr, mlen))
			goto out;
	}
	if (nvmeta_ring_init(&ring, 4)) {
		fprintf(stderr, "nvmeta-io: %s\n", nvmeta_last_error());
		goto out;
	}
	ret = nvmeta_io_sync(dev, &ring, &o->io, &st);
	io_uring_queue_exit(&ring);
	report_section(r, "completion");
	report_str(r, "result", ret ? nvmeta_last_error() : "success");
	report_hex(r, "nvme_status", st.status);
	report_str(r, "status_name", nvmeta_status_name(&st));
	report_bool(r, "dnr", st.dnr);
	report_section_end(r);
	if (ret) {
		fprintf(stderr, "nvmeta-io: %s\n", nvmeta_last_error());
		ret = 1;
		goto out;
	}
	if (o->io.opcode == NVMETA_OP_READ &&
	    (store(o->data_file, data->addr, dlen) ||
	     (meta && store(o->meta_file, meta->addr, mlen))))
		ret = 1;
out:
	nvmeta_buf_free(data);
	nvmeta_buf_free(meta);
	return ret;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: nvmeta-io DEVICE read|write|compare|verify|write-zeroes [options]\n"
		"  -s, --slba N            first block (default 0)\n"
		"  -c, --nlb N             number of blocks, 1-based (default 1)\n"
		"  -d, --data FILE         data to write, or where the read lands\n"
		"  -m, --metadata FILE     metadata to write, or where it lands\n"
		"  -L, --layout NAME       metadata layout: pinned page misaligned fragmented\n"
		"                          huge-span malloc (default page)\n"
		"  -o, --offset N          bytes into the page (page, misaligned)\n"
		"  -b, --fallback          fragmented metadata too small to fragment: misaligned\n"
		"  -D, --data-layout NAME  data buffer layout (default pinned)\n"
		"  -p, --prinfo N          PRACT (8) and PRCHK bits (4 guard, 2 app, 1 ref)\n"
		"  -r, --ref-tag N         -a, --app-tag N    -M, --app-tag-mask N\n"
		"  -F, --fua               force unit access\n"
		"  -R, --raw               skip validation: for testing kernels only\n"
		"  -j, --json              print JSON\n");
}

static int parse_opts(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "slba", 1, NULL, 's' }, { "nlb", 1, NULL, 'c' }, { "data", 1, NULL, 'd' },
		{ "metadata", 1, NULL, 'm' }, { "layout", 1, NULL, 'L' }, { "offset", 1, NULL, 'o' },
		{ "data-layout", 1, NULL, 'D' }, { "prinfo", 1, NULL, 'p' },
		{ "ref-tag", 1, NULL, 'r' }, { "app-tag", 1, NULL, 'a' },
		{ "app-tag-mask", 1, NULL, 'M' }, { "fua", 0, NULL, 'F' }, { "raw", 0, NULL, 'R' },
		{ "json", 0, NULL, 'j' }, { "help", 0, NULL, 'h' }, { "fallback", 0, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->io.nlb = 1;
	o->meta_spec.layout = NVMETA_LAYOUT_PAGE;
	o->data_spec.layout = NVMETA_LAYOUT_PINNED;
	while ((c = getopt_long(argc, argv, "s:c:d:m:L:o:D:p:r:a:M:FRjhb", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->io.slba = strtoull(optarg, NULL, 0); break;
		case 'c': o->io.nlb = strtoul(optarg, NULL, 0); break;
		case 'd': o->data_file = optarg; break;
		case 'm': o->meta_file = optarg; break;
		case 'L': if (parse_layout(optarg, &o->meta_spec)) return -1; break;
		case 'o': o->meta_spec.offset = strtoul(optarg, NULL, 0); break;
		case 'D': if (parse_layout(optarg, &o->data_spec)) return -1; break;
		case 'p': o->io.prinfo = strtoul(optarg, NULL, 0); break;
		case 'r': o->io.reftag = strtoull(optarg, NULL, 0); break;
		case 'a': o->io.apptag = strtoul(optarg, NULL, 0); break;
		case 'M': o->io.appmask = strtoul(optarg, NULL, 0); break;
		case 'F': o->io.flags |= NVMETA_IO_FUA; break;
		case 'R': o->io.flags |= NVMETA_IO_RAW; break;
		case 'j': o->json = true; break;
		case 'b': o->meta_spec.flags |= NVMETA_BUF_FALLBACK; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind + 2 != argc)
		return -1;
	o->path = argv[optind];
	return parse_op(argv[optind + 1], &o->io.opcode);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct nvmeta_dev *dev;
	struct report r;
	int ret;

	if (parse_opts(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (nvmeta_dev_open(o.path, &dev)) {
		fprintf(stderr, "nvmeta-io: %s\n", nvmeta_last_error());
		return 1;
	}
	report_begin(&r, stdout, o.json);
	report_str(&r, "device", nvmeta_dev_info(dev)->generic_path);
	ret = run(&o, dev, &r);
	report_end(&r);
	nvmeta_dev_close(dev);
	return ret;
}
