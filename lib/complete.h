/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared inside the library for finishing a command: the
 * one place a completion is decoded, explained and its PI verified, for
 * nvmeta_complete(), nvmeta_reap()'s requests, nvmeta_io_sync() and the
 * attribute road.  Not installed.
 */
#ifndef NVMETA_COMPLETE_H
#define NVMETA_COMPLETE_H

#include "nvmeta.h"
#include "nvmeta/pi.h"

#define NVMETA_HIDDEN __attribute__((visibility("hidden")))

/* pi.c: the tags @io asks for, in the terms of <nvmeta/pi.h> (lba: slba;
 * checks: io->pi_checks, 0 for all). */
struct nvmeta_pi_tags nvmeta_pi_io_tags(const struct nvmeta_io *io) NVMETA_HIDDEN;

/* pi.c: whether host PI work on @io fits format @f: known pi_checks, no
 * PRACT, buffers of nlb blocks.  -EINVAL or -EOVERFLOW naming @name. */
int nvmeta_pi_io_fits(const struct nvmeta_pi_format *f, const char *name,
		      const struct nvmeta_io *io) NVMETA_HIDDEN;

/* pi.c: the scatter lists of a NVMETA_IO_VEC @io for the PI functions:
 * its iovecs as the data, its one metadata buffer as @miov. */
void nvmeta_pi_iov_of_io(const struct nvmeta_io *io, struct iovec *miov,
			 struct nvmeta_pi_iov *v) NVMETA_HIDDEN;

/* pi.c: verify the PI @io's read brought, on format @f, listing up to
 * @max bad blocks in @errors; -EILSEQ names @name, the first bad LBA and
 * field, and how many blocks are bad. */
int nvmeta_pi_verify_io_list(const struct nvmeta_pi_format *f, const char *name,
			     const struct nvmeta_io *io, struct nvmeta_pi_report *rep,
			     struct nvmeta_pi_error *errors, uint32_t max) NVMETA_HIDDEN;

/* status.c: an end-to-end status (SCT 2: 0x82 guard, 0x83 application
 * tag, 0x84 reference tag, 0x88 storage tag) or 0x181 (Invalid
 * Protection Information) in words, with what format @f (NULL: unknown)
 * expects of command @io (NULL: unknown), into @buf.  Returns @buf, or
 * NULL for any other status.  Only on failure: it formats a string. */
const char *nvmeta_pi_status_words(const struct nvmeta_status *st,
				   const struct nvmeta_pi_format *f,
				   const struct nvmeta_io *io, char *buf, size_t len) NVMETA_HIDDEN;

/* complete.c: finish passthrough command @io on @dev whose completion
 * nvmeta_status_decode() turned into @ret and @st: a failure explained
 * (device, status, PI words), or a read's PI verified when io->flags ask
 * (into @rep, up to @max bad blocks into @errors). */
int nvmeta_finish(const struct nvmeta_dev *dev, const struct nvmeta_io *io, int ret,
		  const struct nvmeta_status *st, struct nvmeta_pi_report *rep,
		  struct nvmeta_pi_error *errors, uint32_t max) NVMETA_HIDDEN;

#endif /* NVMETA_COMPLETE_H */
