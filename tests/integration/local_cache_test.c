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

#include "base/perms.h"
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

/* list_permissions asks ListPermissions in `ws` for `user`, or with the
 * API key `key` when it is not NULL. */
static Exe__Access__V1__ListPermissionsResponse *
list_permissions_of(exa_client *c, const char *user, const char *key,
    const char *ws)
{
	Exe__Access__V1__Principal p = key != NULL ? fixture_as_key(key)
	                                           : fixture_as_user(user);
	Exe__Access__V1__ListPermissionsRequest req =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	req.principal = &p;
	req.workspace_id = (char *)ws;
	Exe__Access__V1__ListPermissionsResponse *r = NULL;
	exa_error err;
	fixture_must(exa_list_permissions(c, &req, &r, &err), &err,
	    "ListPermissions");
	return r;
}

static Exe__Access__V1__ListPermissionsResponse *
list_permissions(exa_client *c, const char *user, const char *ws)
{
	return list_permissions_of(c, user, NULL, ws);
}

/* same_permissions: the local answer lists what the service's does. */
static void
expect_same_permissions_of(exa_client *c, const char *user, const char *key,
    const char *ws)
{
	uint64_t before = hits(c);
	Exe__Access__V1__ListPermissionsResponse *mine =
	    list_permissions_of(c, user, key, ws);
	EXPECT_INT(hits(c), before + 1);
	Exe__Access__V1__ListPermissionsResponse *theirs =
	    list_permissions_of(h.client, user, key, ws);
	EXPECT_INT(mine->role, theirs->role);
	EXPECT_INT(mine->n_permissions, theirs->n_permissions);
	for (size_t i = 0; i < mine->n_permissions && i < theirs->n_permissions;
	     i++)
		EXPECT_STR(mine->permissions[i], theirs->permissions[i]);
	EXPECT_STR(mine->workspace_id, theirs->workspace_id);
	EXPECT(mine->revision > 0);
	exa_free(mine);
	exa_free(theirs);
}

