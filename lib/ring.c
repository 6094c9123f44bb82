// SPDX-License-Identifier: MIT
/*
 * Rings for NVMe passthrough: big SQEs and CQEs, queueing, reaping, and
 * sync submission that waits for its own completion.
 *
 * A ring belongs to one thread at a time (liburing's rings have no locks).
 * Builds with NVMETA_DEBUG catch two threads inside nvmeta calls on one
 * ring at once and abort with a message: a lost SQE or a stolen
 * completion is far harder to find later.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "complete.h"

#define BIG_RING (IORING_SETUP_SQE128 | IORING_SETUP_CQE32)

/* What io_uring_disabled says, for a message; "" when unreadable. */
static const char *uring_sysctl(char *buf, size_t len)
{
	char val[16];

	if (nvmeta_sysfs_read("/proc/sys/kernel/io_uring_disabled", val, sizeof(val)))
		return "";
	snprintf(buf, len, " (kernel.io_uring_disabled is %s here)", val);
	return buf;
}

/* The table of the library's commands on a new ring, made now so that
 * the hot path never allocates. */
static int attach_tags(struct io_uring *ring)
{
	struct nvmeta_tags *t;
	int ret;

	ret = nvmeta_tags_attach(ring, true, &t);
	if (ret)
		io_uring_queue_exit(ring);
	return ret;
}

int nvmeta_ring_init(struct io_uring *ring, unsigned int depth)
{
	char why[64];
	int ret;

	ret = io_uring_queue_init(depth, ring, BIG_RING);
	if (ret == -EPERM || ret == -EACCES)
		return nvmeta_fail(ret, "io_uring setup refused (%s): io_uring is disabled or restricted: the sysctl kernel.io_uring_disabled (1: only members of kernel.io_uring_group, 2: nobody)%s, a seccomp filter (container runtimes often block io_uring), or a security module",
				   strerror(-ret), uring_sysctl(why, sizeof(why)));
	if (ret)
		return nvmeta_fail(ret, "io_uring setup with SQE128|CQE32, depth %u: %s%s",
				   depth, strerror(-ret),
				   ret == -EINVAL ? " (kernel older than 5.19?)" : "");
	return attach_tags(ring);
}

void nvmeta_ring_exit(struct io_uring *ring)
{
	nvmeta_tags_detach(ring);
	io_uring_queue_exit(ring);
}

/* Why a ring cannot carry passthrough commands: out of line and cold,
 * so that the hot calls that check their ring keep only the test. */
static __attribute__((noinline, cold)) int ring_refused(const struct io_uring *ring)
{
	/* A 128-byte command in a 64-byte SQE overwrites the next entry, and
	 * past the last one the ring's own head; a 16-byte CQE has no big_cqe. */
	return nvmeta_fail(-EINVAL, "ring (fd %d) was set up without %s%s%s: NVMe passthrough needs 128-byte SQEs and 32-byte CQEs (nvmeta_ring_init() sets both)",
			   ring->ring_fd,
			   ring->flags & IORING_SETUP_SQE128 ? "" : "IORING_SETUP_SQE128",
			   (ring->flags & BIG_RING) ? "" : " and ",
			   ring->flags & IORING_SETUP_CQE32 ? "" : "IORING_SETUP_CQE32");
}

int nvmeta_ring_check(const struct io_uring *ring)
{
	if ((ring->flags & BIG_RING) != BIG_RING)
		return ring_refused(ring);
	return 0;
}

#ifdef NVMETA_DEBUG
/* Which thread is inside an nvmeta call on the ring with this fd. */
#define BUSY_SLOTS 4096
static _Atomic uintptr_t ring_busy[BUSY_SLOTS];

static void ring_enter(const struct io_uring *ring)
{
	uintptr_t self = (uintptr_t)pthread_self(), was;
	int fd = ring->ring_fd;

	if (fd < 0 || fd >= BUSY_SLOTS)
		return;
	was = atomic_exchange(&ring_busy[fd], self);
	if (!was || was == self)
		return;
	fprintf(stderr, "nvmeta: two threads use the ring with fd %d at once (0x%lx and 0x%lx); a ring belongs to one thread\n",
		fd, (unsigned long)was, (unsigned long)self);
	abort();
}

static void ring_leave(const struct io_uring *ring)
{
	if (ring->ring_fd >= 0 && ring->ring_fd < BUSY_SLOTS)
		atomic_store(&ring_busy[ring->ring_fd], 0);
}
#else
static inline void ring_enter(const struct io_uring *ring) { (void)ring; }
static inline void ring_leave(const struct io_uring *ring) { (void)ring; }
#endif

