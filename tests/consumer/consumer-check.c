// SPDX-License-Identifier: MIT
/*
 * A kernel tester's view of the installed libnvmeta-check: it links the
 * checker's library (pkg-config nvmeta-check, which brings libnvmeta)
 * and reads its case table, as nvmeta-check does, without a device.
 */
#include <stdio.h>
#include <string.h>
#include <nvmeta-check.h>

int main(void)
{
	const struct nvmeta_check_case *cases;
	int n = nvmeta_check_table(&cases), i, meta = 0;

	if (NVMETA_VERSION_CHECK() || n <= 0) {
		fprintf(stderr, "consumer-check: %s\n", nvmeta_check_last_error());
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (!cases[i].name || !cases[i].name[0])
			return 1;
		meta += cases[i].kind == NVMETA_KIND_META;
	}
	if (strcmp(nvmeta_verdict_name(NVMETA_VERDICT_KERNEL_DEFECT), "KERNEL-DEFECT"))
		return 1;
	printf("nvmeta-check %s: %d cases, %d on metadata buffers\n", nvmeta_version(), n, meta);
	return 0;
}
