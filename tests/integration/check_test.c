/* Check: the personal workspace's owner holds every permission (R2, R5),
 * nobody else holds any (R2, R13), denials say why (R12), API keys act in
 * their own workspace only and never manage it (R5, R10), and
 * at_least_as_fresh is honoured (SPEC §4). */
#include <stdio.h>
#include <string.h>

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

struct user {
	char id[40];
	char workspace[40];
	char key[64];
	unsigned long long revision;
};

static void
sign_up(const char *prefix, struct user *u)
{
	const char *name = harness_unique(prefix);
	char email[128];
	snprintf(email, sizeof email, "%s@example.com", name);
	Exe__Access__V1__CreateUserRequest req =
	    EXE__ACCESS__V1__CREATE_USER_REQUEST__INIT;
	req.username = (char *)name;
	req.email = email;
	Exe__Access__V1__CreateUserResponse *r = NULL;
	exa_error err;
	memset(u, 0, sizeof *u);
	if (exa_create_user(h.client, &req, &r, &err) != EXA_OK) {
		fprintf(stderr, "  sign-up of %s failed: %s\n", name, err.message);
		unit_case_failed = 1;
		return;
	}
	snprintf(u->id, sizeof u->id, "%s", r->user->id);
	snprintf(u->workspace, sizeof u->workspace, "%s",
	    r->personal_workspace->id);
	snprintf(u->key, sizeof u->key, "%s", r->api_key);
	u->revision = r->revision;
	exa_free(r);
}

/* check asks through the generic typed call, so any principal and target
 * can be tried; returns the status and fills *out on success. */
static exa_status
check(const char *user_id, const char *api_key, const char *permission,
    const char *workspace_id, const char *resource_type,
    const char *resource_id, unsigned long long fresh,
    Exe__Access__V1__CheckResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	if (user_id != NULL) {
		p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
		p.user_id = (char *)user_id;
	} else if (api_key != NULL) {
		p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
		p.api_key = (char *)api_key;
	}
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	Exe__Access__V1__CheckRequest req = EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &p;
	req.permission = (char *)permission;
	req.at_least_as_fresh = fresh;
	if (workspace_id != NULL) {
		req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
		req.workspace_id = (char *)workspace_id;
	} else if (resource_type != NULL) {
		req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
		ref.type = (char *)resource_type;
		ref.id = (char *)resource_id;
		req.resource = &ref;
	}
	*out = NULL;
	return exa_authz_check(h.client, &req, out, err);
}

static void
owner_holds_every_permission_in_personal_workspace(void)
{
	struct user u;
	sign_up("owner", &u);
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
	struct user owner, other;
	sign_up("priv", &owner);
	sign_up("nosy", &other);
	for (size_t i = 0; i < NPERMS; i++) {
		exa_decision d;
		exa_error err;
		EXPECT_INT(exa_check(h.client, other.id, all_permissions[i],
		    owner.workspace, &d, &err), EXA_OK);
		EXPECT(!d.allowed);
		EXPECT_INT(d.role, EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED);
		EXPECT_CONTAINS(d.reason, "personal workspace");
		EXPECT_CONTAINS(d.reason, other.id);
	}
}

