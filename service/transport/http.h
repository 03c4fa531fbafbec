/* The operations endpoint, on nng's own HTTP server at its own address
 * (--metrics-address): /healthz (the process is up), /readyz (the change
 * log was read recently, so the database is reachable and migrated),
 * /metrics (Prometheus text). Handlers never touch the database: they read
 * counters, so a scrape costs microseconds and cannot block. */
#ifndef EXE_HTTP_H
#define EXE_HTTP_H

#include <stddef.h>

#include "authz/cache.h"
#include "store/replicas.h"
#include "store/workers.h"
#include "transport/conns.h"

struct http;

struct method_table;

struct http_sources {
	const struct method_table *methods; /* names the per-method metrics */
	struct cache *cache;
	struct workers *workers;
	struct replicas *replicas; /* NULL: no read replicas */
	struct conns *conns;       /* connection limits; NULL: none */
	struct anchor *anchor;     /* the activity head; NULL: not read */
	long ready_within_ms; /* /readyz: change log read within this */
};

/* http_start serves on `url` (http://HOST:PORT). Returns 0, or -1 with the
 * reason in `msg`. `src` must outlive the server. */
int http_start(struct http **out, const char *url,
    const struct http_sources *src, char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

/* http_stop stops serving and frees. NULL is fine. */
void http_stop(struct http *h);

#endif
