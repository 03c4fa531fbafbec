/* Membership changes and their rules; SQL in store/members.c. Each change
 * locks the workspace row first, so concurrent changes to one workspace
 * are serialized and R8's admin count cannot go stale before commit. */
#include "workspace/members.h"

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
#include "store/members.h"
#include "store/orgs.h"
#include "store/users.h"
#include "workspace/actor.h"

/* The fields the three change requests have in common. */
struct change_args {
	const Exe__Access__V1__Principal *actor;
	const char *workspace_id;
	const char *user_id;
	Exe__Access__V1__Role role; /* Add and ChangeRole only */
	bool role_required;
};

static struct change_args
change_args(const struct call *call)
{
	const ProtobufCMessageDescriptor *d = call->request->descriptor;
	if (d == &exe__access__v1__add_member_request__descriptor) {
		const Exe__Access__V1__AddMemberRequest *r =
		    (const void *)call->request;
		return (struct change_args){r->actor, r->workspace_id,
		    r->user_id, r->role, false};
	}
	if (d == &exe__access__v1__change_member_role_request__descriptor) {
		const Exe__Access__V1__ChangeMemberRoleRequest *r =
		    (const void *)call->request;
		return (struct change_args){r->actor, r->workspace_id,
		    r->user_id, r->role, true};
	}
	const Exe__Access__V1__RemoveMemberRequest *r =
	    (const void *)call->request;
	return (struct change_args){r->actor, r->workspace_id, r->user_id,
	    EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED, false};
}

int
members_change_validate(struct call *call)
{
	struct change_args a = change_args(call);
	int rc = validate_uuid("user_id", a.user_id, true, call->message,
	    sizeof call->message);
	if (rc != STATUS_OK)
		return rc;
	bool known = a.role >= EXE__ACCESS__V1__ROLE__ROLE_ADMIN &&
	    a.role <= EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY;
	if ((a.role_required && !known) ||
	    (a.role != EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED && !known))
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "role: must be ROLE_ADMIN, ROLE_MEMBER or ROLE_READ_ONLY");
	return STATUS_OK;
}

/* members_lock locks the workspace and reads the target user's role in
 * it. Whether it is personal is told only to an actor with standing there
 * (members_personal), after authorization. */
static int
members_lock(struct call *call, const struct change_args *a,
    struct standing *st)
{
	int rc = store_user_standing(call, a->workspace_id, a->user_id,
	    STORE_LOCK_UPDATE, st);
	if (rc != STATUS_OK)
		return rc;
	if (!st->workspace_exists)
		return call_fail(call, STATUS_NOT_FOUND,
		    "workspace_id: no workspace %s", a->workspace_id);
	return STATUS_OK;
}

/* members_personal refuses a change to a personal workspace with R2's
 * reason. */
static int
members_personal(struct call *call, const struct change_args *a,
    const char *verb)
{
	return call_fail(call, STATUS_FAILED_PRECONDITION,
	    "workspace %s is a personal workspace: its owner is its only "
	    "member and always has full control, so nobody can %s",
	    a->workspace_id, verb);
}

/* members_require_org_admin: adding members and changing roles is for an
 * admin of the team's organisation (R4). A personal workspace has no
 * organisation: its owner hears R2's rule; anyone else gets the refusal a
 * stranger to a team gets, which names no organisation, so that it does
 * not tell them the workspace's kind. */
static int
members_require_org_admin(struct call *call, const struct change_args *a,
    const struct standing *st, const char *verb)
{
	int rc = actor_require_user(call, a->actor, "administer an organisation");
	if (rc != STATUS_OK)
		return rc;
	bool exists, admin = false;
	if (st->personal) {
		struct standing own;
		rc = store_user_standing(call, a->workspace_id,
		    a->actor->user_id, STORE_LOCK_NONE, &own);
		if (rc != STATUS_OK)
			return rc;
		if (own.role != ROLE_NONE)
			return members_personal(call, a, verb);
	} else {
		rc = store_org_admin(call, st->organization_id,
		    a->actor->user_id, STORE_LOCK_SHARE, &exists, &admin);
		if (rc != STATUS_OK)
			return rc;
	}
	if (!admin)
		return call_fail(call, STATUS_PERMISSION_DENIED,
		    "user %s is not an admin of the organisation of workspace "
		    "%s; ask one of its admins", a->actor->user_id,
		    a->workspace_id);
	return STATUS_OK;
}

