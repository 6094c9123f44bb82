// SPDX-License-Identifier: MIT
/* fio's io_uring_cmd engine as a baseline: not wired up yet. */
#include <errno.h>
#include <stdio.h>
#include "bench.h"

int fio_check(const char *fio, char *why, size_t len)
{
	snprintf(why, len, "%s: the fio baseline is not built into this nvmeta-bench yet", fio);
	return -ENOENT;
}

int fio_slice(const struct variant *v, const struct bench_opts *o,
	      const struct nvmeta_dev_info *info, unsigned int ms, struct slice *s)
{
	(void)v, (void)o, (void)info, (void)ms;
	snprintf(s->error, sizeof(s->error), "no fio");
	return -ENOENT;
}
