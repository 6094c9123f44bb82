/* SPDX-License-Identifier: MIT */
/*
 * nvmeta/buf.h: buffers laid out to take a chosen kernel path, metadata
 * slots, and the prediction of the path a buffer takes.
 */
#ifndef NVMETA_BUF_H
#define NVMETA_BUF_H

#include <nvmeta/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Buffers                                                             */
/* ------------------------------------------------------------------ */

enum nvmeta_layout {
	/* Zero-copy guaranteed on this device and kernel: DMA aligned,
	 * inside one page when it fits, else in a huge page. */
	NVMETA_LAYOUT_PINNED,
	/* Off the DMA alignment by spec.offset bytes (default 1). */
	NVMETA_LAYOUT_MISALIGNED,
	/* DMA aligned, but spread over more physical segments than the
	 * queue allows (spec.segments, default max_integrity_segments + 1,
	 * or max_segments + 1 for data): memfd pages mapped in reverse. */
	NVMETA_LAYOUT_FRAGMENTED,
	/* DMA aligned, crossing a 4 KiB boundary inside one huge page. */
	NVMETA_LAYOUT_HUGE_SPAN,
	/* spec.offset bytes into a page (default 0), nothing else promised. */
	NVMETA_LAYOUT_PAGE,
	/* Plain malloc(). */
	NVMETA_LAYOUT_MALLOC,
	/* The caller's memory, spec.addr. */
	NVMETA_LAYOUT_CALLER,
};

enum nvmeta_backing {
	NVMETA_BACKING_ANON,	/* private anonymous memory */
	NVMETA_BACKING_MEMFD,	/* a shared memfd */
	NVMETA_BACKING_HUGE,	/* a 2 MiB hugetlbfs page, else a THP */
	NVMETA_BACKING_HEAP,	/* malloc() */
	NVMETA_BACKING_CALLER,
};

enum nvmeta_buf_flags {
	NVMETA_BUF_CANARY	= 1 << 0,	/* fill the slack around the buffer */
	NVMETA_BUF_GUARD	= 1 << 1,	/* PROT_NONE pages beyond the slack */
	NVMETA_BUF_UNTOUCHED	= 1 << 2,	/* never fault the buffer's pages in */
	NVMETA_BUF_FALLBACK	= 1 << 3,	/* FRAGMENTED too small: MISALIGNED */
	NVMETA_BUF_DATA		= 1 << 4,	/* a data buffer, not metadata */
};

struct nvmeta_buf_spec {
	enum nvmeta_layout layout;
	enum nvmeta_backing backing;	/* ANON (default), MEMFD or HUGE */
	size_t len;
	size_t offset;			/* MISALIGNED, PAGE */
	unsigned int segments;		/* FRAGMENTED */
	uint32_t flags;			/* enum nvmeta_buf_flags */
	void *addr;			/* CALLER */
	uint64_t resv[4];		/* zero: room to grow */
};

struct nvmeta_buf_mapping;

struct nvmeta_buf {
	void *addr;
	size_t len;
	enum nvmeta_layout layout;	/* what it became, after any fallback */
	enum nvmeta_backing backing;
	size_t canary_before;		/* canary bytes right before addr */
	size_t canary_after;		/* canary bytes right after addr + len */
	char note[160];			/* a fallback or an unverified promise */
	struct nvmeta_buf_mapping *mapping;	/* private */
};

/*
 * nvmeta_buf_alloc - allocate a buffer of spec->len bytes laid out as
 * spec->layout asks, for the device described by @info.  The buffer
 * starts zeroed (unless NVMETA_BUF_UNTOUCHED), which also faults its pages
 * in for writing: ready for the kernel, on every kernel, without work
 * per command (see nvmeta_mem_prepare()).
 * The longest buffer is 4 GiB - 1 (UINT32_MAX, or PTRDIFF_MAX where that
 * is smaller): the most one command can carry, since nvmeta_io's data_len
 * and meta_len and the kernel's passthrough lengths are 32-bit.
 * Returns 0, or -EINVAL (bad spec: zero length, an offset that is
 * aligned or not inside a page, a CALLER range that wraps past the end of
 * the address space, FRAGMENTED or HUGE_SPAN with a DMA alignment larger
 * than a page), -ENOSPC (FRAGMENTED: too few bytes to span the pages, or
 * more segments than any buffer can span; set NVMETA_BUF_FALLBACK to get
 * MISALIGNED instead), -EOPNOTSUPP (PINNED: nothing can be pinned here,
 * e.g. a kernel before 6.8 or a length that is not DMA aligned; the
 * message says why), -E2BIG (a length above 4 GiB - 1, the message names
 * both; HUGE_SPAN or huge backing longer than half a huge page), -ENOMEM
 * or an mmap errno.
 */
