// SPDX-License-Identifier: MIT
/*
 * In the lab: the attribute road (io_uring READ/WRITE on /dev/nvmeXnY
 * with a PI attribute, Linux 6.14).  On a kernel that has it, every
 * metadata buffer layout round-trips byte-exact, pinned or bounced as
 * predicted; on 6.12 and 6.1 the library refuses before any I/O.  The
 * road's semantics (seed, reference tags, integrity failures,
 * FS_IOC_GETLBMD_CAP) are measured and printed as "RW-FACT" notes.
 * Blocks 10000 to 10999 are this test's: guest_pi stays below 9200,
 * guest_defects below 8300, nvmeta-ring at the namespace's end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "guest_env.h"
#include "nvmeta.h"

#define SLBA 10000
#define APPTAG 0x1234
#define FACT(...) cr_log_info("RW-FACT " __VA_ARGS__)

static struct nvmeta_dev *dev;		/* passthrough, to look behind the road */
static const struct nvmeta_dev_info *ng;
static struct io_uring pring;		/* passthrough ring: SQE128/CQE32 */
static struct nvmeta_bdev *bd;
static const struct nvmeta_dev_info *bi;
static struct io_uring rring;		/* the road's ring: plain 64-byte SQEs */
static struct nvmeta_pi_format pf;
static bool has_pi;
static char bpath[64];

static void *alloc(size_t len)
{
	void *p = NULL;

	cr_assert_eq(posix_memalign(&p, 4096, len), 0);
	memset(p, 0, len);
	return p;
}

static void setup(void)
{
	int ret;

	ng = guest_open(&dev, &pring, 8);
	cr_assert(ng->block_name[0], "the kernel made no block device for %s", ng->generic_path);
	snprintf(bpath, sizeof(bpath), "/dev/%s", ng->block_name);
	ret = nvmeta_bdev_open(bpath, &bd);
	cr_assert_eq(ret, 0, "nvmeta_bdev_open(%s): %d %s", bpath, ret, nvmeta_last_error());
	bi = nvmeta_bdev_info(bd);
	cr_assert_eq(io_uring_queue_init(8, &rring, 0), 0);
	has_pi = bi->pi_type && !nvmeta_pi_format_of(bi, &pf);
}

static void teardown(void)
{
	io_uring_queue_exit(&rring);
	nvmeta_bdev_close(bd);
	guest_close(dev, &pring);
}

TestSuite(rw, .init = setup, .fini = teardown);

/* The kernel gives an extended-LBA namespace no integrity profile (its
 * metadata travels inside the data): no metadata goes on this road. */
static bool road_expected(void)
{
	return NVMETA_KERNEL_AT_LEAST(&bi->kernel, 6, 14) && ng->ms && !ng->extended_lba;
}

static const char *where(void)
{
	static char s[200];

	snprintf(s, sizeof(s), "kernel %s, preset %s, QEMU %s, %s %u+%u %s PI type %u",
		 bi->kernel.release, getenv("NVMETA_PRESET") ? getenv("NVMETA_PRESET") : "?",
		 getenv("NVMETA_LAB_QEMU") ? getenv("NVMETA_LAB_QEMU") : "?", bi->block_name,
		 bi->lba_size, bi->ms, bi->limits.integrity_format, bi->pi_type);
	return s;
}

static void need_road(void)
{
	if (!ng->ms)
		cr_skip_test("%s has no metadata: the road carries none", where());
	if (!NVMETA_KERNEL_AT_LEAST(&bi->kernel, 6, 14))
		cr_skip_test("Linux %u.%u has no PI attribute (6.14): %s", bi->kernel.major,
			     bi->kernel.minor, where());
	if (!road_expected())
		cr_skip_test("extended LBA: the kernel gives it no integrity profile: %s", where());
	cr_assert_eq(nvmeta_bdev_road(bd), 0, "%s; %s", nvmeta_last_error(), where());
}

/* ------------------------------------------------------- small tools */

