/* fault_replicas: two replicas on one database, and callers that make them
 * race each other.
 *
 * Injects: conflicting administration sent at the same moment (a thread
 * barrier), one request to each replica: (1) SPEC R8 across replicas —
 * the two admins of a team remove each other, or the organisation admin
 * demotes both at once; (2) the same username signed up on both (in
 * different case); (3) one invitation accepted on both. Before each race
 * both replicas' caches hold the members' standing (checks were made), so
 * the races also make those cached answers stale.
 *
 * Asserts: exactly one winner each time, and the loser gets the rule's
 * answer (FAILED_PRECONDITION for the last admin, or PERMISSION_DENIED
 * for an admin already removed; ALREADY_EXISTS for the username;
 * FAILED_PRECONDITION for the used invitation); the team keeps exactly one
 * admin; one user, whole; one membership. Then the caches converge: plain
 * checks (no at_least_as_fresh) on both replicas agree with the database
 * for every member of every team, within the documented bound
 * (--cache-max-staleness-ms, 1000 ms; measured and printed — a change
 * normally arrives in milliseconds through NOTIFY). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fixtures.h"
#include "unit/unit.h"

#define ROLE(r) EXE__ACCESS__V1__ROLE__ROLE_##r

enum { ROUNDS = 12, SIGNUP_ROUNDS = 20, BOUND_MS = 1000, MAX_PAIRS = 256 };

static struct harness a, b; /* the two replicas */
static struct fixture_user org_admin;
static char org[FIXTURE_ID_SIZE];

/* Every (user, workspace) whose standing changed, for the convergence
 * check at the end. */
struct pair {
	char user[FIXTURE_ID_SIZE], ws[FIXTURE_ID_SIZE];
};
static struct pair pairs[MAX_PAIRS];
static int npairs;
static int64_t worst_convergence_ms;

static struct pair
pair_of(const char *user, const char *ws)
{
	struct pair p;
	snprintf(p.user, sizeof p.user, "%s", user);
	snprintf(p.ws, sizeof p.ws, "%s", ws);
	return p;
}

static void
remember(const char *user, const char *ws)
{
	if (npairs < MAX_PAIRS)
		pairs[npairs++] = pair_of(user, ws);
}

/* ---- A race: two calls released together. ---- */

struct racer {
	exa_status (*fn)(const struct racer *, exa_error *);
	exa_client *c;
	const char *actor, *ws, *user, *token, *name;
	pthread_barrier_t *go;
	exa_status rc;
	char message[640];
};

static void *
race_cb(void *arg)
{
	struct racer *r = arg;
	exa_error err;
	pthread_barrier_wait(r->go);
	r->rc = r->fn(r, &err);
	snprintf(r->message, sizeof r->message, "%s",
	    r->rc != EXA_OK ? err.message : "");
	return NULL;
}

/* race runs x and y at the same moment; returns how many succeeded. */
static int
race(struct racer *x, struct racer *y)
{
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	x->go = y->go = &go;
	pthread_t tx, ty;
	pthread_create(&tx, NULL, race_cb, x);
	pthread_create(&ty, NULL, race_cb, y);
	pthread_join(tx, NULL);
	pthread_join(ty, NULL);
	pthread_barrier_destroy(&go);
	return (x->rc == EXA_OK) + (y->rc == EXA_OK);
}

/* clean_race says whether, of x and y that raced in `round` (`won` of
 * them succeeded), exactly one won and the other got `lost` or
 * `lost_too`; if not, it prints what each got. */
static bool
clean_race(int round, const struct racer *x, const struct racer *y, int won,
    exa_status lost, exa_status lost_too)
{
	const struct racer *loser = x->rc == EXA_OK ? y : x;
	bool clean = won == 1 && (loser->rc == lost || loser->rc == lost_too);
	if (!clean)
		fprintf(stderr, "  round %d: %s (%s), %s (%s)\n", round,
		    exa_status_name(x->rc), x->message, exa_status_name(y->rc),
		    y->message);
	return clean;
}

