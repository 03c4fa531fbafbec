/* fault_failover: the primary dies and its standby is promoted.
 *
 * Injects, first with a synchronous standby (the primary's commits wait
 * for it: synchronous_standby_names, synchronous_commit = on): a daemon
 * whose --database-url names both servers with
 * target_session_attrs=read-write, so that libpq connects to whichever is
 * the primary; four callers sign people up (writes) and check each new
 * person (a read of the database) and a cached pair; after a second the
 * primary is stopped with `pg_ctl -m immediate` (its processes killed)
 * and the standby promoted.
 *
 * Asserts: the daemon continues on the new primary by itself, without a
 * restart, serving a write within 5 s of the promotion; meanwhile calls
 * fail only UNAVAILABLE (or DEADLINE_EXCEEDED for a call caught in
 * flight), none takes longer than its timeout, no answer is wrong (a new
 * person is allowed in their own workspace, a cached check stays
 * allowed); and every acknowledged sign-up is on the new primary, whole.
 * A sign-up whose commit was in flight when the primary died may be there
 * though it was answered UNAVAILABLE (in doubt, counted).
 *
 * Then with an asynchronous standby that was cut off (stopped) while the
 * primary took more writes: those writes were acknowledged and are lost
 * with the primary, and the daemon's cache had applied them. After the
 * promotion the database is behind the cache; the cache must follow the
 * database (not keep answering from what the lost writes said), and a
 * write on the new primary followed by a check with its revision must be
 * answered as written. And, first, the same loss seen by a write before
 * the feeder could notice it (the last revisions deleted from the log and
 * the counter under a running daemon): the write that takes a revision
 * the cache had applied rewinds the cache before it commits, so a check
 * with its revision is answered as written. And last, two daemons, one
 * frozen (SIGSTOP) through an asynchronous failover while the other
 * writes past its revision on the new primary: the counts see nothing
 * behind, the change at its applied revision is another, and the thawed
 * daemon must not answer from the lost write. Counts are printed for
 * docs/RELIABILITY.md. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fixtures.h"
#include "unit/unit.h"

enum {
	LOADERS = 4,
	CALL_TIMEOUT_MS = 3000,
	MAX_WRITES = 20000,
};

#define ROLE(r) EXE__ACCESS__V1__ROLE__ROLE_##r

static struct harness h;
static int h_status = -1; /* its exit status, once stopped */
static int port;          /* its metrics address */
static struct fixture_user probe;

/* The daemon's database URL: both servers, the primary whichever it is. */
static void
multi_host(struct harness *x)
{
	char one[sizeof x->conninfo];
	snprintf(one, sizeof one, "%s", x->conninfo);
	/* "host=DIR user=U dbname=D": both servers share DIR. */
	const char *host = strstr(one, "host=");
	const char *end = host != NULL ? strchr(host, ' ') : NULL;
	if (host == NULL || end == NULL) {
		fprintf(stderr, "fault: unexpected conninfo %s\n", one);
		exit(2);
	}
	int dir_len = (int)(end - host - 5);
	snprintf(x->conninfo, sizeof x->conninfo,
	    "host=%.*s,%.*s port=5432,5433%s target_session_attrs=read-write",
	    dir_len, host + 5, dir_len, host + 5, end);
}

/* A direct connection to whichever server is the primary now. */
static PGconn *
connect_primary(void)
{
	PGconn *db = PQconnectdb(h.conninfo);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "fault: %s", PQerrorMessage(db));
		PQfinish(db);
		return NULL;
	}
	return db;
}

struct write {
	char name[48];
	exa_status rc;
};

struct loader {
	int index;
	exa_client *c;
	atomic_bool *stop;
	long calls, ok, unavailable, deadline, wrong, other;
	int64_t max_ms;
	char first_other[640];
	struct write *writes;
	size_t n_writes;
};

static void
tally(struct loader *l, exa_status rc, int64_t ms, const exa_error *err)
{
	l->calls++;
	if (ms > l->max_ms)
		l->max_ms = ms;
	if (rc == EXA_OK)
		l->ok++;
	else if (rc == EXA_UNAVAILABLE)
		l->unavailable++;
	else if (rc == EXA_DEADLINE_EXCEEDED)
		l->deadline++;
	else if (l->other++ == 0)
		snprintf(l->first_other, sizeof l->first_other, "%s: %s",
		    exa_status_name(rc), err->message);
}

