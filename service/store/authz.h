/* SQL for authorization decisions: a principal's standing in a workspace,
 * the workspace of a registered resource, and API keys by hash. */
#ifndef EXE_STORE_AUTHZ_H
#define EXE_STORE_AUTHZ_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decide.h"
#include "base/perms.h"
#include "rpc/call.h"

/* How a read inside a write transaction locks the workspace row. Every
 * change to a workspace's memberships takes STORE_LOCK_UPDATE first, so a
 * write that took STORE_LOCK_SHARE knows its actor's role cannot change
 * before it commits. */
enum store_lock {
	STORE_LOCK_NONE,
	STORE_LOCK_SHARE,
	STORE_LOCK_UPDATE,
};

/* store_user_standing reads the workspace's kind, organisation, the
 * user's role in it and whether they hold a grant on any of its resources, with the revision the read reflects (one snapshot,
 * also when the workspace does not exist), locking the workspace row as
 * `lock` says. */
int store_user_standing(struct call *call, const char *workspace_id,
    const char *user_id, enum store_lock lock, struct standing *out)
    __attribute__((warn_unused_result));

/* store_user_standings reads, in one statement, the standing of
 * user_ids[i] in workspace_ids[i] for each i < n (all valid UUIDs) into
 * out[i], each with the revision the one read reflects. */
int store_user_standings(PGconn *db, size_t n,
    const char *const *workspace_ids, const char *const *user_ids,
    struct standing *out) __attribute__((warn_unused_result));

/* store_resource_workspace finds the workspace of a registered resource;
 * *found is false when (type, id) is not registered. The id is written to
 * `workspace_id` (37 bytes), the revision the read reflects to *revision. */
int store_resource_workspace(struct call *call, const char *type,
    const char *id, bool *found, char *workspace_id, uint64_t *revision)
    __attribute__((warn_unused_result));

/* store_grant_role reads the role `user_id` is granted on the resource
 * (type, id), ROLE_NONE for none, with the revision the read reflects. */
int store_grant_role(struct call *call, const char *user_id, const char *type,
    const char *id, enum role *role, uint64_t *revision)
    __attribute__((warn_unused_result));

/* store_key_lookup finds the live key whose hash is `hash_hex` (bytea
 * text), with the revision the read reflects (one snapshot, also when no
 * key has the hash), and records its use at most once a minute.
 * out->read_ms is left 0. On a standby (call->on_replica), which cannot
 * write, a key whose use is due is not answered: the call is marked to
 * run on the primary (needs_primary) and UNAVAILABLE returned. */
int store_key_lookup(struct call *call, const char *hash_hex,
    struct key_standing *out) __attribute__((warn_unused_result));

#endif
