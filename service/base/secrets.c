/* Secret formats and hashing with libsodium: randombytes for the secret,
 * base64url for its text, BLAKE2b (crypto_generichash) for the API key
 * checksum and for every stored hash. */
#include "base/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

struct format {
	const char *prefix;
	size_t prefix_len;
	size_t random_bytes;
	size_t check_bytes; /* a BLAKE2b checksum of the random bytes */
	size_t len;
	/* Whether the text must decode to exactly the random (and checksum)
	 * bytes. Caller tokens need only the alphabet: a token file may hold
	 * the hash of any token of the right form, made by other tools. */
	bool decodes;
};

static const struct format formats[] = {
	[SECRET_API_KEY] = {SECRET_API_KEY_PREFIX,
	    sizeof SECRET_API_KEY_PREFIX - 1, SECRET_API_KEY_RANDOM_BYTES,
	    SECRET_API_KEY_CHECK_BYTES, SECRET_API_KEY_LEN, true},
	[SECRET_INVITATION] = {SECRET_INVITATION_PREFIX,
	    sizeof SECRET_INVITATION_PREFIX - 1, 32, 0, SECRET_INVITATION_LEN,
	    true},
	[SECRET_CALLER_TOKEN] = {SECRET_CALLER_TOKEN_PREFIX,
	    sizeof SECRET_CALLER_TOKEN_PREFIX - 1, 32, 0,
	    SECRET_CALLER_TOKEN_LEN, false},
};

enum { RAW_MAX = 32 };

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
_Static_assert(sodium_base64_ENCODED_LEN(24 + 3, B64) ==
        SECRET_API_KEY_LEN - 9 + 1, "API key length");
_Static_assert(sodium_base64_ENCODED_LEN(32, B64) ==
        SECRET_INVITATION_LEN - 8 + 1, "invitation token length");
_Static_assert(sodium_base64_ENCODED_LEN(32, B64) ==
        SECRET_CALLER_TOKEN_LEN - 8 + 1, "caller token length");

static void
secrets_checksum(const struct format *f, const unsigned char *random,
    unsigned char *out)
{
	/* BLAKE2b's smallest output is 16 bytes; keep the first few. */
	unsigned char full[crypto_generichash_BYTES_MIN];
	crypto_generichash(full, sizeof full, random, f->random_bytes, NULL, 0);
	memcpy(out, full, f->check_bytes);
}

size_t
secret_len(enum secret_kind kind)
{
	return formats[kind].len;
}

void
secret_generate(enum secret_kind kind, char *out)
{
	const struct format *f = &formats[kind];
	unsigned char raw[RAW_MAX];
	randombytes_buf(raw, f->random_bytes);
	if (f->check_bytes > 0)
		secrets_checksum(f, raw, raw + f->random_bytes);
	memcpy(out, f->prefix, f->prefix_len);
	sodium_bin2base64(out + f->prefix_len, f->len - f->prefix_len + 1, raw,
	    f->random_bytes + f->check_bytes, B64);
	sodium_memzero(raw, sizeof raw);
}

/* secrets_base64url says whether `s` is `len` characters of the base64url
 * alphabet (sodium_base642bin would stop at the first other one). */
static bool
secrets_base64url(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

bool
secret_well_formed(enum secret_kind kind, const char *s, size_t len)
{
	const struct format *f = &formats[kind];
	if (len != f->len || memcmp(s, f->prefix, f->prefix_len) != 0 ||
	    !secrets_base64url(s + f->prefix_len, len - f->prefix_len))
		return false;
	if (!f->decodes)
		return true;
	unsigned char raw[RAW_MAX + 1];
	size_t raw_len = 0;
	const char *end = NULL;
	int rc = sodium_base642bin(raw, sizeof raw, s + f->prefix_len,
	    len - f->prefix_len, NULL, &raw_len, &end, B64);
	bool ok = rc == 0 && raw_len == f->random_bytes + f->check_bytes &&
	    end == s + len;
	if (ok && f->check_bytes > 0) {
		unsigned char expect[RAW_MAX];
		secrets_checksum(f, raw, expect);
		ok = sodium_memcmp(expect, raw + f->random_bytes,
		         f->check_bytes) == 0;
	}
	sodium_memzero(raw, sizeof raw);
	return ok;
}

void
secret_hash(const char *s, size_t len, const unsigned char *hash_key,
    unsigned char out[SECRET_HASH_BYTES])
{
	crypto_generichash(out, SECRET_HASH_BYTES, (const unsigned char *)s, len,
	    hash_key, hash_key != NULL ? SECRET_HASH_KEY_BYTES : 0);
}

void
secret_hash_hex(const char *s, size_t len, const unsigned char *hash_key,
    char out[SECRET_HASH_HEX])
{
	unsigned char hash[SECRET_HASH_BYTES];
	secret_hash(s, len, hash_key, hash);
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, SECRET_HASH_HEX - 2, hash, sizeof hash);
	sodium_memzero(hash, sizeof hash);
}

void
secret_stored_form(const char *secret, const unsigned char *hash_key,
    struct secret_stored *out)
{
	secret_hash_hex(secret, strlen(secret), hash_key, out->hash_hex);
	memcpy(out->display, secret, SECRET_API_KEY_DISPLAY_LEN);
	out->display[SECRET_API_KEY_DISPLAY_LEN] = '\0';
}

int
secret_file_read(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	/* Room for one byte more than allowed, to tell a full file from an
	 * oversized one. */
	char *buf = sodium_malloc(max + 2);
	int rc = buf != NULL ? 0 : ENOMEM;
	size_t have = 0;
	while (rc == 0 && have <= max) {
		ssize_t n = read(fd, buf + have, max + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = errno;
		else if (n == 0)
			break;
		else
			have += (size_t)n;
	}
	close(fd);
	if (rc == 0 && have > max)
		rc = EFBIG;
	if (rc != 0) {
		if (buf != NULL)
			sodium_free(buf);
		return rc;
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	return 0;
}
