/* SQL for organisations and their admins (SPEC R3, R4). */
#ifndef EXE_STORE_ORGS_H
#define EXE_STORE_ORGS_H

#include <stdbool.h>

#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"
#include "store/authz.h"

/* store_org_admin says whether organisation `org_id` exists and whether
 * `user_id` is one of its admins, locking the organisation row as `lock`
 * says. */
int store_org_admin(struct call *call, const char *org_id,
    const char *user_id, enum store_lock lock, bool *exists, bool *admin)
    __attribute__((warn_unused_result));

/* store_org_create inserts an organisation with its first admin and
 * returns it (in the arena) with its admin list. */
int store_org_create(struct call *call, const char *name,
    const char *first_admin, Exe__Access__V1__Organization **out)
    __attribute__((warn_unused_result));

/* store_org_admin_add makes `user_id` an admin; STATUS_ALREADY_EXISTS if
 * it already is one. */
int store_org_admin_add(struct call *call, const char *org_id,
    const char *user_id) __attribute__((warn_unused_result));

/* store_org_admin_remove removes an admin, unless it is the last one
 * (STATUS_FAILED_PRECONDITION) or not an admin (STATUS_NOT_FOUND). The
 * caller holds the organisation row FOR UPDATE. */
int store_org_admin_remove(struct call *call, const char *org_id,
    const char *user_id) __attribute__((warn_unused_result));

#endif
