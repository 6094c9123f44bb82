// SPDX-License-Identifier: MIT
/*
 * Rings on a real io_uring, without a device: NOPs and timeouts give
 * completions, and a passthrough command on /dev/null completes at once
 * (EOPNOTSUPP, or 0 on some kernels), which is enough to tell whose
 * completion a call took, and to see SQPOLL and IOPOLL rings set up by
 * nvmeta_ring_setup() carry nvmeta's commands.  The probe of what a ring
 * takes is here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"

static struct nvmeta_dev dev;
static char data[512];

static void setup(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cr_assert_geq(dev.fd, 0);
	strcpy(dev.info.generic_path, "/dev/null");
	dev.info.nsid = 1;
	dev.info.nsze = 1000;
	dev.info.lba_size = 512;
	dev.info.guard_bits = 16;
	dev.info.limits.max_hw_sectors_kb = 512;
	dev.info.limits.io_poll = true;
}

static void teardown(void)
{
	close(dev.fd);
}

TestSuite(ring, .init = setup, .fini = teardown);

static struct nvmeta_io read_one(void)
{
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .nlb = 1, .data = data, .data_len = sizeof(data),
	};
	return io;
}

static void queue_nop(struct io_uring *ring, uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	cr_assert_not_null(sqe);
	io_uring_prep_nop(sqe);
	sqe->user_data = user_data;
}

/* An application's NOP tagged @user_data comes back from nvmeta_reap()
 * as it is. */
static void nop_comes_back(struct io_uring *ring, uint64_t user_data)
{
	struct nvmeta_completion c[4];

	queue_nop(ring, user_data);
	cr_assert_eq(io_uring_submit(ring), 1);
	cr_assert_eq(nvmeta_reap(ring, 1, c, 4), 1);
	cr_assert_eq(c[0].user_data, user_data);
}

static void queue_timeout(struct io_uring *ring, uint64_t user_data, struct __kernel_timespec *ts)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	cr_assert_not_null(sqe);
	io_uring_prep_timeout(sqe, ts, 0, 0);
	sqe->user_data = user_data;
}

/* On a plain 64-entry ring the 64th 128-byte command overwrote the SQ
 * ring's head; every call that takes a ring now refuses it first. */
Test(ring, a_ring_without_big_sqes_and_cqes_is_refused)
{
	static const unsigned int flags[] = { 0, IORING_SETUP_SQE128, IORING_SETUP_CQE32 };
	struct nvmeta_completion c[4];
	struct nvmeta_io io = read_one();
	struct io_uring ring;
	unsigned int head, i, n;

	for (i = 0; i < 3; i++) {
		cr_assert_eq(io_uring_queue_init(64, &ring, flags[i]), 0);
		head = *ring.sq.khead;
		for (n = 0; n < 70; n++)
			cr_assert_eq(nvmeta_queue(&dev, &ring, &io, n), -EINVAL);
		cr_assert(strstr(nvmeta_last_error(), flags[i] & IORING_SETUP_SQE128 ?
				 "IORING_SETUP_CQE32" : "IORING_SETUP_SQE128"),
			  "%s", nvmeta_last_error());
		cr_assert_eq(*ring.sq.khead, head);
		cr_assert_eq(io_uring_sq_ready(&ring), 0, "nothing may be queued");
		cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), -EINVAL);
		cr_assert_eq(nvmeta_reap(&ring, 0, c, 4), -EINVAL);
		io_uring_queue_exit(&ring);
	}
}

Test(ring, the_sync_tag_is_reserved)
{
	struct nvmeta_io io = read_one();
	struct io_uring ring;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_TAG_USER_DATA), -EINVAL);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_TAG_USER_DATA | 0xffffffff), -EINVAL);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_TAG_USER_DATA - 1), 0);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_TAG_USER_DATA + 0x100000000ULL), 0);
	io_uring_queue_exit(&ring);
}

/* The old sync call took the first completion in the ring: here that of
 * an expired timeout, so it reported -ETIME for its own command, and left
 * its own completion for the next caller. */
