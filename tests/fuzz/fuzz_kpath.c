// SPDX-License-Identifier: MIT
/*
 * tracefs text: kprobe_events as nvmeta_kpath_stale() reads it to find
 * the probes dead runs left, and kprobe_profile as nvmeta_kpath_sample()
 * reads it (nvmeta_kpath_profile_parse()).
 *
 * Input: one byte choosing the pid namespace (odd: the one in the seeds'
 * names, 4026531836; even: 0, nothing is ours) and how many names fit the
 * output; the rest is the text, given to both parsers.  A pid counts as
 * alive when it is odd.
 */
#include <errno.h>
#include "check/check.h"
#include "fuzz.h"

#define PIDNS 4026531836ull

static bool odd_alive(int pid, void *arg)
{
	(void)arg;
	return pid & 1;
}

static void check_events(const char *text, unsigned long long pidns, int max)
{
	char (*names)[NVMETA_KPATH_EVENT_MAX] = calloc(max ? max : 1, sizeof(*names));
	int n, i;

	if (!names)
		abort();
	n = nvmeta_kpath_stale(text, pidns, odd_alive, NULL, names, max);
	FUZZ_ASSERT(n >= 0, "stale %d", n);
	FUZZ_ASSERT(pidns || !n, "%d names without a namespace", n);
	for (i = 0; i < n && i < max; i++) {
		FUZZ_ASSERT(memchr(names[i], 0, sizeof(names[i])), "name %d not terminated", i);
		FUZZ_ASSERT(!strncmp(names[i], "nvmeta_", 7), "name '%s'", names[i]);
		/* The name of a probe this library made, in the text. */
		FUZZ_ASSERT(strstr(text, names[i]), "name '%s' not in the text", names[i]);
	}
	free(names);
}

static void check_profile(const uint8_t *text, size_t len)
{
	static const char event[4][NVMETA_KPATH_EVENT_MAX] = {
		"nvmeta_100_4026531836_meta_map", "nvmeta_100_4026531836_meta_copy",
		"nvmeta_100_4026531836_data_map", "nvmeta_100_4026531836_data_pin",
	};
	uint64_t hits[4] = { 0 };
	FILE *f;

	if (!len)
		return;	/* fmemopen refuses an empty buffer */
	f = fmemopen((void *)text, len, "r");
	if (!f)
		abort();
	nvmeta_kpath_profile_parse(f, event, 4, hits);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	unsigned int sel = fuzz_u64(&in, 1);
	const uint8_t *rest = in.p;
	size_t rest_len = in.left;
	char *text = fuzz_rest_str(&in);

	check_events(text, sel & 1 ? PIDNS : 0, (sel >> 1) % 20);
	check_profile(rest, rest_len);
	free(text);
	return 0;
}
