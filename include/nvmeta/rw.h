/* SPDX-License-Identifier: MIT */
/*
 * nvmeta/rw.h: the second road.  Since Linux 6.14 a plain io_uring READ or
 * WRITE on the block device (/dev/nvmeXnY, opened O_DIRECT) can carry a
 * metadata buffer through a PI attribute (IORING_RW_ATTR_FLAG_PI and
 * struct io_uring_attr_pi).  The kernel maps that buffer through the same
 * pin-or-bounce code as passthrough.  This road needs no passthrough
 * privileges and no big SQEs.
 */
#ifndef NVMETA_RW_H
#define NVMETA_RW_H

#include <nvmeta/core.h>
#include <nvmeta/buf.h>
#include <nvmeta/pi.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nvmeta_bdev;

/* What the kernel says of the block device's metadata (FS_IOC_GETLBMD_CAP,
 * about Linux 6.17), where it says anything. */
struct nvmeta_lbmd {
	bool known;		/* the ioctl exists and answered */
	uint32_t flags;		/* LBMD_PI_CAP_INTEGRITY 1, _REFTAG 2 */
	uint16_t interval;	/* bytes of data a tuple protects */
	uint8_t size;		/* metadata bytes per interval */
	uint8_t opaque_size, opaque_offset;
	uint8_t pi_size, pi_offset;
	uint8_t guard_type;	/* 0 none, 1 IP, 2 CRC16 T10-DIF, 4 CRC64 NVMe */
	uint8_t app_tag_size, ref_tag_size, storage_tag_size;
	char note[160];		/* why it is not known, or what disagrees */
	uint32_t resv[4];	/* zeroed: room to grow */
};

/*
 * nvmeta_bdev_open - open a namespace's block device for the attribute
 * road: @path is /dev/nvmeXnY (or a symlink to it), opened O_RDWR |
 * O_DIRECT.  Its format comes from the kernel alone (sysfs, the integrity
 * profile, FS_IOC_GETLBMD_CAP), not from identify: no passthrough
 * privilege is needed.  Whether the kernel honours the PI attribute is
 * decided here, once, from what it does: the ring must report
 * IORING_FEAT_RW_ATTR, and two reads of block 0 with the attribute, into
 * metadata buffers filled with two complementary patterns, must leave the
 * same bytes in both (every byte written, whatever the block holds).  A
 * kernel that does not pass both is remembered, and every later command
 * is refused before any I/O, saying why; so is a device whose guard is
 * not NVMe's (an unknown FS_IOC_GETLBMD_CAP guard type, or an integrity
 * profile with the IP checksum).
 * Returns 0, or -ENOENT, -ENOTBLK (not a block device), -ENODEV (not an
 * NVMe namespace), -EACCES/-EPERM, -ENOMEM.
 */
int nvmeta_bdev_open(const char *path, struct nvmeta_bdev **bp);

/* nvmeta_bdev_close - close and free; NULL is allowed. */
void nvmeta_bdev_close(struct nvmeta_bdev *b);

/* nvmeta_bdev_info - the block device's format as the kernel shows it:
 * block_name, lba_size, ms, pi_type, guard_bits, pi_size, pi_first,
 * limits and kernel (identify's fields stay empty).  Never fails. */
const struct nvmeta_dev_info *nvmeta_bdev_info(const struct nvmeta_bdev *b);

/* nvmeta_bdev_lbmd - what FS_IOC_GETLBMD_CAP said, or why nothing. */
const struct nvmeta_lbmd *nvmeta_bdev_lbmd(const struct nvmeta_bdev *b);

/* nvmeta_bdev_fd - the O_DIRECT descriptor of the block device. */
int nvmeta_bdev_fd(const struct nvmeta_bdev *b);

/*
 * nvmeta_bdev_road - whether the kernel honours the PI attribute on this
 * device: 0, or -EOPNOTSUPP with the reason in nvmeta_last_error().
 */
int nvmeta_bdev_road(const struct nvmeta_bdev *b);

/* The kernel's struct io_uring_attr_pi (Linux 6.14), for headers that
 * lack it; the library checks its size and offsets at compile time. */
struct nvmeta_attr_pi {
	uint16_t flags;		/* IO_INTEGRITY_CHK_GUARD 1, _REFTAG 2, _APPTAG 4 */
	uint16_t app_tag;
	uint32_t len;		/* metadata bytes */
	uint64_t addr;		/* the metadata buffer */
	uint64_t seed;		/* the first block's reference tag */
	uint64_t rsvd;
};

