/* SPDX-License-Identifier: MIT */
/*
 * nvmeta: NVMe metadata passthrough over io_uring.
 *
 * Every function that can fail returns 0 (or a non-negative count) on
 * success and a negative errno on failure.  On failure a message naming
 * what went wrong is kept per thread; nvmeta_last_error() returns it.
 *
 * Threads.  What may be shared:
 *   - a device (struct nvmeta_dev): yes, by any number of threads that
 *     validate, prepare and queue commands on it, each on its own ring.
 *     nvmeta_dev_refresh(), nvmeta_dev_watch() and nvmeta_dev_close() need
 *     the device to themselves: no other thread may use it meanwhile.
 *   - a ring (struct io_uring): no.  A ring belongs to one thread at a
 *     time; it may be handed over, never used by two at once (liburing's
 *     rings have no locks: SQEs get lost and completions go to the wrong
 *     caller).  Builds with NVMETA_DEBUG abort when two threads are inside
 *     nvmeta calls on one ring at once.
 *   - slots (struct nvmeta_slots): yes, read-only after creation; each slot
 *     belongs to one command in flight.
 *   - a buffer (struct nvmeta_buf): one command in flight at a time, and
 *     freed only after its completion was reaped.
 *   - a kprobe observation (struct nvmeta_kpath): one thread; its counts
 *     are machine-wide.
 * The library keeps no mutable global state apart from the per-thread
 * error message (and, with NVMETA_DEBUG, the table of busy rings).
 */
#ifndef NVMETA_H
#define NVMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <liburing.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NVMETA_VERSION_MAJOR 0
#define NVMETA_VERSION_MINOR 2

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * nvmeta_last_error - the message of the calling thread's last failure.
 * Returns a NUL-terminated string owned by the library, valid until the
 * next failing call on the same thread; "" if nothing has failed yet.
 */
const char *nvmeta_last_error(void);

/* nvmeta_version - the library version as "MAJOR.MINOR.PATCH"; never fails. */
const char *nvmeta_version(void);

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

/* Queue limits of the namespace's request queue, as the kernel set them. */
struct nvmeta_limits {
	uint32_t max_integrity_segments;
	uint32_t dma_alignment;		/* a mask: 3 means 4-byte aligned */
	uint32_t max_segments;
	uint32_t max_segment_size;
	uint32_t max_hw_sectors_kb;
	uint64_t virt_boundary_mask;
	uint32_t logical_block_size;
	char integrity_format[32];	/* "none" when the queue has none */
	uint32_t integrity_tag_size;
	uint32_t integrity_interval;	/* protection_interval_bytes, 0 if absent */
};

/* The running kernel, from uname(2). */
struct nvmeta_kernel {
	unsigned int major, minor, patch;
	char release[65];
};

#define NVMETA_KERNEL_AT_LEAST(k, ma, mi) \
	((k)->major > (ma) || ((k)->major == (ma) && (k)->minor >= (mi)))

/* What identify and sysfs say about one namespace. */
struct nvmeta_dev_info {
	char generic_path[64];	/* /dev/ngXnY, the device nvmeta submits to */
	char block_name[32];	/* nvmeXnY, "" if the kernel made none */
	char ctrl_name[32];	/* nvmeX */
	char model[41];
	char serial[21];
	char firmware[9];
	uint32_t nsid;
	uint64_t nsze;		/* namespace size in logical blocks */
	uint8_t lbaf;		/* index of the format in use */
	uint32_t lba_size;	/* data bytes per logical block */
	uint32_t ms;		/* metadata bytes per logical block */
	bool extended_lba;	/* metadata interleaved with data (FLBAS bit 4) */
	uint8_t pi_type;	/* 0 (none) to 3, from DPS bits 2:0 */
	bool pi_first;		/* PI in the first bytes of metadata (DPS bit 3) */
	uint8_t pif;		/* protection information format: 0, 1, 2 */
	uint8_t guard_bits;	/* 16, 32 or 64 */
	uint8_t pi_size;	/* bytes of one PI tuple: 8 or 16 */
	uint8_t sts;		/* storage tag size in bits (ELBAF bits 6:0) */
	uint8_t mdts;		/* raw MDTS, 0 = no limit */
	uint32_t mdts_bytes;	/* MDTS in bytes, assuming a 4 KiB MPSMIN */
	uint16_t oncs;		/* optional NVM commands */
	uint32_t ctratt;
	uint32_t sgls;
	bool sgl_supported;	/* SGLS bits 1:0 */
	bool sgl_metadata;	/* metadata may use an SGL (SGLS bit 19) */
	struct nvmeta_limits limits;
	struct nvmeta_kernel kernel;
};