int nvmeta_buf_alloc(const struct nvmeta_dev_info *info, const struct nvmeta_buf_spec *spec,
		     struct nvmeta_buf **bufp);

/*
 * nvmeta_buf_free - unmap and free @buf; NULL is allowed.  Never free a
 * buffer (or munmap any memory a command uses) before that command's
 * completion was reaped: the kernel keeps a pinned buffer's pages until
 * then, but copies a bounced read out to the address at completion (data
 * off the DMA alignment, and all metadata before Linux 6.8), into
 * whatever is mapped there by then.
 */
void nvmeta_buf_free(struct nvmeta_buf *buf);

/*
 * nvmeta_buf_canary - the byte at offset @i of a run of canary bytes: the
 * run before the buffer starts at addr - canary_before, the run after it
 * at addr + len.  A pattern, not one value, so that a shifted copy shows.
 */
static inline uint8_t nvmeta_buf_canary(size_t i)
{
	return 0xa5 ^ (uint8_t)(i * 0x3b);
}

/*
 * nvmeta_buf_check_canaries - check that no byte around the buffer moved.
 * @bad: on failure, the offset of the first changed byte relative to
 *       buf->addr (negative: before the buffer); may be NULL.
 * Returns 0, or -EFAULT with a message naming the byte.
 */
int nvmeta_buf_check_canaries(const struct nvmeta_buf *buf, ptrdiff_t *bad);

/*
 * nvmeta_buf_protect - make the buffer's pages read-only, or writable
 * again.  Returns 0, -EINVAL for MALLOC and CALLER buffers, or the errno
 * of mprotect(2).
 */
int nvmeta_buf_protect(struct nvmeta_buf *buf, bool readonly);

/*
 * nvmeta_mem_prepare - make memory the caller allocated ready to be read
 * into, once, instead of once per command: fault its pages in for writing
 * (MADV_POPULATE_WRITE, Linux 5.14).  Pinned for a passthrough read, the
 * pages then are the caller's own.  Linux 6.12 pins a read's metadata
 * without asking for write access, so a page never written is the shared
 * zero page, and the device writes into it; nvmeta_prep() and
 * nvmeta_queue() guard against that with one madvise(2) per read on such
 * a kernel, unless NVMETA_IO_NO_PREFAULT says the memory was made ready.
 * Readiness lasts while the pages stay the caller's: fork(2) makes them
 * copy-on-write again, and swapping may take them away (mlock(2) them to
 * be sure).  Returns 0, -EINVAL for a zero length, or -EFAULT for a range
 * that wraps, is not mapped, or cannot be written.
 */
int nvmeta_mem_prepare(void *addr, size_t len);

/*
 * nvmeta_slots_create - carve @count slots of @slot_len bytes out of
 * page-aligned memory so that no slot straddles a page boundary and each
 * starts DMA aligned: every slot is pinned by itself.  For metadata of
 * many I/Os in flight.  The memory is faulted in for writing when it is
 * made, so reads into it need no work per command on any kernel (see
 * nvmeta_mem_prepare()).  Returns 0, -EINVAL when a slot, rounded up to
 * the DMA alignment, is larger than a page or @count is 0, -E2BIG when the
 * slots packed per page need more than 4 GiB - 1 of memory (the bound of
 * nvmeta_buf_alloc()), -ENOMEM.
 */
struct nvmeta_slots;
int nvmeta_slots_create(const struct nvmeta_dev_info *info, size_t slot_len,
			unsigned int count, struct nvmeta_slots **slotsp);

