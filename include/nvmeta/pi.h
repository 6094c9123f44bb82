/* SPDX-License-Identifier: MIT */
/*
 * nvmeta/pi.h: end-to-end protection information, and the CRCs its
 * guards are made of.
 */
#ifndef NVMETA_PI_H
#define NVMETA_PI_H

#include <sys/uio.h>
#include <nvmeta/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* CRCs                                                                */
/* ------------------------------------------------------------------ */

/*
 * The three guards of the NVM Command Set.  Each function continues a
 * running CRC: pass 0 to start, and the previous result to go on, so the
 * CRC of a||b is f(b, f(a, 0)).  @len may be 0 (the result is @crc) and
 * @buf needs no alignment.  Thread-safe; no allocation, no system call.
 */

/*
 * nvmeta_crc16_t10dif - the 16-bit guard: CRC-16/T10-DIF (polynomial
 * 0x8BB7, initial value 0, not reflected, no final XOR).
 * Returns the CRC; "123456789" gives 0xD0DB.
 */
uint16_t nvmeta_crc16_t10dif(const void *buf, size_t len, uint16_t crc);

/*
 * nvmeta_crc32c - the 32-bit guard: CRC-32C (Castagnoli, polynomial
 * 0x1EDC6F41, reflected, initial value and final XOR 0xFFFFFFFF, both
 * applied inside as zlib's crc32() does).
 * Returns the CRC; "123456789" gives 0xE3069283.
 */
uint32_t nvmeta_crc32c(const void *buf, size_t len, uint32_t crc);

/*
 * nvmeta_crc64_nvme - the 64-bit guard: CRC-64/NVME, also called Rocksoft
 * (polynomial 0xAD93D23594C93659, reflected, initial value and final XOR
 * all ones, both applied inside as for nvmeta_crc32c()).
 * Returns the CRC; "123456789" gives 0xAE8B14860A799888.  The NVM Command
 * Set specification prints that check value bit-reversed
 * (0x11199E506128D175); its 4 KiB test blocks match the value returned
 * here (all zeros: 0x6482D367EB22B64E).
 */
uint64_t nvmeta_crc64_nvme(const void *buf, size_t len, uint64_t crc);

/*
 * nvmeta_crc64_impl - the implementation nvmeta_crc64_nvme() runs on this
 * machine: "isa-l" (ISA-L's own, when the library was built against one
 * that has it), "vpclmul" (carry-less multiply folding 512 bits at a
 * time, AVX-512), "clmul" (the same 128 bits at a time) or "table".
 * Returns a static string.
 */
const char *nvmeta_crc64_impl(void);

/* ------------------------------------------------------------------ */
/* Protection information                                              */
/* ------------------------------------------------------------------ */

/*
 * How a namespace lays out its end-to-end protection information (NVM
 * Command Set specification, "End-to-end Data Protection"): per block of
 * @block_size data bytes, @ms metadata bytes, of which @pi_size are the
 * PI tuple, in the first or the last bytes.  All fields big-endian:
 *   16-bit guard (8 bytes):  guard CRC16 T10-DIF | app tag | 32-bit tag space
 *   32-bit guard (16 bytes): guard CRC32C        | app tag | 80-bit tag space
 *   64-bit guard (16 bytes): guard NVMe CRC64    | app tag | 48-bit tag space
 * The tag space holds the storage tag in its top @sts bits and the
 * reference tag below.  The guard covers the block's data and, when the PI
 * is in the last bytes of the metadata, the metadata bytes before it.
 */
struct nvmeta_pi_format {
	uint32_t block_size;	/* data bytes per block */
	uint32_t ms;		/* metadata bytes per block, PI included */
	uint8_t pi_type;	/* 1, 2 or 3 */
	uint8_t guard_bits;	/* 16, 32 or 64 */
	uint8_t pi_size;	/* 8 or 16 */
	uint8_t sts;		/* storage tag bits */
	bool pi_first;		/* PI in the first bytes of the metadata */
	bool extended;		/* metadata right after each block's data */
	uint8_t resv0[2];
	uint32_t resv[4];	/* zero: room to grow */
};

