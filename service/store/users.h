/* SQL for users: sign-up (SPEC R1) and look-ups. Functions run on the
 * call's database connection and build their results in the call's arena. */
#ifndef EXE_STORE_USERS_H
#define EXE_STORE_USERS_H

#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

struct new_user {
	const char *username;
	const char *email;
	const char *display_name;
	const char *key_hash_hex;   /* the API key's keyed hash, bytea text */
	const char *key_display;    /* the API key's visible prefix */
};

/* store_user_create writes, in one transaction, the user, the personal
 * workspace "{username}'s Workspace", the admin membership, the API key and
 * the change record. Fills `resp` (except the secret). Returns
 * STATUS_ALREADY_EXISTS (with the message set) for a taken username or
 * email. */
int store_user_create(struct call *call, const struct new_user *u,
    Exe__Access__V1__CreateUserResponse *resp) __attribute__((warn_unused_result));

enum user_key { USER_BY_ID, USER_BY_USERNAME, USER_BY_EMAIL };

/* store_user_get finds one user by id, username or email (the last two
 * case-insensitively) that user `reader` may read (store_user_visible;
 * NULL: the service, who reads anyone). Returns STATUS_NOT_FOUND with a
 * message if none: the same for a user that does not exist and for one
 * the reader may not read. */
int store_user_get(struct call *call, enum user_key by, const char *value,
    const char *reader, Exe__Access__V1__User **out)
    __attribute__((warn_unused_result));

/* store_user_visible says whether user `reader` may read user `user_id`:
 * they are the same, they share a team, or `reader` administers an
 * organisation that `user_id` is an admin of or has a team of. False when
 * either does not exist. */
int store_user_visible(struct call *call, const char *reader,
    const char *user_id, bool *visible) __attribute__((warn_unused_result));

/* store_user_require returns STATUS_OK if user `user_id` exists, else
 * STATUS_NOT_FOUND with a message naming `field`. */
int store_user_require(struct call *call, const char *field,
    const char *user_id) __attribute__((warn_unused_result));

#endif
