/* SPDX-License-Identifier: MIT */
/*
 * What the lab booted: the preset and controller arrive as NVMETA_EXPECT_*
 * environment variables, set by tests/vm/guest-init.sh.
 */
#ifndef NVMETA_GUEST_ENV_H
#define NVMETA_GUEST_ENV_H

#include <stdlib.h>
#include <criterion/criterion.h>

static inline const char *guest_dev_path(void)
{
	const char *p = getenv("NVMETA_DEV");

	return p ? p : "/dev/ng0n1";
}

static inline long expect_num(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		cr_skip_test("%s not set: not running in the lab", name);
	return strtol(v, NULL, 0);
}

static inline const char *expect_str(const char *name)
{
	const char *v = getenv(name);

	if (!v)
		cr_skip_test("%s not set: not running in the lab", name);
	return v;
}

#endif
