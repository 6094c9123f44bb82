// SPDX-License-Identifier: MIT
/*
 * Vectored data on the attribute road (NVMETA_IO_VEC in struct
 * nvmeta_rw): the READV/WRITEV encoding with the PI attribute, every
 * refusal with its message and the SQE left alone, host PI over iovecs
 * that split blocks and tuples, the byte count of a vectored completion,
 * a real round trip through an O_DIRECT file, and nvmeta_predict_rw().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "internal.h"
#include "complete.h"
#include "fake_bdev.h"

static struct nvmeta_bdev b;
static char path[] = "/var/tmp/nvmeta-rwvec-XXXXXX";
static unsigned char *mem;	/* 16 pages, faulted in */
static unsigned char meta[256];
static const size_t mem_len = 16 * 4096;

/* A 512+8 namespace with type 1 PI, as Linux 7.2 shows QEMU 7.2's. */
static void setup(void)
{
	fake_bdev(&b, path, 512);
	b.info.pi_type = 1;
	b.info.guard_bits = 16;
	b.info.pi_size = 8;
	b.info.pi_first = true;
	b.info.kernel.major = 7;
	b.info.kernel.minor = 2;
	b.info.limits.dma_alignment = 3;
	b.info.limits.max_segments = 128;
	mem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(mem, MAP_FAILED);
	memset(mem, 0x11, mem_len);
}

static void teardown(void)
{
	close(b.fd);
	munmap(mem, mem_len);
}

TestSuite(rw_vec, .init = setup, .fini = teardown);

/* Four blocks (2048 bytes) in three iovecs cut inside blocks at 4-byte
 * aligned places: 516 + 1024 + 508, far apart in memory. */
static struct nvmeta_rw vec4(uint8_t op, struct iovec *iov)
{
	iov[0] = (struct iovec){ mem + 4096 - 516, 516 };
	iov[1] = (struct iovec){ mem + 3 * 4096, 1024 };
	iov[2] = (struct iovec){ mem + 8 * 4096 + 4, 508 };
	return (struct nvmeta_rw){ .io = {
		.opcode = op, .slba = 6, .nlb = 4, .flags = NVMETA_IO_VEC,
		.data = iov, .data_len = 3, .meta = meta, .meta_len = 32,
		.reftag = 6, .apptag = 0x1234, .prinfo = NVMETA_PRCHK_GUARD | NVMETA_PRCHK_APP } };
}

Test(rw_vec, a_vectored_read_is_readv_with_the_array_its_count_and_the_attribute)
{
	struct io_uring_sqe sqe;
	struct iovec iov[3];
	struct nvmeta_rw rw = vec4(NVMETA_OP_READ, iov);

	memset(&sqe, 0xa5, sizeof(sqe));
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), 0, "%s", nvmeta_last_error());
	cr_assert_eq(sqe.opcode, IORING_OP_READV);
	cr_assert_eq(sqe.fd, b.fd);
	cr_assert_eq(sqe.off, 6 * 512);
	cr_assert_eq(sqe.addr, (uintptr_t)iov, "addr is the iovec array");
	cr_assert_eq(sqe.len, 3, "len is the iovec count");
	cr_assert_eq(sqe.rw_flags, 0);
	cr_assert_eq(sqe.addr3, (uintptr_t)&rw.attr);
	cr_assert_eq(sqe.__pad2[0], 1);		/* IORING_RW_ATTR_FLAG_PI */
	cr_assert_eq(rw.attr.flags, 1 | 4);	/* GUARD | APPTAG */
	cr_assert_eq(rw.attr.app_tag, 0x1234);
	cr_assert_eq(rw.attr.len, 32, "the metadata stays one buffer");
	cr_assert_eq(rw.attr.addr, (uintptr_t)meta);
	cr_assert_eq(rw.attr.seed, 6);
	cr_assert_eq(rw.attr.rsvd, 0);
}

