// SPDX-License-Identifier: MIT
/*
 * /proc/self/pagemap entries and /proc/kpageflags words as the kernel
 * returns them: nvmeta_pagemap_decode(), then nvmeta_count_runs() over
 * the frames (with flags when the first input byte is odd, without
 * otherwise, as when kpageflags cannot be read).
 *
 * Input: one flag byte, then N pagemap entries and N kpageflags words
 * (little-endian u64), N being what the input holds.
 */
#include <errno.h>
#include "internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int n, phys, folio, phys2, folio2;
	uint64_t *pfn, *kflags;
	bool with_flags, all_present;
	int ret;

	with_flags = fuzz_u64(&in, 1) & 1;
	n = in.left / 16;
	/* Sized to the entries (a byte more for none): ASan sees a read past. */
	pfn = malloc(n * sizeof(*pfn) + 1);
	kflags = malloc(n * sizeof(*kflags) + 1);
	if (!pfn || !kflags)
		abort();
	fuzz_take(&in, pfn, n * sizeof(*pfn));
	fuzz_take(&in, kflags, n * sizeof(*kflags));

	ret = nvmeta_pagemap_decode(pfn, n, &all_present);
	FUZZ_ASSERT(ret == 0 || ret == -EPERM || ret == -ENODATA, "decode %d", ret);
	FUZZ_ASSERT(ret != -ENODATA || !all_present, "ENODATA with all present");
	FUZZ_ASSERT(ret != 0 || all_present, "0 with a page missing");

	nvmeta_count_runs(pfn, with_flags ? kflags : NULL, n, &phys, &folio);
	FUZZ_ASSERT(n ? phys >= 1 && phys <= n : phys == 0, "phys %u of %u", phys, n);
	FUZZ_ASSERT(folio >= phys && folio <= n, "folio %u phys %u of %u", folio, phys, n);
	/* Without flags no two pages share a folio. */
	nvmeta_count_runs(pfn, NULL, n, &phys2, &folio2);
	FUZZ_ASSERT(phys2 == phys && folio2 == n, "no flags: phys %u/%u folio %u of %u",
		    phys2, phys, folio2, n);
	free(pfn);
	free(kflags);
	return 0;
}
