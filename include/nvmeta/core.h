/* SPDX-License-Identifier: MIT */
/*
 * nvmeta/core.h: errors and version, devices, commands and their
 * status, rings, and the inline encoder for a caller's own ring.
 */
#ifndef NVMETA_CORE_H
#define NVMETA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>
#include <sys/uio.h>
#include <linux/nvme_ioctl.h>
#include <liburing.h>

/* liburing before 2.3 does not name it; the kernel has it from 6.1. */
#ifndef IORING_URING_CMD_FIXED
#define IORING_URING_CMD_FIXED	(1U << 0)
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define NVMETA_VERSION_MAJOR 0
#define NVMETA_VERSION_MINOR 6

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * nvmeta_last_error - the message of the calling thread's last failure.
 * Returns a NUL-terminated string owned by the library, valid until the
 * next failing call on the same thread; "" if nothing has failed yet.
 */
const char *nvmeta_last_error(void);

/* nvmeta_version - the library version as "MAJOR.MINOR.PATCH"; never fails. */
const char *nvmeta_version(void);

/*
 * nvmeta_version_check - whether the library running now serves a
 * program built against the headers of version @major.@minor: the same
 * major version and a minor version at least as new.  Call it as
 * NVMETA_VERSION_CHECK() at start-up, so that a program built against
 * newer headers than the installed library says so instead of calling
 * functions that are not there.  Returns 0, or -ENOTSUP with a message
 * naming both versions.
 */
int nvmeta_version_check(unsigned int major, unsigned int minor);
#define NVMETA_VERSION_CHECK() \
	nvmeta_version_check(NVMETA_VERSION_MAJOR, NVMETA_VERSION_MINOR)

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

/* Queue limits of the namespace's request queue, as the kernel set them. */
struct nvmeta_limits {
	uint32_t max_integrity_segments;
	uint32_t dma_alignment;		/* a mask: 3 means 4-byte aligned */
	uint32_t max_segments;
	uint32_t max_segment_size;
	uint32_t max_hw_sectors_kb;
	uint64_t virt_boundary_mask;
	uint32_t logical_block_size;
	char integrity_format[32];	/* "none" when the queue has none */
	uint32_t integrity_tag_size;
	uint32_t integrity_interval;	/* protection_interval_bytes, 0 if absent */
	uint32_t io_poll;		/* 1: the queue has poll queues (IOPOLL rings) */
};

/* The running kernel, from uname(2). */
struct nvmeta_kernel {
	unsigned int major, minor, patch;
	char release[65];
	uint32_t resv[4];	/* zeroed: room to grow */
};

#define NVMETA_KERNEL_AT_LEAST(k, ma, mi) \
	((k)->major > (ma) || ((k)->major == (ma) && (k)->minor >= (mi)))

/* What identify and sysfs say about one namespace. */
struct nvmeta_dev_info {
	char generic_path[64];	/* /dev/ngXnY, the device nvmeta submits to */
	char block_name[32];	/* nvmeXnY, "" if the kernel made none */
	char ctrl_name[32];	/* nvmeX; under native multipath the first
				 * controller with a path to the namespace */
	char model[41];
	char serial[21];
	char firmware[9];
	uint32_t nsid;
	uint64_t nsze;		/* namespace size in logical blocks */
	uint8_t lbaf;		/* index of the format in use */
	uint32_t lba_size;	/* data bytes per logical block */
	uint32_t ms;		/* metadata bytes per logical block */
	bool extended_lba;	/* metadata interleaved with data (FLBAS bit 4) */
	uint8_t pi_type;	/* 0 (none) to 3, from DPS bits 2:0 */
	bool pi_first;		/* PI in the first bytes of metadata (DPS bit 3) */
	uint8_t pif;		/* protection information format: 0, 1, 2 */
	uint8_t guard_bits;	/* 16, 32 or 64 */
	uint8_t pi_size;	/* bytes of one PI tuple: 8 or 16 */
	uint8_t sts;		/* storage tag size in bits (ELBAF bits 6:0) */
	uint8_t mdts;		/* raw MDTS, 0 = no limit */
	uint32_t mdts_bytes;	/* MDTS in bytes, assuming a 4 KiB MPSMIN */
	uint16_t oncs;		/* optional NVM commands */
	uint32_t ctratt;
	uint32_t sgls;
	bool sgl_supported;	/* SGLS bits 1:0 */
	bool sgl_metadata;	/* metadata may use an SGL (SGLS bit 19) */
	struct nvmeta_limits limits;
	struct nvmeta_kernel kernel;
	/* Only the library allocates this struct (callers read it through
	 * nvmeta_dev_info()): later fields are added here, at its end. */
	char subsys_name[32];	/* nvme-subsysN when the namespace is a native
				 * multipath head (its nodes belong to the
				 * subsystem), else "" */
	/* From 0.4: what the commands that change blocks without a data
	 * transfer may do (identify namespace; the I/O command set specific
	 * identify controller, CNS 06h, where the controller has it: else
	 * those fields are 0, not reported). */
	uint8_t dlfeat;		/* DLFEAT: bits 2:0 what a deallocated block reads
				 * as (1: zeroes, 2: ones, 0: not said), bit 3
				 * Write Zeroes takes DEAC, bit 4 the guard of a
				 * deallocated block is the CRC, else 0xFFFF */
	uint8_t msrc;		/* Copy: most source ranges, 0-based as reported */
	uint16_t mssrl;		/* Copy: most blocks in one source range */
	uint32_t mcl;		/* Copy: most blocks in one command */
	uint16_t ocfs;		/* Copy descriptor formats supported, bit n format n */
	uint8_t vsl;		/* Verify size limit: 2^n minimum pages, 0 none */
	uint8_t wzsl;		/* Write Zeroes size limit, likewise */
	uint8_t wusl;		/* Write Uncorrectable size limit, likewise */
	uint8_t dmrl;		/* DSM: most ranges, 0 not reported */
	uint32_t dmrsl;		/* DSM: most blocks in one range, 0 not reported */
	uint64_t dmsl;		/* DSM: most blocks in one command, 0 not reported */
};

