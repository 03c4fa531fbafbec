/* Sign-up (SPEC R1), user look-ups and the workspace switcher (R11),
 * through the client library against a real exe-accessd. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

static char email_buf[8][128];
static unsigned email_next;

static const char *
email_for(const char *username)
{
	char *e = email_buf[email_next++ % 8];
	snprintf(e, 128, "%s@example.com", username);
	return e;
}

static void
signup_creates_user_workspace_membership_and_key(void)
{
	const char *name = harness_unique("alice");
	Exe__Access__V1__CreateUserResponse *r;
	exa_error err;
	EXPECT_INT(fixture_create_user(h.client, name, email_for(name),
	    "Alice A.", &r, &err), EXA_OK);
	if (r == NULL)
		return;
	EXPECT_STR(r->user->username, name);
	EXPECT_STR(r->user->display_name, "Alice A.");
	EXPECT(r->user->created_unix_ms > 0);
	char expected[128];
	snprintf(expected, sizeof expected, "%s's Workspace", name);
	EXPECT_STR(r->personal_workspace->name, expected);
	EXPECT_INT(r->personal_workspace->kind,
	    EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL);
	EXPECT_STR(r->personal_workspace->owner_user_id, r->user->id);
	EXPECT(strncmp(r->api_key, "exa_live_", 9) == 0);
	EXPECT_INT(strlen(r->api_key), 45);
	EXPECT(r->revision > 0);

	/* What the database holds: one admin membership, one key stored as a
	 * hash (never the secret), one activity record. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM memberships m JOIN workspaces w"
	    " ON w.id = m.workspace_id WHERE m.user_id = $1 AND w.kind ="
	    " 'personal' AND m.role = 'admin'", r->user->id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND expires_at IS NULL", r->personal_workspace->id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE position($1 in"
	    " encode(key_hash, 'escape')) > 0 OR position($1 in display_prefix)"
	    " > 0", r->api_key, NULL), 0);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE actor_user_id = $1"
	    " AND action = 'user.created'", r->user->id, NULL), 1);
	char revision[32];
	snprintf(revision, sizeof revision, "%llu",
	    (unsigned long long)r->revision);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM change_log WHERE revision = $1::bigint"
	    " AND kind = 'user' AND user_id = $2", revision, r->user->id, NULL),
	    1);
	exa_free(r);
}

static void
no_user_exists_without_a_personal_workspace(void)
{
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM"
	    " workspaces w JOIN memberships m ON m.workspace_id = w.id AND"
	    " m.user_id = w.owner_user_id AND m.role = 'admin'"
	    " WHERE w.owner_user_id = u.id AND w.kind = 'personal')", NULL), 0);
	EXPECT(harness_sql_long(&h, "SELECT count(*) FROM users", NULL) > 0);
}

static void
usernames_are_unique_whatever_their_case(void)
{
	const char *name = harness_unique("Bob");
	exa_error err;
	EXPECT_INT(fixture_create_user(h.client, name, email_for(name), NULL,
	    NULL, &err), EXA_OK);
	char upper[64];
	snprintf(upper, sizeof upper, "%s", name);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	EXPECT_INT(fixture_create_user(h.client, upper, "other-bob@example.com",
	    NULL, NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, "username");
	EXPECT_CONTAINS(err.message, "is taken");
	/* The failed sign-up left nothing behind. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM users WHERE email = 'other-bob@example.com'",
	    NULL), 0);
}

static void
emails_are_unique(void)
{
	const char *a = harness_unique("carol");
	const char *b = harness_unique("carol");
	exa_error err;
	EXPECT_INT(fixture_create_user(h.client, a, "carol@example.com", NULL,
	    NULL, &err), EXA_OK);
	EXPECT_INT(fixture_create_user(h.client, b, "CAROL@example.com", NULL,
	    NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, "email");
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM users WHERE username = $1", b, NULL), 0);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM workspaces WHERE name = $1 || '''s Workspace'",
	    b, NULL), 0);
}

struct bad_signup {
	const char *username;
	const char *email;
	const char *display;
	const char *field;
};

static void
bad_signups_name_the_field(void)
{
	char long_name[80], long_email[300], long_display[300];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	memset(long_email, 'e', 250);
	strcpy(long_email + 250, "@example.com");
	memset(long_display, 'd', 201);
	long_display[201] = '\0';
	const struct bad_signup cases[] = {
	    {"", "x@example.com", NULL, "username"},
	    {long_name, "x@example.com", NULL, "username"},
	    {"bad\xff\xfename", "x@example.com", NULL, "username"},
	    {"has space", "x@example.com", NULL, "username"},
	    {"-dash", "x@example.com", NULL, "username"},
	    {"validname1", "", NULL, "email"},
	    {"validname1", "no-at-sign", NULL, "email"},
	    {"validname1", long_email, NULL, "email"},
	    {"validname1", "\xc3\x28@example.com", NULL, "email"},
	    {"validname1", "x@example.com", long_display, "display_name"},
	    {"validname1", "x@example.com", "tab\there", "display_name"},
	    {"validname1", "x@example.com", "bad \xed\xa0\x80 utf8", "display_name"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		exa_error err;
		exa_status rc = fixture_create_user(h.client, cases[i].username,
		    cases[i].email, cases[i].display, NULL, &err);
		EXPECT_INT(rc, EXA_INVALID_ARGUMENT);
		if (rc == EXA_INVALID_ARGUMENT &&
		    strncmp(err.message, cases[i].field, strlen(cases[i].field)) != 0) {
			fprintf(stderr, "  case %zu: message \"%s\" does not start "
			    "with \"%s\"\n", i, err.message, cases[i].field);
			unit_case_failed = 1;
		}
	}
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM users WHERE username = 'validname1'", NULL), 0);

	/* Usernames are ASCII (look-alike names stay out), and the answer
	 * says so, also when the name starts with a letter outside ASCII. */
	const char *non_ascii[] = {"\xc3\xa9lodie", "j\xc3\xb6rg",
	    "\xd0\xb0" "dmin"};
	for (size_t i = 0; i < 3; i++) {
		exa_error err;
		EXPECT_INT(fixture_create_user(h.client, non_ascii[i],
		    "x@example.com", NULL, NULL, &err), EXA_INVALID_ARGUMENT);
		EXPECT_CONTAINS(err.message, "username: may contain only ASCII "
		                             "letters");
		if (strstr(err.message, "must start") != NULL) {
			fprintf(stderr, "  \"%s\": %s\n", non_ascii[i],
			    err.message);
			unit_case_failed = 1;
		}
	}
}

