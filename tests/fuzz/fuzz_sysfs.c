// SPDX-License-Identifier: MIT
/*
 * The kernel's view of a namespace in sysfs: nvmeta_read_limits() (queue
 * limits and the integrity profile) and the format fingerprint the
 * watcher compares (nvmeta_fingerprint_read() at open, the watcher's
 * pread of descriptors opened once afterwards).
 *
 * Input: the contents of the attribute files of a fake sysfs tree, in the
 * order of files[] below, separated by NUL bytes (which sysfs never
 * shows).  A field that is the single byte 0xff, and every field the input
 * does not reach, makes its file absent.  The tree lives in a temporary
 * directory under $TMPDIR and is rewritten for each input.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>
#include "internal.h"
#include "fuzz.h"

#define BLOCK "nvme0n1"

static const char *const files[] = {
	"queue/max_integrity_segments", "queue/dma_alignment", "queue/max_segments",
	"queue/max_segment_size", "queue/max_hw_sectors_kb", "queue/virt_boundary_mask",
	"queue/logical_block_size", "queue/io_poll",
	"integrity/format", "integrity/tag_size", "integrity/protection_interval_bytes",
	"size", "metadata_bytes",
};

/* watch.c's attributes, in its order (struct nvmeta_watch.fds). */
static const char *const watched[] = {
	"size", "queue/logical_block_size", "metadata_bytes",
	"integrity/format", "integrity/tag_size",
};

static char root[PATH_MAX];

static void remove_tree(void)
{
	char path[PATH_MAX + 64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/block/" BLOCK "/%s", root, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/block/" BLOCK "/queue", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/block/" BLOCK "/integrity", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/block/" BLOCK, root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/block", root);
	rmdir(path);
	rmdir(root);
}

static void make_tree(void)
{
	static const char *const dirs[] = { "block", "block/" BLOCK, "block/" BLOCK "/queue",
					    "block/" BLOCK "/integrity" };
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX + 64];
	size_t i;

	snprintf(root, sizeof(root), "%s/nvmeta-fuzz-sysfs.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		abort();
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (mkdir(path, 0700))
			abort();
	}
	atexit(remove_tree);
}

static void put_file(size_t i, const uint8_t *text, size_t len, bool present)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/block/" BLOCK "/%s", root, files[i]);
	if (!present) {
		unlink(path);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* A value as sysfs shows one: printable, one line ending in a newline,
 * short enough for the fingerprint's reads.  (Trailing blanks are fine:
 * both views trim them the same way since the fuzzer found they did not.) */
static bool sysfs_shaped(const uint8_t *text, size_t len)
{
	size_t i;

	if (len < 2 || len > 39 || text[len - 1] != '\n')
		return false;
	for (i = 0; i + 1 < len; i++)
		if (!isprint(text[i]))
			return false;
	return true;
}

static bool is_watched(const char *file)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(watched); i++)
		if (!strcmp(file, watched[i]))
			return true;
	return false;
}

/* nvmeta_dev_check()'s view from descriptors must equal the view at open
 * when nothing changed in between. */
static void check_watch(const struct nvmeta_fingerprint *seen)
{
	struct nvmeta_dev *dev = calloc(1, sizeof(*dev));
	char path[PATH_MAX + 64];
	size_t i;
	int ret;

	if (!dev)
		abort();
	for (i = 0; i < ARRAY_SIZE(dev->attr_fds); i++) {
		snprintf(path, sizeof(path), "%s/block/" BLOCK "/%s", root, watched[i]);
		dev->attr_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	dev->seen = *seen;
	ret = nvmeta_format_check(dev);
	FUZZ_ASSERT(ret == 0, "format check %d on an unchanged tree: %s", ret, dev->stale_why);
	nvmeta_format_close(dev);
	free(dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nul;
	struct nvmeta_fingerprint fp;
	struct nvmeta_limits lim;
	bool shaped = true;
	size_t i, len;
	int ret;

	if (!root[0])
		make_tree();
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		bool present = p < end;

		nul = present ? memchr(p, 0, end - p) : NULL;
		len = present ? (size_t)((nul ? nul : end) - p) : 0;
		if (len == 1 && p[0] == 0xff)
			present = false;
		put_file(i, p, len, present);
		if (present && is_watched(files[i]) && !sysfs_shaped(p, len))
			shaped = false;
		p = nul ? nul + 1 : end;
	}

	ret = nvmeta_read_limits(root, BLOCK, &lim);
	FUZZ_ASSERT(ret <= 0, "read_limits %d", ret);
	if (!ret)
		FUZZ_ASSERT(memchr(lim.integrity_format, 0, sizeof(lim.integrity_format)),
			    "integrity_format not terminated");

	ret = nvmeta_fingerprint_read(root, BLOCK, &fp);
	FUZZ_ASSERT(ret == 0 || ret == -ENOENT || ret == -EOVERFLOW, "fingerprint %d", ret);
	FUZZ_ASSERT(memchr(fp.text, 0, sizeof(fp.text)), "fingerprint not terminated");
	if (!ret && shaped)
		check_watch(&fp);
	return 0;
}
