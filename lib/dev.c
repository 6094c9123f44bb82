// SPDX-License-Identifier: MIT
/*
 * Opening a namespace: resolve the path to its generic char device,
 * identify it through libnvme and read the kernel's queue limits.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <nvme/ioctl.h>
#include "internal.h"

static const char sysroot[] = "/sys";

/*
 * The walk from the caller's node to controller, namespace ID, block
 * device and generic char device is our own, not libnvme 1.3's tree
 * (nvme_scan_topology, nvme_ns_get_generic_name, ...), which falls short
 * here:
 *  - its scan opens the block device of every namespace on the machine
 *    and sends each an identify (nvme_ns_init): opening one namespace
 *    would send admin commands to all, and a namespace whose identify
 *    fails (no permission, a format in progress) is not in the tree;
 *  - it only knows namespaces with a block device, and it derives the
 *    generic name from the block name ("nvme%dn%d" to "ng%dn%d") without
 *    looking whether that node exists or belongs to the same controller;
 *    find_generic() asks the kernel (device link, NVME_IOCTL_ID);
 *  - it has no lookup by device number, which lets a symlink or a node
 *    outside /dev work (node_name());
 *  - its sysfs paths are fixed at /sys: nvmeta_find_block() takes a
 *    sysroot so the unit tests can walk a captured tree.
 * nvmeta_list() (list.c) does use the tree, where those limits are
 * acceptable.
 */

/* Basename of the target of symlink @path, into @out. */
static int link_basename(const char *path, char *out, size_t len)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	if (snprintf(out, len, "%s", base ? base + 1 : target) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* The sysfs name and class of the device node @st. */
static int node_name(const struct stat *st, char *name, size_t nlen,
		     char *class, size_t clen)
{
	const char *kind = S_ISBLK(st->st_mode) ? "block" : "char";
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/dev/%s/%u:%u", sysroot, kind,
		 major(st->st_rdev), minor(st->st_rdev));
	ret = link_basename(path, name, nlen);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/dev/%s/%u:%u/subsystem", sysroot, kind,
		 major(st->st_rdev), minor(st->st_rdev));
	return link_basename(path, class, clen);
}

static int generic_nsid(const char *ng, uint32_t *nsid)
{
	char path[PATH_MAX];
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/%s", ng);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = nvme_get_nsid(fd, nsid) ? -errno : 0;
	close(fd);
	return ret;
}

/* The generic char device of namespace @nsid on controller @ctrl. */
static int find_generic(const char *ctrl, uint32_t nsid, char *out, size_t len)
{
	char path[PATH_MAX], owner[64];
	struct dirent *de;
	uint32_t id;
	int ret = -ENOENT;
	DIR *d;

	snprintf(path, sizeof(path), "%s/class/nvme-generic", sysroot);
	d = opendir(path);
	if (!d)
		return nvmeta_fail(-ENODEV, "%s is missing: kernel without NVMe generic char devices (needs 5.13)",
				   path);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/class/nvme-generic/%s/device",
			 sysroot, de->d_name);
		if (link_basename(path, owner, sizeof(owner)) || strcmp(owner, ctrl))
			continue;
		if (generic_nsid(de->d_name, &id) || id != nsid)
			continue;
		ret = snprintf(out, len, "/dev/%s", de->d_name) >= (int)len ? -ENAMETOOLONG : 0;
		break;
	}
	closedir(d);
	if (ret)
		return nvmeta_fail(ret, "no generic char device for %s namespace %u", ctrl, nsid);
	return 0;
}

