// SPDX-License-Identifier: MIT
/*
 * nvmeta-info: what the device and the running kernel say about an NVMe
 * namespace's metadata, or a list of every namespace on the machine.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nvmeta.h"
#include "report.h"

static const char *pi_location(const struct nvmeta_dev_info *in)
{
	if (!in->pi_type)
		return "none";
	return in->pi_first ? "first bytes" : "last bytes";
}

/*
 * Linux does not compare a passthrough command's metadata_len with
 * nlb x ms (the class of CVE-2023-6238); only a metadata SGL tells the
 * device the real length, and the kernel must send one.  The lab saw
 * 6.12.117 and 7.2.13 send one to QEMU 10 (which then refused a short
 * buffer) and 6.1.176 not (the device overran it).
 */
static const char *metadata_length_checked(const struct nvmeta_dev_info *in)
{
	if (!in->sgl_metadata)
		return "no (PRP/pointer metadata: the kernel does not check metadata_len; a short buffer lets the device write past it)";
	if (!NVMETA_KERNEL_AT_LEAST(&in->kernel, 6, 12))
		return "no (the device takes a metadata SGL, but kernels before 6.12 send metadata by pointer: the kernel does not check metadata_len; a short buffer lets the device write past it)";
	return "yes (metadata SGL)";
}

static void print_identify(struct report *r, const struct nvmeta_dev_info *in)
{
	report_section(r, "namespace");
	report_u64(r, "nsid", in->nsid);
	report_u64(r, "blocks", in->nsze);
	report_u64(r, "lba_format", in->lbaf);
	report_u64(r, "lba_data_size", in->lba_size);
	report_u64(r, "metadata_size", in->ms);
	report_bool(r, "extended_lba", in->extended_lba);
	report_u64(r, "pi_type", in->pi_type);
	report_str(r, "pi_location", pi_location(in));
	report_u64(r, "guard_bits", in->guard_bits);
	report_u64(r, "pi_size", in->pi_size);
	report_section_end(r);

	report_section(r, "controller");
	report_str(r, "name", in->ctrl_name);
	report_str(r, "subsystem", in->subsys_name[0] ? in->subsys_name : "-");
	report_str(r, "model", in->model);
	report_str(r, "serial", in->serial);
	report_str(r, "firmware", in->firmware);
	report_u64(r, "mdts", in->mdts);
	report_u64(r, "mdts_bytes", in->mdts_bytes);
	report_hex(r, "oncs", in->oncs);
	report_hex(r, "ctratt", in->ctratt);
	report_hex(r, "sgls", in->sgls);
	report_bool(r, "sgl_supported", in->sgl_supported);
	report_bool(r, "sgl_metadata", in->sgl_metadata);
	report_str(r, "metadata_length_checked_by_device", metadata_length_checked(in));
	report_section_end(r);
}

static void print_limits(struct report *r, const struct nvmeta_dev_info *in)
{
	const struct nvmeta_limits *l = &in->limits;

	report_section(r, "queue");
	report_u64(r, "max_integrity_segments", l->max_integrity_segments);
	report_hex(r, "dma_alignment", l->dma_alignment);
	report_u64(r, "max_segments", l->max_segments);
	report_u64(r, "max_segment_size", l->max_segment_size);
	report_u64(r, "max_hw_sectors_kb", l->max_hw_sectors_kb);
	report_hex(r, "virt_boundary_mask", l->virt_boundary_mask);
	report_u64(r, "logical_block_size", l->logical_block_size);
	report_str(r, "integrity_format", l->integrity_format);
	report_u64(r, "integrity_tag_size", l->integrity_tag_size);
	report_u64(r, "integrity_interval", l->integrity_interval);
	report_section_end(r);

	report_section(r, "kernel");
	report_str(r, "release", in->kernel.release);
	report_u64(r, "major", in->kernel.major);
	report_u64(r, "minor", in->kernel.minor);
	report_section_end(r);
}

/* The path each layout would take for a typical 8-block I/O. */
static void print_paths(struct report *r, const struct nvmeta_dev_info *in, bool data)
{
	static const struct { const char *name; enum nvmeta_layout layout; size_t offset; } rows[] = {
		{ "pinned", NVMETA_LAYOUT_PINNED, 0 },
		{ "page+0", NVMETA_LAYOUT_PAGE, 0 },
		{ "page+4", NVMETA_LAYOUT_PAGE, 4 },
		{ "misaligned+1", NVMETA_LAYOUT_MISALIGNED, 1 },
		{ "misaligned+2", NVMETA_LAYOUT_MISALIGNED, 2 },
		{ "fragmented", NVMETA_LAYOUT_FRAGMENTED, 0 },
		{ "huge-span", NVMETA_LAYOUT_HUGE_SPAN, 0 },
		{ "malloc", NVMETA_LAYOUT_MALLOC, 0 },
	};
	size_t len = 8 * (size_t)(data ? in->lba_size + (in->extended_lba ? in->ms : 0) : in->ms);
	struct nvmeta_prediction p;
	struct nvmeta_buf *buf;
	char line[320];
	size_t i;

	report_section(r, data ? "data_paths_8_blocks" : "metadata_paths_8_blocks");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nvmeta_buf_spec spec = {
			.layout = rows[i].layout, .offset = rows[i].offset, .len = len,
			.flags = data ? NVMETA_BUF_DATA : 0,
		};

		if (nvmeta_buf_alloc(in, &spec, &buf)) {
			snprintf(line, sizeof(line), "unavailable: %s", nvmeta_last_error());
		} else {
			nvmeta_predict(in, data ? NVMETA_KIND_DATA : NVMETA_KIND_META,
				       buf->addr, buf->len, &p);
			snprintf(line, sizeof(line), "%s: %s", nvmeta_path_name(p.path), p.reason);
			nvmeta_buf_free(buf);
		}
		report_str(r, rows[i].name, line);
	}
	report_section_end(r);
}

