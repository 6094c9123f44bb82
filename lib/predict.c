// SPDX-License-Identifier: MIT
/*
 * A model of the kernel's decision for a passthrough user buffer.
 *
 * Metadata (block/bio-integrity.c, bio_integrity_map_user(), 6.8 on):
 * more than BIO_MAX_VECS pages or more than max_hw_sectors fails with
 * E2BIG; an address or length off dma_alignment, or more folio-merged
 * segments than max_integrity_segments, is copied through a kernel
 * buffer; anything else is pinned.  Before 6.8 the nvme driver copies all
 * user metadata through kmalloc.
 *
 * Data (block/blk-map.c, blk_rq_map_user_iov()): an address or length off
 * dma_alignment is copied; otherwise pages are pinned and merged where
 * physically contiguous, and more segments than max_segments fail with
 * EINVAL (there is no copy fallback).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include "internal.h"

#define BIO_MAX_VECS 256

struct subject {
	const struct nvmeta_dev_info *info;
	enum nvmeta_kind kind;
	uintptr_t addr;
	size_t len;
	struct nvmeta_prediction *pred;
};

__attribute__((format(printf, 4, 5)))
static bool decide(struct subject *s, enum nvmeta_path path, int err, const char *fmt, ...)
{
	va_list ap;

	s->pred->path = path;
	s->pred->err = err;
	va_start(ap, fmt);
	vsnprintf(s->pred->reason, sizeof(s->pred->reason), fmt, ap);
	va_end(ap);
	return true;
}

/*
 * Ranges the kernel is never handed: one that wraps past the top of the
 * address space fails its access check (EFAULT), and no command carries
 * more than its 32-bit data or metadata length holds.  Checked first, so
 * that the page counts below fit an unsigned int.
 */
static bool impossible_range(struct subject *s)
{
	uintptr_t end;

	if (__builtin_add_overflow(s->addr, s->len, &end))
		return decide(s, NVMETA_PATH_FAIL, -EFAULT,
			      "%zu bytes at 0x%lx wrap past the end of the address space: the kernel refuses the range (EFAULT)",
			      s->len, (unsigned long)s->addr);
	if ((uint64_t)s->len > UINT32_MAX)
		return decide(s, NVMETA_PATH_FAIL, -E2BIG,
			      "%zu bytes are more than %u, the most one command's 32-bit length can carry",
			      s->len, UINT32_MAX);
	return false;
}

/* Pages from the start of @addr's page to the end of @len bytes; the
 * range was checked by impossible_range(). */
static unsigned int span_pages(uintptr_t addr, size_t len, size_t page)
{
	uint64_t span = (uint64_t)(addr % page) + len;

	return span / page + !!(span % page);
}

static bool rule_old_kernel(struct subject *s)
{
	const struct nvmeta_kernel *k = &s->info->kernel;

	if (s->kind != NVMETA_KIND_META || NVMETA_KERNEL_AT_LEAST(k, 6, 8))
		return false;
	return decide(s, NVMETA_PATH_BOUNCE, 0,
		      "kernel %u.%u is before 6.8: the nvme driver copies all user metadata through kmalloc",
		      k->major, k->minor);
}

static bool rule_max_hw_sectors(struct subject *s)
{
	uint64_t max = (uint64_t)s->info->limits.max_hw_sectors_kb * 1024;

	if (!max || s->len <= max)
		return false;
	if (s->kind == NVMETA_KIND_META)
		return decide(s, NVMETA_PATH_FAIL, -E2BIG,
			      "%zu metadata bytes exceed max_hw_sectors_kb %u",
			      s->len, s->info->limits.max_hw_sectors_kb);
	return decide(s, NVMETA_PATH_FAIL, -EINVAL, "%zu data bytes exceed max_hw_sectors_kb %u",
		      s->len, s->info->limits.max_hw_sectors_kb);
}

static bool rule_vector_limit(struct subject *s)
{
	if (s->kind != NVMETA_KIND_META || s->pred->pages <= BIO_MAX_VECS)
		return false;
	return decide(s, NVMETA_PATH_FAIL, -E2BIG, "spans %u pages, above the %u-vector limit",
		      s->pred->pages, BIO_MAX_VECS);
}

/* The data copy path allocates its bounce pages one at a time, and each
 * is a segment unless it happens to follow the previous one physically.
 * Seen on 6.1, where 512 KiB of misaligned data needs 128 pages against
 * max_segments 127: one run failed with EINVAL, the next went through. */
static bool data_bounce_too_long(struct subject *s)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int pages = span_pages(0, s->len, page);

	if (s->kind != NVMETA_KIND_DATA || pages <= s->info->limits.max_segments)
		return false;
	s->pred->may_err = -EINVAL;
	return decide(s, NVMETA_PATH_BOUNCE, 0,
		      "address or length off the %u-byte DMA alignment: copied through %u bounce pages, more than max_segments %u, so EINVAL unless the kernel's pages happen to merge",
		      s->info->limits.dma_alignment + 1, pages, s->info->limits.max_segments);
}