/* keep_an_admin refuses (R8) to take away the workspace's last admin. */
static int
keep_an_admin(struct call *call, const struct change_args *a,
    const struct standing *st)
{
	if (st->role != ROLE_ADMIN)
		return STATUS_OK;
	long admins;
	int rc = store_admin_count(call, a->workspace_id, &admins);
	if (rc != STATUS_OK)
		return rc;
	if (admins <= 1)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "user %s is the last admin of workspace %s; a team keeps "
		    "at least one admin: make another member admin first",
		    a->user_id, a->workspace_id);
	return STATUS_OK;
}

static int
members_record(struct call *call, const struct change_args *a,
    const struct decision *d, const char *action, const char *detail,
    uint64_t *revision)
{
	struct db_change change = {
	    .kind = "membership",
	    .workspace_id = a->workspace_id,
	    .user_id = a->user_id,
	    .action = action,
	    .detail = detail,
	};
	actor_fill_change(a->actor, d, &change);
	return db_record_change(call->db, &change, revision);
}

static int
add_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	struct change_args a = change_args(call);
	Exe__Access__V1__MemberResponse *resp = (void *)call->response;
	enum role role = a.role == EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED
	    ? ROLE_MEMBER
	    : (enum role)a.role;
	struct standing st;
	int rc = members_lock(call, &a, &st);
	if (rc == STATUS_OK)
		rc = members_require_org_admin(call, &a, &st, "be added to it");
	if (rc == STATUS_OK)
		rc = store_user_require(call, "user_id", a.user_id);
	if (rc == STATUS_OK && st.role != ROLE_NONE)
		rc = call_fail(call, STATUS_ALREADY_EXISTS,
		    "user %s is already a member of workspace %s with role %s; "
		    "use ChangeMemberRole to change it", a.user_id,
		    a.workspace_id, perms_role_name(st.role));
	if (rc == STATUS_OK)
		rc = store_member_put(call, a.workspace_id, a.user_id, role, false,
		    &resp->member);
	if (rc != STATUS_OK)
		return rc;
	return members_record(call, &a, NULL, "member.added", perms_role_name(role),
	    &resp->revision);
}

int
members_add(struct call *call)
{
	return db_call_txn(call, add_txn);
}

static int
change_role_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	struct change_args a = change_args(call);
	Exe__Access__V1__MemberResponse *resp = (void *)call->response;
	enum role role = (enum role)a.role;
	struct standing st;
	int rc = members_lock(call, &a, &st);
	if (rc == STATUS_OK)
		rc = members_require_org_admin(call, &a, &st,
		    "change its owner's role");
	if (rc == STATUS_OK && strcasecmp(a.actor->user_id, a.user_id) == 0)
		rc = call_fail(call, STATUS_PERMISSION_DENIED,
		    "user %s cannot change their own role; ask another admin "
		    "of the organisation", a.user_id);
	if (rc == STATUS_OK && st.role == ROLE_NONE)
		rc = call_fail(call, STATUS_NOT_FOUND,
		    "user %s is not a member of workspace %s", a.user_id,
		    a.workspace_id);
	if (rc == STATUS_OK && st.role == role) {
		/* Already so: nothing changes, nothing is recorded, and the
		 * answer is the membership as it is, at the current
		 * revision. */
		rc = store_member_get(call, a.workspace_id, a.user_id,
		    &resp->member);
		if (rc == STATUS_OK)
			rc = db_current_revision(conn, &resp->revision);
		return rc;
	}
	if (rc == STATUS_OK && role != ROLE_ADMIN)
		rc = keep_an_admin(call, &a, &st);
	if (rc == STATUS_OK)
		rc = store_member_put(call, a.workspace_id, a.user_id, role, true,
		    &resp->member);
	if (rc != STATUS_OK)
		return rc;
	char detail[40];
	snprintf(detail, sizeof detail, "%s -> %s", perms_role_name(st.role),
	    perms_role_name(role));
	return members_record(call, &a, NULL, "member.role_changed", detail,
	    &resp->revision);
}

