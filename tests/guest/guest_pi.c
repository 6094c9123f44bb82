// SPDX-License-Identifier: MIT
/*
 * In the lab: protection information judged by others than the library
 * that made it.  The device checks what nvmeta generated (PRCHK) and names
 * each corrupted field with its end-to-end status; the kernel, through the
 * block device /dev/nvmeXnY and its integrity profile, reads what nvmeta
 * wrote, writes what nvmeta verifies, and refuses a block with a bad guard.
 * Namespaces without PI skip every case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "guest_env.h"
#include "nvmeta.h"
#include "nvmeta/pi.h"

/* Other guest tests write below LBA 300 and nvmeta-ring the last 2048
 * blocks; every preset has more than 16000 blocks. */
#define SLBA 9000
#define NLB 8

static struct nvmeta_dev *dev;
static const struct nvmeta_dev_info *info;
static struct io_uring ring;
static struct nvmeta_pi_format pf;
static unsigned char *data, *meta, *wdata, *wmeta;
static uint32_t per_lba;
static bool separate;

static void *alloc(size_t len)
{
	void *p = NULL;

	cr_assert_eq(posix_memalign(&p, 4096, len), 0);
	memset(p, 0, len);
	return p;
}

static void setup(void)
{
	info = guest_open(&dev, &ring, 8);
	per_lba = info->lba_size + (info->extended_lba ? info->ms : 0);
	separate = info->ms && !info->extended_lba;
	data = alloc((size_t)NLB * per_lba);
	wdata = alloc((size_t)NLB * per_lba);
	meta = alloc((size_t)NLB * (info->ms ? info->ms : 8));
	wmeta = alloc((size_t)NLB * (info->ms ? info->ms : 8));
}

static void teardown(void)
{
	free(data);
	free(wdata);
	free(meta);
	free(wmeta);
	guest_close(dev, &ring);
}

TestSuite(pi, .init = setup, .fini = teardown);

/* Skip on a namespace without PI; fail if identify and the preset differ. */
static void need_pi(void)
{
	const char *want = getenv("NVMETA_EXPECT_PI");

	if (want)
		cr_assert_eq(info->pi_type, strtol(want, NULL, 0),
			     "identify says PI type %u, preset %s says %s", info->pi_type,
			     getenv("NVMETA_PRESET"), want);
	if (!info->pi_type)
		cr_skip_test("the namespace has no protection information (%u+%u, type 0)",
			     info->lba_size, info->ms);
	cr_assert_eq(nvmeta_pi_format_of(info, &pf), 0, "%s", nvmeta_last_error());
}

/* The reference tag a command starting at @slba carries: type 1 must use
 * the LBA's low bits; type 2 may use any (a value apart from the LBA
 * shows the device counts from the command's, not from the LBA); type 3
 * keeps one value for every block. */
static uint64_t ref_for(uint64_t slba)
{
	uint64_t mask = pf.guard_bits == 16 ? 0xffffffffull : 0xffffffffffffull;

	switch (pf.pi_type) {
	case 1:
		return slba & mask;
	case 2:
		return (slba + 0x10000) & mask;
	default:
		return 0x3333;
	}
}

/* Data (and on an extended format the interleaved metadata) and the
 * separate metadata: bytes that depend on the LBA and the offset, so
 * the metadata before a PI that sits last is under the guard too. */
static void fill(uint64_t slba, unsigned int run)
{
	size_t i, dlen = (size_t)NLB * per_lba, mlen = (size_t)NLB * info->ms;

	for (i = 0; i < dlen; i++)
		data[i] = (unsigned char)((slba + i / per_lba) * 131 + (i % per_lba) * 7 + run * 29 + 1);
	for (i = 0; separate && i < mlen; i++)
		meta[i] = (unsigned char)(0xa5 ^ (i * 13 + run));
}

static struct nvmeta_io rw(uint8_t op, uint64_t slba)
{
	struct nvmeta_io io = {
		.opcode = op, .slba = slba, .nlb = NLB,
		.data = data, .data_len = NLB * per_lba,
		.apptag = 0x5a5a, .appmask = 0xffff, .reftag = ref_for(slba),
	};