/* From a block device nvmeXnY to its /dev/ngXnY. */
static int generic_of_block(const char *block, struct nvmeta_dev_info *info)
{
	char path[PATH_MAX], buf[32], *end;
	unsigned long nsid;
	int ret;

	if (strlen(block) >= sizeof(info->block_name))
		return nvmeta_fail(-ENAMETOOLONG, "block device name %s is too long", block);
	snprintf(path, sizeof(path), "%s/block/%s/device", sysroot, block);
	ret = link_basename(path, info->ctrl_name, sizeof(info->ctrl_name));
	if (ret)
		return nvmeta_fail(ret, "%s: no controller link in sysfs", block);
	snprintf(path, sizeof(path), "%s/block/%s/nsid", sysroot, block);
	ret = nvmeta_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return nvmeta_fail(ret, "%s: cannot read %s", block, path);
	errno = 0;
	nsid = strtoul(buf, &end, 10);
	if (errno || end == buf || *end || !nsid || nsid > UINT32_MAX)
		return nvmeta_fail(-EIO, "%s: nsid '%s' in %s is not a namespace ID", block, buf, path);
	info->nsid = nsid;
	memcpy(info->block_name, block, strlen(block) + 1);
	return find_generic(info->ctrl_name, info->nsid, info->generic_path,
			    sizeof(info->generic_path));
}

/*
 * From the caller's path to the namespace: the sysfs name of the node
 * (found by device number, so a symlink or a node outside /dev works)
 * gives the controller and the canonical /dev/ngXnY.  @open_given is set
 * when the caller's node is the generic char device itself, which is
 * then opened by the caller's path: nothing is cut short.
 */
static int resolve_path(const char *path, struct nvmeta_dev_info *info, bool *open_given)
{
	char name[64], class[64], link[PATH_MAX];
	struct stat st;

	*open_given = false;
	if (stat(path, &st))
		return nvmeta_fail(-errno, "%s: %m", path);
	if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
		return nvmeta_fail(-ENODEV, "%s is not a device node", path);
	if (node_name(&st, name, sizeof(name), class, sizeof(class)))
		return nvmeta_fail(-ENODEV, "%s: device %u:%u is not in sysfs", path,
				   major(st.st_rdev), minor(st.st_rdev));
	if (S_ISBLK(st.st_mode)) {
		if (strncmp(name, "nvme", 4))
			return nvmeta_fail(-ENODEV, "%s is block device %s, not an NVMe namespace",
					   path, name);
		return generic_of_block(name, info);
	}
	if (!strcmp(class, "nvme"))
		return nvmeta_fail(-ENODEV, "%s is NVMe controller %s, not a namespace: use /dev/ngXnY",
				   path, name);
	if (strcmp(class, "nvme-generic"))
		return nvmeta_fail(-ENODEV, "%s is a %s device, not an NVMe namespace", path, class);
	if (snprintf(info->generic_path, sizeof(info->generic_path), "/dev/%s", name) >=
	    (int)sizeof(info->generic_path))
		return nvmeta_fail(-ENAMETOOLONG, "%s: device name %s is too long", path, name);
	snprintf(link, sizeof(link), "%s/class/nvme-generic/%s/device", sysroot, name);
	if (link_basename(link, info->ctrl_name, sizeof(info->ctrl_name)))
		return nvmeta_fail(-ENODEV, "%s: no controller link at %s", path, link);
	*open_given = true;
	return 0;
}

/*
 * Under native multipath the generic and block devices are the head's,
 * whose parent is the subsystem (nvme-subsysN), not a controller.  The
 * paths are hidden block devices nvme<S>c<C>n<H> (subsystem S, controller
 * C, head H), listed in /sys/block on every kernel (the head's multipath/
 * directory of links is not there on 6.1); the first one's device link
 * names its controller.
 */
