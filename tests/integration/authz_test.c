/* AuthzService against two real replicas on one database: every cell of
 * SPEC R5 for every kind of principal, answered identically with the
 * cache (twice: the second time from it) and without it; freshness across
 * replicas (SPEC §4) with the propagation time measured; rotated keys on
 * every replica; a cold restart; BatchCheck, ListPermissions,
 * VerifyApiKey and LookupResources. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

/* A: cached (the default); B: a second replica with its own cache;
 * N: no cache at all. */
static struct harness a, b, n;

/* SPEC R5, written out here independently of the service's table:
 * admin, member, read_only. */
static const struct {
	const char *name;
	bool admin, member, read_only, management;
} r5[] = {
    {"workspace.view", 1, 1, 1, 0}, {"members.view", 1, 1, 1, 0},
    {"activity.view", 1, 1, 1, 0}, {"experiment.view", 1, 1, 1, 0},
    {"dataset.view", 1, 1, 1, 0}, {"project.view", 1, 1, 1, 0},
    {"experiment.create", 1, 1, 0, 0}, {"experiment.edit", 1, 1, 0, 0},
    {"dataset.create", 1, 1, 0, 0}, {"dataset.edit", 1, 1, 0, 0},
    {"optimization.run", 1, 1, 0, 0}, {"measurement.add", 1, 1, 0, 0},
    {"experiment.delete", 1, 0, 0, 0}, {"dataset.delete", 1, 0, 0, 0},
    {"project.create", 1, 0, 0, 0}, {"project.edit", 1, 0, 0, 0},
    {"project.delete", 1, 0, 0, 0}, {"members.invite", 1, 0, 0, 1},
    {"members.remove", 1, 0, 0, 1}, {"api_key.view", 1, 0, 0, 1},
    {"api_key.rotate", 1, 0, 0, 1}, {"workspace.settings.update", 1, 0, 0, 1},
    {"workspace.delete", 1, 0, 0, 1},
};
enum { NPERMS = sizeof r5 / sizeof r5[0] };

static uint64_t last_revision;

static void
saw(uint64_t revision)
{
	if (revision > last_revision)
		last_revision = revision;
}

static void
sign_up(const char *prefix, struct fixture_user *u)
{
	if (!fixture_sign_up(a.client, prefix, u))
		exit(1);
	saw(u->revision);
}

static void
make_team(const struct fixture_user *org_admin, const char *name, char *ws)
{
	exa_error err;
	Exe__Access__V1__CreateOrganizationResponse *org = NULL;
	fixture_must(fixture_create_org(a.client, org_admin->id, "Org", &org,
	    &err), &err, "org");
	Exe__Access__V1__CreateTeamWorkspaceResponse *team = NULL;
	fixture_must(fixture_create_team(a.client, org_admin->id,
	    org->organization->id, name, NULL, &team, &err), &err, "team");
	snprintf(ws, 40, "%s", team->workspace->id);
	saw(team->revision);
	exa_free(team);
	exa_free(org);
}

static uint64_t
set_member(const struct fixture_user *org_admin, const char *ws,
    const struct fixture_user *u, Exe__Access__V1__Role role, bool change)
{
	exa_error err;
	uint64_t rev = 0;
	if (change)
		fixture_must(fixture_change_role(a.client, org_admin->id, ws,
		    u->id, role, &rev, &err), &err, "change role");
	else
		fixture_must(fixture_add_member(a.client, org_admin->id, ws,
		    u->id, role, &rev, &err), &err, "add member");
	saw(rev);
	return rev;
}

/* rotate gives `ws` a new key (read-only if asked) and returns its secret
 * in `secret`, and the revision. */
static uint64_t
rotate(exa_client *c, const struct fixture_user *admin, const char *ws,
    bool read_only, char *secret)
{
	exa_error err;
	Exe__Access__V1__Principal p = fixture_as_user(admin->id);
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	fixture_must(fixture_rotate_key(c, &p, ws, 0, read_only, &r, &err),
	    &err, "rotate key");
	snprintf(secret, 64, "%s", r->secret);
	uint64_t rev = r->revision;
	saw(rev);
	exa_free(r);
	return rev;
}