/* Polling a queue that completes by interrupt spins a CPU until the
 * interrupt comes: the kernel allows it, and nobody wants it. */
static int refuse_iopoll(const struct nvmeta_dev *dev)
{
	const struct nvmeta_dev_info *in = &dev->info;

	return nvmeta_fail(-EOPNOTSUPP, "%s: the ring polls for completions (IORING_SETUP_IOPOLL) but %s has no poll queues (queue/io_poll is 0): load the nvme driver with poll_queues=N (nvme.poll_queues=N on the kernel command line), or use a ring without IOPOLL",
			   in->generic_path, in->block_name[0] ? in->block_name : "the namespace");
}

/* A ring that polls for completions, on a namespace without poll queues. */
static bool polls_without_poll_queues(const struct nvmeta_dev *dev, const struct io_uring *ring)
{
	return (ring->flags & IORING_SETUP_IOPOLL) && !dev->info.limits.io_poll;
}

/* Everything that may refuse a command, before an SQE is taken. */
static int check_queue(const struct nvmeta_dev *dev, const struct io_uring *ring,
		       const struct nvmeta_io *io)
{
	if (polls_without_poll_queues(dev, ring) && !(io->flags & NVMETA_IO_RAW))
		return refuse_iopoll(dev);
	return nvmeta_io_ready(dev, io);
}

/*
 * Whether @io goes out on @ring with no work before it: a plain command
 * (nvmeta_io_goes_plain()) on a ring with big entries that does not poll
 * a queue without poll queues.  Anything else takes the checks, which
 * refuse it or say what to do.
 */
static inline __attribute__((always_inline)) bool
goes_plain(const struct nvmeta_dev *dev, const struct io_uring *ring, const struct nvmeta_io *io)
{
	if ((ring->flags & BIG_RING) != BIG_RING || polls_without_poll_queues(dev, ring))
		return false;
	return nvmeta_io_goes_plain(dev, io);
}

static int queue_one(const struct nvmeta_dev *dev, struct io_uring *ring,
		     const struct nvmeta_io *io, uint64_t user_data)
{
	struct io_uring_sqe *sqe;
	int ret;

	/* Checks first: an SQE taken from the ring cannot be given back. */
	ret = check_queue(dev, ring, io);
	if (ret)
		return ret;
	sqe = io_uring_get_sqe(ring);
	if (!sqe)
		return nvmeta_fail(-EBUSY, "submission queue full: submit and reap first");
	nvmeta_fill_sqe(dev, sqe, io);
	sqe->user_data = user_data;
	return 0;
}

/* A plain command into the next SQE; false when the queue is full. */
static bool queue_plain(const struct nvmeta_dev *dev, struct io_uring *ring,
			const struct nvmeta_io *io, uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	ring_enter(ring);
	sqe = io_uring_get_sqe(ring);
	if (sqe) {
		nvmeta_fill_plain(dev, sqe, io);
		sqe->user_data = user_data;
	}
	ring_leave(ring);
	return sqe;
}

/* Every check one by one, each refusal with its message. */
static __attribute__((noinline)) int queue_checked(const struct nvmeta_dev *dev,
						   struct io_uring *ring,
						   const struct nvmeta_io *io, uint64_t user_data)
{
	int ret;

	ret = nvmeta_ring_check(ring);
	if (ret)
		return ret;
	if (NVMETA_IS_TAG_USER_DATA(user_data))
		return nvmeta_fail(-EINVAL, "user_data 0x%llx is in the range nvmeta tags its own commands with (NVMETA_TAG_USER_DATA)",
				   (unsigned long long)user_data);
	ret = nvmeta_refuse_unkept_verify(io);
	if (ret)
		return ret;
	ring_enter(ring);
	ret = queue_one(dev, ring, io, user_data);
	ring_leave(ring);
	return ret;
}

NVMETA_HOT int nvmeta_queue(const struct nvmeta_dev *dev, struct io_uring *ring,
		 const struct nvmeta_io *io, uint64_t user_data)
{
	/* The common case with no call and no check twice; a full queue,
	 * like every refusal, goes the long way, which says what is wrong. */
	if (!NVMETA_IS_TAG_USER_DATA(user_data) && goes_plain(dev, ring, io) &&
	    queue_plain(dev, ring, io, user_data))
		return 0;
	return queue_checked(dev, ring, io, user_data);
}

