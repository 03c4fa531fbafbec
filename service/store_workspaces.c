/* Workspaces' SQL. */
#include "store_workspaces.h"

#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "paging.h"
#include "perms.h"
#include "status.h"

int
store_workspaces_list(struct call *call, const char *user_id,
    char *const *after, uint32_t limit, Exe__Access__V1__ListWorkspacesResponse *resp)
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
	    " ORDER BY rank, w.name, w.id"
	    " LIMIT $5";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {user_id, after[0], after[1], after[2], limit_text};
	PGresult *res;
	int rc = db_exec(call->db, sql, 5, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	int rows = PQntuples(res);
	if (rows == 0 && after[0] == NULL) {
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
