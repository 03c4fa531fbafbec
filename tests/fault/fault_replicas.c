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
#include "unit/unit.h"

#define ROLE(r) EXE__ACCESS__V1__ROLE__ROLE_##r

enum { ROUNDS = 12, SIGNUP_ROUNDS = 20, BOUND_MS = 1000, MAX_PAIRS = 256 };

static struct harness a, b; /* the two replicas */
static struct fault_user org_admin;
static char org[40];

/* Every (user, workspace) whose standing changed, for the convergence
 * check at the end. */
struct pair {
	char user[40], ws[40];
};
static struct pair pairs[MAX_PAIRS];
static int npairs;
static int64_t worst_convergence_ms;

static void
remember(const char *user, const char *ws)
{
	if (npairs < MAX_PAIRS) {
		snprintf(pairs[npairs].user, 40, "%s", user);
		snprintf(pairs[npairs].ws, 40, "%s", ws);
		npairs++;
	}
}

/* ---- A race: two calls released together. ---- */

struct racer {
	exa_status (*fn)(struct racer *);
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
	pthread_barrier_wait(r->go);
	r->rc = r->fn(r);
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

static exa_status
do_remove(struct racer *r)
{
	exa_error err;
	exa_status rc =
	    fault_remove_member(r->c, r->actor, r->ws, r->user, &err);
	snprintf(r->message, sizeof r->message, "%s", rc ? err.message : "");
	return rc;
}

static exa_status
do_demote(struct racer *r)
{
	exa_error err;
	exa_status rc = fault_change_role(
	    r->c, r->actor, r->ws, r->user, ROLE(MEMBER), NULL, &err);
	snprintf(r->message, sizeof r->message, "%s", rc ? err.message : "");
	return rc;
}

static exa_status
do_sign_up(struct racer *r)
{
	exa_error err;
	exa_status rc = fault_sign_up(r->c, r->name, NULL, &err);
	snprintf(r->message, sizeof r->message, "%s", rc ? err.message : "");
	return rc;
}

static exa_status
do_accept(struct racer *r)
{
	exa_error err;
	exa_status rc = fault_accept(r->c, r->user, r->token, &err);
	snprintf(r->message, sizeof r->message, "%s", rc ? err.message : "");
	return rc;
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

static void
last_admin_race_across_replicas(void)
{
	int one_winner = 0;
	for (int round = 0; round < ROUNDS; round++) {
		struct fault_user x, y;
		char ws[40];
		exa_error err;
		EXPECT_INT(
		    fault_sign_up(a.client, harness_unique("ra"), &x, &err),
		    EXA_OK);
		EXPECT_INT(
		    fault_sign_up(b.client, harness_unique("rb"), &y, &err),
		    EXA_OK);
		EXPECT_INT(fault_create_team(
		               a.client, org_admin.id, org, x.id, ws, &err),
		    EXA_OK);
		EXPECT_INT(fault_add_member(b.client, org_admin.id, ws, y.id,
		               ROLE(ADMIN), &err),
		    EXA_OK);
		struct pair p[2];
		snprintf(p[0].user, 40, "%s", x.id);
		snprintf(p[0].ws, 40, "%s", ws);
		snprintf(p[1].user, 40, "%s", y.id);
		snprintf(p[1].ws, 40, "%s", ws);
		/* Both replicas learn that x and y are admins: the race
		 * makes one of those answers stale on both. */
		int64_t t_warm = fault_ms();
		EXPECT(converge(p, 2, t_warm) >= 0);
		warm(p, 2);

		/* Odd rounds: the two admins remove each other, each through
		 * a replica. Even rounds: the organisation admin demotes both
		 * at once, one through each replica. */
		bool demote = round % 2 == 0;
		struct racer rx = {demote ? do_demote : do_remove, a.client,
		    demote ? org_admin.id : x.id, ws, y.id, NULL, NULL, NULL,
		    -1, ""};
		struct racer ry = {demote ? do_demote : do_remove, b.client,
		    demote ? org_admin.id : y.id, ws, x.id, NULL, NULL, NULL,
		    -1, ""};
		int won = race(&rx, &ry);
		int64_t t_done = fault_ms();
		one_winner += won == 1;
		exa_status lost =
		    demote ? EXA_FAILED_PRECONDITION : EXA_PERMISSION_DENIED;
		const struct racer *loser = rx.rc == EXA_OK ? &ry : &rx;
		if (won != 1 || (loser->rc != EXA_FAILED_PRECONDITION &&
		                    loser->rc != lost)) {
			fprintf(stderr, "  round %d: %s (%s), %s (%s)\n", round,
			    exa_status_name(rx.rc), rx.message,
			    exa_status_name(ry.rc), ry.message);
			unit_case_failed = 1;
		}
		EXPECT_INT(fault_sql_count(a.db,
		               "SELECT count(*) FROM memberships WHERE "
		               "workspace_id = $1"
		               " AND role = 'admin'",
		               ws, NULL),
		    1);
		int64_t took = converge(p, 2, t_done);
		EXPECT(took >= 0 && took <= BOUND_MS + 500);
		if (took > worst_convergence_ms)
			worst_convergence_ms = took;
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
		struct racer rx = {do_sign_up, a.client, NULL, NULL, NULL, NULL,
		    lower, NULL, -1, ""};
		struct racer ry = {do_sign_up, b.client, NULL, NULL, NULL, NULL,
		    upper, NULL, -1, ""};
		int won = race(&rx, &ry);
		const struct racer *loser = rx.rc == EXA_OK ? &ry : &rx;
		bool clean = won == 1 && loser->rc == EXA_ALREADY_EXISTS;
		one_winner += clean;
		if (!clean)
			fprintf(stderr, "  round %d: %s (%s), %s (%s)\n", round,
			    exa_status_name(rx.rc), rx.message,
			    exa_status_name(ry.rc), ry.message);
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
		struct fault_user u;
		char ws[40], token[128];
		exa_error err;
		EXPECT_INT(
		    fault_sign_up(a.client, harness_unique("acc"), &u, &err),
		    EXA_OK);
		EXPECT_INT(fault_create_team(
		               a.client, org_admin.id, org, NULL, ws, &err),
		    EXA_OK);
		EXPECT_INT(fault_invite(b.client, org_admin.id, ws, u.name,
		               ROLE(READ_ONLY), token, sizeof token, &err),
		    EXA_OK);
		struct pair p = {{0}, {0}};
		snprintf(p.user, 40, "%s", u.id);
		snprintf(p.ws, 40, "%s", ws);
		warm(&p, 1); /* not a member yet, on both */
		struct racer rx = {do_accept, a.client, NULL, NULL, u.id, token,
		    NULL, NULL, -1, ""};
		struct racer ry = {do_accept, b.client, NULL, NULL, u.id, token,
		    NULL, NULL, -1, ""};
		int won = race(&rx, &ry);
		int64_t t_done = fault_ms();
		const struct racer *loser = rx.rc == EXA_OK ? &ry : &rx;
		bool clean = won == 1 && loser->rc == EXA_FAILED_PRECONDITION;
		one_winner += clean;
		if (!clean)
			fprintf(stderr, "  round %d: %s (%s), %s (%s)\n", round,
			    exa_status_name(rx.rc), rx.message,
			    exa_status_name(ry.rc), ry.message);
		EXPECT_INT(fault_sql_count(a.db,
		               "SELECT count(*) FROM memberships WHERE "
		               "workspace_id = $1"
		               " AND user_id = $2 AND role = 'read_only'",
		               ws, u.id, NULL),
		    1);
		int64_t took = converge(&p, 1, t_done);
		EXPECT(took >= 0 && took <= BOUND_MS + 500);
		if (took > worst_convergence_ms)
			worst_convergence_ms = took;
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
	exa_error err;
	if (fault_sign_up(a.client, harness_unique("orgadm"), &org_admin,
	        &err) != EXA_OK ||
	    fault_create_org(a.client, org_admin.id, org, &err) != EXA_OK) {
		fprintf(stderr, "set-up: %s\n", err.message);
		return 2;
	}
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int sa = fault_daemon_stop(&a);
	int sb = fault_daemon_stop(&b);
	EXPECT_INT(sa, 0);
	EXPECT_INT(sb, 0);
	fault_daemon_free(&b, sb == 0);
	fault_daemon_free(&a, sa == 0 && sb == 0 && failed == 0);
	return failed == 0 && sa == 0 && sb == 0 ? 0 : 1;
}
