/* SPDX-License-Identifier: MIT */
/*
 * nvmeta-check.h: libnvmeta-check, the kernel and device tester's library
 * (pkg-config nvmeta-check).  It observes the path the kernel took with
 * kprobes (root, tracefs) and runs the copy-back checker and its cases on
 * top of libnvmeta, whose public API is all it uses.  Applications link
 * libnvmeta alone (pkg-config nvmeta) and get none of this.
 *
 * Errors: every function that can fail returns a negative errno, and
 * nvmeta_check_last_error() says why (libnvmeta's own message when a
 * libnvmeta call failed underneath).
 */
#ifndef NVMETA_CHECK_H
#define NVMETA_CHECK_H

#include <nvmeta.h>

#ifdef __cplusplus
extern "C" {
#endif

/* nvmeta_check_last_error - the message of this thread's last failed
 * libnvmeta-check call ("" before any). */
const char *nvmeta_check_last_error(void);

/* Observing the path the kernel took                                  */
/* ------------------------------------------------------------------ */

struct nvmeta_kpath;

/* Machine-wide kprobe hit counts at one moment. */
struct nvmeta_kpath_sample {
	uint64_t hits[4];
	uint64_t resv[4];	/* zero: room to grow */
};

/*
 * nvmeta_kpath_open - register kprobes on the kernel functions that tell
 * the pinned path from the bounce path, for metadata and for data.
 * Needs root and tracefs.  Probes are machine-wide and outlive a process
 * killed before nvmeta_kpath_close(): each open first removes the probes
 * of nvmeta processes that no longer exist (in this pid namespace).
 * Returns 0, -ENOENT (no writable tracefs), or the errno of kprobe_events
 * when this kernel has none of the symbols.
 */
int nvmeta_kpath_open(const struct nvmeta_dev_info *info, struct nvmeta_kpath **kpp);

/* nvmeta_kpath_close - remove the probes and free @kp; NULL is allowed. */
void nvmeta_kpath_close(struct nvmeta_kpath *kp);

/*
 * nvmeta_kpath_sample - read the current hit counts into @s.
 * Returns 0 or the errno of reading kprobe_profile.
 */
int nvmeta_kpath_sample(const struct nvmeta_kpath *kp, struct nvmeta_kpath_sample *s);

/*
 * nvmeta_kpath_observe - the path a @kind buffer took between two samples
 * taken around one command, with the hit counts as @evidence.
 * Returns NVMETA_PATH_PIN or NVMETA_PATH_BOUNCE, or -ENODATA when the
 * kernel did not map such a buffer at all.
 */
int nvmeta_kpath_observe(const struct nvmeta_kpath *kp, enum nvmeta_kind kind,
			 const struct nvmeta_kpath_sample *before,
			 const struct nvmeta_kpath_sample *after, char *evidence, size_t len);

/* ------------------------------------------------------------------ */
/* The copy-back checker                                               */
/* ------------------------------------------------------------------ */

/* Which I/O uses the case's layout: the write, the read back, or both. */
enum nvmeta_check_dir {
	NVMETA_DIR_READ,
	NVMETA_DIR_WRITE,
	NVMETA_DIR_BOTH,
};

enum nvmeta_check_size {
	NVMETA_SIZE_ONE,	/* one block */
	NVMETA_SIZE_FEW,	/* eight blocks */
	NVMETA_SIZE_MAX,	/* the largest transfer MDTS and the queue allow */
};

enum nvmeta_check_flags {
	/* A kernel-weakness probe, not a copy-back: one RAW command (no
	 * validation) of the case's blocks, a READ or a WRITE (dir), whose
	 * metadata buffer is declared one block's metadata long while the
	 * device transfers nlb x ms.  Laid out as the case says, with
	 * canaries right after the declared length.  Linux does not check
	 * metadata_len against nlb x ms (the class of CVE-2023-6238): a
	 * device without metadata SGL writes past a pinned buffer into the
	 * caller's memory, or past the kernel's bounce buffer into its heap
	 * (seen in the kernel log only with slub_debug red zones; the case
	 * is skipped without them).  For testing kernels in a throw-away
	 * machine only: nvmeta-check runs these only when asked. */
	NVMETA_CHECK_SHORT_META	= 1 << 0,
	/* A format change under an open handle: a second handle is opened,
	 * the namespace is formatted (through another descriptor) to the
	 * format with the same block size and the most metadata, and the
	 * handle's nvmeta_dev_check() must find the change (within 2 s) and
	 * its read be refused with ESTALE, nothing past its buffer moved; then the format is restored.
	 * Erases the namespace: nvmeta-check runs it only when asked, and the
	 * caller refreshes its own device afterwards (nvmeta_dev_refresh()). */
	NVMETA_CHECK_REFORMAT	= 1 << 1,
	/* Read into pages never faulted in: the case's read buffer is
	 * allocated with NVMETA_BUF_UNTOUCHED. */
	NVMETA_CHECK_UNTOUCHED	= 1 << 2,
	/* The case's buffers are made read-only with nvmeta_buf_protect()
	 * before the I/O. */
	NVMETA_CHECK_READONLY	= 1 << 3,
	/* End-to-end protection information through the case's path: the
	 * write generates PI on the host (NVMETA_IO_PI_GENERATE; metadata
	 * outside the PI stays the pattern) with reference tags from the
	 * LBA and a fixed application tag, and goes with PRCHK guard, app
	 * and ref (type 3: guard and app); the read back goes with the same
	 * PRCHK and NVMETA_IO_PI_VERIFY, then every byte, PI included, is
	 * compared as in every case.  A PI mismatch on the host after the
	 * device checked the PI on the write and the read is the kernel's
	 * defect; an end-to-end status on the write fails the host's
	 * generation.  Skipped on a namespace without PI.  Not with
	 * NVMETA_CHECK_READONLY (generation writes the source),
	 * NVMETA_CHECK_SHORT_META or NVMETA_CHECK_REFORMAT. */
	NVMETA_CHECK_PI		= 1 << 4,
	/* One block from the start of a registered buffer
	 * (NVMETA_IO_FIXED_BUF) that spans more pages than the queue's
	 * max_segments, after a control from a registration of a few pages:
	 * written and read back exact through the registered memory.  A
	 * kernel that refuses it with EINVAL (Linux 6.1) measures the
	 * registration instead of the command: KERNEL-DEFECT.  Skipped where
	 * the kernel takes no registered buffers for passthrough.  Not with
	 * NVMETA_CHECK_PI. */
	NVMETA_CHECK_FIXED_BUF	= 1 << 5,
	/* One of the NVM commands that change blocks and metadata without
	 * a plain transfer, named by NVMETA_CHECK_CMD() in bits 15:8 (enum
	 * nvmeta_check_command): run on the case's blocks through
	 * passthrough, and the metadata semantics the NVM Command Set gives
	 * it asserted on what reads back.  A controller that answers
	 * Invalid Command Opcode or Invalid Field makes the case SKIP with
	 * that status; where the library refuses the command (ONCS, OCFS)
	 * it is sent RAW to hear the controller.  A controller that breaks
	 * the command's rules is a DEVICE-ERROR.  Separate metadata or none
	 * (extended LBA formats are skipped).  Only with itself and its
	 * command: no other flag. */
	NVMETA_CHECK_COMMAND	= 1 << 6,
	/* The data goes as iovecs (NVMETA_IO_VEC, NVME_URING_CMD_IO_VEC):
	 * the plain data buffer cut at odd places, blocks split across
	 * iovecs, so that the kernel copies the data and its copy back of a
	 * read crosses every iovec boundary; judged byte for byte as every
	 * case, with the case's metadata buffer beside it (a bounced one
	 * forces the metadata copy back too).  Passthrough only.  With
	 * NVMETA_CHECK_PI the library generates the write's PI over the
	 * iovecs and verifies the read's over them. */
	NVMETA_CHECK_VEC	= 1 << 7,
	/* Vectored data on the attribute road (NVMETA_IO_VEC in struct
	 * nvmeta_rw: READV/WRITEV with the PI attribute): the plain data
	 * buffer cut into up to 16 iovecs where O_DIRECT accepts a cut, so
	 * that a read's copy back crosses every iovec boundary.  Inside
	 * blocks, at odd multiples of the DMA alignment, where
	 * nvmeta_predict_rw() says the kernel pins that; else at block
	 * edges (Linux before 6.18 wants each iovec whole blocks).  Judged
	 * byte for byte with the case's metadata buffer beside it.
	 * Attribute road only (passthrough skips it; its vectored cases are
	 * NVMETA_CHECK_VEC); not with NVMETA_CHECK_PI.  Bit 16: bits 15:8
	 * hold a NVMETA_CHECK_COMMAND case's command. */
	NVMETA_CHECK_RW_VEC	= 1 << 16,
};

/* The commands of NVMETA_CHECK_COMMAND cases. */
enum nvmeta_check_command {
	/* Write Zeroes without PRACT: data and metadata, PI included, read
	 * back all 0h. */
	NVMETA_CHECK_CMD_WRITE_ZEROES,
	/* Write Zeroes with PRACT (PI formats): zero data, the PI the
	 * controller generated (guard over the zeroes, the command's app and
	 * reference tags), checked by the device on the read and compared. */
	NVMETA_CHECK_CMD_WRITE_ZEROES_PRACT,
	/* Write Zeroes with DEAC: zeroes, and each block's metadata either
	 * 0h (written) or deallocated as DLFEAT says. */
	NVMETA_CHECK_CMD_WRITE_ZEROES_DEAC,
	/* Dataset Management, deallocate, two ranges: each block keeps its
	 * data and metadata or reads as DLFEAT says (data, and PI whose guard
	 * is 0xFFFF or the CRC by DLFEAT bit 4, app tag 0xFFFF, reference tag
	 * all ones); a read with every PRCHK bit must pass either way. */
	NVMETA_CHECK_CMD_DSM,
	/* Write Uncorrectable: the read fails with Unrecovered Read Error
	 * (0x281) and leaves the data and metadata buffers untouched; a write
	 * makes the blocks readable again. */
	NVMETA_CHECK_CMD_WRITE_UNCOR,
	/* Verify: passes on good blocks; with PI, a stored guard, app tag or
	 * reference tag made wrong fails Verify under that PRCHK bit with
	 * 0x282, 0x283 or 0x284, and passes without it. */
	NVMETA_CHECK_CMD_VERIFY,
	/* Compare with metadata: equal data and metadata succeed; a data
	 * byte or a metadata byte outside the PI that differs is a Compare
	 * Failure (0x285); what a difference in the PI does is reported. */
	NVMETA_CHECK_CMD_COMPARE,
	/* Copy, two source ranges: with PRACT in PRINFOW the destination's
	 * PI is generated anew (reference tags from the destination's LBA),
	 * data and metadata outside the PI carried; without PI, every byte. */
	NVMETA_CHECK_CMD_COPY,
	/* Copy without PRACT (PI formats): the source's PI is carried as it
	 * is, not re-based; PRINFOW's reference tag check against the
	 * destination then fails with 0x284 (types 1 and 2). */
	NVMETA_CHECK_CMD_COPY_CARRY,
	NVMETA_CHECK_CMD_COUNT,
};

/* The command of a NVMETA_CHECK_COMMAND case, in its flags. */
#define NVMETA_CHECK_CMD(cmd)		(NVMETA_CHECK_COMMAND | (uint32_t)(cmd) << 8)
#define NVMETA_CHECK_CMD_OF(flags)	(((flags) >> 8) & 0xffu)

/* One line of the checker's matrix. */
struct nvmeta_check_case {
	const char *name;
	enum nvmeta_kind kind;		/* the buffer laid out the case's way;
					 * the other one stays plain */
	enum nvmeta_check_dir dir;
	enum nvmeta_check_size size;
	enum nvmeta_layout layout;
	size_t offset;
	enum nvmeta_backing backing;	/* of the case's buffer: ANON, MEMFD or HUGE */
	int expect_err;			/* 0: the outcome the prediction gives */
	uint32_t flags;			/* enum nvmeta_check_flags */
	uint64_t resv[4];		/* zero: room to grow */
};

enum nvmeta_verdict {
	NVMETA_VERDICT_PASS,
	NVMETA_VERDICT_SKIP,
	NVMETA_VERDICT_FAIL,		/* unexpected errno or a wrong prediction */
	NVMETA_VERDICT_KERNEL_DEFECT,	/* the kernel returned success, bytes are wrong;
					 * or a short-metadata probe found the kernel
					 * weakness (detail "kernel weakness: ...") */
	NVMETA_VERDICT_DEVICE_ERROR,	/* the device failed a valid command (NVMe status) */
};

struct nvmeta_check_result {
	const struct nvmeta_check_case *tc;
	enum nvmeta_verdict verdict;
	uint32_t nlb;
	uint64_t slba;
	enum nvmeta_layout layout;	/* the case buffer's layout after fallback */
	struct nvmeta_prediction pred;	/* for the case's buffer */
	int observed;			/* enum nvmeta_path the kprobes saw, or -1 */
	char evidence[112];		/* the kprobe hit counts behind it */
	int expect_err;
	int err;			/* what the checked I/O returned */
	const char *where;		/* NULL, "data", "metadata", "canary", ... */
	uint64_t bad_lba;
	size_t bad_offset;		/* byte offset inside that block's data or metadata */
	uint8_t expected, found;
	char detail[384];
	uint64_t resv[4];		/* zero: room to grow */
};

/*
 * nvmeta_check_table - the built-in matrix of cases.
 * Returns the number of cases and points @cases at them; never fails.
 */
int nvmeta_check_table(const struct nvmeta_check_case **cases);

/*
 * nvmeta_check_run - run case @tc on @dev: write a pattern unique to the
 * LBA, the byte and @run, read it back, compare byte for byte, check the
 * canaries and guard pages of every buffer, that the write source did
 * not change, and that never-written memory still reads zero.  With @kp
 * (may be NULL) the path the kernel took is observed too, and a path
 * other than the predicted one fails the case.  Case @index picks a block
 * range of its own.  A NVMETA_CHECK_SHORT_META case writes the whole
 * range first, validated, then sends its RAW command and judges what
 * moved: canary bytes past the declared length (pinned path), the kernel
 * log's slab red-zone reports read from /dev/kmsg (bounce path, root
 * only), or what the device stored past the first block (write).  It
 * passes when the device (metadata SGL) or the kernel refuses and
 * nothing moved.
 * Returns 0 with the verdict in @res, or -EINVAL for a bad case: a
 * backing other than ANON, MEMFD or HUGE, a layout the checker cannot
 * allocate, a non-zero resv, or NVMETA_CHECK_PI with a flag it cannot go
 * with.
 */
int nvmeta_check_run(const struct nvmeta_dev *dev, struct io_uring *ring,
		     struct nvmeta_kpath *kp, const struct nvmeta_check_case *tc,
		     unsigned int index, unsigned int run, struct nvmeta_check_result *res);

struct nvmeta_bdev;

/*
 * nvmeta_check_run_road - nvmeta_check_run() through the attribute road
 * (<nvmeta/rw.h>): the case's write and read go as io_uring WRITE and
 * READ on @bdev, the block device of @dev's namespace, with the metadata
 * buffer in the PI attribute; @dev still describes the namespace and
 * predicts the path.  Cases the road cannot carry (data layouts, which
 * O_DIRECT wants aligned; short metadata, reformat and host PI, which are
 * passthrough's) are skipped with the reason.  @bdev NULL is
 * nvmeta_check_run().  Returns 0 with the verdict in @res, -EINVAL for a
 * bad case, or -EOPNOTSUPP when the kernel does not honour the attribute
 * (nvmeta_bdev_road(): nothing is sent).
 */
int nvmeta_check_run_road(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			  struct io_uring *ring, struct nvmeta_kpath *kp,
			  const struct nvmeta_check_case *tc, unsigned int index, unsigned int run,
			  struct nvmeta_check_result *res);

/* nvmeta_verdict_name - "pass", "skip", "FAIL", "KERNEL-DEFECT" or
 * "DEVICE-ERROR". */
const char *nvmeta_verdict_name(enum nvmeta_verdict verdict);

/* ------------------------------------------------------------------ */
/* Behaviour probes: what this kernel does, found out, not looked up    */
/* ------------------------------------------------------------------ */

/*
 * Behaviours that differ across kernels.  The checker judges every case
 * against what the probe found on the running kernel, never against a
 * kernel version (version numbers name known defects only).
 */
enum nvmeta_check_probe_id {
	/* A one-block read into a read-only (PROT_READ) metadata buffer,
	 * page-aligned, through passthrough: the errno the kernel refuses
	 * it with (value), or 0 when it was accepted (a kernel defect: the
	 * device wrote read-only memory). */
	NVMETA_PROBE_RO_READ_META,
	/* The same at page + 1 (a buffer off dma_alignment). */
	NVMETA_PROBE_RO_READ_META_MIS,
	/* The same with a read-only data buffer and plain metadata. */
	NVMETA_PROBE_RO_READ_DATA,
	/* The two metadata probes through the attribute road (a READ on the
	 * block device, the buffer in the PI attribute). */
	NVMETA_PROBE_RO_READ_META_RW,
	NVMETA_PROBE_RO_READ_META_RW_MIS,
	/* Whether the kernel pins metadata at all: the path the kprobes saw
	 * a one-block, page-aligned metadata buffer take on a passthrough
	 * read (value enum nvmeta_path); unknown without kprobes. */
	NVMETA_PROBE_META_PINNING,
	/* Presence: the block device answers FS_IOC_GETLBMD_CAP (value 1)
	 * or not (0). */
	NVMETA_PROBE_LBMD_CAP,
	/* Presence: the block device shows metadata_bytes in sysfs (value:
	 * 1 present, 0 absent). */
	NVMETA_PROBE_METADATA_BYTES,
	/* The attribute road: 0 open (the kernel honours the PI attribute),
	 * else the errno of nvmeta_bdev_road(). */
	NVMETA_PROBE_RW_ROAD,
	NVMETA_PROBE_COUNT,
};

/* What one probe found. */
struct nvmeta_check_probe {
	const char *name;	/* the key reports use, e.g. "readonly_read_meta_rw" */
	bool known;		/* the probe ran and the kernel answered */
	int value;		/* by probe, see enum nvmeta_check_probe_id */
	char text[24];		/* the value as a word: "EFAULT", "accepted", "pin",
				 * "bounce", "present", "absent", "open", "unknown" */
	char how[232];		/* what was done and what came back */
	uint64_t resv[2];	/* zero: room to grow */
};

/* Every probe of one run: allocated by the caller, filled by
 * nvmeta_check_probe(). */
struct nvmeta_check_probes {
	unsigned int count;	/* NVMETA_PROBE_COUNT of this version */
	struct nvmeta_check_probe probe[16];	/* by enum nvmeta_check_probe_id */
	uint64_t resv[8];	/* zero: room to grow */
};

/*
 * nvmeta_check_probe - find out, on the running kernel, every behaviour
 * of enum nvmeta_check_probe_id, once, before the cases: a few one-block
 * reads of block 0 into buffers of the checker's own (read-only memory
 * of this process only; nothing is written to the device), sysfs and an
 * ioctl.  @bdev (may be NULL) is the block device of @dev's namespace,
 * for the attribute road's probes; @kp (may be NULL) observes the path.
 * A probe that cannot run here is left unknown with the reason in its
 * how.  Returns 0, or -ENOMEM.
 */
int nvmeta_check_probe(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
		       struct nvmeta_kpath *kp, struct nvmeta_check_probes *out);

/*
 * nvmeta_check_run_probed - nvmeta_check_run_road() judged against
 * @probes, the result of nvmeta_check_probe() on the same device (NULL:
 * the probes run for this case alone).  A case whose outcome the kernel
 * chooses (the errno of a refused read-only destination) expects what the
 * probe found, and its detail says so ("probe: ...").  Returns as
 * nvmeta_check_run_road().
 */
int nvmeta_check_run_probed(const struct nvmeta_dev *dev, const struct nvmeta_bdev *bdev,
			    struct io_uring *ring, struct nvmeta_kpath *kp,
			    const struct nvmeta_check_probes *probes,
			    const struct nvmeta_check_case *tc, unsigned int index,
			    unsigned int run, struct nvmeta_check_result *res);

#ifdef __cplusplus
}
#endif

#endif /* NVMETA_CHECK_H */
