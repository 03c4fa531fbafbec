/* The client library's local cache against a real daemon: checks answered
 * in the caller's process once learned, with the service's words; a role
 * change, a removal and a workspace deletion each stop being answered
 * from memory once the feed has applied them, and with at_least_as_fresh
 * the answer is right at once, every time; the feed woken by the
 * service's change hints; the staleness bound when the service is
 * stopped. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;
static char publish_url[300];

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* open_local opens a check-scoped client of `hh` with a local cache. */
static exa_client *
open_local(struct harness *hh, int staleness_ms, const char *subscribe)
{
	exa_client_options o = {0};
	o.timeout_ms = 1000;
	o.local_cache_entries = 10000;
	o.local_cache_max_staleness_ms = staleness_ms;
	o.local_cache_subscribe = subscribe;
	exa_client *c;
	exa_error err;
	fixture_must(exa_client_open(hh->url, hh->check_token, &o, &c, &err),
	    &err, "open a client with a local cache");
	/* Wait for its feed to stand somewhere. */
	for (int i = 0; i < 200; i++) {
		exa_cache_stats st;
		exa_client_cache_stats(c, &st);
		if (st.answering)
			break;
		sleep_ms(10);
	}
	return c;
}

static uint64_t
hits(exa_client *c)
{
	exa_cache_stats st;
	exa_client_cache_stats(c, &st);
	return st.hits;
}

/* truth asks the service (no local cache) with at_least_as_fresh. */
static exa_decision
truth(const char *user, const char *perm, const char *ws, uint64_t rev)
{
	exa_decision d;
	exa_error err;
	fixture_must(exa_check_fresh(h.client, user, perm, ws, rev, &d, &err),
	    &err, "check the truth");
	return d;
}

static exa_decision
check(exa_client *c, const char *user, const char *perm, const char *ws,
    uint64_t rev)
{
	exa_decision d;
	exa_error err;
	fixture_must(exa_check_fresh(c, user, perm, ws, rev, &d, &err), &err,
	    "check");
	return d;
}

/* same says whether two decisions read alike (not their revisions). */
static bool
same(const exa_decision *a, const exa_decision *b)
{
	return a->allowed == b->allowed && a->role == b->role &&
	    strcmp(a->reason, b->reason) == 0;
}

/* learned checks twice: the second answer comes from memory, and reads as
 * the service's. */
static void
expect_learned(exa_client *c, const char *user, const char *perm,
    const char *ws)
{
	exa_decision first = check(c, user, perm, ws, 0);
	uint64_t before = hits(c);
	exa_decision second = check(c, user, perm, ws, 0);
	EXPECT_INT(hits(c), before + 1);
	EXPECT(same(&first, &second));
	exa_decision t = truth(user, perm, ws, 0);
	EXPECT(same(&second, &t));
	if (!same(&second, &t))
		fprintf(stderr, "  local \"%s\", service \"%s\"\n", second.reason,
		    t.reason);
}

/* A second caching client, warmed like the first, that asks with the
 * write's revision right after each write. */
static exa_client *fresh_client;

/* after_write: with the write's revision the answer is right at once
 * (fresh_client, which knew the old answer); once the feed has applied
 * the write, a plain check from memory is right, with no wait; returns
 * how long the write took to be applied. */
static int64_t
after_write(exa_client *c, const char *user, const char *perm, const char *ws,
    uint64_t rev, const exa_decision *want)
{
	int64_t t0 = now_ms();
	exa_decision fresh = check(fresh_client, user, perm, ws, rev);
	EXPECT(same(&fresh, want));
	EXPECT(fresh.revision >= rev);
	exa_cache_stats st;
	for (;;) {
		exa_client_cache_stats(c, &st);
		if (st.applied_revision >= rev || now_ms() - t0 > 3000)
			break;
		sleep_ms(1);
	}
	int64_t took = now_ms() - t0;
	EXPECT(st.applied_revision >= rev);
	exa_decision d = check(c, user, perm, ws, 0);
	EXPECT(same(&d, want));
	if (!same(&d, want))
		fprintf(stderr, "  applied %llu >= %llu, yet \"%s\"\n",
		    (unsigned long long)st.applied_revision,
		    (unsigned long long)rev, d.reason);
	/* And learned again: answered from memory. */
	(void)check(c, user, perm, ws, 0);
	uint64_t before = hits(c);
	d = check(c, user, perm, ws, 0);
	EXPECT_INT(hits(c), before + 1);
	EXPECT(same(&d, want));
	return took;
}