/* check asks `h` about a user or a key, with at_least_as_fresh `fresh`. */
static Exe__Access__V1__CheckResponse *
check(struct harness *h, const char *user_id, const char *key,
    const char *permission, const char *ws, uint64_t fresh)
{
	Exe__Access__V1__CheckResponse *r = NULL;
	exa_error err;
	if (fixture_check(h->client, user_id, key, permission, ws, NULL, NULL,
	        fresh, &r, &err) != EXA_OK) {
		fprintf(stderr, "  check %s: %s\n", permission, err.message);
		unit_case_failed = 1;
		return NULL;
	}
	return r;
}

static bool
allowed(struct harness *h, const char *user_id, const char *key,
    const char *permission, const char *ws, uint64_t fresh)
{
	Exe__Access__V1__CheckResponse *r =
	    check(h, user_id, key, permission, ws, fresh);
	bool yes = r != NULL && r->allowed;
	exa_free(r);
	return yes;
}

/* The principals of the table and the column each should follow. */
enum column { COL_ADMIN, COL_MEMBER, COL_READ_ONLY, COL_ALL, COL_NONE,
	COL_KEY_RW, COL_KEY_RO };

struct principal {
	const char *label;
	const char *user_id;
	const char *key;
	const char *ws;
	enum column column;
};

static bool
expected(enum column col, int i)
{
	switch (col) {
	case COL_ADMIN: return r5[i].admin;
	case COL_MEMBER: return r5[i].member;
	case COL_READ_ONLY: return r5[i].read_only;
	case COL_ALL: return true;
	case COL_NONE: return false;
	case COL_KEY_RW: return r5[i].member && !r5[i].management;
	case COL_KEY_RO: return r5[i].read_only && !r5[i].management;
	}
	return false;
}

static void
every_cell_of_r5_with_and_without_cache(void)
{
	struct fixture_user org_admin, admin, member, reader, owner, outsider,
	    other;
	sign_up("r5org", &org_admin);
	sign_up("r5adm", &admin);
	sign_up("r5mem", &member);
	sign_up("r5ro", &reader);
	sign_up("r5own", &owner);
	sign_up("r5out", &outsider);
	sign_up("r5oth", &other);
	char team[40], team2[40], rw_key[64], ro_key[64];
	make_team(&org_admin, "R5 team", team);
	make_team(&org_admin, "Other team", team2);
	set_member(&org_admin, team, &admin, EXE__ACCESS__V1__ROLE__ROLE_ADMIN,
	    false);
	set_member(&org_admin, team, &member, EXE__ACCESS__V1__ROLE__ROLE_MEMBER,
	    false);
	set_member(&org_admin, team, &reader,
	    EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, false);
	set_member(&org_admin, team2, &other, EXE__ACCESS__V1__ROLE__ROLE_ADMIN,
	    false);
	/* A read-write key, then (rotating again) a read-only one; the first
	 * stops at once. Kept: the read-only one and the first in a team of
	 * its own. */
	char team3[40];
	make_team(&org_admin, "Key team", team3);
	rotate(a.client, &org_admin, team3, false, rw_key);
	rotate(a.client, &org_admin, team, true, ro_key);

	const struct principal who[] = {
	    {"team admin", admin.id, NULL, team, COL_ADMIN},
	    {"team member", member.id, NULL, team, COL_MEMBER},
	    {"team read_only", reader.id, NULL, team, COL_READ_ONLY},
	    {"personal owner", owner.id, NULL, owner.workspace, COL_ALL},
	    {"non-member", outsider.id, NULL, team, COL_NONE},
	    {"admin of another team", other.id, NULL, team, COL_NONE},
	    {"read-write key", NULL, rw_key, team3, COL_KEY_RW},
	    {"read-only key", NULL, ro_key, team, COL_KEY_RO},
	    {"key in another workspace", NULL, rw_key, team, COL_NONE},
	};
	struct harness *servers[] = {&a, &a, &n};
	const char *server_name[] = {"cached (1st)", "cached (2nd)", "no cache"};
	int cells = 0, wrong = 0;
	for (size_t s = 0; s < 3; s++) {
		for (size_t w = 0; w < sizeof who / sizeof who[0]; w++) {
			for (int i = 0; i < NPERMS; i++) {
				/* The first pass reads everything written so far
				 * (at_least_as_fresh); later passes may use the
				 * cache it filled. */
				uint64_t fresh = s == 0 ? last_revision : 0;
				bool got = allowed(servers[s], who[w].user_id,
				    who[w].key, r5[i].name, who[w].ws, fresh);
				cells++;
				if (got != expected(who[w].column, i)) {
					wrong++;
					fprintf(stderr, "  %s, %s, %s: got %s\n",
					    server_name[s], who[w].label, r5[i].name,
					    got ? "allowed" : "denied");
				}
			}
		}
	}
	printf("  %d cells checked, %d wrong\n", cells, wrong);
	EXPECT_INT(wrong, 0);
	EXPECT_INT(cells, 3 * 9 * NPERMS);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* wait_until_on_b polls replica B without at_least_as_fresh until the
 * user's check for `permission` says `want`; returns the milliseconds it
 * took, or -1 after 5 s. */
static double
wait_until_on_b(const char *user_id, const char *permission, const char *ws,
    bool want)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 5000) {
		if (allowed(&b, user_id, NULL, permission, ws, 0) == want)
			return ms_since(&t0);
		usleep(1000);
	}
	return -1;
}

