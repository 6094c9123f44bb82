// SPDX-License-Identifier: MIT
/* The per-thread message behind the last negative errno. */
#include <stdio.h>
#include "internal.h"

static _Thread_local char last_error[512];

int nvmeta_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *nvmeta_last_error(void)
{
	return last_error;
}

const char *nvmeta_version(void)
{
	return NVMETA_VERSION_STRING;
}