	if (separate) {
		io.meta = meta;
		io.meta_len = NLB * info->ms;
	}
	return io;
}

static struct nvmeta_pi_tags tags_of(const struct nvmeta_io *io)
{
	return (struct nvmeta_pi_tags){ .ref_tag = io->reftag, .app_tag = io->apptag,
					.app_mask = io->appmask,
					.checks = NVMETA_PI_CHECK_ALL };
}

static unsigned char *meta_of(uint32_t block)
{
	if (info->extended_lba)
		return data + (size_t)block * per_lba + info->lba_size;
	return meta + (size_t)block * info->ms;
}

static size_t pi_offset(void)
{
	return pf.pi_first ? 0 : pf.ms - pf.pi_size;
}

/* The PI tuple of @block as hex, for failure messages. */
static const char *tuple_hex(uint32_t block)
{
	static char s[3 * 16 + 1];
	const unsigned char *t = meta_of(block) + pi_offset();
	unsigned int i;

	for (i = 0; i < pf.pi_size; i++)
		snprintf(s + 3 * i, 4, "%02x ", t[i]);
	return s;
}

static uint64_t be(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static uint64_t tuple_ref(uint32_t block)
{
	const unsigned char *t = meta_of(block) + pi_offset();

	return pf.guard_bits == 16 ? be(t + 4, 4) : be(t + 10, 6);
}

static void save(void)
{
	memcpy(wdata, data, (size_t)NLB * per_lba);
	if (separate)
		memcpy(wmeta, meta, (size_t)NLB * info->ms);
}

static void poison(void)
{
	memset(data, 0xee, (size_t)NLB * per_lba);
	if (separate)
		memset(meta, 0xee, (size_t)NLB * info->ms);
}

static void same_as_written(void)
{
	size_t i;

	for (i = 0; i < (size_t)NLB * per_lba; i++)
		cr_assert_eq(data[i], wdata[i], "data byte %zu (block %zu): read 0x%02x, wrote 0x%02x",
			     i, i / per_lba, data[i], wdata[i]);
	for (i = 0; separate && i < (size_t)NLB * info->ms; i++)
		cr_assert_eq(meta[i], wmeta[i], "metadata byte %zu: read 0x%02x, wrote 0x%02x", i,
			     meta[i], wmeta[i]);
}

static const char *judge_words(void)
{
	static char s[160];

	snprintf(s, sizeof(s), "preset %s, QEMU %s, kernel %s, %u+%u%s type %u %u-bit guard PI %s",
		 getenv("NVMETA_PRESET") ? getenv("NVMETA_PRESET") : "?",
		 getenv("NVMETA_LAB_QEMU") ? getenv("NVMETA_LAB_QEMU") : "?",
		 info->kernel.release, info->lba_size, info->ms,
		 info->extended_lba ? " extended" : "", pf.pi_type, pf.guard_bits,
		 pf.pi_first ? "first" : "last");
	return s;
}

#define ALL_PRCHK (NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP | NVMETA_PRCHK_REF)

/* Every PRCHK bit the format allows: type 3's reference tag belongs to
 * the application, and a command asking the controller to check it is
 * refused with Invalid Protection Information (QEMU hw/nvme/dif.c
 * nvme_check_prinfo(), after the NVM Command Set's rule for type 3). */
static uint8_t prchk_all(void)
{
	return pf.pi_type == 3 ? NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP : ALL_PRCHK;
}

Test(pi, identify_matches_the_preset)
{
	const char *pif = getenv("NVMETA_EXPECT_PIF"), *pil = getenv("NVMETA_EXPECT_PIL");

	need_pi();
	if (pif)
		cr_assert_eq(pf.guard_bits, strtol(pif, NULL, 0) == 2 ? 64 : 16,
			     "guard %u bits, preset pif %s", pf.guard_bits, pif);
	if (pil)
		cr_assert_eq(pf.pi_first, strtol(pil, NULL, 0) == 1, "PI %s, preset pil %s",
			     pf.pi_first ? "first" : "last", pil);
	cr_log_info("%s", judge_words());
}

/* The tuple nvmeta generated, taken apart here byte by byte: the guard
 * over the block's data and the metadata before a PI that sits last,
 * then the app tag, then the reference tag, big-endian. */
Test(pi, generated_tuples_sit_where_the_spec_puts_them)
{
	struct nvmeta_io io;
	struct nvmeta_pi_tags t;
	uint32_t b;

	need_pi();
	fill(SLBA, 1);
	io = rw(NVMETA_OP_WRITE, SLBA);
	t = tags_of(&io);
	cr_assert_eq(nvmeta_pi_generate(&pf, data, separate ? meta : NULL, NLB, &t), 0, "%s",
		     nvmeta_last_error());
	for (b = 0; b < NLB; b++) {
		const unsigned char *d = data + (size_t)b * per_lba, *m = meta_of(b);
		const unsigned char *tp = m + pi_offset();
		size_t pre = pi_offset();
		uint64_t guard, ref = pf.pi_type == 3 ? io.reftag : io.reftag + b;
		unsigned int gb = pf.guard_bits / 8;

		if (pf.guard_bits == 16)
			guard = nvmeta_crc16_t10dif(m, pre, nvmeta_crc16_t10dif(d, info->lba_size, 0));
		else
			guard = nvmeta_crc64_nvme(m, pre, nvmeta_crc64_nvme(d, info->lba_size, 0));
		cr_assert_eq(be(tp, gb), guard, "block %u guard: tuple %s", b, tuple_hex(b));
		cr_assert_eq(be(tp + gb, 2), io.apptag, "block %u app tag: tuple %s", b, tuple_hex(b));
		cr_assert_eq(tuple_ref(b), ref, "block %u ref tag: tuple %s", b, tuple_hex(b));
	}
}

/* The device as judge: it checks every field of the host's PI on the
 * write, and again on the read; the host verifies what came back. */
Test(pi, device_accepts_host_generated_pi)
{
	struct nvmeta_status st;
	struct nvmeta_io io;
	int ret;

	need_pi();
	fill(SLBA, 2);
	io = rw(NVMETA_OP_WRITE, SLBA);
	io.flags = NVMETA_IO_PI_GENERATE;
	io.prinfo = prchk_all();
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, 0, "write with host PI and PRCHK 0x%x: %d %s (status 0x%x %s); block 0 tuple %s; %s",
		     io.prinfo, ret, nvmeta_last_error(), st.status, nvmeta_status_name(&st),
		     tuple_hex(0), judge_words());
	save();
	poison();
	io.opcode = NVMETA_OP_READ;
	io.flags = NVMETA_IO_PI_VERIFY;
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, 0, "read with PRCHK and host verification: %d %s (status 0x%x %s)", ret,
		     nvmeta_last_error(), st.status, nvmeta_status_name(&st));
	same_as_written();
	cr_log_info("device accepted %u blocks of host PI (PRCHK guard|app%s) on write and read; %s",
		    NLB, pf.pi_type == 3 ? "; type 3: no ref" : "|ref",
		    judge_words());
}

