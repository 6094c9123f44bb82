// SPDX-License-Identifier: MIT
/*
 * The hot path makes no system call but io_uring_enter.  A forked child
 * sets a ring and metadata slots up, then installs a seccomp filter that
 * lets through only io_uring_enter and what ending the process and
 * returning from a signal take, and traps everything else (SIGSYS).  It
 * runs reads through nvmeta_queue(), io_uring_submit() and nvmeta_reap(),
 * through nvmeta_io_sync(), and through nvmeta_prep() and the inline
 * nvmeta_prep_cmd(), and leaves what it saw in memory it shares with the parent: writing it
 * out would itself be a trapped call.
 *
 * The device is /dev/null, as in test_ring.c: a passthrough command on it
 * completes at once (EOPNOTSUPP, or 0 on some kernels), which is all the
 * rings need.  A device whose kernel pins metadata without write access
 * (populate_reads, quirks.c) must populate each read's metadata with
 * madvise(): the same test on such a device sees that madvise, which
 * shows the filter catches what it should.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "fake_info.h"

#if defined(__x86_64__)
#define HOT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HOT_ARCH AUDIT_ARCH_AARCH64
#else
#define HOT_ARCH 0
#endif

#define IOS 32		/* reads through queue, submit and reap */
#define SYNCS 8		/* reads through nvmeta_io_sync() */
#define LBA 512
#define MS 8

enum hot_what { HOT_QUEUE_REAP, HOT_REQUEST_REAP, HOT_SYNC, HOT_PREP, HOT_COMPLETE };

/* What the child saw, in a shared mapping; set before it exits. */
struct hot_result {
	int stage;		/* how far the child got: 1 set up, 2 filtered, 3 done */
	int setup_err;		/* a failed set-up step's errno */
	int trapped;		/* system calls the filter trapped */
	long first_nr;		/* the first one's number */
	int queued, reaped;	/* HOT_PREP: by nvmeta_prep_cmd, by nvmeta_prep */
	int first_err;		/* the first hot-path call that failed, or 0 */
	int sync_ret[SYNCS];
	char error[160];	/* nvmeta_last_error() after first_err */
};

static struct hot_result *res;
static volatile sig_atomic_t trapped;
static volatile long first_nr = -1;
static char data[IOS][LBA] __attribute__((aligned(4096)));

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *ctx = uc;

	(void)sig;
	if (!trapped)
		first_nr = si->si_syscall;
	trapped++;
	/* The call did not happen: make it fail as an unknown one does,
	 * not return its own number (what the kernel leaves there). */
#if defined(__x86_64__)
	ctx->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#elif defined(__aarch64__)
	ctx->uc_mcontext.regs[0] = -ENOSYS;
#else
	(void)ctx;
#endif
}

static int install_filter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HOT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit_group, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_exit, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigreturn, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL))
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

static void note_err(int ret)
{
	const char *msg;

	if (!ret || res->first_err)
		return;
	res->first_err = ret;
	/* No snprintf here: copying is not a system call, and a format
	 * is what is measured. */
	msg = nvmeta_last_error();
	strncpy(res->error, msg, sizeof(res->error) - 1);
}

static struct nvmeta_io read_io(struct nvmeta_slots *slots, unsigned int i)
{
	struct nvmeta_io io;

	memset(&io, 0, sizeof(io));
	io.opcode = NVMETA_OP_READ;
	io.nlb = 1;
	io.slba = i;
	io.data = data[i];
	io.data_len = LBA;
	io.meta = nvmeta_slot(slots, i);
	io.meta_len = MS;
	return io;
}

static void queue_submit_reap(struct nvmeta_dev *dev, struct io_uring *ring,
			      struct nvmeta_slots *slots)
{
	struct nvmeta_completion c[IOS];
	struct nvmeta_io io;
	unsigned int i;
	int ret;

