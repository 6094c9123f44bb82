// SPDX-License-Identifier: MIT
/*
 * The attribute road: io_uring READ and WRITE on the block device with a
 * PI attribute (Linux 6.14).  Kernels before it ignore the fields the
 * attribute lives in, so a read "succeeds" and leaves the metadata buffer
 * alone: whether the kernel honours it is decided once per device, from
 * the ring's features and from one read whose metadata must change.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "internal.h"
#include "complete.h"

/* From the kernel's uapi, for headers older than 6.14 (Debian 12 has 6.1). */
#ifndef IORING_RW_ATTR_FLAG_PI
#define IORING_RW_ATTR_FLAG_PI		(1U << 0)
#endif
#define NVMETA_FEAT_RW_ATTR		(1U << 16)	/* IORING_FEAT_RW_ATTR */
#define NVMETA_CHK_GUARD		(1U << 0)	/* IO_INTEGRITY_CHK_GUARD */
#define NVMETA_CHK_REFTAG		(1U << 1)	/* IO_INTEGRITY_CHK_REFTAG */
#define NVMETA_CHK_APPTAG		(1U << 2)	/* IO_INTEGRITY_CHK_APPTAG */

/* Host PI work the road takes, as passthrough does. */
#define RW_PI_FLAGS	(NVMETA_IO_PI_GENERATE | NVMETA_IO_PI_VERIFY)

/* The kernel's struct logical_block_metadata_cap and its ioctl. */
struct lbmd_cap {
	uint32_t lbmd_flags;
	uint16_t lbmd_interval;
	uint8_t lbmd_size;
	uint8_t lbmd_opaque_size;
	uint8_t lbmd_opaque_offset;
	uint8_t lbmd_pi_size;
	uint8_t lbmd_pi_offset;
	uint8_t lbmd_guard_tag_type;
	uint8_t lbmd_app_tag_size;
	uint8_t lbmd_ref_tag_size;
	uint8_t lbmd_storage_tag_size;
	uint8_t pad;
};
#define NVMETA_FS_IOC_GETLBMD_CAP	_IOWR(0x15, 2, struct lbmd_cap)

/* The attribute sits where addr3 and __pad2[0] are, in the SQE's first
 * 64 bytes; the kernel copies 32 bytes from attr_ptr. */
_Static_assert(sizeof(struct nvmeta_attr_pi) == 32, "struct io_uring_attr_pi is 32 bytes");
_Static_assert(offsetof(struct nvmeta_attr_pi, len) == 4, "io_uring_attr_pi.len");
_Static_assert(offsetof(struct nvmeta_attr_pi, addr) == 8, "io_uring_attr_pi.addr");
_Static_assert(offsetof(struct nvmeta_attr_pi, seed) == 16, "io_uring_attr_pi.seed");
_Static_assert(offsetof(struct io_uring_sqe, addr3) == 48, "sqe attr_ptr");
_Static_assert(offsetof(struct io_uring_sqe, __pad2) == 56, "sqe attr_type_mask");
_Static_assert(sizeof(struct lbmd_cap) == 16, "struct logical_block_metadata_cap");

static const char sysroot[] = "/sys";

static int block_name_of(const char *path, struct stat *st, char *name, size_t len)
{
	char link[64], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (stat(path, st))
		return nvmeta_fail(-errno, "%s: %m", path);
	if (!S_ISBLK(st->st_mode))
		return nvmeta_fail(-ENOTBLK, "%s is not a block device: the attribute road goes through /dev/nvmeXnY", path);
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st->st_rdev), minor(st->st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return nvmeta_fail(-errno, "%s: %s: %m", path, link);
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strncmp(base, "nvme", 4) || !strchr(base + 4, 'n') || strchr(base, 'p'))
		return nvmeta_fail(-ENODEV, "%s (%s) is not an NVMe namespace's block device", path, base);
	if (strlen(base) >= len)
		return nvmeta_fail(-ENAMETOOLONG, "%s: block device name %s is too long", path, base);
	memcpy(name, base, strlen(base) + 1);
	return 0;
}