struct corruption {
	enum nvmeta_pi_field field;
	uint8_t prchk;
	uint16_t status;
	const char *name;
};

static const struct corruption corruptions[] = {
	{ NVMETA_PI_FIELD_GUARD, NVMETA_PRCHK_GUARD, 0x282, "End-to-end Guard Check Error" },
	{ NVMETA_PI_FIELD_APP, NVMETA_PRCHK_APP, 0x283, "End-to-end Application Tag Check Error" },
	{ NVMETA_PI_FIELD_REF, NVMETA_PRCHK_REF, 0x284, "End-to-end Reference Tag Check Error" },
};

/* Host PI for NLB blocks at @slba with @field of block 3 corrupted;
 * @lba_ref: the LBA as reference tag (what the kernel checks), not
 * ref_for()'s. */
static struct nvmeta_io corrupted_write(uint64_t slba, enum nvmeta_pi_field field, unsigned int run,
					bool lba_ref)
{
	struct nvmeta_pi_injection inj = { .block = 3, .field = field };
	struct nvmeta_io io = rw(NVMETA_OP_WRITE, slba);
	struct nvmeta_pi_tags t;

	if (lba_ref && pf.pi_type != 3)
		io.reftag = slba;
	t = tags_of(&io);
	fill(slba, run);
	cr_assert_eq(nvmeta_pi_generate(&pf, data, separate ? meta : NULL, NLB, &t), 0, "%s",
		     nvmeta_last_error());
	cr_assert_eq(nvmeta_pi_inject(&pf, data, separate ? meta : NULL, NLB, &inj), 0, "%s",
		     nvmeta_last_error());
	return io;
}

