// SPDX-License-Identifier: MIT
/*
 * nvmeta-io: one NVMe read or write with a separate metadata buffer laid
 * out as asked, data and metadata from or to files; the role of
 * `nvme read/write --metadata`, plus the path the kernel is predicted to
 * take for each buffer.  On a namespace with protection information it
 * generates PI on the host for a write (--pi-gen), corrupts one field of
 * it on purpose (--inject), and verifies a read's (--pi-check).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "args.h"
#include "nvmeta.h"
#include "report.h"

/* A data or metadata file, opened and checked before the device is. */
struct file {
	const char *path;
	const char *opt;	/* the option that named it */
	int fd;
	bool regular;		/* truncated to the result's length after a read */
	bool created;		/* by this run: removed again when the read fails */
};

/* Host PI work asked for on the command line, and what came of it. */
struct pi_opts {
	bool gen, check;		/* --pi-gen, --pi-check */
	bool ref_given, mask_given;	/* -r, -m: else defaults fit for PI */
	bool own_meta;			/* a metadata buffer without a file */
	const char *inject_text;	/* --inject's argument, for messages */
	uint64_t inject_lba;
	bool inject_lba_given;
	struct nvmeta_pi_injection inj;	/* field NONE: no injection */
	bool has_pi;			/* the namespace's format has PI */
	struct nvmeta_pi_format fmt;
	const char *verdict;		/* --pi-check: pass, fail, not run */
	struct nvmeta_pi_report rep;
};

struct options {
	const char *path, *op_name;
	struct file data, meta;
	struct nvmeta_io io;
	struct nvmeta_buf_spec meta_spec, data_spec;
	struct pi_opts pi;
	unsigned int iovecs;		/* --iovecs: the data as that many iovecs */
	bool json;
};

/* Long options without a short one, in nvme-cli's manner. */
enum {
	OPT_PI_GEN = 0x100,
	OPT_PI_CHECK,
	OPT_INJECT,
	OPT_IOVECS,
};

static const struct { const char *name; enum nvmeta_pi_field field; } inject_fields[] = {
	{ "guard", NVMETA_PI_FIELD_GUARD }, { "app", NVMETA_PI_FIELD_APP },
	{ "ref", NVMETA_PI_FIELD_REF }, { "storage", NVMETA_PI_FIELD_STORAGE },
	{ "data", NVMETA_PI_FIELD_DATA },
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

static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "is a directory";
	if (S_ISFIFO(mode))
		return "is a FIFO";
	if (S_ISSOCK(mode))
		return "is a socket";
	return "is not a regular file or a device";
}

/* The type of what @f->path names, when open() refused it or opened
 * something the tool cannot use: a directory, a FIFO (which would block
 * open() or the transfer), a socket. */
static int refuse_type(const struct file *f, mode_t mode)
{
	fprintf(stderr, "nvmeta-io: %s: %s; %s needs a regular file or a device\n", f->path,
		file_kind(mode), f->opt);
	return -1;
}

/*
 * Open @f before the device and before any I/O, so that a file the tool
 * cannot use is refused with its real reason while nothing has happened
 * yet.  O_NONBLOCK keeps a FIFO from blocking open(); fstat then refuses
 * it.  An output file is not truncated here: a read that fails leaves it
 * as it was (and removes it when this run created it).
 */
