/* The operations endpoint: /healthz, /metrics after a known workload (the
 * counters move by exactly the right amounts), and /readyz turning
 * unready when PostgreSQL stops and ready again when it returns, with the
 * service serving again without a restart. This test runs its own
 * PostgreSQL (it stops it), so it cannot disturb the other tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;
static char pg_state[256];
static char pg_script[512];
static int port;

/* http_get fetches `path` from the daemon's metrics address. */
static int
http_get(const char *path, char *body, size_t size)
{
	return fixture_http_get(port, path, body, size);
}

static double
scrape(const char *sample)
{
	static char body[1 << 20];
	if (http_get("/metrics", body, sizeof body) != 200)
		return -2;
	return fixture_metric(body, sample);
}

static void
healthz_answers(void)
{
	char body[256];
	EXPECT_INT(http_get("/healthz", body, sizeof body), 200);
	EXPECT_STR(body, "ok\n");
	EXPECT_INT(http_get("/readyz", body, sizeof body), 200);
	EXPECT_INT(http_get("/nothing-here", body, sizeof body), 404);
}

static const char *const check_ok =
    "exe_access_requests_total{method=\"exe.access.v1.AuthzService/Check\","
    "code=\"OK\"}";
static const char *const check_invalid =
    "exe_access_requests_total{method=\"exe.access.v1.AuthzService/Check\","
    "code=\"INVALID_ARGUMENT\"}";
static const char *const signup_ok =
    "exe_access_requests_total{method=\"exe.access.v1.WorkspaceService/"
    "CreateUser\",code=\"OK\"}";
static const char *const check_count =
    "exe_access_request_duration_seconds_count{method=\"exe.access.v1."
    "AuthzService/Check\"}";

static double
zero_if_absent(double v)
{
	return v < 0 ? 0 : v;
}

static void
metrics_count_a_known_workload(void)
{
	double ok0 = zero_if_absent(scrape(check_ok));
	double bad0 = zero_if_absent(scrape(check_invalid));
	double signup0 = zero_if_absent(scrape(signup_ok));
	double count0 = zero_if_absent(scrape(check_count));
	double hits0 = scrape("exe_access_cache_hits_total");

	Exe__Access__V1__CreateUserResponse *u = NULL;
	exa_error err;
	EXPECT_INT(fixture_create_user(h.client, harness_unique("metric"), NULL,
	    NULL, &u, &err), EXA_OK);
	if (u == NULL)
		return;
	/* 7 good checks of one membership (the first reads the database,
	 * the rest can hit the cache) and 3 malformed ones. */
	for (int i = 0; i < 7; i++) {
		exa_decision d;
		EXPECT_INT(exa_check(h.client, u->user->id, "experiment.create",
		    u->personal_workspace->id, &d, &err), EXA_OK);
	}
	for (int i = 0; i < 3; i++) {
		exa_decision d;
		EXPECT_INT(exa_check(h.client, u->user->id, "no.such.permission",
		    u->personal_workspace->id, &d, &err), EXA_INVALID_ARGUMENT);
	}
	exa_free(u);

	EXPECT_INT(scrape(check_ok) - ok0, 7);
	EXPECT_INT(scrape(check_invalid) - bad0, 3);
	EXPECT_INT(scrape(signup_ok) - signup0, 1);
	EXPECT_INT(scrape(check_count) - count0, 10);
	EXPECT(scrape("exe_access_cache_hits_total") - hits0 >= 5);
	EXPECT_INT(scrape("exe_access_db_pool_connections"), 2);
	EXPECT(scrape("exe_access_cache_entries") >= 1);
	EXPECT(scrape("exe_access_change_log_lag_seconds") < 1.0);
	/* The cache reads the change log within milliseconds. */
	double revision = 0;
	for (int i = 0; i < 100 && revision < 1; i++) {
		revision = scrape("exe_access_cache_revision");
		if (revision < 1)
			usleep(10 * 1000);
	}
	EXPECT(revision >= 1);
}

static int
pg(const char *verb)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s %s", pg_script, verb, pg_state);
	return system(cmd);
}

/* wait_ready polls /readyz until it answers `want` (at most 10 s);
 * returns the milliseconds it took, or -1. */
static double
wait_ready(int want)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char body[256];
		if (http_get("/readyz", body, sizeof body) == want) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			return (double)(t1.tv_sec - t0.tv_sec) * 1000 +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 10)
			return -1;
		usleep(20 * 1000);
	}
}

static void
readyz_follows_the_database(void)
{
	EXPECT_INT(pg("pause"), 0);
	double down = wait_ready(503);
	char body[256];
	EXPECT_INT(http_get("/readyz", body, sizeof body), 503);
	EXPECT_CONTAINS(body, "not ready");
	EXPECT_INT(http_get("/healthz", body, sizeof body), 200);
	/* Requests that need the database fail cleanly meanwhile. */
	Exe__Access__V1__GetUserRequest get = EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	get.user_id = "00000000-0000-4000-8000-000000000000";
	Exe__Access__V1__GetUserResponse *r = NULL;
	exa_error err;
	EXPECT_INT(exa_get_user(h.client, &get, &r, &err), EXA_UNAVAILABLE);

	EXPECT_INT(pg("resume"), 0);
	double up = wait_ready(200);
	printf("  /readyz: unready %.0f ms after PostgreSQL stopped, ready "
	       "%.0f ms after it returned\n", down, up);
	EXPECT(down >= 0 && up >= 0);
	/* And the service serves again, without a restart: once one worker
	 * has reconnected, every call is served (a worker that failed to
	 * connect during the outage does not keep failing calls for its
	 * back-off; the daemon has two workers, and calls alternate). */
	for (int i = 0; i < 50; i++) {
		if (exa_get_user(h.client, &get, &r, &err) == EXA_NOT_FOUND)
			break;
		usleep(100 * 1000);
	}
	for (int i = 0; i < 6; i++)
		EXPECT_INT(exa_get_user(h.client, &get, &r, &err),
		    EXA_NOT_FOUND);
}

static const struct unit_case cases[] = {
    {"/healthz answers", healthz_answers},
    {"/metrics counts a known workload", metrics_count_a_known_workload},
    {"/readyz follows the database", readyz_follows_the_database},
};

UNIT_STATE

int
main(void)
{
	/* A PostgreSQL of our own, started by the same script as the suite's. */
	const char *dir = getenv("EXA_TEST_PG_SCRIPT");
	if (dir == NULL) {
		fprintf(stderr, "EXA_TEST_PG_SCRIPT is not set: run through ctest\n");
		return 2;
	}
	snprintf(pg_script, sizeof pg_script, "%s", dir);
	snprintf(pg_state, sizeof pg_state, "/tmp/exa-metrics-pg.%d",
	    (int)getpid());
	if (pg("start") != 0)
		return 2;
	char env[300];
	snprintf(env, sizeof env, "%s/env", pg_state);
	setenv("EXA_TEST_PG_ENV", env, 1);

	port = fixture_free_port();
	char address[64];
	snprintf(address, sizeof address, "--metrics-address=http://127.0.0.1:%d",
	    port);
	int status = fixture_run_suite(&h, "metrics",
	    (const char *const[]){address, "--workers=2",
	        "--cache-max-staleness-ms=500", NULL},
	    cases, sizeof cases / sizeof cases[0]);
	pg("stop");
	return status;
}
