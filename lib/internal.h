/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared inside the library.  Not installed; the unit tests
 * reach these through the static library.
 */
#ifndef NVMETA_INTERNAL_H
#define NVMETA_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <stdatomic.h>
#include <linux/nvme_ioctl.h>
#include <nvme/types.h>
#include "nvmeta.h"

#define NVMETA_HIDDEN __attribute__((visibility("hidden")))
/* The calls of the hot path (queue, reap, a sync command): the linker
 * puts them together in .text.hot, away from the cold code around them. */
#define NVMETA_HOT __attribute__((hot))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* format.c: the namespace's format as the kernel shows it in sysfs. */
struct nvmeta_fingerprint {
	char text[160];
};

/*
 * validate.c: the bounds of a plain command on a device, decided once per
 * open and refresh by nvmeta_fast_decide().  A read or write inside them
 * (no RAW, no PI work, no PRACT) passes every check nvmeta_io_validate()
 * makes, so the hot path compares a few numbers instead of running the
 * checks one by one; anything else, and every refusal, takes the checks,
 * which say what is wrong.
 */
struct nvmeta_fast {
	/*
	 * Set by nvmeta_dev_check() when the kernel's view of the format
	 * moved away from what identify said at open (or at the last
	 * refresh); read on every submission: one load, no system call,
	 * from the line the plain check reads anyway.  0 fresh, 2 while the
	 * message is written, 1 stale with the device's stale_why.  Not
	 * decided with the rest: nvmeta_fast_decide() leaves it alone.
	 */
	_Atomic int stale;
	bool ready;
	bool prefault_reads;	/* a read's metadata is populated first (quirks.c) */
	bool ref_only;		/* the tag space is CDW14 alone, no storage tag */
	uint32_t lba_bytes;	/* bytes a block takes in the data buffer */
	uint32_t ms;		/* separate metadata bytes a block; 0: none passed */
	uint32_t max_nlb;	/* within NVMETA_MAX_NLB, MDTS and max_hw_sectors */
	uint32_t max_meta;	/* meta_len at most (max_hw_sectors) */
	uint64_t nsze;
	uint64_t ref_mask;	/* bits a reference tag must not have */
	uint64_t sts_mask;	/* bits a storage tag must not have */
	/* A plain command's 128-byte SQE before its own fields go in: what
	 * nvmeta_prep_cmd() writes that is the same for every command of
	 * the device (opcode, fd, cmd_op, nsid, and the zeros). */
	struct io_uring_sqe sqe[2] __attribute__((aligned(64)));
};

struct nvmeta_dev {
	int fd;
	struct nvmeta_dev_info info;
	char stale_why[384];		/* written before fast.stale is set */
	struct nvmeta_fingerprint seen;	/* the format the info describes */
	int attr_fds[5];		/* the sysfs attributes, opened once (format.c) */
	/* Populate a read's metadata pages for writing before submission:
	 * only where the kernel pins them without write access (quirks.c). */
	bool populate_reads;
	char quirk_why[96];
	/* The namespace's PI layout, decided at open and refresh (pi.c). */
	bool has_pi;
	struct nvmeta_pi_format pi;
	struct nvmeta_fast fast;	/* validate.c */
};

/* rw.c: a block device for the attribute road. */
struct nvmeta_bdev {
	int fd;
	struct nvmeta_dev_info info;
	struct nvmeta_lbmd lbmd;
	int road;			/* 0, or -EOPNOTSUPP: decided at open */
	char road_why[200];
};

/* The most iovecs import_iovec() takes (UIO_MAXIOV). */
#define NVMETA_UIO_MAXIOV 1024u

/* The bytes @io's data holds: its length, or with NVMETA_IO_VEC the
 * lengths of its io->data_len iovecs added up (UINT64_MAX past that).
 * Both roads' host PI and the attribute road's completion count them. */
