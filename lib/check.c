// SPDX-License-Identifier: MIT
/*
 * The copy-back checker.  Each case writes a pattern unique to the LBA,
 * the byte and the run, reads it back through the case's layout and
 * compares every byte; then it checks that nothing else moved: canaries
 * and guard pages around every buffer, the write source, a mapping the
 * process populated but never wrote, and a fresh mapping.  A wrong byte
 * after the kernel reported success is the kernel's defect and is
 * reported as one, with the path it took and the kernel's version.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include "internal.h"

#define POISON 0xee
#define SENTINEL_PAGES 16
#define MAX_CASE_BLOCKS 65536u

enum { DATA_BYTES, META_BYTES };

struct side {
	struct nvmeta_buf *data, *meta;
	bool data_is_case, meta_is_case;
	struct nvmeta_prediction pred;	/* of the case buffer, if this side has it */
	struct nvmeta_status status;	/* of this side's I/O */
	int observed;			/* path the kprobes saw, or -1 */
	char evidence[112];
};

struct check {
	const struct nvmeta_dev *dev;
	const struct nvmeta_dev_info *info;
	struct io_uring *ring;
	const struct nvmeta_check_case *tc;
	struct nvmeta_kpath *kp;
	struct nvmeta_check_result *res;
	unsigned int run;
	uint32_t lba_bytes;	/* bytes one block takes in the data buffer */
	bool has_meta;		/* a separate metadata buffer exists */
	struct side src, dst;
	void *sentinel;
};

static uint8_t pattern(uint64_t lba, size_t off, unsigned int run, int kind)
{
	uint32_t x = (uint32_t)lba * 0x9e3779b1u ^ (uint32_t)off * 0x85ebca77u ^
		     run * 0xc2b2ae3du ^ (uint32_t)kind * 0x27d4eb2fu;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return (uint8_t)x;
}

static void fill(struct nvmeta_buf *b, const struct check *c, size_t per, int kind)
{
	uint8_t *p = b->addr;
	size_t i;

	for (i = 0; i < b->len; i++)
		p[i] = pattern(c->res->slba + i / per, i % per, c->run, kind);
}

/* The first byte of @b that is not the pattern, recorded in the result. */
static bool mismatch(const struct nvmeta_buf *b, struct check *c, size_t per, int kind,
		     const char *where)
{
	const uint8_t *p = b->addr;
	struct nvmeta_check_result *r = c->res;
	size_t i;
	uint8_t want;

	for (i = 0; i < b->len; i++) {
		want = pattern(r->slba + i / per, i % per, c->run, kind);
		if (p[i] == want)
			continue;
		r->where = where;
		r->bad_lba = r->slba + i / per;
		r->bad_offset = i % per;
		r->expected = want;
		r->found = p[i];
		return true;
	}
	return false;
}

__attribute__((format(printf, 3, 4)))
static void verdict(struct check *c, enum nvmeta_verdict v, const char *fmt, ...)
{
	va_list ap;

	c->res->verdict = v;
	va_start(ap, fmt);
	vsnprintf(c->res->detail, sizeof(c->res->detail), fmt, ap);
	va_end(ap);
}

static uint32_t case_blocks(const struct check *c, uint32_t *max_nlb)
{
	const struct nvmeta_dev_info *in = c->info;
	uint64_t max = (uint64_t)in->limits.max_hw_sectors_kb * 1024;

	if (in->mdts_bytes && (!max || in->mdts_bytes < max))
		max = in->mdts_bytes;
	*max_nlb = max / c->lba_bytes;
	if (!*max_nlb || *max_nlb > MAX_CASE_BLOCKS)
		*max_nlb = *max_nlb ? MAX_CASE_BLOCKS : 1;
	switch (c->tc->size) {
	case NVMETA_SIZE_ONE:
		return 1;
	case NVMETA_SIZE_FEW:
		return *max_nlb < 8 ? *max_nlb : 8;
	default:
		return *max_nlb;
	}
}

