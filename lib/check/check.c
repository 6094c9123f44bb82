// SPDX-License-Identifier: MIT
/*
 * The copy-back checker.  Each case writes a pattern unique to the LBA,
 * the byte and the run, reads it back through the case's layout and
 * compares every byte; then it checks that nothing else moved: canaries
 * and guard pages around every buffer, the write source, a mapping the
 * process populated but never wrote, and a fresh mapping.  A wrong byte
 * after the kernel reported success is the kernel's defect and is
 * reported as one, with the path it took and the kernel's version.
 * Kernel-weakness probes (NVMETA_CHECK_SHORT_META) send one RAW command
 * with a metadata buffer shorter than nlb x ms and report what the device
 * did past it.  The judging functions are in check.h, for unit tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sys/uio.h>
#include "check.h"

/* One sysfs attribute as text, without its newline. */
static int read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

/* The longest overrun of a kernel bounce buffer the heap probe provokes. */
#define HEAP_OVERRUN_MAX 128u

#define POISON 0xee
#define SENTINEL_PAGES 16
#define MAX_CASE_BLOCKS 65536u

static uint8_t pattern(uint64_t lba, size_t off, unsigned int run, int kind)
{
	uint32_t x = (uint32_t)lba * 0x9e3779b1u ^ (uint32_t)off * 0x85ebca77u ^
		     run * 0xc2b2ae3du ^ (uint32_t)kind * 0x27d4eb2fu;

	x ^= x >> 15;
	x *= 0x2c1b3c6du;
	x ^= x >> 12;
	return (uint8_t)x;
}

void nvmeta_check_fill(struct nvmeta_buf *b, const struct check *c, size_t per, int kind)
{
	uint8_t *p = b->addr;
	size_t i;

	for (i = 0; i < b->len; i++)
		p[i] = pattern(c->res->slba + i / per, i % per, c->run, kind);
}

/* Byte @i of what a @kind buffer must hold: the pattern, or on a PI case
 * the pattern with the PI generated over it. */
static uint8_t want_byte(const struct check *c, size_t i, size_t per, int kind)
{
	if (c->want[kind])
		return c->want[kind][i];
	return pattern(c->res->slba + i / per, i % per, c->run, kind);
}