static int controller_of_head(struct nvmeta_dev_info *info)
{
	unsigned int s, h, ps, pc, ph, best = UINT_MAX;
	char path[PATH_MAX];
	struct dirent *de;
	int end = 0, ret;
	DIR *d;

	if (strncmp(info->ctrl_name, "nvme-subsys", 11))
		return 0;
	snprintf(info->subsys_name, sizeof(info->subsys_name), "%s", info->ctrl_name);
	info->ctrl_name[0] = '\0';
	if (sscanf(info->block_name, "nvme%un%u%n", &s, &h, &end) != 2 || info->block_name[end])
		return nvmeta_fail(-ENODEV, "%s: namespace of %s has no block device name of the form nvmeXnY ('%s')",
				   info->generic_path, info->subsys_name, info->block_name);
	snprintf(path, sizeof(path), "%s/block", sysroot);
	d = opendir(path);
	if (!d)
		return nvmeta_fail(-errno, "sysfs: cannot open %s: %m", path);
	while ((de = readdir(d))) {
		end = 0;
		if (sscanf(de->d_name, "nvme%uc%un%u%n", &ps, &pc, &ph, &end) != 3 ||
		    de->d_name[end] || ps != s || ph != h || pc >= best)
			continue;
		best = pc;
	}
	closedir(d);
	if (best == UINT_MAX)
		return nvmeta_fail(-ENODEV, "%s: no controller of %s has a path to namespace %u (no nvme%uc*n%u in %s)",
				   info->generic_path, info->subsys_name, info->nsid, s, h, path);
	snprintf(path, sizeof(path), "%s/block/nvme%uc%un%u/device", sysroot, s, best, h);
	ret = link_basename(path, info->ctrl_name, sizeof(info->ctrl_name));
	if (ret)
		return nvmeta_fail(ret, "%s: a path of %s: no controller link at %s",
				   info->generic_path, info->subsys_name, path);
	return 0;
}

static int nvme_call_result(int ret, const char *what, const char *path)
{
	if (ret < 0)
		return nvmeta_fail(-errno, "%s: %s failed: %m%s", path, what,
				   errno == EACCES || errno == EPERM ?
				   " (admin commands need CAP_SYS_ADMIN)" : "");
	if (ret > 0)
		return nvmeta_fail(-EIO, "%s: %s failed with NVMe status 0x%x", path, what, ret);
	return 0;
}

static int identify(int fd, struct nvmeta_dev_info *info)
{
	const char *path = info->generic_path;
	struct nvme_id_ctrl_nvm nvm_ctrl;
	struct nvme_nvm_id_ns nvm;
	struct nvme_id_ctrl ctrl;
	struct nvme_id_ns ns;
	bool elbas;
	int ret;

	ret = nvme_call_result(nvme_identify_ctrl(fd, &ctrl), "identify controller", path);
	if (ret)
		return ret;
	ret = nvme_call_result(nvme_identify_ns(fd, info->nsid, &ns), "identify namespace", path);
	if (ret)
		return ret;
	elbas = le32toh(ctrl.ctratt) & NVME_CTRL_CTRATT_ELBAS;
	if (elbas) {
		ret = nvme_identify_ns_csi(fd, info->nsid, 0, NVME_CSI_NVM, &nvm);
		ret = nvme_call_result(ret, "identify NVM command set namespace", path);
		if (ret)
			return ret;
	}
	ret = nvmeta_parse_identify(&ctrl, &ns, elbas ? &nvm : NULL, info);
	if (ret)
		return ret;
	/* The command set's own limits (WZSL, VSL, DMRSL, ...): a controller
	 * older than NVMe 2.0 may not know CNS 06h; then none is reported. */
	ret = nvme_nvm_identify_ctrl(fd, &nvm_ctrl);
	nvmeta_parse_identify_nvm_ctrl(ret ? NULL : &nvm_ctrl, info);
	return 0;
}

/* The namespace's ID and its block device, which the kernel's view of
 * the format is read from. */
static int find_namespace(int fd, struct nvmeta_dev_info *info)
{
	int ret;

	ret = nvme_call_result(nvme_get_nsid(fd, &info->nsid), "NVME_IOCTL_ID",
			       info->generic_path);
	if (ret || info->block_name[0])
		return ret;
	return nvmeta_find_block(sysroot, info->ctrl_name, info->nsid, info->block_name,
				 sizeof(info->block_name));
}

