/* Checks that need the database, many at once: a daemon with no cache and
 * one worker, asked by 16 callers together, so that Checks wait for the
 * worker together and are decided together by one statement. Every
 * caller must get its own answer: allowed or not, the role, the reason,
 * for users, API keys, resources and a workspace that does not exist; and
 * a cold BatchCheck (one statement for its items) answers each item as a
 * single Check would. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;
static int port;
static struct fixture_team team;
static struct fixture_user stranger;

enum { CALLERS = 16, ROUNDS = 30 };

static const char missing_ws[] = "6b1e2a4c-0000-4000-8000-00000000dead";

/* One question and what its answer must be. */
struct question {
	const char *user, *key;       /* the principal */
	const char *permission;
	const char *workspace;        /* the target, or ... */
	const char *resource_id;      /* ... an experiment */
	bool allowed;
	Exe__Access__V1__Role role;
	const char *reason;           /* part of the reason when denied */
};

static struct question questions[9];
static size_t nquestions;

static void
ask(const struct question *q)
{
	questions[nquestions++] = *q;
}

static void
set_up(void)
{
	EXPECT(fixture_team_make(h.client, "Cold Org", "Cold Team", &team));
	EXPECT(fixture_sign_up(h.client, "cold-stranger", &stranger));
	Exe__Access__V1__Principal admin = fixture_as_user(team.admin.id);
	exa_error err;
	fixture_must(fixture_register_resource(h.client, &admin,
	                 team.workspace, "experiment", "cold-exp-1", NULL, NULL,
	                 &err),
	    &err, "register an experiment");

	const Exe__Access__V1__Role ADMIN = EXE__ACCESS__V1__ROLE__ROLE_ADMIN,
	    MEMBER = EXE__ACCESS__V1__ROLE__ROLE_MEMBER,
	    READER = EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY,
	    NONE = EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED;
	ask(&(struct question){.user = team.member.id,
	    .permission = "experiment.create", .workspace = team.workspace,
	    .allowed = true, .role = MEMBER});
	ask(&(struct question){.user = team.reader.id,
	    .permission = "experiment.create", .workspace = team.workspace,
	    .role = READER, .reason = "does not grant experiment.create"});
	ask(&(struct question){.user = team.reader.id,
	    .permission = "experiment.view", .workspace = team.workspace,
	    .allowed = true, .role = READER});
	ask(&(struct question){.user = team.admin.id,
	    .permission = "members.invite", .workspace = team.workspace,
	    .allowed = true, .role = ADMIN});
	ask(&(struct question){.user = stranger.id,
	    .permission = "experiment.view", .workspace = team.workspace,
	    .role = NONE, .reason = "is not a member"});
	ask(&(struct question){.user = stranger.id,
	    .permission = "experiment.view", .workspace = missing_ws,
	    .role = NONE, .reason = "does not exist"});
	ask(&(struct question){.user = stranger.id,
	    .permission = "experiment.create", .workspace = stranger.workspace,
	    .allowed = true, .role = ADMIN});
	ask(&(struct question){.key = team.first_key,
	    .permission = "experiment.view", .workspace = team.workspace,
	    .allowed = true, .role = MEMBER});
	ask(&(struct question){.user = team.member.id,
	    .permission = "experiment.edit", .resource_id = "cold-exp-1",
	    .allowed = true, .role = MEMBER});
}

/* answered_right says whether `r` is the answer `q` must get. */
static bool
answered_right(const struct question *q, const Exe__Access__V1__CheckResponse *r)
{
	if (r->allowed != q->allowed || r->role != q->role)
		return false;
	return q->allowed || strstr(r->reason, q->reason) != NULL;
}

struct caller {
	size_t index;
	int wrong, failed;
};

