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
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_SYNC_USER_DATA), -EINVAL);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_SYNC_USER_DATA | 0xffff), -EINVAL);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_SYNC_USER_DATA - 1), 0);
	cr_assert_eq(nvmeta_queue(&dev, &ring, &io, NVMETA_SYNC_USER_DATA + 0x10000), 0);
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
	struct io_uring_cqe own[2], *cqe;
	struct io_uring ring;
	double t0;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
	queue_timeout(&ring, 1, &fast);
	queue_timeout(&ring, 42, &slow);
	queue_nop(&ring, 3);
	cr_assert_eq(io_uring_submit(&ring), 3);
	t0 = now();
	cr_assert_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
	cr_assert_eq(nvmeta_wait_own(&ring, 42, own), 0, "%s", nvmeta_last_error());
	setitimer(ITIMER_REAL, &off, NULL);
	cr_assert_geq(now() - t0, 0.15, "returned before its command completed");
	/* The process slept in io_uring_enter for all of it: each signal
	 * ended that wait with EINTR, and the wait went on. */
	cr_assert_gt(alarms, 10, "only %d signals arrived", (int)alarms);
	cr_assert_eq(own[0].user_data, 42);
	cr_assert_eq(own[0].res, -ETIME);
	cr_assert_eq(io_uring_cq_ready(&ring), 2);
	cr_assert_eq(io_uring_peek_cqe(&ring, &cqe), 0);
	cr_assert_eq(cqe->user_data, 3, "the older completions keep their order");
	io_uring_cqe_seen(&ring, cqe);
	cr_assert_eq(io_uring_peek_cqe(&ring, &cqe), 0);
	cr_assert_eq(cqe->user_data, 1);
	io_uring_cqe_seen(&ring, cqe);
	io_uring_queue_exit(&ring);
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

/* A sync command left behind by a failed submission completes later: it
 * must not pass for the next sync call's completion, and nvmeta_reap()
 * does not hand it to the caller. */
Test(ring, an_abandoned_sync_completion_is_nobodys)
{
	struct nvmeta_completion c[4];
	struct nvmeta_io io = read_one();
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	int alone;

	cr_assert_eq(nvmeta_ring_init(&ring, 8), 0);
	alone = nvmeta_io_sync(&dev, &ring, &io, NULL);
	queue_nop(&ring, NVMETA_SYNC_USER_DATA | 0x8000);	/* an old call's tag */
	cr_assert_eq(io_uring_submit(&ring), 1);
	cr_assert_eq(io_uring_wait_cqe(&ring, &cqe), 0);
	cr_assert_eq(nvmeta_io_sync(&dev, &ring, &io, NULL), alone);
	cr_assert_eq(io_uring_cq_ready(&ring), 1, "the stray completion stays for reap");
	queue_nop(&ring, 5);
	cr_assert_eq(io_uring_submit(&ring), 1);
	cr_assert_eq(nvmeta_reap(&ring, 2, c, 4), 1);
	cr_assert_eq(c[0].user_data, 5);
	cr_assert_eq(io_uring_cq_ready(&ring), 0);
	io_uring_queue_exit(&ring);
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
