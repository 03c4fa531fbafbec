/* Security properties end to end (SPEC §5, R10): after a full scenario no
 * secret the service handed out is found in the database or the log;
 * text full of SQL and quoting metacharacters is stored and read back
 * verbatim through every free-text field; and one caller flooding the
 * service is held to its in-flight limit while another is still served. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

/* Text that breaks naive SQL, LIKE patterns, JSON and shells. */
static const char *const nasty[] = {
    "Robert'); DROP TABLE users; --",
    "100% of_the \\\\ backslashes \\' and \"quotes\"",
    "$1 $$dollar$$ quoting; SELECT pg_sleep(10)",
    "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\xac",
    "{\"json\": [1, 2]} <tag> & | ` $(id)",
};
enum { NNASTY = sizeof nasty / sizeof nasty[0] };

static char secrets[32][128];
static int nsecrets;

static void
keep(const char *secret)
{
	if (nsecrets < 32 && secret != NULL && secret[0] != '\0')
		snprintf(secrets[nsecrets++], sizeof secrets[0], "%s", secret);
}

static void
sign_up(const char *display, char *id, char *personal)
{
	Exe__Access__V1__CreateUserResponse *r = NULL;
	exa_error err;
	fixture_must(fixture_create_user(h.client, harness_unique("sec"), NULL,
	    display, &r, &err), &err, "sign-up");
	snprintf(id, 40, "%s", r->user->id);
	snprintf(personal, 40, "%s", r->personal_workspace->id);
	keep(r->api_key);
	exa_free(r);
}

static void
nasty_text_is_stored_verbatim(void)
{
	for (int i = 0; i < NNASTY; i++) {
		char id[40], ws[40];
		sign_up(nasty[i], id, ws);
		Exe__Access__V1__GetUserRequest get =
		    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
		get.user_id = id;
		Exe__Access__V1__GetUserResponse *u = NULL;
		exa_error err;
		EXPECT_INT(exa_get_user(h.client, &get, &u, &err), EXA_OK);
		if (u != NULL)
			EXPECT_STR(u->user->display_name, nasty[i]);
		exa_free(u);

		Exe__Access__V1__Principal p = fixture_as_user(id);
		Exe__Access__V1__CreateOrganizationResponse *org = NULL;
		fixture_must(fixture_create_org(h.client, id, nasty[i], &org,
		    &err), &err, "org");
		EXPECT_STR(org->organization->name, nasty[i]);
		Exe__Access__V1__CreateTeamWorkspaceResponse *team = NULL;
		fixture_must(fixture_create_team(h.client, id,
		    org->organization->id, nasty[i], NULL, &team, &err), &err,
		    "team");
		keep(team->api_key);

		Exe__Access__V1__Setting set = EXE__ACCESS__V1__SETTING__INIT;
		set.key = "note";
		set.value = (char *)nasty[i];
		Exe__Access__V1__Setting *sets[] = {&set};
		Exe__Access__V1__UpdateWorkspaceSettingsRequest up =
		    EXE__ACCESS__V1__UPDATE_WORKSPACE_SETTINGS_REQUEST__INIT;
		up.actor = &p;
		up.workspace_id = team->workspace->id;
		up.set = sets;
		up.n_set = 1;
		Exe__Access__V1__UpdateWorkspaceSettingsResponse *upr = NULL;
		fixture_must(exa_update_workspace_settings(h.client, &up, &upr,
		    &err), &err, "settings");
		exa_free(upr);

		char rid[64];
		snprintf(rid, sizeof rid, "exp-%d-%s", i, id);
		fixture_must(fixture_register_resource(h.client, &p,
		    team->workspace->id, "experiment", rid, nasty[i], NULL,
		    &err), &err, "register");
		Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
		ref.type = "experiment";
		ref.id = rid;
		Exe__Access__V1__RecordActivityRequest ra =
		    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
		ra.actor = &p;
		ra.resource = &ref;
		ra.action = "measurement.add";
		ra.detail = (char *)nasty[i];
		Exe__Access__V1__RecordActivityResponse *act = NULL;
		fixture_must(exa_record_activity(h.client, &ra, &act, &err),
		    &err, "record");
		exa_free(act);

		/* Read them all back. */
		Exe__Access__V1__GetWorkspaceRequest gw =
		    EXE__ACCESS__V1__GET_WORKSPACE_REQUEST__INIT;
		gw.actor = &p;
		gw.workspace_id = team->workspace->id;
		Exe__Access__V1__GetWorkspaceResponse *w = NULL;
		EXPECT_INT(exa_get_workspace(h.client, &gw, &w, &err), EXA_OK);
		if (w != NULL) {
			EXPECT_STR(w->workspace->name, nasty[i]);
			EXPECT(w->workspace->n_settings == 1 &&
			    strcmp(w->workspace->settings[0]->value, nasty[i]) == 0);
		}
		exa_free(w);
		Exe__Access__V1__ListResourcesRequest lr =
		    EXE__ACCESS__V1__LIST_RESOURCES_REQUEST__INIT;
		lr.actor = &p;
		lr.workspace_id = team->workspace->id;
		Exe__Access__V1__ListResourcesResponse *list = NULL;
		EXPECT_INT(exa_list_resources(h.client, &lr, &list, &err), EXA_OK);
		if (list != NULL && list->n_resources == 1)
			EXPECT_STR(list->resources[0]->name, nasty[i]);
		else
			EXPECT(!"one resource listed");
		exa_free(list);
		Exe__Access__V1__ListActivityRequest la =
		    EXE__ACCESS__V1__LIST_ACTIVITY_REQUEST__INIT;
		la.actor = &p;
		la.workspace_id = team->workspace->id;
		la.page_size = 1;
		Exe__Access__V1__ListActivityResponse *acts = NULL;
		EXPECT_INT(exa_list_activity(h.client, &la, &acts, &err), EXA_OK);
		if (acts != NULL && acts->n_records == 1)
			EXPECT_STR(acts->records[0]->detail, nasty[i]);
		exa_free(acts);
		exa_free(team);
		exa_free(org);
	}
	/* The tables are all still there. */
	EXPECT(harness_sql_long(&h, "SELECT count(*) FROM users", NULL) >= NNASTY);
}