struct nvmeta_dev;

/*
 * nvmeta_dev_open - open an NVMe namespace and learn everything about it.
 * @path: /dev/ngXnY, or /dev/nvmeXnY (its generic char device is found),
 *        or a symlink to either, of any length up to PATH_MAX.
 * @devp: on success, the new device; free it with nvmeta_dev_close().
 * No thread is started: a format change is found by nvmeta_dev_check().
 * Returns 0, or -ENOENT (no such device), -ENODEV (not an NVMe namespace),
 * -EACCES/-EPERM (permission), -EIO (identify failed), or -ENOMEM.
 */
int nvmeta_dev_open(const char *path, struct nvmeta_dev **devp);

/*
 * nvmeta_dev_check - whether the namespace still has the format the
 * device was opened (or last refreshed) with, as the kernel shows it in
 * sysfs: capacity, logical block size, metadata bytes, integrity profile.
 * On a difference the device turns stale: this and every later
 * submission on it fail with -ESTALE, naming the change, until
 * nvmeta_dev_refresh().  The check on the submission path is one memory
 * load; this call costs a pread(2) of five attributes opened at open.
 * Any thread may call it, also while others submit on the device.
 * The library calls it never by itself: no thread, no timer.  Call it
 * when a format may have happened: before a batch, from a timer in the
 * application's event loop, or after a command failed.
 * The window that remains: a change is seen at the first call after the
 * kernel learned of it, and commands already in flight are not recalled.
 * The kernel learns of a Format NVM sent through its ioctl before that
 * command returns (it rescans the namespace).  It does not learn of one
 * sent through io_uring (NVME_URING_CMD_ADMIN) or by another host until
 * a rescan or controller reset (measured on 6.1, 6.12 and 7.2), nor, on
 * kernels without metadata_bytes in sysfs (6.1), of one that keeps
 * capacity and block size: those only nvmeta_dev_refresh(), which asks
 * the device, sees.  No event announces a format reliably: the kernel
 * sends a uevent only when the capacity in sectors changes, and no
 * attribute wakes poll(2).
 * Returns 0 when nothing changed, -ESTALE when the format changed (now or
 * before), or the errno of reading sysfs.
 */
int nvmeta_dev_check(struct nvmeta_dev *dev);

/*
 * nvmeta_dev_refresh - identify the namespace again, re-read the kernel's
 * limits, and clear a stale mark.  Call it after formatting a namespace,
 * or when a submission failed with -ESTALE, once no command is in flight.
 * It rewrites the description every submission reads (the bounds and the
 * SQE template decided once per device): no other thread may submit on,
 * check or read the device while it runs.
 * Buffers sized for the old format must be re-made by the caller.
 * Returns 1 when the format changed, 0 when it did not, or the errors of
 * nvmeta_dev_open() (the device keeps its old description and stays
 * stale).
 */
int nvmeta_dev_refresh(struct nvmeta_dev *dev);

/* nvmeta_dev_close - close the device and free it; NULL is allowed. */
void nvmeta_dev_close(struct nvmeta_dev *dev);

/* nvmeta_dev_info - the device's identify and limits; never fails. */
const struct nvmeta_dev_info *nvmeta_dev_info(const struct nvmeta_dev *dev);

/* nvmeta_dev_fd - the open file descriptor of the generic char device. */
int nvmeta_dev_fd(const struct nvmeta_dev *dev);

/*
 * nvmeta_kernel_read - fill @k with the running kernel's version.
 * Returns 0, or -errno when uname(2) fails or the release cannot be parsed.
 */
int nvmeta_kernel_read(struct nvmeta_kernel *k);

/*
 * nvmeta_list - the generic char device paths of every NVMe namespace on
 * the machine, found through libnvme's topology scan.
 * @paths: on success a malloc'd array of malloc'd strings; free with
 *         nvmeta_list_free().
 * Returns the number of namespaces (0 is not an error; *paths is then
 * NULL, which nvmeta_list_free() accepts), or -ENOMEM, -EIO when the scan
 * fails.
 */
int nvmeta_list(char ***paths);

/* nvmeta_list_free - free what nvmeta_list() returned. */
void nvmeta_list_free(char **paths, int count);

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

enum nvmeta_opcode {
	NVMETA_OP_WRITE		= 0x01,
	NVMETA_OP_READ		= 0x02,
	NVMETA_OP_WRITE_UNCOR	= 0x04,	/* Write Uncorrectable */
	NVMETA_OP_COMPARE	= 0x05,
	NVMETA_OP_WRITE_ZEROES	= 0x08,
	NVMETA_OP_DSM		= 0x09,	/* Dataset Management: deallocate */
	NVMETA_OP_VERIFY	= 0x0c,
	NVMETA_OP_COPY		= 0x19,
};

/* PRINFO bits, as in CDW12 bits 29:26 shifted down. */
enum nvmeta_prinfo {
	NVMETA_PRCHK_REF	= 1 << 0,
	NVMETA_PRCHK_APP	= 1 << 1,
	NVMETA_PRCHK_GUARD	= 1 << 2,
	NVMETA_PRACT		= 1 << 3,
};

/* Copy only: prinfo's low four bits are PRINFOW, for the writes of the
 * destination (CDW12 bits 29:26), its high four bits PRINFOR, for the
 * reads of the source ranges (CDW12 bits 15:12).  Other commands refuse
 * the high bits. */
#define NVMETA_COPY_PRINFO(write, read)	((uint8_t)(((write) & 0xf) | ((read) & 0xf) << 4))