static int alloc_buf(struct check *c, bool is_case, bool is_dst, bool data,
		     struct nvmeta_buf **out)
{
	const struct nvmeta_check_case *tc = c->tc;
	struct nvmeta_buf_spec spec = {
		.len = data ? (size_t)c->res->nlb * c->lba_bytes : (size_t)c->res->nlb * c->info->ms,
		.flags = NVMETA_BUF_CANARY | NVMETA_BUF_GUARD | (data ? NVMETA_BUF_DATA : 0),
		.layout = data ? NVMETA_LAYOUT_PINNED : NVMETA_LAYOUT_PAGE,
	};
	int ret;

	if (is_case) {
		spec.layout = tc->layout;
		spec.offset = tc->offset;
		spec.flags |= NVMETA_BUF_FALLBACK;
		if (tc->source == NVMETA_SOURCE_MEMFD)
			spec.backing = NVMETA_BACKING_MEMFD;
		if (tc->source == NVMETA_SOURCE_HUGE)
			spec.backing = NVMETA_BACKING_HUGE;
		if (tc->source == NVMETA_SOURCE_UNTOUCHED && is_dst)
			spec.flags |= NVMETA_BUF_UNTOUCHED;
	}
	ret = nvmeta_buf_alloc(c->info, &spec, out);
	/* A plain data buffer that cannot be pinned still serves as a page. */
	if (ret == -EOPNOTSUPP && !is_case) {
		spec.layout = NVMETA_LAYOUT_PAGE;
		ret = nvmeta_buf_alloc(c->info, &spec, out);
	}
	return ret;
}

static int alloc_side(struct check *c, struct side *s, bool is_dst)
{
	const struct nvmeta_check_case *tc = c->tc;
	bool uses_case = tc->dir == NVMETA_DIR_BOTH ||
			 (tc->dir == NVMETA_DIR_READ) == is_dst;
	int ret;

	s->data_is_case = uses_case && tc->subject == NVMETA_SUBJECT_DATA;
	s->meta_is_case = uses_case && tc->subject == NVMETA_SUBJECT_META;
	ret = alloc_buf(c, s->data_is_case, is_dst, true, &s->data);
	if (ret || !c->has_meta)
		return ret;
	return alloc_buf(c, s->meta_is_case, is_dst, false, &s->meta);
}

static void free_side(struct side *s)
{
	nvmeta_buf_free(s->data);
	nvmeta_buf_free(s->meta);
	s->data = s->meta = NULL;
}

static struct nvmeta_buf *case_buf(struct side *s)
{
	if (s->data_is_case)
		return s->data;
	return s->meta_is_case ? s->meta : NULL;
}

static int prepare(struct check *c)
{
	struct nvmeta_buf *cb;
	int ret;

	fill(c->src.data, c, c->lba_bytes, DATA_BYTES);
	if (c->src.meta)
		fill(c->src.meta, c, c->info->ms, META_BYTES);
	/* Poison the read side so a copy-back that never happens shows;
	 * untouched buffers must stay unfaulted. */
	if (c->tc->source != NVMETA_SOURCE_UNTOUCHED || !c->dst.data_is_case)
		memset(c->dst.data->addr, POISON, c->dst.data->len);
	if (c->dst.meta && (c->tc->source != NVMETA_SOURCE_UNTOUCHED || !c->dst.meta_is_case))
		memset(c->dst.meta->addr, POISON, c->dst.meta->len);
	if (c->tc->source != NVMETA_SOURCE_READONLY)
		return 0;
	cb = case_buf(&c->src);
	if (cb && (ret = nvmeta_buf_protect(cb, true)))
		return ret;
	cb = case_buf(&c->dst);
	return cb ? nvmeta_buf_protect(cb, true) : 0;
}

static enum nvmeta_kind case_kind(const struct check *c)
{
	return c->tc->subject == NVMETA_SUBJECT_DATA ? NVMETA_KIND_DATA : NVMETA_KIND_META;
}

