/* cmd_grants: grants on resources (WorkspaceService GrantResourceRole,
 * RevokeResourceRole, ListResourceGrants, ListUserGrants). */
#ifndef EXA_CLI_CMD_GRANTS_H
#define EXA_CLI_CMD_GRANTS_H

#include "args.h"
#include "cli.h"

/* Each returns the exit status (see cli.h). */
int cmd_grant_add(struct cli *cli, const struct cli_args *a);
int cmd_grant_revoke(struct cli *cli, const struct cli_args *a);
int cmd_grant_list(struct cli *cli, const struct cli_args *a);
int cmd_grant_user(struct cli *cli, const struct cli_args *a);

#endif
