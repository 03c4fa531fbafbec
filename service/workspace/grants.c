/* Grants on resources and their rules; SQL in store/grants.c. A grant is
 * managed with members.invite in the resource's workspace (its admins,
 * never API keys) and listed with members.view. Every change locks the
 * workspace row first, as membership changes do, so it is serialized
 * with them and with the resource's deletion. Personal workspaces stay
 * their owner's alone (R2): nothing in one can be granted. */
#include "workspace/grants.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/perms.h"
#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "store/authz.h"
#include "store/db.h"
#include "store/grants.h"
#include "store/users.h"
#include "workspace/actor.h"
#include "workspace/resources.h"

int
grants_put_validate(struct call *call)
{
	const Exe__Access__V1__GrantResourceRoleRequest *req =
	    (const void *)call->request;
	int rc = resources_validate_ref(call, req->resource);
	if (rc == STATUS_OK)
		rc = validate_uuid("user_id", req->user_id, true, call->message,
		    sizeof call->message);
	if (rc == STATUS_OK &&
	    (req->role < EXE__ACCESS__V1__ROLE__ROLE_ADMIN ||
	        req->role > EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "role: must be ROLE_ADMIN, ROLE_MEMBER or ROLE_READ_ONLY");
	call->code = rc;
	return rc;
}

/* grants_lock_admin locks the resource's workspace and checks that the
 * actor may manage grants in it (members.invite). An unregistered
 * resource and one where the actor has no standing are the same
 * NOT_FOUND (actor_require_resource). */
static int
grants_lock_admin(struct call *call, const Exe__Access__V1__Principal *actor,
    const Exe__Access__V1__ResourceRef *ref, char *workspace_id,
    struct decision *d)
{
	return actor_require_resource(call, actor, ref, "members.invite",
	    STORE_LOCK_UPDATE, workspace_id, d);
}

static int
grants_record(struct call *call, const Exe__Access__V1__Principal *actor,
    const struct decision *d, const char *workspace_id,
    const Exe__Access__V1__ResourceRef *ref, const char *user_id,
    const char *action, const char *detail, uint64_t *revision)
{
	struct db_change change = {
	    .kind = "grant",
	    .workspace_id = workspace_id,
	    .user_id = user_id,
	    .action = action,
	    .resource_type = ref->type,
	    .resource_id = ref->id,
	    .detail = detail,
	};
	actor_fill_change(actor, d, &change);
	return db_record_change(call->db, &change, revision);
}

static int
grants_put_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	const Exe__Access__V1__GrantResourceRoleRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__GrantResourceRoleResponse *resp =
	    (void *)call->response;
	const Exe__Access__V1__ResourceRef *ref = req->resource;
	char workspace_id[37];
	struct decision d;
	int rc = grants_lock_admin(call, req->actor, ref, workspace_id, &d);
	if (rc != STATUS_OK)
		return rc;
	if (d.standing.personal)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "resource: %s \"%s\" is in the personal workspace %s, which "
		    "is visible to its owner only; nothing in it can be granted "
		    "to anyone else", ref->type, ref->id, workspace_id);
	/* As nobody changes their own role (R4): an admin who granted
	 * themselves roles would keep them after losing their own. */
	if (req->actor->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID &&
	    strcasecmp(req->actor->user_id, req->user_id) == 0)
		return call_fail(call, STATUS_PERMISSION_DENIED,
		    "user %s cannot grant themselves a role; ask another admin "
		    "of the workspace", req->user_id);
	rc = store_user_require(call, "user_id", req->user_id);
	if (rc != STATUS_OK)
		return rc;
	struct new_grant g = {
	    .workspace_id = workspace_id,
	    .type = ref->type,
	    .id = ref->id,
	    .user_id = req->user_id,
	    .role = (enum role)req->role,
	    .granted_by_user = req->actor->kind_case ==
	            EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID
	        ? req->actor->user_id
	        : NULL,
	};
	enum role old;
	rc = store_grant_put(call, &g, &old, &resp->grant);
	if (rc != STATUS_OK)
		return rc;
	char detail[40];
	if (old == ROLE_NONE)
		snprintf(detail, sizeof detail, "%s", perms_role_name(g.role));
	else
		snprintf(detail, sizeof detail, "%s -> %s", perms_role_name(old),
		    perms_role_name(g.role));
	return grants_record(call, req->actor, &d, workspace_id, ref,
	    req->user_id, old == ROLE_NONE ? "grant.added" : "grant.changed",
	    detail, &resp->revision);
}

