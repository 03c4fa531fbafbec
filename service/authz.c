/* Check: resolve the target workspace, the principal's role there (a
 * membership, or an API key's scope), then read the permission table. */
#include "authz.h"

#include <stdio.h>
#include <string.h>

#include "apikey.h"
#include "db.h"
#include "exe/access/v1/authz.pb-c.h"
#include "perms.h"
#include "status.h"
#include "store_authz.h"
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

struct decision {
	bool allowed;
	enum role role;
	uint64_t revision;
	char workspace_id[37];
	char reason[320];
};

/* granted_by writes which roles hold `perm`, e.g. "admin or member". */
static void
granted_by(const struct permission *perm, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s",
	    perm->admin ? "admin" : "",
	    perm->member ? " or member" : "",
	    perm->read_only ? " or read_only" : "");
}

static int
decide_for_user(struct call *call, const char *user_id,
    const struct permission *perm, struct decision *d)
{
	struct standing st;
	int rc = store_user_standing(call, d->workspace_id, user_id, &st);
	if (rc != STATUS_OK)
		return rc;
	d->revision = st.revision;
	d->role = st.role;
	if (!st.workspace_exists) {
		snprintf(d->reason, sizeof d->reason,
		    "workspace %s does not exist", d->workspace_id);
	} else if (st.role == ROLE_NONE) {
		snprintf(d->reason, sizeof d->reason,
		    st.personal ? "user %s is not the owner of workspace %s; "
		                  "a personal workspace is visible to its owner only"
		                : "user %s is not a member of workspace %s; ask one "
		                  "of its admins for an invitation",
		    user_id, d->workspace_id);
	} else if (!perms_role_has(st.role, perm)) {
		char who[40];
		granted_by(perm, who, sizeof who);
		snprintf(d->reason, sizeof d->reason,
		    "user %s has role %s in workspace %s, which does not grant "
		    "%s (%s does); ask an admin of the workspace",
		    user_id, perms_role_name(st.role), d->workspace_id,
		    perm->name, who);
	} else {
		d->allowed = true;
	}
	return STATUS_OK;
}

static int
decide_for_key(struct call *call, const char *secret,
    const struct permission *perm, struct decision *d)
{
	size_t len = strlen(secret);
	if (!apikey_well_formed(secret, len)) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key is malformed (wrong prefix, length or checksum)");
		return db_current_revision(call->db, &d->revision);
	}
	unsigned char hash[APIKEY_HASH_BYTES];
	char hash_hex[2 * APIKEY_HASH_BYTES + 3];
	apikey_hash(secret, len, call->svc->hash_key, hash);
	db_hex(hash, sizeof hash, hash_hex);
	struct key_standing key;
	int rc = store_key_lookup(call, hash_hex, &key);
	if (rc != STATUS_OK)
		return rc;
	d->revision = key.revision;
	if (!key.found) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key is unknown, revoked, or rotated and past its "
		    "grace period");
		return STATUS_OK;
	}
	if (strcmp(key.workspace_id, d->workspace_id) != 0) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key belongs to workspace %s; a key acts only in "
		    "its own workspace", key.workspace_id);
		return STATUS_OK;
	}
	d->role = key.read_only ? ROLE_READ_ONLY : ROLE_MEMBER;
	if (perm->management) {
		snprintf(d->reason, sizeof d->reason,
		    "API keys never hold %s; a workspace admin must do this",
		    perm->name);
	} else if (!perms_role_has(d->role, perm)) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key is %s, which does not grant %s",
		    key.read_only ? "read-only" : "a member key", perm->name);
	} else {
		d->allowed = true;
	}
	return STATUS_OK;
}

static int
decide(struct call *call, const Exe__Access__V1__CheckRequest *req,
    struct decision *d)
{
	memset(d, 0, sizeof *d);
	const struct permission *perm = perms_find(req->permission);
	if (req->target_case == EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE) {
		bool found;
		int rc = store_resource_workspace(call, req->resource->type,
		    req->resource->id, &found, d->workspace_id);
		if (rc != STATUS_OK)
			return rc;
		if (!found) {
			snprintf(d->reason, sizeof d->reason,
			    "%s \"%s\" is not registered; it is unknown to ExE "
			    "Access", req->resource->type, req->resource->id);
			return db_current_revision(call->db, &d->revision);
		}
	} else {
		snprintf(d->workspace_id, sizeof d->workspace_id, "%s",
		    req->workspace_id);
	}
	if (req->principal->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID)
		return decide_for_user(call, req->principal->user_id, perm, d);
	return decide_for_key(call, req->principal->api_key, perm, d);
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
