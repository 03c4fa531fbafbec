/* Organisations' SQL. */
#include "store/orgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "store/db.h"

int
store_org_admin(struct call *call, const char *org_id, const char *user_id,
    enum store_lock lock, bool *exists, bool *admin)
{
	static const char *const sql[] = {
	    [STORE_LOCK_NONE] =
	        "SELECT EXISTS (SELECT 1 FROM organization_admins"
	        "               WHERE organization_id = o.id AND user_id = $2)"
	        " FROM organizations o WHERE o.id = $1",
	    [STORE_LOCK_SHARE] =
	        "SELECT EXISTS (SELECT 1 FROM organization_admins"
	        "               WHERE organization_id = o.id AND user_id = $2)"
	        " FROM organizations o WHERE o.id = $1 FOR SHARE",
	    [STORE_LOCK_UPDATE] =
	        "SELECT EXISTS (SELECT 1 FROM organization_admins"
	        "               WHERE organization_id = o.id AND user_id = $2)"
	        " FROM organizations o WHERE o.id = $1 FOR UPDATE",
	};
	const char *params[] = {org_id, user_id};
	PGresult *res;
	int rc = db_exec(call->db, sql[lock], 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*exists = PQntuples(res) == 1;
	*admin = *exists && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return STATUS_OK;
}

int
store_org_create(struct call *call, const char *name, const char *first_admin,
    Exe__Access__V1__Organization **out)
{
	static const char sql[] =
	    "WITH o AS (INSERT INTO organizations (name) VALUES ($1)"
	    "           RETURNING id, name, created_at),"
	    " a AS (INSERT INTO organization_admins (organization_id, user_id)"
	    "       SELECT id, $2 FROM o)"
	    " SELECT id, name, unix_ms(created_at) FROM o";
	const char *params[] = {name, first_admin};
	PGresult *res;
	int rc = db_exec(call->db, sql, 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	Exe__Access__V1__Organization *org = CALL_MSG(call,
	    Exe__Access__V1__Organization, exe__access__v1__organization__init);
	char **admins = call_new(call, sizeof *admins);
	if (org == NULL || admins == NULL) {
		PQclear(res);
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	org->id = call_strdup(call, PQgetvalue(res, 0, 0));
	org->name = call_strdup(call, PQgetvalue(res, 0, 1));
	org->created_unix_ms = db_time_ms(res, 0, 2);
	admins[0] = call_strdup(call, first_admin);
	org->admin_user_ids = admins;
	org->n_admin_user_ids = 1;
	PQclear(res);
	*out = org;
	return STATUS_OK;
}

int
store_org_admin_add(struct call *call, const char *org_id, const char *user_id)
{
	const char *params[] = {org_id, user_id};
	int rc = db_exec(call->db,
	    "INSERT INTO organization_admins (organization_id, user_id)"
	    " VALUES ($1, $2)", 2, params, NULL, NULL);
	if (rc == STATUS_ALREADY_EXISTS)
		return call_fail(call, rc,
		    "user %s is already an admin of organisation %s", user_id,
		    org_id);
	return rc;
}

int
store_org_admin_remove(struct call *call, const char *org_id,
    const char *user_id)
{
	const char *params[] = {org_id, user_id};
	PGresult *res;
	int rc = db_exec(call->db,
	    "SELECT count(*), bool_or(user_id = $2) FROM organization_admins"
	    " WHERE organization_id = $1", 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	long admins = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	bool is_admin = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	if (!is_admin)
		return call_fail(call, STATUS_NOT_FOUND,
		    "user %s is not an admin of organisation %s", user_id,
		    org_id);
	if (admins <= 1)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "user %s is the last admin of organisation %s; an "
		    "organisation keeps at least one admin: add another first",
		    user_id, org_id);
	return db_exec(call->db,
	    "DELETE FROM organization_admins"
	    " WHERE organization_id = $1 AND user_id = $2", 2, params, NULL,
	    NULL);
}
