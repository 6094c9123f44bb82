// SPDX-License-Identifier: MIT
/* A ten-line program that links the installed library and calls it. */
#include <stdio.h>
#include <nvmeta.h>

int main(void)
{
	struct nvmeta_kernel k;

	if (nvmeta_kernel_read(&k))
		return 1;
	printf("nvmeta %s on kernel %u.%u\n", nvmeta_version(), k.major, k.minor);
	return 0;
}