enum nvmeta_io_flags {
	/* Skip every check before submission: for testing kernels only. */
	NVMETA_IO_RAW		= 1 << 0,
	/* Force unit access (CDW12 bit 30). */
	NVMETA_IO_FUA		= 1 << 1,
	/* Do not populate a read's metadata pages before submission.  By
	 * default they are populated for writing (one madvise(2) a read) on
	 * a device whose kernel, probed once at open, pins them read-only
	 * (Linux 6.12) and would write never-touched pages into the shared
	 * zero page; elsewhere nothing is done.  Set it for memory made
	 * ready once (nvmeta_slots_create(), nvmeta_buf_alloc(),
	 * nvmeta_mem_prepare()), and to test kernels. */
	NVMETA_IO_NO_PREFAULT	= 1 << 2,
	/* The data buffer lies inside buffer io->buf_index registered with
	 * io_uring_register_buffers() on the ring the command goes to
	 * (IORING_URING_CMD_FIXED): the kernel skips pinning it per command.
	 * The metadata buffer is never a registered one.  Needs a kernel
	 * whose answer to nvmeta_ring_probe() has NVMETA_FEAT_FIXED_BUF. */
	NVMETA_IO_FIXED_BUF	= 1 << 3,
	/* Submit through file io->file_index registered with
	 * io_uring_register_files() on the ring (IOSQE_FIXED_FILE), not
	 * through the device's descriptor: no file reference per command. */
	NVMETA_IO_FIXED_FILE	= 1 << 4,
	/* Generate the protection information of a write's blocks on the
	 * host before submission (the guard over the data, and reftag,
	 * apptag and storage_tag): see <nvmeta/pi.h>.  Costs nothing when
	 * not set. */
	NVMETA_IO_PI_GENERATE	= 1 << 5,
	/* Verify a read's protection information on the host when it
	 * completes: nvmeta_io_sync(); for commands queued with
	 * nvmeta_queue_request(), nvmeta_reap(); for SQEs the caller filled
	 * with nvmeta_prep() and reaped itself, nvmeta_complete().  A
	 * mismatch fails the command with -EILSEQ naming the block and
	 * field.  Checks io->pi_checks (0: every field; the app tag under
	 * appmask).
	 * Apart from NVMETA_IO_PI_GENERATE: each is asked for by itself. */
	NVMETA_IO_PI_VERIFY	= 1 << 6,
	/* Deallocate: on Write Zeroes the DEAC bit (CDW12 bit 25: the
	 * controller may deallocate the blocks it zeroes, see DLFEAT bit 3),
	 * on Dataset Management the Attribute - Deallocate (AD, CDW11 bit 2),
	 * which that command needs.  Refused on every other command. */
	NVMETA_IO_DEAC		= 1 << 7,
	/* Vectored data (NVME_URING_CMD_IO_VEC, Linux 5.19): io->data points
	 * to an array of io->data_len struct iovec (a const struct iovec *,
	 * cast), not to the bytes, and io->data_len counts those iovecs, not
	 * bytes.  The iovecs hold the command's data in order: their lengths
	 * add up to what a flat buffer would hold (nlb x
	 * nvmeta_io_block_bytes()); a block may be split anywhere.  The
	 * metadata stays one contiguous buffer (meta, meta_len), as the
	 * kernel takes it.  Reads, writes and compares only.  The kernel
	 * reads the array when it issues the command, which may be after the
	 * submission returned: keep the array and the memory it names valid
	 * until the command completes.  With NVMETA_IO_FIXED_BUF every iovec
	 * must lie inside registered buffer io->buf_index; Linux 6.16 takes
	 * that, 6.12 refuses it (EINVAL, worded on completion).  Host
	 * PI (NVMETA_IO_PI_GENERATE, NVMETA_IO_PI_VERIFY) works over the
	 * iovecs as nvmeta_pi_generate_iov() and nvmeta_pi_verify_iov() do:
	 * the same tuples and the same report as a flat buffer's, wherever
	 * the iovecs split a block.  nvmeta_predict_iov() says pin, bounce or
	 * fail for the whole array.  The attribute road takes it too: see
	 * struct nvmeta_rw. */
	NVMETA_IO_VEC		= 1 << 8,
};

/* One NVMe I/O command, in the terms a caller thinks in.  Zero it before
 * filling it in (a designated initializer does): the reserved fields
 * must be zero, and a later version may give them a meaning. */
struct nvmeta_io {
	uint8_t opcode;		/* enum nvmeta_opcode */
	uint8_t prinfo;		/* enum nvmeta_prinfo */
	uint16_t apptag;
	uint16_t appmask;
	uint16_t buf_index;	/* NVMETA_IO_FIXED_BUF: the registered buffer */
	uint32_t flags;		/* enum nvmeta_io_flags */
	uint32_t nlb;		/* number of blocks, 1-based; Dataset
				 * Management and Copy: number of ranges */
	uint64_t slba;		/* Copy: the first destination block */
	uint64_t reftag;	/* 32 bits, 48 with a 64-bit guard */
	uint64_t storage_tag;	/* the top info->sts bits of the tag space */
	void *data;		/* Dataset Management and Copy: the ranges */
	void *meta;
	uint32_t data_len;
	uint32_t meta_len;
	uint32_t timeout_ms;	/* 0: the kernel's default */
	uint32_t file_index;	/* NVMETA_IO_FIXED_FILE: the registered file */
	uint32_t pi_checks;	/* NVMETA_IO_PI_VERIFY: enum nvmeta_pi_checks */
	uint32_t resv0;		/* zero: room to grow */
	uint64_t resv[3];	/* zero: room to grow */
};

/* Every flag above: a later version may give the other bits a meaning,
 * so they are refused (-EINVAL) rather than ignored. */
#define NVMETA_IO_FLAGS_KNOWN		0x1ffu

/*
 * The user_data range of the library's own commands: sync calls, the ring
 * probe, nvmeta_queue_request() and nvmeta_queue_rw().  The low 32 bits
 * name a slot of a table the library keeps per ring and its generation,
 * so no tag repeats while its command may complete.  nvmeta_reap()
 * interprets a completion only when its tag names a slot in flight on
 * that ring; anything else in the range is the application's and is
 * returned as it is.  nvmeta_queue() refuses the range; an application
 * that fills SQEs itself should keep out of it too.  Not near UINT64_MAX:
 * liburing 2.3 takes that for its own timeouts.
 */
#define NVMETA_TAG_USER_DATA		0x6e766d6500000000ULL	/* "nvme" */
#define NVMETA_TAG_USER_DATA_MASK	0xffffffff00000000ULL
/* The top half alone compared: a shift and a compare with an immediate,
 * where the mask and the mark would each take a register. */