/* warm learns a check on both caching clients. */
static void
warm(exa_client *c, const char *user, const char *perm, const char *ws)
{
	expect_learned(c, user, perm, ws);
	expect_learned(fresh_client, user, perm, ws);
}

static void
answers_from_memory_in_the_services_words(void)
{
	struct fixture_team t;
	if (!fixture_team_make(h.client, "Local Org", "Local", &t))
		return;
	struct fixture_user stranger;
	if (!fixture_sign_up(h.client, "stranger", &stranger))
		return;
	exa_client *c = open_local(&h, 1000, publish_url);
	expect_learned(c, t.member.id, "experiment.create", t.workspace);
	expect_learned(c, t.member.id, "experiment.delete", t.workspace);
	expect_learned(c, t.reader.id, "experiment.create", t.workspace);
	expect_learned(c, t.admin.id, "workspace.delete", t.workspace);
	expect_learned(c, stranger.id, "experiment.view", t.workspace);
	expect_learned(c, t.member.id, "experiment.view", stranger.workspace);
	expect_learned(c, stranger.id, "workspace.delete", stranger.workspace);
	expect_learned(c, t.member.id, "experiment.view",
	    "00000000-0000-4000-8000-000000000000");
	/* What is known of a standing answers its other permissions. */
	uint64_t before = hits(c);
	exa_decision d = check(c, t.member.id, "dataset.edit", t.workspace, 0);
	exa_decision want = truth(t.member.id, "dataset.edit", t.workspace, 0);
	EXPECT_INT(hits(c), before + 1);
	EXPECT(same(&d, &want));
	/* Bad input is the service's to answer. */
	exa_error err;
	EXPECT_INT(exa_check(c, t.member.id, "experiment.fly", t.workspace, &d,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT_INT(exa_check(c, "not-a-uuid", "experiment.view", t.workspace,
	    &d, &err), EXA_INVALID_ARGUMENT);
	exa_client_close(c);
}

static void
role_change_removal_and_deletion_stop_local_answers(void)
{
	struct fixture_team t;
	if (!fixture_team_make(h.client, "Change Org", "Change", &t))
		return;
	exa_client *c = open_local(&h, 1000, publish_url);
	fresh_client = open_local(&h, 1000, NULL);
	exa_error err;
	warm(c, t.member.id, "experiment.create", t.workspace);
	warm(c, t.reader.id, "experiment.view", t.workspace);

	/* A role change. */
	uint64_t rev = 0;
	fixture_must(fixture_change_role(h.client, t.admin.id, t.workspace,
	    t.member.id, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, &rev, &err),
	    &err, "demote");
	exa_decision want = truth(t.member.id, "experiment.create", t.workspace,
	    rev);
	EXPECT(!want.allowed);
	int64_t role_ms = after_write(c, t.member.id, "experiment.create",
	    t.workspace, rev, &want);

	/* A removal. */
	fixture_must(fixture_remove_member(h.client, t.admin.id, t.workspace,
	    t.reader.id, &rev, &err), &err, "remove");
	want = truth(t.reader.id, "experiment.view", t.workspace, rev);
	EXPECT(!want.allowed);
	EXPECT_CONTAINS(want.reason, "is not a member");
	int64_t removal_ms = after_write(c, t.reader.id, "experiment.view",
	    t.workspace, rev, &want);

	/* The workspace deleted. */
	warm(c, t.admin.id, "workspace.view", t.workspace);
	Exe__Access__V1__DeleteWorkspaceRequest del =
	    EXE__ACCESS__V1__DELETE_WORKSPACE_REQUEST__INIT;
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	del.actor = &admin;
	del.workspace_id = t.workspace;
	Exe__Access__V1__WriteResponse *w = NULL;
	fixture_must(exa_delete_workspace(h.client, &del, &w, &err), &err,
	    "delete workspace");
	rev = w->revision;
	exa_free(w);
	want = truth(t.admin.id, "workspace.view", t.workspace, rev);
	EXPECT(!want.allowed);
	EXPECT_CONTAINS(want.reason, "does not exist");
	int64_t deletion_ms = after_write(c, t.admin.id, "workspace.view",
	    t.workspace, rev, &want);
	printf("  applied by the subscribed client after: role change %lld "
	    "ms, removal %lld ms, deletion %lld ms\n", (long long)role_ms,
	    (long long)removal_ms, (long long)deletion_ms);
	exa_client_close(c);
	exa_client_close(fresh_client);
}

/* A fresh revision the client has not applied goes to the service, which
 * alone says it was never written. */
static void
unapplied_revisions_go_to_the_service(void)
{
	struct fixture_team t;
	if (!fixture_team_make(h.client, "Fresh Org", "Fresh", &t))
		return;
	exa_client *c = open_local(&h, 1000, NULL); /* polling only */
	expect_learned(c, t.member.id, "experiment.create", t.workspace);
	exa_cache_stats st;
	exa_client_cache_stats(c, &st);
	uint64_t before = hits(c);
	exa_decision d;
	exa_error err;
	EXPECT_INT(exa_check_fresh(c, t.member.id, "experiment.create",
	    t.workspace, st.applied_revision + 1000000, &d, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_INT(hits(c), before);
	exa_client_close(c);
}

/* The service stopped: the feed cannot be read, and past the staleness
 * bound (300 ms here) the cache answers nothing. */
static void
staleness_bound_holds_when_the_feed_is_cut(void)
{
	static struct harness h2;
	harness_start(&h2, "local_cache_cut", NULL);
	struct fixture_user u;
	if (!fixture_sign_up(h2.client, "cut", &u))
		return;
	exa_client *c = open_local(&h2, 300, NULL);
	exa_decision d;
	exa_error err;
	fixture_must(exa_check(c, u.id, "experiment.view", u.workspace, &d,
	    &err), &err, "learn");
	/* Stopped (SIGTERM: it drains and exits within milliseconds). */
	int64_t stopped = now_ms();
	kill(h2.pid, SIGTERM);
	int64_t last_ok = -1, first_refused = -1;
	uint64_t local_hits_after = 0;
	while (now_ms() - stopped < 2000) {
		uint64_t before = hits(c);
		exa_status rc = exa_check(c, u.id, "experiment.view",
		    u.workspace, &d, &err);
		if (rc == EXA_OK) {
			last_ok = now_ms() - stopped;
			local_hits_after += hits(c) - before;
			EXPECT(d.allowed);
		} else if (first_refused < 0) {
			first_refused = now_ms() - stopped;
		}
		if (rc == EXA_OK && first_refused >= 0) {
			fprintf(stderr, "  answered again after refusing\n");
			unit_case_failed = 1;
		}
		sleep_ms(5);
	}
	exa_cache_stats st;
	exa_client_cache_stats(c, &st);
	int64_t last_sync = now_ms() - stopped - st.feed_lag_ms;
	printf("  service stopped: feed last read %lld ms after SIGTERM (it "
	    "drains), last local answer %lld ms after, refused from %lld ms "
	    "(bound 300 ms)\n", (long long)last_sync, (long long)last_ok,
	    (long long)first_refused);
	EXPECT(local_hits_after > 0);
	/* No local answer past the bound after the last read of the log. */
	EXPECT(last_ok >= 0 && last_ok <= last_sync + 300 + 5);
	EXPECT(first_refused > last_ok);
	EXPECT(!st.answering);
	EXPECT(st.feed_lag_ms > 300);
	exa_client_close(c);
	EXPECT_INT(harness_stop(&h2), 0);
}

static const struct unit_case cases[] = {
    {"answers from memory in the service's words",
        answers_from_memory_in_the_services_words},
    {"a role change, a removal and a deletion stop local answers",
        role_change_removal_and_deletion_stop_local_answers},
    {"unapplied revisions go to the service",
        unapplied_revisions_go_to_the_service},
    {"the staleness bound holds when the feed is cut",
        staleness_bound_holds_when_the_feed_is_cut},
};

UNIT_STATE

int
main(void)
{
	char dir[] = "/tmp/exa-local-cache.XXXXXX";
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(publish_url, sizeof publish_url, "ipc://%s/pub.sock", dir);
	char arg[320];
	snprintf(arg, sizeof arg, "--publish=%s", publish_url);
	const char *args[] = {arg, NULL};
	int rc = fixture_run_suite(&h, "local_cache", args, cases,
	    sizeof cases / sizeof cases[0]);
	harness_remove_tree(dir);
	return rc;
}
