/* LookupResources' SQL: keyset-paged by resource id within one type. */
#include "store/lookup.h"

#include <stdio.h>

#include "base/status.h"
#include "rpc/paging.h"
#include "store/db.h"

#define RESOURCE_COLUMNS                                                      \
	"r.type, r.external_id, r.workspace_id, r.name,"                      \
	" coalesce(r.created_by_user::text, ''),"                             \
	" coalesce(r.created_by_key::text, ''), unix_ms(r.created_at)"

static int
fill(struct call *call, PGresult *res, uint32_t limit,
    Exe__Access__V1__LookupResourcesResponse *resp)
{
	int rows = PQntuples(res);
	int shown = rows > (int)limit ? (int)limit : rows;
	resp->resources = call_new(call,
	    sizeof *resp->resources * (size_t)(shown + 1));
	if (resp->resources == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; i < shown; i++) {
		Exe__Access__V1__Resource *r = CALL_MSG(call,
		    Exe__Access__V1__Resource, exe__access__v1__resource__init);
		Exe__Access__V1__ResourceRef *ref = CALL_MSG(call,
		    Exe__Access__V1__ResourceRef,
		    exe__access__v1__resource_ref__init);
		if (r == NULL || ref == NULL)
			return call_fail(call, STATUS_INTERNAL, "out of memory");
		ref->type = call_strdup(call, PQgetvalue(res, i, 0));
		ref->id = call_strdup(call, PQgetvalue(res, i, 1));
		r->ref = ref;
		r->workspace_id = call_strdup(call, PQgetvalue(res, i, 2));
		r->name = call_strdup(call, PQgetvalue(res, i, 3));
		r->created_by_user_id = call_strdup(call, PQgetvalue(res, i, 4));
		r->created_by_api_key_id = call_strdup(call, PQgetvalue(res, i, 5));
		r->created_unix_ms = db_time_ms(res, i, 6);
		resp->resources[i] = r;
		resp->n_resources = (size_t)i + 1;
	}
	if (rows > (int)limit) {
		const char *key[] = {PQgetvalue(res, shown - 1, 1)};
		resp->next_page_token = paging_encode(call, key, 1);
		if (resp->next_page_token == NULL)
			return call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	return STATUS_OK;
}

static int
lookup_run(struct call *call, const char *sql, const char *const *params, int n,
    uint32_t limit, Exe__Access__V1__LookupResourcesResponse *resp)
{
	PGresult *res;
	int rc = db_exec(call->db, sql, n, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	rc = fill(call, res, limit, resp);
	PQclear(res);
	return rc;
}

int
store_lookup_for_user(struct call *call, const char *user_id,
    const char *type, const char *roles, const char *grant_roles,
    const char *after, uint32_t limit,
    Exe__Access__V1__LookupResourcesResponse *resp)
{
	/* Two keyset-paged reads, each at most a page past the cursor: the
	 * resources of the workspaces where the role holds the permission,
	 * and those the user was granted a role on that holds it (in team
	 * workspaces: a personal one knows no grants). Their UNION holds a
	 * resource reached both ways once, and the page is the first rows of
	 * it by id, so the cursor (the last id shown) carries on from there
	 * for both. */
	static const char sql[] =
	    "WITH member AS ("
	    "  SELECT r.external_id FROM resources r JOIN memberships m"
	    "    ON m.workspace_id = r.workspace_id AND m.user_id = $1"
	    "  WHERE r.type = $2 AND m.role = ANY ($3::text[])"
	    "    AND ($4::text IS NULL OR r.external_id > $4)"
	    "  ORDER BY r.external_id LIMIT $5),"
	    " granted AS ("
	    "  SELECT g.resource_id FROM grants g JOIN workspaces w"
	    "    ON w.id = g.workspace_id AND w.kind = 'team'"
	    "  WHERE g.user_id = $1 AND g.resource_type = $2"
	    "    AND g.role = ANY ($6::text[])"
	    "    AND ($4::text IS NULL OR g.resource_id > $4)"
	    "  ORDER BY g.resource_id LIMIT $5)"
	    " SELECT " RESOURCE_COLUMNS
	    " FROM resources r"
	    " WHERE r.type = $2 AND r.external_id IN"
	    "   (SELECT external_id FROM member UNION"
	    "    SELECT resource_id FROM granted)"
	    " ORDER BY r.external_id LIMIT $5";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {user_id, type, roles, after, limit_text,
	    grant_roles};
	return lookup_run(call, sql, params, 6, limit, resp);
}

int
store_lookup_in_workspace(struct call *call, const char *workspace_id,
    const char *type, const char *after, uint32_t limit,
    Exe__Access__V1__LookupResourcesResponse *resp)
{
	static const char sql[] =
	    "SELECT " RESOURCE_COLUMNS
	    " FROM resources r"
	    " WHERE r.workspace_id = $1 AND r.type = $2"
	    "   AND ($3::text IS NULL OR r.external_id > $3)"
	    " ORDER BY r.external_id LIMIT $4";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {workspace_id, type, after, limit_text};
	return lookup_run(call, sql, params, 4, limit, resp);
}