static void
denials_say_why(void)
{
	struct user u;
	sign_up("why", &u);
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
	struct user stranger;
	sign_up("stranger", &stranger);
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
	EXPECT_INT(check(u.id, NULL, "experiment.view", NULL, "experiment",
	    "exp-unknown", 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "not registered");
	}
	exa_free(r);

	/* A registered resource is checked in its workspace. */
	harness_sql_long(&h,
	    "INSERT INTO resources (type, external_id, workspace_id)"
	    " VALUES ('experiment', 'exp-42', $1) RETURNING 0", team, NULL);
	EXPECT_INT(check(u.id, NULL, "experiment.view", NULL, "experiment",
	    "exp-42", 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->allowed);
		EXPECT_STR(r->workspace_id, team);
	}
	exa_free(r);
	EXPECT_INT(check(u.id, NULL, "experiment.delete", NULL, "experiment",
	    "exp-42", 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		/* A member may learn where the resource lives... */
		EXPECT_STR(r->workspace_id, team);
	}
	exa_free(r);
	/* ...a stranger may not. */
	EXPECT_INT(check(stranger.id, NULL, "experiment.view", NULL, "experiment",
	    "exp-42", 0, &r, &err), EXA_OK);
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
	struct user a, b;
	sign_up("keya", &a);
	sign_up("keyb", &b);
	Exe__Access__V1__CheckResponse *r;
	exa_error err;
	EXPECT_INT(check(NULL, a.key, "experiment.create", a.workspace, NULL,
	    NULL, 0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->allowed);
		EXPECT_INT(r->role, EXE__ACCESS__V1__ROLE__ROLE_MEMBER);
	}
	exa_free(r);
	/* The member column: no deletes, no management, even in its own
	 * personal workspace. */
	EXPECT_INT(check(NULL, a.key, "experiment.delete", a.workspace, NULL,
	    NULL, 0, &r, &err), EXA_OK);
	if (r != NULL)
		EXPECT(!r->allowed);
	exa_free(r);
	EXPECT_INT(check(NULL, a.key, "members.invite", a.workspace, NULL, NULL,
	    0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "API keys never hold members.invite");
	}
	exa_free(r);
	EXPECT_INT(check(NULL, a.key, "experiment.view", b.workspace, NULL, NULL,
	    0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "belongs to workspace");
	}
	exa_free(r);

	/* A mistyped key is refused by its checksum. */
	char typo[64];
	snprintf(typo, sizeof typo, "%s", a.key);
	typo[20] = typo[20] == 'A' ? 'B' : 'A';
	EXPECT_INT(check(NULL, typo, "experiment.view", a.workspace, NULL, NULL,
	    0, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(!r->allowed);
		EXPECT_CONTAINS(r->reason, "malformed");
	}
	exa_free(r);
}

static void
at_least_as_fresh_is_honoured(void)
{
	struct user u;
	sign_up("fresh", &u);
	Exe__Access__V1__CheckResponse *r;
	exa_error err;
	EXPECT_INT(check(u.id, NULL, "workspace.view", u.workspace, NULL, NULL,
	    u.revision, &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT(r->allowed);
		EXPECT(r->revision >= u.revision);
	}
	exa_free(r);
	EXPECT_INT(check(u.id, NULL, "workspace.view", u.workspace, NULL, NULL,
	    u.revision + 1000000, &r, &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "at_least_as_fresh");
}

static void
bad_checks_name_the_field(void)
{
	Exe__Access__V1__CheckResponse *r;
	exa_error err;
	const char *ws = "00000000-0000-4000-8000-000000000000";
	EXPECT_INT(check(ws, NULL, "experiment.fly", ws, NULL, NULL, 0, &r, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "permission");
	EXPECT_INT(check(NULL, NULL, "workspace.view", ws, NULL, NULL, 0, &r,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "principal");
	EXPECT_INT(check("bob", NULL, "workspace.view", ws, NULL, NULL, 0, &r,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "principal.user_id");
	EXPECT_INT(check(ws, NULL, "workspace.view", NULL, NULL, NULL, 0, &r,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "target");
	EXPECT_INT(check(ws, NULL, "workspace.view", NULL, "spaceship", "x", 0,
	    &r, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "resource.type");
	EXPECT_INT(check(ws, NULL, "workspace.view", "42", NULL, NULL, 0, &r,
	    &err), EXA_INVALID_ARGUMENT);
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
	harness_start(&h, "check", NULL);
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int status = harness_stop(&h);
	if (status != 0)
		fprintf(stderr, "exe-accessd exited with %d after SIGTERM\n", status);
	return failed == 0 && status == 0 ? 0 : 1;
}
