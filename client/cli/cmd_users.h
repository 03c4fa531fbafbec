/* cmd_users: the `user` and `org` commands — sign-up, looking users up,
 * organisations and their admins (WorkspaceService CreateUser, GetUser,
 * FindUser, CreateOrganization, AddOrganizationAdmin,
 * RemoveOrganizationAdmin). */
#ifndef EXA_CLI_CMD_USERS_H
#define EXA_CLI_CMD_USERS_H

#include "args.h"
#include "cli.h"

/* Each returns the exit status (see cli.h). */
int cmd_user_create(struct cli *cli, const struct cli_args *a);
int cmd_user_get(struct cli *cli, const struct cli_args *a);
int cmd_user_find(struct cli *cli, const struct cli_args *a);
int cmd_org_create(struct cli *cli, const struct cli_args *a);
int cmd_org_admin_add(struct cli *cli, const struct cli_args *a);
int cmd_org_admin_remove(struct cli *cli, const struct cli_args *a);

#endif
