/* The registry of resources (SPEC R6, R5, R13): members register
 * experiments that every member of the team can then see; read_only
 * members cannot register, only admins delete experiments or touch
 * projects; (type, id) is unique across workspaces; an API key registers
 * as its own creator; listings are keyset-paged and never truncated; a
 * member of another team sees nothing. Driven through the client library
 * against a real exe-accessd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "unit/unit.h"

static struct harness h;

struct user {
	char id[40];
	char workspace[40]; /* personal */
};

/* A team: `admin` is its organisation's admin and the team's first admin;
 * `member` and `reader` hold member and read_only. */
struct team {
	struct user admin, member, reader;
	char org[40];
	char workspace[40];
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
		fprintf(
		    stderr, "  sign-up of %s failed: %s\n", name, err.message);
		unit_case_failed = 1;
		return;
	}
	snprintf(u->id, sizeof u->id, "%s", r->user->id);
	snprintf(u->workspace, sizeof u->workspace, "%s",
	    r->personal_workspace->id);
	exa_free(r);
}

static Exe__Access__V1__Principal
as_user(const struct user *u)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = (char *)u->id;
	return p;
}

static Exe__Access__V1__Principal
as_key(const char *secret)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
	p.api_key = (char *)secret;
	return p;
}

static void
add_member(struct team *t, const struct user *u, Exe__Access__V1__Role role)
{
	Exe__Access__V1__Principal actor = as_user(&t->admin);
	Exe__Access__V1__AddMemberRequest req =
	    EXE__ACCESS__V1__ADD_MEMBER_REQUEST__INIT;
	req.actor = &actor;
	req.workspace_id = t->workspace;
	req.user_id = (char *)u->id;
	req.role = role;
	Exe__Access__V1__MemberResponse *r = NULL;
	exa_error err;
	if (exa_add_member(h.client, &req, &r, &err) != EXA_OK) {
		fprintf(stderr, "  add member failed: %s\n", err.message);
		unit_case_failed = 1;
	}
	exa_free(r);
}

/* make_team signs up three people and builds their team through the
 * service: an organisation, a team workspace, two added members. */
static void
make_team(struct team *t)
{
	memset(t, 0, sizeof *t);
	sign_up("adm", &t->admin);
	sign_up("mem", &t->member);
	sign_up("ro", &t->reader);
	Exe__Access__V1__Principal actor = as_user(&t->admin);
	exa_error err;

	Exe__Access__V1__CreateOrganizationRequest org =
	    EXE__ACCESS__V1__CREATE_ORGANIZATION_REQUEST__INIT;
	org.actor = &actor;
	org.name = "Resources Org";
	Exe__Access__V1__CreateOrganizationResponse *o = NULL;
	if (exa_create_organization(h.client, &org, &o, &err) != EXA_OK) {
		fprintf(stderr, "  organisation: %s\n", err.message);
		unit_case_failed = 1;
		return;
	}
	snprintf(t->org, sizeof t->org, "%s", o->organization->id);
	exa_free(o);

	Exe__Access__V1__CreateTeamWorkspaceRequest ws =
	    EXE__ACCESS__V1__CREATE_TEAM_WORKSPACE_REQUEST__INIT;
	ws.actor = &actor;
	ws.organization_id = t->org;
	ws.name = "Resources Team";
	Exe__Access__V1__CreateTeamWorkspaceResponse *w = NULL;
	if (exa_create_team_workspace(h.client, &ws, &w, &err) != EXA_OK) {
		fprintf(stderr, "  team: %s\n", err.message);
		unit_case_failed = 1;
		return;
	}
	snprintf(t->workspace, sizeof t->workspace, "%s", w->workspace->id);
	exa_free(w);
	add_member(t, &t->member, EXE__ACCESS__V1__ROLE__ROLE_MEMBER);
	add_member(t, &t->reader, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY);
}

