/* SQL for the registry of resources (SPEC R6): experiments, datasets and
 * projects that the services creating them register in a workspace, with
 * their creator. (type, id) is unique across all workspaces. Finding a
 * resource's workspace for a check is store_resource_workspace in
 * store_authz.h. Results are built in the call's arena. */
#ifndef EXE_STORE_RESOURCES_H
#define EXE_STORE_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

/* A resource to register. Exactly one of the creator fields is set. */
struct new_resource {
	const char *workspace_id;
	const char *type;
	const char *id;
	const char *name;
	const char *created_by_user; /* a user's id ... */
	const char *created_by_key;  /* ... or an API key's */
};

/* store_resource_register inserts `r` and returns it as stored. Returns
 * STATUS_ALREADY_EXISTS (with a message naming resource) when (type, id)
 * is registered in any workspace. */
int store_resource_register(struct call *call, const struct new_resource *r,
    Exe__Access__V1__Resource **out) __attribute__((warn_unused_result));

/* store_resource_delete deletes (type, id) if it is registered in
 * `workspace_id`; *deleted says whether a row went. */
int store_resource_delete(struct call *call, const char *workspace_id,
    const char *type, const char *id, bool *deleted)
    __attribute__((warn_unused_result));

/* store_resources_list fills `resp` with up to `limit` resources of the
 * workspace, of `type` only unless it is NULL, ordered by (type, id) and
 * after the cursor `after` (type, id; NULLs for the first page). Sets
 * resp->next_page_token when more follow. */
int store_resources_list(struct call *call, const char *workspace_id,
    const char *type, char *const *after, uint32_t limit,
    Exe__Access__V1__ListResourcesResponse *resp)
    __attribute__((warn_unused_result));

#endif
