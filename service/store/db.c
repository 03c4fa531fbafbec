/* libpq helpers: statement execution, error mapping, transactions, and the
 * revision/change-log/activity write. */
#include "store/db.h"

#include <libpq-events.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/chain.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/status.h"
#include "rpc/call.h"

enum { TXN_ATTEMPTS = 5 };

/* The statements a connection has prepared, and whether it was found
 * lost. Every statement the service runs is a string constant, so its
 * address names it; the text is kept too, and a statement is reused only
 * for the very same text. */
struct prepared {
	bool lost; /* a statement failed for want of the server */
	/* The running call's deadline (db_set_deadline), and the
	 * statement_timeout set for it: for the session, and for the open
	 * transaction (0: none set). */
	int64_t deadline_ms;
	long timeout_session, timeout_txn;
	size_t n, cap;
	struct statement {
		const char *sql; /* the caller's constant */
		char *text;      /* its text when it was prepared */
	} *list;
};

static void
prepared_forget(struct prepared *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->list[i].text);
	p->n = 0;
}

/* Connection events: a reset connection has lost its server-side
 * statements; a finished one frees the list. */
static int
on_conn_event(PGEventId id, void *info, void *passthrough)
{
	(void)passthrough;
	PGconn *conn;
	switch (id) {
	case PGEVT_CONNRESET:
		conn = ((PGEventConnReset *)info)->conn;
		break;
	case PGEVT_CONNDESTROY:
		conn = ((PGEventConnDestroy *)info)->conn;
		break;
	default:
		return 1;
	}
	struct prepared *p = PQinstanceData(conn, on_conn_event);
	if (p != NULL) {
		prepared_forget(p);
		p->lost = false;
		p->timeout_session = p->timeout_txn = 0; /* a new session */
		if (id == PGEVT_CONNDESTROY) {
			free(p->list);
			free(p);
			PQsetInstanceData(conn, on_conn_event, NULL);
		}
	}
	return 1;
}

static void
copy_field(char *dst, size_t size, const PGresult *res, int field)
{
	const char *v = res != NULL ? PQresultErrorField(res, field) : NULL;
	snprintf(dst, size, "%s", v != NULL ? v : "");
}

static void
notice_cb(void *arg, const char *message)
{
	(void)arg;
	char text[512];
	snprintf(text, sizeof text, "%s", message);
	text[strcspn(text, "\n")] = '\0';
	log_debug("db_notice", "{s:s}", "message", text);
}

PGconn *
db_connect(const char *conninfo)
{
	/* Defaults that keep an outage short for the service: libpq has no
	 * connect timeout, and TCP notices a dead peer only after hours. The
	 * caller's connection string comes last and wins. */
	static const char *const keys[] = {"connect_timeout", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "dbname", NULL};
	const char *values[] = {"5", "30", "10", "3", conninfo, NULL};
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	if (conn != NULL) {
		PQsetNoticeProcessor(conn, notice_cb, NULL);
		/* Without the event procedure statements are sent unprepared. */
		(void)PQregisterEventProc(conn, on_conn_event,
		    "exe-access statements", NULL);
	}
	return conn;
}

bool
db_keep_connected(PGconn **conn, const char *conninfo)
{
	if (*conn != NULL && db_conn_lost(*conn)) {
		PQfinish(*conn);
		*conn = NULL;
	}
	if (*conn == NULL) {
		*conn = db_connect(conninfo);
		if (PQstatus(*conn) != CONNECTION_OK) {
			PQfinish(*conn);
			*conn = NULL;
		}
	}
	return *conn != NULL;
}

/* prepared_of returns the connection's state, made on first use; NULL
 * for a connection not made by db_connect, or out of memory. */
static struct prepared *
prepared_of(PGconn *conn)
{
	struct prepared *p = PQinstanceData(conn, on_conn_event);
	if (p == NULL) {
		if ((p = calloc(1, sizeof *p)) == NULL)
			return NULL;
		if (!PQsetInstanceData(conn, on_conn_event, p)) {
			free(p);
			return NULL;
		}
	}
	return p;
}

