/* Grants on resources against three real daemons on one database (A and
 * B cached, N with no cache): every cell of the grant rule (a member, a
 * read_only member and a guest, each with every grant role and none,
 * against every permission) through BatchCheck and Check, the same on
 * every daemon and again from the cache; the reasons; a guest sees their
 * resource and nothing else of the workspace; a grant changed, revoked,
 * or gone with its resource or with its holder's membership is seen at
 * once with the write's revision on every daemon (also when the whole
 * workspace is deleted), and the cache keeps no
 * grant its resource lost; the methods' rules and listings. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness a, b, n;

#define ROLE_ADMIN EXE__ACCESS__V1__ROLE__ROLE_ADMIN
#define ROLE_MEMBER EXE__ACCESS__V1__ROLE__ROLE_MEMBER
#define ROLE_READ_ONLY EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY
#define ROLE_NONE EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED

/* SPEC R5's 23 permissions, in its order. */
static const char *const perms[] = {"workspace.view", "members.view",
    "activity.view", "experiment.view", "dataset.view", "project.view",
    "experiment.create", "experiment.edit", "dataset.create", "dataset.edit",
    "optimization.run", "measurement.add", "experiment.delete",
    "dataset.delete", "project.create", "project.edit", "project.delete",
    "members.invite", "members.remove", "api_key.view", "api_key.rotate",
    "workspace.settings.update", "workspace.delete"};
enum { NPERMS = sizeof perms / sizeof perms[0] };

/* The grant rule, every cell, written out independently of the service:
 * 'y' allowed, '-' denied, in the order of `perms`. */
static const struct {
	const char *label;
	int who; /* 0 member, 1 read_only, 2 guest */
	Exe__Access__V1__Role grant;
	const char *cells;
} rule[] = {
    {"member, no grant", 0, ROLE_NONE, "yyyyyyyyyyyy-----------"},
    {"member, grant admin", 0, ROLE_ADMIN, "yyyyyyyyyyyyyyyyy------"},
    {"member, grant member", 0, ROLE_MEMBER, "yyyyyyyyyyyy-----------"},
    {"member, grant read_only", 0, ROLE_READ_ONLY, "yyyyyyyyyyyy-----------"},
    {"read_only, no grant", 1, ROLE_NONE, "yyyyyy-----------------"},
    {"read_only, grant admin", 1, ROLE_ADMIN, "yyyyyyyyyyyyyyyyy------"},
    {"read_only, grant member", 1, ROLE_MEMBER, "yyyyyyyyyyyy-----------"},
    {"read_only, grant read_only", 1, ROLE_READ_ONLY,
        "yyyyyy-----------------"},
    {"guest, no grant", 2, ROLE_NONE, "-----------------------"},
    {"guest, grant admin", 2, ROLE_ADMIN, "---yyyyyyyyyyyyyy------"},
    {"guest, grant member", 2, ROLE_MEMBER, "---yyyyyyyyy-----------"},
    {"guest, grant read_only", 2, ROLE_READ_ONLY, "---yyy-----------------"},
};
enum { NRULE = sizeof rule / sizeof rule[0] };

static uint64_t last_revision;

static void
saw(uint64_t revision)
{
	if (revision > last_revision)
		last_revision = revision;
}

/* A team with an admin, a member and a read_only member, and a guest who
 * signed up but is not in it. */
struct world {
	struct fixture_team t;
	struct fixture_user guest;
};

static void
world_make(struct world *w)
{
	if (!fixture_team_make(a.client, "Grants Org", "Grants Team", &w->t) ||
	    !fixture_sign_up(a.client, "guest", &w->guest))
		exit(1);
}

static const struct fixture_user *
world_user(const struct world *w, int who)
{
	return who == 0 ? &w->t.member : who == 1 ? &w->t.reader : &w->guest;
}

/* reg registers experiment `id` in the team as its admin; returns the
 * revision. */
static uint64_t
reg(const struct world *w, const char *type, const char *id)
{
	Exe__Access__V1__Principal admin = fixture_as_user(w->t.admin.id);
	Exe__Access__V1__RegisterResourceResponse *r = NULL;
	exa_error err;
	fixture_must(fixture_register_resource(a.client, &admin, w->t.workspace,
	    type, id, "a name", &r, &err), &err, "register");
	uint64_t rev = r->revision;
	saw(rev);
	exa_free(r);
	return rev;
}

static uint64_t
grant(const struct world *w, const char *id, const struct fixture_user *u,
    Exe__Access__V1__Role role)
{
	uint64_t rev = 0;
	exa_error err;
	fixture_must(fixture_grant(a.client, w->t.admin.id, "experiment", id,
	    u->id, role, &rev, &err), &err, "grant");
	saw(rev);
	return rev;
}

/* check asks `h` whether `user_id` holds `permission` on experiment `id`. */
static Exe__Access__V1__CheckResponse *
check(struct harness *h, const char *user_id, const char *permission,
    const char *id, uint64_t fresh)
{
	Exe__Access__V1__CheckResponse *r = NULL;
	exa_error err;
	if (fixture_check(h->client, user_id, NULL, permission, NULL,
	        "experiment", id, fresh, &r, &err) != EXA_OK) {
		fprintf(stderr, "  check %s on %s: %s\n", permission, id,
		    err.message);
		unit_case_failed = 1;
		return NULL;
	}
	return r;
}

static bool
allowed(struct harness *h, const char *user_id, const char *permission,
    const char *id, uint64_t fresh)
{
	Exe__Access__V1__CheckResponse *r = check(h, user_id, permission, id,
	    fresh);
	bool yes = r != NULL && r->allowed;
	exa_free(r);
	return yes;
}

/* settled asks `h` without at_least_as_fresh until an answer says it
 * reflects `rev` (its revision is at least that: the service's promise
 * for such an answer) and returns whether it allowed; an answer from
 * before `rev` may be stale, by design. Fails the case if none reflects
 * `rev` within 5 s (the cache's staleness bound is 1 s). */
static bool
settled(struct harness *h, const char *user_id, const char *permission,
    const char *id, uint64_t rev)
{
	for (int i = 0; i < 500; i++) {
		Exe__Access__V1__CheckResponse *r = check(h, user_id, permission,
		    id, 0);
		if (r == NULL)
			return false;
		bool yes = r->allowed, done = r->revision >= rev;
		exa_free(r);
		if (done)
			return yes;
		usleep(10 * 1000);
	}
	fprintf(stderr, "  no answer reflected revision %llu within 5 s\n",
	    (unsigned long long)rev);
	unit_case_failed = 1;
	return false;
}