static inline uint64_t nvmeta_io_data_bytes(const struct nvmeta_io *io)
{
	const struct iovec *iov = io->data;
	uint64_t total = 0;
	uint32_t i;

	if (!(io->flags & NVMETA_IO_VEC))
		return io->data_len;
	for (i = 0; iov && i < io->data_len; i++)
		if (__builtin_add_overflow(total, (uint64_t)iov[i].iov_len, &total))
			return UINT64_MAX;
	return total;
}

/* validate.c: NVMETA_IO_VEC's rules shared by both roads.  The array: at
 * least one iovec, at most UIO_MAXIOV and @max_segments (0: no limit). */
int nvmeta_check_iov_array(const struct nvmeta_io *io, uint32_t max_segments) NVMETA_HIDDEN;

/* validate.c: every iovec of @io not empty, not NULL, not wrapping, then
 * through @extra (NULL: nothing more) with @ctx; their lengths adding up
 * to exactly nlb blocks of @block_bytes. */
typedef int (*nvmeta_iov_rule)(const void *ctx, const struct iovec *v, uint32_t i,
			       uint32_t count);
int nvmeta_check_iov_list(const struct nvmeta_io *io, uint64_t block_bytes,
			  nvmeta_iov_rule extra, const void *ctx) NVMETA_HIDDEN;

/* rw.c: what O_DIRECT on the block device wants each iovec's length to be
 * a multiple of on the running kernel (the logical block size before
 * 6.18, the DMA alignment from 6.18). */
uint32_t nvmeta_rw_iov_granule(const struct nvmeta_dev_info *in) NVMETA_HIDDEN;

/* error.c: record a message and return @err, so callers can write
 * "return nvmeta_fail(-EINVAL, ...)". */
int nvmeta_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) NVMETA_HIDDEN;

/* error.c: as nvmeta_fail(), with "<@fmt...>: " before the message of the
 * last failure, which stays. */
int nvmeta_fail_prefix(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) NVMETA_HIDDEN;

/* identify.c: fill the identify part of @info from raw structures.
 * @nvm may be NULL when the controller has no extended LBA formats. */
int nvmeta_parse_identify(const struct nvme_id_ctrl *ctrl,
			  const struct nvme_id_ns *ns,
			  const struct nvme_nvm_id_ns *nvm,
			  struct nvmeta_dev_info *info) NVMETA_HIDDEN;

/* sysfs.c: read the queue limits and integrity profile of block device
 * @block_name under @sysroot (normally "/sys"). */
int nvmeta_read_limits(const char *sysroot, const char *block_name,
		       struct nvmeta_limits *lim) NVMETA_HIDDEN;

/* sysfs.c: end the @n bytes of @buf at its last character that is not a
 * newline or a blank; returns the new length. */
size_t nvmeta_sysfs_trim(char *buf, size_t n) NVMETA_HIDDEN;

/* sysfs.c: read one sysfs attribute as text, trailing newline removed. */
int nvmeta_sysfs_read(const char *path, char *buf, size_t len) NVMETA_HIDDEN;

/* sysfs.c: controller @ctrl's state ("live", "resetting", "deleting",
 * ...) into @buf, or "gone" when sysfs has no such controller. */
const char *nvmeta_ctrl_state(const char *ctrl, char *buf, size_t len) NVMETA_HIDDEN;

/* sysfs.c: @ret with the message "@prefix<the last message>", and when
 * @info's controller is not live, its state and what to do. */
int nvmeta_fail_unless_live(int ret, const char *prefix,
			    const struct nvmeta_dev_info *info) NVMETA_HIDDEN;

/* sysfs.c: find the block device of namespace @nsid on controller
 * @ctrl under @sysroot; writes its name to @name. */
int nvmeta_find_block(const char *sysroot, const char *ctrl, uint32_t nsid,
		      char *name, size_t len) NVMETA_HIDDEN;

/* kernel.c: parse a uname release such as "6.12.117+deb13-amd64". */
int nvmeta_kernel_parse(const char *release, struct nvmeta_kernel *k) NVMETA_HIDDEN;

