/* Tests of service/db.c against the suite's PostgreSQL: statements are
 * prepared once per connection and reused, never confused with another
 * text, prepared again after a reset, and every failure is still mapped
 * onto its status; statements and transactions keep to the connection's
 * deadline. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/status.h"
#include "harness.h"
#include "store/db.h"
#include "unit/unit.h"

static struct harness h; /* only its database: no daemon */

static PGconn *
open_conn(void)
{
	PGconn *conn = db_connect(h.conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "cannot connect: %s", PQerrorMessage(conn));
		exit(1);
	}
	return conn;
}

/* query_long runs `sql` through db_exec and returns its first value. */
static long
query_long(PGconn *conn, const char *sql, const char *param, int *status)
{
	PGresult *res = NULL;
	*status = db_exec(conn, sql, param != NULL ? 1 : 0, &param, &res, NULL);
	if (*status != STATUS_OK)
		return -1;
	long v = PQntuples(res) > 0 ? strtol(PQgetvalue(res, 0, 0), NULL, 10)
	                            : -1;
	PQclear(res);
	return v;
}

/* prepared_count: how many of the service's statements the connection's
 * session holds (PQexec: not through db_exec, not prepared itself). */
static long
prepared_count(PGconn *conn)
{
	PGresult *res = PQexec(conn, "SELECT count(*) FROM pg_prepared_statements"
	                             " WHERE name LIKE 'exa\\_%'");
	long v = PQresultStatus(res) == PGRES_TUPLES_OK
	    ? strtol(PQgetvalue(res, 0, 0), NULL, 10)
	    : -1;
	PQclear(res);
	return v;
}

static void
statements_are_prepared_once(void)
{
	PGconn *conn = open_conn();
	int st;
	EXPECT_INT(prepared_count(conn), 0);
	EXPECT_INT(query_long(conn, "SELECT $1::int + 1", "41", &st), 42);
	EXPECT_INT(st, STATUS_OK);
	EXPECT_INT(query_long(conn, "SELECT $1::int + 1", "1", &st), 2);
	EXPECT_INT(prepared_count(conn), 1);
	EXPECT_INT(query_long(conn, "SELECT $1::int * 2", "21", &st), 42);
	EXPECT_INT(prepared_count(conn), 2);
	PQfinish(conn);
}

static void
same_buffer_new_text_is_not_reused(void)
{
	PGconn *conn = open_conn();
	char sql[64];
	int st;
	snprintf(sql, sizeof sql, "SELECT %d", 1);
	EXPECT_INT(query_long(conn, sql, NULL, &st), 1);
	snprintf(sql, sizeof sql, "SELECT %d", 2);
	EXPECT_INT(query_long(conn, sql, NULL, &st), 2);
	EXPECT_INT(st, STATUS_OK);
	PQfinish(conn);
}

static void
reset_connection_prepares_again(void)
{
	PGconn *conn = open_conn();
	int st;
	EXPECT_INT(query_long(conn, "SELECT $1::int - 1", "8", &st), 7);
	PQreset(conn);
	EXPECT_INT(PQstatus(conn), CONNECTION_OK);
	EXPECT_INT(prepared_count(conn), 0);
	EXPECT_INT(query_long(conn, "SELECT $1::int - 1", "8", &st), 7);
	EXPECT_INT(st, STATUS_OK);
	EXPECT_INT(prepared_count(conn), 1);
	PQfinish(conn);
}

static void
statements_survive_rollback(void)
{
	PGconn *conn = open_conn();
	int st;
	EXPECT_INT(db_exec(conn, "BEGIN", 0, NULL, NULL, NULL), STATUS_OK);
	EXPECT_INT(query_long(conn, "SELECT $1::int + 100", "1", &st), 101);
	EXPECT_INT(db_exec(conn, "ROLLBACK", 0, NULL, NULL, NULL), STATUS_OK);
	EXPECT_INT(query_long(conn, "SELECT $1::int + 100", "2", &st), 102);
	EXPECT_INT(st, STATUS_OK);
	PQfinish(conn);
}

static void
failures_keep_their_status(void)
{
	PGconn *conn = open_conn();
	struct db_error err;
	int st;
	/* A statement the server cannot prepare is reported as it runs. */
	EXPECT_INT(db_exec(conn, "SELEC 1", 0, NULL, NULL, &err),
	    STATUS_INTERNAL);
	EXPECT_STR(err.sqlstate, "42601");
	EXPECT_CONTAINS(err.message, "syntax error");

	EXPECT_INT(db_exec(conn,
	               "CREATE TEMP TABLE t (k int PRIMARY KEY)", 0, NULL,
	               NULL, NULL),
	    STATUS_OK);
	static const char insert[] = "INSERT INTO t VALUES ($1::int)";
	const char *one = "1";
	EXPECT_INT(db_exec(conn, insert, 1, &one, NULL, NULL), STATUS_OK);
	EXPECT_INT(db_exec(conn, insert, 1, &one, NULL, &err),
	    STATUS_ALREADY_EXISTS);
	EXPECT_STR(err.constraint, "t_pkey");

	/* A PREPARE refused inside a failed transaction is not remembered:
	 * after the rollback the statement is prepared and runs. */
	EXPECT_INT(db_exec(conn, "BEGIN", 0, NULL, NULL, NULL), STATUS_OK);
	EXPECT_INT(db_exec(conn, "SELECT 1/0", 0, NULL, NULL, NULL),
	    STATUS_INTERNAL);
	EXPECT_INT(query_long(conn, "SELECT $1::int + 7", "1", &st), -1);
	EXPECT_INT(st, STATUS_INTERNAL);
	EXPECT_INT(db_exec(conn, "ROLLBACK", 0, NULL, NULL, NULL), STATUS_OK);
	EXPECT_INT(query_long(conn, "SELECT $1::int + 7", "1", &st), 8);
	EXPECT_INT(st, STATUS_OK);
	PQfinish(conn);
}

