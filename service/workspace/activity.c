/* The activity log (SPEC R7): calling services report what a principal
 * did (e.g. measurement.add on an experiment), which the principal must be
 * allowed to do there; the record goes through db_record_change like every
 * change the service makes itself. ListActivity pages a workspace's
 * records (also a deleted team's, for its organisation's admins) or an
 * organisation's, newest first. SQL in store/activity.c. */
#include "workspace/activity.h"

#include <string.h>

#include "base/perms.h"
#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "store/activity.h"
#include "store/authz.h"
#include "store/db.h"
#include "store/orgs.h"
#include "workspace/actor.h"

/* Cursors of ListActivity hold a record id: 1 to 18 decimal digits, which
 * always fits a bigint. */
enum { CURSOR_DIGITS_MAX = 18 };

/* validate_target checks that exactly one of workspace_id and resource is
 * given, and its form. */
static int
validate_target(struct call *call,
    const Exe__Access__V1__RecordActivityRequest *req)
{
	bool workspace = req->workspace_id[0] != '\0';
	if (workspace == (req->resource != NULL))
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "workspace_id, resource: give exactly one, the workspace "
		    "or "
		    "the registered resource the activity was on");
	if (workspace)
		return validate_uuid("workspace_id", req->workspace_id, true,
		    call->message, sizeof call->message);
	if (!perms_resource_type_known(req->resource->type))
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "resource.type: must be experiment, dataset or project");
	return validate_text("resource.id", req->resource->id,
	    LIMIT_RESOURCE_ID, true, call->message, sizeof call->message);
}

int
activity_record_validate(struct call *call)
{
	const Exe__Access__V1__RecordActivityRequest *req =
	    (const void *)call->request;
	int rc = validate_target(call, req);
	if (rc == STATUS_OK)
		rc = validate_text("action", req->action, LIMIT_PERMISSION,
		    true, call->message, sizeof call->message);
	if (rc == STATUS_OK && perms_find(req->action) == NULL)
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "action: \"%s\" is not a permission (e.g. measurement.add, "
		    "optimization.run, experiment.edit)", req->action);
	if (rc == STATUS_OK)
		rc = validate_text("detail", req->detail, LIMIT_DETAIL, false,
		    call->message, sizeof call->message);
	call->code = rc;
	return rc;
}

static int
record_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	const Exe__Access__V1__RecordActivityRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__RecordActivityResponse *resp = (void *)call->response;
	const Exe__Access__V1__ResourceRef *ref = req->resource;
	char workspace_id[37];
	snprintf(workspace_id, sizeof workspace_id, "%s", req->workspace_id);
	struct decision d;
	int rc = ref != NULL
	    ? actor_require_resource(call, req->actor, ref, req->action,
	          STORE_LOCK_SHARE, workspace_id, &d)
	    : actor_require(call, req->actor, workspace_id, req->action,
	          STORE_LOCK_SHARE, &d);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "activity",
	    .workspace_id = workspace_id,
	    .action = req->action,
	    .resource_type = ref != NULL ? ref->type : NULL,
	    .resource_id = ref != NULL ? ref->id : NULL,
	    .detail = req->detail,
	};
	actor_fill_change(req->actor, &d, &change);
	rc = db_record_change(conn, &change, &resp->revision);
	if (rc != STATUS_OK)
		return rc;
	return store_activity_get(call, workspace_id, resp->revision,
	    &resp->record);
}

int
activity_record(struct call *call)
{
	return db_call_txn(call, record_txn);
}

static bool
cursor_ok(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > CURSOR_DIGITS_MAX)
		return false;
	return strspn(id, "0123456789") == len;
}

int
activity_list_validate(struct call *call)
{
	const Exe__Access__V1__ListActivityRequest *req =
	    (const void *)call->request;
	bool workspace = req->workspace_id[0] != '\0';
	bool org = req->organization_id[0] != '\0';
	int rc;
	if (workspace == org)
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "workspace_id, organization_id: give exactly one, the "
		    "workspace or the organisation whose records to list");
	else
		rc = validate_uuid(workspace ? "workspace_id" : "organization_id",
		    workspace ? req->workspace_id : req->organization_id, true,
		    call->message, sizeof call->message);
	call->code = rc;
	return rc;
}

/* activity_deleted_workspace lets an admin of its organisation read the
 * records of a deleted team workspace (R7: records outlive it), after
 * actor_require found no workspace; anyone else keeps that NOT_FOUND, so
 * a stranger cannot tell a deleted workspace from one that never was. */
static int
activity_deleted_workspace(struct call *call,
    const Exe__Access__V1__ListActivityRequest *req)
{
	if (req->actor->kind_case != EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID)
		return STATUS_NOT_FOUND;
	char not_found[sizeof call->message];
	snprintf(not_found, sizeof not_found, "%s", call->message);
	bool found, exists, admin = false;
	char org_id[37];
	int rc = store_activity_deleted_org(call, req->workspace_id, &found,
	    org_id);
	if (rc == STATUS_OK && found)
		rc = store_org_admin(call, org_id, req->actor->user_id,
		    STORE_LOCK_NONE, &exists, &admin);
	if (rc != STATUS_OK)
		return rc;
	if (!admin)
		return call_fail(call, STATUS_NOT_FOUND, "%s", not_found);
	call->code = STATUS_OK;
	call->message[0] = '\0';
	return STATUS_OK;
}

int
activity_list(struct call *call)
{
	const Exe__Access__V1__ListActivityRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__ListActivityResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListActivityResponse,
	    exe__access__v1__list_activity_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	uint32_t size = call->page_size;
	char *before[1];
	struct decision d;
	int rc = paging_decode(call, req->page_token, before, 1);
	if (rc == STATUS_OK && before[0] != NULL && !cursor_ok(before[0]))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned; start again "
		    "with an empty page_token");
	bool by_org = req->organization_id[0] != '\0';
	if (rc == STATUS_OK && by_org)
		rc = actor_require_org_admin(call, req->actor,
		    req->organization_id, STORE_LOCK_NONE);
	if (rc == STATUS_OK && !by_org) {
		rc = actor_require(call, req->actor, req->workspace_id,
		    "activity.view", STORE_LOCK_NONE, &d);
		if (rc == STATUS_NOT_FOUND)
			rc = activity_deleted_workspace(call, req);
	}
	if (rc == STATUS_OK)
		rc = store_activity_list(call,
		    by_org ? ACTIVITY_OF_ORGANIZATION : ACTIVITY_OF_WORKSPACE,
		    by_org ? req->organization_id : req->workspace_id, before[0],
		    size, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