#define NVMETA_IS_TAG_USER_DATA(ud) \
	((uint32_t)((uint64_t)(ud) >> 32) == (uint32_t)(NVMETA_TAG_USER_DATA >> 32))

/*
 * nvmeta_io_validate - check @io against @dev before it is submitted:
 * block count against MDTS and max_hw_sectors, range within the
 * namespace, data length against nlb x block size (including metadata
 * for extended LBA, except with PRACT where the metadata is exactly the
 * PI: then the controller inserts or strips it and nlb x block size
 * moves), metadata length against nlb x ms (the kernel does not check
 * it, and a short buffer lets the device write past its end), no
 * metadata buffer where the namespace has none, the opcode against ONCS.
 * Each command's own rules too:
 *  - Write Zeroes, Verify and Write Uncorrectable move nothing: no data
 *    nor metadata buffer.  MDTS does not bound them: their own limits do
 *    (WZSL, VSL, WUSL of the I/O command set specific identify
 *    controller, where reported).  Write Uncorrectable carries no PRINFO,
 *    tags nor FUA.
 *  - Dataset Management (deallocate) and Copy take their range list as
 *    data: nlb ranges (1 to 256) of 16 bytes (nvmeta_dsm_range()) or of
 *    nvmeta_copy_desc_bytes() (nvmeta_copy_range()), exactly nlb of them
 *    in data_len, no metadata buffer.  Every range is read and checked:
 *    inside the namespace, not empty, within DMRSL/DMRL/DMSL (DSM) or
 *    MSSRL/MSRC/MCL (Copy); the Copy's destination, slba and the sum of
 *    the source ranges, inside the namespace; its descriptor format among
 *    those OCFS lists.  Dataset Management needs NVMETA_IO_DEAC and
 *    carries no PRINFO, tags nor FUA; its slba must be 0.
 *  - NVMETA_IO_VEC (reads, writes, compares): 1 to 1024 iovecs
 *    (UIO_MAXIOV, the kernel's limit) and no more than max_segments
 *    (nvmeta's caution), none empty nor NULL nor wrapping, their lengths
 *    adding up to the data length a flat buffer would need; with
 *    NVMETA_IO_FIXED_BUF not a kernel before 6.12, where sending it is a
 *    known defect (linux-6.1-vec-fixed-buf-warn: a WARN and a leaked
 *    request); 6.12 refuses it itself (EINVAL; 6.16 takes it), and the
 *    completion's message names the cause.  Alignment is not
 *    refused: an iovec off it makes the kernel copy the data
 *    (nvmeta_predict_iov()).  The metadata is checked as for any command.
 * NVMETA_IO_RAW in io->flags skips all of it but what the command's
 * fields cannot carry: nlb, prinfo, the tags and the flags a command has
 * no bit for are checked even then.
 * Returns 0, or one distinct negative errno per failure:
 *   -EINVAL       unknown opcode, reserved prinfo bits (PRINFOR bits on a
 *                 command other than Copy), a reference or storage tag
 *                 wider than the format's tag space (32, 48 or 80 bits by
 *                 guard size, the storage tag in the top info->sts bits),
 *                 NVMETA_IO_DEAC on a command without the bit, PRINFO,
 *                 tags or FUA on one that has no room for them, a Dataset
 *                 Management without NVMETA_IO_DEAC or with an slba, or a
 *                 range or descriptor with reserved bits set
 *   -EDOM         nlb is 0 or above 65536 (ranges: above 256), or a
 *                 range of 0 blocks
 *   -ERANGE       slba + nlb beyond the namespace size; a range, or a
 *                 Copy's destination, beyond it
 *   -E2BIG        transfer above MDTS or the queue's max_hw_sectors, or a
 *                 metadata buffer longer than max_hw_sectors (the kernel
 *                 maps all of meta_len, not nlb x ms); a command above its
 *                 own limit (WZSL, VSL, WUSL, DMRL, DMRSL, DMSL, MSRC,
 *                 MSSRL, MCL)
 *   -EFAULT       a length without a buffer, or a buffer without a length
 *   -EMSGSIZE     data length differs from what nlb needs
 *   -ENODATA      metadata needed but no metadata buffer
 *   -EOVERFLOW    metadata buffer shorter than nlb x ms
 *   -EPROTO       metadata buffer on a namespace without separate metadata
 *   -EOPNOTSUPP   the namespace does not support the command (ONCS), or
 *                 the Copy descriptor format it needs (OCFS); NVMETA_IO_VEC
 *                 with NVMETA_IO_FIXED_BUF before Linux 6.12
 * With NVMETA_IO_VEC: -EINVAL on a command that moves no data (even RAW),
 * -EFAULT for no array, an empty, NULL or wrapping iovec, -E2BIG for more
 * iovecs than 1024 or max_segments, -EMSGSIZE when their lengths do not
 * add up to the data length nlb needs.
 */
int nvmeta_io_validate(const struct nvmeta_dev *dev, const struct nvmeta_io *io);

/*
 * nvmeta_io_block_bytes - the bytes one block of @io takes in its data
 * buffer on the namespace @info describes: the block size, plus the
 * metadata on an extended LBA format unless PRACT is set and the metadata
 * is exactly the PI (the controller then inserts or strips it).  The data
 * length nvmeta_io_validate() wants is nlb times this.  Never fails.
 */
uint32_t nvmeta_io_block_bytes(const struct nvmeta_dev_info *info, const struct nvmeta_io *io);

