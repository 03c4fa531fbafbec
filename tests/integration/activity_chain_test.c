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
#include <stdint.h>
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
	/* And the service says so. */
	Exe__Access__V1__VerifyActivityRequest req =
	    EXE__ACCESS__V1__VERIFY_ACTIVITY_REQUEST__INIT;
	Exe__Access__V1__VerifyActivityResponse *v = NULL;
	exa_error err;
	EXPECT_INT(exa_verify_activity(h2.client, &req, &v, &err), EXA_OK);
	EXPECT(v != NULL && v->intact && (long)v->count == n);
	exa_free(v);
	req.workspace_id = t.workspace;
	EXPECT_INT(exa_verify_activity(h.client, &req, &v, &err), EXA_OK);
	EXPECT(v != NULL && v->intact);
	EXPECT_INT(v != NULL ? (long)v->count : -1,
	    harness_sql_long(&h,
	        "SELECT count(*) FROM activity WHERE workspace_id = $1",
	        t.workspace, NULL));
	exa_free(v);
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
	Exe__Access__V1__VerifyActivityRequest req =
	    EXE__ACCESS__V1__VERIFY_ACTIVITY_REQUEST__INIT;
	Exe__Access__V1__VerifyActivityResponse *v = NULL;
	exa_error err;
	EXPECT_INT(exa_verify_activity(old.client, &req, &v, &err), EXA_OK);
	EXPECT(v != NULL && v->intact && v->count == 2501);
	exa_free(v);
	EXPECT_INT(harness_stop(&old), 0);
}

/* ---- VerifyActivity ---- */

typedef Exe__Access__V1__VerifyActivityResponse verify_resp;

#define BREAK(k) EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_##k

/* verify asks VerifyActivity about the whole log (both NULL), a workspace
 * or an organisation's own records. */
static exa_status
verify(const char *workspace_id, const char *organization_id, verify_resp **out,
    exa_error *err)
{
	Exe__Access__V1__VerifyActivityRequest req =
	    EXE__ACCESS__V1__VERIFY_ACTIVITY_REQUEST__INIT;
	if (workspace_id != NULL)
		req.workspace_id = (char *)workspace_id;
	if (organization_id != NULL)
		req.organization_id = (char *)organization_id;
	*out = NULL;
	return exa_verify_activity(h.client, &req, out, err);
}

/* verify_anchored asks VerifyActivity about the whole log, with the
 * head `anchor` gave earlier. */
static exa_status
verify_anchored(const verify_resp *anchor, verify_resp **out, exa_error *err)
{
	Exe__Access__V1__VerifyActivityRequest req =
	    EXE__ACCESS__V1__VERIFY_ACTIVITY_REQUEST__INIT;
	req.anchor_seq = anchor->head_seq;
	req.anchor_hash = anchor->head_hash;
	*out = NULL;
	return exa_verify_activity(h.client, &req, out, err);
}

/* expect_break checks that VerifyActivity of `workspace_id` (NULL: the
 * whole log) names a break of `kind` at place `seq`, found on record
 * `record_id` ("" for none). */
static void
expect_break_at(int line, const char *workspace_id, int kind, long seq,
    const char *record_id)
{
	verify_resp *r = NULL;
	exa_error err;
	exa_status rc = verify(workspace_id, NULL, &r, &err);
	if (rc != EXA_OK || r == NULL) {
		fprintf(stderr, "  line %d: VerifyActivity: %s\n", line,
		    err.message);
		unit_case_failed = 1;
		return;
	}
	const Exe__Access__V1__ActivityBreak *b = r->first_break;
	printf("  %s: %s\n", workspace_id != NULL ? "workspace" : "whole log",
	    b != NULL ? b->message : "intact");
	if (r->intact || b == NULL || (int)b->kind != kind ||
	    (long)b->chain_seq != seq || strcmp(b->record_id, record_id) != 0) {
		fprintf(stderr,
		    "  line %d: expected break %d at place %ld on record "
		    "\"%s\", got %s %d at %ld on \"%s\"\n",
		    line, kind, seq, record_id, r->intact ? "intact" : "break",
		    b != NULL ? (int)b->kind : -1,
		    b != NULL ? (long)b->chain_seq : -1,
		    b != NULL ? b->record_id : "");
		unit_case_failed = 1;
	}
	exa_free(r);
}
#define expect_break(ws, kind, seq, id)                                        \
	expect_break_at(__LINE__, ws, BREAK(kind), seq, id)

