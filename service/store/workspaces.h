/* SQL for workspaces: the workspace switcher (SPEC R11). */
#ifndef EXE_STORE_WORKSPACES_H
#define EXE_STORE_WORKSPACES_H

#include <stdint.h>

#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

/* store_workspaces_list fills `resp` with up to `limit` workspaces of
 * `user_id` after the cursor (`after`: rank, name, id; all NULL for the
 * first page), personal first, then teams by name. Sets next_page_token
 * when more follow. With `viewer` (someone other than the user), only the
 * team workspaces `viewer` is a member of or administers the organisation
 * of; the caller has checked that `viewer` may read the user. Without, an
 * unknown user is STATUS_NOT_FOUND. */
int store_workspaces_list(struct call *call, const char *user_id,
    const char *viewer, char *const *after, uint32_t limit,
    Exe__Access__V1__ListWorkspacesResponse *resp)
    __attribute__((warn_unused_result));

/* store_workspace_create_team inserts a team workspace of `org_id` with
 * `first_admin` as its admin; returns it in *out. */
int store_workspace_create_team(struct call *call, const char *org_id,
    const char *name, const char *first_admin, Exe__Access__V1__Workspace **out)
    __attribute__((warn_unused_result));

/* store_workspace_get reads a workspace with its settings. */
int store_workspace_get(struct call *call, const char *workspace_id,
    Exe__Access__V1__Workspace **out) __attribute__((warn_unused_result));

/* store_workspace_update sets the name (unless NULL) and applies the
 * settings change: `set_json` is a JSON object of keys to set, `unset_json`
 * a JSON array of keys to remove. Returns the number of settings after the
 * change in *count. */
int store_workspace_update(struct call *call, const char *workspace_id,
    const char *name, const char *set_json, const char *unset_json,
    long *count) __attribute__((warn_unused_result));

/* store_workspace_delete deletes a workspace and, by cascade, its
 * memberships, invitations, keys and resources; activity stays. */
int store_workspace_delete(struct call *call, const char *workspace_id)
    __attribute__((warn_unused_result));

#endif
