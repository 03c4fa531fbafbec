/* Invitations to team workspaces (SPEC R9, with R2, R4, R7, R10's rule on
 * secrets and R12's reasons), through the client library against a real
 * exe-accessd: create by username or by email, list, revoke, accept and
 * decline, expiry, the invited person only, once, also under a race, and
 * the token never stored or logged in clear. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

#define ROLE(r) EXE__ACCESS__V1__ROLE__ROLE_##r
#define STATE(s) EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_##s

/* Every token any case received, to look for in the database and the log
 * at the end. */
static char tokens[64][128];
static int ntokens;

static void
keep_token(const char *token)
{
	if (ntokens < 64)
		snprintf(tokens[ntokens++], sizeof tokens[0], "%s", token);
}

/* make_team signs up an admin, who creates an organisation and a team
 * workspace in it (and so is its first admin). */
static void
make_team(struct fixture_team *t)
{
	fixture_team_found(h.client, "admin", "Invitations Org", "Lab team", t);
}

/* invite_as: `actor` invites `username` or (if username is NULL) `email`
 * to `workspace_id` (see fixture_invite). The response goes to *out (may
 * be NULL to discard it) and the token is remembered. */
static exa_status
invite_as(const Exe__Access__V1__Principal *actor, const char *workspace_id,
    const char *username, const char *email, Exe__Access__V1__Role role,
    unsigned days, Exe__Access__V1__CreateInvitationResponse **out,
    exa_error *err)
{
	Exe__Access__V1__CreateInvitationResponse *r = NULL;
	exa_status rc = fixture_invite(h.client, actor, workspace_id, username,
	    email, role, days, &r, err);
	if (r != NULL && r->token != NULL)
		keep_token(r->token);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

static exa_status
invite(const char *actor_id, const char *workspace_id, const char *username,
    const char *email, Exe__Access__V1__Role role,
    Exe__Access__V1__CreateInvitationResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	return invite_as(&actor, workspace_id, username, email, role, 0, out,
	    err);
}

/* An invitation a case made and keeps using. */
struct invitation {
	char id[40];
	char token[128];
	long long lifetime_ms; /* from its creation to its expiry */
};

/* make_invitation: the team's admin invites `username` with `role` for
 * `days` (0: the default) and keeps it in `inv`; false (the case failed)
 * if that did not work. */
static bool
make_invitation(const struct fixture_team *t, const char *username,
    Exe__Access__V1__Role role, unsigned days, struct invitation *inv)
{
	memset(inv, 0, sizeof *inv);
	Exe__Access__V1__Principal admin = fixture_as_user(t->admin.id);
	Exe__Access__V1__CreateInvitationResponse *c = NULL;
	exa_error err;
	EXPECT_INT(invite_as(&admin, t->workspace, username, NULL, role, days,
	    &c, &err), EXA_OK);
	if (c == NULL)
		return false;
	snprintf(inv->id, sizeof inv->id, "%s", c->invitation->id);
	snprintf(inv->token, sizeof inv->token, "%s", c->token);
	inv->lifetime_ms =
	    c->invitation->expires_unix_ms - c->invitation->created_unix_ms;
	exa_free(c);
	return true;
}

static exa_status
accept_inv(const char *user_id, const char *token,
    Exe__Access__V1__MemberResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(user_id);
	return fixture_accept_invitation(h.client, &actor, token, out, err);
}

static exa_status
revoke_inv(const char *actor_id, const char *invitation_id, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__RevokeInvitationRequest req =
	    EXE__ACCESS__V1__REVOKE_INVITATION_REQUEST__INIT;
	req.actor = &actor;
	req.invitation_id = (char *)invitation_id;
	Exe__Access__V1__WriteResponse *r = NULL;
	exa_status rc = exa_revoke_invitation(h.client, &req, &r, err);
	exa_free(r);
	return rc;
}

static exa_status
list_inv_as(const Exe__Access__V1__Principal *actor, const char *workspace_id,
    bool include_closed, uint32_t page_size, const char *page_token,
    Exe__Access__V1__ListInvitationsResponse **out, exa_error *err)
{
	Exe__Access__V1__ListInvitationsRequest req =
	    EXE__ACCESS__V1__LIST_INVITATIONS_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	req.include_closed = include_closed;
	req.page_size = page_size;
	req.page_token = (char *)(page_token != NULL ? page_token : "");
	*out = NULL;
	return exa_list_invitations(h.client, &req, out, err);
}

static exa_status
list_inv(const char *actor_id, const char *workspace_id, bool include_closed,
    Exe__Access__V1__ListInvitationsResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	return list_inv_as(&actor, workspace_id, include_closed, 0, NULL, out, err);
}

/* listed_state returns the state `id` is listed with (UNSPECIFIED if it
 * is not listed), and fails the case if a listed field holds a token. */
static Exe__Access__V1__InvitationState
listed_state(const char *admin_id, const char *workspace_id,
    bool include_closed, const char *id)
{
	Exe__Access__V1__ListInvitationsResponse *page;
	exa_error err;
	Exe__Access__V1__InvitationState state = STATE(UNSPECIFIED);
	EXPECT_INT(list_inv(admin_id, workspace_id, include_closed, &page, &err),
	    EXA_OK);
	for (size_t i = 0; page != NULL && i < page->n_invitations; i++) {
		const Exe__Access__V1__Invitation *inv = page->invitations[i];
		EXPECT_STR(inv->workspace_id, workspace_id);
		for (int t = 0; t < ntokens; t++) {
			EXPECT(strstr(inv->id, tokens[t]) == NULL);
			EXPECT(strstr(inv->invitee_username, tokens[t]) == NULL);
			EXPECT(strstr(inv->invitee_email, tokens[t]) == NULL);
		}
		if (strcmp(inv->id, id) == 0)
			state = inv->state;
	}
	exa_free(page);
	return state;
}

/* check_fresh asks Check whether `user_id` holds `permission` in
 * `workspace_id`, at least as fresh as `revision` (so no cache can answer
 * from before the write that returned it). */
static void
check_fresh(const char *user_id, const char *permission,
    const char *workspace_id, uint64_t revision, exa_decision *d)
{
	exa_error err;
	memset(d, 0, sizeof *d);
	EXPECT_INT(exa_check_fresh(h.client, user_id, permission, workspace_id,
	    revision, d, &err), EXA_OK);
}

static long
membership_count(const char *workspace_id, const char *user_id,
    const char *role)
{
	/* A NULL ends harness_sql_long's parameters: "" means any role. */
	return harness_sql_long(&h,
	    "SELECT count(*) FROM memberships WHERE workspace_id = $1"
	    " AND user_id = $2 AND ($3 = '' OR role = $3)",
	    workspace_id, user_id, role != NULL ? role : "", NULL);
}

static void
life_cycle_by_username(void)
{
	struct fixture_team t;
	struct fixture_user bob;
	make_team(&t);
	fixture_sign_up(h.client, "bob", &bob);
	exa_decision d;
	exa_error err;
	EXPECT_INT(exa_check(h.client, bob.id, "experiment.create", t.workspace,
	    &d, &err), EXA_OK);
	EXPECT(!d.allowed);

	/* The username is matched whatever its case. */
	char upper[64];
	snprintf(upper, sizeof upper, "%s", bob.username);
	upper[0] = 'B';
	Exe__Access__V1__CreateInvitationResponse *c = NULL;
	EXPECT_INT(invite(t.admin.id, t.workspace, upper, NULL,
	    ROLE(UNSPECIFIED), &c, &err), EXA_OK);
	if (c == NULL)
		return;
	EXPECT(strncmp(c->token, "exa_inv_", 8) == 0);
	EXPECT(strlen(c->token) >= 8 + 22); /* at least 128 bits */
	EXPECT_STR(c->invitation->invitee_username, bob.username);
	EXPECT_STR(c->invitation->invitee_email, "");
	EXPECT_INT(c->invitation->role, ROLE(MEMBER));
	EXPECT_INT(c->invitation->state, STATE(PENDING));
	EXPECT_STR(c->invitation->invited_by_user_id, t.admin.id);
	/* Default expiry: 7 days. */
	EXPECT_INT(c->invitation->expires_unix_ms - c->invitation->created_unix_ms,
	    7LL * 24 * 3600 * 1000);
	EXPECT(c->revision > 0);
	char id[40], token[128], revision[32];
	snprintf(id, sizeof id, "%s", c->invitation->id);
	snprintf(token, sizeof token, "%s", c->token);
	snprintf(revision, sizeof revision, "%llu",
	    (unsigned long long)c->revision);
	exa_free(c);

	/* R7: the change log and the activity record. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM change_log WHERE revision = $1::bigint"
	    " AND kind = 'invitation' AND workspace_id = $2",
	    revision, t.workspace, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE revision = $1::bigint"
	    " AND action = 'invitation.created' AND actor_user_id = $2"
	    " AND workspace_id = $3 AND detail = $4",
	    revision, t.admin.id, t.workspace, bob.username, NULL), 1);

	EXPECT_INT(listed_state(t.admin.id, t.workspace, false, id),
	    STATE(PENDING));

	Exe__Access__V1__MemberResponse *m = NULL;
	uint64_t accepted_at = 0;
	EXPECT_INT(accept_inv(bob.id, token, &m, &err), EXA_OK);
	if (m != NULL) {
		EXPECT_STR(m->member->user_id, bob.id);
		EXPECT_STR(m->member->workspace_id, t.workspace);
		EXPECT_STR(m->member->username, bob.username);
		EXPECT_INT(m->member->role, ROLE(MEMBER));
		accepted_at = m->revision;
		snprintf(revision, sizeof revision, "%llu",
		    (unsigned long long)m->revision);
	}
	exa_free(m);
	EXPECT_INT(membership_count(t.workspace, bob.id, "member"), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM invitations WHERE id = $1"
	    " AND state = 'accepted' AND closed_by = $2 AND closed_at IS NOT NULL",
	    id, bob.id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM change_log WHERE revision = $1::bigint"
	    " AND kind = 'membership' AND workspace_id = $2 AND user_id = $3",
	    revision, t.workspace, bob.id, NULL), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE revision = $1::bigint"
	    " AND action = 'invitation.accepted' AND actor_user_id = $2"
	    " AND workspace_id = $3", revision, bob.id, t.workspace, NULL), 1);

	/* The member role's permissions hold, and only those. */
	check_fresh(bob.id, "experiment.create", t.workspace, accepted_at, &d);
	EXPECT(d.allowed);
	EXPECT_INT(d.role, ROLE(MEMBER));
	check_fresh(bob.id, "members.invite", t.workspace, accepted_at, &d);
	EXPECT(!d.allowed);
	EXPECT_CONTAINS(d.reason, "role member");

	/* Accepted: no longer pending, still in the full list. */
	EXPECT_INT(listed_state(t.admin.id, t.workspace, false, id),
	    STATE(UNSPECIFIED));
	EXPECT_INT(listed_state(t.admin.id, t.workspace, true, id),
	    STATE(ACCEPTED));
}

static void
email_invitation_is_accepted_after_sign_up(void)
{
	struct fixture_team t;
	make_team(&t);
	char email[128];
	snprintf(email, sizeof email, "%s@newcomers.example.org",
	    harness_unique("newbie"));
	exa_error err;
	Exe__Access__V1__CreateInvitationResponse *c = NULL;
	EXPECT_INT(invite(t.admin.id, t.workspace, NULL, email, ROLE(READ_ONLY),
	    &c, &err), EXA_OK);
	if (c == NULL)
		return;
	EXPECT_STR(c->invitation->invitee_email, email);
	EXPECT_STR(c->invitation->invitee_username, "");
	EXPECT_INT(c->invitation->role, ROLE(READ_ONLY));
	char token[128];
	snprintf(token, sizeof token, "%s", c->token);
	exa_free(c);

	/* Someone with another address cannot use it. */
	struct fixture_user other;
	fixture_sign_up(h.client, "other", &other);
	EXPECT_INT(accept_inv(other.id, token, NULL, &err), EXA_PERMISSION_DENIED);

	/* The invited person signs up later, spelling the address in
	 * upper case, and accepts. */
	char upper[128];
	snprintf(upper, sizeof upper, "%s", email);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	struct fixture_user newbie;
	fixture_sign_up_email(h.client, "newbie", upper, &newbie);
	Exe__Access__V1__MemberResponse *m = NULL;
	uint64_t accepted_at = 0;
	EXPECT_INT(accept_inv(newbie.id, token, &m, &err), EXA_OK);
	if (m != NULL) {
		EXPECT_INT(m->member->role, ROLE(READ_ONLY));
		accepted_at = m->revision;
	}
	exa_free(m);
	EXPECT_INT(membership_count(t.workspace, newbie.id, "read_only"), 1);
	EXPECT_INT(membership_count(t.workspace, other.id, NULL), 0);
	exa_decision d;
	check_fresh(newbie.id, "experiment.view", t.workspace, accepted_at, &d);
	EXPECT(d.allowed);
	EXPECT_INT(d.role, ROLE(READ_ONLY));
	check_fresh(newbie.id, "experiment.create", t.workspace, accepted_at,
	    &d);
	EXPECT(!d.allowed);
	EXPECT_CONTAINS(d.reason, "read_only");
}

static void
decline_closes_the_invitation(void)
{
	struct fixture_team t;
	struct fixture_user carol;
	make_team(&t);
	fixture_sign_up(h.client, "carol", &carol);
	struct invitation inv;
	if (!make_invitation(&t, carol.username, ROLE(ADMIN), 0, &inv))
		return;
	exa_error err;

	EXPECT_INT(fixture_decline_invitation(h.client, t.admin.id, inv.token,
	    &err), EXA_PERMISSION_DENIED);
	EXPECT_INT(fixture_decline_invitation(h.client, carol.id, inv.token,
	    &err), EXA_OK);
	EXPECT_INT(fixture_decline_invitation(h.client, carol.id, inv.token,
	    &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "declined");
	EXPECT_INT(accept_inv(carol.id, inv.token, NULL, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "declined");
	EXPECT_INT(membership_count(t.workspace, carol.id, NULL), 0);
	EXPECT_INT(listed_state(t.admin.id, t.workspace, true, inv.id),
	    STATE(DECLINED));
	EXPECT_INT(listed_state(t.admin.id, t.workspace, false, inv.id),
	    STATE(UNSPECIFIED));
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE action = 'invitation.declined'"
	    " AND actor_user_id = $1 AND workspace_id = $2", carol.id,
	    t.workspace, NULL), 1);
}

static void
revoke_while_pending_only(void)
{
	struct fixture_team t;
	struct fixture_user dan, member;
	make_team(&t);
	fixture_sign_up(h.client, "dan", &dan);
	fixture_team_join(h.client, &t, "member", ROLE(MEMBER), &member);
	struct invitation inv;
	if (!make_invitation(&t, dan.username, ROLE(MEMBER), 0, &inv))
		return;
	exa_error err;

	EXPECT_INT(revoke_inv(member.id, inv.id, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "members.invite");
	EXPECT_INT(revoke_inv(dan.id, inv.id, &err), EXA_PERMISSION_DENIED);
	EXPECT_INT(revoke_inv(t.admin.id, inv.id, &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE action = 'invitation.revoked'"
	    " AND actor_user_id = $1 AND workspace_id = $2", t.admin.id,
	    t.workspace, NULL), 1);
	EXPECT_INT(revoke_inv(t.admin.id, inv.id, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "revoked");

	EXPECT_INT(accept_inv(dan.id, inv.token, NULL, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "revoked");
	EXPECT_INT(membership_count(t.workspace, dan.id, NULL), 0);
	EXPECT_INT(listed_state(t.admin.id, t.workspace, true, inv.id),
	    STATE(REVOKED));

	/* Revoked, Dan can be invited again, and accept that one. */
	Exe__Access__V1__CreateInvitationResponse *c = NULL;
	EXPECT_INT(invite(t.admin.id, t.workspace, dan.username, NULL,
	    ROLE(MEMBER), &c, &err), EXA_OK);
	if (c != NULL)
		EXPECT_INT(accept_inv(dan.id, c->token, NULL, &err), EXA_OK);
	exa_free(c);
	/* An accepted invitation cannot be revoked. */
	EXPECT_INT(revoke_inv(t.admin.id, inv.id, &err),
	    EXA_FAILED_PRECONDITION);

	EXPECT_INT(revoke_inv(t.admin.id, "00000000-0000-4000-8000-000000000000",
	    &err), EXA_NOT_FOUND);
	EXPECT_CONTAINS(err.message, "invitation_id");
}

static void
expired_invitations_cannot_be_accepted(void)
{
	struct fixture_team t;
	struct fixture_user erin;
	make_team(&t);
	fixture_sign_up(h.client, "erin", &erin);
	struct invitation inv;
	if (!make_invitation(&t, erin.username, ROLE(MEMBER), 30, &inv))
		return;
	EXPECT_INT(inv.lifetime_ms, 30LL * 24 * 3600 * 1000);
	exa_error err;

	/* Time passes. */
	EXPECT_INT(harness_sql_long(&h,
	    "UPDATE invitations SET expires_at = now() - interval '1 minute'"
	    " WHERE id = $1 RETURNING 1", inv.id, NULL), 1);

	EXPECT_INT(accept_inv(erin.id, inv.token, NULL, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "expired");
	EXPECT_INT(fixture_decline_invitation(h.client, erin.id, inv.token,
	    &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "expired");
	EXPECT_INT(revoke_inv(t.admin.id, inv.id, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "expired");
	EXPECT_INT(membership_count(t.workspace, erin.id, NULL), 0);
	EXPECT_INT(listed_state(t.admin.id, t.workspace, false, inv.id),
	    STATE(UNSPECIFIED));
	EXPECT_INT(listed_state(t.admin.id, t.workspace, true, inv.id),
	    STATE(EXPIRED));

	/* An expired invitation does not block a new one. */
	EXPECT_INT(invite(t.admin.id, t.workspace, erin.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_OK);
}

static void
only_the_invited_person_accepts(void)
{
	struct fixture_team t;
	struct fixture_user fay, mallory;
	make_team(&t);
	fixture_sign_up(h.client, "fay", &fay);
	fixture_sign_up(h.client, "mallory", &mallory);
	struct invitation inv;
	if (!make_invitation(&t, fay.username, ROLE(MEMBER), 0, &inv))
		return;
	exa_error err;

	EXPECT_INT(accept_inv(mallory.id, inv.token, NULL, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, mallory.id);
	EXPECT(strstr(err.message, inv.token) == NULL);
	EXPECT_INT(fixture_decline_invitation(h.client, mallory.id, inv.token,
	    &err), EXA_PERMISSION_DENIED);
	EXPECT_INT(accept_inv(t.admin.id, inv.token, NULL, &err),
	    EXA_PERMISSION_DENIED);
	/* An API key is not a person. */
	Exe__Access__V1__Principal key = fixture_as_key(fay.key);
	EXPECT_INT(fixture_accept_invitation(h.client, &key, inv.token, NULL,
	    &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "API key");
	EXPECT_INT(membership_count(t.workspace, mallory.id, NULL), 0);

	/* None of that used it up. */
	EXPECT_INT(accept_inv(fay.id, inv.token, NULL, &err), EXA_OK);
	EXPECT_INT(membership_count(t.workspace, fay.id, "member"), 1);

	/* A second acceptance is refused, and says why. */
	EXPECT_INT(accept_inv(fay.id, inv.token, NULL, &err),
	    EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "already accepted");
	EXPECT_INT(membership_count(t.workspace, fay.id, NULL), 1);
}

struct racer {
	const char *user_id;
	const char *token;
	exa_status rc;
	char message[512];
};

static void *
race_accept(void *arg)
{
	struct racer *r = arg;
	exa_error err;
	r->rc = accept_inv(r->user_id, r->token, NULL, &err);
	snprintf(r->message, sizeof r->message, "%s",
	    r->rc == EXA_OK ? "" : err.message);
	return NULL;
}

static void
concurrent_acceptances_make_one_membership(void)
{
	enum { N = 8 };
	struct fixture_team t;
	struct fixture_user gus;
	make_team(&t);
	fixture_sign_up(h.client, "gus", &gus);
	struct invitation inv;
	if (!make_invitation(&t, gus.username, ROLE(READ_ONLY), 0, &inv))
		return;

	pthread_t threads[N];
	struct racer racers[N];
	for (int i = 0; i < N; i++) {
		racers[i] = (struct racer){gus.id, inv.token, -1, ""};
		pthread_create(&threads[i], NULL, race_accept, &racers[i]);
	}
	int ok = 0, refused = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(threads[i], NULL);
		ok += racers[i].rc == EXA_OK;
		if (racers[i].rc == EXA_FAILED_PRECONDITION &&
		    strstr(racers[i].message, "already accepted") != NULL)
			refused++;
		else if (racers[i].rc != EXA_OK)
			fprintf(stderr, "  racer %d: %s: %s\n", i,
			    exa_status_name(racers[i].rc), racers[i].message);
	}
	EXPECT_INT(ok, 1);
	EXPECT_INT(refused, N - 1);
	EXPECT_INT(membership_count(t.workspace, gus.id, NULL), 1);
	EXPECT_INT(membership_count(t.workspace, gus.id, "read_only"), 1);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM activity WHERE action = 'invitation.accepted'"
	    " AND actor_user_id = $1", gus.id, NULL), 1);
}

static void
personal_workspaces_take_no_invitations(void)
{
	struct fixture_user owner, friend;
	fixture_sign_up(h.client, "solo", &owner);
	fixture_sign_up(h.client, "friend", &friend);
	exa_error err;
	EXPECT_INT(invite(owner.id, owner.workspace, friend.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "personal workspace");
	EXPECT_INT(invite(owner.id, owner.workspace, NULL, "x@example.com",
	    ROLE(MEMBER), NULL, &err), EXA_FAILED_PRECONDITION);
	EXPECT_CONTAINS(err.message, "personal workspace");
	/* Nor by anyone else, who is refused as a stranger to a team is,
	 * without hearing that the workspace is personal. */
	EXPECT_INT(invite(friend.id, owner.workspace, friend.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "is not a member of workspace");
	EXPECT(strstr(err.message, "personal") == NULL);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM invitations WHERE workspace_id = $1",
	    owner.workspace, NULL), 0);
	EXPECT_INT(membership_count(owner.workspace, friend.id, NULL), 0);

	/* The same owner can invite to a team they administer. */
	struct fixture_team t;
	make_team(&t);
	EXPECT_INT(invite(t.admin.id, t.workspace, friend.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_OK);
	EXPECT_INT(invite(t.admin.id, t.admin.workspace, friend.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_FAILED_PRECONDITION);
}

static void
members_and_pending_invitees_are_not_invited_again(void)
{
	struct fixture_team t;
	struct fixture_user hal, ivy;
	make_team(&t);
	fixture_team_join(h.client, &t, "hal", ROLE(READ_ONLY), &hal);
	fixture_sign_up(h.client, "ivy", &ivy);
	exa_error err;
	EXPECT_INT(invite(t.admin.id, t.workspace, hal.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, "already a member");
	EXPECT_CONTAINS(err.message, "read_only");
	/* By the member's email, in another case. */
	char upper[128];
	snprintf(upper, sizeof upper, "%s", hal.email);
	upper[0] = (char)(upper[0] - 'a' + 'A');
	EXPECT_INT(invite(t.admin.id, t.workspace, NULL, upper, ROLE(MEMBER),
	    NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, "already a member");
	EXPECT_INT(invite(t.admin.id, t.workspace, t.admin.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_ALREADY_EXISTS);

	/* Ivy is not a member: invited once; a second invitation, by her
	 * username or her email, names the pending one. */
	struct invitation inv;
	if (!make_invitation(&t, ivy.username, ROLE(MEMBER), 0, &inv))
		return;
	EXPECT_INT(invite(t.admin.id, t.workspace, ivy.username, NULL,
	    ROLE(ADMIN), NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, inv.id);
	EXPECT_INT(invite(t.admin.id, t.workspace, NULL, ivy.email,
	    ROLE(MEMBER), NULL, &err), EXA_ALREADY_EXISTS);
	EXPECT_CONTAINS(err.message, inv.id);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM invitations WHERE workspace_id = $1"
	    " AND state = 'pending'", t.workspace, NULL), 1);

	/* Someone who became a member since cannot accept. */
	Exe__Access__V1__CreateInvitationResponse *c2 = NULL;
	struct fixture_user jo;
	fixture_sign_up(h.client, "jo", &jo);
	EXPECT_INT(invite(t.admin.id, t.workspace, jo.username, NULL,
	    ROLE(ADMIN), &c2, &err), EXA_OK);
	fixture_team_add(h.client, &t, &jo, ROLE(READ_ONLY));
	if (c2 != NULL) {
		EXPECT_INT(accept_inv(jo.id, c2->token, NULL, &err),
		    EXA_ALREADY_EXISTS);
		EXPECT_CONTAINS(err.message, "already a member");
	}
	exa_free(c2);
	EXPECT_INT(membership_count(t.workspace, jo.id, "read_only"), 1);
}

static void
only_team_admins_invite(void)
{
	struct fixture_team t;
	struct fixture_user member, viewer, stranger, target;
	make_team(&t);
	fixture_team_join(h.client, &t, "member", ROLE(MEMBER), &member);
	fixture_team_join(h.client, &t, "viewer", ROLE(READ_ONLY), &viewer);
	fixture_sign_up(h.client, "stranger", &stranger);
	fixture_sign_up(h.client, "target", &target);
	exa_error err;
	EXPECT_INT(invite(member.id, t.workspace, target.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role member");
	EXPECT_CONTAINS(err.message, "members.invite");
	EXPECT_INT(invite(viewer.id, t.workspace, target.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "role read_only");
	EXPECT_INT(invite(stranger.id, t.workspace, target.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "not a member");
	/* An API key never manages members. */
	Exe__Access__V1__Principal key = fixture_as_key(member.key);
	EXPECT_INT(invite_as(&key, t.workspace, target.username, NULL,
	    ROLE(MEMBER), 0, NULL, &err), EXA_PERMISSION_DENIED);

	Exe__Access__V1__ListInvitationsResponse *page;
	EXPECT_INT(list_inv(member.id, t.workspace, false, &page, &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "members.invite");
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM invitations WHERE workspace_id = $1",
	    t.workspace, NULL), 0);

	/* A team admin who is not an organisation admin may invite. */
	struct fixture_user second;
	fixture_team_join(h.client, &t, "second", ROLE(ADMIN), &second);
	EXPECT_INT(invite(second.id, t.workspace, target.username, NULL,
	    ROLE(MEMBER), NULL, &err), EXA_OK);
	EXPECT_INT(list_inv(second.id, t.workspace, false, &page, &err),
	    EXA_OK);
	if (page != NULL)
		EXPECT_INT(page->n_invitations, 1);
	exa_free(page);
}

static void
lists_are_paged_newest_first(void)
{
	enum { N = 5 };
	struct fixture_team t;
	make_team(&t);
	char ids[N][40];
	exa_error err;
	for (int i = 0; i < N; i++) {
		char email[128];
		snprintf(email, sizeof email, "%s@paging.example.com",
		    harness_unique("p"));
		Exe__Access__V1__CreateInvitationResponse *c = NULL;
		EXPECT_INT(invite(t.admin.id, t.workspace, NULL, email,
		    ROLE(MEMBER), &c, &err), EXA_OK);
		snprintf(ids[i], sizeof ids[i], "%s",
		    c != NULL ? c->invitation->id : "");
		exa_free(c);
	}
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	char token[256] = "";
	int seen = 0, pages = 0;
	for (; pages < N + 1; pages++) {
		Exe__Access__V1__ListInvitationsResponse *page;
		EXPECT_INT(list_inv_as(&admin, t.workspace, false, 2, token,
		    &page, &err), EXA_OK);
		if (page == NULL)
			break;
		EXPECT(page->n_invitations <= 2);
		for (size_t i = 0; i < page->n_invitations && seen < N; i++)
			EXPECT_STR(page->invitations[i]->id, ids[N - 1 - seen++]);
		snprintf(token, sizeof token, "%s", page->next_page_token);
		exa_free(page);
		if (token[0] == '\0')
			break;
	}
	EXPECT_INT(seen, N);
	EXPECT_INT(pages, 2);
}

struct bad_invite {
	const char *workspace_id;
	const char *username;
	const char *email;
	int role;
	unsigned days;
	exa_status code;
	const char *field;
};

static void
bad_input_names_the_field(void)
{
	struct fixture_team t;
	struct fixture_user ann;
	make_team(&t);
	fixture_sign_up(h.client, "ann", &ann);
	char long_name[80], long_email[300];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	memset(long_email, 'e', 250);
	strcpy(long_email + 250, "@example.com");
	const struct bad_invite cases[] = {
	    {"not-a-uuid", ann.username, NULL, 0, 0, EXA_INVALID_ARGUMENT,
	        "workspace_id"}, {"", ann.username, NULL, 0, 0,
	        EXA_INVALID_ARGUMENT, "workspace_id"}, {t.workspace, NULL, NULL,
	        0, 0, EXA_INVALID_ARGUMENT, "invitee"}, {t.workspace, "", NULL,
	        0, 0, EXA_INVALID_ARGUMENT, "username"}, {t.workspace,
	        long_name, NULL, 0, 0, EXA_INVALID_ARGUMENT, "username"},
	        {t.workspace, "bad\xff\xfename", NULL, 0, 0,
	        EXA_INVALID_ARGUMENT, "username"}, {t.workspace, NULL,
	        "no-at-sign", 0, 0, EXA_INVALID_ARGUMENT, "email"},
	        {t.workspace, NULL, long_email, 0, 0, EXA_INVALID_ARGUMENT,
	        "email"}, {t.workspace, NULL, "\xc3\x28@example.com", 0, 0,
	        EXA_INVALID_ARGUMENT, "email"}, {t.workspace, ann.username,
	        NULL, 7, 0, EXA_INVALID_ARGUMENT, "role"}, {t.workspace,
	        ann.username, NULL, 0, 31, EXA_INVALID_ARGUMENT,
	        "expires_in_days"}, {t.workspace, "nobody-by-this-name", NULL,
	        0, 0, EXA_NOT_FOUND, "username"},
	        {"00000000-0000-4000-8000-000000000000", ann.username, NULL, 0,
	        0, EXA_NOT_FOUND, "workspace_id"}, };
	Exe__Access__V1__Principal admin = fixture_as_user(t.admin.id);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		exa_error err;
		exa_status rc = invite_as(&admin, cases[i].workspace_id,
		    cases[i].username, cases[i].email,
		    (Exe__Access__V1__Role)cases[i].role, cases[i].days, NULL,
		    &err);
		if (rc != cases[i].code ||
		    strncmp(err.message, cases[i].field,
		        strlen(cases[i].field)) != 0) {
			fprintf(stderr, "  case %zu: %s \"%s\", expected %s "
			    "naming %s\n", i, exa_status_name(rc),
			    rc == EXA_OK ? "" : err.message,
			    exa_status_name(cases[i].code), cases[i].field);
			unit_case_failed = 1;
		}
	}
	exa_error err;
	Exe__Access__V1__Principal bad_actor = fixture_as_user("nope");
	EXPECT_INT(invite_as(&bad_actor, t.workspace, ann.username, NULL, 0, 0,
	    NULL, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "actor");
	EXPECT_INT(invite_as(NULL, t.workspace, ann.username, NULL, 0, 0, NULL,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "actor");
	/* The allowed neighbours of the refused values. */
	EXPECT_INT(invite_as(&admin, t.workspace, ann.username, NULL,
	    ROLE(READ_ONLY), 1, NULL, &err), EXA_OK);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM invitations WHERE workspace_id = $1",
	    t.workspace, NULL), 1);

	/* Tokens: too long, not UTF-8, empty, or not of an invitation
	 * token's form (prefix, length, alphabet): INVALID_ARGUMENT (SPEC
	 * §5); of the right form but unknown: NOT_FOUND. */
	char long_token[300];
	memset(long_token, 'x', 299);
	long_token[299] = '\0';
	const struct {
		const char *token;
		exa_status code;
	} tokens_cases[] = {
	    {"", EXA_INVALID_ARGUMENT},
	    {long_token, EXA_INVALID_ARGUMENT},
	    {"exa_inv_\xff\xfe", EXA_INVALID_ARGUMENT},
	    {"exa_inv_short", EXA_INVALID_ARGUMENT},
	    {"exa_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	        EXA_INVALID_ARGUMENT},
	    {"exa_inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*",
	        EXA_INVALID_ARGUMENT},
	    {"exa_inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", EXA_NOT_FOUND},
	};
	for (size_t i = 0; i < sizeof tokens_cases / sizeof tokens_cases[0];
	     i++) {
		exa_status rc = accept_inv(ann.id, tokens_cases[i].token, NULL, &err);
		if (rc != tokens_cases[i].code ||
		    strncmp(err.message, "token", 5) != 0) {
			fprintf(stderr, "  token case %zu: %s \"%s\"\n", i,
			    exa_status_name(rc), rc == EXA_OK ? "" : err.message);
			unit_case_failed = 1;
		}
		EXPECT_INT(fixture_decline_invitation(h.client, ann.id,
		    tokens_cases[i].token, &err), tokens_cases[i].code);
	}
	EXPECT_INT(revoke_inv(t.admin.id, "nope", &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "invitation_id");

	Exe__Access__V1__ListInvitationsResponse *page;
	EXPECT_INT(list_inv_as(&admin, t.workspace, false, 1001, NULL, &page,
	    &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "page_size");
	EXPECT_INT(list_inv_as(&admin, t.workspace, false, 0, "not a token",
	    &page, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "page_token");
	EXPECT_INT(list_inv_as(&admin, "bad", false, 0, NULL, &page, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "workspace_id");
	EXPECT_INT(list_inv_as(&admin, t.workspace, false, 0, NULL, &page,
	    &err), EXA_OK);
	exa_free(page);
}

/* file_contains reads all of `path` (not line by line) and looks for
 * `text`. */
static bool
file_contains(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap + 1);
	size_t n;
	while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			char *bigger = realloc(buf, 2 * cap + 1);
			if (bigger == NULL)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf == NULL)
		return false;
	buf[len] = '\0';
	bool found = strstr(buf, text) != NULL;
	free(buf);
	return found;
}

static void
tokens_are_never_stored_or_logged_in_clear(void)
{
	/* Enough tokens went by in the cases above, through successes and
	 * failures alike. */
	EXPECT(ntokens >= 10);
	EXPECT(harness_sql_long(&h, "SELECT count(*) FROM invitations", NULL) >=
	    ntokens);
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) FROM invitations"
	    " WHERE length(token_hash) <> 32", NULL), 0);
	/* The log does hold the failed requests' messages: its silence
	 * about tokens means something. */
	EXPECT(harness_log_contains(&h, "request_failed"));
	EXPECT(harness_log_contains(&h, "already accepted"));
	for (int i = 0; i < ntokens; i++) {
		const char *tok = tokens[i];
		const char *random = tok + 8; /* without the prefix */
		EXPECT_INT(harness_sql_long(&h,
		    "SELECT count(*) FROM invitations i"
		    " WHERE position($1 in i::text) > 0"
		    "    OR position($1 in encode(i.token_hash, 'escape')) > 0"
		    "    OR position($1 in encode(i.token_hash, 'base64')) > 0",
		    random, NULL), 0);
		EXPECT_INT(harness_sql_long(&h,
		    "SELECT (SELECT count(*) FROM activity a"
		    "        WHERE position($1 in a::text) > 0)"
		    "     + (SELECT count(*) FROM change_log c"
		    "        WHERE position($1 in c::text) > 0)", random, NULL),
		    0);
		EXPECT(!harness_log_contains(&h, tok));
		EXPECT(!harness_log_contains(&h, random));
		EXPECT(!file_contains(h.log_path, random));
	}
	/* Distinct tokens, distinct hashes. */
	EXPECT_INT(harness_sql_long(&h,
	    "SELECT count(*) - count(DISTINCT token_hash) FROM invitations",
	    NULL), 0);
	for (int i = 1; i < ntokens; i++)
		EXPECT(strcmp(tokens[i], tokens[0]) != 0);
}

static const struct unit_case cases[] = {
    {"life cycle by username: create, list, accept, check",
        life_cycle_by_username},
    {"an email invitation is accepted after sign-up",
        email_invitation_is_accepted_after_sign_up},
    {"decline closes the invitation", decline_closes_the_invitation},
    {"revoke while pending only", revoke_while_pending_only},
    {"expired invitations cannot be accepted",
        expired_invitations_cannot_be_accepted},
    {"only the invited person accepts, once",
        only_the_invited_person_accepts},
    {"concurrent acceptances make one membership",
        concurrent_acceptances_make_one_membership},
    {"personal workspaces take no invitations",
        personal_workspaces_take_no_invitations},
    {"members and pending invitees are not invited again",
        members_and_pending_invitees_are_not_invited_again},
    {"only team admins invite", only_team_admins_invite},
    {"lists are paged, newest first", lists_are_paged_newest_first},
    {"bad input names the field", bad_input_names_the_field},
    /* Last: it looks for every token the others received. */
    {"tokens are never stored or logged in clear",
        tokens_are_never_stored_or_logged_in_clear},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(&h, "invitations", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