/* Which fields a verification compares. */
enum nvmeta_pi_checks {
	NVMETA_PI_CHECK_GUARD	= 1 << 0,
	NVMETA_PI_CHECK_APP	= 1 << 1,	/* under app_mask */
	NVMETA_PI_CHECK_REF	= 1 << 2,
	NVMETA_PI_CHECK_STORAGE	= 1 << 3,
	NVMETA_PI_CHECK_ALL	= 0xf,
};

/* The tags to write into a range, or to find there. */
struct nvmeta_pi_tags {
	uint64_t ref_tag;	/* of the first block: types 1 and 2 count up
				 * from it (type 1: the low bits of its LBA,
				 * nvmeta_pi_ref_tag()), type 3 keeps it for
				 * every block */
	uint64_t storage_tag;	/* every block's */
	uint16_t app_tag;	/* every block's */
	uint16_t app_mask;	/* verify: the app tag bits compared */
	uint32_t checks;	/* verify: enum nvmeta_pi_checks */
	uint64_t lba;		/* verify: the range's first LBA, which the
				 * reports add to a block's index (0: blocks
				 * are named by index); not a tag (0.4) */
	uint64_t resv[1];	/* zero: room to grow */
};

enum nvmeta_pi_field {
	NVMETA_PI_FIELD_NONE,
	NVMETA_PI_FIELD_GUARD,
	NVMETA_PI_FIELD_APP,
	NVMETA_PI_FIELD_REF,
	NVMETA_PI_FIELD_STORAGE,
	NVMETA_PI_FIELD_DATA,	/* error injection only */
};

/* What a verification found.  Output only: the library writes every
 * field, so it need not be initialised. */
struct nvmeta_pi_report {
	uint32_t block;		/* first failing block, from the range's start */
	uint32_t field;		/* enum nvmeta_pi_field; NONE when all passed */
	uint64_t expected, found;
	uint32_t unwritten;	/* blocks with all-ones PI: never written or
				 * deallocated, not checked */
	uint32_t escaped;	/* blocks whose tags disable checking */
	uint32_t bad;		/* blocks that failed a check, every one (0.4) */
	uint32_t listed;	/* of those, how many were written to the
				 * caller's array of struct nvmeta_pi_error (0.4) */
	uint64_t resv[1];	/* zeroed: room to grow */
};

/* One bad block, as a verification lists it (SPDK's spdk_dif_error, with
 * the LBA): the first of its fields that failed, in the order guard,
 * application tag, reference tag, storage tag, as a controller checks. */
struct nvmeta_pi_error {
	uint64_t lba;		/* the block's LBA: nvmeta_pi_tags.lba + block */
	uint32_t block;		/* from the range's start */
	uint32_t field;		/* enum nvmeta_pi_field */
	uint64_t expected, found;
	uint64_t resv;		/* zeroed: room to grow */
};

/*
 * nvmeta_pi_tag_space - the bits of the storage and reference tag space
 * that a PI format with a guard of @guard_bits has: 32 with the 16-bit
 * guard (CDW14), 48 with the 64-bit guard (CDW14 and CDW3 bits 15:0), 80
 * with the 32-bit guard (CDW14, CDW3 and CDW2 bits 15:0).  The one place
 * of this rule: the encoder, the validation, the status words and
 * nvmeta_pi_ref_bits() all use it.
 */
static inline unsigned int nvmeta_pi_tag_space(unsigned int guard_bits)
{
	return guard_bits == 32 ? 80 : guard_bits == 64 ? 48 : 32;
}

/*
 * nvmeta_pi_ref_bits - how many bits of the tag space format @f gives the
 * reference tag: the space (32 bits with the 16-bit guard, 48 with the
 * 64-bit guard, 80 with the 32-bit guard) less the storage tag's @f->sts
 * top bits, at most 64.  No check, no failure.
 */
static inline unsigned int nvmeta_pi_ref_bits(const struct nvmeta_pi_format *f)
{
	unsigned int space = nvmeta_pi_tag_space(f->guard_bits);
	unsigned int bits = space > f->sts ? space - f->sts : 0;

	return bits > 64 ? 64 : bits;
}

