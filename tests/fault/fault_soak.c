/* fault_soak: a bounded soak of mixed load against one daemon.
 *
 * Injects: for EXA_FAULT_SOAK_SECONDS (default 110 in CI; set it to run
 * longer), after a 10-second warm-up, seven callers, each pausing 2 to
 * 10 ms between calls (a steady load that leaves the machine's other
 * tests some CPU): three
 * making single checks (cached members, non-members, unknown workspaces,
 * read-only denials), one making BatchChecks of 100, one reading
 * (GetUser, ListWorkspaces, ListMembers), one writing (sign-ups, adding
 * and removing a member, toggling roles) and one flipping between a
 * valid and a malformed request (validation errors are expected answers).
 * The working set is bounded: the same users, teams and pairs all along;
 * only sign-ups add rows.
 *
 * Asserts: the daemon's resident memory (VmRSS), its open file
 * descriptors (/proc/PID/fd) and its PostgreSQL connections
 * (client backends in pg_stat_activity for its database: not the
 * autovacuum workers that visit it) are flat between the start (after
 * warm-up) and the end: memory within 10% + 4 MiB (+ 48 MiB under
 * AddressSanitizer, whose allocator keeps freed memory in quarantine —
 * limited to 8 MiB for the daemon here so that it fills in the warm-up),
 * descriptors within 2, connections exactly equal; every call got the
 * answer it should (no error beyond the INVALID_ARGUMENT the malformed
 * requests ask for); the daemon exits 0 on SIGTERM at the end. Samples
 * are printed every 10 seconds. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fixtures.h"
#include "unit/unit.h"

#define ROLE(r) EXE__ACCESS__V1__ROLE__ROLE_##r

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

enum {
	USERS = 40,
	TEAMS = 4,
	WARMUP_S = 10,
	SAMPLE_S = 10,
	CALL_TIMEOUT_MS = 5000,
};

static struct harness h;
static struct fixture_user org_admin, users[USERS], churn;
static char org[FIXTURE_ID_SIZE], teams[TEAMS][FIXTURE_ID_SIZE];
static const char *const unknown_ws[] = {
    "6f1c7a52-0000-4000-8000-000000000001",
    "6f1c7a52-0000-4000-8000-000000000002",
    "6f1c7a52-0000-4000-8000-000000000003",
};
static atomic_bool stop;

/* Team t has users 10t..10t+9: the first admin, members, and the last
 * three read_only. */
static Exe__Access__V1__Role
team_role(int t, int u)
{
	if (u / 10 != t)
		return ROLE(UNSPECIFIED);
	int k = u % 10;
	return k == 0 ? ROLE(ADMIN) : k >= 7 ? ROLE(READ_ONLY) : ROLE(MEMBER);
}

struct worker {
	void *(*fn)(void *);
	exa_client *c;
	unsigned seed;
	long calls, errors;
	exa_status first_error;
	char first_message[640];
};

/* pace: the soak is about duration, not peak rate; leave CPU to the tests
 * that run beside it (ctest -j2 on two cores). */
static void
pace(unsigned us)
{
	usleep(us);
}

static void
failed(struct worker *w, exa_status rc, const char *what, const char *msg)
{
	if (w->errors++ == 0) {
		w->first_error = rc;
		snprintf(w->first_message, sizeof w->first_message,
		    "%s: %s: %s", what, exa_status_name(rc), msg);
	}
}

static void *
checker(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(&stop)) {
		int u = rand_r(&w->seed) % USERS;
		int t = rand_r(&w->seed) % (TEAMS + 1);
		const char *ws = t < TEAMS ? teams[t] : unknown_ws[u % 3];
		Exe__Access__V1__Role role =
		    t < TEAMS ? team_role(t, u) : ROLE(UNSPECIFIED);
		exa_decision d;
		exa_error err;
		exa_status rc = exa_check(
		    w->c, users[u].id, "experiment.create", ws, &d, &err);
		w->calls++;
		bool want = role == ROLE(ADMIN) || role == ROLE(MEMBER);
		if (rc != EXA_OK)
			failed(w, rc, "Check", err.message);
		else if (d.allowed != want || d.role != role)
			failed(w, EXA_INTERNAL, "Check", "wrong answer");
		pace(2000);
	}
	return NULL;
}

static void *
batcher(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load(&stop)) {
		exa_batch *b = exa_batch_new();
		Exe__Access__V1__Role want[100];
		for (int i = 0; i < 100; i++) {
			int u = rand_r(&w->seed) % USERS,
			    t = rand_r(&w->seed) % TEAMS;
			want[i] = team_role(t, u);
			exa_batch_add_user(
			    b, users[u].id, "experiment.view", teams[t]);
		}
		exa_error err;
		exa_status rc = exa_batch_run(w->c, b, 0, &err);
		w->calls++;
		if (rc != EXA_OK)
			failed(w, rc, "BatchCheck", err.message);
		for (int i = 0; rc == EXA_OK && i < 100; i++) {
			exa_decision d;
			if (exa_batch_result(b, (size_t)i, &d, &err) !=
			        EXA_OK ||
			    d.allowed != (want[i] != ROLE(UNSPECIFIED))) {
				failed(w, EXA_INTERNAL, "BatchCheck",
				    "wrong answer");
				break;
			}
		}
		exa_batch_free(b);
		pace(10000);
	}
	return NULL;
}

