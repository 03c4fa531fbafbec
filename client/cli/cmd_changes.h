/* cmd_changes: `exe-access changes`, the change log (AuthzService
 * ReadChanges) from the command line, once or followed. */
#ifndef EXA_CLI_CMD_CHANGES_H
#define EXA_CLI_CMD_CHANGES_H

#include "args.h"
#include "cli.h"

/* cmd_changes returns the exit status (see cli.h). */
int cmd_changes(struct cli *cli, const struct cli_args *a);

#endif