Test(rw_vec, a_vectored_fua_write_is_writev_with_dsync)
{
	struct io_uring_sqe sqe;
	struct iovec iov[3];
	struct nvmeta_rw rw = vec4(NVMETA_OP_WRITE, iov);

	rw.io.flags |= NVMETA_IO_FUA;
	memset(&sqe, 0xa5, sizeof(sqe));
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), 0, "%s", nvmeta_last_error());
	cr_assert_eq(sqe.opcode, IORING_OP_WRITEV);
	cr_assert_eq(sqe.addr, (uintptr_t)iov);
	cr_assert_eq(sqe.len, 3);
	cr_assert_eq(sqe.rw_flags, RWF_DSYNC);
	cr_assert_eq(sqe.addr3, (uintptr_t)&rw.attr);
	/* Without the flag the same buffer goes flat. */
	rw = (struct nvmeta_rw){ .io = { .opcode = NVMETA_OP_WRITE, .nlb = 1, .data = mem,
					 .data_len = 512 } };
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), 0, "%s", nvmeta_last_error());
	cr_assert_eq(sqe.opcode, IORING_OP_WRITE);
	cr_assert_eq(sqe.len, 512);
}

/* @rw refused with @err and a message holding @words; the SQE untouched. */
static void refused(struct nvmeta_rw *rw, int err, const char *words)
{
	struct io_uring_sqe sqe;
	int ret;

	memset(&sqe, 0xa5, sizeof(sqe));
	ret = nvmeta_prep_rw(&b, &sqe, rw);
	cr_assert_eq(ret, err, "%d, wanted %d: %s", ret, err, nvmeta_last_error());
	cr_assert(strstr(nvmeta_last_error(), words), "\"%s\" lacks \"%s\"", nvmeta_last_error(),
		  words);
	cr_assert_eq(sqe.opcode, 0xa5, "the SQE was written");
}

Test(rw_vec, the_array_and_its_count_are_checked)
{
	static struct iovec many[1025];
	struct iovec iov[3];
	struct nvmeta_rw rw = vec4(NVMETA_OP_READ, iov);
	unsigned int i;

	rw.io.data = NULL;
	refused(&rw, -EFAULT, "need an array of at least one");
	rw = vec4(NVMETA_OP_READ, iov);
	rw.io.data_len = 0;
	refused(&rw, -EFAULT, "need an array of at least one");
	for (i = 0; i < 1025; i++)
		many[i] = (struct iovec){ mem + 4 * i, 4 };
	rw = vec4(NVMETA_OP_READ, iov);
	rw.io.data = many;
	rw.io.data_len = 1025;
	refused(&rw, -E2BIG, "UIO_MAXIOV");
	b.info.limits.max_segments = 2;
	rw = vec4(NVMETA_OP_READ, iov);
	refused(&rw, -E2BIG, "3 iovecs exceed max_segments 2");
	/* Registered buffers are passthrough's alone. */
	b.info.limits.max_segments = 128;
	rw = vec4(NVMETA_OP_READ, iov);
	rw.io.flags |= NVMETA_IO_FIXED_BUF;
	refused(&rw, -EINVAL, "no flags but FUA, NVMETA_IO_VEC and");
}

/* One iovec of vec4() changed: its base (KEEP, NULL_BASE, WRAP or an
 * offset into mem) and its length (KEEP_LEN or a new one). */
#define KEEP		(-1L)
#define NULL_BASE	(-2L)
#define WRAP		(-3L)
#define KEEP_LEN	SIZE_MAX

static const struct bad_iov {
	unsigned int i;
	long base;
	size_t len;
	int err;
	const char *words;
} bad_iovs[] = {
	{ 1, KEEP, 0, -EFAULT, "iovec 1 of 3 has length 0" },
	{ 2, NULL_BASE, KEEP_LEN, -EFAULT, "iovec 2 of 3: NULL base with 508 bytes" },
	{ 0, WRAP, KEEP_LEN, -EFAULT, "516 bytes at 0xfffffffffffffffc wrap past the end" },
	{ 1, 3 * 4096 + 2, KEEP_LEN, -EFAULT, "is not aligned to 4 bytes, as O_DIRECT on nvme9n1 needs" },
	{ 0, KEEP, 518, -EFAULT, "iovec 0 of 3: 518 bytes, not a multiple of 4" },
	{ 1, KEEP, 1028, -EMSGSIZE, "iovecs 0..2 already hold more than the 2048 bytes 4 blocks of 512 need" },
	{ 2, KEEP, 504, -EMSGSIZE, "3 iovecs hold 2044 bytes, but 4 blocks of 512 bytes need 2048" },
};

