// SPDX-License-Identifier: MIT
/*
 * Buffers of a chosen layout: the same bytes can be made to take the
 * kernel's zero-copy path or its bounce path on purpose.  Each buffer may
 * carry canary bytes on both sides and PROT_NONE guard pages beyond them,
 * so a copy-back that writes one byte too many is caught.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "internal.h"

#define HUGE_SIZE (2ul << 20)

/*
 * The longest buffer: what one command can carry, since nvmeta_io's
 * data_len and meta_len (and the kernel's nvme_uring_cmd lengths) are
 * 32-bit; PTRDIFF_MAX where that is smaller.  It also keeps every size
 * computed below far from SIZE_MAX; they are checked all the same.
 */
#define BUF_MAX_LEN ((size_t)((uintmax_t)UINT32_MAX < (uintmax_t)PTRDIFF_MAX ? \
			      UINT32_MAX : PTRDIFF_MAX))

struct nvmeta_buf_mapping {
	void *base;		/* whole reservation, guard pages included */
	size_t size;
	void *pages;		/* first page holding buffer bytes */
	size_t pages_len;
	void *heap;		/* NVMETA_LAYOUT_MALLOC */
};

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* @v rounded up to a multiple of @to; false when that overflows. */
static bool round_up(size_t v, size_t to, size_t *out)
{
	size_t rem = v % to;

	return !__builtin_add_overflow(v, rem ? to - rem : 0, out);
}

static int check_len(const struct nvmeta_buf_spec *spec)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(spec->resv); i++)
		if (spec->resv[i])
			return nvmeta_fail(-EINVAL, "nvmeta_buf_spec resv[%zu] is 0x%llx: reserved fields must be zero",
					   i, (unsigned long long)spec->resv[i]);
	if (!spec->len)
		return nvmeta_fail(-EINVAL, "buffer length 0");
	if (spec->len > BUF_MAX_LEN)
		return nvmeta_fail(-E2BIG, "buffer length %zu is above %zu, the most one command's 32-bit data or metadata length can carry",
				   spec->len, BUF_MAX_LEN);
	return 0;
}

static int dma_align(const struct nvmeta_dev_info *info, size_t *align)
{
	if (__builtin_add_overflow((size_t)info->limits.dma_alignment, 1, align))
		return nvmeta_fail(-EINVAL, "DMA alignment mask 0x%x has no size_t alignment",
				   info->limits.dma_alignment);
	return 0;
}

/*
 * FRAGMENTED and HUGE_SPAN: the buffer starts @align bytes before a page
 * ends, so it needs @align bytes, (want - 2) whole pages and one byte
 * more to span @want pages.  The default asks for one segment more than
 * the queue allows; a queue that allows UINT_MAX cannot be exceeded.
 */
static int span_start(const struct nvmeta_dev_info *info, const struct nvmeta_buf_spec *spec,
		      size_t page, size_t align, size_t *offset)
{
	uint32_t max = spec->flags & NVMETA_BUF_DATA ? info->limits.max_segments :
		       info->limits.max_integrity_segments;
	unsigned int want = spec->segments;
	size_t need;

	if (spec->layout == NVMETA_LAYOUT_HUGE_SPAN)
		want = 2;
	else if (!want && __builtin_add_overflow(max, 1, &want))
		return nvmeta_fail(-ENOSPC, "no buffer can span more than %u segments, the queue's limit",
				   max);
	if (want < 2)
		want = 2;
	if (align > page)
		return nvmeta_fail(-EINVAL, "a %zu-byte DMA alignment is larger than a %zu-byte page: no aligned start crosses a page",
				   align, page);
	if (__builtin_mul_overflow((size_t)(want - 2), page, &need) ||
	    __builtin_add_overflow(need, align + 1, &need))
		return nvmeta_fail(-ENOSPC, "no buffer can span %u pages of %zu bytes", want, page);
	if (spec->len < need)
		return nvmeta_fail(-ENOSPC, "%zu bytes cannot span %u pages from a %zu-byte aligned start (need at least %zu)",
				   spec->len, want, align, need);
	*offset = page - align;
	return 0;
}

/* The lowest offset in a page at which a buffer of @len bytes still
 * spans @want pages while staying DMA aligned: the late start puts only
 * one aligned unit in the first page. */
