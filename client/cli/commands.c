/* commands: the command table of exe-access, lookup and the help screens
 * it generates. */
#include "commands.h"

#include <ctype.h>
#include <string.h>

#include "cmd_authz.h"
#include "cmd_changes.h"
#include "cmd_grants.h"
#include "cmd_invites.h"
#include "cmd_keys.h"
#include "cmd_resources.h"
#include "cmd_users.h"
#include "cmd_workspaces.h"
#include "output.h"

/* clang-format off */
#define ACTOR {FLAG_AS, NULL}, {FLAG_AS_KEY, NULL}
#define PAGING {FLAG_PAGE_SIZE, NULL}, {FLAG_PAGE_TOKEN, NULL}
#define END {FLAG_NONE, NULL}
/* clang-format on */
#define ACTOR_USAGE "(--as USER | --as-key SECRET)"

static int cmd_help(struct cli *cli, const struct cli_args *args);

/* clang-format off */
static const struct cli_flag_use no_flags[] = {END};
static const struct cli_flag_use user_create_flags[] = {
	{FLAG_EMAIL, "email address (required; unique whatever the case)"},
	{FLAG_DISPLAY_NAME, NULL}, END};
static const struct cli_flag_use user_find_flags[] = {
	{FLAG_USERNAME, "find by username (whatever the case)"},
	{FLAG_EMAIL, "find by email (whatever the case)"}, END};
static const struct cli_flag_use actor_flags[] = {ACTOR, END};
static const struct cli_flag_use create_flags[] = {
	{FLAG_FIRST_ADMIN, NULL}, ACTOR, END};
static const struct cli_flag_use workspaces_flags[] = {
	{FLAG_USER, "whose workspaces: a user id, username or email "
	            "(required)"}, PAGING, END};
static const struct cli_flag_use settings_flags[] = {
	{FLAG_NAME, "rename the workspace"}, {FLAG_SET, NULL},
	{FLAG_UNSET, NULL}, ACTOR, END};
static const struct cli_flag_use member_add_flags[] = {
	{FLAG_ROLE, NULL}, ACTOR, END};
static const struct cli_flag_use actor_paging_flags[] = {PAGING, ACTOR, END};
static const struct cli_flag_use invite_create_flags[] = {
	{FLAG_USERNAME, "invite this username (an account may not exist "
	                "yet)"},
	{FLAG_EMAIL, "invite this email address instead"},
	{FLAG_ROLE, NULL}, {FLAG_DAYS, NULL}, ACTOR, END};
static const struct cli_flag_use invite_list_flags[] = {
	{FLAG_ALL, NULL}, PAGING, ACTOR, END};
static const struct cli_flag_use key_rotate_flags[] = {
	{FLAG_GRACE, NULL}, {FLAG_READ_ONLY, NULL}, ACTOR, END};
static const struct cli_flag_use resource_register_flags[] = {
	{FLAG_NAME, "a name people recognise it by"}, ACTOR, END};
static const struct cli_flag_use resource_list_flags[] = {
	{FLAG_TYPE, "only this type: experiment, dataset or project"},
	PAGING, ACTOR, END};
static const struct cli_flag_use principal_paging_flags[] = {
	{FLAG_USER, NULL}, {FLAG_KEY, NULL}, PAGING, END};
static const struct cli_flag_use activity_record_flags[] = {
	{FLAG_WORKSPACE, "the activity's workspace"},
	{FLAG_RESOURCE, "or the registered resource it touched"},
	{FLAG_DETAIL, NULL}, ACTOR, END};
static const struct cli_flag_use activity_verify_flags[] = {
	{FLAG_WORKSPACE, "check this workspace's records alone"},
	{FLAG_ORGANIZATION, "or an organisation's own records"},
	{FLAG_ANCHOR, "the whole log: a head printed earlier, which must "
	              "still be in the chain"}, END};
static const struct cli_flag_use check_flags[] = {
	{FLAG_WORKSPACE, "check in this workspace"},
	{FLAG_RESOURCE, "or on this registered resource (in its workspace)"},
	{FLAG_USER, NULL}, {FLAG_KEY, NULL}, {FLAG_FRESH, NULL}, END};