static void *
load(void *arg)
{
	struct loader *l = arg;
	for (long n = 0; !atomic_load(l->stop) && l->n_writes < MAX_WRITES;
	     n++) {
		struct write *w = &l->writes[l->n_writes++];
		snprintf(w->name, sizeof w->name, "f%xt%dn%ld",
		    (unsigned)getpid() & 0xffff, l->index, n);
		Exe__Access__V1__CreateUserResponse *u = NULL;
		exa_error err;
		int64_t t0 = fault_ms();
		w->rc =
		    fixture_create_user(l->c, w->name, NULL, NULL, &u, &err);
		tally(l, w->rc, fault_ms() - t0, &err);
		bool failed = w->rc != EXA_OK;
		exa_decision d;
		if (w->rc == EXA_OK) {
			/* Read-your-writes, through the database. */
			t0 = fault_ms();
			exa_status rc = exa_check_fresh(l->c, u->user->id,
			    "experiment.create", u->personal_workspace->id,
			    u->revision, &d, &err);
			tally(l, rc, fault_ms() - t0, &err);
			if (rc == EXA_OK && !d.allowed)
				l->wrong++;
		}
		exa_free(u);
		t0 = fault_ms();
		exa_status rc = exa_check(l->c, probe.id, "experiment.create",
		    probe.workspace, &d, &err);
		tally(l, rc, fault_ms() - t0, &err);
		if (rc == EXA_OK && !d.allowed)
			l->wrong++;
		failed |= rc != EXA_OK;
		if (failed)
			usleep(20 * 1000);
	}
	return NULL;
}

static void
synchronous_standby_promoted_under_writes(void)
{
	atomic_bool stop = false;
	struct loader l[LOADERS];
	pthread_t t[LOADERS];
	for (int i = 0; i < LOADERS; i++) {
		l[i] = (struct loader){.index = i,
		    .c = fault_client(h.url, &h, CALL_TIMEOUT_MS),
		    .stop = &stop,
		    .writes = calloc(MAX_WRITES, sizeof(struct write))};
		pthread_create(&t[i], NULL, load, &l[i]);
	}
	usleep(1000 * 1000);
	int64_t t_kill = fault_ms();
	EXPECT_INT(fault_pg("pause", "immediate"), 0);
	int64_t t_dead = fault_ms();
	EXPECT_INT(fault_pg("promote", NULL), 0);
	int64_t t_promoted = fault_ms();

	/* Continuing by itself: a write on the new primary. */
	int64_t write_ok = -1;
	exa_error err;
	while (fault_ms() - t_promoted < 10000) {
		if (fixture_create_user(h.client, harness_unique("back"), NULL,
		        NULL, NULL, &err) == EXA_OK) {
			write_ok = fault_ms() - t_promoted;
			break;
		}
		usleep(10 * 1000);
	}
	usleep(1500 * 1000);
	atomic_store(&stop, true);

	struct loader sum = {0};
	for (int i = 0; i < LOADERS; i++) {
		pthread_join(t[i], NULL);
		exa_client_close(l[i].c);
		sum.calls += l[i].calls;
		sum.ok += l[i].ok;
		sum.unavailable += l[i].unavailable;
		sum.deadline += l[i].deadline;
		sum.wrong += l[i].wrong;
		sum.other += l[i].other;
		if (l[i].max_ms > sum.max_ms)
			sum.max_ms = l[i].max_ms;
		if (l[i].other > 0)
			fprintf(stderr,
			    "  caller %d: %ld unexpected, first %s\n", i,
			    l[i].other, l[i].first_other);
	}

	/* Every acknowledged sign-up, on the new primary. */
	PGconn *db = connect_primary();
	EXPECT(db != NULL);
	struct fault_sign_ups s = {0};
	for (int i = 0; i < LOADERS && db != NULL; i++) {
		for (size_t k = 0; k < l[i].n_writes; k++)
			fault_sign_up_judge(
			    db, l[i].writes[k].name, l[i].writes[k].rc, &s);
	}
	for (int i = 0; i < LOADERS; i++)
		free(l[i].writes);
	long in_recovery =
	    db != NULL
	        ? fault_sql_count(db, "SELECT pg_is_in_recovery()::int", NULL)
	        : -1;
	PQfinish(db);

	printf("  synchronous standby: primary killed in %lld ms, standby "
	       "promoted %lld ms later; first write on the new primary %lld "
	       "ms after the promotion; %ld calls: %ld OK, %ld UNAVAILABLE, "
	       "%ld DEADLINE_EXCEEDED, %ld wrong answers, %ld other; slowest "
	       "%lld ms\n",
	    (long long)(t_dead - t_kill), (long long)(t_promoted - t_dead),
	    (long long)write_ok, sum.calls, sum.ok, sum.unavailable,
	    sum.deadline, sum.wrong, sum.other, (long long)sum.max_ms);
	printf("  sign-ups: %ld acknowledged, %ld of them on the new primary "
	       "whole; %ld failed, %ld of them committed (in doubt); %ld "
	       "half-made\n",
	    s.acked, s.found, s.failed, s.committed, s.partial);
	EXPECT_INT(in_recovery, 0);
	EXPECT(write_ok >= 0 && write_ok <= 5000);
	EXPECT(sum.unavailable > 0);
	EXPECT_INT(sum.wrong, 0);
	EXPECT_INT(sum.other, 0);
	EXPECT(sum.max_ms <= CALL_TIMEOUT_MS + 500);
	EXPECT(s.acked > 0);
	EXPECT_INT(s.found, s.acked);
	EXPECT_INT(s.partial, 0);
}

