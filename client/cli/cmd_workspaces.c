/* cmd_workspaces: team, workspace(s) and member commands. */
#include "cmd_workspaces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "pager.h"
#include "resolve.h"

/* print_workspace prints a workspace's fields and settings; `role` is
 * the actor's, or NULL. A reply of `method` without the workspace is
 * reported. Returns the exit status. */
static int
print_workspace(struct cli *cli, const char *method,
    const Exe__Access__V1__Workspace *w, const char *role, uint64_t revision)
{
	if (w == NULL)
		return cli_fail(
		    EXA_INTERNAL, "%s answered without the workspace", method);
	char created[32], rev[24];
	const char *const fields[][2] = {
	    {"workspace", w->name},
	    {"id", w->id},
	    {"kind", output_kind(w->kind)},
	    {"organisation",
	        w->organization_id[0] != '\0' ? w->organization_id : NULL},
	    {"owner", w->owner_user_id[0] != '\0'
	                  ? resolve_user_name(cli, w->owner_user_id)
	                  : NULL},
	    {"role", role},
	    {"created",
	        output_time(w->created_unix_ms, created, sizeof created)},
	    {"revision",
	        revision > 0 ? output_u64(revision, rev, sizeof rev) : NULL},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	if (w->n_settings == 0)
		return 0;
	static const char *const headers[] = {"SETTING", "VALUE"};
	struct output_table *t = output_table_new(2, headers);
	for (size_t i = 0; i < w->n_settings; i++)
		output_table_add(t, w->settings[i]->key, w->settings[i]->value);
	printf("\n");
	output_table_print(t, stdout, 0);
	output_table_free(t);
	return 0;
}

static int
team_created_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)ctx;
	const Exe__Access__V1__CreateTeamWorkspaceResponse *resp = reply;
	int rc = print_workspace(
	    cli, "CreateTeamWorkspace", resp->workspace, NULL, resp->revision);
	if (rc == 0 && resp->api_key[0] != '\0')
		output_secret(stdout, "API key of the team workspace",
		    resp->api_key, NULL);
	return rc;
}

int
cmd_team_create(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	char first[40];
	int rc = resolve_actor_and_user(cli, a, "--first-admin",
	    args_get(a, FLAG_FIRST_ADMIN), &actor, first, sizeof first);
	if (rc != 0)
		goto out;
	Exe__Access__V1__CreateTeamWorkspaceRequest req =
	    EXE__ACCESS__V1__CREATE_TEAM_WORKSPACE_REQUEST__INIT;
	req.actor = &actor.p;
	req.organization_id = a->pos[0];
	req.name = a->pos[1];
	req.first_admin_user_id = first;
	Exe__Access__V1__CreateTeamWorkspaceResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_create_team_workspace(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, team_created_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
workspaces_row(
    struct cli *cli, struct output_table *t, const ProtobufCMessage *item)
{
	(void)cli;
	const Exe__Access__V1__WorkspaceEntry *e =
	    (const Exe__Access__V1__WorkspaceEntry *)item;
	if (e->workspace == NULL)
		return;
	output_table_add(t, e->workspace->name, output_kind(e->workspace->kind),
	    output_role(e->role), e->workspace->id);
}

int
cmd_workspaces(struct cli *cli, const struct cli_args *a)
{
	if (!args_has(a, FLAG_USER))
		return cli_usage_fail(cli, "--user USER is required");
	char user[40];
	int rc = resolve_user(
	    cli, "--user", args_get(a, FLAG_USER), user, sizeof user);
	if (rc != 0)
		return rc;
	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	req.user_id = user;
	static const char *const headers[] = {
	    "WORKSPACE", "KIND", "ROLE", "ID", NULL};
	const struct pager p = {
	    .list_field = "workspaces",
	    .method = "exe.access.v1.WorkspaceService/ListWorkspaces",
	    .response = &exe__access__v1__list_workspaces_response__descriptor,
	    .headers = headers,
	    .row = workspaces_row,
	    .empty = "no workspaces",
	};
	return pager_run(cli, a, &req.base, &p);
}

static int
workspace_got_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)ctx;
	const Exe__Access__V1__GetWorkspaceResponse *resp = reply;
	return print_workspace(
	    cli, "GetWorkspace", resp->workspace, output_role(resp->role), 0);
}

int
cmd_workspace_get(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__GetWorkspaceRequest req =
	    EXE__ACCESS__V1__GET_WORKSPACE_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	Exe__Access__V1__GetWorkspaceResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_get_workspace(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, workspace_got_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static int
workspace_updated_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)ctx;
	const Exe__Access__V1__UpdateWorkspaceSettingsResponse *resp = reply;
	return print_workspace(cli, "UpdateWorkspaceSettings", resp->workspace,
	    NULL, resp->revision);
}

