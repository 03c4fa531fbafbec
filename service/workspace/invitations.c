/* Invitations to team workspaces (SPEC R9); SQL in store/invitations.c.
 *
 * A token reads "exa_inv_" followed by 43 base64url characters that encode
 * 32 random bytes. It is made in the call's guarded secret memory, returned
 * once, and stored only as its keyed hash (base/secrets.h), so
 * neither the database, nor a log line, nor an error message ever holds it.
 *
 * Every write locks the workspace row FOR UPDATE first and the invitation
 * row after it, always in that order: concurrent acceptances of one token
 * queue on the workspace, and each one after the first finds the
 * invitation accepted. */
#include "workspace/invitations.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/perms.h"
#include "base/secrets.h"
#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "store/authz.h"
#include "store/db.h"
#include "store/invitations.h"
#include "store/members.h"
#include "workspace/actor.h"

enum {
	EXPIRES_DEFAULT_DAYS = 7,
	EXPIRES_MAX_DAYS = 30,
};

/* Locking the workspace row needs a user id; its role is not wanted. */
static const char nobody[] = "00000000-0000-0000-0000-000000000000";

#define STATE(s) EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_##s

/* actor_user is the acting user's id, or NULL for an API key. */
static const char *
actor_user(const Exe__Access__V1__Principal *actor)
{
	return actor->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID
	    ? actor->user_id
	    : NULL;
}

/* invitations_lock_team locks the workspace row FOR UPDATE. */
static int
invitations_lock_team(struct call *call, const char *workspace_id, struct standing *st)
{
	int rc = store_user_standing(call, workspace_id, nobody,
	    STORE_LOCK_UPDATE, st);
	if (rc != STATUS_OK)
		return rc;
	if (!st->workspace_exists)
		return call_fail(call, STATUS_NOT_FOUND,
		    "workspace_id: no workspace %s", workspace_id);
	return STATUS_OK;
}

/* invitations_not_personal refuses a personal workspace with R2's
 * reason. Called after the actor is authorized there (its owner holds
 * members.invite), so a stranger is refused as for a team and does not
 * learn the workspace's kind. */
static int
invitations_not_personal(struct call *call, const char *workspace_id,
    const struct standing *st)
{
	if (!st->personal)
		return STATUS_OK;
	return call_fail(call, STATUS_FAILED_PRECONDITION,
	    "workspace %s is a personal workspace: its owner is its only "
	    "member, so nobody can be invited to it; invite to a team "
	    "workspace instead", workspace_id);
}

/* refuse_closed explains why a no-longer-pending invitation cannot be
 * `verb` ("accepted", "revoked" ...). */
static int
refuse_closed(struct call *call, const Exe__Access__V1__Invitation *inv,
    const char *verb, const char *hint)
{
	const char *why;
	switch (inv->state) {
	case STATE(ACCEPTED): why = "it was already accepted"; break;
	case STATE(DECLINED): why = "it was declined"; break;
	case STATE(REVOKED): why = "it was revoked by an admin"; break;
	case STATE(EXPIRED): why = "it has expired"; break;
	default: why = "it is not pending"; break;
	}
	return call_fail(call, STATUS_FAILED_PRECONDITION,
	    "invitation %s cannot be %s: %s; %s", inv->id, verb, why, hint);
}

static const char *
invitee_of(const Exe__Access__V1__Invitation *inv)
{
	return inv->invitee_username[0] != '\0' ? inv->invitee_username
	                                        : inv->invitee_email;
}

static int
invitations_record(struct call *call, const Exe__Access__V1__Principal *actor,
    const struct decision *d, struct db_change *change, uint64_t *revision)
{
	actor_fill_change(actor, d, change);
	return db_record_change(call->db, change, revision);
}

int
invitations_create_validate(struct call *call)
{
	const Exe__Access__V1__CreateInvitationRequest *req =
	    (const void *)call->request;
	int rc = STATUS_OK;
	if (rc != STATUS_OK)
		return call->code = rc;
	switch (req->invitee_case) {
	case EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INVITEE_USERNAME:
		rc = validate_username("username", req->username, call->message,
		    sizeof call->message);
		break;
	case EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INVITEE_EMAIL:
		rc = validate_email("email", req->email, call->message,
		    sizeof call->message);
		break;
	default:
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "invitee: give the username or the email of the person "
		    "to invite");
	}
	if (rc != STATUS_OK)
		return call->code = rc;
	if (req->role != EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED &&
	    (req->role < EXE__ACCESS__V1__ROLE__ROLE_ADMIN ||
	        req->role > EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY))
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "role: must be ROLE_ADMIN, ROLE_MEMBER or ROLE_READ_ONLY");
	if (req->expires_in_days > EXPIRES_MAX_DAYS)
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "expires_in_days: %u is out of range; give 1 to %d days, "
		    "or 0 for the default of %d", req->expires_in_days,
		    EXPIRES_MAX_DAYS, EXPIRES_DEFAULT_DAYS);
	return call->code = STATUS_OK;
}

