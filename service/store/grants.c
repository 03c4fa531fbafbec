/* Grants' SQL. */
#include "store/grants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "rpc/paging.h"
#include "store/db.h"

/* The columns fill_grant reads, from grants g joined with users u and
 * resources r. */
#define GRANT_COLUMNS                                                         \
	"g.resource_type, g.resource_id, g.workspace_id, g.user_id,"          \
	" u.username, g.role, coalesce(g.granted_by_user::text, ''),"         \
	" unix_ms(g.created_at), r.name"
enum { GRANT_NCOLUMNS = 9 };

static int
fill_grant(struct call *call, const PGresult *res, int row,
    Exe__Access__V1__ResourceGrant **out)
{
	Exe__Access__V1__ResourceGrant *g = CALL_MSG(call,
	    Exe__Access__V1__ResourceGrant,
	    exe__access__v1__resource_grant__init);
	Exe__Access__V1__ResourceRef *ref = CALL_MSG(call,
	    Exe__Access__V1__ResourceRef, exe__access__v1__resource_ref__init);
	if (g == NULL || ref == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	ref->type = call_strdup(call, PQgetvalue(res, row, 0));
	ref->id = call_strdup(call, PQgetvalue(res, row, 1));
	g->resource = ref;
	g->workspace_id = call_strdup(call, PQgetvalue(res, row, 2));
	g->user_id = call_strdup(call, PQgetvalue(res, row, 3));
	g->username = call_strdup(call, PQgetvalue(res, row, 4));
	enum role role = ROLE_NONE;
	(void)perms_role_parse(PQgetvalue(res, row, 5), &role);
	g->role = (Exe__Access__V1__Role)role;
	g->granted_by_user_id = call_strdup(call, PQgetvalue(res, row, 6));
	g->created_unix_ms = db_time_ms(res, row, 7);
	g->resource_name = call_strdup(call, PQgetvalue(res, row, 8));
	*out = g;
	return STATUS_OK;
}

static enum role
role_of(const PGresult *res, int row, int col)
{
	enum role role = ROLE_NONE;
	if (!PQgetisnull(res, row, col))
		(void)perms_role_parse(PQgetvalue(res, row, col), &role);
	return role;
}

int
store_grant_put(struct call *call, const struct new_grant *g, enum role *old,
    Exe__Access__V1__ResourceGrant **out)
{
	/* The old role is read before the upsert, in the same statement:
	 * the workspace row is held FOR UPDATE by the caller, so no other
	 * grant change runs meanwhile. The resource must still be the
	 * workspace's: the INSERT takes its row from resources. */
	static const char sql[] =
	    "WITH old AS (SELECT role FROM grants"
	    "             WHERE resource_type = $2 AND resource_id = $3"
	    "               AND user_id = $4),"
	    " g AS (INSERT INTO grants (resource_type, resource_id, user_id,"
	    "         workspace_id, role, granted_by_user)"
	    "       SELECT r.type, r.external_id, $4, r.workspace_id, $5, $6"
	    "       FROM resources r"
	    "       WHERE r.type = $2 AND r.external_id = $3"
	    "         AND r.workspace_id = $1"
	    "       ON CONFLICT (resource_type, resource_id, user_id)"
	    "       DO UPDATE SET role = EXCLUDED.role,"
	    "         granted_by_user = EXCLUDED.granted_by_user,"
	    "         updated_at = now()"
	    "       RETURNING *)"
	    " SELECT " GRANT_COLUMNS ", (SELECT role FROM old)"
	    " FROM g JOIN users u ON u.id = g.user_id"
	    " JOIN resources r ON r.type = g.resource_type"
	    "   AND r.external_id = g.resource_id";
	const char *params[] = {g->workspace_id, g->type, g->id, g->user_id,
	    perms_role_name(g->role), g->granted_by_user};
	PGresult *res;
	int rc = db_exec(call->db, sql, 6, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND,
		    "resource: %s \"%s\" is not registered", g->type, g->id);
	}
	*old = role_of(res, 0, GRANT_NCOLUMNS);
	rc = fill_grant(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_grant_delete(struct call *call, const char *type, const char *id,
    const char *user_id, enum role *old)
{
	static const char sql[] =
	    "DELETE FROM grants"
	    " WHERE resource_type = $1 AND resource_id = $2 AND user_id = $3"
	    " RETURNING role";
	const char *params[] = {type, id, user_id};
	PGresult *res;
	int rc = db_exec(call->db, sql, 3, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*old = PQntuples(res) == 1 ? role_of(res, 0, 0) : ROLE_NONE;
	PQclear(res);
	return STATUS_OK;
}

int
store_grants_remove_user(struct call *call, const char *workspace_id,
    const char *user_id, long *count)
{
	const char *params[] = {workspace_id, user_id};
	PGresult *res;
	int rc = db_exec(call->db,
	    "WITH d AS (DELETE FROM grants WHERE workspace_id = $1"
	    "           AND user_id = $2 RETURNING 1)"
	    " SELECT count(*) FROM d", 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return STATUS_OK;
}

/* fill_list makes up to `limit` grants of `res` into *list (its count in
 * *n) and, when a row more follows, the cursor from the last one shown:
 * its columns cursor_cols[0..1]. */
static int
fill_list(struct call *call, const PGresult *res, uint32_t limit,
    const int cursor_cols[2], Exe__Access__V1__ResourceGrant ***list,
    size_t *n, char **next)
{
	int rows = PQntuples(res);
	int shown = rows > (int)limit ? (int)limit : rows;
	*list = call_new(call, sizeof **list * (size_t)(shown + 1));
	if (*list == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; i < shown; i++) {
		int rc = fill_grant(call, res, i, &(*list)[i]);
		if (rc != STATUS_OK)
			return rc;
		*n = (size_t)i + 1;
	}
	if (rows > (int)limit) {
		const char *key[] = {PQgetvalue(res, shown - 1, cursor_cols[0]),
		    PQgetvalue(res, shown - 1, cursor_cols[1])};
		*next = paging_encode(call, key, 2);
		if (*next == NULL)
			return call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	return STATUS_OK;
}

int
store_grants_list_resource(struct call *call, const char *type,
    const char *id, char *const *after, uint32_t limit,
    Exe__Access__V1__ListResourceGrantsResponse *resp)
{
	static const char sql[] =
	    "SELECT " GRANT_COLUMNS ", lower(u.username)"
	    " FROM grants g JOIN users u ON u.id = g.user_id"
	    " JOIN resources r ON r.type = g.resource_type"
	    "   AND r.external_id = g.resource_id"
	    " WHERE g.resource_type = $1 AND g.resource_id = $2"
	    "   AND ($3::text IS NULL OR (lower(u.username), g.user_id)"
	    "        > ($3::text, $4::uuid))"
	    " ORDER BY lower(u.username), g.user_id"
	    " LIMIT $5";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {type, id, after[0], after[1], limit_text};
	PGresult *res;
	int rc = db_exec(call->db, sql, 5, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	static const int cursor[2] = {GRANT_NCOLUMNS, 3};
	rc = fill_list(call, res, limit, cursor, &resp->grants,
	    &resp->n_grants, &resp->next_page_token);
	PQclear(res);
	return rc;
}

int
store_grants_list_user(struct call *call, const char *user_id,
    char *const *after, uint32_t limit,
    Exe__Access__V1__ListUserGrantsResponse *resp)
{
	/* The revision and whether the user exists come from the same
	 * snapshot as the grants: one row of them even when there are
	 * none (the grant's columns then NULL). */
	static const char sql[] =
	    "SELECT x.*, c.value, EXISTS (SELECT 1 FROM users WHERE id = $1)"
	    " FROM revision_counter c LEFT JOIN LATERAL"
	    " (SELECT " GRANT_COLUMNS
	    "  FROM grants g JOIN users u ON u.id = g.user_id"
	    "  JOIN resources r ON r.type = g.resource_type"
	    "    AND r.external_id = g.resource_id"
	    "  WHERE g.user_id = $1"
	    "    AND ($2::text IS NULL OR (g.resource_type, g.resource_id)"
	    "         > ($2::text, $3::text))"
	    "  ORDER BY g.resource_type, g.resource_id"
	    "  LIMIT $4) x ON true"
	    " ORDER BY x.resource_type, x.resource_id";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {user_id, after[0], after[1], limit_text};
	PGresult *res;
	int rc = db_exec(call->db, sql, 4, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) < 1) {
		PQclear(res);
		return STATUS_INTERNAL;
	}
	if (PQgetvalue(res, 0, GRANT_NCOLUMNS + 1)[0] != 't') {
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND, "no user with id \"%s\"",
		    user_id);
	}
	resp->revision = strtoull(PQgetvalue(res, 0, GRANT_NCOLUMNS), NULL, 10);
	int rows = PQgetisnull(res, 0, 0) ? 0 : PQntuples(res);
	int shown = rows > (int)limit ? (int)limit : rows;
	resp->grants = call_new(call, sizeof *resp->grants * (size_t)(shown + 1));
	if (resp->grants == NULL)
		rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; rc == STATUS_OK && i < shown; i++) {
		rc = fill_grant(call, res, i, &resp->grants[i]);
		resp->n_grants = (size_t)i + 1;
	}
	if (rc == STATUS_OK && rows > (int)limit) {
		const char *key[] = {PQgetvalue(res, shown - 1, 0),
		    PQgetvalue(res, shown - 1, 1)};
		resp->next_page_token = paging_encode(call, key, 2);
		if (resp->next_page_token == NULL)
			rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	PQclear(res);
	return rc;
}
