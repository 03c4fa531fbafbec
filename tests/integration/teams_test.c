/* Organisations, team workspaces and their members (SPEC R2, R3, R4, R5,
 * R7, R8, R13), settings and deletion, through the client library against
 * a real exe-accessd. */
#include <pthread.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

/* The newest revision a write in this test returned: checks pass it, as a
 * caller that wants to read its own writes does (SPEC §4). */
static uint64_t last_revision;

static void
saw(uint64_t revision)
{
	if (revision > last_revision)
		last_revision = revision;
}

static exa_status
create_org(const struct fixture_user *actor, const char *name, char *org_id,
    exa_error *err)
{
	Exe__Access__V1__CreateOrganizationResponse *r = NULL;
	exa_status rc = fixture_create_org(h.client, actor->id, name, &r, err);
	if (rc == EXA_OK) {
		saw(r->revision);
		snprintf(org_id, 40, "%s", r->organization->id);
		EXPECT_INT(r->organization->n_admin_user_ids, 1);
		EXPECT(r->revision > 0);
	}
	exa_free(r);
	return rc;
}

static exa_status
create_team(const struct fixture_user *actor, const char *org,
    const char *name, const struct fixture_user *first_admin, char *ws_id,
    exa_error *err)
{
	Exe__Access__V1__CreateTeamWorkspaceResponse *r = NULL;
	exa_status rc = fixture_create_team(h.client, actor->id, org, name,
	    first_admin != NULL ? first_admin->id : NULL, &r, err);
	if (rc == EXA_OK) {
		saw(r->revision);
		snprintf(ws_id, 40, "%s", r->workspace->id);
	}
	exa_free(r);
	return rc;
}

static bool
allowed(const struct fixture_user *u, const char *permission, const char *ws)
{
	exa_decision d;
	exa_error err;
	if (exa_check_fresh(h.client, u->id, permission, ws, last_revision, &d,
	        &err) != EXA_OK) {
		fprintf(stderr, "  check failed: %s\n", err.message);
		unit_case_failed = 1;
		return false;
	}
	return d.allowed;
}

static long
admins_of(const char *ws)
{
	return harness_sql_long(&h,
	    "SELECT count(*) FROM memberships WHERE workspace_id = $1"
	    " AND role = 'admin'", ws, NULL);
}

/* A team with an organisation admin (`org_admin`, not a member) and the
 * team's first admin. */
struct team {
	struct fixture_user org_admin, admin;
	char org[40], ws[40];
};

static void
make_team(struct team *t, const char *name)
{
	exa_error err;
	fixture_sign_up(h.client, "orgadm", &t->org_admin);
	fixture_sign_up(h.client, "teamadm", &t->admin);
	EXPECT_INT(create_org(&t->org_admin, "Acme", t->org, &err), EXA_OK);
	EXPECT_INT(create_team(&t->org_admin, t->org, name, &t->admin, t->ws,
	    &err), EXA_OK);
}

/* new_member signs up someone named after `prefix` (into `u`), whom the
 * organisation admin adds to the team with `role`. */
static void
new_member(const struct team *t, const char *prefix,
    Exe__Access__V1__Role role, struct fixture_user *u)
{
	exa_error err;
	fixture_sign_up(h.client, prefix, u);
	EXPECT_INT(fixture_add_member(h.client, t->org_admin.id, t->ws, u->id,
	    role, &last_revision, &err), EXA_OK);
}