/* batch asks `h`, in one BatchCheck, every permission of `perms` for
 * `user_id` on experiment `id`, into got[] ('y' or '-'); false if the call
 * or an item failed. */
static bool
batch(struct harness *h, const char *user_id, const char *id, uint64_t fresh,
    char got[NPERMS + 1])
{
	Exe__Access__V1__Principal p = fixture_as_user(user_id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)id;
	Exe__Access__V1__CheckRequest items[NPERMS];
	Exe__Access__V1__CheckRequest *list[NPERMS];
	for (int i = 0; i < NPERMS; i++) {
		exe__access__v1__check_request__init(&items[i]);
		items[i].principal = &p;
		items[i].permission = (char *)perms[i];
		items[i].target_case =
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
		items[i].resource = &ref;
		items[i].at_least_as_fresh = fresh;
		list[i] = &items[i];
	}
	Exe__Access__V1__BatchCheckRequest req =
	    EXE__ACCESS__V1__BATCH_CHECK_REQUEST__INIT;
	req.checks = list;
	req.n_checks = NPERMS;
	Exe__Access__V1__BatchCheckResponse *r = NULL;
	exa_error err;
	if (exa_batch_check(h->client, &req, &r, &err) != EXA_OK) {
		fprintf(stderr, "  batch: %s\n", err.message);
		return false;
	}
	bool ok = r->n_results == NPERMS;
	for (int i = 0; ok && i < NPERMS; i++) {
		ok = r->results[i]->code == 0 && r->results[i]->result != NULL;
		if (ok)
			got[i] = r->results[i]->result->allowed ? 'y' : '-';
	}
	got[NPERMS] = '\0';
	exa_free(r);
	return ok;
}

/* listed asks `h` for ListPermissions of `user_id` on experiment `id` and
 * writes what it holds as got[] ('y' or '-', in the order of `perms`);
 * the role and workspace go to *role and `ws` (40 bytes) if not NULL. */
static bool
listed(struct harness *h, const char *user_id, const char *id, uint64_t fresh,
    char got[NPERMS + 1], Exe__Access__V1__Role *role, char *ws)
{
	Exe__Access__V1__Principal p = fixture_as_user(user_id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)id;
	Exe__Access__V1__ListPermissionsRequest req =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	req.principal = &p;
	req.resource = &ref;
	req.at_least_as_fresh = fresh;
	Exe__Access__V1__ListPermissionsResponse *r = NULL;
	exa_error err;
	if (exa_list_permissions(h->client, &req, &r, &err) != EXA_OK) {
		fprintf(stderr, "  ListPermissions: %s\n", err.message);
		return false;
	}
	for (int i = 0; i < NPERMS; i++) {
		got[i] = '-';
		for (size_t k = 0; k < r->n_permissions; k++)
			if (strcmp(r->permissions[k], perms[i]) == 0)
				got[i] = 'y';
	}
	got[NPERMS] = '\0';
	if (role != NULL)
		*role = r->role;
	if (ws != NULL)
		snprintf(ws, 40, "%s", r->workspace_id);
	exa_free(r);
	return true;
}

static void
every_cell_of_the_grant_rule(void)
{
	struct world w;
	world_make(&w);
	/* One experiment per grant role (and one with none); each person is
	 * granted that role on it. */
	char ids[4][32];
	const Exe__Access__V1__Role roles[] = {ROLE_NONE, ROLE_ADMIN,
	    ROLE_MEMBER, ROLE_READ_ONLY};
	for (int r = 0; r < 4; r++) {
		snprintf(ids[r], sizeof ids[r], "%s", harness_unique("cell-"));
		reg(&w, "experiment", ids[r]);
		for (int who = 0; who < 3 && roles[r] != ROLE_NONE; who++)
			grant(&w, ids[r], world_user(&w, who), roles[r]);
	}
	struct harness *servers[] = {&a, &a, &b, &n};
	const char *names[] = {"A with the revision", "A from its cache",
	    "B", "N (no cache)"};
	int cells = 0, listed_cells = 0, wrong = 0;
	for (size_t s = 0; s < 4; s++) {
		for (int i = 0; i < NRULE; i++) {
			int r = 0;
			while (roles[r] != rule[i].grant)
				r++;
			const char *user = world_user(&w, rule[i].who)->id;
			uint64_t fresh = s == 1 ? 0 : last_revision;
			char got[NPERMS + 1];
			if (!batch(servers[s], user, ids[r], fresh, got)) {
				unit_case_failed = 1;
				continue;
			}
			for (int k = 0; k < NPERMS; k++) {
				cells++;
				if (got[k] != rule[i].cells[k]) {
					wrong++;
					fprintf(stderr, "  %s, %s, %s: got %s\n",
					    names[s], rule[i].label, perms[k],
					    got[k] == 'y' ? "allowed" : "denied");
				}
			}
			/* ListPermissions on the resource lists the same. */
			char held[NPERMS + 1];
			if (!listed(servers[s], user, ids[r], fresh, held, NULL,
			        NULL)) {
				unit_case_failed = 1;
				continue;
			}
			listed_cells += NPERMS;
			if (strcmp(held, rule[i].cells) != 0) {
				wrong++;
				fprintf(stderr, "  ListPermissions, %s, %s: %s\n",
				    names[s], rule[i].label, held);
			}
			/* Check, one by one, says the same (on A only: the
			 * batch covered the daemons). */
			for (int k = 0; s == 0 && k < NPERMS; k++) {
				bool yes = allowed(&a, user, perms[k], ids[r],
				    fresh);
				if (yes != (rule[i].cells[k] == 'y')) {
					wrong++;
					fprintf(stderr, "  Check, %s, %s: got %s\n",
					    rule[i].label, perms[k],
					    yes ? "allowed" : "denied");
				}
			}
		}
	}
	printf("  %d cells checked through BatchCheck (and %d through Check, "
	       "%d through ListPermissions), %d wrong\n", cells,
	    NRULE * NPERMS, listed_cells, wrong);
	EXPECT_INT(cells, 4 * NRULE * NPERMS);
	EXPECT_INT(listed_cells, 4 * NRULE * NPERMS);
	EXPECT_INT(wrong, 0);
}