/* statement_name finds `sql` among the connection's prepared statements,
 * preparing it on first use, and writes its name; false when it must be
 * sent unprepared (a connection not made by db_connect, or out of
 * memory, or no answer to the PREPARE). A PREPARE the server refused is
 * returned in *failed, for the caller to report like any failed
 * statement. */
static bool
statement_name(PGconn *conn, const char *sql, int nparams, char *name,
    size_t size, PGresult **failed)
{
	*failed = NULL;
	struct prepared *p = prepared_of(conn);
	if (p == NULL)
		return false;
	size_t i = 0;
	while (i < p->n && (p->list[i].sql != sql ||
	                       strcmp(p->list[i].text, sql) != 0))
		i++;
	snprintf(name, size, "exa_%zu", i);
	if (i < p->n)
		return true;

	if (p->n == p->cap) {
		size_t cap = p->cap != 0 ? 2 * p->cap : 32;
		struct statement *list = realloc(p->list, cap * sizeof *list);
		if (list == NULL)
			return false;
		p->list = list;
		p->cap = cap;
	}
	char *text = strdup(sql);
	if (text == NULL)
		return false;
	PGresult *res = PQprepare(conn, name, sql, nparams, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		free(text);
		*failed = res;
		return res != NULL;
	}
	PQclear(res);
	p->list[p->n++] = (struct statement){sql, text};
	return true;
}

/* db_exec_plain is db_exec without the deadline (see db_budget). */
static int
db_exec_plain(PGconn *conn, const char *sql, int nparams,
    const char *const *params, PGresult **out, struct db_error *err)
{
	struct db_error local;
	if (err == NULL)
		err = &local;
	memset(err, 0, sizeof *err);

	/* Prepared once per connection: planning costs PostgreSQL several
	 * times what executing the service's statements does. */
	char name[32];
	PGresult *res;
	if (!statement_name(conn, sql, nparams, name, sizeof name, &res))
		res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL,
		    0);
	else if (res == NULL)
		res = PQexecPrepared(conn, name, nparams, params, NULL, NULL, 0);
	ExecStatusType st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out != NULL)
			*out = res;
		else
			PQclear(res);
		return STATUS_OK;
	}

	copy_field(err->sqlstate, sizeof err->sqlstate, res, PG_DIAG_SQLSTATE);
	copy_field(err->constraint, sizeof err->constraint, res,
	    PG_DIAG_CONSTRAINT_NAME);
	snprintf(err->message, sizeof err->message, "%s",
	    res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn));
	err->message[strcspn(err->message, "\n")] = '\0';
	PQclear(res);

	/* No SQLSTATE: libpq's own failure to talk to the server (the
	 * server is going away); 08: connection; 57P: shutting down. */
	if (PQstatus(conn) == CONNECTION_BAD || err->sqlstate[0] == '\0' ||
	    strncmp(err->sqlstate, "08", 2) == 0 ||
	    strncmp(err->sqlstate, "57P", 3) == 0) {
		/* libpq may still call the connection OK: after an immediate
		 * shutdown it reads the server's farewell notice and keeps
		 * CONNECTION_OK although the socket is closed. */
		struct prepared *p = PQinstanceData(conn, on_conn_event);
		if (p != NULL)
			p->lost = true;
		return STATUS_UNAVAILABLE;
	}
	if (strcmp(err->sqlstate, "23505") == 0)
		return STATUS_ALREADY_EXISTS;
	/* query_canceled: the statement_timeout db_budget set for a call. */
	const struct prepared *p = PQinstanceData(conn, on_conn_event);
	if (strcmp(err->sqlstate, "57014") == 0 && p != NULL &&
	    p->deadline_ms != 0)
		return STATUS_DEADLINE_EXCEEDED;
	if (strcmp(err->sqlstate, "40001") == 0 ||
	    strcmp(err->sqlstate, "40P01") == 0)
		return STATUS_ABORTED;
	/* Constraint violations the handlers did not foresee and all other
	 * errors are the service's fault: log them, answer INTERNAL. */
	log_error("db_error", "{s:s, s:s, s:s}", "sqlstate", err->sqlstate,
	    "constraint", err->constraint, "message", err->message);
	return STATUS_INTERNAL;
}

