// SPDX-License-Identifier: MIT
/*
 * In the lab, on guests of its own (tests/vm/matrix-unplug.tsv): the
 * controller taken away while commands are in flight.  QEMU's monitor
 * removes it (device_del, which the test asks for with the guest's
 * lab-monitor command), the guest's ACPI hotplug hands that to the
 * driver, and nvme_remove() ends what is in flight and refuses what
 * comes after.
 *
 *   - Four threads, each with its own ring, on their own blocks: two
 *     issue synchronous write-and-read round trips, two keep eight
 *     requests in flight (nvmeta_queue_request()); one of each pair has
 *     its metadata off the DMA alignment (bounced), the other page-aligned
 *     (pinned from 6.8).
 *   - No hang: every thread returns within 60 s of the removal, so every
 *     command it sent completed.
 *   - Every failure is a negative errno from a small set, and every
 *     message the library wrote for one names the device (a completion's
 *     errno from nvmeta_reap(), or a failed io_uring_submit(), comes
 *     without a message of its own: only its errno is judged); no round
 *     trip that completed read back other bytes than it wrote.
 *   - Afterwards a command fails at once, naming the device;
 *     nvmeta_dev_refresh() and opening the path again fail with a message;
 *     nvmeta_dev_close() returns.
 * The guest's kernel log is the lab's to judge: a warning fails the boot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "guest_env.h"
#include "nvmeta.h"

#define WORKERS		4
#define NLB		8
#define QD		8
#define BASE_LBA	4096
#define GONE_WAIT_S	60	/* for the controller to leave sysfs */
#define JOIN_WAIT_S	60	/* for every thread after that */
/* The controller's id on QEMU's command line (tests/vm/lab, run_boot:
 * -device nvme,...,id=nvme0), which device_del takes. */
#define QEMU_CTRL_ID	"nvme0"

struct worker {
	pthread_t thread;
	unsigned int id;
	bool queued;		/* QD requests in flight, else synchronous */
	size_t moff;		/* metadata offset from a page: 0 or 1 */
	unsigned char *d, *m;	/* data and metadata, QD slots each */
	/* results */
	unsigned int ok, ok_before, failed, inexact;
	unsigned int unnamed;	/* messages that did not name the device */
	int first_err;
	char first_msg[256];
	char unnamed_msg[256];
	unsigned int errs[8];	/* distinct errnos seen */
	unsigned int nerrs;
	_Atomic bool done;
};

static struct nvmeta_dev *dev;
static const struct nvmeta_dev_info *info;
static uint32_t per_lba;
static bool separate;
static size_t dlen, mlen;
static _Atomic bool removed;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char byte_at(size_t i, unsigned int gen)
{
	return (unsigned char)(i * 7 + gen * 131 + 5);
}

static void fill(unsigned char *p, size_t len, unsigned int gen)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = byte_at(i, gen);
}

static bool same(const unsigned char *p, size_t len, unsigned int gen)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != byte_at(i, gen))
			return false;
	return true;
}

static struct nvmeta_io io_of(struct worker *w, unsigned int slot, uint8_t opcode)
{
	struct nvmeta_io io = {
		.opcode = opcode,
		.slba = BASE_LBA + (w->id * QD + slot) * NLB,
		.nlb = NLB,
		.data = w->d + slot * dlen, .data_len = dlen,
		.meta = separate ? w->m + w->moff + slot * (mlen + 64) : NULL,
		.meta_len = separate ? mlen : 0,
	};

	return io;
}

/* A failure; @msg: nvmeta_last_error() is this failure's message. */
static void note_failure(struct worker *w, int err, bool msg)
{
	unsigned int i;

	if (!w->failed++) {
		w->first_err = err;
		snprintf(w->first_msg, sizeof(w->first_msg), "%s", nvmeta_last_error());
	}
	if (msg && !strstr(nvmeta_last_error(), info->generic_path) && !w->unnamed++)
		snprintf(w->unnamed_msg, sizeof(w->unnamed_msg), "%s", nvmeta_last_error());
	for (i = 0; i < w->nerrs; i++)
		if (w->errs[i] == (unsigned int)-err)
			return;
	if (w->nerrs < 8)
		w->errs[w->nerrs++] = (unsigned int)-err;
}

