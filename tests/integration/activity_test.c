/* The activity log (SPEC R7, R5, R12, R13): an activity a calling service
 * reports (measurement.add on an experiment) is recorded with the
 * principal who did it, if that principal holds the permission there;
 * ListActivity pages a workspace's records newest first; records outlive
 * the member's removal; unknown actions and bad targets are refused.
 * Driven through the client library against a real exe-accessd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

/* make_team: three people and their team, built through the service (see
 * fixture_team_make); if `exp` is not NULL, the team's member registers an
 * experiment in it, whose id goes to `exp` (48 bytes). */
static void
make_team(struct fixture_team *t, char *exp)
{
	fixture_team_make(h.client, "Activity Org", "Activity Team", t);
	if (exp == NULL)
		return;
	snprintf(exp, 48, "%s", harness_unique("exp-"));
	Exe__Access__V1__Principal actor = fixture_as_user(t->member.id);
	exa_error err;
	if (fixture_register_resource(h.client, &actor, t->workspace,
	        "experiment", exp, NULL, NULL, &err) != EXA_OK) {
		fprintf(stderr, "  register: %s\n", err.message);
		unit_case_failed = 1;
	}
}

/* record reports `action` by `actor`, on the workspace (if workspace_id
 * is not NULL) or else on the experiment `experiment_id`. */
static exa_status
record(const Exe__Access__V1__Principal *actor, const char *workspace_id,
    const char *experiment_id, const char *action, const char *detail,
    Exe__Access__V1__RecordActivityResponse **out, exa_error *err)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = (char *)experiment_id;
	Exe__Access__V1__RecordActivityRequest req =
	    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	if (workspace_id != NULL)
		req.workspace_id = (char *)workspace_id;
	if (experiment_id != NULL)
		req.resource = &ref;
	req.action = (char *)action;
	req.detail = (char *)(detail != NULL ? detail : "");
	Exe__Access__V1__RecordActivityResponse *r = NULL;
	exa_status rc = exa_record_activity(h.client, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

static exa_status
list(const Exe__Access__V1__Principal *actor, const char *workspace_id,
    uint32_t page_size, const char *token,
    Exe__Access__V1__ListActivityResponse **out, exa_error *err)
{
	Exe__Access__V1__ListActivityRequest req =
	    EXE__ACCESS__V1__LIST_ACTIVITY_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	req.page_size = page_size;
	req.page_token = (char *)(token != NULL ? token : "");
	*out = NULL;
	return exa_list_activity(h.client, &req, out, err);
}

static long long
record_id(const Exe__Access__V1__ActivityRecord *r)
{
	return strtoll(r->id, NULL, 10);
}

static void
member_measurement_is_recorded_and_attributed(void)
{
	struct fixture_team t;
	char exp[48];
	make_team(&t, exp);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__RecordActivityResponse *r = NULL;
	exa_error err;
	EXPECT_INT(record(&member, NULL, exp, "measurement.add",
	    "added 12 measurements", &r, &err), EXA_OK);
	if (r == NULL)
		return;
	const Exe__Access__V1__ActivityRecord *rec = r->record;
	EXPECT(record_id(rec) > 0);
	EXPECT_STR(rec->workspace_id, t.workspace);
	EXPECT_STR(rec->actor_user_id, t.member.id);
	EXPECT_STR(rec->actor_api_key_id, "");
	EXPECT_STR(rec->action, "measurement.add");
	EXPECT(rec->resource != NULL);
	if (rec->resource != NULL) {
		EXPECT_STR(rec->resource->type, "experiment");
		EXPECT_STR(rec->resource->id, exp);
	}
	EXPECT_STR(rec->detail, "added 12 measurements");
	EXPECT(rec->at_unix_ms > 0);
	EXPECT(r->revision > 0);
	EXPECT_INT(rec->revision, r->revision);

	/* Stored once, with a change-log row of its revision. */
	char revision[32];
	snprintf(revision, sizeof revision, "%llu",
	    (unsigned long long)r->revision);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE revision = $1::bigint"
	    " AND id = $2::bigint AND actor_user_id = $3"
	    " AND action = 'measurement.add' AND resource_id = $4",
	    revision, rec->id, t.member.id, exp, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM change_log WHERE revision = $1::bigint"
	    " AND kind = 'activity' AND workspace_id = $2", revision,
	    t.workspace, NULL), 1);

	/* On the workspace itself, no resource. */
	Exe__Access__V1__RecordActivityResponse *w = NULL;
	EXPECT_INT(record(&member, t.workspace, NULL, "optimization.run", NULL,
	    &w, &err), EXA_OK);
	if (w != NULL) {
		EXPECT(w->record->resource == NULL);
		EXPECT_STR(w->record->workspace_id, t.workspace);
		EXPECT(w->revision > r->revision);
		EXPECT(record_id(w->record) > record_id(rec));
	}
	exa_free(w);
	exa_free(r);
}

