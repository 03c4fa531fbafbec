/* fault_graceful: SIGTERM in the middle of load.
 *
 * Injects: twelve callers signing users up and two checking, against a
 * daemon with two database workers (so that requests queue inside it and
 * many are in flight at any moment), which gets SIGTERM; the callers go
 * on calling through the drain, the exit and a second or so after. Twice:
 * the second time on a daemon restarted on the same path, under the same
 * clients.
 *
 * Asserts: the daemon exits 0 without "drain_incomplete"; every call
 * returns within its timeout (plus a margin); a call begun before the
 * SIGTERM ends OK or UNAVAILABLE (its request reached a daemon that no
 * longer took requests), never DEADLINE_EXCEEDED or anything else; calls
 * begun after it end OK, UNAVAILABLE or DEADLINE_EXCEEDED; every
 * acknowledged sign-up is in the database, whole; and — the drain's
 * promise — every sign-up that is in the database was acknowledged: no
 * request the daemon took was left without its reply (unlike kill -9,
 * where a reply can be lost after the commit). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fixtures.h"
#include "unit/unit.h"

enum {
	WRITERS = 12,
	CHECKERS = 2,
	CALL_TIMEOUT_MS = 3000,
	MARGIN_MS = 1000,
	MAX_CALLS = 20000,
};

static struct harness h;
static struct fixture_user probe;

struct call_record {
	char name[48]; /* sign-ups only */
	int64_t start, end;
	exa_status rc;
};

struct caller {
	int index, round;
	bool writes;
	exa_client *c;
	atomic_bool *stop;
	struct call_record *calls;
	size_t n;
};

static void *
call_until_stopped(void *arg)
{
	struct caller *k = arg;
	while (!atomic_load(k->stop) && k->n < MAX_CALLS) {
		struct call_record *r = &k->calls[k->n++];
		exa_error err;
		r->start = fault_ms();
		if (k->writes) {
			snprintf(r->name, sizeof r->name, "g%xr%dt%dn%zu",
			    (unsigned)getpid() & 0xffff, k->round, k->index,
			    k->n);
			r->rc = fixture_create_user(
			    k->c, r->name, NULL, NULL, NULL, &err);
		} else {
			exa_decision d;
			r->rc = exa_check(k->c, probe.id, "experiment.create",
			    probe.workspace, &d, &err);
		}
		r->end = fault_ms();
	}
	return NULL;
}

static struct caller callers[WRITERS + CHECKERS];
static exa_client *clients[WRITERS + CHECKERS];

