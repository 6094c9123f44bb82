// SPDX-License-Identifier: MIT
/*
 * The benchmark's arithmetic: the latency histogram, a round's figures
 * from a slice, and the median with min and max over rounds.
 */
#include <stdlib.h>
#include <string.h>
#include "bench.h"

/*
 * Bucket of a value: below 2^HIST_SUB_BITS ns one bucket a nanosecond;
 * above, the octave (position of the top bit) and the HIST_SUB_BITS bits
 * after the top one.
 */
static unsigned int bucket_of(uint64_t ns)
{
	unsigned int top, sub;

	if (ns < (1u << HIST_SUB_BITS))
		return (unsigned int)ns;
	top = 63 - (unsigned int)__builtin_clzll(ns);
	sub = (unsigned int)(ns >> (top - HIST_SUB_BITS)) & ((1u << HIST_SUB_BITS) - 1);
	return ((top - HIST_SUB_BITS + 1) << HIST_SUB_BITS) + sub;
}

uint64_t hist_bucket_upper(unsigned int i)
{
	unsigned int octave = i >> HIST_SUB_BITS, sub = i & ((1u << HIST_SUB_BITS) - 1);
	unsigned int top;

	if (!octave)
		return i;
	top = octave + HIST_SUB_BITS - 1;
	if (top >= 63)
		return UINT64_MAX;
	/* The largest value whose top bits are (1, sub). */
	return ((uint64_t)((1u << HIST_SUB_BITS) | sub) << (top - HIST_SUB_BITS)) +
	       ((1ull << (top - HIST_SUB_BITS)) - 1);
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->count[bucket_of(ns)]++;
	h->total++;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		into->count[i] += from->count[i];
	into->total += from->total;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->total)
		return 0;
	/* The smallest value with at least q of the samples at or below. */
	want = (uint64_t)(q * (double)h->total + 0.999999);
	if (!want)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want)
			return hist_bucket_upper(i);
	}
	return hist_bucket_upper(HIST_BUCKETS - 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void stats_mmm(const double *x, unsigned int n, double *med, double *min, double *max)
{
	double s[BENCH_MAX_ROUNDS];

	if (!n) {
		*med = *min = *max = 0;
		return;
	}
	if (n > BENCH_MAX_ROUNDS)
		n = BENCH_MAX_ROUNDS;
	memcpy(s, x, n * sizeof(*x));
	qsort(s, n, sizeof(*s), cmp_double);
	*min = s[0];
	*max = s[n - 1];
	*med = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void round_from_slice(struct round *r, const struct slice *s)
{
	memset(r, 0, sizeof(*r));
	if (!s->ios || s->wall_s <= 0)
		return;
	r->iops = s->ios / s->wall_s;
	r->mbps = s->bytes / s->wall_s / 1e6;
	r->usr_us = s->usr_s * 1e6 / s->ios;
	r->sys_us = s->sys_s * 1e6 / s->ios;
	r->cpu_us = r->usr_us + r->sys_us;
	if (s->have_pct) {
		r->p50_us = s->p50_us;
		r->p99_us = s->p99_us;
		r->p999_us = s->p999_us;
		return;
	}
	r->p50_us = hist_quantile(&s->lat, 0.50) / 1e3;
	r->p99_us = hist_quantile(&s->lat, 0.99) / 1e3;
	r->p999_us = hist_quantile(&s->lat, 0.999) / 1e3;
}

struct variant *group_reference(struct variant *vs, unsigned int n, const struct variant *v)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vs[i].reference && !strcmp(vs[i].group, v->group))
			return &vs[i];
	return NULL;
}
