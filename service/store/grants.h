/* SQL for grants on resources: a user's role on one registered resource,
 * given, changed and revoked inside a transaction that holds the
 * resource's workspace row FOR UPDATE (as membership changes do), and
 * listed by resource or by user. */
#ifndef EXE_STORE_GRANTS_H
#define EXE_STORE_GRANTS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/perms.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

/* A grant to write. */
struct new_grant {
	const char *workspace_id; /* the resource's */
	const char *type;
	const char *id;
	const char *user_id;
	enum role role;
	const char *granted_by_user; /* the acting admin */
};

/* store_grant_put gives g->user_id g->role on the resource, or changes
 * the role of the grant they hold on it; *old is the role it had
 * (ROLE_NONE: it is new). The grant, with the user's and resource's
 * names, goes to *out (arena). STATUS_NOT_FOUND, naming the resource,
 * when it is not registered in g->workspace_id (any more). */
int store_grant_put(struct call *call, const struct new_grant *g,
    enum role *old, Exe__Access__V1__ResourceGrant **out)
    __attribute__((warn_unused_result));

/* store_grant_delete revokes `user_id`'s grant on the resource (type,
 * id); *old is the role it had, ROLE_NONE when there was none. */
int store_grant_delete(struct call *call, const char *type, const char *id,
    const char *user_id, enum role *old) __attribute__((warn_unused_result));

/* store_grants_remove_user revokes every grant `user_id` holds on the
 * resources of `workspace_id` (they leave it); *count says how many. */
int store_grants_remove_user(struct call *call, const char *workspace_id,
    const char *user_id, long *count) __attribute__((warn_unused_result));

/* store_grants_list_resource fills `resp` with up to `limit` grants on
 * the resource after the cursor `after` (lower-case username, user id;
 * NULLs for the first page), by username. */
int store_grants_list_resource(struct call *call, const char *type,
    const char *id, char *const *after, uint32_t limit,
    Exe__Access__V1__ListResourceGrantsResponse *resp)
    __attribute__((warn_unused_result));

/* store_grants_list_user fills `resp` with up to `limit` of the grants
 * `user_id` holds after the cursor `after` (resource type, resource id;
 * NULLs for the first page), by type and id, with the revision of the
 * read. STATUS_NOT_FOUND when the user does not exist. */
int store_grants_list_user(struct call *call, const char *user_id,
    char *const *after, uint32_t limit,
    Exe__Access__V1__ListUserGrantsResponse *resp)
    __attribute__((warn_unused_result));

#endif