/* Until the controller is gone and three more commands have failed. */
static bool keep_going(struct worker *w, unsigned int failed_at_removal)
{
	if (!removed) {
		w->ok_before = w->ok;
		return true;
	}
	return w->failed < failed_at_removal + 3;
}

static void *sync_worker(void *arg)
{
	struct worker *w = arg;
	unsigned int gen = w->id * 100000, at_removal = 0;
	struct io_uring ring;
	bool seen = false;

	if (nvmeta_ring_init(&ring, 4)) {
		note_failure(w, -ENOMEM, false);
		goto out;
	}
	for (;; gen++) {
		struct nvmeta_io wr = io_of(w, 0, NVMETA_OP_WRITE), rd = io_of(w, 0, NVMETA_OP_READ);
		int ret;

		if (removed && !seen) {
			seen = true;
			at_removal = w->failed;
		}
		if (!keep_going(w, at_removal))
			break;
		fill(w->d, dlen, gen);
		if (separate)
			fill((unsigned char *)wr.meta, mlen, gen + 7);
		ret = nvmeta_io_sync(dev, &ring, &wr, NULL);
		if (!ret) {
			memset(w->d, 0, dlen);
			if (separate)
				memset((void *)rd.meta, 0, mlen);
			ret = nvmeta_io_sync(dev, &ring, &rd, NULL);
		}
		if (ret) {
			note_failure(w, ret, true);
			continue;
		}
		w->ok++;
		w->inexact += !same(w->d, dlen, gen) || (separate && !same(rd.meta, mlen, gen + 7));
	}
	io_uring_queue_exit(&ring);
out:
	w->done = true;
	return NULL;
}

static void *queued_worker(void *arg)
{
	struct worker *w = arg;
	struct nvmeta_request rq[QD];
	struct nvmeta_completion c[QD];
	unsigned int i, at_removal = 0, inflight;
	struct io_uring ring;
	bool seen = false;
	int n;

	if (nvmeta_ring_init(&ring, 2 * QD)) {
		note_failure(w, -ENOMEM, false);
		goto out;
	}
	/* Known contents to read back: one synchronous write a slot. */
	for (i = 0; i < QD; i++) {
		struct nvmeta_io wr = io_of(w, i, NVMETA_OP_WRITE);

		fill(wr.data, dlen, w->id * 100 + i);
		if (separate)
			fill((unsigned char *)wr.meta, mlen, w->id * 100 + i + 7);
		if (nvmeta_io_sync(dev, &ring, &wr, NULL)) {
			note_failure(w, -EIO, true);
			goto exit;
		}
	}
	for (;;) {
		if (removed && !seen) {
			seen = true;
			at_removal = w->failed;
		}
		if (!keep_going(w, at_removal))
			break;
		inflight = 0;
		for (i = 0; i < QD; i++) {
			memset(&rq[i], 0, sizeof(rq[i]));
			rq[i].io = io_of(w, i, NVMETA_OP_READ);
			rq[i].user_data = i;
			memset(rq[i].io.data, 0, dlen);
			if (separate)
				memset((void *)rq[i].io.meta, 0, mlen);
			n = nvmeta_queue_request(dev, &ring, &rq[i]);
			if (n) {
				note_failure(w, n, true);
				continue;
			}
			inflight++;
		}
		n = inflight ? io_uring_submit(&ring) : 0;
		if (n < 0) {
			note_failure(w, n, false);
			break;	/* what was queued is not known to be in flight */
		}
		while (inflight) {
			n = nvmeta_reap(&ring, 1, c, QD);
			if (n == -EINTR)
				continue;
			if (n < 0) {
				note_failure(w, n, false);	/* io_uring_wait_cqe_nr */
				goto exit;
			}
			for (i = 0; i < (unsigned int)n; i++) {
				struct nvmeta_request *r = &rq[c[i].user_data];
				unsigned int gen = w->id * 100 + (unsigned int)c[i].user_data;

				inflight--;
				if (c[i].ret) {
					note_failure(w, c[i].ret, false);
					continue;
				}
				w->ok++;
				w->inexact += !same(r->io.data, dlen, gen) ||
					      (separate && !same(r->io.meta, mlen, gen + 7));
			}
		}
	}
exit:
	io_uring_queue_exit(&ring);
out:
	w->done = true;
	return NULL;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	return p;
}

