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
	char path[PATH_MAX], buf[32];
	int ret;

	snprintf(path, sizeof(path), "%s/block/%s/device", sysroot, block);
	ret = link_basename(path, info->ctrl_name, sizeof(info->ctrl_name));
	if (ret)
		return nvmeta_fail(ret, "%s: no controller link in sysfs", block);
	snprintf(path, sizeof(path), "%s/block/%s/nsid", sysroot, block);
	ret = nvmeta_sysfs_read(path, buf, sizeof(buf));
	if (ret)
		return nvmeta_fail(ret, "%s: cannot read %s", block, path);
	info->nsid = strtoul(buf, NULL, 10);
	snprintf(info->block_name, sizeof(info->block_name), "%s", block);
	return find_generic(info->ctrl_name, info->nsid, info->generic_path,
			    sizeof(info->generic_path));
}

static int resolve_path(const char *path, struct nvmeta_dev_info *info)
{
	char name[64], class[64];
	struct stat st;

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
	snprintf(info->generic_path, sizeof(info->generic_path), "%s", path);
	snprintf(name, sizeof(name), "%s/class/nvme-generic/%s/device", sysroot,
		 strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
	if (link_basename(name, info->ctrl_name, sizeof(info->ctrl_name)))
		return nvmeta_fail(-ENODEV, "%s: no controller link at %s", path, name);
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

static int identify(struct nvmeta_dev *dev)
{
	struct nvmeta_dev_info *info = &dev->info;
	const char *path = info->generic_path;
	struct nvme_nvm_id_ns nvm;
	struct nvme_id_ctrl ctrl;
	struct nvme_id_ns ns;
	bool elbas;
	int ret;

	ret = nvme_call_result(nvme_get_nsid(dev->fd, &info->nsid), "NVME_IOCTL_ID", path);
	if (ret)
		return ret;
	ret = nvme_call_result(nvme_identify_ctrl(dev->fd, &ctrl), "identify controller", path);
	if (ret)
		return ret;
	ret = nvme_call_result(nvme_identify_ns(dev->fd, info->nsid, &ns),
			       "identify namespace", path);
	if (ret)
		return ret;
	elbas = le32toh(ctrl.ctratt) & NVME_CTRL_CTRATT_ELBAS;
	if (elbas) {
		ret = nvme_identify_ns_csi(dev->fd, info->nsid, 0, NVME_CSI_NVM, &nvm);
		ret = nvme_call_result(ret, "identify NVM command set namespace", path);
		if (ret)
			return ret;
	}
	return nvmeta_parse_identify(&ctrl, &ns, elbas ? &nvm : NULL, info);
}

static int read_kernel_view(struct nvmeta_dev_info *info)
{
	int ret;

	if (!info->block_name[0]) {
		ret = nvmeta_find_block(sysroot, info->ctrl_name, info->nsid,
					info->block_name, sizeof(info->block_name));
		if (ret)
			return ret;
	}
	ret = nvmeta_read_limits(sysroot, info->block_name, &info->limits);
	if (ret)
		return ret;
	return nvmeta_kernel_read(&info->kernel);
}

int nvmeta_dev_open(const char *path, struct nvmeta_dev **devp)
{
	struct nvmeta_dev *dev;
	int ret;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return nvmeta_fail(-ENOMEM, "out of memory");
	dev->fd = -1;
	ret = resolve_path(path, &dev->info);
	if (ret)
		goto err;
	dev->fd = open(dev->info.generic_path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		ret = nvmeta_fail(-errno, "%s: open: %m", dev->info.generic_path);
		goto err;
	}
	ret = identify(dev);
	if (ret)
		goto err;
	ret = read_kernel_view(&dev->info);
	if (ret)
		goto err;
	*devp = dev;
	return 0;
err:
	nvmeta_dev_close(dev);
	return ret;
}

void nvmeta_dev_close(struct nvmeta_dev *dev)
{
	if (!dev)
		return;
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