/* db_budget_ms rounds a remaining budget up to a sixteenth of its power
 * of two (4995 ms: 5120 ms), so that calls with like budgets leave the
 * connection's statement_timeout as it is: a statement may outlive its
 * deadline by at most that much, and is never cut before it. */
static long
db_budget_ms(int64_t left)
{
	int64_t pow2 = 1;
	while (pow2 <= left / 2)
		pow2 *= 2;
	int64_t step = pow2 >= 16 ? pow2 / 16 : 1;
	int64_t r = (left + step - 1) / step * step;
	return r < 2147483647 ? (long)r : 2147483647; /* PostgreSQL's int */
}

/* db_budget prepares `conn` for one statement of the running call: with
 * no deadline, the session's statement_timeout is put back as it was if
 * a call changed it; with one, a statement is not started once it has
 * passed (DEADLINE_EXCEEDED), and statement_timeout is set to what is
 * left of it (db_budget_ms), for the session or, inside a transaction,
 * for the transaction only (a setting made there would not outlive a
 * rollback). */
static int
db_budget(PGconn *conn, struct db_error *err)
{
	struct prepared *p = PQinstanceData(conn, on_conn_event);
	if (p == NULL)
		return STATUS_OK;
	bool in_txn = PQtransactionStatus(conn) != PQTRANS_IDLE;
	if (!in_txn)
		p->timeout_txn = 0;
	if (p->deadline_ms == 0) {
		if (in_txn || p->timeout_session == 0)
			return STATUS_OK;
		int rc = db_exec_plain(conn, "RESET statement_timeout", 0, NULL,
		    NULL, err);
		if (rc == STATUS_OK)
			p->timeout_session = 0;
		return rc;
	}
	int64_t left = p->deadline_ms - clock_mono_ms();
	if (left <= 0) {
		snprintf(err->message, sizeof err->message,
		    "the deadline passed before the statement started");
		return STATUS_DEADLINE_EXCEEDED;
	}
	long want = db_budget_ms(left);
	long have = in_txn && p->timeout_txn != 0 ? p->timeout_txn
	                                          : p->timeout_session;
	if (want == have)
		return STATUS_OK;
	char ms[24];
	snprintf(ms, sizeof ms, "%ld", want);
	const char *params[] = {ms, in_txn ? "true" : "false"};
	int rc = db_exec_plain(conn,
	    "SELECT set_config('statement_timeout', $1, $2::boolean)", 2,
	    params, NULL, err);
	if (rc == STATUS_OK && in_txn)
		p->timeout_txn = want;
	else if (rc == STATUS_OK)
		p->timeout_session = want;
	return rc;
}

int
db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
    PGresult **out, struct db_error *err)
{
	struct db_error local;
	if (err == NULL)
		err = &local;
	memset(err, 0, sizeof *err);
	int rc = db_budget(conn, err);
	if (rc != STATUS_OK)
		return rc;
	return db_exec_plain(conn, sql, nparams, params, out, err);
}

void
db_set_deadline(PGconn *conn, int64_t deadline_ms)
{
	struct prepared *p = conn != NULL ? prepared_of(conn) : NULL;
	if (p != NULL)
		p->deadline_ms = deadline_ms;
}

bool
db_conn_lost(PGconn *conn)
{
	if (conn == NULL)
		return false;
	if (PQstatus(conn) == CONNECTION_BAD)
		return true;
	const struct prepared *p = PQinstanceData(conn, on_conn_event);
	return p != NULL && p->lost;
}

int
db_txn(PGconn *conn, db_txn_fn fn, void *arg, bool *in_doubt)
{
	int rc = STATUS_ABORTED;
	if (in_doubt != NULL)
		*in_doubt = false;
	for (int attempt = 0; attempt < TXN_ATTEMPTS; attempt++) {
		rc = db_exec(conn, "BEGIN", 0, NULL, NULL, NULL);
		if (rc != STATUS_OK)
			return rc;
		rc = fn(conn, arg);
		if (rc == STATUS_OK) {
			rc = db_exec(conn, "COMMIT", 0, NULL, NULL, NULL);
			if (rc == STATUS_UNAVAILABLE) {
				if (in_doubt != NULL)
					*in_doubt = true;
				return rc;
			}
		}
		if (rc == STATUS_OK)
			return STATUS_OK;
		/* Past the deadline too: COMMIT is not even sent then. */
		if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
			int rb = db_exec_plain(conn, "ROLLBACK", 0, NULL, NULL,
			    NULL);
			if (rb != STATUS_OK)
				return rb;
		}
		if (rc != STATUS_ABORTED)
			return rc;
	}
	return rc;
}