/* expect_verified checks that VerifyActivity of `workspace_id` (NULL:
 * the whole log) finds no break, and returns the count it checked. */
static long
expect_verified_at(int line, const char *workspace_id)
{
	verify_resp *r = NULL;
	exa_error err;
	exa_status rc = verify(workspace_id, NULL, &r, &err);
	long count = -1;
	if (rc != EXA_OK || r == NULL || !r->intact) {
		fprintf(stderr, "  line %d: not verified: %s\n", line,
		    rc != EXA_OK             ? err.message
		    : r->first_break != NULL ? r->first_break->message
		                             : "?");
		unit_case_failed = 1;
	} else {
		count = (long)r->count;
	}
	exa_free(r);
	return count;
}
#define expect_verified(ws) expect_verified_at(__LINE__, ws)

static void
sql_ok(const char *sql)
{
	PGresult *res = PQexec(h.db, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		fprintf(stderr, "  %s: %s", sql, PQerrorMessage(h.db));
		unit_case_failed = 1;
	}
	PQclear(res);
}

/* A team with records of its own, somewhere in the middle of the log. */
struct tamper {
	struct fixture_team team;
	char ids[6][24]; /* six records of the team's, in order */
	long places[6];
};

static void
tamper_make(struct tamper *t)
{
	fixture_team_make(h.client, "Tamper Org", "Tamper Team", &t->team);
	Exe__Access__V1__Principal member = fixture_as_user(t->team.member.id);
	for (int i = 0; i < 6; i++) {
		/* Someone else's write between each two, so that the team's
		 * records are not neighbours in the log. */
		struct fixture_user u;
		fixture_sign_up(h.client, "between", &u);
		Exe__Access__V1__RecordActivityRequest req =
		    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
		req.actor = &member;
		req.workspace_id = t->team.workspace;
		req.action = "measurement.add";
		char detail[32];
		snprintf(detail, sizeof detail, "measurement %d", i);
		req.detail = detail;
		Exe__Access__V1__RecordActivityResponse *resp = NULL;
		exa_error err;
		fixture_must(exa_record_activity(h.client, &req, &resp, &err),
		    &err, "record");
		snprintf(t->ids[i], sizeof t->ids[i], "%s", resp->record->id);
		exa_free(resp);
		t->places[i] = harness_sql_long(&h,
		    "SELECT chain_seq FROM activity WHERE id = $1::bigint",
		    t->ids[i], NULL);
	}
	/* And one write after them all. */
	struct fixture_user u;
	fixture_sign_up(h.client, "after", &u);
	expect_verified(NULL);
	expect_verified(t->team.workspace);
}

