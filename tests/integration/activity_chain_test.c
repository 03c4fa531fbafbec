/* The activity chain (SPEC R7, issue 16): every record the service writes
 * takes the next place in one chain of all records, with the hash of the
 * record before it and its own keyed hash; 64 writers at once, on two
 * daemons, leave one unbroken chain; records written before the chain
 * existed are chained, in the order they were written, by the migration
 * that adds it. The test recomputes every hash itself with the daemon's
 * activity key (base/chain.h) and reads the chain straight from
 * PostgreSQL. */
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/chain.h"
#include "fixtures.h"
#include "harness.h"
#include "store/migrate.h"
#include "unit/unit.h"

static struct harness h;

static unsigned char activity_key[CHAIN_KEY_BYTES];

/* hash_of reads a bytea column's hex text into `out`. */
static bool
hash_of(const char *text, unsigned char out[CHAIN_HASH_BYTES])
{
	size_t len = 0;
	return text != NULL && text[0] == '\\' && text[1] == 'x' &&
	       sodium_hex2bin(out, CHAIN_HASH_BYTES, text + 2, strlen(text + 2),
	           NULL, &len, NULL) == 0 &&
	       len == CHAIN_HASH_BYTES;
}

static const char *
text_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* One workspace's (or organisation's) newest place, as chain_problem
 * walks. */
struct scope_last {
	char scope[40];
	uint64_t seq;
};

/* chain_problem walks the whole chain in `db` and describes, in `why`,
 * the first thing wrong with it: a record outside the chain, a place
 * skipped, a link to the wrong record, a hash that does not match the
 * record, a wrong link to its workspace's previous record, or a head
 * that is not the newest record. Returns false (and sets *count to the
 * chain's length) when nothing is wrong. */
static bool
chain_problem(PGconn *db, long *count, char *why, size_t why_size)
{
	PGresult *res = PQexec(db,
	    "SELECT chain_seq, id, revision, unix_us(at), scope_prev,"
	    " workspace_id::text, organization_id::text, actor_user_id::text,"
	    " actor_api_key_id::text, action, resource_type, resource_id,"
	    " detail, prev_hash, hash,"
	    " coalesce(workspace_id, organization_id)::text"
	    " FROM activity ORDER BY chain_seq NULLS LAST, id");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(why, why_size, "%s", PQerrorMessage(db));
		PQclear(res);
		return true;
	}
	int rows = PQntuples(res);
	struct scope_last *scopes = calloc((size_t)rows + 1, sizeof *scopes);
	size_t nscopes = 0;
	unsigned char prev[CHAIN_HASH_BYTES] = {0};
	bool bad = false;
	for (int i = 0; i < rows && !bad; i++) {
		const char *id = PQgetvalue(res, i, 1);
		if (PQgetisnull(res, i, 0) || PQgetisnull(res, i, 14)) {
			snprintf(why, why_size, "record %s is not chained", id);
			bad = true;
			break;
		}
		struct chain_record r = {
		    .seq = strtoull(PQgetvalue(res, i, 0), NULL, 10),
		    .prev = prev,
		    .id = strtoll(id, NULL, 10),
		    .revision = strtoull(PQgetvalue(res, i, 2), NULL, 10),
		    .at_us = strtoll(PQgetvalue(res, i, 3), NULL, 10),
		    .scope_prev = strtoull(PQgetvalue(res, i, 4), NULL, 10),
		    .workspace_id = text_or_null(res, i, 5),
		    .organization_id = text_or_null(res, i, 6),
		    .actor_user_id = text_or_null(res, i, 7),
		    .actor_api_key_id = text_or_null(res, i, 8),
		    .action = text_or_null(res, i, 9),
		    .resource_type = text_or_null(res, i, 10),
		    .resource_id = text_or_null(res, i, 11),
		    .detail = text_or_null(res, i, 12),
		};
		unsigned char stored_prev[CHAIN_HASH_BYTES],
		    stored[CHAIN_HASH_BYTES];
		unsigned char want[CHAIN_HASH_BYTES];
		chain_hash(activity_key, &r, want);
		const char *scope = PQgetvalue(res, i, 15);
		size_t s = 0;
		while (s < nscopes && strcmp(scopes[s].scope, scope) != 0)
			s++;
		uint64_t scope_prev = s < nscopes ? scopes[s].seq : 0;
		if (r.seq != (uint64_t)i + 1) {
			snprintf(why, why_size,
			    "record %s is at place %" PRIu64 ", expected %d",
			    id, r.seq, i + 1);
			bad = true;
		} else if (!hash_of(PQgetvalue(res, i, 13), stored_prev) ||
		           memcmp(stored_prev, prev, sizeof prev) != 0) {
			snprintf(why, why_size,
			    "record %s (place %" PRIu64
			    ") does not link to the record before it",
			    id, r.seq);
			bad = true;
		} else if (!hash_of(PQgetvalue(res, i, 14), stored) ||
		           memcmp(stored, want, sizeof want) != 0) {
			snprintf(why, why_size,
			    "record %s (place %" PRIu64
			    "): its hash does not match it",
			    id, r.seq);
			bad = true;
		} else if (r.scope_prev != scope_prev) {
			snprintf(why, why_size,
			    "record %s (place %" PRIu64 ") names %" PRIu64
			    " as its workspace's previous "
			    "record, expected %" PRIu64,
			    id, r.seq, r.scope_prev, scope_prev);
			bad = true;
		}
		if (s == nscopes) {
			snprintf(scopes[s].scope, sizeof scopes[s].scope, "%s",
			    scope);
			nscopes++;
		}
		scopes[s].seq = r.seq;
		memcpy(prev, stored, sizeof prev);
	}
	PQclear(res);
	free(scopes);
	if (bad)
		return true;
	res = PQexec(db, "SELECT activity_count, activity_head"
	                 " FROM revision_counter");
	unsigned char head[CHAIN_HASH_BYTES];
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    strtol(PQgetvalue(res, 0, 0), NULL, 10) != rows ||
	    !hash_of(PQgetvalue(res, 0, 1), head) ||
	    memcmp(head, prev, sizeof head) != 0) {
		snprintf(why, why_size,
		    "the head is not the newest of the %d "
		    "records",
		    rows);
		PQclear(res);
		return true;
	}
	PQclear(res);
	*count = rows;
	return false;
}

