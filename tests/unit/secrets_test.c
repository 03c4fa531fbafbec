/* Unit tests of secrets: generated API keys, invitation tokens and caller
 * tokens have the documented form, a mistyped, cut or forged secret is
 * refused without a database, secrets issued earlier stay valid, one kind
 * is never taken for another, and the stored hash depends on the server's
 * key. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/secrets.h"
#include "unit.h"

enum { PREFIX_LEN = sizeof SECRET_API_KEY_PREFIX - 1 };

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Secrets made by secret_generate once and kept: every key a user holds
 * must keep passing secret_well_formed. */
static const char *const known_keys[] = {
	"exa_live_v9QIQo3M1mB6pPdcNqG2kx3WgP5D__2SGmqx",
	"exa_live__qVx0kTdcbO17IuTO6jYh2zv0UeHphCUrQj_",
};

static void
init_sodium(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "  sodium_init failed\n");
		abort();
	}
}

static bool
in_alphabet(char c)
{
	return c != '\0' && strchr(alphabet, c) != NULL;
}

/* well_formed calls secret_well_formed on a heap copy of exactly `len`
 * bytes, so that a read past the end shows under AddressSanitizer. */
static bool
well_formed(const char *secret, size_t len)
{
	char *copy = malloc(len + (len == 0));
	if (copy == NULL)
		abort();
	memcpy(copy, secret, len);
	bool ok = secret_well_formed(SECRET_API_KEY, copy, len);
	free(copy);
	return ok;
}

static void
constants(void)
{
	EXPECT_STR(SECRET_API_KEY_PREFIX, "exa_live_");
	EXPECT_INT(SECRET_API_KEY_LEN, PREFIX_LEN + 36);
	EXPECT_INT(SECRET_HASH_KEY_BYTES, crypto_generichash_KEYBYTES);
	EXPECT_INT(SECRET_API_KEY_DISPLAY_LEN, PREFIX_LEN + 4);
}

static void
generated_keys_are_well_formed(void)
{
	init_sodium();
	for (int round = 0; round < 200; round++) {
		/* Exactly the documented buffer size, filled with junk. */
		char *secret = malloc(SECRET_API_KEY_LEN + 1);
		if (secret == NULL)
			abort();
		memset(secret, 0x7f, SECRET_API_KEY_LEN + 1);
		secret_generate(SECRET_API_KEY, secret);
		EXPECT_INT(strlen(secret), SECRET_API_KEY_LEN);
		EXPECT(strncmp(secret, SECRET_API_KEY_PREFIX, PREFIX_LEN) == 0);
		for (size_t i = PREFIX_LEN; i < SECRET_API_KEY_LEN; i++) {
			if (!in_alphabet(secret[i])) {
				fprintf(stderr, "  %s: byte %zu not base64url\n",
				    secret, i);
				unit_case_failed = 1;
				break;
			}
		}
		if (!well_formed(secret, SECRET_API_KEY_LEN)) {
			fprintf(stderr, "  generated %s refused\n", secret);
			unit_case_failed = 1;
		}
		free(secret);
	}
}

static void
generations_differ(void)
{
	init_sodium();
	enum { N = 100 };
	static char keys[N][SECRET_API_KEY_LEN + 1];
	for (size_t i = 0; i < N; i++)
		secret_generate(SECRET_API_KEY, keys[i]);
	size_t distinct_display = 0;
	for (size_t i = 0; i < N; i++) {
		bool display_seen = false;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(keys[i], keys[k]) == 0) {
				fprintf(stderr, "  keys %zu and %zu are equal\n", k, i);
				unit_case_failed = 1;
			}
			if (memcmp(keys[i], keys[k], SECRET_API_KEY_DISPLAY_LEN) == 0)
				display_seen = true;
		}
		if (!display_seen)
			distinct_display++;
	}
	/* The shown prefix (4 random characters) is random too. */
	EXPECT(distinct_display > N - 10);
}

static void
known_keys_stay_valid(void)
{
	init_sodium();
	for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
		EXPECT_INT(strlen(known_keys[i]), SECRET_API_KEY_LEN);
		if (!well_formed(known_keys[i], SECRET_API_KEY_LEN)) {
			fprintf(stderr, "  %s refused\n", known_keys[i]);
			unit_case_failed = 1;
		}
	}
}