Test(rw_vec, each_iovec_is_checked_and_named)
{
	struct iovec iov[3];
	struct nvmeta_rw rw;
	size_t k;

	for (k = 0; k < sizeof(bad_iovs) / sizeof(bad_iovs[0]); k++) {
		const struct bad_iov *t = &bad_iovs[k];

		rw = vec4(NVMETA_OP_READ, iov);
		if (t->base == NULL_BASE)
			iov[t->i].iov_base = NULL;
		else if (t->base == WRAP)
			iov[t->i].iov_base = (void *)(UINTPTR_MAX - 3);
		else if (t->base != KEEP)
			iov[t->i].iov_base = mem + t->base;
		if (t->len != KEEP_LEN)
			iov[t->i].iov_len = t->len;
		refused(&rw, t->err, t->words);
	}
	/* Above the queue's limit: counted in blocks, not in iovecs. */
	rw = vec4(NVMETA_OP_READ, iov);
	b.info.limits.max_hw_sectors_kb = 1;
	refused(&rw, -E2BIG, "2048 bytes exceed max_hw_sectors_kb 1");
}

/* Before 6.18 (and on a kernel not known) O_DIRECT wants every iovec in
 * whole logical blocks; from 6.18 a multiple of the DMA alignment. */
Test(rw_vec, iovec_lengths_follow_the_kernel_s_o_direct_rule)
{
	struct io_uring_sqe sqe;
	struct iovec iov[3];
	struct nvmeta_rw rw = vec4(NVMETA_OP_READ, iov);

	b.info.kernel.minor = 17, b.info.kernel.major = 6;
	refused(&rw, -EFAULT, "iovec 0 of 3: 516 bytes, not a multiple of 512");
	cr_assert(strstr(nvmeta_last_error(), "Linux 6.17 (whole logical blocks before 6.18"), "%s",
		  nvmeta_last_error());
	b.info.kernel.major = 0, b.info.kernel.minor = 0;
	rw = vec4(NVMETA_OP_READ, iov);
	refused(&rw, -EFAULT, "not a multiple of 512");
	b.info.kernel.major = 6, b.info.kernel.minor = 18;
	rw = vec4(NVMETA_OP_READ, iov);
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), 0, "%s", nvmeta_last_error());
	/* Whole blocks pass on every kernel. */
	b.info.kernel.minor = 16;
	iov[0] = (struct iovec){ mem, 512 };
	iov[1] = (struct iovec){ mem + 4096, 1024 };
	iov[2] = (struct iovec){ mem + 8192, 512 };
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_rw_iov_granule(&b.info), 512);
}

/* The tuples a contiguous copy of the iovecs' bytes would get. */
static void contiguous_pi(const struct iovec *iov, unsigned int n, const struct nvmeta_io *io,
			  unsigned char *out)
{
	unsigned char flat[2048];
	struct nvmeta_pi_format f;
	struct nvmeta_pi_tags t = nvmeta_pi_io_tags(io);
	size_t at = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(flat + at, iov[i].iov_base, iov[i].iov_len);
		at += iov[i].iov_len;
	}
	cr_assert_eq(at, sizeof(flat));
	cr_assert_eq(nvmeta_pi_format_of(&b.info, &f), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_pi_generate(&f, flat, out, io->nlb, &t), 0, "%s", nvmeta_last_error());
}

