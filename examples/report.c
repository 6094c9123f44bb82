// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include "report.h"

void report_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void key(struct report *r, const char *k)
{
	if (!r->json) {
		fprintf(r->out, "%*s%-26s ", 2 * r->depth, "", k);
		return;
	}
	fprintf(r->out, "%s\n%*s", r->first[r->depth] ? "" : ",", 2 * r->depth, "");
	r->first[r->depth] = false;
	report_json_string(r->out, k);
	fputs(": ", r->out);
}

void report_begin(struct report *r, FILE *out, bool json)
{
	r->out = out;
	r->json = json;
	r->depth = 1;
	r->first[1] = true;
	if (json)
		fputc('{', out);
}

void report_end(struct report *r)
{
	if (r->json)
		fputs("\n}\n", r->out);
}

void report_section(struct report *r, const char *name)
{
	if (r->json) {
		key(r, name);
		fputc('{', r->out);
	} else {
		fprintf(r->out, "%*s%s:\n", 2 * r->depth, "", name);
	}
	r->depth++;
	r->first[r->depth] = true;
}

void report_section_end(struct report *r)
{
	r->depth--;
	if (r->json)
		fprintf(r->out, "\n%*s}", 2 * r->depth, "");
}

void report_str(struct report *r, const char *k, const char *val)
{
	key(r, k);
	if (r->json)
		report_json_string(r->out, val);
	else
		fputs(val, r->out);
	if (!r->json)
		fputc('\n', r->out);
}

void report_u64(struct report *r, const char *k, uint64_t val)
{
	key(r, k);
	fprintf(r->out, r->json ? "%" PRIu64 : "%" PRIu64 "\n", val);
}

void report_hex(struct report *r, const char *k, uint64_t val)
{
	key(r, k);
	if (r->json)
		fprintf(r->out, "%" PRIu64, val);
	else
		fprintf(r->out, "0x%" PRIx64 "\n", val);
}

void report_bool(struct report *r, const char *k, bool val)
{
	key(r, k);
	fprintf(r->out, r->json ? "%s" : "%s\n", val ? (r->json ? "true" : "yes") :
		(r->json ? "false" : "no"));
}