	for (i = 0; i < IOS; i++) {
		io = read_io(slots, i);
		ret = nvmeta_queue(dev, ring, &io, 100 + i);
		note_err(ret);
		res->queued += !ret;
	}
	ret = io_uring_submit(ring);
	note_err(ret < 0 ? ret : 0);
	/* min 0: what is there, without entering the kernel. */
	ret = nvmeta_reap(ring, 0, c, IOS);
	note_err(ret < 0 ? ret : 0);
	res->reaped += ret > 0 ? ret : 0;
	while (res->reaped < res->queued) {
		ret = nvmeta_reap(ring, res->queued - res->reaped, c, IOS);
		if (ret <= 0) {
			note_err(ret ? ret : -EAGAIN);
			break;
		}
		res->reaped += ret;
	}
}

/* The same through requests: a tag from the ring's table per command,
 * given back at reap. */
static void request_submit_reap(struct nvmeta_dev *dev, struct io_uring *ring,
				struct nvmeta_slots *slots)
{
	static struct nvmeta_request rq[IOS];
	struct nvmeta_completion c[IOS];
	unsigned int i;
	int ret;

	for (i = 0; i < IOS; i++) {
		rq[i] = (struct nvmeta_request){ .io = read_io(slots, i), .user_data = 100 + i };
		ret = nvmeta_queue_request(dev, ring, &rq[i]);
		note_err(ret);
		res->queued += !ret;
	}
	ret = io_uring_submit(ring);
	note_err(ret < 0 ? ret : 0);
	while (res->reaped < res->queued) {
		ret = nvmeta_reap(ring, res->queued - res->reaped, c, IOS);
		if (ret <= 0) {
			note_err(ret ? ret : -EAGAIN);
			break;
		}
		for (i = 0; i < (unsigned int)ret; i++)
			if (c[i].user_data != 100u + res->reaped + i)
				note_err(-EBADMSG);
		res->reaped += ret;
	}
}

static void sync_reads(struct nvmeta_dev *dev, struct io_uring *ring, struct nvmeta_slots *slots)
{
	struct nvmeta_status st;
	struct nvmeta_io io;
	unsigned int i;

	for (i = 0; i < SYNCS; i++) {
		io = read_io(slots, i);
		res->sync_ret[i] = nvmeta_io_sync(dev, ring, &io, &st);
	}
}

static void prep_cmds(struct nvmeta_dev *dev, struct nvmeta_slots *slots)
{
	static struct io_uring_sqe sqes[2 * IOS];	/* 128-byte entries */
	struct nvmeta_io io;
	unsigned int i;
	int ret;

	for (i = 0; i < IOS; i++) {
		io = read_io(slots, i);
		nvmeta_prep_cmd(&sqes[2 * i], dev->fd, &dev->info, &io);
		res->queued++;
	}
	/* And the library's checked one: validation, then the encoder. */
	for (i = 0; i < IOS; i++) {
		io = read_io(slots, i);
		ret = nvmeta_prep(dev, &sqes[2 * i], &io);
		note_err(ret);
		res->reaped += !ret;
	}
}

/*
 * The application's own completions, finished by nvmeta_complete(): each
 * read's PI generated (as the device would return it), then a successful
 * 32-byte CQE decoded and the PI verified on the host, listing into room
 * the caller gave.  No system call, no allocation, no message.
 */
static void complete_reads(struct nvmeta_dev *dev, struct nvmeta_slots *slots)
{
	static struct io_uring_cqe cqe[2];
	struct nvmeta_pi_error errs[4];
	struct nvmeta_pi_tags t;
	struct nvmeta_io io;
	unsigned int i;
	int ret;

	for (i = 0; i < IOS; i++) {
		struct nvmeta_result r = { .errors = errs, .max_errors = 4 };

		io = read_io(slots, i);
		io.flags = NVMETA_IO_PI_VERIFY;
		io.apptag = 0x42;
		io.appmask = 0xffff;
		io.reftag = nvmeta_pi_ref_tag(&dev->pi, io.slba);
		t = (struct nvmeta_pi_tags){ .ref_tag = io.reftag, .app_tag = io.apptag };
		memset(data[i], (int)i, LBA);
		note_err(nvmeta_pi_generate(&dev->pi, io.data, io.meta, 1, &t));
		res->queued++;
		memset(cqe, 0, sizeof(cqe));
		ret = nvmeta_complete(dev, &io, cqe, &r);
		note_err(ret);
		res->reaped += !ret && r.pi.bad == 0;
	}
}