/* The first byte of @b that is not what it must be, recorded in the result. */
static bool mismatch(const struct nvmeta_buf *b, struct check *c, size_t per, int kind,
		     const char *where)
{
	const uint8_t *p = b->addr;
	struct nvmeta_check_result *r = c->res;
	size_t i;
	uint8_t want;

	for (i = 0; i < b->len; i++) {
		want = want_byte(c, i, per, kind);
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

	va_start(ap, fmt);
	nvmeta_check_verdict_v(c->res, v, fmt, ap);
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
		spec.backing = tc->backing;
		if ((tc->flags & NVMETA_CHECK_UNTOUCHED) && is_dst)
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

static int alloc_side(struct check *c, struct check_side *s, bool is_dst)
{
	const struct nvmeta_check_case *tc = c->tc;
	/* A short-metadata probe lays out a buffer of its own; both sides
	 * stay plain, for the validated I/O around its RAW command. */
	bool uses_case = !(tc->flags & NVMETA_CHECK_SHORT_META) &&
			 (tc->dir == NVMETA_DIR_BOTH || (tc->dir == NVMETA_DIR_READ) == is_dst);
	int ret;

	s->data_is_case = uses_case && tc->kind == NVMETA_KIND_DATA;
	s->meta_is_case = uses_case && tc->kind == NVMETA_KIND_META;
	ret = alloc_buf(c, s->data_is_case, is_dst, true, &s->data);
	if (ret || !c->has_meta)
		return ret;
	return alloc_buf(c, s->meta_is_case, is_dst, false, &s->meta);
}

static void free_side(struct check_side *s)
{
	nvmeta_buf_free(s->data);
	nvmeta_buf_free(s->meta);
	s->data = s->meta = NULL;
}

static struct nvmeta_buf *case_buf(struct check_side *s)
{
	if (s->data_is_case)
		return s->data;
	return s->meta_is_case ? s->meta : NULL;
}

static int prepare(struct check *c)
{
	bool untouched = c->tc->flags & NVMETA_CHECK_UNTOUCHED;
	struct nvmeta_buf *cb;
	int ret;

	nvmeta_check_fill(c->src.data, c, c->lba_bytes, DATA_BYTES);
	if (c->src.meta)
		nvmeta_check_fill(c->src.meta, c, c->info->ms, META_BYTES);
	/* Poison the read side so a copy-back that never happens shows;
	 * untouched buffers must stay unfaulted. */
	if (!untouched || !c->dst.data_is_case)
		memset(c->dst.data->addr, POISON, c->dst.data->len);
	if (c->dst.meta && (!untouched || !c->dst.meta_is_case))
		memset(c->dst.meta->addr, POISON, c->dst.meta->len);
	if (!(c->tc->flags & NVMETA_CHECK_READONLY))
		return 0;
	cb = case_buf(&c->src);
	if (cb && (ret = nvmeta_buf_protect(cb, true)))
		return ret;
	cb = case_buf(&c->dst);
	return cb ? nvmeta_buf_protect(cb, true) : 0;
}

static enum nvmeta_kind case_kind(const struct check *c)
{
	return c->tc->kind;
}

/* The same command through the attribute road: a plain READ or WRITE on
 * the block device, the metadata buffer in the PI attribute. */
static int io_on_road(struct check *c, const struct nvmeta_io *io, struct check_side *s)
{
	struct nvmeta_rw rw = { .io = {
		.opcode = io->opcode, .slba = io->slba, .nlb = io->nlb,
		.data = io->data, .data_len = io->data_len,
		.meta = io->meta, .meta_len = io->meta_len,
		.flags = io->flags & NVMETA_IO_VEC,
	} };

	memset(&s->status, 0, sizeof(s->status));
	return nvmeta_rw_sync(c->bdev, c->ring, &rw);
}

/* The most iovecs a NVMETA_CHECK_VEC case cuts its data into. */
#define VEC_PIECES 16u

/*
 * Cut @len bytes at @addr into up to 16 iovecs whose edges are multiples
 * of @g bytes: an even share each, and where a share is at least 24
 * units, every cut moved by an odd 1 to 11 units so that blocks split
 * across iovecs.  Returns the count.
 */
static unsigned int cut_at(struct check *c, void *addr, size_t len, size_t g,
			   struct iovec *iov)
{
	size_t units = len / g, share, at = 0, next;
	unsigned int n = VEC_PIECES, i;

	if (c->info->limits.max_segments && c->info->limits.max_segments < n)
		n = c->info->limits.max_segments;
	if (units < n)
		n = (unsigned int)units;
	share = units / n;
	snprintf(c->cut, sizeof(c->cut), "; data in %u iovecs cut in %zu-byte units",
		 n, g);
	for (i = 0; i < n; i++) {
		next = i + 1 == n ? len :
		       ((i + 1) * share + (share >= 24 ? (i * 37 % 11 | 1) : 0)) * g;
		iov[i] = (struct iovec){ (char *)addr + at, next - at };
		at = next;
	}
	return n;
}

/*
 * NVMETA_CHECK_VEC: cut the data at odd bytes (1-byte units), so that no
 * iovec but the first starts aligned and blocks split across them.  No
 * more iovecs than max_segments, which validation holds them to.
 */
static unsigned int vec_cut(struct check *c, void *addr, size_t len, struct iovec *iov)
{
	return cut_at(c, addr, len, 1, iov);
}

/*
 * NVMETA_CHECK_RW_VEC: O_DIRECT refuses what it cannot pin, so cut where
 * the library predicts a pin: inside blocks at the DMA alignment where
 * the kernel takes that (6.18 on), else at block edges.
 */
static unsigned int rw_vec_cut(struct check *c, const struct nvmeta_io *io, void *addr,
			       size_t len, struct iovec *iov)
{
	struct nvmeta_rw rw = { .io = *io };
	struct nvmeta_prediction pred;
	unsigned int n = cut_at(c, addr, len, c->info->limits.dma_alignment + 1, iov);

	rw.io.data = iov;
	rw.io.data_len = n;
	rw.io.flags = NVMETA_IO_VEC;
	if (!nvmeta_predict_rw(c->bdev, &rw, &pred, NULL) && pred.path == NVMETA_PATH_PIN)
		return n;
	return cut_at(c, addr, len, c->info->lba_size, iov);
}

int nvmeta_check_vec_may_err(const struct nvmeta_dev_info *info, const struct iovec *iov,
			     unsigned int count)
{
	struct nvmeta_prediction p;

	if (nvmeta_predict_iov(info, iov, count, &p))
		return 0;
	return p.path == NVMETA_PATH_FAIL ? p.err : p.may_err;
}

static int do_io(struct check *c, uint8_t opcode, struct check_side *s)
{
	struct iovec iov[VEC_PIECES];
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
	/* A PI case: the device checks what the host generates on the write
	 * and what it returns on the read; the host verifies the read. */
	if (c->pi) {
		io.prinfo = c->prchk;
		io.reftag = c->pi_tags.ref_tag;
		io.apptag = c->pi_tags.app_tag;
		io.appmask = c->pi_tags.app_mask;
		io.flags |= opcode == NVMETA_OP_WRITE ? NVMETA_IO_PI_GENERATE : NVMETA_IO_PI_VERIFY;
	}
	/* The short buffer of a kernel-weakness probe is what validation
	 * exists to refuse. */
	if ((c->tc->flags & NVMETA_CHECK_SHORT_META) && s->meta_is_case)
		io.flags |= NVMETA_IO_RAW;
	if (c->tc->flags & NVMETA_CHECK_VEC) {
		io.data_len = vec_cut(c, s->data->addr, s->data->len, iov);
		io.data = iov;
		io.flags |= NVMETA_IO_VEC;
		/* The data, cut off the DMA alignment, is copied: the case's
		 * metadata prediction knows nothing of that. */
		c->vec_may_err = nvmeta_check_vec_may_err(c->info, iov, io.data_len);
	}
	if (c->tc->flags & NVMETA_CHECK_RW_VEC) {
		io.data_len = rw_vec_cut(c, &io, s->data->addr, s->data->len, iov);
		io.data = iov;
		io.flags |= NVMETA_IO_VEC;
	}
	s->observed = -1;
	if (c->bdev) {
		ret = io_on_road(c, &io, s);
	} else {
		ret = nvmeta_io_sync(c->dev, c->ring, &io, &s->status);
	}
	if (observe && !ret && !nvmeta_kpath_sample(c->kp, &after))
		s->observed = nvmeta_kpath_observe(c->kp, case_kind(c), &before, &after,
						   s->evidence, sizeof(s->evidence));
	return ret;
}

/* Predict the case buffer of @s, once, before any I/O touches it; the
 * path it must take comes from the probe of pinning where there is one
 * (the library's prediction decides pinning by the kernel's version). */
static void predict_side(struct check *c, struct check_side *s)
{
	struct nvmeta_buf *cb = case_buf(s);
	struct nvmeta_prediction lim;

	s->probe_path_why[0] = '\0';
	if (!cb)
		return;
	nvmeta_predict(c->info, case_kind(c), cb->addr, cb->len, &s->pred);
	s->expect_path = s->pred.path;
	if (case_kind(c) != NVMETA_KIND_META)
		return;
	nvmeta_check_predict_limits(c->info, NVMETA_KIND_META, cb->addr, cb->len, &lim);
	s->expect_path = nvmeta_check_probe_path(c->probes, s->pred.path, lim.path,
						 s->probe_path_why, sizeof(s->probe_path_why));
}

/* A read into a read-only destination: the kernel must refuse it, and
 * which errno it refuses with is its own choice, which moved between
 * kernels (the attribute road: EFAULT on 6.16 and 6.17, EIO on 7.2).
 * The probe run before the cases says which this kernel gives. */
static bool readonly_read(const struct check *c, bool is_read)
{
	return is_read && (c->tc->flags & NVMETA_CHECK_READONLY) && c->tc->expect_err &&
	       c->tc->dir != NVMETA_DIR_WRITE;
}

/* The outcome the prediction, the case or the probe says the I/O on @s
 * will have. */
int nvmeta_check_expected_err(struct check *c, struct check_side *s, bool is_read)
{
	if (!case_buf(s))
		return 0;
	if (readonly_read(c, is_read))
		return nvmeta_check_probe_ro_expect(c->probes, c->bdev, case_kind(c),
						    c->tc->layout == NVMETA_LAYOUT_MISALIGNED,
						    c->tc->expect_err, c->probe_why,
						    sizeof(c->probe_why));
	if (c->tc->expect_err && (c->tc->dir == NVMETA_DIR_BOTH ||
				  (c->tc->dir == NVMETA_DIR_READ) == is_read))
		return c->tc->expect_err;
	return s->pred.path == NVMETA_PATH_FAIL ? s->pred.err : 0;
}

/* The errno the kernel may return, depending on pages it allocates: for
 * the case buffer, or for the vectored data beside it. */
static int may_fail_with(struct check *c)
{
	struct check_side *s = case_buf(&c->dst) ? &c->dst : &c->src;

	return s->pred.may_err ? s->pred.may_err : c->vec_may_err;
}

/* The kprobes saw a different path than expected, or the library's
 * prediction disagrees with the probe of pinning: the model is wrong. */
static bool path_as_predicted(struct check *c, struct check_side *s, const char *what)
{
	if (s->observed >= 0 && (enum nvmeta_path)s->observed != s->expect_path) {
		verdict(c, NVMETA_VERDICT_FAIL, "%s: predicted %s, the kernel took %s (%s)%s%s", what,
			nvmeta_path_name(s->expect_path), nvmeta_path_name(s->observed),
			s->evidence, s->probe_path_why[0] ? "; " : "", s->probe_path_why);
		return false;
	}
	if (!case_buf(s) || s->expect_path == s->pred.path)
		return true;
	verdict(c, NVMETA_VERDICT_FAIL, "%s: the library predicts %s (%s), but %s", what,
		nvmeta_path_name(s->pred.path), s->pred.reason, s->probe_path_why);
	return false;
}

/* The probe's words after a detail, where the case's errno came from one. */
static void probe_words(struct check *c)
{
	struct nvmeta_check_result *r = c->res;
	size_t n = strlen(r->detail);

	if (c->probe_why[0] && n < sizeof(r->detail))
		snprintf(r->detail + n, sizeof(r->detail) - n, "; %s", c->probe_why);
}

bool nvmeta_check_io_outcome(struct check *c, const char *what, struct check_side *s, int ret,
			     int want)
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
	if (want)
		probe_words(c);
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

/* The bytes of the sentinel mapping: SENTINEL_PAGES pages of the running
 * system, whose pages are not 4 KiB everywhere (16 or 64 KiB on some arm64
 * and ppc64 kernels). */
static size_t sentinel_len(void)
{
	return SENTINEL_PAGES * (size_t)sysconf(_SC_PAGESIZE);
}

/* Memory the process populated but never wrote, and a mapping made after
 * the I/O, must both read as zero. */
static bool untouched_memory_zero(struct check *c)
{
	size_t len = sentinel_len(), at;
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

bool nvmeta_check_bytes_match(struct check *c, const struct check_side *s,
			      const char *data_where, const char *meta_where)
{
	const struct nvmeta_check_result *r = c->res;
	/* The side's own prediction: the result's is filled in after the
	 * case, from the side that has the case buffer.  A side without one
	 * was never predicted. */
	bool predicted = s->data_is_case || s->meta_is_case;

	if (mismatch(s->data, c, c->lba_bytes, DATA_BYTES, data_where) ||
	    (s->meta && mismatch(s->meta, c, c->info->ms, META_BYTES, meta_where))) {
		verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
			"%s: LBA %llu byte %zu expected 0x%02x found 0x%02x (%s%s, kernel %s)",
			r->where, (unsigned long long)r->bad_lba, r->bad_offset, r->expected,
			r->found, predicted ? "predicted " : "plain buffers",
			predicted ? nvmeta_path_name(s->pred.path) : "", c->info->kernel.release);
		return false;
	}
	return true;
}

/* A destination the kernel had to refuse must be left as it was. */
static bool refused_untouched(struct check *c)
{
	struct nvmeta_buf *cb = case_buf(&c->dst);
	size_t at;

	if (!cb || (c->tc->flags & NVMETA_CHECK_UNTOUCHED))
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
	if (ret != -EFAULT || want || !(c->tc->flags & NVMETA_CHECK_READONLY) ||
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

	if (ret || !want || !(c->tc->flags & NVMETA_CHECK_READONLY) || !cb)
		return false;
	for (i = 0; i < cb->len; i++)
		changed += ((uint8_t *)cb->addr)[i] != POISON;
	c->res->err = ret;
	c->res->where = "read-only destination";
	verdict(c, NVMETA_VERDICT_KERNEL_DEFECT,
		"read into read-only memory succeeded: %zu of its %zu bytes changed (kernel %s)",
		changed, cb->len, c->info->kernel.release);
	probe_words(c);
	return true;
}

/* ------------------------------------------------------------------ */
/* Protection information cases (NVMETA_CHECK_PI)                      */
/* ------------------------------------------------------------------ */

/*
 * Who changed the PI.  A PI case writes blocks whose PI the host generated
 * and sends the write with PRCHK: the device checks the guard against the
 * data it received and the tags against the command before it stores
 * anything.  The read back goes with the same PRCHK: the device checks its
 * stored blocks again before it sends them.  So when both complete with
 * success, the bytes left the device consistent, with the tags the host
 * asked for.  The host then verifies what arrived in the caller's memory
 * (NVMETA_IO_PI_VERIFY) and compares every byte with what it wrote:
 *
 *  - The host's verification fails and a byte differs: between the device
 *    and the caller's memory there is only the kernel, which either let the
 *    device write into the pages it pinned or copied its bounce buffer
 *    back.  A field the device checked (its PRCHK bit set) is the kernel's
 *    defect beyond doubt; one it did not check (the reference tag of type
 *    3) is judged like any byte after a successful read, the kernel's too.
 *  - The host's verification fails and every byte is what the host wrote:
 *    nothing changed in transit, the library's verification disagrees with
 *    its own generation: a failure of nvmeta.
 *  - The device refuses the read with an end-to-end status: it accepted the
 *    same PI, checked, on the write, and now finds its stored copy wrong:
 *    the device's error; the kernel moves no byte before the device checks.
 *  - The device refuses the write with an end-to-end status: the PI the
 *    host generated does not satisfy the device.  That fails the library's
 *    generation, unless the device can be shown wrong: the host's guard CRC
 *    gives the specification's check value, every block sent verifies on
 *    the host, and the format's guard covers the data alone (PI first, or
 *    metadata no larger than the PI), so there is no rule of coverage to
 *    disagree on.  Then the device computes the guard wrongly.  A kernel
 *    that changed the bytes on their way to the device (a bounced write)
 *    would look the same: the detail names the path, and the pinned PI
 *    cases, whose bytes no kernel copies, tell the two apart.
 */

#define PI_APP_TAG 0x6e76	/* "nv": any fixed value but the 0xffff escape */

static const char *prchk_words(uint8_t prchk)
{
	static const char *const words[] = {
		"none", "ref", "app", "app|ref", "guard", "guard|ref", "guard|app",
		"guard|app|ref",
	};

	return words[prchk & 7];
}

static const char *path_words(enum nvmeta_path p)
{
	return p == NVMETA_PATH_PIN ? "pinned path" : p == NVMETA_PATH_BOUNCE ? "bounce path" :
	       "refused buffer";
}

static const char *pi_path(const struct check_pi *o)
{
	return o->plain ? "plain buffers" : path_words(o->path);
}

enum nvmeta_pi_field nvmeta_check_e2e_field(const struct nvmeta_status *st)
{
	if (st->sct != 2)	/* Media and Data Integrity Errors */
		return NVMETA_PI_FIELD_NONE;
	switch (st->sc) {
	case 0x82: return NVMETA_PI_FIELD_GUARD;
	case 0x83: return NVMETA_PI_FIELD_APP;
	case 0x84: return NVMETA_PI_FIELD_REF;
	case 0x88: return NVMETA_PI_FIELD_STORAGE;
	default: return NVMETA_PI_FIELD_NONE;
	}
}

/* The PRCHK bit under which the device checks @field (the storage tag goes
 * with the reference tag). */
static uint8_t prchk_of(enum nvmeta_pi_field field)
{
	switch (field) {
	case NVMETA_PI_FIELD_GUARD: return NVMETA_PRCHK_GUARD;
	case NVMETA_PI_FIELD_APP: return NVMETA_PRCHK_APP;
	case NVMETA_PI_FIELD_REF:
	case NVMETA_PI_FIELD_STORAGE: return NVMETA_PRCHK_REF;
	default: return 0;
	}
}

/* The read back failed the host's verification. */
static void pi_host_mismatch(const struct nvmeta_dev_info *info, const struct check_pi *o,
			     struct nvmeta_check_result *r)
{
	enum nvmeta_pi_field field = o->rep.field;
	bool checked = o->prchk & prchk_of(field);
	char what[128];

	snprintf(what, sizeof(what), "host PI verification: LBA %llu %s 0x%llx, expected 0x%llx",
		 (unsigned long long)(o->slba + o->rep.block), nvmeta_pi_field_name(field),
		 (unsigned long long)o->rep.found, (unsigned long long)o->rep.expected);
	if (o->bytes_match) {
		r->where = "host PI verification";
		nvmeta_check_verdict(r, NVMETA_VERDICT_FAIL,
			"%s, yet every byte is what the host generated and wrote: the library's verification disagrees with its own generation",
			what);
		return;
	}
	if (checked)
		nvmeta_check_verdict(r, NVMETA_VERDICT_KERNEL_DEFECT,
			"%s; the device checked it on the write and the read (PRCHK %s) and both succeeded, so it changed between the device and the caller's memory: %s LBA %llu byte %zu 0x%02x for 0x%02x (%s, kernel %s)",
			what, prchk_words(o->prchk), r->where, (unsigned long long)r->bad_lba,
			r->bad_offset, r->found, r->expected, pi_path(o),
			info->kernel.release);
	else
		nvmeta_check_verdict(r, NVMETA_VERDICT_KERNEL_DEFECT,
			"%s; the device does not check it (PRCHK %s), but the read succeeded and %s LBA %llu byte %zu is 0x%02x for 0x%02x (%s, kernel %s)",
			what, prchk_words(o->prchk), r->where, (unsigned long long)r->bad_lba,
			r->bad_offset, r->found, r->expected, pi_path(o),
			info->kernel.release);
}

/* Why a refused write is not shown to be the device's error, or NULL
 * when it is. */
static const char *pi_write_blame(const struct check_pi *o)
{
	if (!o->source_verifies)
		return "the blocks sent do not verify on the host either";
	if (nvmeta_check_e2e_field(&o->status) != NVMETA_PI_FIELD_GUARD)
		return "the tags are the library's to set";
	if (!o->guard_spec_ok)
		return "the host's guard CRC does not give the specification's check value";
	if (!o->guard_data_only)
		return "the guard covers the metadata before the PI too, so the device cannot be shown wrong here";
	return NULL;
}

static void pi_write_refused(const struct nvmeta_dev_info *info, const struct check_pi *o,
			     struct nvmeta_check_result *r)
{
	const char *blame = pi_write_blame(o);

	r->where = "write PI";
	if (!blame) {
		nvmeta_check_verdict(r, NVMETA_VERDICT_DEVICE_ERROR,
			"write refused with NVMe status 0x%03x (%s) for a guard that is the specification's CRC of the data: the CRC gives its check value, every block sent verifies on the host, the guard covers the data alone (PRCHK %s, %s, kernel %s)",
			o->status.status, nvmeta_status_name(&o->status), prchk_words(o->prchk),
			pi_path(o), info->kernel.release);
		return;
	}
	nvmeta_check_verdict(r, NVMETA_VERDICT_FAIL,
		"write refused with NVMe status 0x%03x (%s): the device rejects the PI nvmeta generated (NVMETA_IO_PI_GENERATE, PRCHK %s); %s (%s)",
		o->status.status, nvmeta_status_name(&o->status), prchk_words(o->prchk), blame,
		pi_path(o));
}

bool nvmeta_check_pi_verdict(const struct nvmeta_dev_info *info, const struct check_pi *o,
			     struct nvmeta_check_result *r)
{
	if (o->is_read && o->ret == -EILSEQ) {
		pi_host_mismatch(info, o, r);
		return true;
	}
	if (o->ret != -EIO || nvmeta_check_e2e_field(&o->status) == NVMETA_PI_FIELD_NONE)
		return false;
	if (!o->is_read) {
		pi_write_refused(info, o, r);
		return true;
	}
	r->where = "device PI check";
	nvmeta_check_verdict(r, NVMETA_VERDICT_DEVICE_ERROR,
		"read refused with NVMe status 0x%03x (%s), after the device accepted the same blocks' PI with PRCHK %s on the write: what it stored is not what it checked (%s, kernel %s)",
		o->status.status, nvmeta_status_name(&o->status), prchk_words(o->prchk),
		pi_path(o), info->kernel.release);
	return true;
}

/* A PI case: learn the format and the tags, or skip where there is no PI. */
static bool pi_setup(struct check *c)
{
	const struct nvmeta_dev_info *in = c->info;

	if (!(c->tc->flags & NVMETA_CHECK_PI))
		return true;
	if (nvmeta_pi_format_of(in, &c->pi_fmt)) {
		verdict(c, NVMETA_VERDICT_SKIP, "%s (format %u+%u, pi type %u): %s",
			in->pi_type ? "PI this library cannot lay out" : "no protection information",
			in->lba_size, in->ms, in->pi_type, nvmeta_last_error());
		return false;
	}
	c->pi = true;
	/* Type 3 has no reference tag to check: it is the application's. */
	c->prchk = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP |
		   (c->pi_fmt.pi_type != 3 ? NVMETA_PRCHK_REF : 0);
	/* Type 1: the low bits of the LBA, as the device checks them; types
	 * 2 and 3 take any value, and the same does. */
	c->pi_tags = (struct nvmeta_pi_tags){
		.ref_tag = nvmeta_pi_ref_tag(&c->pi_fmt, c->res->slba),
		.app_tag = PI_APP_TAG, .app_mask = 0xffff, .checks = NVMETA_PI_CHECK_ALL,
	};
	return true;
}

int nvmeta_check_pi_images(struct check *c, size_t data_len, size_t meta_len)
{
	struct nvmeta_buf d = { .len = data_len }, m = { .len = meta_len };

	d.addr = c->want[DATA_BYTES] = malloc(data_len);
	m.addr = c->want[META_BYTES] = meta_len ? malloc(meta_len) : NULL;
	if (!d.addr || (meta_len && !m.addr))
		return nvmeta_check_fail(-ENOMEM, "images of %zu data and %zu metadata bytes with PI",
				   data_len, meta_len);
	nvmeta_check_fill(&d, c, c->lba_bytes, DATA_BYTES);
	if (meta_len)
		nvmeta_check_fill(&m, c, c->info->ms, META_BYTES);
	return nvmeta_pi_generate(&c->pi_fmt, d.addr, m.addr, c->res->nlb, &c->pi_tags);
}

/* The check values the specification gives for "123456789". */
static bool guard_spec_ok(unsigned int bits)
{
	static const char v[] = "123456789";

	switch (bits) {
	case 16: return nvmeta_crc16_t10dif(v, 9, 0) == 0xd0db;
	case 32: return nvmeta_crc32c(v, 9, 0) == 0xe3069283;
	default: return nvmeta_crc64_nvme(v, 9, 0) == 0xae8b14860a799888ull;
	}
}

/* Every byte of @s is what the host wrote; the first that is not goes in
 * the result, without a verdict. */
static bool bytes_equal(struct check *c, const struct check_side *s)
{
	return !mismatch(s->data, c, c->lba_bytes, DATA_BYTES, "data") &&
	       !(s->meta && mismatch(s->meta, c, c->info->ms, META_BYTES, "metadata"));
}

/* Judge a PI case's I/O on @s that returned @ret.  Returns true when the
 * case has its verdict. */
static bool pi_judged(struct check *c, struct check_side *s, bool is_read, int ret)
{
	struct check_pi o = {
		.is_read = is_read, .ret = ret, .status = s->status, .prchk = c->prchk,
		.path = s->observed >= 0 ? (enum nvmeta_path)s->observed : s->expect_path,
		.plain = !case_buf(s), .slba = c->res->slba, .bytes_match = true,
	};
	void *meta = s->meta ? s->meta->addr : NULL;

	if (!ret)
		return false;
	c->res->err = ret;
	if (is_read && ret == -EILSEQ) {
		if (!canaries_intact(c))
			return true;
		o.bytes_match = bytes_equal(c, s);
		nvmeta_pi_verify(&c->pi_fmt, s->data->addr, meta, c->res->nlb, &c->pi_tags, &o.rep);
	} else if (!is_read && nvmeta_check_e2e_field(&s->status) != NVMETA_PI_FIELD_NONE) {
		o.source_verifies = !nvmeta_pi_verify(&c->pi_fmt, s->data->addr, meta, c->res->nlb,
						      &c->pi_tags, &o.rep);
		o.guard_spec_ok = guard_spec_ok(c->pi_fmt.guard_bits);
		o.guard_data_only = c->pi_fmt.pi_first || c->pi_fmt.ms == c->pi_fmt.pi_size;
	}
	return nvmeta_check_pi_verdict(c->info, &o, c->res);
}

static void exercise(struct check *c)
{
	int want_w = nvmeta_check_expected_err(c, &c->src, false);
	int want_r = nvmeta_check_expected_err(c, &c->dst, true);
	int ret;

	ret = do_io(c, NVMETA_OP_WRITE, &c->src);
	if (write_source_refused(c, ret, want_w))
		return;
	if (c->pi && !want_w && pi_judged(c, &c->src, false, ret))
		return;
	if (!nvmeta_check_io_outcome(c, "write", &c->src, ret, want_w) || !canaries_intact(c) ||
	    !path_as_predicted(c, &c->src, "write"))
		return;
	if (!nvmeta_check_bytes_match(c, &c->src, "write data source", "write metadata source"))
		return;
	if (want_w) {
		verdict(c, NVMETA_VERDICT_PASS, "write refused as predicted: %s", strerror(-want_w));
		return;
	}
	ret = do_io(c, NVMETA_OP_READ, &c->dst);
	if (readonly_destination_written(c, ret, want_r))
		return;
	if (c->pi && !want_r && pi_judged(c, &c->dst, true, ret))
		return;
	if (!nvmeta_check_io_outcome(c, "read", &c->dst, ret, want_r) || !canaries_intact(c) ||
	    !untouched_memory_zero(c))
		return;
	if (!want_r && !path_as_predicted(c, &c->dst, "read"))
		return;
	if (want_r) {
		if (refused_untouched(c)) {
			verdict(c, NVMETA_VERDICT_PASS, "read refused as expected: %s",
				strerror(-want_r));
			probe_words(c);
		}
		return;
	}
	if (!nvmeta_check_bytes_match(c, &c->dst, "data", "metadata"))
		return;
	if (c->pi)
		verdict(c, NVMETA_VERDICT_PASS,
			"%u blocks read back byte-exact; PI (type %u, %u-bit guard) checked by the device (PRCHK %s) and the host",
			c->res->nlb, c->pi_fmt.pi_type, c->pi_fmt.guard_bits, prchk_words(c->prchk));
	else
		verdict(c, NVMETA_VERDICT_PASS, "%u blocks read back byte-exact%s", c->res->nlb,
			c->cut);
}

static void record_case(struct check *c)
{
	struct check_side *s = case_buf(&c->dst) ? &c->dst : &c->src;

	c->res->layout = case_buf(s)->layout;
	c->res->pred = s->pred;
	c->res->observed = s->observed;
	snprintf(c->res->evidence, sizeof(c->res->evidence), "%s", s->evidence);
}

/* ------------------------------------------------------------------ */
/* Kernel-weakness probes: a metadata buffer shorter than nlb x ms     */
/* ------------------------------------------------------------------ */

#define WEAKNESS "kernel weakness: the kernel does not check metadata_len against nlb x ms"
#define WEAKNESS_CLASS "class of CVE-2023-6238; upstream mitigation: metadata SGL"
#define SHORT_BYTES 2	/* pattern kind of the short buffer's own block */
#define KLOG_WAIT_MS 500

/* Something past the buffer moved although the command was refused. */
static void refused_but_moved(const struct nvmeta_dev_info *info, const struct check_short *o,
			      const char *refusal, struct nvmeta_check_result *r)
{
	r->where = o->klog[0] ? "kernel log" : o->is_read ? "past the metadata buffer" : "on disk";
	nvmeta_check_verdict(r, NVMETA_VERDICT_KERNEL_DEFECT,
		    "%s, yet %zu bytes past the declared %zu-byte buffer moved (%s, kernel %s)%s%s",
		    refusal, o->past, o->declared, path_words(o->path), info->kernel.release,
		    o->klog[0] ? "; kernel log: " : "", o->klog);
}

static void short_refused(const struct nvmeta_dev_info *info, const struct check_short *o,
			  struct nvmeta_check_result *r)
{
	char why[160];
	bool moved = o->past || o->klog[0];

	if (o->ret == -EIO && o->status.status) {
		snprintf(why, sizeof(why), "device refused: NVMe status 0x%03x (%s)",
			 o->status.status, nvmeta_status_name(&o->status));
		if (moved)
			return refused_but_moved(info, o, why, r);
		nvmeta_check_verdict(r, NVMETA_VERDICT_PASS,
			    "device refused: metadata SGL length check (NVMe status 0x%03x, %s); nothing past the declared %zu bytes moved",
			    o->status.status, nvmeta_status_name(&o->status), o->declared);
		return;
	}
	snprintf(why, sizeof(why), "the kernel refused: %s", strerror(-o->ret));
	if (moved)
		return refused_but_moved(info, o, why, r);
	nvmeta_check_verdict(r, NVMETA_VERDICT_PASS,
		    "the kernel refused metadata_len %zu for %zu bytes: %s; nothing moved",
		    o->declared, o->needed, strerror(-o->ret));
}

void nvmeta_check_short_verdict(const struct nvmeta_dev_info *info, const struct check_short *o,
				struct nvmeta_check_result *r)
{
	const char *rel = info->kernel.release;

	if (o->ret)
		return short_refused(info, o, r);
	if (o->is_read && o->past) {
		r->where = "past the metadata buffer";
		nvmeta_check_verdict(r, NVMETA_VERDICT_KERNEL_DEFECT,
			    "%s: the device wrote %zu bytes past the declared %zu-byte buffer, into the caller's memory (%s; %s; kernel %s)",
			    WEAKNESS, o->past, o->declared, path_words(o->path), WEAKNESS_CLASS, rel);
	} else if (o->is_read && o->klog[0]) {
		r->where = "kernel log";
		nvmeta_check_verdict(r, NVMETA_VERDICT_KERNEL_DEFECT,
			    "%s: the device wrote past the kernel's %zu-byte bounce buffer (%zu bytes for %zu; %s; %s; kernel %s); kernel log: %s",
			    WEAKNESS, o->declared, o->needed, o->declared, path_words(o->path),
			    WEAKNESS_CLASS, rel, o->klog);
	} else if (!o->is_read && o->past) {
		r->where = "on disk";
		nvmeta_check_verdict(r, NVMETA_VERDICT_KERNEL_DEFECT,
			    "%s: the device read %zu bytes past the declared %zu-byte buffer and stored them on disk (%s; %s; kernel %s): %s%s",
			    WEAKNESS, o->past, o->declared, path_words(o->path), WEAKNESS_CLASS, rel,
			    o->past_is_caller ? "the caller's memory after the buffer" :
			    "memory that is not the caller's, starting ", o->past_is_caller ? "" : o->stored);
	} else {
		r->where = NULL;
		nvmeta_check_verdict(r, NVMETA_VERDICT_FAIL,
			    "RAW %s with metadata_len %zu for %zu bytes succeeded and nothing past the buffer moved%s: expected a refusal or an overrun (%s, kernel %s)",
			    o->is_read ? "read" : "write", o->declared, o->needed,
			    o->klog[0] ? "" : " (kernel log clean)", path_words(o->path), rel);
	}
}

/* Red zones in the kmalloc cache a @len-byte bounce buffer comes from.
 * Without them the device's overrun lands unseen in other objects. */
static bool red_zones_on(size_t len, char *cache, size_t cache_len)
{
	static const size_t sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096 };
	char path[96], val[8];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes) && sizes[i] < len; i++)
		;
	snprintf(cache, cache_len, "kmalloc-%zu", i < ARRAY_SIZE(sizes) ? sizes[i] : len);
	if (i == ARRAY_SIZE(sizes))
		return false;
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/red_zone", cache);
	return !read_attr(path, val, sizeof(val)) && !strcmp(val, "1");
}