static int do_io(struct check *c, uint8_t opcode, struct side *s)
{
	/* The checker tests the kernel: buffers go in exactly as laid out. */
	struct nvmeta_io io = {
		.opcode = opcode, .slba = c->res->slba, .nlb = c->res->nlb,
		.data = s->data->addr, .data_len = s->data->len,
		.flags = NVMETA_IO_NO_PREFAULT,
	};
	struct nvmeta_kpath_sample before, after;
	bool observe = c->kp && case_buf(s) && !nvmeta_kpath_sample(c->kp, &before);
	int ret;

	if (s->meta) {
		io.meta = s->meta->addr;
		io.meta_len = s->meta->len;
	}
	s->observed = -1;
	ret = nvmeta_io_sync(c->dev, c->ring, &io, &s->status);
	if (observe && !ret && !nvmeta_kpath_sample(c->kp, &after))
		s->observed = nvmeta_kpath_observe(c->kp, case_kind(c), &before, &after,
						   s->evidence, sizeof(s->evidence));
	return ret;
}

/* Predict the case buffer of @s, once, before any I/O touches it. */
static void predict_side(struct check *c, struct side *s)
{
	struct nvmeta_buf *cb = case_buf(s);

	if (cb)
		nvmeta_predict(c->info, case_kind(c), cb->addr, cb->len, &s->pred);
}

/* The outcome the prediction (or the case) says the I/O on @s will have. */
static int expected_err(struct check *c, struct side *s, bool is_read)
{
	if (!case_buf(s))
		return 0;
	if (c->tc->expect_err && (c->tc->dir == NVMETA_DIR_BOTH ||
				  (c->tc->dir == NVMETA_DIR_READ) == is_read))
		return c->tc->expect_err;
	return s->pred.path == NVMETA_PATH_FAIL ? s->pred.err : 0;
}

/* The errno the kernel may return, depending on pages it allocates. */
static int may_fail_with(struct check *c)
{
	struct side *s = case_buf(&c->dst) ? &c->dst : &c->src;

	return s->pred.may_err;
}

/* The kprobes saw a different path than predicted: the model is wrong. */
static bool path_as_predicted(struct check *c, struct side *s, const char *what)
{
	if (s->observed < 0 || (enum nvmeta_path)s->observed == s->pred.path)
		return true;
	verdict(c, NVMETA_VERDICT_FAIL, "%s: predicted %s, the kernel took %s (%s)", what,
		nvmeta_path_name(s->pred.path), nvmeta_path_name(s->observed), s->evidence);
	return false;
}

static bool io_outcome(struct check *c, const char *what, struct side *s, int ret, int want)
{
	c->res->err = ret;
	if (ret == want)
		return true;
	if (!want && ret == -EIO && s->status.status) {
		verdict(c, NVMETA_VERDICT_DEVICE_ERROR,
			"%s of a validated command failed in the device: NVMe status 0x%03x (%s)",
			what, s->status.status, nvmeta_status_name(&s->status));
		return false;
	}
	if (!want && ret && ret == may_fail_with(c)) {
		verdict(c, NVMETA_VERDICT_PASS, "%s failed with %s, which the prediction allowed: %s",
			what, strerror(-ret), nvmeta_last_error());
		return false;
	}
	verdict(c, NVMETA_VERDICT_FAIL, "%s returned %s, expected %s%s%s", what,
		ret ? strerror(-ret) : "success", want ? strerror(-want) : "success",
		ret ? ": " : "", ret ? nvmeta_last_error() : "");
	return false;
}

static bool canaries_intact(struct check *c)
{
	struct nvmeta_buf *bufs[] = { c->src.data, c->src.meta, c->dst.data, c->dst.meta };
	static const char *const names[] = {
		"write data", "write metadata", "read data", "read metadata",
	};
	ptrdiff_t bad;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bufs); i++) {
		if (!bufs[i] || !nvmeta_buf_check_canaries(bufs[i], &bad))
			continue;
		c->res->where = "canary";
		verdict(c, NVMETA_VERDICT_KERNEL_DEFECT, "%s buffer: %s (kernel %s)", names[i],
			nvmeta_last_error(), c->info->kernel.release);
		return false;
	}
	return true;
}

static bool all_zero(const uint8_t *p, size_t len, size_t *at)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i]) {
			*at = i;
			return false;
		}
	}
	return true;
}

/* Memory the process populated but never wrote, and a mapping made after
 * the I/O, must both read as zero. */
