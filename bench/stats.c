/* Latency pool, percentiles and the RESULT line of the benchmark tools.
 * Slots start at UINT64_MAX, so the unfilled tails of chunks sort after
 * every real sample and the first `count` sorted slots are the samples. */
#include "stats.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 256 };

struct stats_pool {
	uint64_t *slots;
	size_t capacity;
	_Atomic size_t next; /* first unclaimed slot */
};

int
stats_pool_new(struct stats_pool **out, size_t capacity)
{
	struct stats_pool *p = calloc(1, sizeof *p);
	if (p == NULL)
		return -1;
	p->capacity = capacity;
	p->slots = malloc(capacity * sizeof *p->slots);
	if (p->slots == NULL) {
		free(p);
		return -1;
	}
	/* Touch every page now, not while timing. */
	memset(p->slots, 0xff, capacity * sizeof *p->slots);
	atomic_init(&p->next, 0);
	*out = p;
	return 0;
}

void
stats_pool_free(struct stats_pool *pool)
{
	if (pool == NULL)
		return;
	free(pool->slots);
	free(pool);
}

void
stats_recorder_init(struct stats_recorder *r, struct stats_pool *pool)
{
	memset(r, 0, sizeof *r);
	r->pool = pool;
}

bool
stats_record(struct stats_recorder *r, uint64_t ns)
{
	if (r->left == 0) {
		struct stats_pool *p = r->pool;
		size_t first = atomic_fetch_add(&p->next, CHUNK);
		if (first >= p->capacity)
			return false;
		r->slot = p->slots + first;
		r->left =
		    p->capacity - first < CHUNK ? p->capacity - first : CHUNK;
	}
	/* UINT64_MAX marks an empty slot: a real sample never is one. */
	*r->slot++ = ns == UINT64_MAX ? ns - 1 : ns;
	r->left--;
	r->count++;
	return true;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* rank is the nearest-rank percentile q (0..1) of n sorted samples. */
static double
rank_us(const uint64_t *sorted, uint64_t n, double q)
{
	if (n == 0)
		return 0;
	uint64_t k = (uint64_t)(q * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)sorted[k - 1] / 1000.0;
}

void
stats_summarize(struct stats_pool *pool, uint64_t count, double seconds,
    struct stats_summary *out)
{
	size_t used = atomic_load(&pool->next);
	if (used > pool->capacity)
		used = pool->capacity;
	qsort(pool->slots, used, sizeof *pool->slots, cmp_u64);
	if (count > used)
		count = used;
	memset(out, 0, sizeof *out);
	out->count = count;
	out->seconds = seconds;
	out->ops_per_s = seconds > 0 ? (double)count / seconds : 0;
	double sum = 0;
	for (uint64_t i = 0; i < count; i++)
		sum += (double)pool->slots[i];
	out->mean_us = count > 0 ? sum / (double)count / 1000.0 : 0;
	out->p50_us = rank_us(pool->slots, count, 0.50);
	out->p99_us = rank_us(pool->slots, count, 0.99);
	out->p999_us = rank_us(pool->slots, count, 0.999);
	out->max_us = count > 0 ? (double)pool->slots[count - 1] / 1000.0 : 0;
}

void
stats_print(FILE *f, const char *labels, const struct stats_summary *s)
{
	fprintf(f,
	    "RESULT %s ops=%llu seconds=%.3f ops_s=%.1f mean_us=%.1f "
	    "p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
	    labels, (unsigned long long)s->count, s->seconds, s->ops_per_s,
	    s->mean_us, s->p50_us, s->p99_us, s->p999_us, s->max_us);
	fflush(f);
}
