/* The local cache's feed: one background thread per client that follows
 * the service's change log (ReadChanges, the truth) and applies each page
 * to the local cache, woken by the service's change hints when the
 * client was given its --publish URL (an nng sub0 socket: a wake-up only)
 * and otherwise every poll interval. A log pruned past what was applied,
 * or a service behind it, makes it start afresh from the current
 * revision with an empty cache. While the log cannot be read, the cache
 * is not marked synced, and past the staleness bound it stops answering.
 * Private to the library. */
#ifndef EXA_LOCAL_FEED_H
#define EXA_LOCAL_FEED_H

#include <exe/access.h>
#include <stdint.h>

#include "local_cache.h"

struct local_feed;

/* local_feed_start starts following for client `c` (which must outlive
 * the feed) into `lc`; `subscribe` may be NULL. Returns 0, or -1 with
 * `err` set. */
int local_feed_start(struct local_feed **out, exa_client *c,
    struct local_cache *lc, const char *subscribe, int poll_ms,
    int call_timeout_ms, exa_error *err) __attribute__((warn_unused_result));

/* local_feed_stop stops the thread. NULL is fine. */
void local_feed_stop(struct local_feed *f);

/* local_feed_errors counts the reads of the log that failed. */
uint64_t local_feed_errors(struct local_feed *f);

#endif