static bool untouched_memory_zero(struct check *c)
{
	size_t len = SENTINEL_PAGES * 4096, at;
	void *fresh;
	bool ok;

	if (!all_zero(c->sentinel, len, &at)) {
		c->res->where = "never-written memory";
		verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
			"byte %zu of a populated, never-written mapping is 0x%02x (kernel %s)",
			at, ((uint8_t *)c->sentinel)[at], c->info->kernel.release);
		return false;
	}
	/* Read, never written: these pages are the kernel's shared zero page,
	 * which a copy-back into a wrongly pinned page would dirty for every
	 * process on the machine. */
	fresh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fresh == MAP_FAILED)
		return true;
	ok = all_zero(fresh, len, &at);
	if (!ok) {
		c->res->where = "fresh memory";
		verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
			"byte %zu of a fresh, never-written mapping reads 0x%02x: the shared zero page was written (kernel %s)",
			at, ((uint8_t *)fresh)[at], c->info->kernel.release);
	}
	munmap(fresh, len);
	return ok;
}

static bool bytes_match(struct check *c, struct side *s, const char *data_where,
			const char *meta_where)
{
	const struct nvmeta_check_result *r = c->res;
	const char *path = nvmeta_path_name(r->pred.path);

	if (mismatch(s->data, c, c->lba_bytes, DATA_BYTES, data_where) ||
	    (s->meta && mismatch(s->meta, c, c->info->ms, META_BYTES, meta_where))) {
		verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
			"%s: LBA %llu byte %zu expected 0x%02x found 0x%02x (predicted %s, kernel %s)",
			r->where, (unsigned long long)r->bad_lba, r->bad_offset, r->expected,
			r->found, path, c->info->kernel.release);
		return false;
	}
	return true;
}

/* A destination the kernel had to refuse must be left as it was. */
static bool refused_untouched(struct check *c)
{
	struct nvmeta_buf *cb = case_buf(&c->dst);
	size_t at;

	if (!cb || c->tc->source == NVMETA_SOURCE_UNTOUCHED)
		return true;
	for (at = 0; at < cb->len; at++) {
		if (((uint8_t *)cb->addr)[at] != POISON) {
			c->res->where = "refused buffer";
			verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
				"byte %zu of a buffer the read was refused into changed (kernel %s)",
				at, c->info->kernel.release);
			return false;
		}
	}
	return true;
}

/* A write only reads its source: refusing a readable source with EFAULT
 * means the kernel pinned it for writing, the wrong direction. */
static bool write_source_refused(struct check *c, int ret, int want)
{
	if (ret != -EFAULT || want || c->tc->source != NVMETA_SOURCE_READONLY ||
	    !case_buf(&c->src))
		return false;
	c->res->err = ret;
	c->res->where = "write source";
	verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
		"write from read-only memory refused with EFAULT: the kernel pinned the source for writing (kernel %s)",
		c->info->kernel.release);
	return true;
}

/* A read into PROT_READ memory that succeeds means the kernel pinned the
 * destination without write access and the device wrote read-only pages. */
static bool readonly_destination_written(struct check *c, int ret, int want)
{
	struct nvmeta_buf *cb = case_buf(&c->dst);
	size_t changed = 0, i;

	if (ret || want != -EFAULT || c->tc->source != NVMETA_SOURCE_READONLY || !cb)
		return false;
	for (i = 0; i < cb->len; i++)
		changed += ((uint8_t *)cb->addr)[i] != POISON;
	c->res->err = ret;
	c->res->where = "read-only destination";
	verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
		"read into read-only memory succeeded: %zu of its %zu bytes changed (kernel %s)",
		changed, cb->len, c->info->kernel.release);
	return true;
}

static void exercise(struct check *c)
{
	int want_w = expected_err(c, &c->src, false);
	int want_r = expected_err(c, &c->dst, true);
	int ret;

	ret = do_io(c, NVMETA_OP_WRITE, &c->src);
	if (write_source_refused(c, ret, want_w))
		return;
	if (!io_outcome(c, "write", &c->src, ret, want_w) || !canaries_intact(c) ||
	    !path_as_predicted(c, &c->src, "write"))
		return;
	if (!bytes_match(c, &c->src, "write data source", "write metadata source"))
		return;
	if (want_w) {
		verdict(c, NVMETA_VERDICT_PASS, "write refused as predicted: %s", strerror(-want_w));
		return;
	}
	ret = do_io(c, NVMETA_OP_READ, &c->dst);
	if (readonly_destination_written(c, ret, want_r))
		return;
	if (!io_outcome(c, "read", &c->dst, ret, want_r) || !canaries_intact(c) ||
	    !untouched_memory_zero(c))
		return;
	if (!want_r && !path_as_predicted(c, &c->dst, "read"))
		return;
	if (want_r) {
		if (refused_untouched(c))
			verdict(c, NVMETA_VERDICT_PASS, "read refused as expected: %s",
				strerror(-want_r));
		return;
	}
	if (bytes_match(c, &c->dst, "data", "metadata"))
		verdict(c, NVMETA_VERDICT_PASS, "%u blocks read back byte-exact", c->res->nlb);
}