/* revision_on reads the revision counter at `conninfo`; -1 when it
 * cannot (a standby that has not replayed the schema yet, too). */
static long
revision_on(const char *conninfo)
{
	PGconn *db = PQconnectdb(conninfo);
	long v = -1;
	if (PQstatus(db) == CONNECTION_OK) {
		PGresult *res =
		    PQexec(db, "SELECT value FROM revision_counter");
		if (PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1)
			v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
	}
	PQfinish(db);
	return v;
}

/* role_of checks `user_id` in `ws` (at least as fresh as `fresh`); -1 if
 * the call failed. */
static int
role_of(exa_client *c, const char *user_id, const char *ws, uint64_t fresh)
{
	exa_decision d;
	exa_error err;
	if (exa_check_fresh(
	        c, user_id, "workspace.view", ws, fresh, &d, &err) != EXA_OK)
		return -1;
	return (int)d.role;
}

/* local_client opens a client of x with a local cache of 1000 entries,
 * its staleness bound and poll interval, and a 1 s call timeout. */
static exa_client *
local_client(const struct harness *x, int staleness_ms, int poll_ms)
{
	exa_client_options lo = {0};
	lo.timeout_ms = 1000;
	lo.local_cache_entries = 1000;
	lo.local_cache_max_staleness_ms = staleness_ms;
	lo.local_cache_poll_ms = poll_ms;
	exa_client *local = NULL;
	exa_error err;
	fault_must(exa_client_open(x->url, x->check_token, &lo, &local,
	               &err) == EXA_OK);
	return local;
}

/* async_cluster replaces the private cluster with a fresh one with an
 * asynchronous standby, and prepares x (named `name`) on it with the
 * multi-host URL; `standby` and `primary` (600 bytes each) get the
 * standby's and the primary's own. False (the case failed) if not. */
static bool
async_cluster(struct harness *x, const char *name, char *standby,
    char *primary)
{
	fault_pg_stop();
	if (fault_pg_start(name, true) != 0 || fault_pg_standby(false) != 0) {
		EXPECT(false);
		return false;
	}
	fault_daemon_prepare(x, name, NULL);
	fault_standby_conninfo(x, standby, 600);
	snprintf(primary, 600, "%s", x->conninfo);
	multi_host(x);
	return true;
}

/* lose_a_write waits until the standby has everything the primary has
 * (*kept: its revision), cuts it off, and changes t's member to read_only
 * through `c`: acknowledged on the primary alone, lost with it. Returns
 * the write's revision. */
static uint64_t
lose_a_write(exa_client *c, const struct fixture_team *t,
    const char *standby, const char *primary, long *kept)
{
	int64_t t0 = fault_ms();
	while (revision_on(standby) != revision_on(primary) &&
	       fault_ms() - t0 < 10000)
		usleep(10 * 1000);
	*kept = revision_on(standby);
	EXPECT_INT(*kept, revision_on(primary));
	EXPECT_INT(fault_pg("standby-stop", "fast"), 0);
	uint64_t lost = 0;
	exa_error err;
	EXPECT_INT(fixture_change_role(c, t->admin.id, t->workspace,
	               t->member.id, ROLE(READ_ONLY), &lost, &err),
	    EXA_OK);
	return lost;
}