static exa_status
register_resource(const Exe__Access__V1__Principal *actor,
    const char *workspace_id, const char *type, const char *id,
    const char *name, Exe__Access__V1__RegisterResourceResponse **out,
    exa_error *err)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = (char *)type;
	ref.id = (char *)id;
	Exe__Access__V1__RegisterResourceRequest req =
	    EXE__ACCESS__V1__REGISTER_RESOURCE_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	req.resource = &ref;
	req.name = (char *)(name != NULL ? name : "");
	Exe__Access__V1__RegisterResourceResponse *r = NULL;
	exa_status rc = exa_register_resource(h.client, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

static exa_status
delete_resource(const Exe__Access__V1__Principal *actor, const char *type,
    const char *id, exa_error *err)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = (char *)type;
	ref.id = (char *)id;
	Exe__Access__V1__DeleteResourceRequest req =
	    EXE__ACCESS__V1__DELETE_RESOURCE_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.resource = &ref;
	Exe__Access__V1__WriteResponse *r = NULL;
	exa_status rc = exa_delete_resource(h.client, &req, &r, err);
	exa_free(r);
	return rc;
}

static exa_status
list_resources(const Exe__Access__V1__Principal *actor,
    const char *workspace_id, const char *type, uint32_t page_size,
    const char *token, Exe__Access__V1__ListResourcesResponse **out,
    exa_error *err)
{
	Exe__Access__V1__ListResourcesRequest req =
	    EXE__ACCESS__V1__LIST_RESOURCES_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	req.type = (char *)(type != NULL ? type : "");
	req.page_size = page_size;
	req.page_token = (char *)(token != NULL ? token : "");
	*out = NULL;
	return exa_list_resources(h.client, &req, out, err);
}

/* resource_check asks whether `actor` holds `permission` on the resource;
 * returns whether it is allowed and copies the reason and workspace. */
static bool
resource_check(const Exe__Access__V1__Principal *actor, const char *permission,
    const char *type, const char *id, char *reason, char *workspace_id)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = (char *)type;
	ref.id = (char *)id;
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = (Exe__Access__V1__Principal *)actor;
	req.permission = (char *)permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
	req.resource = &ref;
	Exe__Access__V1__CheckResponse *r = NULL;
	exa_error err;
	EXPECT_INT(exa_authz_check(h.client, &req, &r, &err), EXA_OK);
	bool allowed = r != NULL && r->allowed;
	if (reason != NULL)
		snprintf(reason, 320, "%s", r != NULL ? r->reason : "");
	if (workspace_id != NULL)
		snprintf(
		    workspace_id, 40, "%s", r != NULL ? r->workspace_id : "");
	exa_free(r);
	return allowed;
}

static void
member_registers_experiment_every_member_sees(void)
{
	struct team t;
	make_team(&t);
	struct user outsider;
	sign_up("out", &outsider);
	Exe__Access__V1__Principal member = as_user(&t.member);
	Exe__Access__V1__Principal reader = as_user(&t.reader);
	Exe__Access__V1__Principal admin = as_user(&t.admin);
	Exe__Access__V1__Principal stranger = as_user(&outsider);
	const char *id = harness_unique("exp-");
	Exe__Access__V1__RegisterResourceResponse *r = NULL;
	exa_error err;
	EXPECT_INT(register_resource(&member, t.workspace, "experiment", id,
	    "Yield study", &r, &err), EXA_OK);
	if (r == NULL)
		return;
	EXPECT_STR(r->resource->ref->type, "experiment");
	EXPECT_STR(r->resource->ref->id, id);
	EXPECT_STR(r->resource->workspace_id, t.workspace);
	EXPECT_STR(r->resource->name, "Yield study");
	EXPECT_STR(r->resource->created_by_user_id, t.member.id);
	EXPECT_STR(r->resource->created_by_api_key_id, "");
	EXPECT(r->resource->created_unix_ms > 0);
	EXPECT(r->revision > 0);

	/* R6: every member sees it, whatever their role. */
	char reason[320], ws[40];
	EXPECT(resource_check(&reader, "experiment.view", "experiment", id,
	    reason, ws));
	EXPECT_STR(ws, t.workspace);
	EXPECT(resource_check(&admin, "experiment.view", "experiment", id, NULL,
	    NULL));
	EXPECT(resource_check(
	    &member, "experiment.edit", "experiment", id, NULL, NULL));
	EXPECT(!resource_check(&reader, "experiment.edit", "experiment", id,
	    reason, NULL));
	EXPECT_CONTAINS(reason, "read_only");
	/* R13: nobody outside the team. */
	EXPECT(!resource_check(&stranger, "experiment.view", "experiment", id,
	    reason, NULL));
	EXPECT_CONTAINS(reason, "not a member");

	/* Recorded with the creator (R7). */
	char revision[32];
	snprintf(revision, sizeof revision, "%llu",
	    (unsigned long long)r->revision);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE type = 'experiment'"
	    " AND external_id = $1 AND workspace_id = $2"
	    " AND created_by_user = $3 AND created_by_key IS NULL",
	    id, t.workspace, t.member.id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE revision = $1::bigint"
	    " AND action = 'resource.registered' AND actor_user_id = $2"
	    " AND resource_type = 'experiment' AND resource_id = $3"
	    " AND workspace_id = $4", revision, t.member.id, id, t.workspace,
	    NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM change_log WHERE revision = $1::bigint"
	    " AND kind = 'resource' AND workspace_id = $2", revision,
	    t.workspace, NULL), 1);
	exa_free(r);
}