/*
 * nvmeta_pi_ref_tag - the reference tag to give a command (its initial
 * logical block reference tag) whose first block is @lba, on format @f:
 * the LBA's low nvmeta_pi_ref_bits() bits, so that the count wraps where
 * the field does.  Types 1 and 2 give block i of the range this tag + i.
 *  - Type 1 requires it: the controller compares the command's tag with
 *    the LBA's low bits and fails the command with 0x181 (Invalid
 *    Protection Information) when the reference check is asked and they
 *    differ; each block's stored tag must be its own LBA's low bits.
 *  - Type 2 allows any initial tag (the controller checks block i against
 *    the command's tag + i, wherever the range lies); the LBA's low bits
 *    are the usual choice, and what the kernel's own I/O on the block
 *    device uses, so the blocks read back through either road.
 *  - Type 3 has no reference tag check and no count: the tag is stored
 *    as it is in every block of the command.  The LBA is as good a value
 *    as any; a host check of the reference tag (NVMETA_PI_CHECK_REF) then
 *    holds for ranges read back as they were written.
 * Use it for nvmeta_io.reftag and nvmeta_pi_tags.ref_tag alike.
 */
static inline uint64_t nvmeta_pi_ref_tag(const struct nvmeta_pi_format *f, uint64_t lba)
{
	unsigned int bits = nvmeta_pi_ref_bits(f);

	return bits >= 64 ? lba : lba & ((1ull << bits) - 1);
}

/*
 * nvmeta_pi_format_of - the PI layout of the namespace @info describes.
 * Returns 0, or -EPROTO when the namespace's format has no PI (type 0),
 * -EINVAL for a format this library cannot lay out (a guard size other
 * than 16, 32 or 64, metadata smaller than the PI).
 */
int nvmeta_pi_format_of(const struct nvmeta_dev_info *info, struct nvmeta_pi_format *f);

/*
 * nvmeta_pi_generate - write the PI of @nlb blocks: a guard over each
 * block's data (and the metadata before the PI when it sits last), and
 * the tags of @t.  @data holds the blocks' data; @meta their separate
 * metadata, or NULL on an extended format where @data holds both.
 * Metadata bytes outside the PI are left as they are (when the PI sits
 * last they are under the guard: fill them first).
 * Returns 0, or -EINVAL for a reference or storage tag wider than its
 * field, reserved fields set, or a missing buffer.
 */
int nvmeta_pi_generate(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		       const struct nvmeta_pi_tags *t);

/*
 * nvmeta_pi_verify - check the PI of @nlb blocks against their data and
 * the tags of @t, comparing only the fields in t->checks (the app tag
 * under t->app_mask).  Blocks whose PI is all ones (never written, or
 * deallocated) are counted in rep->unwritten and not checked; blocks
 * whose tags disable checking (app tag 0xFFFF on types 1 and 2; with an
 * all-ones reference tag too on type 3) are counted in rep->escaped.
 * Every block is checked: rep->bad counts the blocks that failed (0.4;
 * nvmeta_pi_verify_list() also lists them).
 * Returns 0, -EILSEQ when a block failed, with @rep naming the first:
 * the block, the field and the expected and found values, or -EINVAL as
 * nvmeta_pi_generate().
 */
int nvmeta_pi_verify(const struct nvmeta_pi_format *f, const void *data, const void *meta,
		     uint32_t nlb, const struct nvmeta_pi_tags *t, struct nvmeta_pi_report *rep);

/*
 * nvmeta_pi_verify_list - nvmeta_pi_verify(), listing the bad blocks in
 * @errors, up to @max of them (@errors may be NULL when @max is 0): each
 * one's LBA (t->lba + block), index, first failing field, and expected
 * and found values.  Every block is checked whatever fails: rep->bad
 * counts the bad ones, rep->listed those written to @errors, and the
 * first bad block is in rep->block and rep->field as for
 * nvmeta_pi_verify().  No allocation, no system call; the message is
 * built only when a block is bad.
 * Returns 0, -EILSEQ when a block is bad (the message names the first
 * and how many there are), or -EINVAL as nvmeta_pi_verify().
 */