static void
reasons_say_where_the_role_came_from(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("why-");
	uint64_t rev = reg(&w, "experiment", e);
	Exe__Access__V1__CheckResponse *r =
	    check(&a, w.t.reader.id, "experiment.edit", e, rev);
	if (r == NULL)
		return;
	EXPECT(!r->allowed);
	EXPECT_INT(r->role, ROLE_READ_ONLY);
	EXPECT_CONTAINS(r->reason, "has role read_only in workspace");
	EXPECT_CONTAINS(r->reason, "no grant on experiment");
	EXPECT_CONTAINS(r->reason, e);
	exa_free(r);

	rev = grant(&w, e, &w.t.reader, ROLE_MEMBER);
	r = check(&a, w.t.reader.id, "experiment.edit", e, rev);
	if (r == NULL)
		return;
	char want[300];
	snprintf(want, sizeof want, "grant member on experiment \"%s\" allows "
	    "experiment.edit", e);
	EXPECT(r->allowed);
	EXPECT_INT(r->role, ROLE_MEMBER);
	EXPECT_STR(r->reason, want);
	EXPECT_STR(r->workspace_id, w.t.workspace);
	EXPECT_INT(r->revision >= rev, 1);
	exa_free(r);
	/* Allowed by the workspace role itself: no reason, as ever. */
	r = check(&a, w.t.reader.id, "experiment.view", e, rev);
	if (r != NULL) {
		EXPECT(r->allowed);
		EXPECT_STR(r->reason, "");
		exa_free(r);
	}
	r = check(&a, w.t.reader.id, "experiment.delete", e, rev);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "and grant member on experiment");
		EXPECT_CONTAINS(r->reason, "neither grants experiment.delete");
		exa_free(r);
	}
	/* The workspace's own permissions never come from a grant. */
	rev = grant(&w, e, &w.t.reader, ROLE_ADMIN);
	r = check(&a, w.t.reader.id, "members.invite", e, rev);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_INT(r->role, ROLE_READ_ONLY);
		EXPECT_CONTAINS(r->reason, "never gives members.invite");
		exa_free(r);
	}
	/* A guest with no grant learns nothing of the workspace. */
	r = check(&a, w.guest.id, "experiment.view", e, rev);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_STR(r->workspace_id, "");
		EXPECT_CONTAINS(r->reason, "has no grant on it");
		EXPECT(strstr(r->reason, w.t.workspace) == NULL);
		exa_free(r);
	}
}

/* list_workspaces returns how many workspaces `user_id` has in the
 * switcher. */
static size_t
workspaces_of(const char *user_id)
{
	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	req.user_id = (char *)user_id;
	Exe__Access__V1__ListWorkspacesResponse *r = NULL;
	exa_error err;
	EXPECT_INT(exa_list_workspaces(a.client, &req, &r, &err), EXA_OK);
	size_t count = r != NULL ? r->n_workspaces : 0;
	exa_free(r);
	return count;
}

