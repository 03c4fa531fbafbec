/* Storage primitives over libpq: running a statement with parameters,
 * mapping PostgreSQL errors onto status codes, transactions with retry on
 * serialization failures, and the write every change ends with (a new
 * revision, its change-log row and its activity record). All SQL passes
 * values as parameters, never by formatting them into the text. */
#ifndef EXE_DB_H
#define EXE_DB_H

#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What went wrong in the database, for handlers that turn a constraint
 * violation into a message for the caller. */
struct db_error {
	char sqlstate[6];
	char constraint[64];
	char message[256];
};

/* db_connect opens a connection with `conninfo` (a connection string or
 * URL) whose server notices go to the JSON log (at debug level) instead of
 * raw lines on stderr. Unless `conninfo` says otherwise it gives up
 * connecting after 5 s and probes an idle TCP connection after 30 s. The
 * caller checks PQstatus and PQfinishes it. */
PGconn *db_connect(const char *conninfo);

/* db_keep_connected keeps *conn, a background thread's own connection,
 * live: one marked lost (db_conn_lost) is closed and a new one made with
 * `conninfo`, as is one that is NULL. True when *conn is connected; false,
 * with *conn NULL, when no connection could be made. */
bool db_keep_connected(PGconn **conn, const char *conninfo);

/* db_exec runs `sql` with `nparams` text parameters (NULL for SQL NULL).
 * On success stores the result in *out (the caller PQclears it; `out` may
 * be NULL to discard it) and returns STATUS_OK. Otherwise returns
 * STATUS_ALREADY_EXISTS for a unique violation, STATUS_ABORTED for a
 * serialization failure or deadlock, STATUS_UNAVAILABLE when the server
 * cannot be reached, STATUS_DEADLINE_EXCEEDED past the connection's
 * deadline (db_set_deadline), STATUS_INTERNAL for anything else, and
 * fills `err` (which may be NULL). */
int db_exec(PGconn *conn, const char *sql, int nparams,
    const char *const *params, PGresult **out, struct db_error *err)
    __attribute__((warn_unused_result));

/* db_set_deadline makes `deadline_ms` (monotonic, clock_mono_ms; 0: none)
 * the deadline of the statements db_exec runs on `conn` from now on, for
 * the call about to use it: one is not started once the deadline has
 * passed, and one still running then is cancelled by PostgreSQL's
 * statement_timeout, within a sixteenth of the budget it started with;
 * both answer STATUS_DEADLINE_EXCEEDED, and db_txn rolls back a
 * transaction whose deadline passes before COMMIT. Set it back to 0
 * when the call is done. NULL `conn` is fine. */
void db_set_deadline(PGconn *conn, int64_t deadline_ms);

/* db_conn_lost says whether `conn` (not NULL) can serve no more
 * statements: libpq reports it bad, or a statement on it failed with
 * STATUS_UNAVAILABLE (the server went away; after an immediate shutdown
 * libpq may still report such a connection as CONNECTION_OK). A lost
 * connection is replaced, never used again. NULL: false. */
bool db_conn_lost(PGconn *conn);

/* db_txn_fn is one attempt at a transaction's body. */
typedef int (*db_txn_fn)(PGconn *conn, void *arg);

/* db_txn runs fn between BEGIN and COMMIT, retrying the whole transaction
 * when PostgreSQL reports a serialization failure or deadlock (at most a
 * few times). fn's non-OK return rolls back and is returned as is; so does
 * a deadline (db_set_deadline) that passes before COMMIT is sent:
 * STATUS_DEADLINE_EXCEEDED, rolled back. A COMMIT already sent when the
 * deadline passes completes, and its outcome is returned. When
 * the COMMIT itself could not be confirmed (the connection was lost), it
 * returns STATUS_UNAVAILABLE with *in_doubt set (in_doubt may be NULL):
 * the change may or may not have been made. */
int db_txn(PGconn *conn, db_txn_fn fn, void *arg, bool *in_doubt)
    __attribute__((warn_unused_result));

struct call;

/* db_call_txn_with runs fn(conn, arg) as the call's transaction, and
 * tells the caller plainly when a lost connection left the commit in
 * doubt. */
int db_call_txn_with(struct call *call, db_txn_fn fn, void *arg)
    __attribute__((warn_unused_result));

/* db_call_txn runs fn(conn, call) as the call's transaction. The body
 * fills call->response, which db_call_txn allocates first (call_response)
 * unless the handler already did; it stays set only if the transaction
 * commits. */
int db_call_txn(struct call *call, db_txn_fn fn)
    __attribute__((warn_unused_result));

/* One change, as it is recorded by db_record_change. Every field may be
 * NULL except `kind`, `action`, an actor, and one of `workspace_id` and
 * `organization_id`. */
struct db_change {
	const char *kind;          /* change_log kind: "user", "membership" ... */
	const char *workspace_id;  /* where it happened ... */
	const char *organization_id; /* ... or in which organisation */
	const char *user_id;       /* the user it changed, if any */
	const char *api_key_id;    /* the key it changed, if any */
	const char *actor_user_id; /* who did it: a user ... */
	const char *actor_key_id;  /* ... or an API key */
	const char *action;        /* "user.created", "member.added" ... */
	const char *resource_type;
	const char *resource_id;
	const char *detail;
};

/* db_record_change bumps the revision and writes the change-log row and
 * the activity record, chained to the record before it (base/chain.h,
 * with the key db_set_activity_key gave), in the caller's transaction;
 * returns the new revision in *revision. Call it last in a transaction:
 * it holds the revision row lock, and with it the chain's head, until
 * COMMIT. STATUS_INTERNAL if no activity key was set. */
int db_record_change(PGconn *conn, const struct db_change *change,
    uint64_t *revision) __attribute__((warn_unused_result));

/* db_set_activity_key makes `key` (CHAIN_KEY_BYTES, kept by the caller
 * for the life of the process) the key db_record_change hashes activity
 * records with. Call it before any worker starts. */
void db_set_activity_key(const unsigned char *key);

/* db_revision_fn is told each revision db_record_change takes, before
 * the transaction commits: while its write holds the revision row, so no
 * later revision can commit first. It must not block. */
typedef void (*db_revision_fn)(void *arg, uint64_t revision);

/* db_set_revision_hook makes `fn(arg, revision)` see every revision
 * db_record_change takes (the cache uses it to notice a database that is
 * behind it: cache_note_write). Call it before any worker starts; NULL
 * turns it off. */
void db_set_revision_hook(db_revision_fn fn, void *arg);

/* db_current_revision reads the latest committed revision. */
int db_current_revision(PGconn *conn, uint64_t *revision)
    __attribute__((warn_unused_result));

/* db_hex encodes `n` bytes as PostgreSQL's bytea text form "\x..." into
 * `out`, which must hold 2 * n + 3 bytes. */
void db_hex(const unsigned char *bytes, size_t n, char *out);

/* db_unhex decodes a bytea column in PostgreSQL's hex form ("\x..."),
 * which must hold exactly `n` bytes, into `out`. False otherwise. */
bool db_unhex(const char *text, unsigned char *out, size_t n);

/* db_time_ms parses a column written as milliseconds since the epoch. */
int64_t db_time_ms(const PGresult *res, int row, int col);

#endif
