/* API key format and hashing with libsodium: randombytes for the secret,
 * BLAKE2b (crypto_generichash) for the checksum and the keyed hash. */
#include "apikey.h"

#include <string.h>

#include "validate.h"

enum { RAW_BYTES = APIKEY_RANDOM_BYTES + APIKEY_CHECK_BYTES };

static const size_t prefix_len = sizeof APIKEY_PREFIX - 1;

static void
checksum(const unsigned char *random, unsigned char out[APIKEY_CHECK_BYTES])
{
	/* BLAKE2b's smallest output is 16 bytes; keep the first three. */
	unsigned char full[crypto_generichash_BYTES_MIN];
	crypto_generichash(full, sizeof full, random, APIKEY_RANDOM_BYTES, NULL, 0);
	memcpy(out, full, APIKEY_CHECK_BYTES);
}

void
apikey_generate(char *secret)
{
	unsigned char raw[RAW_BYTES];
	randombytes_buf(raw, APIKEY_RANDOM_BYTES);
	checksum(raw, raw + APIKEY_RANDOM_BYTES);
	memcpy(secret, APIKEY_PREFIX, prefix_len);
	sodium_bin2base64(secret + prefix_len, APIKEY_SECRET_LEN - prefix_len + 1,
	    raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

bool
apikey_well_formed(const char *secret, size_t len)
{
	if (len != APIKEY_SECRET_LEN ||
	    memcmp(secret, APIKEY_PREFIX, prefix_len) != 0 ||
	    !validate_base64url(secret + prefix_len, len - prefix_len))
		return false;
	unsigned char raw[RAW_BYTES];
	size_t raw_len = 0;
	const char *end = NULL;
	int rc = sodium_base642bin(raw, sizeof raw, secret + prefix_len,
	    len - prefix_len, NULL, &raw_len, &end,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	bool ok = rc == 0 && raw_len == RAW_BYTES &&
	    end == secret + len;
	if (ok) {
		unsigned char expect[APIKEY_CHECK_BYTES];
		checksum(raw, expect);
		ok = sodium_memcmp(expect, raw + APIKEY_RANDOM_BYTES,
		         APIKEY_CHECK_BYTES) == 0;
	}
	sodium_memzero(raw, sizeof raw);
	return ok;
}

void
apikey_hash(const char *secret, size_t len, const unsigned char *hash_key,
    unsigned char out[APIKEY_HASH_BYTES])
{
	crypto_generichash(out, APIKEY_HASH_BYTES, (const unsigned char *)secret,
	    len, hash_key, APIKEY_HASH_KEY_BYTES);
}

void
apikey_stored_form(const char *secret, const unsigned char *hash_key,
    struct apikey_stored *out)
{
	unsigned char hash[APIKEY_HASH_BYTES];
	apikey_hash(secret, strlen(secret), hash_key, hash);
	out->hash_hex[0] = '\\';
	out->hash_hex[1] = 'x';
	sodium_bin2hex(out->hash_hex + 2, sizeof out->hash_hex - 2, hash,
	    sizeof hash);
	sodium_memzero(hash, sizeof hash);
	memcpy(out->display, secret, APIKEY_DISPLAY_LEN);
	out->display[APIKEY_DISPLAY_LEN] = '\0';
}
