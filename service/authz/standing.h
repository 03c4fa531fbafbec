/* What is known of a principal where it asks, read through the cache: the
 * one place that says "the cache if it can answer, else the database, then
 * store what was read back". Users (their standing in a workspace), API
 * keys (by the keyed hash of the secret), registered resources (their
 * workspace) and grants (a user's role on one resource).
 *
 * The rules, all here:
 *   - the cache answers only when cache_usable (fresh, and covering the
 *     caller's at_least_as_fresh); otherwise, or on a miss, the database;
 *   - what a plain (unlocked, outside any transaction) read found is
 *     stored back with the revision its own snapshot reflected;
 *   - negative entries: a missing workspace or a non-member is cached
 *     (changes to the workspace or the membership drop it), and so is "no
 *     grant" (asked only of users who hold some grant in the workspace:
 *     the standing says so); an unknown key or an unregistered resource is
 *     not (a lookup of garbage must not fill the cache);
 *   - a cached key goes back to the database after STANDING_KEY_REREAD_MS,
 *     which is when its last use is recorded; a key in its grace period
 *     stops at its expiry without any invalidation (decide_key_live).
 * Reads inside write transactions (actors, with row locks) do not come
 * here: they read store/authz.h directly and are never cached. */
#ifndef EXE_STANDING_H
#define EXE_STANDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decide.h"
#include "rpc/call.h"

enum { STANDING_KEY_REREAD_MS = 60 * 1000 };

/* Where an answer may come from. */
enum standing_source {
	STANDING_CACHE_ONLY,  /* on nng's thread: a miss is METHOD_MISS */
	STANDING_CACHE_OR_DB, /* on a database worker (call->db) */
};

/* A user in a workspace. The 16-byte forms are optional: NULL means they
 * are parsed from the text when the cache is asked. */
struct standing_user_ids {
	const char *user_id;
	const char *workspace_id;
	const unsigned char *user_bytes;
	const unsigned char *workspace_bytes;
};

/* Each returns STATUS_OK with its result filled, METHOD_MISS when `src`
 * is STANDING_CACHE_ONLY and the cache cannot answer for `min_revision`,
 * or the status of a failed database read. */

/* standing_user finds the standing of ids->user_id in ids->workspace_id.
 * `known`, when not NULL, is what a grouped read of the database already
 * found (store_user_standings), used instead of a statement of its own.
 * A cached answer leaves out->organization_id empty. */
int standing_user(struct call *call, enum standing_source src,
    uint64_t min_revision, const struct standing_user_ids *ids,
    const struct standing *known, struct standing *out)
    __attribute__((warn_unused_result));

/* standing_key finds the API key `secret` (`len` bytes, well-formed). */
int standing_key(struct call *call, enum standing_source src,
    uint64_t min_revision, const char *secret, size_t len,
    struct key_standing *out) __attribute__((warn_unused_result));

/* standing_key_read finds the key in the database alone (recording its
 * use), for VerifyApiKey and LookupResources. */
int standing_key_read(struct call *call, const char *secret, size_t len,
    struct key_standing *out) __attribute__((warn_unused_result));

/* standing_resource finds the workspace (37 bytes) of the registered
 * resource (type, id); *found is false when it is not registered. */
int standing_resource(struct call *call, enum standing_source src,
    uint64_t min_revision, const char *type, const char *id, bool *found,
    char *workspace_id, uint64_t *revision)
    __attribute__((warn_unused_result));

/* standing_grant finds the role `user_id` is granted on the resource
 * (type, id), registered in `workspace_id`: ROLE_NONE for no grant. Ask
 * it only when the user's standing there has_grants. */
int standing_grant(struct call *call, enum standing_source src,
    uint64_t min_revision, const char *user_id, const char *workspace_id,
    const char *type, const char *id, enum role *role, uint64_t *revision)
    __attribute__((warn_unused_result));

/* standing_revision is a revision that covers `min_revision`, for an
 * answer that depends on nothing stored (a malformed key): the cache's if
 * it covers it, else the database's. */
int standing_revision(struct call *call, enum standing_source src,
    uint64_t min_revision, uint64_t *revision)
    __attribute__((warn_unused_result));

#endif
