// SPDX-License-Identifier: MIT
/*
 * Proof of the path the kernel took, from kprobe hit counts in tracefs.
 *
 * Metadata: the mapping entry (blk_rq_integrity_map_user from 6.8,
 * nvme_map_user_request before) is hit for every mapped buffer, and
 * bio_integrity_add_page only on the copy path (6.8 on; before 6.8 every
 * metadata buffer goes through it, and every one bounces).  Data:
 * blk_rq_map_user_iov is hit for every mapped buffer, and
 * bio_map_user_iov (bio_iov_iter_get_pages where it is inlined, 7.x) only
 * when user pages are pinned.  Counts are machine-wide: other block I/O
 * during a command blurs them, so the lab's quiet guest is the place.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

enum { PROBE_META_MAP, PROBE_META_COPY, PROBE_DATA_MAP, PROBE_DATA_PIN, NR_PROBES };

static const struct {
	const char *name;
	const char *symbols[3];
} probes[NR_PROBES] = {
	[PROBE_META_MAP] = { "meta_map", { "blk_rq_integrity_map_user", "nvme_map_user_request" } },
	[PROBE_META_COPY] = { "meta_copy", { "bio_integrity_add_page" } },
	[PROBE_DATA_MAP] = { "data_map", { "blk_rq_map_user_iov" } },
	[PROBE_DATA_PIN] = { "data_pin", { "bio_map_user_iov", "bio_iov_iter_get_pages" } },
};

struct nvmeta_kpath {
	char tracefs[64];
	char event[NR_PROBES][48];
	const char *symbol[NR_PROBES];
	bool old_kernel;	/* before 6.8: all metadata bounces */
};

static int write_file(const char *path, const char *text, bool append)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -errno;
}

static int tracefs_path(char *buf, size_t len, const struct nvmeta_kpath *kp, const char *rel)
{
	if (snprintf(buf, len, "%s/%s", kp->tracefs, rel) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int find_tracefs(struct nvmeta_kpath *kp)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(path, sizeof(path), "%s/kprobe_events", roots[i]);
		if (!access(path, W_OK)) {
			snprintf(kp->tracefs, sizeof(kp->tracefs), "%s", roots[i]);
			return 0;
		}
	}
	return nvmeta_fail(-ENOENT, "kpath: no writable kprobe_events (tracefs not mounted, or not root)");
}

/* Register one probe on the first of its symbols this kernel has. */
static int add_probe(struct nvmeta_kpath *kp, int i)
{
	char path[PATH_MAX], line[160];
	size_t s;
	int ret = -ENOENT;

	snprintf(kp->event[i], sizeof(kp->event[i]), "nvmeta_%d_%s", (int)getpid(), probes[i].name);
	tracefs_path(path, sizeof(path), kp, "kprobe_events");
	for (s = 0; s < ARRAY_SIZE(probes[i].symbols) && probes[i].symbols[s]; s++) {
		snprintf(line, sizeof(line), "p:%s %s\n", kp->event[i], probes[i].symbols[s]);
		ret = write_file(path, line, true);
		if (!ret) {
			kp->symbol[i] = probes[i].symbols[s];
			break;
		}
	}
	if (ret)
		return nvmeta_fail(ret, "kpath: cannot probe any of %s%s%s: %s", probes[i].symbols[0],
				   probes[i].symbols[1] ? ", " : "",
				   probes[i].symbols[1] ? probes[i].symbols[1] : "", strerror(-ret));
	snprintf(line, sizeof(line), "events/kprobes/%s/enable", kp->event[i]);
	tracefs_path(path, sizeof(path), kp, line);
	ret = write_file(path, "1", false);
	if (ret)
		return nvmeta_fail(ret, "kpath: cannot enable %s: %s", kp->event[i], strerror(-ret));
	return 0;
}

static void remove_probe(struct nvmeta_kpath *kp, int i)
{
	char path[PATH_MAX], line[160];

	if (!kp->symbol[i])
		return;
	snprintf(line, sizeof(line), "events/kprobes/%s/enable", kp->event[i]);
	tracefs_path(path, sizeof(path), kp, line);
	write_file(path, "0", false);
	snprintf(line, sizeof(line), "-:%s\n", kp->event[i]);
	tracefs_path(path, sizeof(path), kp, "kprobe_events");
	write_file(path, line, true);
	kp->symbol[i] = NULL;
}

int nvmeta_kpath_open(const struct nvmeta_dev_info *info, struct nvmeta_kpath **kpp)
{
	struct nvmeta_kpath *kp;
	int i, ret;

	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return nvmeta_fail(-ENOMEM, "out of memory");
	kp->old_kernel = !NVMETA_KERNEL_AT_LEAST(&info->kernel, 6, 8);
	ret = find_tracefs(kp);
	for (i = 0; !ret && i < NR_PROBES; i++)
		ret = add_probe(kp, i);
	if (ret) {
		nvmeta_kpath_close(kp);
		return ret;
	}
	*kpp = kp;
	return 0;
}

void nvmeta_kpath_close(struct nvmeta_kpath *kp)
{
	int i;

	if (!kp)
		return;
	for (i = 0; i < NR_PROBES; i++)
		remove_probe(kp, i);
	free(kp);
}

int nvmeta_kpath_sample(const struct nvmeta_kpath *kp, struct nvmeta_kpath_sample *s)
{
	char path[PATH_MAX], line[256], name[96];
	unsigned long long hits;
	FILE *f;
	int i;

	memset(s, 0, sizeof(*s));
	tracefs_path(path, sizeof(path), kp, "kprobe_profile");
	f = fopen(path, "re");
	if (!f)
		return nvmeta_fail(-errno, "kpath: %s: %m", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%95s %llu", name, &hits) != 2)
			continue;
		for (i = 0; i < NR_PROBES; i++)
			if (!strcmp(name, kp->event[i]))
				s->hits[i] = hits;
	}
	fclose(f);
	return 0;
}

int nvmeta_kpath_observe(const struct nvmeta_kpath *kp, enum nvmeta_kind kind,
			 const struct nvmeta_kpath_sample *before,
			 const struct nvmeta_kpath_sample *after, char *evidence, size_t len)
{
	int map = kind == NVMETA_KIND_META ? PROBE_META_MAP : PROBE_DATA_MAP;
	int mark = kind == NVMETA_KIND_META ? PROBE_META_COPY : PROBE_DATA_PIN;
	uint64_t maps = after->hits[map] - before->hits[map];
	uint64_t marks = after->hits[mark] - before->hits[mark];
	bool bounced;

	snprintf(evidence, len, "%s +%" PRIu64 ", %s +%" PRIu64, kp->symbol[map], maps,
		 kp->symbol[mark], marks);
	if (!maps)
		return nvmeta_fail(-ENODATA, "kpath: the kernel never mapped the %s buffer (%s)",
				   kind == NVMETA_KIND_META ? "metadata" : "data", evidence);
	bounced = kind == NVMETA_KIND_META ? marks > 0 : marks == 0;
	return bounced ? NVMETA_PATH_BOUNCE : NVMETA_PATH_PIN;
}
