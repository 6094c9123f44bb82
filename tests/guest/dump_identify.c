// SPDX-License-Identifier: MIT
/*
 * Capture a namespace's raw identify structures as text, for the unit
 * tests' data (tests/unit/data/).  Only rows of 32 bytes that are not all
 * zero are printed: "<struct> <offset> <hex>".
 */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <nvme/ioctl.h>

static void dump(const char *name, const unsigned char *p, size_t len)
{
	static const unsigned char zero[32];
	size_t off, i;

	for (off = 0; off < len; off += 32) {
		if (!memcmp(p + off, zero, 32))
			continue;
		printf("%s %04zx ", name, off);
		for (i = 0; i < 32; i++)
			printf("%02x", p[off + i]);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct nvme_id_ctrl ctrl;
	struct nvme_id_ns ns;
	unsigned char nvm[4096] = { 0 };
	__u32 nsid;
	int fd;

	fd = open(argc > 1 ? argv[1] : "/dev/ng0n1", O_RDONLY);
	if (fd < 0 || nvme_get_nsid(fd, &nsid) || nvme_identify_ctrl(fd, &ctrl) ||
	    nvme_identify_ns(fd, nsid, &ns)) {
		perror("identify");
		return 1;
	}
	if (le32toh(ctrl.ctratt) & NVME_CTRL_CTRATT_ELBAS)
		nvme_identify_ns_csi(fd, nsid, 0, NVME_CSI_NVM, nvm);
	dump("ctrl", (unsigned char *)&ctrl, sizeof(ctrl));
	dump("ns", (unsigned char *)&ns, sizeof(ns));
	dump("nvm", nvm, sizeof(nvm));
	close(fd);
	return 0;
}
