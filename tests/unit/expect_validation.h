/* SPDX-License-Identifier: MIT */
/* The validation tests' one assertion: what nvmeta_validate_info() says
 * of a command, its errno and words of its message. */
#ifndef NVMETA_EXPECT_VALIDATION_H
#define NVMETA_EXPECT_VALIDATION_H

#include <string.h>
#include <criterion/criterion.h>
#include "nvmeta.h"

static inline void expect_validation(const struct nvmeta_dev_info *info, const struct nvmeta_io *io,
				     int err, const char *words)
{
	int ret = nvmeta_validate_info(info, io);

	cr_assert_eq(ret, err, "got %d (%s), want %d", ret, nvmeta_last_error(), err);
	if (words)
		cr_assert(strstr(nvmeta_last_error(), words), "message '%s' lacks '%s'",
			  nvmeta_last_error(), words);
}

#endif