static const struct cli_flag_use permissions_flags[] = {
	{FLAG_RESOURCE, "on this registered resource instead of WS (its "
	                "grants count)"},
	{FLAG_USER, NULL}, {FLAG_KEY, NULL}, {FLAG_FRESH, NULL}, END};
static const struct cli_flag_use paging_flags[] = {PAGING, END};
static const struct cli_flag_use batch_flags[] = {{FLAG_FRESH, NULL}, END};
static const struct cli_flag_use changes_flags[] = {{FLAG_AFTER, NULL},
	{FLAG_FOLLOW, NULL}, {FLAG_SUBSCRIBE, NULL}, END};

const struct cli_command commands_table[] = {
	{"user", "create", cmd_user_create,
	 "USERNAME --email EMAIL [--display-name NAME]",
	 "sign up a user: personal workspace, API key",
	 "Creates the user, their personal workspace \"USERNAME's Workspace\", "
	 "their admin membership in it and its API key, whose secret is "
	 "printed once.", 1, 1, user_create_flags},
	{"user", "get", cmd_user_get, "USER", "show a user",
	 "USER is a user id, a username or an email.", 1, 1, no_flags},
	{"user", "find", cmd_user_find, "(--username USERNAME | --email EMAIL)",
	 "find a user by username or email", NULL, 0, 0, user_find_flags},

	{"org", "create", cmd_org_create,
	 "NAME [--first-admin USER] " ACTOR_USAGE,
	 "create an organisation (first admin: --as by default)", NULL,
	 1, 1, create_flags},
	{"org", "admin add", cmd_org_admin_add, "ORG USER " ACTOR_USAGE,
	 "make USER an admin of organisation ORG (an id)",
	 "Organisation admins create teams and manage their members.", 2, 2,
	 actor_flags},
	{"org", "admin remove", cmd_org_admin_remove, "ORG USER " ACTOR_USAGE,
	 "remove an organisation admin", NULL, 2, 2, actor_flags},

	{"team", "create", cmd_team_create,
	 "ORG NAME [--first-admin USER] " ACTOR_USAGE,
	 "create a team workspace in organisation ORG",
	 "Only an admin of ORG may. The team's first admin defaults to --as.",
	 2, 2, create_flags},

	{"workspaces", NULL, cmd_workspaces, "--user USER",
	 "the workspace switcher: a user's workspaces and roles",
	 "Every workspace the user belongs to, personal first, each with its "
	 "kind, name and the user's role in it.", 0, 0, workspaces_flags},
	{"workspace", "list", cmd_workspaces, "--user USER",
	 "the same as `workspaces`", NULL, 0, 0, workspaces_flags},
	{"workspace", "get", cmd_workspace_get, "WS " ACTOR_USAGE,
	 "show a workspace, its settings and the actor's role", NULL, 1, 1,
	 actor_flags},
	{"workspace", "settings", cmd_workspace_settings,
	 "WS [--name NAME] [--set KEY=VALUE]... [--unset KEY]... "
	 ACTOR_USAGE,
	 "rename a workspace, set or remove its settings",
	 "Needs workspace.settings.update (admins). With no change it prints "
	 "the workspace.", 1, 1, settings_flags},
	{"workspace", "delete", cmd_workspace_delete, "WS " ACTOR_USAGE,
	 "delete a team workspace (admins; never a personal one)", NULL, 1, 1,
	 actor_flags},

	{"member", "add", cmd_member_add, "WS USER [--role ROLE] " ACTOR_USAGE,
	 "add a user to a team workspace (organisation admins)", NULL, 2, 2,
	 member_add_flags},
	{"member", "role", cmd_member_role, "WS USER ROLE " ACTOR_USAGE,
	 "change a member's role: admin, member or read_only",
	 "Organisation admins change roles; nobody changes their own; a team "
	 "keeps at least one admin.", 3, 3, actor_flags},
	{"member", "remove", cmd_member_remove, "WS USER " ACTOR_USAGE,
	 "remove a member from a team workspace", NULL, 2, 2, actor_flags},
	{"member", "list", cmd_member_list, "WS " ACTOR_USAGE,
	 "list a workspace's members and their roles", NULL, 1, 1,
	 actor_paging_flags},

	{"invite", "create", cmd_invite_create,
	 "WS (--username USERNAME | --email EMAIL) [--role ROLE] [--days N] "
	 ACTOR_USAGE,
	 "invite someone to a team; prints the token once",
	 "Team admins invite. The invitee accepts with `exe-access invite "
	 "accept TOKEN --as THEM`.", 1, 1, invite_create_flags},
	{"invite", "list", cmd_invite_list, "WS [--all] " ACTOR_USAGE,
	 "list a workspace's pending (--all: every) invitation",
	 NULL, 1, 1, invite_list_flags},
	{"invite", "revoke", cmd_invite_revoke, "ID " ACTOR_USAGE,
	 "revoke a pending invitation by its id", NULL, 1, 1, actor_flags},
	{"invite", "accept", cmd_invite_accept, "TOKEN --as USER",
	 "accept an invitation as the invitee ('-': stdin)",
	 NULL, 1, 1, actor_flags},
	{"invite", "decline", cmd_invite_decline, "TOKEN --as USER",
	 "decline an invitation ('-': stdin)", NULL, 1, 1,
	 actor_flags},

	{"key", "rotate", cmd_key_rotate,
	 "WS [--grace SECONDS] [--read-only] " ACTOR_USAGE,
	 "replace a workspace's API key; prints it once",
	 "The old secret stops working at once, or after --grace seconds "
	 "(at most 24 h).", 1, 1, key_rotate_flags},
	{"key", "get", cmd_key_get, "WS " ACTOR_USAGE,
	 "show a workspace's API key (never the secret)", NULL,
	 1, 1, actor_flags},
	{"key", "verify", cmd_key_verify, "SECRET",
	 "which workspace a key belongs to ('-': stdin)",
	 NULL, 1, 1, no_flags},

	{"resource", "register", cmd_resource_register,
	 "WS TYPE ID [--name NAME] " ACTOR_USAGE,
	 "register an experiment, dataset or project", NULL, 3,
	 3, resource_register_flags},
	{"resource", "delete", cmd_resource_delete, "TYPE ID " ACTOR_USAGE,
	 "delete a registered resource (TYPE ID or TYPE:ID)", NULL, 1, 2,
	 actor_flags},
	{"resource", "list", cmd_resource_list, "WS [--type TYPE] " ACTOR_USAGE,
	 "list the resources registered in a workspace", NULL, 1, 1,
	 resource_list_flags},
	{"resource", "lookup", cmd_resource_lookup,
	 "TYPE PERMISSION (--user USER | --key SECRET)",
	 "resources of TYPE where a principal has PERMISSION",
	 NULL, 2, 2, principal_paging_flags},

	{"grant", "add", cmd_grant_add, "TYPE:ID USER ROLE " ACTOR_USAGE,
	 "give a user a role on one resource (or change it)",
	 "Team admins give a member or someone outside the team (a guest) "
	 "admin, member or read_only on one registered resource. On it they "
	 "act with the stronger of their workspace role and the grant; the "
	 "workspace's own permissions (workspace.*, members.*, api_key.*, "
	 "activity.view) never come from a grant. A guest sees that resource "
	 "and nothing else of the workspace.", 3, 3, actor_flags},
	{"grant", "revoke", cmd_grant_revoke, "TYPE:ID USER " ACTOR_USAGE,
	 "take a user's grant on a resource away", NULL, 2, 2, actor_flags},
	{"grant", "list", cmd_grant_list, "TYPE:ID " ACTOR_USAGE,
	 "list who holds a grant on a resource", NULL, 1, 1,
	 actor_paging_flags},
	{"grant", "user", cmd_grant_user, "USER",
	 "list the grants a user holds, in any workspace", NULL, 1, 1,
	 paging_flags},

	{"activity", "record", cmd_activity_record,
	 "(--workspace WS | --resource TYPE:ID) ACTION [--detail TEXT] "
	 ACTOR_USAGE,
	 "record an activity, e.g. measurement.add, as the actor",
	 "ACTION is a permission the actor must hold there.", 1, 1,
	 activity_record_flags},
	{"activity", "list", cmd_activity_list, "WS " ACTOR_USAGE,
	 "list a workspace's activity, newest first", NULL, 1, 1,
	 actor_paging_flags},
	{"activity", "verify", cmd_activity_verify,
	 "[--workspace WS | --organization ORG] [--anchor SEQ:HASH]",
	 "check the activity log's hash chain: 0 intact, 1 broken (where)",
	 "Walks the chain (the whole log, or one workspace's or organisation's "
	 "records) and prints the first record that does not match, or the "
	 "count and the head (SEQ:HASH) to keep elsewhere and give back as "
	 "--anchor later. Needs an admin token; the call's bound is 10 "
	 "minutes unless --timeout says otherwise.", 0, 0,
	 activity_verify_flags},

	{"changes", NULL, cmd_changes,
	 "[--after REVISION] [--follow [--subscribe URL]]",
	 "the change log: what each write touched, oldest first",
	 "One line per change: revision, time, kind, and what it touched "
	 "(workspace, user, API key id, resource, organisation); never a "
	 "secret. --json prints one JSON object per change and line. When "
	 "the log no longer holds the changes asked for (retention), says "
	 "so and exits 5: ask again with --after the current revision it "
	 "names.", 0, 0, changes_flags},
	{"check", NULL, cmd_check,
	 "PERMISSION (--workspace WS | --resource TYPE:ID) "
	 "(--user USER | --key SECRET) [--fresh REVISION]",
	 "may a principal do this? 0 allowed, 1 denied (why)",
	 "Prints the decision; a denial says why, in words a person can act "
	 "on.", 1, 1, check_flags},
	{"permissions", NULL, cmd_permissions,
	 "(WS | --resource TYPE:ID) (--user USER | --key SECRET) "
	 "[--fresh REVISION]",
	 "a principal's role and permissions in a workspace or on a resource",
	 NULL, 0, 1, permissions_flags},
	{"batch-check", NULL, cmd_batch_check, "[--fresh REVISION] < LINES",
	 "many checks at once, one per line of stdin",
	 "Each line: `user USER PERMISSION WS` or `key SECRET PERMISSION WS`;"
	 " blank lines and lines starting with # are skipped. Exit 0 if "
	 "every check is allowed, 1 if any is denied, or the status of the "
	 "first check that failed.", 0, 0, batch_flags},

	{"help", NULL, cmd_help, "[COMMAND [SUB-COMMAND]]",
	 "show the help of a command", NULL, 0, 3, no_flags},
};
/* clang-format on */

