/* SPDX-License-Identifier: MIT */
/*
 * Strict number parsing for the tools: the whole text is one unsigned
 * number that fits the field it goes into, or the tool says why and stops.
 * strtoull alone takes "12abc" as 12, "-1" as 2^64 - 1 and wraps what a
 * narrower field cannot hold.
 */
#ifndef NVMETA_ARGS_H
#define NVMETA_ARGS_H

#include <stdint.h>

/*
 * args_u64 - parse @text (decimal, 0x hex or 0-prefixed octal, as
 * strtoull with base 0) into @val, which must lie within @min..@max.
 * No sign, no blanks, nothing after the digits, no overflow.
 * Returns 0, or -1 after printing "PROG: OPT 'TEXT': why" to stderr.
 */
int args_u64(const char *prog, const char *opt, const char *text, uint64_t min, uint64_t max,
	     uint64_t *val);

#endif
