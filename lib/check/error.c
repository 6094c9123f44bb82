// SPDX-License-Identifier: MIT
/*
 * The message behind libnvmeta-check's last negative errno, per thread.
 *
 * A check call fails either on its own account (nvmeta_check_fail()) or
 * because a libnvmeta call it made failed and it passed the errno on; in
 * the second case libnvmeta already holds the message.  Every public call
 * clears its own flag first, so nvmeta_check_last_error() can tell which.
 */
#include <stdio.h>
#include "check.h"

static _Thread_local char last_error[512];
static _Thread_local bool own;

void nvmeta_check_error_clear(void)
{
	own = false;
}

int nvmeta_check_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	own = true;
	return err;
}

const char *nvmeta_check_last_error(void)
{
	return own ? last_error : nvmeta_last_error();
}
