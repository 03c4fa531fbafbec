/* cmd_invites: invitations to team workspaces (WorkspaceService
 * CreateInvitation, ListInvitations, RevokeInvitation, AcceptInvitation,
 * DeclineInvitation). The token of a new invitation is printed once. */
#ifndef EXA_CLI_CMD_INVITES_H
#define EXA_CLI_CMD_INVITES_H

#include "args.h"
#include "cli.h"

/* Each returns the exit status (see cli.h). */
int cmd_invite_create(struct cli *cli, const struct cli_args *a);
int cmd_invite_list(struct cli *cli, const struct cli_args *a);
int cmd_invite_revoke(struct cli *cli, const struct cli_args *a);
int cmd_invite_accept(struct cli *cli, const struct cli_args *a);
int cmd_invite_decline(struct cli *cli, const struct cli_args *a);

#endif