int
grants_put(struct call *call)
{
	return db_call_txn(call, grants_put_txn);
}

int
grants_revoke_validate(struct call *call)
{
	const Exe__Access__V1__RevokeResourceRoleRequest *req =
	    (const void *)call->request;
	int rc = resources_validate_ref(call, req->resource);
	if (rc == STATUS_OK)
		rc = validate_uuid("user_id", req->user_id, true, call->message,
		    sizeof call->message);
	call->code = rc;
	return rc;
}

static int
grants_revoke_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	const Exe__Access__V1__RevokeResourceRoleRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__WriteResponse *resp = (void *)call->response;
	const Exe__Access__V1__ResourceRef *ref = req->resource;
	char workspace_id[37];
	struct decision d;
	int rc = grants_lock_admin(call, req->actor, ref, workspace_id, &d);
	enum role old = ROLE_NONE;
	if (rc == STATUS_OK)
		rc = store_grant_delete(call, ref->type, ref->id, req->user_id,
		    &old);
	if (rc != STATUS_OK)
		return rc;
	if (old == ROLE_NONE)
		return call_fail(call, STATUS_NOT_FOUND,
		    "user %s has no grant on %s \"%s\"", req->user_id, ref->type,
		    ref->id);
	return grants_record(call, req->actor, &d, workspace_id, ref,
	    req->user_id, "grant.revoked", perms_role_name(old),
	    &resp->revision);
}

int
grants_revoke(struct call *call)
{
	return db_call_txn(call, grants_revoke_txn);
}

int
grants_list_resource_validate(struct call *call)
{
	const Exe__Access__V1__ListResourceGrantsRequest *req =
	    (const void *)call->request;
	int rc = resources_validate_ref(call, req->resource);
	call->code = rc;
	return rc;
}

int
grants_list_resource(struct call *call)
{
	const Exe__Access__V1__ListResourceGrantsRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__ListResourceGrantsResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListResourceGrantsResponse,
	    exe__access__v1__list_resource_grants_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	char *after[2];
	char ignored[8];
	int rc = paging_decode(call, req->page_token, after, 2);
	if (rc == STATUS_OK && after[1] != NULL &&
	    validate_uuid("", after[1], true, ignored, sizeof ignored) !=
	        STATUS_OK)
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned");
	char workspace_id[37];
	struct decision d;
	if (rc == STATUS_OK)
		rc = actor_require_resource(call, req->actor, req->resource,
		    "members.view", STORE_LOCK_NONE, workspace_id, &d);
	if (rc == STATUS_OK)
		rc = store_grants_list_resource(call, req->resource->type,
		    req->resource->id, after, call->page_size, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}

int
grants_list_user_validate(struct call *call)
{
	const Exe__Access__V1__ListUserGrantsRequest *req =
	    (const void *)call->request;
	int rc = validate_uuid("user_id", req->user_id, true, call->message,
	    sizeof call->message);
	if (rc == STATUS_OK)
		rc = actor_or_service(call, req->actor, "list a user's grants");
	/* Grants span workspaces: only the user themself may list them, so
	 * the answer to anyone else is the same whoever the user is. */
	if (rc == STATUS_OK && req->actor != NULL &&
	    strcasecmp(req->actor->user_id, req->user_id) != 0)
		rc = call_fail(call, STATUS_PERMISSION_DENIED,
		    "actor: user %s may list only their own grants",
		    req->actor->user_id);
	call->code = rc;
	return rc;
}

int
grants_list_user(struct call *call)
{
	const Exe__Access__V1__ListUserGrantsRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__ListUserGrantsResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListUserGrantsResponse,
	    exe__access__v1__list_user_grants_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	char *after[2];
	int rc = paging_decode(call, req->page_token, after, 2);
	if (rc == STATUS_OK && after[0] != NULL &&
	    !perms_resource_type_known(after[0]))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned");
	if (rc == STATUS_OK)
		rc = store_grants_list_user(call, req->user_id, after,
		    call->page_size, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