/*
 * nvmeta_prep - validate @io (unless NVMETA_IO_RAW) and fill @sqe, a
 * 128-byte SQE from a ring set up with SQE128 and CQE32, with an
 * IORING_OP_URING_CMD / NVME_URING_CMD_IO command.  The caller sets
 * user_data afterwards.  @sqe must come from such a ring: nvmeta_prep()
 * sees only the SQE and cannot check (nvmeta_queue() does).  On a
 * device whose kernel pins a read's metadata without write access, the
 * pages are populated for writing first (see NVMETA_IO_NO_PREFAULT).
 * The SQE is filled as nvmeta_prep_cmd() fills it.  NVMETA_IO_PI_GENERATE
 * generates a write's PI here; NVMETA_IO_PI_VERIFY is taken on a read:
 * the caller finishes its CQE with nvmeta_complete(), which verifies.
 * Returns 0, the errors of nvmeta_io_validate(), -EINVAL for flags
 * outside NVMETA_IO_FLAGS_KNOWN,
 * -ESTALE when the namespace's format changed since it was identified
 * (see nvmeta_dev_check()), or -EFAULT when the metadata buffer of a read
 * is not writable memory.
 */
int nvmeta_prep(const struct nvmeta_dev *dev, struct io_uring_sqe *sqe,
		const struct nvmeta_io *io);

/* Whether an opcode moves data and metadata (the others ignore both). */
static inline bool nvmeta_opcode_transfers(uint8_t opcode)
{
	return opcode == NVMETA_OP_READ || opcode == NVMETA_OP_WRITE ||
	       opcode == NVMETA_OP_COMPARE;
}

/*
 * nvmeta_opcode_ranges - whether an opcode takes a list of ranges as its
 * data (Dataset Management, Copy): io->nlb counts ranges, io->data holds
 * them, and no metadata moves.
 */
static inline bool nvmeta_opcode_ranges(uint8_t opcode)
{
	return opcode == NVMETA_OP_DSM || opcode == NVMETA_OP_COPY;
}

/* The bytes of one Dataset Management range (NVM Command Set). */
#define NVMETA_DSM_RANGE_BYTES	16u

/*
 * nvmeta_dsm_range - write range @i of a Dataset Management range list at
 * @list: @nlb blocks from @slba, context attributes 0, little-endian as
 * the controller reads it.  @list holds at least (@i + 1) x 16 bytes; no
 * alignment needed.  Never fails.
 */
static inline void nvmeta_dsm_range(void *list, unsigned int i, uint64_t slba, uint32_t nlb)
{
	unsigned char *r = (unsigned char *)list + (size_t)i * NVMETA_DSM_RANGE_BYTES;
	uint32_t cattr = 0, len = htole32(nlb);
	uint64_t lba = htole64(slba);

	memcpy(r, &cattr, 4);
	memcpy(r + 4, &len, 4);
	memcpy(r + 8, &lba, 8);
}

/*
 * nvmeta_copy_desc_format - the Copy source range descriptor format the
 * namespace @info describes takes: 0 (32 bytes, a 32-bit expected
 * reference tag) with the 16-bit guard, or no PI format, and 1 (40 bytes,
 * the 80-bit storage and reference tag space) with the 32- and 64-bit
 * guards (NVM Command Set, Copy).  The controller lists the formats it
 * takes in OCFS (info->ocfs).
 */
static inline unsigned int nvmeta_copy_desc_format(const struct nvmeta_dev_info *info)
{
	return info->pif ? 1 : 0;
}

/* nvmeta_copy_desc_bytes - the bytes of one such descriptor: 32 or 40. */
static inline unsigned int nvmeta_copy_desc_bytes(const struct nvmeta_dev_info *info)
{
	return nvmeta_copy_desc_format(info) ? 40 : 32;
}

/*
 * nvmeta_copy_range - write source range @i of a Copy's descriptor list
 * at @list, in the format the namespace @info takes: @nlb blocks (1 to
 * 65536) from @slba, and the expected PI of the source blocks the
 * controller checks under PRINFOR: initial reference tag @reftag (32
 * bits; 48 with a 64-bit guard, in the low bits of the 80-bit space of
 * format 1, stored most significant byte first as the specification
 * lays the tag space out), application tag @apptag under @appmask.
 * Storage tags are not written (0).  @list holds at least (@i + 1) x
 * nvmeta_copy_desc_bytes() bytes; no alignment needed.  No checks: a
 * value too wide is cut; nvmeta_io_validate() reads the list back.
 */
static inline void nvmeta_copy_range(const struct nvmeta_dev_info *info, void *list,
				     unsigned int i, uint64_t slba, uint32_t nlb,
				     uint64_t reftag, uint16_t apptag, uint16_t appmask)
{
	unsigned int size = nvmeta_copy_desc_bytes(info), k;
	unsigned char *d = (unsigned char *)list + (size_t)i * size;
	uint64_t lba = htole64(slba);
	uint16_t n = htole16((uint16_t)(nlb - 1)), at = htole16(apptag), am = htole16(appmask);
	uint32_t ref32 = htole32((uint32_t)reftag);

	memset(d, 0, size);
	memcpy(d + 8, &lba, 8);
	memcpy(d + 16, &n, 2);
	if (size == 32) {
		memcpy(d + 24, &ref32, 4);
		memcpy(d + 28, &at, 2);
		memcpy(d + 30, &am, 2);
		return;
	}
	for (k = 0; k < 8; k++)		/* bytes 35 down to 28: the low 64 bits */
		d[35 - k] = (unsigned char)(reftag >> (8 * k));
	memcpy(d + 36, &at, 2);
	memcpy(d + 38, &am, 2);
}

/*
 * nvmeta_encode_tags - put the reference tag and storage tag of @io into
 * the command's tag space: CDW14, plus CDW3 bits 15:0 with a 64-bit
 * guard (48 bits), plus CDW3 and CDW2 bits 15:0 with a 32-bit guard (80
 * bits).  The storage tag takes the top @info->sts bits, the reference
 * tag the rest.  No checks: nvmeta_io_validate() checks that both fit.
 */