/* The device as judge of each field: the matching PRCHK bit makes it
 * refuse the write with the matching status; without that bit it stores
 * the block (it checks only what it is asked to). */
Test(pi, device_rejects_each_corrupted_field_by_name)
{
	struct nvmeta_status st;
	unsigned int i;
	int ret;

	need_pi();
	for (i = 0; i < 3; i++) {
		const struct corruption *c = &corruptions[i];
		struct nvmeta_io io = corrupted_write(SLBA + 16, c->field, 3 + i, false);

		io.prinfo = c->prchk;
		ret = nvmeta_io_sync(dev, &ring, &io, &st);
		if (pf.pi_type == 3 && c->field == NVMETA_PI_FIELD_REF) {
			/* Type 3: the reference tag is the application's;
			 * the controller refuses to check it, and stores a
			 * changed one. */
			cr_assert_eq(ret, -EIO, "type 3, PRCHK ref: got %d %s, want Invalid Protection Information",
				     ret, ret ? nvmeta_last_error() : "success");
			cr_assert_eq(st.status & 0x7ff, 0x181, "type 3, PRCHK ref: status 0x%x %s",
				     st.status, nvmeta_status_name(&st));
			io.prinfo = prchk_all();
			ret = nvmeta_io_sync(dev, &ring, &io, &st);
			cr_assert_eq(ret, 0, "type 3, reference tag changed, PRCHK 0x%x: %d %s",
				     io.prinfo, ret, nvmeta_last_error());
			cr_log_info("type 3: PRCHK ref refused with 0x181 Invalid Protection Information; a changed reference tag is stored unchecked");
			continue;
		}
		cr_assert_eq(ret, -EIO, "%s corrupted in block 3, PRCHK 0x%x: got %d %s (status 0x%x %s), want status 0x%x; tuple %s; %s",
			     nvmeta_pi_field_name(c->field), io.prinfo, ret,
			     ret ? nvmeta_last_error() : "success", st.status,
			     nvmeta_status_name(&st), c->status, tuple_hex(3), judge_words());
		cr_assert_eq(st.status, c->status, "%s: status 0x%x %s, want 0x%x",
			     nvmeta_pi_field_name(c->field), st.status, nvmeta_status_name(&st),
			     c->status);
		cr_assert_str_eq(nvmeta_status_name(&st), c->name);
		cr_log_info("%s corrupted: device refused with 0x%x \"%s\"",
			    nvmeta_pi_field_name(c->field), st.status, nvmeta_status_name(&st));

		io.prinfo = prchk_all() & ~c->prchk;
		ret = nvmeta_io_sync(dev, &ring, &io, &st);
		cr_assert_eq(ret, 0, "%s corrupted, PRCHK 0x%x without its bit: got %d %s (status 0x%x %s)",
			     nvmeta_pi_field_name(c->field), io.prinfo, ret, nvmeta_last_error(),
			     st.status, nvmeta_status_name(&st));
	}
}

/* What the device stored unchecked, the host's verification finds, and
 * the device's own check on the read names. */