Test(rw_vec, host_pi_is_generated_over_iovecs_that_split_blocks)
{
	struct io_uring_sqe sqe;
	unsigned char want[32];
	struct iovec iov[3];
	struct nvmeta_rw rw = vec4(NVMETA_OP_WRITE, iov);
	unsigned int i;

	for (i = 0; i < mem_len; i++)
		mem[i] = (unsigned char)(i * 13 + 5);
	rw.io.flags |= NVMETA_IO_PI_GENERATE;
	memset(meta, 0xee, sizeof(meta));
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &rw), 0, "%s", nvmeta_last_error());
	contiguous_pi(iov, 3, &rw.io, want);
	cr_assert_eq(memcmp(meta, want, 32), 0, "the tuples differ from a flat buffer's");
	cr_assert_eq(meta[32], 0xee, "a byte past nlb x ms was written");
}

/* A read's PI verified over the same split iovecs: good, then one data
 * byte of block 2 (in the middle iovec) turned: that block alone bad. */
Test(rw_vec, host_pi_is_verified_over_iovecs_and_names_the_bad_block)
{
	struct nvmeta_pi_error errors[4];
	struct io_uring_cqe cqe = { .res = 2048 };
	struct nvmeta_result res = { .errors = errors, .max_errors = 4 };
	struct io_uring_sqe sqe;
	struct iovec iov[3];
	struct nvmeta_rw w = vec4(NVMETA_OP_WRITE, iov), r;

	w.io.flags |= NVMETA_IO_PI_GENERATE;
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &w), 0, "%s", nvmeta_last_error());
	r = w;
	r.io.opcode = NVMETA_OP_READ;
	r.io.flags = NVMETA_IO_VEC | NVMETA_IO_PI_VERIFY;
	cr_assert_eq(nvmeta_prep_rw(&b, &sqe, &r), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_complete_rw(&b, &r, &cqe, &res), 0, "%s", nvmeta_last_error());
	cr_assert_eq(res.status.result, 2048);
	/* Block 2 is bytes 1024..1535: iovec 1 holds bytes 516..1539. */
	((unsigned char *)iov[1].iov_base)[1024 - 516 + 100] ^= 0x40;
	cr_assert_eq(nvmeta_complete_rw(&b, &r, &cqe, &res), -EILSEQ);
	cr_assert_eq(res.pi.bad, 1);
	cr_assert_eq(errors[0].lba, 8, "LBA %llu", (unsigned long long)errors[0].lba);
	cr_assert_eq(errors[0].field, NVMETA_PI_FIELD_GUARD);
	cr_assert(strstr(nvmeta_last_error(), "LBA 8: guard"), "%s", nvmeta_last_error());
}

Test(rw_vec, host_pi_without_metadata_or_in_the_wrong_direction_is_refused)
{
	struct iovec iov[3];
	struct nvmeta_rw rw = vec4(NVMETA_OP_READ, iov);

	rw.io.flags |= NVMETA_IO_PI_GENERATE;
	refused(&rw, -EINVAL, "generation is for writes");
	rw = vec4(NVMETA_OP_WRITE, iov);
	rw.io.flags |= NVMETA_IO_PI_GENERATE;
	rw.io.meta = NULL;
	rw.io.meta_len = 0;
	refused(&rw, -ENODATA, "host PI work needs a metadata buffer");
}

/* The bytes of a vectored completion are the iovecs', not data_len (the
 * count); a real WRITEV and READV through an O_DIRECT file, in whole
 * blocks as its file system wants, land byte for byte. */
