/* Check: the personal workspace's owner holds every permission (R2, R5),
 * nobody else holds any (R2, R13), denials say why (R12), API keys act in
 * their own workspace only and never manage it (R5, R10), and
 * at_least_as_fresh is honoured (SPEC §4). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

/* Every permission of SPEC R5, spelled out here independently of the
 * service's table. */
static const char *const all_permissions[] = {
    "workspace.view", "members.view", "activity.view", "experiment.view",
    "dataset.view", "project.view", "experiment.create", "experiment.edit",
    "dataset.create", "dataset.edit", "optimization.run", "measurement.add",
    "experiment.delete", "dataset.delete", "project.create", "project.edit",
    "project.delete", "members.invite", "members.remove", "api_key.view",
    "api_key.rotate", "workspace.settings.update", "workspace.delete",
};
enum { NPERMS = sizeof all_permissions / sizeof all_permissions[0] };

static void
owner_holds_every_permission_in_personal_workspace(void)
{
	struct fixture_user u;
	fixture_sign_up(h.client, "owner", &u);
	for (size_t i = 0; i < NPERMS; i++) {
		exa_decision d;
		exa_error err;
		EXPECT_INT(exa_check(h.client, u.id, all_permissions[i],
		    u.workspace, &d, &err), EXA_OK);
		if (!d.allowed)
			fprintf(stderr, "  owner denied %s: %s\n",
			    all_permissions[i], d.reason);
		EXPECT(d.allowed);
		EXPECT_INT(d.role, EXE__ACCESS__V1__ROLE__ROLE_ADMIN);
		EXPECT(d.revision >= u.revision);
	}
}

static void
nobody_else_sees_anything_in_a_personal_workspace(void)
{
	struct fixture_user owner, other;
	fixture_sign_up(h.client, "priv", &owner);
	fixture_sign_up(h.client, "nosy", &other);
	for (size_t i = 0; i < NPERMS; i++) {
		exa_decision d;
		exa_error err;
		EXPECT_INT(exa_check(h.client, other.id, all_permissions[i],
		    owner.workspace, &d, &err), EXA_OK);
		EXPECT(!d.allowed);
		EXPECT_INT(d.role, EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED);
		/* The reason a stranger to a team gets: it does not tell
		 * them that the workspace is someone's personal one. */
		EXPECT_CONTAINS(d.reason, other.id);
		EXPECT_CONTAINS(d.reason, "is not a member of workspace");
		EXPECT(strstr(d.reason, "personal") == NULL);
		EXPECT(strstr(d.reason, "owner") == NULL);
	}
}