static void
asynchronous_standby_without_the_last_writes(void)
{
	/* A fresh cluster: the first one's primary is gone, and the first
	 * daemon with it. */
	h_status = fault_daemon_stop(&h);
	printf("  first daemon's exit status on SIGTERM: %d\n", h_status);
	struct harness a;
	char standby[600], primary[600];
	if (!async_cluster(&a, "failover_async", standby, primary))
		return;
	if (fault_daemon_start(&a, NULL) != 0) {
		EXPECT(false);
		return;
	}
	struct fixture_team t;
	fault_must(fixture_team_make(a.client, "failover", "Failover", &t));
	/* And a backend's client with a cache of its own, following the
	 * change feed (polled each second: it will not have read the lost
	 * write when the primary goes). */
	exa_client *local = local_client(&a, 10000, 1000);
	/* The member's standing cached. */
	for (int i = 0; i < 3; i++) {
		EXPECT_INT(role_of(a.client, t.member.id, t.workspace, 0),
		    ROLE(MEMBER));
		EXPECT_INT(role_of(local, t.member.id, t.workspace, 0),
		    ROLE(MEMBER));
	}
	long kept;
	uint64_t lost = lose_a_write(a.client, &t, standby, primary, &kept);
	exa_error err;
	EXPECT_INT(
	    role_of(a.client, t.member.id, t.workspace, lost), ROLE(READ_ONLY));
	EXPECT_INT(
	    role_of(a.client, t.member.id, t.workspace, 0), ROLE(READ_ONLY));
	/* The local cache learns the lost write from the service's answer,
	 * at its revision, past what its feed has applied. */
	EXPECT_INT(
	    role_of(local, t.member.id, t.workspace, lost), ROLE(READ_ONLY));
	EXPECT_INT(
	    role_of(local, t.member.id, t.workspace, 0), ROLE(READ_ONLY));

	EXPECT_INT(fault_pg("pause", "immediate"), 0);
	EXPECT_INT(fault_pg("standby-start", NULL), 0);
	EXPECT_INT(fault_pg("promote", NULL), 0);
	int64_t t_promoted = fault_ms();
	long now_at = revision_on(standby);

	/* The new primary's truth: the role change never happened. The
	 * cache must come to say so, within its bound. */
	int role = -1;
	int64_t agreed = -1;
	while (fault_ms() - t_promoted < 5000) {
		role = role_of(a.client, t.member.id, t.workspace, 0);
		if (role == ROLE(MEMBER)) {
			agreed = fault_ms() - t_promoted;
			break;
		}
		usleep(20 * 1000);
	}
	/* The local cache too, once its feed reads the new primary's log,
	 * which ends before the answer it holds. */
	int local_role = -1;
	int64_t local_agreed = -1;
	while (fault_ms() - t_promoted < 8000) {
		local_role = role_of(local, t.member.id, t.workspace, 0);
		if (local_role == ROLE(MEMBER)) {
			local_agreed = fault_ms() - t_promoted;
			break;
		}
		usleep(20 * 1000);
	}
	printf("  the local cache agreed with the new primary %lld ms after "
	       "the promotion (role %d)\n",
	    (long long)local_agreed, local_role);
	EXPECT(local_agreed >= 0 && local_agreed <= 5000);
	exa_client_close(local);
	/* A write on the new primary, and a check with its revision. */
	uint64_t rev = 0;
	exa_status rc = EXA_UNAVAILABLE;
	while (rc != EXA_OK && fault_ms() - t_promoted < 10000) {
		rc = fixture_change_role(a.client, t.admin.id, t.workspace,
		    t.member.id, ROLE(ADMIN), &rev, &err);
		if (rc != EXA_OK)
			usleep(20 * 1000);
	}
	EXPECT_INT(rc, EXA_OK);
	int fresh = role_of(a.client, t.member.id, t.workspace, rev);
	usleep(300 * 1000);
	int later = role_of(a.client, t.member.id, t.workspace, 0);
	printf("  asynchronous standby: %ld revisions kept, the write at "
	       "revision %llu lost (the new primary is at %ld); the cache "
	       "agreed with the new primary %lld ms after the promotion "
	       "(role %d); a write there got revision %llu, checked with it: "
	       "role %d, 0.3 s later without it: role %d (admin is %d)\n",
	    kept, (unsigned long long)lost, now_at, (long long)agreed, role,
	    (unsigned long long)rev, fresh, later, (int)ROLE(ADMIN));
	EXPECT_INT(now_at, kept);
	EXPECT(agreed >= 0 && agreed <= 3000);
	EXPECT_INT(fresh, ROLE(ADMIN));
	EXPECT_INT(later, ROLE(ADMIN));
	int st = fault_daemon_stop(&a);
	EXPECT_INT(st, 0);
	fault_daemon_free(&a, st == 0);
}

