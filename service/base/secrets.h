/* The three secrets ExE Access hands out, in one place: their formats,
 * how they are made, checked and hashed (SPEC R10, §5).
 *
 *   API keys (SECRET_API_KEY)        exa_live_ + base64url of 24 random
 *                                    bytes and a 3-byte BLAKE2b checksum
 *   invitation tokens (SECRET_INVITATION)   exa_inv_ + base64url of 32
 *                                    random bytes
 *   caller tokens (SECRET_CALLER_TOKEN)     exa_svc_ + base64url of 32
 *                                    random bytes
 *
 * A malformed secret (prefix, length, alphabet, checksum) is refused
 * without touching the database. The database keeps API keys and
 * invitation tokens only as a BLAKE2b hash keyed with the server's hash
 * key; the token file keeps caller tokens as their unkeyed BLAKE2b-256.
 * Secrets are generated straight into memory the caller provides (keep it
 * sodium_malloc'd); every temporary copy here is wiped. */
#ifndef EXE_SECRETS_H
#define EXE_SECRETS_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

enum secret_kind {
	SECRET_API_KEY,
	SECRET_INVITATION,
	SECRET_CALLER_TOKEN,
};

#define SECRET_API_KEY_PREFIX "exa_live_"
#define SECRET_INVITATION_PREFIX "exa_inv_"
#define SECRET_CALLER_TOKEN_PREFIX "exa_svc_"
enum {
	SECRET_API_KEY_RANDOM_BYTES = 24,
	SECRET_API_KEY_CHECK_BYTES = 3,
	SECRET_API_KEY_LEN = 9 + 36,     /* prefix + base64url of 27 bytes */
	SECRET_INVITATION_LEN = 8 + 43,  /* prefix + base64url of 32 bytes */
	SECRET_CALLER_TOKEN_LEN = 8 + 43,
	SECRET_MAX_LEN = SECRET_INVITATION_LEN,
	SECRET_API_KEY_DISPLAY_LEN = 9 + 4, /* what GetApiKey shows */
	SECRET_HASH_BYTES = 32,
	SECRET_HASH_KEY_BYTES = crypto_generichash_KEYBYTES,
	/* A hash as PostgreSQL bytea text: "\x" and 64 hex digits. */
	SECRET_HASH_HEX = 2 * SECRET_HASH_BYTES + 3,
};

/* secret_len is the length of a secret of `kind`, without its NUL. */
size_t secret_len(enum secret_kind kind);

/* secret_generate writes a new NUL-terminated secret of `kind` into `out`,
 * which must hold secret_len(kind) + 1 bytes of guarded memory. */
void secret_generate(enum secret_kind kind, char *out);

/* secret_well_formed says whether `s` (of `len` bytes) is a secret of
 * `kind`: prefix, length and the base64url alphabet; API keys and
 * invitation tokens must also decode to exactly their bytes, and API keys
 * match their checksum. */
bool secret_well_formed(enum secret_kind kind, const char *s, size_t len);

/* secret_hash computes BLAKE2b-256 of `s` (`len` bytes), keyed with
 * `hash_key` (SECRET_HASH_KEY_BYTES) or unkeyed when it is NULL. */
void secret_hash(const char *s, size_t len, const unsigned char *hash_key,
    unsigned char out[SECRET_HASH_BYTES]);

/* secret_hash_hex is secret_hash written as bytea text into `out`
 * (SECRET_HASH_HEX bytes). */
void secret_hash_hex(const char *s, size_t len, const unsigned char *hash_key,
    char out[SECRET_HASH_HEX]);

/* The forms of an API key the database keeps: its keyed hash as bytea
 * text, and its visible prefix. */
struct secret_stored {
	char hash_hex[SECRET_HASH_HEX];
	char display[SECRET_API_KEY_DISPLAY_LEN + 1];
};

/* secret_stored_form computes them for the API key `secret` with the
 * server's `hash_key`. */
void secret_stored_form(const char *secret, const unsigned char *hash_key,
    struct secret_stored *out);

/* secret_file_read reads the whole file at `path`, at most `max` bytes,
 * into guarded memory (sodium_malloc) followed by a NUL, with read(2) and
 * no stdio buffer, so that nothing but the returned memory ever held it.
 * Returns 0 with *out and *len set (the caller releases *out with
 * sodium_free, which wipes it), or an errno value: that of open or read,
 * EFBIG for a file over `max`, ENOMEM. */
int secret_file_read(const char *path, size_t max, char **out, size_t *len)
    __attribute__((warn_unused_result));

#endif
