// SPDX-License-Identifier: MIT
/*
 * Behaviour probes: what the running kernel does where kernels differ,
 * found out once per checker run, before the cases, and reported.  The
 * cases are judged against these answers, never against a kernel version
 * (versions name known defects only, in the lab's registry).
 *
 *  - The errno of a read into read-only memory, per road, per kind of
 *    buffer and per alignment: the kernel's choice, and it moved (the
 *    attribute road: EFAULT on 6.16 and 6.17, EIO on 7.2).  A one-block
 *    read of block 0 into a PROT_READ buffer laid out as the cases lay
 *    theirs (page + 0 or page + 1, anonymous memory, populated with a
 *    poison before it was protected), so only this process's own pages
 *    are at stake even where the kernel wrongly accepts it (6.12).
 *  - Whether the kernel pins metadata at all (6.8 brought pinning): the
 *    path the kprobes see a buffer take that the queue's limits let pin.
 *  - Presence: FS_IOC_GETLBMD_CAP, metadata_bytes in sysfs, the attribute
 *    road.  No case depends on these; reports read them.
 *
 * Nothing is written to the device.  Only libnvmeta's public API is used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <nvmeta/rw.h>
#include "check.h"

#define POISON 0xee

static const char *const probe_names[NVMETA_PROBE_COUNT] = {
	[NVMETA_PROBE_RO_READ_META] = "readonly_read_meta",
	[NVMETA_PROBE_RO_READ_META_MIS] = "readonly_read_meta+1",
	[NVMETA_PROBE_RO_READ_DATA] = "readonly_read_data",
	[NVMETA_PROBE_RO_READ_META_RW] = "readonly_read_meta_rw",
	[NVMETA_PROBE_RO_READ_META_RW_MIS] = "readonly_read_meta+1_rw",
	[NVMETA_PROBE_META_PINNING] = "meta_pinning",
	[NVMETA_PROBE_LBMD_CAP] = "lbmd_cap",
	[NVMETA_PROBE_METADATA_BYTES] = "metadata_bytes",
	[NVMETA_PROBE_RW_ROAD] = "rw_road",
};

const char *nvmeta_check_errno_word(int err, char *buf, size_t len)
{
	const char *name = err ? strerrorname_np(err < 0 ? -err : err) : NULL;

	if (!err)
		snprintf(buf, len, "success");
	else if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "errno %d", err < 0 ? -err : err);
	return buf;
}

__attribute__((format(printf, 4, 5)))
static void found(struct nvmeta_check_probe *p, int value, const char *text, const char *fmt, ...)
{
	va_list ap;

	p->known = true;
	p->value = value;
	snprintf(p->text, sizeof(p->text), "%s", text);
	va_start(ap, fmt);
	vsnprintf(p->how, sizeof(p->how), fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 3)))
static void unknown(struct nvmeta_check_probe *p, const char *fmt, ...)
{
	va_list ap;

	p->known = false;
	p->value = 0;
	snprintf(p->text, sizeof(p->text), "unknown");
	va_start(ap, fmt);
	vsnprintf(p->how, sizeof(p->how), fmt, ap);
	va_end(ap);
}

/* One block of data and metadata for a probe read; @ro_kind's buffer
 * laid out at page + @offset, the other plain. */
struct probe_io {
	struct nvmeta_buf *data, *meta;
	struct nvmeta_buf *ro;		/* the read-only one */
};

static int probe_bufs(const struct nvmeta_dev_info *in, enum nvmeta_kind ro_kind, size_t offset,
		      uint32_t nlb, struct probe_io *b)
{
	struct nvmeta_buf_spec d = {
		.len = (size_t)nlb * in->lba_size, .layout = NVMETA_LAYOUT_PAGE,
		.flags = NVMETA_BUF_DATA | NVMETA_BUF_CANARY | NVMETA_BUF_GUARD,
	};
	struct nvmeta_buf_spec m = {
		.len = (size_t)nlb * in->ms, .layout = NVMETA_LAYOUT_PAGE,
		.flags = NVMETA_BUF_CANARY | NVMETA_BUF_GUARD,
	};
	struct nvmeta_buf_spec *ro = ro_kind == NVMETA_KIND_DATA ? &d : &m;
	int ret;

	if (offset) {
		ro->layout = NVMETA_LAYOUT_MISALIGNED;
		ro->offset = offset;
	}
	memset(b, 0, sizeof(*b));
	ret = nvmeta_buf_alloc(in, &d, &b->data);
	if (!ret)
		ret = nvmeta_buf_alloc(in, &m, &b->meta);
	if (ret)
		return ret;
	memset(b->data->addr, POISON, b->data->len);
	memset(b->meta->addr, POISON, b->meta->len);
	b->ro = ro_kind == NVMETA_KIND_DATA ? b->data : b->meta;
	return 0;
}