const size_t commands_count = sizeof commands_table / sizeof commands_table[0];

/* sub_words_match says whether the space-separated words of `sub` equal
 * words[0..], setting *n to their number. */
static int
sub_words_match(const char *sub, char **words, int nwords, int *n)
{
	int k = 0;
	const char *p = sub;
	while (*p != '\0') {
		size_t len = strcspn(p, " ");
		if (k >= nwords || strlen(words[k]) != len ||
		    strncmp(words[k], p, len) != 0)
			return 0;
		k++;
		p += len;
		while (*p == ' ')
			p++;
	}
	*n = k;
	return 1;
}

const struct cli_command *
commands_find(char **words, int nwords, int *used)
{
	const struct cli_command *best = NULL;
	int best_n = 0;
	if (nwords < 1)
		return NULL;
	for (size_t i = 0; i < commands_count; i++) {
		const struct cli_command *c = &commands_table[i];
		int n = 0;
		if (strcmp(c->name, words[0]) != 0)
			continue;
		if (c->sub != NULL &&
		    !sub_words_match(c->sub, words + 1, nwords - 1, &n))
			continue;
		if (best == NULL || n + 1 > best_n) {
			best = c;
			best_n = n + 1;
		}
	}
	if (best != NULL)
		*used = best_n;
	return best;
}