static inline __attribute__((always_inline)) int
sync_one(const struct nvmeta_dev *dev, struct io_uring *ring, const struct nvmeta_io *io,
	 struct nvmeta_status *st, struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
	 uint32_t max)
{
	bool plain = goes_plain(dev, ring, io);
	struct io_uring_cqe cqe[2];
	struct nvmeta_own own;
	int ret;

	/* Checks first: an SQE taken from the ring cannot be given back. */
	ret = plain ? 0 : check_queue(dev, ring, io);
	if (ret)
		return ret;
	ret = nvmeta_own_start(ring, &own);
	if (ret)
		return ret;
	if (plain)
		nvmeta_fill_plain(dev, own.sqe, io);
	else
		nvmeta_fill_sqe(dev, own.sqe, io);
	ret = nvmeta_own_submit(ring, &own);
	if (ret)
		return nvmeta_explain_denied(ret, "io_uring_submit", &dev->info,
					     io->opcode != NVMETA_OP_READ);
	ret = nvmeta_own_wait(ring, &own, cqe);
	if (ret)
		return ret;
	/* A success decoded inline; anything else again, with its message. */
	ret = nvmeta_status_fill(cqe, st);
	if (ret)
		ret = nvmeta_status_decode(cqe, st);
	if (ret == -EOPNOTSUPP && (ring->flags & IORING_SETUP_IOPOLL))
		return nvmeta_fail(ret, "%s refused a passthrough command on a polled ring (IORING_SETUP_IOPOLL): polled passthrough needs Linux 6.1 and a driver with uring_cmd_iopoll",
				   dev->info.generic_path);
	if (ret == -EPERM || ret == -EACCES)
		return nvmeta_explain_denied(ret, "the passthrough command", &dev->info,
					     io->opcode != NVMETA_OP_READ);
	if (!ret && !(io->flags & NVMETA_IO_PI_VERIFY))
		return 0;
	return nvmeta_finish(dev, io, ret, st, rep, errors, max);
}

NVMETA_HOT int nvmeta_io_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
		   const struct nvmeta_io *io, struct nvmeta_status *st)
{
	struct nvmeta_pi_report rep;
	struct nvmeta_status local;
	int ret;

	ret = nvmeta_ring_check(ring);
	if (ret)
		return ret;
	ring_enter(ring);
	ret = sync_one(dev, ring, io, st ? st : &local, &rep, NULL, 0);
	ring_leave(ring);
	return ret;
}

int nvmeta_request_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
			struct nvmeta_request *rq, struct nvmeta_status *st)
{
	struct nvmeta_status local;
	int ret;

	ret = nvmeta_ring_check(ring);
	if (ret)
		return ret;
	rq->dev = dev;
	memset(&rq->pi, 0, sizeof(rq->pi));
	ring_enter(ring);
	ret = sync_one(dev, ring, &rq->io, st ? st : &local, &rq->pi, rq->pi_errors,
		       rq->pi_errors ? rq->pi_errors_max : 0);
	ring_leave(ring);
	return ret;
}

int nvmeta_queue_request(const struct nvmeta_dev *dev, struct io_uring *ring,
			 struct nvmeta_request *rq)
{
	struct nvmeta_own cmd;
	int ret;

	ret = nvmeta_ring_check(ring);
	if (ret)
		return ret;
	rq->dev = dev;
	memset(&rq->pi, 0, sizeof(rq->pi));
	ring_enter(ring);
	/* Checks first: an SQE taken from the ring cannot be given back. */
	ret = check_queue(dev, ring, &rq->io);
	if (!ret)
		ret = nvmeta_tag_sqe(ring, NVMETA_TAG_REQUEST, rq, &cmd);
	if (!ret) {
		nvmeta_fill_sqe(dev, cmd.sqe, &rq->io);
		cmd.sqe->user_data = cmd.tag;
	}
	ring_leave(ring);
	return ret;
}

/* A request's completion: the caller's tag, then what nvmeta_complete()
 * does (complete.c): the status explained, the host's PI check. */
static void complete_request(const struct io_uring_cqe *cqe, struct nvmeta_request *rq,
			     struct nvmeta_completion *out)
{
	out->user_data = rq->user_data;
	out->ret = nvmeta_status_decode(cqe, &out->status);
	out->ret = nvmeta_finish(rq->dev, &rq->io, out->ret, &out->status, &rq->pi,
				 rq->pi_errors, rq->pi_errors ? rq->pi_errors_max : 0);
}