Test(pi, read_of_a_stored_bad_guard_fails_on_host_and_device)
{
	struct nvmeta_status st;
	struct nvmeta_io io;
	char want[64];
	int ret;

	need_pi();
	io = corrupted_write(SLBA + 32, NVMETA_PI_FIELD_GUARD, 7, false);
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), 0, "write without PRCHK: %s",
		     nvmeta_last_error());
	poison();
	io.opcode = NVMETA_OP_READ;
	io.flags = NVMETA_IO_PI_VERIFY;
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, -EILSEQ, "host verification: %d %s", ret, nvmeta_last_error());
	snprintf(want, sizeof(want), "LBA %d: guard", SLBA + 32 + 3);
	cr_assert(strstr(nvmeta_last_error(), want), "'%s' lacks '%s'", nvmeta_last_error(), want);
	io.flags = 0;
	io.prinfo = NVMETA_PRCHK_GUARD;
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, -EIO, "read with PRCHK guard: %d %s", ret, nvmeta_last_error());
	cr_assert_eq(st.status, 0x282, "status 0x%x %s", st.status, nvmeta_status_name(&st));
}

/* ---------------------------------------------------------------- kernel */

static int sysfs_str(const char *attr, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/%s", info->block_name, attr);
	f = fopen(path, "r");
	if (!f) {
		snprintf(buf, len, "(no %s)", attr);
		return -1;
	}
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* How the kernel judges this namespace's PI through its block device. */
enum kjudge {
	KJ_PROFILE,	/* the block layer's t10-pi profile */
	KJ_PRACT,	/* no profile: the driver asks the device (PRACT) */
};

/* The block device, opened O_DIRECT, or a skip naming why not. */
static int kernel_bdev(int flags, enum kjudge *kj)
{
	char fmt[64], size[32], rv[32], wg[32], ts[32], pib[32], path[64];
	int fd;

	if (!info->block_name[0])
		cr_skip_test("kernel %s made no block device for %s: %s", info->kernel.release,
			     info->generic_path, judge_words());
	sysfs_str("size", size, sizeof(size));
	sysfs_str("integrity/format", fmt, sizeof(fmt));
	sysfs_str("integrity/read_verify", rv, sizeof(rv));
	sysfs_str("integrity/write_generate", wg, sizeof(wg));
	sysfs_str("integrity/tag_size", ts, sizeof(ts));
	sysfs_str("integrity/protection_interval_bytes", pib, sizeof(pib));
	cr_log_info("%s: size %s sectors, integrity format %s, tag_size %s, interval %s, read_verify %s, write_generate %s",
		    info->block_name, size, fmt, ts, pib, rv, wg);
	if (strtoull(size, NULL, 10) == 0)
		cr_skip_test("kernel %s hides %s (capacity 0): it cannot carry this format's metadata through the block layer; %s",
			     info->kernel.release, info->block_name, judge_words());
	if (!strncmp(fmt, "T10-DIF-", 8) || !strncmp(fmt, "EXT-DIF-", 8)) {
		*kj = KJ_PROFILE;
		cr_assert(!strcmp(rv, "1") && !strcmp(wg, "1"),
			  "%s: read_verify %s write_generate %s: the kernel would not judge",
			  info->block_name, rv, wg);
	} else if (info->extended_lba && info->ms == info->pi_size) {
		*kj = KJ_PRACT;
		cr_log_info("%s: no integrity profile (%s) on extended LBA with PI-only metadata: the driver sets PRACT, so the device inserts and checks the PI for the kernel",
			    info->block_name, fmt);
	} else {
		cr_skip_test("kernel %s registered no PI profile for %s (integrity format %s) and does not treat its metadata as PI; %s",
			     info->kernel.release, info->block_name, fmt, judge_words());
	}
	snprintf(path, sizeof(path), "/dev/%s", info->block_name);
	fd = open(path, flags | O_DIRECT);
	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	return fd;
}

/* The data part of the NLB blocks in data[], packed. */
static unsigned char *data_only(unsigned char *out)
{
	uint32_t b;

	for (b = 0; b < NLB; b++)
		memcpy(out + (size_t)b * info->lba_size, data + (size_t)b * per_lba, info->lba_size);
	return out;
}

static void host_pi_write(uint64_t slba, unsigned int run)
{
	struct nvmeta_status st;
	struct nvmeta_io io;
	int ret;

	fill(slba, run);
	io = rw(NVMETA_OP_WRITE, slba);
	/* The kernel checks the LBA as reference tag on types 1 and 2. */
	if (pf.pi_type != 3)
		io.reftag = slba;
	io.flags = NVMETA_IO_PI_GENERATE;
	io.prinfo = prchk_all();
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, 0, "write with host PI: %d %s (status 0x%x %s)", ret, nvmeta_last_error(),
		     st.status, nvmeta_status_name(&st));
}