static void
denials_say_why(void)
{
	struct fixture_user u;
	fixture_sign_up(h.client, "why", &u);
	/* A read_only member of a team, set up directly in the database. */
	char team[40] = "";
	{
		PGresult *res = PQexecParams(h.db,
		    "WITH o AS (INSERT INTO organizations (name) VALUES ('O')"
		    "           RETURNING id),"
		    " w AS (INSERT INTO workspaces (kind, name, organization_id)"
		    "       SELECT 'team', 'Team R', id FROM o RETURNING id),"
		    " m AS (INSERT INTO memberships (workspace_id, user_id, role)"
		    "       SELECT id, $1, 'read_only' FROM w)"
		    " SELECT id FROM w", 1, NULL, (const char *const[]){u.id},
		    NULL, NULL, 0);
		EXPECT_INT(PQresultStatus(res), PGRES_TUPLES_OK);
		if (PQntuples(res) == 1)
			snprintf(team, sizeof team, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	exa_decision d;
	exa_error err;
	EXPECT_INT(exa_check(h.client, u.id, "experiment.view", team, &d, &err),
	    EXA_OK);
	EXPECT(d.allowed);
	EXPECT_INT(exa_check(h.client, u.id, "experiment.create", team, &d, &err),
	    EXA_OK);
	EXPECT(!d.allowed);
	EXPECT_INT(d.role, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY);
	EXPECT_CONTAINS(d.reason, "read_only");
	EXPECT_CONTAINS(d.reason, "experiment.create");
	EXPECT_CONTAINS(d.reason, "admin or member");

	/* R13: a role in the team grants nothing elsewhere. */
	struct fixture_user stranger;
	fixture_sign_up(h.client, "stranger", &stranger);
	EXPECT_INT(exa_check(h.client, stranger.id, "workspace.view", team, &d,
	    &err), EXA_OK);
	EXPECT(!d.allowed);
	EXPECT_CONTAINS(d.reason, "not a member");
	EXPECT_INT(exa_check(h.client, u.id, "workspace.view",
	    stranger.workspace, &d, &err), EXA_OK);
	EXPECT(!d.allowed);

	EXPECT_INT(exa_check(h.client, u.id, "workspace.view",
	    "00000000-0000-4000-8000-000000000000", &d, &err), EXA_OK);
	EXPECT(!d.allowed);
	EXPECT_CONTAINS(d.reason, "does not exist");

	Exe__Access__V1__CheckResponse *r;
	EXPECT_INT(fixture_check(h.client, u.id, NULL, "experiment.view", NULL,
	    "experiment", "exp-unknown", 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "not registered");
	}
	exa_free(r);

	/* A registered resource is checked in its workspace. */
	harness_sql_long(&h,
	    "INSERT INTO resources (type, external_id, workspace_id)"
	    " VALUES ('experiment', 'exp-42', $1) RETURNING 0", team, NULL);
	EXPECT_INT(fixture_check(h.client, u.id, NULL, "experiment.view", NULL,
	    "experiment", "exp-42", 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->allowed);
		EXPECT_STR(r->workspace_id, team);
	}
	exa_free(r);
	EXPECT_INT(fixture_check(h.client, u.id, NULL, "experiment.delete",
	    NULL, "experiment", "exp-42", 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		/* A member may learn where the resource lives... */
		EXPECT_STR(r->workspace_id, team);
	}
	exa_free(r);
	/* ...a stranger may not. */
	EXPECT_INT(fixture_check(h.client, stranger.id, NULL, "experiment.view",
	    NULL, "experiment", "exp-42", 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_STR(r->workspace_id, "");
		EXPECT(strstr(r->reason, team) == NULL);
		EXPECT_CONTAINS(r->reason, "not a member of the workspace that holds");
	}
	exa_free(r);
}

static void
api_keys_act_in_their_workspace_only(void)
{
	struct fixture_user a, b;
	fixture_sign_up(h.client, "keya", &a);
	fixture_sign_up(h.client, "keyb", &b);
	Exe__Access__V1__CheckResponse *r;
	exa_error err;
	EXPECT_INT(fixture_check(h.client, NULL, a.key, "experiment.create",
	    a.workspace, NULL, NULL, 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->allowed);
		EXPECT_INT(r->role, EXE__ACCESS__V1__ROLE__ROLE_MEMBER);
	}
	exa_free(r);
	/* Its own workspace named in capitals is still its own. */
	char upper[37];
	for (size_t i = 0; i < sizeof upper; i++)
		upper[i] = (char)toupper((unsigned char)a.workspace[i]);
	EXPECT_INT(fixture_check(h.client, NULL, a.key, "experiment.create",
	    upper, NULL, NULL, 0, &r, &err), EXA_OK);
	if (r != NULL)
		EXPECT(r->allowed);
	exa_free(r);
	/* The member column: no deletes, no management, even in its own
	 * personal workspace. */
	EXPECT_INT(fixture_check(h.client, NULL, a.key, "experiment.delete",
	    a.workspace, NULL, NULL, 0, &r, &err), EXA_OK);
	if (r != NULL)
		EXPECT(!r->allowed);
	exa_free(r);
	EXPECT_INT(fixture_check(h.client, NULL, a.key, "members.invite",
	    a.workspace, NULL, NULL, 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "API keys never hold members.invite");
	}
	exa_free(r);
	EXPECT_INT(fixture_check(h.client, NULL, a.key, "experiment.view",
	    b.workspace, NULL, NULL, 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "belongs to workspace");
	}
	exa_free(r);

	/* A mistyped key is refused by its checksum. */
	char typo[64];
	snprintf(typo, sizeof typo, "%s", a.key);
	typo[20] = typo[20] == 'A' ? 'B' : 'A';
	EXPECT_INT(fixture_check(h.client, NULL, typo, "experiment.view",
	    a.workspace, NULL, NULL, 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "malformed");
	}
	exa_free(r);
}

static void
at_least_as_fresh_is_honoured(void)
{
	struct fixture_user u;
	fixture_sign_up(h.client, "fresh", &u);
	Exe__Access__V1__CheckResponse *r;
	exa_error err;
	EXPECT_INT(fixture_check(h.client, u.id, NULL, "workspace.view",
	    u.workspace, NULL, NULL, u.revision, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->allowed);
		EXPECT(r->revision >= u.revision);
	}
	exa_free(r);
	EXPECT_INT(fixture_check(h.client, u.id, NULL, "workspace.view",
	    u.workspace, NULL, NULL, u.revision + 1000000, &r, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "at_least_as_fresh");
}

static void
bad_checks_name_the_field(void)
{
	Exe__Access__V1__CheckResponse *r;
	exa_error err;
	const char *ws = "00000000-0000-4000-8000-000000000000";
	EXPECT_INT(fixture_check(h.client, ws, NULL, "experiment.fly", ws, NULL,
	    NULL, 0, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "permission");
	EXPECT_INT(fixture_check(h.client, NULL, NULL, "workspace.view", ws,
	    NULL, NULL, 0, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "principal");
	EXPECT_INT(fixture_check(h.client, "bob", NULL, "workspace.view", ws,
	    NULL, NULL, 0, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "principal.user_id");
	EXPECT_INT(fixture_check(h.client, ws, NULL, "workspace.view", NULL,
	    NULL, NULL, 0, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "target");
	EXPECT_INT(fixture_check(h.client, ws, NULL, "workspace.view", NULL,
	    "spaceship", "x", 0, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "resource.type");
	EXPECT_INT(fixture_check(h.client, ws, NULL, "workspace.view", "42",
	    NULL, NULL, 0, &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "workspace_id");
}

static const struct unit_case cases[] = {
    {"owner holds every permission in personal workspace",
        owner_holds_every_permission_in_personal_workspace},
    {"nobody else sees anything in a personal workspace",
        nobody_else_sees_anything_in_a_personal_workspace},
    {"denials say why", denials_say_why},
    {"API keys act in their workspace only",
        api_keys_act_in_their_workspace_only},
    {"at_least_as_fresh is honoured", at_least_as_fresh_is_honoured},
    {"bad checks name the field", bad_checks_name_the_field},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(&h, "check", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
