/* Caller tokens (SPEC §5): which services may call, and with what scope.
 * `check` covers AuthzService and the read-only WorkspaceService calls;
 * `admin` covers everything. Tokens are configured as hashes only, one per
 * line of the token file:
 *
 *     # name      scope  BLAKE2b-256 of the token, hex
 *     web-api     check  3b0f...e1
 *     tooling     admin  91ac...07
 *
 * A token reads "exa_svc_" and 43 base64url characters (256 random bits,
 * base/secrets.h).
 * The table is replaced whole on reload (SIGHUP); lookups hold a read lock
 * for the few nanoseconds of the search. */
#ifndef EXE_TOKENS_H
#define EXE_TOKENS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/secrets.h"

enum {
	TOKENS_LEN = SECRET_CALLER_TOKEN_LEN, /* see base/secrets.h */
	TOKENS_NAME_MAX = 64,
	TOKENS_HASH_HEX = 64,
};

/* The answer to a token that is not in the table, or cannot be a token at
 * all (UNAUTHENTICATED). */
#define TOKENS_NOT_RECOGNIZED                                                 \
	"token: not recognized; ask the operators for a token of this service"

enum token_scope {
	TOKEN_SCOPE_CHECK = 1,
	TOKEN_SCOPE_ADMIN = 2,
};

/* Who called: a token's name and scope. */
struct caller {
	char name[TOKENS_NAME_MAX + 1];
	enum token_scope scope;
};

struct tokens;

/* tokens_open reads the token file at `path`. Returns 0, or -1 with the
 * file, line and problem in `msg`. */
int tokens_open(struct tokens **out, const char *path, char *msg,
    size_t msg_size) __attribute__((warn_unused_result));

/* tokens_reload reads the file again and swaps the table in; on error the
 * old table stays and `msg` says why. */
int tokens_reload(struct tokens *t, char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

/* tokens_count is how many tokens the table holds. */
size_t tokens_count(struct tokens *t);

/* tokens_authenticate finds the caller presenting `token`; false for an
 * unknown one. Compares hashes in constant time. */
bool tokens_authenticate(struct tokens *t, const char *token,
    struct caller *out);

/* tokens_acquire counts one more request in flight for `caller`; false
 * (counting nothing) when the caller already has `limit` in flight (0:
 * no limit, but still counted). Every true is paired with tokens_release.
 * The counts are kept by name, so they survive a reload. */
bool tokens_acquire(struct tokens *t, const struct caller *caller,
    unsigned limit);
void tokens_release(struct tokens *t, const struct caller *caller);

/* tokens_close frees the table. NULL is fine. */
void tokens_close(struct tokens *t);

/* tokens_mint makes a new token (TOKENS_LEN + 1 bytes into `token`) and
 * its hash (TOKENS_HASH_HEX + 1 bytes into `hash_hex`). */
void tokens_mint(char *token, char *hash_hex);

/* tokens_hash writes the hex hash of `token` (TOKENS_HASH_HEX + 1 bytes). */
void tokens_hash(const char *token, char *hash_hex);

/* tokens_scope_name is "check" or "admin". */
const char *tokens_scope_name(enum token_scope scope);

#endif