static void
an_untouched_log_verifies(void)
{
	struct tamper t;
	tamper_make(&t);
	verify_resp *r = NULL;
	exa_error err;
	EXPECT_INT(verify(NULL, NULL, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->intact);
		EXPECT(r->first_break == NULL);
		EXPECT_INT(
		    r->count, harness_sql_long(
		                  &h, "SELECT count(*) FROM activity", NULL));
		EXPECT_INT(r->head_seq, r->count);
		/* The head is the database's, and the newest record's hash. */
		char hex[CHAIN_HASH_HEX] = "";
		if (r->head_hash.len == CHAIN_HASH_BYTES)
			sodium_bin2hex(hex, sizeof hex, r->head_hash.data,
			    r->head_hash.len);
		EXPECT_INT(harness_sql_long(&h,
		               "SELECT count(*) FROM revision_counter c JOIN "
		               "activity a"
		               " ON a.chain_seq = c.activity_count"
		               " WHERE c.activity_head = a.hash"
		               " AND encode(a.hash, 'hex') = $1",
		               hex, NULL),
		    1);
	}
	exa_free(r);
	/* One workspace: its records, its newest one. */
	EXPECT_INT(verify(t.team.workspace, NULL, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->intact);
		EXPECT_INT(r->count,
		    harness_sql_long(&h,
		        "SELECT count(*) FROM activity WHERE workspace_id = $1",
		        t.team.workspace, NULL));
		EXPECT_INT(r->head_seq, t.places[5]);
	}
	exa_free(r);
	/* An organisation's own records (its creation, its admins). */
	EXPECT_INT(verify(NULL, t.team.org, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->intact);
		EXPECT(r->count >= 1);
		EXPECT_INT(r->count, harness_sql_long(&h,
		                         "SELECT count(*) FROM activity WHERE "
		                         "workspace_id IS NULL"
		                         " AND organization_id = $1",
		                         t.team.org, NULL));
	}
	exa_free(r);
	/* A workspace that never had a record; bad requests; a check-scoped
	 * caller. */
	EXPECT_INT(
	    verify("00000000-0000-4000-8000-000000000000", NULL, &r, &err),
	    EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "workspace_id");
	EXPECT_INT(verify("not-a-uuid", NULL, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "workspace_id");
	EXPECT_INT(verify(t.team.workspace, t.team.org, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "at most one");
	exa_client *checker = NULL;
	EXPECT_INT(exa_client_open(h.url, h.check_token, NULL, &checker, &err),
	    EXA_OK);
	Exe__Access__V1__VerifyActivityRequest req =
	    EXE__ACCESS__V1__VERIFY_ACTIVITY_REQUEST__INIT;
	EXPECT_INT(exa_verify_activity(checker, &req, &r, &err),
	    EXA_PERMISSION_DENIED);
	exa_client_close(checker);
}

static void
an_edited_record_is_named(void)
{
	struct tamper t;
	tamper_make(&t);
	const char *id = t.ids[2];
	long place = t.places[2];
	/* Each column of the record, one at a time. */
	static const char *const edits[][2] = {
	    {"detail = 'measurement 99'", "detail"},
	    {"action = 'experiment.delete'", "action"},
	    {"actor_user_id = gen_random_uuid()", "actor_user_id"},
	    {"at = at + interval '1 microsecond'", "at"},
	    {"revision = revision + 1", "revision"},
	    {"resource_type = 'experiment', resource_id = 'e1'", "resource"},
	};
	PGresult *res;
	char sql[512];
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		printf("  UPDATE %s\n", edits[i][1]);
		sql_ok("CREATE TEMP TABLE saved AS SELECT * FROM activity"
		       " WITH NO DATA");
		snprintf(sql, sizeof sql,
		    "INSERT INTO saved SELECT * FROM activity WHERE id = %s;"
		    "UPDATE activity SET %s WHERE id = %s",
		    id, edits[i][0], id);
		sql_ok(sql);
		expect_break(NULL, ALTERED, place, id);
		expect_break(t.team.workspace, ALTERED, place, id);
		/* Another workspace's records still verify. */
		expect_verified(t.team.admin.workspace);
		snprintf(sql, sizeof sql,
		    "DELETE FROM activity WHERE id = %s;"
		    "INSERT INTO activity OVERRIDING SYSTEM VALUE"
		    " SELECT * FROM saved; DROP TABLE saved",
		    id);
		sql_ok(sql);
		expect_verified(NULL);
	}
	/* Moved to another workspace: gone from its own. */
	snprintf(sql, sizeof sql,
	    "UPDATE activity SET workspace_id = $1 WHERE id = %s", id);
	const char *params[] = {t.team.admin.workspace};
	res = PQexecParams(h.db, sql, 1, NULL, params, NULL, NULL, 0);
	EXPECT_INT(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	expect_break(NULL, ALTERED, place, id);
	expect_break(t.team.workspace, MISSING, place, "");
	snprintf(sql, sizeof sql,
	    "UPDATE activity SET workspace_id = $1 WHERE id = %s", id);
	params[0] = t.team.workspace;
	res = PQexecParams(h.db, sql, 1, NULL, params, NULL, NULL, 0);
	PQclear(res);
	expect_verified(NULL);
	expect_verified(t.team.workspace);
}

static void
a_deleted_record_is_named(void)
{
	struct tamper t;
	tamper_make(&t);
	char sql[512];
	for (int i = 1; i < 6; i += 2) {
		snprintf(sql, sizeof sql,
		    "CREATE TEMP TABLE saved AS SELECT * FROM activity"
		    " WHERE id = %s; DELETE FROM activity WHERE id = %s",
		    t.ids[i], t.ids[i]);
		sql_ok(sql);
		if (i < 5) {
			expect_break(NULL, MISSING, t.places[i], "");
			expect_break(
			    t.team.workspace, MISSING, t.places[i], "");
		} else {
			/* The workspace's newest: the log still goes on after
			 * it, the workspace's head says it is gone. */
			expect_break(NULL, MISSING, t.places[i], "");
			expect_break(t.team.workspace, HEAD, t.places[i], "");
		}
		sql_ok("INSERT INTO activity OVERRIDING SYSTEM VALUE"
		       " SELECT * FROM saved; DROP TABLE saved");
		expect_verified(NULL);
		expect_verified(t.team.workspace);
	}
}

static void
swapped_records_are_named(void)
{
	struct tamper t;
	tamper_make(&t);
	/* Two records trade places: the first place holds the later one. */
	char sql[512];
	snprintf(sql, sizeof sql,
	    "UPDATE activity SET chain_seq = -1 WHERE id = %s;"
	    "UPDATE activity SET chain_seq = %ld WHERE id = %s;"
	    "UPDATE activity SET chain_seq = %ld WHERE id = %s",
	    t.ids[1], t.places[1], t.ids[4], t.places[4], t.ids[1]);
	sql_ok(sql);
	expect_break(NULL, MISLINKED, t.places[1], t.ids[4]);
	expect_break(t.team.workspace, MISLINKED, t.places[1], t.ids[4]);
	snprintf(sql, sizeof sql,
	    "UPDATE activity SET chain_seq = -1 WHERE id = %s;"
	    "UPDATE activity SET chain_seq = %ld WHERE id = %s;"
	    "UPDATE activity SET chain_seq = %ld WHERE id = %s",
	    t.ids[4], t.places[1], t.ids[1], t.places[4], t.ids[4]);
	sql_ok(sql);
	expect_verified(NULL);
	/* Or they trade their contents, each keeping its place and hash. */
	static const char swap[] =
	    "UPDATE activity a SET detail = b.detail, revision = b.revision,"
	    " at = b.at FROM activity b"
	    " WHERE (a.id, b.id) IN ((%s, %s), (%s, %s))";
	snprintf(sql, sizeof sql, swap, t.ids[1], t.ids[4], t.ids[4], t.ids[1]);
	sql_ok(sql);
	expect_break(NULL, ALTERED, t.places[1], t.ids[1]);
	expect_break(t.team.workspace, ALTERED, t.places[1], t.ids[1]);
	sql_ok(sql);
	expect_verified(NULL);
	expect_verified(t.team.workspace);
}

static void
a_forged_record_is_named(void)
{
	struct tamper t;
	tamper_make(&t);
	long count = harness_sql_long(
	    &h, "SELECT activity_count FROM revision_counter", NULL);
	/* A copy of one of the team's records, past the head, with a hash
	 * made up (no key). */
	char sql[1024];
	snprintf(sql, sizeof sql,
	    "INSERT INTO activity (workspace_id, organization_id,"
	    " actor_user_id, actor_api_key_id, action, resource_type,"
	    " resource_id, detail, revision, at, chain_seq, prev_hash,"
	    " scope_prev, hash)"
	    " SELECT workspace_id, organization_id, actor_user_id,"
	    " actor_api_key_id, action, resource_type, resource_id,"
	    " 'forged', revision, at, %ld, (SELECT activity_head FROM"
	    " revision_counter), %ld, sha256('forged'::bytea)"
	    " FROM activity WHERE id = %s RETURNING id",
	    count + 1, t.places[5], t.ids[5]);
	char forged[24];
	PGresult *res = PQexec(h.db, sql);
	EXPECT_INT(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(forged, sizeof forged, "%s",
	    PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	expect_break(NULL, INSERTED, count + 1, forged);
	expect_break(t.team.workspace, INSERTED, count + 1, forged);
	/* With the head moved to it as well: its hash gives it away. */
	snprintf(sql, sizeof sql,
	    "UPDATE revision_counter SET activity_count = %ld,"
	    " activity_head = sha256('forged'::bytea)",
	    count + 1);
	sql_ok(sql);
	expect_break(NULL, ALTERED, count + 1, forged);
	snprintf(sql, sizeof sql,
	    "DELETE FROM activity WHERE id = %s;"
	    "UPDATE revision_counter SET activity_count = %ld,"
	    " activity_head = (SELECT hash FROM activity WHERE chain_seq = "
	    "%ld)",
	    forged, count, count);
	sql_ok(sql);
	expect_verified(NULL);
	/* In the middle, the places after it moved up one: the record at
	 * the forged one's place does not follow its predecessor's hash. */
	snprintf(sql, sizeof sql,
	    "UPDATE activity SET chain_seq = -chain_seq"
	    " WHERE chain_seq >= %ld;"
	    "UPDATE activity SET chain_seq = 1 - chain_seq"
	    " WHERE chain_seq < 0;"
	    "INSERT INTO activity (workspace_id, actor_user_id, action,"
	    " detail, revision, chain_seq, prev_hash, scope_prev, hash)"
	    " SELECT workspace_id, actor_user_id, action, 'forged', revision,"
	    " %ld, prev_hash, scope_prev, sha256('x'::bytea)"
	    " FROM activity WHERE id = %s RETURNING id",
	    t.places[3], t.places[3], t.ids[3]);
	res = PQexec(h.db, sql);
	EXPECT_INT(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(forged, sizeof forged, "%s",
	    PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	expect_break(NULL, ALTERED, t.places[3], forged);
	expect_break(t.team.workspace, ALTERED, t.places[3], forged);
	snprintf(sql, sizeof sql,
	    "DELETE FROM activity WHERE id = %s;"
	    "UPDATE activity SET chain_seq = -chain_seq"
	    " WHERE chain_seq > %ld;"
	    "UPDATE activity SET chain_seq = -1 - chain_seq"
	    " WHERE chain_seq < 0;",
	    forged, t.places[3]);
	sql_ok(sql);
	expect_verified(NULL);
	/* Without a place at all (the constraint that forbids it dropped). */
	sql_ok("ALTER TABLE activity DROP CONSTRAINT activity_chained");
	snprintf(sql, sizeof sql,
	    "INSERT INTO activity (workspace_id, actor_user_id, action,"
	    " revision) SELECT workspace_id, actor_user_id, action, revision"
	    " FROM activity WHERE id = %s RETURNING id",
	    t.ids[0]);
	res = PQexec(h.db, sql);
	snprintf(forged, sizeof forged, "%s",
	    PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
	PQclear(res);
	expect_break(NULL, INSERTED, 0, forged);
	expect_break(t.team.workspace, INSERTED, 0, forged);
	snprintf(sql, sizeof sql,
	    "DELETE FROM activity WHERE id = %s;"
	    "ALTER TABLE activity ADD CONSTRAINT activity_chained"
	    " CHECK (chain_seq IS NOT NULL AND prev_hash IS NOT NULL"
	    " AND scope_prev IS NOT NULL AND hash IS NOT NULL)",
	    forged);
	sql_ok(sql);
	expect_verified(NULL);
	expect_verified(t.team.workspace);
}

static void
truncation_shows_unless_the_head_moves_too(void)
{
	struct tamper t;
	tamper_make(&t);
	verify_resp *anchor = NULL;
	exa_error err;
	EXPECT_INT(verify(NULL, NULL, &anchor, &err), EXA_OK);
	if (anchor == NULL)
		return;
	long count = (long)anchor->count;
	/* Anchored at the head it has. */
	verify_resp *r = NULL;
	EXPECT_INT(verify_anchored(anchor, &r, &err), EXA_OK);
	EXPECT(r != NULL && r->intact);
	exa_free(r);
	char sql[512];
	/* The two newest records deleted: the head still names them. */
	snprintf(sql, sizeof sql,
	    "CREATE TEMP TABLE saved AS SELECT * FROM activity"
	    " WHERE chain_seq > %ld; DELETE FROM activity"
	    " WHERE chain_seq > %ld",
	    count - 2, count - 2);
	sql_ok(sql);
	expect_break(NULL, HEAD, count - 1, "");
	/* The head rewound too: the chain alone cannot tell, the anchor
	 * can. */
	snprintf(sql, sizeof sql,
	    "UPDATE revision_counter SET activity_count = %ld,"
	    " activity_head = (SELECT hash FROM activity WHERE chain_seq = "
	    "%ld)",
	    count - 2, count - 2);
	sql_ok(sql);
	EXPECT_INT(verify(NULL, NULL, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->intact);
		EXPECT_INT(r->count, count - 2);
		EXPECT(r->head_hash.len == anchor->head_hash.len &&
		       memcmp(r->head_hash.data, anchor->head_hash.data,
		           r->head_hash.len) != 0);
	}
	exa_free(r);
	EXPECT_INT(verify_anchored(anchor, &r, &err), EXA_OK);
	EXPECT(r != NULL && !r->intact && r->first_break != NULL &&
	       r->first_break->kind == BREAK(ANCHOR) &&
	       (long)r->first_break->chain_seq == count);
	if (r != NULL && r->first_break != NULL)
		printf("  anchored: %s\n", r->first_break->message);
	exa_free(r);
	/* Bad anchors are refused. */
	Exe__Access__V1__VerifyActivityRequest bad =
	    EXE__ACCESS__V1__VERIFY_ACTIVITY_REQUEST__INIT;
	bad.anchor_seq = 3;
	EXPECT_INT(exa_verify_activity(h.client, &bad, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "anchor_hash");
	bad.workspace_id = t.team.workspace;
	bad.anchor_hash = anchor->head_hash;
	EXPECT_INT(exa_verify_activity(h.client, &bad, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "anchor_seq");
	/* A place past any the log can have (its places are bigints). */
	bad.workspace_id = "";
	bad.anchor_seq = UINT64_MAX;
	EXPECT_INT(exa_verify_activity(h.client, &bad, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "anchor_seq: 18446744073709551615 is past");
	snprintf(sql, sizeof sql,
	    "INSERT INTO activity OVERRIDING SYSTEM VALUE"
	    " SELECT * FROM saved; DROP TABLE saved;"
	    "UPDATE revision_counter SET activity_count = %ld,"
	    " activity_head = (SELECT hash FROM activity WHERE chain_seq = "
	    "%ld)",
	    count, count);
	sql_ok(sql);
	EXPECT_INT(expect_verified(NULL), count);

	/* Rewound, then written on: the chain is whole again and longer
	 * than the anchor, but the anchored place holds another record.
	 * (This leaves the test's log rewritten: the last case.) */
	snprintf(sql, sizeof sql,
	    "DELETE FROM activity WHERE chain_seq > %ld;"
	    "UPDATE revision_counter SET activity_count = %ld,"
	    " activity_head = (SELECT hash FROM activity WHERE chain_seq = "
	    "%ld)",
	    count - 2, count - 2, count - 2);
	sql_ok(sql);
	for (int i = 0; i < 3; i++) {
		struct fixture_user u;
		EXPECT(fixture_sign_up(h.client, "rewrite", &u));
	}
	EXPECT_INT(expect_verified(NULL), count + 1);
	EXPECT_INT(verify_anchored(anchor, &r, &err), EXA_OK);
	EXPECT(r != NULL && !r->intact && r->first_break != NULL &&
	       r->first_break->kind == BREAK(ANCHOR) &&
	       (long)r->first_break->chain_seq == count);
	if (r != NULL && r->first_break != NULL)
		printf("  anchored: %s\n", r->first_break->message);
	exa_free(r);
	exa_free(anchor);
}

static int metrics_port;

static void
the_head_is_logged_and_shown_in_metrics(void)
{
	struct fixture_user u;
	EXPECT(fixture_sign_up(h.client, "anchored", &u));
	verify_resp *r = NULL;
	exa_error err;
	EXPECT_INT(verify(NULL, NULL, &r, &err), EXA_OK);
	if (r == NULL)
		return;
	char hex[CHAIN_HASH_HEX] = "", sample[160], line[160];
	if (r->head_hash.len == CHAIN_HASH_BYTES)
		sodium_bin2hex(
		    hex, sizeof hex, r->head_hash.data, r->head_hash.len);
	snprintf(sample, sizeof sample,
	    "exe_access_activity_chain_head{hash=\"%s\"}", hex);
	snprintf(line, sizeof line, "\"count\":%llu,\"head\":\"%s\"",
	    (unsigned long long)r->head_seq, hex);
	/* Read every second (--activity-anchor-interval-s=1). */
	static char body[1 << 16];
	double value = -1;
	for (int i = 0; i < 40 && value < 0; i++) {
		usleep(100 * 1000);
		if (fixture_http_get(
		        metrics_port, "/metrics", body, sizeof body) == 200)
			value = fixture_metric(body, sample);
	}
	EXPECT_INT((long)value, (long)r->head_seq);
	EXPECT_INT(
	    (long)fixture_metric(body, "exe_access_activity_chain_length"),
	    (long)r->head_seq);
	EXPECT(harness_log_contains(&h, line));
	exa_free(r);
}

static const struct unit_case cases[] = {
    {"every write is chained", every_write_is_chained},
    {"64 writers leave one unbroken chain",
        sixty_four_writers_leave_one_unbroken_chain},
    {"existing records are chained by the migration",
        existing_records_are_chained_by_the_migration},
    {"an untouched log verifies", an_untouched_log_verifies},
    {"an edited record is named", an_edited_record_is_named},
    {"a deleted record is named", a_deleted_record_is_named},
    {"swapped records are named", swapped_records_are_named},
    {"a forged record is named", a_forged_record_is_named},
    {"the head is logged and shown in /metrics",
        the_head_is_logged_and_shown_in_metrics},
    {"truncation shows, unless the head moves too",
        truncation_shows_unless_the_head_moves_too},
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
	metrics_port = fixture_free_port();
	char metrics[64];
	snprintf(metrics, sizeof metrics,
	    "--metrics-address=http://127.0.0.1:%d", metrics_port);
	return fixture_run_suite(&h, "activity_chain",
	    (const char *const[]){"--workers=16", metrics,
	        "--activity-anchor-interval-s=1", NULL},
	    cases, sizeof cases / sizeof cases[0]);
}
