// SPDX-License-Identifier: MIT
/*
 * Noticing a format change under an open handle.
 *
 * The library validates every command against the format identify
 * reported at open.  If the namespace is reformatted meanwhile (512+8 to
 * 512+64, say), a metadata buffer sized for 8 bytes a block lets the
 * device write 56 bytes a block past it: the kernel does not check
 * metadata_len.  Asking the device or sysfs before every command would
 * cost a system call each; instead nvmeta_dev_check(), when the
 * application calls it, compares the kernel's view (sysfs) with the view
 * at open and marks the device stale.  The submission path reads that
 * mark: one load.  No thread watches behind the application's back: the
 * application decides how often to look (a timer in its own event loop,
 * or before each batch).
 *
 * The kernel rescans a namespace before a Format NVM sent through its
 * admin ioctl returns (the command's effects include a namespace
 * capability change), so its view is fresh from then on.  One sent
 * through io_uring (NVME_URING_CMD_ADMIN) is not rescanned until a rescan
 * or reset: only nvmeta_dev_refresh(), which asks the device, sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

/* Attributes that move with the format.  metadata_bytes is there from
 * 6.x on (6.12 has it, 6.1 does not); integrity/ shows the PI profile. */
static const char *const attrs[] = {
	"size", "queue/logical_block_size", "metadata_bytes",
	"integrity/format", "integrity/tag_size",
};

static const char *attr_key(size_t i)
{
	const char *slash = strrchr(attrs[i], '/');

	return slash ? slash + 1 : attrs[i];
}

/* Append "key=value" for attribute @i to @fp; "-" when @val is NULL. */
static int fingerprint_add(struct nvmeta_fingerprint *fp, size_t *used, size_t i,
			   const char *val)
{
	int n = snprintf(fp->text + *used, sizeof(fp->text) - *used, "%s%s=%s",
			 *used ? " " : "", attr_key(i), val ? val : "-");

	if (n < 0 || (size_t)n >= sizeof(fp->text) - *used)
		return -EOVERFLOW;
	*used += n;
	return 0;
}

static int attr_path(char *path, size_t len, const char *sysroot, const char *block, size_t i)
{
	if (snprintf(path, len, "%s/block/%s/%s", sysroot, block, attrs[i]) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

_Static_assert(ARRAY_SIZE(attrs) == ARRAY_SIZE(((struct nvmeta_dev *)0)->attr_fds),
	       "one descriptor an attribute");

int nvmeta_fingerprint_read(const char *sysroot, const char *block,
			    struct nvmeta_fingerprint *fp)
{
	char path[256], val[40];
	size_t used = 0, i;
	int ret;

	memset(fp, 0, sizeof(*fp));
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		ret = attr_path(path, sizeof(path), sysroot, block, i);
		if (ret)
			return ret;
		ret = nvmeta_sysfs_read(path, val, sizeof(val));
		if (ret == -ENOENT && i == 0)
			return ret;	/* the namespace itself is gone */
		ret = fingerprint_add(fp, &used, i, ret ? NULL : val);
		if (ret)
			return ret;
	}
	return 0;
}

/* The same text from descriptors opened once: pread at offset 0 makes
 * sysfs show the attribute afresh, one system call an attribute. */
static int fingerprint_pread(const int *fds, struct nvmeta_fingerprint *fp)
{
	char val[40];
	size_t used = 0, i;
	ssize_t n;
	int ret;

	memset(fp, 0, sizeof(*fp));
	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		n = fds[i] < 0 ? -1 : pread(fds[i], val, sizeof(val) - 1, 0);
		if (n < 0 && i == 0)
			return -ENOENT;	/* the namespace itself is gone */
		/* Trimmed as at open (nvmeta_sysfs_read()): the two views of
		 * an unchanged namespace must compare equal. */
		if (n >= 0)
			nvmeta_sysfs_trim(val, (size_t)n);
		ret = fingerprint_add(fp, &used, i, n < 0 ? NULL : val);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * One writer of the message: checks on two threads may race.
 * 0 fresh, 2 message being written, 1 stale with its message; the
 * submission path refuses on anything but 0.
 */
static int mark_stale(struct nvmeta_dev *dev, const char *fmt, const char *a, const char *b)
{
	int fresh = 0;

	if (!atomic_compare_exchange_strong(&dev->fast.stale, &fresh, 2))
		return 1;
	snprintf(dev->stale_why, sizeof(dev->stale_why), fmt, a, b);
	/* Release: a submitter that sees 1 sees the message too. */
	atomic_store_explicit(&dev->fast.stale, 1, memory_order_release);
	return 1;
}

/* Compare @now (or its absence, @ret) with the view the info describes. */
static int judge(struct nvmeta_dev *dev, int ret, const struct nvmeta_fingerprint *now)
{
	if (ret == -ENOENT)
		return mark_stale(dev, "namespace %s is gone from sysfs%s", dev->info.block_name, "");
	if (ret)
		return ret;
	if (!strcmp(now->text, dev->seen.text))
		return 0;
	/* nvme_ns_remove() sets the capacity to 0 before the namespace
	 * leaves sysfs; so does a revalidation that finds a format the
	 * kernel cannot use. */
	if (!strncmp(now->text, "size=0 ", 7))
		return mark_stale(dev, "namespace %s has capacity 0 now: the kernel took it out of service (being removed, or a format it cannot use; was %s)",
				  dev->info.block_name, dev->seen.text);
	return mark_stale(dev, "the namespace's format changed (%s, was %s)", now->text,
			  dev->seen.text);
}

int nvmeta_format_check(struct nvmeta_dev *dev)
{
	struct nvmeta_fingerprint now;
	int ret;

	if (atomic_load_explicit(&dev->fast.stale, memory_order_acquire))
		return 1;
	/* Opened at open; without them (EMFILE then) by path, slower. */
	if (dev->attr_fds[0] >= 0)
		ret = fingerprint_pread(dev->attr_fds, &now);
	else
		ret = nvmeta_fingerprint_read("/sys", dev->info.block_name, &now);
	return judge(dev, ret, &now);
}

void nvmeta_format_close(struct nvmeta_dev *dev)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dev->attr_fds); i++) {
		if (dev->attr_fds[i] >= 0)
			close(dev->attr_fds[i]);
		dev->attr_fds[i] = -1;
	}
}

/* Once per open and refresh: the block device's name may change with a
 * rescan (a refresh after removal and return), so its attributes are
 * opened again then. */
void nvmeta_format_open(struct nvmeta_dev *dev)
{
	char path[256];
	size_t i;

	nvmeta_format_close(dev);
	for (i = 0; i < ARRAY_SIZE(dev->attr_fds); i++)
		if (!attr_path(path, sizeof(path), "/sys", dev->info.block_name, i))
			dev->attr_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
}

/* Off the hot path: the message is built only here. */
int nvmeta_refuse_stale(const struct nvmeta_dev *dev)
{
	int state = atomic_load_explicit(&dev->fast.stale, memory_order_acquire);

	return nvmeta_fail(-ESTALE, "%s: %s; commands are refused until nvmeta_dev_refresh()",
			   dev->info.generic_path,
			   state == 1 ? dev->stale_why : "the namespace's format changed");
}

int nvmeta_dev_check(struct nvmeta_dev *dev)
{
	int ret = nvmeta_format_check(dev);

	if (ret == 1)
		return nvmeta_refuse_stale(dev);
	if (ret < 0)
		return nvmeta_fail(ret, "%s: cannot read the format of %s from sysfs: %s",
				   dev->info.generic_path, dev->info.block_name, strerror(-ret));
	return 0;
}
