// SPDX-License-Identifier: MIT
/*
 * An application's view of the installed libnvmeta: it links the
 * application library alone (pkg-config nvmeta) and calls it: the version
 * check, the kernel, and the inline encoder from the installed headers.
 *
 * Given a namespace (consumer /dev/ng0n1, as the lab's guest suite runs
 * it), it also opens it and counts this process's threads before and
 * after: the library must start none, and nvmeta_dev_check() must answer
 * without one.
 */
#include <dirent.h>
#include <stdio.h>
#include <nvmeta.h>

static int threads(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Open @path, check its format, close it: no thread may appear. */
static int no_thread_on(const char *path)
{
	int before = threads(), after, ret;
	struct nvmeta_dev *dev;

	if (nvmeta_dev_open(path, &dev)) {
		fprintf(stderr, "consumer: %s\n", nvmeta_last_error());
		return 1;
	}
	ret = nvmeta_dev_check(dev);
	after = threads();
	nvmeta_dev_close(dev);
	if (ret) {
		fprintf(stderr, "consumer: nvmeta_dev_check: %s\n", nvmeta_last_error());
		return 1;
	}
	if (before < 1 || after != before) {
		fprintf(stderr, "consumer: %d threads before nvmeta_dev_open(), %d after\n",
			before, after);
		return 1;
	}
	printf("consumer: %s opened and checked, still %d thread%s\n", path, after,
	       after == 1 ? "" : "s");
	return 0;
}

int main(int argc, char **argv)
{
	struct nvmeta_dev_info in = { .nsid = 1, .guard_bits = 16 };
	struct nvmeta_io io = { .opcode = NVMETA_OP_READ, .slba = 8, .nlb = 2 };
	struct io_uring_sqe *sqe;
	struct nvme_uring_cmd *c;
	struct nvmeta_kernel k;
	struct io_uring ring;

	if (NVMETA_VERSION_CHECK()) {
		fprintf(stderr, "%s\n", nvmeta_last_error());
		return 1;
	}
	if (nvmeta_kernel_read(&k))
		return 1;
	/* An SQE from a real ring, as an application gets it: compilers
	 * must see nothing to warn about in the inline encoder. */
	if (nvmeta_ring_init(&ring, 4))
		return 1;
	sqe = io_uring_get_sqe(&ring);
	nvmeta_prep_cmd(sqe, 3, &in, &io);
	c = (struct nvme_uring_cmd *)sqe->cmd;
	if (sqe->opcode != IORING_OP_URING_CMD || c->cdw10 != 8 || c->cdw12 != 1)
		return 1;
	nvmeta_ring_exit(&ring);
	io_uring_queue_exit(&ring);
	printf("nvmeta %s on kernel %u.%u\n", nvmeta_version(), k.major, k.minor);
	return argc > 1 ? no_thread_on(argv[1]) : 0;
}