static void
expect_intact(PGconn *db, long *count)
{
	char why[256] = "";
	long n = 0;
	EXPECT(!chain_problem(db, &n, why, sizeof why));
	if (why[0] != '\0')
		fprintf(stderr, "  chain: %s\n", why);
	if (count != NULL)
		*count = n;
}

static void
every_write_is_chained(void)
{
	struct fixture_team t;
	fixture_team_make(h.client, "Chain Org", "Chain Team", &t);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	exa_error err;
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	               "experiment", harness_unique("exp-"), NULL, NULL, &err),
	    EXA_OK);
	long n = 0;
	expect_intact(h.db, &n);
	/* Sign-ups, the organisation, the team and its members, the
	 * resource: each wrote one record. */
	EXPECT(n >= 8);
	EXPECT_INT(
	    n, harness_sql_long(&h, "SELECT count(*) FROM activity", NULL));
}

/* ---- 64 writers at once ---- */

enum { WRITERS = 64, RECORDS_EACH = 8 };

struct writer {
	exa_client *client;
	const struct fixture_team *team;
	int index;
	int ok; /* writes acknowledged */
};

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	exa_error err;
	char name[32];
	snprintf(name, sizeof name, "w%dx%d", w->index, (int)getpid());
	if (fixture_create_user(w->client, name, NULL, NULL, NULL, &err) ==
	    EXA_OK)
		w->ok++;
	Exe__Access__V1__Principal member = fixture_as_user(w->team->member.id);
	for (int i = 0; i < RECORDS_EACH; i++) {
		Exe__Access__V1__RecordActivityRequest req =
		    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
		req.actor = &member;
		req.workspace_id = (char *)w->team->workspace;
		req.action = "measurement.add";
		char detail[48];
		snprintf(
		    detail, sizeof detail, "writer %d, record %d", w->index, i);
		req.detail = detail;
		Exe__Access__V1__RecordActivityResponse *resp = NULL;
		if (exa_record_activity(w->client, &req, &resp, &err) == EXA_OK)
			w->ok++;
		else
			fprintf(
			    stderr, "  writer %d: %s\n", w->index, err.message);
		exa_free(resp);
	}
	return NULL;
}