/* metric_of reads one of the metrics at `metrics_port`; -1 if it cannot. */
static double
metric_of(int metrics_port, const char *name)
{
	static char body[1 << 16];
	if (fixture_http_get(metrics_port, "/metrics", body, sizeof body) !=
	    200)
		return -1;
	return fixture_metric(body, name);
}

/* Two daemons on one primary; the first (D1) has applied a write that
 * the asynchronous standby never got, and is frozen (SIGSTOP) while the
 * primary dies, the standby is promoted and the second (D2) takes more
 * writes there than were lost, past D1's revision. When D1 thaws, its
 * feeder reconnects to a database whose current revision is ahead of
 * everything D1 has seen: the counts say nothing is wrong. The history
 * at D1's applied revision is not the one D1 applied, and D1 must see
 * that, drop its cache and not answer from the lost write; and so must
 * a caching client of D1, whose feed had applied the lost write and
 * whose memory held the answer after it. */
static void
a_daemon_frozen_through_the_failover_sees_another_history(void)
{
	struct harness d1, d2;
	char standby[600], primary[600];
	if (!async_cluster(&d1, "failover_history", standby, primary))
		return;
	fault_daemon_prepare(&d2, "failover_history", &d1);
	int p1 = fixture_free_port();
	char metrics[64];
	snprintf(metrics, sizeof metrics,
	    "--metrics-address=http://127.0.0.1:%d", p1);
	if (fault_daemon_start(&d1, (const char *const[]){metrics, NULL}) !=
	        0 ||
	    fault_daemon_start(&d2, NULL) != 0) {
		EXPECT(false);
		return;
	}
	struct fixture_team t;
	fault_must(fixture_team_make(d1.client, "history", "History", &t));
	/* And a backend's client of D1 with a cache of its own. */
	exa_client *local = local_client(&d1, 5000, 100);
	for (int i = 0; i < 3; i++)
		EXPECT_INT(role_of(d1.client, t.member.id, t.workspace, 0),
		    ROLE(MEMBER));
	long kept;
	uint64_t lost = lose_a_write(d1.client, &t, standby, primary, &kept);
	exa_error err;
	/* Cached by D1. */
	int64_t t0 = fault_ms();
	while (metric_of(p1, "exe_access_cache_revision") < (double)lost &&
	       fault_ms() - t0 < 5000)
		usleep(10 * 1000);
	EXPECT(metric_of(p1, "exe_access_cache_revision") >= (double)lost);
	/* Read after the feeder applied it (which dropped the entry): the
	 * second and third of these are answered from the cache. */
	double hits = metric_of(p1, "exe_access_cache_hits_total");
	for (int i = 0; i < 3; i++)
		EXPECT_INT(role_of(d1.client, t.member.id, t.workspace, lost),
		    ROLE(READ_ONLY));
	printf("  cache hits of the three checks after the lost write: %.0f\n",
	    metric_of(p1, "exe_access_cache_hits_total") - hits);
	/* The local cache: its feed has read the lost write, then it takes
	 * the answer after it, and gives it from memory. */
	exa_cache_stats ls;
	t0 = fault_ms();
	do {
		usleep(10 * 1000);
		exa_client_cache_stats(local, &ls);
	} while (ls.applied_revision < lost && fault_ms() - t0 < 5000);
	EXPECT(ls.applied_revision >= lost);
	for (int i = 0; i < 3; i++)
		EXPECT_INT(role_of(local, t.member.id, t.workspace, lost),
		    ROLE(READ_ONLY));
	exa_cache_stats ls0;
	exa_client_cache_stats(local, &ls0);
	EXPECT_INT(role_of(local, t.member.id, t.workspace, lost),
	    ROLE(READ_ONLY));
	exa_client_cache_stats(local, &ls);
	EXPECT(ls.hits > ls0.hits);

	uint64_t resyncs_before = ls.resyncs;

	/* D1 frozen through the failover. */
	EXPECT_INT(kill(d1.pid, SIGSTOP), 0);
	EXPECT_INT(fault_pg("pause", "immediate"), 0);
	EXPECT_INT(fault_pg("standby-start", NULL), 0);
	EXPECT_INT(fault_pg("promote", NULL), 0);
	int64_t t_promoted = fault_ms();
	long now_at = revision_on(standby);

	/* D2 writes past D1's revision on the new primary, none of it
	 * about the member. */
	uint64_t ahead = 0;
	for (int n = 0; ahead <= lost + 2 && fault_ms() - t_promoted < 10000;
	     n++) {
		Exe__Access__V1__CreateUserResponse *u = NULL;
		if (fixture_create_user(d2.client, harness_unique("ahead"),
		        NULL, NULL, &u, &err) == EXA_OK)
			ahead = u->revision;
		else
			usleep(20 * 1000);
		exa_free(u);
	}
	EXPECT(ahead > lost);

	/* D1 thaws; its feeder reads the new primary's log past `ahead`. */
	EXPECT_INT(kill(d1.pid, SIGCONT), 0);
	int64_t t_thawed = fault_ms();
	while (metric_of(p1, "exe_access_cache_revision") < (double)ahead &&
	       fault_ms() - t_thawed < 5000)
		usleep(10 * 1000);
	int64_t caught_up = fault_ms() - t_thawed;
	int fresh = -1;
	while (fresh < 0 && fault_ms() - t_thawed < 5000)
		fresh = role_of(d1.client, t.member.id, t.workspace, ahead);
	usleep(1200 * 1000); /* past the staleness bound (1 s) */
	int later = role_of(d1.client, t.member.id, t.workspace, 0);
	bool noticed = fault_daemon_logs_contain(&d1, "cache_history_changed");
	/* The local cache, once its feed has read D1's log past `ahead`. */
	t0 = fault_ms();
	do {
		exa_client_cache_stats(local, &ls);
		if (ls.applied_revision < ahead)
			usleep(10 * 1000);
	} while (ls.applied_revision < ahead && fault_ms() - t0 < 5000);
	int local_fresh = role_of(local, t.member.id, t.workspace, ahead);
	int local_later = role_of(local, t.member.id, t.workspace, 0);
	exa_client_cache_stats(local, &ls);
	printf("  the local cache: at revision %llu, %llu resyncs since the "
	       "lost write (%llu feed errors); checked with revision %llu: "
	       "role %d, without: role %d\n",
	    (unsigned long long)ls.applied_revision,
	    (unsigned long long)(ls.resyncs - resyncs_before),
	    (unsigned long long)ls.feed_errors, (unsigned long long)ahead,
	    local_fresh, local_later);
	EXPECT(ls.applied_revision >= ahead);
	EXPECT_INT(local_fresh, ROLE(MEMBER));
	EXPECT_INT(local_later, ROLE(MEMBER));
	exa_client_close(local);
	printf("  two daemons: %ld revisions kept, the write at revision %llu "
	       "lost (the new primary is at %ld); the other daemon wrote up "
	       "to revision %llu; the frozen one, thawed, read the log up to "
	       "it in %lld ms; checked with it: role %d, 1.2 s later "
	       "without it: role %d (member is %d); history change logged: "
	       "%s\n",
	    kept, (unsigned long long)lost, now_at, (unsigned long long)ahead,
	    (long long)caught_up, fresh, later, (int)ROLE(MEMBER),
	    noticed ? "yes" : "no");
	EXPECT_INT(now_at, kept);
	EXPECT_INT(fresh, ROLE(MEMBER));
	EXPECT_INT(later, ROLE(MEMBER));
	EXPECT(noticed);
	int st1 = fault_daemon_stop(&d1);
	int st2 = fault_daemon_stop(&d2);
	EXPECT_INT(st1, 0);
	EXPECT_INT(st2, 0);
	fault_daemon_free(&d2, false);
	fault_daemon_free(&d1, st1 == 0 && st2 == 0);
}