/* The kernel's integrity profile names the PI: "T10-DIF-TYPE1-CRC",
 * "T10-DIF-TYPE3-CRC", "EXT-DIF-TYPE1-CRC64", ...  Type 2 namespaces
 * get the type 1 profile. */
static void pi_from_profile(struct nvmeta_dev_info *in)
{
	const char *f = in->limits.integrity_format;

	in->pi_type = strstr(f, "TYPE1") ? 1 : strstr(f, "TYPE3") ? 3 : 0;
	/* The IP checksum profiles are SCSI's: no NVMe guard (decide_road()). */
	in->guard_bits = strstr(f, "-IP") ? 0 : strstr(f, "CRC64") ? 64 : 16;
	in->pi_size = in->guard_bits == 64 ? 16 : 8;
	in->pi_first = true;
}

static void read_lbmd(struct nvmeta_bdev *b)
{
	struct nvmeta_lbmd *l = &b->lbmd;
	struct lbmd_cap cap;

	memset(&cap, 0, sizeof(cap));
	if (ioctl(b->fd, NVMETA_FS_IOC_GETLBMD_CAP, &cap)) {
		snprintf(l->note, sizeof(l->note), "FS_IOC_GETLBMD_CAP: %s (Linux %u.%u%s)",
			 strerror(errno), b->info.kernel.major, b->info.kernel.minor,
			 errno == ENOTTY || errno == EINVAL ? " has no such ioctl" : "");
		return;
	}
	l->known = true;
	l->flags = cap.lbmd_flags;
	l->interval = cap.lbmd_interval;
	l->size = cap.lbmd_size;
	l->opaque_size = cap.lbmd_opaque_size;
	l->opaque_offset = cap.lbmd_opaque_offset;
	l->pi_size = cap.lbmd_pi_size;
	l->pi_offset = cap.lbmd_pi_offset;
	l->guard_type = cap.lbmd_guard_tag_type;
	l->app_tag_size = cap.lbmd_app_tag_size;
	l->ref_tag_size = cap.lbmd_ref_tag_size;
	l->storage_tag_size = cap.lbmd_storage_tag_size;
}

/*
 * The guard of FS_IOC_GETLBMD_CAP's guard type (the kernel's
 * LBMD_PI_CSUM_*).  Anything but NVMe's two guards is refused, not taken
 * for a 16-bit guard: a guess would lay tuples out wrongly.
 */
int nvmeta_lbmd_guard_bits(const struct nvmeta_lbmd *l)
{
	if (!l->known)
		return 0;
	switch (l->guard_type) {
	case 0:		/* LBMD_PI_CSUM_NONE: the kernel has no PI here */
		if (!l->pi_size)
			return 0;
		return nvmeta_fail(-EOPNOTSUPP, "FS_IOC_GETLBMD_CAP: a %u-byte PI tuple with guard type 0 (none)",
				   l->pi_size);
	case 2:		/* LBMD_PI_CSUM_CRC16_T10DIF */
		return 16;
	case 4:		/* LBMD_PI_CSUM_CRC64_NVME */
		return 64;
	case 1:		/* LBMD_PI_CSUM_IP */
		return nvmeta_fail(-EOPNOTSUPP, "FS_IOC_GETLBMD_CAP: guard type 1 (IP checksum) is not NVMe protection information");
	default:
		return nvmeta_fail(-EOPNOTSUPP, "FS_IOC_GETLBMD_CAP: guard type %u is unknown here (known: 0 none, 2 CRC16 T10-DIF, 4 CRC64 NVMe)",
				   l->guard_type);
	}
}

/* The metadata size: metadata_bytes in sysfs, or what LBMD says. */
static void read_format(struct nvmeta_bdev *b)
{
	struct nvmeta_dev_info *in = &b->info;
	char path[PATH_MAX], val[32];

	in->lba_size = in->limits.logical_block_size;
	snprintf(path, sizeof(path), "%s/block/%s/metadata_bytes", sysroot, in->block_name);
	if (!nvmeta_sysfs_read(path, val, sizeof(val)))
		in->ms = (uint32_t)strtoul(val, NULL, 10);
	pi_from_profile(in);
	if (!b->lbmd.known)
		return;
	if (!in->ms)
		in->ms = b->lbmd.size;
	else if (in->ms != b->lbmd.size)
		snprintf(b->lbmd.note, sizeof(b->lbmd.note),
			 "metadata_bytes says %u, FS_IOC_GETLBMD_CAP says %u", in->ms, b->lbmd.size);
	if (b->lbmd.pi_size) {
		int bits = nvmeta_lbmd_guard_bits(&b->lbmd);

		in->pi_size = b->lbmd.pi_size;
		in->pi_first = !b->lbmd.pi_offset;
		/* No guess for a guard it does not know: 0, and
		 * decide_road() closes the road saying why. */
		in->guard_bits = bits > 0 ? (uint8_t)bits : 0;
	}
}

