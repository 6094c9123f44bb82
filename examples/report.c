// SPDX-License-Identifier: MIT
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "report.h"

/* The length of the well-formed UTF-8 sequence at @s, or 0 (RFC 3629:
 * no overlong forms, no surrogates, nothing above U+10FFFF). */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * A JSON string of @str.  Identify strings come from the device, which may
 * put any byte there: control characters are escaped, well-formed UTF-8
 * passes, and a byte that is not UTF-8 becomes the code point of its
 * value (\u00XX), so that the output is always valid JSON in UTF-8.
 */
void report_json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	fputc('"', out);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fprintf(out, "\\%c", *s++);
		} else if (*s < 0x20) {
			fprintf(out, "\\u%04x", *s++);
		} else if (*s < 0x80) {
			fputc(*s++, out);
		} else if ((n = utf8_len(s))) {
			fwrite(s, 1, n, out);
			s += n;
		} else {
			fprintf(out, "\\u%04x", *s++);
		}
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

void report_json_num(FILE *out, double x)
{
	if (isfinite(x))
		fprintf(out, "%.6g", x);
	else
		fputs("null", out);
}

void report_json_mmm(FILE *out, const char *k, double med, double min, double max)
{
	report_json_string(out, k);
	fputs(":{\"median\":", out);
	report_json_num(out, med);
	fputs(",\"min\":", out);
	report_json_num(out, min);
	fputs(",\"max\":", out);
	report_json_num(out, max);
	fputc('}', out);
}

void report_cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !c)
			continue;
		c += 1 + strspn(c + 1, " \t");
		c[strcspn(c, "\n")] = 0;
		snprintf(buf, len, "%s", c);
		break;
	}
	fclose(f);
}
