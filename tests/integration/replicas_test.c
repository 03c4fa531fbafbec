/* Read replicas on a real primary and a real streaming hot standby
 * (tests/harness/pg.sh standby): pure reads are served by the standby, as
 * its reads counter shows; a check that asks for the revision of a write
 * just made is right every time, also while the standby's replay is
 * paused (it goes to the primary), a user just signed up is found although
 * the paused standby has not seen them, and the paused standby leaves rotation
 * once it lags past --read-max-lag-ms and returns when replay resumes;
 * stopping the standby sends reads to the primary without a failed call,
 * and starting it again puts it back; an API key whose use is due for
 * recording is checked on the primary (a standby cannot write), and
 * later ones on the standby; grants on resources given, revoked and gone
 * with their resource are seen at once with each write's revision, with
 * replay running or paused. The daemon runs without a cache, so every
 * check reads the database. The cluster is this test's own. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fixtures.h"
#include "unit/unit.h"

#include <exe/access_raw.h>

enum { MAX_LAG_MS = 1000, WAIT_MS = 10000 };

static struct harness h;
static int port;
static struct fixture_team team;

static double
scrape(const char *sample)
{
	static char body[1 << 20];
	if (fixture_http_get(port, "/metrics", body, sizeof body) != 200)
		return -2;
	return fixture_metric(body, sample);
}

static const char reads[] = "exe_access_replica_reads_total{replica=\"0\"}";
static const char in_rotation[] =
    "exe_access_replica_in_rotation{replica=\"0\"}";
static const char up[] = "exe_access_replica_up{replica=\"0\"}";
static const char replica_revision[] =
    "exe_access_replica_revision{replica=\"0\"}";
static const char lag_revisions[] =
    "exe_access_replica_lag_revisions{replica=\"0\"}";

/* wait_metric waits up to WAIT_MS for `sample` to read `value`; returns
 * how long that took, or -1. */
static int64_t
wait_metric(const char *sample, double value)
{
	int64_t t0 = fault_ms();
	while (fault_ms() - t0 < WAIT_MS) {
		if (scrape(sample) == value)
			return fault_ms() - t0;
		usleep(10 * 1000);
	}
	return -1;
}

/* caught_up waits until the standby is in rotation and has applied every
 * write made so far. The lag gauge alone is not enough: it is the lag at
 * the last health check, which may predate the latest writes. */
