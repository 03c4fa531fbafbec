/* Request metrics in Prometheus' text format: requests by method and
 * status code, a latency histogram per method, and the gauges other
 * modules report (cache, database pool, change-log lag). Recording is a
 * few relaxed atomic increments on the reply path. */
#ifndef EXE_METRICS_H
#define EXE_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "authz/cache.h"
#include "rpc/method.h"
#include "store/anchor.h"
#include "store/replicas.h"
#include "store/workers.h"
#include "transport/conns.h"

/* metrics_request counts one reply: `method` is the row's index in the
 * method table, or -1 for a request that named no known method. */
void metrics_request(int method, int code, uint64_t micros);

/* What the gauges read at scrape time. */
struct metrics_gauges {
	const struct method_table *methods; /* the rows metrics_request counts */
	struct cache_stats cache;
	int64_t cache_sync_age_ms; /* since the change log was last read */
	struct workers_stats workers; /* the database worker pool */
	struct conns_stats conns;     /* connections (conns.h) */
	size_t replica_count;         /* hot standbys (replicas.h) */
	struct replica_stats replicas[REPLICAS_MAX];
	struct anchor_head activity;  /* the activity head (anchor.h) */
};

/* metrics_render writes every metric to `out`. */
void metrics_render(FILE *out, const struct metrics_gauges *g);

#endif