static void
changes_reach_the_other_replica(void)
{
	struct fixture_user org_admin, u;
	sign_up("frorg", &org_admin);
	sign_up("fru", &u);
	char team[40];
	make_team(&org_admin, "Fresh", team);
	uint64_t rev = set_member(&org_admin, team, &u,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, false);
	/* Warm B's cache with "member". */
	EXPECT(allowed(&b, u.id, NULL, "experiment.create", team, rev));
	EXPECT(allowed(&b, u.id, NULL, "experiment.create", team, 0));

	/* Through A: demote. B with the revision: at once. */
	rev = set_member(&org_admin, team, &u,
	    EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, true);
	EXPECT(!allowed(&b, u.id, NULL, "experiment.create", team, rev));

	/* Without the revision: within the documented bound. */
	set_member(&org_admin, team, &u, EXE__ACCESS__V1__ROLE__ROLE_MEMBER,
	    true);
	double promoted = wait_until_on_b(u.id, "experiment.create", team, true);

	exa_error err;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fixture_must(fixture_remove_member(a.client, org_admin.id, team, u.id,
	    &last_revision, &err), &err, "remove");
	double removed = wait_until_on_b(u.id, "workspace.view", team, false);
	printf("  change seen on the other replica without a revision after: "
	       "role %.1f ms, removal %.1f ms (bound: 1000 ms)\n",
	    promoted, removed);
	EXPECT(promoted >= 0 && promoted < 1000);
	EXPECT(removed >= 0 && removed < 1000);
}

static void
rotated_keys_stop_on_every_replica(void)
{
	struct fixture_user owner;
	sign_up("rot", &owner);
	/* Both replicas have used the key. */
	EXPECT(allowed(&a, NULL, owner.key, "experiment.create",
	    owner.workspace, 0));
	EXPECT(allowed(&b, NULL, owner.key, "experiment.create",
	    owner.workspace, 0));
	char fresh_key[64];
	uint64_t rev = rotate(a.client, &owner, owner.workspace, false,
	    fresh_key);
	EXPECT(!allowed(&b, NULL, owner.key, "experiment.view", owner.workspace,
	    rev));
	EXPECT(!allowed(&a, NULL, owner.key, "experiment.view", owner.workspace,
	    rev));
	EXPECT(allowed(&b, NULL, fresh_key, "experiment.view", owner.workspace,
	    rev));
	/* Without the revision too, once the change log has been read. */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < 5000 &&
	    allowed(&b, NULL, owner.key, "experiment.view", owner.workspace, 0))
		usleep(1000);
	EXPECT(!allowed(&b, NULL, owner.key, "experiment.view", owner.workspace,
	    0));
	EXPECT(ms_since(&t0) < 1000);
}

