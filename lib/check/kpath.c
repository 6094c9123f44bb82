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
 *
 * Probes are machine-wide and outlive a process that never reaches
 * nvmeta_kpath_close() (SIGKILL, SIGSEGV): they stay enabled and count
 * forever.  So each is named nvmeta_<pid>_<pidns>_<probe>, <pidns> being
 * the inode of the owner's pid namespace, and every open removes the
 * probes whose owner is provably gone.  The namespace is in the name
 * because pids are not machine-wide: without it, a run in a container
 * could take a pid that is free here for a dead one and remove the probes
 * of a live run.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "check.h"

enum { PROBE_META_MAP, PROBE_META_COPY, PROBE_DATA_MAP, PROBE_DATA_PIN, NR_PROBES };

static const struct {
	const char *name;
	const char *symbols[3];
} probes[NR_PROBES] = {
	/* bio_integrity_map_user() (6.8) maps the metadata of both roads:
	 * passthrough through blk_rq_integrity_map_user(), the PI attribute
	 * of io_uring read/write through bio_integrity_map_iter() (6.14). */
	[PROBE_META_MAP] = { "meta_map", { "bio_integrity_map_user", "blk_rq_integrity_map_user",
					   "nvme_map_user_request" } },
	[PROBE_META_COPY] = { "meta_copy", { "bio_integrity_add_page" } },
	[PROBE_DATA_MAP] = { "data_map", { "blk_rq_map_user_iov" } },
	[PROBE_DATA_PIN] = { "data_pin", { "bio_map_user_iov", "bio_iov_iter_get_pages" } },
};

struct nvmeta_kpath {
	char tracefs[64];
	char event[NR_PROBES][NVMETA_KPATH_EVENT_MAX];
	const char *symbol[NR_PROBES];
	unsigned long long pidns;	/* 0: unknown, then nothing is removed */
};

#define EVENT_PREFIX "nvmeta_"
#define EVENT_GROUP "kprobes"	/* the kernel's default group, which add_probe uses */

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
	return nvmeta_check_fail(-ENOENT, "kpath: no writable kprobe_events (tracefs not mounted, or not root)");
}

/* Register one probe on the first of its symbols this kernel has. */
static int add_probe(struct nvmeta_kpath *kp, int i)
{
	char path[PATH_MAX], line[160];
	size_t s;
	int ret = -ENOENT;

	snprintf(kp->event[i], sizeof(kp->event[i]), EVENT_PREFIX "%d_%llu_%s", (int)getpid(),
		 kp->pidns, probes[i].name);
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
		return nvmeta_check_fail(ret, "kpath: cannot probe any of %s%s%s: %s", probes[i].symbols[0],
				   probes[i].symbols[1] ? ", " : "",
				   probes[i].symbols[1] ? probes[i].symbols[1] : "", strerror(-ret));
	snprintf(line, sizeof(line), "events/kprobes/%s/enable", kp->event[i]);
	tracefs_path(path, sizeof(path), kp, line);
	ret = write_file(path, "1", false);
	if (ret)
		return nvmeta_check_fail(ret, "kpath: cannot enable %s: %s", kp->event[i], strerror(-ret));
	return 0;
}

/* Disable, then remove: the kernel refuses to remove an enabled probe
 * (EBUSY).  A name too long for @line is none of ours (they are shorter
 * than NVMETA_KPATH_EVENT_MAX): nothing is written for it. */
static int remove_event(const struct nvmeta_kpath *kp, const char *event)
{
	char path[PATH_MAX], line[160];

	if (snprintf(line, sizeof(line), "events/" EVENT_GROUP "/%s/enable", event) >=
	    (int)sizeof(line))
		return -ENAMETOOLONG;
	tracefs_path(path, sizeof(path), kp, line);
	write_file(path, "0", false);
	if (snprintf(line, sizeof(line), "-:%s\n", event) >= (int)sizeof(line))
		return -ENAMETOOLONG;
	tracefs_path(path, sizeof(path), kp, "kprobe_events");
	return write_file(path, line, true);
}