int
cmd_workspace_settings(struct cli *cli, const struct cli_args *a)
{
	size_t nset = a->count[FLAG_SET];
	Exe__Access__V1__Setting *settings =
	    calloc(nset > 0 ? nset : 1, sizeof *settings);
	Exe__Access__V1__Setting **set =
	    calloc(nset > 0 ? nset : 1, sizeof *set);
	char **copies = calloc(nset > 0 ? nset : 1, sizeof *copies);
	struct resolve_principal actor;
	memset(&actor, 0, sizeof actor);
	int rc = 0;
	if (settings == NULL || set == NULL || copies == NULL) {
		rc = cli_fail(EXA_INTERNAL, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nset; i++) {
		const char *kv = a->values[FLAG_SET][i];
		const char *eq = strchr(kv, '=');
		if (eq == NULL || eq == kv) {
			rc = cli_usage_fail(cli,
			    "--set: expected KEY=VALUE, not "
			    "\"%s\"",
			    kv);
			goto out;
		}
		copies[i] = strdup(kv);
		if (copies[i] == NULL) {
			rc = cli_fail(EXA_INTERNAL, "out of memory");
			goto out;
		}
		copies[i][eq - kv] = '\0';
		exe__access__v1__setting__init(&settings[i]);
		settings[i].key = copies[i];
		settings[i].value = copies[i] + (eq - kv) + 1;
		set[i] = &settings[i];
	}
	rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__UpdateWorkspaceSettingsRequest req =
	    EXE__ACCESS__V1__UPDATE_WORKSPACE_SETTINGS_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	if (args_has(a, FLAG_NAME))
		req.name = (char *)args_get(a, FLAG_NAME);
	req.set = set;
	req.n_set = nset;
	req.unset = (char **)a->values[FLAG_UNSET];
	req.n_unset = a->count[FLAG_UNSET];
	Exe__Access__V1__UpdateWorkspaceSettingsResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_update_workspace_settings(cli_client(cli), &req, &resp, &err);
	rc =
	    cli_print_reply(cli, st, &err, resp, workspace_updated_print, NULL);
out:
	for (size_t i = 0; copies != NULL && i < nset; i++)
		free(copies[i]);
	free(copies);
	free(set);
	free(settings);
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_workspace_delete(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__DeleteWorkspaceRequest req =
	    EXE__ACCESS__V1__DELETE_WORKSPACE_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	Exe__Access__V1__WriteResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_delete_workspace(cli_client(cli), &req, &resp, &err);
	rc = cli_print_write(
	    cli, st, &err, resp, "deleted workspace %s", a->pos[0]);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static int
member_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	const Exe__Access__V1__MemberResponse *resp = reply;
	if (resp->member == NULL)
		return cli_fail(EXA_INTERNAL,
		    "the service answered without the "
		    "member");
	printf("%s has role %s in workspace %s (revision %llu)\n",
	    resp->member->username, output_role(resp->member->role),
	    resp->member->workspace_id, (unsigned long long)resp->revision);
	return 0;
}

int
cmd_member_add(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__Role role = EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED;
	int rc = 0;
	if (args_has(a, FLAG_ROLE))
		rc = cli_role_arg(cli, "--role", args_get(a, FLAG_ROLE), &role);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	char user[40];
	rc = resolve_actor_and_user(
	    cli, a, "USER", a->pos[1], &actor, user, sizeof user);
	if (rc != 0)
		goto out;
	Exe__Access__V1__AddMemberRequest req =
	    EXE__ACCESS__V1__ADD_MEMBER_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	req.user_id = user;
	req.role = role;
	Exe__Access__V1__MemberResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_add_member(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, member_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_member_role(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__Role role;
	int rc = cli_role_arg(cli, "ROLE", a->pos[2], &role);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	char user[40];
	rc = resolve_actor_and_user(
	    cli, a, "USER", a->pos[1], &actor, user, sizeof user);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ChangeMemberRoleRequest req =
	    EXE__ACCESS__V1__CHANGE_MEMBER_ROLE_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	req.user_id = user;
	req.role = role;
	Exe__Access__V1__MemberResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_change_member_role(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, member_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_member_remove(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	char user[40];
	int rc = resolve_actor_and_user(
	    cli, a, "USER", a->pos[1], &actor, user, sizeof user);
	if (rc != 0)
		goto out;
	Exe__Access__V1__RemoveMemberRequest req =
	    EXE__ACCESS__V1__REMOVE_MEMBER_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	req.user_id = user;
	Exe__Access__V1__WriteResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_remove_member(cli_client(cli), &req, &resp, &err);
	rc = cli_print_write(cli, st, &err, resp,
	    "removed %s from workspace %s", a->pos[1], a->pos[0]);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
members_row(
    struct cli *cli, struct output_table *t, const ProtobufCMessage *item)
{
	(void)cli;
	const Exe__Access__V1__Member *m =
	    (const Exe__Access__V1__Member *)item;
	char joined[32];
	output_table_add(t, m->username, output_role(m->role),
	    output_time(m->joined_unix_ms, joined, sizeof joined), m->user_id);
}

int
cmd_member_list(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ListMembersRequest req =
	    EXE__ACCESS__V1__LIST_MEMBERS_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	static const char *const headers[] = {
	    "USER", "ROLE", "JOINED", "USER ID", NULL};
	const struct pager p = {
	    .list_field = "members",
	    .method = "exe.access.v1.WorkspaceService/ListMembers",
	    .response = &exe__access__v1__list_members_response__descriptor,
	    .headers = headers,
	    .row = members_row,
	    .empty = "no members",
	};
	rc = pager_run(cli, a, &req.base, &p);
out:
	resolve_principal_fini(&actor);
	return rc;
}