static int open_file(struct file *f, bool out)
{
	int flags = (out ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC;
	struct stat st;
	int err;

	f->fd = -1;
	if (!f->path)
		return 0;
	f->fd = open(f->path, flags);
	if (f->fd < 0 && out && errno == ENOENT) {
		f->fd = open(f->path, flags | O_CREAT | O_EXCL, 0644);
		f->created = f->fd >= 0;
	}
	if (f->fd < 0) {
		err = errno;
		/* EISDIR (a directory opened for writing) and ENXIO (a FIFO
		 * without a reader) say less than the type does. */
		if ((err == EISDIR || err == ENXIO) && !stat(f->path, &st) &&
		    !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
			return refuse_type(f, st.st_mode);
		fprintf(stderr, "nvmeta-io: %s: %s\n", f->path, strerror(err));
		return -1;
	}
	if (fstat(f->fd, &st)) {
		fprintf(stderr, "nvmeta-io: %s: %s\n", f->path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return refuse_type(f, st.st_mode);
	f->regular = S_ISREG(st.st_mode);
	/* Blocking from here on: a character device may need to wait. */
	if (fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK)) {
		fprintf(stderr, "nvmeta-io: %s: %s\n", f->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void close_file(struct file *f, bool failed)
{
	if (f->fd < 0)
		return;
	close(f->fd);
	f->fd = -1;
	if (failed && f->created)
		unlink(f->path);
}

/* Exactly @len bytes from @f into @dst: a short file is an error, never
 * silently padded.  read() may return less than asked of any file. */
static int load(const struct file *f, void *dst, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(f->fd, (char *)dst + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "nvmeta-io: reading %s: %s\n", f->path, strerror(errno));
			return -1;
		}
		if (!n) {
			fprintf(stderr, "nvmeta-io: %s has %zu bytes, the command needs %zu\n",
				f->path, done, len);
			return -1;
		}
		done += n;
	}
	return 0;
}

/* All @len bytes to @f, then cut a regular file to that length: the
 * file was opened without truncation so that a failed read keeps it. */
static int store(struct file *f, const void *src, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(f->fd, (const char *)src + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "nvmeta-io: writing %s: %s (%zu of %zu bytes written)\n",
				f->path, n ? strerror(errno) : "no progress", done, len);
			return -1;
		}
		done += n;
	}
	if (f->regular && ftruncate(f->fd, len)) {
		fprintf(stderr, "nvmeta-io: truncating %s: %s\n", f->path, strerror(errno));
		return -1;
	}
	/* close() is where a delayed write error (NFS, quota) shows. */
	n = close(f->fd);
	f->fd = -1;
	if (n) {
		fprintf(stderr, "nvmeta-io: writing %s: %s\n", f->path, strerror(errno));
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

/* -M names a file only where metadata travels in a buffer of its own. */
static int check_meta_applies(const struct options *o, const struct nvmeta_dev_info *in)
{
	if (!o->meta.path)
		return 0;
	if (in->extended_lba) {
		fprintf(stderr, "nvmeta-io: -M/--metadata: %s is formatted %u+%u with extended LBAs: "
			"the metadata travels inside each block of the data file (-d), not in a "
			"file of its own\n", in->generic_path, in->lba_size, in->ms);
		return -1;
	}
	if (!in->ms) {
		fprintf(stderr, "nvmeta-io: -M/--metadata: %s is formatted %u+0: no metadata\n",
			in->generic_path, in->lba_size);
		return -1;
	}
	return 0;
}

/*
 * Judge the command before any buffer exists, so that a bad block count
 * or range gets the library's message, not one about allocating or
 * pinning the buffers it would need.  Validation looks at whether the
 * pointers are NULL and never dereferences them: a placeholder address
 * stands in until the real buffers are allocated.
 */
static int validate_early(struct options *o, struct nvmeta_dev *dev, uint64_t dlen,
			  uint64_t mlen)
{
	static char placeholder;
	int ret;

	if (dlen > UINT32_MAX || mlen > UINT32_MAX) {
		fprintf(stderr, "nvmeta-io: -c/--nlb %u: %" PRIu64 " bytes, more than a command's "
			"32-bit length\n", o->io.nlb, dlen);
		return -1;
	}
	if (o->data.path) {
		o->io.data = &placeholder;
		o->io.data_len = dlen;
	}
	if (o->meta.path || o->pi.own_meta) {
		o->io.meta = &placeholder;
		o->io.meta_len = mlen;
	}
	ret = nvmeta_io_validate(dev, &o->io);
	if (ret) {
		fprintf(stderr, "nvmeta-io: %s%s\n", nvmeta_last_error(),
			ret == -ENODATA ? ": give it with -M FILE" : "");
		return -1;
	}
	o->io.data = NULL;
	o->io.meta = NULL;
	return 0;
}

/* Buffers for the command, filled from the files for a write. */
static int prepare(struct options *o, const struct nvmeta_dev_info *in, struct report *r,
		   struct nvmeta_buf **data, struct nvmeta_buf **meta)
{
	if (o->data.path) {
		if (alloc_buffer(in, &o->data_spec, o->io.data_len, true, data, r, "data"))
			return -1;
		o->io.data = (*data)->addr;
		if (is_write(o->io.opcode) && load(&o->data, (*data)->addr, o->io.data_len))
			return -1;
	}
	if (o->meta.path || o->pi.own_meta) {
		if (alloc_buffer(in, &o->meta_spec, o->io.meta_len, false, meta, r, "metadata"))
			return -1;
		o->io.meta = (*meta)->addr;
		/* Without a file, the bytes beside the PI are zeros: with PI
		 * last they are under the guard, so they must be defined. */
		if (!o->meta.path)
			memset((*meta)->addr, 0, o->io.meta_len);
		else if (is_write(o->io.opcode) && load(&o->meta, (*meta)->addr, o->io.meta_len))
			return -1;
	}
	return 0;
}

static const char *pi_option(const struct options *o)
{
	return o->pi.gen ? "--pi-gen" : "--pi-check";
}

/* The reference tag of a range at @slba when -r is not given: types 1 and
 * 2 take the low bits of the LBA (type 1 must: the device checks it
 * against the LBA), type 3 has no rule and gets 0. */
static uint64_t default_ref_tag(const struct nvmeta_pi_format *f, uint64_t slba)
{
	unsigned int space = f->guard_bits == 32 ? 80 : f->guard_bits == 64 ? 48 : 32;
	unsigned int bits = space - f->sts;

	if (f->pi_type == 3)
		return 0;
	return bits >= 64 ? slba : slba & ((1ull << bits) - 1);
}

/*
 * Once the namespace is known and before any buffer exists: refuse host
 * PI work on a format without PI, and fill in the defaults.  The library
 * generates PI itself (NVMETA_IO_PI_GENERATE) unless a field is to be
 * corrupted: then the tool generates, corrupts, and submits as it is.
 */
static int pi_setup(struct options *o, const struct nvmeta_dev_info *in)
{
	struct pi_opts *p = &o->pi;

	p->has_pi = !nvmeta_pi_format_of(in, &p->fmt);
	if (!p->gen && !p->check)
		return 0;
	if (!p->has_pi) {
		fprintf(stderr, "nvmeta-io: %s: %s\n", pi_option(o), nvmeta_last_error());
		return -1;
	}
	if (p->inj.field == NVMETA_PI_FIELD_STORAGE && !p->fmt.sts) {
		fprintf(stderr, "nvmeta-io: --inject %s: %s is formatted %u+%u with no storage tag\n",
			p->inject_text, in->generic_path, in->lba_size, in->ms);
		return -1;
	}
	if (!p->ref_given)
		o->io.reftag = default_ref_tag(&p->fmt, o->io.slba);
	if (!p->mask_given)
		o->io.appmask = 0xffff;
	p->own_meta = !in->extended_lba && !o->meta.path;
	if (p->check)
		o->io.flags |= NVMETA_IO_PI_VERIFY;
	if (p->gen && !p->inj.field)
		o->io.flags |= NVMETA_IO_PI_GENERATE;
	return 0;
}

/* --inject: generate the PI here, then corrupt the one field. */
static int pi_inject(struct options *o)
{
	struct nvmeta_pi_tags t = {
		.ref_tag = o->io.reftag, .storage_tag = o->io.storage_tag,
		.app_tag = o->io.apptag,
	};
	struct pi_opts *p = &o->pi;

	if (!p->inj.field)
		return 0;
	if (nvmeta_pi_generate(&p->fmt, o->io.data, o->io.meta, o->io.nlb, &t) ||
	    nvmeta_pi_inject(&p->fmt, o->io.data, o->io.meta, o->io.nlb, &p->inj)) {
		fprintf(stderr, "nvmeta-io: --inject %s: %s\n", p->inject_text, nvmeta_last_error());
		return -1;
	}
	return 0;
}

/*
 * --pi-check: the library verified the read (NVMETA_IO_PI_VERIFY) and
 * judged it by @ret; nvmeta_io_sync() keeps its report to itself, so the
 * same check runs again here for the counts and the mismatch to print.
 */
static void pi_judge(struct options *o, int ret)
{
	struct nvmeta_pi_tags t = {
		.ref_tag = o->io.reftag, .storage_tag = o->io.storage_tag,
		.app_tag = o->io.apptag, .app_mask = o->io.appmask,
		.checks = NVMETA_PI_CHECK_ALL,
	};
	struct pi_opts *p = &o->pi;

	if (!p->check)
		return;
	p->verdict = "not run";
	if (ret && ret != -EILSEQ)
		return;
	nvmeta_pi_verify(&p->fmt, o->io.data, o->io.meta, o->io.nlb, &t, &p->rep);
	p->verdict = ret ? "fail" : "pass";
}

static void report_pi(struct report *r, const struct options *o)
{
	const struct pi_opts *p = &o->pi;

	report_section(r, "protection");
	report_u64(r, "pi_type", p->fmt.pi_type);
	report_u64(r, "guard_bits", p->fmt.guard_bits);
	report_str(r, "pi_position", p->fmt.pi_first ? "first" : "last");
	report_u64(r, "storage_tag_bits", p->fmt.sts);
	report_hex(r, "ref_tag", o->io.reftag);
	report_hex(r, "app_tag", o->io.apptag);
	report_hex(r, "app_tag_mask", o->io.appmask);
	report_hex(r, "storage_tag", o->io.storage_tag);
	report_hex(r, "prinfo", o->io.prinfo);
	report_bool(r, "generated", p->gen);
	if (p->gen)
		report_str(r, "generated_by", p->inj.field ? "nvmeta-io" : "library");
	report_str(r, "injected", p->inj.field ? nvmeta_pi_field_name(p->inj.field) : "none");
	if (p->inj.field) {
		report_u64(r, "injected_lba", o->io.slba + p->inj.block);
		if (p->inj.field == NVMETA_PI_FIELD_DATA)
			report_u64(r, "injected_byte", p->inj.offset);
		report_str(r, "injected_how", "lowest bit inverted");
	}
	report_str(r, "verified", p->check ? p->verdict : "not asked");
	if (p->check && strcmp(p->verdict, "not run")) {
		report_u64(r, "unwritten", p->rep.unwritten);
		report_u64(r, "escaped", p->rep.escaped);
	}
	if (p->check && !strcmp(p->verdict, "fail")) {
		report_u64(r, "mismatch_lba", o->io.slba + p->rep.block);
		report_str(r, "mismatch_field", nvmeta_pi_field_name(p->rep.field));
		report_hex(r, "expected", p->rep.expected);
		report_hex(r, "found", p->rep.found);
	}
	report_section_end(r);
}

static void report_completion(struct report *r, const char *result,
			      const struct nvmeta_status *st)
{
	report_section(r, "completion");
	report_str(r, "result", result);
	report_hex(r, "nvme_status", st->status);
	report_str(r, "status_name", nvmeta_status_name(st));
	report_bool(r, "dnr", st->dnr);
	report_section_end(r);
}

/*
 * --iovecs N: the data buffer cut into N pieces of nearly equal length,
 * sent as NVMETA_IO_VEC.  The cuts fall where the division puts them,
 * inside blocks as often as not: the library checks the list, predicts
 * the path for the whole of it, and generates or verifies host PI over
 * the pieces.  The caller keeps the array until the command completed.
 */
static int cut_data(struct options *o, const struct nvmeta_dev_info *in, struct report *r,
		    struct iovec **iov)
{
	size_t len = o->io.data_len, base = len / o->iovecs, at = 0;
	struct nvmeta_prediction p;
	unsigned int i;

	if (o->iovecs > len) {
		fprintf(stderr, "nvmeta-io: --iovecs %u: more pieces than the %zu bytes of data\n",
			o->iovecs, len);
		return -1;
	}
	*iov = calloc(o->iovecs, sizeof(**iov));
	if (!*iov) {
		fprintf(stderr, "nvmeta-io: --iovecs %u: out of memory\n", o->iovecs);
		return -1;
	}
	for (i = 0; i < o->iovecs; i++) {
		size_t n = base + (i < len % o->iovecs);

		(*iov)[i] = (struct iovec){ (char *)o->io.data + at, n };
		at += n;
	}
	nvmeta_predict_iov(in, *iov, o->iovecs, &p);
	report_section(r, "iovecs");
	report_u64(r, "count", o->iovecs);
	report_u64(r, "first_bytes", (*iov)[0].iov_len);
	report_str(r, "predicted_path", nvmeta_path_name(p.path));
	report_str(r, "reason", p.reason);
	report_section_end(r);
	o->io.data = *iov;
	o->io.data_len = o->iovecs;
	o->io.flags |= NVMETA_IO_VEC;
	return 0;
}

/* The flat buffer back in the command, for the host's own PI check and
 * the file the read lands in. */
static void uncut_data(struct options *o, const struct nvmeta_buf *data, uint64_t dlen)
{
	if (!(o->io.flags & NVMETA_IO_VEC))
		return;
	o->io.flags &= ~NVMETA_IO_VEC;
	o->io.data = data->addr;
	o->io.data_len = dlen;
}

static int run(struct options *o, struct nvmeta_dev *dev, struct report *r)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(dev);
	uint64_t dlen = (uint64_t)o->io.nlb * nvmeta_io_block_bytes(in, &o->io);
	uint64_t mlen = (uint64_t)o->io.nlb * in->ms;
	struct nvmeta_buf *data = NULL, *meta = NULL;
	struct nvmeta_status st = { 0 };
	struct iovec *iov = NULL;
	struct io_uring ring;
	char why[512];
	int ret = 1;

	if (check_meta_applies(o, in) || pi_setup(o, in) || validate_early(o, dev, dlen, mlen))
		return 2;
	if (prepare(o, in, r, &data, &meta))
		goto out;
	if (pi_inject(o))
		goto out;
	if (o->iovecs && cut_data(o, in, r, &iov)) {
		ret = 2;
		goto out;
	}
	if (nvmeta_ring_init(&ring, 4)) {
		fprintf(stderr, "nvmeta-io: %s\n", nvmeta_last_error());
		goto out;
	}
	ret = nvmeta_io_sync(dev, &ring, &o->io, &st);
	io_uring_queue_exit(&ring);
	uncut_data(o, data, dlen);
	/* Kept before pi_judge() calls the library again: the message of
	 * the command's own failure is the one to print. */
	snprintf(why, sizeof(why), "%s", ret ? nvmeta_last_error() : "success");
	pi_judge(o, ret);
	report_completion(r, why, &st);
	if (o->pi.has_pi)
		report_pi(r, o);
	if (ret) {
		fprintf(stderr, "nvmeta-io: %s\n", why);
		ret = 1;
		goto out;
	}
	if (o->io.opcode == NVMETA_OP_READ &&
	    ((data && store(&o->data, data->addr, o->io.data_len)) ||
	     (meta && o->meta.path && store(&o->meta, meta->addr, o->io.meta_len))))
		ret = 1;
out:
	free(iov);
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
		"  -d, --data FILE         data to write, or where the read lands (read,\n"
		"                          write, compare; a regular file or a device)\n"
		"  -M, --metadata FILE     metadata to write, or where it lands (formats\n"
		"                          with separate metadata only; with --pi-gen or\n"
		"                          --pi-check it may be left out: zeros beside the PI)\n"
		"  -L, --layout NAME       metadata layout: pinned page misaligned fragmented\n"
		"                          huge-span malloc (default page)\n"
		"  -o, --offset N          bytes into the page (page, misaligned)\n"
		"  -b, --fallback          fragmented metadata too small to fragment: misaligned\n"
		"  -D, --data-layout NAME  data buffer layout (default pinned)\n"
		"  -p, --prinfo N          PRACT (8) and PRCHK bits (4 guard, 2 app, 1 ref)\n"
		"  -r, --ref-tag N         reference tag of the first block (with --pi-gen or\n"
		"                          --pi-check: default the LBA's low bits, type 3: 0)\n"
		"  -a, --app-tag N         application tag\n"
		"  -m, --app-tag-mask N    application tag bits checked (with --pi-gen or\n"
		"                          --pi-check: default 0xffff)\n"
		"  -S, --storage-tag N     storage tag (formats with one)\n"
		"      --pi-gen            write: generate the PI on the host from the tags\n"
		"      --pi-check          read: verify the PI on the host against the tags\n"
		"      --inject FIELD[:LBA]  with --pi-gen: corrupt guard, app, ref, storage\n"
		"                          or data (byte 0) of block LBA (default: the first)\n"
		"                          after generation, inverting its lowest bit;\n"
		"                          once a command\n"
		"      --iovecs N          send the data as N iovecs of nearly equal\n"
		"                          length (NVMETA_IO_VEC; cuts may fall inside blocks)\n"
		"  -F, --fua               force unit access\n"
		"  -R, --raw               skip validation: for testing kernels only\n"
		"  -j, --json              print JSON\n"
		"exit status: 0 done, 1 the device or the command failed (or --pi-check\n"
		"found a mismatch), 2 refused before any I/O (options, files, or the\n"
		"library's validation)\n");
}

static int num(const char *opt, uint64_t max, uint64_t *val)
{
	return args_u64("nvmeta-io", opt, optarg, 0, max, val);
}

/* 1 to UIO_MAXIOV pieces: the kernel imports no more. */
static int parse_iovecs(struct options *o)
{
	uint64_t v;

	if (args_u64("nvmeta-io", "--iovecs", optarg, 1, 1024, &v))
		return -1;
	o->iovecs = (unsigned int)v;
	return 0;
}

/* Each number is range-checked against the field it goes into.  nlb's
 * field is 32 bits wide; 1..65536 is the library's check (EDOM), and the
 * reference tag's width per format is the library's too. */
static int parse_number(int c, struct options *o)
{
	uint64_t v = 0;
	int ret = 0;

	switch (c) {
	case 's': ret = num("-s/--slba", UINT64_MAX, &v); o->io.slba = v; break;
	case 'c': ret = num("-c/--nlb", UINT32_MAX, &v); o->io.nlb = v; break;
	case 'o': ret = num("-o/--offset", sysconf(_SC_PAGESIZE) - 1, &v);
		  o->meta_spec.offset = v; break;
	case 'p': ret = num("-p/--prinfo", 15, &v); o->io.prinfo = v; break;
	case 'r': ret = num("-r/--ref-tag", UINT64_MAX, &v); o->io.reftag = v;
		  o->pi.ref_given = true; break;
	case 'a': ret = num("-a/--app-tag", 0xffff, &v); o->io.apptag = v; break;
	case 'm': ret = num("-m/--app-tag-mask", 0xffff, &v); o->io.appmask = v;
		  o->pi.mask_given = true; break;
	case 'S': ret = num("-S/--storage-tag", UINT64_MAX, &v); o->io.storage_tag = v; break;
	}
	return ret;
}

/* One --inject FIELD[:LBA] alone: which field, and the LBA if given. */
static int parse_inject_one(const char *text, enum nvmeta_pi_field *field, bool *lba_given,
			    uint64_t *lba)
{
	const char *colon = strchr(text, ':');
	size_t len = colon ? (size_t)(colon - text) : strlen(text);
	size_t i;

	*field = NVMETA_PI_FIELD_NONE;
	for (i = 0; i < sizeof(inject_fields) / sizeof(inject_fields[0]); i++) {
		if (strlen(inject_fields[i].name) == len &&
		    !strncmp(text, inject_fields[i].name, len)) {
			*field = inject_fields[i].field;
			break;
		}
	}
	if (!*field) {
		fprintf(stderr, "nvmeta-io: --inject '%s': unknown field; give guard, app, ref, "
			"storage or data, optionally with :LBA\n", text);
		return -1;
	}
	*lba_given = colon;
	if (!colon)
		return 0;
	return args_u64("nvmeta-io", "--inject LBA", colon + 1, 0, UINT64_MAX, lba);
}

/*
 * --inject FIELD[:LBA]; the LBA is checked against the range once every
 * option is known.  One --inject a command: the library corrupts one
 * field a call (nvmeta_pi_inject()), so a second one is refused rather
 * than merged with the first or silently preferred.  Each is parsed whole
 * first, so that a bad second one is named for what is wrong with it.
 */
static int parse_inject(const char *text, struct options *o)
{
	struct pi_opts *p = &o->pi;
	enum nvmeta_pi_field field;
	bool lba_given;
	uint64_t lba = 0;

	if (parse_inject_one(text, &field, &lba_given, &lba))
		return -1;
	if (p->inject_text) {
		fprintf(stderr, "nvmeta-io: --inject '%s': given twice (first '%s'); one field is "
			"corrupted a command\n", text, p->inject_text);
		return -1;
	}
	p->inject_text = text;
	p->inj.field = field;
	p->inject_lba_given = lba_given;
	p->inject_lba = lba;
	return 0;
}

/* Host PI options against the command, before the device is opened. */
static int check_pi_options(struct options *o)
{
	struct pi_opts *p = &o->pi;
	uint64_t lba = p->inject_lba_given ? p->inject_lba : o->io.slba;

	if (p->gen && !is_write(o->io.opcode)) {
		fprintf(stderr, "nvmeta-io: --pi-gen: generation is for the data a command "
			"sends (write, compare), not for %s; --pi-check verifies a read\n",
			o->op_name);
		return -1;
	}
	if (p->check && o->io.opcode != NVMETA_OP_READ) {
		fprintf(stderr, "nvmeta-io: --pi-check: verification is for reads, not for %s; "
			"--pi-gen generates a write's PI\n", o->op_name);
		return -1;
	}
	if (p->inj.field && !p->gen) {
		fprintf(stderr, "nvmeta-io: --inject %s: needs --pi-gen (the field is corrupted "
			"in the PI this tool generates)\n", p->inject_text);
		return -1;
	}
	if ((p->gen || p->check) && (o->io.prinfo & NVMETA_PRACT)) {
		fprintf(stderr, "nvmeta-io: %s: -p/--prinfo %u sets PRACT (8): the controller "
			"inserts and strips the PI, the host has none to %s\n", pi_option(o),
			o->io.prinfo, p->gen ? "generate" : "verify");
		return -1;
	}
	/* lba - slba < nlb, without the overflow of slba + nlb. */
	if (p->inj.field && (lba < o->io.slba || lba - o->io.slba >= o->io.nlb)) {
		fprintf(stderr, "nvmeta-io: --inject %s: LBA %" PRIu64 " is outside the command's "
			"range, the %u blocks from LBA %" PRIu64 " (-c/--nlb, -s/--slba)\n",
			p->inject_text, lba, o->io.nlb, o->io.slba);
		return -1;
	}
	p->inj.block = lba - o->io.slba;
	return 0;
}

/* Which files the command takes: -d and -m only where data moves. */
static int check_file_options(const struct options *o)
{
	if (!moves_data(o->io.opcode)) {
		if (o->meta.path || o->data.path) {
			fprintf(stderr, "nvmeta-io: %s: %s moves no data; drop the option\n",
				o->meta.path ? "-M/--metadata" : "-d/--data", o->op_name);
			return -1;
		}
		if (o->iovecs) {
			fprintf(stderr, "nvmeta-io: --iovecs: %s moves no data; drop the option\n",
				o->op_name);
			return -1;
		}
		return 0;
	}
	if (!o->data.path) {
		fprintf(stderr, "nvmeta-io: --data FILE is required for %s\n", o->op_name);
		return -1;
	}
	return 0;
}

/* Returns 0, -1 for a usage error, -2 after a message of its own. */
static int parse_opts(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "slba", 1, NULL, 's' }, { "nlb", 1, NULL, 'c' }, { "data", 1, NULL, 'd' },
		{ "metadata", 1, NULL, 'M' }, { "layout", 1, NULL, 'L' }, { "offset", 1, NULL, 'o' },
		{ "data-layout", 1, NULL, 'D' }, { "prinfo", 1, NULL, 'p' },
		{ "ref-tag", 1, NULL, 'r' }, { "app-tag", 1, NULL, 'a' },
		{ "app-tag-mask", 1, NULL, 'm' }, { "storage-tag", 1, NULL, 'S' },
		{ "pi-gen", 0, NULL, OPT_PI_GEN }, { "pi-check", 0, NULL, OPT_PI_CHECK },
		{ "inject", 1, NULL, OPT_INJECT }, { "iovecs", 1, NULL, OPT_IOVECS },
		{ "fua", 0, NULL, 'F' }, { "raw", 0, NULL, 'R' },
		{ "json", 0, NULL, 'j' }, { "help", 0, NULL, 'h' }, { "fallback", 0, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->data.fd = -1;
	o->meta.fd = -1;
	o->io.nlb = 1;
	o->meta_spec.layout = NVMETA_LAYOUT_PAGE;
	o->data_spec.layout = NVMETA_LAYOUT_PINNED;
	o->data.opt = "-d/--data";
	o->meta.opt = "-M/--metadata";
	/* nvme-cli's letters: -M the metadata file, -m the app tag mask. */
	while ((c = getopt_long(argc, argv, "s:c:d:M:L:o:D:p:r:a:m:S:FRjhb", opts, NULL)) != -1) {
		switch (c) {
		case 's': case 'c': case 'o': case 'p': case 'r': case 'a': case 'm': case 'S':
			if (parse_number(c, o))
				return -2;
			break;
		case 'd': o->data.path = optarg; break;
		case 'M': o->meta.path = optarg; break;
		case OPT_PI_GEN: o->pi.gen = true; break;
		case OPT_PI_CHECK: o->pi.check = true; break;
		case OPT_INJECT: if (parse_inject(optarg, o)) return -2; break;
		case OPT_IOVECS: if (parse_iovecs(o)) return -2; break;
		case 'L': if (parse_layout(optarg, &o->meta_spec)) return -1; break;
		case 'D': if (parse_layout(optarg, &o->data_spec)) return -1; break;
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
	o->op_name = argv[optind + 1];
	if (parse_op(o->op_name, &o->io.opcode))
		return -1;
	return check_file_options(o) || check_pi_options(o) ? -2 : 0;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct nvmeta_dev *dev;
	struct report r;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret) {
		if (ret == -1)
			usage(stderr);
		return 2;
	}
	if (open_file(&o.data, o.io.opcode == NVMETA_OP_READ) ||
	    open_file(&o.meta, o.io.opcode == NVMETA_OP_READ)) {
		ret = 2;
		goto out;
	}
	if (nvmeta_dev_open(o.path, &dev)) {
		fprintf(stderr, "nvmeta-io: %s\n", nvmeta_last_error());
		ret = 1;
		goto out;
	}
	report_begin(&r, stdout, o.json);
	report_str(&r, "device", nvmeta_dev_info(dev)->generic_path);
	ret = run(&o, dev, &r);
	report_end(&r);
	nvmeta_dev_close(dev);
out:
	close_file(&o.data, ret);
	close_file(&o.meta, ret);
	return ret;
}