static void
organisations_keep_an_admin(void)
{
	struct fixture_user a, b, stranger;
	fixture_sign_up(h.client, "oa", &a);
	fixture_sign_up(h.client, "ob", &b);
	fixture_sign_up(h.client, "os", &stranger);
	char org[40];
	exa_error err;
	EXPECT_INT(create_org(&a, "Org One", org, &err), EXA_OK);

	Exe__Access__V1__Principal pa = fixture_as_user(a.id),
	    ps = fixture_as_user(stranger.id);
	Exe__Access__V1__AddOrganizationAdminRequest add =
	    EXE__ACCESS__V1__ADD_ORGANIZATION_ADMIN_REQUEST__INIT;
	add.organization_id = org;
	add.user_id = b.id;
	Exe__Access__V1__WriteResponse *w = NULL;
	add.actor = &ps;
	EXPECT_INT(exa_add_organization_admin(h.client, &add, &w, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "not an admin of organisation");
	add.actor = &pa;
	EXPECT_INT(exa_add_organization_admin(h.client, &add, &w, &err), EXA_OK);
	exa_free(w);
	EXPECT_INT(exa_add_organization_admin(h.client, &add, &w, &err),
	    EXA_ALREADY_EXISTS);

	Exe__Access__V1__RemoveOrganizationAdminRequest rm =
	    EXE__ACCESS__V1__REMOVE_ORGANIZATION_ADMIN_REQUEST__INIT;
	rm.actor = &pa;
	rm.organization_id = org;
	rm.user_id = a.id;
	EXPECT_INT(exa_remove_organization_admin(h.client, &rm, &w, &err), EXA_OK);
	exa_free(w);
	/* b is now the only admin and cannot leave. */
	Exe__Access__V1__Principal pb = fixture_as_user(b.id);
	rm.actor = &pb;
	rm.user_id = b.id;
	EXPECT_INT(exa_remove_organization_admin(h.client, &rm, &w, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "last admin");
	EXPECT_INT(harness_sql_long(&h, "SELECT count(*) FROM organization_admins"
	    " WHERE organization_id = $1", org, NULL), 1);

	/* Only people create organisations, and names are required. */
	Exe__Access__V1__Principal key = fixture_as_key(a.key);
	Exe__Access__V1__CreateOrganizationRequest co =
	    EXE__ACCESS__V1__CREATE_ORGANIZATION_REQUEST__INIT;
	co.actor = &key;
	co.name = "Keyed";
	Exe__Access__V1__CreateOrganizationResponse *cr = NULL;
	EXPECT_INT(exa_create_organization(h.client, &co, &cr, &err),
	    EXA_PERMISSION_DENIED);
	co.actor = &pa;
	co.name = "";
	EXPECT_INT(exa_create_organization(h.client, &co, &cr, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "name");
	co.actor = NULL;
	co.name = "No actor";
	EXPECT_INT(exa_create_organization(h.client, &co, &cr, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "actor");
}

static void
organisation_admins_create_teams(void)
{
	struct fixture_user boss, lead, nobody;
	fixture_sign_up(h.client, "boss", &boss);
	fixture_sign_up(h.client, "lead", &lead);
	fixture_sign_up(h.client, "nobody", &nobody);
	char org[40], ws[40], ws2[40];
	exa_error err;
	EXPECT_INT(create_org(&boss, "Labs", org, &err), EXA_OK);
	EXPECT_INT(create_team(&nobody, org, "Sneaky", NULL, ws, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(create_team(&boss, "00000000-0000-4000-8000-000000000000",
	    "Ghost", NULL, ws, &err), EXA_NOT_FOUND);
	/* Default first admin: the creator. */
	EXPECT_INT(create_team(&boss, org, "Chemistry", NULL, ws, &err), EXA_OK);
	EXPECT(allowed(&boss, "workspace.delete", ws));
	/* Named first admin. */
	EXPECT_INT(create_team(&boss, org, "Physics", &lead, ws2, &err), EXA_OK);
	EXPECT(allowed(&lead, "members.invite", ws2));
	EXPECT(!allowed(&boss, "workspace.view", ws2));
	EXPECT_INT(admins_of(ws2), 1);

	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	req.user_id = lead.id;
	Exe__Access__V1__ListWorkspacesResponse *list = NULL;
	EXPECT_INT(exa_list_workspaces(h.client, &req, &list, &err), EXA_OK);
	if (list != NULL) {
		EXPECT_INT(list->n_workspaces, 2);
		if (list->n_workspaces == 2) {
			EXPECT_STR(list->workspaces[1]->workspace->name, "Physics");
			EXPECT_INT(list->workspaces[1]->role,
			    EXE__ACCESS__V1__ROLE__ROLE_ADMIN);
			EXPECT_STR(list->workspaces[1]->workspace->organization_id,
			    org);
		}
	}
	exa_free(list);
}

static void
organisation_admins_manage_members(void)
{
	struct team t;
	make_team(&t, "Biology");
	struct fixture_user carol, dave;
	fixture_sign_up(h.client, "carol", &carol);
	fixture_sign_up(h.client, "dave", &dave);
	exa_error err;
	/* A team admin does not add members directly: they invite (R4). */
	EXPECT_INT(fixture_add_member(h.client, t.admin.id, t.ws, carol.id,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(fixture_add_member(h.client, t.org_admin.id, t.ws, carol.id,
	    EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED, &last_revision, &err),
	    EXA_OK);
	EXPECT_INT(fixture_add_member(h.client, t.org_admin.id, t.ws, dave.id,
	    EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, &last_revision, &err),
	    EXA_OK);
	EXPECT_INT(fixture_add_member(h.client, t.org_admin.id, t.ws, dave.id,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision, &err),
	    EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, "read_only");

	/* Default role member: creates experiments, does not delete them. */
	EXPECT(allowed(&carol, "experiment.create", t.ws));
	EXPECT(!allowed(&carol, "experiment.delete", t.ws));
	EXPECT(allowed(&dave, "experiment.view", t.ws));
	EXPECT(!allowed(&dave, "experiment.create", t.ws));

	/* Role changes take effect on the next check. */
	EXPECT_INT(fixture_change_role(h.client, t.org_admin.id, t.ws, dave.id,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision, &err), EXA_OK);
	EXPECT(allowed(&dave, "experiment.create", t.ws));
	EXPECT_INT(fixture_change_role(h.client, t.admin.id, t.ws, dave.id,
	    EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &last_revision, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(fixture_change_role(h.client, t.org_admin.id, t.ws, dave.id,
	    EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED, &last_revision, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "role");
	/* A malformed id in any of the three is refused, naming the field
	 * (this once took the daemon down). */
	EXPECT_INT(fixture_add_member(h.client, t.org_admin.id, "", dave.id,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "workspace_id");
	EXPECT_INT(fixture_change_role(h.client, t.org_admin.id, "nope",
	    dave.id, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_INT(fixture_remove_member(h.client, t.org_admin.id, t.ws, "bad",
	    &last_revision, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "user_id");

	/* Nobody changes their own role, not even an organisation admin. */
	EXPECT_INT(fixture_add_member(h.client, t.org_admin.id, t.ws,
	    t.org_admin.id, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY,
	    &last_revision, &err), EXA_OK);
	EXPECT_INT(fixture_change_role(h.client, t.org_admin.id, t.ws,
	    t.org_admin.id, EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &last_revision,
	    &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "own role");
	/* Not with the actor's id in capitals either (ids are taken in
	 * either case). */
	char upper[37];
	for (size_t i = 0; i < sizeof upper; i++)
		upper[i] = (char)toupper((unsigned char)t.org_admin.id[i]);
	EXPECT_INT(fixture_change_role(h.client, upper, t.ws, t.org_admin.id,
	    EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &last_revision, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "own role");

	/* Team admins remove members; read_only and members cannot. */
	EXPECT_INT(fixture_remove_member(h.client, carol.id, t.ws, dave.id,
	    &last_revision, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "does not grant members.remove");
	EXPECT_INT(fixture_remove_member(h.client, t.admin.id, t.ws, dave.id,
	    &last_revision, &err), EXA_OK);
	EXPECT(!allowed(&dave, "workspace.view", t.ws));
	EXPECT_INT(fixture_remove_member(h.client, t.admin.id, t.ws, dave.id,
	    &last_revision, &err), EXA_NOT_FOUND);
	/* An organisation admin who is not a team admin may also remove. */
	EXPECT_INT(fixture_remove_member(h.client, t.org_admin.id, t.ws,
	    carol.id, &last_revision, &err), EXA_OK);

	/* Every change is recorded with who made it (R7). */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1"
	    " AND action = 'member.added' AND actor_user_id = $2", t.ws,
	    t.org_admin.id, NULL), 3);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1"
	    " AND action = 'member.removed' AND actor_user_id = $2", t.ws,
	    t.admin.id, NULL), 1);

	Exe__Access__V1__Principal p = fixture_as_user(t.admin.id);
	Exe__Access__V1__ListMembersRequest lm =
	    EXE__ACCESS__V1__LIST_MEMBERS_REQUEST__INIT;
	lm.actor = &p;
	lm.workspace_id = t.ws;
	Exe__Access__V1__ListMembersResponse *members = NULL;
	EXPECT_INT(exa_list_members(h.client, &lm, &members, &err), EXA_OK);
	if (members != NULL)
		EXPECT_INT(members->n_members, 2); /* admin and org_admin */
	exa_free(members);
}

static void
personal_workspaces_have_one_member(void)
{
	struct fixture_user owner, other;
	fixture_sign_up(h.client, "solo", &owner);
	fixture_sign_up(h.client, "guest", &other);
	struct fixture_user fake_owner_view = owner;
	snprintf(fake_owner_view.id, sizeof fake_owner_view.id, "%s", owner.id);
	exa_error err;
	EXPECT_INT(fixture_add_member(h.client, owner.id, owner.workspace,
	    other.id, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "personal workspace");
	EXPECT_INT(fixture_change_role(h.client, owner.id, owner.workspace,
	    owner.id, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, &last_revision,
	    &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "personal workspace");
	EXPECT_INT(fixture_remove_member(h.client, owner.id, owner.workspace,
	    owner.id, &last_revision, &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "personal workspace");
	/* Anyone else is refused before the rule is told (see "strangers
	 * learn nothing of a workspace's kind"). */
	EXPECT_INT(fixture_change_role(h.client, other.id, owner.workspace,
	    owner.id, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, &last_revision,
	    &err), EXA_PERMISSION_DENIED);

	Exe__Access__V1__Principal p = fixture_as_user(owner.id);
	Exe__Access__V1__DeleteWorkspaceRequest del =
	    EXE__ACCESS__V1__DELETE_WORKSPACE_REQUEST__INIT;
	del.actor = &p;
	del.workspace_id = owner.workspace;
	Exe__Access__V1__WriteResponse *w = NULL;
	EXPECT_INT(exa_delete_workspace(h.client, &del, &w, &err),
	    EXA_FAILED_PRECONDITION);
	Exe__Access__V1__Principal po = fixture_as_user(other.id);
	del.actor = &po;
	EXPECT_INT(exa_delete_workspace(h.client, &del, &w, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(harness_sql_long(&h, "SELECT count(*) FROM memberships"
	    " WHERE workspace_id = $1", owner.workspace, NULL), 1);
	EXPECT(allowed(&owner, "workspace.delete", owner.workspace));
}

static void
last_admin_cannot_be_demoted_or_removed(void)
{
	struct team t;
	make_team(&t, "Geology");
	exa_error err;
	EXPECT_INT(fixture_change_role(h.client, t.org_admin.id, t.ws,
	    t.admin.id, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision,
	    &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "last admin");
	EXPECT_INT(fixture_remove_member(h.client, t.org_admin.id, t.ws,
	    t.admin.id, &last_revision, &err), EXA_FAILED_PRECONDITION);
	EXPECT_INT(admins_of(t.ws), 1);
	/* With a second admin, one of them may go. */
	struct fixture_user second;
	new_member(&t, "second", EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &second);
	EXPECT_INT(fixture_change_role(h.client, t.org_admin.id, t.ws,
	    t.admin.id, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision,
	    &err), EXA_OK);
	EXPECT_INT(admins_of(t.ws), 1);
}

/* same_but_ids says whether `a` and `b` read the same once every
 * occurrence of `id_a` in `a` is taken for `id_b` (ids of one length). */
static bool
same_but_ids(const char *a, const char *id_a, const char *b, const char *id_b)
{
	char copy[600];
	snprintf(copy, sizeof copy, "%s", a);
	size_t n = strlen(id_a);
	for (char *at = strstr(copy, id_a); at != NULL; at = strstr(at + n, id_a))
		memcpy(at, id_b, n);
	if (strcmp(copy, b) == 0)
		return true;
	fprintf(stderr, "  \"%s\"\n  differs from \"%s\"\n", a, b);
	return false;
}

/* A stranger to a workspace (not a member, not an admin of its
 * organisation) gets the same answer, word for word but for the id,
 * whether it is a team or someone's personal workspace (SPEC R2:
 * "nobody else can see anything in it"); only its owner hears R2's
 * rule. */
static void
strangers_learn_nothing_of_a_workspaces_kind(void)
{
	struct team t;
	make_team(&t, "Zoology");
	struct fixture_user owner, stranger, target;
	fixture_sign_up(h.client, "kindown", &owner);
	fixture_sign_up(h.client, "kindstr", &stranger);
	fixture_sign_up(h.client, "kindtgt", &target);
	const char *spaces[] = {t.ws, owner.workspace};
	exa_status codes[2][5];
	char messages[2][5][512];
	for (int k = 0; k < 2; k++) {
		exa_error err;
		codes[k][0] = fixture_add_member(h.client, stranger.id, spaces[k],
		    target.id, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, NULL, &err);
		snprintf(messages[k][0], 512, "%s", err.message);
		codes[k][1] = fixture_change_role(h.client, stranger.id,
		    spaces[k], owner.id, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY,
		    NULL, &err);
		snprintf(messages[k][1], 512, "%s", err.message);
		codes[k][2] = fixture_remove_member(h.client, stranger.id,
		    spaces[k], owner.id, NULL, &err);
		snprintf(messages[k][2], 512, "%s", err.message);
		Exe__Access__V1__Principal p = fixture_as_user(stranger.id);
		Exe__Access__V1__CreateInvitationResponse *inv = NULL;
		codes[k][3] = fixture_invite(h.client, &p, spaces[k],
		    target.username, NULL, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, 0,
		    &inv, &err);
		exa_free(inv);
		snprintf(messages[k][3], 512, "%s", err.message);
		Exe__Access__V1__GetWorkspaceRequest get =
		    EXE__ACCESS__V1__GET_WORKSPACE_REQUEST__INIT;
		get.actor = &p;
		get.workspace_id = (char *)spaces[k];
		Exe__Access__V1__GetWorkspaceResponse *w = NULL;
		codes[k][4] = exa_get_workspace(h.client, &get, &w, &err);
		exa_free(w);
		snprintf(messages[k][4], 512, "%s", err.message);
	}
	for (int i = 0; i < 5; i++) {
		EXPECT_INT(codes[0][i], EXA_PERMISSION_DENIED);
		EXPECT_INT(codes[1][i], codes[0][i]);
		EXPECT(same_but_ids(messages[1][i], owner.workspace, messages[0][i],
		    t.ws));
		EXPECT(strstr(messages[1][i], "personal") == NULL);
		EXPECT(strstr(messages[0][i], t.org) == NULL);
	}
	/* Nothing was changed or recorded in either. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE actor_user_id = $1",
	    stranger.id, NULL), 1); /* their own sign-up */
	/* The owner, who has standing, is told the rule. */
	exa_error err;
	EXPECT_INT(fixture_add_member(h.client, owner.id, owner.workspace,
	    target.id, EXE__ACCESS__V1__ROLE__ROLE_MEMBER, NULL, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "personal workspace");
	/* A member of the team who is not an organisation admin is refused
	 * in the same words as a stranger, and an API key is refused as a
	 * key wherever it asks. */
	struct fixture_user m;
	new_member(&t, "kindmem", EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &m);
	EXPECT_INT(fixture_add_member(h.client, m.id, t.ws, target.id,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT(same_but_ids(err.message, m.id, messages[0][0], stranger.id));
}

/* change_role_as asks, as `actor`, for `user`'s role in `ws` to be `role`,
 * and keeps the answer in *out (NULL if the call failed). */
static exa_status
change_role_as(const struct fixture_user *actor, const char *ws,
    const struct fixture_user *user, Exe__Access__V1__Role role,
    Exe__Access__V1__MemberResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal p = fixture_as_user(actor->id);
	Exe__Access__V1__ChangeMemberRoleRequest req =
	    EXE__ACCESS__V1__CHANGE_MEMBER_ROLE_REQUEST__INIT;
	req.actor = &p;
	req.workspace_id = (char *)ws;
	req.user_id = (char *)user->id;
	req.role = role;
	*out = NULL;
	return exa_change_member_role(h.client, &req, out, err);
}

static void
changing_a_role_to_the_one_held_changes_nothing(void)
{
	struct team t;
	make_team(&t, "Botany");
	struct fixture_user m;
	new_member(&t, "same", EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &m);
	long records = harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1", t.ws, NULL);
	long current = harness_sql_long(&h,
	    "SELECT value FROM revision_counter", NULL);
	exa_error err;
	Exe__Access__V1__MemberResponse *r;
	EXPECT_INT(change_role_as(&t.org_admin, t.ws, &m,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT_INT(r->revision, current);
		EXPECT_INT(r->member->role, EXE__ACCESS__V1__ROLE__ROLE_MEMBER);
		EXPECT_STR(r->member->user_id, m.id);
		EXPECT_STR(r->member->username, m.username);
		EXPECT(r->member->joined_unix_ms > 0);
	}
	exa_free(r);
	/* The team's only admin "made" admin again: also nothing, and not
	 * refused as a change to the last admin. */
	EXPECT_INT(change_role_as(&t.org_admin, t.ws, &t.admin,
	    EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &r, &err), EXA_OK);
	if (r != NULL)
		EXPECT_INT(r->revision, current);
	exa_free(r);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1", t.ws, NULL),
	    records);
	EXPECT_INT(harness_sql_long(&h, "SELECT value FROM revision_counter",
	    NULL), current);
	/* It is still authorized: a team admin may not, even to no effect. */
	EXPECT_INT(change_role_as(&t.admin, t.ws, &m,
	    EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &r, &err),
	    EXA_PERMISSION_DENIED);
	/* A real change afterwards is recorded as before. */
	EXPECT_INT(change_role_as(&t.org_admin, t.ws, &m,
	    EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, &r, &err), EXA_OK);
	if (r != NULL)
		EXPECT(r->revision > (uint64_t)current);
	exa_free(r);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1"
	    " AND action = 'member.role_changed' AND detail = 'member -> "
	    "read_only'", t.ws, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1"
	    " AND action = 'member.role_changed'", t.ws, NULL), 1);
}

struct racer {
	exa_client *client;
	const struct fixture_user *actor;
	const struct fixture_user *target;
	const char *ws;
	bool demote; /* ChangeMemberRole to member; else RemoveMember */
	exa_status rc;
	pthread_barrier_t *go;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	exa_error err;
	pthread_barrier_wait(r->go);
	r->rc = r->demote
	    ? fixture_change_role(r->client, r->actor->id, r->ws, r->target->id,
	          EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &last_revision, &err)
	    : fixture_remove_member(r->client, r->actor->id, r->ws,
	          r->target->id, &last_revision, &err);
	return NULL;
}

/* run_race runs two conflicting changes at the same moment on two
 * connections; returns how many succeeded. */
static int
run_race(struct racer *a, struct racer *b)
{
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, 2);
	a->go = b->go = &go;
	pthread_t ta, tb;
	pthread_create(&ta, NULL, race, a);
	pthread_create(&tb, NULL, race, b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&go);
	int ok = (a->rc == EXA_OK) + (b->rc == EXA_OK);
	/* The loser of a demotion race is the last admin's guard
	 * (FAILED_PRECONDITION); the loser of a removal race may instead
	 * have been removed first and so no longer be a member at all
	 * (PERMISSION_DENIED). */
	exa_status lost = a->demote ? EXA_FAILED_PRECONDITION : EXA_PERMISSION_DENIED;
	bool clean = (a->rc == EXA_OK || a->rc == EXA_FAILED_PRECONDITION ||
	                 a->rc == lost) &&
	    (b->rc == EXA_OK || b->rc == EXA_FAILED_PRECONDITION ||
	        b->rc == lost);
	if (!clean) {
		fprintf(stderr, "  race results %s, %s\n", exa_status_name(a->rc),
		    exa_status_name(b->rc));
		unit_case_failed = 1;
	}
	return ok;
}

static void
concurrent_admin_removals_keep_an_admin(void)
{
	enum { ROUNDS = 15 };
	exa_client *c1, *c2;
	exa_error err;
	EXPECT_INT(exa_client_open(h.url, h.token, NULL, &c1, &err), EXA_OK);
	EXPECT_INT(exa_client_open(h.url, h.token, NULL, &c2, &err), EXA_OK);
	int exactly_one = 0;
	for (int round = 0; round < ROUNDS; round++) {
		struct team t;
		make_team(&t, "Race");
		struct fixture_user b;
		new_member(&t, "racer", EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &b);
		/* Odd rounds: the two team admins remove each other. Even
		 * rounds: the organisation admin demotes both at once. */
		bool demote = round % 2 == 0;
		struct racer ra = {c1, demote ? &t.org_admin : &t.admin, &b, t.ws,
		    demote, -1, NULL};
		struct racer rb = {c2, demote ? &t.org_admin : &b, &t.admin, t.ws,
		    demote, -1, NULL};
		int ok = run_race(&ra, &rb);
		exactly_one += ok == 1;
		EXPECT_INT(admins_of(t.ws), 1);
	}
	EXPECT_INT(exactly_one, ROUNDS);
	exa_client_close(c1);
	exa_client_close(c2);
}

static void
roles_apply_only_inside_their_workspace(void)
{
	struct team a, b;
	make_team(&a, "Team A");
	make_team(&b, "Team B");
	EXPECT(allowed(&a.admin, "members.remove", a.ws));
	EXPECT(!allowed(&a.admin, "workspace.view", b.ws));
	EXPECT(!allowed(&a.admin, "workspace.view", b.admin.workspace));
	struct fixture_user m;
	fixture_sign_up(h.client, "both", &m);
	exa_error err;
	EXPECT_INT(fixture_add_member(h.client, a.org_admin.id, a.ws, m.id,
	    EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &last_revision, &err), EXA_OK);
	EXPECT_INT(fixture_add_member(h.client, b.org_admin.id, b.ws, m.id,
	    EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY, &last_revision, &err),
	    EXA_OK);
	EXPECT(allowed(&m, "project.delete", a.ws));
	EXPECT(!allowed(&m, "project.delete", b.ws));
	EXPECT(allowed(&m, "project.view", b.ws));
	/* An admin of organisation A is nobody in organisation B's team. */
	EXPECT_INT(fixture_add_member(h.client, a.org_admin.id, b.ws, m.id,
	    EXE__ACCESS__V1__ROLE__ROLE_ADMIN, &last_revision, &err),
	    EXA_PERMISSION_DENIED);
}

static exa_status
update(const struct fixture_user *actor, const char *ws, const char *name,
    Exe__Access__V1__Setting **set, size_t n_set, char **unset,
    size_t n_unset, Exe__Access__V1__UpdateWorkspaceSettingsResponse **out,
    exa_error *err)
{
	Exe__Access__V1__Principal p = fixture_as_user(actor->id);
	Exe__Access__V1__UpdateWorkspaceSettingsRequest req =
	    EXE__ACCESS__V1__UPDATE_WORKSPACE_SETTINGS_REQUEST__INIT;
	req.actor = &p;
	req.workspace_id = (char *)ws;
	req.name = (char *)(name != NULL ? name : "");
	req.set = set;
	req.n_set = n_set;
	req.unset = unset;
	req.n_unset = n_unset;
	Exe__Access__V1__UpdateWorkspaceSettingsResponse *r = NULL;
	exa_status rc = exa_update_workspace_settings(h.client, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

static void
admins_update_settings(void)
{
	struct team t;
	make_team(&t, "Settings");
	struct fixture_user member;
	new_member(&t, "setmem", EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &member);
	exa_error err;

	/* Values come back verbatim, whatever SQL or JSON they resemble. */
	const char *tricky = "it's 100% \"fine\"; DROP TABLE users; -- \\ _ \xc3\xa9";
	Exe__Access__V1__Setting s1 = EXE__ACCESS__V1__SETTING__INIT;
	s1.key = "default.units";
	s1.value = (char *)tricky;
	Exe__Access__V1__Setting *set[] = {&s1};
	Exe__Access__V1__UpdateWorkspaceSettingsResponse *r = NULL;
	EXPECT_INT(update(&t.admin, t.ws, "Settings 'Renamed' %_", set, 1, NULL, 0,
	    &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT_STR(r->workspace->name, "Settings 'Renamed' %_");
		EXPECT_INT(r->workspace->n_settings, 1);
		if (r->workspace->n_settings == 1)
			EXPECT_STR(r->workspace->settings[0]->value, tricky);
		EXPECT(r->revision > 0);
	}
	exa_free(r);

	Exe__Access__V1__Principal pm = fixture_as_user(member.id);
	Exe__Access__V1__GetWorkspaceRequest get =
	    EXE__ACCESS__V1__GET_WORKSPACE_REQUEST__INIT;
	get.actor = &pm;
	get.workspace_id = t.ws;
	Exe__Access__V1__GetWorkspaceResponse *g = NULL;
	EXPECT_INT(exa_get_workspace(h.client, &get, &g, &err), EXA_OK);
	if (g != NULL) {
		EXPECT_INT(g->role, EXE__ACCESS__V1__ROLE__ROLE_MEMBER);
		EXPECT_INT(g->workspace->n_settings, 1);
	}
	exa_free(g);

	EXPECT_INT(update(&member, t.ws, "Mine now", NULL, 0, NULL, 0, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "workspace.settings.update");

	char *unset[] = {"default.units"};
	EXPECT_INT(update(&t.admin, t.ws, NULL, NULL, 0, unset, 1, &r, &err),
	    EXA_OK);
	if (r != NULL)
		EXPECT_INT(r->workspace->n_settings, 0);
	exa_free(r);

	/* Bounded: keys, values, count. */
	Exe__Access__V1__Setting bad = EXE__ACCESS__V1__SETTING__INIT;
	bad.key = "has space";
	bad.value = "x";
	Exe__Access__V1__Setting *badset[] = {&bad};
	EXPECT_INT(update(&t.admin, t.ws, NULL, badset, 1, NULL, 0, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "set[0].key");
	static Exe__Access__V1__Setting many[65];
	static Exe__Access__V1__Setting *many_p[65];
	static char keys[65][16];
	for (int i = 0; i < 65; i++) {
		exe__access__v1__setting__init(&many[i]);
		snprintf(keys[i], sizeof keys[i], "k%d", i);
		many[i].key = keys[i];
		many[i].value = "v";
		many_p[i] = &many[i];
	}
	EXPECT_INT(update(&t.admin, t.ws, NULL, many_p, 65, NULL, 0, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_INT(update(&t.admin, t.ws, NULL, many_p, 64, NULL, 0, NULL, &err),
	    EXA_OK);
	Exe__Access__V1__Setting extra = EXE__ACCESS__V1__SETTING__INIT;
	extra.key = "one.more";
	extra.value = "v";
	Exe__Access__V1__Setting *extra_p[] = {&extra};
	EXPECT_INT(update(&t.admin, t.ws, NULL, extra_p, 1, NULL, 0, NULL, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_INT(harness_sql_long(&h, "SELECT count(*) FROM jsonb_object_keys("
	    "(SELECT settings FROM workspaces WHERE id = $1))", t.ws, NULL), 64);

	/* A personal workspace keeps its name. */
	EXPECT_INT(update(&member, member.workspace, "Renamed", NULL, 0, NULL,
	    0, NULL, &err), EXA_FAILED_PRECONDITION);
}

static void
team_workspaces_can_be_deleted_and_their_records_stay(void)
{
	struct team t;
	make_team(&t, "Doomed");
	struct fixture_user m;
	new_member(&t, "doomed", EXE__ACCESS__V1__ROLE__ROLE_MEMBER, &m);
	exa_error err;
	Exe__Access__V1__DeleteWorkspaceRequest del =
	    EXE__ACCESS__V1__DELETE_WORKSPACE_REQUEST__INIT;
	Exe__Access__V1__Principal pm = fixture_as_user(m.id),
	    pa = fixture_as_user(t.admin.id);
	del.workspace_id = t.ws;
	del.actor = &pm;
	Exe__Access__V1__WriteResponse *w = NULL;
	EXPECT_INT(exa_delete_workspace(h.client, &del, &w, &err),
	    EXA_PERMISSION_DENIED);
	del.actor = &pa;
	EXPECT_INT(exa_delete_workspace(h.client, &del, &w, &err), EXA_OK);
	if (w != NULL)
		saw(w->revision);
	exa_free(w);
	EXPECT(!allowed(&t.admin, "workspace.view", t.ws));
	EXPECT_INT(harness_sql_long(&h, "SELECT count(*) FROM memberships"
	    " WHERE workspace_id = $1", t.ws, NULL), 0);
	EXPECT(harness_sql_long(&h, "SELECT count(*) FROM activity"
	    " WHERE workspace_id = $1", t.ws, NULL) >= 3);
	Exe__Access__V1__GetWorkspaceRequest get =
	    EXE__ACCESS__V1__GET_WORKSPACE_REQUEST__INIT;
	get.actor = &pa;
	get.workspace_id = t.ws;
	Exe__Access__V1__GetWorkspaceResponse *g = NULL;
	EXPECT_INT(exa_get_workspace(h.client, &get, &g, &err), EXA_NOT_FOUND);
}

/* Who may create an organisation is the service's policy
 * (--org-creators): any user by default (the suite's daemon), or only the
 * users it lists (a second daemon on the same database). */
static void
who_creates_organisations_is_configured(void)
{
	struct fixture_user listed, other;
	fixture_sign_up(h.client, "creator", &listed);
	fixture_sign_up(h.client, "noncreator", &other);
	char flag[128];
	snprintf(flag, sizeof flag, "--org-creators=%s", listed.id);
	struct harness strict;
	harness_launch_replica(&strict, &h, (const char *const[]){flag, NULL});
	exa_error err;
	Exe__Access__V1__CreateOrganizationResponse *r = NULL;
	EXPECT_INT(fixture_create_org(strict.client, other.id, "Not Allowed",
	    &r, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "may not create organisations");
	EXPECT_CONTAINS(err.message, "--org-creators");
	EXPECT_INT(fixture_create_org(strict.client, listed.id, "Allowed", &r,
	    &err), EXA_OK);
	exa_free(r);
	r = NULL;
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM organizations WHERE name = 'Not Allowed'",
	    NULL), 0);
	/* The default daemon lets any user. */
	EXPECT_INT(fixture_create_org(h.client, other.id, "Anyone's", &r,
	    &err), EXA_OK);
	exa_free(r);
	EXPECT_INT(harness_stop(&strict), 0);
}

static const struct unit_case cases[] = {
    {"organisations keep an admin", organisations_keep_an_admin},
    {"organisation admins create teams", organisation_admins_create_teams},
    {"organisation admins manage members", organisation_admins_manage_members},
    {"personal workspaces have one member",
        personal_workspaces_have_one_member},
    {"last admin cannot be demoted or removed",
        last_admin_cannot_be_demoted_or_removed},
    {"strangers learn nothing of a workspace's kind",
        strangers_learn_nothing_of_a_workspaces_kind},
    {"who creates organisations is configured",
        who_creates_organisations_is_configured},
    {"changing a role to the one held changes nothing",
        changing_a_role_to_the_one_held_changes_nothing},
    {"concurrent admin removals keep an admin",
        concurrent_admin_removals_keep_an_admin},
    {"roles apply only inside their workspace",
        roles_apply_only_inside_their_workspace},
    {"admins update settings", admins_update_settings},
    {"team workspaces can be deleted and their records stay",
        team_workspaces_can_be_deleted_and_their_records_stay},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(&h, "teams", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