static void *
reader(void *arg)
{
	struct worker *w = arg;
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		int u = rand_r(&w->seed) % USERS;
		exa_error err;
		exa_status rc;
		if (n % 3 == 0) {
			rc = fixture_get_user(w->c, users[u].id, NULL, &err);
		} else if (n % 3 == 1) {
			Exe__Access__V1__ListWorkspacesRequest req =
			    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
			req.user_id = users[u].id;
			Exe__Access__V1__ListWorkspacesResponse *r = NULL;
			rc = exa_list_workspaces(w->c, &req, &r, &err);
			if (rc == EXA_OK && r->n_workspaces != 2)
				rc = EXA_INTERNAL;
			exa_free(r);
		} else {
			Exe__Access__V1__Principal p =
			    fixture_as_user(users[(u / 10) * 10].id);
			Exe__Access__V1__ListMembersRequest req =
			    EXE__ACCESS__V1__LIST_MEMBERS_REQUEST__INIT;
			req.actor = &p;
			req.workspace_id = teams[u / 10];
			Exe__Access__V1__ListMembersResponse *r = NULL;
			rc = exa_list_members(w->c, &req, &r, &err);
			exa_free(r);
		}
		w->calls++;
		if (rc != EXA_OK)
			failed(w, rc, "read", err.message);
		pace(4000);
	}
	return NULL;
}

static void *
writer(void *arg)
{
	struct worker *w = arg;
	bool churn_in = false;
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		exa_error err;
		exa_status rc;
		const char *what;
		switch (n % 4) {
		case 0:
			what = "CreateUser";
			rc = fixture_create_user(w->c, harness_unique("soak"),
			    NULL, NULL, NULL, &err);
			break;
		case 1:
			/* The churn user joins and leaves team 0. */
			what = churn_in ? "RemoveMember" : "AddMember";
			rc = churn_in
			         ? fixture_remove_member(w->c, org_admin.id,
			               teams[0], churn.id, NULL, &err)
			         : fixture_add_member(w->c, org_admin.id,
			               teams[0], churn.id, ROLE(MEMBER), NULL,
			               &err);
			if (rc == EXA_OK)
				churn_in = !churn_in;
			break;
		default: {
			/* A member of team 1 is set to the role it has: the
			 * write happens, the answers do not change. */
			int u = 10 + 1 + rand_r(&w->seed) % 9;
			what = "ChangeMemberRole";
			rc = fixture_change_role(w->c, org_admin.id, teams[1],
			    users[u].id, team_role(1, u), NULL, &err);
		}
		}
		w->calls++;
		if (rc != EXA_OK)
			failed(w, rc, what, err.message);
		pace(5000);
	}
	return NULL;
}

static void *
malformed(void *arg)
{
	struct worker *w = arg;
	for (unsigned n = 0; !atomic_load(&stop); n++) {
		exa_decision d;
		exa_error err;
		bool bad = n % 2 == 1;
		exa_status rc = exa_check(w->c, users[0].id,
		    bad ? "no.such.permission" : "experiment.view",
		    bad ? "not-a-uuid" : teams[0], &d, &err);
		w->calls++;
		if (rc != (bad ? EXA_INVALID_ARGUMENT : EXA_OK))
			failed(w, rc, "Check (malformed)", err.message);
		pace(5000);
	}
	return NULL;
}

static void
set_up(void)
{
	exa_client *c = h.client;
	fault_must(
	    fixture_org_found(c, "orgadm", "Fault Org", &org_admin, org));
	fault_must(fixture_sign_up(c, "churn", &churn));
	for (int u = 0; u < USERS; u++)
		fault_must(fixture_sign_up(c, "u", &users[u]));
	for (int t = 0; t < TEAMS; t++) {
		fault_must(fixture_team_create(c, org_admin.id, org,
		    "Fault Team", users[10 * t].id, teams[t], NULL));
		for (int k = 1; k < 10; k++)
			fault_must(fixture_member_add(c, org_admin.id, teams[t],
			    users[10 * t + k].id, team_role(t, 10 * t + k)));
	}
}

struct figures {
	long rss_kb, fds, conns, calls;
};

static struct figures
sample(struct worker *w, int n)
{
	struct figures f = {fault_rss_kb(h.pid), fault_fd_count(h.pid),
	    fault_sql_count(h.db,
	        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
	        " AND backend_type = 'client backend'"
	        " AND pid <> pg_backend_pid()",
	        h.dbname, NULL),
	    0};
	for (int i = 0; i < n; i++)
		f.calls += w[i].calls;
	return f;
}