/* /dev/kmsg from its current end: what the kernel logs from now on. */
static int klog_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return nvmeta_check_fail(-errno, "/dev/kmsg: %m");
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return nvmeta_check_fail(-errno, "seek to the end of /dev/kmsg: %m");
	}
	return fd;
}

/* What slub_debug says about the overrun object and its neighbours; its
 * follow-ups (object counts, byte dumps) add nothing. */
static bool slab_report(const char *msg)
{
	return strstr(msg, "Redzone overwritten") || strstr(msg, "Object corrupt") ||
	       strstr(msg, "Freechain corrupt") || strstr(msg, "Poison overwritten");
}

/* "BUG kmalloc-64 (Tainted: G    B   W  ): Object corrupt" without the
 * taint flags, which change as the reports come; addresses and byte
 * dumps ("[Right Redzone overwritten] 0xff...") go too. */
static void slab_report_trim(char *msg)
{
	char *open = strstr(msg, " ("), *close = open ? strstr(open, "):") : NULL;
	char *addr = strstr(msg, " 0x");

	if (addr)
		*addr = '\0';
	if (open && close && !strncmp(msg, "BUG ", 4))
		memmove(open, close + 1, strlen(close + 1) + 1);
}

/* Append to @out, once each, the records logged since klog_open() that
 * report a slab overrun, as slub_debug does when it frees the overrun
 * bounce buffer (before the command completes). */