static bool rule_alignment(struct subject *s)
{
	uint32_t mask = s->info->limits.dma_alignment;

	if (!((s->addr | s->len) & mask))
		return false;
	if (data_bounce_too_long(s))
		return true;
	if (s->addr & mask)
		return decide(s, NVMETA_PATH_BOUNCE, 0,
			      "address 0x%lx is not %u-byte aligned (dma_alignment 0x%x): copied",
			      (unsigned long)s->addr, mask + 1, mask);
	return decide(s, NVMETA_PATH_BOUNCE, 0,
		      "length %zu is not a multiple of %u (dma_alignment 0x%x): copied",
		      s->len, mask + 1, mask);
}

static bool rule_segments(struct subject *s)
{
	struct nvmeta_prediction *p = s->pred;
	const char *what = s->kind == NVMETA_KIND_META ? "max_integrity_segments" : "max_segments";
	const char *how = p->assumed ? " (assumed: pages unknown)" : "";

	p->segments_matter = true;
	if (p->segments <= p->max_segments)
		return false;
	if (s->kind == NVMETA_KIND_META)
		return decide(s, NVMETA_PATH_BOUNCE, 0,
			      "%u physical segments%s exceed %s %u: copied",
			      p->segments, how, what, p->max_segments);
	return decide(s, NVMETA_PATH_FAIL, -EINVAL,
		      "%u physical segments%s exceed %s %u: the kernel fails data it cannot map (huge pages avoid it)",
		      p->segments, how, what, p->max_segments);
}

/* Count segments the way the kernel will: metadata pages merge only
 * inside one folio, data pages merge wherever frames are contiguous. */
static void count_segments(struct subject *s)
{
	struct nvmeta_prediction *p = s->pred;
	struct nvmeta_page_map pm;
	int ret;

	p->max_segments = s->kind == NVMETA_KIND_META ? s->info->limits.max_integrity_segments :
			  s->info->limits.max_segments;
	ret = nvmeta_page_map_read((const void *)s->addr, s->len, &pm);
	p->assumed = ret || (s->kind == NVMETA_KIND_META && !pm.folios_known);
	if (p->assumed)
		p->segments = p->pages;
	else
		p->segments = s->kind == NVMETA_KIND_META ? pm.folio_runs : pm.phys_runs;
}

int nvmeta_predict(const struct nvmeta_dev_info *info, enum nvmeta_kind kind,
		   const void *addr, size_t len, struct nvmeta_prediction *pred)
{
	static bool (*const rules[])(struct subject *) = {
		rule_old_kernel, rule_max_hw_sectors, rule_vector_limit,
		rule_alignment, rule_segments,
	};
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct subject s = { info, kind, (uintptr_t)addr, len, pred };
	size_t i;

	memset(pred, 0, sizeof(*pred));
	if (!len)
		return nvmeta_fail(-EINVAL, "predict: zero-length buffer");
	if (impossible_range(&s))
		return 0;
	pred->pages = span_pages(s.addr, len, page);
	count_segments(&s);
	for (i = 0; i < ARRAY_SIZE(rules); i++)
		if (rules[i](&s))
			return 0;
	decide(&s, NVMETA_PATH_PIN, 0, "aligned, %u segment%s within %s %u: pinned",
	       pred->segments, pred->segments == 1 ? "" : "s",
	       kind == NVMETA_KIND_META ? "max_integrity_segments" : "max_segments",
	       pred->max_segments);
	return 0;
}

/* The most iovecs import_iovec() takes (UIO_MAXIOV). */
#define IOV_MAX_SEGS 1024u

/*
 * Vectored data (NVME_URING_CMD_IO_VEC), as blk_rq_map_user_iov() decides
 * for the whole command: every iovec's address and length against
 * dma_alignment (iov_iter_alignment()), and where the queue has a
 * virtual boundary, every inner edge (the start of each iovec but the
 * first, the end of each but the last) against it
 * (iov_iter_gap_alignment()).  One iovec off either and all the data is
 * copied; else each iovec's pages are pinned.  The metadata buffer is
 * decided by itself, as for a flat command: nvmeta_predict().
 */
