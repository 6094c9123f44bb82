// SPDX-License-Identifier: MIT
#include <errno.h>
#include <criterion/criterion.h>
#include "internal.h"

Test(kernel, debian_releases)
{
	struct nvmeta_kernel k;

	cr_assert_eq(nvmeta_kernel_parse("6.1.0-26-amd64", &k), 0);
	cr_assert_eq(k.major, 6);
	cr_assert_eq(k.minor, 1);
	cr_assert_not(NVMETA_KERNEL_AT_LEAST(&k, 6, 8));
	cr_assert_eq(nvmeta_kernel_parse("6.12.117+deb13-amd64", &k), 0);
	cr_assert_eq(k.patch, 117);
	cr_assert(NVMETA_KERNEL_AT_LEAST(&k, 6, 8));
	cr_assert_str_eq(k.release, "6.12.117+deb13-amd64");
	cr_assert_eq(nvmeta_kernel_parse("7.2-rc1", &k), 0);
	cr_assert(NVMETA_KERNEL_AT_LEAST(&k, 6, 8));
}

Test(kernel, garbage_is_refused)
{
	struct nvmeta_kernel k;

	cr_assert_eq(nvmeta_kernel_parse("linux", &k), -EINVAL);
	cr_assert_eq(nvmeta_kernel_parse("6", &k), -EINVAL);
}

Test(kernel, running_kernel_parses)
{
	struct nvmeta_kernel k;

	cr_assert_eq(nvmeta_kernel_read(&k), 0);
	cr_assert_gt(k.major, 2);
}