Test(ring, sync_takes_its_own_completion_and_leaves_the_others)
{
	struct __kernel_timespec at_once = { 0, 1 };
	struct nvmeta_completion c[4];
	struct nvmeta_io io = read_one();
	struct io_uring_cqe *cqe;
	struct nvmeta_status st;
	struct io_uring ring;
	int alone;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	/* What this kernel answers a passthrough command on /dev/null with
	 * (EOPNOTSUPP on most): the sync call must return that again. */
	alone = nvmeta_io_sync(&dev, &ring, &io, &st);
	cr_assert_neq(alone, -ETIME);
	cr_assert_eq(io_uring_cq_ready(&ring), 0);
	queue_timeout(&ring, 11, &at_once);
	cr_assert_eq(io_uring_submit(&ring), 1);
	cr_assert_eq(io_uring_wait_cqe(&ring, &cqe), 0);	/* there, not taken */
	queue_nop(&ring, 12);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, &st), alone, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_reap(&ring, 2, c, 4), 2);
	cr_assert_eq(c[0].user_data, 11);
	cr_assert_eq(c[0].ret, -ETIME);
	cr_assert_eq(c[1].user_data, 12);
	cr_assert_eq(c[1].ret, 0);
	cr_assert_eq(io_uring_cq_ready(&ring), 0);
	io_uring_queue_exit(&ring);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* A signal every 2 ms during a 200 ms wait: the wait goes on until its
 * own completion, which it takes from between two others, whose order
 * stays. */
Test(ring, the_wait_for_its_own_completion_survives_signals)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval every = { { 0, 2000 }, { 0, 2000 } }, off = { 0 };
	struct __kernel_timespec slow = { 0, 200 * 1000 * 1000 }, fast = { 0, 20 * 1000 * 1000 };
	struct io_uring_cqe out[2], *cqe;
	struct nvmeta_own own;
	struct io_uring ring;
	double t0;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	queue_timeout(&ring, 1, &fast);
	/* The library's own command: a slow timeout under its tag. */
	cr_assert_eq(nvmeta_own_start(&ring, &own), 0, "%s", nvmeta_last_error());
	io_uring_prep_timeout(own.sqe, &slow, 0, 0);
	queue_nop(&ring, 3);
	cr_assert_eq(nvmeta_own_submit(&ring, &own), 0);
	t0 = now();
	cr_assert_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
	cr_assert_eq(nvmeta_own_wait(&ring, &own, out), 0, "%s", nvmeta_last_error());
	setitimer(ITIMER_REAL, &off, NULL);
	cr_assert_geq(now() - t0, 0.15, "returned before its command completed");
	/* The process slept in io_uring_enter for all of it: each signal
	 * ended that wait with EINTR, and the wait went on. */
	cr_assert_gt(alarms, 10, "only %d signals arrived", (int)alarms);
	cr_assert_eq(out[0].user_data, own.tag);
	cr_assert_eq(out[0].res, -ETIME);
	cr_assert_eq(io_uring_cq_ready(&ring), 2);
	cr_assert_eq(io_uring_peek_cqe(&ring, &cqe), 0);
	cr_assert_eq(cqe->user_data, 3, "the older completions keep their order");
	io_uring_cqe_seen(&ring, cqe);
	cr_assert_eq(io_uring_peek_cqe(&ring, &cqe), 0);
	cr_assert_eq(cqe->user_data, 1);
	io_uring_cqe_seen(&ring, cqe);
	nvmeta_ring_exit(&ring);
}

#ifdef NVMETA_DEBUG
static struct io_uring shared;

static void *reaper(void *arg)
{
	struct nvmeta_completion c;

	(void)arg;
	nvmeta_reap(&shared, 1, &c, 1);
	return NULL;
}

/* Two threads inside nvmeta calls on one ring: debug builds (and the
 * sanitizer build of the test command) abort at once instead of losing
 * commands. */
Test(ring, two_threads_on_one_ring_abort_in_debug_builds, .signal = SIGABRT)
{
	struct __kernel_timespec ts = { 5, 0 };
	struct nvmeta_completion c;
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	pthread_t t;

	cr_assert_eq(nvmeta_ring_init(&shared, 8), 0);
	queue_timeout(&shared, 7, &ts);
	cr_assert_eq(io_uring_submit(&shared), 1);
	cr_assert_eq(pthread_create(&t, NULL, reaper, NULL), 0);
	nanosleep(&pause, NULL);
	nvmeta_reap(&shared, 0, &c, 1);
	cr_assert_fail("the second thread was not stopped");
}
#endif

/* A ring whose submissions fail (EBADFD) until io_uring_enable_rings(). */
static void disabled_ring(struct io_uring *ring, unsigned int depth)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | IORING_SETUP_R_DISABLED,
	};

	cr_assert_eq(io_uring_queue_init_params(depth, ring, &p), 0);
}

/* io_uring_enable_rings(), which liburing 2.3 declares but does not export. */
static int enable_ring(struct io_uring *ring)
{
	return syscall(__NR_io_uring_register, ring->ring_fd, IORING_REGISTER_ENABLE_RINGS,
		       NULL, 0) < 0 ? -errno : 0;
}

/* The SQE the last call took from the ring. */
static struct io_uring_sqe *last_sqe(struct io_uring *ring)
{
	unsigned int shift = ring->flags & IORING_SETUP_SQE128 ? 1 : 0;

	return &ring->sq.sqes[((ring->sq.sqe_tail - 1) & ring->sq.ring_mask) << shift];
}