#define NVMETA_MAX_NLB 65536u

/* identify.c: bits of the storage and reference tag space: 32, 48 or 80. */
unsigned int nvmeta_tag_field_bits(const struct nvmeta_dev_info *info) NVMETA_HIDDEN;

/* validate.c: refuse what the command's fields cannot carry (RAW too). */
int nvmeta_check_encodable(const struct nvmeta_dev_info *info,
			   const struct nvmeta_io *io) NVMETA_HIDDEN;

/* format.c: read the fingerprint of block device @block under @sysroot. */
int nvmeta_fingerprint_read(const char *sysroot, const char *block,
			    struct nvmeta_fingerprint *fp) NVMETA_HIDDEN;

/* format.c: open (again) and close the attributes the fingerprint reads. */
void nvmeta_format_open(struct nvmeta_dev *dev) NVMETA_HIDDEN;
void nvmeta_format_close(struct nvmeta_dev *dev) NVMETA_HIDDEN;

/* format.c: compare the kernel's view now with @dev->seen; mark the
 * device stale on a difference.  Returns 1 when stale, 0, or -errno. */
int nvmeta_format_check(struct nvmeta_dev *dev) NVMETA_HIDDEN;

/* format.c: the -ESTALE failure of a device whose format changed. */
int nvmeta_refuse_stale(const struct nvmeta_dev *dev) NVMETA_HIDDEN;

/* ring.c: refuse a ring without big SQEs and CQEs. */
int nvmeta_ring_check(const struct io_uring *ring) NVMETA_HIDDEN;

/* tags.c: the library's commands in flight on one ring (see tags.c). */
enum nvmeta_tag_kind {
	NVMETA_TAG_FREE,
	NVMETA_TAG_SYNC,	/* a call waits for it */
	NVMETA_TAG_REQUEST,	/* owner: the struct nvmeta_request */
	NVMETA_TAG_RW,		/* owner: the struct nvmeta_rw */
	NVMETA_TAG_ABANDONED,	/* nobody waits: its completion is dropped */
};

struct nvmeta_tag_slot {
	void *owner;
	uint32_t next_free;
	uint16_t gen;
	uint8_t kind;		/* enum nvmeta_tag_kind */
};

struct nvmeta_tags {
	const void *id;		/* the ring's cq.khead: which ring this is */
	uint32_t entries;	/* slots: the ring's CQ entries */
	uint32_t free;		/* first free slot; entries when none */
	uint32_t abandoned;
	uint32_t waited_abandoned;	/* NVMETA_TAG_WAITED commands nobody waits for */
	struct nvmeta_tag_slot slot[];
};

#define NVMETA_TAG_INDEX_MASK 0xffffu

/*
 * The tag of a command a call waits for, while none of the ring's
 * commands with this tag was abandoned: generation 0, which no slot's
 * tag has (index 0xffff: the first values an application might count
 * through in the range are not it).  One call at a time waits on a ring, so the value is unique
 * among the ring's commands in flight without a slot of its own, and the
 * common case claims and gives back nothing (see tags.c).
 */
#define NVMETA_TAG_WAITED (NVMETA_TAG_USER_DATA | NVMETA_TAG_INDEX_MASK)

/* tags.c: the ring's table, or NULL when it has none (no system call). */
struct nvmeta_tags *nvmeta_tags_find(const struct io_uring *ring) NVMETA_HIDDEN;

/* tags.c: the ring's table, made on first use; @fresh: a new one even if
 * a table matches (a new ring may reuse a closed one's fd and mapping). */
int nvmeta_tags_attach(const struct io_uring *ring, bool fresh,
		       struct nvmeta_tags **out) NVMETA_HIDDEN;

/* tags.c: free the ring's table (nvmeta_ring_exit()). */
void nvmeta_tags_detach(const struct io_uring *ring) NVMETA_HIDDEN;