static inline void nvmeta_encode_tags(struct nvme_uring_cmd *cmd,
				      const struct nvmeta_dev_info *info,
				      const struct nvmeta_io *io)
{
	unsigned int width = info->guard_bits == 32 ? 80 : info->guard_bits == 64 ? 48 : 32;
	unsigned int shift = width - info->sts;	/* where the storage tag starts */
	uint64_t lo = io->reftag, hi = 0;

	if (info->sts && shift < 64)
		lo |= io->storage_tag << shift;
	if (info->sts && shift > 64)
		hi = io->storage_tag << (shift - 64);
	else if (info->sts && shift > 0)
		hi = io->storage_tag >> (64 - shift);
	cmd->cdw14 = (uint32_t)lo;
	if (width == 48)
		cmd->cdw3 = (uint32_t)(lo >> 32) & 0xffff;
	if (width == 80) {
		cmd->cdw3 = (uint32_t)(lo >> 32);
		cmd->cdw2 = (uint32_t)hi & 0xffff;
	}
}

/*
 * nvmeta_encode_other - the command dwords nvmeta_prep_cmd() writes for
 * the commands that move no data of their own (Write Zeroes, Write
 * Uncorrectable, Verify, Dataset Management, Copy) over what it wrote as
 * for a read: a range list as the data buffer of Dataset Management and
 * Copy, and each command's own CDW10 to CDW15.  Apart, and out of line
 * (cold), so that reads and writes, the hot path, take one branch past it
 * and keep the encoder as small as it was before these commands.
 */
static __attribute__((noinline, cold, unused)) void nvmeta_encode_other(struct nvme_uring_cmd *cmd,
	const struct nvmeta_dev_info *info, const struct nvmeta_io *io)
{
	if (nvmeta_opcode_ranges(io->opcode)) {
		cmd->addr = (uintptr_t)io->data;
		cmd->data_len = io->data_len;
	}
	switch (io->opcode) {
	case NVMETA_OP_WRITE_ZEROES:	/* DEAC: CDW12 bit 25 */
		cmd->cdw12 |= (io->flags & NVMETA_IO_DEAC) ? 1U << 25 : 0;
		break;
	case NVMETA_OP_WRITE_UNCOR:	/* SLBA and NLB, nothing else */
		cmd->cdw12 = io->nlb - 1;
		cmd->cdw2 = cmd->cdw3 = cmd->cdw14 = cmd->cdw15 = 0;
		break;
	case NVMETA_OP_DSM:		/* NR in CDW10, AD in CDW11 bit 2 */
		cmd->cdw10 = (io->nlb - 1) & 0xff;
		cmd->cdw11 = (io->flags & NVMETA_IO_DEAC) ? 1U << 2 : 0;
		cmd->cdw12 = 0;
		cmd->cdw2 = cmd->cdw3 = cmd->cdw14 = cmd->cdw15 = 0;
		break;
	case NVMETA_OP_COPY:		/* NR, DESFMT, PRINFOR, PRINFOW, FUA */
		cmd->cdw12 = ((io->nlb - 1) & 0xff) | nvmeta_copy_desc_format(info) << 8 |
			     (uint32_t)(io->prinfo >> 4) << 12 |
			     (uint32_t)(io->prinfo & 0xf) << 26 |
			     ((io->flags & NVMETA_IO_FUA) ? 1U << 30 : 0);
		break;
	default:
		break;
	}
}

/*
 * nvmeta_prep_cmd - encode @io into @sqe, a 128-byte SQE of a ring set up
 * with IORING_SETUP_SQE128 and IORING_SETUP_CQE32, as one
 * IORING_OP_URING_CMD / NVME_URING_CMD_IO command to namespace
 * @info->nsid through descriptor @fd (nvmeta_dev_fd()).  The inline
 * encoder for rings the caller owns, in the manner of liburing's
 * io_uring_prep_*(): no system call, no check, no string, no failure.
 *
 * It sets every field of the SQE and of the NVMe command that the kernel
 * reads (the last 8 of the 80 command bytes are unused and left as they
 * are): opcode, fd, cmd_op and the command, zeroing the others.  With
 * NVMETA_IO_FIXED_FILE it puts @io->file_index in
 * fd and sets IOSQE_FIXED_FILE in flags; with NVMETA_IO_FIXED_BUF it sets
 * IORING_URING_CMD_FIXED and buf_index; with NVMETA_IO_VEC it sends
 * NVME_URING_CMD_IO_VEC, with the iovec array in addr and their count in
 * data_len.  It leaves to the caller, to set
 * afterwards: user_data, personality, and the other IOSQE_* flags
 * (sqe->flags |= ..., so as to keep IOSQE_FIXED_FILE).
 *
 * No PI work is done here: NVMETA_IO_PI_GENERATE and NVMETA_IO_PI_VERIFY
 * are ignored (nvmeta_pi_generate() and nvmeta_complete() or
 * nvmeta_pi_verify() do it, or nvmeta_prep() and nvmeta_queue_request()).
 *
 * Nothing is checked: a command the namespace cannot take, or a metadata
 * buffer shorter than nlb x ms (which the kernel does not check either:
 * the device writes past its end), goes out as it is.  Check each command
 * shape once with nvmeta_io_validate() before encoding it many times, or
 * use nvmeta_prep() or nvmeta_queue(), which check every command.  A
 * format change under an open device is not seen here: see
 * nvmeta_dev_check().  Memory the library made (nvmeta_buf_alloc(),
 * nvmeta_slots_create()) or nvmeta_mem_prepare() readied needs no work
 * per command on any kernel; other memory read into on Linux 6.12 must
 * be populated for writing first (see NVMETA_IO_NO_PREFAULT).
 */
