/* SQL for invitations to team workspaces (SPEC R9). An invitation is found
 * by its id or by the keyed hash of its token; the token itself never
 * reaches this module. Writes run in the caller's transaction, after it has
 * locked the workspace row FOR UPDATE (store_user_standing with
 * STORE_LOCK_UPDATE), so checks such as "no pending invitation yet" hold
 * until commit. */
#ifndef EXE_STORE_INVITATIONS_H
#define EXE_STORE_INVITATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/perms.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"
#include "store/authz.h"

/* Who an invitation is for, as the database knows them. */
struct invitee {
	bool user_found;       /* an account has this username or email */
	char user_id[37];      /* when user_found */
	char username[65];     /* when user_found: as the user spelled it */
	enum role member_role; /* ROLE_NONE: not a member of the workspace */
	bool pending_found;    /* a pending, unexpired invitation exists */
	char pending_id[37];   /* ... and its id */
};

/* store_invitee_lookup finds who `value` (a username, or with `by_email`
 * an email, both case-insensitively) is in workspace `workspace_id`: their
 * account if any, their role there, and any pending invitation for them
 * (by their username or their email). */
int store_invitee_lookup(struct call *call, const char *workspace_id,
    bool by_email, const char *value, struct invitee *out)
    __attribute__((warn_unused_result));

/* A new invitation; exactly one of username and email is non-NULL. */
struct new_invitation {
	const char *workspace_id;
	const char *username;
	const char *email;
	enum role role;
	const char *token_hash_hex; /* keyed hash of the token, bytea text */
	const char *invited_by;     /* user id; NULL for an API key */
	uint32_t expires_in_days;
};

/* store_invitation_create inserts a pending invitation and returns it,
 * in the arena, in *out. */
int store_invitation_create(struct call *call, const struct new_invitation *n,
    Exe__Access__V1__Invitation **out) __attribute__((warn_unused_result));

enum invitation_key {
	INVITATION_BY_ID,         /* key: the invitation's id */
	INVITATION_BY_TOKEN_HASH, /* key: the token's keyed hash, bytea text */
};

/* store_invitation_find reads one invitation into *out (arena), locking
 * its row FOR UPDATE unless `lock` is STORE_LOCK_NONE (STORE_LOCK_SHARE
 * takes FOR SHARE). A pending invitation past its expiry comes back as
 * INVITATION_STATE_EXPIRED. When `user_id` is not NULL, *is_invitee says
 * whether that user is the invited person (username or email equal,
 * case-insensitively). STATUS_NOT_FOUND, with a message naming
 * invitation_id or token (never the token itself), when there is none. */
int store_invitation_find(struct call *call, enum invitation_key by,
    const char *key, enum store_lock lock, const char *user_id,
    Exe__Access__V1__Invitation **out, bool *is_invitee)
    __attribute__((warn_unused_result));

/* store_invitation_close moves pending invitation `id` to `state`
 * ("accepted", "declined" or "revoked"), noting when and by whom (user id,
 * may be NULL). STATUS_FAILED_PRECONDITION if it was no longer pending. */
int store_invitation_close(struct call *call, const char *id,
    const char *state, const char *closed_by)
    __attribute__((warn_unused_result));

/* store_invitations_list fills `resp` with up to `limit` invitations of
 * `workspace_id`, newest first, after the cursor `after` (creation time in
 * microseconds since the epoch, id; NULLs for the first page). Without
 * `include_closed` only pending, unexpired ones. Sets next_page_token when
 * there are more. */
int store_invitations_list(struct call *call, const char *workspace_id,
    bool include_closed, char *const *after, uint32_t limit,
    Exe__Access__V1__ListInvitationsResponse *resp)
    __attribute__((warn_unused_result));

#endif