static void record_case(struct check *c)
{
	struct side *s = case_buf(&c->dst) ? &c->dst : &c->src;

	c->res->layout = case_buf(s)->layout;
	c->res->pred = s->pred;
	c->res->observed = s->observed;
	snprintf(c->res->evidence, sizeof(c->res->evidence), "%s", s->evidence);
}

static bool place_case(struct check *c, unsigned int index)
{
	const struct nvmeta_check_case *tc = c->tc;
	struct nvmeta_check_result *r = c->res;
	uint32_t max_nlb;

	c->has_meta = c->info->ms && !c->info->extended_lba;
	if (tc->subject == NVMETA_SUBJECT_META && !c->has_meta) {
		verdict(c, NVMETA_VERDICT_SKIP, "%s has no separate metadata",
			c->info->generic_path);
		return false;
	}
	r->nlb = case_blocks(c, &max_nlb);
	r->slba = (uint64_t)index * max_nlb;
	if (r->slba + r->nlb > c->info->nsze) {
		verdict(c, NVMETA_VERDICT_SKIP, "namespace of %llu blocks too small for case %u",
			(unsigned long long)c->info->nsze, index);
		return false;
	}
	return true;
}

int nvmeta_check_run(const struct nvmeta_dev *dev, struct io_uring *ring,
		     struct nvmeta_kpath *kp, const struct nvmeta_check_case *tc,
		     unsigned int index, unsigned int run, struct nvmeta_check_result *res)
{
	struct check c = { .dev = dev, .info = &dev->info, .ring = ring, .kp = kp, .tc = tc,
			   .res = res, .run = run };
	int ret;

	memset(res, 0, sizeof(*res));
	res->tc = tc;
	res->observed = -1;
	if (tc->layout > NVMETA_LAYOUT_MALLOC)
		return nvmeta_fail(-EINVAL, "case %s: layout %s cannot be allocated by the checker",
				   tc->name, nvmeta_layout_name(tc->layout));
	c.lba_bytes = c.info->lba_size + (c.info->extended_lba ? c.info->ms : 0);
	if (!place_case(&c, index))
		return 0;
	c.sentinel = mmap(NULL, SENTINEL_PAGES * 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (c.sentinel == MAP_FAILED)
		return nvmeta_fail(-errno, "mmap: %m");
	ret = alloc_side(&c, &c.src, false);
	if (!ret)
		ret = alloc_side(&c, &c.dst, true);
	if (!ret)
		ret = prepare(&c);
	if (ret) {
		verdict(&c, ret == -EOPNOTSUPP || ret == -ENOSPC ? NVMETA_VERDICT_SKIP :
			NVMETA_VERDICT_FAIL, "buffer setup: %s", nvmeta_last_error());
		goto out;
	}
	predict_side(&c, &c.src);
	predict_side(&c, &c.dst);
	res->expect_err = expected_err(&c, &c.dst, true);
	c.src.observed = c.dst.observed = -1;
	exercise(&c);
	record_case(&c);
out:
	free_side(&c.src);
	free_side(&c.dst);
	munmap(c.sentinel, SENTINEL_PAGES * 4096);
	return 0;
}

const char *nvmeta_verdict_name(enum nvmeta_verdict v)
{
	static const char *const names[] = {
		"pass", "skip", "FAIL", "KERNEL-DEFECT", "DEVICE-ERROR",
	};

	return v <= NVMETA_VERDICT_DEVICE_ERROR ? names[v] : "unknown";
}