static void
a_guest_sees_one_resource_and_nothing_else(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("seen-");
	const char *f = harness_unique("unseen-");
	reg(&w, "experiment", e);
	reg(&w, "experiment", f);
	uint64_t rev = grant(&w, e, &w.guest, ROLE_READ_ONLY);
	struct harness *servers[] = {&a, &b, &n};
	for (size_t s = 0; s < 3; s++) {
		EXPECT(allowed(servers[s], w.guest.id, "experiment.view", e, rev));
		EXPECT(!allowed(servers[s], w.guest.id, "experiment.edit", e,
		    rev));
		EXPECT(!allowed(servers[s], w.guest.id, "experiment.view", f,
		    rev));
		Exe__Access__V1__CheckResponse *r = NULL;
		exa_error err;
		EXPECT_INT(fixture_check(servers[s]->client, w.guest.id, NULL,
		    "workspace.view", w.t.workspace, NULL, NULL, rev, &r, &err),
		    EXA_OK);
		EXPECT(r != NULL && !r->allowed);
		if (r != NULL)
			EXPECT_CONTAINS(r->reason, "is not a member");
		exa_free(r);
	}
	/* Not a membership: the switcher shows their personal workspace
	 * alone. */
	EXPECT_INT(workspaces_of(w.guest.id), 1);
	/* Nothing of the workspace through WorkspaceService either. */
	Exe__Access__V1__Principal guest = fixture_as_user(w.guest.id);
	exa_error err;
	Exe__Access__V1__ListResourcesRequest lr =
	    EXE__ACCESS__V1__LIST_RESOURCES_REQUEST__INIT;
	lr.actor = &guest;
	lr.workspace_id = w.t.workspace;
	lr.type = "experiment";
	Exe__Access__V1__ListResourcesResponse *resources = NULL;
	EXPECT_INT(exa_list_resources(a.client, &lr, &resources, &err),
	    EXA_PERMISSION_DENIED);
	exa_free(resources);
	Exe__Access__V1__ListMembersRequest lm =
	    EXE__ACCESS__V1__LIST_MEMBERS_REQUEST__INIT;
	lm.actor = &guest;
	lm.workspace_id = w.t.workspace;
	Exe__Access__V1__ListMembersResponse *members = NULL;
	EXPECT_INT(exa_list_members(a.client, &lm, &members, &err),
	    EXA_PERMISSION_DENIED);
	exa_free(members);
	Exe__Access__V1__ListActivityRequest la =
	    EXE__ACCESS__V1__LIST_ACTIVITY_REQUEST__INIT;
	la.actor = &guest;
	la.workspace_id = w.t.workspace;
	Exe__Access__V1__ListActivityResponse *activity = NULL;
	EXPECT_INT(exa_list_activity(a.client, &la, &activity, &err),
	    EXA_PERMISSION_DENIED);
	exa_free(activity);
	Exe__Access__V1__GetWorkspaceRequest gw =
	    EXE__ACCESS__V1__GET_WORKSPACE_REQUEST__INIT;
	gw.actor = &guest;
	gw.workspace_id = w.t.workspace;
	Exe__Access__V1__GetWorkspaceResponse *ws = NULL;
	EXPECT_INT(exa_get_workspace(a.client, &gw, &ws, &err),
	    EXA_PERMISSION_DENIED);
	exa_free(ws);
	/* Nor the list of who else was granted it: to them the workspace
	 * is a stranger's, where no resource is known. */
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)e;
	Exe__Access__V1__ListResourceGrantsRequest lg =
	    EXE__ACCESS__V1__LIST_RESOURCE_GRANTS_REQUEST__INIT;
	lg.actor = &guest;
	lg.resource = &ref;
	Exe__Access__V1__ListResourceGrantsResponse *grants = NULL;
	EXPECT_INT(exa_list_resource_grants(a.client, &lg, &grants, &err),
	    EXA_NOT_FOUND);
	exa_free(grants);
	/* Their own grants: that one resource. */
	Exe__Access__V1__ListUserGrantsRequest lu =
	    EXE__ACCESS__V1__LIST_USER_GRANTS_REQUEST__INIT;
	lu.user_id = w.guest.id;
	Exe__Access__V1__ListUserGrantsResponse *mine = NULL;
	EXPECT_INT(exa_list_user_grants(a.client, &lu, &mine, &err), EXA_OK);
	exa_free(mine);
	mine = NULL;
	/* For an actor: the guest themself, through a check token; nobody
	 * else, and not without an actor. */
	exa_client *checker;
	fixture_must(exa_client_open(a.url, a.check_token, NULL, &checker,
	    &err), &err, "open a check-token client");
	Exe__Access__V1__ListUserGrantsResponse *other = NULL;
	EXPECT_INT(exa_list_user_grants(checker, &lu, &other, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "actor: missing");
	Exe__Access__V1__Principal as_admin = fixture_as_user(w.t.admin.id);
	lu.actor = &as_admin;
	EXPECT_INT(exa_list_user_grants(checker, &lu, &other, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "only their own grants");
	Exe__Access__V1__Principal as_guest = fixture_as_user(w.guest.id);
	lu.actor = &as_guest;
	EXPECT_INT(exa_list_user_grants(checker, &lu, &mine, &err), EXA_OK);
	lu.actor = NULL;
	exa_client_close(checker);
	if (mine != NULL) {
		EXPECT_INT(mine->n_grants, 1);
		if (mine->n_grants == 1) {
			EXPECT_STR(mine->grants[0]->resource->id, e);
			EXPECT_STR(mine->grants[0]->workspace_id, w.t.workspace);
			EXPECT_INT(mine->grants[0]->role, ROLE_READ_ONLY);
			EXPECT_STR(mine->grants[0]->resource_name, "a name");
			EXPECT_STR(mine->grants[0]->granted_by_user_id,
			    w.t.admin.id);
		}
		EXPECT(mine->revision >= rev);
	}
	exa_free(mine);
}

/* warm asks every daemon, without a revision, until each has answered
 * from a state that includes `rev` at least once (so that their caches
 * hold the grant). */
static void
warm(const char *user_id, const char *id, uint64_t rev, bool want)
{
	struct harness *servers[] = {&a, &b};
	for (size_t s = 0; s < 2; s++) {
		EXPECT_INT(allowed(servers[s], user_id, "experiment.edit", id,
		    rev), want);
		EXPECT_INT(settled(servers[s], user_id, "experiment.edit", id,
		    rev), want);
	}
}

static void
grants_vanish_with_their_resource(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("gone-");
	reg(&w, "experiment", e);
	uint64_t rev = grant(&w, e, &w.guest, ROLE_MEMBER);
	rev = grant(&w, e, &w.t.reader, ROLE_MEMBER);
	warm(w.guest.id, e, rev, true);
	warm(w.t.reader.id, e, rev, true);

	Exe__Access__V1__Principal admin = fixture_as_user(w.t.admin.id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)e;
	Exe__Access__V1__DeleteResourceRequest del =
	    EXE__ACCESS__V1__DELETE_RESOURCE_REQUEST__INIT;
	del.actor = &admin;
	del.resource = &ref;
	Exe__Access__V1__WriteResponse *wr = NULL;
	exa_error err;
	fixture_must(exa_delete_resource(a.client, &del, &wr, &err), &err,
	    "delete");
	rev = wr->revision;
	saw(rev);
	exa_free(wr);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM grants"
	    " WHERE resource_type = 'experiment' AND resource_id = $1", e,
	    NULL), 0);
	struct harness *servers[] = {&a, &b, &n};
	for (size_t s = 0; s < 3; s++) {
		Exe__Access__V1__CheckResponse *r =
		    check(servers[s], w.guest.id, "experiment.view", e, rev);
		EXPECT(r != NULL && !r->allowed);
		if (r != NULL)
			EXPECT_CONTAINS(r->reason, "is not registered");
		exa_free(r);
	}
	/* Registered again under the same id: the old grants are gone from
	 * every cache too. */
	rev = reg(&w, "experiment", e);
	for (size_t s = 0; s < 3; s++) {
		EXPECT(!allowed(servers[s], w.guest.id, "experiment.view", e,
		    rev));
		EXPECT(!allowed(servers[s], w.t.reader.id, "experiment.edit", e,
		    rev));
		EXPECT(allowed(servers[s], w.t.reader.id, "experiment.view", e,
		    rev));
	}
	/* And nothing is listed for them. */
	Exe__Access__V1__ListUserGrantsRequest lu =
	    EXE__ACCESS__V1__LIST_USER_GRANTS_REQUEST__INIT;
	lu.user_id = w.guest.id;
	Exe__Access__V1__ListUserGrantsResponse *mine = NULL;
	EXPECT_INT(exa_list_user_grants(a.client, &lu, &mine, &err), EXA_OK);
	EXPECT(mine != NULL && mine->n_grants == 0);
	exa_free(mine);
}

static void
grants_vanish_with_their_workspace(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("team-gone-");
	reg(&w, "experiment", e);
	uint64_t rev = grant(&w, e, &w.guest, ROLE_ADMIN);
	warm(w.guest.id, e, rev, true);
	Exe__Access__V1__Principal admin = fixture_as_user(w.t.admin.id);
	Exe__Access__V1__DeleteWorkspaceRequest req =
	    EXE__ACCESS__V1__DELETE_WORKSPACE_REQUEST__INIT;
	req.actor = &admin;
	req.workspace_id = w.t.workspace;
	Exe__Access__V1__WriteResponse *wr = NULL;
	exa_error err;
	fixture_must(exa_delete_workspace(a.client, &req, &wr, &err), &err,
	    "delete workspace");
	rev = wr->revision;
	saw(rev);
	exa_free(wr);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM grants"
	    " WHERE workspace_id = $1", w.t.workspace, NULL), 0);
	struct harness *servers[] = {&a, &b, &n};
	for (size_t s = 0; s < 3; s++) {
		EXPECT(!allowed(servers[s], w.guest.id, "experiment.view", e,
		    rev));
		EXPECT(!settled(servers[s], w.guest.id, "experiment.view", e,
		    rev));
	}
}