static bool
caught_up(void)
{
	long now = fault_sql_count(h.db, "SELECT value FROM revision_counter",
	    NULL);
	int64_t t0 = fault_ms();
	while (now >= 0 && fault_ms() - t0 < WAIT_MS) {
		if (scrape(in_rotation) == 1 && scrape(lag_revisions) == 0 &&
		    scrape(replica_revision) >= (double)now)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/* standby_paused says whether the standby's replay has stopped. */
static bool
standby_paused(void)
{
	char conninfo[600];
	fault_standby_conninfo(&h, conninfo, sizeof conninfo);
	PGconn *db = PQconnectdb(conninfo);
	bool paused = false;
	if (PQstatus(db) == CONNECTION_OK) {
		PGresult *res =
		    PQexec(db, "SELECT pg_get_wal_replay_pause_state()");
		paused = PQresultStatus(res) == PGRES_TUPLES_OK &&
		         PQntuples(res) == 1 &&
		         strcmp(PQgetvalue(res, 0, 0), "paused") == 0;
		PQclear(res);
	}
	PQfinish(db);
	return paused;
}

static exa_status
member_role(const char *user_id, const char *ws, uint64_t fresh,
    Exe__Access__V1__Role *role, exa_error *err)
{
	exa_decision d;
	exa_status rc = exa_check_fresh(
	    h.client, user_id, "workspace.view", ws, fresh, &d, err);
	if (rc == EXA_OK)
		*role = d.role;
	return rc;
}

/* read_round makes N checks and three other reads and returns how many
 * the standby answered; failures and wrong answers are added up. */
enum { N = 20 };
static double
read_round(int *failed, int *wrong)
{
	double before = scrape(reads);
	exa_error err;
	for (int i = 0; i < N; i++) {
		Exe__Access__V1__Role role = 0;
		if (member_role(team.member.id, team.workspace, 0, &role,
		        &err) != EXA_OK)
			(*failed)++;
		else
			*wrong += role != EXE__ACCESS__V1__ROLE__ROLE_MEMBER;
	}
	/* Lists and the other reads of AuthzService. */
	Exe__Access__V1__ListWorkspacesRequest lw =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	lw.user_id = team.member.id;
	Exe__Access__V1__ListWorkspacesResponse *lwr = NULL;
	*failed += exa_list_workspaces(h.client, &lw, &lwr, &err) != EXA_OK;
	*wrong += lwr == NULL || lwr->n_workspaces != 2;
	exa_free(lwr);
	Exe__Access__V1__Principal p = fixture_as_user(team.member.id);
	Exe__Access__V1__ListPermissionsRequest lp =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	lp.principal = &p;
	lp.workspace_id = team.workspace;
	Exe__Access__V1__ListPermissionsResponse *lpr = NULL;
	*failed += exa_list_permissions(h.client, &lp, &lpr, &err) != EXA_OK;
	*wrong +=
	    lpr == NULL || lpr->role != EXE__ACCESS__V1__ROLE__ROLE_MEMBER;
	exa_free(lpr);
	Exe__Access__V1__LookupResourcesRequest lr =
	    EXE__ACCESS__V1__LOOKUP_RESOURCES_REQUEST__INIT;
	lr.principal = &p;
	lr.resource_type = "experiment";
	lr.permission = "experiment.view";
	Exe__Access__V1__LookupResourcesResponse *lrr = NULL;
	*failed += exa_lookup_resources(h.client, &lr, &lrr, &err) != EXA_OK;
	*wrong += lrr == NULL || lrr->n_resources != 1;
	exa_free(lrr);
	return scrape(reads) - before;
}

static void
reads_are_served_by_the_standby(void)
{
	/* A loaded machine can keep the standby out of rotation for a poll
	 * or two (a health check that took over its second): up to three
	 * rounds, one of which must be served by the standby whole; every
	 * answer must be right. */
	int failed = 0, wrong = 0;
	double served = 0;
	for (int round = 0; round < 3 && served != N + 3; round++) {
		EXPECT(caught_up());
		served = read_round(&failed, &wrong);
		printf("  %d checks and 3 other reads: %.0f served by the "
		       "standby\n",
		    N, served);
	}
	EXPECT_INT(failed, 0);
	EXPECT_INT(wrong, 0);
	EXPECT_INT(served, N + 3);
}

/* Writes go to the primary, and a check with the write's revision either
 * finds the standby has applied it or is answered by the primary. */
static int
write_then_check(int rounds, int *stale)
{
	int wrong = 0;
	*stale = 0;
	for (int i = 0; i < rounds; i++) {
		Exe__Access__V1__Role want =
		    i % 2 == 0 ? EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY
		               : EXE__ACCESS__V1__ROLE__ROLE_MEMBER;
		uint64_t rev = 0;
		exa_error err;
		exa_status rc = fixture_change_role(h.client, team.admin.id,
		    team.workspace, team.member.id, want, &rev, &err);
		if (rc != EXA_OK) {
			fprintf(stderr, "  change role: %s\n", err.message);
			wrong++;
			continue;
		}
		Exe__Access__V1__Role got = 0;
		rc = member_role(
		    team.member.id, team.workspace, rev, &got, &err);
		if (rc != EXA_OK || got != want) {
			fprintf(stderr, "  round %d: %s role %d, wanted %d\n",
			    i, exa_status_name(rc), (int)got, (int)want);
			wrong++;
		}
		/* The same check without the revision may be answered by the
		 * standby as it was before: allowed, and counted. */
		if (member_role(team.member.id, team.workspace, 0, &got,
		        &err) == EXA_OK &&
		    got != want)
			(*stale)++;
	}
	return wrong;
}

static void
read_your_writes_every_time(void)
{
	EXPECT(caught_up());
	int stale;
	int wrong = write_then_check(40, &stale);
	printf("  replay running: 40 writes, each checked with its revision: "
	       "%d wrong; %d unrevisioned checks saw the state before\n",
	    wrong, stale);
	EXPECT_INT(wrong, 0);
}

static void
read_your_writes_while_replay_is_paused(void)
{
	EXPECT(caught_up());
	EXPECT_INT(fault_standby_sql(&h, "SELECT pg_wal_replay_pause()"), 0);
	/* Replay stops at its next record, not at once: wait for it. */
	int64_t t0 = fault_ms();
	while (!standby_paused() && fault_ms() - t0 < WAIT_MS)
		usleep(10 * 1000);
	int64_t t_pause = fault_ms();
	/* Made on the primary, unknown to the paused standby, which is
	 * still in rotation: found all the same (a standby's NOT_FOUND is
	 * asked again of the primary). */
	struct fixture_user fresh_user;
	fault_must(fixture_sign_up(h.client, "paused", &fresh_user));
	exa_error gerr;
	bool still_in = scrape(in_rotation) == 1;
	EXPECT_INT(
	    fixture_get_user(h.client, fresh_user.id, NULL, &gerr), EXA_OK);
	if (!still_in) /* a loaded machine: the GetUser went to the primary */
		printf("  (the standby left rotation before the GetUser)\n");
	int stale;
	int wrong = write_then_check(40, &stale);
	printf("  replay paused: 40 writes, each checked with its revision: "
	       "%d wrong; %d unrevisioned checks saw the state before\n",
	    wrong, stale);
	EXPECT_INT(wrong, 0);
	/* Lagging past the bound: out of rotation, reads to the primary. */
	int64_t out = wait_metric(in_rotation, 0);
	EXPECT(out >= 0);
	int64_t out_after = fault_ms() - t_pause;
	double lag = scrape(lag_revisions);
	double before = scrape(reads);
	stale = 0;
	exa_error err;
	for (int i = 0; i < 10; i++) {
		Exe__Access__V1__Role got = 0;
		EXPECT_INT(
		    member_role(team.member.id, team.workspace, 0, &got, &err),
		    EXA_OK);
		stale += got != EXE__ACCESS__V1__ROLE__ROLE_MEMBER;
	}
	printf("  out of rotation %lld ms after the pause (bound %d ms), %.0f "
	       "revisions behind; then 10 checks: %.0f on the standby, %d "
	       "stale\n",
	    (long long)out_after, MAX_LAG_MS, lag, scrape(reads) - before,
	    stale);
	EXPECT(lag >= 40);
	EXPECT_INT(scrape(reads) - before, 0);
	EXPECT_INT(stale, 0);
	EXPECT_INT(scrape(up), 1);

	EXPECT_INT(fault_standby_sql(&h, "SELECT pg_wal_replay_resume()"), 0);
	int64_t back = wait_metric(in_rotation, 1);
	printf("  back in rotation %lld ms after replay resumed\n",
	    (long long)back);
	EXPECT(back >= 0);
	EXPECT(caught_up());
}

/* grant_round gives the read_only member a grant member on experiment
 * `id`, takes it back, `n` times, checking experiment.edit with each
 * write's revision (allowed after the grant, denied after the
 * revocation); then deletes the experiment, granted once more, and checks
 * with that revision that it is gone. Returns how many answers were
 * wrong. */
static int
grant_round(const char *id, int n)
{
	Exe__Access__V1__Principal admin = fixture_as_user(team.admin.id);
	exa_error err;
	int wrong = 0;
	fault_must(fixture_register_resource(h.client, &admin, team.workspace,
	    "experiment", id, NULL, NULL, &err) == EXA_OK);
	for (int i = 0; i < n; i++) {
		for (int give = 1; give >= 0; give--) {
			uint64_t rev = 0;
			exa_status rc = give
			    ? fixture_grant(h.client, team.admin.id, "experiment",
			          id, team.reader.id,
			          EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &rev, &err)
			    : fixture_revoke(h.client, team.admin.id,
			          "experiment", id, team.reader.id, &rev, &err);
			fault_must(rc == EXA_OK);
			Exe__Access__V1__CheckResponse *r = NULL;
			rc = fixture_check(h.client, team.reader.id, NULL,
			    "experiment.edit", NULL, "experiment", id, rev, &r,
			    &err);
			wrong += rc != EXA_OK || r->allowed != (give == 1);
			exa_free(r);
		}
	}
	uint64_t rev = 0;
	fault_must(fixture_grant(h.client, team.admin.id, "experiment", id,
	    team.reader.id, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &rev, &err) ==
	    EXA_OK);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)id;
	Exe__Access__V1__DeleteResourceRequest del =
	    EXE__ACCESS__V1__DELETE_RESOURCE_REQUEST__INIT;
	del.actor = &admin;
	del.resource = &ref;
	Exe__Access__V1__WriteResponse *wr = NULL;
	fault_must(exa_delete_resource(h.client, &del, &wr, &err) == EXA_OK);
	rev = wr->revision;
	exa_free(wr);
	Exe__Access__V1__CheckResponse *r = NULL;
	exa_status rc = fixture_check(h.client, team.reader.id, NULL,
	    "experiment.view", NULL, "experiment", id, rev, &r, &err);
	wrong += rc != EXA_OK || r->allowed ||
	    strstr(r->reason, "is not registered") == NULL;
	exa_free(r);
	return wrong;
}

/* Grants on resources (issue: every replica, at once with revisions):
 * granted, revoked, gone with the resource, each seen by the next check
 * that passes the write's revision, whether the standby has replayed it
 * (it answers) or not (the primary does). */
static void
grants_are_seen_at_once_with_their_revision(void)
{
	EXPECT(caught_up());
	double before = scrape(reads);
	int wrong = grant_round("exp-grant-running", 10);
	double served = scrape(reads) - before;
	printf("  replay running: 20 grant changes and a deletion, each "
	       "checked with its revision: %d wrong, %.0f answered on the "
	       "standby\n", wrong, served);
	EXPECT_INT(wrong, 0);
	EXPECT_INT(fault_standby_sql(&h, "SELECT pg_wal_replay_pause()"), 0);
	int64_t t0 = fault_ms();
	while (!standby_paused() && fault_ms() - t0 < WAIT_MS)
		usleep(10 * 1000);
	wrong = grant_round("exp-grant-paused", 10);
	printf("  replay paused: the same, %d wrong\n", wrong);
	EXPECT_INT(wrong, 0);
	EXPECT_INT(fault_standby_sql(&h, "SELECT pg_wal_replay_resume()"), 0);
	EXPECT(caught_up());
	/* Once replayed, the standby answers about grants itself, and
	 * rightly: granted, then revoked. */
	Exe__Access__V1__Principal admin = fixture_as_user(team.admin.id);
	exa_error err;
	const char *id = "exp-grant-standby";
	fault_must(fixture_register_resource(h.client, &admin, team.workspace,
	    "experiment", id, NULL, NULL, &err) == EXA_OK);
	int on_standby = 0;
	for (int give = 1; give >= 0; give--) {
		uint64_t rev = 0;
		fault_must((give ? fixture_grant(h.client, team.admin.id,
		                       "experiment", id, team.reader.id,
		                       EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &rev,
		                       &err)
		                 : fixture_revoke(h.client, team.admin.id,
		                       "experiment", id, team.reader.id, &rev,
		                       &err)) == EXA_OK);
		/* Until the monitor has seen the standby replay it (the lag
		 * metric may still be the poll's before the write). */
		int64_t t1 = fault_ms();
		while (scrape(replica_revision) < (double)rev &&
		    fault_ms() - t1 < WAIT_MS)
			usleep(10 * 1000);
		EXPECT(scrape(in_rotation) == 1);
		before = scrape(reads);
		Exe__Access__V1__CheckResponse *r = NULL;
		EXPECT_INT(fixture_check(h.client, team.reader.id, NULL,
		    "experiment.edit", NULL, "experiment", id, rev, &r, &err),
		    EXA_OK);
		EXPECT(r != NULL && r->allowed == (give == 1));
		exa_free(r);
		on_standby += scrape(reads) - before == 1;
	}
	printf("  replayed: the grant and its revocation answered on the "
	       "standby %d of 2 times, rightly\n", on_standby);
	EXPECT_INT(on_standby, 2);
}

struct reader {
	atomic_bool *stop;
	exa_client *c;
	long calls, failed;
	char first[640];
};

static void *
read_loop(void *arg)
{
	struct reader *r = arg;
	while (!atomic_load(r->stop)) {
		exa_decision d;
		exa_error err;
		exa_status rc = exa_check(r->c, team.member.id,
		    "workspace.view", team.workspace, &d, &err);
		r->calls++;
		if (rc != EXA_OK && r->failed++ == 0)
			snprintf(r->first, sizeof r->first, "%s: %s",
			    exa_status_name(rc), err.message);
	}
	return NULL;
}

static void
a_stopped_standby_sends_reads_to_the_primary(void)
{
	EXPECT(caught_up());
	enum { READERS = 3 };
	atomic_bool stop = false;
	struct reader r[READERS];
	pthread_t t[READERS];
	for (int i = 0; i < READERS; i++) {
		r[i] = (struct reader){
		    .stop = &stop, .c = fault_client(h.url, &h, 3000)};
		pthread_create(&t[i], NULL, read_loop, &r[i]);
	}
	usleep(300 * 1000);
	double before_stop = scrape(reads);
	int64_t t0 = fault_ms();
	EXPECT_INT(fault_pg("standby-stop", "fast"), 0);
	int64_t stopped = fault_ms() - t0;
	int64_t out = wait_metric(up, 0);
	double at_stop = scrape(reads);
	usleep(500 * 1000);
	double while_down = scrape(reads) - at_stop;
	t0 = fault_ms();
	EXPECT_INT(fault_pg("standby-start", NULL), 0);
	int64_t started = fault_ms() - t0;
	int64_t back = wait_metric(in_rotation, 1);
	double at_back = scrape(reads);
	usleep(500 * 1000);
	double after_back = scrape(reads) - at_back;
	atomic_store(&stop, true);
	long calls = 0, failed = 0;
	for (int i = 0; i < READERS; i++) {
		pthread_join(t[i], NULL);
		exa_client_close(r[i].c);
		calls += r[i].calls;
		failed += r[i].failed;
		if (r[i].failed > 0)
			fprintf(stderr, "  reader %d: first failure %s\n", i,
			    r[i].first);
	}
	printf("  standby stopped in %lld ms, seen down after %lld ms more; "
	       "%.0f reads on it before, %.0f while down; started in %lld ms, "
	       "in rotation %lld ms later, then %.0f reads on it in 0.5 s; %ld "
	       "checks, %ld failed\n",
	    (long long)stopped, (long long)out, at_stop - before_stop,
	    while_down, (long long)started, (long long)back, after_back, calls,
	    failed);
	EXPECT(out >= 0);
	EXPECT(back >= 0);
	EXPECT(at_stop - before_stop > 0 || before_stop > 0);
	EXPECT_INT(while_down, 0);
	EXPECT(after_back > 0);
	EXPECT_INT(failed, 0);
}

static void
an_api_key_due_for_its_use_is_checked_on_the_primary(void)
{
	EXPECT(caught_up());
	long used = harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND last_used_at IS NOT NULL",
	    team.workspace, NULL);
	EXPECT_INT(used, 0);
	double before = scrape(reads);
	Exe__Access__V1__CheckResponse *resp = NULL;
	exa_error err;
	EXPECT_INT(
	    fixture_check(h.client, NULL, team.first_key, "experiment.view",
	        team.workspace, NULL, NULL, 0, &resp, &err),
	    EXA_OK);
	EXPECT(resp != NULL && resp->allowed);
	exa_free(resp);
	/* Recorded, so it ran on the primary. */
	used = harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND last_used_at IS NOT NULL",
	    team.workspace, NULL);
	EXPECT_INT(used, 1);
	EXPECT_INT(scrape(reads) - before, 0);
	/* Once the standby has replayed the recorded use (which bumps no
	 * revision), the key is checked there. */
	int64_t t0 = fault_ms();
	int calls = 0, denied = 0;
	bool on_standby = false;
	while (!on_standby && fault_ms() - t0 < WAIT_MS) {
		before = scrape(reads);
		resp = NULL;
		EXPECT_INT(fixture_check(h.client, NULL, team.first_key,
		               "experiment.view", team.workspace, NULL, NULL, 0,
		               &resp, &err),
		    EXA_OK);
		denied += resp == NULL || !resp->allowed;
		exa_free(resp);
		calls++;
		on_standby = scrape(reads) - before == 1;
		if (!on_standby)
			usleep(10 * 1000);
	}
	printf("  the key's first check recorded its use on the primary; the "
	       "standby served it from check %d on (%lld ms)\n",
	    calls, (long long)(fault_ms() - t0));
	EXPECT(on_standby);
	EXPECT_INT(denied, 0);
}

