/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared inside libnvmeta-check.  Not installed; the unit
 * tests reach them through the static library.
 *
 * libnvmeta-check sits on libnvmeta and uses only its public API
 * (<nvmeta.h>): nothing here reaches into lib/internal.h, so every case of
 * the checker is also a test that the application API is enough.
 *
 * The copy-back checker's state and its judgement, apart from its I/O:
 * the functions below read buffers and outcomes already at hand and set
 * a verdict, so that unit tests can feed them without a device.
 */
#ifndef NVMETA_LIB_CHECK_H
#define NVMETA_LIB_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <nvmeta.h>
#include <nvmeta-check.h>

#define NVMETA_HIDDEN __attribute__((visibility("hidden")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* error.c: record a message for nvmeta_check_last_error() and return
 * @err, so callers can write "return nvmeta_check_fail(-EINVAL, ...)". */
int nvmeta_check_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3))) NVMETA_HIDDEN;

/* error.c: at the start of every public call: until nvmeta_check_fail()
 * records a message, nvmeta_check_last_error() is libnvmeta's message,
 * whose failure the call passed on. */
void nvmeta_check_error_clear(void) NVMETA_HIDDEN;


enum { DATA_BYTES, META_BYTES };

/* One I/O of a case: its buffers and what happened to it. */
struct check_side {
	struct nvmeta_buf *data, *meta;
	bool data_is_case, meta_is_case;
	struct nvmeta_prediction pred;	/* of the case buffer, if this side has it */
	struct nvmeta_status status;	/* of this side's I/O */
	int observed;			/* path the kprobes saw, or -1 */
	char evidence[112];
	/* The path the case buffer must take: the prediction, or where the
	 * probe of pinning says otherwise, the probe's (probe_path_why). */
	enum nvmeta_path expect_path;
	char probe_path_why[120];
};

struct check {
	const struct nvmeta_dev *dev;
	/* Not NULL: the case's I/O goes through the attribute road on this
	 * block device of the same namespace. */
	const struct nvmeta_bdev *bdev;
	const struct nvmeta_dev_info *info;
	struct io_uring *ring;
	const struct nvmeta_check_case *tc;
	struct nvmeta_kpath *kp;
	struct nvmeta_check_result *res;
	unsigned int run;
	uint32_t lba_bytes;	/* bytes one block takes in the data buffer */
	bool has_meta;		/* a separate metadata buffer exists */
	struct check_side src, dst;
	void *sentinel;
	/* What the running kernel does where kernels differ (probe.c). */
	const struct nvmeta_check_probes *probes;
	/* The probe behind the case's expected errno, for its detail. */
	char probe_why[200];
	/* NVMETA_CHECK_VEC: the errno the library's prediction of the data
	 * iovecs allows (nvmeta_check_vec_may_err()), 0 for none. */
	int vec_may_err;
	/* NVMETA_CHECK_PI on a namespace with PI: */
	bool pi;
	struct nvmeta_pi_format pi_fmt;
	struct nvmeta_pi_tags pi_tags;	/* what the write generates */
	uint8_t prchk;			/* enum nvmeta_prinfo, both I/Os */
	/* What the buffers must hold after the write, by DATA_BYTES and
	 * META_BYTES: the pattern with the PI generated over it.  NULL: the
	 * pattern itself. */
	uint8_t *want[2];
	/* NVMETA_CHECK_VEC and _RW_VEC: how the data was cut, for the
	 * detail ("16 iovecs in 4-byte units"). */
	char cut[64];
};

/* check.c: the errno nvmeta_predict_iov() says the kernel may answer
 * the data iovecs @iov (@count of them) with on @info: a failure it
 * predicts, or one that hangs on the pages the kernel allocates (its
 * bounce copy needing more pages than max_segments, as on 6.1); 0. */
int nvmeta_check_vec_may_err(const struct nvmeta_dev_info *info, const struct iovec *iov,
			     unsigned int count) NVMETA_HIDDEN;

/* verdict.c: set @r's verdict and its detail. */
void nvmeta_check_verdict_v(struct nvmeta_check_result *r, enum nvmeta_verdict v,
			    const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0))) NVMETA_HIDDEN;
void nvmeta_check_verdict(struct nvmeta_check_result *r, enum nvmeta_verdict v,
			  const char *fmt, ...) __attribute__((format(printf, 3, 4))) NVMETA_HIDDEN;