struct nvmeta_dev;

/*
 * nvmeta_dev_open - open an NVMe namespace and learn everything about it.
 * @path: /dev/ngXnY, or /dev/nvmeXnY (its generic char device is found),
 *        or a symlink to either, of any length up to PATH_MAX.
 * @devp: on success, the new device; free it with nvmeta_dev_close().
 * The device starts a watcher thread that notices a format change (see
 * nvmeta_dev_watch()).
 * Returns 0, or -ENOENT (no such device), -ENODEV (not an NVMe namespace),
 * -EACCES/-EPERM (permission), -EIO (identify failed), -ENOMEM, or the
 * errno of pthread_create().
 */
int nvmeta_dev_open(const char *path, struct nvmeta_dev **devp);

/*
 * nvmeta_dev_watch - set how often the device's watcher thread compares
 * the namespace's format as the kernel shows it (sysfs: capacity, logical
 * block size, metadata_bytes, integrity profile) with what identify said.
 * On a difference every later submission on the device fails with
 * -ESTALE, naming the change, until nvmeta_dev_refresh().  The check on
 * the submission path is one memory load: no system call.
 * @interval_ms: 1 to 60000; 0 stops the watcher.  The default is
 *               NVMETA_WATCH_DEFAULT_MS.
 * The window that remains: a format change is seen up to @interval_ms
 * after the kernel learns of it, and commands already in flight are not
 * recalled.  The kernel learns of a format sent through its own
 * passthrough interface before that command returns (it rescans the
 * namespace); a format by another host, or on kernels without
 * metadata_bytes in sysfs (6.1) one that keeps capacity and block size,
 * is only seen by nvmeta_dev_refresh().  After fork(2) a child's copy of
 * the device has no watcher (threads do not fork): call nvmeta_dev_watch()
 * in the child to give it one.
 * Returns 0, -EINVAL for an interval above 60000, or the errno of
 * pthread_create().
 */
#define NVMETA_WATCH_DEFAULT_MS 100
int nvmeta_dev_watch(struct nvmeta_dev *dev, unsigned int interval_ms);

/*
 * nvmeta_dev_refresh - identify the namespace again, re-read the kernel's
 * limits, and clear a stale mark.  Call it after formatting a namespace,
 * or when a submission failed with -ESTALE, once no command is in flight.
 * Buffers sized for the old format must be re-made by the caller.
 * Returns 1 when the format changed, 0 when it did not, or the errors of
 * nvmeta_dev_open() (the device keeps its old description and stays
 * stale).
 */
int nvmeta_dev_refresh(struct nvmeta_dev *dev);

/* nvmeta_dev_close - stop the watcher, close the device and free it;
 * NULL is allowed. */
void nvmeta_dev_close(struct nvmeta_dev *dev);

/* nvmeta_dev_info - the device's identify and limits; never fails. */
const struct nvmeta_dev_info *nvmeta_dev_info(const struct nvmeta_dev *dev);

/* nvmeta_dev_fd - the open file descriptor of the generic char device. */
int nvmeta_dev_fd(const struct nvmeta_dev *dev);

/*
 * nvmeta_kernel_read - fill @k with the running kernel's version.
 * Returns 0, or -errno when uname(2) fails or the release cannot be parsed.
 */
int nvmeta_kernel_read(struct nvmeta_kernel *k);

/*
 * nvmeta_list - the generic char device paths of every NVMe namespace on
 * the machine, found through libnvme's topology scan.
 * @paths: on success a malloc'd array of malloc'd strings; free with
 *         nvmeta_list_free().
 * Returns the number of namespaces (0 is not an error; *paths is then
 * NULL, which nvmeta_list_free() accepts), or -ENOMEM, -EIO when the scan
 * fails.
 */
int nvmeta_list(char ***paths);

/* nvmeta_list_free - free what nvmeta_list() returned. */
void nvmeta_list_free(char **paths, int count);

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

enum nvmeta_opcode {
	NVMETA_OP_WRITE		= 0x01,
	NVMETA_OP_READ		= 0x02,
	NVMETA_OP_COMPARE	= 0x05,
	NVMETA_OP_WRITE_ZEROES	= 0x08,
	NVMETA_OP_VERIFY	= 0x0c,
};