/* A standby on another history: promoted, it takes writes of its own
 * (through a second daemon) until its revision passes the primary's, as a
 * standby left on an old primary's timeline after a failover stands at
 * revisions the new primary never wrote, or wrote otherwise. The monitor
 * finds that the primary does not hold the change the standby stands at
 * and takes it out of rotation, so a check that asks for such a revision
 * is refused by the primary instead of answered from the other history.
 * Last: the standby stays promoted. */
static void
a_standby_on_another_history_leaves_rotation(void)
{
	EXPECT(caught_up());
	EXPECT_INT(fault_pg("promote", NULL), 0);
	static struct harness other;
	fault_daemon_prepare(&other, "replicas", &h);
	fault_standby_conninfo(&h, other.conninfo, sizeof other.conninfo);
	if (fault_daemon_start(&other,
	        (const char *const[]){"--cache-size=0", "--workers=1", NULL}) !=
	    0) {
		EXPECT(!"a daemon on the promoted standby");
		return;
	}
	long primary = harness_sql_long(&h,
	    "SELECT max(revision) FROM change_log", NULL);
	uint64_t theirs = 0;
	for (long i = 0; i <= primary % 7 + 5 || theirs <= (uint64_t)primary;
	     i++) {
		struct fixture_user u;
		fault_must(fixture_sign_up(other.client, "elsewhere", &u));
		theirs = fixture_current_revision(other.client);
		if (i > 1000)
			break;
	}
	int64_t out = wait_metric(in_rotation, 0);
	Exe__Access__V1__CheckResponse *resp = NULL;
	exa_error err;
	exa_status rc = fixture_check(h.client, team.member.id, NULL,
	    "workspace.view", team.workspace, NULL, NULL, theirs, &resp, &err);
	exa_free(resp);
	printf("  the other history at revision %llu, the primary at %ld: out "
	       "of rotation after %lld ms; a check asking for %llu: %s\n",
	    (unsigned long long)theirs, primary, (long long)out,
	    (unsigned long long)theirs, exa_status_name(rc));
	EXPECT(out >= 0);
	EXPECT(fault_daemon_logs_contain(&h, "\"event\":\"replica_diverged\""));
	EXPECT_INT(rc, EXA_FAILED_PRECONDITION);
	EXPECT_INT(fault_daemon_stop(&other), 0);
	fault_daemon_free(&other, true);
}

