/* Workspaces' SQL. */
#include "store/workspaces.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/perms.h"
#include "base/status.h"
#include "rpc/paging.h"
#include "store/db.h"

int
store_workspaces_list(struct call *call, const char *user_id,
    const char *viewer, char *const *after, uint32_t limit,
    Exe__Access__V1__ListWorkspacesResponse *resp)
{
	/* rank 0 is the personal workspace, 1 the teams; (rank, name, id) is
	 * the sort key and the cursor. One row more than asked tells whether
	 * another page follows. */
	static const char sql[] =
	    "SELECT w.id, w.kind, w.name, coalesce(w.organization_id::text, ''),"
	    "       coalesce(w.owner_user_id::text, ''), unix_ms(w.created_at),"
	    "       m.role, (w.kind = 'team')::int AS rank,"
	    "       (SELECT value FROM revision_counter)"
	    " FROM memberships m JOIN workspaces w ON w.id = m.workspace_id"
	    " WHERE m.user_id = $1"
	    "   AND ($2::int IS NULL OR ((w.kind = 'team')::int, w.name, w.id)"
	    "        > ($2::int, $3::text, $4::uuid))"
	    "   AND ($6::uuid IS NULL OR (w.kind = 'team' AND"
	    "        (EXISTS (SELECT 1 FROM memberships v"
	    "                 WHERE v.workspace_id = w.id AND v.user_id = $6)"
	    "         OR EXISTS (SELECT 1 FROM organization_admins oa"
	    "                    WHERE oa.organization_id = w.organization_id"
	    "                      AND oa.user_id = $6))))"
	    " ORDER BY rank, w.name, w.id"
	    " LIMIT $5";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {user_id, after[0], after[1], after[2], limit_text,
	    viewer};
	PGresult *res;
	int rc = db_exec(call->db, sql, 6, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	int rows = PQntuples(res);
	if (rows == 0 && after[0] == NULL && viewer == NULL) {
		/* Every user has a personal workspace: no rows, no user. */
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND, "no user with id \"%s\"",
		    user_id);
	}
	int shown = rows > (int)limit ? (int)limit : rows;
	resp->workspaces = call_new(call, sizeof *resp->workspaces * (size_t)(shown + 1));
	if (resp->workspaces == NULL) {
		PQclear(res);
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	for (int i = 0; i < shown; i++) {
		Exe__Access__V1__WorkspaceEntry *e = CALL_MSG(call,
		    Exe__Access__V1__WorkspaceEntry,
		    exe__access__v1__workspace_entry__init);
		Exe__Access__V1__Workspace *w = CALL_MSG(call, Exe__Access__V1__Workspace,
		    exe__access__v1__workspace__init);
		if (e == NULL || w == NULL) {
			PQclear(res);
			return call_fail(call, STATUS_INTERNAL, "out of memory");
		}
		w->id = call_strdup(call, PQgetvalue(res, i, 0));
		w->kind = PQgetvalue(res, i, 1)[0] == 'p'
		    ? EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL
		    : EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_TEAM;
		w->name = call_strdup(call, PQgetvalue(res, i, 2));
		w->organization_id = call_strdup(call, PQgetvalue(res, i, 3));
		w->owner_user_id = call_strdup(call, PQgetvalue(res, i, 4));
		w->created_unix_ms = db_time_ms(res, i, 5);
		enum role role = ROLE_NONE;
		(void)perms_role_parse(PQgetvalue(res, i, 6), &role);
		e->workspace = w;
		e->role = (Exe__Access__V1__Role)role;
		resp->workspaces[i] = e;
	}
	resp->n_workspaces = (size_t)shown;
	if (rows > 0)
		resp->revision = strtoull(PQgetvalue(res, 0, 8), NULL, 10);
	if (rows > (int)limit) {
		const char *key[] = {PQgetvalue(res, shown - 1, 7),
		    PQgetvalue(res, shown - 1, 2), PQgetvalue(res, shown - 1, 0)};
		resp->next_page_token = paging_encode(call, key, 3);
		if (resp->next_page_token == NULL) {
			PQclear(res);
			return call_fail(call, STATUS_INTERNAL, "out of memory");
		}
	}
	PQclear(res);
	return STATUS_OK;
}

/* The columns every workspace read selects, in fill_workspace's order. */
#define WORKSPACE_COLUMNS                                                     \
	"w.id, w.kind, w.name, coalesce(w.organization_id::text, ''),"        \
	" coalesce(w.owner_user_id::text, ''), unix_ms(w.created_at),"        \
	" w.settings::text"

static int
fill_workspace(struct call *call, const PGresult *res, int row,
    Exe__Access__V1__Workspace **out)
{
	Exe__Access__V1__Workspace *w = CALL_MSG(call,
	    Exe__Access__V1__Workspace, exe__access__v1__workspace__init);
	if (w == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	w->id = call_strdup(call, PQgetvalue(res, row, 0));
	w->kind = PQgetvalue(res, row, 1)[0] == 'p'
	    ? EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL
	    : EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_TEAM;
	w->name = call_strdup(call, PQgetvalue(res, row, 2));
	w->organization_id = call_strdup(call, PQgetvalue(res, row, 3));
	w->owner_user_id = call_strdup(call, PQgetvalue(res, row, 4));
	w->created_unix_ms = db_time_ms(res, row, 5);

	json_error_t error;
	json_t *settings = json_loads(PQgetvalue(res, row, 6), 0, &error);
	size_t n = json_is_object(settings) ? json_object_size(settings) : 0;
	w->settings = call_new(call, sizeof *w->settings * (n + 1));
	if (w->settings == NULL) {
		json_decref(settings);
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	const char *key;
	json_t *value;
	json_object_foreach(settings, key, value)
	{
		Exe__Access__V1__Setting *s = CALL_MSG(call,
		    Exe__Access__V1__Setting, exe__access__v1__setting__init);
		if (s == NULL) {
			json_decref(settings);
			return call_fail(call, STATUS_INTERNAL, "out of memory");
		}
		s->key = call_strdup(call, key);
		s->value = call_strdup(call,
		    json_is_string(value) ? json_string_value(value) : "");
		w->settings[w->n_settings++] = s;
	}
	json_decref(settings);
	*out = w;
	return STATUS_OK;
}

int
store_workspace_create_team(struct call *call, const char *org_id,
    const char *name, const char *first_admin, Exe__Access__V1__Workspace **out)
{
	static const char sql[] =
	    "WITH w AS (INSERT INTO workspaces (kind, name, organization_id)"
	    "           VALUES ('team', $2, $1) RETURNING *),"
	    " m AS (INSERT INTO memberships (workspace_id, user_id, role)"
	    "       SELECT id, $3, 'admin' FROM w)"
	    " SELECT " WORKSPACE_COLUMNS " FROM w";
	const char *params[] = {org_id, name, first_admin};
	PGresult *res;
	int rc = db_exec(call->db, sql, 3, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	rc = fill_workspace(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_workspace_get(struct call *call, const char *workspace_id,
    Exe__Access__V1__Workspace **out)
{
	PGresult *res;
	int rc = db_exec(call->db,
	    "SELECT " WORKSPACE_COLUMNS " FROM workspaces w WHERE w.id = $1", 1,
	    &workspace_id, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND,
		    "workspace_id: no workspace %s", workspace_id);
	}
	rc = fill_workspace(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_workspace_update(struct call *call, const char *workspace_id,
    const char *name, const char *set_json, const char *unset_json,
    long *count)
{
	static const char sql[] =
	    "UPDATE workspaces SET name = coalesce($2, name),"
	    " settings = (settings - ARRAY(SELECT jsonb_array_elements_text($4)))"
	    "            || $3::jsonb"
	    " WHERE id = $1"
	    " RETURNING (SELECT count(*) FROM jsonb_object_keys(settings))";
	const char *params[] = {workspace_id, name, set_json, unset_json};
	PGresult *res;
	int rc = db_exec(call->db, sql, 4, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*count = PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), NULL, 10)
	                             : 0;
	PQclear(res);
	return STATUS_OK;
}

int
store_workspace_delete(struct call *call, const char *workspace_id)
{
	return db_exec(call->db, "DELETE FROM workspaces WHERE id = $1", 1,
	    &workspace_id, NULL, NULL);
}