static void probe_bufs_free(struct probe_io *b)
{
	if (b->ro)
		nvmeta_buf_protect(b->ro, false);
	nvmeta_buf_free(b->data);
	nvmeta_buf_free(b->meta);
}

/* A one-block read of block 0 into @b, through passthrough or @bdev. */
static int probe_read(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
		      struct io_uring *ring, const struct probe_io *b, uint32_t nlb,
		      struct nvmeta_status *st)
{
	struct nvmeta_io io = {
		.opcode = NVMETA_OP_READ, .slba = 0, .nlb = nlb,
		.data = b->data->addr, .data_len = b->data->len,
		.meta = b->meta->addr, .meta_len = b->meta->len,
		/* The kernel's answer, not the library's: no populate. */
		.flags = NVMETA_IO_NO_PREFAULT,
	};
	struct nvmeta_rw rw;

	memset(st, 0, sizeof(*st));
	if (!bdev)
		return nvmeta_io_sync(dev, ring, &io, st);
	memset(&rw, 0, sizeof(rw));
	rw.io = io;
	rw.io.flags = 0;
	return nvmeta_rw_sync(bdev, ring, &rw);
}

static size_t changed_bytes(const struct nvmeta_buf *b)
{
	const uint8_t *p = b->addr;
	size_t i, n = 0;

	for (i = 0; i < b->len; i++)
		n += p[i] != POISON;
	return n;
}

static void probe_readonly(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			   struct io_uring *ring, enum nvmeta_kind kind, size_t offset,
			   struct nvmeta_check_probe *p)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(dev);
	const char *road = bdev ? "the attribute road" : "passthrough";
	const char *what = kind == NVMETA_KIND_DATA ? "data" : "metadata";
	struct nvmeta_status st;
	struct probe_io b;
	char word[24];
	int ret;

	if (!in->ms || in->extended_lba) {
		unknown(p, "%s has no separate metadata", in->generic_path);
		return;
	}
	if (bdev && (ret = nvmeta_bdev_road(bdev))) {
		unknown(p, "the attribute road is closed: %s", nvmeta_last_error());
		return;
	}
	ret = probe_bufs(in, kind, offset, 1, &b);
	if (!ret)
		ret = nvmeta_buf_protect(b.ro, true);
	if (ret) {
		unknown(p, "buffer setup: %s", nvmeta_last_error());
		probe_bufs_free(&b);
		return;
	}
	ret = probe_read(dev, bdev, ring, &b, 1, &st);
	if (ret == -EIO && st.status) {
		unknown(p, "the device failed the probe read: NVMe status 0x%03x (%s)", st.status,
			nvmeta_status_name(&st));
	} else if (ret) {
		found(p, ret, nvmeta_check_errno_word(ret, word, sizeof(word)),
		      "a one-block read through %s into read-only %s at page+%zu (%s) returned %s",
		      road, what, offset, nvmeta_layout_name(b.ro->layout), word);
	} else {
		found(p, 0, "accepted",
		      "a one-block read through %s into read-only %s at page+%zu (%s) succeeded: %zu of its %zu bytes changed",
		      road, what, offset, nvmeta_layout_name(b.ro->layout), changed_bytes(b.ro),
		      b.ro->len);
	}
	probe_bufs_free(&b);
}

/* What nvmeta_predict() says without its kernel-version rule: the
 * queue's limits alone. */
void nvmeta_check_predict_limits(const struct nvmeta_dev_info *in, enum nvmeta_kind kind,
				 const void *addr, size_t len, struct nvmeta_prediction *pred)
{
	struct nvmeta_dev_info lim = *in;

	lim.kernel.major = 999;
	lim.kernel.minor = 0;
	nvmeta_predict(&lim, kind, addr, len, pred);
}

/* The fewest blocks whose metadata is a whole multiple of the DMA
 * alignment, so that the limits let the buffer pin; 0 if none fits. */
static uint32_t pin_blocks(const struct nvmeta_dev_info *in)
{
	uint64_t align = (uint64_t)in->limits.dma_alignment + 1, max = 256 * 1024;
	uint32_t n;

	if (in->limits.max_hw_sectors_kb && in->limits.max_hw_sectors_kb * 1024ull < max)
		max = in->limits.max_hw_sectors_kb * 1024ull;
	if (in->mdts_bytes && in->mdts_bytes < max)
		max = in->mdts_bytes;
	for (n = 1; (uint64_t)n * in->lba_size <= max; n++)
		if (!((uint64_t)n * in->ms % align))
			return n;
	return 0;
}