/*
 * Issue 16, item 1: a sync call whose submission failed left its command
 * queued, and the next submission on the ring (the application's own
 * here) sent it to the device after the call had reported failure.  Now
 * the command is a NOP by the time the call returns, and nvmeta_reap()
 * drops the NOP's completion.
 */
Test(ring, a_sync_call_that_failed_to_submit_leaves_no_command_behind)
{
	struct __kernel_timespec later = { 0, 20 * 1000 * 1000 };
	struct nvmeta_completion c[4];
	struct nvmeta_io io = read_one();
	struct io_uring ring;
	uint32_t features;

	disabled_ring(&ring, 8);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), -EBADFD, "%s", nvmeta_last_error());
	cr_assert_eq(last_sqe(&ring)->opcode, IORING_OP_NOP,
		     "the failed command is still queued as opcode %u", last_sqe(&ring)->opcode);
	/* The ring probe's registered-buffer command, the same way. */
	cr_assert_lt(nvmeta_ring_probe(&ring, &features), 0);
	cr_assert_eq(last_sqe(&ring)->opcode, IORING_OP_NOP);
	cr_assert_eq(enable_ring(&ring), 0);
	/* The application's own command completes after the two NOPs: their
	 * completions, dropped, do not count towards min. */
	queue_timeout(&ring, 5, &later);
	cr_assert_eq(io_uring_submit(&ring), 3);
	cr_assert_eq(nvmeta_reap(&ring, 1, c, 4), 1);
	cr_assert_eq(c[0].user_data, 5);
	cr_assert_eq(c[0].ret, -ETIME);
	cr_assert_eq(io_uring_cq_ready(&ring), 0);
	nvmeta_ring_exit(&ring);
}

struct handover {
	struct io_uring *ring;
	struct nvmeta_dev *dev;
	int ret;
};

static void *sync_in_a_thread(void *arg)
{
	struct handover *h = arg;
	struct nvmeta_io io = read_one();

	h->ret = nvmeta_io_sync(h->dev, h->ring, &io, NULL);
	return NULL;
}

static int sync_on_a_new_thread(struct io_uring *ring, struct nvmeta_dev *d)
{
	struct handover h = { .ring = ring, .dev = d };
	pthread_t t;

	cr_assert_eq(pthread_create(&t, NULL, sync_in_a_thread, &h), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	return h.ret;
}

/*
 * Issue 16, item 2: sync tags were a 16-bit counter per thread, so the
 * first call of a second thread on a ring had the tag of the first
 * thread's first call, and took that command's completion for its own
 * (here: /dev/null's answer instead of EBADF for a closed descriptor).
 */
Test(ring, a_ring_passed_between_threads_gets_tags_that_do_not_repeat)
{
	struct nvmeta_dev closed = dev;
	struct io_uring ring;

	closed.fd = 1000;	/* not open: the kernel answers EBADF */
	disabled_ring(&ring, 8);
	cr_assert_eq(sync_on_a_new_thread(&ring, &dev), -EBADFD);
	cr_assert_eq(enable_ring(&ring), 0);
	cr_assert_eq(sync_on_a_new_thread(&ring, &closed), -EBADF, "%s", nvmeta_last_error());
	nvmeta_ring_exit(&ring);
}

/* The same in one thread: a command of the library's still to complete
 * keeps its tag out of use for the 65,536 calls after it. */
Test(ring, tags_do_not_repeat_while_a_command_may_complete, .timeout = 120)
{
	struct nvmeta_dev closed = dev;
	struct nvmeta_io io = read_one();
	struct io_uring ring;
	unsigned int i;
	int alone;

	closed.fd = 1000;
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	alone = nvmeta_io_sync(&dev, &ring, &io, NULL);
	nvmeta_ring_exit(&ring);
	disabled_ring(&ring, 8);
	cr_assert_eq(sync_on_a_new_thread(&ring, &dev), -EBADFD);
	cr_assert_eq(enable_ring(&ring), 0);
	for (i = 0; i < 65535; i++)
		cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), alone, "call %u", i);
	cr_assert_eq(nvmeta_io_sync(&closed, &ring, &io, NULL), -EBADF, "%s", nvmeta_last_error());
	nvmeta_ring_exit(&ring);
}

/*
 * Issue 18: a waited-for command takes no slot while it is the ring's
 * only one with NVMETA_TAG_WAITED.  One abandoned with that tag (its
 * submission failed: a NOP now) sends the calls after it to the slots,
 * or they would take its completion for theirs; nvmeta_reap() drops it,
 * and then the calls go back to the constant tag.
 */