/* The same loss seen from the database alone, and noticed by a write
 * before the feeder could (its connection never broke): the last
 * revisions vanish from the log and the counter (as on a standby promoted
 * without them), then a write takes a revision the cache had applied. */
static void
a_write_notices_a_database_behind_the_cache(void)
{
	struct fixture_team t;
	fault_must(fixture_team_make(h.client, "behind", "Behind", &t));
	for (int i = 0; i < 3; i++)
		EXPECT_INT(role_of(h.client, t.member.id, t.workspace, 0),
		    ROLE(MEMBER));
	uint64_t last = 0;
	exa_error err;
	/* Two writes elsewhere, applied by the cache, then lost. */
	struct fixture_user x, y;
	fault_must(fixture_sign_up(h.client, "lostx", &x));
	fault_must(fixture_sign_up(h.client, "losty", &y));
	last = y.revision;
	/* The cache has applied them. */
	int64_t t0 = fault_ms();
	char body[1 << 16];
	while (fault_ms() - t0 < 5000 &&
	       !(fixture_http_get(port, "/metrics", body, sizeof body) == 200 &&
	           fixture_metric(body, "exe_access_cache_revision") >=
	               (double)last))
		usleep(10 * 1000);
	EXPECT(
	    fixture_metric(body, "exe_access_cache_revision") >= (double)last);
	char keep[32];
	snprintf(keep, sizeof keep, "%llu", (unsigned long long)(last - 2));
	EXPECT_INT(
	    fault_sql_count(h.db,
	        "WITH d AS (DELETE FROM change_log WHERE revision > $1"
	        " RETURNING 1), u AS (UPDATE revision_counter"
	        " SET value = $1 RETURNING 1)"
	        " SELECT (SELECT count(*) FROM d) + (SELECT count(*) FROM u)",
	        keep, NULL),
	    3);
	uint64_t rev = 0;
	EXPECT_INT(fixture_change_role(h.client, t.admin.id, t.workspace,
	               t.member.id, ROLE(READ_ONLY), &rev, &err),
	    EXA_OK);
	int fresh = role_of(h.client, t.member.id, t.workspace, rev);
	printf("  the cache had applied %llu; the database lost 2 revisions; "
	       "a write then got %llu, checked with it: role %d (read_only is "
	       "%d)\n",
	    (unsigned long long)last, (unsigned long long)rev, fresh,
	    (int)ROLE(READ_ONLY));
	EXPECT(rev <= last);
	EXPECT_INT(fresh, ROLE(READ_ONLY));
	EXPECT(fault_daemon_logs_contain(&h, "cache_rewound"));
}

