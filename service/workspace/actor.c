/* Authorizing the actor of an administrative call. */
#include "workspace/actor.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authz/standing.h"
#include "base/clock.h"
#include "base/perms.h"
#include "base/secrets.h"
#include "base/status.h"
#include "rpc/validate.h"
#include "store/authz.h"
#include "store/orgs.h"

/* Locking the workspace row needs a user id; its role is not wanted. */
static const char actor_nobody[] = "00000000-0000-0000-0000-000000000000";

/* actor_standing gathers what is known of the actor in `workspace_id`
 * inside the call's transaction, locking the workspace row with `lock`,
 * and decides; on the resource `ref` of that workspace (NULL: the
 * workspace itself) a user's grant on it counts too. Never from the
 * cache, never stored in it. */
static int
actor_standing(struct call *call, const Exe__Access__V1__Principal *p,
    const char *workspace_id, const Exe__Access__V1__ResourceRef *ref,
    const struct permission *perm, enum store_lock lock, struct decision *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->workspace_id, sizeof d->workspace_id, "%s", workspace_id);
	int rc;
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID) {
		rc = store_user_standing(call, workspace_id, p->user_id, lock,
		    &d->standing);
		if (rc != STATUS_OK)
			return rc;
		d->revision = d->standing.revision;
		if (ref == NULL) {
			decide_user(p->user_id, workspace_id, &d->standing, perm,
			    d);
			return STATUS_OK;
		}
		/* Read after the workspace row was locked: a grant change
		 * takes that row first, so the grant holds until commit. */
		enum role grant = ROLE_NONE;
		if (d->standing.has_grants && !d->standing.personal &&
		    d->standing.role != ROLE_ADMIN && !perms_of_workspace(perm)) {
			uint64_t revision;
			rc = store_grant_role(call, p->user_id, ref->type, ref->id,
			    &grant, &revision);
			if (rc != STATUS_OK)
				return rc;
		}
		struct decide_resource r = {ref->type, ref->id};
		decide_user_resource(p->user_id, workspace_id, &d->standing, grant,
		    &r, perm, d);
		return STATUS_OK;
	}
	size_t len = strlen(p->api_key);
	if (!secret_well_formed(SECRET_API_KEY, p->api_key, len)) {
		decide_key_malformed(d);
		return db_current_revision(call->db, &d->revision);
	}
	rc = standing_key_read(call, p->api_key, len, &d->key);
	if (rc != STATUS_OK)
		return rc;
	d->revision = d->key.revision;
	if (d->key.found && strcasecmp(d->key.workspace_id, workspace_id) == 0) {
		/* Lock the workspace as a user actor would. */
		rc = store_user_standing(call, workspace_id, actor_nobody, lock,
		    &d->standing);
		if (rc != STATUS_OK)
			return rc;
	} else {
		d->standing.workspace_exists = true;
		d->standing.personal = d->key.workspace_personal;
	}
	decide_key(&d->key, workspace_id, perm, clock_wall_ms(), d);
	return STATUS_OK;
}

/* actor_require_on is actor_require on the workspace, or on its resource
 * `ref` (not NULL). */
static int
actor_require_on(struct call *call, const Exe__Access__V1__Principal *p,
    const char *workspace_id, const Exe__Access__V1__ResourceRef *ref,
    const char *permission, enum store_lock lock, struct decision *d)
{
	const struct permission *perm = perms_find(permission);
	if (perm == NULL)
		return call_fail(call, STATUS_INTERNAL,
		    "no permission named %s", permission);
	int rc = actor_standing(call, p, workspace_id, ref, perm, lock, d);
	if (rc != STATUS_OK)
		return rc;
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID &&
	    !d->standing.workspace_exists)
		return call_fail(call, STATUS_NOT_FOUND,
		    "workspace_id: no workspace %s", workspace_id);
	if (!d->allowed)
		return call_fail(call, STATUS_PERMISSION_DENIED, "%s", d->reason);
	return STATUS_OK;
}

