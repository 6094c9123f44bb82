/* SPDX-License-Identifier: MIT */
/*
 * What the lab booted: the preset and controller arrive as NVMETA_EXPECT_*
 * environment variables, set by tests/vm/guest-init.sh.
 */
#ifndef NVMETA_GUEST_ENV_H
#define NVMETA_GUEST_ENV_H

#include <stdlib.h>
#include <criterion/criterion.h>
#include "nvmeta.h"
#include "nvmeta-check.h"

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

/* Open the lab's namespace and a ring of @depth; fails the test if not. */
static inline const struct nvmeta_dev_info *guest_open(struct nvmeta_dev **dev,
						       struct io_uring *ring,
						       unsigned int depth)
{
	cr_assert_eq(nvmeta_dev_open(guest_dev_path(), dev), 0, "open %s: %s",
		     guest_dev_path(), nvmeta_last_error());
	cr_assert_eq(nvmeta_ring_init(ring, depth), 0, "%s", nvmeta_last_error());
	return nvmeta_dev_info(*dev);
}

static inline void guest_close(struct nvmeta_dev *dev, struct io_uring *ring)
{
	io_uring_queue_exit(ring);
	nvmeta_dev_close(dev);
}

#endif