/* (i) What nvmeta wrote with host PI reads back through the block device. */
Test(pi, kernel_reads_what_nvmeta_wrote)
{
	size_t len = (size_t)NLB * info->lba_size;
	unsigned char *got, *want;
	enum kjudge kj;
	ssize_t n;
	int fd;

	need_pi();
	fd = kernel_bdev(O_RDONLY, &kj);
	host_pi_write(SLBA + 48, 11);
	got = alloc(len);
	want = data_only(alloc(len));
	n = pread(fd, got, len, (off_t)(SLBA + 48) * info->lba_size);
	cr_assert_eq(n, (ssize_t)len, "O_DIRECT read of %u blocks at LBA %d through %s: %zd (%s); block 0 tuple %s; %s",
		     NLB, SLBA + 48, info->block_name, n, n < 0 ? strerror(errno) : "short",
		     tuple_hex(0), judge_words());
	cr_assert_eq(memcmp(got, want, len), 0, "the block device read other data");
	cr_log_info("%s read %u blocks of nvmeta's host PI without an integrity error (%s)",
		    info->block_name, NLB, kj == KJ_PROFILE ? "kernel profile" : "PRACT");
	free(got);
	free(want);
	close(fd);
}

/* (ii) What the kernel wrote verifies in nvmeta: the kernel's reference
 * tag is the LBA in logical blocks (t10_pi_ref_tag(): the request's
 * position in units of the integrity interval, the logical block), its
 * app tag 0; type 3 leaves the reference tag to the owner. */
Test(pi, nvmeta_verifies_what_the_kernel_wrote)
{
	size_t len = (size_t)NLB * info->lba_size;
	uint64_t slba = SLBA + 64;
	struct nvmeta_status st;
	struct nvmeta_io io;
	unsigned char *src, *got;
	enum kjudge kj;
	ssize_t n;
	int fd, ret;

	need_pi();
	fd = kernel_bdev(O_WRONLY, &kj);
	fill(slba, 13);
	src = data_only(alloc(len));
	n = pwrite(fd, src, len, (off_t)slba * info->lba_size);
	cr_assert_eq(n, (ssize_t)len, "O_DIRECT write through %s: %zd (%s)", info->block_name, n,
		     n < 0 ? strerror(errno) : "short");
	close(fd);

	poison();
	io = rw(NVMETA_OP_READ, slba);
	io.apptag = 0;
	io.reftag = pf.pi_type == 3 ? 0 : slba;
	io.flags = NVMETA_IO_PI_VERIFY;
	io.pi_checks = NVMETA_PI_CHECK_GUARD | NVMETA_PI_CHECK_APP;
	io.prinfo = NVMETA_PRCHK_GUARD;
	if (pf.pi_type != 3) {
		io.pi_checks |= NVMETA_PI_CHECK_REF;
		io.prinfo |= NVMETA_PRCHK_REF;
	}
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, 0, "nvmeta read of the kernel's blocks at LBA %llu: %d %s (status 0x%x %s); block 0 tuple %s (LBA %llu, in 512-byte sectors %llu); %s",
		     (unsigned long long)slba, ret, nvmeta_last_error(), st.status,
		     nvmeta_status_name(&st), tuple_hex(0), (unsigned long long)slba,
		     (unsigned long long)slba * info->lba_size / 512, judge_words());
	got = data_only(alloc(len));
	cr_assert_eq(memcmp(got, src, len), 0, "nvmeta read other data");
	free(got);
	cr_log_info("nvmeta verified %u blocks the kernel wrote (%s): block 0 tuple %s, reference tag %llu for LBA %llu",
		    NLB, kj == KJ_PROFILE ? "kernel profile" : "PRACT, device-generated",
		    tuple_hex(0), (unsigned long long)tuple_ref(0), (unsigned long long)slba);
	free(src);
}

