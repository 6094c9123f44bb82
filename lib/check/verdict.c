// SPDX-License-Identifier: MIT
/*
 * A case's verdict and its detail: the bottom of libnvmeta-check, which
 * the checker and the cases with their own I/O (fixed_buf.c, reformat.c)
 * all write through.
 */
#include "check.h"

void nvmeta_check_verdict_v(struct nvmeta_check_result *r, enum nvmeta_verdict v,
			    const char *fmt, va_list ap)
{
	r->verdict = v;
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
}

void nvmeta_check_verdict(struct nvmeta_check_result *r, enum nvmeta_verdict v,
			  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	nvmeta_check_verdict_v(r, v, fmt, ap);
	va_end(ap);
}

const char *nvmeta_verdict_name(enum nvmeta_verdict v)
{
	static const char *const names[] = {
		"pass", "skip", "FAIL", "KERNEL-DEFECT", "DEVICE-ERROR",
	};

	return v <= NVMETA_VERDICT_DEVICE_ERROR ? names[v] : "unknown";
}
