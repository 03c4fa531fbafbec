/* The authorization cache: memberships, API keys, resource locations and
 * grants on resources, read on every check without locks, on the cache
 * table it shares with the client library's local cache (base/cachetab.h:
 * liburcu's lock-free hash table under the bulletproof RCU flavor, so
 * nng's own threads can read it, bounded in entries with CLOCK
 * (second-chance) eviction, an approximation of least-recently-used).
 *
 * Freshness (SPEC §4). The cache knows `applied`, the newest change-log
 * revision whose invalidations it has applied (cache_apply, fed by
 * cache_feed). An entry is stored only if the database read it came from
 * saw at least `applied`; invalidations and stores are serialized by the
 * table's writer lock, so an entry can never outlive a change it did not
 * see. A hit carries the newer of its read's revision and the revision
 * applied before the lookup. A lookup succeeds only while the feeder has
 * synced recently (within the staleness limit) and `applied` covers the
 * caller's at_least_as_fresh. */
#ifndef EXE_CACHE_H
#define EXE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decide.h"
#include "base/perms.h"

struct cache;

/* What a membership entry says about (user, workspace). */
struct cache_membership {
	bool workspace_exists;
	bool personal;
	enum role role; /* ROLE_NONE: not a member */
	bool has_grants; /* the user holds a grant on one of its resources */
};

/* One row of the change log, as cache_apply needs it. NULL: absent. */
struct cache_change {
	const char *kind;
	const char *workspace_id;
	const char *user_id;
	const char *api_key_id;
	const char *resource_type;
	const char *resource_id;
};

/* cache_new makes a cache of at most `capacity` entries; 0 makes a cache
 * that stores nothing and misses every lookup (caching disabled).
 * `max_staleness_ms` bounds how long lookups keep succeeding after the
 * feeder's last sync. `revision` is where the change log stands now. */
int cache_new(struct cache **out, size_t capacity, long max_staleness_ms,
    uint64_t revision) __attribute__((warn_unused_result));

/* cache_free frees the cache; no other thread may use it. NULL is fine. */
void cache_free(struct cache *c);

/* cache_usable says whether lookups may answer a request that needs
 * everything up to `min_revision` (0: no requirement). */
bool cache_usable(struct cache *c, uint64_t min_revision);

/* cache_revision is the newest revision the cache reflects. */
uint64_t cache_revision(struct cache *c);

/* cache_seen is the newest revision the cache knows the database had:
 * the applied one, or a read's stored past it. */
uint64_t cache_seen(struct cache *c);

/* cache_rewind is for a database that stands at `revision`, behind what
 * the cache applied: an asynchronous standby was promoted without the
 * last writes, and revision numbers after `revision` will be given again
 * to other writes. If it is behind, every entry is dropped, the applied
 * revision is set back to `revision`, the cache answers nothing until
 * the feeder's next read of the log (whose next cache_apply is discarded,
 * as it may have been read from the revision before), and true is
 * returned; otherwise nothing changes. */
bool cache_rewind(struct cache *c, uint64_t revision);

/* cache_resync is for a change log pruned past what the cache applied
 * (its changes are gone, so what they touched is unknown): every entry
 * is dropped and the applied revision moved to `revision`, where the
 * log stood when that was seen; the cache counts as synced. Returns
 * false, changing nothing, when a rewind came first (see cache_rewind:
 * the read may be from before it). */
bool cache_resync(struct cache *c, uint64_t revision);

/* cache_note_write is told the revision a write is about to commit (while
 * it holds the revision row, so no later revision can be applied first):
 * a revision the cache has applied already means the database is behind
 * it, and the cache is rewound to just before it. NULL is fine. */
void cache_note_write(struct cache *c, uint64_t revision);

/* Lookups copy the entry into *out and return true on a hit, with the
 * revision the answer reflects in *revision. */
bool cache_get_membership(struct cache *c, const char *user_id,
    const char *workspace_id, struct cache_membership *out,
    uint64_t *revision);
/* cache_get_membership_ids is cache_get_membership for ids already parsed
 * into their 16 bytes. */
bool cache_get_membership_ids(struct cache *c, const unsigned char user_id[16],
    const unsigned char workspace_id[16], struct cache_membership *out,
    uint64_t *revision);
/* cache_get_key: an API key entry is the key_standing the database read
 * (with its read_ms), found by the key's hash. */
bool cache_get_key(struct cache *c, const unsigned char *hash, size_t len,
    struct key_standing *out, uint64_t *revision);
bool cache_get_resource(struct cache *c, const char *type, const char *id,
    char workspace_id[37], uint64_t *revision);

/* cache_get_grant: the role `user_id` is granted on the resource (type,
 * id); ROLE_NONE (no grant) is an answer too. */
bool cache_get_grant(struct cache *c, const char *user_id, const char *type,
    const char *id, enum role *out, uint64_t *revision);

/* Stores: `read_revision` is the revision the database read reflected;
 * an entry older than what the cache has applied is not stored. */
void cache_put_membership(struct cache *c, const char *user_id,
    const char *workspace_id, const struct cache_membership *m,
    uint64_t read_revision);
void cache_put_key(struct cache *c, const unsigned char *hash, size_t len,
    const struct key_standing *k, uint64_t read_revision);
void cache_put_resource(struct cache *c, const char *type, const char *id,
    const char *workspace_id, uint64_t read_revision);
/* cache_put_grant stores `role` (ROLE_NONE: no grant) for `user_id` on
 * the resource (type, id) of `workspace_id`. */
void cache_put_grant(struct cache *c, const char *user_id,
    const char *workspace_id, const char *type, const char *id,
    enum role role, uint64_t read_revision);

/* cache_apply drops what `n` changes made stale (a change naming a user
 * and a workspace: the membership and the user's grants there; naming a
 * resource: its location and every grant on it; a workspace change:
 * everything of the workspace), advances the applied revision to `up_to`
 * (the newest revision read, even if n is 0), and marks the cache synced
 * now. */
void cache_apply(struct cache *c, const struct cache_change *changes,
    size_t n, uint64_t up_to);

/* cache_sync_age_ms is how long ago the change log was last read (the
 * database reachable and migrated): what /readyz and the lag metric use,
 * whether or not the cache stores anything. */
int64_t cache_sync_age_ms(struct cache *c);

/* Counters for metrics and tests. */
struct cache_stats {
	uint64_t hits;
	uint64_t misses;
	uint64_t entries;
	uint64_t evictions;
	uint64_t revision;
};
void cache_stats(struct cache *c, struct cache_stats *out);

#endif