int
actor_require(struct call *call, const Exe__Access__V1__Principal *p,
    const char *workspace_id, const char *permission, enum store_lock lock,
    struct decision *d)
{
	return actor_require_on(call, p, workspace_id, NULL, permission, lock,
	    d);
}

int
actor_resource_unknown(struct call *call,
    const Exe__Access__V1__ResourceRef *ref)
{
	return call_fail(call, STATUS_NOT_FOUND,
	    "resource: %s \"%s\" is not registered, or not in a workspace "
	    "the actor belongs to", ref->type, ref->id);
}

int
actor_require_resource(struct call *call, const Exe__Access__V1__Principal *p,
    const Exe__Access__V1__ResourceRef *ref, const char *permission,
    enum store_lock lock, char *workspace_id, struct decision *d)
{
	bool found;
	uint64_t revision;
	int rc = store_resource_workspace(call, ref->type, ref->id, &found,
	    workspace_id, &revision);
	if (rc != STATUS_OK)
		return rc;
	if (!found)
		return actor_resource_unknown(call, ref);
	rc = actor_require_on(call, p, workspace_id, ref, permission, lock, d);
	if (rc != STATUS_PERMISSION_DENIED && rc != STATUS_NOT_FOUND)
		return rc;
	/* NOT_FOUND: the workspace went (and its resources with it) since
	 * the resource was read. */
	bool stranger = rc == STATUS_NOT_FOUND ||
	    (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID
	            ? d->standing.role == ROLE_NONE && d->grant == ROLE_NONE
	            : d->key.found &&
	                strcasecmp(d->key.workspace_id, workspace_id) != 0);
	if (stranger)
		return actor_resource_unknown(call, ref);
	return rc;
}

int
actor_or_service(struct call *call, const Exe__Access__V1__Principal *p,
    const char *what)
{
	if (p != NULL) {
		int rc = validate_actor(p, call->message, sizeof call->message);
		if (rc != STATUS_OK)
			return call->code = rc;
		return actor_require_user(call, p, what);
	}
	/* No tokens: a tool or test that runs the pipeline unauthenticated. */
	if (call->svc->tokens == NULL ||
	    call->caller.scope == TOKEN_SCOPE_ADMIN)
		return STATUS_OK;
	return call_fail(call, STATUS_PERMISSION_DENIED,
	    "actor: missing; token \"%s\" has scope %s, which may %s only "
	    "for an actor: give the acting user as actor, or call with an "
	    "admin token to %s as the service", call->caller.name,
	    tokens_scope_name(call->caller.scope), what, what);
}

int
actor_require_user(struct call *call, const Exe__Access__V1__Principal *p,
    const char *what)
{
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID)
		return STATUS_OK;
	return call_fail(call, STATUS_PERMISSION_DENIED,
	    "an API key cannot %s; a user must do this", what);
}

int
actor_require_org_admin(struct call *call, const Exe__Access__V1__Principal *p,
    const char *org_id, enum store_lock lock)
{
	int rc = actor_require_user(call, p, "administer an organisation");
	if (rc != STATUS_OK)
		return rc;
	bool exists, admin;
	rc = store_org_admin(call, org_id, p->user_id, lock, &exists, &admin);
	if (rc != STATUS_OK)
		return rc;
	if (!exists)
		return call_fail(call, STATUS_NOT_FOUND,
		    "organization_id: no organisation %s", org_id);
	if (!admin)
		return call_fail(call, STATUS_PERMISSION_DENIED,
		    "user %s is not an admin of organisation %s; ask one of "
		    "its admins", p->user_id, org_id);
	return STATUS_OK;
}

void
actor_fill_change(const Exe__Access__V1__Principal *p,
    const struct decision *d, struct db_change *change)
{
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID) {
		change->actor_user_id = p->user_id;
		change->actor_key_id = NULL;
	} else {
		change->actor_user_id = NULL;
		change->actor_key_id = d != NULL ? d->key.key_id : NULL;
	}
}