Test(ring, an_abandoned_waited_tag_is_dropped_once_and_then_free_again)
{
	struct nvmeta_dev closed = dev;
	struct nvmeta_io io = read_one();
	struct nvmeta_completion c[4];
	struct nvmeta_tags *t;
	struct io_uring ring;
	int alone;

	closed.fd = 1000;	/* not open: the kernel answers EBADF */
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	alone = nvmeta_io_sync(&dev, &ring, &io, NULL);
	cr_assert_eq(last_sqe(&ring)->user_data, NVMETA_TAG_WAITED);
	nvmeta_ring_exit(&ring);

	/* A ring nvmeta_ring_init() did not make has no table until its
	 * first tagged command, which then takes a slot: make it here. */
	disabled_ring(&ring, 8);
	cr_assert_eq(nvmeta_tags_attach(&ring, false, &t), 0);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), -EBADFD);
	cr_assert_eq(last_sqe(&ring)->opcode, IORING_OP_NOP);
	cr_assert_eq(last_sqe(&ring)->user_data, NVMETA_TAG_WAITED);
	cr_assert_eq(t->waited_abandoned, 1);
	cr_assert_eq(enable_ring(&ring), 0);
	/* The NOP goes out first and completes first: this call must wait
	 * for its own, under a slot's tag. */
	cr_assert_eq(nvmeta_io_sync(&closed, &ring, &io, NULL), -EBADF, "%s", nvmeta_last_error());
	cr_assert_neq(last_sqe(&ring)->user_data, NVMETA_TAG_WAITED);
	cr_assert_eq(io_uring_cq_ready(&ring), 1, "the NOP's completion stays for reap");
	cr_assert_eq(nvmeta_reap(&ring, 0, c, 4), 0, "and reap drops it");
	cr_assert_eq(t->waited_abandoned, 0);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), alone, "%s", nvmeta_last_error());
	cr_assert_eq(last_sqe(&ring)->user_data, NVMETA_TAG_WAITED);
	/* With none abandoned, the value is an application's like any other. */
	nop_comes_back(&ring, NVMETA_TAG_WAITED);
	nvmeta_ring_exit(&ring);
}

/* A slot's generation skips 0, which is NVMETA_TAG_WAITED's. */
Test(ring, a_slots_generation_never_wraps_to_the_waited_tag)
{
	struct nvmeta_tags *t;
	struct io_uring ring;
	uint64_t tag;
	unsigned int i;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	t = nvmeta_tags_find(&ring);
	cr_assert_not_null(t);
	for (i = 0; i < 0x10001; i++) {
		cr_assert_eq(nvmeta_tag_claim(t, NVMETA_TAG_SYNC, NULL, &tag), 0);
		cr_assert_neq((tag >> 16) & 0xffff, 0, "claim %u", i);
		nvmeta_tag_release(t, nvmeta_tag_slot(t, tag));
	}
	nvmeta_ring_exit(&ring);
}

static void fill_cq_with_nops(struct io_uring *ring, unsigned int n)
{
	unsigned int i, sent = 0;

	for (i = 0; i < n; i++) {
		if (!io_uring_sq_space_left(ring))
			sent += io_uring_submit(ring);
		queue_nop(ring, 100 + i);
	}
	sent += io_uring_submit(ring);
	cr_assert_eq(sent, n);
}

static void reap_nops_in_order(struct io_uring *ring, unsigned int n)
{
	struct nvmeta_completion c[64];
	unsigned int got = 0, i;
	int ret;

	while (got < n) {
		ret = nvmeta_reap(ring, 1, c, 64);
		cr_assert_gt(ret, 0, "%d: %s", ret, nvmeta_last_error());
		for (i = 0; i < (unsigned int)ret; i++)
			cr_assert_eq(c[i].user_data, 100 + got + i);
		got += ret;
	}
	cr_assert_eq(nvmeta_reap(ring, 0, c, 64), 0);
}

/*
 * Issue 16, item 3: a sync call on a ring whose completion queue the
 * application left full, or whose completions the kernel holds in its
 * overflow list, waited for an entry that could never arrive.  Now it
 * says so and queues nothing; the caller's completions stay, in order.
 */
Test(ring, a_full_or_overflowed_completion_queue_is_refused_not_waited_on, .timeout = 30)
{
	struct nvmeta_io io = read_one();
	struct io_uring ring;
	unsigned int cq;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cq = ring.cq.ring_entries;
	fill_cq_with_nops(&ring, cq);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), -EBUSY);
	cr_assert(strstr(nvmeta_last_error(), "completion queue full: reap first"), "%s",
		  nvmeta_last_error());
	cr_assert_eq(io_uring_sq_ready(&ring), 0, "nothing is queued");
	reap_nops_in_order(&ring, cq);

	fill_cq_with_nops(&ring, cq + 4);	/* four held back by the kernel */
	cr_assert(io_uring_cq_has_overflow(&ring));
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), -EBUSY);
	cr_assert(strstr(nvmeta_last_error(), "held back by the kernel"), "%s", nvmeta_last_error());
	reap_nops_in_order(&ring, cq + 4);
	nvmeta_ring_exit(&ring);
}

