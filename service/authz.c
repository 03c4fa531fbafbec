/* Check: resolve the target workspace, the principal's role there (a
 * membership, or an API key's scope), then read the permission table. */
#include "authz.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "decide.h"
#include "exe/access/v1/authz.pb-c.h"
#include "perms.h"
#include "status.h"
#include "validate.h"

/* Resource types registered in a workspace, and their view permissions. */
static bool
resource_type_known(const char *type)
{
	return strcmp(type, "experiment") == 0 || strcmp(type, "dataset") == 0 ||
	    strcmp(type, "project") == 0;
}

static int
validate_principal(const Exe__Access__V1__Principal *p, char *msg, size_t size)
{
	if (p == NULL || p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND__NOT_SET) {
		snprintf(msg, size, "principal: give a user_id or an api_key");
		return STATUS_INVALID_ARGUMENT;
	}
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID)
		return validate_uuid("principal.user_id", p->user_id, true, msg,
		    size);
	return validate_text("principal.api_key", p->api_key, LIMIT_API_KEY,
	    true, msg, size);
}

/* check_request_validate checks one CheckRequest (also a BatchCheck item). */
static int
check_request_validate(const Exe__Access__V1__CheckRequest *req, char *msg,
    size_t size)
{
	int rc = validate_principal(req->principal, msg, size);
	if (rc != STATUS_OK)
		return rc;
	rc = validate_text("permission", req->permission, LIMIT_PERMISSION, true,
	    msg, size);
	if (rc != STATUS_OK)
		return rc;
	if (perms_find(req->permission) == NULL) {
		snprintf(msg, size,
		    "permission: \"%s\" is not a permission (e.g. "
		    "experiment.create, members.invite)", req->permission);
		return STATUS_INVALID_ARGUMENT;
	}
	switch (req->target_case) {
	case EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID:
		return validate_uuid("workspace_id", req->workspace_id, true, msg,
		    size);
	case EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE:
		if (!resource_type_known(req->resource->type)) {
			snprintf(msg, size,
			    "resource.type: must be experiment, dataset or "
			    "project");
			return STATUS_INVALID_ARGUMENT;
		}
		return validate_text("resource.id", req->resource->id,
		    LIMIT_RESOURCE_ID, true, msg, size);
	default:
		snprintf(msg, size, "target: give a workspace_id or a resource");
		return STATUS_INVALID_ARGUMENT;
	}
}

int
authz_check_validate(struct call *call)
{
	call->code = check_request_validate(
	    (const Exe__Access__V1__CheckRequest *)call->request, call->message,
	    sizeof call->message);
	return call->code;
}

/* decide resolves the target workspace (a resource's, if the target is
 * a resource) and decides there. */
static int
decide(struct call *call, const Exe__Access__V1__CheckRequest *req,
    struct decision *d)
{
	const struct permission *perm = perms_find(req->permission);
	char workspace_id[37];
	if (req->target_case == EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE) {
		bool found;
		int rc = store_resource_workspace(call, req->resource->type,
		    req->resource->id, &found, workspace_id);
		if (rc != STATUS_OK)
			return rc;
		if (!found) {
			memset(d, 0, sizeof *d);
			snprintf(d->reason, sizeof d->reason,
			    "%s \"%s\" is not registered; it is unknown to ExE "
			    "Access", req->resource->type, req->resource->id);
			return db_current_revision(call->db, &d->revision);
		}
	} else {
		snprintf(workspace_id, sizeof workspace_id, "%s",
		    req->workspace_id);
	}
	if (req->principal->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID)
		return decide_user(call, req->principal->user_id, workspace_id,
		    perm, STORE_LOCK_NONE, d);
	return decide_key(call, req->principal->api_key, workspace_id, perm,
	    STORE_LOCK_NONE, d);
}

int
authz_check(struct call *call)
{
	const Exe__Access__V1__CheckRequest *req =
	    (const Exe__Access__V1__CheckRequest *)call->request;
	struct decision d;
	int rc = decide(call, req, &d);
	if (rc != STATUS_OK)
		return rc;
	if (req->at_least_as_fresh > d.revision)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "at_least_as_fresh: revision %llu has not been written "
		    "(the latest is %llu)",
		    (unsigned long long)req->at_least_as_fresh,
		    (unsigned long long)d.revision);
	Exe__Access__V1__CheckResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__CheckResponse, exe__access__v1__check_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	resp->allowed = d.allowed;
	resp->role = (Exe__Access__V1__Role)d.role;
	resp->reason = call_strdup(call, d.reason);
	resp->revision = d.revision;
	resp->workspace_id = call_strdup(call, d.workspace_id);
	call->response = &resp->base;
	return STATUS_OK;
}
