// SPDX-License-Identifier: MIT
/*
 * The copy-back checker's matrix: one line a case.  Metadata cases put
 * the case's layout on the metadata buffer and keep data plain; data
 * cases do the opposite.
 */
#include <errno.h>
#include "check.h"

/* A case's source of memory: its buffer's backing, and how the buffer is
 * treated (read-only, or read into unfaulted pages) on anonymous memory. */
#define SRC_ANON	NVMETA_BACKING_ANON, 0
#define SRC_MEMFD	NVMETA_BACKING_MEMFD, 0
#define SRC_HUGE	NVMETA_BACKING_HUGE, 0
#define SRC_UNTOUCHED	NVMETA_BACKING_ANON, NVMETA_CHECK_UNTOUCHED
#define SRC_READONLY	NVMETA_BACKING_ANON, NVMETA_CHECK_READONLY

/* The second step expands SRC_x into a backing and flags first. */
#define CASE(...) CASE_(__VA_ARGS__)
#define CASE_(n, k, d, sz, l, off, b, src_flags, err, f) \
	{ .name = n, .kind = NVMETA_KIND_##k, .dir = NVMETA_DIR_##d, \
	  .size = NVMETA_SIZE_##sz, .layout = NVMETA_LAYOUT_##l, .offset = off, \
	  .backing = b, .expect_err = err, .flags = (src_flags) | (f) }
