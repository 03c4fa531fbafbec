/* cmd_grants: give, change, revoke and list grants on resources. */
#include "cmd_grants.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "pager.h"
#include "resolve.h"

static int
grant_added_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	const Exe__Access__V1__GrantResourceRoleResponse *resp = reply;
	const Exe__Access__V1__ResourceRef *ref = ctx;
	if (resp->grant == NULL)
		return cli_fail(EXA_INTERNAL,
		    "the service answered without the "
		    "grant");
	printf("%s has grant %s on %s:%s in workspace %s (revision %llu)\n",
	    resp->grant->username, output_role(resp->grant->role), ref->type,
	    ref->id, resp->grant->workspace_id,
	    (unsigned long long)resp->revision);
	return 0;
}

int
cmd_grant_add(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	char buf[512];
	Exe__Access__V1__Role role;
	int rc = cli_resource_arg(cli, NULL, a->pos[0], buf, sizeof buf, &ref);
	if (rc == 0)
		rc = cli_role_arg(cli, "ROLE", a->pos[2], &role);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	char user[40];
	rc = resolve_actor_and_user(
	    cli, a, "USER", a->pos[1], &actor, user, sizeof user);
	if (rc != 0)
		goto out;
	Exe__Access__V1__GrantResourceRoleRequest req =
	    EXE__ACCESS__V1__GRANT_RESOURCE_ROLE_REQUEST__INIT;
	req.actor = &actor.p;
	req.resource = &ref;
	req.user_id = user;
	req.role = role;
	Exe__Access__V1__GrantResourceRoleResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_grant_resource_role(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, grant_added_print, &ref);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_grant_revoke(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	char buf[512];
	int rc = cli_resource_arg(cli, NULL, a->pos[0], buf, sizeof buf, &ref);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	char user[40];
	rc = resolve_actor_and_user(
	    cli, a, "USER", a->pos[1], &actor, user, sizeof user);
	if (rc != 0)
		goto out;
	Exe__Access__V1__RevokeResourceRoleRequest req =
	    EXE__ACCESS__V1__REVOKE_RESOURCE_ROLE_REQUEST__INIT;
	req.actor = &actor.p;
	req.resource = &ref;
	req.user_id = user;
	Exe__Access__V1__WriteResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_revoke_resource_role(cli_client(cli), &req, &resp, &err);
	rc = cli_print_write(cli, st, &err, resp, "revoked %s's grant on %s:%s",
	    a->pos[1], ref.type, ref.id);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
grants_row(
    struct cli *cli, struct output_table *t, const ProtobufCMessage *item)
{
	const Exe__Access__V1__ResourceGrant *g =
	    (const Exe__Access__V1__ResourceGrant *)item;
	char what[440], since[32];
	snprintf(what, sizeof what, "%s:%s",
	    g->resource != NULL ? g->resource->type : "",
	    g->resource != NULL ? g->resource->id : "");
	output_table_add(t, what, g->username, output_role(g->role),
	    g->workspace_id,
	    g->granted_by_user_id[0] != '\0'
	        ? resolve_user_name(cli, g->granted_by_user_id)
	        : "-",
	    output_time(g->created_unix_ms, since, sizeof since));
}

/* grants_list prints the grants that `method` lists, every page or one. */
static int
grants_list(struct cli *cli, const struct cli_args *a,
    ProtobufCMessage *request, const char *method,
    const ProtobufCMessageDescriptor *response)
{
	static const char *const headers[] = {"RESOURCE", "USER", "ROLE",
	    "WORKSPACE", "GRANTED BY", "SINCE", NULL};
	const struct pager p = {
	    .list_field = "grants",
	    .method = method,
	    .response = response,
	    .headers = headers,
	    .row = grants_row,
	    .empty = "no grants",
	};
	return pager_run(cli, a, request, &p);
}

int
cmd_grant_list(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	char buf[512];
	int rc = cli_resource_arg(cli, NULL, a->pos[0], buf, sizeof buf, &ref);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ListResourceGrantsRequest req =
	    EXE__ACCESS__V1__LIST_RESOURCE_GRANTS_REQUEST__INIT;
	req.actor = &actor.p;
	req.resource = &ref;
	rc = grants_list(cli, a, &req.base,
	    "exe.access.v1.WorkspaceService/ListResourceGrants",
	    &exe__access__v1__list_resource_grants_response__descriptor);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_grant_user(struct cli *cli, const struct cli_args *a)
{
	char user[40];
	int rc = resolve_user(cli, "USER", a->pos[0], user, sizeof user);
	if (rc != 0)
		return rc;
	Exe__Access__V1__ListUserGrantsRequest req =
	    EXE__ACCESS__V1__LIST_USER_GRANTS_REQUEST__INIT;
	req.user_id = user;
	return grants_list(cli, a, &req.base,
	    "exe.access.v1.WorkspaceService/ListUserGrants",
	    &exe__access__v1__list_user_grants_response__descriptor);
}
