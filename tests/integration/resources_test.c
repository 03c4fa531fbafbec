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

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

/* make_team: three people and their team, built through the service (see
 * fixture_team_make). */
static void
make_team(struct fixture_team *t)
{
	fixture_team_make(h.client, "Resources Org", "Resources Team", t);
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

/* resource_check asks whether the user holds `permission` on the resource;
 * returns whether it is allowed and copies the reason and workspace. */
static bool
resource_check(const char *user_id, const char *permission, const char *type,
    const char *id, char *reason, char *workspace_id)
{
	Exe__Access__V1__CheckResponse *r = NULL;
	exa_error err;
	EXPECT_INT(fixture_check(h.client, user_id, NULL, permission, NULL,
	    type, id, 0, &r, &err), EXA_OK);
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
	struct fixture_team t;
	make_team(&t);
	struct fixture_user outsider;
	fixture_sign_up(h.client, "out", &outsider);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	const char *id = harness_unique("exp-");
	Exe__Access__V1__RegisterResourceResponse *r = NULL;
	exa_error err;
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	    "experiment", id, "Yield study", &r, &err), EXA_OK);
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
	EXPECT(resource_check(t.reader.id, "experiment.view", "experiment", id,
	    reason, ws));
	EXPECT_STR(ws, t.workspace);
	EXPECT(resource_check(t.admin.id, "experiment.view", "experiment", id,
	    NULL, NULL));
	EXPECT(resource_check(
	    t.member.id, "experiment.edit", "experiment", id, NULL, NULL));
	EXPECT(!resource_check(t.reader.id, "experiment.edit", "experiment", id,
	    reason, NULL));
	EXPECT_CONTAINS(reason, "read_only");
	/* R13: nobody outside the team. */
	EXPECT(!resource_check(outsider.id, "experiment.view", "experiment", id,
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
	struct fixture_team t;
	make_team(&t);
	Exe__Access__V1__Principal reader = fixture_as_user(t.reader.id);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	const char *id = harness_unique("exp-");
	exa_error err;
	EXPECT_INT(fixture_register_resource(h.client, &reader, t.workspace,
	    "experiment", id, NULL, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role read_only");
	EXPECT_CONTAINS(err.message, "experiment.create");
	EXPECT_INT(fixture_register_resource(h.client, &reader, t.workspace,
	    "dataset", id, NULL, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "dataset.create");
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1", id, NULL),
	    0);

	/* Projects are the admins' (R5). */
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	    "project", id, NULL, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "project.create");
	EXPECT_INT(fixture_register_resource(h.client, &admin, t.workspace,
	    "project", id, NULL, NULL, &err), EXA_OK);
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	    "dataset", id, NULL, NULL, &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM resources WHERE external_id = $1", id, NULL),
	    2);
}

static void
only_admins_delete_experiments(void)
{
	struct fixture_team t;
	make_team(&t);
	struct fixture_user outsider;
	fixture_sign_up(h.client, "out", &outsider);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	Exe__Access__V1__Principal stranger = fixture_as_user(outsider.id);
	const char *id = harness_unique("exp-");
	exa_error err;
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	    "experiment", id, NULL, NULL, &err), EXA_OK);

	EXPECT_INT(delete_resource(&member, "experiment", id, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role member");
	EXPECT_CONTAINS(err.message, "experiment.delete");
	/* A stranger to the team hears what they would of an unregistered
	 * resource: neither that it is registered nor where. */
	EXPECT_INT(delete_resource(&stranger, "experiment", id, &err),
	    EXA_NOT_FOUND);
	char stranger_msg[sizeof err.message];
	snprintf(stranger_msg, sizeof stranger_msg, "%s", err.message);
	EXPECT(strstr(stranger_msg, t.workspace) == NULL);
	char ghost[64];
	snprintf(ghost, sizeof ghost, "%s", id);
	ghost[strlen(ghost) - 1] = ghost[strlen(ghost) - 1] == 'z' ? 'y' : 'z';
	EXPECT_INT(delete_resource(&stranger, "experiment", ghost, &err),
	    EXA_NOT_FOUND);
	/* The same words, but for the id. */
	char *at = strstr(err.message, ghost);
	EXPECT(at != NULL);
	if (at != NULL) {
		memcpy(at, id, strlen(id));
		EXPECT_STR(err.message, stranger_msg);
	}
	/* A key of another workspace is a stranger too. */
	Exe__Access__V1__Principal other_key = fixture_as_key(outsider.key);
	EXPECT_INT(delete_resource(&other_key, "experiment", id, &err),
	    EXA_NOT_FOUND);
	EXPECT(strstr(err.message, t.workspace) == NULL);
	Exe__Access__V1__Principal reader = fixture_as_user(t.reader.id);
	EXPECT_INT(delete_resource(&reader, "experiment", id, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role read_only");
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
	EXPECT(!resource_check(t.member.id, "experiment.view", "experiment", id,
	    reason, NULL));
	EXPECT_CONTAINS(reason, "not registered");
	EXPECT_INT(delete_resource(&admin, "experiment", id, &err),
	    EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "not registered");
}

static void
duplicates_are_refused_in_any_workspace(void)
{
	struct fixture_team t, other;
	make_team(&t);
	make_team(&other);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal other_member =
	    fixture_as_user(other.member.id);
	const char *id = harness_unique("exp-");
	exa_error err;
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	    "experiment", id, NULL, NULL, &err), EXA_OK);
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	    "experiment", id, "again", NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, "already registered");
	EXPECT_INT(fixture_register_resource(h.client, &other_member,
	    other.workspace, "experiment", id, NULL, NULL, &err),
	    EXA_ALREADY_EXISTS);
	/* The refusal does not say where the other one lives. */
	EXPECT(strstr(err.message, t.workspace) == NULL);
	/* Unique is (type, id): a dataset may share the id. */
	EXPECT_INT(fixture_register_resource(h.client, &other_member,
	    other.workspace, "dataset", id, NULL, NULL, &err), EXA_OK);
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
	struct fixture_team t;
	make_team(&t);
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	Exe__Access__V1__RotateApiKeyResponse *key = NULL;
	exa_error err;
	EXPECT_INT(fixture_rotate_key(h.client, &admin, t.workspace, 0, false,
	    &key, &err), EXA_OK);
	if (key == NULL)
		return;
	Exe__Access__V1__Principal by_key = fixture_as_key(key->secret);
	const char *id = harness_unique("ds-");
	Exe__Access__V1__RegisterResourceResponse *r = NULL;
	EXPECT_INT(fixture_register_resource(h.client, &by_key, t.workspace,
	    "dataset", id, "Raw data", &r, &err), EXA_OK);
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
	EXPECT_INT(fixture_register_resource(h.client, &by_key, t.workspace,
	    "project", pid, NULL, NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "project.create");
	EXPECT_INT(delete_resource(&by_key, "dataset", id, &err),
	    EXA_PERMISSION_DENIED);
	/* A key of another workspace cannot register here. */
	struct fixture_user u;
	fixture_sign_up(h.client, "other", &u);
	EXPECT_INT(fixture_register_resource(h.client, &by_key, u.workspace,
	    "dataset", harness_unique("ds-"), NULL, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "belongs to workspace");

	/* A read-only key cannot register at all. */
	Exe__Access__V1__RotateApiKeyResponse *ro = NULL;
	EXPECT_INT(fixture_rotate_key(h.client, &admin, t.workspace, 0, true,
	    &ro, &err), EXA_OK);
	if (ro != NULL) {
		Exe__Access__V1__Principal by_ro = fixture_as_key(ro->secret);
		EXPECT_INT(fixture_register_resource(h.client, &by_ro,
		    t.workspace, "dataset", harness_unique("ds-"), NULL, NULL,
		    &err), EXA_PERMISSION_DENIED);
		EXPECT_CONTAINS(err.message, "read-only");
	}
	exa_free(ro);
	exa_free(key);
}

static void
paging_returns_every_resource_once(void)
{
	enum { N = 25, DATASETS = 3 };
	struct fixture_team t;
	make_team(&t);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal reader = fixture_as_user(t.reader.id);
	char ids[N][48];
	const char *stem = harness_unique("pg");
	exa_error err;
	for (int i = 0; i < N; i++) {
		/* Registered out of order; listed in id order. */
		snprintf(ids[i], sizeof ids[i], "%s-%02d", stem, (i * 7) % N);
		EXPECT_INT(fixture_register_resource(h.client, &member,
		    t.workspace, "experiment", ids[i], NULL, NULL, &err),
		    EXA_OK);
	}
	for (int i = 0; i < DATASETS; i++) {
		char id[48];
		snprintf(id, sizeof id, "%s-ds%d", stem, i);
		EXPECT_INT(fixture_register_resource(h.client, &member,
		    t.workspace, "dataset", id, NULL, NULL, &err), EXA_OK);
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
	struct fixture_team t, other;
	make_team(&t);
	make_team(&other);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal outsider = fixture_as_user(other.member.id);
	exa_error err;
	for (int i = 0; i < 3; i++)
		EXPECT_INT(fixture_register_resource(h.client, &member,
		    t.workspace, "experiment", harness_unique("exp-"), NULL,
		    NULL, &err), EXA_OK);

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
	EXPECT_INT(fixture_register_resource(h.client, &outsider, t.workspace,
	    "experiment", harness_unique("exp-"), NULL, NULL, &err),
	    EXA_PERMISSION_DENIED);
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
	struct fixture_team t;
	make_team(&t);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
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
		exa_status rc = fixture_register_resource(h.client, &member,
		    cases[i].workspace_id, cases[i].type, cases[i].id,
		    cases[i].name, NULL, &err);
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
	EXPECT_INT(fixture_register_resource(h.client, &member, t.workspace,
	    "experiment", long_id, NULL, NULL, &err), EXA_OK);

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
	return fixture_run_suite(&h, "resources", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
