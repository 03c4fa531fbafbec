/* Invitations' SQL. Expiry is not a stored state: a pending invitation
 * whose expires_at has passed reads as expired, computed by each query
 * against the transaction's now(). */
#include "store/invitations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "rpc/paging.h"
#include "store/db.h"

/* The columns fill_invitation reads, from `invitations i`. */
#define INVITATION_COLUMNS                                                    \
	"i.id, i.workspace_id, coalesce(i.invitee_username, ''),"             \
	" coalesce(i.invitee_email, ''), i.role,"                             \
	" CASE WHEN i.state = 'pending' AND i.expires_at <= now()"            \
	"      THEN 'expired' ELSE i.state END,"                              \
	" coalesce(i.invited_by::text, ''), unix_ms(i.created_at),"           \
	" unix_ms(i.expires_at)"
enum { INVITATION_NCOLUMNS = 9 };

static Exe__Access__V1__InvitationState
state_parse(const char *s)
{
	static const struct {
		const char *name;
		Exe__Access__V1__InvitationState state;
	} states[] = {
	    {"pending", EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_PENDING},
	    {"accepted",
	        EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_ACCEPTED},
	    {"declined",
	        EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_DECLINED},
	    {"revoked", EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_REVOKED},
	    {"expired", EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_EXPIRED},
	};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		if (strcmp(states[i].name, s) == 0)
			return states[i].state;
	}
	return EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_UNSPECIFIED;
}

