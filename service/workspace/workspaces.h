/* WorkspaceService methods about workspaces: creating a team workspace
 * (SPEC R3), reading one, the workspace switcher (R11), settings, and
 * deleting a team workspace (never a personal one, R2). */
#ifndef EXE_WORKSPACES_H
#define EXE_WORKSPACES_H

#include "rpc/call.h"

int workspaces_create_team_validate(struct call *call);
int workspaces_create_team(struct call *call);
int workspaces_get(struct call *call);
int workspaces_list_validate(struct call *call);
int workspaces_list(struct call *call);
int workspaces_update_validate(struct call *call);
int workspaces_update(struct call *call);
int workspaces_delete(struct call *call);

#endif