static inline void nvmeta_prep_cmd(struct io_uring_sqe *sqe, int fd,
				   const struct nvmeta_dev_info *info,
				   const struct nvmeta_io *io)
{
	/* The command fills the second half of a 128-byte entry.  Field
	 * stores, as liburing's helpers use, not one memset over both
	 * halves: compilers that see a 64-byte struct io_uring_sqe warn. */
	struct nvme_uring_cmd *cmd = (struct nvme_uring_cmd *)sqe->cmd;
	bool moves = nvmeta_opcode_transfers(io->opcode);
	bool fixed_file = io->flags & NVMETA_IO_FIXED_FILE;
	bool fixed_buf = io->flags & NVMETA_IO_FIXED_BUF;

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->flags = fixed_file ? IOSQE_FIXED_FILE : 0;
	sqe->ioprio = 0;
	sqe->fd = fixed_file ? (int)io->file_index : fd;
	sqe->off = 0;
	/* NVMETA_IO_VEC: NVME_URING_CMD_IO_VEC, one bit above, and the same
	 * addr and data_len fields carry the iovec array and its count.  No
	 * branch: reads and writes keep the one below. */
	sqe->cmd_op = NVME_URING_CMD_IO | ((io->flags >> 8) & 1);
	sqe->addr = 0;
	sqe->len = 0;
	sqe->uring_cmd_flags = fixed_buf ? IORING_URING_CMD_FIXED : 0;
	sqe->user_data = 0;
	sqe->buf_index = fixed_buf ? io->buf_index : 0;
	sqe->personality = 0;
	sqe->file_index = 0;
	cmd->opcode = io->opcode;
	cmd->flags = 0;
	cmd->rsvd1 = 0;
	cmd->nsid = info->nsid;
	cmd->cdw2 = 0;
	cmd->cdw3 = 0;
	cmd->metadata = moves ? (uintptr_t)io->meta : 0;
	cmd->addr = moves ? (uintptr_t)io->data : 0;
	cmd->metadata_len = moves ? io->meta_len : 0;
	cmd->data_len = moves ? io->data_len : 0;
	cmd->cdw10 = (uint32_t)io->slba;
	cmd->cdw11 = (uint32_t)(io->slba >> 32);
	cmd->cdw12 = (io->nlb - 1) | (uint32_t)(io->prinfo & 0xf) << 26 |
		     ((io->flags & NVMETA_IO_FUA) ? 1U << 30 : 0);
	cmd->cdw13 = 0;
	nvmeta_encode_tags(cmd, info, io);
	cmd->cdw15 = io->apptag | (uint32_t)io->appmask << 16;
	cmd->timeout_ms = io->timeout_ms;
	cmd->rsvd2 = 0;
	/* Read, write and compare need nothing more: one branch. */
	if (!moves)
		nvmeta_encode_other(cmd, info, io);
}

/* Which of a command's two buffers. */
enum nvmeta_kind {
	NVMETA_KIND_META,
	NVMETA_KIND_DATA,
};


/* The outcome of one command, decoded from its 32-byte CQE. */
struct nvmeta_status {
	int err;		/* 0, or the negative errno the kernel returned */
	uint16_t status;	/* NVMe status field: SCT << 8 | SC, 0 = success */
	uint8_t sct;		/* status code type */
	uint8_t sc;		/* status code */
	bool dnr;		/* do not retry */
	bool more;
	uint64_t result;	/* completion dword 0 (and 1) */
	uint64_t resv[2];	/* zeroed: room to grow */
};

/*
 * nvmeta_status_decode - split a CQE's result into an errno or an NVMe
 * status.  @cqe must come from a ring set up with CQE32 (its second half
 * holds dword 1 of the result).  Returns 0 when the command succeeded, err when the kernel
 * failed it, or -EIO when the device returned a non-zero NVMe status.
 */
int nvmeta_status_decode(const struct io_uring_cqe *cqe, struct nvmeta_status *st);

/*
 * nvmeta_status_name - the short name libnvme gives @st's status (SCT and
 * SC; DNR and More do not change it), without libnvme's description: such
 * as "LBA Out of Range" or "End-to-end Guard Check Error"; "Successful
 * Completion" for 0; "Unknown" for a code neither libnvme nor nvmeta
 * knows.  The string is constant and lives as long as the process; any
 * thread may call this.
 */
const char *nvmeta_status_name(const struct nvmeta_status *st);

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

/*
 * nvmeta_ring_init - set up @ring with @depth entries, SQE128 and CQE32,
 * as NVMe passthrough needs.  Returns 0, or the negative errno of
 * io_uring_queue_init() (-EINVAL on kernels without big SQEs; -EPERM when
 * io_uring is disabled or filtered, with the sysctl named).
 */
int nvmeta_ring_init(struct io_uring *ring, unsigned int depth);

/*
 * nvmeta_ring_exit - tear down @ring (io_uring_queue_exit()) and free the
 * table the library keeps of its own commands on it.  A ring torn down by
 * io_uring_queue_exit() alone keeps its table until its descriptor number
 * is used by another ring.  Never fails.
 */
void nvmeta_ring_exit(struct io_uring *ring);

/* What a caller asks of nvmeta_ring_setup(). */
enum nvmeta_ring_flags {
	/* Completions are polled, not signalled (IORING_SETUP_IOPOLL): the
	 * namespace needs poll queues (the nvme driver's poll_queues
	 * parameter), else nvmeta_queue() refuses its commands. */
	NVMETA_RING_IOPOLL	= 1 << 0,
	/* A kernel thread takes submissions (IORING_SETUP_SQPOLL): no system
	 * call to submit while it is awake. */
	NVMETA_RING_SQPOLL	= 1 << 1,
	/* Fail unless the kernel takes registered data buffers for
	 * passthrough (IORING_URING_CMD_FIXED, Linux 6.1). */
	NVMETA_RING_FIXED_BUF	= 1 << 2,
};

/* What the kernel answered about a ring, as nvmeta_ring_probe() finds. */
enum nvmeta_ring_features {
	NVMETA_FEAT_BIG		= 1 << 0,	/* SQE128 and CQE32: passthrough fits */
	NVMETA_FEAT_URING_CMD	= 1 << 1,	/* IORING_OP_URING_CMD is known */
	NVMETA_FEAT_FIXED_BUF	= 1 << 2,	/* IORING_URING_CMD_FIXED is taken */
	NVMETA_FEAT_IOPOLL	= 1 << 3,	/* the ring polls for completions */
	NVMETA_FEAT_SQPOLL	= 1 << 4,	/* the ring has a submission thread */
};

/* In and out of nvmeta_ring_setup().  Zero it first: reserved fields must
 * be zero, and a later version may give them a meaning. */