static void klog_collect(int fd, char *out, size_t len)
{
	char rec[2048], *msg, *nl;
	size_t used = strlen(out);
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records lost to wrap-around */
		if (n <= 0)
			return;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg || !slab_report(++msg))
			continue;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		slab_report_trim(msg);
		if (strstr(out, msg) || used + 1 >= len)
			continue;
		used += snprintf(out + used, len - used, "%s\"%s\"", used ? ", " : "", msg);
		if (used >= len)
			used = len - 1;
	}
}

/* The extent of the canary bytes after @b that changed. */
static size_t canary_extent(const struct nvmeta_buf *b)
{
	const uint8_t *after = (const uint8_t *)b->addr + b->len;
	size_t i, last = 0;

	for (i = 0; i < b->canary_after; i++)
		if (after[i] != nvmeta_buf_canary(i))
			last = i + 1;
	return last;
}

/* After a short write: what the device stored for blocks 1 on, read back
 * (validated) into @got. */
static void stored_past(struct check *c, const struct nvmeta_buf *shortb,
			const struct nvmeta_buf *got, struct check_short *o)
{
	const uint8_t *p = (const uint8_t *)got->addr + o->declared;
	const uint8_t *after = (const uint8_t *)shortb->addr + shortb->len;
	size_t n = o->needed - o->declared, i, at, ms = c->info->ms;

	o->past_is_caller = true;
	for (i = 0; i < n; i++) {
		at = o->declared + i;
		if (p[i] != pattern(c->res->slba + at / ms, at % ms, c->run, META_BYTES))
			o->past = i + 1;
		if (p[i] != after[i])
			o->past_is_caller = false;
	}
	for (i = 0; i < 16 && i < n; i++)
		snprintf(o->stored + 3 * i, sizeof(o->stored) - 3 * i, "%02x%s", p[i],
			 i + 1 < 16 && i + 1 < n ? " " : "");
}

