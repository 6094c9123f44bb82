// SPDX-License-Identifier: MIT
/* The per-thread message behind the last negative errno. */
#include <errno.h>
#include <stdio.h>
#include "internal.h"

_Static_assert(NVMETA_PROJECT_MAJOR == NVMETA_VERSION_MAJOR &&
	       NVMETA_PROJECT_MINOR == NVMETA_VERSION_MINOR,
	       "CMakeLists.txt and include/nvmeta/core.h name different versions");

static _Thread_local char last_error[512];

int nvmeta_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

int nvmeta_fail_prefix(int err, const char *fmt, ...)
{
	char prefix[192], last[sizeof(last_error)];
	va_list ap;

	/* Copied first: the new message is written where the last one lives. */
	snprintf(last, sizeof(last), "%s", last_error);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(last_error, sizeof(last_error), "%s: %s", prefix, last);
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

int nvmeta_version_check(unsigned int major, unsigned int minor)
{
	if (major == NVMETA_VERSION_MAJOR && minor <= NVMETA_VERSION_MINOR)
		return 0;
	return nvmeta_fail(-ENOTSUP, "program built against nvmeta %u.%u runs with library %s: it needs %u.%u or a later %u.x",
			   major, minor, NVMETA_VERSION_STRING, major, minor, major);
}
