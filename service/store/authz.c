/* Authorization's SQL: one round trip per question, or per group of
 * questions. */
#include "store/authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "store/db.h"

int
store_user_standing(struct call *call, const char *workspace_id,
    const char *user_id, enum store_lock lock, struct standing *out)
{
	static const char *const lock_sql[] = {
	    [STORE_LOCK_SHARE] = "SELECT 1 FROM workspaces WHERE id = $1"
	                         " FOR SHARE",
	    [STORE_LOCK_UPDATE] = "SELECT 1 FROM workspaces WHERE id = $1"
	                          " FOR UPDATE",
	};
	/* The revision comes from the same statement, hence the same
	 * snapshot, as the answer: also "no such workspace", so that the
	 * answer is never stamped with a revision its read did not see. */
	static const char sql[] =
	    "SELECT w.kind, coalesce(w.organization_id::text, ''), m.role,"
	    "       r.value, EXISTS (SELECT 1 FROM grants g"
	    "                        WHERE g.workspace_id = w.id"
	    "                          AND g.user_id = $2)"
	    " FROM revision_counter r"
	    " LEFT JOIN workspaces w ON w.id = $1"
	    " LEFT JOIN memberships m"
	    "   ON m.workspace_id = w.id AND m.user_id = $2";
	const char *params[] = {workspace_id, user_id};
	PGresult *res;
	int rc;
	/* Lock first, read after: a read in the locking statement would use
	 * the snapshot from before any wait for the lock, and could miss the
	 * change that the lock holder just committed. */
	if (lock != STORE_LOCK_NONE &&
	    (rc = db_exec(call->db, lock_sql[lock], 1, params, NULL, NULL)) !=
	        STATUS_OK)
		return rc;
	rc = db_exec(call->db, sql, 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	memset(out, 0, sizeof *out);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return STATUS_INTERNAL;
	}
	out->revision = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
	if (PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return STATUS_OK;
	}
	out->workspace_exists = true;
	out->personal = strcmp(PQgetvalue(res, 0, 0), "personal") == 0;
	snprintf(out->organization_id, sizeof out->organization_id, "%s",
	    PQgetvalue(res, 0, 1));
	if (!PQgetisnull(res, 0, 2))
		(void)perms_role_parse(PQgetvalue(res, 0, 2), &out->role);
	out->has_grants = PQgetvalue(res, 0, 4)[0] == 't';
	PQclear(res);
	return STATUS_OK;
}

int
store_user_standings(PGconn *db, size_t n, const char *const *workspace_ids,
    const char *const *user_ids, struct standing *out)
{
	/* One statement for many questions: the ids go as two arrays, read
	 * back in their order. Every id has passed validate_uuid, so the
	 * array literals need no quoting. */
	static const char sql[] =
	    "SELECT w.kind, coalesce(w.organization_id::text, ''), m.role,"
	    "       (SELECT value FROM revision_counter),"
	    "       EXISTS (SELECT 1 FROM grants g"
	    "               WHERE g.workspace_id = w.id"
	    "                 AND g.user_id = q.user_id)"
	    " FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY"
	    "   AS q(workspace_id, user_id, i)"
	    " LEFT JOIN workspaces w ON w.id = q.workspace_id"
	    " LEFT JOIN memberships m"
	    "   ON m.workspace_id = w.id AND m.user_id = q.user_id"
	    " ORDER BY q.i";
	if (n == 0)
		return STATUS_OK;
	size_t size = n * 37 + 3;
	char *arrays = malloc(2 * size);
	if (arrays == NULL)
		return STATUS_INTERNAL;
	char *ws = arrays, *users = arrays + size;
	char *w = ws, *u = users;
	*w++ = '{';
	*u++ = '{';
	for (size_t i = 0; i < n; i++) {
		w += snprintf(w, 38, "%s%.36s", i > 0 ? "," : "", workspace_ids[i]);
		u += snprintf(u, 38, "%s%.36s", i > 0 ? "," : "", user_ids[i]);
	}
	memcpy(w, "}", 2);
	memcpy(u, "}", 2);
	const char *params[] = {ws, users};
	PGresult *res;
	int rc = db_exec(db, sql, 2, params, &res, NULL);
	free(arrays);
	if (rc != STATUS_OK)
		return rc;
	if ((size_t)PQntuples(res) != n) {
		PQclear(res);
		return STATUS_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		struct standing *st = &out[i];
		memset(st, 0, sizeof *st);
		st->revision = strtoull(PQgetvalue(res, (int)i, 3), NULL, 10);
		if (PQgetisnull(res, (int)i, 0))
			continue;
		st->workspace_exists = true;
		st->personal = strcmp(PQgetvalue(res, (int)i, 0), "personal") == 0;
		snprintf(st->organization_id, sizeof st->organization_id, "%s",
		    PQgetvalue(res, (int)i, 1));
		if (!PQgetisnull(res, (int)i, 2))
			(void)perms_role_parse(PQgetvalue(res, (int)i, 2),
			    &st->role);
		st->has_grants = PQgetvalue(res, (int)i, 4)[0] == 't';
	}
	PQclear(res);
	return STATUS_OK;
}