/* PRINFO bits, as in CDW12 bits 29:26 shifted down. */
enum nvmeta_prinfo {
	NVMETA_PRCHK_REF	= 1 << 0,
	NVMETA_PRCHK_APP	= 1 << 1,
	NVMETA_PRCHK_GUARD	= 1 << 2,
	NVMETA_PRACT		= 1 << 3,
};

enum nvmeta_io_flags {
	/* Skip every check before submission: for testing kernels only. */
	NVMETA_IO_RAW		= 1 << 0,
	/* Force unit access (CDW12 bit 30). */
	NVMETA_IO_FUA		= 1 << 1,
	/* Do not populate a read's metadata pages before submission.  By
	 * default they are populated for writing (one madvise(2) a read) on
	 * a device whose kernel, probed once at open, pins them read-only
	 * (Linux 6.12) and would write never-touched pages into the shared
	 * zero page; elsewhere nothing is done.  For testing kernels only. */
	NVMETA_IO_NO_PREFAULT	= 1 << 2,
};

/* One NVMe I/O command, in the terms a caller thinks in. */
struct nvmeta_io {
	uint8_t opcode;		/* enum nvmeta_opcode */
	uint8_t prinfo;		/* enum nvmeta_prinfo */
	uint16_t apptag;
	uint16_t appmask;
	uint32_t flags;		/* enum nvmeta_io_flags */
	uint64_t slba;
	uint32_t nlb;		/* number of blocks, 1-based */
	uint64_t reftag;	/* 32 bits, 48 with a 64-bit guard */
	void *data;
	uint32_t data_len;
	void *meta;
	uint32_t meta_len;
	uint32_t timeout_ms;	/* 0: the kernel's default */
	uint64_t storage_tag;	/* the top info->sts bits of the tag space */
};

/* The user_data range nvmeta_io_sync() tags its commands with, a new
 * value each call (the low 16 bits count); nvmeta_queue() refuses it.
 * Not near UINT64_MAX: liburing 2.3 takes that for its own timeouts. */
#define NVMETA_SYNC_USER_DATA		0x6e766d6574610000ULL	/* "nvmeta" */
#define NVMETA_SYNC_USER_DATA_MASK	0xffffffffffff0000ULL
#define NVMETA_IS_SYNC_USER_DATA(ud) \
	(((ud) & NVMETA_SYNC_USER_DATA_MASK) == NVMETA_SYNC_USER_DATA)

/*
 * nvmeta_io_validate - check @io against @dev before it is submitted:
 * block count against MDTS and max_hw_sectors, range within the
 * namespace, data length against nlb x block size (including metadata
 * for extended LBA, except with PRACT where the metadata is exactly the
 * PI: then the controller inserts or strips it and nlb x block size
 * moves), metadata length against nlb x ms (the kernel does not check
 * it, and a short buffer lets the device write past its end), no
 * metadata buffer where the namespace has none, the opcode against ONCS.
 * NVMETA_IO_RAW in io->flags skips all of it but what the command's
 * fields cannot carry: nlb, prinfo and the tags are checked even then.
 * Returns 0, or one distinct negative errno per failure:
 *   -EINVAL       unknown opcode, reserved prinfo bits, or a reference or
 *                 storage tag wider than the format's tag space (32, 48
 *                 or 80 bits by guard size, the storage tag in the top
 *                 info->sts bits)
 *   -EDOM         nlb is 0 or above 65536
 *   -ERANGE       slba + nlb beyond the namespace size
 *   -E2BIG        transfer above MDTS or the queue's max_hw_sectors
 *   -EFAULT       a length without a buffer, or a buffer without a length
 *   -EMSGSIZE     data length differs from what nlb needs
 *   -ENODATA      metadata needed but no metadata buffer
 *   -EOVERFLOW    metadata buffer shorter than nlb x ms
 *   -EPROTO       metadata buffer on a namespace without separate metadata
 *   -EOPNOTSUPP   the namespace does not support the command
 */
int nvmeta_io_validate(const struct nvmeta_dev *dev, const struct nvmeta_io *io);

/*
 * nvmeta_io_block_bytes - the bytes one block of @io takes in its data
 * buffer on the namespace @info describes: the block size, plus the
 * metadata on an extended LBA format unless PRACT is set and the metadata
 * is exactly the PI (the controller then inserts or strips it).  The data
 * length nvmeta_io_validate() wants is nlb times this.  Never fails.
 */
uint32_t nvmeta_io_block_bytes(const struct nvmeta_dev_info *info, const struct nvmeta_io *io);