/* check_invitee refuses a username without an account, someone already a
 * member, and someone who already has a pending invitation. */
static int
check_invitee(struct call *call, const char *workspace_id, bool by_email,
    const char *value, const struct invitee *who)
{
	if (!by_email && !who->user_found)
		return call_fail(call, STATUS_NOT_FOUND,
		    "username: no user \"%s\"; to invite someone without an "
		    "account, invite their email", value);
	if (who->member_role != ROLE_NONE && by_email)
		return call_fail(call, STATUS_ALREADY_EXISTS,
		    "email %s belongs to user %s, who is already a member of "
		    "workspace %s with role %s", value, who->username,
		    workspace_id, perms_role_name(who->member_role));
	if (who->member_role != ROLE_NONE)
		return call_fail(call, STATUS_ALREADY_EXISTS,
		    "user %s is already a member of workspace %s with role %s",
		    who->username, workspace_id,
		    perms_role_name(who->member_role));
	if (who->pending_found)
		return call_fail(call, STATUS_ALREADY_EXISTS,
		    "%s already has a pending invitation %s to workspace %s; "
		    "revoke it before inviting again", value, who->pending_id,
		    workspace_id);
	return STATUS_OK;
}

static int
invitations_create_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	const Exe__Access__V1__CreateInvitationRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__CreateInvitationResponse *resp = (void *)call->response;
	bool by_email =
	    req->invitee_case == EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INVITEE_EMAIL;
	const char *value = by_email ? req->email : req->username;
	struct standing st;
	struct decision d;
	struct invitee who;
	int rc = invitations_lock_team(call, req->workspace_id, &st);
	if (rc == STATUS_OK)
		rc = actor_require(call, req->actor, req->workspace_id,
		    "members.invite", STORE_LOCK_NONE, &d);
	if (rc == STATUS_OK)
		rc = invitations_not_personal(call, req->workspace_id, &st);
	if (rc == STATUS_OK)
		rc = store_invitee_lookup(call, req->workspace_id, by_email, value,
		    &who);
	if (rc == STATUS_OK)
		rc = check_invitee(call, req->workspace_id, by_email, value, &who);
	if (rc != STATUS_OK)
		return rc;

	char hash_hex[SECRET_HASH_HEX];
	secret_hash_hex(resp->token, strlen(resp->token), call->svc->hash_key,
	    hash_hex);
	struct new_invitation n = {
	    .workspace_id = req->workspace_id,
	    .username = by_email ? NULL : who.username,
	    .email = by_email ? value : NULL,
	    .role = req->role == EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED
	        ? ROLE_MEMBER
	        : (enum role)req->role,
	    .token_hash_hex = hash_hex,
	    .invited_by = actor_user(req->actor),
	    .expires_in_days = req->expires_in_days == 0 ? EXPIRES_DEFAULT_DAYS
	                                                 : req->expires_in_days,
	};
	rc = store_invitation_create(call, &n, &resp->invitation);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "invitation",
	    .workspace_id = req->workspace_id,
	    .user_id = who.user_found ? who.user_id : NULL,
	    .action = "invitation.created",
	    .detail = invitee_of(resp->invitation),
	};
	return invitations_record(call, req->actor, &d, &change, &resp->revision);
}

