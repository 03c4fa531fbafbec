/* cmd_authz: the questions other services ask on every request, asked
 * from the command line (AuthzService Check, ListPermissions and
 * BatchCheck). `check` exits 0 when allowed and 1 when denied, printing
 * the service's reason. */
#ifndef EXA_CLI_CMD_AUTHZ_H
#define EXA_CLI_CMD_AUTHZ_H

#include "args.h"
#include "cli.h"

/* Each returns the exit status (see cli.h). */
int cmd_check(struct cli *cli, const struct cli_args *a);
int cmd_permissions(struct cli *cli, const struct cli_args *a);
int cmd_batch_check(struct cli *cli, const struct cli_args *a);

#endif
