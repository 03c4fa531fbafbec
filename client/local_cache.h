/* The client's local cache (exa_client_options.local_cache_entries): what
 * the service answered about a user in a workspace, and about an API key
 * (found by a keyed digest of its secret, never the secret), kept so that
 * later checks are decided in the caller's process. The same rules as the
 * service's cache (docs/DESIGN.md):
 *
 *   - `applied` is the newest revision of the change log whose changes
 *     have been applied (local_cache_apply, fed by the client's feed
 *     thread from ReadChanges); each change drops the entries it touched;
 *   - no stale insert: an entry learned from an answer that reflects
 *     revision R is stored only if R is at least `applied`, under the
 *     lock that applies changes, so no entry outlives a change it did not
 *     see;
 *   - a lookup succeeds only while the feed was read to its end within
 *     the staleness bound and `applied` covers the caller's
 *     at_least_as_fresh.
 *
 * The table and those two rules are the service's own code, the cache
 * table of service/base/cachetab.h (in exa_base, which the library
 * links): lookups are lock-free (liburcu's cds_lfht under the bulletproof
 * RCU flavour: the caller's threads need no registration); writers share
 * one mutex. Bounded in entries, evicted CLOCK-wise. Private to the
 * library. */
#ifndef EXA_LOCAL_CACHE_H
#define EXA_LOCAL_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decide.h"

struct local_cache;

/* What is kept of a user in a workspace. */
struct local_membership {
	bool workspace_exists;
	enum role role; /* ROLE_NONE: not a member */
};

/* What is kept of an API key. */
struct local_key {
	char key_id[37];
	char workspace_id[37];
	bool read_only;
	int64_t expires_ms; /* 0: current; else the end of its grace period */
	int64_t learned_ms; /* when the service said so (monotonic) */
};

/* One change of the log, as local_cache_apply needs it (NULL: absent). */
struct local_change {
	const char *kind;
	const char *workspace_id;
	const char *user_id;
	const char *api_key_id;
};

/* local_cache_new makes a cache of at most `capacity` entries whose
 * lookups fail once the feed has not been read for `max_staleness_ms`.
 * Returns 0, or -1 when out of memory. */
int local_cache_new(struct local_cache **out, size_t capacity,
    long max_staleness_ms) __attribute__((warn_unused_result));

/* local_cache_free frees it; no other thread may use it. NULL is fine. */
void local_cache_free(struct local_cache *c);

/* local_cache_usable says whether lookups may answer a call that needs
 * every write up to `min_revision` (0: none). */
bool local_cache_usable(struct local_cache *c, uint64_t min_revision);

/* local_cache_seen is the newest revision the cache knows the service's
 * database reached: what it applied, or an answer it took. */
uint64_t local_cache_seen(struct local_cache *c);

/* local_cache_applied is the newest revision applied (0: none yet). */
uint64_t local_cache_applied(struct local_cache *c);

/* Lookups copy the entry and return true on a hit whose answer reflects
 * every write up to `min_revision` (0: any), with the revision it
 * reflects in *revision (the entry's or the applied one, the newer); they
 * count hits and misses. local_cache_usable said so a moment before, but
 * a resync can lower the applied revision in between. */
bool local_cache_get_membership(struct local_cache *c,
    const unsigned char user_id[16], const unsigned char workspace_id[16],
    uint64_t min_revision, struct local_membership *out, uint64_t *revision);
bool local_cache_get_key(struct local_cache *c, const unsigned char digest[32],
    uint64_t min_revision, struct local_key *out, uint64_t *revision);

/* Stores: `revision` is what the service's answer reflected; an answer
 * older than the applied revision is not stored. */
void local_cache_put_membership(struct local_cache *c,
    const unsigned char user_id[16], const unsigned char workspace_id[16],
    const struct local_membership *m, uint64_t revision);
void local_cache_put_key(struct local_cache *c, const unsigned char digest[32],
    const struct local_key *k, uint64_t revision);

/* local_cache_apply drops what `n` changes touched (a membership by user
 * and workspace; keys by key id, and every key of the workspace of an
 * api_key change; everything of a workspace created, changed or deleted,
 * or touched by a change of a kind this library does not know) and
 * advances the applied revision to `up_to`. `synced`: the feed has been
 * read to its end, which restarts the staleness clock. */
void local_cache_apply(struct local_cache *c, const struct local_change *ch,
    size_t n, uint64_t up_to, bool synced);

/* local_cache_resync drops every entry and sets the applied revision to
 * `revision` (where the log stands): for a log pruned past what was
 * applied, or a service whose database is behind it. Synced. */
void local_cache_resync(struct local_cache *c, uint64_t revision);

/* local_cache_sync_age_ms is how long ago the feed was last read to its
 * end; -1 if never. */
int64_t local_cache_sync_age_ms(struct local_cache *c);

struct local_cache_stats {
	uint64_t hits, misses, entries, evictions, resyncs, applied;
};
void local_cache_stats(struct local_cache *c, struct local_cache_stats *out);

/* local_cache_uuid parses a UUID in its canonical lower-case text form
 * into 16 bytes; false for anything else (which the service, not the
 * cache, answers). */
bool local_cache_uuid(const char *text, unsigned char out[16]);

#endif