static void short_record(struct check *c, const struct check_side *s)
{
	c->res->layout = s->meta ? s->meta->layout : c->tc->layout;
	c->res->pred = s->pred;
	c->res->observed = s->observed;
	snprintf(c->res->evidence, sizeof(c->res->evidence), "%s", s->evidence);
}

/* Run the RAW command on @s and collect what moved into @o. */
static bool short_command(struct check *c, struct check_side *s, int klog, struct check_short *o)
{
	int waited, ret;

	o->ret = do_io(c, o->is_read ? NVMETA_OP_READ : NVMETA_OP_WRITE, s);
	o->status = s->status;
	o->path = s->observed >= 0 ? (enum nvmeta_path)s->observed : s->expect_path;
	if (o->is_read)
		o->past = canary_extent(s->meta);
	if (klog >= 0)
		klog_collect(klog, o->klog, sizeof(o->klog));
	/* The report comes from the free of the bounce buffer; give a slow
	 * console a moment before calling a success clean. */
	for (waited = 0; klog >= 0 && o->is_read && !o->ret && !o->past && !o->klog[0] &&
	     o->path == NVMETA_PATH_BOUNCE && waited < KLOG_WAIT_MS; waited += 50) {
		usleep(50 * 1000);
		klog_collect(klog, o->klog, sizeof(o->klog));
	}
	if (o->is_read || o->ret)
		return true;
	/* What did the device store for the blocks past the first? */
	ret = do_io(c, NVMETA_OP_READ, &c->dst);
	if (!nvmeta_check_io_outcome(c, "read back", &c->dst, ret, 0))
		return false;
	stored_past(c, s->meta, c->dst.meta, o);
	return true;
}