static void
expect_same_permissions(exa_client *c, const char *user, const char *ws)
{
	expect_same_permissions_of(c, user, NULL, ws);
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
	/* ListPermissions from the same standings: a member, a reader, a
	 * stranger (nothing held), an unknown workspace. */
	expect_same_permissions(c, t.member.id, t.workspace);
	expect_same_permissions(c, t.reader.id, t.workspace);
	expect_same_permissions(c, stranger.id, t.workspace);
	expect_same_permissions(c, t.member.id,
	    "00000000-0000-4000-8000-000000000000");
	/* And a standing learned from ListPermissions answers checks. */
	Exe__Access__V1__ListPermissionsResponse *lp =
	    list_permissions(c, t.reader.id, t.reader.workspace);
	EXPECT_INT(lp->role, EXE__ACCESS__V1__ROLE__ROLE_ADMIN);
	exa_free(lp);
	before = hits(c);
	d = check(c, t.reader.id, "project.delete", t.reader.workspace, 0);
	EXPECT_INT(hits(c), before + 1);
	want = truth(t.reader.id, "project.delete", t.reader.workspace, 0);
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


/* batch_one runs a one-item batch (a key, or a user when `key` is NULL)
 * with at_least_as_fresh `rev`. */
static exa_decision
batch_one(exa_client *c, const char *key, const char *user, const char *perm,
    const char *ws, uint64_t rev)
{
	exa_batch *b = exa_batch_new();
	if (key != NULL)
		exa_batch_add_key(b, key, perm, ws);
	else
		exa_batch_add_user(b, user, perm, ws);
	exa_error err;
	fixture_must(exa_batch_run(c, b, rev, &err), &err, "batch");
	exa_decision d;
	fixture_must(exa_batch_result(b, 0, &d, &err), &err, "batch item");
	exa_batch_free(b);
	return d;
}

/* Batch items are answered from memory too, keys among them, in order
 * with the service's answers for the rest; a rotated key stops being
 * answered once the rotation is applied, and at once with its revision. */
static void
batches_and_key_rotation(void)
{
	struct fixture_team t;
	if (!fixture_team_make(h.client, "Key Org", "Keys", &t))
		return;
	exa_client *c = open_local(&h, 1000, publish_url);
	exa_client *f = open_local(&h, 1000, NULL);
	const char *perms[] = {"experiment.create", "members.invite"};
	for (int i = 0; i < 2; i++) {
		exa_decision first = batch_one(c, t.first_key, NULL, perms[i],
		    t.workspace, 0);
		(void)batch_one(f, t.first_key, NULL, perms[i], t.workspace, 0);
		uint64_t before = hits(c);
		exa_decision second = batch_one(c, t.first_key, NULL, perms[i],
		    t.workspace, 0);
		EXPECT_INT(hits(c), before + 1);
		EXPECT(same(&first, &second));
	}
	exa_decision d = batch_one(c, t.first_key, NULL, "experiment.create",
	    t.workspace, 0);
	EXPECT(d.allowed);
	d = batch_one(c, t.first_key, NULL, "members.invite", t.workspace, 0);
	EXPECT(!d.allowed);
	EXPECT_CONTAINS(d.reason, "API keys never hold");
	/* A known key's ListPermissions: its role's column without the
	 * management permissions; and in another workspace, nothing. */
	expect_same_permissions_of(c, NULL, t.first_key, t.workspace);
	expect_same_permissions_of(c, NULL, t.first_key, t.member.workspace);

	/* A batch of known and unknown items keeps its order. */
	expect_learned(c, t.member.id, "experiment.create", t.workspace);
	exa_batch *b = exa_batch_new();
	exa_batch_add_user(b, t.member.id, "experiment.create", t.workspace);
	exa_batch_add_user(b, t.reader.id, "experiment.delete", t.workspace);
	exa_batch_add_key(b, t.first_key, "experiment.view", t.workspace);
	exa_batch_add_user(b, t.member.id, "bogus.permission", t.workspace);
	exa_batch_add_user(b, t.admin.id, "workspace.delete", t.workspace);
	exa_error err;
	fixture_must(exa_batch_run(c, b, 0, &err), &err, "mixed batch");
	const char *who[] = {t.member.id, t.reader.id, NULL, t.member.id,
	    t.admin.id};
	const char *what[] = {"experiment.create", "experiment.delete",
	    "experiment.view", "bogus.permission", "workspace.delete"};
	for (size_t i = 0; i < 5; i++) {
		exa_error item;
		exa_status rc = exa_batch_result(b, i, &d, &item);
		if (i == 3) {
			EXPECT_INT(rc, EXA_INVALID_ARGUMENT);
			continue;
		}
		EXPECT_INT(rc, EXA_OK);
		exa_decision want = who[i] != NULL
		    ? truth(who[i], what[i], t.workspace, 0)
		    : batch_one(h.client, t.first_key, NULL, what[i],
		          t.workspace, 0);
		EXPECT(same(&d, &want));
	}
	exa_batch_free(b);

	/* The key rotated (no grace): the old one stops. */
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	Exe__Access__V1__RotateApiKeyResponse *rot = NULL;
	fixture_must(fixture_rotate_key(h.client, &admin, t.workspace, 0, false,
	    &rot, &err), &err, "rotate");
	uint64_t rev = rot->revision;
	exa_decision want = batch_one(h.client, t.first_key, NULL,
	    "experiment.create", t.workspace, rev);
	EXPECT(!want.allowed);
	d = batch_one(f, t.first_key, NULL, "experiment.create", t.workspace,
	    rev);
	EXPECT(same(&d, &want));
	int64_t t0 = now_ms();
	exa_cache_stats st;
	do {
		exa_client_cache_stats(c, &st);
		if (st.applied_revision < rev)
			sleep_ms(1);
	} while (st.applied_revision < rev && now_ms() - t0 < 3000);
	d = batch_one(c, t.first_key, NULL, "experiment.create", t.workspace, 0);
	EXPECT(same(&d, &want));
	/* The new key works, and is learned. */
	d = batch_one(c, rot->secret, NULL, "experiment.create", t.workspace, 0);
	EXPECT(d.allowed);
	uint64_t before = hits(c);
	d = batch_one(c, rot->secret, NULL, "experiment.create", t.workspace, 0);
	EXPECT(d.allowed);
	EXPECT_INT(hits(c), before + 1);
	exa_free(rot);
	exa_client_close(c);
	exa_client_close(f);
}


/* ---- randomized: writes interleaved with checks from several threads ---- */

enum { R_USERS = 6, R_CHECKERS = 4, R_WRITES = 150, R_MAX_KEYS = 64,
	R_MAX_SAMPLES = 400000 };

/* The team's state after each write, for the truth at any revision. */
struct r_state {
	uint64_t revision;
	enum role role[R_USERS];
	int key; /* index of the current key in r_keys */
};

static struct fixture_team r_team;
static struct fixture_user r_users[R_USERS];
static char r_keys[R_MAX_KEYS][64];
static int r_nkeys; /* under r_lock */
static struct r_state r_history[R_WRITES + 1];
static size_t r_nhistory;
static pthread_mutex_t r_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int r_done;
static exa_client *r_client;

static const char *const r_perms[] = {"experiment.view", "experiment.create",
    "experiment.delete", "members.invite"};
enum { R_NPERMS = sizeof r_perms / sizeof r_perms[0] };

struct r_sample {
	unsigned char who;  /* a user index, or R_USERS + key index */
	unsigned char perm;
	bool listed;        /* a user's ListPermissions: `held` permissions */
	unsigned char held;
	bool allowed;
	unsigned char role;
	uint64_t revision;
};

struct r_checker {
	unsigned seed;
	struct r_sample *s;
	size_t n;
	long errors;
};

static void *
r_check_main(void *arg)
{
	struct r_checker *k = arg;
	while (!r_done && k->n < R_MAX_SAMPLES / R_CHECKERS) {
		int pick = (int)(rand_r(&k->seed) % (R_USERS + 3));
		unsigned perm = rand_r(&k->seed) % R_NPERMS;
		exa_decision d;
		exa_error err;
		struct r_sample *s = &k->s[k->n];
		s->perm = (unsigned char)perm;
		s->listed = false;
		if (pick == R_USERS + 2) {
			/* A user's ListPermissions. */
			int u = (int)(rand_r(&k->seed) % R_USERS);
			Exe__Access__V1__Principal p =
			    fixture_as_user(r_users[u].id);
			Exe__Access__V1__ListPermissionsRequest req =
			    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
			req.principal = &p;
			req.workspace_id = r_team.workspace;
			Exe__Access__V1__ListPermissionsResponse *r = NULL;
			if (exa_list_permissions(r_client, &req, &r, &err) !=
			    EXA_OK) {
				k->errors++;
				continue;
			}
			s->who = (unsigned char)u;
			s->listed = true;
			s->held = (unsigned char)r->n_permissions;
			s->role = (unsigned char)r->role;
			s->revision = r->revision;
			exa_free(r);
			k->n++;
			continue;
		}
		if (pick < R_USERS) {
			s->who = (unsigned char)pick;
			if (exa_check(r_client, r_users[pick].id, r_perms[perm],
			        r_team.workspace, &d, &err) != EXA_OK) {
				k->errors++;
				continue;
			}
		} else {
			/* A key: the current one or one before it. */
			pthread_mutex_lock(&r_lock);
			int n = r_nkeys;
			int key = n - 1 - (int)(rand_r(&k->seed) % (n < 3 ? n : 3));
			char secret[64];
			memcpy(secret, r_keys[key], sizeof secret);
			pthread_mutex_unlock(&r_lock);
			s->who = (unsigned char)(R_USERS + key);
			exa_batch *b = exa_batch_new();
			exa_batch_add_key(b, secret, r_perms[perm],
			    r_team.workspace);
			exa_status rc = exa_batch_run(r_client, b, 0, &err);
			if (rc == EXA_OK)
				rc = exa_batch_result(b, 0, &d, &err);
			exa_batch_free(b);
			if (rc != EXA_OK) {
				k->errors++;
				continue;
			}
		}
		s->allowed = d.allowed;
		s->role = (unsigned char)d.role;
		s->revision = d.revision;
		k->n++;
	}
	return NULL;
}

/* r_truth is the state at `revision`: after the last write at or
 * before it. */
static const struct r_state *
r_truth(uint64_t revision)
{
	const struct r_state *st = NULL;
	for (size_t i = 0; i < r_nhistory; i++)
		if (r_history[i].revision <= revision)
			st = &r_history[i];
	return st;
}

static void
randomized_writes_and_checks_zero_stale(void)
{
	if (!fixture_team_found(h.client, "rand-admin", "Rand Org", "Rand",
	        &r_team))
		return;
	struct r_state now = {0};
	for (int i = 0; i < R_USERS; i++) {
		if (!fixture_team_join(h.client, &r_team, "rand",
		        EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &r_users[i]))
			return;
		now.role[i] = ROLE_MEMBER;
	}
	snprintf(r_keys[0], sizeof r_keys[0], "%s", r_team.first_key);
	r_nkeys = 1;
	now.key = 0;
	now.revision = fixture_current_revision(h.client);
	exa_error err;
	r_history[0] = now;
	r_nhistory = 1;

	r_client = open_local(&h, 1000, publish_url);
	r_done = 0;
	static struct r_checker k[R_CHECKERS];
	pthread_t t[R_CHECKERS];
	for (int i = 0; i < R_CHECKERS; i++) {
		k[i] = (struct r_checker){.seed = 1234u + (unsigned)i};
		k[i].s = calloc(R_MAX_SAMPLES / R_CHECKERS, sizeof *k[i].s);
		pthread_create(&t[i], NULL, r_check_main, &k[i]);
	}
	unsigned seed = 99;
	Exe__Access__V1__Principal admin = fixture_as_user(r_team.admin.id);
	int writes = 0;
	for (int w = 0; w < R_WRITES; w++) {
		int u = (int)(rand_r(&seed) % R_USERS);
		int op = (int)(rand_r(&seed) % 10);
		uint64_t rev = 0;
		exa_status rc;
		if (op < 2 && r_nkeys < R_MAX_KEYS) {
			Exe__Access__V1__RotateApiKeyResponse *rot = NULL;
			rc = fixture_rotate_key(h.client, &admin, r_team.workspace,
			    0, false, &rot, &err);
			if (rc == EXA_OK) {
				pthread_mutex_lock(&r_lock);
				snprintf(r_keys[r_nkeys], sizeof r_keys[0], "%s",
				    rot->secret);
				now.key = r_nkeys++;
				pthread_mutex_unlock(&r_lock);
				rev = rot->revision;
				exa_free(rot);
			}
		} else if (now.role[u] == ROLE_NONE) {
			rc = fixture_add_member(h.client, r_team.admin.id,
			    r_team.workspace, r_users[u].id,
			    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &rev, &err);
			if (rc == EXA_OK)
				now.role[u] = ROLE_MEMBER;
		} else if (op < 4) {
			rc = fixture_remove_member(h.client, r_team.admin.id,
			    r_team.workspace, r_users[u].id, &rev, &err);
			if (rc == EXA_OK)
				now.role[u] = ROLE_NONE;
		} else {
			enum role to = now.role[u] == ROLE_MEMBER ? ROLE_READ_ONLY
			    : now.role[u] == ROLE_READ_ONLY       ? ROLE_ADMIN
			                                          : ROLE_MEMBER;
			rc = fixture_change_role(h.client, r_team.admin.id,
			    r_team.workspace, r_users[u].id,
			    (Exe__Access__V1__Role)to, &rev, &err);
			if (rc == EXA_OK)
				now.role[u] = to;
		}
		if (rc != EXA_OK) {
			fprintf(stderr, "  write %d: %s\n", w, err.message);
			unit_case_failed = 1;
			break;
		}
		now.revision = rev;
		r_history[r_nhistory++] = now;
		writes++;
		sleep_ms((long)(rand_r(&seed) % 8));
	}
	sleep_ms(200);
	r_done = 1;
	for (int i = 0; i < R_CHECKERS; i++)
		pthread_join(t[i], NULL);

	long total = 0, stale = 0, errors = 0, local = 0, lists = 0;
	for (int i = 0; i < R_CHECKERS; i++) {
		errors += k[i].errors;
		for (size_t j = 0; j < k[i].n; j++) {
			const struct r_sample *x = &k[i].s[j];
			const struct r_state *st = r_truth(x->revision);
			total++;
			if (st == NULL) {
				stale++;
				continue;
			}
			if (x->listed) {
				enum role role = st->role[x->who];
				size_t held = 0;
				for (size_t p = 0; role != ROLE_NONE &&
				     p < perms_count; p++)
					held += perms_role_has(role, &perms_all[p]);
				lists++;
				if ((int)role != x->role || held != x->held) {
					if (stale++ < 5)
						fprintf(stderr, "  stale: "
						    "ListPermissions of %d at "
						    "revision %llu: role %d with "
						    "%d, truth %d with %zu\n",
						    x->who,
						    (unsigned long long)x->revision,
						    x->role, x->held, (int)role,
						    held);
				}
				continue;
			}
			const struct permission *perm = perms_find(r_perms[x->perm]);
			bool allowed;
			enum role role;
			if (x->who < R_USERS) {
				role = st->role[x->who];
				allowed = role != ROLE_NONE &&
				    perms_role_has(role, perm);
			} else {
				bool live = x->who - R_USERS == st->key;
				role = live ? ROLE_MEMBER : ROLE_NONE;
				allowed = live && !perm->management &&
				    perms_role_has(ROLE_MEMBER, perm);
			}
			if (allowed != x->allowed || (int)role != x->role) {
				if (stale++ < 5)
					fprintf(stderr, "  stale: who %d %s at "
					    "revision %llu: answered %d/%d, truth "
					    "%d/%d\n", x->who, r_perms[x->perm],
					    (unsigned long long)x->revision,
					    x->allowed, x->role, allowed, (int)role);
			}
		}
		free(k[i].s);
	}
	exa_cache_stats st;
	exa_client_cache_stats(r_client, &st);
	local = (long)st.hits;
	printf("  %d writes (role changes, removals, re-adds, rotations), %ld "
	    "answers from %d threads (%ld of them ListPermissions; %ld from "
	    "memory), %ld errors: %ld stale\n", writes, total, R_CHECKERS,
	    lists, local, errors, stale);
	EXPECT_INT(stale, 0);
	EXPECT_INT(errors, 0);
	EXPECT(local > total / 2);
	EXPECT(writes == R_WRITES);
	exa_client_close(r_client);
}

static const struct unit_case cases[] = {
    {"answers from memory in the service's words",
        answers_from_memory_in_the_services_words},
    {"a role change, a removal and a deletion stop local answers",
        role_change_removal_and_deletion_stop_local_answers},
    {"batches, keys and a key rotation", batches_and_key_rotation},
    {"randomized writes and checks: zero stale",
        randomized_writes_and_checks_zero_stale},
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