static void probe_pinning(const struct nvmeta_dev *dev, struct io_uring *ring,
			  struct nvmeta_kpath *kp, struct nvmeta_check_probe *p)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(dev);
	struct nvmeta_kpath_sample before, after;
	struct nvmeta_prediction lim;
	struct nvmeta_status st;
	char evidence[112];
	struct probe_io b;
	uint32_t nlb;
	int ret, path;

	if (!kp) {
		unknown(p, "no kprobes to observe the path");
		return;
	}
	if (!in->ms || in->extended_lba) {
		unknown(p, "%s has no separate metadata", in->generic_path);
		return;
	}
	nlb = pin_blocks(in);
	if (!nlb) {
		unknown(p, "no transfer has metadata a multiple of dma_alignment 0x%x",
			in->limits.dma_alignment);
		return;
	}
	ret = probe_bufs(in, NVMETA_KIND_META, 0, nlb, &b);
	b.ro = NULL;
	if (ret) {
		unknown(p, "buffer setup: %s", nvmeta_last_error());
		probe_bufs_free(&b);
		return;
	}
	nvmeta_check_predict_limits(in, NVMETA_KIND_META, b.meta->addr, b.meta->len, &lim);
	if (lim.path != NVMETA_PATH_PIN) {
		unknown(p, "the limits do not let a page-aligned %zu-byte buffer pin here: %s",
			b.meta->len, lim.reason);
		goto out;
	}
	if (nvmeta_kpath_sample(kp, &before)) {
		unknown(p, "kprobes: %s", nvmeta_check_last_error());
		goto out;
	}
	ret = probe_read(dev, NULL, ring, &b, nlb, &st);
	if (ret) {
		unknown(p, "the probe read of %u blocks failed: %s", nlb, nvmeta_last_error());
		goto out;
	}
	if (nvmeta_kpath_sample(kp, &after)) {
		unknown(p, "kprobes: %s", nvmeta_check_last_error());
		goto out;
	}
	path = nvmeta_kpath_observe(kp, NVMETA_KIND_META, &before, &after, evidence,
				    sizeof(evidence));
	if (path < 0) {
		unknown(p, "%s", nvmeta_check_last_error());
		goto out;
	}
	found(p, path, nvmeta_path_name(path),
	      "a %u-block passthrough read into a page-aligned %zu-byte metadata buffer, which the limits let pin, took the %s path (%s)",
	      nlb, b.meta->len, nvmeta_path_name(path), evidence);
out:
	probe_bufs_free(&b);
}

static void probe_presence(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			   struct nvmeta_check_probes *out)
{
	const struct nvmeta_dev_info *in = nvmeta_dev_info(dev);
	struct nvmeta_check_probe *lbmd = &out->probe[NVMETA_PROBE_LBMD_CAP];
	struct nvmeta_check_probe *mb = &out->probe[NVMETA_PROBE_METADATA_BYTES];
	struct nvmeta_check_probe *road = &out->probe[NVMETA_PROBE_RW_ROAD];
	const struct nvmeta_lbmd *l;
	char path[96];
	int ret;

	if (!in->block_name[0]) {
		unknown(mb, "%s has no block device", in->generic_path);
	} else {
		snprintf(path, sizeof(path), "/sys/block/%s/metadata_bytes", in->block_name);
		if (!access(path, R_OK))
			found(mb, 1, "present", "%s exists", path);
		else
			found(mb, 0, "absent", "%s: %s", path, strerror(errno));
	}
	if (!bdev) {
		unknown(lbmd, "the block device is not open");
		unknown(road, "the block device is not open");
		return;
	}
	l = nvmeta_bdev_lbmd(bdev);
	if (l->known)
		found(lbmd, 1, "present",
		      "FS_IOC_GETLBMD_CAP answered: size %u, PI %u at %u, guard type %u, flags 0x%x",
		      l->size, l->pi_size, l->pi_offset, l->guard_type, l->flags);
	else
		found(lbmd, 0, "absent", "%s", l->note[0] ? l->note : "FS_IOC_GETLBMD_CAP: no answer");
	ret = nvmeta_bdev_road(bdev);
	if (!ret)
		found(road, 0, "open", "the kernel honours the PI attribute (nvmeta_bdev_road())");
	else
		found(road, ret, "closed", "%s", nvmeta_last_error());
}

int nvmeta_check_probe(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
		       struct nvmeta_kpath *kp, struct nvmeta_check_probes *out)
{
	struct io_uring ring;
	bool have_ring;
	int i;