static int refuse_road(struct nvmeta_bdev *b, const char *fmt, const char *what)
{
	snprintf(b->road_why, sizeof(b->road_why), fmt, what);
	b->road = -EOPNOTSUPP;
	return 0;
}

/*
 * Whether this kernel's io_uring knows read/write attributes at all: a
 * property of the kernel, so it is the first reason a closed road gives
 * (Linux 6.1 also shows no metadata size, but that is not why).
 * Returns true when the road may be probed further.
 */
static bool rw_attr_feature(struct nvmeta_bdev *b)
{
	struct io_uring_params p = { 0 };
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init_params(2, &ring, &p);
	if (ret) {
		refuse_road(b, "io_uring setup failed: %s", strerror(-ret));
		return false;
	}
	io_uring_queue_exit(&ring);
	if (!(p.features & NVMETA_FEAT_RW_ATTR)) {
		refuse_road(b, "%s", "the kernel's io_uring lacks IORING_FEAT_RW_ATTR (read/write attributes came in Linux 6.14)");
		return false;
	}
	return true;
}

/*
 * The probe's verdict.  A kernel that ignores the attribute leaves each
 * buffer its own fill; one that honours it writes block 0's metadata into
 * both.  The fills differ in every byte, so equal buffers mean every byte
 * was written, whatever the block holds (even one of the fills), and a
 * byte that differs was not.  (A write to block 0 between the two reads
 * closes the road too: wrongly, but safely.)
 */
bool nvmeta_road_probe_honoured(const unsigned char *meta0, const unsigned char *meta1,
				size_t ms)
{
	return ms && !memcmp(meta0, meta1, ms);
}

/* Read block 0 with the attribute into @meta, filled with @fill first. */
static int probe_read(struct nvmeta_bdev *b, struct io_uring *ring, void *data,
		      unsigned char *meta, unsigned char fill)
{
	struct nvmeta_rw rw = { 0 };

	memset(meta, fill, b->info.ms);
	rw.io = (struct nvmeta_io){ .opcode = NVMETA_OP_READ, .nlb = 1, .data = data,
				    .data_len = b->info.lba_size, .meta = meta, .meta_len = b->info.ms };
	return nvmeta_rw_sync(b, ring, &rw);
}

/*
 * Two reads of block 0 with the attribute, into metadata filled with a
 * pattern and with its complement: one read alone cannot tell a kernel
 * that ignored the attribute from a block whose metadata is the pattern.
 * Reading changes nothing on the device; no PI is checked.
 */
static int probe_road(struct nvmeta_bdev *b)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), dlen = (b->info.lba_size + page - 1) / page * page;
	const unsigned char fill = NVMETA_ROAD_PROBE_FILL;
	unsigned char meta[2][256];
	struct io_uring ring;
	void *data;
	int ret;

	if (b->info.ms > sizeof(meta[0]))
		return refuse_road(b, "%s", "metadata larger than 256 bytes a block: not probed");
	ret = io_uring_queue_init(2, &ring, 0);
	if (ret)
		return refuse_road(b, "io_uring setup failed: %s", strerror(-ret));
	data = mmap(NULL, dlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED) {
		io_uring_queue_exit(&ring);
		return nvmeta_fail(-ENOMEM, "probe buffer: %m");
	}
	b->road = 0;		/* let the probe through nvmeta_rw_sync() */
	ret = probe_read(b, &ring, data, meta[0], fill);
	if (!ret)
		ret = probe_read(b, &ring, data, meta[1], (unsigned char)~fill);
	if (ret)
		refuse_road(b, "a read with the PI attribute failed: %s", nvmeta_last_error());
	else if (!nvmeta_road_probe_honoured(meta[0], meta[1], b->info.ms))
		refuse_road(b, "%s", "two reads of block 0 with the PI attribute succeeded but did not both fill their metadata buffers (set to a pattern and to its complement) with the same bytes: the kernel ignores the attribute");
	munmap(data, dlen);
	io_uring_queue_exit(&ring);
	return 0;
}