static void
a_full_scenario_leaves_no_secret_behind(void)
{
	char owner[40], ws[40], invitee[40], invitee_ws[40];
	sign_up("owner", owner, ws);
	Exe__Access__V1__Principal p = fixture_as_user(owner);
	exa_error err;
	/* Rotations, with and without grace. */
	for (int grace = 0; grace < 2; grace++) {
		Exe__Access__V1__RotateApiKeyResponse *r = NULL;
		fixture_must(fixture_rotate_key(h.client, &p, ws,
		    grace ? 600 : 0, false, &r, &err), &err, "rotate");
		keep(r->secret);
		exa_decision d;
		EXPECT_INT(exa_check(h.client, owner, "experiment.view", ws, &d, &err),
		    EXA_OK);
		exa_free(r);
	}
	/* A team, an invitation accepted and one declined. */
	Exe__Access__V1__CreateOrganizationResponse *org = NULL;
	fixture_must(fixture_create_org(h.client, owner, "Secrets Inc", &org,
	    &err), &err, "org");
	Exe__Access__V1__CreateTeamWorkspaceResponse *team = NULL;
	fixture_must(fixture_create_team(h.client, owner, org->organization->id,
	    "Vault", NULL, &team, &err), &err, "team");
	keep(team->api_key);
	sign_up("invitee", invitee, invitee_ws);
	Exe__Access__V1__GetUserRequest gu = EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	gu.user_id = invitee;
	Exe__Access__V1__GetUserResponse *iu = NULL;
	fixture_must(exa_get_user(h.client, &gu, &iu, &err), &err, "get user");
	for (int k = 0; k < 2; k++) {
		Exe__Access__V1__CreateInvitationResponse *inv = NULL;
		fixture_must(fixture_invite(h.client, &p, team->workspace->id,
		    iu->user->username, NULL,
		    EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED, 0, &inv, &err),
		    &err, "invite");
		keep(inv->token);
		Exe__Access__V1__Principal pi = fixture_as_user(invitee);
		if (k == 0) {
			fixture_must(fixture_decline_invitation(h.client,
			    invitee, inv->token, &err), &err, "decline");
		} else {
			fixture_must(fixture_accept_invitation(h.client, &pi,
			    inv->token, NULL, &err), &err, "accept");
			/* A second use fails, and says so without the token. */
			EXPECT_INT(fixture_accept_invitation(h.client, &pi,
			    inv->token, NULL, &err), EXA_FAILED_PRECONDITION);
			EXPECT(strstr(err.message, inv->token) == NULL);
		}
		exa_free(inv);
	}
	exa_free(iu);
	exa_free(team);
	exa_free(org);
	keep(h.token);
	keep(h.check_token);
	EXPECT(nsecrets >= 10);

	/* Every row of every table, as text. */
	PGresult *tables = PQexec(h.db,
	    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
	EXPECT_INT(PQresultStatus(tables), PGRES_TUPLES_OK);
	int found = 0;
	for (int t = 0; t < PQntuples(tables); t++) {
		char sql[256];
		snprintf(sql, sizeof sql,
		    "SELECT coalesce(string_agg(x::text, ' '), '') FROM %s x",
		    PQgetvalue(tables, t, 0));
		PGresult *dump = PQexec(h.db, sql);
		const char *text = PQgetvalue(dump, 0, 0);
		for (int i = 0; i < nsecrets; i++) {
			if (strstr(text, secrets[i]) != NULL) {
				fprintf(stderr, "  secret %d found in table %s\n", i,
				    PQgetvalue(tables, t, 0));
				found++;
			}
		}
		PQclear(dump);
	}
	PQclear(tables);
	EXPECT_INT(found, 0);
	for (int i = 0; i < nsecrets; i++) {
		if (harness_log_contains(&h, secrets[i])) {
			fprintf(stderr, "  secret %d found in the log\n", i);
			found++;
		}
	}
	EXPECT_INT(found, 0);
	/* The log did record the requests (at debug level), so its silence
	 * about secrets means something. */
	EXPECT(harness_log_contains(&h, "request_failed"));
}

struct flooder {
	exa_client *client;
	atomic_int *exhausted;
	atomic_int *ok;
};

static void *
flood(void *arg)
{
	struct flooder *f = arg;
	for (int i = 0; i < 20; i++) {
		const char *name = NULL;
		char buf[64];
		snprintf(buf, sizeof buf, "flood%p%d", (void *)f, i);
		name = buf;
		exa_error err;
		exa_status rc = fixture_create_user(f->client, name, NULL, NULL,
		    NULL, &err);
		if (rc == EXA_RESOURCE_EXHAUSTED)
			atomic_fetch_add(f->exhausted, 1);
		else if (rc == EXA_OK)
			atomic_fetch_add(f->ok, 1);
	}
	return NULL;
}

static void
one_caller_cannot_take_every_slot(void)
{
	/* A daemon of its own: one database worker, two requests in flight
	 * per caller. */
	struct harness lim;
	harness_launch_replica(&lim, &h,
	    (const char *const[]){"--workers=1", "--max-in-flight-per-caller=2",
	        NULL});
	enum { THREADS = 12 };
	atomic_int exhausted = 0, ok = 0;
	pthread_t threads[THREADS];
	struct flooder f[THREADS];
	for (int i = 0; i < THREADS; i++) {
		exa_error err;
		EXPECT_INT(exa_client_open(lim.url, lim.token, NULL, &f[i].client,
		    &err), EXA_OK);
		f[i].exhausted = &exhausted;
		f[i].ok = &ok;
		pthread_create(&threads[i], NULL, flood, &f[i]);
	}
	/* Meanwhile another caller is served every time. */
	exa_client *other;
	exa_error err;
	EXPECT_INT(exa_client_open(lim.url, lim.check_token, NULL, &other, &err),
	    EXA_OK);
	int served = 0;
	for (int i = 0; i < 20; i++) {
		Exe__Access__V1__GetUserRequest get =
		    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
		get.user_id = "00000000-0000-4000-8000-000000000000";
		/* A check token reads for an actor (here nobody): the read
		 * goes to the database worker the flood competes for. */
		Exe__Access__V1__Principal actor = fixture_as_user(get.user_id);
		get.actor = &actor;
		Exe__Access__V1__GetUserResponse *r = NULL;
		served += exa_get_user(other, &get, &r, &err) == EXA_NOT_FOUND;
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		exa_client_close(f[i].client);
	}
	exa_client_close(other);
	printf("  flood: %d served, %d refused RESOURCE_EXHAUSTED; the other "
	       "caller served %d of 20\n", atomic_load(&ok),
	    atomic_load(&exhausted), served);
	EXPECT(atomic_load(&exhausted) > 0);
	EXPECT(atomic_load(&ok) > 0);
	EXPECT_INT(served, 20);
	EXPECT_INT(harness_stop(&lim), 0);
}

static const struct unit_case cases[] = {
    {"nasty text is stored verbatim", nasty_text_is_stored_verbatim},
    {"a full scenario leaves no secret behind",
        a_full_scenario_leaves_no_secret_behind},
    {"one caller cannot take every slot", one_caller_cannot_take_every_slot},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(&h, "security", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