static const struct unit_case cases[] = {
    {"a write notices a database behind the cache",
        a_write_notices_a_database_behind_the_cache},
    {"synchronous standby promoted under writes",
        synchronous_standby_promoted_under_writes},
    {"asynchronous standby without the last writes",
        asynchronous_standby_without_the_last_writes},
    {"a daemon frozen through the failover sees another history",
        a_daemon_frozen_through_the_failover_sees_another_history},
};

UNIT_STATE

int
main(void)
{
	fault_watchdog(170);
	if (fault_pg_start("failover", true) != 0 ||
	    fault_pg_standby(true) != 0)
		return 2;
	fault_daemon_prepare(&h, "failover", NULL);
	multi_host(&h);
	port = fixture_free_port();
	char metrics[64];
	snprintf(metrics, sizeof metrics,
	    "--metrics-address=http://127.0.0.1:%d", port);
	if (fault_daemon_start(
	        &h, (const char *const[]){"--workers=4", metrics, NULL}) != 0)
		return 2;
	fault_must(fixture_sign_up(h.client, "probe", &probe));
	exa_decision d;
	exa_error err;
	for (int i = 0; i < 3; i++)
		exa_check(h.client, probe.id, "experiment.create",
		    probe.workspace, &d, &err);

	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	if (h.pid > 0)
		h_status = fault_daemon_stop(&h);
	fault_daemon_free(&h, h_status == 0);
	fault_pg_stop();
	return failed == 0 && h_status == 0 ? 0 : 1;
}