static bool allowed(int e)
{
	/* ENODEV, ENXIO: the queue or the namespace is going away; EIO: an
	 * NVMe status (Host Aborted Command when the driver ends what was
	 * in flight); ESTALE: nvmeta's watcher saw the namespace leave
	 * sysfs; ECANCELED, EINTR: the request cancelled; EINVAL: only from
	 * a multipath head without a usable path. */
	return e == ENODEV || e == ENXIO || e == EIO || e == ESTALE || e == ECANCELED ||
	       e == EINTR || (e == EINVAL && info->subsys_name[0]);
}

static void start(struct worker *w, unsigned int id)
{
	w->id = id;
	w->queued = id >= 2;
	w->moff = id % 2;
	w->d = map(QD * dlen);
	w->m = map(QD * (mlen + 64) + 4096);
	cr_assert_eq(pthread_create(&w->thread, NULL, w->queued ? queued_worker : sync_worker, w),
		     0);
}

static bool sysfs_has(const char *ctrl)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/class/nvme/%s", ctrl);
	return !access(path, F_OK);
}

/* Every worker past its first few good commands, or done. */
static void wait_busy(struct worker *w)
{
	double t0 = now_s();
	unsigned int i;

	for (i = 0; i < WORKERS; i++)
		while (w[i].ok < 4 && !w[i].done && now_s() - t0 < 60)
			usleep(10000);
	for (i = 0; i < WORKERS; i++)
		cr_assert_geq(w[i].ok, 4, "worker %u: %u good commands before the removal (first error %d: %s)",
			      i, w[i].ok, w[i].first_err, w[i].first_msg);
}

static void check_worker(struct worker *w)
{
	char seen[128] = "";
	size_t used = 0;
	unsigned int i;

	for (i = 0; i < w->nerrs && used < sizeof(seen); i++)
		used += (size_t)snprintf(seen + used, sizeof(seen) - used, "%s%s", i ? " " : "",
					 strerrorname_np((int)w->errs[i]));
	cr_log_info("worker %u (%s, metadata %s): %u good before the removal, %u in all, %u failed (%s); first %d: %s",
		    w->id, w->queued ? "8 in flight" : "synchronous",
		    w->moff ? "off the DMA alignment" : "page-aligned", w->ok_before, w->ok, w->failed,
		    seen, w->first_err, w->first_msg);
	cr_assert_eq(w->inexact, 0, "worker %u: %u reads gave back other bytes than were written",
		     w->id, w->inexact);
	cr_assert_gt(w->failed, 0, "worker %u: no command failed after the controller left", w->id);
	cr_assert_lt(w->first_err, 0);
	for (i = 0; i < w->nerrs; i++)
		cr_assert(allowed((int)w->errs[i]), "worker %u: errno %u (%s) after the removal",
			  w->id, w->errs[i], strerror((int)w->errs[i]));
	cr_assert(strstr(w->first_msg, info->generic_path),
		  "worker %u: the message does not name %s: %s", w->id, info->generic_path,
		  w->first_msg);
	cr_assert_eq(w->unnamed, 0, "worker %u: %u of its failures' messages do not name %s; the first: %s",
		     w->id, w->unnamed, info->generic_path, w->unnamed_msg);
}