int nvmeta_place(const struct nvmeta_dev_info *info, const struct nvmeta_buf_spec *spec,
		 size_t page, struct nvmeta_placement *pl)
{
	size_t align, end;
	int ret;

	memset(pl, 0, sizeof(*pl));
	ret = check_len(spec);
	if (ret)
		return ret;
	ret = dma_align(info, &align);
	if (ret)
		return ret;
	switch (spec->layout) {
	case NVMETA_LAYOUT_MISALIGNED:
		pl->offset = spec->offset ? spec->offset : 1;
		if (!(pl->offset % align))
			return nvmeta_fail(-EINVAL, "offset %zu is a multiple of the DMA alignment %zu: not misaligned",
					   pl->offset, align);
		if (pl->offset >= page)
			return nvmeta_fail(-EINVAL, "offset %zu is not inside a %zu-byte page",
					   pl->offset, page);
		break;
	case NVMETA_LAYOUT_FRAGMENTED:
	case NVMETA_LAYOUT_HUGE_SPAN:
		ret = span_start(info, spec, page, align, &pl->offset);
		if (ret)
			return ret;
		break;
	case NVMETA_LAYOUT_PAGE:
		pl->offset = spec->offset;
		if (pl->offset >= page)
			return nvmeta_fail(-EINVAL, "offset %zu is not inside a %zu-byte page",
					   pl->offset, page);
		break;
	default:
		pl->offset = 0;
		break;
	}
	if (__builtin_add_overflow(pl->offset, spec->len, &end))
		return nvmeta_fail(-E2BIG, "%zu bytes at offset %zu overflow a size_t",
				   spec->len, pl->offset);
	pl->pages = end / page + !!(end % page);
	return 0;
}

/* [guard][lead page][@pages buffer pages][trail page][guard] */
static int frame_size(size_t pages, size_t page, size_t guard, size_t *frame, size_t *size)
{
	if (__builtin_add_overflow(pages, 2, frame) ||
	    __builtin_mul_overflow(*frame, page, size) ||
	    __builtin_add_overflow(*size, 2 * guard, size))
		return nvmeta_fail(-E2BIG, "a frame of %zu pages of %zu bytes overflows a size_t",
				   pages, page);
	return 0;
}

static int reserve(struct nvmeta_buf_mapping *m, size_t size)
{
	m->base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		return nvmeta_fail(-errno, "mmap of %zu bytes: %m", size);
	}
	m->size = size;
	return 0;
}

/* Guard pages at both ends of the reservation. */
static int add_guards(struct nvmeta_buf_mapping *m)
{
	size_t page = page_size();

	if (mprotect(m->base, page, PROT_NONE) ||
	    mprotect((char *)m->base + m->size - page, page, PROT_NONE))
		return nvmeta_fail(-errno, "mprotect of guard pages: %m");
	return 0;
}

/* [guard][lead page][buffer pages][trail page][guard], anonymous. */
static int map_anon(struct nvmeta_buf *buf, const struct nvmeta_placement *pl, bool guard)
{
	struct nvmeta_buf_mapping *m = buf->mapping;
	size_t page = page_size(), g = guard ? page : 0, n = 0, size = 0;
	int ret;

	ret = frame_size(pl->pages, page, g, &n, &size);
	if (ret)
		return ret;
	ret = reserve(m, size);
	if (ret)
		return ret;
	if (guard && (ret = add_guards(m)))
		return ret;
	m->pages = (char *)m->base + g + page;
	m->pages_len = pl->pages * page;
	buf->addr = (char *)m->pages + pl->offset;
	buf->backing = NVMETA_BACKING_ANON;
	return 0;
}

/*
 * The same frame as map_anon(), but every page comes from a shared memfd.
 * With @reversed the buffer's pages map the file backwards: the file's
 * pages are allocated in order, so neighbours in virtual memory are not
 * neighbours in physical memory and each page is a segment of its own.
 */