/* A completion of the application's: its tag and status as they are,
 * decoded without a message (none is formatted on reap). */
static inline void complete_app(const struct io_uring_cqe *cqe, struct nvmeta_completion *out)
{
	out->user_data = cqe->user_data;
	out->ret = nvmeta_status_fill(cqe, &out->status);
	memset(out->resv, 0, sizeof(out->resv));
}

/* An attribute-road command's completion: bytes moved, or an errno. */
static void complete_rw(const struct io_uring_cqe *cqe, const struct nvmeta_rw *rw,
			struct nvmeta_completion *out)
{
	out->user_data = rw->user_data;
	out->ret = nvmeta_rw_complete(rw, cqe->res);
	out->status.err = out->ret;
}

/*
 * One completion of the library's own commands into @out: a request or an
 * attribute-road command it finishes.  A tag in the library's range that
 * names no slot in flight is the application's, reported as it is.
 * Returns false for a completion nobody waits for any more, which is
 * dropped.
 */
static bool complete_tagged(struct nvmeta_tags *t, const struct io_uring_cqe *cqe,
			    struct nvmeta_completion *out)
{
	struct nvmeta_tag_slot *s = nvmeta_tag_slot(t, cqe->user_data);

	if (cqe->user_data == NVMETA_TAG_WAITED && t && t->waited_abandoned) {
		t->waited_abandoned--;
		return false;
	}
	if (!s) {
		complete_app(cqe, out);
		return true;
	}
	memset(out, 0, sizeof(*out));
	switch (s->kind) {
	case NVMETA_TAG_ABANDONED:
		nvmeta_tag_release(t, s);
		return false;
	case NVMETA_TAG_REQUEST:
		complete_request(cqe, s->owner, out);
		nvmeta_tag_release(t, s);
		return true;
	case NVMETA_TAG_RW:
		complete_rw(cqe, s->owner, out);
		nvmeta_tag_release(t, s);
		return true;
	default:
		/* A sync call's would be another thread's inside a call on
		 * this ring, which the debug build refuses: not for reap to
		 * take, and handed back as the application's would be. */
		complete_app(cqe, out);
		return true;
	}
}

/*
 * Take what is there, up to @max in all; returns how many were taken.
 * The application's completions, the common case, are copied out as they
 * are; the ring's table of the library's commands is looked up only when
 * a completion carries the library's mark.
 */
static inline __attribute__((always_inline)) unsigned int
take_ready(struct io_uring *ring, struct nvmeta_completion *out, unsigned int n, unsigned int max)
{
	struct nvmeta_tags *t = NULL;
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	bool looked = false;

	/* One move of the head for all of them, as a reap loop does. */
	io_uring_for_each_cqe(ring, head, cqe) {
		if (n == max)
			break;
		seen++;
		if (!NVMETA_IS_TAG_USER_DATA(cqe->user_data)) {
			complete_app(cqe, &out[n++]);
			continue;
		}
		if (!looked) {
			t = nvmeta_tags_find(ring);
			looked = true;
		}
		if (complete_tagged(t, cqe, &out[n]))
			n++;
	}
	io_uring_cq_advance(ring, seen);
	return n;
}

/* What is not there yet: wait for it; dropped completions do not count
 * towards @min. */
static __attribute__((noinline)) int reap_wait(struct io_uring *ring, unsigned int min,
					       struct nvmeta_completion *out, unsigned int n,
					       unsigned int max)
{
	struct io_uring_cqe *cqe;
	int ret = 0;

	while (n < min && n < max) {
		ret = io_uring_wait_cqe_nr(ring, &cqe, min - n);
		if (ret)
			break;
		n = take_ready(ring, out, n, max);
	}
	if (ret && !n)
		return nvmeta_fail(ret, "io_uring_wait_cqe_nr: %s", strerror(-ret));
	return n;
}

/* The rest of a reap that met a failure or a completion in the
 * library's range, or must wait: out of line, so that the loop below
 * calls nothing and keeps all it needs in registers. */
static __attribute__((noinline)) int reap_rest(struct io_uring *ring, unsigned int min,
					       struct nvmeta_completion *out, unsigned int n,
					       unsigned int max)
{
	n = take_ready(ring, out, n, max);
	return n < min && n < max ? reap_wait(ring, min, out, n, max) : (int)n;
}