static exa_status
do_remove(const struct racer *r, exa_error *err)
{
	return fixture_remove_member(r->c, r->actor, r->ws, r->user, NULL, err);
}

static exa_status
do_demote(const struct racer *r, exa_error *err)
{
	return fixture_change_role(
	    r->c, r->actor, r->ws, r->user, ROLE(MEMBER), NULL, err);
}

static exa_status
do_sign_up(const struct racer *r, exa_error *err)
{
	return fixture_create_user(r->c, r->name, NULL, NULL, NULL, err);
}

static exa_status
do_accept(const struct racer *r, exa_error *err)
{
	Exe__Access__V1__Principal p = fixture_as_user(r->user);
	return fixture_accept_invitation(r->c, &p, r->token, NULL, err);
}

/* ---- The truth, and what the replicas say. ---- */

static Exe__Access__V1__Role
role_in_db(const char *user, const char *ws)
{
	PGresult *res = PQexecParams(a.db,
	    "SELECT role FROM memberships WHERE user_id = $1"
	    " AND workspace_id = $2",
	    2, NULL, (const char *const[]){user, ws}, NULL, NULL, 0);
	Exe__Access__V1__Role role = ROLE(UNSPECIFIED);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
		const char *v = PQgetvalue(res, 0, 0);
		role = strcmp(v, "admin") == 0    ? ROLE(ADMIN)
		       : strcmp(v, "member") == 0 ? ROLE(MEMBER)
		                                  : ROLE(READ_ONLY);
	}
	PQclear(res);
	return role;
}

/* disagreements counts the pairs [from, to) on which replica `c` answers
 * differently from `truth` (a plain check of members.remove: the role, and
 * allowed exactly for admins). */
static int
disagreements(exa_client *c, const struct pair *p, int n,
    const Exe__Access__V1__Role *truth)
{
	exa_batch *batch = exa_batch_new();
	for (int i = 0; i < n; i++)
		exa_batch_add_user(batch, p[i].user, "members.remove", p[i].ws);
	exa_error err;
	int wrong = 0;
	if (exa_batch_run(c, batch, 0, &err) != EXA_OK) {
		fprintf(stderr, "  BatchCheck: %s\n", err.message);
		wrong = n;
	}
	for (int i = 0; i < n && wrong < n; i++) {
		exa_decision d;
		exa_error item;
		if (exa_batch_result(batch, (size_t)i, &d, &item) != EXA_OK ||
		    d.role != truth[i] ||
		    d.allowed != (truth[i] == ROLE(ADMIN)))
			wrong++;
	}
	exa_batch_free(batch);
	return wrong;
}

/* converge waits until both replicas agree with the database on pairs
 * [0, n) and returns how long it took (ms since `since`), or -1 after
 * 10 s. */
static int64_t
converge(const struct pair *p, int n, int64_t since)
{
	Exe__Access__V1__Role truth[MAX_PAIRS];
	for (int i = 0; i < n; i++)
		truth[i] = role_in_db(p[i].user, p[i].ws);
	for (;;) {
		int wa = disagreements(a.client, p, n, truth);
		int wb = disagreements(b.client, p, n, truth);
		int64_t took = fault_ms() - since;
		if (wa == 0 && wb == 0)
			return took;
		if (took > 10000) {
			fprintf(stderr,
			    "  still %d and %d answers differ from the "
			    "database after 10 s\n",
			    wa, wb);
			return -1;
		}
		usleep(2 * 1000);
	}
}

/* warm caches the standing of pairs [0, n) on both replicas. */
static void
warm(const struct pair *p, int n)
{
	Exe__Access__V1__Role truth[MAX_PAIRS];
	for (int i = 0; i < n; i++)
		truth[i] = role_in_db(p[i].user, p[i].ws);
	EXPECT_INT(disagreements(a.client, p, n, truth), 0);
	EXPECT_INT(disagreements(b.client, p, n, truth), 0);
}

