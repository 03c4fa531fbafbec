/* Organisations: who may create (the service's --org-creators policy) and
 * administer them; SQL in store/orgs.c. */
#include "workspace/orgs.h"

#include <strings.h>

#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/validate.h"
#include "store/db.h"
#include "store/orgs.h"
#include "store/users.h"
#include "workspace/actor.h"

int
orgs_create_validate(struct call *call)
{
	const Exe__Access__V1__CreateOrganizationRequest *req =
	    (const Exe__Access__V1__CreateOrganizationRequest *)call->request;
	int rc = validate_text("name", req->name, LIMIT_NAME, true,
	    call->message, sizeof call->message);
	if (rc == STATUS_OK)
		rc = validate_uuid("first_admin_user_id", req->first_admin_user_id,
		    false, call->message, sizeof call->message);
	call->code = rc;
	return rc;
}

static int
orgs_create_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	const Exe__Access__V1__CreateOrganizationRequest *req =
	    (const Exe__Access__V1__CreateOrganizationRequest *)call->request;
	Exe__Access__V1__CreateOrganizationResponse *resp =
	    (Exe__Access__V1__CreateOrganizationResponse *)call->response;
	const char *first = req->first_admin_user_id[0] != '\0'
	    ? req->first_admin_user_id
	    : req->actor->user_id;
	int rc = store_user_require(call, "actor.user_id", req->actor->user_id);
	if (rc == STATUS_OK)
		rc = store_user_require(call, "first_admin_user_id", first);
	if (rc == STATUS_OK)
		rc = store_org_create(call, req->name, first, &resp->organization);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "organization",
	    .organization_id = resp->organization->id,
	    .user_id = first,
	    .action = "organization.created",
	    .detail = req->name,
	};
	actor_fill_change(req->actor, NULL, &change);
	return db_record_change(conn, &change, &resp->revision);
}

/* orgs_may_create applies the service's policy (--org-creators): any
 * user, or only the users it lists. */
static int
orgs_may_create(struct call *call, const char *user_id)
{
	const struct service_ctx *svc = call->svc;
	if (!svc->org_creators_listed)
		return STATUS_OK;
	for (size_t i = 0; i < svc->n_org_creators; i++) {
		if (strcasecmp(svc->org_creators[i], user_id) == 0)
			return STATUS_OK;
	}
	return call_fail(call, STATUS_PERMISSION_DENIED,
	    "user %s may not create organisations: this service lets only "
	    "the users its operators list (--org-creators) create them",
	    user_id);
}

int
orgs_create(struct call *call)
{
	const Exe__Access__V1__CreateOrganizationRequest *req =
	    (const Exe__Access__V1__CreateOrganizationRequest *)call->request;
	int rc = actor_require_user(call, req->actor, "create an organisation");
	if (rc == STATUS_OK)
		rc = orgs_may_create(call, req->actor->user_id);
	if (rc != STATUS_OK)
		return rc;
	return db_call_txn(call, orgs_create_txn);
}

/* Add and Remove carry the same three fields. */
struct admin_args {
	bool add;
	const Exe__Access__V1__Principal *actor;
	const char *organization_id;
	const char *user_id;
};

static struct admin_args
admin_args(const struct call *call)
{
	if (call->request->descriptor ==
	    &exe__access__v1__add_organization_admin_request__descriptor) {
		const Exe__Access__V1__AddOrganizationAdminRequest *r =
		    (const void *)call->request;
		return (struct admin_args){true, r->actor, r->organization_id,
		    r->user_id};
	}
	const Exe__Access__V1__RemoveOrganizationAdminRequest *r =
	    (const void *)call->request;
	return (struct admin_args){false, r->actor, r->organization_id,
	    r->user_id};
}

int
orgs_admin_validate(struct call *call)
{
	struct admin_args a = admin_args(call);
	int rc = validate_uuid("organization_id", a.organization_id, true,
	    call->message, sizeof call->message);
	if (rc == STATUS_OK)
		rc = validate_uuid("user_id", a.user_id, true, call->message,
		    sizeof call->message);
	call->code = rc;
	return rc;
}

struct admin_txn {
	struct call *call;
	struct admin_args a;
	Exe__Access__V1__WriteResponse *resp;
};

static int
admin_txn(PGconn *conn, void *arg)
{
	struct admin_txn *t = arg;
	struct call *call = t->call;
	const struct admin_args *a = &t->a;
	/* The organisation row stays locked to commit: two admins removing
	 * each other at once are serialized, and the second finds itself
	 * the last admin. */
	int rc = actor_require_org_admin(call, a->actor, a->organization_id,
	    STORE_LOCK_UPDATE);
	if (rc == STATUS_OK && a->add)
		rc = store_user_require(call, "user_id", a->user_id);
	if (rc == STATUS_OK)
		rc = a->add
		    ? store_org_admin_add(call, a->organization_id, a->user_id)
		    : store_org_admin_remove(call, a->organization_id, a->user_id);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "organization",
	    .organization_id = a->organization_id,
	    .user_id = a->user_id,
	    .action = a->add ? "organization.admin_added"
	                     : "organization.admin_removed",
	};
	actor_fill_change(a->actor, NULL, &change);
	return db_record_change(conn, &change, &t->resp->revision);
}

int
orgs_admin_change(struct call *call)
{
	struct admin_txn t = {call, admin_args(call),
	    CALL_MSG(call, Exe__Access__V1__WriteResponse,
	        exe__access__v1__write_response__init)};
	if (t.resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	int rc = db_call_txn_with(call, admin_txn, &t);
	if (rc == STATUS_OK)
		call->response = &t.resp->base;
	return rc;
}

