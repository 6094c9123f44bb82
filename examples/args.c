// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "args.h"

static int bad(const char *prog, const char *opt, const char *text, const char *why,
	       uint64_t min, uint64_t max)
{
	fprintf(stderr, "%s: %s '%s': %s; must be %" PRIu64 " to %" PRIu64 "\n", prog, opt,
		text, why, min, max);
	return -1;
}

int args_u64(const char *prog, const char *opt, const char *text, uint64_t min, uint64_t max,
	     uint64_t *val)
{
	unsigned long long v;
	char *end;

	/* strtoull skips blanks and takes a sign ("-1" is 2^64 - 1): only a
	 * digit may come first. */
	if (!isdigit((unsigned char)text[0]))
		return bad(prog, opt, text, text[0] == '-' ? "negative" : "not a number", min, max);
	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno == ERANGE)
		return bad(prog, opt, text, "too large", min, max);
	if (errno || *end)
		return bad(prog, opt, text, "not a whole number (decimal, 0x hex or 0 octal)",
			   min, max);
	if (v < min || v > max)
		return bad(prog, opt, text, "out of range", min, max);
	*val = v;
	return 0;
}