struct race {
	const char *username;
	exa_status rc;
};

static void *
race_signup(void *arg)
{
	struct race *r = arg;
	exa_error err;
	char email[128];
	snprintf(email, sizeof email, "%s-%p@example.com", r->username,
	    (void *)r);
	r->rc = fixture_create_user(h.client, r->username, email, NULL, NULL,
	    &err);
	return NULL;
}

static void
concurrent_duplicate_signups_leave_one_user(void)
{
	enum { N = 8 };
	const char *name = harness_unique("dave");
	pthread_t threads[N];
	struct race races[N];
	for (int i = 0; i < N; i++) {
		races[i] = (struct race){name, -1};
		pthread_create(&threads[i], NULL, race_signup, &races[i]);
	}
	int ok = 0, exists = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(threads[i], NULL);
		ok += races[i].rc == EXA_OK;
		exists += races[i].rc == EXA_ALREADY_EXISTS;
	}
	EXPECT_INT(ok, 1);
	EXPECT_INT(exists, N - 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM users WHERE lower(username) = lower($1)", name,
	    NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM workspaces WHERE name = $1 || '''s Workspace'",
	    name, NULL), 1);
}

static void
get_and_find_user(void)
{
	struct fixture_user u;
	if (!fixture_sign_up(h.client, "erin", &u))
		return;
	exa_error err;

	Exe__Access__V1__GetUserRequest get = EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	get.user_id = u.id;
	Exe__Access__V1__GetUserResponse *got = NULL;
	EXPECT_INT(exa_get_user(h.client, &get, &got, &err), EXA_OK);
	if (got != NULL)
		EXPECT_STR(got->user->username, u.username);
	exa_free(got);

	get.user_id = "00000000-0000-4000-8000-000000000000";
	EXPECT_INT(exa_get_user(h.client, &get, &got, &err), EXA_NOT_FOUND);
	get.user_id = "not-a-uuid";
	EXPECT_INT(exa_get_user(h.client, &get, &got, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "user_id");

	char upper[64];
	snprintf(upper, sizeof upper, "%s", u.username);
	upper[0] = 'E';
	Exe__Access__V1__FindUserRequest find = EXE__ACCESS__V1__FIND_USER_REQUEST__INIT;
	find.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_USERNAME;
	find.username = upper;
	Exe__Access__V1__FindUserResponse *found = NULL;
	EXPECT_INT(exa_find_user(h.client, &find, &found, &err), EXA_OK);
	if (found != NULL)
		EXPECT_STR(found->user->id, u.id);
	exa_free(found);

	find.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_EMAIL;
	find.email = u.email;
	EXPECT_INT(exa_find_user(h.client, &find, &found, &err), EXA_OK);
	exa_free(found);
	find.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY__NOT_SET;
	EXPECT_INT(exa_find_user(h.client, &find, &found, &err),
	    EXA_INVALID_ARGUMENT);
}

/* add_team puts `user_id` into a new team workspace named `name` with
 * `role`, directly in the database (the team API is not this test's
 * subject); returns nothing, exits on error through harness_sql_long. */
static void
add_team(const char *user_id, const char *name, const char *role)
{
	harness_sql_long(&h,
	    "WITH o AS (INSERT INTO organizations (name) VALUES ('Org')"
	    "           RETURNING id),"
	    " w AS (INSERT INTO workspaces (kind, name, organization_id)"
	    "       SELECT 'team', $2, id FROM o RETURNING id)"
	    " INSERT INTO memberships (workspace_id, user_id, role)"
	    " SELECT id, $1, $3 FROM w RETURNING 0",
	    user_id, name, role, NULL);
}

static void
workspace_switcher_lists_personal_first_with_roles(void)
{
	struct fixture_user u;
	if (!fixture_sign_up(h.client, "zed", &u))
		return;
	exa_error err;
	/* Team names sort before "zed's Workspace": personal must still be
	 * first. */
	add_team(u.id, "Alpha team", "read_only");
	add_team(u.id, "Beta team", "member");
	add_team(u.id, "Gamma team", "admin");

	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	req.user_id = u.id;
	Exe__Access__V1__ListWorkspacesResponse *page = NULL;
	EXPECT_INT(exa_list_workspaces(h.client, &req, &page, &err), EXA_OK);
	if (page == NULL)
		return;
	EXPECT_INT(page->n_workspaces, 4);
	EXPECT_STR(page->next_page_token, "");
	if (page->n_workspaces == 4) {
		EXPECT_INT(page->workspaces[0]->workspace->kind,
		    EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL);
		EXPECT_INT(page->workspaces[0]->role, EXE__ACCESS__V1__ROLE__ROLE_ADMIN);
		EXPECT_STR(page->workspaces[1]->workspace->name, "Alpha team");
		EXPECT_INT(page->workspaces[1]->role,
		    EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY);
		EXPECT_INT(page->workspaces[1]->workspace->kind,
		    EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_TEAM);
		EXPECT_INT(page->workspaces[2]->role, EXE__ACCESS__V1__ROLE__ROLE_MEMBER);
		EXPECT_INT(page->workspaces[3]->role, EXE__ACCESS__V1__ROLE__ROLE_ADMIN);
	}
	exa_free(page);

	/* Paged two at a time: the same four, in the same order, no repeats. */
	req.page_size = 2;
	const char *expect[] = {NULL, "Alpha team", "Beta team", "Gamma team"};
	int seen = 0;
	char token[256] = "";
	for (int pages = 0; pages < 4; pages++) {
		req.page_token = token;
		page = NULL;
		EXPECT_INT(exa_list_workspaces(h.client, &req, &page, &err), EXA_OK);
		if (page == NULL)
			break;
		for (size_t i = 0; i < page->n_workspaces && seen < 4; i++, seen++) {
			if (expect[seen] != NULL)
				EXPECT_STR(page->workspaces[i]->workspace->name,
				    expect[seen]);
		}
		snprintf(token, sizeof token, "%s", page->next_page_token);
		exa_free(page);
		if (token[0] == '\0')
			break;
	}
	EXPECT_INT(seen, 4);
	EXPECT_STR(token, "");
}

static void
workspace_switcher_refuses_bad_input(void)
{
	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	Exe__Access__V1__ListWorkspacesResponse *page = NULL;
	exa_error err;
	req.user_id = "00000000-0000-4000-8000-000000000000";
	EXPECT_INT(exa_list_workspaces(h.client, &req, &page, &err), EXA_NOT_FOUND);
	req.user_id = "nope";
	EXPECT_INT(exa_list_workspaces(h.client, &req, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "user_id");
	req.user_id = "00000000-0000-4000-8000-000000000000";
	req.page_size = 1001;
	EXPECT_INT(exa_list_workspaces(h.client, &req, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "page_size");
	req.page_size = 0;
	req.page_token = "definitely not a token";
	EXPECT_INT(exa_list_workspaces(h.client, &req, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "page_token");
}

/* The look-ups and the switcher for an actor, through a check token. */
static exa_status
get_as(exa_client *c, const Exe__Access__V1__Principal *actor,
    const char *user_id, exa_error *err)
{
	Exe__Access__V1__GetUserRequest req = EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	req.user_id = (char *)user_id;
	req.actor = (Exe__Access__V1__Principal *)actor;
	Exe__Access__V1__GetUserResponse *r = NULL;
	exa_status rc = exa_get_user(c, &req, &r, err);
	if (rc == EXA_OK && strcmp(r->user->id, user_id) != 0) {
		fprintf(stderr, "  got user %s for %s\n", r->user->id, user_id);
		unit_case_failed = 1;
	}
	exa_free(r);
	return rc;
}

static exa_status
find_as(exa_client *c, const Exe__Access__V1__Principal *actor,
    const char *username, const char *email, exa_error *err)
{
	Exe__Access__V1__FindUserRequest req =
	    EXE__ACCESS__V1__FIND_USER_REQUEST__INIT;
	if (username != NULL) {
		req.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_USERNAME;
		req.username = (char *)username;
	} else {
		req.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_EMAIL;
		req.email = (char *)email;
	}
	req.actor = (Exe__Access__V1__Principal *)actor;
	Exe__Access__V1__FindUserResponse *r = NULL;
	exa_status rc = exa_find_user(c, &req, &r, err);
	exa_free(r);
	return rc;
}

/* switcher_as lists `user_id`'s workspaces for `actor`; their count goes
 * to *n, and whether the personal one was among them to *personal. */
static exa_status
switcher_as(exa_client *c, const Exe__Access__V1__Principal *actor,
    const char *user_id, size_t *n, bool *personal, exa_error *err)
{
	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	req.user_id = (char *)user_id;
	req.actor = (Exe__Access__V1__Principal *)actor;
	Exe__Access__V1__ListWorkspacesResponse *r = NULL;
	exa_status rc = exa_list_workspaces(c, &req, &r, err);
	*n = 0;
	*personal = false;
	for (size_t i = 0; r != NULL && i < r->n_workspaces; i++) {
		(*n)++;
		*personal = *personal ||
		    r->workspaces[i]->workspace->kind ==
		        EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL;
	}
	exa_free(r);
	return rc;
}

/* expect_unknown: the answer `err` (NOT_FOUND) reads as the answer for
 * `nobody`, an id no user has, once that id is put in for `id`. */
static void
expect_unknown(exa_status rc, const exa_error *err, const char *id,
    exa_status rc_nobody, const exa_error *err_nobody, const char *nobody)
{
	EXPECT_INT(rc, EXA_NOT_FOUND);
	EXPECT_INT(rc_nobody, EXA_NOT_FOUND);
	char copy[sizeof err->message];
	snprintf(copy, sizeof copy, "%s", err->message);
	char *at = strstr(copy, id);
	EXPECT(at != NULL && strlen(id) == strlen(nobody));
	if (at != NULL && strlen(id) == strlen(nobody)) {
		memcpy(at, nobody, strlen(nobody));
		EXPECT_STR(copy, err_nobody->message);
	}
}

/* SPEC §3: the look-ups and the switcher act for someone. A user reads
 * themself and those they share a team with; an organisation admin its
 * admins and the members of its teams; nobody else, who cannot tell such
 * a user from one who does not exist. Without an actor only an admin
 * token reads, as the service (what callers did before there was one). */
static void
reads_act_for_someone(void)
{
	struct fixture_user boss, bea, cal, dan, eve;
	char org[FIXTURE_ID_SIZE], team[FIXTURE_ID_SIZE], org2[FIXTURE_ID_SIZE],
	    team2[FIXTURE_ID_SIZE];
	if (!fixture_org_found(h.client, "boss", "Reads Org", &boss, org) ||
	    !fixture_sign_up(h.client, "bea", &bea) ||
	    !fixture_sign_up(h.client, "cal", &cal) ||
	    !fixture_sign_up(h.client, "dan", &dan) ||
	    !fixture_team_create(h.client, boss.id, org, "Reads Team", bea.id,
	        team, NULL) ||
	    !fixture_member_add(h.client, boss.id, team, cal.id,
	        EXE__ACCESS__V1__ROLE__ROLE_MEMBER) ||
	    !fixture_org_found(h.client, "eve", "Other Org", &eve, org2) ||
	    !fixture_team_create(h.client, eve.id, org2, "Eve's Team", NULL,
	        team2, NULL) ||
	    !fixture_member_add(h.client, eve.id, team2, bea.id,
	        EXE__ACCESS__V1__ROLE__ROLE_MEMBER))
		return;
	exa_client *c;
	exa_error err, err2;
	if (exa_client_open(h.url, h.check_token, NULL, &c, &err) != EXA_OK) {
		fprintf(stderr, "  open: %s\n", err.message);
		unit_case_failed = 1;
		return;
	}
	Exe__Access__V1__Principal as_boss = fixture_as_user(boss.id),
	    as_bea = fixture_as_user(bea.id), as_cal = fixture_as_user(cal.id),
	    as_dan = fixture_as_user(dan.id), as_eve = fixture_as_user(eve.id);
	const char *nobody = "00000000-0000-4000-8000-00000000abcd";

	/* GetUser: themself, a teammate, the organisation's admin. */
	EXPECT_INT(get_as(c, &as_cal, cal.id, &err), EXA_OK);
	EXPECT_INT(get_as(c, &as_bea, cal.id, &err), EXA_OK);
	EXPECT_INT(get_as(c, &as_cal, bea.id, &err), EXA_OK);
	EXPECT_INT(get_as(c, &as_boss, cal.id, &err), EXA_OK);
	EXPECT_INT(get_as(c, &as_bea, boss.id, &err), EXA_NOT_FOUND);
	EXPECT_INT(get_as(c, &as_eve, bea.id, &err), EXA_OK);
	/* eve shares a team with bea, not with cal, and runs another
	 * organisation; dan shares nothing. */
	exa_status rc = get_as(c, &as_eve, cal.id, &err);
	expect_unknown(rc, &err, cal.id, get_as(c, &as_eve, nobody, &err2),
	    &err2, nobody);
	rc = get_as(c, &as_dan, bea.id, &err);
	expect_unknown(rc, &err, bea.id, get_as(c, &as_dan, nobody, &err2),
	    &err2, nobody);
	EXPECT(strstr(err.message, bea.email) == NULL);

	/* FindUser: the same rule, by username and by email. */
	EXPECT_INT(find_as(c, &as_bea, cal.username, NULL, &err), EXA_OK);
	EXPECT_INT(find_as(c, &as_boss, NULL, cal.email, &err), EXA_OK);
	EXPECT_INT(find_as(c, &as_dan, dan.username, NULL, &err), EXA_OK);
	rc = find_as(c, &as_dan, NULL, cal.email, &err);
	char ghost[128];
	snprintf(ghost, sizeof ghost, "%s", cal.email);
	ghost[0] = ghost[0] == 'q' ? 'r' : 'q';
	expect_unknown(rc, &err, cal.email, find_as(c, &as_dan, NULL, ghost,
	    &err2), &err2, ghost);
	EXPECT_INT(find_as(c, &as_dan, cal.username, NULL, &err), EXA_NOT_FOUND);

	/* The switcher: all of one's own; of someone else, only the teams
	 * one sees oneself, never the personal workspace. */
	size_t n;
	bool personal;
	EXPECT_INT(switcher_as(c, &as_bea, bea.id, &n, &personal, &err), EXA_OK);
	EXPECT_INT(n, 3);
	EXPECT(personal);
	EXPECT_INT(switcher_as(c, &as_cal, bea.id, &n, &personal, &err), EXA_OK);
	EXPECT_INT(n, 1); /* Reads Team */
	EXPECT(!personal);
	EXPECT_INT(switcher_as(c, &as_boss, bea.id, &n, &personal, &err),
	    EXA_OK);
	EXPECT_INT(n, 1); /* Reads Team, of boss's organisation */
	EXPECT_INT(switcher_as(c, &as_eve, bea.id, &n, &personal, &err), EXA_OK);
	EXPECT_INT(n, 1); /* Eve's Team */
	rc = switcher_as(c, &as_dan, bea.id, &n, &personal, &err);
	expect_unknown(rc, &err, bea.id, switcher_as(c, &as_dan, nobody, &n,
	    &personal, &err2), &err2, nobody);
	EXPECT_INT(switcher_as(c, &as_dan, nobody, &n, &personal, &err),
	    EXA_NOT_FOUND);

	/* No actor: a check token may not read as the service; an admin
	 * token may, as before. */
	EXPECT_INT(get_as(c, NULL, cal.id, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "actor: missing");
	EXPECT_CONTAINS(err.message, "scope check");
	EXPECT_INT(find_as(c, NULL, cal.username, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(switcher_as(c, NULL, cal.id, &n, &personal, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(get_as(h.client, NULL, cal.id, &err), EXA_OK);
	EXPECT_INT(find_as(h.client, NULL, NULL, cal.email, &err), EXA_OK);
	EXPECT_INT(switcher_as(h.client, NULL, bea.id, &n, &personal, &err),
	    EXA_OK);
	EXPECT_INT(n, 3);
	/* An admin token that names an actor is held to the actor's rule. */
	EXPECT_INT(get_as(h.client, &as_dan, cal.id, &err), EXA_NOT_FOUND);

	/* The actor is a user: a key is refused, a bad id is bad input. */
	Exe__Access__V1__Principal key = fixture_as_key(cal.key);
	EXPECT_INT(get_as(c, &key, cal.id, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "an API key cannot read users");
	Exe__Access__V1__Principal bad = fixture_as_user("someone");
	EXPECT_INT(get_as(c, &bad, cal.id, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "actor.user_id");
	EXPECT_INT(switcher_as(c, &bad, cal.id, &n, &personal, &err),
	    EXA_INVALID_ARGUMENT);
	exa_client_close(c);
}

static const struct unit_case cases[] = {
    {"signup creates user, workspace, membership and key",
        signup_creates_user_workspace_membership_and_key},
    {"usernames are unique whatever their case",
        usernames_are_unique_whatever_their_case},
    {"emails are unique", emails_are_unique},
    {"bad sign-ups name the field", bad_signups_name_the_field},
    {"concurrent duplicate sign-ups leave one user",
        concurrent_duplicate_signups_leave_one_user},
    {"get and find user", get_and_find_user},
    {"workspace switcher lists personal first with roles",
        workspace_switcher_lists_personal_first_with_roles},
    {"workspace switcher refuses bad input",
        workspace_switcher_refuses_bad_input},
    {"reads act for someone", reads_act_for_someone},
    {"no user exists without a personal workspace",
        no_user_exists_without_a_personal_workspace},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(&h, "users", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