/* Why a probe cannot run here, or NULL. */
static const char *short_unsafe(struct check *c, const struct check_side *s, int klog,
				char *why, size_t len)
{
	char cache[32];

	if (s->meta->canary_after < (size_t)c->res->nlb * c->info->ms - s->meta->len)
		return "too few canary bytes after the buffer";
	/* A page-aligned probe is there for the pinned path; where it would
	 * bounce (a kernel that pins no metadata, or limits that do not let
	 * it) the misaligned probes cover the bounce path, and the
	 * heap-damaging read must stay the last case. */
	if (c->tc->layout != NVMETA_LAYOUT_MISALIGNED && s->expect_path != NVMETA_PATH_PIN) {
		/* Cut short, the reason still says enough. */
		if (snprintf(why, len, "for the pinned path, but this buffer would %s (%s%s%s): the misaligned probes cover that path",
			     nvmeta_path_name(s->expect_path), s->pred.reason,
			     s->probe_path_why[0] ? "; " : "", s->probe_path_why) >= (int)len)
			why[len - 1] = '\0';
		return why;
	}
	if (s->expect_path != NVMETA_PATH_BOUNCE || c->tc->dir != NVMETA_DIR_READ)
		return NULL;
	if (!red_zones_on(s->meta->len, cache, sizeof(cache))) {
		snprintf(why, len, "bounce path without red zones in %s: the device's overrun would land unseen in kernel memory (boot with slub_debug=FZ)",
			 cache);
		return why;
	}
	/* Red zones catch a short overrun; a long one wrecks the neighbouring
	 * objects first: on 4096+64 (448 bytes past a 64-byte buffer) 7.2.13
	 * died of a general protection fault in interrupt context before the
	 * case could report.  112 bytes (4096+16) were caught and reported. */
	if ((size_t)c->res->nlb * c->info->ms - s->meta->len > HEAP_OVERRUN_MAX) {
		snprintf(why, len, "an overrun of %zu bytes would wreck the kernel heap before slub_debug reports it (at most %u here; formats with less metadata show the weakness)",
			 (size_t)c->res->nlb * c->info->ms - s->meta->len, HEAP_OVERRUN_MAX);
		return why;
	}
	if (klog < 0) {
		snprintf(why, len, "bounce path, but the kernel log cannot be read: %s",
			 nvmeta_last_error());
		return why;
	}
	return NULL;
}