/*
 * nvmeta_prep - validate @io (unless NVMETA_IO_RAW) and fill @sqe, a
 * 128-byte SQE from a ring set up with SQE128 and CQE32, with an
 * IORING_OP_URING_CMD / NVME_URING_CMD_IO command.  The caller sets
 * user_data afterwards.  @sqe must come from such a ring: nvmeta_prep()
 * sees only the SQE and cannot check (nvmeta_queue() does).  On a
 * device whose kernel pins a read's metadata without write access, the
 * pages are populated for writing first (see NVMETA_IO_NO_PREFAULT).  Returns 0, the errors of nvmeta_io_validate(),
 * -ESTALE when the namespace's format changed since it was identified
 * (see nvmeta_dev_watch()), or -EFAULT when the metadata buffer of a read
 * is not writable memory.
 */
int nvmeta_prep(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		const struct nvmeta_io *io);

/* The outcome of one command, decoded from its 32-byte CQE. */
struct nvmeta_status {
	int err;		/* 0, or the negative errno the kernel returned */
	uint16_t status;	/* NVMe status field: SCT << 8 | SC, 0 = success */
	uint8_t sct;		/* status code type */
	uint8_t sc;		/* status code */
	bool dnr;		/* do not retry */
	bool more;
	uint64_t result;	/* completion dword 0 (and 1) */
};

/*
 * nvmeta_status_decode - split a CQE's result into an errno or an NVMe
 * status.  @cqe must come from a ring set up with CQE32 (its second half
 * holds dword 1 of the result).  Returns 0 when the command succeeded, err when the kernel
 * failed it, or -EIO when the device returned a non-zero NVMe status.
 */
int nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st);

/*
 * nvmeta_status_name - a short name for an NVMe status such as
 * "LBA Out of Range" or "Guard Check Error"; "Unknown" for others.
 */
const char *nvmeta_status_name(const struct nvmeta_status *st);

/* ------------------------------------------------------------------ */
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
 * starts zeroed (unless NVMETA_BUF_UNTOUCHED).
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

/* nvmeta_buf_free - unmap and free @buf; NULL is allowed. */
void nvmeta_buf_free(struct nvmeta_buf *buf);

/*
 * nvmeta_buf_check_canaries - check that no byte around the buffer moved.
 * @bad: on failure, the offset of the first changed byte relative to
 *       buf->addr (negative: before the buffer).
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
 * nvmeta_slots_create - carve @count slots of @slot_len bytes out of
 * page-aligned memory so that no slot straddles a page boundary and each
 * starts DMA aligned: every slot is pinned by itself.  For metadata of
 * many I/Os in flight.  Returns 0, -EINVAL when a slot, rounded up to
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

enum nvmeta_kind {
	NVMETA_KIND_META,
	NVMETA_KIND_DATA,
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

/* nvmeta_path_name - "pin", "bounce" or "fail". */
const char *nvmeta_path_name(enum nvmeta_path path);

/* nvmeta_layout_name - "pinned", "misaligned", ... for @layout. */
const char *nvmeta_layout_name(enum nvmeta_layout layout);

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

/*
 * nvmeta_ring_init - set up @ring with @depth entries, SQE128 and CQE32,
 * as NVMe passthrough needs.  Returns 0, or the negative errno of
 * io_uring_queue_init() (-EINVAL on kernels without big SQEs; -EPERM when
 * io_uring is disabled or filtered, with the sysctl named).
 */
int nvmeta_ring_init(struct io_uring *ring, unsigned int depth);

/*
 * nvmeta_io_sync - validate, submit and wait for one command.  It waits
 * for its own completion (tagged in the NVMETA_SYNC_USER_DATA range, a new
 * tag each call) and nothing else:
 * a signal does not end the wait (the command is still in flight, and
 * its buffers in use), and completions of the caller's other commands on
 * the ring stay there, in order, for nvmeta_reap().  Anything queued but
 * not yet submitted is submitted with it.
 * @st: when not NULL, receives the decoded completion.
 * Returns 0 on success, -EINVAL for a ring without SQE128 and CQE32, the
 * errors of nvmeta_prep(), a negative errno from the kernel (EPERM and
 * EACCES with the likely cause named), or -EIO when the device returned
 * an NVMe error status (@st holds it).
 */
int nvmeta_io_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
		   const struct nvmeta_io *io, struct nvmeta_status *st);