/* The kernel's feature first, then the device's metadata and its guard,
 * then the probe. */
static int decide_road(struct nvmeta_bdev *b)
{
	if (!rw_attr_feature(b))
		return 0;
	if (!strcmp(b->info.limits.integrity_format, "none"))
		return refuse_road(b, "%s has no integrity profile: no metadata travels on this road",
				   b->info.block_name);
	if (!b->info.ms)
		return refuse_road(b, "the kernel shows no metadata size for %s (no metadata_bytes in sysfs, no FS_IOC_GETLBMD_CAP)",
				   b->info.block_name);
	if (nvmeta_lbmd_guard_bits(&b->lbmd) < 0)
		return refuse_road(b, "%s", nvmeta_last_error());
	if (strstr(b->info.limits.integrity_format, "-IP"))
		return refuse_road(b, "integrity profile %s guards with the IP checksum, which is not NVMe protection information",
				   b->info.limits.integrity_format);
	return probe_road(b);
}

int nvmeta_bdev_open(const char *path, struct nvmeta_bdev **bp)
{
	struct nvmeta_bdev *b;
	struct stat st;
	int ret;

	b = calloc(1, sizeof(*b));
	if (!b)
		return nvmeta_fail(-ENOMEM, "out of memory");
	b->fd = -1;
	ret = block_name_of(path, &st, b->info.block_name, sizeof(b->info.block_name));
	if (ret)
		goto err;
	b->fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (b->fd < 0) {
		ret = nvmeta_fail(-errno, "%s: open O_DIRECT: %m", path);
		goto err;
	}
	ret = nvmeta_read_limits(sysroot, b->info.block_name, &b->info.limits);
	if (!ret)
		ret = nvmeta_kernel_read(&b->info.kernel);
	if (ret)
		goto err;
	read_lbmd(b);
	read_format(b);
	ret = decide_road(b);
	if (ret)
		goto err;
	*bp = b;
	return 0;
err:
	nvmeta_bdev_close(b);
	return ret;
}