static void short_meta(struct check *c)
{
	const struct nvmeta_check_case *tc = c->tc;
	struct nvmeta_buf_spec spec = {
		.layout = tc->layout, .offset = tc->offset, .len = c->info->ms,
		.flags = NVMETA_BUF_CANARY | NVMETA_BUF_GUARD,
	};
	struct check_short o = {
		.is_read = tc->dir == NVMETA_DIR_READ, .declared = c->info->ms,
		.needed = (size_t)c->res->nlb * c->info->ms,
	};
	struct check_side s = { .meta_is_case = true, .observed = -1 };
	const char *unsafe;
	char why[384];
	int klog, ret;

	ret = nvmeta_buf_alloc(c->info, &spec, &s.meta);
	if (ret) {
		verdict(c, NVMETA_VERDICT_SKIP, "buffer setup: %s", nvmeta_last_error());
		return;
	}
	s.data = o.is_read ? c->dst.data : c->src.data;
	predict_side(c, &s);
	klog = klog_open();
	unsafe = short_unsafe(c, &s, klog, why, sizeof(why));
	if (unsafe) {
		verdict(c, NVMETA_VERDICT_SKIP, "%s", unsafe);
		goto out;
	}
	if (!o.is_read)
		nvmeta_check_fill(s.meta, c, c->info->ms, SHORT_BYTES);
	/* A known state on the disk first: every block's metadata written. */
	ret = do_io(c, NVMETA_OP_WRITE, &c->src);
	if (!nvmeta_check_io_outcome(c, "validated write", &c->src, ret, 0) || !canaries_intact(c))
		goto out;
	if (!short_command(c, &s, klog, &o) || !canaries_intact(c))
		goto out;
	if (!o.ret && !path_as_predicted(c, &s, o.is_read ? "read" : "write"))
		goto out;
	c->res->err = o.ret;
	nvmeta_check_short_verdict(c->info, &o, c->res);
out:
	short_record(c, &s);
	if (klog >= 0)
		close(klog);
	nvmeta_buf_free(s.meta);
}

static bool place_case(struct check *c, unsigned int index)
{
	const struct nvmeta_check_case *tc = c->tc;
	struct nvmeta_check_result *r = c->res;
	uint32_t max_nlb;

	c->has_meta = c->info->ms && !c->info->extended_lba;
	if (tc->kind == NVMETA_KIND_META && !c->has_meta) {
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

#define KNOWN_FLAGS (NVMETA_CHECK_SHORT_META | NVMETA_CHECK_REFORMAT | \
		     NVMETA_CHECK_UNTOUCHED | NVMETA_CHECK_READONLY | NVMETA_CHECK_PI | \
		     NVMETA_CHECK_FIXED_BUF | NVMETA_CHECK_COMMAND | NVMETA_CHECK_VEC | \
		     NVMETA_CHECK_RW_VEC)
/* A command case's command, in bits 15:8. */
#define COMMAND_BITS 0xff00u
/* Generation writes the write's source; the probes, the reformat case and
 * the registered-buffer case send commands of their own.  Vectored data
 * goes with PI: the library generates and verifies over the iovecs. */
#define NOT_WITH_PI (NVMETA_CHECK_READONLY | NVMETA_CHECK_SHORT_META | NVMETA_CHECK_REFORMAT | \
		     NVMETA_CHECK_FIXED_BUF | NVMETA_CHECK_RW_VEC)

/* A case from a caller: refuse what this version would silently ignore
 * or misread, so that later meanings of resv or new flags stay safe. */
static int case_valid(const struct nvmeta_check_case *tc)
{
	const char *name = tc->name ? tc->name : "(unnamed)";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tc->resv); i++)
		if (tc->resv[i])
			return nvmeta_check_fail(-EINVAL, "case %s: resv[%zu] is %#llx, must be zero",
					   name, i, (unsigned long long)tc->resv[i]);
	if (tc->flags & NVMETA_CHECK_COMMAND) {
		if ((tc->flags & ~(NVMETA_CHECK_COMMAND | COMMAND_BITS)) ||
		    NVMETA_CHECK_CMD_OF(tc->flags) >= NVMETA_CHECK_CMD_COUNT)
			return nvmeta_check_fail(-EINVAL, "case %s: flags %#x: NVMETA_CHECK_COMMAND goes alone, with a command below %u in bits 15:8",
						 name, tc->flags, NVMETA_CHECK_CMD_COUNT);
	} else if (tc->flags & ~(uint32_t)KNOWN_FLAGS) {
		return nvmeta_check_fail(-EINVAL, "case %s: unknown flags %#x", name,
				   tc->flags & ~(uint32_t)KNOWN_FLAGS);
	}
	if ((tc->flags & NVMETA_CHECK_PI) && (tc->flags & NOT_WITH_PI))
		return nvmeta_check_fail(-EINVAL, "case %s: flags %#x: NVMETA_CHECK_PI cannot go with %#x",
				   name, tc->flags, tc->flags & NOT_WITH_PI);
	if (tc->kind != NVMETA_KIND_META && tc->kind != NVMETA_KIND_DATA)
		return nvmeta_check_fail(-EINVAL, "case %s: kind %d is neither meta nor data", name,
				   (int)tc->kind);
	switch (tc->backing) {
	case NVMETA_BACKING_ANON:
	case NVMETA_BACKING_MEMFD:
	case NVMETA_BACKING_HUGE:
		break;
	default:
		return nvmeta_check_fail(-EINVAL, "case %s: backing %d: the checker allocates only anon, memfd or huge memory",
				   name, (int)tc->backing);
	}
	if (tc->layout > NVMETA_LAYOUT_MALLOC)
		return nvmeta_check_fail(-EINVAL, "case %s: layout %s cannot be allocated by the checker",
				   name, nvmeta_layout_name(tc->layout));
	return 0;
}

