/* SQL for workspaces: the workspace switcher (SPEC R11). */
#ifndef EXE_STORE_WORKSPACES_H
#define EXE_STORE_WORKSPACES_H

#include <stdint.h>

#include "call.h"
#include "exe/access/v1/workspace.pb-c.h"

/* store_workspaces_list fills `resp` with up to `limit` workspaces of
 * `user_id` after the cursor (`after`: rank, name, id; all NULL for the
 * first page), personal first, then teams by name. Sets next_page_token
 * when more follow. An unknown user is STATUS_NOT_FOUND. */
int store_workspaces_list(struct call *call, const char *user_id,
    char *const *after, uint32_t limit, Exe__Access__V1__ListWorkspacesResponse *resp)
    __attribute__((warn_unused_result));

#endif