/* tags.c: a slot for a command of @kind; its user_data into @tag.
 * -EBUSY when every slot is in flight. */
int nvmeta_tag_claim(struct nvmeta_tags *t, enum nvmeta_tag_kind kind, void *owner,
		     uint64_t *tag) NVMETA_HIDDEN;

/* tags.c: the slot in flight that @user_data names, or NULL when it names
 * none: the completion is then the application's. */
struct nvmeta_tag_slot *nvmeta_tag_slot(struct nvmeta_tags *t, uint64_t user_data) NVMETA_HIDDEN;

/* tags.c, sync.c: one command of the library's own on a ring. */
struct nvmeta_own {
	struct nvmeta_tags *tags;
	struct io_uring_sqe *sqe;	/* to fill; then set user_data to tag */
	unsigned int pos;		/* its place in the submission ring */
	uint64_t tag;
};

/* tags.c: the ring's table, a slot of @kind for @owner and an SQE for
 * its command into @own, or none of them (-EBUSY, -ENOMEM, -EBADF). */
int nvmeta_tag_sqe(struct io_uring *ring, enum nvmeta_tag_kind kind, void *owner,
		   struct nvmeta_own *own) NVMETA_HIDDEN;

/* tags.c: the ring's table and an SQE for a command the caller waits
 * for, tagged NVMETA_TAG_WAITED where it can be, else as
 * nvmeta_tag_sqe() tags it. */
int nvmeta_tag_waited(struct io_uring *ring, struct nvmeta_own *own) NVMETA_HIDDEN;

/* tags.c: give a slot back once its completion was taken. */
void nvmeta_tag_release(struct nvmeta_tags *t, struct nvmeta_tag_slot *s) NVMETA_HIDDEN;

/* tags.c: the waited-for command in @own went out, and nobody will wait
 * for its completion: nvmeta_reap() drops it. */
void nvmeta_own_abandon(struct nvmeta_own *own) NVMETA_HIDDEN;

/* Its completion was taken: a slot, if it had one, is free again. */
static inline void nvmeta_own_done(struct nvmeta_own *own)
{
	if (own->tag != NVMETA_TAG_WAITED)
		nvmeta_tag_release(own->tags, &own->tags->slot[own->tag & NVMETA_TAG_INDEX_MASK]);
}

/* tags.c: nobody waits for the slot's completion any more: nvmeta_reap()
 * drops it and releases the slot. */
void nvmeta_tag_abandon(struct nvmeta_tags *t, struct nvmeta_tag_slot *s) NVMETA_HIDDEN;

/*
 * A command of the library's own that a call waits for (sync.c): its
 * common case inline, the rest in sync.c.  The common case is a
 * completion queue with room, one io_uring_enter that submits and waits,
 * and the command's completion first in line.
 */

/* The completion entry at @index of @ring: with CQE32 an entry spans
 * two struct io_uring_cqe slots. */
static inline struct io_uring_cqe *nvmeta_cqe_at(struct io_uring *ring, unsigned int index)
{
	unsigned int shift = ring->flags & IORING_SETUP_CQE32 ? 1 : 0;

	return &ring->cq.cqes[(index & ring->cq.ring_mask) << shift];
}

/* sync.c: what nvmeta_own_start(), nvmeta_own_submit() and
 * nvmeta_own_wait() do when the common case does not hold. */
int nvmeta_own_start_slow(struct io_uring *ring, struct nvmeta_own *own) NVMETA_HIDDEN;
int nvmeta_own_submit_slow(struct io_uring *ring, struct nvmeta_own *own) NVMETA_HIDDEN;
int nvmeta_own_wait_slow(struct io_uring *ring, struct nvmeta_own *own,
			 struct io_uring_cqe *out) NVMETA_HIDDEN;

/* Room in the CQ, then nvmeta_tag_sqe() for a command the caller waits
 * for, after every check of the command passed: nothing fails between
 * this and nvmeta_own_submit(). */