static uint64_t be(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static size_t pi_off(void)
{
	return pf.pi_first ? 0 : pf.ms - pf.pi_size;
}

static uint64_t ref_mask(void)
{
	return pf.guard_bits == 16 ? 0xffffffffull : 0xffffffffffffull;
}

static uint64_t tuple_ref(const unsigned char *meta, uint32_t block)
{
	const unsigned char *t = meta + (size_t)block * pf.ms + pi_off();

	return pf.guard_bits == 16 ? be(t + 4, 4) : be(t + 10, 6);
}

/* The reference tags of @nlb blocks, "a b c ...", for the notes. */
static const char *refs(const unsigned char *meta, uint32_t nlb)
{
	static char s[8][200];
	static unsigned int k;
	char *o = s[k++ % 8];
	size_t used = 0;
	uint32_t b;

	o[0] = '\0';
	for (b = 0; b < nlb && used < 180; b++)
		used += (size_t)snprintf(o + used, 200 - used, "%s%llu", b ? " " : "",
					 (unsigned long long)tuple_ref(meta, b));
	return o;
}

static void fill(unsigned char *d, unsigned char *m, uint64_t slba, uint32_t nlb, unsigned int run)
{
	size_t i;

	for (i = 0; i < (size_t)nlb * bi->lba_size; i++)
		d[i] = (unsigned char)((slba + i / bi->lba_size) * 131 + i * 7 + run * 29 + 1);
	for (i = 0; m && i < (size_t)nlb * bi->ms; i++)
		m[i] = (unsigned char)(0xa5 ^ (i * 13 + run * 3 + slba));
}

/* Host PI with the reference tags counting from @ref. */
static void gen_pi(unsigned char *d, unsigned char *m, uint32_t nlb, uint64_t ref)
{
	struct nvmeta_pi_tags t = { .ref_tag = ref & ref_mask(), .app_tag = APPTAG };

	cr_assert_eq(nvmeta_pi_generate(&pf, d, m, nlb, &t), 0, "%s", nvmeta_last_error());
}

static uint8_t prchk_all(void)
{
	if (!has_pi)
		return 0;
	return NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP | (pf.pi_type == 3 ? 0 : NVMETA_PRCHK_REF);
}

static int road(uint8_t op, uint64_t slba, uint32_t nlb, void *d, void *m, uint8_t prinfo,
		uint64_t seed)
{
	struct nvmeta_rw rw = { .io = {
		.opcode = op, .slba = slba, .nlb = nlb, .data = d, .data_len = nlb * bi->lba_size,
		.meta = m, .meta_len = m ? nlb * bi->ms : 0, .prinfo = prinfo,
		.apptag = APPTAG, .reftag = seed } };

	return nvmeta_rw_sync(bd, &rring, &rw);
}

/* What the device stored, through passthrough, unchecked. */
static void stored(uint64_t slba, uint32_t nlb, unsigned char *d, unsigned char *m)
{
	struct nvmeta_io io = { .opcode = NVMETA_OP_READ, .slba = slba, .nlb = nlb, .data = d,
				.data_len = nlb * ng->lba_size, .meta = m,
				.meta_len = nlb * ng->ms };

	cr_assert_eq(nvmeta_io_sync(dev, &pring, &io, NULL), 0, "passthrough read: %s",
		     nvmeta_last_error());
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------- our own kprobes */

/* The attribute road maps metadata in bio_integrity_map_iter() and
 * bio_integrity_map_user(), not in blk_rq_integrity_map_user(), the
 * passthrough entry nvmeta_kpath watches; nvme_complete_rq() counts
 * completions, retries included. */
static const char *const own_syms[] = { "bio_integrity_map_iter", "bio_integrity_map_user",
					"nvme_complete_rq" };
#define NOWN 3
static char tracefs[64];

static int tw(const char *file, const char *text)
{
	char path[160];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return -errno;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -errno;
}

static void own_probes(bool on)
{
	char line[160];
	int i;

	if (!tracefs[0])
		strcpy(tracefs, access("/sys/kernel/tracing/kprobe_events", W_OK) ?
				"/sys/kernel/debug/tracing" : "/sys/kernel/tracing");
	for (i = 0; i < NOWN; i++) {
		snprintf(line, sizeof(line), "events/kprobes/guest_rw_%d/enable", i);
		if (on) {
			char def[96];

			snprintf(def, sizeof(def), "p:guest_rw_%d %s\n", i, own_syms[i]);
			if (tw("kprobe_events", def) || tw(line, "1"))
				cr_log_warn("kprobe on %s: not registered", own_syms[i]);
		} else {
			tw(line, "0");
			snprintf(line, sizeof(line), "-:guest_rw_%d\n", i);
			tw("kprobe_events", line);
		}
	}
}

/* Hit counts of our probes; -1 for one not registered. */
static void own_sample(long long hits[NOWN])
{
	char path[160], line[256], name[96];
	long long h;
	FILE *f;
	int i;

	for (i = 0; i < NOWN; i++)
		hits[i] = -1;
	snprintf(path, sizeof(path), "%s/kprobe_profile", tracefs);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%95s %lld", name, &h) == 2 && !strncmp(name, "guest_rw_", 9) &&
		    name[9] >= '0' && name[9] < '0' + NOWN && !name[10])
			hits[name[9] - '0'] = h;
	fclose(f);
}

/* ------------------------------------------------ the road is open */

Test(rw, road_is_decided_by_the_kernel_version)
{
	int ret = nvmeta_bdev_road(bd);

	if (road_expected()) {
		cr_assert_eq(ret, 0, "Linux %s should honour the PI attribute: %s", bi->kernel.release,
			     nvmeta_last_error());
		FACT("road open on %s", where());
		return;
	}
	cr_assert_eq(ret, -EOPNOTSUPP, "Linux %s: road %d %s", bi->kernel.release, ret,
		     ret ? nvmeta_last_error() : "open");
	if (NVMETA_KERNEL_AT_LEAST(&bi->kernel, 6, 14))
		cr_assert(strstr(nvmeta_last_error(), "integrity profile"),
			  "extended LBA or no metadata: '%s' does not say the namespace has no integrity profile",
			  nvmeta_last_error());
	else
		cr_assert(strstr(nvmeta_last_error(), "IORING_FEAT_RW_ATTR"),
			  "'%s' lacks IORING_FEAT_RW_ATTR", nvmeta_last_error());
	FACT("road closed on %s: %s", where(), nvmeta_last_error());
}

/* ------------------------------------------------ old kernels refuse */

static unsigned long long disk_ios(void)
{
	char path[96];
	unsigned long long r = 0, w = 0, x;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/stat", bi->block_name);
	f = fopen(path, "r");
	cr_assert(f, "%s", path);
	cr_assert_eq(fscanf(f, "%llu %llu %llu %llu %llu", &r, &x, &x, &x, &w), 5);
	fclose(f);
	return r + w;
}

Test(rw, old_kernel_refuses_metadata_before_any_io)
{
	unsigned char *d, *m, sqe_before[64];
	struct io_uring_sqe sqe;
	struct nvmeta_rw rw;
	unsigned long long ios;
	int ret;

	if (road_expected())
		cr_skip_test("Linux %s has the road", bi->kernel.release);
	d = alloc(bi->lba_size);
	m = alloc(ng->ms ? ng->ms : 8);
	memset(&sqe, 0xa5, sizeof(sqe));
	memcpy(sqe_before, &sqe, sizeof(sqe));
	rw = (struct nvmeta_rw){ .io = { .opcode = NVMETA_OP_READ, .slba = SLBA, .nlb = 1, .data = d,
					 .data_len = bi->lba_size, .meta = m,
					 .meta_len = ng->ms } };
	ret = nvmeta_prep_rw(bd, &sqe, &rw);
	cr_assert_eq(ret, -EOPNOTSUPP, "prep with metadata on %s: %d %s", bi->kernel.release, ret,
		     nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(),
			 NVMETA_KERNEL_AT_LEAST(&bi->kernel, 6, 14) ? "integrity profile" :
			 "IORING_FEAT_RW_ATTR"), "%s", nvmeta_last_error());
	cr_assert_eq(memcmp(&sqe, sqe_before, sizeof(sqe)), 0, "the refused prep wrote the SQE");

	ios = disk_ios();
	ret = road(NVMETA_OP_WRITE, SLBA, 1, d, m, 0, SLBA);
	cr_assert_eq(ret, -EOPNOTSUPP, "rw_sync write with metadata: %d %s", ret, nvmeta_last_error());
	cr_assert_eq(io_uring_sq_ready(&rring), 0, "the refusal left an SQE in the ring");
	cr_assert_eq(disk_ios(), ios, "the refusal reached the disk");

	/* Linux gives an extended-LBA namespace without PRACT-able PI a
	 * block device of capacity 0 (7.2.13 on 512+8-ext): nothing to read. */
	if (ng->extended_lba && !ng->pi_type) {
		FACT("%s: refused with metadata; the block device has no capacity to read", where());
		return;
	}
	/* Without metadata the road is plain O_DIRECT, and stays open. */
	ret = road(NVMETA_OP_READ, SLBA, 1, d, NULL, 0, 0);
	cr_assert_eq(ret, 0, "plain read: %s", nvmeta_last_error());
	FACT("%s: prep and rw_sync with metadata refused (-EOPNOTSUPP, SQE untouched, no disk I/O); without metadata the read works",
	     where());
}

/* Why the probe reads instead of trusting the SQE: an old kernel (no
 * IORING_FEAT_RW_ATTR, before 6.14) takes the attribute's fields and
 * ignores them: the READ moves its block and the metadata buffer stays
 * as it was.  A newer kernel without the road here (extended LBA, no
 * integrity profile) is only noted. */
/* Submit @sqe, prepared, with the PI attribute @attr attached by hand
 * (past the library's checks); wait for it and return its result. */