static void
read_only_cannot_register(void)
{
	struct team t;
	make_team(&t);
	Exe__Access__V1__Principal reader = as_user(&t.reader);
	Exe__Access__V1__Principal member = as_user(&t.member);
	Exe__Access__V1__Principal admin = as_user(&t.admin);
	const char *id = harness_unique("exp-");
	exa_error err;
	EXPECT_INT(register_resource(&reader, t.workspace, "experiment", id,
	               NULL, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role read_only");
	EXPECT_CONTAINS(err.message, "experiment.create");
	EXPECT_INT(register_resource(&reader, t.workspace, "dataset", id, NULL,
	    NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "dataset.create");
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1", id, NULL),
	    0);

	/* Projects are the admins' (R5). */
	EXPECT_INT(register_resource(&member, t.workspace, "project", id, NULL,
	    NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "project.create");
	EXPECT_INT(register_resource(&admin, t.workspace, "project", id, NULL,
	    NULL, &err), EXA_OK);
	EXPECT_INT(register_resource(&member, t.workspace, "dataset", id, NULL,
	    NULL, &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1", id, NULL),
	    2);
}

static void
only_admins_delete_experiments(void)
{
	struct team t;
	make_team(&t);
	struct user outsider;
	sign_up("out", &outsider);
	Exe__Access__V1__Principal member = as_user(&t.member);
	Exe__Access__V1__Principal admin = as_user(&t.admin);
	Exe__Access__V1__Principal stranger = as_user(&outsider);
	const char *id = harness_unique("exp-");
	exa_error err;
	EXPECT_INT(register_resource(&member, t.workspace, "experiment", id,
	               NULL, NULL, &err),
	    EXA_OK);

	EXPECT_INT(delete_resource(&member, "experiment", id, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role member");
	EXPECT_CONTAINS(err.message, "experiment.delete");
	EXPECT_INT(delete_resource(&stranger, "experiment", id, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "not a member");
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1", id, NULL),
	    1);

	EXPECT_INT(delete_resource(&admin, "experiment", id, &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1", id, NULL),
	    0);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE action = 'resource.deleted'"
	    " AND actor_user_id = $1 AND resource_id = $2", t.admin.id, id,
	    NULL), 1);
	char reason[320];
	EXPECT(!resource_check(&member, "experiment.view", "experiment", id,
	    reason, NULL));
	EXPECT_CONTAINS(reason, "not registered");
	EXPECT_INT(delete_resource(&admin, "experiment", id, &err),
	    EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "not registered");
}

static void
duplicates_are_refused_in_any_workspace(void)
{
	struct team t, other;
	make_team(&t);
	make_team(&other);
	Exe__Access__V1__Principal member = as_user(&t.member);
	Exe__Access__V1__Principal other_member = as_user(&other.member);
	const char *id = harness_unique("exp-");
	exa_error err;
	EXPECT_INT(register_resource(&member, t.workspace, "experiment", id,
	               NULL, NULL, &err),
	    EXA_OK);
	EXPECT_INT(register_resource(&member, t.workspace, "experiment", id,
	    "again", NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, "already registered");
	EXPECT_INT(register_resource(&other_member, other.workspace,
	    "experiment", id, NULL, NULL, &err), EXA_ALREADY_EXISTS);
	/* The refusal does not say where the other one lives. */
	EXPECT(strstr(err.message, t.workspace) == NULL);
	/* Unique is (type, id): a dataset may share the id. */
	EXPECT_INT(register_resource(&other_member, other.workspace, "dataset",
	    id, NULL, NULL, &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1", id, NULL),
	    2);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1"
	    " AND type = 'experiment' AND workspace_id = $2", id, t.workspace,
	    NULL), 1);
}

static void
api_key_registers_as_creator(void)
{
	struct team t;
	make_team(&t);
	Exe__Access__V1__Principal admin = as_user(&t.admin);
	Exe__Access__V1__RotateApiKeyRequest rot =
	    EXE__ACCESS__V1__ROTATE_API_KEY_REQUEST__INIT;
	rot.actor = &admin;
	rot.workspace_id = t.workspace;
	Exe__Access__V1__RotateApiKeyResponse *key = NULL;
	exa_error err;
	EXPECT_INT(exa_rotate_api_key(h.client, &rot, &key, &err), EXA_OK);
	if (key == NULL)
		return;
	Exe__Access__V1__Principal by_key = as_key(key->secret);
	const char *id = harness_unique("ds-");
	Exe__Access__V1__RegisterResourceResponse *r = NULL;
	EXPECT_INT(register_resource(&by_key, t.workspace, "dataset", id,
	    "Raw data", &r, &err), EXA_OK);
	if (r != NULL) {
		EXPECT_STR(
		    r->resource->created_by_api_key_id, key->key->key_id);
		EXPECT_STR(r->resource->created_by_user_id, "");
	}
	exa_free(r);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1"
	    " AND created_by_key = $2 AND created_by_user IS NULL", id,
	    key->key->key_id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE action = 'resource.registered'"
	    " AND resource_id = $1 AND actor_api_key_id = $2"
	    " AND actor_user_id IS NULL", id, key->key->key_id, NULL), 1);

	/* The key acts with the member column: no projects, no deletes. */
	const char *pid = harness_unique("prj-");
	EXPECT_INT(register_resource(&by_key, t.workspace, "project", pid, NULL,
	    NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "project.create");
	EXPECT_INT(delete_resource(&by_key, "dataset", id, &err),
	    EXA_PERMISSION_DENIED);
	/* A key of another workspace cannot register here. */
	struct user u;
	sign_up("other", &u);
	EXPECT_INT(register_resource(&by_key, u.workspace, "dataset",
	    harness_unique("ds-"), NULL, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "belongs to workspace");

	/* A read-only key cannot register at all. */
	rot.read_only = true;
	Exe__Access__V1__RotateApiKeyResponse *ro = NULL;
	EXPECT_INT(exa_rotate_api_key(h.client, &rot, &ro, &err), EXA_OK);
	if (ro != NULL) {
		Exe__Access__V1__Principal by_ro = as_key(ro->secret);
		EXPECT_INT(register_resource(&by_ro, t.workspace, "dataset",
		    harness_unique("ds-"), NULL, NULL, &err),
		    EXA_PERMISSION_DENIED);
		EXPECT_CONTAINS(err.message, "read-only");
	}
	exa_free(ro);
	exa_free(key);
}

static void
paging_returns_every_resource_once(void)
{
	enum { N = 25, DATASETS = 3 };
	struct team t;
	make_team(&t);
	Exe__Access__V1__Principal member = as_user(&t.member);
	Exe__Access__V1__Principal reader = as_user(&t.reader);
	char ids[N][48];
	const char *stem = harness_unique("pg");
	exa_error err;
	for (int i = 0; i < N; i++) {
		/* Registered out of order; listed in id order. */
		snprintf(ids[i], sizeof ids[i], "%s-%02d", stem, (i * 7) % N);
		EXPECT_INT(register_resource(&member, t.workspace, "experiment",
		    ids[i], NULL, NULL, &err), EXA_OK);
	}
	for (int i = 0; i < DATASETS; i++) {
		char id[48];
		snprintf(id, sizeof id, "%s-ds%d", stem, i);
		EXPECT_INT(register_resource(&member, t.workspace, "dataset",
		               id, NULL, NULL, &err),
		    EXA_OK);
	}

	int seen[N] = {0};
	int total = 0, pages = 0;
	char token[512] = "", last[64] = "";
	do {
		Exe__Access__V1__ListResourcesResponse *page = NULL;
		EXPECT_INT(list_resources(&reader, t.workspace, "experiment",
		               10, token, &page, &err),
		    EXA_OK);
		if (page == NULL)
			break;
		pages++;
		EXPECT(page->n_resources == 10 ||
		       page->next_page_token[0] == '\0');
		for (size_t i = 0; i < page->n_resources; i++) {
			const Exe__Access__V1__Resource *r = page->resources[i];
			EXPECT_STR(r->ref->type, "experiment");
			EXPECT_STR(r->workspace_id, t.workspace);
			EXPECT(strcmp(r->ref->id, last) > 0);
			snprintf(last, sizeof last, "%s", r->ref->id);
			size_t stem_len = strlen(stem);
			if (strncmp(r->ref->id, stem, stem_len) == 0) {
				int n = atoi(r->ref->id + stem_len + 1);
				if (n >= 0 && n < N)
					seen[n]++;
			}
			total++;
		}
		snprintf(token, sizeof token, "%s", page->next_page_token);
		exa_free(page);
	} while (token[0] != '\0' && pages < 10);
	EXPECT_INT(pages, 3);
	EXPECT_INT(total, N);
	for (int i = 0; i < N; i++)
		EXPECT_INT(seen[i], 1);

	/* Without a type, every resource; a page size of 10 again. */
	total = 0;
	pages = 0;
	token[0] = '\0';
	do {
		Exe__Access__V1__ListResourcesResponse *page = NULL;
		EXPECT_INT(list_resources(&reader, t.workspace, NULL, 10, token,
		    &page, &err), EXA_OK);
		if (page == NULL)
			break;
		pages++;
		total += (int)page->n_resources;
		snprintf(token, sizeof token, "%s", page->next_page_token);
		if (pages == 1) {
			/* Page 1 ends in the experiments (datasets sort
			 * first): its cursor is no good for projects. */
			Exe__Access__V1__ListResourcesResponse *bad = NULL;
			EXPECT_INT(list_resources(&reader, t.workspace,
			               "project", 10, token, &bad, &err),
			    EXA_INVALID_ARGUMENT);
			EXPECT(strncmp(err.message, "page_token", 10) == 0);
			exa_free(bad);
		}
		exa_free(page);
	} while (token[0] != '\0' && pages < 10);
	EXPECT_INT(total, N + DATASETS);
	EXPECT_INT(pages, 3);

	/* One page that holds everything has no token. */
	Exe__Access__V1__ListResourcesResponse *all = NULL;
	EXPECT_INT(list_resources(
	               &reader, t.workspace, "dataset", 0, NULL, &all, &err),
	    EXA_OK);
	if (all != NULL) {
		EXPECT_INT(all->n_resources, DATASETS);
		EXPECT_STR(all->next_page_token, "");
	}
	exa_free(all);
}

static void
another_team_sees_nothing(void)
{
	struct team t, other;
	make_team(&t);
	make_team(&other);
	Exe__Access__V1__Principal member = as_user(&t.member);
	Exe__Access__V1__Principal outsider = as_user(&other.member);
	exa_error err;
	for (int i = 0; i < 3; i++)
		EXPECT_INT(register_resource(&member, t.workspace, "experiment",
		    harness_unique("exp-"), NULL, NULL, &err), EXA_OK);

	Exe__Access__V1__ListResourcesResponse *page = NULL;
	EXPECT_INT(list_resources(&outsider, t.workspace, NULL, 0, NULL, &page,
	    &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "not a member");
	EXPECT_INT(list_resources(&outsider, t.workspace, "experiment", 0, NULL,
	    &page, &err), EXA_PERMISSION_DENIED);
	EXPECT_INT(list_resources(&outsider, other.workspace, NULL, 0, NULL,
	    &page, &err), EXA_OK);
	if (page != NULL)
		EXPECT_INT(page->n_resources, 0);
	exa_free(page);
	page = NULL;
	EXPECT_INT(list_resources(&member, t.workspace, NULL, 0, NULL, &page,
	    &err), EXA_OK);
	if (page != NULL)
		EXPECT_INT(page->n_resources, 3);
	exa_free(page);
	/* Nor can they register into it. */
	EXPECT_INT(register_resource(&outsider, t.workspace, "experiment",
	    harness_unique("exp-"), NULL, NULL, &err), EXA_PERMISSION_DENIED);
}

struct bad_register {
	const char *workspace_id;
	const char *type;
	const char *id;
	const char *name;
	const char *field;
};

static void
bad_requests_name_the_field(void)
{
	struct team t;
	make_team(&t);
	Exe__Access__V1__Principal member = as_user(&t.member);
	char long_id[210], long_name[210];
	memset(long_id, 'i', 201);
	long_id[201] = '\0';
	memset(long_name, 'n', 201);
	long_name[201] = '\0';
	const struct bad_register cases[] = {
	    {"nope", "experiment", "x", NULL, "workspace_id"},
	    {"", "experiment", "x", NULL, "workspace_id"},
	    {t.workspace, "spaceship", "x", NULL, "resource.type"},
	    {t.workspace, "", "x", NULL, "resource.type"},
	    {t.workspace, "experiment", "", NULL, "resource.id"},
	    {t.workspace, "experiment", long_id, NULL, "resource.id"},
	    {t.workspace, "experiment", "tab\there", NULL, "resource.id"},
	    {t.workspace, "experiment", "bad\xc3\x28utf8", NULL, "resource.id"},
	    {t.workspace, "experiment", "x", long_name, "name"},
	    {t.workspace, "experiment", "x", "bad \xed\xa0\x80", "name"},
	};
	exa_error err;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		exa_status rc =
		    register_resource(&member, cases[i].workspace_id,
		        cases[i].type, cases[i].id, cases[i].name, NULL, &err);
		EXPECT_INT(rc, EXA_INVALID_ARGUMENT);
		if (rc == EXA_INVALID_ARGUMENT &&
		    strncmp(err.message, cases[i].field,
		        strlen(cases[i].field)) != 0) {
			fprintf(stderr,
			    "  case %zu: message \"%s\" does not start "
			    "with \"%s\"\n",
			    i, err.message, cases[i].field);
			unit_case_failed = 1;
		}
	}
	/* 200 bytes of id is the limit, and allowed. */
	long_id[200] = '\0';
	EXPECT_INT(register_resource(&member, t.workspace, "experiment",
	               long_id, NULL, NULL, &err),
	    EXA_OK);

	Exe__Access__V1__DeleteResourceRequest del =
	    EXE__ACCESS__V1__DELETE_RESOURCE_REQUEST__INIT;
	del.actor = &member;
	Exe__Access__V1__WriteResponse *w = NULL;
	EXPECT_INT(exa_delete_resource(h.client, &del, &w, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "resource", 8) == 0);
	EXPECT_INT(delete_resource(&member, "spaceship", "x", &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "resource.type", 13) == 0);

	Exe__Access__V1__ListResourcesResponse *page = NULL;
	EXPECT_INT(list_resources(&member, t.workspace, "spaceship", 0, NULL,
	    &page, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "type", 4) == 0);
	EXPECT_INT(list_resources(&member, t.workspace, NULL, 1001, NULL, &page,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "page_size", 9) == 0);
	EXPECT_INT(list_resources(&member, t.workspace, NULL, 0,
	    "definitely not a token", &page, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "page_token", 10) == 0);
	EXPECT_INT(list_resources(&member, "42", NULL, 0, NULL, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id", 12) == 0);
	EXPECT_INT(
	    list_resources(&member, "00000000-0000-4000-8000-000000000000",
	        NULL, 0, NULL, &page, &err),
	    EXA_NOT_FOUND);
}

static const struct unit_case cases[] = {
    {"a member registers an experiment every member sees",
        member_registers_experiment_every_member_sees},
    {"read_only cannot register", read_only_cannot_register},
    {"only admins delete experiments", only_admins_delete_experiments},
    {"duplicates are refused in any workspace",
        duplicates_are_refused_in_any_workspace},
    {"an API key registers as the creator", api_key_registers_as_creator},
    {"paging returns every resource once",
        paging_returns_every_resource_once},
    {"another team sees nothing", another_team_sees_nothing},
    {"bad requests name the field", bad_requests_name_the_field},
};

UNIT_STATE

int
main(void)
{
	harness_start(&h, "resources", NULL);
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int status = harness_stop(&h);
	if (status != 0)
		fprintf(stderr, "exe-accessd exited with %d after SIGTERM\n",
		    status);
	return failed == 0 && status == 0 ? 0 : 1;
}