static void remove_probe(struct nvmeta_kpath *kp, int i)
{
	if (!kp->symbol[i])
		return;
	remove_event(kp, kp->event[i]);
	kp->symbol[i] = NULL;
}

/* A canonical decimal number (no sign, no leading zero) up to @max,
 * followed by '_'.  Returns what follows the '_', or NULL. */
static const char *parse_id(const char *s, unsigned long long max, unsigned long long *v)
{
	unsigned long long n = 0;
	unsigned int d;

	if (*s < '1' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = *s - '0';
		if (n > (max - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	if (*s != '_')
		return NULL;
	*v = n;
	return s + 1;
}

/*
 * The event name of one kprobe_events line, when this library could have
 * registered it: "p:kprobes/NAME SYMBOL" as the kernel prints it, or
 * "p:NAME SYMBOL".  Return probes and other groups are someone else's.
 * The line is not NUL-terminated; a name that does not fit @size is not
 * ours either.
 */
static bool line_event(const char *line, size_t len, char *name, size_t size)
{
	const char *end = line + len, *tok, *p, *slash;
	size_t n;

	if (len < 2 || line[0] != 'p' || line[1] != ':')
		return false;
	tok = line + 2;
	for (p = tok; p < end && *p != ' ' && *p != '\t'; p++)
		;
	slash = memchr(tok, '/', p - tok);
	if (slash) {
		if ((size_t)(slash - tok) != strlen(EVENT_GROUP) ||
		    memcmp(tok, EVENT_GROUP, slash - tok))
			return false;
		tok = slash + 1;
	}
	n = p - tok;
	if (!n || n >= size)
		return false;
	memcpy(name, tok, n);
	name[n] = '\0';
	return true;
}

/* Whether @name is exactly a name add_probe() makes; its owner if so. */
static bool our_event(const char *name, int *pid, unsigned long long *pidns)
{
	unsigned long long v;
	const char *p;
	int i;

	if (strncmp(name, EVENT_PREFIX, strlen(EVENT_PREFIX)))
		return false;
	p = parse_id(name + strlen(EVENT_PREFIX), INT_MAX, &v);
	if (!p || !(p = parse_id(p, ULLONG_MAX, pidns)))
		return false;
	*pid = (int)v;
	for (i = 0; i < NR_PROBES; i++)
		if (!strcmp(p, probes[i].name))
			return true;
	return false;
}

int nvmeta_kpath_stale(const char *text, unsigned long long pidns,
		       bool (*alive)(int pid, void *arg), void *arg,
		       char (*names)[NVMETA_KPATH_EVENT_MAX], int max)
{
	char name[NVMETA_KPATH_EVENT_MAX];
	unsigned long long ns;
	const char *line, *nl;
	int pid, found = 0;
	size_t len;

	if (!pidns)
		return 0;
	for (line = text; *line; line += len + !!nl) {
		nl = strchr(line, '\n');
		len = nl ? (size_t)(nl - line) : strlen(line);
		if (!line_event(line, len, name, sizeof(name)) || !our_event(name, &pid, &ns))
			continue;
		if (ns != pidns || alive(pid, arg))
			continue;
		if (found < max)
			memcpy(names[found], name, sizeof(name));
		found++;
	}
	return found;
}

/*
 * Only ESRCH proves the owner gone.  A pid that exists, ours to signal or
 * not (EPERM), may be the owner, so its probes stay.  Pid reuse therefore
 * errs in the safe direction: a dead owner's pid taken by another process
 * keeps a stale probe until that one is gone too; a live owner's probes
 * are never removed.
 */
static bool pid_alive(int pid, void *arg)
{
	(void)arg;
	return kill(pid, 0) == 0 || errno != ESRCH;
}

/* The whole of a tracefs file, NUL-terminated; NULL on failure. */
static char *read_text(const char *path)
{
	size_t size = 4096, len = 0;
	char *text = malloc(size), *grown;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !text)
		goto fail;
	while ((n = read(fd, text + len, size - len - 1)) > 0) {
		len += n;
		if (len + 1 < size)
			continue;
		grown = realloc(text, size * 2);
		if (!grown)
			goto fail;
		text = grown;
		size *= 2;
	}
	if (n < 0)
		goto fail;
	close(fd);
	text[len] = '\0';
	return text;
fail:
	if (fd >= 0)
		close(fd);
	free(text);
	return NULL;
}

/*
 * Remove the probes of dead nvmeta processes.  Best effort: a probe that
 * cannot go (held by perf, or removed by another run at the same moment)
 * does not stop this run, whose own probes have their own names.
 */
static void remove_stale(const struct nvmeta_kpath *kp)
{
	char names[16][NVMETA_KPATH_EVENT_MAX], path[PATH_MAX], *text;
	int pass, n, i, removed;

	tracefs_path(path, sizeof(path), kp, "kprobe_events");
	for (pass = 0; pass < 64; pass++) {
		text = read_text(path);
		if (!text)
			return;
		n = nvmeta_kpath_stale(text, kp->pidns, pid_alive, NULL, names,
				       ARRAY_SIZE(names));
		free(text);
		removed = 0;
		for (i = 0; i < n && i < (int)ARRAY_SIZE(names); i++)
			removed += !remove_event(kp, names[i]);
		/* More than fit: read again, as long as that gets somewhere. */
		if (n <= (int)ARRAY_SIZE(names) || !removed)
			return;
	}
}

/* The inode of our pid namespace, or 0 without /proc. */
static unsigned long long pid_namespace(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) ? 0 : (unsigned long long)st.st_ino;
}

int nvmeta_kpath_open(const struct nvmeta_dev_info *info, struct nvmeta_kpath **kpp)
{
	struct nvmeta_kpath *kp;
	int i, ret;

	nvmeta_check_error_clear();
	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return nvmeta_check_fail(-ENOMEM, "out of memory");
	(void)info;
	kp->pidns = pid_namespace();
	ret = find_tracefs(kp);
	if (!ret)
		remove_stale(kp);
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

void nvmeta_kpath_profile_parse(FILE *f, const char (*event)[NVMETA_KPATH_EVENT_MAX],
				unsigned int n, uint64_t *hits)
{
	char line[256], name[96];
	unsigned long long v;
	unsigned int i;

	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%95s %llu", name, &v) != 2)
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(name, event[i]))
				hits[i] = v;
	}
}

