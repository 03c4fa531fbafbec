/* WorkspaceService methods about workspaces: ListWorkspaces, the workspace
 * switcher of SPEC R11. */
#ifndef EXE_WORKSPACES_H
#define EXE_WORKSPACES_H

#include "call.h"

int workspaces_list_validate(struct call *call);
int workspaces_list(struct call *call);

#endif
