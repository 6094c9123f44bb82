// SPDX-License-Identifier: MIT
/* Which kernel is running: the metadata path changed in 6.8. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include "internal.h"

int nvmeta_kernel_parse(const char *release, struct nvmeta_kernel *k)
{
	unsigned int ma = 0, mi = 0, pa = 0;
	int n;

	memset(k, 0, sizeof(*k));
	snprintf(k->release, sizeof(k->release), "%s", release);
	n = sscanf(release, "%u.%u.%u", &ma, &mi, &pa);
	if (n < 2)
		return nvmeta_fail(-EINVAL, "kernel release '%s' is not MAJOR.MINOR[.PATCH]",
				   release);
	k->major = ma;
	k->minor = mi;
	k->patch = n == 3 ? pa : 0;
	return 0;
}

int nvmeta_kernel_read(struct nvmeta_kernel *k)
{
	struct utsname u;

	if (uname(&u))
		return nvmeta_fail(-errno, "uname: %m");
	return nvmeta_kernel_parse(u.release, k);
}
