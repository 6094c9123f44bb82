/* SPDX-License-Identifier: MIT */
/*
 * Output for the tools: the same calls print a readable key/value listing
 * or JSON, in the manner of nvme-cli's --output-format.
 */
#ifndef NVMETA_REPORT_H
#define NVMETA_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct report {
	FILE *out;
	bool json;
	int depth;
	bool first[8];	/* no comma needed yet at this depth */
};

void report_begin(struct report *r, FILE *out, bool json);
void report_end(struct report *r);
void report_section(struct report *r, const char *name);
void report_section_end(struct report *r);
void report_str(struct report *r, const char *key, const char *val);
void report_u64(struct report *r, const char *key, uint64_t val);
void report_hex(struct report *r, const char *key, uint64_t val);
void report_bool(struct report *r, const char *key, bool val);
void report_json_string(FILE *out, const char *s);

/* Helpers of the benchmarks' JSON (bench/): a number, null when it is
 * not finite (JSON has no NaN or infinity), and "KEY":{"median":..,
 * "min":..,"max":..}. */
void report_json_num(FILE *out, double x);
void report_json_mmm(FILE *out, const char *key, double med, double min, double max);

/* The CPU's "model name" from /proc/cpuinfo into @buf, or "unknown". */
void report_cpu_model(char *buf, size_t len);

#endif