/* Room made without entering the kernel: the overflowed entries are
 * flushed in, and the call goes ahead. */
Test(ring, overflowed_completions_are_flushed_when_there_is_room, .timeout = 30)
{
	struct nvmeta_io io = read_one();
	struct io_uring ring;
	unsigned int cq;
	int alone;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	alone = nvmeta_io_sync(&dev, &ring, &io, NULL);
	cq = ring.cq.ring_entries;
	fill_cq_with_nops(&ring, cq + 4);
	cr_assert(io_uring_cq_has_overflow(&ring));
	io_uring_cq_advance(&ring, 8);	/* the application took eight */
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), alone, "%s", nvmeta_last_error());
	cr_assert_eq(io_uring_cq_ready(&ring), cq - 4);
	io_uring_cq_advance(&ring, cq - 4);
	nvmeta_ring_exit(&ring);
}

/* The queue fills with the application's completions after the command
 * went out: the call returns instead of waiting for ever, and the
 * command's completion, flushed in later, is dropped by nvmeta_reap(). */
Test(ring, a_queue_that_fills_during_the_wait_ends_it, .timeout = 30)
{
	struct nvmeta_io io = read_one();
	struct io_uring ring;
	unsigned int i, cq, sq;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cq = ring.cq.ring_entries;
	sq = ring.sq.ring_entries;
	/* Room for one more when the call starts; the sq - 1 NOPs queued
	 * but not submitted go out ahead of its command and fill it. */
	fill_cq_with_nops(&ring, cq - (sq - 1));
	for (i = cq - (sq - 1); i < cq; i++)
		queue_nop(&ring, 100 + i);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), -EBUSY);
	cr_assert(strstr(nvmeta_last_error(), "while waiting"), "%s", nvmeta_last_error());
	reap_nops_in_order(&ring, cq);
	nvmeta_ring_exit(&ring);
}

/*
 * Issue 16, item 4: nvmeta_reap() took any user_data starting 0x6e72 for
 * a request's address and dereferenced it (a segfault here), and dropped
 * completions in the old sync range.  Completions the library did not
 * queue are the application's, whatever their user_data.
 */
Test(ring, completions_the_library_did_not_queue_are_returned_untouched)
{
	static const uint64_t foreign[] = {
		0x6e72000000001234ULL,			/* the old request range */
		0x6e766d6574618000ULL,			/* the old sync range */
		NVMETA_TAG_USER_DATA | 0xffff,		/* a slot beyond the table */
		NVMETA_TAG_USER_DATA | 0x00050003,	/* a free slot */
	};
	struct nvmeta_completion c[8];
	struct io_uring ring;
	unsigned int i;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	for (i = 0; i < ARRAY_SIZE(foreign); i++)
		queue_nop(&ring, foreign[i]);
	cr_assert_eq(io_uring_submit(&ring), (int)ARRAY_SIZE(foreign));
	cr_assert_eq(nvmeta_reap(&ring, ARRAY_SIZE(foreign), c, 8), (int)ARRAY_SIZE(foreign));
	for (i = 0; i < ARRAY_SIZE(foreign); i++) {
		cr_assert_eq(c[i].user_data, foreign[i]);
		cr_assert_eq(c[i].ret, 0);
	}
	nvmeta_ring_exit(&ring);
}

/* nvmeta_reap() takes the application's successes in a loop of its own
 * and hands a failure, or a completion in the library's range, to the
 * loop that decodes and sorts: a reap that crosses from one to the other,
 * or stops at @max between them, keeps the order and every result. */
Test(ring, a_reap_that_meets_failures_and_the_librarys_range_keeps_order, .timeout = 30)
{
	static const uint64_t ud[] = { 1, 2, 3, NVMETA_TAG_USER_DATA | 0xffff, 5, 6 };
	static const int want[] = { 0, -EBADF, 0, 0, 0, -EBADF };
	struct nvmeta_completion c[8];
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	unsigned int i;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	for (i = 0; i < ARRAY_SIZE(ud); i++) {
		if (want[i]) {
			/* A read of fd -1 fails at once, in order. */
			sqe = io_uring_get_sqe(&ring);
			cr_assert_not_null(sqe);
			io_uring_prep_read(sqe, -1, data, sizeof(data), 0);
			sqe->user_data = ud[i];
		} else {
			queue_nop(&ring, ud[i]);
		}
	}
	cr_assert_eq(io_uring_submit(&ring), (int)ARRAY_SIZE(ud));
	cr_assert_eq(io_uring_cq_ready(&ring), ARRAY_SIZE(ud));
	/* Nothing asked, nothing taken. */
	cr_assert_eq(nvmeta_reap(&ring, 0, c, 0), 0);
	cr_assert_eq(io_uring_cq_ready(&ring), ARRAY_SIZE(ud));
	/* A success, then a failure, and @max ends it there. */
	cr_assert_eq(nvmeta_reap(&ring, 1, c, 2), 2);
	/* A success, one in the library's range, a success, a failure. */
	cr_assert_eq(nvmeta_reap(&ring, 4, c + 2, 6), 4);
	for (i = 0; i < ARRAY_SIZE(ud); i++) {
		cr_assert_eq(c[i].user_data, ud[i], "completion %u", i);
		cr_assert_eq(c[i].ret, want[i], "completion %u: %d", i, c[i].ret);
		cr_assert_eq(c[i].status.err, want[i], "completion %u", i);
	}
	cr_assert_eq(io_uring_cq_ready(&ring), 0);
	nvmeta_ring_exit(&ring);
}