static bool iov_impossible(struct subject *s, const struct iovec *iov, unsigned int count)
{
	uint64_t total = 0;
	unsigned int i;

	if (count > IOV_MAX_SEGS)
		return decide(s, NVMETA_PATH_FAIL, -EINVAL,
			      "%u iovecs: the kernel takes at most %u (UIO_MAXIOV): import_iovec() fails with EINVAL",
			      count, IOV_MAX_SEGS);
	for (i = 0; i < count; i++) {
		uintptr_t end;

		if (__builtin_add_overflow((uintptr_t)iov[i].iov_base, iov[i].iov_len, &end))
			return decide(s, NVMETA_PATH_FAIL, -EFAULT,
				      "iovec %u: %zu bytes at %p wrap past the end of the address space (EFAULT)",
				      i, iov[i].iov_len, iov[i].iov_base);
		if (iov[i].iov_len && !iov[i].iov_base)
			return decide(s, NVMETA_PATH_FAIL, -EFAULT,
				      "iovec %u: NULL base with %zu bytes: the kernel faults on it (EFAULT)",
				      i, iov[i].iov_len);
		if (__builtin_add_overflow(total, (uint64_t)iov[i].iov_len, &total) ||
		    total > UINT32_MAX)
			return decide(s, NVMETA_PATH_FAIL, -E2BIG,
				      "iovecs 0..%u hold more than %u bytes, more than one command carries (the kernel would cut the transfer short at MAX_RW_COUNT)",
				      i, UINT32_MAX);
	}
	s->len = total;
	if (!total)
		return decide(s, NVMETA_PATH_FAIL, -EINVAL, "%u iovecs of 0 bytes: no data to map", count);
	return false;
}

/* Where an iovec makes the kernel copy all the data, the reason. */
static bool iov_copied(struct subject *s, const struct iovec *iov, unsigned int count)
{
	uint64_t vb = s->info->limits.virt_boundary_mask;
	uint32_t mask = s->info->limits.dma_alignment;
	uintptr_t prev_end = 0;
	bool first = true;
	unsigned int i;

	for (i = 0; i < count; i++) {
		uintptr_t base = (uintptr_t)iov[i].iov_base;

		if (!iov[i].iov_len)
			continue;	/* the kernel skips it */
		if ((base | iov[i].iov_len) & mask) {
			if (data_bounce_too_long(s))
				return true;
			return decide(s, NVMETA_PATH_BOUNCE, 0,
				      "iovec %u (%zu bytes at %p) is off the %u-byte DMA alignment (dma_alignment 0x%x): all %zu data bytes are copied",
				      i, iov[i].iov_len, iov[i].iov_base, mask + 1, mask, s->len);
		}
		if (vb && !first && ((base | prev_end) & vb)) {
			if (data_bounce_too_long(s))
				return true;
			return decide(s, NVMETA_PATH_BOUNCE, 0,
				      "iovec %u starts at %p after iovec %u ended at 0x%lx: an inner edge off the %llu-byte virtual boundary (virt_boundary_mask 0x%llx): all %zu data bytes are copied",
				      i, iov[i].iov_base, i - 1, (unsigned long)prev_end,
				      (unsigned long long)vb + 1, (unsigned long long)vb, s->len);
		}
		prev_end = base + iov[i].iov_len;
		first = false;
	}
	return false;
}

static void iov_pages(struct subject *s, const struct iovec *iov, unsigned int count)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int i;

	for (i = 0; i < count; i++)
		if (iov[i].iov_len)
			s->pred->pages += span_pages((uintptr_t)iov[i].iov_base, iov[i].iov_len, page);
}

/* Pinned: each iovec's physical runs, counted apart (the kernel also
 * merges across two iovecs whose pages touch: an upper bound). */
static void iov_segments(struct subject *s, const struct iovec *iov, unsigned int count)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned int i;

	for (i = 0; i < count; i++) {
		struct nvmeta_prediction one;
		struct subject t = { s->info, NVMETA_KIND_DATA, (uintptr_t)iov[i].iov_base,
				     iov[i].iov_len, &one };

		if (!iov[i].iov_len)
			continue;
		memset(&one, 0, sizeof(one));
		one.pages = span_pages(t.addr, t.len, page);
		count_segments(&t);
		s->pred->segments += one.segments;
		s->pred->assumed |= one.assumed;
	}
}

int nvmeta_predict_iov(const struct nvmeta_dev_info *info, const struct iovec *iov,
		       unsigned int count, struct nvmeta_prediction *pred)
{
	struct subject s = { info, NVMETA_KIND_DATA, 0, 0, pred };

	memset(pred, 0, sizeof(*pred));
	if (!iov || !count)
		return nvmeta_fail(-EINVAL, "predict: no iovecs (%p, %u)", (const void *)iov, count);
	pred->max_segments = info->limits.max_segments;
	if (iov_impossible(&s, iov, count))
		return 0;
	iov_pages(&s, iov, count);
	if (rule_max_hw_sectors(&s) || iov_copied(&s, iov, count))
		return 0;
	iov_segments(&s, iov, count);
	if (rule_segments(&s))
		return 0;
	decide(&s, NVMETA_PATH_PIN, 0, "%u iovecs aligned, %u segment%s within max_segments %u: pinned",
	       count, pred->segments, pred->segments == 1 ? "" : "s", pred->max_segments);
	return 0;
}

