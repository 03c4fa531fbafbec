/* The activity chain's head, for anchoring elsewhere: one thread with its
 * own connection reads the head (the chain's length and newest hash,
 * revision_counter) at start and every --activity-anchor-interval-s, logs
 * it as `activity_head` (count, head, revision) and keeps the last one
 * read for /metrics. What it shows is what the database holds; an
 * operator keeps it outside the database, where a later VerifyActivity
 * (anchor_seq, anchor_hash) can be held against it. */
#ifndef EXE_ANCHOR_H
#define EXE_ANCHOR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/chain.h"

struct anchor;

struct anchor_options {
	const char *conninfo;
	long interval_s; /* between reads; 0: no thread */
};

/* The head at the last read. */
struct anchor_head {
	bool known; /* false until a read succeeded */
	uint64_t count;
	char hash_hex[CHAIN_HASH_HEX];
	uint64_t revision;
	int64_t read_unix_ms;
};

/* anchor_start starts the thread, or (interval 0) nothing, with *out
 * NULL. Returns 0, or -1 if it cannot. */
int anchor_start(struct anchor **out, const struct anchor_options *o)
    __attribute__((warn_unused_result));

/* anchor_last copies the last head read into `out` (known false for a
 * NULL `a` or before the first read). */
void anchor_last(struct anchor *a, struct anchor_head *out);

/* anchor_stop stops the thread; NULL is fine. */
void anchor_stop(struct anchor *a);

#endif
