/* Memberships' SQL. */
#include "store/members.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/status.h"
#include "rpc/paging.h"
#include "store/db.h"

static int
fill_member(struct call *call, const PGresult *res, int row,
    Exe__Access__V1__Member **out)
{
	Exe__Access__V1__Member *m = CALL_MSG(call, Exe__Access__V1__Member,
	    exe__access__v1__member__init);
	if (m == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	m->workspace_id = call_strdup(call, PQgetvalue(res, row, 0));
	m->user_id = call_strdup(call, PQgetvalue(res, row, 1));
	m->username = call_strdup(call, PQgetvalue(res, row, 2));
	enum role role = ROLE_NONE;
	(void)perms_role_parse(PQgetvalue(res, row, 3), &role);
	m->role = (Exe__Access__V1__Role)role;
	m->joined_unix_ms = db_time_ms(res, row, 4);
	*out = m;
	return STATUS_OK;
}

int
store_member_put(struct call *call, const char *workspace_id,
    const char *user_id, enum role role, bool update,
    Exe__Access__V1__Member **out)
{
	static const char insert_sql[] =
	    "WITH m AS (INSERT INTO memberships (workspace_id, user_id, role)"
	    "           VALUES ($1, $2, $3) RETURNING *)"
	    " SELECT m.workspace_id, m.user_id, u.username, m.role,"
	    "        unix_ms(m.created_at)"
	    " FROM m JOIN users u ON u.id = m.user_id";
	static const char update_sql[] =
	    "WITH m AS (UPDATE memberships SET role = $3"
	    "           WHERE workspace_id = $1 AND user_id = $2 RETURNING *)"
	    " SELECT m.workspace_id, m.user_id, u.username, m.role,"
	    "        unix_ms(m.created_at)"
	    " FROM m JOIN users u ON u.id = m.user_id";
	const char *params[] = {workspace_id, user_id, perms_role_name(role)};
	PGresult *res;
	int rc = db_exec(call->db, update ? update_sql : insert_sql, 3, params,
	    &res, NULL);
	if (rc == STATUS_ALREADY_EXISTS)
		return call_fail(call, rc,
		    "user %s is already a member of workspace %s", user_id,
		    workspace_id);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND,
		    "user %s is not a member of workspace %s", user_id,
		    workspace_id);
	}
	rc = fill_member(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_member_get(struct call *call, const char *workspace_id,
    const char *user_id, Exe__Access__V1__Member **out)
{
	static const char sql[] =
	    "SELECT m.workspace_id, m.user_id, u.username, m.role,"
	    "       unix_ms(m.created_at)"
	    " FROM memberships m JOIN users u ON u.id = m.user_id"
	    " WHERE m.workspace_id = $1 AND m.user_id = $2";
	const char *params[] = {workspace_id, user_id};
	PGresult *res;
	int rc = db_exec(call->db, sql, 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND,
		    "user %s is not a member of workspace %s", user_id,
		    workspace_id);
	}
	rc = fill_member(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_member_remove(struct call *call, const char *workspace_id,
    const char *user_id)
{
	const char *params[] = {workspace_id, user_id};
	return db_exec(call->db,
	    "DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2",
	    2, params, NULL, NULL);
}

int
store_admin_count(struct call *call, const char *workspace_id, long *out)
{
	PGresult *res;
	int rc = db_exec(call->db,
	    "SELECT count(*) FROM memberships"
	    " WHERE workspace_id = $1 AND role = 'admin'", 1, &workspace_id,
	    &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*out = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return STATUS_OK;
}

int
store_members_list(struct call *call, const char *workspace_id,
    char *const *after, uint32_t limit, Exe__Access__V1__ListMembersResponse *resp)
{
	static const char sql[] =
	    "SELECT m.workspace_id, m.user_id, u.username, m.role,"
	    "       unix_ms(m.created_at), lower(u.username)"
	    " FROM memberships m JOIN users u ON u.id = m.user_id"
	    " WHERE m.workspace_id = $1"
	    "   AND ($2::text IS NULL OR (lower(u.username), m.user_id)"
	    "        > ($2::text, $3::uuid))"
	    " ORDER BY lower(u.username), m.user_id"
	    " LIMIT $4";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {workspace_id, after[0], after[1], limit_text};
	PGresult *res;
	int rc = db_exec(call->db, sql, 4, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	int rows = PQntuples(res);
	int shown = rows > (int)limit ? (int)limit : rows;
	resp->members = call_new(call, sizeof *resp->members * (size_t)(shown + 1));
	if (resp->members == NULL)
		rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; rc == STATUS_OK && i < shown; i++) {
		rc = fill_member(call, res, i, &resp->members[i]);
		resp->n_members = (size_t)i + 1;
	}
	if (rc == STATUS_OK && rows > (int)limit) {
		const char *key[] = {PQgetvalue(res, shown - 1, 5),
		    PQgetvalue(res, shown - 1, 1)};
		resp->next_page_token = paging_encode(call, key, 2);
		if (resp->next_page_token == NULL)
			rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	PQclear(res);
	return rc;
}