static inline int nvmeta_own_start(struct io_uring *ring, struct nvmeta_own *own)
{
	if (io_uring_cq_has_overflow(ring) || io_uring_cq_ready(ring) >= ring->cq.ring_entries)
		return nvmeta_own_start_slow(ring, own);
	return nvmeta_tag_waited(ring, own);
}

/* Tag and submit the filled SQE.  On failure the command cannot reach
 * the device later: it is a NOP by then, and the error returned. */
static inline int nvmeta_own_submit(struct io_uring *ring, struct nvmeta_own *own)
{
	int ret;

	own->sqe->user_data = own->tag;
	/* Submit, and wait until one more completion is there, likely our
	 * own, in one system call; cq_room() left room for it.  Anything
	 * but every entry taken goes the long way. */
	if (!(ring->flags & IORING_SETUP_SQPOLL)) {
		ret = io_uring_submit_and_wait(ring, io_uring_cq_ready(ring) + 1);
		if (ret > 0 && !io_uring_sq_ready(ring))
			return 0;
	}
	return nvmeta_own_submit_slow(ring, own);
}

/* Wait for the command's completion across signals, leaving every other
 * completion in the ring, in order.  Copies it to @out (16 or 32 bytes,
 * as the ring's CQEs are; give it 32) and consumes it. */
static inline int nvmeta_own_wait(struct io_uring *ring, struct nvmeta_own *own,
				  struct io_uring_cqe *out)
{
	struct io_uring_cqe *cqe;

	/* Ours first in line on a ring of 32-byte entries. */
	if (!(ring->flags & IORING_SETUP_CQE32) || !io_uring_cq_ready(ring))
		return nvmeta_own_wait_slow(ring, own, out);
	cqe = nvmeta_cqe_at(ring, *ring->cq.khead);
	if (cqe->user_data == own->tag) {
		memcpy(out, cqe, 2 * sizeof(*out));
		io_uring_cq_advance(ring, 1);
		nvmeta_own_done(own);
		return 0;
	}
	return nvmeta_own_wait_slow(ring, own, out);
}

/* sync.c: submit everything queued, across signals and partial
 * submissions (with SQPOLL: publish and wake the thread). */
int nvmeta_submit_all(struct io_uring *ring) NVMETA_HIDDEN;

/* ring.c: a message on EPERM/EACCES naming the likely causes. */
int nvmeta_explain_denied(int err, const char *what, const struct nvmeta_dev_info *info,
			  bool writes) NVMETA_HIDDEN;

/* complete.c: the message of a command @io that failed (@ret, and @st as
 * nvmeta_status_decode() filled it): the device's name, and where the
 * controller's state or the command says why (removed, resetting, a
 * multipath head without a usable path, a registered buffer Linux 6.1
 * measures wrongly), the cause.  Reads sysfs: only on failure. */
int nvmeta_explain_failure(int ret, const struct nvmeta_status *st,
			   const struct nvmeta_dev_info *info,
			   const struct nvmeta_io *io) NVMETA_HIDDEN;

/* cmd.c: everything before an SQE is filled: validation, then buffer
 * preparation. */
int nvmeta_io_ready(const struct nvmeta_dev *dev, const struct nvmeta_io *io) NVMETA_HIDDEN;

/* cmd.c: -EINVAL for NVMETA_IO_PI_VERIFY on a road whose completion the
 * caller reaps itself (nvmeta_prep(), nvmeta_queue()). */
int nvmeta_refuse_unkept_verify(const struct nvmeta_io *io) NVMETA_HIDDEN;

/* cmd.c: fill a 128-byte SQE for @io without validating it. */
void nvmeta_fill_sqe(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		     const struct nvmeta_io *io) NVMETA_HIDDEN;

/* quirks.c: what must happen to @io's buffers before submission on
 * this device's kernel. */
