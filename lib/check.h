/* SPDX-License-Identifier: MIT */
/*
 * The copy-back checker's state and its judgement, apart from its I/O:
 * the functions below read buffers and outcomes already at hand and set
 * a verdict, so that unit tests can feed them without a device.  Not
 * installed.
 */
#ifndef NVMETA_LIB_CHECK_H
#define NVMETA_LIB_CHECK_H

#include "internal.h"

enum { DATA_BYTES, META_BYTES };

/* One I/O of a case: its buffers and what happened to it. */
struct check_side {
	struct nvmeta_buf *data, *meta;
	bool data_is_case, meta_is_case;
	struct nvmeta_prediction pred;	/* of the case buffer, if this side has it */
	struct nvmeta_status status;	/* of this side's I/O */
	int observed;			/* path the kprobes saw, or -1 */
	char evidence[112];
};

struct check {
	const struct nvmeta_dev *dev;
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
};

/* Set @r's verdict and its detail. */
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

/* check_reformat.c: the case that formats the namespace under an open
 * handle (NVMETA_CHECK_REFORMAT); the verdict goes into @res. */
int nvmeta_check_reformat(const struct nvmeta_dev *dev, struct io_uring *ring,
			  struct nvmeta_check_result *res) NVMETA_HIDDEN;

#endif /* NVMETA_LIB_CHECK_H */