int nvmeta_kpath_sample(const struct nvmeta_kpath *kp, struct nvmeta_kpath_sample *s)
{
	char path[PATH_MAX];
	FILE *f;

	nvmeta_check_error_clear();
	memset(s, 0, sizeof(*s));
	tracefs_path(path, sizeof(path), kp, "kprobe_profile");
	f = fopen(path, "re");
	if (!f)
		return nvmeta_check_fail(-errno, "kpath: %s: %m", path);
	nvmeta_kpath_profile_parse(f, kp->event, NR_PROBES, s->hits);
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
	int path = nvmeta_kpath_decide(kind, maps, marks);

	nvmeta_check_error_clear();
	snprintf(evidence, len, "%s +%" PRIu64 ", %s +%" PRIu64, kp->symbol[map], maps,
		 kp->symbol[mark], marks);
	if (path < 0)
		return nvmeta_check_fail(path, "kpath: the kernel never mapped the %s buffer (%s)",
				   kind == NVMETA_KIND_META ? "metadata" : "data", evidence);
	return path;
}

int nvmeta_kpath_decide(enum nvmeta_kind kind, uint64_t maps, uint64_t marks)
{
	bool bounced;

	if (!maps)
		return -ENODATA;
	/* Metadata: the copy path adds pages to the integrity bio.  Data:
	 * only the pinning path maps user pages into a bio. */
	bounced = kind == NVMETA_KIND_META ? marks > 0 : marks == 0;
	return bounced ? NVMETA_PATH_BOUNCE : NVMETA_PATH_PIN;
}
