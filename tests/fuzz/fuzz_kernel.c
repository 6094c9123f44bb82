// SPDX-License-Identifier: MIT
/*
 * A kernel release as uname(2) gives it ("6.12.117+deb13-amd64"):
 * nvmeta_kernel_parse().  Input: the release; uname's field is at most
 * 64 bytes, but any length must be safe.
 */
#include <errno.h>
#include "internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	char *release = fuzz_rest_str(&in);
	struct nvmeta_kernel k;
	int ret;

	ret = nvmeta_kernel_parse(release, &k);
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL, "ret %d", ret);
	FUZZ_ASSERT(memchr(k.release, 0, sizeof(k.release)), "release not terminated");
	FUZZ_ASSERT(!strncmp(k.release, release, sizeof(k.release) - 1),
		    "release '%s' not a prefix of the input", k.release);
	if (ret)
		FUZZ_ASSERT(!k.major && !k.minor && !k.patch, "fields set on failure");
	free(release);
	return 0;
}
