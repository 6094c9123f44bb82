/* SPDX-License-Identifier: MIT */
/*
 * What the harnesses share: taking fields off the front of the input,
 * and a loud stop when a property the library promises does not hold
 * (libFuzzer reports the abort with the input that caused it).
 */
#ifndef NVMETA_FUZZ_H
#define NVMETA_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

/* Up to @len bytes into @dst, zeros past the end of the input. */
static inline void fuzz_take(struct fuzz_in *in, void *dst, size_t len)
{
	size_t n = len < in->left ? len : in->left;

	memset(dst, 0, len);
	memcpy(dst, in->p, n);
	in->p += n;
	in->left -= n;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in, size_t bytes)
{
	uint64_t v = 0;

	fuzz_take(in, &v, bytes);
	return v;
}

/* The rest of the input as a NUL-terminated heap string (exactly sized,
 * so ASan sees a read past its end). */
static inline char *fuzz_rest_str(struct fuzz_in *in)
{
	char *s = malloc(in->left + 1);

	if (!s)
		abort();
	memcpy(s, in->p, in->left);
	s[in->left] = '\0';
	in->p += in->left;
	in->left = 0;
	return s;
}

#define FUZZ_ASSERT(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
			abort();						\
		}								\
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
