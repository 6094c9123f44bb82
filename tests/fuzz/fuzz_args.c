// SPDX-License-Identifier: MIT
/*
 * The tools' number arguments: args_u64() (examples/args.c), which every
 * numeric option of nvmeta-io, nvmeta-ring and nvmeta-check goes through.
 *
 * Input: MIN and MAX (little-endian u64 each), then the argument text.
 * The tool's message on stderr goes to /dev/null (ASan's reports do not
 * use stdio and still show).
 */
#include <ctype.h>
#include <inttypes.h>
#include "args.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	FILE *null = fopen("/dev/null", "w");

	(void)argc;
	(void)argv;
	if (null)
		stderr = null;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint64_t min = fuzz_u64(&in, 8), max = fuzz_u64(&in, 8), val = 0xdeadbeef, v;
	char *text = fuzz_rest_str(&in), canon[24];
	int ret;

	ret = args_u64("fuzz", "--opt", text, min, max, &val);
	FUZZ_ASSERT(ret == 0 || ret == -1, "ret %d", ret);
	if (!ret) {
		FUZZ_ASSERT(val >= min && val <= max, "%" PRIu64 " outside %" PRIu64 "..%" PRIu64,
			    val, min, max);
		FUZZ_ASSERT(isdigit((unsigned char)text[0]), "'%s' taken", text);
		FUZZ_ASSERT(strtoull(text, NULL, 0) == val, "'%s' gave %" PRIu64, text, val);
	} else {
		FUZZ_ASSERT(val == 0xdeadbeef, "value written on failure");
	}
	/* A plain decimal in range is always taken. */
	if (text[0] && strlen(text) < sizeof(canon) && isdigit((unsigned char)text[0])) {
		v = strtoull(text, NULL, 10);
		snprintf(canon, sizeof(canon), "%" PRIu64, v);
		if (!strcmp(canon, text) && v >= min && v <= max)
			FUZZ_ASSERT(!ret && val == v, "'%s' refused in %" PRIu64 "..%" PRIu64, text,
				    min, max);
	}
	free(text);
	return 0;
}
