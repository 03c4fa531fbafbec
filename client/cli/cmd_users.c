/* cmd_users: user and organisation commands. */
#include "cmd_users.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "resolve.h"

static int
user_created_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	const Exe__Access__V1__CreateUserResponse *resp = reply;
	if (resp->user == NULL || resp->personal_workspace == NULL)
		return cli_fail(EXA_INTERNAL, "CreateUser answered without the "
		                              "user or their workspace");
	const Exe__Access__V1__User *u = resp->user;
	char ws[200], rev[24];
	snprintf(ws, sizeof ws, "%s (%s)", resp->personal_workspace->name,
	    resp->personal_workspace->id);
	const char *const fields[][2] = {
	    {"user", u->username},
	    {"id", u->id},
	    {"email", u->email},
	    {"display name",
	        u->display_name[0] != '\0' ? u->display_name : NULL},
	    {"workspace", ws},
	    {"revision", output_u64(resp->revision, rev, sizeof rev)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	char what[200];
	snprintf(what, sizeof what, "API key of \"%s\"",
	    resp->personal_workspace->name);
	output_secret(stdout, what, resp->api_key, NULL);
	return 0;
}

int
cmd_user_create(struct cli *cli, const struct cli_args *a)
{
	if (!args_has(a, FLAG_EMAIL))
		return cli_usage_fail(cli, "--email is required");
	Exe__Access__V1__CreateUserRequest req =
	    EXE__ACCESS__V1__CREATE_USER_REQUEST__INIT;
	req.username = a->pos[0];
	req.email = (char *)args_get(a, FLAG_EMAIL);
	if (args_has(a, FLAG_DISPLAY_NAME))
		req.display_name = (char *)args_get(a, FLAG_DISPLAY_NAME);
	Exe__Access__V1__CreateUserResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_create_user(cli_client(cli), &req, &resp, &err);
	return cli_print_reply(cli, st, &err, resp, user_created_print, NULL);
}

/* user_print prints u, the user in a reply. */
static int
user_print(const Exe__Access__V1__User *u)
{
	if (u == NULL)
		return cli_fail(EXA_INTERNAL, "the service answered without a "
		                              "user");
	char created[32];
	const char *const fields[][2] = {
	    {"user", u->username},
	    {"id", u->id},
	    {"email", u->email},
	    {"display name",
	        u->display_name[0] != '\0' ? u->display_name : NULL},
	    {"created",
	        output_time(u->created_unix_ms, created, sizeof created)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	return 0;
}

static int
user_got_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	return user_print(
	    ((const Exe__Access__V1__GetUserResponse *)reply)->user);
}

static int
user_found_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	return user_print(
	    ((const Exe__Access__V1__FindUserResponse *)reply)->user);
}

int
cmd_user_get(struct cli *cli, const struct cli_args *a)
{
	char id[40];
	int rc = resolve_user(cli, "USER", a->pos[0], id, sizeof id);
	if (rc != 0)
		return rc;
	Exe__Access__V1__GetUserRequest req =
	    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	req.user_id = id;
	Exe__Access__V1__GetUserResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_get_user(cli_client(cli), &req, &resp, &err);
	return cli_print_reply(cli, st, &err, resp, user_got_print, NULL);
}

int
cmd_user_find(struct cli *cli, const struct cli_args *a)
{
	const char *username = args_get(a, FLAG_USERNAME);
	const char *email = args_get(a, FLAG_EMAIL);
	if ((username == NULL) == (email == NULL))
		return cli_usage_fail(
		    cli, "give one of --username USERNAME and --email EMAIL");
	Exe__Access__V1__FindUserRequest req;
	resolve_find_user_request(
	    &req, username != NULL ? username : email, username == NULL);
	Exe__Access__V1__FindUserResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_find_user(cli_client(cli), &req, &resp, &err);
	return cli_print_reply(cli, st, &err, resp, user_found_print, NULL);
}

static int
org_created_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)ctx;
	const Exe__Access__V1__CreateOrganizationResponse *resp = reply;
	if (resp->organization == NULL)
		return cli_fail(EXA_INTERNAL, "CreateOrganization answered "
		                              "without the organisation");
	const Exe__Access__V1__Organization *o = resp->organization;
	char admins[512] = "", rev[24];
	for (size_t i = 0; i < o->n_admin_user_ids; i++) {
		size_t len = strlen(admins);
		snprintf(admins + len, sizeof admins - len, "%s%s",
		    i > 0 ? ", " : "",
		    resolve_user_name(cli, o->admin_user_ids[i]));
	}
	const char *const fields[][2] = {
	    {"organisation", o->name},
	    {"id", o->id},
	    {"admins", admins},
	    {"revision", output_u64(resp->revision, rev, sizeof rev)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	return 0;
}

int
cmd_org_create(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	char first[40];
	int rc = resolve_actor_and_user(cli, a, "--first-admin",
	    args_get(a, FLAG_FIRST_ADMIN), &actor, first, sizeof first);
	if (rc != 0)
		goto out;
	Exe__Access__V1__CreateOrganizationRequest req =
	    EXE__ACCESS__V1__CREATE_ORGANIZATION_REQUEST__INIT;
	req.actor = &actor.p;
	req.name = a->pos[0];
	req.first_admin_user_id = first;
	Exe__Access__V1__CreateOrganizationResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_create_organization(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, org_created_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static int
org_admin(struct cli *cli, const struct cli_args *a, bool add)
{
	struct resolve_principal actor;
	char user[40];
	int rc = resolve_actor_and_user(
	    cli, a, "USER", a->pos[1], &actor, user, sizeof user);
	if (rc != 0)
		goto out;
	Exe__Access__V1__WriteResponse *resp = NULL;
	exa_error err;
	exa_status st;
	if (add) {
		Exe__Access__V1__AddOrganizationAdminRequest req =
		    EXE__ACCESS__V1__ADD_ORGANIZATION_ADMIN_REQUEST__INIT;
		req.actor = &actor.p;
		req.organization_id = a->pos[0];
		req.user_id = user;
		st = exa_add_organization_admin(
		    cli_client(cli), &req, &resp, &err);
	} else {
		Exe__Access__V1__RemoveOrganizationAdminRequest req =
		    EXE__ACCESS__V1__REMOVE_ORGANIZATION_ADMIN_REQUEST__INIT;
		req.actor = &actor.p;
		req.organization_id = a->pos[0];
		req.user_id = user;
		st = exa_remove_organization_admin(
		    cli_client(cli), &req, &resp, &err);
	}
	rc = cli_print_write(cli, st, &err, resp,
	    "%s %s %s the admins of organisation %s", add ? "added" : "removed",
	    a->pos[1], add ? "to" : "from", a->pos[0]);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_org_admin_add(struct cli *cli, const struct cli_args *a)
{
	return org_admin(cli, a, true);
}

int
cmd_org_admin_remove(struct cli *cli, const struct cli_args *a)
{
	return org_admin(cli, a, false);
}