Test(rw_vec, vectored_data_round_trips_and_a_short_read_says_so)
{
	struct iovec wv[3] = { { mem, 512 }, { mem + 4096, 1024 }, { mem + 8192, 512 } };
	struct iovec rv[2] = { { mem + 12 * 4096, 1536 }, { mem + 14 * 4096, 512 } };
	struct nvmeta_rw w = { .io = { .opcode = NVMETA_OP_WRITE, .slba = 10, .nlb = 4,
				       .flags = NVMETA_IO_VEC, .data = wv, .data_len = 3 } };
	struct nvmeta_rw r = w;
	struct io_uring ring;
	unsigned int i;

	for (i = 0; i < mem_len; i++)
		mem[i] = (unsigned char)(i * 7 + 1);
	r.io.opcode = NVMETA_OP_READ;
	r.io.data = rv;
	r.io.data_len = 2;
	cr_assert_eq(nvmeta_ring_init(&ring, 4), 0);
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &w), 0, "%s", nvmeta_last_error());
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &r), 0, "%s", nvmeta_last_error());
	cr_assert_eq(memcmp(mem + 12 * 4096, mem, 512), 0);
	cr_assert_eq(memcmp(mem + 12 * 4096 + 512, mem + 4096, 1024), 0);
	cr_assert_eq(memcmp(mem + 14 * 4096, mem + 8192, 512), 0);
	/* The file ends after block 2047: 2046+4 moves two blocks. */
	r.io.slba = 2046;
	cr_assert_eq(nvmeta_rw_sync(&b, &ring, &r), -EIO);
	cr_assert(strstr(nvmeta_last_error(), "short transfer, 1024 of 2048 bytes"), "%s",
		  nvmeta_last_error());
	nvmeta_ring_exit(&ring);
}

Test(rw_vec, the_prediction_pins_aligned_iovecs_and_fails_what_o_direct_refuses)
{
	struct nvmeta_prediction d, m, want;
	struct iovec iov[3];
	struct nvmeta_rw rw = vec4(NVMETA_OP_READ, iov);

	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, &m), 0, "%s", nvmeta_last_error());
	cr_assert_eq(d.path, NVMETA_PATH_PIN, "%s", d.reason);
	cr_assert_eq(d.pages, 3, "pages %u", d.pages);
	cr_assert_eq(nvmeta_predict(&b.info, NVMETA_KIND_META, meta, 32, &want), 0);
	cr_assert_eq(m.path, want.path);
	cr_assert_str_eq(m.reason, want.reason);
	/* 6.17: 516 bytes are not whole blocks. */
	b.info.kernel.major = 6, b.info.kernel.minor = 17;
	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, NULL), 0);
	cr_assert_eq(d.path, NVMETA_PATH_FAIL);
	cr_assert_eq(d.err, -EINVAL);
	cr_assert(strstr(d.reason, "iovec 0: 516 bytes, not a multiple of 512"), "%s", d.reason);
	b.info.kernel.major = 7;
	iov[1].iov_base = mem + 3 * 4096 + 2;
	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, NULL), 0);
	cr_assert_eq(d.path, NVMETA_PATH_FAIL);
	cr_assert(strstr(d.reason, "iovec 1 at"), "%s", d.reason);
	cr_assert(strstr(d.reason, "never copies"), "%s", d.reason);
	rw = vec4(NVMETA_OP_READ, iov);
	iov[2].iov_len = 500;
	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, NULL), 0);
	cr_assert_eq(d.err, -EINVAL);
	cr_assert(strstr(d.reason, "not whole 512-byte logical blocks"), "%s", d.reason);
	rw = vec4(NVMETA_OP_READ, iov);
	iov[0].iov_base = NULL;
	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, NULL), 0);
	cr_assert_eq(d.err, -EFAULT);
}

Test(rw_vec, the_prediction_of_a_flat_buffer_and_of_no_metadata)
{
	struct nvmeta_rw rw = { .io = { .opcode = NVMETA_OP_READ, .nlb = 2, .data = mem + 4,
					.data_len = 1024 } };
	struct nvmeta_prediction d, m;

	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, &m), 0, "%s", nvmeta_last_error());
	cr_assert_eq(d.path, NVMETA_PATH_PIN, "%s", d.reason);
	cr_assert_eq(m.path, NVMETA_PATH_PIN);
	cr_assert(strstr(m.reason, "no metadata buffer"), "%s", m.reason);
	rw.io.data = mem + 1;
	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, NULL), 0);
	cr_assert_eq(d.path, NVMETA_PATH_FAIL);
	rw.io.data = NULL;
	cr_assert_eq(nvmeta_predict_rw(&b, &rw, &d, NULL), -EINVAL);
}