static void
every_single_character_change_is_refused(void)
{
	init_sodium();
	/* Every position of the random part, every other base64url
	 * character. */
	for (size_t k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++) {
		for (size_t i = PREFIX_LEN; i < SECRET_API_KEY_LEN; i++) {
			for (size_t c = 0; c < sizeof alphabet - 1; c++) {
				char m[SECRET_API_KEY_LEN + 1];
				memcpy(m, known_keys[k], sizeof m);
				if (m[i] == alphabet[c])
					continue;
				m[i] = alphabet[c];
				if (well_formed(m, SECRET_API_KEY_LEN)) {
					fprintf(stderr, "  %s accepted\n", m);
					unit_case_failed = 1;
				}
			}
		}
	}
}

static void
non_base64url_bytes_are_refused(void)
{
	init_sodium();
	/* Every byte that is not in the base64url alphabet, at every position
	 * of the random part: ASCII punctuation, controls, NUL and every byte
	 * from 0x80 up (what a UTF-8 character is made of). */
	for (size_t k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++) {
		for (size_t i = PREFIX_LEN; i < SECRET_API_KEY_LEN; i++) {
			size_t accepted = 0;
			unsigned first = 0;
			for (unsigned byte = 0; byte < 256; byte++) {
				if (in_alphabet((char)byte))
					continue;
				char m[SECRET_API_KEY_LEN + 1];
				memcpy(m, known_keys[k], sizeof m);
				m[i] = (char)byte;
				if (well_formed(m, SECRET_API_KEY_LEN)) {
					if (accepted++ == 0)
						first = byte;
				}
			}
			if (accepted > 0) {
				fprintf(stderr, "  known key %zu, byte %zu ('%c') "
				    "replaced by any of %zu non-base64url bytes "
				    "(first 0x%02x): accepted\n", k, i,
				    known_keys[k][i], accepted, first);
				unit_case_failed = 1;
			}
		}
	}
}

static void
swapped_neighbours_are_refused(void)
{
	init_sodium();
	for (size_t k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++) {
		for (size_t i = PREFIX_LEN; i + 1 < SECRET_API_KEY_LEN; i++) {
			char m[SECRET_API_KEY_LEN + 1];
			memcpy(m, known_keys[k], sizeof m);
			if (m[i] == m[i + 1])
				continue;
			char t = m[i];
			m[i] = m[i + 1];
			m[i + 1] = t;
			if (well_formed(m, SECRET_API_KEY_LEN)) {
				fprintf(stderr, "  %s accepted\n", m);
				unit_case_failed = 1;
			}
		}
	}
}

static void
checksum_characters_of_new_keys(void)
{
	init_sodium();
	/* The last four characters carry the checksum: changing any of them
	 * changes the checksum and never the random bytes. */
	for (int round = 0; round < 20; round++) {
		char key[SECRET_API_KEY_LEN + 1];
		secret_generate(SECRET_API_KEY, key);
		for (size_t i = SECRET_API_KEY_LEN - 4; i < SECRET_API_KEY_LEN; i++) {
			for (size_t c = 0; c < sizeof alphabet - 1; c++) {
				char m[SECRET_API_KEY_LEN + 1];
				memcpy(m, key, sizeof m);
				if (m[i] == alphabet[c])
					continue;
				m[i] = alphabet[c];
				if (well_formed(m, SECRET_API_KEY_LEN)) {
					fprintf(stderr, "  %s accepted\n", m);
					unit_case_failed = 1;
				}
			}
		}
	}
}

static void
truncated_or_extended_is_refused(void)
{
	init_sodium();
	const char *key = known_keys[0];
	for (size_t len = 0; len < SECRET_API_KEY_LEN; len++) {
		if (well_formed(key, len)) {
			fprintf(stderr, "  the first %zu bytes accepted\n", len);
			unit_case_failed = 1;
		}
	}
	char longer[SECRET_API_KEY_LEN + 2];
	memcpy(longer, key, SECRET_API_KEY_LEN);
	longer[SECRET_API_KEY_LEN] = 'A';
	longer[SECRET_API_KEY_LEN + 1] = '\0';
	EXPECT(!well_formed(longer, SECRET_API_KEY_LEN + 1));
	/* The terminating NUL counted as part of the key. */
	EXPECT(!well_formed(key, SECRET_API_KEY_LEN + 1));
	/* The right length with the last character missing in the middle. */
	char shifted[SECRET_API_KEY_LEN + 1];
	memcpy(shifted, key, PREFIX_LEN);
	memcpy(shifted + PREFIX_LEN, key + PREFIX_LEN + 1,
	    SECRET_API_KEY_LEN - PREFIX_LEN - 1);
	shifted[SECRET_API_KEY_LEN - 1] = 'A';
	shifted[SECRET_API_KEY_LEN] = '\0';
	EXPECT(!well_formed(shifted, SECRET_API_KEY_LEN));
}