/*
 * nvmeta_queue - validate @io and queue it on @ring without entering the
 * kernel; io_uring_submit() sends everything queued.  For many commands
 * in flight.  Returns 0, -EINVAL for a ring without SQE128 and CQE32 or
 * for a @user_data in the NVMETA_SYNC_USER_DATA range, the errors of
 * nvmeta_prep(), or
 * -EBUSY when the submission queue is full (submit, reap, then retry).
 */
int nvmeta_queue(const struct nvmeta_dev *dev, struct io_uring *ring,
		 const struct nvmeta_io *io, uint64_t user_data);

/* One reaped completion. */
struct nvmeta_completion {
	uint64_t user_data;
	int ret;			/* as nvmeta_status_decode() returns */
	struct nvmeta_status status;
};

/*
 * nvmeta_reap - wait until at least @min completions are there, then take
 * up to @max of them into @out.  Returns the number taken, -EINVAL for a
 * ring without SQE128 and CQE32, or a negative errno from
 * io_uring_wait_cqe_nr() (-EINTR on a signal: nothing was taken, call it
 * again).
 */
int nvmeta_reap(struct io_uring *ring, unsigned int min, struct nvmeta_completion *out,
		unsigned int max);

/* ------------------------------------------------------------------ */
/* Observing the path the kernel took                                  */
/* ------------------------------------------------------------------ */

struct nvmeta_kpath;

/* Machine-wide kprobe hit counts at one moment. */
struct nvmeta_kpath_sample {
	uint64_t hits[4];
};

/*
 * nvmeta_kpath_open - register kprobes on the kernel functions that tell
 * the pinned path from the bounce path, for metadata and for data.
 * Needs root and tracefs.  Probes are machine-wide and outlive a process
 * killed before nvmeta_kpath_close(): each open first removes the probes
 * of nvmeta processes that no longer exist (in this pid namespace).
 * Returns 0, -ENOENT (no writable tracefs), or the errno of kprobe_events
 * when this kernel has none of the symbols.
 */
int nvmeta_kpath_open(const struct nvmeta_dev_info *info, struct nvmeta_kpath **kpp);

/* nvmeta_kpath_close - remove the probes and free @kp; NULL is allowed. */
void nvmeta_kpath_close(struct nvmeta_kpath *kp);

/*
 * nvmeta_kpath_sample - read the current hit counts into @s.
 * Returns 0 or the errno of reading kprobe_profile.
 */
int nvmeta_kpath_sample(const struct nvmeta_kpath *kp, struct nvmeta_kpath_sample *s);

/*
 * nvmeta_kpath_observe - the path a @kind buffer took between two samples
 * taken around one command, with the hit counts as @evidence.
 * Returns NVMETA_PATH_PIN or NVMETA_PATH_BOUNCE, or -ENODATA when the
 * kernel did not map such a buffer at all.
 */
int nvmeta_kpath_observe(const struct nvmeta_kpath *kp, enum nvmeta_kind kind,
			 const struct nvmeta_kpath_sample *before,
			 const struct nvmeta_kpath_sample *after, char *evidence, size_t len);

/* ------------------------------------------------------------------ */
/* The copy-back checker                                               */
/* ------------------------------------------------------------------ */

/* Which buffer a case lays out its way; the other one stays plain. */
enum nvmeta_check_subject {
	NVMETA_SUBJECT_META,
	NVMETA_SUBJECT_DATA,
};

/* Which I/O uses the case's layout: the write, the read back, or both. */
enum nvmeta_check_dir {
	NVMETA_DIR_READ,
	NVMETA_DIR_WRITE,
	NVMETA_DIR_BOTH,
};

enum nvmeta_check_size {
	NVMETA_SIZE_ONE,	/* one block */
	NVMETA_SIZE_FEW,	/* eight blocks */
	NVMETA_SIZE_MAX,	/* the largest transfer MDTS and the queue allow */
};

enum nvmeta_check_source {
	NVMETA_SOURCE_ANON,
	NVMETA_SOURCE_UNTOUCHED,	/* read into pages never faulted in */
	NVMETA_SOURCE_MEMFD,		/* shared memfd pages */
	NVMETA_SOURCE_HUGE,		/* a huge page */
	NVMETA_SOURCE_READONLY,		/* PROT_READ pages */
};