/* The kernel's own record of the read commands it sends: the nvme
 * driver's nvme_setup_cmd trace event prints each read's control word
 * (ctrl=0x..., CDW12 bits 31:16: PRACT 0x2000, PRCHK guard 0x1000, app
 * 0x800, ref 0x400).  Returns false when tracefs is not there. */
#define TRACING "/sys/kernel/tracing"

static bool trace_set(const char *file, const char *val)
{
	FILE *f = fopen(file, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(val, f) >= 0;
	return fclose(f) == 0 && ok;
}

static bool trace_start(void)
{
	if (access(TRACING "/events/nvme/nvme_setup_cmd/enable", W_OK) &&
	    system("mount -t tracefs nodev " TRACING " 2>/dev/null"))
		return false;
	return trace_set(TRACING "/trace", "") &&
	       trace_set(TRACING "/events/nvme/nvme_setup_cmd/enable", "1");
}

/* The control word of the last read of @slba the kernel sent, or -1. */
static long trace_read_ctrl(uint64_t slba)
{
	char line[512], want[64];
	long ctrl = -1;
	FILE *f;

	trace_set(TRACING "/events/nvme/nvme_setup_cmd/enable", "0");
	f = fopen(TRACING "/trace", "r");
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "nvme_cmd_read slba=%llu,", (unsigned long long)slba);
	while (fgets(line, sizeof(line), f)) {
		char *c = strstr(line, want) ? strstr(line, "ctrl=0x") : NULL;

		if (c)
			ctrl = strtol(c + 7, NULL, 16);
	}
	fclose(f);
	return ctrl;
}

/* (iii) A block nvmeta stored with a bad guard (no PRCHK, so the device
 * kept it) fails the block-device read; its neighbour does not. */
Test(pi, kernel_refuses_a_block_with_a_bad_guard)
{
	uint64_t slba = SLBA + 80;
	struct nvmeta_status st;
	struct nvmeta_io io;
	unsigned char *buf;
	enum kjudge kj;
	bool traced;
	long ctrl;
	ssize_t n;
	int fd, err;

	need_pi();
	fd = kernel_bdev(O_RDONLY, &kj);
	io = corrupted_write(slba, NVMETA_PI_FIELD_GUARD, 17, true);
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), 0, "write without PRCHK: %s",
		     nvmeta_last_error());
	buf = alloc(info->lba_size);
	n = pread(fd, buf, info->lba_size, (off_t)(slba + 2) * info->lba_size);
	cr_assert_eq(n, (ssize_t)info->lba_size, "the good block before: %zd (%s)", n,
		     n < 0 ? strerror(errno) : "short");
	traced = trace_start();
	n = pread(fd, buf, info->lba_size, (off_t)(slba + 3) * info->lba_size);
	err = errno;
	ctrl = traced ? trace_read_ctrl(slba + 3) : -1;
	if (n >= 0 && kj == KJ_PRACT && ctrl >= 0 && !(ctrl & 0x1000)) {
		/* Known kernel defect linux-pract-read-unchecked
		 * (tests/vm/known-defects.tsv): the driver asked the
		 * device to strip the PI without checking it. */
		cr_log_info("KERNEL-DEFECT linux-pract-read-unchecked: %s read the block with a bad guard: the kernel sent the read with ctrl=0x%lx (PRACT without PRCHK), so nothing checked the PI; %s",
			    info->block_name, ctrl, judge_words());
		goto out;
	}
	cr_assert_eq(n, -1, "the block with a bad guard read through %s: %zd bytes; the read's ctrl=0x%lx%s; %s",
		     info->block_name, n, ctrl, traced ? "" : " (tracefs unavailable)",
		     judge_words());
	cr_assert(err == EILSEQ || err == EIO, "errno %d (%s), want EILSEQ or EIO", err,
		  strerror(err));
	cr_log_info("%s refused the block with a bad guard: %s (%s; the read's ctrl=0x%lx)",
		    info->block_name, err == EILSEQ ? "EILSEQ" : "EIO",
		    kj == KJ_PROFILE ? "kernel profile" : "PRACT", ctrl);
