/* SQL for LookupResources: the resources of one type on which a
 * principal holds a permission, across every workspace they belong to. */
#ifndef EXE_STORE_LOOKUP_H
#define EXE_STORE_LOOKUP_H

#include <stdint.h>

#include "exe/access/v1/authz.pb-c.h"
#include "rpc/call.h"

/* store_lookup_for_user lists resources of `type` in the workspaces where
 * `user_id`'s role is one of `roles` (a PostgreSQL text[] literal such as
 * "{admin,member}"), and those of team workspaces on which they hold a
 * grant whose role is one of `grant_roles`, each once, ordered by id,
 * after `after` (NULL: from the start), at most `limit`; sets
 * next_page_token when more follow. */
int store_lookup_for_user(struct call *call, const char *user_id,
    const char *type, const char *roles, const char *grant_roles,
    const char *after, uint32_t limit,
    Exe__Access__V1__LookupResourcesResponse *resp)
    __attribute__((warn_unused_result));

/* store_lookup_in_workspace lists resources of `type` in one workspace
 * (an API key's), paged the same way. */
int store_lookup_in_workspace(struct call *call, const char *workspace_id,
    const char *type, const char *after, uint32_t limit,
    Exe__Access__V1__LookupResourcesResponse *resp)
    __attribute__((warn_unused_result));

#endif
