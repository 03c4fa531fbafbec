/* cmd_workspaces: team workspaces, the workspace switcher, a workspace's
 * settings and deletion, and its members (WorkspaceService
 * CreateTeamWorkspace, ListWorkspaces, GetWorkspace,
 * UpdateWorkspaceSettings, DeleteWorkspace, AddMember, ChangeMemberRole,
 * RemoveMember, ListMembers). */
#ifndef EXA_CLI_CMD_WORKSPACES_H
#define EXA_CLI_CMD_WORKSPACES_H

#include "args.h"
#include "cli.h"

/* Each returns the exit status (see cli.h). */
int cmd_team_create(struct cli *cli, const struct cli_args *a);
int cmd_workspaces(struct cli *cli, const struct cli_args *a);
int cmd_workspace_get(struct cli *cli, const struct cli_args *a);
int cmd_workspace_settings(struct cli *cli, const struct cli_args *a);
int cmd_workspace_delete(struct cli *cli, const struct cli_args *a);
int cmd_member_add(struct cli *cli, const struct cli_args *a);
int cmd_member_role(struct cli *cli, const struct cli_args *a);
int cmd_member_remove(struct cli *cli, const struct cli_args *a);
int cmd_member_list(struct cli *cli, const struct cli_args *a);

#endif
