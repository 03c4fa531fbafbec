/* The authorization decision itself: given a principal (a user, or an API
 * key secret), a workspace and a permission, is it allowed, with which
 * role, and if not, why (SPEC R5, R12, R13). Used by AuthzService/Check and
 * by every WorkspaceService call that authorizes its actor. */
#ifndef EXE_DECIDE_H
#define EXE_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/perms.h"
#include "rpc/call.h"
#include "store/authz.h"

struct decision {
	bool allowed;
	enum role role;
	uint64_t revision;
	char workspace_id[37];
	struct standing standing; /* the workspace as the decision saw it */
	struct key_standing key;  /* for an API key principal */
	char reason[320];         /* why not, when !allowed */
};

/* decide_from_standing decides for user `user_id` from what is known of
 * them in d->workspace_id (d->standing, d->revision already set): no
 * database, so it serves cache hits and database reads alike. */
void decide_from_standing(const char *user_id, const struct permission *perm,
    struct decision *d);

/* decide_from_key decides for the API key d->key (already found, live)
 * in d->workspace_id. */
void decide_from_key(const struct permission *perm, struct decision *d);

/* decide_user decides for user `user_id` in `workspace_id`, reading the
 * workspace with `lock` (and, for an unlocked read, storing what it read
 * in the call's cache). Fills *d; returns a status only for failures to
 * decide (database errors). */
int decide_user(struct call *call, const char *user_id,
    const char *workspace_id, const struct permission *perm,
    enum store_lock lock, struct decision *d)
    __attribute__((warn_unused_result));

/* decide_user_read decides for user `user_id` in `workspace_id` from a
 * standing read from the database (by decide_user, or with others in one
 * statement), storing it in the call's cache when `cache_it` (an unlocked
 * read). */
void decide_user_read(struct call *call, const char *user_id,
    const char *workspace_id, const struct permission *perm,
    const struct standing *st, bool cache_it, struct decision *d);

/* decide_key decides for the API key `secret`: malformed keys are refused
 * by checksum without a database access; a key acts in its own workspace
 * with the member column (read_only for a read-only key) and never holds a
 * management permission. */
int decide_key(struct call *call, const char *secret,
    const char *workspace_id, const struct permission *perm,
    enum store_lock lock, struct decision *d)
    __attribute__((warn_unused_result));

struct cache;

/* decide_cache_key stores a key read from the database in the cache. */
void decide_cache_key(struct cache *cache, const unsigned char *hash,
    const struct key_standing *k);

/* decide_key_from_cache fills d->key from the cache for the key whose
 * hash is `hash`; false on a miss (or an entry due for a database read).
 * d->key.found is false for a key whose grace period has ended. */
bool decide_key_from_cache(struct cache *cache, const unsigned char *hash,
    struct decision *d);

/* decide_now_ms is the wall clock in milliseconds since the epoch. */
int64_t decide_now_ms(void);

#endif