/* What the attribute road cannot carry, said once per case. */
static const char *road_refuses(const struct nvmeta_check_case *tc)
{
	if (tc->flags & (NVMETA_CHECK_SHORT_META | NVMETA_CHECK_REFORMAT | NVMETA_CHECK_PI |
			 NVMETA_CHECK_FIXED_BUF | NVMETA_CHECK_COMMAND | NVMETA_CHECK_VEC))
		return "a passthrough case (short metadata, reformat, host PI, registered buffers, vectored data and the NVM commands go through passthrough only)";
	if (tc->kind == NVMETA_KIND_DATA)
		return "a data layout case: O_DIRECT wants aligned data, where passthrough bounces";
	return NULL;
}

static int check_run2(struct check *c, unsigned int index);

int nvmeta_check_run(const struct nvmeta_dev *dev, struct io_uring *ring,
		     struct nvmeta_kpath *kp, const struct nvmeta_check_case *tc,
		     unsigned int index, unsigned int run, struct nvmeta_check_result *res)
{
	return nvmeta_check_run_road(dev, NULL, ring, kp, tc, index, run, res);
}

int nvmeta_check_run_road(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			  struct io_uring *ring, struct nvmeta_kpath *kp,
			  const struct nvmeta_check_case *tc, unsigned int index, unsigned int run,
			  struct nvmeta_check_result *res)
{
	return nvmeta_check_run_probed(dev, bdev, ring, kp, NULL, tc, index, run, res);
}

/* Whether case @tc is judged against a probe: a read-only destination
 * (its errno), or a metadata layout whose path the kprobes observe
 * (pinning at all). */
static bool needs_probes(const struct nvmeta_check_case *tc, const struct nvmeta_kpath *kp)
{
	if (tc->flags & (NVMETA_CHECK_REFORMAT | NVMETA_CHECK_FIXED_BUF | NVMETA_CHECK_COMMAND))
		return false;
	return (tc->flags & NVMETA_CHECK_READONLY) || (kp && tc->kind == NVMETA_KIND_META);
}

int nvmeta_check_run_probed(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			    struct io_uring *ring, struct nvmeta_kpath *kp,
			    const struct nvmeta_check_probes *probes,
			    const struct nvmeta_check_case *tc, unsigned int index,
			    unsigned int run, struct nvmeta_check_result *res)
{
	struct check c = { .dev = dev, .bdev = bdev, .info = nvmeta_dev_info(dev), .ring = ring, .kp = kp,
			   .tc = tc, .res = res, .run = run, .probes = probes };
	const char *why;
	int ret;

	nvmeta_check_error_clear();
	memset(res, 0, sizeof(*res));
	res->tc = tc;
	res->observed = -1;
	ret = case_valid(tc);
	if (ret)
		return ret;
	if (bdev && (ret = nvmeta_bdev_road(bdev)))
		return ret;
	if (bdev && (why = road_refuses(tc))) {
		verdict(&c, NVMETA_VERDICT_SKIP, "attribute road: %s", why);
		return 0;
	}
	if (!bdev && (tc->flags & NVMETA_CHECK_RW_VEC)) {
		verdict(&c, NVMETA_VERDICT_SKIP, "an attribute-road case (nvmeta-check --road rw): passthrough's vectored cases are the vec-* ones");
		return 0;
	}
	return check_run2(&c, index);
}

static int check_run2(struct check *c, unsigned int index)
{
	const struct nvmeta_check_case *tc = c->tc;
	const struct nvmeta_dev *dev = c->dev;
	struct nvmeta_check_result *res = c->res;
	struct io_uring *ring = c->ring;
	size_t sentinel = sentinel_len();
	struct nvmeta_check_probes *own = NULL;
	int ret;

	if (tc->flags & NVMETA_CHECK_REFORMAT)
		return nvmeta_check_reformat(dev, ring, res);
	c->lba_bytes = c->info->lba_size + (c->info->extended_lba ? c->info->ms : 0);
	if (!place_case(c, index))
		return 0;
	if (tc->flags & NVMETA_CHECK_FIXED_BUF)
		return nvmeta_check_fixed_buf(dev, res, tc->flags & NVMETA_CHECK_VEC);
	if (tc->flags & NVMETA_CHECK_COMMAND)
		return nvmeta_check_command(c);
	if (!pi_setup(c))
		return 0;
	/* Without the caller's probes, the ones a case needs run for it. */
	if (!c->probes && needs_probes(tc, c->kp)) {
		own = malloc(sizeof(*own));
		if (!own)
			return nvmeta_check_fail(-ENOMEM, "out of memory");
		nvmeta_check_probe(dev, c->bdev, c->kp, own);
		c->probes = own;
	}
	c->sentinel = mmap(NULL, sentinel, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (c->sentinel == MAP_FAILED) {
		ret = nvmeta_check_fail(-errno, "mmap: %m");
		free(own);
		return ret;
	}
	ret = alloc_side(c, &c->src, false);
	if (!ret)
		ret = alloc_side(c, &c->dst, true);
	if (!ret && c->pi)
		ret = nvmeta_check_pi_images(c, c->src.data->len, c->src.meta ? c->src.meta->len : 0);
	if (!ret)
		ret = prepare(c);
	if (ret) {
		verdict(c, ret == -EOPNOTSUPP || ret == -ENOSPC ? NVMETA_VERDICT_SKIP :
			NVMETA_VERDICT_FAIL, "buffer setup: %s", nvmeta_last_error());
		goto out;
	}
	c->src.observed = c->dst.observed = -1;
	if (tc->flags & NVMETA_CHECK_SHORT_META) {
		short_meta(c);
		goto out;
	}
	predict_side(c, &c->src);
	predict_side(c, &c->dst);
	res->expect_err = nvmeta_check_expected_err(c, &c->dst, true);
	exercise(c);
	record_case(c);
out:
	free_side(&c->src);
	free_side(&c->dst);
	free(c->want[DATA_BYTES]);
	free(c->want[META_BYTES]);
	munmap(c->sentinel, sentinel);
	free(own);
	return 0;
}