void nvmeta_bdev_close(struct nvmeta_bdev *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

const struct nvmeta_dev_info *nvmeta_bdev_info(const struct nvmeta_bdev *b)
{
	return &b->info;
}

const struct nvmeta_lbmd *nvmeta_bdev_lbmd(const struct nvmeta_bdev *b)
{
	return &b->lbmd;
}

int nvmeta_bdev_fd(const struct nvmeta_bdev *b)
{
	return b->fd;
}

int nvmeta_bdev_road(const struct nvmeta_bdev *b)
{
	if (b->road)
		return nvmeta_fail(b->road, "%s: the attribute road is closed here: %s",
				   b->info.block_name, b->road_why);
	return 0;
}

/*
 * The bytes each iovec's length must be a multiple of, for O_DIRECT on a
 * block device.  Before 6.18, blkdev_dio_invalid() holds every segment to
 * the logical block size (bdev_iter_is_aligned(): iov_iter_is_aligned()
 * with lbs - 1 as the length mask) and fails the I/O with EINVAL.  From
 * 6.18 ("block: simplify direct io validity check") it checks only the
 * offset and the total, and the block layer holds each segment to the DMA
 * alignment where it splits the bio.  An unknown kernel gets the older,
 * stricter rule.
 */
uint32_t nvmeta_rw_iov_granule(const struct nvmeta_dev_info *in)
{
	if (in->kernel.major && NVMETA_KERNEL_AT_LEAST(&in->kernel, 6, 18))
		return in->limits.dma_alignment + 1;
	return in->lba_size;
}

/* One iovec of a vectored command on this road, past passthrough's
 * rules: what O_DIRECT wants of it.  @ctx is the device's info. */
static int check_rw_iov(const void *ctx, const struct iovec *v, uint32_t i, uint32_t count)
{
	const struct nvmeta_dev_info *in = ctx;
	uint32_t align = in->limits.dma_alignment, granule = nvmeta_rw_iov_granule(in);

	if ((uintptr_t)v->iov_base & align)
		return nvmeta_fail(-EFAULT, "NVMETA_IO_VEC: iovec %u of %u at %p is not aligned to %u bytes, as O_DIRECT on %s needs (the kernel fails it with EINVAL)",
				   i, count, v->iov_base, align + 1, in->block_name);
	if (v->iov_len % granule)
		return nvmeta_fail(-EFAULT, "NVMETA_IO_VEC: iovec %u of %u: %zu bytes, not a multiple of %u, as O_DIRECT on %s needs of each iovec on Linux %u.%u (%s; the kernel fails it with EINVAL)",
				   i, count, v->iov_len, granule, in->block_name, in->kernel.major,
				   in->kernel.minor,
				   granule == in->lba_size ? "whole logical blocks before 6.18" :
				   "the DMA alignment from 6.18");
	return 0;
}

/* Vectored data (NVMETA_IO_VEC): io->data is the iovec array, io->data_len
 * their count; passthrough's rules, and O_DIRECT's for each iovec. */
static int check_rw_vec(const struct nvmeta_dev_info *in, const struct nvmeta_io *io)
{
	int ret = nvmeta_check_iov_array(io, in->limits.max_segments);

	if (ret)
		return ret;
	return nvmeta_check_iov_list(io, in->lba_size, check_rw_iov, in);
}

/* A flat data buffer: nlb blocks, aligned as O_DIRECT needs. */
static int check_rw_flat(const struct nvmeta_dev_info *in, const struct nvmeta_io *io)
{
	uint32_t align = in->limits.dma_alignment;

	if ((uint64_t)io->nlb * in->lba_size != io->data_len || !io->data)
		return nvmeta_fail(-EMSGSIZE, "data length %u, but %u blocks of %u bytes need %llu",
				   io->data_len, io->nlb, in->lba_size,
				   (unsigned long long)io->nlb * in->lba_size);
	if ((uintptr_t)io->data & align)
		return nvmeta_fail(-EFAULT, "data buffer %p is not aligned to %u bytes, as O_DIRECT on %s needs",
				   io->data, align + 1, in->block_name);
	return 0;
}

static int check_rw_data(const struct nvmeta_dev_info *in, const struct nvmeta_io *io)
{
	uint64_t bytes = (uint64_t)io->nlb * in->lba_size;

	if (bytes > (uint64_t)in->limits.max_hw_sectors_kb * 1024 && in->limits.max_hw_sectors_kb)
		return nvmeta_fail(-E2BIG, "%llu bytes exceed max_hw_sectors_kb %u",
				   (unsigned long long)bytes, in->limits.max_hw_sectors_kb);
	if (io->flags & NVMETA_IO_VEC)
		return check_rw_vec(in, io);
	return check_rw_flat(in, io);
}

static int check_rw(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw)
{
	const struct nvmeta_dev_info *in = &b->info;
	const struct nvmeta_io *io = &rw->io;
	int ret;

	if (io->opcode != NVMETA_OP_READ && io->opcode != NVMETA_OP_WRITE)
		return nvmeta_fail(-EINVAL, "the attribute road carries reads and writes only (opcode 0x%x)",
				   io->opcode);
	if (io->flags & ~(NVMETA_IO_FUA | NVMETA_IO_VEC | RW_PI_FLAGS) ||
	    io->prinfo & NVMETA_PRACT || io->resv0 || io->resv[0] || io->resv[1] || io->resv[2] ||
	    rw->resv[0] || rw->resv[1] || rw->resv[2])
		return nvmeta_fail(-EINVAL, "the attribute road takes no flags but FUA, NVMETA_IO_VEC and NVMETA_IO_PI_GENERATE or _VERIFY, no PRACT, and zero reserved fields");
	if (!io->nlb || io->nlb > NVMETA_MAX_NLB)
		return nvmeta_fail(-EDOM, "nlb %u: must be 1 to %u", io->nlb, NVMETA_MAX_NLB);
	if (io->slba > UINT64_MAX / in->lba_size - io->nlb)
		return nvmeta_fail(-ERANGE, "blocks %llu+%u: the byte offset does not fit 64 bits",
				   (unsigned long long)io->slba, io->nlb);
	ret = check_rw_data(in, io);
	if (ret)
		return ret;
	if (!io->meta)
		return io->meta_len ? nvmeta_fail(-EFAULT, "metadata length without a buffer") : 0;
	if (!in->ms || !strcmp(in->limits.integrity_format, "none"))
		return nvmeta_fail(-EPROTO, "%s has no integrity profile: no metadata buffer on this road",
				   in->block_name);
	if ((uint64_t)io->nlb * in->ms != io->meta_len)
		return nvmeta_fail(-EOVERFLOW, "metadata length %u, but %u blocks of %u metadata bytes need exactly %llu on this road",
				   io->meta_len, io->nlb, in->ms, (unsigned long long)io->nlb * in->ms);
	return 0;
}

/* The PRCHK bits of prinfo, as the attribute's check flags. */
static uint16_t check_flags(uint8_t prinfo)
{
	return (prinfo & NVMETA_PRCHK_GUARD ? NVMETA_CHK_GUARD : 0) |
	       (prinfo & NVMETA_PRCHK_REF ? NVMETA_CHK_REFTAG : 0) |
	       (prinfo & NVMETA_PRCHK_APP ? NVMETA_CHK_APPTAG : 0);
}

/* The PI layout of the block device, as the kernel shows it. */
static int rw_pi_format(const struct nvmeta_bdev *b, struct nvmeta_pi_format *f)
{
	if (!b->info.pi_type || !b->info.guard_bits)
		return nvmeta_fail(-EPROTO, "%s: host PI work, but the kernel shows no NVMe protection information on it (integrity profile %s)",
				   b->info.block_name, b->info.limits.integrity_format);
	return nvmeta_pi_format_of(&b->info, f);
}

/* Host PI work asked of @rw: the shape checked, a write's PI generated
 * with the tags of rw->io (the reference tag is the attribute's seed). */
static int rw_pi_prepare(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw)
{
	const struct nvmeta_io *io = &rw->io;
	bool write = io->opcode == NVMETA_OP_WRITE;
	struct nvmeta_pi_format f;
	struct nvmeta_pi_tags t;
	int ret;

	if (((io->flags & NVMETA_IO_PI_GENERATE) && !write) ||
	    ((io->flags & NVMETA_IO_PI_VERIFY) && write))
		return nvmeta_fail(-EINVAL, "%s: %s on a %s: generation is for writes, verification for reads",
				   b->info.block_name,
				   write ? "NVMETA_IO_PI_VERIFY" : "NVMETA_IO_PI_GENERATE",
				   write ? "write" : "read");
	if (!io->meta)
		return nvmeta_fail(-ENODATA, "%s: host PI work needs a metadata buffer", b->info.block_name);
	ret = rw_pi_format(b, &f);
	if (!ret)
		ret = nvmeta_pi_io_fits(&f, b->info.block_name, io);
	if (ret || !(io->flags & NVMETA_IO_PI_GENERATE))
		return ret;
	t = nvmeta_pi_io_tags(io);
	if (io->flags & NVMETA_IO_VEC) {
		struct iovec miov;
		struct nvmeta_pi_iov v;

		nvmeta_pi_iov_of_io(io, &miov, &v);
		return nvmeta_pi_generate_iov(&f, &v, &t);
	}
	return nvmeta_pi_generate(&f, io->data, io->meta, io->nlb, &t);
}

static int rw_ready(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw)
{
	int ret;

	if (rw->io.meta && b->road)
		return nvmeta_bdev_road(b);
	ret = check_rw(b, rw);
	if (ret || !(rw->io.flags & RW_PI_FLAGS))
		return ret;
	return rw_pi_prepare(b, rw);
}

/* The data half of the SQE.  Vectored: READV/WRITEV, the iovec array in
 * addr and its count in len; io_uring reads the PI attribute for them as
 * for READ/WRITE (__io_prep_rw() serves every read and write opcode). */
static void fill_rw_data(const struct nvmeta_bdev *b, struct io_uring_sqe *sqe,
			 const struct nvmeta_io *io)
{
	uint64_t off = io->slba * b->info.lba_size;
	bool read = io->opcode == NVMETA_OP_READ;

	if (io->flags & NVMETA_IO_VEC) {
		if (read)
			io_uring_prep_readv(sqe, b->fd, io->data, io->data_len, off);
		else
			io_uring_prep_writev(sqe, b->fd, io->data, io->data_len, off);
	} else if (read) {
		io_uring_prep_read(sqe, b->fd, io->data, io->data_len, off);
	} else {
		io_uring_prep_write(sqe, b->fd, io->data, io->data_len, off);
	}
	/* O_DIRECT with RWF_DSYNC: the block layer sends it as FUA. */
	if (!read && (io->flags & NVMETA_IO_FUA))
		sqe->rw_flags = RWF_DSYNC;
}

static void fill_rw(const struct nvmeta_bdev *b, struct io_uring_sqe *sqe, struct nvmeta_rw *rw)
{
	const struct nvmeta_io *io = &rw->io;

	fill_rw_data(b, sqe, io);
	if (!io->meta)
		return;
	rw->attr = (struct nvmeta_attr_pi){
		.flags = check_flags(io->prinfo), .app_tag = io->apptag, .len = io->meta_len,
		.addr = (uintptr_t)io->meta, .seed = io->reftag,
	};
	sqe->addr3 = (uintptr_t)&rw->attr;
	sqe->__pad2[0] = IORING_RW_ATTR_FLAG_PI;
}

int nvmeta_prep_rw(const struct nvmeta_bdev *b, struct io_uring_sqe *sqe, struct nvmeta_rw *rw)
{
	int ret = rw_ready(b, rw);

	if (ret)
		return ret;
	fill_rw(b, sqe, rw);
	return 0;
}

/*
 * EILSEQ in words: the block layer's BLK_STS_PROTECTION, which the nvme
 * driver gives for the end-to-end statuses (0x282 guard, 0x283
 * application tag, 0x284 reference tag) and 0x181 alike.  Which checks
 * the command asked for is known; the field and the block are not.
 */
static int integrity_failed(const struct nvmeta_rw *rw, const char *what)
{
	const struct nvmeta_io *io = &rw->io;
	uint8_t p = io->prinfo;
	char asked[200];

	if (!io->meta)
		snprintf(asked, sizeof(asked), "without a metadata buffer the kernel generated and checked the PI itself (its integrity profile)");
	else if (!(p & (NVMETA_PRCHK_GUARD | NVMETA_PRCHK_REF | NVMETA_PRCHK_APP)))
		snprintf(asked, sizeof(asked), "the command asked for no check (PRINFO 0x%x): the device refused the PI as invalid for its format", p);
	else
		snprintf(asked, sizeof(asked), "the device checked%s%s%s%s%s",
			 p & NVMETA_PRCHK_GUARD ? " the guard" : "",
			 (p & NVMETA_PRCHK_GUARD) && (p & (NVMETA_PRCHK_REF | NVMETA_PRCHK_APP)) ? "," : "",
			 p & NVMETA_PRCHK_REF ? " the reference tag (the kernel maps the seed to each block's LBA)" : "",
			 (p & NVMETA_PRCHK_REF) && (p & NVMETA_PRCHK_APP) ? "," : "",
			 p & NVMETA_PRCHK_APP ? " the application tag" : "");
	return nvmeta_fail(-EILSEQ, "%s of blocks %llu+%u: integrity check failed: %s (seed 0x%llx, application tag 0x%04x); the errno names neither the field nor the block: read the range back with NVMETA_IO_PI_VERIFY and no device check to find them",
			   what, (unsigned long long)io->slba, io->nlb, asked,
			   (unsigned long long)io->reftag, io->apptag);
}

int nvmeta_rw_complete(const struct nvmeta_rw *rw, int res)
{
	const char *what = rw->io.opcode == NVMETA_OP_READ ? "read" : "write";
	uint64_t bytes = nvmeta_io_data_bytes(&rw->io);

	if (res == -EILSEQ)
		return integrity_failed(rw, what);
	if (res < 0)
		return nvmeta_fail(res, "%s of blocks %llu+%u: %s", what,
				   (unsigned long long)rw->io.slba, rw->io.nlb, strerror(-res));
	if ((uint64_t)res != bytes)
		return nvmeta_fail(-EIO, "%s of blocks %llu+%u: short transfer, %d of %llu bytes",
				   what, (unsigned long long)rw->io.slba, rw->io.nlb, res,
				   (unsigned long long)bytes);
	return 0;
}

/* A read's PI verified on the host once it came back. */
static int rw_verify(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw,
		     struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors, uint32_t max)
{
	struct nvmeta_pi_format f;
	int ret;

	ret = rw_pi_format(b, &f);
	if (!ret)
		ret = nvmeta_pi_io_fits(&f, b->info.block_name, &rw->io);
	if (!ret)
		ret = nvmeta_pi_verify_io_list(&f, b->info.block_name, &rw->io, rep, errors, max);
	return ret;
}

int nvmeta_complete_rw(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw,
		       const struct io_uring_cqe *cqe, struct nvmeta_result *res)
{
	int ret;

	memset(&res->status, 0, sizeof(res->status));
	memset(&res->pi, 0, sizeof(res->pi));
	res->resv0 = 0;
	memset(res->resv, 0, sizeof(res->resv));
	res->status.err = cqe->res < 0 ? cqe->res : 0;
	res->status.result = cqe->res < 0 ? 0 : (uint64_t)cqe->res;
	ret = nvmeta_rw_complete(rw, cqe->res);
	if (ret)
		return nvmeta_fail_prefix(ret, "%s", b->info.block_name);
	if (!(rw->io.flags & NVMETA_IO_PI_VERIFY))
		return 0;
	return rw_verify(b, rw, &res->pi, res->errors, res->errors ? res->max_errors : 0);
}

int nvmeta_queue_rw(const struct nvmeta_bdev *b, struct io_uring *ring, struct nvmeta_rw *rw)
{
	struct nvmeta_own cmd;
	int ret;

	/* nvmeta_reap() keeps no device for a command of this road. */
	if (rw->io.flags & NVMETA_IO_PI_VERIFY)
		return nvmeta_fail(-EINVAL, "%s: NVMETA_IO_PI_VERIFY with nvmeta_queue_rw(): reap the command yourself and finish it with nvmeta_complete_rw(), which verifies, or use nvmeta_rw_sync()",
				   b->info.block_name);
	/* Checks first: an SQE taken from the ring cannot be given back. */
	ret = rw_ready(b, rw);
	if (!ret)
		ret = nvmeta_tag_sqe(ring, NVMETA_TAG_RW, rw, &cmd);
	if (ret)
		return ret;
	fill_rw(b, cmd.sqe, rw);
	cmd.sqe->user_data = cmd.tag;
	return 0;
}

int nvmeta_rw_sync(const struct nvmeta_bdev *b, struct io_uring *ring, struct nvmeta_rw *rw)
{
	struct io_uring_cqe cqe[2];
	struct nvmeta_own own;
	int ret;

	/* Checks first: an SQE taken from the ring cannot be given back. */
	ret = rw_ready(b, rw);
	if (ret)
		return ret;
	ret = nvmeta_own_start(ring, &own);
	if (ret)
		return ret;
	fill_rw(b, own.sqe, rw);
	/* The same submission and wait as nvmeta_io_sync(). */
	ret = nvmeta_own_submit(ring, &own);
	if (ret)
		return nvmeta_fail(ret, "%s: io_uring_submit: %s", b->info.block_name, strerror(-ret));
	ret = nvmeta_own_wait(ring, &own, cqe);
	if (!ret)
		ret = nvmeta_rw_complete(rw, cqe[0].res);
	if (ret)
		return nvmeta_fail_prefix(ret, "%s", b->info.block_name);
	if (rw->io.flags & NVMETA_IO_PI_VERIFY) {
		struct nvmeta_pi_report rep;

		return rw_verify(b, rw, &rep, NULL, 0);
	}
	return 0;
}
