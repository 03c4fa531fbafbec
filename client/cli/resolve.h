/* resolve: what a person types turned into what the service wants —
 * usernames and emails into user ids (FindUser, once per name per run),
 * user ids into usernames for display (GetUser), and the --as/--as-key or
 * --user/--key pair into a Principal. */
#ifndef EXA_CLI_RESOLVE_H
#define EXA_CLI_RESOLVE_H

#include <stddef.h>

#include "args.h"
#include "cli.h"

/* A principal built from the command line. */
struct resolve_principal {
	Exe__Access__V1__Principal p;
	char user_id[40];
	char *owned_secret; /* a secret read from stdin, wiped at fini */
};

/* resolve_is_uuid says whether text is a UUID in canonical form. */
bool resolve_is_uuid(const char *text);

/* resolve_find_user_request sets *req up to find the user with email
 * `value` (by_email) or username `value`; req points at value. */
void resolve_find_user_request(
    Exe__Access__V1__FindUserRequest *req, const char *value, bool by_email);

/* resolve_user writes the id of the user `value` names (a user id, used
 * as it is; an email, with an '@'; otherwise a username) into `id` (at
 * least 37 bytes). `what` names the argument in errors ("--as"). Returns
 * 0, or reports the error and returns the exit status. */
int resolve_user(struct cli *cli, const char *what, const char *value, char *id,
    size_t size) __attribute__((warn_unused_result));

/* resolve_user_name returns the username of user `id` for display, or `id`
 * itself when it cannot be read. The string lives until resolve_fini. */
const char *resolve_user_name(struct cli *cli, const char *id);

/* resolve_principal fills *out from the flags `user_flag` (a user) and
 * `key_flag` (an API key secret, '-' read from stdin): exactly one must be
 * given. Returns 0, or reports the error and returns the exit status.
 * Call resolve_principal_fini either way. */
int resolve_principal(struct cli *cli, const struct cli_args *a,
    enum cli_flag user_flag, enum cli_flag key_flag,
    struct resolve_principal *out) __attribute__((warn_unused_result));

/* resolve_actor is resolve_principal with --as and --as-key. */
int resolve_actor(struct cli *cli, const struct cli_args *a,
    struct resolve_principal *out) __attribute__((warn_unused_result));

/* resolve_actor_and_user is resolve_actor, then resolve_user of `value`
 * (the argument `what`, e.g. "USER") into `id`; when value is NULL, id is
 * left empty. Returns 0, or reports the error and returns the exit
 * status. Call resolve_principal_fini on the actor either way. */
int resolve_actor_and_user(struct cli *cli, const struct cli_args *a,
    const char *what, const char *value, struct resolve_principal *actor,
    char *id, size_t size) __attribute__((warn_unused_result));

/* resolve_principal_fini wipes and frees what the principal holds. */
void resolve_principal_fini(struct resolve_principal *p);

/* resolve_fini frees the names resolved during the run. */
void resolve_fini(struct cli *cli);

#endif