static void
leaving_the_team_takes_the_grants(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("leave-");
	reg(&w, "experiment", e);
	uint64_t rev = grant(&w, e, &w.t.reader, ROLE_ADMIN);
	warm(w.t.reader.id, e, rev, true);
	exa_error err;
	fixture_must(fixture_remove_member(a.client, w.t.admin.id,
	    w.t.workspace, w.t.reader.id, &rev, &err), &err, "remove");
	saw(rev);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM grants"
	    " WHERE user_id = $1", w.t.reader.id, NULL), 0);
	char revision[32];
	snprintf(revision, sizeof revision, "%llu", (unsigned long long)rev);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM activity"
	    " WHERE revision = $1::bigint AND action = 'member.removed'"
	    " AND detail = 'read_only, and 1 grant'", revision, NULL), 1);
	struct harness *servers[] = {&a, &b, &n};
	for (size_t s = 0; s < 3; s++)
		EXPECT(!allowed(servers[s], w.t.reader.id, "experiment.view", e,
		    rev));
	/* A grant given again later opens that one resource only: nothing
	 * of the old grant was kept in a cache. */
	const char *f = harness_unique("back-");
	reg(&w, "experiment", f);
	rev = grant(&w, f, &w.t.reader, ROLE_READ_ONLY);
	for (size_t s = 0; s < 3; s++) {
		EXPECT(allowed(servers[s], w.t.reader.id, "experiment.view", f,
		    rev));
		EXPECT(!allowed(servers[s], w.t.reader.id, "experiment.view", e,
		    rev));
		EXPECT(!settled(servers[s], w.t.reader.id, "experiment.view", e,
		    rev));
	}
}

static void
changes_and_revocations_are_seen_at_once(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("rev-");
	reg(&w, "experiment", e);
	uint64_t rev = grant(&w, e, &w.t.reader, ROLE_MEMBER);
	warm(w.t.reader.id, e, rev, true);
	/* Lowered to read_only: on every daemon with the revision. */
	rev = grant(&w, e, &w.t.reader, ROLE_READ_ONLY);
	struct harness *servers[] = {&a, &b, &n};
	for (size_t s = 0; s < 3; s++)
		EXPECT(!allowed(servers[s], w.t.reader.id, "experiment.edit", e,
		    rev));
	char revision[32];
	snprintf(revision, sizeof revision, "%llu", (unsigned long long)rev);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM activity"
	    " WHERE revision = $1::bigint AND action = 'grant.changed'"
	    " AND detail = 'member -> read_only' AND actor_user_id = $2"
	    " AND resource_type = 'experiment' AND resource_id = $3"
	    " AND workspace_id = $4", revision, w.t.admin.id, e,
	    w.t.workspace, NULL), 1);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM change_log"
	    " WHERE revision = $1::bigint AND kind = 'grant'"
	    " AND user_id = $2 AND workspace_id = $3"
	    " AND resource_id = $4", revision, w.t.reader.id, w.t.workspace, e,
	    NULL), 1);
	/* Back to member, warmed, then revoked. */
	rev = grant(&w, e, &w.t.reader, ROLE_MEMBER);
	warm(w.t.reader.id, e, rev, true);
	exa_error err;
	fixture_must(fixture_revoke(a.client, w.t.admin.id, "experiment", e,
	    w.t.reader.id, &rev, &err), &err, "revoke");
	saw(rev);
	for (size_t s = 0; s < 3; s++) {
		EXPECT(!allowed(servers[s], w.t.reader.id, "experiment.edit", e,
		    rev));
		/* The workspace role still stands: a grant never lowered it. */
		EXPECT(allowed(servers[s], w.t.reader.id, "experiment.view", e,
		    rev));
	}
	snprintf(revision, sizeof revision, "%llu", (unsigned long long)rev);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM activity"
	    " WHERE revision = $1::bigint AND action = 'grant.revoked'"
	    " AND detail = 'member'", revision, NULL), 1);
	/* Twice: there is nothing left to revoke. */
	EXPECT_INT(fixture_revoke(a.client, w.t.admin.id, "experiment", e,
	    w.t.reader.id, NULL, &err), EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "has no grant on experiment");
	/* A grant weaker than the workspace role lowers nothing. */
	rev = grant(&w, e, &w.t.member, ROLE_READ_ONLY);
	for (size_t s = 0; s < 3; s++)
		EXPECT(allowed(servers[s], w.t.member.id, "experiment.edit", e,
		    rev));
}