static void
read_only_member_is_refused(void)
{
	struct fixture_team t;
	char exp[48];
	make_team(&t, exp);
	Exe__Access__V1__Principal reader = fixture_as_user(t.reader.id);
	exa_error err;
	EXPECT_INT(record(&reader, NULL, exp, "measurement.add", NULL, NULL,
	    &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role read_only");
	EXPECT_CONTAINS(err.message, "measurement.add");
	EXPECT_INT(record(&reader, t.workspace, NULL, "optimization.run", NULL,
	    NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "optimization.run");
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE actor_user_id = $1"
	    " AND workspace_id = $2", t.reader.id, t.workspace, NULL), 0);
	/* What the role does hold, it may report. */
	EXPECT_INT(record(&reader, NULL, exp, "experiment.view", NULL, NULL,
	    &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE actor_user_id = $1"
	    " AND workspace_id = $2", t.reader.id, t.workspace, NULL), 1);
}

static void
listed_newest_first_with_the_actor(void)
{
	struct fixture_team t;
	char exp[48];
	make_team(&t, exp);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	Exe__Access__V1__Principal reader = fixture_as_user(t.reader.id);
	exa_error err;

	Exe__Access__V1__RotateApiKeyResponse *key = NULL;
	EXPECT_INT(fixture_rotate_key(h.client, &admin, t.workspace, 0, false,
	    &key, &err), EXA_OK);
	if (key == NULL)
		return;
	Exe__Access__V1__Principal by_key = fixture_as_key(key->secret);

	EXPECT_INT(record(&member, t.workspace, NULL, "optimization.run", "one",
	    NULL, &err), EXA_OK);
	EXPECT_INT(record(&admin, NULL, exp, "measurement.add", "two", NULL,
	    &err), EXA_OK);
	EXPECT_INT(record(&by_key, NULL, exp, "measurement.add", "three", NULL,
	    &err), EXA_OK);

	Exe__Access__V1__ListActivityResponse *page = NULL;
	EXPECT_INT(list(&reader, t.workspace, 0, NULL, &page, &err), EXA_OK);
	if (page == NULL) {
		exa_free(key);
		return;
	}
	EXPECT(page->n_records >= 3);
	EXPECT_STR(page->next_page_token, "");
	if (page->n_records >= 3) {
		Exe__Access__V1__ActivityRecord **r = page->records;
		EXPECT_STR(r[0]->detail, "three");
		EXPECT_STR(r[0]->actor_api_key_id, key->key->key_id);
		EXPECT_STR(r[0]->actor_user_id, "");
		EXPECT_STR(r[1]->detail, "two");
		EXPECT_STR(r[1]->actor_user_id, t.admin.id);
		EXPECT_STR(r[2]->detail, "one");
		EXPECT_STR(r[2]->actor_user_id, t.member.id);
		EXPECT_STR(r[2]->action, "optimization.run");
	}
	/* Newest first throughout, the service's own changes included. */
	bool saw_rotation = false;
	for (size_t i = 0; i < page->n_records; i++) {
		if (i > 0) {
			EXPECT(record_id(page->records[i]) <
			    record_id(page->records[i - 1]));
			EXPECT(page->records[i]->revision <
			    page->records[i - 1]->revision);
		}
		EXPECT_STR(page->records[i]->workspace_id, t.workspace);
		saw_rotation |= strcmp(page->records[i]->action,
		    "api_key.rotated") == 0;
	}
	EXPECT(saw_rotation);
	EXPECT_INT(page->n_records, harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1",
	    t.workspace, NULL));
	exa_free(page);
	exa_free(key);
}