static void
mixed_load_stays_flat(void)
{
	const char *env = getenv("EXA_FAULT_SOAK_SECONDS");
	long seconds = env != NULL ? strtol(env, NULL, 10) : 110;
	if (seconds < 10)
		seconds = 10;
	struct worker w[] = {
	    {.fn = checker},
	    {.fn = checker},
	    {.fn = checker},
	    {.fn = batcher},
	    {.fn = reader},
	    {.fn = writer},
	    {.fn = malformed},
	};
	enum { N = sizeof w / sizeof w[0] };
	pthread_t t[N];
	for (int i = 0; i < N; i++) {
		w[i].c = fault_client(h.url, &h, CALL_TIMEOUT_MS);
		w[i].seed = (unsigned)getpid() * 31u + (unsigned)i;
		pthread_create(&t[i], NULL, w[i].fn, &w[i]);
	}
	sleep(WARMUP_S);
	struct figures start = sample(w, N), min = start, max = start, now;
	int64_t t0 = fault_ms();
	printf("  soak: %ld s of mixed load after %d s of warm-up; at the "
	       "start RSS %ld KiB, %ld fds, %ld PostgreSQL connections\n",
	    seconds, WARMUP_S, start.rss_kb, start.fds, start.conns);
	for (long s = SAMPLE_S; s <= seconds; s += SAMPLE_S) {
		int64_t until = t0 + s * 1000;
		while (fault_ms() < until)
			usleep(50 * 1000);
		now = sample(w, N);
		if (now.rss_kb > max.rss_kb)
			max.rss_kb = now.rss_kb;
		if (now.rss_kb < min.rss_kb)
			min.rss_kb = now.rss_kb;
		if (now.fds > max.fds)
			max.fds = now.fds;
		if (now.conns > max.conns)
			max.conns = now.conns;
		printf("  %4ld s: RSS %ld KiB, %ld fds, %ld connections, %.0f "
		       "calls/s\n",
		    s, now.rss_kb, now.fds, now.conns,
		    (double)(now.calls - start.calls) / (double)s);
		fflush(stdout);
	}
	int64_t elapsed = fault_ms() - t0;
	atomic_store(&stop, true);
	long errors = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		exa_client_close(w[i].c);
		errors += w[i].errors;
		if (w[i].errors > 0)
			fprintf(stderr, "  caller %d: %ld errors, first %s\n",
			    i, w[i].errors, w[i].first_message);
	}
	long calls = now.calls - start.calls;
	long tolerance_kb = start.rss_kb / 10 + 4096 + (SANITIZED ? 49152 : 0);
	printf("  soak figures: %ld calls in %lld s (%.0f/s), %ld unexpected "
	       "answers; RSS %ld -> %ld KiB (min %ld, max %ld; tolerance +%ld "
	       "KiB); fds %ld -> %ld (max %ld); PostgreSQL connections %ld -> "
	       "%ld (max %ld)\n",
	    calls, (long long)(elapsed / 1000),
	    (double)calls * 1000.0 / (double)elapsed, errors, start.rss_kb,
	    now.rss_kb, min.rss_kb, max.rss_kb, tolerance_kb, start.fds,
	    now.fds, max.fds, start.conns, now.conns, max.conns);
	EXPECT_INT(errors, 0);
	EXPECT(calls > 0);
	EXPECT(start.rss_kb > 0);
	EXPECT(now.rss_kb - start.rss_kb <= tolerance_kb);
	EXPECT(labs(now.fds - start.fds) <= 2);
	EXPECT(max.fds - start.fds <= 2);
	EXPECT_INT(now.conns, start.conns);
	EXPECT_INT(max.conns, start.conns);
}

static const struct unit_case cases[] = {
    {"mixed load: memory, descriptors and connections stay flat",
        mixed_load_stays_flat},
};

UNIT_STATE

int
main(void)
{
	const char *env = getenv("EXA_FAULT_SOAK_SECONDS");
	long seconds = env != NULL ? strtol(env, NULL, 10) : 110;
	fault_watchdog((unsigned)(seconds + 120));
	if (SANITIZED) {
		/* AddressSanitizer keeps up to 256 MiB of freed memory in
		 * quarantine, which the daemon would fill during the soak:
		 * memory growth nobody could tell from a leak. A small
		 * quarantine fills during the warm-up. */
		const char *old = getenv("ASAN_OPTIONS");
		char opts[512];
		snprintf(opts, sizeof opts, "%s%squarantine_size_mb=8",
		    old != NULL ? old : "", old != NULL && old[0] ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
	}
	fault_daemon_prepare(&h, "soak", NULL);
	if (fault_daemon_start(&h, NULL) != 0)
		return 2;
	set_up();
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int status = fault_daemon_stop(&h);
	printf("  exit status on SIGTERM: %d\n", status);
	fault_daemon_free(&h, status == 0 && failed == 0);
	return failed == 0 && status == 0 ? 0 : 1;
}