int nvmeta_prepare_buffers(const struct nvmeta_dev *dev,
			   const struct nvmeta_io *io) NVMETA_HIDDEN;

/* quirks.c: fault @addr..+@len in for writing (MADV_POPULATE_WRITE);
 * -EFAULT for memory that cannot be written. */
int nvmeta_populate_write(void *addr, size_t len) NVMETA_HIDDEN;

/* quirks.c: decide the work-arounds of @dev once, by probing its kernel. */
void nvmeta_quirks_decide(struct nvmeta_dev *dev) NVMETA_HIDDEN;

/* pi.c: the device's PI layout, once per open or refresh. */
void nvmeta_pi_decide(struct nvmeta_dev *dev) NVMETA_HIDDEN;

/* pi.c: before submitting a command with NVMETA_IO_PI_*: refuse what does
 * not fit, generate a write's PI. */
int nvmeta_pi_prepare(const struct nvmeta_dev *dev, const struct nvmeta_io *io) NVMETA_HIDDEN;
int nvmeta_pi_generate_io(const struct nvmeta_dev *dev, const struct nvmeta_io *io) NVMETA_HIDDEN;

/* pi.c: verify a completed read's PI; -EILSEQ names the LBA and field. */
int nvmeta_pi_verify_io(const struct nvmeta_dev *dev, const struct nvmeta_io *io,
			struct nvmeta_pi_report *rep) NVMETA_HIDDEN;

/* validate.c: decide @dev->fast from its info (open, refresh). */
void nvmeta_fast_decide(struct nvmeta_dev *dev) NVMETA_HIDDEN;

/* The flags a plain command may carry: none asks for a check or PI work. */
#define NVMETA_FAST_FLAGS (NVMETA_IO_FUA | NVMETA_IO_NO_PREFAULT | NVMETA_IO_FIXED_BUF | \
			   NVMETA_IO_FIXED_FILE)

/*
 * Whether @io is a plain read or write inside the bounds of
 * @f (nvmeta_fast_decide()): true only where every check of
 * nvmeta_validate_info() passes (the unit tests hold the two to that,
 * command by command).  False says nothing: the checks then decide.
 * Inline: it runs on every command.
 */
static inline bool nvmeta_io_plain(const struct nvmeta_fast *f, const struct nvmeta_io *io)
{
	uint64_t meta_need = (uint64_t)io->nlb * f->ms;
	uint64_t stray;

	if (io->opcode != NVMETA_OP_READ && io->opcode != NVMETA_OP_WRITE)
		return false;
	/* Every field that must be zero, or zero outside a mask: one test. */
	_Static_assert(ARRAY_SIZE(io->resv) == 3, "every reserved field is looked at");
	stray = (io->flags & ~NVMETA_FAST_FLAGS) | (io->prinfo & ~0x7u) | io->resv0 |
		io->resv[0] | io->resv[1] | io->resv[2] |
		(io->reftag & f->ref_mask) | (io->storage_tag & f->sts_mask);
	if (stray)
		return false;
	/* 1 to max_nlb blocks: nlb 0 wraps above it, and max_nlb is 0 while
	 * the device is not decided (!f->ready). */
	if (io->nlb - 1u >= f->max_nlb || io->slba >= f->nsze || io->nlb > f->nsze - io->slba)
		return false;
	if (!io->data || io->data_len != (uint64_t)io->nlb * f->lba_bytes)
		return false;
	if (!f->ms)
		return !io->meta && !io->meta_len;
	return io->meta && io->meta_len >= meta_need && io->meta_len <= f->max_meta;
}

/*
 * A command that goes out with no work before it: plain (above), on a
 * device whose format has not moved (nvmeta_dev_check()), and not a read
 * whose metadata must be populated first on this kernel.  The one load
 * of @dev->fast.stale is the format check every submission makes.
 */
