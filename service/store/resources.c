/* Resources' SQL: register, delete, and keyset-paged listing over the
 * (workspace_id, type, external_id) index. */
#include "store/resources.h"

#include <stdio.h>

#include "base/status.h"
#include "rpc/paging.h"
#include "store/db.h"

/* The columns fill_resource reads, in its order. */
#define RESOURCE_COLUMNS                                                      \
	"type, external_id, workspace_id, name,"                              \
	" coalesce(created_by_user::text, ''),"                               \
	" coalesce(created_by_key::text, ''), unix_ms(created_at)"

static int
fill_resource(struct call *call, const PGresult *res, int row,
    Exe__Access__V1__Resource **out)
{
	Exe__Access__V1__Resource *r = CALL_MSG(call, Exe__Access__V1__Resource,
	    exe__access__v1__resource__init);
	Exe__Access__V1__ResourceRef *ref = CALL_MSG(call,
	    Exe__Access__V1__ResourceRef, exe__access__v1__resource_ref__init);
	if (r == NULL || ref == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	ref->type = call_strdup(call, PQgetvalue(res, row, 0));
	ref->id = call_strdup(call, PQgetvalue(res, row, 1));
	r->ref = ref;
	r->workspace_id = call_strdup(call, PQgetvalue(res, row, 2));
	r->name = call_strdup(call, PQgetvalue(res, row, 3));
	r->created_by_user_id = call_strdup(call, PQgetvalue(res, row, 4));
	r->created_by_api_key_id = call_strdup(call, PQgetvalue(res, row, 5));
	r->created_unix_ms = db_time_ms(res, row, 6);
	*out = r;
	return STATUS_OK;
}

int
store_resource_register(struct call *call, const struct new_resource *r,
    Exe__Access__V1__Resource **out)
{
	static const char sql[] =
	    "INSERT INTO resources (type, external_id, workspace_id, name,"
	    "   created_by_user, created_by_key)"
	    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING " RESOURCE_COLUMNS;
	const char *params[] = {r->type, r->id, r->workspace_id, r->name,
	    r->created_by_user, r->created_by_key};
	PGresult *res;
	int rc = db_exec(call->db, sql, 6, params, &res, NULL);
	/* Which workspace holds it is not the caller's business: it may be
	 * one they cannot see. */
	if (rc == STATUS_ALREADY_EXISTS)
		return call_fail(call, rc,
		    "resource: %s \"%s\" is already registered; resource ids "
		    "are unique across workspaces", r->type, r->id);
	if (rc != STATUS_OK)
		return rc;
	rc = fill_resource(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_resource_delete(struct call *call, const char *workspace_id,
    const char *type, const char *id, bool *deleted)
{
	static const char sql[] =
	    "DELETE FROM resources"
	    " WHERE type = $1 AND external_id = $2 AND workspace_id = $3";
	const char *params[] = {type, id, workspace_id};
	PGresult *res;
	int rc = db_exec(call->db, sql, 3, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*deleted = PQcmdTuples(res)[0] == '1';
	PQclear(res);
	return STATUS_OK;
}

int
store_resources_list(struct call *call, const char *workspace_id,
    const char *type, char *const *after, uint32_t limit,
    Exe__Access__V1__ListResourcesResponse *resp)
{
	static const char sql[] =
	    "SELECT " RESOURCE_COLUMNS " FROM resources"
	    " WHERE workspace_id = $1"
	    "   AND ($2::text IS NULL OR type = $2::text)"
	    "   AND ($3::text IS NULL OR (type, external_id)"
	    "        > ($3::text, $4::text))"
	    " ORDER BY type, external_id"
	    " LIMIT $5";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {workspace_id, type, after[0], after[1],
	    limit_text};
	PGresult *res;
	int rc = db_exec(call->db, sql, 5, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	/* One row more than the page tells whether another page follows. */
	int rows = PQntuples(res);
	int shown = rows > (int)limit ? (int)limit : rows;
	resp->resources = call_new(call,
	    sizeof *resp->resources * (size_t)(shown + 1));
	if (resp->resources == NULL)
		rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; rc == STATUS_OK && i < shown; i++) {
		rc = fill_resource(call, res, i, &resp->resources[i]);
		if (rc == STATUS_OK)
			resp->n_resources = (size_t)i + 1;
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