int
commands_is_group(const char *name)
{
	for (size_t i = 0; i < commands_count; i++)
		if (strcmp(commands_table[i].name, name) == 0)
			return 1;
	return 0;
}

static const char exit_short[] =
    "exit status: 0 ok, 2 bad input, 3 not found, 4 permission denied or\n"
    "unauthenticated, 5 conflict (already exists, failed precondition), 6\n"
    "unavailable or timed out, 7 other error (`exe-access --help` has the\n"
    "table). Errors go to stderr as `exe-access: CODE_NAME: message`.\n";

void
commands_print_help(FILE *out, const struct cli_command *cmd)
{
	char usage[512];
	snprintf(usage, sizeof usage,
	    "usage: exe-access %s%s%s %s [global "
	    "options]",
	    cmd->name, cmd->sub != NULL ? " " : "",
	    cmd->sub != NULL ? cmd->sub : "", cmd->usage);
	output_wrap(out, usage, 0, 8, 79);
	/* The summary, as a sentence. */
	fprintf(out, "\n%c%s.\n", toupper((unsigned char)cmd->summary[0]),
	    cmd->summary + 1);
	if (cmd->detail != NULL)
		output_wrap(out, cmd->detail, 0, 0, 79);
	args_print_flags(out, cmd->flags, true);
	fprintf(out, "\n");
	if (cmd->run == cmd_check || cmd->run == cmd_batch_check)
		fprintf(out, "check: exit 0 when allowed, 1 when denied "
		             "(allowed=false; the reason\nis printed).\n");
	fputs(exit_short, out);
}