int
db_call_txn_with(struct call *call, db_txn_fn fn, void *arg)
{
	bool in_doubt;
	int rc = db_txn(call->db, fn, arg, &in_doubt);
	call->in_doubt = in_doubt;
	if (in_doubt)
		call_fail(call, STATUS_UNAVAILABLE,
		    "the database connection was lost while committing: the "
		    "change may or may not have been made; look before you "
		    "retry it");
	else if (rc == STATUS_DEADLINE_EXCEEDED)
		call_fail(call, rc,
		    "the request's deadline passed before its transaction "
		    "committed: it was rolled back, nothing was changed");
	return rc;
}

int
db_call_txn(struct call *call, db_txn_fn fn)
{
	if (call->response == NULL && call_response(call) == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	int rc = db_call_txn_with(call, fn, call);
	if (rc != STATUS_OK)
		call->response = NULL;
	return rc;
}

static db_revision_fn db_revision_hook;
static void *db_revision_hook_arg;

void
db_set_revision_hook(db_revision_fn fn, void *arg)
{
	db_revision_hook = fn;
	db_revision_hook_arg = arg;
}

/* The activity key (db_set_activity_key); read-only after start. */
static const unsigned char *db_activity_key;

void
db_set_activity_key(const unsigned char *key)
{
	db_activity_key = key;
}

static const char *
db_text_or_null(const PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? NULL : PQgetvalue(res, 0, col);
}

int
db_record_change(PGconn *conn, const struct db_change *c, uint64_t *revision)
{
	/* Two statements. The first takes the revision row, which every
	 * write locks to COMMIT (so writers follow one another), and with it
	 * the chain's head: its length and newest hash, read from the row's
	 * latest version by the UPDATE itself (a subquery would see the
	 * statement's snapshot, from before the lock was granted, and fork
	 * the chain). It also moves the workspace's (or organisation's)
	 * newest place, and returns the new record's id, its time and the
	 * ids as PostgreSQL spells them, for the hash. The second writes the
	 * change-log row, the record and the new head. */
	static const char take_sql[] =
	    "WITH r AS (UPDATE revision_counter SET value = value + 1,"
	    "             activity_count = activity_count + 1"
	    "           RETURNING value, activity_count, activity_head),"
	    " s AS (INSERT INTO activity_scopes (scope, last_seq)"
	    "       SELECT coalesce($1::uuid, $2::uuid), activity_count FROM r"
	    "       ON CONFLICT (scope) DO UPDATE"
	    "       SET prev_seq = activity_scopes.last_seq,"
	    "           last_seq = excluded.last_seq"
	    "       RETURNING prev_seq)"
	    " SELECT r.value, r.activity_count, r.activity_head,"
	    "   coalesce((SELECT prev_seq FROM s), 0),"
	    "   nextval('activity_id_seq'), unix_us(now()),"
	    "   $1::uuid::text, $2::uuid::text, $3::uuid::text, $4::uuid::text"
	    " FROM r";
	static const char write_sql[] =
	    "WITH c AS (INSERT INTO change_log (revision, kind, workspace_id,"
	    "         user_id, api_key_id, organization_id, resource_type,"
	    "         resource_id)"
	    "       VALUES ($1::bigint, $2, $3::uuid, $4::uuid, $5::uuid,"
	    "         $6::uuid, $7, $8)),"
	    " n AS (SELECT pg_notify('exe_access_changes', $1::bigint::text)),"
	    " h AS (UPDATE revision_counter SET activity_head = $15::bytea)"
	    " INSERT INTO activity (id, workspace_id, organization_id,"
	    "   actor_user_id, actor_api_key_id, action, resource_type,"
	    "   resource_id, detail, revision, chain_seq, prev_hash, scope_prev,"
	    "   hash)"
	    " OVERRIDING SYSTEM VALUE"
	    " SELECT $9::bigint, $3::uuid, $6::uuid, $10::uuid, $11::uuid, $12,"
	    "   $7, $8, $13, $1::bigint, $14::bigint, $16::bytea, $17::bigint,"
	    "   $15::bytea"
	    " FROM (SELECT count(*) FROM n) AS notified";
	if (db_activity_key == NULL) {
		log_error("activity_key_missing", "{s:s}", "action", c->action);
		return STATUS_INTERNAL;
	}
	const char *take_params[] = {c->workspace_id, c->organization_id,
	    c->actor_user_id, c->actor_key_id};
	PGresult *res;
	int rc = db_exec(conn, take_sql, 4, take_params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	unsigned char prev[CHAIN_HASH_BYTES], hash[CHAIN_HASH_BYTES];
	if (PQntuples(res) != 1 || !db_unhex(PQgetvalue(res, 0, 2), prev, sizeof prev)) {
		PQclear(res);
		log_error("activity_head_unreadable", "{s:s}", "action", c->action);
		return STATUS_INTERNAL;
	}
	const char *detail = c->detail != NULL ? c->detail : "";
	struct chain_record rec = {
	    .seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10),
	    .prev = prev,
	    .id = strtoll(PQgetvalue(res, 0, 4), NULL, 10),
	    .revision = strtoull(PQgetvalue(res, 0, 0), NULL, 10),
	    .at_us = strtoll(PQgetvalue(res, 0, 5), NULL, 10),
	    .scope_prev = strtoull(PQgetvalue(res, 0, 3), NULL, 10),
	    .workspace_id = db_text_or_null(res, 6),
	    .organization_id = db_text_or_null(res, 7),
	    .actor_user_id = db_text_or_null(res, 8),
	    .actor_api_key_id = db_text_or_null(res, 9),
	    .action = c->action,
	    .resource_type = c->resource_type,
	    .resource_id = c->resource_id,
	    .detail = detail,
	};
	chain_hash(db_activity_key, &rec, hash);
	char hash_hex[2 * CHAIN_HASH_BYTES + 3], prev_hex[2 * CHAIN_HASH_BYTES + 3];
	db_hex(hash, sizeof hash, hash_hex);
	db_hex(prev, sizeof prev, prev_hex);
	const char *write_params[] = {PQgetvalue(res, 0, 0), c->kind,
	    rec.workspace_id, c->user_id, c->api_key_id, rec.organization_id,
	    c->resource_type, c->resource_id, PQgetvalue(res, 0, 4),
	    rec.actor_user_id, rec.actor_api_key_id, c->action, detail,
	    PQgetvalue(res, 0, 1), hash_hex, prev_hex, PQgetvalue(res, 0, 3)};
	rc = db_exec(conn, write_sql, 17, write_params, NULL, NULL);
	PQclear(res);
	if (rc != STATUS_OK)
		return rc;
	*revision = rec.revision;
	if (db_revision_hook != NULL)
		db_revision_hook(db_revision_hook_arg, *revision);
	return STATUS_OK;
}

int
db_current_revision(PGconn *conn, uint64_t *revision)
{
	PGresult *res;
	int rc = db_exec(conn, "SELECT value FROM revision_counter", 0, NULL,
	    &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*revision = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return STATUS_OK;
}

void
db_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	*out++ = '\\';
	*out++ = 'x';
	for (size_t i = 0; i < n; i++) {
		*out++ = digits[bytes[i] >> 4];
		*out++ = digits[bytes[i] & 15];
	}
	*out = '\0';
}

bool
db_unhex(const char *text, unsigned char *out, size_t n)
{
	size_t len = 0;
	return text != NULL && text[0] == '\\' && text[1] == 'x' &&
	    sodium_hex2bin(out, n, text + 2, strlen(text + 2), NULL, &len,
	        NULL) == 0 &&
	    len == n;
}

int64_t
db_time_ms(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}