NVMETA_HOT int nvmeta_reap(struct io_uring *ring, unsigned int min, struct nvmeta_completion *out,
		unsigned int max)
{
	struct io_uring_cqe *cqes = ring->cq.cqes, *cqe;
	unsigned int head, tail, mask = ring->cq.ring_mask, n = 0;
	int ret;

	ret = nvmeta_ring_check(ring);
	if (ret)
		return ret;
	ring_enter(ring);
	/*
	 * The application's successful completions, the common case, as a
	 * plain reap loop takes them: the tail looked at once, each entry
	 * two io_uring_cqe long (CQE32, checked above), one move of the
	 * head.  The first failure or completion in the library's range
	 * stops it; take_ready() then decodes or sorts it and what follows.
	 */
	head = *ring->cq.khead;
	tail = io_uring_smp_load_acquire(ring->cq.ktail);
	for (; head != tail && n < max; head++, n++) {
		cqe = &cqes[(head & mask) << 1];
		if (NVMETA_IS_TAG_USER_DATA(cqe->user_data) || cqe->res)
			break;
		complete_app(cqe, &out[n]);
	}
	io_uring_cq_advance(ring, n);
	if ((head != tail && n < max) || n < min)
		ret = reap_rest(ring, min, out, n, max);
	else
		ret = (int)n;
	ring_leave(ring);
	return ret;
}

int nvmeta_explain_denied(int err, const char *what, const struct nvmeta_dev_info *info,
			  bool writes)
{
	const char *dev = info->generic_path[0] ? info->generic_path : "the device";

	if (err != -EPERM && err != -EACCES)
		return nvmeta_fail(err, "%s: %s", what, strerror(-err));
	/* Before 6.2 every passthrough command needs CAP_SYS_ADMIN; from 6.2
	 * nvme_cmd_allowed() lets I/O through an fd opened for writing (any
	 * fd for reads), admin identify excepted.  io_uring commands also
	 * pass the security_uring_cmd() hook (SELinux, Smack). */
	if (!NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 2))
		return nvmeta_fail(err, "%s on %s refused (%s): Linux %u.%u allows NVMe passthrough only with CAP_SYS_ADMIN (from 6.2 an fd opened for writing is enough); a security module can also deny io_uring commands",
				   what, dev, strerror(-err), info->kernel.major, info->kernel.minor);
	return nvmeta_fail(err, "%s on %s refused (%s): %sthe node's permissions, CAP_SYS_ADMIN, or a security module (SELinux or Smack deny io_uring commands through the uring_cmd hook)",
			   what, dev, strerror(-err),
			   writes ? "commands that write need the device opened for writing; check " : "check ");
}

/* The flags nvmeta_ring_setup() knows, and their io_uring names. */
#define RING_FLAGS (NVMETA_RING_IOPOLL | NVMETA_RING_SQPOLL | NVMETA_RING_FIXED_BUF)

static const char *setup_names(unsigned int flags, char *buf, size_t len)
{
	snprintf(buf, len, "SQE128|CQE32%s%s", flags & IORING_SETUP_IOPOLL ? "|IOPOLL" : "",
		 flags & IORING_SETUP_SQPOLL ? "|SQPOLL" : "");
	return buf;
}

/*
 * Whether the kernel takes IORING_URING_CMD_FIXED: send a URING_CMD with
 * the flag, buffer index 0xffff (above any registered one) and no file.
 * A kernel that does not know the flag refuses it with EINVAL while
 * preparing the command, before it looks at the buffer index (EFAULT) or
 * the file (EBADF): any other answer means the flag was understood.
 */
static int probe_fixed_buf(struct io_uring *ring, bool *fixed)
{
	struct io_uring_cqe cqe[2];
	struct nvmeta_own own;
	int ret;

	ret = nvmeta_own_start(ring, &own);
	if (ret)
		return nvmeta_fail_prefix(ret, "probing the ring");
	memset(own.sqe, 0, (ring->flags & IORING_SETUP_SQE128 ? 2 : 1) * sizeof(*own.sqe));
	own.sqe->opcode = IORING_OP_URING_CMD;
	own.sqe->fd = -1;
	own.sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
	own.sqe->buf_index = 0xffff;
	ret = nvmeta_own_submit(ring, &own);
	if (ret)
		return nvmeta_fail(ret, "probing the ring: io_uring_submit: %s", strerror(-ret));
	ret = nvmeta_own_wait(ring, &own, cqe);
	if (ret)
		return ret;
	*fixed = cqe[0].res != -EINVAL;
	return 0;
}