static int map_memfd(struct nvmeta_buf *buf, const struct nvmeta_placement *pl, bool guard,
		     bool reversed)
{
	struct nvmeta_buf_mapping *m = buf->mapping;
	size_t page = page_size(), g = guard ? page : 0, n = 0, size = 0, i, file_page;
	char *frame;
	void *p;
	int fd, ret;

	ret = frame_size(pl->pages, page, g, &n, &size);
	if (ret)
		return ret;
	ret = reserve(m, size);
	if (ret)
		return ret;
	if (guard && (ret = add_guards(m)))
		return ret;
	fd = memfd_create("nvmeta-buf", MFD_CLOEXEC);
	if (fd < 0)
		return nvmeta_fail(-errno, "memfd_create: %m");
	if (ftruncate(fd, n * page) || fallocate(fd, 0, 0, n * page)) {
		ret = nvmeta_fail(-errno, "memfd of %zu pages: %m", n);
		goto out;
	}
	frame = (char *)m->base + g;
	for (i = 0; i < n; i++) {
		file_page = i;
		if (reversed && i >= 1 && i <= pl->pages)
			file_page = pl->pages + 1 - i;
		p = mmap(frame + i * page, page, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, fd, file_page * page);
		if (p == MAP_FAILED) {
			ret = nvmeta_fail(-errno, "mmap of memfd page %zu: %m", file_page);
			goto out;
		}
	}
	m->pages = frame + page;
	m->pages_len = pl->pages * page;
	buf->addr = (char *)m->pages + pl->offset;
	buf->backing = NVMETA_BACKING_MEMFD;
	ret = 0;
out:
	close(fd);
	return ret;
}

/* One 2 MiB huge page: hugetlbfs when the pool has one, else a THP. */
static int map_huge(struct nvmeta_buf *buf, const struct nvmeta_placement *pl, bool guard)
{
	struct nvmeta_buf_mapping *m = buf->mapping;
	size_t page = page_size(), span, start;
	char *huge;
	int ret;

	if (__builtin_mul_overflow(pl->pages, page, &span) || span > HUGE_SIZE / 2 - page)
		return nvmeta_fail(-E2BIG, "%zu pages of %zu bytes do not fit half a 2 MiB huge page",
				   pl->pages, page);
	m->base = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m->base != MAP_FAILED) {
		m->size = HUGE_SIZE;
		huge = m->base;
	} else {
		m->base = NULL;
		ret = reserve(m, 2 * HUGE_SIZE + page);
		if (ret)
			return ret;
		if (!round_up((uintptr_t)m->base, HUGE_SIZE, &start))
			return nvmeta_fail(-E2BIG, "a mapping at %p cannot be rounded to 2 MiB", m->base);
		huge = (char *)start;
		if (madvise(huge, HUGE_SIZE, MADV_HUGEPAGE))
			return nvmeta_fail(-errno, "madvise(MADV_HUGEPAGE): %m");
		if (guard && mprotect(huge + HUGE_SIZE, page, PROT_NONE))
			return nvmeta_fail(-errno, "mprotect of guard page: %m");
	}
	/* Fault the whole huge page in now: a THP is only a THP once present. */
	memset(huge, 0, HUGE_SIZE);
	m->pages = huge + HUGE_SIZE / 2 - (pl->offset ? page : 0);
	m->pages_len = span;
	buf->addr = (char *)m->pages + pl->offset;
	buf->backing = NVMETA_BACKING_HUGE;
	return 0;
}

static void set_canaries(struct nvmeta_buf *buf, size_t page)
{
	struct nvmeta_buf_mapping *m = buf->mapping;
	char *lead = (char *)m->pages - page;
	char *end = (char *)buf->addr + buf->len;
	size_t i;

	buf->canary_before = (char *)buf->addr - lead;
	buf->canary_after = (char *)m->pages + m->pages_len + page - end;
	for (i = 0; i < buf->canary_before; i++)
		lead[i] = nvmeta_buf_canary(i);
	for (i = 0; i < buf->canary_after; i++)
		end[i] = nvmeta_buf_canary(i);
}

static int map_layout(struct nvmeta_buf *buf, const struct nvmeta_buf_spec *spec,
		      const struct nvmeta_placement *pl)
{
	bool guard = spec->flags & NVMETA_BUF_GUARD;

	if (spec->layout == NVMETA_LAYOUT_FRAGMENTED)
		return map_memfd(buf, pl, guard, true);
	if (spec->layout == NVMETA_LAYOUT_HUGE_SPAN || spec->backing == NVMETA_BACKING_HUGE)
		return map_huge(buf, pl, guard);
	if (spec->backing == NVMETA_BACKING_MEMFD)
		return map_memfd(buf, pl, guard, false);
	return map_anon(buf, pl, guard);
}