static void
grace_periods_end_on_time_in_the_cache(void)
{
	struct fixture_user owner;
	sign_up("grace", &owner);
	Exe__Access__V1__Principal p = fixture_as_user(owner.id);
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_error err;
	fixture_must(fixture_rotate_key(a.client, &p, owner.workspace, 2, false,
	    &r, &err), &err, "rotate");
	uint64_t rev = r->revision;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Within the grace, twice: the second answer from the cache. */
	EXPECT(allowed(&a, NULL, owner.key, "experiment.view", owner.workspace,
	    rev));
	EXPECT(allowed(&a, NULL, owner.key, "experiment.view", owner.workspace,
	    0));
	EXPECT(allowed(&a, NULL, r->secret, "experiment.view", owner.workspace,
	    0));
	while (ms_since(&t0) < 2300)
		usleep(50 * 1000);
	EXPECT(!allowed(&a, NULL, owner.key, "experiment.view", owner.workspace,
	    0));
	EXPECT(!allowed(&b, NULL, owner.key, "experiment.view", owner.workspace,
	    0));
	EXPECT(allowed(&a, NULL, r->secret, "experiment.view", owner.workspace,
	    0));
	exa_free(r);
}

static void
batch_answers_each_item_in_order(void)
{
	struct fixture_user u;
	sign_up("batch", &u);
	enum { ITEMS = 1000 };
	static Exe__Access__V1__CheckRequest items[ITEMS];
	static Exe__Access__V1__CheckRequest *list[ITEMS + 1];
	Exe__Access__V1__Principal p = fixture_as_user(u.id);
	for (int i = 0; i < ITEMS; i++) {
		exe__access__v1__check_request__init(&items[i]);
		items[i].principal = &p;
		items[i].permission = (char *)r5[i % NPERMS].name;
		items[i].target_case =
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
		items[i].workspace_id = u.workspace;
		list[i] = &items[i];
	}
	/* Item 7 names no permission; item 500 no workspace. */
	items[7].permission = "experiment.fly";
	items[500].workspace_id = "not-a-uuid";
	Exe__Access__V1__BatchCheckRequest req =
	    EXE__ACCESS__V1__BATCH_CHECK_REQUEST__INIT;
	req.checks = list;
	req.n_checks = ITEMS;
	Exe__Access__V1__BatchCheckResponse *r = NULL;
	exa_error err;
	for (int round = 0; round < 2; round++) {
		EXPECT_INT(exa_batch_check(a.client, &req, &r, &err), EXA_OK);
		if (r == NULL)
			return;
		EXPECT_INT(r->n_results, ITEMS);
		int allowed_items = 0;
		for (size_t i = 0; i < r->n_results; i++) {
			if (i == 7 || i == 500)
				continue;
			allowed_items += r->results[i]->code == 0 &&
			    r->results[i]->result->allowed;
		}
		EXPECT_INT(allowed_items, ITEMS - 2);
		EXPECT_INT(r->results[7]->code, EXA_INVALID_ARGUMENT);
		EXPECT_CONTAINS(r->results[7]->message, "checks[7].permission");
		EXPECT_INT(r->results[500]->code, EXA_INVALID_ARGUMENT);
		EXPECT_CONTAINS(r->results[500]->message, "checks[500].workspace_id");
		exa_free(r);
		r = NULL;
	}
	static Exe__Access__V1__CheckRequest *too_many[ITEMS + 1];
	for (int i = 0; i <= ITEMS; i++)
		too_many[i] = &items[0];
	req.checks = too_many;
	req.n_checks = ITEMS + 1;
	EXPECT_INT(exa_batch_check(a.client, &req, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "checks");
}

static void
malformed_keys_are_refused_at_any_revision(void)
{
	/* A write, then at once a check with a malformed key at that
	 * write's revision, on every replica: the cache may not have read the
	 * change yet, and the answer must still be a plain denial. */
	struct fixture_user org_admin, u;
	sign_up("mforg", &org_admin);
	sign_up("mfu", &u);
	char team[40];
	make_team(&org_admin, "Malformed", team);
	int precondition = 0, denied = 0;
	for (int i = 0; i < 20; i++) {
		uint64_t rev = set_member(&org_admin, team, &u,
		    i % 2 ? EXE__ACCESS__V1__ROLE__ROLE_MEMBER
		          : EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY,
		    i > 0);
		struct harness *servers[] = {&a, &b, &n};
		for (int k = 0; k < 3; k++) {
			Exe__Access__V1__CheckResponse *r = check(servers[k], NULL,
			    "exa_live_not-a-key", "workspace.view", team, rev);
			if (r == NULL) {
				precondition++;
				unit_case_failed = 0; /* counted, reported below */
				continue;
			}
			denied += !r->allowed && strstr(r->reason, "malformed") != NULL;
			EXPECT(r->revision >= rev);
			exa_free(r);
		}
	}
	EXPECT_INT(precondition, 0);
	EXPECT_INT(denied, 60);
}

static void
batch_builder(void)
{
	struct fixture_user u;
	sign_up("builder", &u);
	exa_batch *bt = exa_batch_new();
	EXPECT_INT(exa_batch_add_user(bt, u.id, "workspace.delete",
	    u.workspace), 0);
	EXPECT_INT(exa_batch_add_key(bt, u.key, "workspace.delete",
	    u.workspace), 1);
	EXPECT_INT(exa_batch_add_user(bt, u.id, "no.such", u.workspace), 2);
	EXPECT_INT(exa_batch_size(bt), 3);
	exa_decision d;
	exa_error err, item;
	EXPECT_INT(exa_batch_result(bt, 0, &d, &item), EXA_FAILED_PRECONDITION);
	EXPECT_INT(exa_batch_run(a.client, bt, last_revision, &err), EXA_OK);
	EXPECT_INT(exa_batch_result(bt, 0, &d, &item), EXA_OK);
	EXPECT(d.allowed);
	EXPECT_INT(exa_batch_result(bt, 1, &d, &item), EXA_OK);
	EXPECT(!d.allowed);
	EXPECT_CONTAINS(d.reason, "API keys never hold workspace.delete");
	EXPECT_INT(exa_batch_result(bt, 2, &d, &item), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(item.message, "checks[2].permission");
	EXPECT_INT(exa_batch_result(bt, 3, &d, &item), EXA_FAILED_PRECONDITION);
	exa_batch_free(bt);
}

static size_t
count_permissions(struct harness *h, const char *user_id, const char *key,
    const char *ws, exa_status *rc)
{
	Exe__Access__V1__Principal p = fixture_principal(user_id, key);
	Exe__Access__V1__ListPermissionsRequest req =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	req.principal = &p;
	req.workspace_id = (char *)ws;
	req.at_least_as_fresh = last_revision;
	Exe__Access__V1__ListPermissionsResponse *r = NULL;
	exa_error err;
	*rc = exa_list_permissions(h->client, &req, &r, &err);
	size_t count = r != NULL ? r->n_permissions : 0;
	exa_free(r);
	return count;
}

static void
list_permissions_follows_the_table(void)
{
	struct fixture_user org_admin, reader, outsider;
	sign_up("lporg", &org_admin);
	sign_up("lpro", &reader);
	sign_up("lpout", &outsider);
	char team[40];
	make_team(&org_admin, "LP", team);
	set_member(&org_admin, team, &reader,
	    EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, false);
	int ro = 0, member = 0, key_rw = 0;
	for (int i = 0; i < NPERMS; i++) {
		ro += r5[i].read_only;
		member += r5[i].member;
		key_rw += r5[i].member && !r5[i].management;
	}
	exa_status rc;
	EXPECT_INT(count_permissions(&a, org_admin.id, NULL, team, &rc), NPERMS);
	EXPECT_INT(count_permissions(&a, reader.id, NULL, team, &rc), ro);
	EXPECT_INT(count_permissions(&n, reader.id, NULL, team, &rc), ro);
	EXPECT_INT(count_permissions(&a, outsider.id, NULL, team, &rc), 0);
	EXPECT_INT(rc, EXA_OK);
	EXPECT_INT(count_permissions(&a, NULL, outsider.key, outsider.workspace,
	    &rc), key_rw);
	/* A workspace that does not exist: no access, for a user as for a
	 * key, with or without the cache. */
	const char *missing = "00000000-0000-4000-8000-000000000000";
	struct harness *servers[] = {&a, &n};
	for (int k = 0; k < 2; k++) {
		rc = EXA_INTERNAL;
		EXPECT_INT(count_permissions(servers[k], outsider.id, NULL,
		    missing, &rc), 0);
		EXPECT_INT(rc, EXA_OK);
		rc = EXA_INTERNAL;
		EXPECT_INT(count_permissions(servers[k], NULL, outsider.key,
		    missing, &rc), 0);
		EXPECT_INT(rc, EXA_OK);
	}
	(void)member;
}

static void
verify_api_key(void)
{
	struct fixture_user u;
	sign_up("verify", &u);
	Exe__Access__V1__VerifyApiKeyRequest req =
	    EXE__ACCESS__V1__VERIFY_API_KEY_REQUEST__INIT;
	req.secret = u.key;
	Exe__Access__V1__VerifyApiKeyResponse *r = NULL;
	exa_error err;
	EXPECT_INT(exa_verify_api_key(b.client, &req, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT_STR(r->workspace_id, u.workspace);
		EXPECT_INT(r->scope,
		    EXE__ACCESS__V1__API_KEY_SCOPE__API_KEY_SCOPE_READ_WRITE);
		EXPECT(strlen(r->key_id) == 36);
	}
	exa_free(r);
	char typo[64];
	snprintf(typo, sizeof typo, "%s", u.key);
	typo[12] = typo[12] == 'x' ? 'y' : 'x';
	req.secret = typo;
	EXPECT_INT(exa_verify_api_key(b.client, &req, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "checksum");
	char other[64];
	rotate(a.client, &u, u.workspace, false, other);
	req.secret = u.key;
	EXPECT_INT(exa_verify_api_key(n.client, &req, &r, &err), EXA_NOT_FOUND);
}

static void
lookup_resources_across_workspaces(void)
{
	struct fixture_user org_admin, u;
	sign_up("luorg", &org_admin);
	sign_up("luu", &u);
	char team_a[40], team_b[40], team_c[40];
	make_team(&org_admin, "LA", team_a);
	make_team(&org_admin, "LB", team_b);
	make_team(&org_admin, "LC", team_c);
	set_member(&org_admin, team_a, &u, EXE__ACCESS__V1__ROLE__ROLE_ADMIN,
	    false);
	set_member(&org_admin, team_b, &u, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY,
	    false);
	/* 15 experiments in A, 10 in B, 5 in C (where u is nobody). */
	const char *teams[] = {team_a, team_b, team_c};
	const int counts[] = {15, 10, 5};
	for (int t = 0; t < 3; t++) {
		for (int i = 0; i < counts[t]; i++) {
			char id[64];
			snprintf(id, sizeof id, "lu-%s-%d-%d", u.id, t, i);
			harness_sql_long(&a,
			    "INSERT INTO resources (type, external_id, workspace_id)"
			    " VALUES ('experiment', $1, $2) RETURNING 0", id,
			    teams[t], NULL);
		}
	}
	Exe__Access__V1__Principal p = fixture_as_user(u.id);
	Exe__Access__V1__LookupResourcesRequest req =
	    EXE__ACCESS__V1__LOOKUP_RESOURCES_REQUEST__INIT;
	req.principal = &p;
	req.resource_type = "experiment";
	const char *perms[] = {"experiment.view", "experiment.delete"};
	const int want[] = {25, 15};
	for (int k = 0; k < 2; k++) {
		req.permission = (char *)perms[k];
		req.page_size = 4;
		char token[600] = "";
		int seen = 0, pages = 0;
		do {
			req.page_token = token;
			Exe__Access__V1__LookupResourcesResponse *r = NULL;
			exa_error err;
			EXPECT_INT(exa_lookup_resources(a.client, &req, &r, &err),
			    EXA_OK);
			if (r == NULL)
				break;
			seen += (int)r->n_resources;
			for (size_t i = 0; i < r->n_resources; i++)
				EXPECT(strcmp(r->resources[i]->workspace_id,
				           team_c) != 0);
			snprintf(token, sizeof token, "%s", r->next_page_token);
			exa_free(r);
		} while (token[0] != '\0' && ++pages < 20);
		EXPECT_INT(seen, want[k]);
	}
	/* A permission that is not text is refused without being echoed
	 * (a reply's message must be UTF-8). */
	req.permission = "exp\x19\x13\xfc";
	req.page_token = "";
	Exe__Access__V1__LookupResourcesResponse *r = NULL;
	exa_error err;
	EXPECT_INT(exa_lookup_resources(a.client, &req, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "permission");
	EXPECT(strchr(err.message, '\x19') == NULL);

	/* A permission that does not act on the type is refused, naming the
	 * ones that do: members.invite lists no experiments, and
	 * dataset.view no experiments either. */
	const char *foreign[] = {"members.invite", "dataset.view"};
	for (int k = 0; k < 2; k++) {
		req.permission = (char *)foreign[k];
		EXPECT_INT(exa_lookup_resources(a.client, &req, &r, &err),
		    EXA_INVALID_ARGUMENT);
		EXPECT_CONTAINS(err.message, "permission: ");
		EXPECT_CONTAINS(err.message, "does not act on experiment");
		EXPECT_CONTAINS(err.message, "experiment.view, "
		                             "experiment.create, experiment.edit, "
		                             "optimization.run, measurement.add, "
		                             "experiment.delete");
	}
	req.resource_type = "project";
	req.permission = "project.delete";
	EXPECT_INT(exa_lookup_resources(a.client, &req, &r, &err), EXA_OK);
	exa_free(r);
	r = NULL;
	req.resource_type = "experiment";

	/* A key of the wrong form is bad input (SPEC §5), refused before the
	 * database; a key of the right form that no longer works is denied. */
	req.permission = "experiment.view";
	Exe__Access__V1__Principal bad = fixture_as_key("exa_live_not-a-key");
	req.principal = &bad;
	EXPECT_INT(exa_lookup_resources(a.client, &req, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "principal.api_key: not an ExE Access API "
	                             "key");
	char old_key[64];
	snprintf(old_key, sizeof old_key, "%s", u.key);
	char fresh[64];
	rotate(a.client, &u, u.workspace, false, fresh);
	Exe__Access__V1__Principal dead = fixture_as_key(old_key);
	req.principal = &dead;
	EXPECT_INT(exa_lookup_resources(a.client, &req, &r, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "principal.api_key: unknown");
	Exe__Access__V1__Principal live = fixture_as_key(fresh);
	req.principal = &live;
	EXPECT_INT(exa_lookup_resources(a.client, &req, &r, &err), EXA_OK);
	exa_free(r);
}

static void
a_cold_restart_answers_correctly(void)
{
	struct fixture_user org_admin, u;
	sign_up("cold", &org_admin);
	sign_up("coldu", &u);
	char team[40];
	make_team(&org_admin, "Cold", team);
	set_member(&org_admin, team, &u, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY,
	    false);
	EXPECT(!allowed(&b, u.id, NULL, "dataset.create", team, last_revision));
	EXPECT_INT(harness_stop(&b), 0);
	set_member(&org_admin, team, &u, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, true);
	harness_launch_replica(&b, &a, NULL);
	EXPECT(allowed(&b, u.id, NULL, "dataset.create", team, 0));
	EXPECT(!allowed(&b, u.id, NULL, "dataset.delete", team, 0));
}

static const struct unit_case cases[] = {
    {"every cell of R5, with and without the cache",
        every_cell_of_r5_with_and_without_cache},
    {"changes reach the other replica", changes_reach_the_other_replica},
    {"rotated keys stop on every replica", rotated_keys_stop_on_every_replica},
    {"grace periods end on time, also in the cache",
        grace_periods_end_on_time_in_the_cache},
    {"BatchCheck answers each item in order", batch_answers_each_item_in_order},
    {"the client's batch builder", batch_builder},
    {"malformed keys are refused at any revision",
        malformed_keys_are_refused_at_any_revision},
    {"ListPermissions follows the table", list_permissions_follows_the_table},
    {"VerifyApiKey", verify_api_key},
    {"LookupResources across workspaces", lookup_resources_across_workspaces},
    {"a cold restart answers correctly", a_cold_restart_answers_correctly},
};

UNIT_STATE

int
main(void)
{
	harness_start(&a, "authz", NULL);
	harness_launch_replica(&b, &a, NULL);
	harness_launch_replica(&n, &a, (const char *const[]){"--cache-size=0", NULL});
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int sa = harness_stop(&n), sb = harness_stop(&b), sc = harness_stop(&a);
	return failed == 0 && sa == 0 && sb == 0 && sc == 0 ? 0 : 1;
}