int nvmeta_ring_probe(struct io_uring *ring, uint32_t *features)
{
	struct io_uring_probe *probe;
	bool fixed = false;
	uint32_t f = 0;
	int ret;

	if ((ring->flags & BIG_RING) == BIG_RING)
		f |= NVMETA_FEAT_BIG;
	if (ring->flags & IORING_SETUP_IOPOLL)
		f |= NVMETA_FEAT_IOPOLL;
	if (ring->flags & IORING_SETUP_SQPOLL)
		f |= NVMETA_FEAT_SQPOLL;
	probe = io_uring_get_probe_ring(ring);
	if (!probe)
		return nvmeta_fail(-EOPNOTSUPP, "io_uring cannot list its opcodes here (IORING_REGISTER_PROBE, Linux 5.6)");
	if (io_uring_opcode_supported(probe, IORING_OP_URING_CMD))
		f |= NVMETA_FEAT_URING_CMD;
	io_uring_free_probe(probe);
	if (f & NVMETA_FEAT_URING_CMD) {
		ring_enter(ring);
		ret = probe_fixed_buf(ring, &fixed);
		ring_leave(ring);
		if (ret)
			return ret;
	}
	if (fixed)
		f |= NVMETA_FEAT_FIXED_BUF;
	*features = f;
	return 0;
}

static int check_params(const struct nvmeta_ring_params *p)
{
	size_t i;

	if (p->flags & ~RING_FLAGS)
		return nvmeta_fail(-EINVAL, "ring flags 0x%x: unknown bits 0x%x", p->flags,
				   p->flags & ~RING_FLAGS);
	for (i = 0; i < ARRAY_SIZE(p->resv); i++)
		if (p->resv[i])
			return nvmeta_fail(-EINVAL, "nvmeta_ring_params resv[%zu] is %u: reserved fields must be zero",
					   i, p->resv[i]);
	return 0;
}

/* The options the caller asked for that the kernel's answer lacks. */
static int check_features(const struct nvmeta_ring_params *p)
{
	if (!(p->features & NVMETA_FEAT_URING_CMD))
		return nvmeta_fail(-EOPNOTSUPP, "this kernel's io_uring has no IORING_OP_URING_CMD (added in Linux 5.19): no NVMe passthrough");
	if ((p->flags & NVMETA_RING_FIXED_BUF) && !(p->features & NVMETA_FEAT_FIXED_BUF))
		return nvmeta_fail(-EOPNOTSUPP, "this kernel does not take registered buffers for passthrough (IORING_URING_CMD_FIXED refused; added in Linux 6.1)");
	return 0;
}

int nvmeta_ring_setup(struct io_uring *ring, unsigned int depth, struct nvmeta_ring_params *p)
{
	struct io_uring_params up;
	char names[48], why[64];
	int ret;

	ret = check_params(p);
	if (ret)
		return ret;
	memset(&up, 0, sizeof(up));
	up.flags = BIG_RING;
	if (p->flags & NVMETA_RING_IOPOLL)
		up.flags |= IORING_SETUP_IOPOLL;
	if (p->flags & NVMETA_RING_SQPOLL) {
		up.flags |= IORING_SETUP_SQPOLL;
		up.sq_thread_idle = p->sq_thread_idle;
	}
	ret = io_uring_queue_init_params(depth, ring, &up);
	if (ret == -EPERM || ret == -EACCES)
		return nvmeta_fail(ret, "io_uring setup with %s refused (%s): io_uring is disabled or restricted%s%s",
				   setup_names(up.flags, names, sizeof(names)), strerror(-ret),
				   uring_sysctl(why, sizeof(why)),
				   (up.flags & IORING_SETUP_SQPOLL) ? ", or SQPOLL needs CAP_SYS_NICE here (before Linux 5.11 CAP_SYS_ADMIN)" : "");
	if (ret)
		return nvmeta_fail(ret, "io_uring setup with %s, depth %u: %s",
				   setup_names(up.flags, names, sizeof(names)), depth, strerror(-ret));
	ret = attach_tags(ring);
	if (ret)
		return ret;
	ret = nvmeta_ring_probe(ring, &p->features);
	if (!ret)
		ret = check_features(p);
	if (ret)
		nvmeta_ring_exit(ring);
	return ret;
}