static void
print_row(FILE *out, const struct cli_command *c)
{
	char words[64];
	snprintf(words, sizeof words, "%s%s%s", c->name,
	    c->sub != NULL ? " " : "", c->sub != NULL ? c->sub : "");
	fprintf(out, "  %-22s ", words);
	output_wrap(out, c->summary, 25, 25, 79);
}

void
commands_print_group(FILE *out, const char *name)
{
	fprintf(out,
	    "usage: exe-access %s SUB-COMMAND ... [options]\n\n"
	    "sub-commands:\n",
	    name);
	for (size_t i = 0; i < commands_count; i++)
		if (strcmp(commands_table[i].name, name) == 0)
			print_row(out, &commands_table[i]);
	fprintf(out,
	    "\n`exe-access %s SUB-COMMAND --help` shows one in "
	    "full.\n",
	    name);
}

void
commands_print_overview(FILE *out)
{
	fprintf(out,
	    "usage: exe-access [global options] COMMAND [SUB-COMMAND] "
	    "[ARGS] [options]\n\n"
	    "Administer ExE Access and ask it who may do what.\n"
	    "Wherever a user is named (--as, --user, USER) give a user id, a "
	    "username or an\nemail. WS, ORG and invitation ids are the ids "
	    "commands print.\n\ncommands:\n");
	for (size_t i = 0; i < commands_count; i++)
		print_row(out, &commands_table[i]);
	fprintf(out, "\n`exe-access COMMAND [SUB-COMMAND] --help` shows one in "
	             "full.\n");
	args_print_flags(out, NULL, true);
	fprintf(out,
	    "\nexit status:\n"
	    "  0  success; for check and batch-check: allowed\n"
	    "  1  check denied (allowed=false); the reason is printed; activity "
	    "verify\n     found a break\n"
	    "  2  usage error or bad input (INVALID_ARGUMENT)\n"
	    "  3  not found (NOT_FOUND)\n"
	    "  4  permission denied or unauthenticated (PERMISSION_DENIED, "
	    "UNAUTHENTICATED)\n"
	    "  5  conflict: already exists or a rule forbids it "
	    "(ALREADY_EXISTS,\n     FAILED_PRECONDITION, ABORTED)\n"
	    "  6  service unavailable or no answer in time (UNAVAILABLE,\n"
	    "     DEADLINE_EXCEEDED)\n"
	    "  7  any other service error (INTERNAL, UNIMPLEMENTED, "
	    "RESOURCE_EXHAUSTED, ...)\n"
	    "Errors go to stderr as `exe-access: CODE_NAME: message`.\n");
}

static int
cmd_help(struct cli *cli, const struct cli_args *args)
{
	(void)cli;
	if (args->npos == 0) {
		commands_print_overview(stdout);
		return CLI_EXIT_OK;
	}
	int used = 0;
	const struct cli_command *c =
	    commands_find(args->pos, args->npos, &used);
	if (c != NULL && used == args->npos && c->run != cmd_help) {
		commands_print_help(stdout, c);
		return CLI_EXIT_OK;
	}
	if (args->npos == 1 && commands_is_group(args->pos[0])) {
		commands_print_group(stdout, args->pos[0]);
		return CLI_EXIT_OK;
	}
	return cli_usage_fail(cli, "no command \"%s%s%s\"", args->pos[0],
	    args->npos > 1 ? " " : "", args->npos > 1 ? args->pos[1] : "");
}
