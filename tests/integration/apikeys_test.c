/* Workspace API keys (SPEC R10, R5): rotation returns the new secret once
 * and stops the old one at once or after the grace period the admin chose
 * (at most 24 h); GetApiKey shows prefixes and the keys in their grace
 * period but never a secret; only admins (never a key, never a member)
 * rotate or view keys; secrets stay out of the database and the log; a
 * key's last use is recorded. Driven through the client library against a
 * real exe-accessd. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

/* Every secret the service handed out in this run, for the last case to
 * look for in the database and the log. */
enum { SEEN_MAX = 64 };
static char seen[SEEN_MAX][64];
static size_t n_seen;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void
remember(const char *secret)
{
	pthread_mutex_lock(&seen_lock);
	if (n_seen < SEEN_MAX)
		snprintf(seen[n_seen++], sizeof seen[0], "%s", secret);
	pthread_mutex_unlock(&seen_lock);
}

/* sign_up signs a person up and remembers their key. */
static void
sign_up(const char *prefix, struct fixture_user *u)
{
	if (fixture_sign_up(h.client, prefix, u))
		remember(u->key);
}

/* make_team: three people and their team, built through the service (see
 * fixture_team_make); their personal keys are remembered, as sign_up's. */
static void
make_team(struct fixture_team *t)
{
	fixture_team_make(h.client, "Keys Org", "Keys Team", t);
	const struct fixture_user *people[] = {
	    &t->admin, &t->member, &t->reader};
	for (size_t i = 0; i < 3; i++) {
		if (people[i]->key[0] != '\0')
			remember(people[i]->key);
	}
}

