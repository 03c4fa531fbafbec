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
 * the actor's, or NULL. */
static void
print_workspace(struct cli *cli, const Exe__Access__V1__Workspace *w,
    const char *role, uint64_t revision)
{
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
		return;
	static const char *const headers[] = {"SETTING", "VALUE"};
	struct output_table *t = output_table_new(2, headers);
	for (size_t i = 0; i < w->n_settings; i++)
		output_table_add(t, w->settings[i]->key, w->settings[i]->value);
	printf("\n");
	output_table_print(t, stdout, 0);
	output_table_free(t);
}

int
cmd_team_create(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	char first[40] = "";
	int rc = resolve_actor(cli, a, &actor);
	if (rc == 0 && args_has(a, FLAG_FIRST_ADMIN))
		rc = resolve_user(cli, "--first-admin",
		    args_get(a, FLAG_FIRST_ADMIN), first, sizeof first);
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
	if (exa_create_team_workspace(cli_client(cli), &req, &resp, &err) !=
	    EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	if (cli->json)
		rc = json_print_message(&resp->base);
	else if (resp->workspace == NULL)
		rc = cli_fail(EXA_INTERNAL, "CreateTeamWorkspace answered "
		                            "without the workspace");
	else {
		print_workspace(cli, resp->workspace, NULL, resp->revision);
		if (resp->api_key[0] != '\0')
			output_secret(stdout, "API key of the team workspace",
			    resp->api_key, NULL);
	}
	exa_free(resp);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
workspaces_row(struct cli *cli, void *ctx, const ProtobufCMessage *item)
{
	(void)cli;
	const Exe__Access__V1__WorkspaceEntry *e =
	    (const Exe__Access__V1__WorkspaceEntry *)item;
	if (e->workspace == NULL)
		return;
	output_table_add(ctx, e->workspace->name,
	    output_kind(e->workspace->kind), output_role(e->role),
	    e->workspace->id);
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
	    "WORKSPACE", "KIND", "ROLE", "ID"};
	struct output_table *t = output_table_new(4, headers);
	struct pager p = {
	    .list_field = "workspaces",
	    .method = "exe.access.v1.WorkspaceService/ListWorkspaces",
	    .response = &exe__access__v1__list_workspaces_response__descriptor,
	    .row = workspaces_row,
	    .table = t,
	    .empty = "no workspaces",
	    .ctx = t,
	};
	rc = pager_run(cli, a, &req.base, &p);
	output_table_free(t);
	return rc;
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
	if (exa_get_workspace(cli_client(cli), &req, &resp, &err) != EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	if (cli->json)
		rc = json_print_message(&resp->base);
	else if (resp->workspace == NULL)
		rc = cli_fail(EXA_INTERNAL, "GetWorkspace answered without the "
		                            "workspace");
	else
		print_workspace(
		    cli, resp->workspace, output_role(resp->role), 0);
	exa_free(resp);
out:
	resolve_principal_fini(&actor);
	return rc;
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
	if (exa_update_workspace_settings(cli_client(cli), &req, &resp, &err) !=
	    EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	if (cli->json)
		rc = json_print_message(&resp->base);
	else if (resp->workspace == NULL)
		rc = cli_fail(EXA_INTERNAL, "UpdateWorkspaceSettings answered "
		                            "without the workspace");
	else
		print_workspace(cli, resp->workspace, NULL, resp->revision);
	exa_free(resp);
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
	if (exa_delete_workspace(cli_client(cli), &req, &resp, &err) !=
	    EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	char done[128];
	snprintf(done, sizeof done, "deleted workspace %s", a->pos[0]);
	rc = cli_print_write(cli, resp, done);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static int
print_member(struct cli *cli, Exe__Access__V1__MemberResponse *resp)
{
	int rc = 0;
	if (cli->json)
		rc = json_print_message(&resp->base);
	else if (resp->member == NULL)
		rc = cli_fail(EXA_INTERNAL, "the service answered without the "
		                            "member");
	else
		printf("%s has role %s in workspace %s (revision %llu)\n",
		    resp->member->username, output_role(resp->member->role),
		    resp->member->workspace_id,
		    (unsigned long long)resp->revision);
	exa_free(resp);
	return rc;
}

int
cmd_member_add(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__Role role = EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED;
	if (args_has(a, FLAG_ROLE) &&
	    !cli_parse_role(args_get(a, FLAG_ROLE), &role))
		return cli_usage_fail(cli,
		    "--role: expected admin, member or "
		    "read_only, not \"%s\"",
		    args_get(a, FLAG_ROLE));
	struct resolve_principal actor;
	char user[40];
	int rc = resolve_actor(cli, a, &actor);
	if (rc == 0)
		rc = resolve_user(cli, "USER", a->pos[1], user, sizeof user);
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
	if (exa_add_member(cli_client(cli), &req, &resp, &err) != EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	rc = print_member(cli, resp);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_member_role(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__Role role;
	if (!cli_parse_role(a->pos[2], &role))
		return cli_usage_fail(cli,
		    "ROLE: expected admin, member or "
		    "read_only, not \"%s\"",
		    a->pos[2]);
	struct resolve_principal actor;
	char user[40];
	int rc = resolve_actor(cli, a, &actor);
	if (rc == 0)
		rc = resolve_user(cli, "USER", a->pos[1], user, sizeof user);
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
	if (exa_change_member_role(cli_client(cli), &req, &resp, &err) !=
	    EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	rc = print_member(cli, resp);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_member_remove(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	char user[40];
	int rc = resolve_actor(cli, a, &actor);
	if (rc == 0)
		rc = resolve_user(cli, "USER", a->pos[1], user, sizeof user);
	if (rc != 0)
		goto out;
	Exe__Access__V1__RemoveMemberRequest req =
	    EXE__ACCESS__V1__REMOVE_MEMBER_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	req.user_id = user;
	Exe__Access__V1__WriteResponse *resp = NULL;
	exa_error err;
	if (exa_remove_member(cli_client(cli), &req, &resp, &err) != EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	char done[200];
	snprintf(done, sizeof done, "removed %s from workspace %s", a->pos[1],
	    a->pos[0]);
	rc = cli_print_write(cli, resp, done);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
members_row(struct cli *cli, void *ctx, const ProtobufCMessage *item)
{
	(void)cli;
	const Exe__Access__V1__Member *m =
	    (const Exe__Access__V1__Member *)item;
	char joined[32];
	output_table_add(ctx, m->username, output_role(m->role),
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
	    "USER", "ROLE", "JOINED", "USER ID"};
	struct output_table *t = output_table_new(4, headers);
	struct pager p = {
	    .list_field = "members",
	    .method = "exe.access.v1.WorkspaceService/ListMembers",
	    .response = &exe__access__v1__list_members_response__descriptor,
	    .row = members_row,
	    .table = t,
	    .empty = "no members",
	    .ctx = t,
	};
	rc = pager_run(cli, a, &req.base, &p);
	output_table_free(t);
out:
	resolve_principal_fini(&actor);
	return rc;
}