static inline bool nvmeta_io_goes_plain(const struct nvmeta_dev *dev, const struct nvmeta_io *io)
{
	if (atomic_load_explicit(&dev->fast.stale, memory_order_acquire))
		return false;
	if (!nvmeta_io_plain(&dev->fast, io))
		return false;
	return !dev->fast.prefault_reads || io->opcode != NVMETA_OP_READ ||
	       (io->flags & NVMETA_IO_NO_PREFAULT);
}

/*
 * Encode a plain command (nvmeta_io_goes_plain()) as nvmeta_prep_cmd()
 * does, from the device's template: one copy of 128 bytes and the
 * command's own fields, where the encoder stores each of about forty
 * fields and decides the tag layout each time.  The unit tests hold the
 * two to the same bytes.
 */
static inline void nvmeta_fill_plain(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
				     const struct nvmeta_io *io)
{
	struct nvme_uring_cmd *cmd = (struct nvme_uring_cmd *)sqe->cmd;
	const struct nvmeta_fast *f = &dev->fast;

	memcpy((void *)sqe, f->sqe, sizeof(f->sqe));
	if (io->flags & NVMETA_IO_FIXED_FILE) {
		sqe->flags = IOSQE_FIXED_FILE;
		sqe->fd = (int)io->file_index;
	}
	if (io->flags & NVMETA_IO_FIXED_BUF) {
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = io->buf_index;
	}
	cmd->opcode = io->opcode;
	cmd->metadata = (uintptr_t)io->meta;
	cmd->addr = (uintptr_t)io->data;
	cmd->metadata_len = io->meta_len;
	cmd->data_len = io->data_len;
	cmd->cdw10 = (uint32_t)io->slba;
	cmd->cdw11 = (uint32_t)(io->slba >> 32);
	cmd->cdw12 = (io->nlb - 1) | (uint32_t)io->prinfo << 26 |
		     ((io->flags & NVMETA_IO_FUA) ? 1U << 30 : 0);
	if (f->ref_only)
		cmd->cdw14 = (uint32_t)io->reftag;
	else
		nvmeta_encode_tags(cmd, &dev->info, io);
	cmd->cdw15 = io->apptag | (uint32_t)io->appmask << 16;
	cmd->timeout_ms = io->timeout_ms;
}

/* status.c: nvmeta_status_decode() without its message, for completions
 * nvmeta_reap() hands back as they are: no string is formatted there. */
static inline int nvmeta_status_fill(const struct io_uring_cqe *cqe, struct nvmeta_status *st)
{
	/* A CQE32's second half: big_cqe[0], read as the entry after @cqe,
	 * which compilers can bound when the CQE was copied to a local
	 * pair (nvmeta_own_wait()). */
	const uint64_t *big = (const uint64_t *)(cqe + 1);
	int res = cqe->res;

	*st = (struct nvmeta_status){ .result = big[0] };
	/* Success first: one branch for the common case. */
	if (__builtin_expect(!res, 1))
		return 0;
	if (res < 0) {
		st->err = res;
		return res;
	}
	st->status = res & 0x7ff;
	st->sc = res & 0xff;
	st->sct = (res >> 8) & 0x7;
	st->more = res & (1 << 13);
	st->dnr = res & (1 << 14);
	return st->status ? -EIO : 0;
}

/* validate.c: nvmeta_io_validate() against an info struct alone. */
int nvmeta_validate_info(const struct nvmeta_dev_info *info,
			 const struct nvmeta_io *io) NVMETA_HIDDEN;

/* buf.c: where in its first page a layout starts, and how many pages
 * it spans. */
struct nvmeta_placement {
	size_t offset;
	size_t pages;
};

#define NVMETA_HEAP_CANARY 64

int nvmeta_place(const struct nvmeta_dev_info *info, const struct nvmeta_buf_spec *spec,
		 size_t page, struct nvmeta_placement *pl) NVMETA_HIDDEN;