/* converged_after_race expects both replicas to agree with the database
 * on pairs [0, n) within the bound (and a margin) after a race that ended
 * at `done`, and keeps the worst time. */
static void
converged_after_race(const struct pair *p, int n, int64_t done)
{
	int64_t took = converge(p, n, done);
	EXPECT(took >= 0 && took <= BOUND_MS + 500);
	if (took > worst_convergence_ms)
		worst_convergence_ms = took;
}

static void
last_admin_race_across_replicas(void)
{
	int one_winner = 0;
	for (int round = 0; round < ROUNDS; round++) {
		struct fixture_user x, y;
		char ws[FIXTURE_ID_SIZE] = "";
		fixture_sign_up(a.client, "ra", &x);
		fixture_sign_up(b.client, "rb", &y);
		fixture_team_create(
		    a.client, org_admin.id, org, "Fault Team", x.id, ws, NULL);
		fixture_member_add(
		    b.client, org_admin.id, ws, y.id, ROLE(ADMIN));
		struct pair p[2] = {pair_of(x.id, ws), pair_of(y.id, ws)};
		/* Both replicas learn that x and y are admins: the race
		 * makes one of those answers stale on both. */
		int64_t t_warm = fault_ms();
		EXPECT(converge(p, 2, t_warm) >= 0);
		warm(p, 2);

		/* Odd rounds: the two admins remove each other, each through
		 * a replica. Even rounds: the organisation admin demotes both
		 * at once, one through each replica. */
		bool demote = round % 2 == 0;
		struct racer rx = {.fn = demote ? do_demote : do_remove,
		    .c = a.client,
		    .actor = demote ? org_admin.id : x.id,
		    .ws = ws,
		    .user = y.id,
		    .rc = -1};
		struct racer ry = {.fn = demote ? do_demote : do_remove,
		    .c = b.client,
		    .actor = demote ? org_admin.id : y.id,
		    .ws = ws,
		    .user = x.id,
		    .rc = -1};
		int won = race(&rx, &ry);
		int64_t t_done = fault_ms();
		one_winner += won == 1;
		exa_status lost =
		    demote ? EXA_FAILED_PRECONDITION : EXA_PERMISSION_DENIED;
		if (!clean_race(
		        round, &rx, &ry, won, EXA_FAILED_PRECONDITION, lost))
			unit_case_failed = 1;
		EXPECT_INT(fault_sql_count(a.db,
		               "SELECT count(*) FROM memberships WHERE "
		               "workspace_id = $1"
		               " AND role = 'admin'",
		               ws, NULL),
		    1);
		converged_after_race(p, 2, t_done);
		remember(x.id, ws);
		remember(y.id, ws);
	}
	printf("  R8 across replicas: %d of %d rounds had exactly one winner; "
	       "both caches agreed with the database at most %lld ms after "
	       "the race\n",
	    one_winner, ROUNDS, (long long)worst_convergence_ms);
	EXPECT_INT(one_winner, ROUNDS);
}