/*
 * Identify and the kernel's view, both.  The fingerprint is read before
 * identify: a format between the two then leaves the fingerprint older
 * than the description, and the first nvmeta_dev_check() marks the device
 * stale.  The other order would take a description of the old
 * format together with a fingerprint of the new one, and never notice.
 */
static int describe(int fd, struct nvmeta_dev_info *info, struct nvmeta_fingerprint *fp)
{
	int ret;

	ret = find_namespace(fd, info);
	if (ret)
		return ret;
	ret = controller_of_head(info);
	if (ret)
		return ret;
	ret = nvmeta_fingerprint_read(sysroot, info->block_name, fp);
	if (ret)
		return nvmeta_fail(ret, "%s: cannot read the format of %s from sysfs: %s",
				   info->generic_path, info->block_name, strerror(-ret));
	ret = identify(fd, info);
	if (ret)
		return ret;
	ret = nvmeta_read_limits(sysroot, info->block_name, &info->limits);
	if (ret)
		return ret;
	return nvmeta_kernel_read(&info->kernel);
}

int nvmeta_dev_open(const char *path, struct nvmeta_dev **devp)
{
	struct nvmeta_dev *dev;
	bool open_given;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return nvmeta_fail(-ENOMEM, "out of memory");
	dev->fd = -1;
	memset(dev->attr_fds, -1, sizeof(dev->attr_fds));
	ret = resolve_path(path, &dev->info, &open_given);
	if (ret)
		goto err;
	dev->fd = open(open_given ? path : dev->info.generic_path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = nvmeta_fail(-errno, "%s: open: %m%s", open_given ? path : dev->info.generic_path,
				  errno == EACCES ? " (check the node's permissions; read and write commands need it opened for writing)" : "");
		goto err;
	}
	ret = describe(dev->fd, &dev->info, &dev->seen);
	if (ret)
		goto err;
	nvmeta_quirks_decide(dev);
	nvmeta_pi_decide(dev);
	nvmeta_fast_decide(dev);
	nvmeta_format_open(dev);
	*devp = dev;
	return 0;
err:
	nvmeta_dev_close(dev);
	return ret;
}

/* The fields a format change can move. */
static bool same_format(const struct nvmeta_dev_info *a, const struct nvmeta_dev_info *b)
{
	return a->lbaf == b->lbaf && a->lba_size == b->lba_size && a->ms == b->ms &&
	       a->extended_lba == b->extended_lba && a->pi_type == b->pi_type &&
	       a->pi_first == b->pi_first && a->pif == b->pif && a->sts == b->sts &&
	       a->nsze == b->nsze && a->limits.logical_block_size == b->limits.logical_block_size;
}

int nvmeta_dev_refresh(struct nvmeta_dev *dev)
{
	struct nvmeta_dev_info info = dev->info;
	struct nvmeta_fingerprint fp;
	bool changed;
	int ret;

	ret = describe(dev->fd, &info, &fp);
	if (ret) {
		/* A controller that is not live says why. */
		nvmeta_fail_unless_live(ret, "", &dev->info);
		return ret;
	}
	changed = !same_format(&info, &dev->info);
	dev->info = info;
	dev->seen = fp;
	if (changed)
		nvmeta_quirks_decide(dev);
	nvmeta_pi_decide(dev);
	nvmeta_fast_decide(dev);
	nvmeta_format_open(dev);
	atomic_store_explicit(&dev->fast.stale, 0, memory_order_release);
	return changed;
}

void nvmeta_dev_close(struct nvmeta_dev *dev)
{
	if (!dev)
		return;
	nvmeta_format_close(dev);
	if (dev->fd >= 0)
		close(dev->fd);
	free(dev);
}

const struct nvmeta_dev_info *nvmeta_dev_info(const struct nvmeta_dev *dev)
{
	return &dev->info;
}

int nvmeta_dev_fd(const struct nvmeta_dev *dev)
{
	return dev->fd;
}
