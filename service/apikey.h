/* Workspace API keys (SPEC R10): their format, checksum and keyed hash.
 *
 * A secret reads "exa_live_" followed by 36 base64url characters that
 * encode 24 random bytes and a 3-byte BLAKE2b checksum of them, so a
 * mistyped or truncated key is refused without touching the database. The
 * database keeps only a keyed BLAKE2b hash of the whole secret, made with
 * the server's hash key; the hash is what lookups use. */
#ifndef EXE_APIKEY_H
#define EXE_APIKEY_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#define APIKEY_PREFIX "exa_live_"
enum {
	APIKEY_RANDOM_BYTES = 24,
	APIKEY_CHECK_BYTES = 3,
	APIKEY_SECRET_LEN = 9 + 36, /* prefix + base64url of 27 bytes */
	APIKEY_DISPLAY_LEN = 9 + 4, /* what GetApiKey shows: prefix + 4 */
	APIKEY_HASH_BYTES = 32,
	APIKEY_HASH_KEY_BYTES = crypto_generichash_KEYBYTES,
};

/* apikey_generate writes a new NUL-terminated secret into `secret`, which
 * must hold APIKEY_SECRET_LEN + 1 bytes; keep it in sodium_malloc'd memory. */
void apikey_generate(char *secret);

/* apikey_well_formed says whether `secret` (of `len` bytes) has the prefix,
 * the length, valid base64url and a matching checksum. Reads no database. */
bool apikey_well_formed(const char *secret, size_t len);

/* apikey_hash computes the keyed hash stored for a secret, with the
 * server's `hash_key` of APIKEY_HASH_KEY_BYTES. */
void apikey_hash(const char *secret, size_t len, const unsigned char *hash_key,
    unsigned char out[APIKEY_HASH_BYTES]);

/* The forms of a secret the database keeps: its keyed hash as PostgreSQL
 * bytea text ("\x..."), and its visible prefix. */
struct apikey_stored {
	char hash_hex[2 * APIKEY_HASH_BYTES + 3];
	char display[APIKEY_DISPLAY_LEN + 1];
};

/* apikey_stored_form computes them for `secret` with the server's
 * `hash_key`. */
void apikey_stored_form(const char *secret, const unsigned char *hash_key,
    struct apikey_stored *out);

#endif