/* pagemap.c: the physical side of a virtual range. */
struct nvmeta_page_map {
	unsigned int pages;
	unsigned int phys_runs;		/* physically contiguous runs */
	unsigned int folio_runs;	/* runs inside one folio */
	unsigned int huge_pages;	/* pages that belong to a THP or hugetlb page */
	bool known;			/* frames were read */
	bool folios_known;		/* kpageflags were read too */
	bool all_present;
};

int nvmeta_page_map_read(const void *addr, size_t len, struct nvmeta_page_map *pm) NVMETA_HIDDEN;
void nvmeta_count_runs(const uint64_t *pfn, const uint64_t *kflags, unsigned int n,
		       unsigned int *phys_runs, unsigned int *folio_runs) NVMETA_HIDDEN;
/* pagemap.c: turn @n /proc/self/pagemap entries into frame numbers in
 * place.  -ENODATA when a page is not present (*@all_present false),
 * -EPERM when the frames are hidden (no CAP_SYS_ADMIN). */
int nvmeta_pagemap_decode(uint64_t *pfn, unsigned int n, bool *all_present) NVMETA_HIDDEN;

/* crc.c: one CRC64 implementation, with nvmeta_crc64_nvme()'s
 * conventions. */
struct nvmeta_crc64_blocks;
struct nvmeta_crc64_variant {
	const char *name;		/* as nvmeta_crc64_impl() names it */
	uint64_t (*fn)(const void *buf, size_t len, uint64_t crc);
	/* The CRC64 of each of @n blocks laid out as @b says, to @out[]:
	 * the same as fn() a block, in one call. */
	void (*blocks)(const struct nvmeta_crc64_blocks *b, uint32_t n, uint64_t *out);
};

/* Blocks of PI for nvmeta_crc64_variant.blocks: block i's CRC runs over
 * the @len bytes at data + i * data_stride, then on over the @pre_len at
 * pre + i * pre_stride (none if pre_len is 0). */
struct nvmeta_crc64_blocks {
	const unsigned char *data, *pre;
	size_t data_stride, pre_stride;
	size_t len, pre_len;
};

/* crc.c: the CRC64 implementations this build has and this CPU runs,
 * best first (the first is the one in use; "table" is always there).
 * Writes up to @max to @out and returns how many there are. */
unsigned int nvmeta_crc64_variants(const struct nvmeta_crc64_variant **out,
				   unsigned int max) NVMETA_HIDDEN;

/* rw.c: the guard FS_IOC_GETLBMD_CAP names, in bits: 16 (CRC16 T10-DIF),
 * 64 (CRC64 NVMe), or 0 when it names none (not known, guard type 0 and no
 * PI).  -EOPNOTSUPP, with the guard type in the message, for a guard
 * that is not NVMe protection information (1, IP checksum) or unknown. */
int nvmeta_lbmd_guard_bits(const struct nvmeta_lbmd *l) NVMETA_HIDDEN;

/* rw.c: the attribute road's probe reads block 0 twice, into metadata
 * filled with NVMETA_ROAD_PROBE_FILL and with its complement; whether
 * the kernel honoured the attribute, from the @ms bytes each read left. */
#define NVMETA_ROAD_PROBE_FILL 0x5a
bool nvmeta_road_probe_honoured(const unsigned char *meta0, const unsigned char *meta1,
				size_t ms) NVMETA_HIDDEN;

/* ------------------------------------------------------------------ */
/* Issue 21 item 6: the commands that change metadata (identify.c).    */
/* ------------------------------------------------------------------ */

/* identify.c: the limits of Write Zeroes, Verify, Write Uncorrectable and
 * Dataset Management from the I/O command set specific identify
 * controller (CNS 06h, CSI 00h) into @info; @nvm NULL when the
 * controller has none (the fields then read 0, not reported). */
void nvmeta_parse_identify_nvm_ctrl(const struct nvme_id_ctrl_nvm *nvm,
				    struct nvmeta_dev_info *info) NVMETA_HIDDEN;

#endif /* NVMETA_INTERNAL_H */