out:
	free(buf);
	close(fd);
}

/* (d) Extended LBA: the PI nvmeta generates lies in the interleaved
 * buffer, right after each block's data (checked above byte by byte and
 * by the device); here the whole buffer goes out and comes back. */
Test(pi, extended_lba_host_pi_round_trip)
{
	struct nvmeta_status st;
	struct nvmeta_io io;
	int ret;

	need_pi();
	if (!info->extended_lba)
		cr_skip_test("separate metadata: no interleaved buffer (%s)", judge_words());
	fill(SLBA + 96, 19);
	io = rw(NVMETA_OP_WRITE, SLBA + 96);
	cr_assert_eq(io.meta, NULL);
	cr_assert_eq(io.data_len, NLB * (info->lba_size + info->ms));
	io.flags = NVMETA_IO_PI_GENERATE;
	io.prinfo = prchk_all();
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, 0, "extended write with host PI: %d %s (status 0x%x %s)", ret,
		     nvmeta_last_error(), st.status, nvmeta_status_name(&st));
	save();
	poison();
	io.opcode = NVMETA_OP_READ;
	io.flags = NVMETA_IO_PI_VERIFY;
	ret = nvmeta_io_sync(dev, &ring, &io, &st);
	cr_assert_eq(ret, 0, "extended read: %d %s", ret, nvmeta_last_error());
	same_as_written();
}

/* A block nobody wrote carries all-ones PI, which turns checking off: a
 * read with PRCHK succeeds and the host counts it as unwritten.  LBA 0
 * too, where QEMU's raw image always reports the first block allocated,
 * so its metadata is read as stored (zeros), not made all ones: a zero
 * block's CRC16 is 0 and passes, the CRC64 of zeros is not.  Only
 * blocks whose data reads back all zeros (no test wrote them) are
 * judged. */
Test(pi, never_written_blocks_read_with_prchk)
{
	static const uint64_t lbas[] = { 0, 12000 };
	struct nvmeta_pi_report rep;
	struct nvmeta_pi_tags t;
	struct nvmeta_status st;
	struct nvmeta_io io;
	unsigned int i;
	size_t k;
	int ret;

	need_pi();
	for (i = 0; i < 2; i++) {
		bool fresh = true;

		io = rw(NVMETA_OP_READ, lbas[i]);
		io.nlb = 1;
		io.data_len = per_lba;
		io.meta_len = separate ? info->ms : 0;
		poison();
		cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), 0, "%s", nvmeta_last_error());
		for (k = 0; k < info->lba_size; k++)
			fresh &= data[k] == 0;
		if (!fresh) {
			cr_log_info("LBA %llu was written before: not judged",
				    (unsigned long long)lbas[i]);
			continue;
		}
		cr_log_info("LBA %llu never written: tuple as stored %s", (unsigned long long)lbas[i],
			    tuple_hex(0));
		io.prinfo = prchk_all();
		if (pf.pi_type == 1)
			io.reftag = lbas[i];
		ret = nvmeta_io_sync(dev, &ring, &io, &st);
		cr_assert_eq(ret, 0, "never-written LBA %llu, read with PRCHK 0x%x: %d %s (status 0x%x %s); %s",
			     (unsigned long long)lbas[i], io.prinfo, ret, nvmeta_last_error(),
			     st.status, nvmeta_status_name(&st), judge_words());
		t = tags_of(&io);
		memset(&rep, 0, sizeof(rep));
		ret = nvmeta_pi_verify(&pf, data, separate ? meta : NULL, 1, &t, &rep);
		cr_assert_eq(ret, 0, "host verification of never-written LBA %llu: %s",
			     (unsigned long long)lbas[i], nvmeta_last_error());
		cr_assert_eq(rep.unwritten, 1, "never-written LBA %llu: tuple %s not counted unwritten",
			     (unsigned long long)lbas[i], tuple_hex(0));
	}
}