static void
paging_returns_each_record_once(void)
{
	struct fixture_team t;
	make_team(&t, NULL);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	exa_error err;
	for (int i = 0; i < 12; i++) {
		char detail[16];
		snprintf(detail, sizeof detail, "run %d", i);
		EXPECT_INT(record(&member, t.workspace, NULL,
		               "optimization.run", detail, NULL, &err),
		    EXA_OK);
	}
	long expected = harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1",
	    t.workspace, NULL);
	EXPECT(expected >= 12);

	long long previous = -1;
	long total = 0;
	int pages = 0, runs = 0;
	char token[256] = "";
	do {
		Exe__Access__V1__ListActivityResponse *page = NULL;
		EXPECT_INT(list(&member, t.workspace, 5, token, &page, &err),
		    EXA_OK);
		if (page == NULL)
			break;
		pages++;
		EXPECT(
		    page->n_records == 5 || page->next_page_token[0] == '\0');
		for (size_t i = 0; i < page->n_records; i++) {
			long long id = record_id(page->records[i]);
			EXPECT(previous < 0 || id < previous);
			previous = id;
			total++;
			runs +=
			    strncmp(page->records[i]->detail, "run ", 4) == 0;
		}
		snprintf(token, sizeof token, "%s", page->next_page_token);
		exa_free(page);
	} while (token[0] != '\0' && pages < 20);
	EXPECT_INT(total, expected);
	EXPECT_INT(runs, 12);
	EXPECT_INT(pages, (int)((expected + 4) / 5));
}

static void
records_outlive_the_actor_removal(void)
{
	struct fixture_team t;
	char exp[48];
	make_team(&t, exp);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	Exe__Access__V1__RecordActivityResponse *r = NULL;
	exa_error err;
	EXPECT_INT(record(&member, NULL, exp, "measurement.add", "before", &r,
	    &err), EXA_OK);
	if (r == NULL)
		return;
	char id[32];
	snprintf(id, sizeof id, "%s", r->record->id);
	exa_free(r);

	EXPECT_INT(fixture_remove_member(h.client, t.admin.id, t.workspace,
	    t.member.id, NULL, &err), EXA_OK);

	/* Gone from the team: can neither report nor read. On the team's
	 * resource they are a stranger now, who hears no more of it than of
	 * an unregistered one. */
	EXPECT_INT(record(&member, NULL, exp, "measurement.add", "after", NULL,
	    &err), EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "not in a workspace the actor belongs to");
	Exe__Access__V1__ListActivityResponse *page = NULL;
	EXPECT_INT(list(&member, t.workspace, 0, NULL, &page, &err),
	    EXA_PERMISSION_DENIED);

	/* But what they did stays, attributed to them. */
	EXPECT_INT(list(&admin, t.workspace, 0, NULL, &page, &err), EXA_OK);
	bool found = false, removal = false;
	for (size_t i = 0; page != NULL && i < page->n_records; i++) {
		const Exe__Access__V1__ActivityRecord *rec = page->records[i];
		if (strcmp(rec->id, id) == 0) {
			found = true;
			EXPECT_STR(rec->actor_user_id, t.member.id);
			EXPECT_STR(rec->action, "measurement.add");
			EXPECT_STR(rec->detail, "before");
		}
		removal |= strcmp(rec->action, "member.removed") == 0;
		EXPECT(strcmp(rec->detail, "after") != 0);
	}
	EXPECT(found);
	EXPECT(removal);
	exa_free(page);
	EXPECT_INT(harness_sql_long(&h,
	               "SELECT count(*) FROM activity WHERE actor_user_id = $1"
	               " AND workspace_id = $2 AND action = 'measurement.add'",
	               t.member.id, t.workspace, NULL),
	    1);
}