/* Fill @b with the pattern of @c's blocks: @per bytes a block, @kind
 * DATA_BYTES or META_BYTES. */
void nvmeta_check_fill(struct nvmeta_buf *b, const struct check *c, size_t per,
		       int kind) NVMETA_HIDDEN;

/*
 * Compare @s's buffers with the pattern.  A wrong byte is the kernel's
 * defect: the verdict names the path predicted for @s's own case buffer
 * (not the result's prediction, which is filled in only after the case).
 * Returns true when every byte matches.
 */
bool nvmeta_check_bytes_match(struct check *c, const struct check_side *s,
			      const char *data_where, const char *meta_where) NVMETA_HIDDEN;

/* What a short-metadata probe (NVMETA_CHECK_SHORT_META) saw. */
struct check_short {
	bool is_read;
	enum nvmeta_path path;		/* observed, else predicted, for the short buffer */
	int ret;			/* of the RAW command */
	struct nvmeta_status status;
	size_t declared;		/* metadata_len sent: one block's metadata */
	size_t needed;			/* nlb x ms, what the device transfers */
	/* Read: bytes past the declared length that changed in the caller's
	 * memory.  Write: bytes past the first block's metadata that the
	 * device stored from somewhere other than the caller's buffer. */
	size_t past;
	bool past_is_caller;		/* write: they are the bytes after the buffer */
	char stored[56];		/* write: the first of them, in hex */
	char klog[200];			/* kernel log lines of a slab overrun */
};

/* The verdict of a short-metadata probe: a kernel weakness (reported as
 * NVMETA_VERDICT_KERNEL_DEFECT with "kernel weakness" in the detail), a
 * pass when the device or the kernel refused and nothing moved, or a
 * failure when it succeeded without a trace. */
void nvmeta_check_short_verdict(const struct nvmeta_dev_info *info, const struct check_short *o,
				struct nvmeta_check_result *res) NVMETA_HIDDEN;

/* What one I/O of a PI case (NVMETA_CHECK_PI) saw. */
struct check_pi {
	bool is_read;			/* the read back, else the write */
	int ret;			/* of the I/O; -EILSEQ: the host's verification */
	struct nvmeta_status status;
	uint8_t prchk;			/* PRCHK bits both I/Os went with */
	enum nvmeta_path path;		/* of the case buffer: observed, else predicted */
	bool plain;			/* this I/O has no case buffer: path unknown */
	uint64_t slba;
	/* Read: the host's verification, and whether every byte (PI
	 * included) is what the host generated and wrote; where it is not,
	 * the result's where, bad_lba and bad_offset say. */
	struct nvmeta_pi_report rep;
	bool bytes_match;
	/* Write refused: what speaks for the host's generation. */
	bool source_verifies;		/* the blocks sent verify on the host */
	bool guard_spec_ok;		/* the guard CRC gives the specification's check values */
	bool guard_data_only;		/* the guard covers the data alone (PI first, or ms
					 * the PI size): no coverage rule to disagree on */
	uint32_t failed_block;		/* write: first block the host's evidence fails */
};

/* The PI field an NVMe end-to-end status names, or NVMETA_PI_FIELD_NONE
 * for any other status. */
enum nvmeta_pi_field nvmeta_check_e2e_field(const struct nvmeta_status *st) NVMETA_HIDDEN;

/* The verdict of a PI case's write or read back (see check.c for the
 * reasoning).  Returns true when it set @r's verdict; false when the
 * outcome is no PI matter and the ordinary judgement goes on (success, or
 * an error other than -EILSEQ and an end-to-end status). */
bool nvmeta_check_pi_verdict(const struct nvmeta_dev_info *info, const struct check_pi *o,
			     struct nvmeta_check_result *r) NVMETA_HIDDEN;

/* Build c->want for a PI case: the pattern of @data_len and @meta_len
 * bytes with the PI of c->pi_tags generated over it.  Returns 0, -ENOMEM
 * or the error of nvmeta_pi_generate(). */
int nvmeta_check_pi_images(struct check *c, size_t data_len, size_t meta_len) NVMETA_HIDDEN;

/* probe.c: "EFAULT" for -EFAULT or EFAULT, "success" for 0. */
const char *nvmeta_check_errno_word(int err, char *buf, size_t len) NVMETA_HIDDEN;

/* probe.c: nvmeta_predict() from the queue's limits alone, without its
 * kernel-version rule, which the probe of pinning replaces. */