#define META(n, dir, size, layout, off, src, err) \
	CASE(n, META, dir, size, layout, off, SRC_##src, err, 0)
#define DATA(n, dir, size, layout, off, src, err) \
	CASE(n, DATA, dir, size, layout, off, SRC_##src, err, 0)
#define PI(n, dir, size, layout, off) \
	CASE(n, META, dir, size, layout, off, SRC_ANON, 0, NVMETA_CHECK_PI)
#define SHORT(n, dir, layout, off) \
	CASE(n, META, dir, FEW, layout, off, SRC_ANON, 0, NVMETA_CHECK_SHORT_META)
#define COMMAND(n, cmd) \
	CASE(n, DATA, BOTH, FEW, PAGE, 0, SRC_ANON, 0, NVMETA_CHECK_CMD(NVMETA_CHECK_CMD_##cmd))

static const struct nvmeta_check_case cases[] = {
	/*   name                       dir    size  layout      off source     err */
	META("meta-pinned-1",           BOTH,  ONE,  PINNED,     0, ANON,      0),
	META("meta-pinned-8",           BOTH,  FEW,  PINNED,     0, ANON,      0),
	META("meta-pinned-max",         BOTH,  MAX,  PINNED,     0, ANON,      0),
	META("meta-page+0-8",           BOTH,  FEW,  PAGE,       0, ANON,      0),
	META("meta-page+4-8",           BOTH,  FEW,  PAGE,       4, ANON,      0),
	META("meta-page+0-max",         BOTH,  MAX,  PAGE,       0, ANON,      0),
	META("meta-misaligned+1-1",     READ,  ONE,  MISALIGNED, 1, ANON,      0),
	META("meta-misaligned+1-1w",    WRITE, ONE,  MISALIGNED, 1, ANON,      0),
	META("meta-misaligned+1-8",     BOTH,  FEW,  MISALIGNED, 1, ANON,      0),
	META("meta-misaligned+2-8",     BOTH,  FEW,  MISALIGNED, 2, ANON,      0),
	META("meta-misaligned+3-8",     BOTH,  FEW,  MISALIGNED, 3, ANON,      0),
	META("meta-misaligned+4093-8",  BOTH,  FEW,  MISALIGNED, 4093, ANON,   0),
	META("meta-misaligned+1-max",   BOTH,  MAX,  MISALIGNED, 1, ANON,      0),
	META("meta-fragmented-1",       BOTH,  ONE,  FRAGMENTED, 0, ANON,      0),
	META("meta-fragmented-8",       READ,  FEW,  FRAGMENTED, 0, ANON,      0),
	META("meta-fragmented-8w",      WRITE, FEW,  FRAGMENTED, 0, ANON,      0),
	META("meta-fragmented-max",     BOTH,  MAX,  FRAGMENTED, 0, ANON,      0),
	META("meta-huge-span-1",        BOTH,  ONE,  HUGE_SPAN,  0, ANON,      0),
	META("meta-huge-span-max",      BOTH,  MAX,  HUGE_SPAN,  0, ANON,      0),
	META("meta-huge-8",             BOTH,  FEW,  PAGE,       0, HUGE,      0),
	META("meta-malloc-1",           BOTH,  ONE,  MALLOC,     0, ANON,      0),
	META("meta-malloc-8",           BOTH,  FEW,  MALLOC,     0, ANON,      0),
	META("meta-malloc-max",         BOTH,  MAX,  MALLOC,     0, ANON,      0),
	META("meta-memfd-8",            BOTH,  FEW,  PAGE,       0, MEMFD,     0),
	META("meta-memfd+2-8",          BOTH,  FEW,  MISALIGNED, 2, MEMFD,     0),
	META("meta-readonly-src-8",     WRITE, FEW,  PAGE,       0, READONLY,  0),
	META("meta-readonly-src+1-8",   WRITE, FEW,  MISALIGNED, 1, READONLY,  0),
	META("meta-readonly-dst-8",     READ,  FEW,  PAGE,       0, READONLY,  -EFAULT),
	META("meta-readonly-dst+1-8",   READ,  FEW,  MISALIGNED, 1, READONLY,  -EFAULT),
	DATA("data-pinned-1",           BOTH,  ONE,  PINNED,     0, ANON,      0),
	DATA("data-pinned-max",         BOTH,  MAX,  PINNED,     0, ANON,      0),
	DATA("data-page-max",           BOTH,  MAX,  PAGE,       0, ANON,      0),
	DATA("data-misaligned+1-1",     BOTH,  ONE,  MISALIGNED, 1, ANON,      0),
	DATA("data-misaligned+2-max",   BOTH,  MAX,  MISALIGNED, 2, ANON,      0),
	DATA("data-fragmented-max",     BOTH,  MAX,  FRAGMENTED, 0, ANON,      0),
	DATA("data-huge-8",             BOTH,  FEW,  PAGE,       0, HUGE,      0),
	DATA("data-malloc-8",           BOTH,  FEW,  MALLOC,     0, ANON,      0),
	DATA("data-memfd-8",            BOTH,  FEW,  PAGE,       0, MEMFD,     0),
	DATA("data-readonly-src-8",     WRITE, FEW,  PAGE,       0, READONLY,  0),
	DATA("data-readonly-dst-8",     READ,  FEW,  PAGE,       0, READONLY,  -EFAULT),
	DATA("data-untouched-8",        READ,  FEW,  PAGE,       0, UNTOUCHED, 0),
	/* Protection information through the pinned and the bounce path:
	 * generated on the host, checked by the device on the write and the
	 * read, verified on the host (skipped on a namespace without PI). */
	PI("meta-pi-pinned-1",          BOTH,  ONE,  PINNED,     0),
	PI("meta-pi-pinned-8",          BOTH,  FEW,  PINNED,     0),
	PI("meta-pi-misaligned+1-1",    READ,  ONE,  MISALIGNED, 1),
	PI("meta-pi-misaligned+1-1w",   WRITE, ONE,  MISALIGNED, 1),
	PI("meta-pi-misaligned+1-8",    BOTH,  FEW,  MISALIGNED, 1),
	PI("meta-pi-fragmented-1",      BOTH,  ONE,  FRAGMENTED, 0),
	PI("meta-pi-fragmented-8",      READ,  FEW,  FRAGMENTED, 0),
	PI("meta-pi-fragmented-8w",     WRITE, FEW,  FRAGMENTED, 0),
	/* Vectored data (NVMETA_CHECK_VEC): the data cut into iovecs at odd
	 * places, so the kernel copies it and its copy back crosses every
	 * iovec boundary; the metadata beside it bounced (+1) or pinned. */
	CASE("vec-odd-8-meta+1", META, BOTH, FEW, MISALIGNED, 1, SRC_ANON, 0,
	     NVMETA_CHECK_VEC),
	CASE("vec-odd-max-meta+1", META, BOTH, MAX, MISALIGNED, 1, SRC_ANON, 0,
	     NVMETA_CHECK_VEC),
	CASE("vec-odd-8-meta-page", META, BOTH, FEW, PAGE, 0, SRC_ANON, 0, NVMETA_CHECK_VEC),
	/* The same on the attribute road (NVMETA_CHECK_RW_VEC): READV and
	 * WRITEV with the PI attribute, the data cut where O_DIRECT takes
	 * it, the metadata bounced (+1) or pinned. */
	CASE("rw-vec-8-meta+1", META, BOTH, FEW, MISALIGNED, 1, SRC_ANON, 0,
	     NVMETA_CHECK_RW_VEC),
	CASE("rw-vec-max-meta+1", META, BOTH, MAX, MISALIGNED, 1, SRC_ANON, 0,
	     NVMETA_CHECK_RW_VEC),
	CASE("rw-vec-8-meta-page", META, BOTH, FEW, PAGE, 0, SRC_ANON, 0, NVMETA_CHECK_RW_VEC),
	/* The same with host PI generated over the iovecs on the write and
	 * verified over them on the read (skipped on formats without PI). */
	CASE("vec-pi-odd-8-meta+1", META, BOTH, FEW, MISALIGNED, 1, SRC_ANON, 0,
	     NVMETA_CHECK_VEC | NVMETA_CHECK_PI),
	CASE("vec-pi-odd-8-meta-page", META, BOTH, FEW, PAGE, 0, SRC_ANON, 0,
	     NVMETA_CHECK_VEC | NVMETA_CHECK_PI),
	/* One block from a registered buffer larger than max_segments
	 * pages (NVMETA_CHECK_FIXED_BUF). */
	CASE("data-fixed-buf-big-registration", DATA, BOTH, ONE, PAGE, 0, SRC_ANON, 0,
	     NVMETA_CHECK_FIXED_BUF),
	/* Two iovecs of a registered buffer, cut inside a block and a page
	 * (NVMETA_CHECK_FIXED_BUF | NVMETA_CHECK_VEC). */
	CASE("data-fixed-buf-vec-cut", DATA, BOTH, FEW, PAGE, 0, SRC_ANON, 0,
	     NVMETA_CHECK_FIXED_BUF | NVMETA_CHECK_VEC),
	/* The NVM commands that change blocks and metadata without a plain
	 * transfer, each with its metadata semantics asserted (nvmeta-check
	 * --commands only: DSM and Write Uncorrectable change what the
	 * blocks hold, and a controller's reading of the specification is
	 * what they report). */
	COMMAND("cmd-write-zeroes",        WRITE_ZEROES),
	COMMAND("cmd-write-zeroes-pract",  WRITE_ZEROES_PRACT),
	COMMAND("cmd-write-zeroes-deac",   WRITE_ZEROES_DEAC),
	COMMAND("cmd-dsm-deallocate",      DSM),
	COMMAND("cmd-write-uncorrectable", WRITE_UNCOR),
	COMMAND("cmd-verify",              VERIFY),
	COMMAND("cmd-compare",             COMPARE),
	COMMAND("cmd-copy",                COPY),
	COMMAND("cmd-copy-carry",          COPY_CARRY),
	/* The namespace formatted under an open handle (nvmeta-check
	 * --reformat only: it erases the namespace), after every copy-back
	 * case. */
	CASE("reformat-under-handle", META, READ, FEW, PAGE, 0, SRC_ANON, -ESTALE,
	     NVMETA_CHECK_REFORMAT),
	/* Kernel-weakness probes (nvmeta-check --kernel-weakness only): a
	 * RAW command of 8 blocks with one block's metadata declared.  After
	 * every copy-back case, so that nothing they do can disturb one;
	 * before the untouched-metadata cases, because those end a 6.12
	 * machine and these must report there too.  These three harm only
	 * the process (the device overruns the caller's buffer, or reads
	 * past the kernel's). */
	SHORT("raw-shortmeta-pin-read",    READ,  PAGE,       0),
	SHORT("raw-shortmeta-pin-write",   WRITE, PAGE,       0),
	SHORT("raw-shortmeta+1-write",     WRITE, MISALIGNED, 1),
	/* Last: on a kernel that writes the shared zero page these take the
	 * whole machine down, so every other case reports first. */
	META("meta-untouched-8",        READ,  FEW,  PAGE,       0, UNTOUCHED, 0),
	META("meta-untouched+1-8",      READ,  FEW,  MISALIGNED, 1, UNTOUCHED, 0),
	META("meta-untouched-max",      READ,  MAX,  PAGE,       0, UNTOUCHED, 0),
	/* Very last: the device writes nlb x ms bytes into the kernel's
	 * bounce buffer of one block's metadata, past its red zone into the
	 * neighbouring heap objects (the lab saw the freelist corrupted, an
	 * Oops that killed the checker on 7.2, a panic on 6.12): no case
	 * may run after it.  Where the untouched cases end a 6.12 machine
	 * first, the bounce write above still shows the weakness there. */
	SHORT("raw-shortmeta+1-read",      READ,  MISALIGNED, 1),
};

int nvmeta_check_table(const struct nvmeta_check_case **out)
{
	*out = cases;
	return ARRAY_SIZE(cases);
}
