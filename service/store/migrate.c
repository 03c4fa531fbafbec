/* Applies the embedded migrations under a session-level advisory lock. */
#include "store/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/status.h"
#include "store/chain.h"

/* Any fixed number, the same in every replica: "exe-acc" in ASCII. */
#define MIGRATE_LOCK_KEY "28561348596163427"

static int
exec_simple(PGconn *conn, const char *sql, char *msg, size_t msg_size)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	int rc = STATUS_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		snprintf(msg, msg_size, "%s", PQresultErrorMessage(res));
		rc = PQstatus(conn) == CONNECTION_BAD ? STATUS_UNAVAILABLE
		                                      : STATUS_INTERNAL;
	}
	PQclear(res);
	return rc;
}

int
migrate_latest(void)
{
	return migrate_count > 0 ? migrate_all[migrate_count - 1].version : 0;
}

static int
applied_version(PGconn *conn, int *version, char *msg, size_t msg_size)
{
	PGresult *res = PQexec(conn,
	    "SELECT coalesce(max(version), 0) FROM schema_migrations");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(msg, msg_size, "%s", PQresultErrorMessage(res));
		PQclear(res);
		return STATUS_INTERNAL;
	}
	*version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	return STATUS_OK;
}

/* migrate_step runs the part of migration `m` that SQL cannot do, in its
 * transaction, after its SQL: hashing the activity records that the
 * chain's migration numbered (its key never reaches the database). */
static int
migrate_step(PGconn *conn, const struct migration *m,
    const unsigned char *activity_key, char *msg, size_t msg_size)
{
	const char *base = strchr(m->name, '_');
	if (base != NULL && strcmp(base + 1, "activity_chain.sql") == 0)
		return chain_seal_existing(conn, activity_key, msg, msg_size);
	return STATUS_OK;
}

static int
apply_one(PGconn *conn, const struct migration *m,
    const unsigned char *activity_key, char *msg, size_t msg_size)
{
	char version[16];
	snprintf(version, sizeof version, "%d", m->version);
	const char *params[] = {version, m->name};
	int rc = exec_simple(conn, "BEGIN", msg, msg_size);
	if (rc == STATUS_OK)
		rc = exec_simple(conn, m->sql, msg, msg_size);
	if (rc == STATUS_OK)
		rc = migrate_step(conn, m, activity_key, msg, msg_size);
	if (rc == STATUS_OK) {
		PGresult *res = PQexecParams(conn,
		    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
		    2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(msg, msg_size, "%s", PQresultErrorMessage(res));
			rc = STATUS_INTERNAL;
		}
		PQclear(res);
	}
	if (rc == STATUS_OK)
		rc = exec_simple(conn, "COMMIT", msg, msg_size);
	if (rc != STATUS_OK) {
		char ignored[256];
		(void)exec_simple(conn, "ROLLBACK", ignored, sizeof ignored);
		char detail[512];
		snprintf(detail, sizeof detail, "%s", msg);
		snprintf(msg, msg_size, "migration %s failed: %s", m->name, detail);
		return rc;
	}
	log_info("migration_applied", "{s:i, s:s}", "version", m->version,
	    "name", m->name);
	return STATUS_OK;
}

int
migrate_run(PGconn *conn, const unsigned char *activity_key, char *msg,
    size_t msg_size)
{
	int rc = exec_simple(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
	    msg, msg_size);
	if (rc != STATUS_OK)
		return rc;
	rc = exec_simple(conn,
	    "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY,"
	    " name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())",
	    msg, msg_size);
	int have = 0;
	if (rc == STATUS_OK)
		rc = applied_version(conn, &have, msg, msg_size);
	for (size_t i = 0; rc == STATUS_OK && i < migrate_count; i++) {
		if (migrate_all[i].version > have)
			rc = apply_one(conn, &migrate_all[i], activity_key, msg,
			    msg_size);
	}
	if (rc == STATUS_OK && have > migrate_latest())
		log_warn("schema_newer", "{s:i, s:i}", "database_version", have,
		    "binary_version", migrate_latest());
	char ignored[256];
	(void)exec_simple(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")",
	    ignored, sizeof ignored);
	return rc;
}
