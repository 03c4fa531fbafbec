/* API keys' SQL: rotation in two statements (expire the current key, then
 * insert the new one, so the one-current-key index never sees two) and
 * the listing of a workspace's working keys. */
#include "store/apikeys.h"

#include <stdio.h>

#include "base/status.h"
#include "store/db.h"

/* The columns fill_key reads, in its order. */
#define KEY_COLUMNS                                                           \
	"id, workspace_id, display_prefix, read_only, unix_ms(created_at),"   \
	" unix_ms(last_used_at), unix_ms(expires_at)"

static int
fill_key(struct call *call, const PGresult *res, int row,
    Exe__Access__V1__ApiKeyInfo **out)
{
	Exe__Access__V1__ApiKeyInfo *k = CALL_MSG(call,
	    Exe__Access__V1__ApiKeyInfo, exe__access__v1__api_key_info__init);
	if (k == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	k->key_id = call_strdup(call, PQgetvalue(res, row, 0));
	k->workspace_id = call_strdup(call, PQgetvalue(res, row, 1));
	k->display_prefix = call_strdup(call, PQgetvalue(res, row, 2));
	k->read_only = PQgetvalue(res, row, 3)[0] == 't';
	k->created_unix_ms = db_time_ms(res, row, 4);
	k->last_used_unix_ms = db_time_ms(res, row, 5);
	k->expires_unix_ms = db_time_ms(res, row, 6);
	*out = k;
	return STATUS_OK;
}

int
store_apikey_rotate(struct call *call, const char *workspace_id,
    const struct new_key *k, const char **old_key_id,
    Exe__Access__V1__ApiKeyInfo **out)
{
	static const char expire_sql[] =
	    "UPDATE api_keys"
	    " SET expires_at = now() + $2::integer * interval '1 second'"
	    " WHERE workspace_id = $1 AND expires_at IS NULL RETURNING id";
	static const char insert_sql[] =
	    "INSERT INTO api_keys (workspace_id, key_hash, display_prefix,"
	    "   read_only)"
	    " VALUES ($1, $2, $3, $4) RETURNING " KEY_COLUMNS;
	char grace[16];
	snprintf(grace, sizeof grace, "%u", k->grace_seconds);
	const char *expire_params[] = {workspace_id, grace};
	PGresult *res;
	int rc = db_exec(call->db, expire_sql, 2, expire_params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	const char *old = PQntuples(res) == 1
	    ? call_strdup(call, PQgetvalue(res, 0, 0))
	    : NULL;
	PQclear(res);

	const char *insert_params[] = {workspace_id, k->hash_hex, k->display,
	    k->read_only ? "true" : "false"};
	rc = db_exec(call->db, insert_sql, 4, insert_params, &res, NULL);
	/* With the workspace row locked no other rotation can have put a
	 * current key in place; a clash here is a 192-bit collision or a
	 * writer that did not lock. Retrying the transaction settles both. */
	if (rc == STATUS_ALREADY_EXISTS)
		return STATUS_ABORTED;
	if (rc != STATUS_OK)
		return rc;
	rc = fill_key(call, res, 0, out);
	PQclear(res);
	if (rc == STATUS_OK)
		*old_key_id = old;
	return rc;
}

int
store_apikey_get(struct call *call, const char *workspace_id,
    Exe__Access__V1__GetApiKeyResponse *resp)
{
	static const char sql[] =
	    "SELECT " KEY_COLUMNS " FROM api_keys"
	    " WHERE workspace_id = $1"
	    "   AND (expires_at IS NULL OR expires_at > now())"
	    " ORDER BY expires_at DESC NULLS FIRST, id";
	PGresult *res;
	int rc = db_exec(call->db, sql, 1, &workspace_id, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	int rows = PQntuples(res);
	if (rows == 0 || !PQgetisnull(res, 0, 6)) {
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND,
		    "workspace %s has no API key yet; an admin of the "
		    "workspace "
		    "creates one with RotateApiKey",
		    workspace_id);
	}
	rc = fill_key(call, res, 0, &resp->key);
	if (rc == STATUS_OK && rows > 1) {
		resp->previous = call_new(call,
		    sizeof *resp->previous * (size_t)(rows - 1));
		if (resp->previous == NULL)
			rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	for (int i = 1; rc == STATUS_OK && i < rows; i++) {
		rc = fill_key(call, res, i, &resp->previous[i - 1]);
		if (rc == STATUS_OK)
			resp->n_previous = (size_t)i;
	}
	PQclear(res);
	return rc;
}
