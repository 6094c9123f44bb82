// SPDX-License-Identifier: MIT
/*
 * Every NVMe namespace on the machine, through libnvme's topology scan.
 * As of libnvme 1.3 the scan sees only namespaces with a block device
 * whose identify succeeds, and nvme_ns_get_generic_name() is the block
 * name rewritten ("nvme0n1" to "ng0n1"), not a node looked up; dev.c
 * keeps its own walk for that reason, and nvmeta_dev_open() on a listed
 * path checks the node for real.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nvme/tree.h>
#include "internal.h"

static int append(char ***paths, int *count, const char *generic)
{
	char **grown;
	char *path;
	int i;

	if (!generic)
		return 0;
	for (i = 0; i < *count; i++)
		if (!strcmp((*paths)[i] + 5, generic))
			return 0;
	if (asprintf(&path, "/dev/%s", generic) < 0)
		return -ENOMEM;
	grown = realloc(*paths, (*count + 1) * sizeof(*grown));
	if (!grown) {
		free(path);
		return -ENOMEM;
	}
	grown[(*count)++] = path;
	*paths = grown;
	return 0;
}

static int cmp_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nvmeta_list(char ***paths)
{
	nvme_subsystem_t s;
	nvme_root_t root;
	nvme_host_t h;
	nvme_ctrl_t c;
	nvme_ns_t n;
	int count = 0, ret = 0;

	*paths = NULL;
	root = nvme_scan(NULL);
	if (!root)
		return nvmeta_fail(-EIO, "libnvme topology scan failed: %m");
	nvme_for_each_host(root, h) {
		nvme_for_each_subsystem(h, s) {
			nvme_subsystem_for_each_ns(s, n)
				ret = ret ? ret : append(paths, &count, nvme_ns_get_generic_name(n));
			nvme_subsystem_for_each_ctrl(s, c)
				nvme_ctrl_for_each_ns(c, n)
					ret = ret ? ret : append(paths, &count,
								 nvme_ns_get_generic_name(n));
		}
	}
	nvme_free_tree(root);
	if (ret) {
		nvmeta_list_free(*paths, count);
		*paths = NULL;
		return nvmeta_fail(ret, "out of memory listing namespaces");
	}
	/* With no namespace *paths is NULL, and qsort's base must not be. */
	if (count > 1)
		qsort(*paths, count, sizeof(**paths), cmp_paths);
	return count;
}

void nvmeta_list_free(char **paths, int count)
{
	int i;

	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
}