/* One READ or WRITE through the attribute road.  The kernel reads @attr
 * when it takes the SQE: keep the struct until the command completed.
 * Reference tags: the kernel rewrites tuples tagged seed+i to LBA+i on a
 * write and back on a read (7.2.13).  With a pinned metadata buffer the
 * write's rewrite lands in the caller's buffer; with io.reftag (the seed)
 * equal to slba nothing changes.
 * Vectored data (NVMETA_IO_VEC in io.flags, 0.6): io.data points to an
 * array of io.data_len struct iovec, as for passthrough, and the command
 * goes as IORING_OP_READV or IORING_OP_WRITEV with the same attribute.
 * The metadata stays one buffer (io.meta, io.meta_len): the attribute has
 * one address and one length.  Keep the array and the memory it names
 * until the command completes.  Host PI (NVMETA_IO_PI_GENERATE, _VERIFY)
 * works over the iovecs, blocks and tuples split wherever they are cut. */
struct nvmeta_rw {
	struct nvmeta_io io;	/* READ or WRITE; slba, nlb, data, meta; the
				 * PRCHK bits of prinfo become the check flags,
				 * apptag the app tag, reftag the seed; the
				 * metadata buffer is optional; flags FUA,
				 * NVMETA_IO_VEC (below) and
				 * NVMETA_IO_PI_GENERATE (a write's PI made on
				 * the host from these tags) or
				 * NVMETA_IO_PI_VERIFY (a read's checked by
				 * nvmeta_complete_rw() or nvmeta_rw_sync()) */
	struct nvmeta_attr_pi attr;	/* filled by nvmeta_prep_rw() */
	uint64_t user_data;	/* nvmeta_queue_rw(): reported by nvmeta_reap() */
	uint64_t resv[3];	/* zero: room to grow */
};

/*
 * nvmeta_prep_rw - check @rw against @b and fill @sqe (64 or 128 bytes)
 * with IORING_OP_READ or IORING_OP_WRITE of nlb blocks at slba, the data
 * buffer, and, when rw->io.meta is set, the PI attribute pointing at
 * rw->attr.  With NVMETA_IO_PI_GENERATE the write's PI is generated into
 * the metadata buffer first (guard over each block, rw->io's tags, the
 * reference tag counting up from the seed).  The caller sets user_data,
 * and finishes the completion with nvmeta_complete_rw().
 * Returns 0, or -EOPNOTSUPP (the kernel does not honour the attribute:
 * see nvmeta_bdev_road()), -EINVAL (not a read or write, flags this road
 * has no use for, reserved fields), -ERANGE, -E2BIG, -EMSGSIZE (data not
 * nlb blocks), -EOVERFLOW (metadata not nlb x ms: the kernel wants
 * exactly that), -EPROTO (metadata on a device without an integrity
 * profile), -EFAULT (data not aligned as O_DIRECT needs), -ENODATA (host
 * PI work without a metadata buffer), -EPROTO (host PI work on a device
 * whose kernel shows no NVMe PI).
 * With NVMETA_IO_VEC the SQE is IORING_OP_READV or IORING_OP_WRITEV, addr
 * the iovec array and len their count, and the iovecs follow
 * passthrough's rules (nvmeta_io_validate()): -EFAULT for no array, an
 * empty, NULL or wrapping iovec, -E2BIG for more than 1024 (UIO_MAXIOV)
 * or than max_segments, -EMSGSIZE when their lengths do not add up to
 * nlb blocks.  O_DIRECT's own: -EFAULT for an iovec whose address is off
 * dma_alignment, or whose length is not a multiple of the logical block
 * size (before Linux 6.18, or an unknown kernel) or of the DMA alignment
 * (6.18 on): the kernel would fail the I/O with EINVAL.
 */
int nvmeta_prep_rw(const struct nvmeta_bdev *b, struct io_uring_sqe *sqe, struct nvmeta_rw *rw);

/*
 * nvmeta_rw_complete - what the completion result @res (cqe->res) of
 * @rw's command means: a READ or WRITE completes with the bytes it
 * moved, not with an NVMe status.  Returns 0 when all of the data moved,
 * -EIO for a short transfer, or the kernel's negative errno, with a
 * message naming the blocks; -EILSEQ reads "integrity check failed:" and
 * names the checks the device was asked for, the seed and the app tag
 * (the errno itself names neither the field nor the block).  No host PI
 * verification: nvmeta_complete_rw() adds it.
 */