static void
wrong_prefix_is_refused(void)
{
	init_sodium();
	static const char *const prefixes[] = {
		"exa_test_", "EXA_LIVE_", "Exa_live_", "exb_live_", "exa-live-",
		"exa_live.", "xxxxxxxxx", "\0xa_live_",
	};
	for (size_t k = 0; k < sizeof known_keys / sizeof known_keys[0]; k++) {
		for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
			char m[SECRET_API_KEY_LEN + 1];
			memcpy(m, known_keys[k], sizeof m);
			memcpy(m, prefixes[p], PREFIX_LEN);
			if (well_formed(m, SECRET_API_KEY_LEN)) {
				fprintf(stderr, "  prefix %zu accepted\n", p);
				unit_case_failed = 1;
			}
		}
	}
	/* The random part alone, and the random part with a longer prefix. */
	const char *rand_part = known_keys[0] + PREFIX_LEN;
	EXPECT(!well_formed(rand_part, strlen(rand_part)));
	char longer[64];
	snprintf(longer, sizeof longer, "exa_live_x%s", rand_part);
	EXPECT(!well_formed(longer, strlen(longer)));
	EXPECT(!well_formed(longer, SECRET_API_KEY_LEN));
}

/* reencode replaces the key's raw bytes by `raw` (27 bytes). */
static void
reencode(char *key, const unsigned char *raw)
{
	memcpy(key, SECRET_API_KEY_PREFIX, PREFIX_LEN);
	sodium_bin2base64(key + PREFIX_LEN, SECRET_API_KEY_LEN - PREFIX_LEN + 1,
	    raw, SECRET_API_KEY_RANDOM_BYTES + SECRET_API_KEY_CHECK_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
wrong_checksum_is_refused(void)
{
	init_sodium();
	enum { RAW = SECRET_API_KEY_RANDOM_BYTES + SECRET_API_KEY_CHECK_BYTES };
	unsigned char raw[RAW];
	size_t raw_len = 0;
	const char *key = known_keys[0];
	EXPECT_INT(sodium_base642bin(raw, sizeof raw, key + PREFIX_LEN,
	               SECRET_API_KEY_LEN - PREFIX_LEN, NULL, &raw_len, NULL,
	               sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	EXPECT_INT(raw_len, RAW);
	char m[SECRET_API_KEY_LEN + 1];
	reencode(m, raw);
	EXPECT_STR(m, key); /* decoding and encoding again is lossless */
	EXPECT(well_formed(m, SECRET_API_KEY_LEN));

	/* Each bit of the checksum, and each bit of the random bytes. */
	for (size_t byte = 0; byte < RAW; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			unsigned char bad[RAW];
			memcpy(bad, raw, RAW);
			bad[byte] ^= (unsigned char)(1u << bit);
			reencode(m, bad);
			if (well_formed(m, SECRET_API_KEY_LEN)) {
				fprintf(stderr, "  bit %d of byte %zu flipped: "
				    "accepted\n", bit, byte);
				unit_case_failed = 1;
			}
		}
	}
	/* A zero checksum and an all-ones checksum. */
	unsigned char bad[RAW];
	memcpy(bad, raw, RAW);
	memset(bad + SECRET_API_KEY_RANDOM_BYTES, 0, SECRET_API_KEY_CHECK_BYTES);
	reencode(m, bad);
	EXPECT(!well_formed(m, SECRET_API_KEY_LEN));
	memset(bad + SECRET_API_KEY_RANDOM_BYTES, 0xff, SECRET_API_KEY_CHECK_BYTES);
	reencode(m, bad);
	EXPECT(!well_formed(m, SECRET_API_KEY_LEN));
}

static void
hash_is_keyed_and_deterministic(void)
{
	init_sodium();
	unsigned char k1[SECRET_HASH_KEY_BYTES], k2[SECRET_HASH_KEY_BYTES];
	for (size_t i = 0; i < sizeof k1; i++)
		k1[i] = (unsigned char)(i * 7 + 1);
	memcpy(k2, k1, sizeof k2);
	k2[sizeof k2 - 1] ^= 0x01; /* one bit apart */

	const char *s = known_keys[0];
	unsigned char a[SECRET_HASH_BYTES], b[SECRET_HASH_BYTES];
	memset(a, 0xaa, sizeof a);
	memset(b, 0x55, sizeof b);
	secret_hash(s, SECRET_API_KEY_LEN, k1, a);
	secret_hash(s, SECRET_API_KEY_LEN, k1, b);
	/* Same input, same output, in every byte (the fills differed). */
	EXPECT(memcmp(a, b, sizeof a) == 0);

	secret_hash(s, SECRET_API_KEY_LEN, k2, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);

	unsigned char random_key[SECRET_HASH_KEY_BYTES];
	randombytes_buf(random_key, sizeof random_key);
	secret_hash(s, SECRET_API_KEY_LEN, random_key, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);

	/* Another secret, or the same one cut short: another hash. */
	secret_hash(known_keys[1], SECRET_API_KEY_LEN, k1, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);
	secret_hash(s, SECRET_API_KEY_LEN - 1, k1, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);

	/* Not the unkeyed hash: the database alone does not give it away. */
	unsigned char plain[SECRET_HASH_BYTES];
	crypto_generichash(plain, sizeof plain, (const unsigned char *)s,
	    SECRET_API_KEY_LEN, NULL, 0);
	EXPECT(memcmp(a, plain, sizeof a) != 0);

	/* Not the secret itself, nor all zeroes. */
	unsigned char zero[SECRET_HASH_BYTES] = {0};
	EXPECT(memcmp(a, zero, sizeof a) != 0);
	EXPECT(memcmp(a, s, sizeof a) != 0);
}

static void
hash_of_generated_keys(void)
{
	init_sodium();
	unsigned char key[SECRET_HASH_KEY_BYTES];
	randombytes_buf(key, sizeof key);
	char s1[SECRET_API_KEY_LEN + 1], s2[SECRET_API_KEY_LEN + 1];
	secret_generate(SECRET_API_KEY, s1);
	secret_generate(SECRET_API_KEY, s2);
	unsigned char h1[SECRET_HASH_BYTES], h1again[SECRET_HASH_BYTES],
	    h2[SECRET_HASH_BYTES];
	secret_hash(s1, SECRET_API_KEY_LEN, key, h1);
	secret_hash(s1, SECRET_API_KEY_LEN, key, h1again);
	secret_hash(s2, SECRET_API_KEY_LEN, key, h2);
	EXPECT(memcmp(h1, h1again, sizeof h1) == 0);
	EXPECT(memcmp(h1, h2, sizeof h1) != 0);
}

/* Tokens made by the earlier, separate generators of invitations and of
 * caller tokens (exe-accessd --mint-token): they must stay valid. */
static const char known_invitation[] =
    "exa_inv_mfzHF-RX2j3tCwxfSEsFgpUoTkk5yuPUOrcnMXNjH8I";
static const char known_caller_token[] =
    "exa_svc_bsCmGUAW6CL5YGP0nCs3cVmYRaDHP1FpdTVZHwY2PkQ";

static void
other_kinds_have_their_forms(void)
{
	init_sodium();
	EXPECT_INT(secret_len(SECRET_INVITATION), 51);
	EXPECT_INT(secret_len(SECRET_CALLER_TOKEN), 51);
	EXPECT_INT(secret_len(SECRET_API_KEY), SECRET_API_KEY_LEN);
	char inv[SECRET_INVITATION_LEN + 1], svc[SECRET_CALLER_TOKEN_LEN + 1];
	for (int i = 0; i < 200; i++) {
		secret_generate(SECRET_INVITATION, inv);
		secret_generate(SECRET_CALLER_TOKEN, svc);
		EXPECT_INT(strlen(inv), SECRET_INVITATION_LEN);
		EXPECT_INT(strlen(svc), SECRET_CALLER_TOKEN_LEN);
		EXPECT(strncmp(inv, "exa_inv_", 8) == 0);
		EXPECT(strncmp(svc, "exa_svc_", 8) == 0);
		for (size_t j = 8; j < SECRET_INVITATION_LEN; j++) {
			EXPECT(in_alphabet(inv[j]));
			EXPECT(in_alphabet(svc[j]));
		}
		EXPECT(secret_well_formed(SECRET_INVITATION, inv, strlen(inv)));
		EXPECT(secret_well_formed(SECRET_CALLER_TOKEN, svc, strlen(svc)));
	}
	EXPECT(secret_well_formed(SECRET_INVITATION, known_invitation,
	    strlen(known_invitation)));
	EXPECT(secret_well_formed(SECRET_CALLER_TOKEN, known_caller_token,
	    strlen(known_caller_token)));
}

static void
kinds_are_not_confused(void)
{
	init_sodium();
	char key[SECRET_API_KEY_LEN + 1], inv[SECRET_INVITATION_LEN + 1],
	    svc[SECRET_CALLER_TOKEN_LEN + 1];
	secret_generate(SECRET_API_KEY, key);
	secret_generate(SECRET_INVITATION, inv);
	secret_generate(SECRET_CALLER_TOKEN, svc);
	EXPECT(!secret_well_formed(SECRET_INVITATION, key, strlen(key)));
	EXPECT(!secret_well_formed(SECRET_CALLER_TOKEN, key, strlen(key)));
	EXPECT(!secret_well_formed(SECRET_API_KEY, inv, strlen(inv)));
	EXPECT(!secret_well_formed(SECRET_CALLER_TOKEN, inv, strlen(inv)));
	EXPECT(!secret_well_formed(SECRET_API_KEY, svc, strlen(svc)));
	EXPECT(!secret_well_formed(SECRET_INVITATION, svc, strlen(svc)));
}

static void
caller_tokens_need_only_their_form(void)
{
	/* Token files may hold hashes of tokens other tools made: any text of
	 * the prefix, the length and the alphabet is a candidate. */
	const char *hand_made =
	    "exa_svc_freshCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
	EXPECT(secret_well_formed(SECRET_CALLER_TOKEN, hand_made,
	    strlen(hand_made)));
	EXPECT(!secret_well_formed(SECRET_INVITATION, "exa_inv_freshCCCCCCCCCCC"
	    "CCCCCCCCCCCCCCCCCCCCCCCCCCC", SECRET_INVITATION_LEN));
	char bad[SECRET_CALLER_TOKEN_LEN + 1];
	memcpy(bad, hand_made, sizeof bad);
	bad[30] = '=';
	EXPECT(!secret_well_formed(SECRET_CALLER_TOKEN, bad, sizeof bad - 1));
	EXPECT(!secret_well_formed(SECRET_CALLER_TOKEN, hand_made,
	    SECRET_CALLER_TOKEN_LEN - 1));
}

static void
tokens_refuse_bad_text(void)
{
	char inv[SECRET_INVITATION_LEN + 1];
	memcpy(inv, known_invitation, sizeof inv);
	/* Cut, extended, a character outside base64url, a trailing bit set
	 * that 43 characters cannot carry. */
	EXPECT(!secret_well_formed(SECRET_INVITATION, inv, SECRET_INVITATION_LEN - 1));
	inv[20] = '+';
	EXPECT(!secret_well_formed(SECRET_INVITATION, inv, SECRET_INVITATION_LEN));
	inv[20] = '\0';
	EXPECT(!secret_well_formed(SECRET_INVITATION, inv, SECRET_INVITATION_LEN));
	memcpy(inv, known_invitation, sizeof inv);
	inv[SECRET_INVITATION_LEN - 1] = '_'; /* 0b111111: low bits set */
	EXPECT(!secret_well_formed(SECRET_INVITATION, inv, SECRET_INVITATION_LEN));
	char longer[SECRET_INVITATION_LEN + 2];
	memcpy(longer, known_invitation, SECRET_INVITATION_LEN);
	longer[SECRET_INVITATION_LEN] = 'A';
	longer[SECRET_INVITATION_LEN + 1] = '\0';
	EXPECT(!secret_well_formed(SECRET_INVITATION, longer, strlen(longer)));
}

static void
caller_token_hash_is_unkeyed_blake2b(void)
{
	init_sodium();
	/* The token file holds BLAKE2b-256 of the token with no key: a line
	 * made before must keep matching. */
	unsigned char h[SECRET_HASH_BYTES], want[crypto_generichash_BYTES];
	secret_hash(known_caller_token, strlen(known_caller_token), NULL, h);
	crypto_generichash(want, sizeof want,
	    (const unsigned char *)known_caller_token,
	    strlen(known_caller_token), NULL, 0);
	EXPECT_INT(sizeof want, SECRET_HASH_BYTES);
	EXPECT(memcmp(h, want, sizeof h) == 0);
	char hex[SECRET_HASH_HEX];
	unsigned char key[SECRET_HASH_KEY_BYTES] = {1};
	secret_hash_hex(known_caller_token, strlen(known_caller_token), key,
	    hex);
	EXPECT(hex[0] == '\\' && hex[1] == 'x');
	EXPECT_INT(strlen(hex), SECRET_HASH_HEX - 1);
}

/* secret_file_at writes `len` bytes to a new temporary file (with
 * write(2)); its path goes into `path` (64 bytes). */
static void
secret_file_at(char *path, const char *text, size_t len)
{
	strcpy(path, "/tmp/exe-access-secrets-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror("temporary file");
		abort();
	}
	close(fd);
}

static void
secret_files_are_read_whole(void)
{
	init_sodium();
	static const char pem[] = "-----BEGIN PRIVATE KEY-----\n"
				  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
				  "-----END PRIVATE KEY-----\n";
	char path[64];
	secret_file_at(path, pem, sizeof pem - 1);
	char *got = NULL;
	size_t len = 0;
	EXPECT_INT(secret_file_read(path, 4096, &got, &len), 0);
	EXPECT_INT(len, sizeof pem - 1);
	if (got != NULL) {
		EXPECT_STR(got, pem); /* and a NUL after it */
		sodium_free(got);
	}
	/* Exactly the limit is fine; one byte over is EFBIG, nothing out. */
	got = NULL;
	EXPECT_INT(secret_file_read(path, sizeof pem - 1, &got, &len), 0);
	if (got != NULL)
		sodium_free(got);
	got = NULL;
	EXPECT_INT(secret_file_read(path, sizeof pem - 2, &got, &len), EFBIG);
	EXPECT(got == NULL);
	unlink(path);
	EXPECT_INT(secret_file_read(path, 4096, &got, &len), ENOENT);
	EXPECT(got == NULL);
	/* An empty file is an empty string. */
	secret_file_at(path, "", 0);
	EXPECT_INT(secret_file_read(path, 4096, &got, &len), 0);
	EXPECT_INT(len, 0);
	if (got != NULL) {
		EXPECT_STR(got, "");
		sodium_free(got);
	}
	unlink(path);
}

static const struct unit_case cases[] = {
	{"secret_files_are_read_whole", secret_files_are_read_whole},
	{"constants", constants},
	{"generated_keys_are_well_formed", generated_keys_are_well_formed},
	{"generations_differ", generations_differ},
	{"known_keys_stay_valid", known_keys_stay_valid},
	{"every_single_character_change_is_refused",
	    every_single_character_change_is_refused},
	{"non_base64url_bytes_are_refused", non_base64url_bytes_are_refused},
	{"swapped_neighbours_are_refused", swapped_neighbours_are_refused},
	{"checksum_characters_of_new_keys", checksum_characters_of_new_keys},
	{"truncated_or_extended_is_refused", truncated_or_extended_is_refused},
	{"wrong_prefix_is_refused", wrong_prefix_is_refused},
	{"wrong_checksum_is_refused", wrong_checksum_is_refused},
	{"hash_is_keyed_and_deterministic", hash_is_keyed_and_deterministic},
	{"hash_of_generated_keys", hash_of_generated_keys},
	{"other_kinds_have_their_forms", other_kinds_have_their_forms},
	{"kinds_are_not_confused", kinds_are_not_confused},
	{"caller_tokens_need_only_their_form",
	    caller_tokens_need_only_their_form},
	{"tokens_refuse_bad_text", tokens_refuse_bad_text},
	{"caller_token_hash_is_unkeyed_blake2b",
	    caller_token_hash_is_unkeyed_blake2b},
};

UNIT_MAIN(cases)