int
store_resource_workspace(struct call *call, const char *type, const char *id,
    bool *found, char *workspace_id, uint64_t *revision)
{
	static const char sql[] =
	    "SELECT (SELECT value FROM revision_counter),"
	    "       (SELECT workspace_id FROM resources"
	    "        WHERE type = $1 AND external_id = $2)";
	const char *params[] = {type, id};
	PGresult *res;
	int rc = db_exec(call->db, sql, 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*revision = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	*found = !PQgetisnull(res, 0, 1);
	if (*found)
		snprintf(workspace_id, 37, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return STATUS_OK;
}

int
store_grant_role(struct call *call, const char *user_id, const char *type,
    const char *id, enum role *role, uint64_t *revision)
{
	static const char sql[] =
	    "SELECT (SELECT value FROM revision_counter),"
	    "       (SELECT role FROM grants"
	    "        WHERE resource_type = $2 AND resource_id = $3"
	    "          AND user_id = $1)";
	const char *params[] = {user_id, type, id};
	PGresult *res;
	int rc = db_exec(call->db, sql, 3, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*revision = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	*role = ROLE_NONE;
	if (!PQgetisnull(res, 0, 1))
		(void)perms_role_parse(PQgetvalue(res, 0, 1), role);
	PQclear(res);
	return STATUS_OK;
}

int
store_key_lookup(struct call *call, const char *hash_hex,
    struct key_standing *out)
{
	/* One round trip also records the key's last use, at most once a
	 * minute per key: only a stale last_used_at is written, and a row
	 * another transaction holds is skipped rather than waited for, so a
	 * check never queues behind a write. */
	static const char sql[] =
	    "WITH k AS ("
	    "  SELECT k.id, k.workspace_id, k.read_only,"
	    "         w.kind = 'personal' AS personal,"
	    "         coalesce(unix_ms(k.expires_at), 0) AS expires_ms,"
	    "         (k.last_used_at IS NULL OR"
	    "          k.last_used_at < now() - interval '1 minute') AS stale"
	    "  FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id"
	    "  WHERE k.key_hash = $1"
	    "    AND (k.expires_at IS NULL OR k.expires_at > now())),"
	    " used AS ("
	    "  UPDATE api_keys SET last_used_at = now()"
	    "  WHERE id IN (SELECT l.id FROM api_keys l JOIN k ON k.id = l.id"
	    "               WHERE k.stale AND (l.last_used_at IS NULL OR"
	    "                 l.last_used_at < now() - interval '1 minute')"
	    "               FOR UPDATE OF l SKIP LOCKED))"
	    " SELECT k.id, k.workspace_id, k.read_only, k.personal,"
	    "        r.value, k.expires_ms, k.stale"
	    " FROM revision_counter r LEFT JOIN k ON true";
	/* A standby cannot write: the same read without recording the use,
	 * which tells whether the use is due. */
	static const char standby_sql[] =
	    "WITH k AS ("
	    "  SELECT k.id, k.workspace_id, k.read_only,"
	    "         w.kind = 'personal' AS personal,"
	    "         coalesce(unix_ms(k.expires_at), 0) AS expires_ms,"
	    "         (k.last_used_at IS NULL OR"
	    "          k.last_used_at < now() - interval '1 minute') AS stale"
	    "  FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id"
	    "  WHERE k.key_hash = $1"
	    "    AND (k.expires_at IS NULL OR k.expires_at > now()))"
	    " SELECT k.id, k.workspace_id, k.read_only, k.personal,"
	    "        r.value, k.expires_ms, k.stale"
	    " FROM revision_counter r LEFT JOIN k ON true";
	PGresult *res;
	int rc = db_exec(call->db, call->on_replica ? standby_sql : sql, 1,
	    &hash_hex, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (call->on_replica && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0) && PQgetvalue(res, 0, 6)[0] == 't') {
		/* Its use is due for recording: that takes the primary. */
		PQclear(res);
		call->needs_primary = true;
		return call_fail(call, STATUS_UNAVAILABLE,
		    "the API key's last use must be recorded on the primary");
	}
	memset(out, 0, sizeof *out);
	/* One row: the revision, and the key's columns when it exists (the
	 * revision in the same snapshot either way). */
	if (PQntuples(res) != 1) {
		PQclear(res);
		return STATUS_INTERNAL;
	}
	out->revision = strtoull(PQgetvalue(res, 0, 4), NULL, 10);
	if (!PQgetisnull(res, 0, 0)) {
		out->found = true;
		snprintf(out->key_id, sizeof out->key_id, "%s",
		    PQgetvalue(res, 0, 0));
		snprintf(out->workspace_id, sizeof out->workspace_id, "%s",
		    PQgetvalue(res, 0, 1));
		out->read_only = PQgetvalue(res, 0, 2)[0] == 't';
		out->workspace_personal = PQgetvalue(res, 0, 3)[0] == 't';
		out->expires_ms = strtoll(PQgetvalue(res, 0, 5), NULL, 10);
	}
	PQclear(res);
	return STATUS_OK;
}