int nvmeta_rw_complete(const struct nvmeta_rw *rw, int res);

/*
 * nvmeta_complete_rw - finish an attribute-road command the caller queued
 * with nvmeta_prep_rw() on its own ring and reaped itself, as
 * nvmeta_complete() does for passthrough: @cqe's result decoded as
 * nvmeta_rw_complete() decodes it (res->status.err: the errno, or 0;
 * res->status.result: the bytes moved), then, for a read with
 * NVMETA_IO_PI_VERIFY, its PI verified on the host against rw->io's tags
 * (the reference tag is the seed, as the kernel hands tuples back), every
 * bad block listed in res->errors.  No system call, no allocation, no
 * string unless it fails.
 * Returns 0, -EIO for a short transfer, the kernel's negative errno
 * (-EILSEQ: "integrity check failed: ..."), -EILSEQ when host
 * verification found a bad block (res->pi, res->errors), or -EPROTO,
 * -EOVERFLOW for verification the device or buffers cannot have.
 */
int nvmeta_complete_rw(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw,
		       const struct io_uring_cqe *cqe, struct nvmeta_result *res);

/*
 * nvmeta_queue_rw - nvmeta_prep_rw() into an SQE of @ring, tagged so that
 * nvmeta_reap() knows the command's road: its completion is reported with
 * rw->user_data and decoded by nvmeta_rw_complete().  Keep @rw until then.
 * NVMETA_IO_PI_VERIFY is refused (-EINVAL): nvmeta_reap() keeps no device
 * to verify against; reap such reads yourself with nvmeta_complete_rw().
 * Returns 0, the errors of nvmeta_prep_rw(), -EBUSY when the submission
 * queue is full or as many of the library's commands are in flight on
 * the ring as its completion queue has entries.
 */
int nvmeta_queue_rw(const struct nvmeta_bdev *b, struct io_uring *ring, struct nvmeta_rw *rw);

/*
 * nvmeta_rw_sync - nvmeta_prep_rw(), submit, and wait for that command's
 * completion alone (as nvmeta_io_sync() does, with the same promise: a
 * call that fails leaves nothing that reaches the device later).
 * Returns 0 when all of the data moved, -EIO for a short transfer, the
 * errors of nvmeta_prep_rw(), -EBUSY (as nvmeta_io_sync()), the
 * kernel's negative errno (-EILSEQ: an integrity check failed), or
 * -EILSEQ when NVMETA_IO_PI_VERIFY found a bad block (the message names
 * the first and how many; nvmeta_complete_rw() lists them all).
 */
int nvmeta_rw_sync(const struct nvmeta_bdev *b, struct io_uring *ring, struct nvmeta_rw *rw);

/*
 * nvmeta_predict_rw - what the running kernel does with @rw's buffers on
 * @b's attribute road, before any I/O (0.6).  @data: the data, flat or
 * vectored (NVMETA_IO_VEC), for the whole command.  O_DIRECT never copies
 * data: NVMETA_PATH_PIN, or NVMETA_PATH_FAIL with -EINVAL when the total
 * is not whole logical blocks or an iovec is off what O_DIRECT wants
 * (address off dma_alignment; length not whole logical blocks before
 * Linux 6.18, not a multiple of the DMA alignment from 6.18), -EFAULT for
 * a NULL base or a range that wraps, -EINVAL for more than 1024 iovecs;
 * segments are counted but fail nothing (the kernel builds more bios).
 * @meta: the PI attribute's buffer, as nvmeta_predict() predicts
 * metadata (the kernel maps it through the same pin-or-copy decision);
 * without a metadata buffer, NVMETA_PATH_PIN and a reason saying so.
 * Either may be NULL.  Reads /proc/self/pagemap as nvmeta_predict() does.
 * Returns 0, or -EINVAL for no data.
 */
int nvmeta_predict_rw(const struct nvmeta_bdev *b, const struct nvmeta_rw *rw,
		      struct nvmeta_prediction *data, struct nvmeta_prediction *meta);

#ifdef __cplusplus
}
#endif

#endif /* NVMETA_RW_H */