int nvmeta_pi_verify_list(const struct nvmeta_pi_format *f, const void *data, const void *meta,
			  uint32_t nlb, const struct nvmeta_pi_tags *t,
			  struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
			  uint32_t max);

/*
 * nvmeta_pi_remap - give @nlb blocks the reference tags a range starting
 * at @ref_tag has (types 1 and 2 count up, type 3 keeps it), keeping
 * guards, app tags and storage tags: for data moved to another LBA.
 * Blocks that nvmeta_pi_verify() does not check are left untouched: all
 * ones PI (never written) stays all ones, and escaped tags (app tag
 * 0xFFFF; on type 3 with an all-ones reference tag too) keep escaping.
 * Returns 0, or -EINVAL for a reference tag wider than its field.
 */
int nvmeta_pi_remap(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		    uint64_t ref_tag);

/*
 * nvmeta_pi_strip - copy the data of @nlb blocks of an extended-format
 * buffer @ext (data and metadata interleaved) to @data, leaving the
 * metadata behind.  Returns 0, or -EINVAL when @f is not extended.
 */
int nvmeta_pi_strip(const struct nvmeta_pi_format *f, const void *ext, void *data,
		    uint32_t nlb);

/* What nvmeta_pi_inject() corrupts. */
struct nvmeta_pi_injection {
	uint32_t block;		/* from the range's start */
	uint32_t field;		/* enum nvmeta_pi_field */
	uint32_t offset;	/* NVMETA_PI_FIELD_DATA: the byte in the block */
	uint32_t resv[3];	/* zero: room to grow */
};

/*
 * nvmeta_pi_inject - corrupt one field of one block, the same way every
 * time so that a failing run repeats: the lowest bit of the guard, app
 * tag, reference tag or storage tag is inverted, or bit 0 of data byte
 * @inj->offset.  (An app tag check masked off bit 0 does not see it.)
 * Returns 0, or -EINVAL for a block, offset or field out of range, a
 * storage tag on a format without one, or a reference tag on a format
 * whose storage tag fills the whole tag space (STS 32 with the 16-bit
 * guard, 48 with the 64-bit guard): the bit it would flip is the storage
 * tag's.
 */
int nvmeta_pi_inject(const struct nvmeta_pi_format *f, void *data, void *meta, uint32_t nlb,
		     const struct nvmeta_pi_injection *inj);

/* nvmeta_pi_field_name - "guard", "application tag", "reference tag",
 * "storage tag", "data" or "none". */
const char *nvmeta_pi_field_name(enum nvmeta_pi_field field);

/* ------------------------------------------------------------------ */
/* PI over iovecs, copy with PI, streaming, checked remap (0.4)        */
/* ------------------------------------------------------------------ */

/*
 * The buffers of a range as scatter lists: @data holds the blocks' data
 * back to back (on an extended format, each block's data followed by its
 * metadata), @meta the separate metadata back to back (NULL and @nmeta 0
 * on an extended format).  A block, its metadata and its PI tuple may be
 * split across any iovec boundary, down to single bytes; iovecs of length
 * 0 are skipped.  Every iovec is checked before any byte is touched: a
 * NULL base with a length, no iovecs where bytes are needed, or fewer
 * bytes in all than @nlb blocks need (bytes beyond them are left alone).
 * The caller allocates it: zero it, resv included.
 */
struct nvmeta_pi_iov {
	const struct iovec *data;
	const struct iovec *meta;
	uint32_t ndata, nmeta;	/* entries in each */
	uint32_t nlb;		/* blocks */
	uint32_t resv0;		/* zero: room to grow */
	uint64_t resv[2];	/* zero: room to grow */
};

/*
 * nvmeta_pi_generate_iov - nvmeta_pi_generate() over the scatter lists of
 * @b: the same tuples, byte for byte, wherever the iovecs split the
 * blocks.  No allocation.
 * Returns 0, or -EINVAL as nvmeta_pi_generate() or for an iovec list that
 * does not hold b->nlb blocks (see struct nvmeta_pi_iov).
 */
