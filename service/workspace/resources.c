/* The registry of resources (SPEC R6): a service that creates an
 * experiment, dataset or project registers it in a workspace, so checks on
 * it follow the workspace's roles. Registering needs `<type>.create` and
 * deleting `<type>.delete` in the workspace; listing needs `<type>.view`
 * (or workspace.view for every type). SQL in store/resources.c. */
#include "workspace/resources.h"

#include <stdio.h>
#include <string.h>

#include "base/perms.h"
#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "store/authz.h"
#include "store/db.h"
#include "store/resources.h"
#include "workspace/actor.h"

int
resources_validate_ref(struct call *call, const Exe__Access__V1__ResourceRef *ref)
{
	if (ref == NULL)
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "resource: give the resource's type and id");
	if (!perms_resource_type_known(ref->type))
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "resource.type: must be experiment, dataset or project");
	int rc = validate_text("resource.id", ref->id, LIMIT_RESOURCE_ID, true,
	    call->message, sizeof call->message);
	call->code = rc;
	return rc;
}

/* permission_for writes "<type>.<verb>" (e.g. "dataset.delete") into out,
 * which holds LIMIT_PERMISSION + 1 bytes. */
static const char *
permission_for(const char *type, const char *verb, char *out)
{
	snprintf(out, LIMIT_PERMISSION + 1, "%s.%s", type, verb);
	return out;
}

int
resources_register_validate(struct call *call)
{
	const Exe__Access__V1__RegisterResourceRequest *req =
	    (const void *)call->request;
	int rc = resources_validate_ref(call, req->resource);
	if (rc == STATUS_OK)
		rc = validate_text("name", req->name, LIMIT_NAME, false,
		    call->message, sizeof call->message);
	call->code = rc;
	return rc;
}

static int
register_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	const Exe__Access__V1__RegisterResourceRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__RegisterResourceResponse *resp =
	    (void *)call->response;
	const Exe__Access__V1__ResourceRef *ref = req->resource;
	char perm[LIMIT_PERMISSION + 1];
	struct decision d;
	int rc = actor_require(call, req->actor, req->workspace_id,
	    permission_for(ref->type, "create", perm), STORE_LOCK_SHARE, &d);
	if (rc != STATUS_OK)
		return rc;
	bool by_user =
	    req->actor->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	struct new_resource r = {
	    .workspace_id = req->workspace_id,
	    .type = ref->type,
	    .id = ref->id,
	    .name = req->name,
	    .created_by_user = by_user ? req->actor->user_id : NULL,
	    .created_by_key = by_user ? NULL : d.key.key_id,
	};
	rc = store_resource_register(call, &r, &resp->resource);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "resource",
	    .workspace_id = req->workspace_id,
	    .action = "resource.registered",
	    .resource_type = ref->type,
	    .resource_id = ref->id,
	    .detail = req->name,
	};
	actor_fill_change(req->actor, &d, &change);
	return db_record_change(conn, &change, &resp->revision);
}

int
resources_register(struct call *call)
{
	return db_call_txn(call, register_txn);
}

int
resources_delete_validate(struct call *call)
{
	const Exe__Access__V1__DeleteResourceRequest *req =
	    (const void *)call->request;
	int rc = resources_validate_ref(call, req->resource);
	call->code = rc;
	return rc;
}


static int
resources_delete_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	const Exe__Access__V1__DeleteResourceRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__WriteResponse *resp = (void *)call->response;
	const Exe__Access__V1__ResourceRef *ref = req->resource;
	/* Workspace first, then the resource row (as DeleteWorkspace's
	 * cascade does), so the two cannot deadlock; the DELETE re-checks the
	 * workspace in case the resource went meanwhile. */
	char workspace_id[37];
	char perm[LIMIT_PERMISSION + 1];
	struct decision d;
	int rc = actor_require_resource(call, req->actor, ref,
	    permission_for(ref->type, "delete", perm), STORE_LOCK_SHARE,
	    workspace_id, &d);
	bool deleted = false;
	if (rc == STATUS_OK)
		rc = store_resource_delete(
		    call, workspace_id, ref->type, ref->id, &deleted);
	if (rc != STATUS_OK)
		return rc;
	if (!deleted)
		return actor_resource_unknown(call, ref);
	struct db_change change = {
	    .kind = "resource",
	    .workspace_id = workspace_id,
	    .action = "resource.deleted",
	    .resource_type = ref->type,
	    .resource_id = ref->id,
	};
	actor_fill_change(req->actor, &d, &change);
	return db_record_change(conn, &change, &resp->revision);
}

int
resources_delete(struct call *call)
{
	return db_call_txn(call, resources_delete_txn);
}

int
resources_list_validate(struct call *call)
{
	const Exe__Access__V1__ListResourcesRequest *req =
	    (const void *)call->request;
	int rc = STATUS_OK;
	if (req->type[0] != '\0' && !perms_resource_type_known(req->type))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "type: must be experiment, dataset, project, or empty for "
		    "every type");
	call->code = rc;
	return rc;
}

int
resources_list(struct call *call)
{
	const Exe__Access__V1__ListResourcesRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__ListResourcesResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListResourcesResponse,
	    exe__access__v1__list_resources_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	const char *type = req->type[0] != '\0' ? req->type : NULL;
	uint32_t size;
	char *after[2];
	size = call->page_size;
	int rc = paging_decode(call, req->page_token, after, 2);
	/* A cursor's type is one of ours, and with a type filter it is that
	 * type: anything else did not come from this listing. */
	if (rc == STATUS_OK && after[0] != NULL &&
	    (!perms_resource_type_known(after[0]) ||
	        (type != NULL && strcmp(type, after[0]) != 0)))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned for this "
		    "type; start again with an empty page_token");
	char perm[LIMIT_PERMISSION + 1];
	struct decision d;
	if (rc == STATUS_OK)
		rc = actor_require(call, req->actor, req->workspace_id,
		    type != NULL ? permission_for(type, "view", perm)
		                 : "workspace.view",
		    STORE_LOCK_NONE, &d);
	if (rc == STATUS_OK)
		rc = store_resources_list(call, req->workspace_id, type, after,
		    size, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