static int submit_with_attr(struct io_uring_sqe *sqe, struct nvmeta_attr_pi *attr)
{
	struct io_uring_cqe *cqe;
	int res;

	sqe->addr3 = (uintptr_t)attr;
	sqe->__pad2[0] = 1;	/* IORING_RW_ATTR_FLAG_PI */
	cr_assert_eq(io_uring_submit(&rring), 1);
	cr_assert_eq(io_uring_wait_cqe(&rring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(&rring, cqe);
	return res;
}

Test(rw, old_kernel_ignores_a_hand_made_attribute)
{
	struct nvmeta_attr_pi attr;
	struct io_uring_sqe *sqe;
	unsigned char *d, m[64];
	bool untouched;
	int res;

	if (road_expected())
		cr_skip_test("Linux %s has the road", bi->kernel.release);
	if (!ng->ms)
		cr_skip_test("%s has no metadata to attach", ng->generic_path);
	cr_assert_leq(ng->ms, sizeof(m));
	d = alloc(bi->lba_size);
	memset(m, 0x5a, sizeof(m));
	attr = (struct nvmeta_attr_pi){ .len = ng->ms, .addr = (uintptr_t)m };
	sqe = io_uring_get_sqe(&rring);
	io_uring_prep_read(sqe, nvmeta_bdev_fd(bd), d, bi->lba_size, 0);
	res = submit_with_attr(sqe, &attr);
	untouched = m[0] == 0x5a && !memcmp(m, m + 1, sizeof(m) - 1);
	FACT("%s: a READ with a hand-made PI attribute returned %d (%s), metadata buffer %s",
	     where(), res, res < 0 ? strerror(-res) : "bytes", untouched ? "untouched" : "changed");
	if (NVMETA_KERNEL_AT_LEAST(&bi->kernel, 6, 14))
		return;
	cr_assert_eq(res, (int)bi->lba_size, "Linux %s: the READ with an attribute returned %d (%s), not its %u bytes",
		     bi->kernel.release, res, res < 0 ? strerror(-res) : "bytes", bi->lba_size);
	cr_assert(untouched, "Linux %s: the ignored attribute's metadata buffer changed",
		  bi->kernel.release);
}

/* -------------------------------------------- every layout, both ways */

static const enum nvmeta_layout layouts[] = {
	NVMETA_LAYOUT_PINNED, NVMETA_LAYOUT_MISALIGNED, NVMETA_LAYOUT_FRAGMENTED,
	NVMETA_LAYOUT_HUGE_SPAN, NVMETA_LAYOUT_PAGE, NVMETA_LAYOUT_MALLOC,
};

struct seen {
	int path;		/* enum nvmeta_path, or -1: not mapped */
	int kpath;		/* what nvmeta_kpath_observe() said */
	char ev[224];
};

static void observe(struct nvmeta_kpath *kp, const struct nvmeta_kpath_sample *s0,
		    const long long o0[NOWN], struct seen *out)
{
	struct nvmeta_kpath_sample s1;
	long long o1[NOWN], iter, user, copy;
	char kev[112];

	cr_assert_eq(nvmeta_kpath_sample(kp, &s1), 0, "%s", nvmeta_last_error());
	own_sample(o1);
	out->kpath = nvmeta_kpath_observe(kp, NVMETA_KIND_META, s0, &s1, kev, sizeof(kev));
	iter = o1[0] - o0[0];
	user = o1[1] - o0[1];
	copy = (long long)(s1.hits[1] - s0->hits[1]);	/* bio_integrity_add_page */
	out->path = (iter > 0 || user > 0) ? (copy > 0 ? NVMETA_PATH_BOUNCE : NVMETA_PATH_PIN) : -1;
	snprintf(out->ev, sizeof(out->ev),
		 "bio_integrity_map_iter +%lld, bio_integrity_map_user +%lld, bio_integrity_add_page +%lld; nvmeta_kpath_observe %d (%s)",
		 o0[0] < 0 ? -1 : iter, o0[1] < 0 ? -1 : user, copy, out->kpath, kev);
}

static const char *pname(int p)
{
	return p < 0 ? "unmapped" : nvmeta_path_name((enum nvmeta_path)p);
}

static void one_layout(struct nvmeta_kpath *kp, enum nvmeta_layout lay, uint32_t nlb,
		       uint64_t slba, unsigned int run, unsigned int *bad)
{
	struct nvmeta_buf_spec ms = { .layout = lay, .len = (size_t)nlb * bi->ms,
				      .flags = NVMETA_BUF_FALLBACK };
	struct nvmeta_buf_spec ds = { .layout = NVMETA_LAYOUT_PINNED,
				      .len = (size_t)nlb * bi->lba_size, .flags = NVMETA_BUF_DATA };
	struct nvmeta_buf *mb = NULL, *db = NULL;
	struct nvmeta_prediction pred;
	struct nvmeta_kpath_sample s0;
	struct seen ws, rs;
	long long o0[NOWN];
	unsigned char *wd, *wm;
	size_t dlen = ds.len, mlen = ms.len;
	uint8_t prinfo = prchk_all();
	int ret;

	ret = nvmeta_buf_alloc(bi, &ms, &mb);
	/* A metadata buffer that cannot pin on this queue (6.17 and 6.18
	 * report dma_alignment 0xfff for 16-byte metadata): the library
	 * refuses to call such a buffer pinned, and says why. */
	if (ret == -EOPNOTSUPP && lay == NVMETA_LAYOUT_PINNED)
		cr_assert(strstr(nvmeta_last_error(), "dma_alignment"), "%s", nvmeta_last_error());
	if (ret && (lay == NVMETA_LAYOUT_HUGE_SPAN || lay == NVMETA_LAYOUT_FRAGMENTED ||
		    (ret == -EOPNOTSUPP && lay == NVMETA_LAYOUT_PINNED))) {
		FACT("layout %s, %u blocks: no buffer here (%d %s): skipped", nvmeta_layout_name(lay),
		     nlb, ret, nvmeta_last_error());
		return;
	}
	cr_assert_eq(ret, 0, "metadata buffer %s of %zu bytes: %s", nvmeta_layout_name(lay), mlen,
		     nvmeta_last_error());
	cr_assert_eq(nvmeta_buf_alloc(bi, &ds, &db), 0, "data buffer: %s", nvmeta_last_error());
	wd = alloc(dlen);
	wm = alloc(mlen);
	fill(db->addr, mb->addr, slba, nlb, run);
	if (has_pi)
		gen_pi(db->addr, mb->addr, nlb, slba);
	memcpy(wd, db->addr, dlen);
	memcpy(wm, mb->addr, mlen);
	cr_assert_eq(nvmeta_predict(bi, NVMETA_KIND_META, mb->addr, mlen, &pred), 0, "%s",
		     nvmeta_last_error());

	cr_assert_eq(nvmeta_kpath_sample(kp, &s0), 0, "%s", nvmeta_last_error());
	own_sample(o0);
	ret = road(NVMETA_OP_WRITE, slba, nlb, db->addr, mb->addr, prinfo, slba);
	observe(kp, &s0, o0, &ws);
	cr_assert_eq(ret, 0, "write, layout %s (%s), %u blocks at %llu, checks 0x%x: %d %s; %s",
		     nvmeta_layout_name(mb->layout), nvmeta_layout_name(lay), nlb,
		     (unsigned long long)slba, prinfo, ret, nvmeta_last_error(), where());
	cr_assert_eq(memcmp(mb->addr, wm, mlen), 0, "the write changed its metadata source (%s)",
		     nvmeta_layout_name(mb->layout));

	memset(db->addr, 0xee, dlen);
	memset(mb->addr, 0xee, mlen);
	cr_assert_eq(nvmeta_kpath_sample(kp, &s0), 0, "%s", nvmeta_last_error());
	own_sample(o0);
	ret = road(NVMETA_OP_READ, slba, nlb, db->addr, mb->addr, prinfo, slba);
	observe(kp, &s0, o0, &rs);
	cr_assert_eq(ret, 0, "read, layout %s, %u blocks: %d %s", nvmeta_layout_name(mb->layout),
		     nlb, ret, nvmeta_last_error());
	cr_assert_eq(memcmp(db->addr, wd, dlen), 0, "data differs, layout %s, %u blocks",
		     nvmeta_layout_name(mb->layout), nlb);
	cr_assert_eq(memcmp(mb->addr, wm, mlen), 0,
		     "metadata differs, layout %s, %u blocks: read refs %s, wrote %s",
		     nvmeta_layout_name(mb->layout), nlb, has_pi ? refs(mb->addr, nlb) : "-",
		     has_pi ? refs(wm, nlb) : "-");
	cr_assert_eq(nvmeta_buf_check_canaries(mb, NULL), 0, "%s", nvmeta_last_error());

	FACT("layout %s%s%s, %u blocks, %zu metadata bytes at +0x%lx: byte-exact; predicted %s (%s); write %s [%s]; read %s [%s]",
	     nvmeta_layout_name(mb->layout), mb->layout != lay ? " from " : "",
	     mb->layout != lay ? nvmeta_layout_name(lay) : "", nlb, mlen,
	     (unsigned long)((uintptr_t)mb->addr & 4095), nvmeta_path_name(pred.path),
	     pred.reason, pname(ws.path), ws.ev, pname(rs.path), rs.ev);
	/* nvmeta_kpath_observe() is the judge; our own probes say the same
	 * or the evidence shows where they part. */
	if ((int)pred.path != ws.kpath || (int)pred.path != rs.kpath ||
	    (int)pred.path != ws.path || (int)pred.path != rs.path) {
		cr_log_error("layout %s, %u blocks: predicted %s; nvmeta_kpath_observe: write %s, read %s; own probes: write %s, read %s",
			     nvmeta_layout_name(mb->layout), nlb, nvmeta_path_name(pred.path),
			     pname(ws.kpath), pname(rs.kpath), pname(ws.path), pname(rs.path));
		(*bad)++;
	}
	free(wd);
	free(wm);
	nvmeta_buf_free(mb);
	nvmeta_buf_free(db);
}

Test(rw, every_layout_round_trips_with_the_predicted_path, .timeout = 300)
{
	static const uint32_t sizes[] = { 1, 8 };
	struct nvmeta_kpath *kp;
	unsigned int i, j, k = 0, bad = 0;

	need_road();
	cr_assert_eq(nvmeta_kpath_open(bi, &kp), 0, "%s", nvmeta_last_error());
	own_probes(true);
	for (i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		for (j = 0; j < 2; j++, k++)
			one_layout(kp, layouts[i], sizes[j], SLBA + k * 16, k + 1, &bad);
	own_probes(false);
	nvmeta_kpath_close(kp);
	cr_assert_eq(bad, 0, "%u of %u cases took another path than predicted; %s", bad, k, where());
	FACT("%u layout cases round-tripped through the road with the predicted path; %s", k, where());
}

/* ------------------------------------------------------- semantics */

/*
 * The NVMe rules for the seed test, computed here from the preset the lab
 * booted (NVMETA_EXPECT_*), not by the library: where the tuple sits, its
 * guard (CRC16 T10-DIF, polynomial 0x8BB7; or the NVMe CRC64, reflected
 * polynomial 0x9A6C9329AC4BC9B5, inverted in and out) over the block's
 * data and, when the PI is last in larger metadata, the metadata bytes
 * before it; the application tag; the reference tag (32 bits beside a
 * 16-bit guard, 48 beside a 64-bit one), big-endian.
 */
struct spec {
	uint32_t lba, ms, pi_size, off;
	unsigned int guard_bits;
	uint64_t mask;
};

static uint16_t spec_crc16(uint16_t crc, const unsigned char *p, size_t n)
{
	int b;

	while (n--) {
		crc ^= (uint16_t)(*p++ << 8);
		for (b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? crc << 1 ^ 0x8bb7 : crc << 1);
	}
	return crc;
}

/* The CRC64's running state: start at ~0, invert at the end. */
static uint64_t spec_crc64(uint64_t crc, const unsigned char *p, size_t n)
{
	int b;

	while (n--) {
		crc ^= *p++;
		for (b = 0; b < 8; b++)
			crc = crc & 1 ? crc >> 1 ^ 0x9a6c9329ac4bc9b5ull : crc >> 1;
	}
	return crc;
}

static void spec_of_preset(struct spec *s)
{
	long pif = expect_num("NVMETA_EXPECT_PIF");

	cr_assert(pif == 0 || pif == 2, "preset guard format %ld: no rule here", pif);
	s->lba = (uint32_t)expect_num("NVMETA_EXPECT_LBA");
	s->ms = (uint32_t)expect_num("NVMETA_EXPECT_MS");
	s->guard_bits = pif == 2 ? 64 : 16;
	s->pi_size = pif == 2 ? 16 : 8;
	s->off = expect_num("NVMETA_EXPECT_PIL") ? 0 : s->ms - s->pi_size;
	s->mask = pif == 2 ? 0xffffffffffffull : 0xffffffffull;
	/* The check values of "123456789" (lab notes): the rules are right. */
	cr_assert_eq(spec_crc16(0, (const unsigned char *)"123456789", 9), 0xd0db);
	cr_assert_eq(~spec_crc64(~0ull, (const unsigned char *)"123456789", 9),
		     0xae8b14860a799888ull);
}

static void put_be(unsigned char *p, uint64_t v, unsigned int n)
{
	while (n--) {
		p[n] = (unsigned char)v;
		v >>= 8;
	}
}

enum spec_field { SF_GUARD, SF_APP, SF_REF };
static const char *const spec_field_name[] = { "guard", "app tag", "ref tag" };

static uint64_t spec_get(const struct spec *s, const unsigned char *m, uint32_t blk,
			 enum spec_field f)
{
	const unsigned char *t = m + (size_t)blk * s->ms + s->off;

	if (s->guard_bits == 16)
		return f == SF_GUARD ? be(t, 2) : f == SF_APP ? be(t + 2, 2) : be(t + 4, 4);
	return f == SF_GUARD ? be(t, 8) : f == SF_APP ? be(t + 8, 2) : be(t + 10, 6);
}

static void spec_set(const struct spec *s, unsigned char *m, uint32_t blk, enum spec_field f,
		     uint64_t v)
{
	unsigned char *t = m + (size_t)blk * s->ms + s->off;

	if (s->guard_bits == 16)
		put_be(f == SF_GUARD ? t : f == SF_APP ? t + 2 : t + 4, v, f == SF_REF ? 4 : 2);
	else
		put_be(f == SF_GUARD ? t : f == SF_APP ? t + 8 : t + 10, v,
		       f == SF_GUARD ? 8 : f == SF_APP ? 2 : 6);
}

/* The guard of block @blk of @d and @m, by the spec. */
static uint64_t spec_guard(const struct spec *s, const unsigned char *d, const unsigned char *m,
			   uint32_t blk)
{
	const unsigned char *bd = d + (size_t)blk * s->lba, *bm = m + (size_t)blk * s->ms;

	if (s->guard_bits == 16)
		return spec_crc16(spec_crc16(0, bd, s->lba), bm, s->off);
	return ~spec_crc64(spec_crc64(~0ull, bd, s->lba), bm, s->off);
}

/* Tuples of @nlb blocks: the guard, APPTAG, reference tags from @ref0. */
static void spec_tuples(const struct spec *s, const unsigned char *d, unsigned char *m,
			uint32_t nlb, uint64_t ref0)
{
	uint32_t b;

	for (b = 0; b < nlb; b++) {
		spec_set(s, m, b, SF_GUARD, spec_guard(s, d, m, b));
		spec_set(s, m, b, SF_APP, APPTAG);
		spec_set(s, m, b, SF_REF, (ref0 + b) & s->mask);
	}
}

/* Blocks @got against @want, field by field; names the case, the read,
 * the block, the field, what was expected and what was found. */
static void spec_same(const char *cname, const char *what, const struct spec *s, uint32_t nlb,
		      const unsigned char *wd, const unsigned char *wm, const unsigned char *gd,
		      const unsigned char *gm)
{
	uint32_t b, i;
	int f;

	for (b = 0; b < nlb; b++) {
		for (i = 0; wd && i < s->lba; i++) {
			size_t k = (size_t)b * s->lba + i;

			cr_assert_eq(gd[k], wd[k],
				     "seed case '%s', %s: block %u, data byte %u: expected 0x%02x, found 0x%02x",
				     cname, what, b, i, wd[k], gd[k]);
		}
		for (f = SF_GUARD; f <= SF_REF; f++) {
			uint64_t e = spec_get(s, wm, b, (enum spec_field)f);
			uint64_t g = spec_get(s, gm, b, (enum spec_field)f);

			cr_assert_eq(g, e, "seed case '%s', %s: block %u, %s: expected %llu (0x%llx), found %llu (0x%llx)",
				     cname, what, b, spec_field_name[f], (unsigned long long)e,
				     (unsigned long long)e, (unsigned long long)g,
				     (unsigned long long)g);
		}
		for (i = 0; i < s->ms; i++) {
			size_t k = (size_t)b * s->ms + i;

			if (i >= s->off && i < s->off + s->pi_size)
				continue;
			cr_assert_eq(gm[k], wm[k],
				     "seed case '%s', %s: block %u, metadata byte %u (outside the PI): expected 0x%02x, found 0x%02x",
				     cname, what, b, i, wm[k], gm[k]);
		}
	}
}

/*
 * One case of the seed test: a write through the road of 4 blocks at
 * @slba whose tuples' reference tags count from @tag0, with the
 * attribute's seed @seed and check flags @prinfo, metadata at @moff
 * bytes past a page; then what the device stored (passthrough, no
 * checks) and two reads through the road.  Expected, by the rules the
 * README measured on 7.2.13 and the NVMe spec (type 1, and type 2 as
 * Linux drives it, the LBA as the initial reference tag):
 *  - write: the kernel rewrites each tuple whose tag is seed + i into
 *    LBA + i; the device checks the tag against LBA + i when the ref
 *    check is asked, and a tag that is neither fails the write, -EILSEQ,
 *    and stores nothing (the blocks keep what was there before);
 *  - stored: the data, the metadata bytes, the guard (computed here),
 *    APPTAG and the rewritten tags;
 *  - read with the same seed and checks: what is stored, each tag LBA + i
 *    rewritten into seed + i;
 *  - read with seed = LBA and no checks: what is stored, exactly;
 *  - the write's metadata source: unchanged when bounced (@moff 1); when
 *    pinned the kernel may rewrite it in place (7.2.13 does), so it holds
 *    either the source or exactly the tuples the device stored.
 * Every value is asserted; the notes (RW-FACT) keep what was seen.
 */
static void seed_case(const struct spec *s, const char *name, uint64_t slba, uint64_t tag0,
		      uint64_t seed, uint8_t prinfo, size_t moff)
{
	const uint32_t nlb = 4;
	size_t dlen = (size_t)nlb * s->lba, mlen = (size_t)nlb * s->ms;
	unsigned char *d = alloc(dlen), *mem = alloc(mlen + moff), *m = mem + moff;
	unsigned char *src = alloc(mlen), *pd = alloc(dlen), *pm = alloc(mlen);
	unsigned char *sd = alloc(dlen), *sm = alloc(mlen), *xd, *xm, *rm = alloc(mlen);
	struct nvmeta_io io;
	bool refused = false, in_place;
	int wret, r1, r2, want;
	uint32_t b;
	char after_src[200], st[200], rd_seed[200], rd_slba[200];

	/* What was there before: good tuples of another pattern, tags LBA + i. */
	fill(pd, pm, slba, nlb, 41);
	spec_tuples(s, pd, pm, nlb, slba);
	io = (struct nvmeta_io){ .opcode = NVMETA_OP_WRITE, .slba = slba, .nlb = nlb, .data = pd,
				 .data_len = dlen, .meta = pm, .meta_len = mlen };
	cr_assert_eq(nvmeta_io_sync(dev, &pring, &io, NULL), 0, "seed case '%s': passthrough prefill: %s",
		     name, nvmeta_last_error());

	fill(d, m, slba, nlb, 40);
	spec_tuples(s, d, m, nlb, tag0);
	memcpy(src, m, mlen);
	/* The stored tuples the rules predict. */
	xm = alloc(mlen);
	memcpy(xm, src, mlen);
	for (b = 0; b < nlb; b++) {
		uint64_t t = spec_get(s, src, b, SF_REF), lba = (slba + b) & s->mask;

		if (t == ((seed + b) & s->mask))
			t = lba;
		spec_set(s, xm, b, SF_REF, t);
		refused |= (prinfo & NVMETA_PRCHK_REF) && t != lba;
	}
	xd = d;
	want = refused ? -EILSEQ : 0;

	wret = road(NVMETA_OP_WRITE, slba, nlb, d, m, prinfo, seed);
	in_place = memcmp(src, m, mlen) != 0;
	snprintf(after_src, sizeof(after_src), "%s", in_place ? refs(m, nlb) : "unchanged");
	stored(slba, nlb, sd, sm);
	snprintf(st, sizeof(st), "%s", refs(sm, nlb));
	cr_assert_eq(wret, want, "seed case '%s': write returned %d (%s), expected %d; stored %s",
		     name, wret, wret ? strerror(-wret) : "success", want, st);
	if (moff)
		spec_same(name, "the bounced write's source", s, nlb, NULL, src, NULL, m);
	else if (in_place)
		spec_same(name, "the pinned write's source, rewritten in place", s, nlb, NULL, xm, NULL, m);
	if (refused) {
		xd = pd;
		memcpy(xm, pm, mlen);
	}
	spec_same(name, "stored (passthrough read)", s, nlb, xd, xm, sd, sm);

	/* Read, same seed and checks: tags LBA + i come back as seed + i. */
	memcpy(rm, xm, mlen);
	for (b = 0; b < nlb; b++)
		if (spec_get(s, xm, b, SF_REF) == ((slba + b) & s->mask))
			spec_set(s, rm, b, SF_REF, (seed + b) & s->mask);
	memset(sd, 0xee, dlen);
	memset(m, 0xee, mlen);
	r1 = road(NVMETA_OP_READ, slba, nlb, sd, m, prinfo, seed);
	snprintf(rd_seed, sizeof(rd_seed), "%s", r1 ? strerror(-r1) : refs(m, nlb));
	cr_assert_eq(r1, 0, "seed case '%s': road read with seed %llu, checks 0x%x: %d (%s)", name,
		     (unsigned long long)seed, prinfo, r1, r1 ? nvmeta_last_error() : "success");
	spec_same(name, "road read, same seed and checks", s, nlb, xd, rm, sd, m);

	/* Read, seed = LBA, no checks: what is stored, exactly. */
	memset(sd, 0xee, dlen);
	memset(m, 0xee, mlen);
	r2 = road(NVMETA_OP_READ, slba, nlb, sd, m, 0, slba);
	snprintf(rd_slba, sizeof(rd_slba), "%s", r2 ? strerror(-r2) : refs(m, nlb));
	cr_assert_eq(r2, 0, "seed case '%s': road read with seed = LBA, no checks: %d (%s)", name,
		     r2, r2 ? nvmeta_last_error() : "success");
	spec_same(name, "road read, seed = LBA, no checks", s, nlb, xd, xm, sd, m);

	FACT("seed %s, metadata at +%zu: LBA %llu, tuples' ref tags from %llu, seed %llu, checks 0x%x: write %d%s%s; write source after: %s; stored (passthrough): %s; road read, same seed and checks: %s; road read, seed=slba, no checks: %s",
	     name, moff, (unsigned long long)slba, (unsigned long long)tag0, (unsigned long long)seed,
	     prinfo, wret, wret ? " " : "", wret ? strerror(-wret) : "", after_src, st, rd_seed,
	     rd_slba);
	free(d);
	free(mem);
	free(src);
	free(pd);
	free(pm);
	free(sd);
	free(sm);
	free(xm);
	free(rm);
}

/* Ten cases, every one asserted in full (seed_case): the write's result,
 * what the device stored, both reads and the write's source. */
Test(rw, seed_and_reference_tags, .timeout = 120)
{
	const uint8_t ref = NVMETA_PRCHK_REF, all = prchk_all();
	uint64_t s = SLBA + 300;
	struct spec sp;

	need_road();
	if (!has_pi)
		cr_skip_test("no PI on %s: no reference tags", where());
	if (pf.pi_type == 3)
		cr_skip_test("type 3: the reference tag is the application's");
	spec_of_preset(&sp);
	cr_assert(sp.lba == bi->lba_size && sp.ms == bi->ms,
		  "preset %u+%u, block device %u+%u", sp.lba, sp.ms, bi->lba_size, bi->ms);
	seed_case(&sp, "=slba, tags=LBA", s, s, s, all, 0);
	seed_case(&sp, "=0, tags=LBA", s + 8, s + 8, 0, all, 0);
	seed_case(&sp, "=0, tags from 0", s + 16, 0, 0, all, 0);
	/* Misaligned: bounced, so the kernel remaps its own copy. */
	seed_case(&sp, "=0, tags from 0, bounced", s + 72, 0, 0, all, 1);
	seed_case(&sp, "=0, tags from 0, ref check only", s + 24, 0, 0, ref, 0);
	seed_case(&sp, "=0, tags from 0, no checks", s + 32, 0, 0, 0, 0);
	seed_case(&sp, "=777, tags from 777", s + 40, 777, 777, all, 0);
	seed_case(&sp, "=777, tags from 777, no checks", s + 48, 777, 777, 0, 0);
	seed_case(&sp, "=slba, tags from 5 (wrong), ref check", s + 56, 5, s + 56, ref, 0);
	seed_case(&sp, "=slba, tags from 5 (wrong), no checks", s + 64, 5, s + 64, 0, 0);
}

/*
 * Issue 16, item 5: nvmeta_reap() decoded a road command's completion
 * (the bytes moved) as an NVMe status: a good one-block 512-byte read
 * came back as -EIO, "NVMe status 0x200".  Queued with nvmeta_queue_rw(),
 * it is decoded by its road; a write of host PI and its read back.
 */
Test(rw, queued_commands_are_reaped_by_their_road)
{
	const uint32_t nlb = 1;
	uint64_t s = SLBA + 700;
	size_t dl = (size_t)nlb * bi->lba_size, ml = (size_t)nlb * bi->ms;
	unsigned char *d = alloc(dl), *m = alloc(ml), *rd = alloc(dl), *rm = alloc(ml);
	struct nvmeta_rw w = { .io = {
		.opcode = NVMETA_OP_WRITE, .slba = s, .nlb = nlb, .data = d, .data_len = dl,
		.meta = m, .meta_len = ml, .prinfo = prchk_all(), .apptag = APPTAG,
		.reftag = s }, .user_data = 71 };
	struct nvmeta_rw r = w;
	struct nvmeta_completion c[2];

	need_road();
	fill(d, m, s, nlb, 70);
	if (has_pi)
		gen_pi(d, m, nlb, s);
	r.io.opcode = NVMETA_OP_READ;
	r.io.data = rd;
	r.io.meta = rm;
	r.user_data = 72;
	cr_assert_eq(nvmeta_queue_rw(bd, &pring, &w), 0, "%s", nvmeta_last_error());
	cr_assert_eq(io_uring_submit(&pring), 1);
	cr_assert_eq(nvmeta_reap(&pring, 1, c, 2), 1, "%s", nvmeta_last_error());
	cr_assert_eq(c[0].user_data, 71);
	cr_assert_eq(c[0].ret, 0, "write: %d: %s; %s", c[0].ret, nvmeta_last_error(), where());
	cr_assert_eq(nvmeta_queue_rw(bd, &pring, &r), 0, "%s", nvmeta_last_error());
	cr_assert_eq(io_uring_submit(&pring), 1);
	cr_assert_eq(nvmeta_reap(&pring, 1, c, 2), 1, "%s", nvmeta_last_error());
	cr_assert_eq(c[0].user_data, 72);
	cr_assert_eq(c[0].ret, 0, "read: %d: %s; %s", c[0].ret, nvmeta_last_error(), where());
	cr_assert_eq(memcmp(rd, d, dl), 0, "data; %s", where());
	cr_assert_eq(memcmp(rm, m, ml), 0, "metadata; %s", where());
}

/* What the kernel puts into the metadata when the road carries none. */
Test(rw, a_write_without_metadata)
{
	const uint32_t nlb = 2;
	uint64_t s = SLBA + 400;
	unsigned char *d = alloc((size_t)nlb * bi->lba_size), *sd = alloc((size_t)nlb * bi->lba_size);
	unsigned char *sm = alloc((size_t)nlb * ng->ms);
	char wg[16] = "?", hex[100] = "";
	unsigned int i;
	int ret;
	FILE *f;
	char path[96];

	need_road();
	snprintf(path, sizeof(path), "/sys/block/%s/integrity/write_generate", bi->block_name);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(wg, sizeof(wg), f))
			wg[0] = 0;
		fclose(f);
		wg[strcspn(wg, "\n")] = 0;
	}
	fill(d, NULL, s, nlb, 50);
	ret = road(NVMETA_OP_WRITE, s, nlb, d, NULL, 0, 0);
	cr_assert_eq(ret, 0, "write without metadata: %s", nvmeta_last_error());
	stored(s, nlb, sd, sm);
	cr_assert_eq(memcmp(sd, d, (size_t)nlb * bi->lba_size), 0);
	for (i = 0; i < ng->ms && i < 32; i++)
		snprintf(hex + 3 * i, 4, "%02x ", sm[ng->ms + i]);
	if (has_pi) {
		struct nvmeta_pi_tags t = { .ref_tag = pf.pi_type == 3 ? 0 : (s & ref_mask()),
					    .checks = NVMETA_PI_CHECK_ALL };
		struct nvmeta_pi_report rep;

		ret = nvmeta_pi_verify(&pf, sd, sm, nlb, &t, &rep);
		FACT("write without metadata, write_generate %s: block 1's metadata %s; as PI with app tag 0, ref tag = LBA: %s (field %s)",
		     wg, hex, ret ? "does not verify" : "verifies",
		     nvmeta_pi_field_name((enum nvmeta_pi_field)rep.field));
	} else {
		FACT("write without metadata, write_generate %s (%s): block 1's metadata %s", wg,
		     bi->limits.integrity_format, hex);
	}
}

static void kmsg_drain(int fd, char *out, size_t len, unsigned int *lines)
{
	char rec[1024];
	size_t used = strlen(out);
	ssize_t n;

	for (;;) {
		char *msg;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		(*lines)++;
		if (used + strlen(msg) + 4 < len)
			used += (size_t)snprintf(out + used, len - used, "%s | ", msg);
	}
}

Test(rw, an_integrity_failure, .timeout = 300)
{
	const uint32_t nlb = 8;
	uint64_t s = SLBA + 500;
	size_t dlen = (size_t)nlb * bi->lba_size, mlen = (size_t)nlb * bi->ms;
	unsigned char *d = alloc(dlen), *m = alloc(mlen);
	struct nvmeta_pi_injection inj = { .block = 3, .field = NVMETA_PI_FIELD_GUARD };
	struct nvmeta_io io;
	long long o0[NOWN], o1[NOWN];
	unsigned int lines = 0;
	static char log[3000];
	char retries[32] = "?";
	double t0, t1;
	int kfd, ret, ret2, ret3;
	FILE *f;

	need_road();
	if (!has_pi)
		cr_skip_test("no PI on %s: nothing to check", where());
	fill(d, m, s, nlb, 60);
	gen_pi(d, m, nlb, s);
	cr_assert_eq(nvmeta_pi_inject(&pf, d, m, nlb, &inj), 0, "%s", nvmeta_last_error());
	io = (struct nvmeta_io){ .opcode = NVMETA_OP_WRITE, .slba = s, .nlb = nlb, .data = d,
				 .data_len = dlen, .meta = m, .meta_len = mlen };
	cr_assert_eq(nvmeta_io_sync(dev, &pring, &io, NULL), 0, "passthrough write without PRCHK: %s",
		     nvmeta_last_error());
	f = fopen("/sys/module/nvme_core/parameters/max_retries", "r");
	if (f) {
		if (fgets(retries, sizeof(retries), f))
			retries[strcspn(retries, "\n")] = 0;
		fclose(f);
	}
	own_probes(true);
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kfd >= 0)
		lseek(kfd, 0, SEEK_END);
	memset(m, 0, mlen);
	own_sample(o0);
	t0 = now_ms();
	ret = road(NVMETA_OP_READ, s, nlb, d, m, NVMETA_PRCHK_GUARD, s);
	t1 = now_ms();
	own_sample(o1);
	if (kfd >= 0) {
		usleep(100000);
		kmsg_drain(kfd, log, sizeof(log), &lines);
		close(kfd);
	}
	FACT("read with guard check of a stored bad guard (block 3 of %u at LBA %llu): %d (%s) after %.1f ms; nvme_complete_rq hits %lld (nvme_core max_retries %s); kernel log %u lines: %s",
	     nlb, (unsigned long long)s, ret, ret ? strerror(-ret) : "success", t1 - t0,
	     o0[2] < 0 ? -1 : o1[2] - o0[2], retries, lines, lines ? log : "(none)");
	cr_assert_eq(ret, -EILSEQ, "read with the guard check: %d %s; %s", ret,
		     ret ? nvmeta_last_error() : "success", where());

	memset(m, 0, mlen);
	own_sample(o0);
	ret2 = road(NVMETA_OP_READ, s, nlb, d, m, 0, s);
	own_sample(o1);
	FACT("the same read without check flags: %d (%s), nvme_complete_rq hits %lld, the bad guard %s",
	     ret2, ret2 ? strerror(-ret2) : "success", o0[2] < 0 ? -1 : o1[2] - o0[2],
	     !ret2 ? "delivered to the caller" : "-");
	memset(m, 0, mlen);
	ret3 = road(NVMETA_OP_READ, s, 3, d, m, NVMETA_PRCHK_GUARD, s);
	FACT("the good blocks before it with the guard check: %d (%s)", ret3,
	     ret3 ? strerror(-ret3) : "success");
	own_probes(false);
	cr_assert_eq(ret3, 0, "the three good blocks: %s", nvmeta_last_error());
}