int
invitations_create(struct call *call)
{
	Exe__Access__V1__CreateInvitationResponse *resp =
	    (void *)call_response(call);
	char *token = call_secret(call, SECRET_INVITATION_LEN + 1);
	if (resp == NULL || token == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	/* Made once, before the transaction, so a retried transaction
	 * stores the hash of the token the caller receives. */
	secret_generate(SECRET_INVITATION, token);
	resp->token = token;
	return db_call_txn(call, invitations_create_txn);
}

/* cursor_valid: what store_invitations_list put in a cursor, a count of
 * microseconds and an id. */
static bool
cursor_valid(char *const *after)
{
	if (after[0] == NULL)
		return true;
	size_t len = strlen(after[0]);
	if (len == 0 || len > 18 || strspn(after[0], "0123456789") != len)
		return false;
	char ignored[8];
	return after[1] != NULL &&
	    validate_uuid("", after[1], true, ignored, sizeof ignored) ==
	    STATUS_OK;
}

int
invitations_list(struct call *call)
{
	const Exe__Access__V1__ListInvitationsRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__ListInvitationsResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListInvitationsResponse,
	    exe__access__v1__list_invitations_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	uint32_t size;
	char *after[2];
	struct decision d;
	size = call->page_size;
	int rc = paging_decode(call, req->page_token, after, 2);
	if (rc == STATUS_OK && !cursor_valid(after))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned");
	if (rc == STATUS_OK)
		rc = actor_require(call, req->actor, req->workspace_id,
		    "members.invite", STORE_LOCK_NONE, &d);
	if (rc == STATUS_OK)
		rc = store_invitations_list(call, req->workspace_id,
		    req->include_closed, after, size, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}

int
invitations_revoke_validate(struct call *call)
{
	const Exe__Access__V1__RevokeInvitationRequest *req =
	    (const void *)call->request;
	int rc = validate_uuid("invitation_id", req->invitation_id, true,
	    call->message, sizeof call->message);
	call->code = rc;
	return rc;
}

static int
revoke_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	const Exe__Access__V1__RevokeInvitationRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__WriteResponse *resp = (void *)call->response;
	Exe__Access__V1__Invitation *inv;
	struct standing st;
	struct decision d;
	/* Find its workspace, lock that, then read the invitation again
	 * under its own row lock: its state cannot change any more. */
	int rc = store_invitation_find(call, INVITATION_BY_ID,
	    req->invitation_id, STORE_LOCK_NONE, NULL, &inv, NULL);
	if (rc == STATUS_OK)
		rc = invitations_lock_team(call, inv->workspace_id, &st);
	if (rc == STATUS_OK)
		rc = actor_require(call, req->actor, inv->workspace_id,
		    "members.invite", STORE_LOCK_NONE, &d);
	if (rc == STATUS_OK)
		rc = invitations_not_personal(call, inv->workspace_id, &st);
	if (rc == STATUS_OK)
		rc = store_invitation_find(call, INVITATION_BY_ID,
		    req->invitation_id, STORE_LOCK_UPDATE, NULL, &inv, NULL);
	if (rc == STATUS_OK && inv->state != STATE(PENDING))
		rc = refuse_closed(call, inv, "revoked",
		    "only a pending invitation can be revoked");
	if (rc == STATUS_OK)
		rc = store_invitation_close(call, inv->id, "revoked",
		    actor_user(req->actor));
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "invitation",
	    .workspace_id = inv->workspace_id,
	    .action = "invitation.revoked",
	    .detail = invitee_of(inv),
	};
	return invitations_record(call, req->actor, &d, &change, &resp->revision);
}

int
invitations_revoke(struct call *call)
{
	return db_call_txn(call, revoke_txn);
}

/* Accept and Decline carry the same two fields. */
struct answer_args {
	const Exe__Access__V1__Principal *actor;
	const char *token;
};

static struct answer_args
answer_args(const struct call *call)
{
	if (call->request->descriptor ==
	    &exe__access__v1__accept_invitation_request__descriptor) {
		const Exe__Access__V1__AcceptInvitationRequest *r =
		    (const void *)call->request;
		return (struct answer_args){r->actor, r->token};
	}
	const Exe__Access__V1__DeclineInvitationRequest *r =
	    (const void *)call->request;
	return (struct answer_args){r->actor, r->token};
}

int
invitations_answer_validate(struct call *call)
{
	struct answer_args a = answer_args(call);
	int rc = validate_text("token", a.token, LIMIT_TOKEN, true,
	    call->message, sizeof call->message);
	if (rc == STATUS_OK && !secret_well_formed(SECRET_INVITATION, a.token,
	                             strlen(a.token)))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "token: not an invitation token (invitation tokens start "
		    "with %s and are %d characters long)",
		    SECRET_INVITATION_PREFIX, SECRET_INVITATION_LEN);
	call->code = rc;
	return rc;
}

/* answer reads the invitation that `a.token` opens and checks, under the
 * workspace's and the invitation's row locks, that the actor is the
 * invited person and that it is still pending. Fills *inv and *st. */