static exa_status
rotate(const Exe__Access__V1__Principal *actor, const char *workspace_id,
    uint32_t grace, bool read_only, Exe__Access__V1__RotateApiKeyResponse **out,
    exa_error *err)
{
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_status rc = fixture_rotate_key(h.client, actor, workspace_id, grace,
	    read_only, &r, err);
	if (r != NULL)
		remember(r->secret);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

static exa_status
get_key(const Exe__Access__V1__Principal *actor, const char *workspace_id,
    Exe__Access__V1__GetApiKeyResponse **out, exa_error *err)
{
	Exe__Access__V1__GetApiKeyRequest req =
	    EXE__ACCESS__V1__GET_API_KEY_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	*out = NULL;
	return exa_get_api_key(h.client, &req, out, err);
}

/* key_check asks whether the key `secret` holds `permission` in the
 * workspace; returns whether it is allowed and copies the reason. */
static bool
key_check(const char *secret, const char *permission, const char *workspace_id,
    unsigned long long fresh, char *reason, size_t reason_size)
{
	Exe__Access__V1__CheckResponse *r = NULL;
	exa_error err;
	EXPECT_INT(fixture_check(h.client, NULL, secret, permission,
	    workspace_id, NULL, NULL, fresh, &r, &err), EXA_OK);
	bool allowed = r != NULL && r->allowed;
	if (reason != NULL)
		snprintf(reason, reason_size, "%s", r != NULL ? r->reason : "");
	exa_free(r);
	return allowed;
}

static bool
starts_with(const char *s, const char *prefix, size_t n)
{
	return strlen(s) == n && strncmp(s, prefix, n) == 0;
}

static void
rotation_without_grace_stops_the_old_key_at_once(void)
{
	struct fixture_team t;
	make_team(&t);
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	exa_error err;

	/* A new team has its own key from the start (SPEC §1), returned
	 * once by CreateTeamWorkspace; it works, and GetApiKey shows it. */
	EXPECT(strncmp(t.first_key, "exa_live_", 9) == 0);
	EXPECT(key_check(t.first_key, "experiment.create", t.workspace, 0, NULL,
	    0));
	Exe__Access__V1__GetApiKeyResponse *g;
	EXPECT_INT(get_key(&admin, t.workspace, &g, &err), EXA_OK);
	if (g != NULL)
		EXPECT(starts_with(g->key->display_prefix, t.first_key, 13));
	exa_free(g);

	Exe__Access__V1__RotateApiKeyResponse *r1 = NULL, *r2 = NULL;
	EXPECT_INT(rotate(&admin, t.workspace, 0, false, &r1, &err), EXA_OK);
	if (r1 == NULL)
		return;
	EXPECT(strncmp(r1->secret, "exa_live_", 9) == 0);
	EXPECT_INT(strlen(r1->secret), 45);
	EXPECT(starts_with(r1->key->display_prefix, r1->secret, 13));
	EXPECT_STR(r1->key->workspace_id, t.workspace);
	EXPECT(!r1->key->read_only);
	EXPECT(r1->key->created_unix_ms > 0);
	EXPECT_INT(r1->key->expires_unix_ms, 0);
	EXPECT_INT(r1->key->last_used_unix_ms, 0);
	EXPECT(r1->revision > 0);
	EXPECT(key_check(r1->secret, "experiment.create", t.workspace, 0, NULL,
	    0));

	EXPECT_INT(rotate(&admin, t.workspace, 0, false, &r2, &err), EXA_OK);
	if (r2 == NULL) {
		exa_free(r1);
		return;
	}
	EXPECT(strcmp(r2->key->key_id, r1->key->key_id) != 0);
	EXPECT(strcmp(r2->secret, r1->secret) != 0);
	EXPECT(r2->revision > r1->revision);

	/* The old secret is refused at once, even asked at the rotation's
	 * revision; the new one works. */
	char reason[320];
	EXPECT(!key_check(r1->secret, "experiment.view", t.workspace,
	    r2->revision, reason, sizeof reason));
	EXPECT_CONTAINS(reason, "rotated");
	EXPECT(key_check(r2->secret, "experiment.view", t.workspace,
	    r2->revision, NULL, 0));

	/* The change names the old key (caches drop it) and the admin. */
	char revision[32];
	snprintf(revision, sizeof revision, "%llu",
	    (unsigned long long)r2->revision);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM change_log WHERE revision = $1::bigint"
	    " AND kind = 'api_key' AND api_key_id = $2 AND workspace_id = $3",
	    revision, r1->key->key_id, t.workspace, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE revision = $1::bigint"
	    " AND action = 'api_key.rotated' AND actor_user_id = $2",
	    revision, t.admin.id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND expires_at IS NULL", t.workspace, NULL), 1);
	exa_free(r1);
	exa_free(r2);
}

static void
rotation_with_grace_keeps_the_old_key_until_it_ends(void)
{
	struct fixture_user u;
	sign_up("grace", &u);
	Exe__Access__V1__Principal owner = fixture_as_user(u.id);
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_error err;
	EXPECT_INT(rotate(&owner, u.workspace, 3600, false, &r, &err), EXA_OK);
	if (r == NULL)
		return;
	EXPECT(key_check(u.key, "experiment.create", u.workspace, r->revision,
	    NULL, 0));
	EXPECT(key_check(r->secret, "experiment.create", u.workspace, 0, NULL,
	    0));

	Exe__Access__V1__GetApiKeyResponse *g = NULL;
	EXPECT_INT(get_key(&owner, u.workspace, &g, &err), EXA_OK);
	char old_id[40] = "";
	if (g != NULL) {
		EXPECT_STR(g->key->key_id, r->key->key_id);
		EXPECT_INT(g->key->expires_unix_ms, 0);
		EXPECT_INT(g->n_previous, 1);
		if (g->n_previous == 1) {
			EXPECT(starts_with(
			    g->previous[0]->display_prefix, u.key, 13));
			/* Expiry and creation come from the same transaction.
			 */
			EXPECT_INT(g->previous[0]->expires_unix_ms -
			    g->key->created_unix_ms, 3600 * 1000);
			snprintf(old_id, sizeof old_id, "%s",
			    g->previous[0]->key_id);
		}
	}
	exa_free(g);

	/* The grace period ends. */
	EXPECT_INT(harness_sql_long(&h,
	    "UPDATE api_keys SET expires_at = now() - interval '1 second'"
	    " WHERE id = $1 RETURNING 1", old_id, NULL), 1);
	char reason[320];
	EXPECT(!key_check(u.key, "experiment.view", u.workspace, 0, reason,
	    sizeof reason));
	EXPECT_CONTAINS(reason, "rotated");
	EXPECT(
	    key_check(r->secret, "experiment.view", u.workspace, 0, NULL, 0));
	EXPECT_INT(get_key(&owner, u.workspace, &g, &err), EXA_OK);
	if (g != NULL)
		EXPECT_INT(g->n_previous, 0);
	exa_free(g);
	exa_free(r);
}

static void
grace_over_a_day_is_refused(void)
{
	struct fixture_user u;
	sign_up("day", &u);
	Exe__Access__V1__Principal owner = fixture_as_user(u.id);
	exa_error err;
	EXPECT_INT(rotate(&owner, u.workspace, 86401, false, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "grace_seconds", 13) == 0);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1",
	    u.workspace, NULL), 1);
	EXPECT(key_check(u.key, "experiment.view", u.workspace, 0, NULL, 0));

	/* A day is the limit, and allowed. */
	EXPECT_INT(
	    rotate(&owner, u.workspace, 86400, false, NULL, &err), EXA_OK);
	Exe__Access__V1__GetApiKeyResponse *g = NULL;
	EXPECT_INT(get_key(&owner, u.workspace, &g, &err), EXA_OK);
	if (g != NULL && g->n_previous == 1)
		EXPECT_INT(g->previous[0]->expires_unix_ms -
		    g->key->created_unix_ms, 86400LL * 1000);
	else
		unit_case_failed = 1;
	exa_free(g);
}

