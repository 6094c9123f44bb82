// SPDX-License-Identifier: MIT
/*
 * In the lab: every bad input gets its own errno on a real device before
 * anything is submitted, and the other commands (compare, write zeroes,
 * batched queue/reap) work end to end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "guest_env.h"
#include <nvme/types.h>
#include "nvmeta.h"

static struct nvmeta_dev *dev;
static const struct nvmeta_dev_info *info;
static struct io_uring ring;
static unsigned char *data, *meta;
static uint32_t per_lba;
static bool separate;

#define BUF (1u << 20)

static void setup(void)
{
	info = guest_open(&dev, &ring, 32);
	cr_assert_eq(posix_memalign((void **)&data, 4096, BUF), 0);
	cr_assert_eq(posix_memalign((void **)&meta, 4096, BUF), 0);
	memset(data, 0, BUF);
	memset(meta, 0, BUF);
	per_lba = info->lba_size + (info->extended_lba ? info->ms : 0);
	separate = info->ms && !info->extended_lba;
}

static void teardown(void)
{
	free(data);
	free(meta);
	guest_close(dev, &ring);
}

TestSuite(io, .init = setup, .fini = teardown);

static struct nvmeta_io rw(uint8_t op, uint64_t slba, uint32_t nlb)
{
	struct nvmeta_io io = {
		.opcode = op, .slba = slba, .nlb = nlb,
		.data = data, .data_len = nlb * per_lba,
	};

	if (separate) {
		io.meta = meta;
		io.meta_len = nlb * info->ms;
	}
	return io;
}

static void refused(struct nvmeta_io io, int err, const char *words)
{
	int ret = nvmeta_io_sync(dev, &ring, &io, NULL);

	cr_assert_eq(ret, err, "got %d (%s), want %d", ret, nvmeta_last_error(), err);
	cr_assert(strstr(nvmeta_last_error(), words), "'%s' lacks '%s'", nvmeta_last_error(), words);
}

Test(io, every_bad_input_has_its_own_error)
{
	uint32_t max_nlb = info->mdts_bytes / per_lba;
	struct nvmeta_io io;

	refused(rw(NVMETA_OP_READ, 0, 0), -EDOM, "nlb 0");
	refused(rw(NVMETA_OP_READ, info->nsze, 1), -ERANGE, "beyond namespace size");
	io = rw(NVMETA_OP_READ, 0, max_nlb + 1);
	cr_assert_leq(io.data_len, BUF);
	refused(io, -E2BIG, "MDTS");
	io = rw(NVMETA_OP_READ, 0, 2);
	io.data_len -= 1;
	refused(io, -EMSGSIZE, "data length");
	io = rw(NVMETA_OP_READ, 0, 1);
	io.data = NULL;
	refused(io, -EFAULT, "data buffer");
	refused((struct nvmeta_io){ .opcode = 0x7e, .nlb = 1 }, -EINVAL, "opcode");
	if (!(info->oncs & NVME_CTRL_ONCS_VERIFY))
		refused((struct nvmeta_io){ .opcode = NVMETA_OP_VERIFY, .nlb = 1 }, -EOPNOTSUPP,
			"verify");
}

Test(io, metadata_errors_match_the_format)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 0, 4);

	if (separate) {
		io.meta_len -= 1;
		refused(io, -EOVERFLOW, "short");
		io.meta = NULL;
		io.meta_len = 0;
		refused(io, -ENODATA, "metadata buffer");
	} else {
		io.meta = meta;
		io.meta_len = 4 * (info->ms ? info->ms : 8);
		refused(io, -EPROTO, info->ms ? "extended LBA" : "no metadata");
	}
}

/* What the validation prevents: in raw mode a short buffer reaches the
 * device.  Logged as evidence, not asserted: it is the kernel's and the
 * device's behaviour, not the library's. */
Test(io, raw_short_metadata_reaches_the_device)
{
	struct nvmeta_io io = rw(NVMETA_OP_READ, 0, 4);
	unsigned char *tail;
	int ret, moved = 0, i;

	if (!separate)
		cr_skip_test("no separate metadata");
	io.meta_len -= 8;
	tail = meta + io.meta_len;
	memset(tail, 0x5a, 64);
	io.flags = NVMETA_IO_RAW | NVMETA_IO_NO_PREFAULT;
	ret = nvmeta_io_sync(dev, &ring, &io, NULL);
	for (i = 0; i < 64; i++)
		moved += tail[i] != 0x5a;
	cr_log_info("raw read with metadata_len 8 short: ret %d (%s), %d bytes past the buffer changed",
		    ret, ret ? nvmeta_last_error() : "success", moved);
	cr_assert_leq(moved, 8, "the device wrote more than the 8 missing bytes");
}