	nvmeta_check_error_clear();
	memset(out, 0, sizeof(*out));
	out->count = NVMETA_PROBE_COUNT;
	for (i = 0; i < NVMETA_PROBE_COUNT; i++) {
		out->probe[i].name = probe_names[i];
		unknown(&out->probe[i], "not run");
	}
	have_ring = !nvmeta_ring_init(&ring, 4);
	if (!have_ring) {
		for (i = 0; i <= NVMETA_PROBE_META_PINNING; i++)
			unknown(&out->probe[i], "ring: %s", nvmeta_last_error());
	} else {
		probe_readonly(dev, NULL, &ring, NVMETA_KIND_META, 0,
			       &out->probe[NVMETA_PROBE_RO_READ_META]);
		probe_readonly(dev, NULL, &ring, NVMETA_KIND_META, 1,
			       &out->probe[NVMETA_PROBE_RO_READ_META_MIS]);
		probe_readonly(dev, NULL, &ring, NVMETA_KIND_DATA, 0,
			       &out->probe[NVMETA_PROBE_RO_READ_DATA]);
		if (bdev) {
			probe_readonly(dev, bdev, &ring, NVMETA_KIND_META, 0,
				       &out->probe[NVMETA_PROBE_RO_READ_META_RW]);
			probe_readonly(dev, bdev, &ring, NVMETA_KIND_META, 1,
				       &out->probe[NVMETA_PROBE_RO_READ_META_RW_MIS]);
		} else {
			unknown(&out->probe[NVMETA_PROBE_RO_READ_META_RW], "the block device is not open");
			unknown(&out->probe[NVMETA_PROBE_RO_READ_META_RW_MIS], "the block device is not open");
		}
		probe_pinning(dev, &ring, kp, &out->probe[NVMETA_PROBE_META_PINNING]);
		io_uring_queue_exit(&ring);
	}
	probe_presence(dev, bdev, out);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Expectations from the probes                                         */
/* ------------------------------------------------------------------ */

int nvmeta_check_probe_ro_expect(const struct nvmeta_check_probes *probes, bool road,
				 enum nvmeta_kind kind, bool misaligned, int table_err,
				 char *why, size_t len)
{
	enum nvmeta_check_probe_id id;
	const struct nvmeta_check_probe *p;
	const char *where = road ? "the attribute road" : "passthrough";
	const char *what = kind == NVMETA_KIND_DATA ? "data" : "metadata";
	const char *at = misaligned ? " at page+1" : "";
	char word[24];

	if (kind == NVMETA_KIND_DATA)
		id = NVMETA_PROBE_RO_READ_DATA;
	else if (road)
		id = misaligned ? NVMETA_PROBE_RO_READ_META_RW_MIS : NVMETA_PROBE_RO_READ_META_RW;
	else
		id = misaligned ? NVMETA_PROBE_RO_READ_META_MIS : NVMETA_PROBE_RO_READ_META;
	p = probes && id < probes->count ? &probes->probe[id] : NULL;
	if (!p || !p->known) {
		snprintf(why, len, "probe %s unknown (%s): a refusal with %s expected", probe_names[id],
			 p ? p->how : "not run", nvmeta_check_errno_word(table_err, word, sizeof(word)));
		return table_err;
	}
	if (!p->value) {
		/* Success is no answer to expect: the device wrote read-only
		 * memory.  The case still expects a refusal, and reports the
		 * defect when it gets none. */
		snprintf(why, len, "probe: the kernel accepted a read into read-only %s%s on %s (a defect), so a refusal is still expected",
			 what, at, where);
		return table_err;
	}
	snprintf(why, len, "probe: the kernel answers %s for a read into read-only %s%s on %s",
		 p->text, what, at, where);
	return p->value;
}

enum nvmeta_path nvmeta_check_probe_path(const struct nvmeta_check_probes *probes,
					 enum nvmeta_path predicted, enum nvmeta_path limits_only,
					 char *why, size_t len)
{
	const struct nvmeta_check_probe *p = probes && NVMETA_PROBE_META_PINNING < probes->count ?
					     &probes->probe[NVMETA_PROBE_META_PINNING] : NULL;

	if (why && len)
		why[0] = '\0';
	if (!p || !p->known)
		return predicted;
	if (p->value == NVMETA_PATH_PIN) {
		if (why && limits_only != predicted)
			snprintf(why, len, "probe: the kernel pins metadata the limits let pin");
		return limits_only;
	}
	/* A kernel that pins no metadata copies every buffer through a
	 * kernel allocation of its own (the nvme driver's kmalloc before
	 * 6.8), and the limits of the pinning code do not apply: what the
	 * library predicts stands, but a pin is a bounce. */
	if (predicted == NVMETA_PATH_PIN) {
		if (why)
			snprintf(why, len, "probe: the kernel bounced a metadata buffer the limits let pin: it pins no metadata");
		return NVMETA_PATH_BOUNCE;
	}
	return predicted;
}