/*
 * The attribute road's data: O_DIRECT on the block device (block/fops.c),
 * which never copies data: it pins it or refuses it.  The offset and the
 * total must be whole logical blocks (blkdev_dio_invalid()); each iovec's
 * address must be on dma_alignment and its length a multiple of
 * nvmeta_rw_iov_granule() (before 6.18 blkdev_dio_invalid() checks each
 * segment; from 6.18 the block layer does, as it splits the bio).  Off
 * any of these the I/O fails with EINVAL.  Segments do not fail it: the
 * kernel builds as many bios as the data needs.
 */
static bool rw_data_refused(struct subject *s, const struct iovec *iov, unsigned int count)
{
	const struct nvmeta_dev_info *in = s->info;
	uint32_t mask = in->limits.dma_alignment, granule = nvmeta_rw_iov_granule(in);
	unsigned int i;

	if (in->lba_size && s->len % in->lba_size)
		return decide(s, NVMETA_PATH_FAIL, -EINVAL,
			      "%zu bytes are not whole %u-byte logical blocks: O_DIRECT fails the I/O (EINVAL)",
			      s->len, in->lba_size);
	for (i = 0; i < count; i++) {
		if (!iov[i].iov_len)
			continue;
		if ((uintptr_t)iov[i].iov_base & mask)
			return decide(s, NVMETA_PATH_FAIL, -EINVAL,
				      "iovec %u at %p is off the %u-byte DMA alignment (dma_alignment 0x%x): O_DIRECT fails the I/O (EINVAL); this road never copies data",
				      i, iov[i].iov_base, mask + 1, mask);
		if (granule && iov[i].iov_len % granule)
			return decide(s, NVMETA_PATH_FAIL, -EINVAL,
				      "iovec %u: %zu bytes, not a multiple of %u (%s, Linux %u.%u): O_DIRECT fails the I/O (EINVAL)",
				      i, iov[i].iov_len, granule,
				      granule == in->lba_size ? "whole logical blocks before 6.18" :
				      "the DMA alignment from 6.18",
				      in->kernel.major, in->kernel.minor);
	}
	return false;
}

static void predict_rw_data(const struct nvmeta_dev_info *info, const struct iovec *iov,
			    unsigned int count, struct nvmeta_prediction *pred)
{
	struct subject s = { info, NVMETA_KIND_DATA, 0, 0, pred };

	pred->max_segments = info->limits.max_segments;
	if (iov_impossible(&s, iov, count))
		return;
	iov_pages(&s, iov, count);
	if (rw_data_refused(&s, iov, count))
		return;
	iov_segments(&s, iov, count);
	decide(&s, NVMETA_PATH_PIN, 0, "%u iovec%s aligned as O_DIRECT needs: %zu bytes pinned in %u segment%s (max_segments %u: more would only mean more bios)",
	       count, count == 1 ? "" : "s", s.len, pred->segments, pred->segments == 1 ? "" : "s",
	       pred->max_segments);
}

int nvmeta_predict_rw(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw,
		      struct nvmeta_prediction *data, struct nvmeta_prediction *meta)
{
	const struct nvmeta_io *io = &rw->io;
	bool vec = io->flags & NVMETA_IO_VEC;
	struct iovec flat = { io->data, io->data_len };

	if (data) {
		memset(data, 0, sizeof(*data));
		if (!io->data || !io->data_len)
			return nvmeta_fail(-EINVAL, "predict: no data (%p, %u)", io->data, io->data_len);
		predict_rw_data(&b->info, vec ? io->data : &flat, vec ? io->data_len : 1, data);
	}
	if (!meta)
		return 0;
	memset(meta, 0, sizeof(*meta));
	/* bio_integrity_map_iter() hands the attribute's buffer to the same
	 * pin-or-copy decision as passthrough metadata. */
	if (io->meta)
		return nvmeta_predict(&b->info, NVMETA_KIND_META, io->meta, io->meta_len, meta);
	snprintf(meta->reason, sizeof(meta->reason), "no metadata buffer: the kernel generates and checks the PI itself, where the device has a profile");
	return 0;
}

const char *nvmeta_path_name(enum nvmeta_path path)
{
	static const char *const names[] = { "pin", "bounce", "fail" };

	return path <= NVMETA_PATH_FAIL ? names[path] : "unknown";
}

const char *nvmeta_layout_name(enum nvmeta_layout layout)
{
	static const char *const names[] = {
		"pinned", "misaligned", "fragmented", "huge-span", "page", "malloc", "caller",
	};

	return layout <= NVMETA_LAYOUT_CALLER ? names[layout] : "unknown";
}