static const struct unit_case cases[] = {
    {"reads are served by the standby", reads_are_served_by_the_standby},
    {"read your writes, every time", read_your_writes_every_time},
    {"read your writes while replay is paused",
        read_your_writes_while_replay_is_paused},
    {"grants are seen at once with their revision",
        grants_are_seen_at_once_with_their_revision},
    {"an API key due for its use is checked on the primary",
        an_api_key_due_for_its_use_is_checked_on_the_primary},
    {"a stopped standby sends reads to the primary",
        a_stopped_standby_sends_reads_to_the_primary},
    {"a standby on another history leaves rotation",
        a_standby_on_another_history_leaves_rotation},
};

UNIT_STATE

int
main(void)
{
	fault_watchdog(100);
	int64_t t0 = fault_ms();
	if (fault_pg_start("replicas", false) != 0 ||
	    fault_pg_standby(false) != 0)
		return 2;
	int64_t cluster_ms = fault_ms() - t0;
	port = fixture_free_port();
	fault_daemon_prepare(&h, "replicas", NULL);
	char metrics[64], standby[700], lag[64];
	snprintf(metrics, sizeof metrics,
	    "--metrics-address=http://127.0.0.1:%d", port);
	char conninfo[600];
	fault_standby_conninfo(&h, conninfo, sizeof conninfo);
	snprintf(standby, sizeof standby, "--read-database-url=%s", conninfo);
	snprintf(lag, sizeof lag, "--read-max-lag-ms=%d", MAX_LAG_MS);
	if (fault_daemon_start(
	        &h, (const char *const[]){metrics, standby, lag,
	                "--cache-size=0", "--workers=2", NULL}) != 0)
		return 2;
	printf(
	    "  primary and standby made in %lld ms\n", (long long)cluster_ms);
	fault_must(fixture_team_make(h.client, "replicas", "Replicas", &team));
	Exe__Access__V1__Principal admin = fixture_as_user(team.admin.id);
	exa_error err;
	fixture_must(fixture_register_resource(h.client, &admin, team.workspace,
	                 "experiment", "exp-replicas-1", NULL, NULL, &err),
	    &err, "register a resource");

	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int st = fault_daemon_stop(&h);
	if (failed != 0 || st != 0)
		fprintf(stderr, "  the daemon's log is kept in %s\n", h.dir);
	fault_daemon_free(&h, failed == 0 && st == 0);
	fault_pg_stop();
	return failed == 0 && st == 0 ? 0 : 1;
}