static int show_device(const char *path, bool json)
{
	const struct nvmeta_dev_info *in;
	struct nvmeta_dev *dev;
	struct report r;
	int ret;

	ret = nvmeta_dev_open(path, &dev);
	if (ret) {
		fprintf(stderr, "nvmeta-info: %s\n", nvmeta_last_error());
		return 1;
	}
	in = nvmeta_dev_info(dev);
	if (!json)
		printf("%s:\n", in->generic_path);
	report_begin(&r, stdout, json);
	report_str(&r, "device", in->generic_path);
	report_str(&r, "block_device", in->block_name);
	print_identify(&r, in);
	print_limits(&r, in);
	if (in->ms && !in->extended_lba)
		print_paths(&r, in, false);
	print_paths(&r, in, true);
	report_end(&r);
	nvmeta_dev_close(dev);
	return 0;
}

static void json_row(const struct nvmeta_dev_info *in, bool first)
{
	printf("%s\n    {\"device\": ", first ? "" : ",");
	report_json_string(stdout, in->generic_path);
	printf(", \"block_device\": ");
	report_json_string(stdout, in->block_name);
	printf(", \"nsid\": %u, \"lba_data_size\": %u, \"metadata_size\": %u, "
	       "\"extended_lba\": %s, \"pi_type\": %u, \"guard_bits\": %u, "
	       "\"integrity_format\": ", in->nsid, in->lba_size, in->ms,
	       in->extended_lba ? "true" : "false", in->pi_type, in->guard_bits);
	report_json_string(stdout, in->limits.integrity_format);
	putchar('}');
}

/* One namespace of the list; false (said on stderr) when it did not open:
 * the list goes on without it. */
static bool list_row(const char *path, bool json, bool first)
{
	const struct nvmeta_dev_info *in;
	struct nvmeta_dev *dev;

	if (nvmeta_dev_open(path, &dev)) {
		fprintf(stderr, "nvmeta-info: %s\n", nvmeta_last_error());
		return false;
	}
	in = nvmeta_dev_info(dev);
	if (json)
		json_row(in, first);
	else
		printf("%-14s %-10s %5u %6u %4u %-4s %3u %6u  %s\n", in->generic_path,
		       in->block_name, in->nsid, in->lba_size, in->ms,
		       in->extended_lba ? "yes" : "no", in->pi_type, in->guard_bits,
		       in->limits.integrity_format);
	nvmeta_dev_close(dev);
	return true;
}

/* The first generic namespace device ("ng0n1") in @dir, or false. */
static bool first_generic(const char *dir, char *name, size_t size)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	name[0] = 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "ng", 2) || strlen(e->d_name) >= size)
			continue;
		if (!name[0] || strcmp(e->d_name, name) < 0)
			snprintf(name, size, "%s", e->d_name);
	}
	closedir(d);
	return name[0];
}

/*
 * The scan listed nothing.  Where generic devices exist, it most likely
 * lacked permissions: libnvme identifies each namespace through its block
 * device /dev/nvmeXnY, which an unprivileged user often cannot open even
 * where the /dev/ngXnY this tool needs is open to it.
 */
static void explain_empty(void)
{
	char ng[64], blk[80];

	if (!first_generic("/sys/class/nvme-generic", ng, sizeof(ng)) &&
	    !first_generic("/dev", ng, sizeof(ng)))
		return;
	snprintf(blk, sizeof(blk), "/dev/nvme%s", ng + 2);
	if (access(blk, R_OK))
		fprintf(stderr, "nvmeta-info: /dev/%s exists, but the namespace scan listed none: "
			"it identifies each namespace through its block device, and %s: %s "
			"(it needs read access there: root, or the group owning it, often "
			"\"disk\"; before Linux 6.2 also CAP_SYS_ADMIN)\n", ng, blk, strerror(errno));
	else
		fprintf(stderr, "nvmeta-info: /dev/%s exists, but the namespace scan listed none: "
			"it identifies each namespace through its block device, which needs "
			"CAP_SYS_ADMIN before Linux 6.2\n", ng);
	fprintf(stderr, "nvmeta-info: name the device to use it directly: nvmeta-info /dev/%s\n",
		ng);
}

static int list_all(bool json)
{
	char **paths;
	int n, i, shown = 0;

	n = nvmeta_list(&paths);
	if (n < 0) {
		fprintf(stderr, "nvmeta-info: %s\n", nvmeta_last_error());
		return 1;
	}
	if (json)
		printf("{\n  \"namespaces\": [");
	else
		printf("%-14s %-10s %5s %6s %4s %-4s %3s %6s  %s\n", "Device", "Block", "NSID",
		       "LBA", "MS", "Ext", "PI", "Guard", "Integrity");
	/* The comma goes before every row but the first one shown, which
	 * need not be the first one listed. */
	for (i = 0; i < n; i++)
		shown += list_row(paths[i], json, !shown);
	if (json)
		printf("\n  ]\n}\n");
	else if (!n)
		printf("(no NVMe namespaces found)\n");
	if (!n)
		explain_empty();
	nvmeta_list_free(paths, n);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: nvmeta-info [--json] [DEVICE]\n"
		     "  DEVICE  /dev/ngXnY or /dev/nvmeXnY; without it, list every namespace\n"
		     "  -j, --json  print JSON\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 < argc) {
		usage(stderr);
		return 2;
	}
	if (optind == argc)
		return list_all(json);
	return show_device(argv[optind], json);
}