static void
foreign_connection_runs_unprepared(void)
{
	/* A connection db_connect did not make has no statement list. */
	PGconn *conn = PQconnectdb(h.conninfo);
	EXPECT_INT(PQstatus(conn), CONNECTION_OK);
	int st;
	EXPECT_INT(query_long(conn, "SELECT $1::int + 2", "1", &st), 3);
	EXPECT_INT(prepared_count(conn), 0);
	PQfinish(conn);
}

/* show_timeout reads the session's statement_timeout through libpq
 * (not db_exec: no deadline applies). */
static void
show_timeout(PGconn *conn, char *out, size_t size)
{
	PGresult *res = PQexec(conn, "SHOW statement_timeout");
	snprintf(out, size, "%s", PQresultStatus(res) == PGRES_TUPLES_OK
	        ? PQgetvalue(res, 0, 0)
	        : "?");
	PQclear(res);
}

static void
statements_keep_to_the_deadline(void)
{
	PGconn *conn = open_conn();
	int st;
	/* Within the budget: runs to the end. */
	db_set_deadline(conn, clock_mono_ms() + 3000);
	query_long(conn, "SELECT count(*) FROM pg_sleep(0.2)", NULL, &st);
	EXPECT_INT(st, STATUS_OK);
	/* Past it: cancelled by the server at the deadline, not after the
	 * statement's 5 s. */
	db_set_deadline(conn, clock_mono_ms() + 300);
	int64_t start = clock_mono_ms();
	query_long(conn, "SELECT count(*) FROM pg_sleep(5)", NULL, &st);
	int64_t took = clock_mono_ms() - start;
	EXPECT_INT(st, STATUS_DEADLINE_EXCEEDED);
	EXPECT(took >= 250 && took < 1500);
	/* Once it has passed, a statement is not even started. */
	db_set_deadline(conn, 0);
	EXPECT_INT(db_exec(conn, "CREATE TEMP TABLE d (x int)", 0, NULL, NULL,
	               NULL), STATUS_OK);
	db_set_deadline(conn, clock_mono_ms() - 1);
	EXPECT_INT(db_exec(conn, "INSERT INTO d VALUES (1)", 0, NULL, NULL,
	               NULL), STATUS_DEADLINE_EXCEEDED);
	/* With no deadline again the session's own setting is back. */
	db_set_deadline(conn, 0);
	EXPECT_INT(query_long(conn, "SELECT count(*) FROM d", NULL, &st), 0);
	EXPECT_INT(st, STATUS_OK);
	char v[32];
	show_timeout(conn, v, sizeof v);
	EXPECT_STR(v, "0");
	PQfinish(conn);
}

static int
insert_then_wait(PGconn *conn, void *arg)
{
	(void)arg;
	int rc = db_exec(conn, "INSERT INTO w VALUES (1)", 0, NULL, NULL, NULL);
	usleep(400 * 1000); /* past the deadline, with no statement running */
	return rc;
}

static int
insert_then_sleep(PGconn *conn, void *arg)
{
	(void)arg;
	int rc = db_exec(conn, "INSERT INTO w VALUES (2)", 0, NULL, NULL, NULL);
	if (rc == STATUS_OK)
		rc = db_exec(conn, "SELECT pg_sleep(5)", 0, NULL, NULL, NULL);
	return rc;
}

static void
transactions_past_the_deadline_roll_back(void)
{
	PGconn *conn = open_conn();
	int st;
	EXPECT_INT(db_exec(conn, "CREATE TEMP TABLE w (x int)", 0, NULL, NULL,
	               NULL), STATUS_OK);
	/* The body finished, but the deadline passed before COMMIT: rolled
	 * back, never committed. */
	bool in_doubt = true;
	db_set_deadline(conn, clock_mono_ms() + 200);
	EXPECT_INT(db_txn(conn, insert_then_wait, NULL, &in_doubt),
	    STATUS_DEADLINE_EXCEEDED);
	EXPECT(!in_doubt);
	/* A statement of the body outlives it: cancelled, rolled back. */
	db_set_deadline(conn, clock_mono_ms() + 300);
	int64_t start = clock_mono_ms();
	EXPECT_INT(db_txn(conn, insert_then_sleep, NULL, &in_doubt),
	    STATUS_DEADLINE_EXCEEDED);
	EXPECT(clock_mono_ms() - start < 1500);
	db_set_deadline(conn, 0);
	EXPECT_INT(PQtransactionStatus(conn), PQTRANS_IDLE);
	EXPECT_INT(query_long(conn, "SELECT count(*) FROM w", NULL, &st), 0);
	EXPECT_INT(st, STATUS_OK);
	PQfinish(conn);
}

static const struct unit_case cases[] = {
	{"statements_keep_to_the_deadline", statements_keep_to_the_deadline},
	{"transactions_past_the_deadline_roll_back",
	    transactions_past_the_deadline_roll_back},
	{"statements_are_prepared_once", statements_are_prepared_once},
	{"same_buffer_new_text_is_not_reused",
	    same_buffer_new_text_is_not_reused},
	{"reset_connection_prepares_again", reset_connection_prepares_again},
	{"statements_survive_rollback", statements_survive_rollback},
	{"failures_keep_their_status", failures_keep_their_status},
	{"foreign_connection_runs_unprepared",
	    foreign_connection_runs_unprepared},
};

UNIT_STATE

int
main(void)
{
	harness_start_db(&h, "db");
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	PQfinish(h.db);
	harness_remove_tree(h.dir);
	return failed == 0 ? 0 : 1;
}