static int
answer(struct call *call, const struct answer_args *a, const char *verb,
    Exe__Access__V1__Invitation **inv, struct standing *st)
{
	char hash_hex[SECRET_HASH_HEX];
	secret_hash_hex(a->token, strlen(a->token), call->svc->hash_key,
	    hash_hex);
	const char *user_id = a->actor->user_id;
	bool is_invitee = false;
	int rc = store_invitation_find(call, INVITATION_BY_TOKEN_HASH,
	    hash_hex, STORE_LOCK_NONE, NULL, inv, NULL);
	if (rc == STATUS_OK)
		rc = store_user_standing(call, (*inv)->workspace_id, user_id,
		    STORE_LOCK_UPDATE, st);
	if (rc == STATUS_OK)
		rc = store_invitation_find(call, INVITATION_BY_TOKEN_HASH,
		    hash_hex, STORE_LOCK_UPDATE, user_id, inv, &is_invitee);
	/* The locking read saw the memberships of its snapshot, taken
	 * before it waited for the lock; read the role again now that no
	 * other change to this workspace can commit. */
	if (rc == STATUS_OK)
		rc = store_user_standing(call, (*inv)->workspace_id, user_id,
		    STORE_LOCK_NONE, st);
	if (rc != STATUS_OK)
		return rc;
	if (!is_invitee)
		return call_fail(call, STATUS_PERMISSION_DENIED,
		    "user %s is not the person invitation %s is for; only the "
		    "invited user (by username, or by the email address of "
		    "their account) can %s it", user_id, (*inv)->id, verb);
	if ((*inv)->state != STATE(PENDING))
		return refuse_closed(call, *inv,
		    strcmp(verb, "accept") == 0 ? "accepted" : "declined",
		    "only a pending invitation can be answered; ask an admin of "
		    "the workspace for a new one");
	return STATUS_OK;
}

static int
accept_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	struct answer_args a = answer_args(call);
	Exe__Access__V1__MemberResponse *resp = (void *)call->response;
	Exe__Access__V1__Invitation *inv;
	struct standing st;
	int rc = answer(call, &a, "accept", &inv, &st);
	if (rc == STATUS_OK && st.role != ROLE_NONE)
		rc = call_fail(call, STATUS_ALREADY_EXISTS,
		    "user %s is already a member of workspace %s with role %s",
		    a.actor->user_id, inv->workspace_id,
		    perms_role_name(st.role));
	if (rc == STATUS_OK)
		rc = store_member_put(call, inv->workspace_id, a.actor->user_id,
		    (enum role)inv->role, false, &resp->member);
	if (rc == STATUS_OK)
		rc = store_invitation_close(call, inv->id, "accepted",
		    a.actor->user_id);
	if (rc != STATUS_OK)
		return rc;
	char detail[LIMIT_EMAIL + 32];
	snprintf(detail, sizeof detail, "%s as %s", invitee_of(inv),
	    perms_role_name((enum role)inv->role));
	/* A membership change: caches of the user's standing must hear. */
	struct db_change change = {
	    .kind = "membership",
	    .workspace_id = inv->workspace_id,
	    .user_id = a.actor->user_id,
	    .action = "invitation.accepted",
	    .detail = detail,
	};
	return invitations_record(call, a.actor, NULL, &change, &resp->revision);
}

int
invitations_accept(struct call *call)
{
	struct answer_args a = answer_args(call);
	int rc = actor_require_user(call, a.actor, "accept an invitation");
	if (rc != STATUS_OK)
		return rc;
	return db_call_txn(call, accept_txn);
}

static int
decline_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	struct answer_args a = answer_args(call);
	Exe__Access__V1__WriteResponse *resp = (void *)call->response;
	Exe__Access__V1__Invitation *inv;
	struct standing st;
	int rc = answer(call, &a, "decline", &inv, &st);
	if (rc == STATUS_OK)
		rc = store_invitation_close(call, inv->id, "declined",
		    a.actor->user_id);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "invitation",
	    .workspace_id = inv->workspace_id,
	    .user_id = a.actor->user_id,
	    .action = "invitation.declined",
	    .detail = invitee_of(inv),
	};
	return invitations_record(call, a.actor, NULL, &change, &resp->revision);
}

int
invitations_decline(struct call *call)
{
	struct answer_args a = answer_args(call);
	int rc = actor_require_user(call, a.actor, "decline an invitation");
	if (rc != STATUS_OK)
		return rc;
	return db_call_txn(call, decline_txn);
}