int nvmeta_pi_generate_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			   const struct nvmeta_pi_tags *t);

/*
 * nvmeta_pi_verify_iov - nvmeta_pi_verify_list() over the scatter lists
 * of @b: every block checked, @rep and up to @max entries of @errors (NULL
 * when @max is 0) exactly as the contiguous call writes them.
 * Returns 0, -EILSEQ when a block is bad, or -EINVAL as
 * nvmeta_pi_generate_iov().
 */
int nvmeta_pi_verify_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			 const struct nvmeta_pi_tags *t, struct nvmeta_pi_report *rep,
			 struct nvmeta_pi_error *errors, uint32_t max);

/*
 * nvmeta_pi_inject_iov - nvmeta_pi_inject() over the scatter lists of
 * @b: the same bit of the same block, wherever it lies.
 * Returns 0, or -EINVAL as nvmeta_pi_inject() or nvmeta_pi_generate_iov().
 */
int nvmeta_pi_inject_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			 const struct nvmeta_pi_injection *inj);

/*
 * nvmeta_pi_remap_iov - nvmeta_pi_remap() over the scatter lists of @b
 * (only the tuples are read and written; the data is not read).
 * Returns 0, or -EINVAL as nvmeta_pi_remap() or nvmeta_pi_generate_iov().
 */
int nvmeta_pi_remap_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			uint64_t ref_tag);

/*
 * nvmeta_pi_remap_check - remap @nlb blocks to a range starting at
 * reference tag @new_ref, as nvmeta_pi_remap() does, only once every block
 * has passed nvmeta_pi_verify_list() against @old: old->ref_tag is the
 * first block's reference tag now, old->checks must hold
 * NVMETA_PI_CHECK_REF (with NVMETA_PI_CHECK_GUARD the data is read and
 * checked too), old->lba names the blocks in the reports.  All or
 * nothing: when a block fails, no tuple is rewritten, and @rep and
 * @errors (up to @max, NULL when @max is 0) name every bad block.
 * Unwritten (all ones) and escaped tuples are neither checked nor
 * rewritten.  No allocation.
 * Returns 0, -EILSEQ when a block failed (nothing rewritten), or -EINVAL
 * for @old without NVMETA_PI_CHECK_REF, a tag wider than its field,
 * reserved fields set or a missing buffer.
 */
int nvmeta_pi_remap_check(const struct nvmeta_pi_format *f, void *data, void *meta,
			  uint32_t nlb, const struct nvmeta_pi_tags *old, uint64_t new_ref,
			  struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
			  uint32_t max);

/*
 * nvmeta_pi_remap_check_iov - nvmeta_pi_remap_check() over the scatter
 * lists of @b.  Returns as nvmeta_pi_remap_check().
 */
int nvmeta_pi_remap_check_iov(const struct nvmeta_pi_format *f, const struct nvmeta_pi_iov *b,
			      const struct nvmeta_pi_tags *old, uint64_t new_ref,
			      struct nvmeta_pi_report *rep, struct nvmeta_pi_error *errors,
			      uint32_t max);

/*
 * nvmeta_pi_generate_copy - copy @nlb blocks of data from the
 * application's @src (@nsrc iovecs, the blocks' data back to back, split
 * anywhere) into @data, laid out as @f says (on an extended format each
 * block's data lands before its metadata, whose bytes outside the PI are
 * left as they are), and generate their PI in the same pass, as
 * nvmeta_pi_generate() would on the copy: each block's CRC is run over
 * its source and the copy made from there while the bytes are in cache.
 * @meta: the separate metadata, NULL on an extended format.
 * @src must not overlap @data or @meta.  No allocation.
 * Returns 0, or -EINVAL as nvmeta_pi_generate() or for @src holding fewer
 * than @nlb blocks of data (or a NULL base with a length).
 */
int nvmeta_pi_generate_copy(const struct nvmeta_pi_format *f, void *data, void *meta,
			    const struct iovec *src, uint32_t nsrc, uint32_t nlb,
			    const struct nvmeta_pi_tags *t);

