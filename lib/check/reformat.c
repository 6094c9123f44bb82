// SPDX-License-Identifier: MIT
/*
 * The checker's reformat case: a namespace formatted to more metadata per
 * block under an open handle.  The handle validated against the old
 * format, so a metadata buffer sized for it would let the device write
 * past its end (the kernel does not check metadata_len).  The case opens a
 * handle of its own, formats the namespace through another descriptor to
 * the format with the same block size and the most metadata, and expects
 * the handle to refuse a read with ESTALE within a few watcher intervals,
 * with nothing past the buffer moved.  Then it formats back.
 *
 * Format NVM erases the namespace; the other cases write what they read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <nvme/ioctl.h>
#include "check.h"

#define NOTICE_WITHIN_MS 2000

struct reformat {
	const struct nvmeta_dev_info *info;
	struct nvmeta_check_result *res;
	int fd;			/* the descriptor the format goes through */
	uint8_t back;		/* the format to restore */
	uint8_t bigger;		/* same block size, the most metadata */
	uint16_t big_ms;
};

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int format_to(const struct reformat *r, uint8_t lbaf)
{
	__u32 result;
	struct nvme_format_nvm_args a = {
		.args_size = sizeof(a), .fd = r->fd, .nsid = r->info->nsid, .lbaf = lbaf,
		.timeout = 60000, .result = &result,
	};

	return nvme_format_nvm(&a);
}

/* The format to switch to, or a reason to skip. */
static bool pick_format(struct reformat *r)
{
	const struct nvmeta_dev_info *in = r->info;
	struct nvme_id_ctrl ctrl;
	struct nvme_id_ns ns;
	unsigned int i;

	if (!in->ms || in->extended_lba || in->pi_type) {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_SKIP, "needs separate metadata without PI (%u+%u%s, PI type %u)",
		      in->lba_size, in->ms, in->extended_lba ? " extended" : "", in->pi_type);
		return false;
	}
	if (nvme_identify_ctrl(r->fd, &ctrl) || nvme_identify_ns(r->fd, in->nsid, &ns)) {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_FAIL, "identify for the format: %m");
		return false;
	}
	if (!(le16toh(ctrl.oacs) & NVME_CTRL_OACS_FORMAT)) {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_SKIP, "the controller has no Format NVM (OACS 0x%x)",
		      le16toh(ctrl.oacs));
		return false;
	}
	r->back = in->lbaf;
	for (i = 0; i <= ns.nlbaf && i < ARRAY_SIZE(ns.lbaf); i++) {
		if (ns.lbaf[i].ds > 31 || (1u << ns.lbaf[i].ds) != in->lba_size ||
		    le16toh(ns.lbaf[i].ms) <= in->ms || le16toh(ns.lbaf[i].ms) <= r->big_ms)
			continue;
		r->bigger = i;
		r->big_ms = le16toh(ns.lbaf[i].ms);
	}
	if (!r->big_ms) {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_SKIP, "no LBA format of %u bytes with more than %u metadata bytes",
		      in->lba_size, in->ms);
		return false;
	}
	return true;
}

/*
 * Check the handle until it finds the change and refuses commands; the
 * time it took, or -1.  The kernel rescans the namespace before the
 * Format NVM returns, so the first nvmeta_dev_check() must see it; the
 * loop only measures a kernel that is late.
 */
static double wait_stale(struct nvmeta_dev *h, const struct nvmeta_io *io)
{
	struct io_uring_sqe sqe[2];
	double t0 = now_ms();

	while (now_ms() - t0 < NOTICE_WITHIN_MS) {
		if (nvmeta_dev_check(h) == -ESTALE && nvmeta_prep(h, sqe, io) == -ESTALE)
			return now_ms() - t0;
		usleep(1000);
	}
	return -1;
}

static void under_handle(struct reformat *r, struct nvmeta_dev *h, struct io_uring *ring)
{
	const struct nvmeta_dev_info *in = r->info;
	struct nvmeta_buf_spec spec = {
		.layout = NVMETA_LAYOUT_PAGE, .len = (size_t)r->res->nlb * in->ms,
		.flags = NVMETA_BUF_CANARY | NVMETA_BUF_GUARD,
	};
	size_t dlen = (size_t)r->res->nlb * in->lba_size;
	struct nvmeta_buf *meta = NULL;
	ptrdiff_t bad;
	double took;
	void *data;
	int ret;

	data = mmap(NULL, dlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED || nvmeta_buf_alloc(in, &spec, &meta)) {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_FAIL, "buffers: %s", nvmeta_last_error());
		goto out;
	}
	r->res->layout = meta->layout;
	nvmeta_predict(in, NVMETA_KIND_META, meta->addr, meta->len, &r->res->pred);
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = r->res->slba, .nlb = r->res->nlb,
		.data = data, .data_len = dlen, .meta = meta->addr, .meta_len = meta->len,
	};
	ret = format_to(r, r->bigger);
	if (ret) {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_FAIL, "Format NVM to LBA format %u (%u+%u) failed: %d",
		      r->bigger, in->lba_size, r->big_ms, ret);
		goto out;
	}
	took = wait_stale(h, &io);
	ret = nvmeta_io_sync(h, ring, &io, NULL);
	r->res->err = ret;
	if (took < 0 || ret != -ESTALE) {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_FAIL, "%u+%u -> %u+%u under an open handle: %s within %d ms, then the read returned %s",
		      in->lba_size, in->ms, in->lba_size, r->big_ms,
		      took < 0 ? "not noticed" : "noticed", NOTICE_WITHIN_MS,
		      ret ? strerror(-ret) : "success");
	} else if (nvmeta_buf_check_canaries(meta, &bad)) {
		r->res->where = "canary";
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_FAIL, "refused, yet the metadata buffer's surroundings changed: %s",
		      nvmeta_last_error());
	} else {
		nvmeta_check_verdict(r->res, NVMETA_VERDICT_PASS, "%u+%u -> %u+%u under an open handle noticed after %.0f ms; the read of %u blocks refused with ESTALE",
		      in->lba_size, in->ms, in->lba_size, r->big_ms, took, r->res->nlb);
	}
out:
	nvmeta_buf_free(meta);
	if (data != MAP_FAILED)
		munmap(data, dlen);
}

int nvmeta_check_reformat(const struct nvmeta_dev *dev, struct io_uring *ring,
			  struct nvmeta_check_result *res)
{
	struct reformat r = { .info = nvmeta_dev_info(dev), .res = res };
	struct nvmeta_dev *h;
	int ret;

	res->slba = 0;
	res->nlb = 8;
	res->expect_err = -ESTALE;
	if (nvmeta_dev_open(nvmeta_dev_info(dev)->generic_path, &h)) {
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "second handle: %s", nvmeta_last_error());
		return 0;
	}
	r.fd = nvmeta_dev_fd(h);
	if (pick_format(&r))
		under_handle(&r, h, ring);
	/* Every later case needs the format back: a failure here outranks
	 * whatever the case found. */
	if (r.big_ms && (ret = format_to(&r, r.back)))
		nvmeta_check_verdict(res, NVMETA_VERDICT_FAIL, "formatting back to LBA format %u failed: %d", r.back, ret);
	nvmeta_dev_close(h);
	return 0;
}
