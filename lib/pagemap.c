// SPDX-License-Identifier: MIT
/*
 * Where a buffer really lives: page frame numbers from /proc/self/pagemap
 * and compound-page flags from /proc/kpageflags.  The kernel decides
 * between pinning and bouncing on segment counts, and those depend on
 * physical pages and folios, not on virtual addresses.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define PM_PRESENT	(1ull << 63)
#define PM_PFN_MASK	((1ull << 55) - 1)
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17
#define KPF_THP			22

/*
 * Count physically contiguous runs and folio runs over @n pages.  A page
 * continues the previous page's folio only when it is the next frame and
 * a compound tail; plain 4 KiB pages are each their own folio even when
 * their frames happen to be adjacent.
 */
void nvmeta_count_runs(const uint64_t *pfn, const uint64_t *kflags, unsigned int n,
		       unsigned int *phys_runs, unsigned int *folio_runs)
{
	unsigned int i, phys = n ? 1 : 0, folio = n ? 1 : 0;

	for (i = 1; i < n; i++) {
		bool next_frame = pfn[i] == pfn[i - 1] + 1;
		bool tail = kflags && (kflags[i] & (1ull << KPF_COMPOUND_TAIL));

		if (!next_frame)
			phys++;
		if (!next_frame || !tail)
			folio++;
	}
	*phys_runs = phys;
	*folio_runs = folio;
}

int nvmeta_pagemap_decode(uint64_t *pfn, unsigned int n, bool *all_present)
{
	unsigned int i;

	*all_present = true;
	for (i = 0; i < n; i++) {
		if (!(pfn[i] & PM_PRESENT)) {
			*all_present = false;
			continue;
		}
		pfn[i] &= PM_PFN_MASK;
		if (!pfn[i])
			return -EPERM;	/* PFNs are hidden without CAP_SYS_ADMIN */
	}
	/* Pages not faulted in yet get their frames only when pinned. */
	return *all_present ? 0 : -ENODATA;
}

static int pread_all(int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = pread(fd, buf, len, off);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int read_pfns(uintptr_t first, unsigned int n, uint64_t *pfn, struct nvmeta_page_map *pm)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len;
	int fd, ret;

	if (__builtin_mul_overflow((size_t)n, sizeof(*pfn), &len))
		return -E2BIG;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = pread_all(fd, pfn, len, first / page * sizeof(*pfn));
	close(fd);
	if (ret)
		return ret;
	return nvmeta_pagemap_decode(pfn, n, &pm->all_present);
}

static void read_kflags(const uint64_t *pfn, unsigned int n, uint64_t *kflags,
			struct nvmeta_page_map *pm)
{
	unsigned int i;
	int fd;

	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (i = 0; i < n; i++) {
		if (pread_all(fd, &kflags[i], sizeof(kflags[i]), pfn[i] * sizeof(uint64_t)))
			break;
		if (kflags[i] & ((1ull << KPF_THP) | (1ull << KPF_HUGE)))
			pm->huge_pages++;
	}
	close(fd);
	pm->folios_known = i == n;
}

int nvmeta_page_map_read(const void *addr, size_t len, struct nvmeta_page_map *pm)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t first = (uintptr_t)addr & ~(uintptr_t)(page - 1);
	uintptr_t end;
	uint64_t *pfn, *kflags;
	size_t span, pages;
	int ret;

	memset(pm, 0, sizeof(*pm));
	if (!len)
		return 0;
	/* A range past the top of the address space is no buffer, and a
	 * page count must fit pm->pages. */
	if (__builtin_add_overflow((uintptr_t)addr, len, &end))
		return -EINVAL;
	span = end - first;
	pages = span / page + !!(span % page);
	if (pages > UINT_MAX)
		return -E2BIG;
	pm->pages = pages;
	pfn = calloc(pm->pages, sizeof(*pfn));
	kflags = calloc(pm->pages, sizeof(*kflags));
	if (!pfn || !kflags) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_pfns(first, pm->pages, pfn, pm);
	if (ret)
		goto out;
	read_kflags(pfn, pm->pages, kflags, pm);
	nvmeta_count_runs(pfn, pm->folios_known ? kflags : NULL, pm->pages,
			  &pm->phys_runs, &pm->folio_runs);
	pm->known = true;
out:
	free(pfn);
	free(kflags);
	return ret;
}