/*
 * nvmeta_pi_verify_copy - the reverse, for a read: copy the data of @nlb
 * blocks from @data (and @meta) as @f lays them out into the application's
 * @dst (@ndst iovecs, data only, back to back, split anywhere), verifying
 * their PI in the same pass as nvmeta_pi_verify_list() would.  Every
 * block's data is copied, bad or not: the verdict says which to trust.
 * @dst must not overlap @data or @meta.  No allocation.
 * Returns 0, -EILSEQ when a block is bad (@rep, @errors), or -EINVAL as
 * nvmeta_pi_verify() or for @dst with room for fewer than @nlb blocks.
 */
int nvmeta_pi_verify_copy(const struct nvmeta_pi_format *f, const struct iovec *dst,
			  uint32_t ndst, const void *data, const void *meta, uint32_t nlb,
			  const struct nvmeta_pi_tags *t, struct nvmeta_pi_report *rep,
			  struct nvmeta_pi_error *errors, uint32_t max);

/* What a stream does with the pieces it is given. */
enum nvmeta_pi_stream_mode {
	NVMETA_PI_STREAM_GENERATE = 1,
	NVMETA_PI_STREAM_VERIFY = 2,
};

/*
 * A command's PI worked out piece by piece as its data arrives.  The
 * caller allocates it (on the stack is fine) and never reads or writes it:
 * its contents are the library's, and its size leaves them room to grow.
 */
struct nvmeta_pi_stream {
	uint64_t opaque[64];
};

/*
 * nvmeta_pi_stream_init - start generating (@mode NVMETA_PI_STREAM_GENERATE)
 * or verifying (NVMETA_PI_STREAM_VERIFY) the PI of @nlb blocks with the
 * tags of @t.  The stream is the command's data transfer: on an extended
 * format the blocks' data and metadata interleaved (@meta NULL), and the
 * tuples lie in the pieces themselves; with separate metadata the data
 * alone, and @meta holds the metadata of all @nlb blocks, contiguous
 * (read for the bytes under the guard and, verifying, the tuples; its
 * tuples written when generating).  Verifying, @errors (up to @max, NULL
 * when @max is 0) receives every bad block as it completes, as
 * nvmeta_pi_verify_list() lists them.
 * Returns 0, or -EINVAL as nvmeta_pi_generate() or for an unknown @mode.
 */
int nvmeta_pi_stream_init(struct nvmeta_pi_stream *s, const struct nvmeta_pi_format *f,
			  void *meta, uint32_t nlb, const struct nvmeta_pi_tags *t,
			  enum nvmeta_pi_stream_mode mode, struct nvmeta_pi_error *errors,
			  uint32_t max);

/*
 * nvmeta_pi_stream_update - take the @len bytes at @buf, which are the
 * stream's bytes from @offset on.  Pieces come in order, each at the
 * offset where the last ended, of any size (a single byte, or one that
 * ends inside a block or a tuple).  Generating on an extended format,
 * the tuple bytes the piece holds are written into @buf; otherwise @buf
 * is only read.  The result after the last piece is the one call's
 * (nvmeta_pi_generate(), nvmeta_pi_verify_list()), whatever the pieces.
 * Returns 0, or -EINVAL for a piece out of order or past the stream's end
 * (the stream is left as it was).
 */
int nvmeta_pi_stream_update(struct nvmeta_pi_stream *s, uint64_t offset, void *buf, size_t len);

/*
 * nvmeta_pi_stream_finish - end a stream.  @rep (may be NULL when
 * generating) receives what verification found, as nvmeta_pi_verify_list()
 * reports it.
 * Returns 0, -EILSEQ when verification found a bad block, or -EINVAL when
 * the stream has not had all its bytes (it stays open: give the rest).
 */
int nvmeta_pi_stream_finish(struct nvmeta_pi_stream *s, struct nvmeta_pi_report *rep);

/* A command kept by the caller until it completes: what the library needs
 * to finish it then (host PI verification).  Embed it in your own request
 * structure; nvmeta_reap() reports the caller's user_data. */
