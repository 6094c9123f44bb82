// SPDX-License-Identifier: MIT
/*
 * Commands the library submits and waits for on a caller's ring: sync
 * calls of both roads and the ring probe.  One mechanism for all of them:
 *
 *  - before anything is queued, the completion queue must have room for
 *    one more entry: a full or overflowing queue is the caller's to reap,
 *    and a wait for an entry that cannot arrive would never end;
 *  - the command carries a tag unique while it may complete: the one
 *    constant NVMETA_TAG_WAITED while no command with it was abandoned
 *    on the ring, else a slot's of the ring's table (tags.c);
 *  - when the submission fails, a command the kernel has not taken is
 *    turned into a NOP where it lies, so that the next submission on the
 *    ring, the caller's own included, cannot send it to the device after
 *    the call reported failure; one the kernel took is waited for;
 *  - the wait takes its own completion from among the others and leaves
 *    those in order; a signal only restarts it.
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

/* The position of the first completion tagged @user_data among the @ready
 * ones from the head, or @ready if none. */
static unsigned int find_tag(struct io_uring *ring, uint64_t user_data, unsigned int ready)
{
	unsigned int head = *ring->cq.khead, i;

	for (i = 0; i < ready; i++)
		if (nvmeta_cqe_at(ring, head + i)->user_data == user_data)
			break;
	return i;
}

/*
 * Take the completion at @pos and leave the @pos older ones in order: they
 * belong to commands the caller queued itself and will reap later.  The
 * ring's CQE array is the application's to read and write until the head
 * moves past an entry.
 */
static void take_at(struct io_uring *ring, unsigned int pos, struct io_uring_cqe *out)
{
	unsigned int head = *ring->cq.khead, i;
	size_t sz = ring->flags & IORING_SETUP_CQE32 ? 2 * sizeof(*out) : sizeof(*out);

	memcpy(out, nvmeta_cqe_at(ring, head + pos), sz);
	for (i = pos; i > 0; i--)
		memcpy(nvmeta_cqe_at(ring, head + i), nvmeta_cqe_at(ring, head + i - 1), sz);
	io_uring_cq_advance(ring, 1);
}

/* Submit everything queued; a signal during submission only retries, and
 * a partial submission goes on while the kernel takes some.  With SQPOLL
 * the kernel's thread takes entries when it runs: publishing them (and
 * waking the thread, which io_uring_submit() does) is all there is, and
 * waiting here until it took them would only spin. */
int nvmeta_submit_all(struct io_uring *ring)
{
	int ret;

	if (ring->flags & IORING_SETUP_SQPOLL) {
		ret = io_uring_submit(ring);
		return ret < 0 ? ret : 0;
	}
	do {
		ret = io_uring_submit(ring);
	} while (ret == -EINTR || (ret > 0 && io_uring_sq_ready(ring)));
	if (ret >= 0 && io_uring_sq_ready(ring))
		return -EAGAIN;
	return ret < 0 ? ret : 0;
}

/*
 * Room in the completion queue for one more entry, or -EBUSY.  Entries
 * the kernel holds back (an overflow, IORING_FEAT_NODROP) are flushed in
 * first when the queue has room for them: that costs one io_uring_enter,
 * only when the kernel flagged an overflow.
 */
static int cq_room(struct io_uring *ring)
{
	unsigned int ready;

	if (io_uring_cq_has_overflow(ring))
		io_uring_get_events(ring);
	ready = io_uring_cq_ready(ring);
	if (ready < ring->cq.ring_entries && !io_uring_cq_has_overflow(ring))
		return 0;
	return nvmeta_fail(-EBUSY, "completion queue full: reap first (%u of %u entries unreaped%s); nothing was queued",
			   ready, ring->cq.ring_entries,
			   io_uring_cq_has_overflow(ring) ? ", and more held back by the kernel" : "");
}

int nvmeta_own_start_slow(struct io_uring *ring, struct nvmeta_own *own)
{
	int ret = cq_room(ring);

	return ret ? ret : nvmeta_tag_waited(ring, own);
}

/* Whether the kernel has read the SQE at @pos of the submission ring. */
static bool taken_by_kernel(const struct io_uring *ring, unsigned int pos)
{
	unsigned int head = io_uring_smp_load_acquire(ring->sq.khead);

	return (int)(head - pos) > 0;
}

/*
 * The submission failed with @err.  A command the kernel has not read is
 * replaced by a NOP under the same tag: the next submission sends the NOP,
 * whose completion nvmeta_reap() drops.  The ring's SQ tail was published
 * already, so the entry cannot be taken back.  With SQPOLL the kernel's
 * thread reads entries on its own, but the submissions that fail there
 * (a disabled ring, a dead thread) are those where it does not run.
 * Returns 0 when the kernel holds the command after all (wait for it), or
 * @err.
 */
static int withdraw(struct io_uring *ring, struct nvmeta_own *own, int err)
{
	if (taken_by_kernel(ring, own->pos))
		return 0;
	io_uring_prep_nop(own->sqe);
	own->sqe->user_data = own->tag;
	atomic_thread_fence(memory_order_seq_cst);
	if (taken_by_kernel(ring, own->pos))
		return 0;
	nvmeta_own_abandon(own);
	return err;
}

/* The submission took less than everything, failed, or runs under
 * SQPOLL: retry, and withdraw what the kernel did not take. */
int nvmeta_own_submit_slow(struct io_uring *ring, struct nvmeta_own *own)
{
	int ret = nvmeta_submit_all(ring);

	return ret ? withdraw(ring, own, ret) : 0;
}

int nvmeta_own_wait_slow(struct io_uring *ring, struct nvmeta_own *own, struct io_uring_cqe *out)
{
	struct io_uring_cqe *cqe;
	unsigned int ready, pos;
	int ret;

	for (;;) {
		ready = io_uring_cq_ready(ring);
		pos = find_tag(ring, own->tag, ready);
		if (pos < ready) {
			take_at(ring, pos, out);
			nvmeta_own_done(own);
			return 0;
		}
		/* The caller's completions filled the queue after the command
		 * went out: its own cannot arrive until they are reaped, and
		 * waiting for it would never end. */
		if (ready >= ring->cq.ring_entries) {
			nvmeta_own_abandon(own);
			return nvmeta_fail(-EBUSY, "completion queue full (%u entries) while waiting: reap first; the command was sent and may still complete: keep its buffers until nvmeta_reap() has taken the completions queued before it",
					   ready);
		}
		/* Our command is in flight: returning now would let the caller
		 * free buffers the device still writes, and hand its completion
		 * to the next call.  A signal only restarts the wait. */
		ret = io_uring_wait_cqe_nr(ring, &cqe, ready + 1);
		if (ret && ret != -EINTR && ret != -EAGAIN && ret != -ETIME) {
			nvmeta_own_abandon(own);
			return nvmeta_fail(ret, "waiting for the completion: %s", strerror(-ret));
		}
	}
}