/* nvmeta_slot - the address of slot @index, or NULL past the end. */
void *nvmeta_slot(const struct nvmeta_slots *slots, unsigned int index);

/* nvmeta_slots_destroy - free all slots; NULL is allowed. */
void nvmeta_slots_destroy(struct nvmeta_slots *slots);

/* ------------------------------------------------------------------ */
/* Prediction                                                          */
/* ------------------------------------------------------------------ */

enum nvmeta_path {
	NVMETA_PATH_PIN,	/* the device DMAs straight to the user pages */
	NVMETA_PATH_BOUNCE,	/* the kernel copies through its own buffer */
	NVMETA_PATH_FAIL,	/* the kernel refuses the buffer: see err */
};

struct nvmeta_prediction {
	enum nvmeta_path path;
	int err;			/* NVMETA_PATH_FAIL: the errno expected */
	int may_err;			/* a failure that hangs on pages the kernel
					 * allocates: 0, or the errno it would be */
	unsigned int pages;		/* pages the buffer spans */
	unsigned int segments;		/* segments the kernel will count */
	unsigned int max_segments;	/* the queue limit it is held to */
	bool assumed;			/* segments not read from pagemap */
	bool segments_matter;		/* other memory could change the path */
	char reason[256];
	uint32_t resv[8];		/* zeroed: room to grow */
};

/*
 * nvmeta_predict - predict what the running kernel does with a buffer:
 * pin, bounce or fail, and why in words and numbers (alignment of
 * address and length against dma_alignment, segments against
 * max_integrity_segments or max_segments, pages against the 256-vector
 * limit, size against max_hw_sectors, a kernel before 6.8 that always
 * bounces metadata).  Segments come from /proc/self/pagemap and
 * /proc/kpageflags; when those are unreadable or the pages are not yet
 * faulted in, the worst case is assumed and pred->assumed is set.  A
 * range that wraps the address space is predicted to fail with -EFAULT,
 * one longer than UINT32_MAX (more than a command carries) with -E2BIG.
 * Returns 0 (the prediction is in @pred), or -EINVAL for a zero length.
 */
int nvmeta_predict(const struct nvmeta_dev_info *info, enum nvmeta_kind kind,
		   const void *addr, size_t len, struct nvmeta_prediction *pred);

/*
 * nvmeta_predict_iov - what the running kernel does with the data of a
 * vectored command (NVMETA_IO_VEC): @count iovecs at @iov, decided for
 * the whole command as blk_rq_map_user_iov() decides.  Bounce (all the
 * data copied through kernel pages) when any iovec's address or length
 * is off dma_alignment, or, on a queue with a virtual boundary (NVMe
 * over PCIe: 4 KiB), when an inner edge is off it: the start of an
 * iovec after the first, or the end of one before the last.  Else pin,
 * with the segments of every iovec counted apart against max_segments
 * (an upper bound: the kernel also merges two iovecs whose pages are
 * physically contiguous).  Fail for more than 1024 iovecs (UIO_MAXIOV,
 * -EINVAL), a range that wraps or a NULL base with a length (-EFAULT),
 * more than UINT32_MAX bytes in all (-E2BIG), or more than
 * max_hw_sectors (-EINVAL).  The reason names the first iovec that
 * decided.  The metadata buffer is not vectored and its path does not
 * depend on the data's: predict it with nvmeta_predict().
 * Returns 0 (the prediction is in @pred), or -EINVAL for no iovecs.
 */
int nvmeta_predict_iov(const struct nvmeta_dev_info *info, const struct iovec *iov,
		       unsigned int count, struct nvmeta_prediction *pred);

/* nvmeta_path_name - "pin", "bounce" or "fail". */
const char *nvmeta_path_name(enum nvmeta_path path);

/* nvmeta_layout_name - "pinned", "misaligned", ... for @layout. */
const char *nvmeta_layout_name(enum nvmeta_layout layout);

/* ------------------------------------------------------------------ */
#ifdef __cplusplus
}
#endif

#endif /* NVMETA_BUF_H */