struct nvmeta_request {
	struct nvmeta_io io;
	uint64_t user_data;		/* the caller's tag, reported by nvmeta_reap() */
	const struct nvmeta_dev *dev;	/* set by nvmeta_queue_request() */
	struct nvmeta_pi_report pi;	/* NVMETA_IO_PI_VERIFY: what the check found */
	/* NVMETA_IO_PI_VERIFY: room for every bad block, or NULL (0.4) */
	struct nvmeta_pi_error *pi_errors;
	uint32_t pi_errors_max;		/* entries in pi_errors */
	uint32_t resv0;			/* zero: room to grow */
	uint64_t resv[2];		/* zero: room to grow */
};

/* What nvmeta_complete() and nvmeta_complete_rw() found.  Zero it (or set
 * errors and max_errors) first: those two are read, the rest written. */
struct nvmeta_result {
	struct nvmeta_status status;	/* out: the completion, decoded */
	struct nvmeta_pi_report pi;	/* out: NVMETA_IO_PI_VERIFY's verdict */
	struct nvmeta_pi_error *errors;	/* in: room for every bad block, or NULL */
	uint32_t max_errors;		/* in: entries in errors */
	uint32_t resv0;			/* zeroed: room to grow */
	uint64_t resv[4];		/* zeroed: room to grow */
};

/*
 * nvmeta_complete - finish a passthrough command the caller queued on its
 * own ring (nvmeta_prep(), nvmeta_prep_cmd()) and reaped itself: decode
 * @cqe into res->status and, for a read with NVMETA_IO_PI_VERIFY in
 * @io->flags, verify its PI on the host against @io's tags (reftag,
 * apptag under appmask, storage_tag; io->pi_checks, 0 for all), listing
 * every bad block in res->errors.  @io is the command as it was queued;
 * its buffers hold what the read brought.  The same code finishes
 * nvmeta_reap()'s requests and nvmeta_io_sync().
 * No system call, no allocation, no string unless it fails.  A failure's
 * message (nvmeta_last_error()) names the device and the status, and an
 * end-to-end status (0x282 guard, 0x283 application tag, 0x284 reference
 * tag, 0x288 storage tag) or 0x181 (Invalid Protection Information) is
 * explained in words with what the format expects.
 * Returns 0, the errno the kernel failed the command with, -EIO for an
 * NVMe error status (res->status), -EILSEQ when host verification found
 * a bad block (res->pi, res->errors), or -EINVAL when verification was
 * asked of a command that cannot have it (not a read, PRACT, no PI on
 * the namespace, buffers shorter than nlb blocks).
 */
int nvmeta_complete(const struct nvmeta_dev *dev, const struct nvmeta_io *io,
		    const struct io_uring_cqe *cqe, struct nvmeta_result *res);

/*
 * nvmeta_queue_request - as nvmeta_queue(), for a command the caller keeps
 * in @rq until nvmeta_reap() has returned its completion: that lets the
 * reap finish it, verifying a read's PI on the host with
 * NVMETA_IO_PI_VERIFY (a mismatch turns the completion's ret into -EILSEQ
 * and fills rq->pi).  The SQE carries a tag of the library's (see
 * NVMETA_TAG_USER_DATA), never @rq's address; the completion reports
 * rq->user_data.
 * Returns 0, or the errors of nvmeta_queue(), or -EBUSY when as many of
 * the library's commands are in flight on the ring as its completion
 * queue has entries (reap first).
 */
int nvmeta_queue_request(const struct nvmeta_dev *dev, struct io_uring *ring,
			 struct nvmeta_request *rq);

/*
 * nvmeta_request_sync - nvmeta_io_sync() of rq->io, keeping what host PI
 * verification found in rq->pi (the block, field, expected and found
 * values of a mismatch; the unwritten and escaped counts).
 * Returns as nvmeta_io_sync().
 */
int nvmeta_request_sync(const struct nvmeta_dev *dev, struct io_uring *ring,
			struct nvmeta_request *rq, struct nvmeta_status *st);

#ifdef __cplusplus
}
#endif

#endif /* NVMETA_PI_H */