static int
fill_invitation(struct call *call, const PGresult *res, int row,
    Exe__Access__V1__Invitation **out)
{
	Exe__Access__V1__Invitation *inv = CALL_MSG(call,
	    Exe__Access__V1__Invitation, exe__access__v1__invitation__init);
	if (inv == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	inv->id = call_strdup(call, PQgetvalue(res, row, 0));
	inv->workspace_id = call_strdup(call, PQgetvalue(res, row, 1));
	inv->invitee_username = call_strdup(call, PQgetvalue(res, row, 2));
	inv->invitee_email = call_strdup(call, PQgetvalue(res, row, 3));
	enum role role = ROLE_NONE;
	(void)perms_role_parse(PQgetvalue(res, row, 4), &role);
	inv->role = (Exe__Access__V1__Role)role;
	inv->state = state_parse(PQgetvalue(res, row, 5));
	inv->invited_by_user_id = call_strdup(call, PQgetvalue(res, row, 6));
	inv->created_unix_ms = db_time_ms(res, row, 7);
	inv->expires_unix_ms = db_time_ms(res, row, 8);
	*out = inv;
	return STATUS_OK;
}

int
store_invitee_lookup(struct call *call, const char *workspace_id,
    bool by_email, const char *value, struct invitee *out)
{
	static const char *const user_sql[] = {
	    "SELECT u.id, u.username, u.email, m.role FROM users u"
	    " LEFT JOIN memberships m"
	    "   ON m.workspace_id = $1 AND m.user_id = u.id"
	    " WHERE lower(u.username) = lower($2)",
	    "SELECT u.id, u.username, u.email, m.role FROM users u"
	    " LEFT JOIN memberships m"
	    "   ON m.workspace_id = $1 AND m.user_id = u.id"
	    " WHERE lower(u.email) = lower($2)",
	};
	static const char pending_sql[] =
	    "SELECT id FROM invitations"
	    " WHERE workspace_id = $1 AND state = 'pending'"
	    "   AND expires_at > now()"
	    "   AND (lower(invitee_username) = lower($2)"
	    "        OR lower(invitee_email) = lower($3))"
	    " ORDER BY created_at LIMIT 1";
	const char *params[3] = {workspace_id, value, NULL};
	PGresult *res;
	int rc = db_exec(call->db, user_sql[by_email], 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	memset(out, 0, sizeof *out);
	if (PQntuples(res) == 1) {
		out->user_found = true;
		snprintf(out->user_id, sizeof out->user_id, "%s",
		    PQgetvalue(res, 0, 0));
		snprintf(out->username, sizeof out->username, "%s",
		    PQgetvalue(res, 0, 1));
		if (!PQgetisnull(res, 0, 3))
			(void)perms_role_parse(PQgetvalue(res, 0, 3),
			    &out->member_role);
	}

	/* The same person may have been invited by username or by email:
	 * look for both of theirs. */
	const char *username = by_email ? NULL : value;
	const char *email = by_email ? value : NULL;
	if (out->user_found) {
		username = PQgetvalue(res, 0, 1);
		email = PQgetvalue(res, 0, 2);
	}
	const char *pending_params[] = {workspace_id, username, email};
	PGresult *pending;
	rc = db_exec(call->db, pending_sql, 3, pending_params, &pending, NULL);
	PQclear(res);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(pending) == 1) {
		out->pending_found = true;
		snprintf(out->pending_id, sizeof out->pending_id, "%s",
		    PQgetvalue(pending, 0, 0));
	}
	PQclear(pending);
	return STATUS_OK;
}

int
store_invitation_create(struct call *call, const struct new_invitation *n,
    Exe__Access__V1__Invitation **out)
{
	static const char sql[] =
	    "WITH i AS (INSERT INTO invitations (workspace_id,"
	    "             invitee_username, invitee_email, role, token_hash,"
	    "             invited_by, expires_at)"
	    "           VALUES ($1, $2, $3, $4, $5, $6,"
	    "                   now() + $7::integer * interval '24 hours')"
	    "           RETURNING *)"
	    " SELECT " INVITATION_COLUMNS " FROM i";
	char days[16];
	snprintf(days, sizeof days, "%u", n->expires_in_days);
	const char *params[] = {n->workspace_id, n->username, n->email,
	    perms_role_name(n->role), n->token_hash_hex, n->invited_by, days};
	PGresult *res;
	int rc = db_exec(call->db, sql, 7, params, &res, NULL);
	if (rc == STATUS_ALREADY_EXISTS)
		/* Only token_hash is unique: 256 random bits collided. */
		return call_fail(call, STATUS_INTERNAL,
		    "the new invitation's token collided with another; retry");
	if (rc != STATUS_OK)
		return rc;
	rc = fill_invitation(call, res, 0, out);
	PQclear(res);
	return rc;
}

int
store_invitation_find(struct call *call, enum invitation_key by,
    const char *key, enum store_lock lock, const char *user_id,
    Exe__Access__V1__Invitation **out, bool *is_invitee)
{
#define FIND_SQL(where, locking)                                              \
	"SELECT " INVITATION_COLUMNS ","                                      \
	" EXISTS (SELECT 1 FROM users u WHERE u.id = $2::uuid"               \
	"         AND (lower(u.username) = lower(i.invitee_username)"         \
	"              OR lower(u.email) = lower(i.invitee_email)))"          \
	" FROM invitations i WHERE " where locking
	static const char *const sql[][3] = {
	    [INVITATION_BY_ID] =
	        {
	            [STORE_LOCK_NONE] = FIND_SQL("i.id = $1", ""),
	            [STORE_LOCK_SHARE] = FIND_SQL("i.id = $1", " FOR SHARE OF i"),
	            [STORE_LOCK_UPDATE] =
	                FIND_SQL("i.id = $1", " FOR UPDATE OF i"),
	        },
	    [INVITATION_BY_TOKEN_HASH] =
	        {
	            [STORE_LOCK_NONE] = FIND_SQL("i.token_hash = $1", ""),
	            [STORE_LOCK_SHARE] =
	                FIND_SQL("i.token_hash = $1", " FOR SHARE OF i"),
	            [STORE_LOCK_UPDATE] =
	                FIND_SQL("i.token_hash = $1", " FOR UPDATE OF i"),
	        },
	};
#undef FIND_SQL
	const char *params[] = {key, user_id};
	PGresult *res;
	int rc = db_exec(call->db, sql[by][lock], 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		if (by == INVITATION_BY_ID)
			return call_fail(call, STATUS_NOT_FOUND,
			    "invitation_id: no invitation %s", key);
		return call_fail(call, STATUS_NOT_FOUND,
		    "token: no invitation has this token; check that it was "
		    "copied whole");
	}
	rc = fill_invitation(call, res, 0, out);
	if (rc == STATUS_OK && is_invitee != NULL)
		*is_invitee =
		    PQgetvalue(res, 0, INVITATION_NCOLUMNS)[0] == 't';
	PQclear(res);
	return rc;
}

int
store_invitation_close(struct call *call, const char *id, const char *state,
    const char *closed_by)
{
	static const char sql[] =
	    "UPDATE invitations SET state = $2, closed_at = now(),"
	    "       closed_by = $3"
	    " WHERE id = $1 AND state = 'pending'";
	const char *params[] = {id, state, closed_by};
	PGresult *res;
	int rc = db_exec(call->db, sql, 3, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	bool changed = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	if (!changed)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "invitation %s is no longer pending", id);
	return STATUS_OK;
}

int
store_invitations_list(struct call *call, const char *workspace_id,
    bool include_closed, char *const *after, uint32_t limit,
    Exe__Access__V1__ListInvitationsResponse *resp)
{
	/* The cursor is the creation time in whole microseconds (exact, as
	 * timestamptz stores it) and the id, which breaks ties. */
	static const char sql[] =
	    "SELECT " INVITATION_COLUMNS ","
	    "       (extract(epoch FROM i.created_at) * 1000000)::bigint"
	    " FROM invitations i"
	    " WHERE i.workspace_id = $1"
	    "   AND ($2::boolean"
	    "        OR (i.state = 'pending' AND i.expires_at > now()))"
	    "   AND ($3::bigint IS NULL"
	    "        OR ((extract(epoch FROM i.created_at) * 1000000)::bigint,"
	    "            i.id) < ($3::bigint, $4::uuid))"
	    " ORDER BY i.created_at DESC, i.id DESC"
	    " LIMIT $5";
	char limit_text[16];
	snprintf(limit_text, sizeof limit_text, "%u", limit + 1);
	const char *params[] = {workspace_id, include_closed ? "true" : "false",
	    after[0], after[1], limit_text};
	PGresult *res;
	int rc = db_exec(call->db, sql, 5, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	int rows = PQntuples(res);
	int shown = rows > (int)limit ? (int)limit : rows;
	resp->invitations =
	    call_new(call, sizeof *resp->invitations * (size_t)(shown + 1));
	if (resp->invitations == NULL)
		rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; rc == STATUS_OK && i < shown; i++) {
		rc = fill_invitation(call, res, i, &resp->invitations[i]);
		resp->n_invitations = (size_t)i + 1;
	}
	if (rc == STATUS_OK && rows > (int)limit) {
		const char *key[] = {
		    PQgetvalue(res, shown - 1, INVITATION_NCOLUMNS),
		    PQgetvalue(res, shown - 1, 0)};
		resp->next_page_token = paging_encode(call, key, 2);
		if (resp->next_page_token == NULL)
			rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	PQclear(res);
	return rc;
}