static void
the_rules_of_granting(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("rule-");
	reg(&w, "experiment", e);
	exa_error err;
	/* Only an admin of the workspace (members.invite). */
	EXPECT_INT(fixture_grant(a.client, w.t.member.id, "experiment", e,
	    w.guest.id, ROLE_MEMBER, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "members.invite");
	/* Not even one with a grant admin on the resource. */
	grant(&w, e, &w.t.reader, ROLE_ADMIN);
	EXPECT_INT(fixture_grant(a.client, w.t.reader.id, "experiment", e,
	    w.guest.id, ROLE_MEMBER, NULL, &err), EXA_PERMISSION_DENIED);
	/* Never an API key. */
	Exe__Access__V1__Principal key = fixture_as_key(w.t.first_key);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)e;
	Exe__Access__V1__GrantResourceRoleRequest req =
	    EXE__ACCESS__V1__GRANT_RESOURCE_ROLE_REQUEST__INIT;
	req.actor = &key;
	req.resource = &ref;
	req.user_id = w.guest.id;
	req.role = ROLE_MEMBER;
	Exe__Access__V1__GrantResourceRoleResponse *gr = NULL;
	EXPECT_INT(exa_grant_resource_role(a.client, &req, &gr, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "API keys never hold members.invite");
	exa_free(gr);
	/* Nobody grants themselves, whatever the case of the id's letters
	 * (ids are taken in either). */
	EXPECT_INT(fixture_grant(a.client, w.t.admin.id, "experiment", e,
	    w.t.admin.id, ROLE_MEMBER, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "cannot grant themselves");
	char upper[37];
	for (size_t i = 0; i < sizeof upper; i++)
		upper[i] = (char)toupper((unsigned char)w.t.admin.id[i]);
	EXPECT_INT(fixture_grant(a.client, upper, "experiment", e,
	    w.t.admin.id, ROLE_MEMBER, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "cannot grant themselves");
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM grants"
	    " WHERE user_id = $1", w.t.admin.id, NULL), 0);
	/* Unknown people and resources. */
	EXPECT_INT(fixture_grant(a.client, w.t.admin.id, "experiment", e,
	    "00000000-0000-4000-8000-000000000000", ROLE_MEMBER, NULL, &err),
	    EXA_NOT_FOUND);
	EXPECT(strncmp(err.message, "user_id", 7) == 0);
	EXPECT_INT(fixture_grant(a.client, w.t.admin.id, "experiment",
	    "never-registered", w.guest.id, ROLE_MEMBER, NULL, &err),
	    EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "is not registered");
	EXPECT_INT(fixture_grant(a.client, w.t.admin.id, "experiment", e,
	    w.guest.id, ROLE_NONE, NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "role", 4) == 0);
	EXPECT_INT(fixture_grant(a.client, w.t.admin.id, "experiment", e,
	    w.guest.id, (Exe__Access__V1__Role)7, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_INT(fixture_grant(a.client, w.t.admin.id, "notebook", e,
	    w.guest.id, ROLE_MEMBER, NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "resource.type", 13) == 0);
	EXPECT_INT(fixture_grant(a.client, w.t.admin.id, "experiment", e,
	    "not-a-uuid", ROLE_MEMBER, NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "user_id", 7) == 0);
	/* R2: a personal workspace's resources are its owner's alone. */
	Exe__Access__V1__Principal owner = fixture_as_user(w.guest.id);
	const char *p = harness_unique("mine-");
	fixture_must(fixture_register_resource(a.client, &owner,
	    w.guest.workspace, "experiment", p, NULL, NULL, &err), &err,
	    "register in personal");
	EXPECT_INT(fixture_grant(a.client, w.guest.id, "experiment", p,
	    w.t.member.id, ROLE_READ_ONLY, NULL, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "personal workspace");
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM grants"
	    " WHERE resource_id = $1", p, NULL), 0);
	/* First grants record grant.added with the role. */
	uint64_t rev = grant(&w, e, &w.guest, ROLE_READ_ONLY);
	char revision[32];
	snprintf(revision, sizeof revision, "%llu", (unsigned long long)rev);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM activity"
	    " WHERE revision = $1::bigint AND action = 'grant.added'"
	    " AND detail = 'read_only'", revision, NULL), 1);
}

static void
grants_are_listed_by_resource_and_by_user(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("list-");
	reg(&w, "experiment", e);
	grant(&w, e, &w.guest, ROLE_READ_ONLY);
	grant(&w, e, &w.t.reader, ROLE_MEMBER);
	grant(&w, e, &w.t.member, ROLE_ADMIN);
	/* Any member may see who has been granted it, a page at a time. */
	Exe__Access__V1__Principal reader = fixture_as_user(w.t.reader.id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)e;
	char token[600] = "";
	size_t seen = 0;
	char last[80] = "";
	for (int page = 0; page < 5; page++) {
		Exe__Access__V1__ListResourceGrantsRequest req =
		    EXE__ACCESS__V1__LIST_RESOURCE_GRANTS_REQUEST__INIT;
		req.actor = &reader;
		req.resource = &ref;
		req.page_size = 2;
		req.page_token = token;
		Exe__Access__V1__ListResourceGrantsResponse *r = NULL;
		exa_error err;
		EXPECT_INT(exa_list_resource_grants(a.client, &req, &r, &err),
		    EXA_OK);
		if (r == NULL)
			return;
		for (size_t i = 0; i < r->n_grants; i++) {
			char name[80];
			snprintf(name, sizeof name, "%s", r->grants[i]->username);
			for (char *c = name; *c; c++)
				*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
			EXPECT(strcmp(last, name) < 0);
			snprintf(last, sizeof last, "%s", name);
			EXPECT_STR(r->grants[i]->resource->id, e);
			seen++;
		}
		snprintf(token, sizeof token, "%s", r->next_page_token);
		exa_free(r);
		if (token[0] == '\0')
			break;
	}
	EXPECT_INT(seen, 3);

	/* A user's grants across resources, by type and id. */
	const char *ids[3];
	for (int i = 0; i < 3; i++) {
		ids[i] = harness_unique("mine-");
		reg(&w, i == 2 ? "dataset" : "experiment", ids[i]);
		uint64_t rev = 0;
		exa_error err;
		fixture_must(fixture_grant(a.client, w.t.admin.id,
		    i == 2 ? "dataset" : "experiment", ids[i], w.guest.id,
		    ROLE_MEMBER, &rev, &err), &err, "grant");
	}
	token[0] = '\0';
	seen = 0;
	char prev[300] = "";
	for (int page = 0; page < 5; page++) {
		Exe__Access__V1__ListUserGrantsRequest req =
		    EXE__ACCESS__V1__LIST_USER_GRANTS_REQUEST__INIT;
		req.user_id = w.guest.id;
		req.page_size = 2;
		req.page_token = token;
		Exe__Access__V1__ListUserGrantsResponse *r = NULL;
		exa_error err;
		EXPECT_INT(exa_list_user_grants(a.client, &req, &r, &err), EXA_OK);
		if (r == NULL)
			return;
		EXPECT(r->n_grants <= 2);
		for (size_t i = 0; i < r->n_grants; i++) {
			char key[300];
			snprintf(key, sizeof key, "%s:%s",
			    r->grants[i]->resource->type, r->grants[i]->resource->id);
			EXPECT(strcmp(prev, key) < 0);
			snprintf(prev, sizeof prev, "%s", key);
			seen++;
		}
		snprintf(token, sizeof token, "%s", r->next_page_token);
		exa_free(r);
		if (token[0] == '\0')
			break;
	}
	EXPECT_INT(seen, 4);
	/* Unknown users, bad tokens. */
	Exe__Access__V1__ListUserGrantsRequest req =
	    EXE__ACCESS__V1__LIST_USER_GRANTS_REQUEST__INIT;
	req.user_id = "00000000-0000-4000-8000-000000000000";
	Exe__Access__V1__ListUserGrantsResponse *r = NULL;
	exa_error err;
	EXPECT_INT(exa_list_user_grants(a.client, &req, &r, &err),
	    EXA_NOT_FOUND);
	exa_free(r);
	req.user_id = w.guest.id;
	req.page_token = "garbage";
	EXPECT_INT(exa_list_user_grants(a.client, &req, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "page_token", 10) == 0);
	exa_free(r);
}