Test(io, compare_and_write_zeroes)
{
	struct nvmeta_io io = rw(NVMETA_OP_WRITE, 200, 4);
	struct nvmeta_status st;
	size_t i;

	for (i = 0; i < io.data_len; i++)
		data[i] = (unsigned char)(i * 3 + 7);
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s", nvmeta_last_error());
	io.opcode = NVMETA_OP_COMPARE;
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), 0, "%s", nvmeta_last_error());
	data[5] ^= 0xff;
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, &st), -EIO);
	cr_assert_str_eq(nvmeta_status_name(&st), "Compare Failure");

	io = (struct nvmeta_io){ .opcode = NVMETA_OP_WRITE_ZEROES, .slba = 200, .nlb = 4 };
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s", nvmeta_last_error());
	io = rw(NVMETA_OP_READ, 200, 4);
	memset(data, 0xaa, io.data_len);
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s", nvmeta_last_error());
	/* Every block's data; the metadata after Write Zeroes is the
	 * device's to choose (PI or not, PRACT or not): not asserted. */
	for (i = 0; i < (size_t)4 * per_lba; i++)
		if (i % per_lba < info->lba_size)
			cr_assert_eq(data[i], 0, "block %zu, data byte %zu after write zeroes: 0x%02x",
				     i / per_lba, i % per_lba, data[i]);
}

Test(io, many_in_flight_with_queue_and_reap)
{
	struct nvmeta_completion done[16];
	unsigned int i, reaped = 0;
	bool seen[16] = { false };
	int n;

	for (i = 0; i < 16; i++) {
		struct nvmeta_io io = rw(NVMETA_OP_READ, i * 2, 2);

		io.data = data + i * 2 * per_lba;
		if (separate)
			io.meta = meta + i * 2 * info->ms;
		cr_assert_eq(nvmeta_queue(dev, &ring, &io, 100 + i), 0, "%s", nvmeta_last_error());
	}
	cr_assert_eq(io_uring_submit(&ring), 16);
	while (reaped < 16) {
		n = nvmeta_reap(&ring, 1, done, 16);
		cr_assert_gt(n, 0);
		for (i = 0; i < (unsigned int)n; i++) {
			cr_assert_eq(done[i].ret, 0, "tag %llu", (unsigned long long)done[i].user_data);
			cr_assert_geq(done[i].user_data, 100);
			cr_assert_lt(done[i].user_data, 116);
			cr_assert_not(seen[done[i].user_data - 100]);
			seen[done[i].user_data - 100] = true;
		}
		reaped += n;
	}
}

/*
 * Vectored data in a registered buffer (LBA 240, 2 blocks, split at the
 * block edge): 6.16 on takes it and it reads back exact; 6.12 answers
 * EINVAL, which the library words; before 6.12 the library refuses it up
 * front, since 6.1 WARNs and leaks the request (known-defects.tsv:
 * linux-6.1-vec-fixed-buf-warn).  A cut inside a block across pages is
 * the checker's case data-fixed-buf-vec-cut, where the registry names
 * what 6.16 does with it (linux-6.16-vec-fixed-buf-gap).
 */
Test(io, vectored_registered_buffer_goes_or_is_explained)
{
	struct iovec reg = { data, BUF }, iov[2];
	struct nvmeta_io io = rw(NVMETA_OP_WRITE, 240, 2);
	size_t len = io.data_len, i;
	int ret;

	for (i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + 240);
	cr_assert_eq(io_uring_register_buffers(&ring, &reg, 1), 0);
	iov[0] = (struct iovec){ data, per_lba };
	iov[1] = (struct iovec){ data + per_lba, len - per_lba };
	io.flags = NVMETA_IO_VEC | NVMETA_IO_FIXED_BUF;
	io.data = iov;
	io.data_len = 2;
	ret = nvmeta_io_sync(dev, &ring, &io, NULL);
	cr_log_info("kernel %s: %d %s", info->kernel.release, ret, ret ? nvmeta_last_error() : "");
	if (!NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 12)) {
		cr_assert_eq(ret, -EOPNOTSUPP, "%d: %s", ret, nvmeta_last_error());
		cr_assert(strstr(nvmeta_last_error(), "linux-6.1-vec-fixed-buf-warn"));
		return;
	}
	if (ret == -EINVAL && !NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 16)) {
		cr_assert(strstr(nvmeta_last_error(), "vectored data in registered buffer 0"), "%s",
			  nvmeta_last_error());
		return;
	}
	cr_assert_eq(ret, 0, "%s", nvmeta_last_error());
	io.opcode = NVMETA_OP_READ;
	iov[0] = (struct iovec){ data + BUF / 2, per_lba };
	iov[1] = (struct iovec){ data + BUF / 2 + per_lba, len - per_lba };
	cr_assert_eq(nvmeta_io_sync(dev, &ring, &io, NULL), 0, "%s", nvmeta_last_error());
	cr_assert_eq(memcmp(data, data + BUF / 2, len), 0, "read back differs");
}