/*
 * exit_group itself, not _exit(): AddressSanitizer's _exit() runs its
 * exit-time work (the leak check among it), whose system calls the filter
 * would trap.  ASan's run-time makes none inside the measured region
 * itself (it allocates nothing there), so the tests run in the ASan build
 * too; with ASAN_OPTIONS=detect_stack_use_after_return=1 its fake stacks
 * would be mapped on first use, and trapped.
 */
static __attribute__((noreturn)) void leave(int code)
{
	for (;;)
		syscall(__NR_exit_group, code);
}

static void fake_dev(struct nvmeta_dev *dev, bool populate)
{
	memset(dev, 0, sizeof(*dev));
	dev->fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	fake_info_6_12(&dev->info);
	strcpy(dev->info.generic_path, "/dev/null");
	dev->info.nsid = 1;
	dev->info.nsze = 1000;
	dev->info.lba_size = LBA;
	dev->info.ms = MS;
	dev->info.guard_bits = 16;
	dev->populate_reads = populate;
	/* As nvmeta_dev_open() decides it: the hot path's own bounds. */
	nvmeta_fast_decide(dev);
}

static void child(enum hot_what what, bool populate)
{
	struct nvmeta_slots *slots = NULL;
	struct nvmeta_dev dev;
	struct io_uring ring;
	int ret;

	fake_dev(&dev, populate);
	if (dev.fd < 0)
		goto fail;
	if (what == HOT_COMPLETE) {
		/* 512+8, type 1, 16-bit guard. */
		dev.info.pi_type = 1;
		dev.info.pi_size = 8;
		dev.info.pi_first = true;
		nvmeta_pi_decide(&dev);
	}
	ret = nvmeta_ring_init(&ring, 2 * IOS);
	if (!ret)
		ret = nvmeta_slots_create(&dev.info, MS, IOS, &slots);
	if (!ret)
		ret = install_filter();
	res->stage = 1;
	if (ret) {
		res->setup_err = ret;
		goto fail;
	}
	res->stage = 2;
	switch (what) {
	case HOT_QUEUE_REAP:
		queue_submit_reap(&dev, &ring, slots);
		break;
	case HOT_REQUEST_REAP:
		request_submit_reap(&dev, &ring, slots);
		break;
	case HOT_SYNC:
		sync_reads(&dev, &ring, slots);
		break;
	case HOT_PREP:
		prep_cmds(&dev, slots);
		break;
	case HOT_COMPLETE:
		complete_reads(&dev, slots);
		break;
	}
	res->trapped = trapped;
	res->first_nr = first_nr;
	res->stage = 3;
	leave(0);
fail:
	res->setup_err = res->setup_err ? res->setup_err : -errno;
	leave(1);
}

/* Run @what in a filtered child; the result is in *res. */
static void run(enum hot_what what, bool populate)
{
	pid_t pid;
	int status;

	if (!HOT_ARCH)
		cr_skip_test("no seccomp architecture known for this machine");
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(res, MAP_FAILED);
	memset(res, 0, sizeof(*res));
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid)
		child(what, populate);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	if (res->stage < 2 && (res->setup_err == -EPERM || res->setup_err == -EACCES ||
			       res->setup_err == -ENOSYS))
		cr_skip_test("no io_uring or no seccomp here: %s", strerror(-res->setup_err));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child: status 0x%x, stage %d, set-up error %d (%s), %d trapped calls, the first %ld",
		  status, res->stage, res->setup_err, strerror(-res->setup_err), res->trapped,
		  res->first_nr);
	cr_assert_eq(res->stage, 3);
}

