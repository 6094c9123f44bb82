// SPDX-License-Identifier: MIT
/*
 * The kernel's view of the namespace: queue limits and the integrity
 * profile under /sys/block/NAME, and the block device behind a
 * controller and namespace id.  Every function takes the sysfs root so
 * the unit tests can point it at a fake tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

int nvmeta_sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	nvmeta_sysfs_trim(buf, (size_t)n);
	return 0;
}

size_t nvmeta_sysfs_trim(char *buf, size_t n)
{
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return n;
}

static int read_u64(const char *path, uint64_t *val)
{
	char buf[64], *end;
	int ret;

	ret = nvmeta_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*val = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

/* Read attribute @rel below directory @dir. */
static int read_u64_at(const char *dir, const char *rel, uint64_t *val)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return read_u64(path, val);
}

static int read_str_at(const char *dir, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return nvmeta_sysfs_read(path, buf, len);
}

struct limit_attr {
	const char *name;
	size_t offset;
	bool is_u64;
	bool required;
};

#define U32_ATTR(n, req) { #n, offsetof(struct nvmeta_limits, n), false, req }
#define U64_ATTR(n, req) { #n, offsetof(struct nvmeta_limits, n), true, req }

static const struct limit_attr queue_attrs[] = {
	U32_ATTR(max_integrity_segments, true),
	U32_ATTR(dma_alignment, true),
	U32_ATTR(max_segments, true),
	U32_ATTR(max_segment_size, false),
	U32_ATTR(max_hw_sectors_kb, true),
	U64_ATTR(virt_boundary_mask, false),
	U32_ATTR(logical_block_size, true),
	U32_ATTR(io_poll, false),
};

static int read_queue_attr(const char *dir, const struct limit_attr *a,
			   struct nvmeta_limits *lim)
{
	char rel[64];
	uint64_t val;
	int ret;

	snprintf(rel, sizeof(rel), "queue/%s", a->name);
	ret = read_u64_at(dir, rel, &val);
	if (ret == -ENOENT && !a->required)
		return 0;
	if (ret)
		return nvmeta_fail(ret, "sysfs: cannot read %s/%s: %s", dir, rel, strerror(-ret));
	if (!a->is_u64 && val > UINT32_MAX)
		return nvmeta_fail(-ERANGE, "sysfs: %s/%s = %" PRIu64 " is out of range",
				   dir, rel, val);
	if (a->is_u64)
		*(uint64_t *)((char *)lim + a->offset) = val;
	else
		*(uint32_t *)((char *)lim + a->offset) = (uint32_t)val;
	return 0;
}

static void read_integrity(const char *dir, struct nvmeta_limits *lim)
{
	uint64_t val;

	if (read_str_at(dir, "integrity/format", lim->integrity_format,
			sizeof(lim->integrity_format)))
		snprintf(lim->integrity_format, sizeof(lim->integrity_format), "none");
	if (!read_u64_at(dir, "integrity/tag_size", &val))
		lim->integrity_tag_size = val;
	if (!read_u64_at(dir, "integrity/protection_interval_bytes", &val))
		lim->integrity_interval = val;
}

int nvmeta_read_limits(const char *sysroot, const char *block_name,
		       struct nvmeta_limits *lim)
{
	char dir[PATH_MAX];
	size_t i;
	int ret;

	memset(lim, 0, sizeof(*lim));
	if (snprintf(dir, sizeof(dir), "%s/block/%s", sysroot, block_name) >= (int)sizeof(dir))
		return nvmeta_fail(-ENAMETOOLONG, "sysfs: path too long for %s", block_name);
	if (access(dir, F_OK))
		return nvmeta_fail(-ENOENT, "sysfs: %s is missing (is sysfs mounted?)", dir);
	for (i = 0; i < ARRAY_SIZE(queue_attrs); i++) {
		ret = read_queue_attr(dir, &queue_attrs[i], lim);
		if (ret)
			return ret;
	}
	read_integrity(dir, lim);
	return 0;
}

/* The controller a block device hangs off: basename of its device link. */
static bool block_on_ctrl(const char *sysroot, const char *name, const char *ctrl)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/block/%s/device", sysroot, name) >= (int)sizeof(path))
		return false;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	base = strrchr(target, '/');
	return !strcmp(base ? base + 1 : target, ctrl);
}

static bool block_has_nsid(const char *sysroot, const char *name, uint32_t nsid)
{
	char path[PATH_MAX];
	uint64_t val;

	if (snprintf(path, sizeof(path), "%s/block/%s", sysroot, name) >= (int)sizeof(path))
		return false;
	return !read_u64_at(path, "nsid", &val) && val == nsid;
}

/*
 * Our own walk of SYSROOT/block, not libnvme 1.3's nvme_scan_topology():
 * that one reads the real /sys only (no sysroot for the unit tests' fake
 * trees) and identifies every namespace on the machine to find one; see
 * dev.c.
 */
int nvmeta_find_block(const char *sysroot, const char *ctrl, uint32_t nsid,
		      char *name, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/block", sysroot);
	d = opendir(dir);
	if (!d)
		return nvmeta_fail(-errno, "sysfs: cannot open %s: %m", dir);
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "nvme", 4))
			continue;
		if (!block_on_ctrl(sysroot, de->d_name, ctrl) ||
		    !block_has_nsid(sysroot, de->d_name, nsid))
			continue;
		ret = snprintf(name, len, "%s", de->d_name) >= (int)len ? -ENAMETOOLONG : 0;
		break;
	}
	closedir(d);
	if (ret)
		return nvmeta_fail(ret, "sysfs: no block device for %s namespace %u under %s",
				   ctrl, nsid, dir);
	return 0;
}

const char *nvmeta_ctrl_state(const char *ctrl, char *buf, size_t len)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/state", ctrl);
	if (!ctrl[0] || nvmeta_sysfs_read(path, buf, len))
		snprintf(buf, len, "gone");
	return buf;
}

int nvmeta_fail_unless_live(int ret, const char *prefix, const struct nvmeta_dev_info *info)
{
	char state[32], what[256];

	/* Copied first: nvmeta_fail() writes where it lives. */
	snprintf(what, sizeof(what), "%s", nvmeta_last_error());
	nvmeta_ctrl_state(info->ctrl_name, state, sizeof(state));
	if (!strcmp(state, "live"))
		return nvmeta_fail(ret, "%s%s", prefix, what);
	return nvmeta_fail(ret, "%s%s; controller %s is %s (removed, reset or failed): reopen the namespace once it is back",
			   prefix, what, info->ctrl_name, state);
}