/* ---------------------------------------------- FS_IOC_GETLBMD_CAP */

Test(rw, lbmd_against_identify)
{
	const struct nvmeta_lbmd *l = nvmeta_bdev_lbmd(bd);
	bool want = NVMETA_KERNEL_AT_LEAST(&bi->kernel, 6, 17);

	FACT("%s: FS_IOC_GETLBMD_CAP %s: flags 0x%x interval %u size %u opaque %u@%u pi %u@%u guard_type %u app %u ref %u storage %u; note '%s'; identify: %u+%u pi_type %u guard %u pi_size %u pi %s; bdev info: ms %u pi_type %u guard %u pi_size %u pi %s",
	     where(), l->known ? "known" : "unknown", l->flags, l->interval, l->size,
	     l->opaque_size, l->opaque_offset, l->pi_size, l->pi_offset, l->guard_type,
	     l->app_tag_size, l->ref_tag_size, l->storage_tag_size, l->note, ng->lba_size, ng->ms,
	     ng->pi_type, ng->guard_bits, ng->pi_size, ng->pi_first ? "first" : "last", bi->ms,
	     bi->pi_type, bi->guard_bits, bi->pi_size, bi->pi_first ? "first" : "last");
	if (!want) {
		cr_assert_not(l->known, "Linux %s answered FS_IOC_GETLBMD_CAP", bi->kernel.release);
		cr_assert(l->note[0], "no note says why LBMD is unknown");
		return;
	}
	cr_assert(l->known, "Linux %s: %s", bi->kernel.release, l->note);
	if (ng->extended_lba || !ng->ms) {
		/* Interleaved metadata is not the block layer's to show. */
		cr_assert_eq(l->size, 0, "%s: LBMD size %u",
			     ng->ms ? "extended LBA" : "no metadata", l->size);
		return;
	}
	cr_assert_eq(l->size, ng->ms, "LBMD size %u, identify ms %u", l->size, ng->ms);
	cr_assert_eq(l->interval, ng->lba_size, "LBMD interval %u, identify %u", l->interval,
		     ng->lba_size);
	cr_assert_eq(bi->ms, ng->ms);
	/* Linux checks type 2 as type 1 (one integrity profile for both,
	 * T10-DIF-TYPE1-CRC or EXT-DIF-TYPE1-CRC64), so the block device
	 * says 1 where identify says 2. */
	cr_assert_eq(bi->pi_type, ng->pi_type == 2 ? 1 : ng->pi_type,
		     "bdev pi_type %u, identify %u", bi->pi_type, ng->pi_type);
	if (!ng->pi_type)
		return;
	cr_assert_eq(l->pi_size, ng->pi_size, "LBMD pi_size %u, identify %u", l->pi_size, ng->pi_size);
	cr_assert_eq(l->pi_offset, ng->pi_first ? 0 : ng->ms - ng->pi_size, "LBMD pi_offset %u",
		     l->pi_offset);
	cr_assert_eq(l->guard_type, ng->guard_bits == 64 ? 4 : 2, "LBMD guard_type %u, guard %u bits",
		     l->guard_type, ng->guard_bits);
	cr_assert_eq(bi->guard_bits, ng->guard_bits);
	cr_assert_eq(bi->pi_size, ng->pi_size);
	/* Where the tuple sits; with ms == pi_size first and last are one
	 * place, and identify's DPS bit 3 may say either. */
	cr_assert_eq(bi->pi_first ? 0 : bi->ms - bi->pi_size, ng->pi_first ? 0 : ng->ms - ng->pi_size,
		     "bdev info puts the PI %s, identify %s, in %u bytes of metadata",
		     bi->pi_first ? "first" : "last", ng->pi_first ? "first" : "last", ng->ms);
}