/* A name for the calls a hot path might be caught making. */
static const char *call_name(long nr)
{
	static const struct { long nr; const char *name; } names[] = {
		{ __NR_madvise, "madvise" }, { __NR_mmap, "mmap" }, { __NR_munmap, "munmap" },
		{ __NR_mprotect, "mprotect" }, { __NR_write, "write" }, { __NR_ioctl, "ioctl" },
		{ __NR_futex, "futex" }, { __NR_getpid, "getpid" }, { __NR_gettid, "gettid" },
		{ __NR_openat, "openat" }, { __NR_brk, "brk" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return "?";
}

static void assert_no_call(const char *what)
{
	cr_assert_eq(res->trapped, 0,
		     "%s: %d system calls besides io_uring_enter, the first %s (number %ld)", what,
		     res->trapped, call_name(res->first_nr), res->first_nr);
}

/* A kernel without the defect: queue, submit and reap enter the kernel
 * through io_uring_enter alone. */
Test(hotpath, queue_submit_and_reap_make_no_other_system_call)
{
	run(HOT_QUEUE_REAP, false);
	assert_no_call("nvmeta_queue/io_uring_submit/nvmeta_reap");
	cr_assert_eq(res->first_err, 0, "%d: %s", res->first_err, res->error);
	cr_assert_eq(res->queued, IOS);
	cr_assert_eq(res->reaped, IOS);
}

Test(hotpath, requests_take_and_give_back_tags_without_a_system_call)
{
	run(HOT_REQUEST_REAP, false);
	assert_no_call("nvmeta_queue_request/io_uring_submit/nvmeta_reap");
	cr_assert_eq(res->first_err, 0, "%d: %s", res->first_err, res->error);
	cr_assert_eq(res->queued, IOS);
	cr_assert_eq(res->reaped, IOS);
}

Test(hotpath, sync_submission_and_wait_make_no_other_system_call)
{
	unsigned int i;

	run(HOT_SYNC, false);
	assert_no_call("nvmeta_io_sync");
	/* Each call got the kernel's answer to its own command: the same
	 * every time, and never a failure of the submission or the wait. */
	for (i = 0; i < SYNCS; i++) {
		cr_assert_eq(res->sync_ret[i], res->sync_ret[0], "sync read %u: %d, the first %d", i,
			     res->sync_ret[i], res->sync_ret[0]);
		cr_assert(res->sync_ret[i] != -EAGAIN && res->sync_ret[i] != -EBUSY &&
			  res->sync_ret[i] != -EFAULT && res->sync_ret[i] != -ENOSYS,
			  "sync read %u: %d", i, res->sync_ret[i]);
	}
}

Test(hotpath, the_encoders_make_no_system_call)
{
	run(HOT_PREP, false);
	assert_no_call("nvmeta_prep_cmd/nvmeta_prep");
	cr_assert_eq(res->first_err, 0, "%d: %s", res->first_err, res->error);
	cr_assert_eq(res->queued, IOS);
	cr_assert_eq(res->reaped, IOS);
}

/* Issue 17, item 4: finishing a CQE the application reaped, a read's PI
 * verified on the host with room for every bad block. */
Test(hotpath, completing_and_verifying_make_no_system_call)
{
	run(HOT_COMPLETE, false);
	assert_no_call("nvmeta_complete");
	cr_assert_eq(res->first_err, 0, "%d: %s", res->first_err, res->error);
	cr_assert_eq(res->queued, IOS);
	cr_assert_eq(res->reaped, IOS);
}

/* A kernel with the defect: each read's metadata is populated with
 * madvise() first.  Seen here, so the tests above can fail. */
Test(hotpath, the_work_around_calls_madvise_and_the_filter_sees_it)
{
	run(HOT_QUEUE_REAP, true);
	cr_assert_gt(res->trapped, 0, "the work-around made no system call");
	cr_assert_eq(res->first_nr, __NR_madvise, "the first trapped call is %s (%ld), not madvise",
		     call_name(res->first_nr), res->first_nr);
}