struct nvmeta_ring_params {
	uint32_t flags;			/* in: enum nvmeta_ring_flags */
	uint32_t sq_thread_idle;	/* in: SQPOLL: ms before the thread sleeps,
					 * 0 for the kernel's default (1 s) */
	uint32_t features;		/* out: enum nvmeta_ring_features */
	uint32_t resv[13];		/* zero: room to grow */
};

/*
 * nvmeta_ring_setup - set up @ring with @depth entries for passthrough
 * (SQE128 and CQE32) and the options @p asks for, then ask the kernel
 * what the ring can do (nvmeta_ring_probe()) into @p->features.  Every
 * option is judged by the kernel's answer, not by its version.
 * Returns 0, or a negative errno with a message naming the option:
 *   -EINVAL       unknown flags or non-zero reserved fields in @p
 *   -EOPNOTSUPP   this kernel has no IORING_OP_URING_CMD, or
 *                 NVMETA_RING_FIXED_BUF was asked and the kernel does not
 *                 take registered buffers for passthrough (the ring is
 *                 torn down again)
 *   -EPERM        io_uring disabled, or SQPOLL refused to this user
 *   others        from io_uring_queue_init_params(), naming the flags
 */
int nvmeta_ring_setup(struct io_uring *ring, unsigned int depth,
		      struct nvmeta_ring_params *p);

/*
 * nvmeta_ring_probe - ask the kernel what @ring, set up by the caller or
 * by nvmeta, can do for passthrough: the setup flags it holds
 * (NVMETA_FEAT_BIG, _IOPOLL, _SQPOLL), the opcodes io_uring_get_probe()
 * lists (NVMETA_FEAT_URING_CMD), and whether it takes
 * IORING_URING_CMD_FIXED, found by sending one URING_CMD with the flag
 * that cannot succeed and reading the error it fails with (an unknown
 * flag fails with EINVAL before anything else is looked at).  That
 * command is tagged and reaped like nvmeta_io_sync()'s; other completions
 * stay in the ring.  Call it once per ring, not per command.
 * Returns 0 with the NVMETA_FEAT_* bits in @features, or a negative
 * errno from the kernel.
 */
int nvmeta_ring_probe(struct io_uring *ring, uint32_t *features);

/*
 * nvmeta_io_sync - validate, submit and wait for one command.  It waits
 * for its own completion (tagged in the NVMETA_TAG_USER_DATA range, a tag
 * no other command of the library's in flight on the ring has; SQEs the
 * application fills itself must not carry that range while the call
 * runs) and nothing else:
 * a signal does not end the wait (the command is still in flight, and
 * its buffers in use), and completions of the caller's other commands on
 * the ring stay there, in order, for nvmeta_reap().  Anything queued but
 * not yet submitted is submitted with it.  A call that fails leaves
 * nothing that can reach the device later: when the submission fails, a
 * command the kernel has not taken is turned into a NOP where it lies in
 * the submission queue (a later submission sends the NOP, and
 * nvmeta_reap() drops its completion), and one the kernel took is waited
 * for.
 * @st: when not NULL, receives the decoded completion.
 * Returns 0 on success, -EINVAL for a ring without SQE128 and CQE32, the
 * errors of nvmeta_prep(), -EBUSY when the completion queue is full or
 * overflowing before the command is queued (nothing is queued: reap
 * first) or fills with other completions while it waits (the message
 * says so: the command was sent), a negative errno from the kernel (EPERM
 * and EACCES with the likely cause named), or -EIO when the device
 * returned an NVMe error status (@st holds it).
 */
int nvmeta_io_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
		   const struct nvmeta_io *io, struct nvmeta_status *st);

/*
 * nvmeta_queue - validate @io and queue it on @ring without entering the
 * kernel; io_uring_submit() sends everything queued.  For many commands
 * in flight.  Returns 0, -EINVAL for a ring without SQE128 and CQE32 or
 * for a @user_data in the NVMETA_TAG_USER_DATA range or for
 * NVMETA_IO_PI_VERIFY (nvmeta_reap() hands its completion back
 * unverified: queue it with nvmeta_queue_request(), or fill the SQE with
 * nvmeta_prep() and finish the CQE with nvmeta_complete()), the errors of
 * nvmeta_prep(), or
 * -EBUSY when the submission queue is full (submit, reap, then retry).
 */
int nvmeta_queue(const struct nvmeta_dev *dev, struct io_uring *ring,
		 const struct nvmeta_io *io, uint64_t user_data);

/* One reaped completion. */
struct nvmeta_completion {
	uint64_t user_data;
	int ret;			/* as nvmeta_status_decode() returns */
	struct nvmeta_status status;
	uint64_t resv[4];		/* zeroed: room to grow */
};

/*
 * nvmeta_reap - wait until at least @min completions are there, then take
 * up to @max of them into @out.  Each completion is reported by who
 * queued its command:
 *  - commands the library queued under its own tag (nvmeta_queue_request(),
 *    nvmeta_queue_rw()) are finished as their road needs (a passthrough
 *    status and host PI verification; bytes moved on the attribute road)
 *    and reported with the caller's user_data from the request;
 *  - completions nobody waits for any more (a sync command withdrawn as a
 *    NOP after its submission failed) are dropped;
 *  - every other completion is the application's: nvmeta_queue()'s, or of
 *    SQEs it filled itself, in or out of the NVMETA_TAG_USER_DATA range.
 *    Its user_data is reported as it is, and its result decoded as a
 *    passthrough status: the library never dereferences it.  Reap the
 *    completions of SQEs that nvmeta_prep_rw() filled with
 *    nvmeta_rw_complete(), or queue them with nvmeta_queue_rw().
 * Dropped completions do not count towards @min.
 * Returns the number taken (fewer than @min only when a signal ended the
 * wait), -EINVAL for a ring without SQE128 and CQE32, or a negative errno
 * from io_uring_wait_cqe_nr() when nothing was taken (-EINTR on a
 * signal: call it again).
 */
int nvmeta_reap(struct io_uring *ring, unsigned int min, struct nvmeta_completion *out,
		unsigned int max);

/* ------------------------------------------------------------------ */
#ifdef __cplusplus
}
#endif

#endif /* NVMETA_CORE_H */