/* A request's tag is live while it is in flight, and foreign again once
 * reaped: a copy of it reaped later is the application's. */
Test(ring, a_request_tag_names_a_slot_only_while_in_flight)
{
	struct nvmeta_request rq = { .io = read_one(), .user_data = 77 };
	struct nvmeta_completion c[4];
	struct io_uring ring;
	uint64_t tag;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_queue_request(&dev, &ring, &rq), 0, "%s", nvmeta_last_error());
	tag = last_sqe(&ring)->user_data;
	cr_assert(NVMETA_IS_TAG_USER_DATA(tag));
	cr_assert_eq(io_uring_submit(&ring), 1);
	cr_assert_eq(nvmeta_reap(&ring, 1, c, 4), 1);
	cr_assert_eq(c[0].user_data, 77);
	nop_comes_back(&ring, tag);
	nvmeta_ring_exit(&ring);
}

/* As many of the library's commands in flight as the CQ holds: the next
 * one is refused before it takes an SQE. */
Test(ring, requests_beyond_the_completion_queue_are_refused)
{
	static struct nvmeta_request rq[64];
	struct io_uring ring;
	unsigned int i, cq;

	cr_assert_eq(nvmeta_ring_init(&ring, 64), 0);
	cq = ring.cq.ring_entries;
	cr_assert_leq(cq, 128);
	for (i = 0; i < cq; i++) {
		rq[i % 64].io = read_one();
		if (io_uring_sq_space_left(&ring) == 0)
			cr_assert_geq(io_uring_submit(&ring), 0);
		cr_assert_eq(nvmeta_queue_request(&dev, &ring, &rq[i % 64]), 0, "request %u: %s", i,
			     nvmeta_last_error());
	}
	cr_assert_eq(nvmeta_queue_request(&dev, &ring, &rq[0]), -EBUSY);
	cr_assert(strstr(nvmeta_last_error(), "reap first"), "%s", nvmeta_last_error());
	nvmeta_ring_exit(&ring);
}

/* Issue 16, item 7: unknown flag bits were accepted by every road. */
Test(ring, unknown_io_flags_are_refused_on_every_road)
{
	struct nvmeta_io io = read_one();
	struct io_uring_sqe sqe[2];
	struct io_uring ring;

	io.flags = 1u << 9 | NVMETA_IO_NO_PREFAULT;
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "unknown bits 0x200"), "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, 1), -EINVAL);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), -EINVAL);
	io.flags = 0x80000000u | NVMETA_IO_RAW;
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, 1), -EINVAL, "RAW skips no encoding check");
	cr_assert(strstr(nvmeta_last_error(), "0x80000000"), "%s", nvmeta_last_error());
	cr_assert_eq(io_uring_sq_ready(&ring), 0);
	nvmeta_ring_exit(&ring);
}

/* Issue 16, item 6: nvmeta_prep() took NVMETA_IO_PI_VERIFY, and nothing
 * verified the SQE it filled.  Issue 17, item 4: the caller who reaps
 * finishes it with nvmeta_complete(), which verifies, so nvmeta_prep()
 * takes the flag where PI can be verified (test_complete.c); here, on a
 * namespace without PI, it is refused for that.  nvmeta_queue() still
 * refuses it: nvmeta_reap() would return its completion unverified. */
Test(ring, prep_takes_a_verification_the_caller_finishes)
{
	struct nvmeta_io io = read_one();
	struct io_uring_sqe sqe[2];
	struct io_uring ring;

	io.flags = NVMETA_IO_PI_VERIFY;
	cr_assert_eq(nvmeta_prep(&dev, sqe, &io), -EPROTO);
	cr_assert(strstr(nvmeta_last_error(), "no protection information"), "%s",
		  nvmeta_last_error());
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, 1), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "nvmeta_queue_request"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "nvmeta_complete"), "%s", nvmeta_last_error());
	nvmeta_ring_exit(&ring);
}