static void
list_permissions_on_a_resource(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("lp-");
	reg(&w, "experiment", e);
	uint64_t rev = grant(&w, e, &w.guest, ROLE_READ_ONLY);
	char held[NPERMS + 1], ws[40];
	Exe__Access__V1__Role role;
	/* A guest: the grant's role, its resource permissions, the workspace
	 * that holds it. */
	EXPECT(listed(&a, w.guest.id, e, rev, held, &role, ws));
	EXPECT_STR(held, "---yyy-----------------");
	EXPECT_INT(role, ROLE_READ_ONLY);
	EXPECT_STR(ws, w.t.workspace);
	/* Someone with neither: nothing, and not where it is. */
	struct fixture_user stranger;
	fixture_sign_up(a.client, "stranger", &stranger);
	EXPECT(listed(&a, stranger.id, e, rev, held, &role, ws));
	EXPECT_STR(held, "-----------------------");
	EXPECT_INT(role, ROLE_NONE);
	EXPECT_STR(ws, "");
	/* A member without a grant: their role, as in the workspace. */
	EXPECT(listed(&a, w.t.member.id, e, rev, held, &role, ws));
	EXPECT_STR(held, "yyyyyyyyyyyy-----------");
	EXPECT_INT(role, ROLE_MEMBER);
	EXPECT_STR(ws, w.t.workspace);
	/* Unregistered: nothing. */
	EXPECT(listed(&a, w.t.member.id, "no-such-thing", rev, held, &role, ws));
	EXPECT_STR(held, "-----------------------");
	EXPECT_STR(ws, "");
	/* A key of the team: its column, minus management. */
	Exe__Access__V1__Principal key = fixture_as_key(w.t.first_key);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)e;
	Exe__Access__V1__ListPermissionsRequest req =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	req.principal = &key;
	req.resource = &ref;
	Exe__Access__V1__ListPermissionsResponse *r = NULL;
	exa_error err;
	EXPECT_INT(exa_list_permissions(a.client, &req, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT_INT(r->role, ROLE_MEMBER);
		EXPECT_INT(r->n_permissions, 12);
		EXPECT_STR(r->workspace_id, w.t.workspace);
	}
	exa_free(r);
	/* Exactly one target. */
	req.workspace_id = w.t.workspace;
	EXPECT_INT(exa_list_permissions(a.client, &req, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id, resource", 22) == 0);
	req.workspace_id = "";
	req.resource = NULL;
	EXPECT_INT(exa_list_permissions(a.client, &req, &r, &err),
	    EXA_INVALID_ARGUMENT);
	ref.type = "notebook";
	req.resource = &ref;
	EXPECT_INT(exa_list_permissions(a.client, &req, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "resource.type", 13) == 0);
}

/* record asks RecordActivity for `action` on experiment `id` as `user_id`. */
static exa_status
record(const char *user_id, const char *action, const char *id,
    exa_error *err)
{
	Exe__Access__V1__Principal p = fixture_as_user(user_id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)id;
	Exe__Access__V1__RecordActivityRequest req =
	    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
	req.actor = &p;
	req.resource = &ref;
	req.action = (char *)action;
	Exe__Access__V1__RecordActivityResponse *r = NULL;
	exa_status rc = exa_record_activity(a.client, &req, &r, err);
	exa_free(r);
	return rc;
}

static exa_status
delete_as(const char *user_id, const char *id, exa_error *err)
{
	Exe__Access__V1__Principal p = fixture_as_user(user_id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)id;
	Exe__Access__V1__DeleteResourceRequest req =
	    EXE__ACCESS__V1__DELETE_RESOURCE_REQUEST__INIT;
	req.actor = &p;
	req.resource = &ref;
	Exe__Access__V1__WriteResponse *r = NULL;
	exa_status rc = exa_delete_resource(a.client, &req, &r, err);
	exa_free(r);
	return rc;
}

/* What a Check allows on a resource, WorkspaceService allows its actor
 * there: reporting an edit of the experiment one was granted, deleting
 * the one one was granted admin on. */
static void
workspace_service_honours_grants(void)
{
	struct world w;
	world_make(&w);
	const char *e = harness_unique("act-");
	const char *f = harness_unique("other-");
	reg(&w, "experiment", e);
	reg(&w, "experiment", f);
	grant(&w, e, &w.t.reader, ROLE_MEMBER);
	grant(&w, e, &w.guest, ROLE_MEMBER);
	exa_error err;
	EXPECT_INT(record(w.t.reader.id, "experiment.edit", e, &err), EXA_OK);
	EXPECT_INT(record(w.guest.id, "measurement.add", e, &err), EXA_OK);
	EXPECT_INT(record(w.t.reader.id, "experiment.edit", f, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "no grant on experiment");
	/* A guest is a stranger to the rest of the workspace. */
	EXPECT_INT(record(w.guest.id, "experiment.view", f, &err),
	    EXA_NOT_FOUND);
	EXPECT_INT(record(w.guest.id, "experiment.delete", e, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "grant member on experiment");
	/* Nor does a grant give the workspace's own permissions there. */
	EXPECT_INT(record(w.guest.id, "activity.view", e, &err), EXA_NOT_FOUND);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM activity"
	    " WHERE resource_id = $1 AND action IN ('experiment.edit',"
	    " 'measurement.add')", e, NULL), 2);
	/* Admin on one experiment: may delete it, and nothing else. */
	uint64_t rev = grant(&w, f, &w.guest, ROLE_ADMIN);
	(void)rev;
	EXPECT_INT(delete_as(w.guest.id, e, &err), EXA_PERMISSION_DENIED);
	EXPECT_INT(delete_as(w.guest.id, f, &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&a, "SELECT count(*) FROM resources"
	    " WHERE external_id = $1", f, NULL), 0);
}

/* lookup pages through LookupResources for `user_id` (`permission` on
 * experiments, `size` a page) on `h`; writes the ids in order to ids[]
 * (at most `max`) and returns how many, or -1 if a call failed. */
static int
lookup(struct harness *h, const char *user_id, const char *permission,
    uint32_t size, char ids[][64], int max)
{
	Exe__Access__V1__Principal p = fixture_as_user(user_id);
	char token[600] = "";
	int count = 0;
	for (int page = 0; page < 100; page++) {
		Exe__Access__V1__LookupResourcesRequest req =
		    EXE__ACCESS__V1__LOOKUP_RESOURCES_REQUEST__INIT;
		req.principal = &p;
		req.resource_type = "experiment";
		req.permission = (char *)permission;
		req.page_size = size;
		req.page_token = token;
		Exe__Access__V1__LookupResourcesResponse *r = NULL;
		exa_error err;
		if (exa_lookup_resources(h->client, &req, &r, &err) != EXA_OK) {
			fprintf(stderr, "  lookup: %s\n", err.message);
			return -1;
		}
		EXPECT(r->n_resources <= size);
		for (size_t i = 0; i < r->n_resources && count < max; i++)
			snprintf(ids[count++], 64, "%s", r->resources[i]->ref->id);
		snprintf(token, sizeof token, "%s", r->next_page_token);
		exa_free(r);
		if (token[0] == '\0')
			return count;
	}
	return -1;
}

/* expect_ids says whether ids[0..n) are strictly increasing (so none
 * twice) and are exactly the `m` of `want` (in any order). */
static bool
expect_ids(char ids[][64], int got, const char *const *want, int m)
{
	bool ok = got == m;
	for (int i = 1; i < got; i++)
		if (strcmp(ids[i - 1], ids[i]) >= 0)
			ok = false;
	for (int k = 0; k < m; k++) {
		bool found = false;
		for (int i = 0; i < got; i++)
			found = found || strcmp(ids[i], want[k]) == 0;
		ok = ok && found;
	}
	if (!ok) {
		fprintf(stderr, "  got %d ids:", got);
		for (int i = 0; i < got; i++)
			fprintf(stderr, " %s", ids[i]);
		fprintf(stderr, "; wanted %d\n", m);
	}
	return ok;
}

static void
lookup_lists_granted_resources_once(void)
{
	/* The reader is read_only in team 1, which has five experiments; two
	 * of them are also granted to them (reached both ways). In team 2
	 * they are nobody, granted three of its five. */
	struct world w1, w2;
	world_make(&w1);
	world_make(&w2);
	const struct fixture_user *u = &w1.t.reader;
	char one[5][32], two[5][32];
	for (int i = 0; i < 5; i++) {
		/* Ids interleave across the two teams, so pages mix both
		 * ways of reaching a resource. */
		snprintf(one[i], sizeof one[i], "lk%d-a-%s", i,
		    harness_unique(""));
		snprintf(two[i], sizeof two[i], "lk%d-b-%s", i,
		    harness_unique(""));
		reg(&w1, "experiment", one[i]);
		reg(&w2, "experiment", two[i]);
	}
	grant(&w1, one[1], u, ROLE_MEMBER);
	grant(&w1, one[3], u, ROLE_READ_ONLY);
	grant(&w2, two[0], u, ROLE_READ_ONLY);
	grant(&w2, two[2], u, ROLE_MEMBER);
	grant(&w2, two[4], u, ROLE_ADMIN);
	char ids[32][64];
	const char *views[] = {one[0], one[1], one[2], one[3], one[4], two[0],
	    two[2], two[4]};
	const char *edits[] = {one[1], two[2], two[4]};
	const char *deletes[] = {two[4]};
	struct harness *servers[] = {&a, &n};
	for (size_t s = 0; s < 2; s++) {
		for (uint32_t size = 1; size <= 9; size += 2) {
			int got = lookup(servers[s], u->id, "experiment.view", size,
			    ids, 32);
			EXPECT(expect_ids(ids, got, views, 8));
		}
		int got = lookup(servers[s], u->id, "experiment.edit", 1, ids, 32);
		EXPECT(expect_ids(ids, got, edits, 3));
		got = lookup(servers[s], u->id, "experiment.delete", 2, ids, 32);
		EXPECT(expect_ids(ids, got, deletes, 1));
	}
	/* Revoked, or gone with the resource: no longer listed. */
	exa_error err;
	fixture_must(fixture_revoke(a.client, w2.t.admin.id, "experiment",
	    two[2], u->id, NULL, &err), &err, "revoke");
	Exe__Access__V1__Principal admin = fixture_as_user(w2.t.admin.id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = two[4];
	Exe__Access__V1__DeleteResourceRequest del =
	    EXE__ACCESS__V1__DELETE_RESOURCE_REQUEST__INIT;
	del.actor = &admin;
	del.resource = &ref;
	Exe__Access__V1__WriteResponse *wr = NULL;
	fixture_must(exa_delete_resource(a.client, &del, &wr, &err), &err,
	    "delete");
	exa_free(wr);
	const char *left[] = {one[1]};
	int got = lookup(&a, u->id, "experiment.edit", 2, ids, 32);
	EXPECT(expect_ids(ids, got, left, 1));
	/* A guest's lookup holds their grants alone. */
	const char *guest_views[] = {two[0]};
	grant(&w2, two[0], &w1.guest, ROLE_READ_ONLY);
	got = lookup(&a, w1.guest.id, "experiment.view", 10, ids, 32);
	EXPECT(expect_ids(ids, got, guest_views, 1));
}

static const struct unit_case cases[] = {
    {"every cell of the grant rule", every_cell_of_the_grant_rule},
    {"reasons say where the role came from",
        reasons_say_where_the_role_came_from},
    {"a guest sees one resource and nothing else",
        a_guest_sees_one_resource_and_nothing_else},
    {"grants vanish with their resource", grants_vanish_with_their_resource},
    {"leaving the team takes the grants", leaving_the_team_takes_the_grants},
    {"grants vanish with their workspace",
        grants_vanish_with_their_workspace},
    {"changes and revocations are seen at once",
        changes_and_revocations_are_seen_at_once},
    {"the rules of granting", the_rules_of_granting},
    {"ListPermissions on a resource", list_permissions_on_a_resource},
    {"WorkspaceService honours grants", workspace_service_honours_grants},
    {"LookupResources lists granted resources once",
        lookup_lists_granted_resources_once},
    {"grants are listed by resource and by user",
        grants_are_listed_by_resource_and_by_user},
};

UNIT_STATE

int
main(void)
{
	harness_start(&a, "grants", NULL);
	harness_launch_replica(&b, &a, NULL);
	harness_launch_replica(&n, &a,
	    (const char *const[]){"--cache-size=0", NULL});
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int sa = harness_stop(&n), sb = harness_stop(&b), sc = harness_stop(&a);
	return failed == 0 && sa == 0 && sb == 0 && sc == 0 ? 0 : 1;
}