void nvmeta_check_predict_limits(const struct nvmeta_dev_info *in, enum nvmeta_kind kind,
				 const void *addr, size_t len,
				 struct nvmeta_prediction *pred) NVMETA_HIDDEN;

/* probe.c: the errno a read into a read-only @kind destination must fail
 * with on @road (else passthrough), at page+1 when @misaligned: the
 * kernel's own answer to the probe; @table_err (the case table's) when
 * the probe is unknown or saw such a read accepted (a defect: a refusal
 * is still expected).  @why gets the detail's "probe: ..." words. */
int nvmeta_check_probe_ro_expect(const struct nvmeta_check_probes *probes, bool road,
				 enum nvmeta_kind kind, bool misaligned, int table_err,
				 char *why, size_t len) NVMETA_HIDDEN;

/* probe.c: the path a metadata buffer must take, from the probe of
 * pinning: @limits_only (nvmeta_check_predict_limits()) where the kernel
 * pins; where it bounced the probe's buffer, @predicted with a pin made
 * a bounce; @predicted where the probe is unknown.  @why (may be NULL)
 * gets the probe's words when the answer differs from @predicted. */
enum nvmeta_path nvmeta_check_probe_path(const struct nvmeta_check_probes *probes,
					 enum nvmeta_path predicted, enum nvmeta_path limits_only,
					 char *why, size_t len) NVMETA_HIDDEN;

/* check.c: the outcome a case's I/O on @s must have, and its judgement;
 * hidden for unit tests. */
int nvmeta_check_expected_err(struct check *c, struct check_side *s, bool is_read) NVMETA_HIDDEN;
bool nvmeta_check_io_outcome(struct check *c, const char *what, struct check_side *s, int ret,
			     int want) NVMETA_HIDDEN;

/* check_reformat.c: the case that formats the namespace under an open
 * handle (NVMETA_CHECK_REFORMAT); the verdict goes into @res. */
int nvmeta_check_reformat(const struct nvmeta_dev *dev, struct io_uring *ring,
			  struct nvmeta_check_result *res) NVMETA_HIDDEN;

/* check_fixed_buf.c: the registered-buffer case (NVMETA_CHECK_FIXED_BUF)
 * on the blocks place_case() gave @res, @vec: with NVMETA_CHECK_VEC, the
 * data as iovecs of the registration; the verdict goes into @res. */
int nvmeta_check_fixed_buf(const struct nvmeta_dev *dev,
			   struct nvmeta_check_result *res, bool vec) NVMETA_HIDDEN;

/* commands.c: a NVMETA_CHECK_COMMAND case on the blocks place_case()
 * gave it; the verdict goes into c->res.  Returns 0, or -ENOMEM. */
int nvmeta_check_command(struct check *c) NVMETA_HIDDEN;

/* kpath.c: longest kprobe event name, NUL included (the kernel's
 * MAX_EVENT_NAME_LEN). */
#define NVMETA_KPATH_EVENT_MAX 64

/* kpath.c: the probes in @text, the contents of kprobe_events, that a dead
 * nvmeta process left: names this library makes, for pid namespace @pidns
 * (0: none match), whose pid @alive says is gone.  Other lines, including
 * malformed and overlong ones, are skipped.  Copies up to @max names to
 * @names and returns how many there are in all. */
int nvmeta_kpath_stale(const char *text, unsigned long long pidns,
		       bool (*alive)(int pid, void *arg), void *arg,
		       char (*names)[NVMETA_KPATH_EVENT_MAX], int max) NVMETA_HIDDEN;

/* kpath.c: the path a @kind buffer took, from the hits of its mapping
 * probe (@maps) and of the probe that marks the copy path (metadata) or
 * the pinning path (data) (@marks).  -ENODATA when nothing was mapped. */
int nvmeta_kpath_decide(enum nvmeta_kind kind, uint64_t maps, uint64_t marks) NVMETA_HIDDEN;

/* kpath.c: the hits of events @event[0..@n) in @f, kprobe_profile's
 * "NAME HITS MISSES" lines, into @hits; other lines are skipped and
 * events without a line keep their value. */
void nvmeta_kpath_profile_parse(FILE *f, const char (*event)[NVMETA_KPATH_EVENT_MAX],
				unsigned int n, uint64_t *hits) NVMETA_HIDDEN;

#endif /* NVMETA_LIB_CHECK_H */