Test(ring, permission_errors_name_their_likely_causes)
{
	struct nvmeta_dev_info in = dev.info;

	in.kernel.major = 6;
	in.kernel.minor = 1;
	cr_assert_eq(nvmeta_explain_denied(-EACCES, "the passthrough command", &in, false), -EACCES);
	cr_assert(strstr(nvmeta_last_error(), "CAP_SYS_ADMIN"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "6.2"));
	in.kernel.minor = 12;
	cr_assert_eq(nvmeta_explain_denied(-EPERM, "the passthrough command", &in, true), -EPERM);
	cr_assert(strstr(nvmeta_last_error(), "opened for writing"), "%s", nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), "security module"));
}

static void setup_ok(struct io_uring *ring, struct nvmeta_ring_params *p)
{
	int ret = nvmeta_ring_setup(ring, 8, p);

	cr_assert_eq(ret, 0, "%s", nvmeta_last_error());
}

Test(ring, a_plain_ring_is_big_and_knows_uring_cmd)
{
	struct nvmeta_ring_params p = { 0 };
	struct io_uring ring;

	setup_ok(&ring, &p);
	cr_assert_eq(ring.flags & (IORING_SETUP_SQE128 | IORING_SETUP_CQE32),
		     IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
	cr_assert(p.features & NVMETA_FEAT_BIG);
	cr_assert(p.features & NVMETA_FEAT_URING_CMD);
	cr_assert_not(p.features & (NVMETA_FEAT_IOPOLL | NVMETA_FEAT_SQPOLL));
	/* The probe's command was taken: nothing is left to reap. */
	cr_assert_eq(io_uring_cq_ready(&ring), 0);
	io_uring_queue_exit(&ring);
}

Test(ring, sqpoll_and_iopoll_are_asked_of_the_kernel_and_reported)
{
	struct nvmeta_ring_params p = { .flags = NVMETA_RING_SQPOLL, .sq_thread_idle = 50 };
	struct io_uring ring;

	setup_ok(&ring, &p);
	cr_assert(ring.flags & IORING_SETUP_SQPOLL);
	cr_assert(p.features & NVMETA_FEAT_SQPOLL);
	io_uring_queue_exit(&ring);

	memset(&p, 0, sizeof(p));
	p.flags = NVMETA_RING_IOPOLL;
	setup_ok(&ring, &p);
	cr_assert(ring.flags & IORING_SETUP_IOPOLL);
	cr_assert(p.features & NVMETA_FEAT_IOPOLL);
	io_uring_queue_exit(&ring);
}

/* Linux 6.1 and later take registered buffers for passthrough; the probe
 * must say so on them, and a ring asked for them must come up. */
Test(ring, fixed_buffers_follow_the_kernels_answer)
{
	struct nvmeta_ring_params p = { .flags = NVMETA_RING_FIXED_BUF };
	struct nvmeta_kernel k;
	struct io_uring ring;
	int ret;

	cr_assert_eq(nvmeta_kernel_read(&k), 0);
	ret = nvmeta_ring_setup(&ring, 8, &p);
	if (!NVMETA_KERNEL_AT_LEAST(&k, 6, 1)) {
		cr_assert_eq(ret, -EOPNOTSUPP);
		cr_assert(strstr(nvmeta_last_error(), "IORING_URING_CMD_FIXED"));
		return;
	}
	cr_assert_eq(ret, 0, "%s", nvmeta_last_error());
	cr_assert(p.features & NVMETA_FEAT_FIXED_BUF);
	io_uring_queue_exit(&ring);
}

Test(ring, unknown_flags_and_reserved_fields_are_refused_before_setup)
{
	struct nvmeta_ring_params p = { .flags = 1u << 20 };
	struct io_uring ring;

	cr_assert_eq(nvmeta_ring_setup(&ring, 8, &p), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "unknown"), "%s", nvmeta_last_error());
	memset(&p, 0, sizeof(p));
	p.resv[12] = 1;
	cr_assert_eq(nvmeta_ring_setup(&ring, 8, &p), -EINVAL);
	cr_assert(strstr(nvmeta_last_error(), "resv[12]"), "%s", nvmeta_last_error());
}

/* The probe on a caller's ring with work of its own: its completions stay. */
Test(ring, probing_a_busy_ring_keeps_the_callers_completions)
{
	struct nvmeta_completion c[4];
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	uint32_t f;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	sqe->user_data = 41;
	cr_assert_eq(io_uring_submit(&ring), 1);
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_nop(sqe);
	sqe->user_data = 42;	/* queued, not submitted: goes with the probe */
	cr_assert_eq(nvmeta_ring_probe(&ring, &f), 0, "%s", nvmeta_last_error());
	cr_assert(f & NVMETA_FEAT_URING_CMD);
	cr_assert_eq(nvmeta_reap(&ring, 2, c, 4), 2);
	cr_assert_eq(c[0].user_data, 41);
	cr_assert_eq(c[1].user_data, 42);
	io_uring_queue_exit(&ring);
}