static void
duplicate_sign_ups_across_replicas(void)
{
	int one_winner = 0;
	for (int round = 0; round < SIGNUP_ROUNDS; round++) {
		char lower[48], upper[48];
		snprintf(lower, sizeof lower, "%s", harness_unique("dup"));
		snprintf(upper, sizeof upper, "%s", lower);
		for (char *p = upper; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		struct racer rx = {
		    .fn = do_sign_up, .c = a.client, .name = lower, .rc = -1};
		struct racer ry = {
		    .fn = do_sign_up, .c = b.client, .name = upper, .rc = -1};
		int won = race(&rx, &ry);
		one_winner += clean_race(round, &rx, &ry, won,
		    EXA_ALREADY_EXISTS, EXA_ALREADY_EXISTS);
		EXPECT_INT(fault_sql_count(a.db,
		               "SELECT count(*) FROM users WHERE "
		               "lower(username) = lower($1)",
		               lower, NULL),
		    1);
		EXPECT_INT(fault_user_whole(a.db, lower), 1);
	}
	printf("  duplicate sign-ups across replicas: %d of %d rounds made one "
	       "user and one ALREADY_EXISTS\n",
	    one_winner, SIGNUP_ROUNDS);
	EXPECT_INT(one_winner, SIGNUP_ROUNDS);
}

static void
double_acceptance_across_replicas(void)
{
	int one_winner = 0;
	for (int round = 0; round < ROUNDS; round++) {
		struct fixture_user u;
		char ws[FIXTURE_ID_SIZE] = "", token[128] = "";
		fixture_sign_up(a.client, "acc", &u);
		fixture_team_create(
		    a.client, org_admin.id, org, "Fault Team", NULL, ws, NULL);
		fixture_invitation_make(b.client, org_admin.id, ws, u.username,
		    ROLE(READ_ONLY), token, sizeof token);
		struct pair p = pair_of(u.id, ws);
		warm(&p, 1); /* not a member yet, on both */
		struct racer rx = {.fn = do_accept,
		    .c = a.client,
		    .user = u.id,
		    .token = token,
		    .rc = -1};
		struct racer ry = {.fn = do_accept,
		    .c = b.client,
		    .user = u.id,
		    .token = token,
		    .rc = -1};
		int won = race(&rx, &ry);
		int64_t t_done = fault_ms();
		one_winner += clean_race(round, &rx, &ry, won,
		    EXA_FAILED_PRECONDITION, EXA_FAILED_PRECONDITION);
		EXPECT_INT(fault_sql_count(a.db,
		               "SELECT count(*) FROM memberships WHERE "
		               "workspace_id = $1"
		               " AND user_id = $2 AND role = 'read_only'",
		               ws, u.id, NULL),
		    1);
		converged_after_race(&p, 1, t_done);
		remember(u.id, ws);
		remember(org_admin.id, ws);
	}
	printf("  double acceptance across replicas: %d of %d rounds made one "
	       "membership and one FAILED_PRECONDITION\n",
	    one_winner, ROUNDS);
	EXPECT_INT(one_winner, ROUNDS);
}

static void
caches_converge_for_every_member(void)
{
	int64_t took = converge(pairs, npairs, fault_ms());
	printf("  convergence: plain checks on both replicas agree with the "
	       "database for all %d memberships touched (%lld ms for the last "
	       "pass; at most %lld ms after any race; bound %d ms)\n",
	    npairs, (long long)took, (long long)worst_convergence_ms, BOUND_MS);
	EXPECT(took >= 0 && took <= BOUND_MS);
	EXPECT(npairs >= 2 * ROUNDS);
}

static const struct unit_case cases[] = {
    {"the last-admin race across replicas keeps one admin",
        last_admin_race_across_replicas},
    {"duplicate sign-ups across replicas make one user",
        duplicate_sign_ups_across_replicas},
    {"double acceptance across replicas makes one membership",
        double_acceptance_across_replicas},
    {"both caches converge for every member", caches_converge_for_every_member},
};

UNIT_STATE

int
main(void)
{
	fault_watchdog(140);
	fault_daemon_prepare(&a, "replicas", NULL);
	fault_daemon_prepare(&b, "replicas", &a);
	if (fault_daemon_start(&a, NULL) != 0 ||
	    fault_daemon_start(&b, NULL) != 0)
		return 2;
	fault_must(fixture_org_found(
	    a.client, "orgadm", "Fault Org", &org_admin, org));
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int sa = fault_daemon_stop(&a);
	int sb = fault_daemon_stop(&b);
	EXPECT_INT(sa, 0);
	EXPECT_INT(sb, 0);
	fault_daemon_free(&b, sb == 0);
	fault_daemon_free(&a, sa == 0 && sb == 0 && failed == 0);
	return failed == 0 && sa == 0 && sb == 0 ? 0 : 1;
}
