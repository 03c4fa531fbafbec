/* The activity log's SQL: one record by its revision, newest-first keyset
 * pages over the (workspace_id, id DESC) and (organization_id, id DESC)
 * indexes, and the organisation a deleted workspace belonged to. */
#include "store/activity.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/status.h"
#include "rpc/paging.h"
#include "store/db.h"

/* The columns fill_record reads, in its order. */
#define RECORD_COLUMNS                                                        \
	"id, workspace_id, coalesce(actor_user_id::text, ''),"                \
	" coalesce(actor_api_key_id::text, ''), action, resource_type,"       \
	" resource_id, detail, unix_ms(at), revision"

static int
fill_record(struct call *call, const PGresult *res, int row,
    Exe__Access__V1__ActivityRecord **out)
{
	Exe__Access__V1__ActivityRecord *r = CALL_MSG(call,
	    Exe__Access__V1__ActivityRecord,
	    exe__access__v1__activity_record__init);
	if (r == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	r->id = call_strdup(call, PQgetvalue(res, row, 0));
	r->workspace_id = call_strdup(call, PQgetvalue(res, row, 1));
	r->actor_user_id = call_strdup(call, PQgetvalue(res, row, 2));
	r->actor_api_key_id = call_strdup(call, PQgetvalue(res, row, 3));
	r->action = call_strdup(call, PQgetvalue(res, row, 4));
	if (!PQgetisnull(res, row, 5)) {
		Exe__Access__V1__ResourceRef *ref = CALL_MSG(call,
		    Exe__Access__V1__ResourceRef,
		    exe__access__v1__resource_ref__init);
		if (ref == NULL)
			return call_fail(
			    call, STATUS_INTERNAL, "out of memory");
		ref->type = call_strdup(call, PQgetvalue(res, row, 5));
		ref->id = call_strdup(call, PQgetvalue(res, row, 6));
		r->resource = ref;
	}
	r->detail = call_strdup(call, PQgetvalue(res, row, 7));
	r->at_unix_ms = db_time_ms(res, row, 8);
	r->revision = strtoull(PQgetvalue(res, row, 9), NULL, 10);
	*out = r;
	return STATUS_OK;
}

int
store_activity_get(struct call *call, const char *workspace_id,
    uint64_t revision, Exe__Access__V1__ActivityRecord **out)
{
	/* The record just written is the workspace's newest: the index scan
	 * stops at its first row. */
	static const char sql[] =
	    "SELECT " RECORD_COLUMNS " FROM activity"
	    " WHERE workspace_id = $1 AND revision = $2::bigint"
	    " ORDER BY id DESC LIMIT 1";
	char revision_text[24];
	snprintf(revision_text, sizeof revision_text, "%" PRIu64, revision);
	const char *params[] = {workspace_id, revision_text};
	PGresult *res;
	int rc = db_exec(call->db, sql, 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return call_fail(call, STATUS_INTERNAL,
		    "the activity record of revision %s is missing",
		    revision_text);
	}
	rc = fill_record(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_activity_list(struct call *call, enum activity_of of, const char *id,
    const char *before_id, uint32_t limit,
    Exe__Access__V1__ListActivityResponse *resp)
{
	/* Each over its own (…, id DESC) index. */
	static const char *const sql[] = {
	    [ACTIVITY_OF_WORKSPACE] =
	        "SELECT " RECORD_COLUMNS " FROM activity"
	        " WHERE workspace_id = $1"
	        "   AND ($2::bigint IS NULL OR id < $2::bigint)"
	        " ORDER BY id DESC"
	        " LIMIT $3",
	    [ACTIVITY_OF_ORGANIZATION] =
	        "SELECT " RECORD_COLUMNS " FROM activity"
	        " WHERE organization_id = $1"
	        "   AND ($2::bigint IS NULL OR id < $2::bigint)"
	        " ORDER BY id DESC"
	        " LIMIT $3",
	};
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {id, before_id, limit_text};
	PGresult *res;
	int rc = db_exec(call->db, sql[of], 3, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	/* One row more than the page tells whether another page follows. */
	int rows = PQntuples(res);
	int shown = rows > (int)limit ? (int)limit : rows;
	resp->records =
	    call_new(call, sizeof *resp->records * (size_t)(shown + 1));
	if (resp->records == NULL)
		rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; rc == STATUS_OK && i < shown; i++) {
		rc = fill_record(call, res, i, &resp->records[i]);
		if (rc == STATUS_OK)
			resp->n_records = (size_t)i + 1;
	}
	if (rc == STATUS_OK && rows > (int)limit) {
		const char *key[] = {PQgetvalue(res, shown - 1, 0)};
		resp->next_page_token = paging_encode(call, key, 1);
		if (resp->next_page_token == NULL)
			rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	PQclear(res);
	return rc;
}

int
store_activity_deleted_org(struct call *call, const char *workspace_id,
    bool *found, char *org_id)
{
	/* The deletion is the workspace's last record: the index scan stops
	 * at its first row. */
	static const char sql[] =
	    "SELECT organization_id FROM activity"
	    " WHERE workspace_id = $1 AND action = 'workspace.deleted'"
	    "   AND organization_id IS NOT NULL"
	    " ORDER BY id DESC LIMIT 1";
	PGresult *res;
	int rc = db_exec(call->db, sql, 1, &workspace_id, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*found = PQntuples(res) == 1;
	if (*found)
		snprintf(org_id, 37, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STATUS_OK;
}
