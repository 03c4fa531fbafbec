/* Latency samples for the benchmark tools: one preallocated pool that many
 * threads fill in chunks without locks, sorted once at the end, and the one
 * RESULT line every tool prints. */
#ifndef EXA_BENCH_STATS_H
#define EXA_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct stats_pool;

/* A thread's handle on the pool: the chunk it is filling. */
struct stats_recorder {
	struct stats_pool *pool;
	uint64_t *slot;
	size_t left;
	uint64_t count; /* samples this thread recorded */
};

struct stats_summary {
	uint64_t count;
	double seconds;
	double ops_per_s;
	double mean_us, p50_us, p99_us, p999_us, max_us;
};

/* stats_now_ns is CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t
stats_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* stats_pool_new allocates (and touches) room for `capacity` samples, so
 * that no page fault or allocation happens while timing. The caller owns
 * the pool; free it with stats_pool_free. */
__attribute__((warn_unused_result)) int stats_pool_new(
    struct stats_pool **out, size_t capacity);

/* stats_pool_free frees the pool. NULL is fine. */
void stats_pool_free(struct stats_pool *pool);

/* stats_recorder_init ties a recorder to the pool; it takes no slots yet. */
void stats_recorder_init(struct stats_recorder *r, struct stats_pool *pool);

/* stats_record stores one latency; false when the pool is full (the
 * sample is lost and the caller should stop). Lock-free: a thread claims
 * a chunk of slots with one atomic add every 256 samples. */
bool stats_record(struct stats_recorder *r, uint64_t ns);

/* stats_summarize sorts the pool and fills *out from the `count` samples
 * recorded (by every recorder) over `seconds` of wall-clock time. */
void stats_summarize(struct stats_pool *pool, uint64_t count, double seconds,
    struct stats_summary *out);

/* stats_print writes the RESULT line that bench/run.sh reads:
 *   RESULT key=value ... ops_s=.. p50_us=.. p99_us=.. p999_us=..
 * `labels` holds the tool's own key=value pairs (op, transport, ...). */
void stats_print(FILE *f, const char *labels, const struct stats_summary *s);

#endif