static int map_heap(struct nvmeta_buf *buf, const struct nvmeta_buf_spec *spec)
{
	struct nvmeta_buf_mapping *m = buf->mapping;
	size_t c = spec->flags & NVMETA_BUF_CANARY ? NVMETA_HEAP_CANARY : 0, i, size;
	char *p;

	if (__builtin_add_overflow(spec->len, 2 * c, &size))
		return nvmeta_fail(-E2BIG, "%zu bytes and %zu canary bytes overflow a size_t",
				   spec->len, 2 * c);
	p = malloc(size);
	if (!p)
		return nvmeta_fail(-ENOMEM, "malloc of %zu bytes failed", size);
	m->heap = p;
	buf->addr = p + c;
	buf->backing = NVMETA_BACKING_HEAP;
	buf->canary_before = buf->canary_after = c;
	for (i = 0; i < c; i++) {
		p[i] = nvmeta_buf_canary(i);
		p[c + spec->len + i] = nvmeta_buf_canary(i);
	}
	return 0;
}

/* A huge layout is only worth its name if the page really is huge. */
static void note_huge(struct nvmeta_buf *buf)
{
	struct nvmeta_page_map pm;

	if (buf->backing != NVMETA_BACKING_HUGE)
		return;
	if (nvmeta_page_map_read(buf->addr, buf->len, &pm) || !pm.folios_known)
		snprintf(buf->note, sizeof(buf->note), "huge page not verified (pagemap or kpageflags unreadable)");
	else if (pm.huge_pages != pm.pages)
		snprintf(buf->note, sizeof(buf->note), "the kernel gave %u small pages instead of a huge page",
			 pm.pages - pm.huge_pages);
}

static int map_spec(struct nvmeta_buf *buf, const struct nvmeta_dev_info *info,
		    const struct nvmeta_buf_spec *spec)
{
	struct nvmeta_placement pl;
	size_t page = page_size();
	uintptr_t end;
	int ret;

	buf->len = spec->len;
	buf->layout = spec->layout;
	if (spec->layout == NVMETA_LAYOUT_CALLER) {
		if (!spec->addr)
			return nvmeta_fail(-EFAULT, "caller layout without an address");
		if (__builtin_add_overflow((uintptr_t)spec->addr, spec->len, &end))
			return nvmeta_fail(-EINVAL, "caller buffer of %zu bytes at %p wraps past the end of the address space",
					   spec->len, spec->addr);
		buf->addr = spec->addr;
		buf->backing = NVMETA_BACKING_CALLER;
		return 0;
	}
	if (spec->layout == NVMETA_LAYOUT_MALLOC)
		return map_heap(buf, spec);
	ret = nvmeta_place(info, spec, page, &pl);
	if (ret)
		return ret;
	ret = map_layout(buf, spec, &pl);
	if (ret)
		return ret;
	note_huge(buf);
	if ((spec->flags & NVMETA_BUF_CANARY) && !(spec->flags & NVMETA_BUF_UNTOUCHED))
		set_canaries(buf, page);
	if (!(spec->flags & NVMETA_BUF_UNTOUCHED) && buf->backing != NVMETA_BACKING_HUGE)
		memset(buf->addr, 0, buf->len);
	return 0;
}

static void unmap(struct nvmeta_buf *buf)
{
	struct nvmeta_buf_mapping *m = buf->mapping;

	if (m->base)
		munmap(m->base, m->size);
	free(m->heap);
	memset(m, 0, sizeof(*m));
	buf->addr = NULL;
}

/* Try the layouts that can pin, cheapest first, and keep the first that
 * the model says will. */
