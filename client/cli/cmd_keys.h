/* cmd_keys: workspace API keys (WorkspaceService RotateApiKey, GetApiKey;
 * AuthzService VerifyApiKey). A new secret is printed once; a secret
 * given to the CLI is never printed back or put in an error message. */
#ifndef EXA_CLI_CMD_KEYS_H
#define EXA_CLI_CMD_KEYS_H

#include "args.h"
#include "cli.h"

/* Each returns the exit status (see cli.h). */
int cmd_key_rotate(struct cli *cli, const struct cli_args *a);
int cmd_key_get(struct cli *cli, const struct cli_args *a);
int cmd_key_verify(struct cli *cli, const struct cli_args *a);

#endif