/* With SQPOLL the kernel's thread takes entries when it runs: a sync
 * command must not be reported unsubmitted because it has not yet. */
Test(ring, sync_and_queued_commands_complete_on_an_sqpoll_ring)
{
	struct nvmeta_ring_params p = { .flags = NVMETA_RING_SQPOLL };
	struct nvmeta_completion c[8];
	struct nvmeta_io io = read_one();
	struct nvmeta_status st;
	struct io_uring ring;
	int i, n = 0, alone;

	/* What passthrough on /dev/null answers depends on the kernel
	 * (EOPNOTSUPP, or 0 on some): the SQPOLL ring must answer the same. */
	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	alone = nvmeta_io_sync(&dev, &ring, &io, &st);
	io_uring_queue_exit(&ring);
	setup_ok(&ring, &p);
	for (i = 0; i < 20; i++)
		cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, &st), alone, "%d: %s", i,
			     nvmeta_last_error());
	for (i = 0; i < 4; i++)
		cr_assert_eq(nvmeta_queue(&dev, &ring, &io, 100 + i), 0);
	cr_assert_geq(io_uring_submit(&ring), 0);
	while (n < 4) {
		int got = nvmeta_reap(&ring, 1, c + n, 8 - n);

		cr_assert_gt(got, 0);
		n += got;
	}
	for (i = 0; i < 4; i++)
		cr_assert_eq(c[i].user_data, 100 + (uint64_t)i);
	io_uring_queue_exit(&ring);
}

Test(ring, an_iopoll_ring_refuses_a_namespace_without_poll_queues)
{
	struct nvmeta_ring_params p = { .flags = NVMETA_RING_IOPOLL };
	struct nvmeta_io io = read_one();
	struct io_uring ring;

	setup_ok(&ring, &p);
	dev.info.limits.io_poll = false;
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, 1), -EOPNOTSUPP);
	cr_assert(strstr(nvmeta_last_error(), "poll_queues"), "%s", nvmeta_last_error());
	cr_assert_eq(io_uring_sq_ready(&ring), 0);
	dev.info.limits.io_poll = true;
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, 1), 0, "%s", nvmeta_last_error());
	io_uring_queue_exit(&ring);
}

struct crowd {
	unsigned int id;
	int bad;
};

/* One thread's own ring: requests and sync calls, each completion its own. */
static void *crowd_member(void *arg)
{
	struct nvmeta_request rq[4];
	struct nvmeta_completion c[4];
	struct nvmeta_io io = read_one();
	struct crowd *me = arg;
	struct io_uring ring;
	unsigned int round, i, got;
	int alone, n;

	if (nvmeta_ring_init(&ring, 8)) {
		me->bad = 1;
		return NULL;
	}
	alone = nvmeta_io_sync(&dev, &ring, &io, NULL);
	for (round = 0; round < 2000 && !me->bad; round++) {
		for (i = 0; i < 4; i++) {
			rq[i] = (struct nvmeta_request){ .io = io,
							 .user_data = (uint64_t)me->id << 32 | round << 2 | i };
			me->bad |= nvmeta_queue_request(&dev, &ring, &rq[i]) != 0;
		}
		me->bad |= nvmeta_io_sync(&dev, &ring, &io, NULL) != alone;
		for (got = 0; got < 4 && !me->bad; got += n) {
			n = nvmeta_reap(&ring, 1, c, 4);
			me->bad |= n <= 0;
			for (i = 0; n > 0 && i < (unsigned int)n; i++)
				me->bad |= c[i].user_data != ((uint64_t)me->id << 32 | round << 2 | (got + i));
		}
	}
	nvmeta_ring_exit(&ring);
	return NULL;
}

/* Threads on rings of their own share the library's directory of tag
 * tables: each gets its own completions, every time. */
Test(ring, threads_on_their_own_rings_keep_their_own_tags, .timeout = 120)
{
	struct crowd member[6];
	pthread_t t[6];
	unsigned int i;

	for (i = 0; i < 6; i++) {
		member[i] = (struct crowd){ .id = i + 1 };
		cr_assert_eq(pthread_create(&t[i], NULL, crowd_member, &member[i]), 0);
	}
	for (i = 0; i < 6; i++) {
		cr_assert_eq(pthread_join(t[i], NULL), 0);
		cr_assert_eq(member[i].bad, 0, "thread %u took a completion not its own", i + 1);
	}
}
