/* Tests of the authorization reads of service/store/authz.c against the
 * suite's PostgreSQL: an answer is stamped with the revision of the very
 * snapshot it was read in, also when the answer is "there is no such
 * workspace" or "there is no such key". A negative answer stamped with a
 * later revision than its read saw would be cached as if it reflected the
 * write that created the workspace or key, and never dropped.
 *
 * Each case races a writer, which creates a workspace (or key) and bumps
 * the revision in one transaction, as every write of the service does,
 * against a reader that asks about it until it appears: every "not there"
 * must carry a revision older than the creation's. */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/status.h"
#include "harness.h"
#include "rpc/call.h"
#include "store/authz.h"
#include "store/db.h"
#include "store/migrate.h"
#include "unit/unit.h"

enum { ROUNDS = 150 };

static struct harness h; /* only its database: no daemon */
static char org_id[37], home_ws[37];

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

/* sql_value runs `sql` (PQexec) and copies its first value into `out`. */
static void
sql_value(PGconn *conn, const char *sql, char *out, size_t size)
{
	PGresult *res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
		exit(1);
	}
	if (out != NULL)
		snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

static void
random_uuid(char out[37])
{
	unsigned char b[16];
	randombytes_buf(b, sizeof b);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
}

/* One round: the writer creates `target`; the reader asks until it is
 * there. */
struct race {
	bool keys; /* the target is an API key hash, else a workspace id */
	char targets[ROUNDS][80];
	uint64_t created_at[ROUNDS]; /* the creating transaction's revision */
	uint64_t worst_negative[ROUNDS]; /* newest revision of a "not there" */
	_Atomic int polling;             /* the round the reader is asking */
};

static void *
race_writer(void *arg)
{
	struct race *r = arg;
	PGconn *conn = open_conn();
	for (int i = 0; i < ROUNDS; i++) {
		while (atomic_load(&r->polling) < i)
			;
		/* Land the commit somewhere inside the reader's loop. */
		struct timespec pause = {0, (long)randombytes_uniform(400) * 1000};
		nanosleep(&pause, NULL);
		char sql[512];
		if (r->keys)
			snprintf(sql, sizeof sql,
			    "INSERT INTO api_keys (workspace_id, key_hash,"
			    " display_prefix, expires_at)"
			    " VALUES ('%s', '%s', 'exa_live_test',"
			    " now() + interval '1 day')", home_ws, r->targets[i]);
		else
			snprintf(sql, sizeof sql,
			    "INSERT INTO workspaces (id, kind, name,"
			    " organization_id) VALUES ('%s', 'team', 'race', '%s')",
			    r->targets[i], org_id);
		char rev[32];
		sql_value(conn, "BEGIN", NULL, 0);
		sql_value(conn, sql, NULL, 0);
		sql_value(conn, "UPDATE revision_counter SET value = value + 1"
		                " RETURNING value", rev, sizeof rev);
		sql_value(conn, "COMMIT", NULL, 0);
		r->created_at[i] = strtoull(rev, NULL, 10);
	}
	PQfinish(conn);
	return NULL;
}

/* race_run races the writer against store_user_standing or
 * store_key_lookup and checks every negative answer's revision. */
static void
race_run(bool keys)
{
	static struct race r;
	memset(&r, 0, sizeof r);
	r.keys = keys;
	for (int i = 0; i < ROUNDS; i++) {
		if (keys) {
			unsigned char b[32];
			randombytes_buf(b, sizeof b);
			db_hex(b, sizeof b, r.targets[i]);
		} else {
			random_uuid(r.targets[i]);
		}
	}
	struct call call;
	memset(&call, 0, sizeof call);
	arena_init(&call.arena);
	call.db = open_conn();
	char nobody[37];
	random_uuid(nobody);

	pthread_t writer;
	pthread_create(&writer, NULL, race_writer, &r);
	size_t negatives = 0;
	for (int i = 0; i < ROUNDS; i++) {
		atomic_store(&r.polling, i);
		for (;;) {
			bool there;
			uint64_t rev;
			int rc;
			if (keys) {
				struct key_standing k;
				rc = store_key_lookup(&call, r.targets[i], &k);
				there = k.found;
				rev = k.revision;
			} else {
				struct standing st;
				rc = store_user_standing(&call, r.targets[i],
				    nobody, STORE_LOCK_NONE, &st);
				there = st.workspace_exists;
				rev = st.revision;
			}
			EXPECT_INT(rc, STATUS_OK);
			if (rc != STATUS_OK || there)
				break;
			negatives++;
			if (rev > r.worst_negative[i])
				r.worst_negative[i] = rev;
		}
	}
	pthread_join(writer, NULL);
	int stale = 0;
	for (int i = 0; i < ROUNDS; i++) {
		if (r.worst_negative[i] >= r.created_at[i] &&
		    r.worst_negative[i] != 0)
			stale++;
	}
	if (stale > 0)
		fprintf(stderr, "  %d of %d rounds answered \"not there\" at or "
		    "after the revision that created it (%zu negatives)\n",
		    stale, ROUNDS, negatives);
	EXPECT_INT(stale, 0);
	/* The race ran: the reader did see most targets missing first. */
	EXPECT(negatives >= ROUNDS / 2);
	PQfinish(call.db);
	arena_reset(&call.arena);
}

static void
missing_workspace_is_stamped_with_its_own_snapshot(void)
{
	race_run(false);
}

static void
unknown_key_is_stamped_with_its_own_snapshot(void)
{
	race_run(true);
}

static const struct unit_case cases[] = {
	{"missing_workspace_is_stamped_with_its_own_snapshot",
	    missing_workspace_is_stamped_with_its_own_snapshot},
	{"unknown_key_is_stamped_with_its_own_snapshot",
	    unknown_key_is_stamped_with_its_own_snapshot},
};

UNIT_STATE

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	harness_start_db(&h, "standing");
	char msg[256];
	static const unsigned char activity_key[32] = {1};
	if (migrate_run(h.db, activity_key, msg, sizeof msg) != STATUS_OK) {
		fprintf(stderr, "migrations: %s\n", msg);
		return 1;
	}
	sql_value(h.db, "INSERT INTO organizations (name) VALUES ('race')"
	                " RETURNING id", org_id, sizeof org_id);
	char sql[256];
	snprintf(sql, sizeof sql,
	    "INSERT INTO workspaces (kind, name, organization_id)"
	    " VALUES ('team', 'home', '%s') RETURNING id", org_id);
	sql_value(h.db, sql, home_ws, sizeof home_ws);
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	PQfinish(h.db);
	harness_remove_tree(h.dir);
	return failed == 0 ? 0 : 1;
}