static void
another_team_sees_nothing(void)
{
	struct fixture_team t, other;
	char exp[48];
	make_team(&t, exp);
	make_team(&other, NULL);
	Exe__Access__V1__Principal outsider = fixture_as_user(other.admin.id);
	exa_error err;
	Exe__Access__V1__ListActivityResponse *page = NULL;
	EXPECT_INT(list(&outsider, t.workspace, 0, NULL, &page, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "not a member");
	EXPECT_INT(record(&outsider, NULL, exp, "measurement.add", NULL, NULL,
	    &err), EXA_NOT_FOUND);
	EXPECT(strstr(err.message, t.workspace) == NULL);
	EXPECT_INT(record(&outsider, t.workspace, NULL, "experiment.view", NULL,
	    NULL, &err), EXA_PERMISSION_DENIED);
	/* Their own team's log holds nothing of the other team. */
	EXPECT_INT(list(&outsider, other.workspace, 0, NULL, &page, &err),
	    EXA_OK);
	for (size_t i = 0; page != NULL && i < page->n_records; i++) {
		EXPECT_STR(page->records[i]->workspace_id, other.workspace);
		EXPECT(page->records[i]->resource == NULL ||
		    strcmp(page->records[i]->resource->id, exp) != 0);
	}
	exa_free(page);
}

static void
bad_requests_name_the_field(void)
{
	struct fixture_team t;
	char exp[48];
	make_team(&t, exp);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	exa_error err;
	long before = harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1",
	    t.workspace, NULL);

	EXPECT_INT(record(&member, NULL, exp, "measurement.delete", NULL, NULL,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "action", 6) == 0);
	EXPECT_INT(record(&member, NULL, exp, "", NULL, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "action", 6) == 0);
	EXPECT_INT(record(&member, t.workspace, exp, "measurement.add", NULL,
	    NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id, resource", 22) == 0);
	EXPECT_INT(record(&member, NULL, NULL, "measurement.add", NULL, NULL,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id, resource", 22) == 0);
	EXPECT_INT(record(&member, "not-a-uuid", NULL, "measurement.add", NULL,
	    NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id", 12) == 0);
	EXPECT_INT(record(&member, NULL, "tab\there", "measurement.add", NULL,
	    NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "resource.id", 11) == 0);
	char long_detail[2100];
	memset(long_detail, 'd', 2001);
	long_detail[2001] = '\0';
	EXPECT_INT(record(&member, NULL, exp, "measurement.add", long_detail,
	    NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "detail", 6) == 0);
	EXPECT_INT(record(&member, NULL, exp, "measurement.add", "bad \xc3\x28",
	    NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "detail", 6) == 0);
	EXPECT_INT(record(NULL, NULL, exp, "measurement.add", NULL, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "actor", 5) == 0);
	EXPECT_INT(record(&member, NULL, "exp-never-registered",
	    "measurement.add", NULL, NULL, &err), EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "not registered");
	EXPECT_INT(harness_sql_long(&h,
	               "SELECT count(*) FROM activity WHERE workspace_id = $1",
	               t.workspace, NULL),
	    before);
	/* 2000 bytes of detail is the limit, and allowed. */
	long_detail[2000] = '\0';
	EXPECT_INT(record(&member, NULL, exp, "measurement.add", long_detail,
	    NULL, &err), EXA_OK);

	Exe__Access__V1__ListActivityResponse *page = NULL;
	EXPECT_INT(list(&member, "nope", 0, NULL, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id", 12) == 0);
	EXPECT_INT(list(&member, t.workspace, 1001, NULL, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "page_size", 9) == 0);
	EXPECT_INT(list(&member, t.workspace, 0, "definitely not a token",
	               &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "page_token", 10) == 0);
	/* A well-formed cursor that holds no record id: "abc" + separator. */
	EXPECT_INT(list(&member, t.workspace, 0, "YWJjHw", &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "page_token", 10) == 0);
}

static exa_status
list_org(const Exe__Access__V1__Principal *actor, const char *org_id,
    uint32_t page_size, const char *token,
    Exe__Access__V1__ListActivityResponse **out, exa_error *err)
{
	Exe__Access__V1__ListActivityRequest req =
	    EXE__ACCESS__V1__LIST_ACTIVITY_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.organization_id = (char *)org_id;
	req.page_size = page_size;
	req.page_token = (char *)(token != NULL ? token : "");
	*out = NULL;
	return exa_list_activity(h.client, &req, out, err);
}

/* has_action says whether `page` holds a record of `action` (with
 * `detail`, if that is not NULL). */
static bool
has_action(const Exe__Access__V1__ListActivityResponse *page,
    const char *action, const char *detail)
{
	for (size_t i = 0; page != NULL && i < page->n_records; i++) {
		if (strcmp(page->records[i]->action, action) == 0 &&
		    (detail == NULL || strcmp(page->records[i]->detail, detail) == 0))
			return true;
	}
	return false;
}

/* R7: every record is readable by someone. An organisation's own records
 * (it has no workspace) by its admins; a deleted team's records (they
 * outlive it) by the admins of its organisation, and by nobody else, who
 * cannot tell it from a workspace that never was. */
static void
organisation_admins_read_org_and_deleted_team_records(void)
{
	struct fixture_team t;
	char exp[48];
	make_team(&t, exp);
	Exe__Access__V1__Principal org_admin = fixture_as_user(t.admin.id);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal key = fixture_as_key(t.first_key);
	exa_error err;
	Exe__Access__V1__ListActivityResponse *page = NULL;

	EXPECT_INT(list_org(&org_admin, t.org, 0, NULL, &page, &err), EXA_OK);
	EXPECT(has_action(page, "organization.created", NULL));
	EXPECT(has_action(page, "workspace.created", NULL));
	EXPECT(!has_action(page, "member.added", NULL));
	for (size_t i = 0; page != NULL && i < page->n_records; i++) {
		if (page->records[i]->workspace_id[0] != '\0')
			EXPECT_STR(page->records[i]->workspace_id, t.workspace);
	}
	exa_free(page);
	EXPECT_INT(list_org(&member, t.org, 0, NULL, &page, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "is not an admin of organisation");
	EXPECT_INT(list_org(&key, t.org, 0, NULL, &page, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "API key");
	EXPECT_INT(list_org(&org_admin, "00000000-0000-4000-8000-000000000000",
	    0, NULL, &page, &err), EXA_NOT_FOUND);
	EXPECT_INT(list_org(&org_admin, "nope", 0, NULL, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "organization_id", 15) == 0);
	Exe__Access__V1__ListActivityRequest both =
	    EXE__ACCESS__V1__LIST_ACTIVITY_REQUEST__INIT;
	both.actor = &org_admin;
	both.workspace_id = t.workspace;
	both.organization_id = t.org;
	EXPECT_INT(exa_list_activity(h.client, &both, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "give exactly one");

	/* The member becomes a team admin (not an organisation admin) and
	 * reports something; then the team is deleted. */
	EXPECT_INT(fixture_change_role(h.client, t.admin.id, t.workspace,
	    t.member.id, EXE__ACCESS__V1__ROLE__ROLE_ADMIN, NULL, &err), EXA_OK);
	EXPECT_INT(record(&member, NULL, exp, "measurement.add", "kept", NULL,
	    &err), EXA_OK);
	Exe__Access__V1__DeleteWorkspaceRequest del =
	    EXE__ACCESS__V1__DELETE_WORKSPACE_REQUEST__INIT;
	del.actor = &member;
	del.workspace_id = t.workspace;
	Exe__Access__V1__WriteResponse *w = NULL;
	EXPECT_INT(exa_delete_workspace(h.client, &del, &w, &err), EXA_OK);
	exa_free(w);

	long kept = harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE workspace_id = $1",
	    t.workspace, NULL);
	EXPECT(kept >= 5);
	/* Its organisation's admin reads all of it, newest first, by page. */
	char token[256] = "";
	long seen = 0;
	bool first = true, measured = false;
	do {
		EXPECT_INT(list(&org_admin, t.workspace, 2, token, &page, &err),
		    EXA_OK);
		if (page == NULL)
			break;
		if (first && page->n_records > 0)
			EXPECT_STR(page->records[0]->action, "workspace.deleted");
		first = false;
		measured = measured || has_action(page, "measurement.add", "kept");
		seen += (long)page->n_records;
		snprintf(token, sizeof token, "%s", page->next_page_token);
		exa_free(page);
	} while (token[0] != '\0' && seen <= kept);
	EXPECT_INT(seen, kept);
	EXPECT(measured);
	/* Its former admin, who is no organisation admin, hears what they
	 * would of a workspace that never was. */
	EXPECT_INT(list(&member, t.workspace, 0, NULL, &page, &err),
	    EXA_NOT_FOUND);
	char gone[sizeof err.message];
	snprintf(gone, sizeof gone, "%s", err.message);
	const char *never = "00000000-0000-4000-8000-000000000000";
	EXPECT_INT(list(&member, never, 0, NULL, &page, &err), EXA_NOT_FOUND);
	char *at = strstr(gone, t.workspace);
	EXPECT(at != NULL);
	if (at != NULL) {
		memcpy(at, never, strlen(never));
		EXPECT_STR(gone, err.message);
	}
	/* And the organisation's records now hold the deletion. */
	EXPECT_INT(list_org(&org_admin, t.org, 0, NULL, &page, &err), EXA_OK);
	EXPECT(has_action(page, "workspace.deleted", NULL));
	exa_free(page);
}

static const struct unit_case cases[] = {
    {"a member's measurement is recorded and attributed",
        member_measurement_is_recorded_and_attributed},
    {"a read_only member is refused", read_only_member_is_refused},
    {"listed newest first with the actor",
        listed_newest_first_with_the_actor},
    {"paging returns each record once", paging_returns_each_record_once},
    {"records outlive the actor's removal",
        records_outlive_the_actor_removal},
    {"another team sees nothing", another_team_sees_nothing},
    {"bad requests name the field", bad_requests_name_the_field},
    {"organisation admins read the organisation's and a deleted team's "
     "records", organisation_admins_read_org_and_deleted_team_records},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(&h, "activity", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
