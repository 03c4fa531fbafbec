/* Users' SQL: the sign-up transaction and user look-ups. */
#include "store/users.h"

#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "store/db.h"

struct create_txn {
	struct call *call;
	const struct new_user *u;
	Exe__Access__V1__CreateUserResponse *resp;
};

static int
fill_user(struct call *call, const PGresult *res, int row, int col,
    Exe__Access__V1__User **out)
{
	Exe__Access__V1__User *u = CALL_MSG(call, Exe__Access__V1__User,
	    exe__access__v1__user__init);
	if (u == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	u->id = call_strdup(call, PQgetvalue(res, row, col));
	u->username = call_strdup(call, PQgetvalue(res, row, col + 1));
	u->email = call_strdup(call, PQgetvalue(res, row, col + 2));
	u->display_name = call_strdup(call, PQgetvalue(res, row, col + 3));
	u->created_unix_ms = db_time_ms(res, row, col + 4);
	*out = u;
	return STATUS_OK;
}

static int
store_users_create_txn(PGconn *conn, void *arg)
{
	struct create_txn *t = arg;
	struct call *call = t->call;
	static const char sql[] =
	    "WITH u AS (INSERT INTO users (username, email, display_name)"
	    "           VALUES ($1, $2, $3)"
	    "           RETURNING id, username, email, display_name, created_at),"
	    " w AS (INSERT INTO workspaces (kind, name, owner_user_id)"
	    "       SELECT 'personal', u.username || '''s Workspace', u.id FROM u"
	    "       RETURNING id, name, owner_user_id, created_at),"
	    " m AS (INSERT INTO memberships (workspace_id, user_id, role)"
	    "       SELECT w.id, w.owner_user_id, 'admin' FROM w),"
	    " k AS (INSERT INTO api_keys (workspace_id, key_hash, display_prefix)"
	    "       SELECT w.id, $4, $5 FROM w RETURNING id)"
	    " SELECT u.id, u.username, u.email, u.display_name,"
	    "        unix_ms(u.created_at), w.id, w.name, unix_ms(w.created_at),"
	    "        k.id"
	    " FROM u, w, k";
	const char *params[] = {t->u->username, t->u->email,
	    t->u->display_name, t->u->key_hash_hex, t->u->key_display};
	struct db_error err;
	PGresult *res;
	int rc = db_exec(conn, sql, 5, params, &res, &err);
	if (rc == STATUS_ALREADY_EXISTS) {
		if (strcmp(err.constraint, "users_email_ci") == 0)
			return call_fail(call, rc,
			    "email: \"%s\" already belongs to an account",
			    t->u->email);
		return call_fail(call, rc, "username: \"%s\" is taken",
		    t->u->username);
	}
	if (rc != STATUS_OK)
		return rc;

	Exe__Access__V1__CreateUserResponse *resp = t->resp;
	rc = fill_user(call, res, 0, 0, &resp->user);
	Exe__Access__V1__Workspace *ws = CALL_MSG(call, Exe__Access__V1__Workspace,
	    exe__access__v1__workspace__init);
	if (rc != STATUS_OK || ws == NULL) {
		PQclear(res);
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	ws->id = call_strdup(call, PQgetvalue(res, 0, 5));
	ws->kind = EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL;
	ws->name = call_strdup(call, PQgetvalue(res, 0, 6));
	ws->owner_user_id = resp->user->id;
	ws->created_unix_ms = db_time_ms(res, 0, 7);
	resp->personal_workspace = ws;
	char *key_id = call_strdup(call, PQgetvalue(res, 0, 8));
	PQclear(res);

	struct db_change change = {
	    .kind = "user",
	    .workspace_id = ws->id,
	    .user_id = resp->user->id,
	    .api_key_id = key_id,
	    .actor_user_id = resp->user->id,
	    .action = "user.created",
	};
	return db_record_change(conn, &change, &resp->revision);
}

int
store_user_create(struct call *call, const struct new_user *u,
    Exe__Access__V1__CreateUserResponse *resp)
{
	struct create_txn t = {call, u, resp};
	return db_call_txn_with(call, store_users_create_txn, &t);
}

/* Whether user `r` (a uuid parameter) may read user u.id: themself;
 * someone they share a workspace with (only teams have two members); or,
 * as an admin of an organisation, its admins and the members of its
 * teams. */
#define USERS_VISIBLE_TO(r)                                                   \
	"(u.id = " r                                                          \
	" OR EXISTS (SELECT 1 FROM memberships mine JOIN memberships theirs"  \
	"            ON theirs.workspace_id = mine.workspace_id"              \
	"            WHERE mine.user_id = " r " AND theirs.user_id = u.id)"  \
	" OR EXISTS (SELECT 1 FROM organization_admins oa"                    \
	"            WHERE oa.user_id = " r                                   \
	"              AND (EXISTS (SELECT 1 FROM organization_admins ob"     \
	"                           WHERE ob.organization_id ="               \
	"                                 oa.organization_id"                 \
	"                             AND ob.user_id = u.id)"                 \
	"                OR EXISTS (SELECT 1 FROM memberships m"              \
	"                           JOIN workspaces w ON w.id ="              \
	"                                m.workspace_id"                      \
	"                           WHERE w.organization_id ="                \
	"                                 oa.organization_id"                 \
	"                             AND m.user_id = u.id))))"

#define USERS_SELECT                                                          \
	"SELECT u.id, u.username, u.email, u.display_name,"                   \
	" unix_ms(u.created_at) FROM users u WHERE "
#define USERS_READER " AND ($2::uuid IS NULL OR " USERS_VISIBLE_TO("$2::uuid") ")"

int
store_user_get(struct call *call, enum user_key by, const char *value,
    const char *reader, Exe__Access__V1__User **out)
{
	static const char *const sql[] = {
	    [USER_BY_ID] = USERS_SELECT "u.id = $1" USERS_READER,
	    [USER_BY_USERNAME] =
	        USERS_SELECT "lower(u.username) = lower($1)" USERS_READER,
	    [USER_BY_EMAIL] =
	        USERS_SELECT "lower(u.email) = lower($1)" USERS_READER,
	};
	static const char *const what[] = {
	    [USER_BY_ID] = "id",
	    [USER_BY_USERNAME] = "username",
	    [USER_BY_EMAIL] = "email",
	};
	const char *params[] = {value, reader};
	PGresult *res;
	int rc = db_exec(call->db, sql[by], 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return call_fail(call, STATUS_NOT_FOUND,
		    "no user with %s \"%s\"", what[by], value);
	}
	rc = fill_user(call, res, 0, 0, out);
	PQclear(res);
	return rc;
}

int
store_user_visible(struct call *call, const char *reader, const char *user_id,
    bool *visible)
{
	static const char sql[] =
	    "SELECT 1 FROM users u WHERE u.id = $1 AND EXISTS"
	    " (SELECT 1 FROM users r WHERE r.id = $2) AND "
	    USERS_VISIBLE_TO("$2::uuid");
	const char *params[] = {user_id, reader};
	PGresult *res;
	int rc = db_exec(call->db, sql, 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*visible = PQntuples(res) == 1;
	PQclear(res);
	return STATUS_OK;
}

int
store_user_require(struct call *call, const char *field, const char *user_id)
{
	PGresult *res;
	int rc = db_exec(call->db, "SELECT 1 FROM users WHERE id = $1", 1,
	    &user_id, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	bool found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return call_fail(call, STATUS_NOT_FOUND, "%s: no user %s", field,
		    user_id);
	return STATUS_OK;
}