int
members_change_role(struct call *call)
{
	return db_call_txn(call, change_role_txn);
}

/* may_remove: a team admin (members.remove) or an admin of the
 * workspace's organisation. A personal workspace's owner holds
 * members.remove (and hears R2's rule next); anyone else is refused as a
 * stranger to a team is. */
static int
may_remove(struct call *call, const struct change_args *a,
    const struct standing *st, struct decision *d)
{
	/* The workspace row is already locked by lock_team. */
	int rc = actor_require(call, a->actor, a->workspace_id,
	    "members.remove", STORE_LOCK_NONE, d);
	if (rc != STATUS_PERMISSION_DENIED ||
	    a->actor->kind_case != EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID)
		return rc;
	bool exists, org_admin = false;
	if (!st->personal) {
		rc = store_org_admin(call, st->organization_id,
		    a->actor->user_id, STORE_LOCK_SHARE, &exists, &org_admin);
		if (rc != STATUS_OK)
			return rc;
	}
	if (org_admin) {
		call->code = STATUS_OK;
		call->message[0] = '\0';
		return STATUS_OK;
	}
	return call_fail(call, STATUS_PERMISSION_DENIED,
	    "%s; an admin of its organisation may also remove members",
	    d->reason);
}

static int
remove_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	struct change_args a = change_args(call);
	Exe__Access__V1__WriteResponse *resp = (void *)call->response;
	struct standing st;
	struct decision d;
	int rc = members_lock(call, &a, &st);
	if (rc == STATUS_OK)
		rc = may_remove(call, &a, &st, &d);
	if (rc == STATUS_OK && st.personal)
		rc = members_personal(call, &a, "remove its owner");
	if (rc == STATUS_OK && st.role == ROLE_NONE)
		rc = call_fail(call, STATUS_NOT_FOUND,
		    "user %s is not a member of workspace %s", a.user_id,
		    a.workspace_id);
	if (rc == STATUS_OK)
		rc = keep_an_admin(call, &a, &st);
	if (rc == STATUS_OK)
		rc = store_member_remove(call, a.workspace_id, a.user_id);
	/* Leaving the team takes every grant on its resources with it. */
	long grants = 0;
	if (rc == STATUS_OK && st.has_grants)
		rc = store_grants_remove_user(call, a.workspace_id, a.user_id,
		    &grants);
	if (rc != STATUS_OK)
		return rc;
	char detail[64];
	if (grants > 0)
		snprintf(detail, sizeof detail, "%s, and %ld grant%s",
		    perms_role_name(st.role), grants, grants == 1 ? "" : "s");
	else
		snprintf(detail, sizeof detail, "%s", perms_role_name(st.role));
	return members_record(call, &a, &d, "member.removed", detail,
	    &resp->revision);
}

int
members_remove(struct call *call)
{
	return db_call_txn(call, remove_txn);
}

int
members_list(struct call *call)
{
	const Exe__Access__V1__ListMembersRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__ListMembersResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListMembersResponse,
	    exe__access__v1__list_members_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	uint32_t size;
	char *after[2];
	char ignored[8];
	struct decision d;
	size = call->page_size;
	int rc = paging_decode(call, req->page_token, after, 2);
	if (rc == STATUS_OK && after[1] != NULL &&
	    validate_uuid("", after[1], true, ignored, sizeof ignored) !=
	        STATUS_OK)
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned");
	if (rc == STATUS_OK)
		rc = actor_require(call, req->actor, req->workspace_id,
		    "members.view", STORE_LOCK_NONE, &d);
	if (rc == STATUS_OK)
		rc = store_members_list(call, req->workspace_id, after, size, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
