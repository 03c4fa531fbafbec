/* cmd_invites: invitation commands. */
#include "cmd_invites.h"

#include <stdio.h>

#include "json.h"
#include "output.h"
#include "pager.h"
#include "resolve.h"

static const char *
invitee(const Exe__Access__V1__Invitation *inv)
{
	return inv->invitee_username[0] != '\0' ? inv->invitee_username
	                                        : inv->invitee_email;
}

static int
invite_created_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	const Exe__Access__V1__CreateInvitationResponse *resp = reply;
	if (resp->invitation == NULL)
		return cli_fail(EXA_INTERNAL,
		    "CreateInvitation answered without "
		    "the invitation");
	const Exe__Access__V1__Invitation *inv = resp->invitation;
	char expires[32], rev[24];
	const char *const fields[][2] = {
	    {"invitation", inv->id},
	    {"workspace", inv->workspace_id},
	    {"invitee", invitee(inv)},
	    {"role", output_role(inv->role)},
	    {"expires",
	        output_time(inv->expires_unix_ms, expires, sizeof expires)},
	    {"revision", output_u64(resp->revision, rev, sizeof rev)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	output_secret(stdout, "Invitation token", resp->token,
	    "Give it to the invitee, who runs:\n"
	    "  exe-access invite accept TOKEN --as THEM");
	return 0;
}

int
cmd_invite_create(struct cli *cli, const struct cli_args *a)
{
	const char *username = args_get(a, FLAG_USERNAME);
	const char *email = args_get(a, FLAG_EMAIL);
	if ((username == NULL) == (email == NULL))
		return cli_usage_fail(
		    cli, "give one of --username USERNAME and --email EMAIL");
	Exe__Access__V1__Role role = EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED;
	int rc = 0;
	if (args_has(a, FLAG_ROLE))
		rc = cli_role_arg(cli, "--role", args_get(a, FLAG_ROLE), &role);
	uint64_t days = 0;
	if (rc == 0)
		rc = cli_u64_arg(cli, "--days", args_get(a, FLAG_DAYS), 1, 30,
		    "a number from 1 to 30", &days);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__CreateInvitationRequest req =
	    EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	if (username != NULL) {
		req.invitee_case =
		    EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INVITEE_USERNAME;
		req.username = (char *)username;
	} else {
		req.invitee_case =
		    EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INVITEE_EMAIL;
		req.email = (char *)email;
	}
	req.role = role;
	req.expires_in_days = (uint32_t)days;
	Exe__Access__V1__CreateInvitationResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_create_invitation(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, invite_created_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
invitations_row(
    struct cli *cli, struct output_table *t, const ProtobufCMessage *item)
{
	const Exe__Access__V1__Invitation *inv =
	    (const Exe__Access__V1__Invitation *)item;
	char expires[32];
	output_table_add(t, inv->id, invitee(inv), output_role(inv->role),
	    output_state(inv->state),
	    output_time(inv->expires_unix_ms, expires, sizeof expires),
	    resolve_user_name(cli, inv->invited_by_user_id));
}

int
cmd_invite_list(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ListInvitationsRequest req =
	    EXE__ACCESS__V1__LIST_INVITATIONS_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	req.include_closed = args_has(a, FLAG_ALL);
	static const char *const headers[] = {
	    "ID", "INVITEE", "ROLE", "STATE", "EXPIRES", "INVITED BY", NULL};
	const struct pager p = {
	    .list_field = "invitations",
	    .method = "exe.access.v1.WorkspaceService/ListInvitations",
	    .response = &exe__access__v1__list_invitations_response__descriptor,
	    .headers = headers,
	    .row = invitations_row,
	    .empty = args_has(a, FLAG_ALL) ? "no invitations"
	                                   : "no pending invitations",
	};
	rc = pager_run(cli, a, &req.base, &p);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_invite_revoke(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__RevokeInvitationRequest req =
	    EXE__ACCESS__V1__REVOKE_INVITATION_REQUEST__INIT;
	req.actor = &actor.p;
	req.invitation_id = a->pos[0];
	Exe__Access__V1__WriteResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_revoke_invitation(cli_client(cli), &req, &resp, &err);
	rc = cli_print_write(
	    cli, st, &err, resp, "revoked invitation %s", a->pos[0]);
out:
	resolve_principal_fini(&actor);
	return rc;
}

/* invite_accepted_print prints the membership an accepted invitation
 * made (nothing when the reply lacks it). */
static int
invite_accepted_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	const Exe__Access__V1__MemberResponse *resp = reply;
	if (resp->member != NULL)
		printf("%s joined workspace %s as %s (revision %llu)\n",
		    resp->member->username, resp->member->workspace_id,
		    output_role(resp->member->role),
		    (unsigned long long)resp->revision);
	return 0;
}

/* invite_answer accepts or declines the invitation whose token is pos[0]. */
static int
invite_answer(struct cli *cli, const struct cli_args *a, bool accept)
{
	struct resolve_principal actor;
	char *owned = NULL;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	const char *token = cli_read_secret(a->pos[0], &owned);
	if (token == NULL || token[0] == '\0') {
		rc =
		    cli_usage_fail(cli, "TOKEN: the invitation token is empty");
		goto out;
	}
	exa_error err;
	if (accept) {
		Exe__Access__V1__AcceptInvitationRequest req =
		    EXE__ACCESS__V1__ACCEPT_INVITATION_REQUEST__INIT;
		req.actor = &actor.p;
		req.token = (char *)token;
		Exe__Access__V1__MemberResponse *resp = NULL;
		exa_status st =
		    exa_accept_invitation(cli_client(cli), &req, &resp, &err);
		rc = cli_print_reply(
		    cli, st, &err, resp, invite_accepted_print, NULL);
	} else {
		Exe__Access__V1__DeclineInvitationRequest req =
		    EXE__ACCESS__V1__DECLINE_INVITATION_REQUEST__INIT;
		req.actor = &actor.p;
		req.token = (char *)token;
		Exe__Access__V1__WriteResponse *resp = NULL;
		exa_status st =
		    exa_decline_invitation(cli_client(cli), &req, &resp, &err);
		rc = cli_print_write(
		    cli, st, &err, resp, "declined the invitation");
	}
out:
	cli_secret_free(owned);
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_invite_accept(struct cli *cli, const struct cli_args *a)
{
	return invite_answer(cli, a, true);
}

int
cmd_invite_decline(struct cli *cli, const struct cli_args *a)
{
	return invite_answer(cli, a, false);
}