/* contains_bytes says whether `len` bytes at `hay` contain `needle`. */
static bool
contains_bytes(const uint8_t *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; n <= len && i <= len - n; i++) {
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	}
	return false;
}

static void
get_api_key_never_shows_a_secret(void)
{
	struct fixture_user u;
	sign_up("show", &u);
	Exe__Access__V1__Principal owner = fixture_as_user(u.id);
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_error err;
	EXPECT_INT(rotate(&owner, u.workspace, 600, false, &r, &err), EXA_OK);
	if (r == NULL)
		return;
	Exe__Access__V1__GetApiKeyResponse *g = NULL;
	EXPECT_INT(get_key(&owner, u.workspace, &g, &err), EXA_OK);
	if (g == NULL) {
		exa_free(r);
		return;
	}
	EXPECT(starts_with(g->key->display_prefix, r->secret, 13));
	EXPECT_INT(g->n_previous, 1);
	if (g->n_previous == 1) {
		EXPECT(starts_with(g->previous[0]->display_prefix, u.key, 13));
		EXPECT(
		    g->previous[0]->expires_unix_ms > g->key->created_unix_ms);
	}
	/* Nothing past the visible prefix, of either secret, is anywhere in
	 * the response as it travelled. */
	size_t n = protobuf_c_message_get_packed_size(&g->base);
	uint8_t *packed = malloc(n + 1);
	EXPECT(packed != NULL);
	if (packed != NULL) {
		protobuf_c_message_pack(&g->base, packed);
		EXPECT(!contains_bytes(packed, n, r->secret + 9));
		EXPECT(!contains_bytes(packed, n, u.key + 9));
		EXPECT(!contains_bytes(packed, n, r->secret + 30));
		EXPECT(contains_bytes(packed, n, g->key->display_prefix));
		free(packed);
	}
	exa_free(g);
	exa_free(r);
}

static void
read_only_key_can_view_but_not_create(void)
{
	struct fixture_team t;
	make_team(&t);
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_error err;
	EXPECT_INT(rotate(&admin, t.workspace, 0, true, &r, &err), EXA_OK);
	if (r == NULL)
		return;
	EXPECT(r->key->read_only);
	char reason[320];
	EXPECT(
	    key_check(r->secret, "experiment.view", t.workspace, 0, NULL, 0));
	EXPECT(key_check(r->secret, "activity.view", t.workspace, 0, NULL, 0));
	EXPECT(!key_check(r->secret, "experiment.create", t.workspace, 0,
	    reason, sizeof reason));
	EXPECT_CONTAINS(reason, "read-only");
	EXPECT_CONTAINS(reason, "experiment.create");
	EXPECT(
	    !key_check(r->secret, "measurement.add", t.workspace, 0, NULL, 0));

	Exe__Access__V1__GetApiKeyResponse *g = NULL;
	EXPECT_INT(get_key(&admin, t.workspace, &g, &err), EXA_OK);
	if (g != NULL)
		EXPECT(g->key->read_only);
	exa_free(g);

	/* Rotating back to a full key lifts the restriction. */
	Exe__Access__V1__RotateApiKeyResponse *r2 = NULL;
	EXPECT_INT(rotate(&admin, t.workspace, 0, false, &r2, &err), EXA_OK);
	if (r2 != NULL)
		EXPECT(key_check(
		    r2->secret, "experiment.create", t.workspace, 0, NULL, 0));
	exa_free(r2);
	exa_free(r);
}

