// SPDX-License-Identifier: MIT
/* The per-thread message behind the last negative errno. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
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
	char last[sizeof(last_error)];
	size_t n, tail;
	va_list ap;

	/* Copied first: the new message is written where the last one lives. */
	memcpy(last, last_error, sizeof(last));
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error) / 2, fmt, ap);
	va_end(ap);
	n = strlen(last_error);
	memcpy(last_error + n, ": ", 2);
	n += 2;
	/* The end of a long message is cut, as nvmeta_fail() cuts it. */
	tail = strnlen(last, sizeof(last_error) - n - 1);
	memcpy(last_error + n, last, tail);
	last_error[n + tail] = '\0';
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