static int map_pinned(struct nvmeta_buf *buf, const struct nvmeta_dev_info *info,
		      const struct nvmeta_buf_spec *spec)
{
	static const enum nvmeta_backing tries[] = { NVMETA_BACKING_ANON, NVMETA_BACKING_HUGE };
	struct nvmeta_buf_spec s = *spec;
	struct nvmeta_prediction pred;
	size_t i;
	int ret;

	s.layout = NVMETA_LAYOUT_PAGE;
	for (i = 0; i < ARRAY_SIZE(tries); i++) {
		if (spec->backing == NVMETA_BACKING_HUGE && tries[i] != NVMETA_BACKING_HUGE)
			continue;
		s.backing = tries[i];
		ret = map_spec(buf, info, &s);
		if (ret)
			return ret;
		ret = nvmeta_predict(info, spec->flags & NVMETA_BUF_DATA ? NVMETA_KIND_DATA :
				     NVMETA_KIND_META, buf->addr, buf->len, &pred);
		if (ret)
			return ret;
		if (pred.path == NVMETA_PATH_PIN) {
			buf->layout = NVMETA_LAYOUT_PINNED;
			return 0;
		}
		unmap(buf);
		/* A reason that no other backing can change ends the search. */
		if (!pred.segments_matter)
			break;
	}
	return nvmeta_fail(-EOPNOTSUPP, "no %zu-byte buffer can be pinned here: %s", spec->len,
			   pred.reason);
}

int nvmeta_buf_alloc(const struct nvmeta_dev_info *info, const struct nvmeta_buf_spec *spec,
		     struct nvmeta_buf **bufp)
{
	struct nvmeta_buf_spec fallback;
	struct nvmeta_buf *buf;
	int ret;

	ret = check_len(spec);
	if (ret)
		return ret;
	if (spec->layout > NVMETA_LAYOUT_CALLER)
		return nvmeta_fail(-EINVAL, "unknown layout %d", spec->layout);
	buf = calloc(1, sizeof(*buf));
	if (!buf || !(buf->mapping = calloc(1, sizeof(*buf->mapping)))) {
		free(buf);
		return nvmeta_fail(-ENOMEM, "out of memory");
	}
	if (spec->layout == NVMETA_LAYOUT_PINNED)
		ret = map_pinned(buf, info, spec);
	else
		ret = map_spec(buf, info, spec);
	if (ret == -ENOSPC && spec->layout == NVMETA_LAYOUT_FRAGMENTED &&
	    (spec->flags & NVMETA_BUF_FALLBACK)) {
		snprintf(buf->note, sizeof(buf->note), "fell back to misaligned: %s",
			 nvmeta_last_error());
		unmap(buf);
		fallback = *spec;
		fallback.layout = NVMETA_LAYOUT_MISALIGNED;
		fallback.offset = 1;
		ret = map_spec(buf, info, &fallback);
	}
	if (ret) {
		nvmeta_buf_free(buf);
		return ret;
	}
	*bufp = buf;
	return 0;
}

void nvmeta_buf_free(struct nvmeta_buf *buf)
{
	if (!buf)
		return;
	unmap(buf);
	free(buf->mapping);
	free(buf);
}

int nvmeta_buf_check_canaries(const struct nvmeta_buf *buf, ptrdiff_t *bad)
{
	const uint8_t *before = (const uint8_t *)buf->addr - buf->canary_before;
	const uint8_t *after = (const uint8_t *)buf->addr + buf->len;
	ptrdiff_t where;
	size_t i;

	for (i = 0; i < buf->canary_before; i++) {
		if (before[i] != nvmeta_buf_canary(i)) {
			where = (ptrdiff_t)i - (ptrdiff_t)buf->canary_before;
			if (bad)
				*bad = where;
			return nvmeta_fail(-EFAULT, "canary byte %td before the buffer changed: 0x%02x, was 0x%02x",
					   -where, before[i], nvmeta_buf_canary(i));
		}
	}
	for (i = 0; i < buf->canary_after; i++) {
		if (after[i] != nvmeta_buf_canary(i)) {
			if (bad)
				*bad = (ptrdiff_t)(buf->len + i);
			return nvmeta_fail(-EFAULT, "canary byte %zu past the end changed: 0x%02x, was 0x%02x",
					   i, after[i], nvmeta_buf_canary(i));
		}
	}
	return 0;
}

int nvmeta_buf_protect(struct nvmeta_buf *buf, bool readonly)
{
	struct nvmeta_buf_mapping *m = buf->mapping;

	if (!m->pages)
		return nvmeta_fail(-EINVAL, "only mapped layouts can change protection");
	if (mprotect(m->pages, m->pages_len, readonly ? PROT_READ : PROT_READ | PROT_WRITE))
		return nvmeta_fail(-errno, "mprotect: %m");
	return 0;
}