static void
sigterm_under_load(int round)
{
	/* Every client connected first (after a restart, each reconnects in
	 * its own time): a call begun before the SIGTERM is then a call
	 * sent before it. */
	for (int i = 0; i < WRITERS + CHECKERS; i++) {
		exa_status rc = EXA_UNAVAILABLE;
		for (int attempt = 0; attempt < 10 && rc != EXA_OK; attempt++) {
			exa_decision d;
			exa_error err;
			rc = exa_check(clients[i], probe.id,
			    "experiment.create", probe.workspace, &d, &err);
		}
		EXPECT_INT(rc, EXA_OK);
	}
	atomic_bool stop = false;
	pthread_t t[WRITERS + CHECKERS];
	for (int i = 0; i < WRITERS + CHECKERS; i++) {
		callers[i] = (struct caller){.index = i,
		    .round = round,
		    .writes = i < WRITERS,
		    .c = clients[i],
		    .stop = &stop,
		    .calls = calloc(MAX_CALLS, sizeof(struct call_record))};
		pthread_create(&t[i], NULL, call_until_stopped, &callers[i]);
	}
	usleep(700 * 1000);
	int64_t t_term = fault_ms();
	int status = fault_daemon_stop(&h); /* SIGTERM, then wait */
	int64_t t_exit = fault_ms();
	bool incomplete = fault_daemon_logs_contain(&h, "drain_incomplete");
	usleep(1000 * 1000);
	atomic_store(&stop, true);
	for (int i = 0; i < WRITERS + CHECKERS; i++)
		pthread_join(t[i], NULL);

	long calls = 0, ok = 0, in_flight = 0, in_flight_ok = 0, after = 0,
	     after_ok = 0, unavailable = 0, deadline = 0, bad = 0;
	int64_t slowest = 0;
	for (int i = 0; i < WRITERS + CHECKERS; i++) {
		for (size_t k = 0; k < callers[i].n; k++) {
			const struct call_record *r = &callers[i].calls[k];
			calls++;
			ok += r->rc == EXA_OK;
			unavailable += r->rc == EXA_UNAVAILABLE;
			deadline += r->rc == EXA_DEADLINE_EXCEEDED;
			if (r->end - r->start > slowest)
				slowest = r->end - r->start;
			bool before = r->start < t_term;
			if (before && r->end >= t_term) {
				in_flight++;
				in_flight_ok += r->rc == EXA_OK;
			} else if (!before) {
				after++;
				after_ok += r->rc == EXA_OK;
			}
			bool fine = r->rc == EXA_OK ||
			            r->rc == EXA_UNAVAILABLE ||
			            (!before && r->rc == EXA_DEADLINE_EXCEEDED);
			if (!fine && bad++ == 0)
				fprintf(stderr,
				    "  call begun %lld ms %s the SIGTERM "
				    "ended %s\n",
				    (long long)llabs(r->start - t_term),
				    before ? "before" : "after",
				    exa_status_name(r->rc));
		}
	}
	printf("  round %d: SIGTERM after %ld calls were under way; exit %d "
	       "%lld ms later; %ld calls: %ld OK, %ld UNAVAILABLE, %ld "
	       "DEADLINE_EXCEEDED; in flight at the SIGTERM %ld, answered OK "
	       "%ld; begun after it %ld (OK %ld, during the drain); slowest "
	       "%lld ms\n",
	    round, calls - after - in_flight, status,
	    (long long)(t_exit - t_term), calls, ok, unavailable, deadline,
	    in_flight, in_flight_ok, after, after_ok, (long long)slowest);
	EXPECT_INT(status, 0);
	EXPECT(!incomplete);
	EXPECT_INT(bad, 0);
	EXPECT(in_flight > 0);
	EXPECT(slowest <= CALL_TIMEOUT_MS + MARGIN_MS);

	/* The database: acknowledged ⇔ present. */
	struct fault_sign_ups s = {0};
	for (int i = 0; i < WRITERS; i++) {
		for (size_t k = 0; k < callers[i].n; k++) {
			const struct call_record *r = &callers[i].calls[k];
			fault_sign_up_judge(h.db, r->name, r->rc, &s);
		}
	}
	printf("  round %d: %ld sign-ups acknowledged, %ld found whole; %ld "
	       "failed, %ld of those in the database anyway\n",
	    round, s.acked, s.found, s.failed, s.committed);
	EXPECT(s.acked > 0);
	EXPECT_INT(s.found, s.acked);
	EXPECT_INT(s.partial, 0);
	EXPECT_INT(s.committed, 0);
	for (int i = 0; i < WRITERS + CHECKERS; i++)
		free(callers[i].calls);
}

static void
sigterm_under_load_first(void)
{
	sigterm_under_load(0);
}

static void
sigterm_under_load_after_a_restart(void)
{
	EXPECT_INT(
	    fault_daemon_start(&h, (const char *const[]){"--workers=2", NULL}),
	    0);
	sigterm_under_load(1);
}

static const struct unit_case cases[] = {
    {"SIGTERM under load", sigterm_under_load_first},
    {"SIGTERM under load, restarted on the same path",
        sigterm_under_load_after_a_restart},
};

UNIT_STATE

int
main(void)
{
	fault_watchdog(140);
	fault_daemon_prepare(&h, "graceful", NULL);
	if (fault_daemon_start(
	        &h, (const char *const[]){"--workers=2", NULL}) != 0)
		return 2;
	fault_must(fixture_sign_up(h.client, "probe", &probe));
	for (int i = 0; i < WRITERS + CHECKERS; i++)
		clients[i] = fault_client(h.url, &h, CALL_TIMEOUT_MS);
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	for (int i = 0; i < WRITERS + CHECKERS; i++)
		exa_client_close(clients[i]);
	fault_daemon_free(&h, failed == 0);
	return failed == 0 ? 0 : 1;
}