/* After the removal: what a caller meets next. */
static void check_after(void)
{
	struct worker w = { .id = 0, .d = map(dlen), .m = map(mlen + 4096) };
	struct nvmeta_io io = io_of(&w, 0, NVMETA_OP_READ);
	struct nvmeta_dev *again = NULL;
	struct io_uring ring;
	double t0;
	int ret;

	cr_assert_eq(nvmeta_ring_init(&ring, 4), 0, "%s", nvmeta_last_error());
	t0 = now_s();
	ret = nvmeta_io_sync(dev, &ring, &io, NULL);
	cr_log_info("a read after the removal: %d (%.3f s): %s", ret, now_s() - t0,
		    nvmeta_last_error());
	cr_assert_lt(ret, 0);
	cr_assert(allowed(-ret), "a read after the removal: %s", strerror(-ret));
	cr_assert(strstr(nvmeta_last_error(), info->generic_path), "%s", nvmeta_last_error());
	io_uring_queue_exit(&ring);

	ret = nvmeta_dev_refresh(dev);
	cr_log_info("nvmeta_dev_refresh: %d: %s", ret, nvmeta_last_error());
	cr_assert_lt(ret, 0);
	cr_assert(strstr(nvmeta_last_error(), info->generic_path), "%s", nvmeta_last_error());

	ret = nvmeta_dev_open(guest_dev_path(), &again);
	cr_log_info("nvmeta_dev_open(%s) again: %d: %s", guest_dev_path(), ret,
		    nvmeta_last_error());
	cr_assert_eq(ret, -ENOENT, "opening %s after the removal: %d", guest_dev_path(), ret);
	cr_assert(strstr(nvmeta_last_error(), guest_dev_path()), "%s", nvmeta_last_error());
}

Test(unplug, controller_removed_in_flight_no_hang_clear_errors, .timeout = 300)
{
	struct worker w[WORKERS];
	char ctrl[32];
	double t0, gone, end;
	unsigned int i;
	int ret;

	if (access("/bin/lab-monitor", X_OK))
		cr_skip_test("no /bin/lab-monitor: not a lab guest, nobody to remove the controller");
	cr_assert_eq(nvmeta_dev_open(guest_dev_path(), &dev), 0, "open %s: %s", guest_dev_path(),
		     nvmeta_last_error());
	info = nvmeta_dev_info(dev);
	per_lba = info->lba_size + (info->extended_lba ? info->ms : 0);
	separate = info->ms && !info->extended_lba;
	dlen = (size_t)NLB * per_lba;
	mlen = separate ? (size_t)NLB * info->ms : 0;
	snprintf(ctrl, sizeof(ctrl), "%s", info->ctrl_name);
	cr_assert(sysfs_has(ctrl), "controller %s is not in sysfs", ctrl);

	memset(w, 0, sizeof(w));
	for (i = 0; i < WORKERS; i++)
		start(&w[i], i);
	wait_busy(w);

	ret = system("lab-monitor device_del " QEMU_CTRL_ID);
	cr_assert_eq(ret, 0, "lab-monitor: %d", ret);
	t0 = now_s();
	while (sysfs_has(ctrl) && now_s() - t0 < GONE_WAIT_S)
		usleep(20000);
	gone = now_s() - t0;
	cr_assert(!sysfs_has(ctrl), "controller %s still in sysfs %d s after device_del", ctrl,
		  GONE_WAIT_S);
	removed = true;

	for (i = 0; i < WORKERS; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += JOIN_WAIT_S;
		ret = pthread_timedjoin_np(w[i].thread, NULL, &ts);
		cr_assert_eq(ret, 0, "worker %u (%s) did not return within %d s of the removal: a command never completed",
			     i, w[i].queued ? "8 in flight" : "synchronous", JOIN_WAIT_S);
	}
	end = now_s() - t0;
	cr_log_info("kernel %s: controller %s (%s) left sysfs %.2f s after device_del; every thread returned %.2f s after it",
		    info->kernel.release, ctrl, info->subsys_name[0] ? info->subsys_name : "no multipath",
		    gone, end);
	for (i = 0; i < WORKERS; i++)
		check_worker(&w[i]);
	check_after();
	nvmeta_dev_close(dev);
}