static void
sixty_four_writers_leave_one_unbroken_chain(void)
{
	/* A second daemon on the same database: the writers race across
	 * processes too. */
	struct harness h2;
	harness_launch_replica(
	    &h2, &h, (const char *const[]){"--workers=16", NULL});
	struct fixture_team t;
	fixture_team_make(h.client, "Race Org", "Race Team", &t);
	long before =
	    harness_sql_long(&h, "SELECT count(*) FROM activity", NULL);
	struct writer w[WRITERS];
	pthread_t th[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){.client = i % 2 ? h2.client : h.client,
		    .team = &t,
		    .index = i};
		pthread_create(&th[i], NULL, writer_run, &w[i]);
	}
	int ok = 0;
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
	}
	EXPECT_INT(ok, WRITERS * (1 + RECORDS_EACH));
	long n = 0;
	expect_intact(h.db, &n);
	EXPECT_INT(n - before, ok);
	/* One chain: no two records share a place or a predecessor. */
	EXPECT_INT(
	    harness_sql_long(&h,
	        "SELECT count(*) - count(DISTINCT prev_hash) FROM activity",
	        NULL),
	    0);
	EXPECT_INT(harness_stop(&h2), 0);
}

/* ---- records that predate the chain ---- */

static void
existing_records_are_chained_by_the_migration(void)
{
	/* A database at the schema before the chain, with records the
	 * service wrote then (workspace and organisation records, with and
	 * without a resource, by a user and by a key). */
	struct harness old;
	harness_start_db(&old, "chain_old");
	PGresult *res = PQexec(old.db, migrate_all[0].sql);
	EXPECT_INT(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	res = PQexec(old.db,
	    "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
	    " name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now());"
	    "INSERT INTO schema_migrations (version, name)"
	    " VALUES (1, '001_schema.sql');"
	    "INSERT INTO activity (workspace_id, organization_id, "
	    "actor_user_id,"
	    "  actor_api_key_id, action, resource_type, resource_id, detail,"
	    "  revision, at)"
	    " SELECT CASE WHEN g % 3 = 0 THEN NULL ELSE"
	    "   ('00000000-0000-0000-0000-00000000000' || (g % 3))::uuid END,"
	    "  CASE WHEN g % 3 = 0 THEN"
	    "   '11111111-1111-1111-1111-111111111111'::uuid END,"
	    "  CASE WHEN g % 2 = 0 THEN gen_random_uuid() END,"
	    "  CASE WHEN g % 2 = 1 THEN gen_random_uuid() END,"
	    "  'measurement.add',"
	    "  CASE WHEN g % 4 = 0 THEN 'experiment' END,"
	    "  CASE WHEN g % 4 = 0 THEN 'e' || g END,"
	    "  'old record ' || g, g,"
	    "  now() - (3000 - g) * interval '1.000001 second'"
	    " FROM generate_series(1, 2500) AS g;"
	    "UPDATE revision_counter SET value = 2500;");
	EXPECT_INT(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	harness_spawn(&old, NULL);

	long n = 0;
	expect_intact(old.db, &n);
	EXPECT_INT(n, 2500);
	/* In the order they were written. */
	EXPECT_INT(
	    harness_sql_long(&old,
	        "SELECT count(*) FROM activity WHERE chain_seq <> id", NULL),
	    0);
	/* A record written the old way, outside the chain (an older
	 * version's replica during a rolling upgrade), is refused. */
	res = PQexec(old.db,
	    "INSERT INTO activity (workspace_id, actor_user_id, action,"
	    " revision) VALUES (gen_random_uuid(), gen_random_uuid(),"
	    " 'measurement.add', 1)");
	EXPECT_INT(PQresultStatus(res), PGRES_FATAL_ERROR);
	EXPECT_STR(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514");
	PQclear(res);
	/* New writes go on from there. */
	struct fixture_user u;
	EXPECT(fixture_sign_up(old.client, "after", &u));
	expect_intact(old.db, &n);
	EXPECT_INT(n, 2501);
	EXPECT_INT(harness_stop(&old), 0);
}

static const struct unit_case cases[] = {
    {"every write is chained", every_write_is_chained},
    {"64 writers leave one unbroken chain",
        sixty_four_writers_leave_one_unbroken_chain},
    {"existing records are chained by the migration",
        existing_records_are_chained_by_the_migration},
};

UNIT_STATE

int
main(void)
{
	if (sodium_init() < 0 ||
	    sodium_hex2bin(activity_key, sizeof activity_key,
	        HARNESS_ACTIVITY_KEY_HEX, strlen(HARNESS_ACTIVITY_KEY_HEX),
	        NULL, NULL, NULL) != 0)
		return 1;
	return fixture_run_suite(&h, "activity_chain",
	    (const char *const[]){"--workers=16", NULL}, cases,
	    sizeof cases / sizeof cases[0]);
}
