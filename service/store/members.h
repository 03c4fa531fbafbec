/* SQL for memberships. Every write here runs in a transaction that holds
 * the workspace row FOR UPDATE (store_user_standing with
 * STORE_LOCK_UPDATE), so counts such as "how many admins" stay true until
 * commit (SPEC R8). */
#ifndef EXE_STORE_MEMBERS_H
#define EXE_STORE_MEMBERS_H

#include <stdint.h>

#include "base/perms.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

/* store_member_put inserts (or, with `update`, changes) a membership and
 * returns it with the user's name. */
int store_member_put(struct call *call, const char *workspace_id,
    const char *user_id, enum role role, bool update,
    Exe__Access__V1__Member **out) __attribute__((warn_unused_result));

/* store_member_get reads a membership with the user's name;
 * STATUS_NOT_FOUND (with the message) when there is none. */
int store_member_get(struct call *call, const char *workspace_id,
    const char *user_id, Exe__Access__V1__Member **out)
    __attribute__((warn_unused_result));

/* store_member_remove deletes a membership. */
int store_member_remove(struct call *call, const char *workspace_id,
    const char *user_id) __attribute__((warn_unused_result));

/* store_admin_count counts a workspace's admins. */
int store_admin_count(struct call *call, const char *workspace_id, long *out)
    __attribute__((warn_unused_result));

/* store_members_list fills `resp` with up to `limit` members after the
 * cursor `after` (lower-case username, user id; NULLs for the first page),
 * ordered by username. */
int store_members_list(struct call *call, const char *workspace_id,
    char *const *after, uint32_t limit, Exe__Access__V1__ListMembersResponse *resp)
    __attribute__((warn_unused_result));

#endif