static void
only_admins_rotate_or_view_keys(void)
{
	struct fixture_team t;
	make_team(&t);
	struct fixture_user outsider;
	sign_up("out", &outsider);
	Exe__Access__V1__Principal member = fixture_as_user(t.member.id);
	Exe__Access__V1__Principal reader = fixture_as_user(t.reader.id);
	Exe__Access__V1__Principal stranger = fixture_as_user(outsider.id);
	Exe__Access__V1__GetApiKeyResponse *g;
	exa_error err;

	EXPECT_INT(rotate(&member, t.workspace, 0, false, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role member");
	EXPECT_CONTAINS(err.message, "api_key.rotate");
	EXPECT_INT(get_key(&member, t.workspace, &g, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "api_key.view");
	EXPECT_INT(rotate(&reader, t.workspace, 0, false, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role read_only");
	EXPECT_INT(get_key(&reader, t.workspace, &g, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(rotate(&stranger, t.workspace, 0, false, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "not a member");
	/* R2: nobody but the owner manages a personal workspace's key. */
	EXPECT_INT(rotate(&member, outsider.workspace, 0, false, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(get_key(&member, outsider.workspace, &g, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1",
	    t.workspace, NULL), 1); /* only the one it was created with */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1",
	    outsider.workspace, NULL), 1);

	EXPECT_INT(rotate(&stranger, "00000000-0000-4000-8000-000000000000", 0,
	    false, NULL, &err), EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "workspace_id");
}

static void
api_key_cannot_rotate_or_view_keys(void)
{
	struct fixture_user u;
	sign_up("keyact", &u);
	Exe__Access__V1__Principal key = fixture_as_key(u.key);
	Exe__Access__V1__GetApiKeyResponse *g;
	exa_error err;
	EXPECT_INT(rotate(&key, u.workspace, 0, false, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "API keys never hold api_key.rotate");
	EXPECT_INT(get_key(&key, u.workspace, &g, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "api_key.view");
	/* Nothing was rotated: the key still works and is the only one. */
	EXPECT(key_check(u.key, "experiment.view", u.workspace, 0, NULL, 0));
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1",
	    u.workspace, NULL), 1);
}

static void
secrets_stay_out_of_the_database_and_the_log(void)
{
	struct fixture_user u;
	sign_up("leak", &u);
	Exe__Access__V1__Principal owner = fixture_as_user(u.id);
	Exe__Access__V1__RotateApiKeyResponse *r1 = NULL, *r2 = NULL;
	exa_error err;
	EXPECT_INT(rotate(&owner, u.workspace, 60, false, &r1, &err), EXA_OK);
	EXPECT_INT(rotate(&owner, u.workspace, 0, true, &r2, &err), EXA_OK);
	if (r1 == NULL || r2 == NULL) {
		exa_free(r1);
		exa_free(r2);
		return;
	}
	/* Use them, well and badly, so they pass through every path that
	 * might log or store them. */
	Exe__Access__V1__Principal key = fixture_as_key(r2->secret);
	EXPECT_INT(rotate(&key, u.workspace, 0, false, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT(!key_check(r1->secret, "experiment.view",
	    "00000000-0000-4000-8000-000000000000", 0, NULL, 0));
	EXPECT(
	    key_check(r2->secret, "experiment.view", u.workspace, 0, NULL, 0));

	static const char *const tables[] = {"users", "workspaces",
	    "memberships", "invitations", "api_keys", "resources", "activity",
	    "change_log"};
	EXPECT(n_seen > 20);
	for (size_t s = 0; s < n_seen; s++) {
		const char *hidden = seen[s] + 9; /* past "exa_live_" */
		for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
			char sql[160];
			snprintf(sql, sizeof sql,
			    "SELECT count(*) FROM %s t"
			    " WHERE position($1 in t::text) > 0", tables[i]);
			long found = harness_sql_long(&h, sql, hidden, NULL);
			if (found != 0)
				fprintf(stderr, "  secret %zu found in %s\n", s,
				    tables[i]);
			EXPECT_INT(found, 0);
		}
		EXPECT(!harness_log_contains(&h, hidden));
		char prefix_and_more[20];
		snprintf(prefix_and_more, sizeof prefix_and_more, "%.18s",
		    seen[s]);
		EXPECT(!harness_log_contains(&h, prefix_and_more));
	}
	/* Only the keyed hash is stored: 32 bytes per key. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND length(key_hash) = 32 AND length(display_prefix) = 13",
	    u.workspace, NULL), 3);
	exa_free(r1);
	exa_free(r2);
}

static void
last_use_is_recorded_at_most_once_a_minute(void)
{
	struct fixture_user u;
	sign_up("used", &u);
	Exe__Access__V1__Principal owner = fixture_as_user(u.id);
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_error err;
	EXPECT_INT(rotate(&owner, u.workspace, 0, false, &r, &err), EXA_OK);
	if (r == NULL)
		return;
	const char *id = r->key->key_id;
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE id = $1"
	    " AND last_used_at IS NULL", id, NULL), 1);

	EXPECT(
	    key_check(r->secret, "experiment.view", u.workspace, 0, NULL, 0));
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE id = $1"
	    " AND last_used_at > now() - interval '1 minute'", id, NULL), 1);
	Exe__Access__V1__GetApiKeyResponse *g = NULL;
	EXPECT_INT(get_key(&owner, u.workspace, &g, &err), EXA_OK);
	if (g != NULL) {
		EXPECT(g->key->last_used_unix_ms >= g->key->created_unix_ms);
		EXPECT(g->key->last_used_unix_ms > 0);
	}
	exa_free(g);

	/* Used 30 s ago: another use does not write again. */
	EXPECT_INT(harness_sql_long(&h,
	    "UPDATE api_keys SET last_used_at = now() - interval '30 seconds'"
	    " WHERE id = $1 RETURNING 1", id, NULL), 1);
	EXPECT(
	    key_check(r->secret, "experiment.view", u.workspace, 0, NULL, 0));
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE id = $1"
	    " AND last_used_at < now() - interval '29 seconds'", id, NULL), 1);

	/* Used two minutes ago: this use is recorded. */
	EXPECT_INT(harness_sql_long(&h,
	    "UPDATE api_keys SET last_used_at = now() - interval '2 minutes'"
	    " WHERE id = $1 RETURNING 1", id, NULL), 1);
	EXPECT(
	    key_check(r->secret, "experiment.view", u.workspace, 0, NULL, 0));
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE id = $1"
	    " AND last_used_at > now() - interval '1 minute'", id, NULL), 1);

	/* A refused secret (rotated away) records nothing. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND expires_at IS NOT NULL AND last_used_at IS NOT NULL",
	    u.workspace, NULL), 0);
	EXPECT(!key_check(u.key, "experiment.view", u.workspace, 0, NULL, 0));
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND expires_at IS NOT NULL AND last_used_at IS NOT NULL",
	    u.workspace, NULL), 0);
	exa_free(r);
}

struct racer {
	const struct fixture_user *u;
	exa_status rc;
	char key_id[40];
	unsigned long long revision;
};

static void *
race_rotate(void *arg)
{
	struct racer *rc = arg;
	Exe__Access__V1__Principal owner = fixture_as_user(rc->u->id);
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_error err;
	rc->rc = rotate(&owner, rc->u->workspace, 60, false, &r, &err);
	if (r != NULL) {
		snprintf(rc->key_id, sizeof rc->key_id, "%s", r->key->key_id);
		rc->revision = r->revision;
	}
	exa_free(r);
	return NULL;
}

static void
concurrent_rotations_leave_one_current_key(void)
{
	enum { N = 6 };
	struct fixture_user u;
	sign_up("race", &u);
	pthread_t threads[N];
	struct racer racers[N];
	for (int i = 0; i < N; i++) {
		racers[i] = (struct racer){.u = &u, .rc = -1};
		pthread_create(&threads[i], NULL, race_rotate, &racers[i]);
	}
	int ok = 0, last = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(threads[i], NULL);
		ok += racers[i].rc == EXA_OK;
		if (racers[i].revision > racers[last].revision)
			last = i;
	}
	EXPECT_INT(ok, N);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1",
	    u.workspace, NULL), N + 1);
	/* The current key is the one the last rotation made. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND expires_at IS NULL AND id = $2", u.workspace,
	    racers[last].key_id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM api_keys WHERE workspace_id = $1"
	    " AND expires_at IS NULL", u.workspace, NULL), 1);
}

static void
bad_requests_name_the_field(void)
{
	struct fixture_user u;
	sign_up("bad", &u);
	Exe__Access__V1__Principal owner = fixture_as_user(u.id);
	Exe__Access__V1__Principal nobody = EXE__ACCESS__V1__PRINCIPAL__INIT;
	Exe__Access__V1__Principal bad_user = fixture_as_user(u.id);
	bad_user.user_id = "bob";
	Exe__Access__V1__GetApiKeyResponse *g;
	exa_error err;
	EXPECT_INT(rotate(&owner, "nope", 0, false, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id", 12) == 0);
	EXPECT_INT(rotate(&nobody, u.workspace, 0, false, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "actor", 5) == 0);
	EXPECT_INT(rotate(&bad_user, u.workspace, 0, false, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "actor.user_id", 13) == 0);
	EXPECT_INT(get_key(&owner, "", &g, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "workspace_id", 12) == 0);
	EXPECT_INT(get_key(NULL, u.workspace, &g, &err), EXA_INVALID_ARGUMENT);
	EXPECT(strncmp(err.message, "actor", 5) == 0);
	/* An actor key of the wrong form (here one character mistyped, so
	 * its checksum fails) is bad input, refused before the database;
	 * one of the right form that is dead is denied. */
	char typo[64];
	snprintf(typo, sizeof typo, "%s", u.key);
	typo[12] = typo[12] == 'x' ? 'y' : 'x';
	Exe__Access__V1__Principal mistyped = fixture_as_key(typo);
	EXPECT_INT(get_key(&mistyped, u.workspace, &g, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "actor.api_key: not an ExE Access API key");
	EXPECT_INT(rotate(&mistyped, u.workspace, 0, false, NULL, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "actor.api_key");
	Exe__Access__V1__Principal key = fixture_as_key(u.key);
	EXPECT_INT(get_key(&key, u.workspace, &g, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "API keys never hold api_key.view");
}

static const struct unit_case cases[] = {
    {"rotation without grace stops the old key at once",
        rotation_without_grace_stops_the_old_key_at_once},
    {"rotation with grace keeps the old key until it ends",
        rotation_with_grace_keeps_the_old_key_until_it_ends},
    {"grace over a day is refused", grace_over_a_day_is_refused},
    {"GetApiKey never shows a secret", get_api_key_never_shows_a_secret},
    {"a read-only key can view but not create",
        read_only_key_can_view_but_not_create},
    {"only admins rotate or view keys", only_admins_rotate_or_view_keys},
    {"an API key cannot rotate or view keys",
        api_key_cannot_rotate_or_view_keys},
    {"last use is recorded at most once a minute",
        last_use_is_recorded_at_most_once_a_minute},
    {"concurrent rotations leave one current key",
        concurrent_rotations_leave_one_current_key},
    {"bad requests name the field", bad_requests_name_the_field},
    /* Last: it searches the log of everything above. */
    {"secrets stay out of the database and the log",
        secrets_stay_out_of_the_database_and_the_log},
};

UNIT_STATE

int
main(void)
{
	/* Some cases fake the passage of time by editing the database behind
	 * the service's back, which a cache is allowed not to notice: run this
	 * suite uncached. authz_test covers keys through the cache. */
	return fixture_run_suite(&h, "apikeys",
	    (const char *const[]){"--cache-size=0", NULL}, cases,
	    sizeof cases / sizeof cases[0]);
}
