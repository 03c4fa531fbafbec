/* The cache feeder: one thread with its own PostgreSQL connection that
 * reads the change log past the cache's applied revision and applies the
 * invalidations (SPEC §4). It LISTENs on "exe_access_changes", which every
 * write NOTIFYs at commit, as a wake-up hint only: it also reads the log
 * every `interval_ms`, so a lost notification delays a change by at most
 * that. While it cannot reach the database it stops marking the cache
 * synced, and after the cache's staleness limit lookups miss. */
#ifndef EXE_CACHE_FEED_H
#define EXE_CACHE_FEED_H

#include <stdint.h>

#include "authz/cache.h"

struct cache_feed;

/* cache_feed_fn is told each time the feeder has applied a newer
 * revision (after the cache dropped what it touched). It must not block. */
typedef void (*cache_feed_fn)(void *arg, uint64_t revision);

/* cache_feed_start starts the thread; `on_revision` (may be NULL) is told
 * every new revision applied, with `arg`. Returns 0, or -1 if it cannot. */
int cache_feed_start(struct cache_feed **out, struct cache *c,
    const char *conninfo, long interval_ms, cache_feed_fn on_revision,
    void *arg) __attribute__((warn_unused_result));

/* cache_feed_stop stops the thread and closes its connection. NULL is
 * fine. */
void cache_feed_stop(struct cache_feed *f);

#endif