/* ------------------------------------------- the kernel's length check */

/* A hand-made READ of 8 blocks whose attribute declares @len bytes of
 * metadata, in a buffer with room to spare and a pattern after @len. */
static int short_attr_read(uint32_t len, unsigned int *moved)
{
	const uint32_t nlb = 8;
	unsigned char *d = alloc((size_t)nlb * bi->lba_size), *m = alloc(4096);
	struct nvmeta_attr_pi attr = { .len = len };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	unsigned int i;
	int res;

	memset(m, 0x5a, 4096);
	attr.addr = (uintptr_t)m;
	sqe = io_uring_get_sqe(&rring);
	io_uring_prep_read(sqe, nvmeta_bdev_fd(bd), d, nlb * bi->lba_size, SLBA * bi->lba_size);
	sqe->addr3 = (uintptr_t)&attr;
	sqe->__pad2[0] = 1;	/* IORING_RW_ATTR_FLAG_PI */
	cr_assert_eq(io_uring_submit(&rring), 1);
	cr_assert_eq(io_uring_wait_cqe(&rring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(&rring, cqe);
	for (i = len < nlb * bi->ms ? len : nlb * bi->ms, *moved = 0; i < 4096; i++)
		*moved += m[i] != 0x5a;
	free(d);
	free(m);
	return res;
}

Test(rw, the_kernel_checks_the_metadata_length)
{
	uint32_t need = 8 * bi->ms;
	unsigned int moved;
	int res;

	need_road();
	res = short_attr_read(need - bi->ms, &moved);
	FACT("READ of 8 blocks, attribute len %u of %u needed: %d (%s), %u bytes past the declared length changed; %s",
	     need - bi->ms, need, res, res < 0 ? strerror(-res) : "bytes", moved, where());
	cr_assert_lt(res, 0, "the kernel took a short metadata buffer on the attribute road");
	cr_assert_eq(moved, 0, "%u bytes past a refused short buffer changed", moved);
	res = short_attr_read(need + bi->ms, &moved);
	FACT("READ of 8 blocks, attribute len %u (one block's more than needed): %d (%s), %u bytes past the needed length changed",
	     need + bi->ms, res, res < 0 ? strerror(-res) : "bytes", moved);
}

/* ------------------------------------------------ vectored data (0.6) */

#define VEC_N 4
#define VEC_GAP 4096		/* poisoned bytes after each read piece */

/* Where the data of @nlb blocks is cut: a quarter each, moved inside
 * blocks by odd multiples of @g where @g is smaller than a block. */
static void vec_bounds(size_t len, size_t g, size_t *at)
{
	unsigned int k;

	at[0] = 0;
	for (k = 1; k < VEC_N; k++)
		at[k] = k * len / VEC_N + (g < bi->lba_size ? g * (2 * k - 1) : 0);
	at[VEC_N] = len;
}

/* Each piece in an allocation of its own, followed by VEC_GAP poisoned
 * bytes; for a write, the flat data's bytes copied in. */
static void vec_pieces(const size_t *at, const unsigned char *flat, struct iovec *iov)
{
	unsigned int k;

	for (k = 0; k < VEC_N; k++) {
		size_t n = at[k + 1] - at[k];
		unsigned char *p = alloc(n + VEC_GAP);

		memset(p, 0x5a, n + VEC_GAP);
		if (flat)
			memcpy(p, flat + at[k], n);
		iov[k] = (struct iovec){ p, n };
	}
}

/* The write's pieces of @flat, cut inside blocks at the DMA alignment
 * where the library predicts the kernel pins that, else at block edges.
 * Returns the unit of the cut. */
static size_t vec_write_pieces(struct nvmeta_rw *rw, const unsigned char *flat, size_t len,
			       size_t *at, struct iovec *iov)
{
	struct nvmeta_prediction p;
	size_t g = bi->limits.dma_alignment + 1;

	vec_bounds(len, g, at);
	vec_pieces(at, flat, iov);
	rw->io.data = iov;
	cr_assert_eq(nvmeta_predict_rw(bd, rw, &p, NULL), 0, "%s", nvmeta_last_error());
	if (p.path == NVMETA_PATH_PIN)
		return g;
	FACT("vectored cut at %zu bytes: %s; cut at blocks; %s", g, p.reason, where());
	g = bi->lba_size;
	vec_bounds(len, g, at);
	vec_pieces(at, flat, iov);
	return g;
}

/*
 * WRITEV and READV on the road with the PI attribute, the data in four
 * iovecs of their own cut inside blocks where the kernel takes it; host
 * PI generated over the iovecs on the write and verified over them on
 * the read, the device checking both.  What the device stored (seen
 * through passthrough) and what the read brought back are the flat
 * data's bytes, and nothing after a read piece changed.
 */
Test(rw, vectored_data_with_host_pi, .timeout = 120)
{
	const uint32_t nlb = 8;
	const uint64_t s = SLBA + 800;
	size_t len = (size_t)nlb * bi->lba_size, mlen = (size_t)nlb * bi->ms, at[VEC_N + 1], g, i;
	unsigned char *flat = alloc(len), *m = alloc(mlen), *want = alloc(mlen), *mr = alloc(mlen);
	unsigned char *sd = alloc(len), *sm = alloc(mlen);
	struct iovec wv[VEC_N], rv[VEC_N];
	struct nvmeta_rw w = { .io = {
		.opcode = NVMETA_OP_WRITE, .slba = s, .nlb = nlb, .flags = NVMETA_IO_VEC,
		.data_len = VEC_N, .meta = m, .meta_len = mlen, .prinfo = prchk_all(),
		.apptag = APPTAG, .reftag = s } }, r;
	unsigned int k;

	need_road();
	fill(flat, m, s, nlb, 11);
	memcpy(want, m, mlen);
	if (has_pi) {
		w.io.flags |= NVMETA_IO_PI_GENERATE;
		gen_pi(flat, want, nlb, s);
	}
	g = vec_write_pieces(&w, flat, len, at, wv);
	cr_assert_eq(nvmeta_rw_sync(bd, &rring, &w), 0, "WRITEV: %s; %s", nvmeta_last_error(),
		     where());
	cr_assert_eq(memcmp(m, want, mlen), 0, "the PI generated over the iovecs differs from a flat buffer's");
	stored(s, nlb, sd, sm);
	cr_assert_eq(memcmp(sd, flat, len), 0, "the device holds other data; %s", where());
	cr_assert_eq(memcmp(sm, want, mlen), 0, "the device holds other metadata; %s", where());
	r = w;
	r.io.opcode = NVMETA_OP_READ;
	r.io.flags = NVMETA_IO_VEC | (has_pi ? NVMETA_IO_PI_VERIFY : 0);
	r.io.meta = mr;
	memset(mr, 0x5a, mlen);
	vec_pieces(at, NULL, rv);
	r.io.data = rv;
	cr_assert_eq(nvmeta_rw_sync(bd, &rring, &r), 0, "READV: %s; %s", nvmeta_last_error(), where());
	for (k = 0; k < VEC_N; k++) {
		const unsigned char *p = rv[k].iov_base;

		cr_assert_eq(memcmp(p, flat + at[k], rv[k].iov_len), 0, "read piece %u differs", k);
		for (i = 0; i < VEC_GAP; i++)
			cr_assert_eq(p[rv[k].iov_len + i], 0x5a, "byte %zu after read piece %u changed", i, k);
	}
	cr_assert_eq(memcmp(mr, want, mlen), 0, "the metadata read back differs");
	FACT("READV/WRITEV with the PI attribute: %u iovecs cut at %zu-byte units (%zu %zu %zu), host PI %s, byte-exact; %s",
	     VEC_N, g, at[1], at[2], at[3], has_pi ? "generated and verified" : "none", where());
}

/*
 * The kernel's own O_DIRECT rule for a vectored read, against the
 * library's prediction: a hand-made READV with the PI attribute (past the
 * library's checks), two iovecs of one block plus and minus the DMA
 * alignment.  Before 6.18 blkdev_dio_invalid() wants every iovec whole
 * blocks (EINVAL); from 6.18 a multiple of the DMA alignment will do.
 * nvmeta_predict_rw() must say which.
 */
Test(rw, the_kernel_s_iovec_rule_is_the_predicted_one, .timeout = 60)
{
	const size_t lba = bi->lba_size, g = bi->limits.dma_alignment + 1;
	unsigned char *d = alloc(4 * lba), *m = alloc(2 * bi->ms);
	struct iovec iov[2] = { { d, lba + g }, { d + 2 * lba, lba - g } };
	struct nvmeta_rw rw = { .io = { .opcode = NVMETA_OP_READ, .slba = SLBA + 820, .nlb = 2,
					.flags = NVMETA_IO_VEC, .data = iov, .data_len = 2,
					.meta = m, .meta_len = 2 * bi->ms } };
	struct nvmeta_attr_pi attr = { .len = 2 * bi->ms, .addr = (uintptr_t)m };
	struct nvmeta_prediction p;
	struct io_uring_sqe *sqe;
	int res;

	need_road();
	if (g >= lba)
		cr_skip_test("dma_alignment 0x%x: no cut inside a %zu-byte block to try; %s",
			     bi->limits.dma_alignment, lba, where());
	cr_assert_eq(nvmeta_predict_rw(bd, &rw, &p, NULL), 0, "%s", nvmeta_last_error());
	sqe = io_uring_get_sqe(&rring);
	io_uring_prep_readv(sqe, nvmeta_bdev_fd(bd), iov, 2, (SLBA + 820) * lba);
	res = submit_with_attr(sqe, &attr);
	FACT("READV with the PI attribute, iovecs of %zu and %zu bytes (%zu-byte blocks): %d (%s); predicted %s (%s); %s",
	     lba + g, lba - g, lba, res, res < 0 ? strerror(-res) : "bytes", nvmeta_path_name(p.path),
	     p.reason, where());
	if (p.path == NVMETA_PATH_PIN)
		cr_assert_eq(res, (int)(2 * lba), "predicted a pin, the kernel returned %d", res);
	else
		cr_assert_eq(res, p.err, "predicted %d, the kernel returned %d", p.err, res);
}