static void *
caller_main(void *arg)
{
	struct caller *me = arg;
	exa_client *c;
	exa_error err;
	if (exa_client_open(h.url, h.token, NULL, &c, &err) != EXA_OK) {
		me->failed = ROUNDS;
		return NULL;
	}
	for (size_t round = 0; round < ROUNDS; round++) {
		const struct question *q =
		    &questions[(me->index + round) % nquestions];
		Exe__Access__V1__CheckResponse *r = NULL;
		exa_status rc = fixture_check(c, q->user, q->key, q->permission,
		    q->workspace, q->resource_id != NULL ? "experiment" : NULL,
		    q->resource_id, 0, &r, &err);
		if (rc != EXA_OK) {
			fprintf(stderr, "  caller %zu: %s\n", me->index,
			    err.message);
			me->failed++;
		} else if (!answered_right(q, r)) {
			fprintf(stderr,
			    "  caller %zu, %s %s: allowed %d role %d \"%s\"\n",
			    me->index, q->user != NULL ? q->user : "key",
			    q->permission, r->allowed, r->role, r->reason);
			me->wrong++;
		}
		exa_free(r);
	}
	exa_client_close(c);
	return NULL;
}

static double
grouped_calls(void)
{
	static char body[1 << 20];
	if (fixture_http_get(port, "/metrics", body, sizeof body) != 200)
		return -1;
	return fixture_metric(body, "exe_access_db_grouped_calls_total");
}

static void
concurrent_cold_checks_each_get_their_own_answer(void)
{
	set_up();
	double before = grouped_calls();
	pthread_t threads[CALLERS];
	struct caller callers[CALLERS];
	for (size_t i = 0; i < CALLERS; i++) {
		callers[i] = (struct caller){.index = i};
		EXPECT_INT(pthread_create(&threads[i], NULL, caller_main,
		               &callers[i]),
		    0);
	}
	int wrong = 0, failed = 0;
	for (size_t i = 0; i < CALLERS; i++) {
		pthread_join(threads[i], NULL);
		wrong += callers[i].wrong;
		failed += callers[i].failed;
	}
	EXPECT_INT(failed, 0);
	EXPECT_INT(wrong, 0);
	/* They were decided together, not only one by one. */
	double grouped = grouped_calls() - before;
	printf("  %d cold checks from %d callers, %.0f decided in groups\n",
	    CALLERS * ROUNDS, CALLERS, grouped);
	EXPECT(grouped > 0);
}

static void
cold_batch_answers_each_item_as_check_does(void)
{
	exa_batch *b = exa_batch_new();
	EXPECT(b != NULL);
	if (b == NULL)
		return;
	/* The questions on workspaces, twice, in one batch: no cache, so
	 * one statement reads the users' standings (the key is looked up on
	 * its own). */
	size_t items[2 * 9];
	size_t n = 0;
	for (int twice = 0; twice < 2; twice++) {
		for (size_t i = 0; i < nquestions; i++) {
			const struct question *q = &questions[i];
			if (q->workspace == NULL)
				continue;
			long index = q->user != NULL
			    ? exa_batch_add_user(b, q->user, q->permission,
			          q->workspace)
			    : exa_batch_add_key(b, q->key, q->permission,
			          q->workspace);
			EXPECT_INT(index, (long)n);
			items[n++] = i;
		}
	}
	exa_error err;
	EXPECT_INT(exa_batch_run(h.client, b, 0, &err), EXA_OK);
	for (size_t k = 0; k < n; k++) {
		const struct question *q = &questions[items[k]];
		exa_decision d;
		EXPECT_INT(exa_batch_result(b, k, &d, &err), EXA_OK);
		EXPECT_INT(d.allowed, q->allowed);
		EXPECT_INT(d.role, q->role);
		if (!q->allowed)
			EXPECT_CONTAINS(d.reason, q->reason);
	}
	exa_batch_free(b);
}

static const struct unit_case cases[] = {
	{"concurrent cold checks each get their own answer",
	    concurrent_cold_checks_each_get_their_own_answer},
	{"a cold batch answers each item as Check does",
	    cold_batch_answers_each_item_as_check_does},
};

UNIT_STATE

int
main(void)
{
	port = fixture_free_port();
	char metrics[64];
	snprintf(metrics, sizeof metrics,
	    "--metrics-address=http://127.0.0.1:%d", port);
	return fixture_run_suite(&h, "cold",
	    (const char *const[]){"--cache-size=0", "--workers=1", metrics,
	        NULL},
	    cases, sizeof cases / sizeof cases[0]);
}