enum nvmeta_check_flags {
	/* A kernel-weakness probe, not a copy-back: one RAW command (no
	 * validation) of the case's blocks, a READ or a WRITE (dir), whose
	 * metadata buffer is declared one block's metadata long while the
	 * device transfers nlb x ms.  Laid out as the case says, with
	 * canaries right after the declared length.  Linux does not check
	 * metadata_len against nlb x ms (the class of CVE-2023-6238): a
	 * device without metadata SGL writes past a pinned buffer into the
	 * caller's memory, or past the kernel's bounce buffer into its heap
	 * (seen in the kernel log only with slub_debug red zones; the case
	 * is skipped without them).  For testing kernels in a throw-away
	 * machine only: nvmeta-check runs these only when asked. */
	NVMETA_CHECK_SHORT_META	= 1 << 0,
	/* A format change under an open handle: a second handle is opened,
	 * the namespace is formatted (through another descriptor) to the
	 * format with the same block size and the most metadata, and the
	 * handle must refuse a read with ESTALE within 20 watcher intervals,
	 * nothing past its buffer moved; then the format is restored.
	 * Erases the namespace: nvmeta-check runs it only when asked, and the
	 * caller refreshes its own device afterwards (nvmeta_dev_refresh()). */
	NVMETA_CHECK_REFORMAT	= 1 << 1,
};

/* One line of the checker's matrix. */
struct nvmeta_check_case {
	const char *name;
	enum nvmeta_check_subject subject;
	enum nvmeta_check_dir dir;
	enum nvmeta_check_size size;
	enum nvmeta_layout layout;
	size_t offset;
	enum nvmeta_check_source source;
	int expect_err;		/* 0: the outcome the prediction gives */
	uint32_t flags;		/* enum nvmeta_check_flags */
};

enum nvmeta_verdict {
	NVMETA_VERDICT_PASS,
	NVMETA_VERDICT_SKIP,
	NVMETA_VERDICT_FAIL,		/* unexpected errno or a wrong prediction */
	NVMETA_VERDICT_KERNEL_DEFECT,	/* the kernel returned success, bytes are wrong;
					 * or a short-metadata probe found the kernel
					 * weakness (detail "kernel weakness: ...") */
	NVMETA_VERDICT_DEVICE_ERROR,	/* the device failed a valid command (NVMe status) */
};

struct nvmeta_check_result {
	const struct nvmeta_check_case *tc;
	enum nvmeta_verdict verdict;
	uint32_t nlb;
	uint64_t slba;
	enum nvmeta_layout layout;	/* the case buffer's layout after fallback */
	struct nvmeta_prediction pred;	/* for the case's buffer */
	int observed;			/* enum nvmeta_path the kprobes saw, or -1 */
	char evidence[112];		/* the kprobe hit counts behind it */
	int expect_err;
	int err;			/* what the checked I/O returned */
	const char *where;		/* NULL, "data", "metadata", "canary", ... */
	uint64_t bad_lba;
	size_t bad_offset;		/* byte offset inside that block's data or metadata */
	uint8_t expected, found;
	char detail[384];
};

/*
 * nvmeta_check_table - the built-in matrix of cases.
 * Returns the number of cases and points @cases at them; never fails.
 */
int nvmeta_check_table(const struct nvmeta_check_case **cases);

/*
 * nvmeta_check_run - run case @tc on @dev: write a pattern unique to the
 * LBA, the byte and @run, read it back, compare byte for byte, check the
 * canaries and guard pages of every buffer, that the write source did
 * not change, and that never-written memory still reads zero.  With @kp
 * (may be NULL) the path the kernel took is observed too, and a path
 * other than the predicted one fails the case.  Case @index picks a block
 * range of its own.  A NVMETA_CHECK_SHORT_META case writes the whole
 * range first, validated, then sends its RAW command and judges what
 * moved: canary bytes past the declared length (pinned path), the kernel
 * log's slab red-zone reports read from /dev/kmsg (bounce path, root
 * only), or what the device stored past the first block (write).  It
 * passes when the device (metadata SGL) or the kernel refuses and
 * nothing moved.
 * Returns 0 with the verdict in @res, or -EINVAL for a bad case.
 */
int nvmeta_check_run(const struct nvmeta_dev *dev, struct io_uring *ring,
		     struct nvmeta_kpath *kp, const struct nvmeta_check_case *tc,
		     unsigned int index, unsigned int run, struct nvmeta_check_result *res);

/* nvmeta_verdict_name - "pass", "skip", "FAIL", "KERNEL-DEFECT" or
 * "DEVICE-ERROR". */
const char *nvmeta_verdict_name(enum nvmeta_verdict verdict);

#ifdef __cplusplus
}
#endif

#endif /* NVMETA_H */
