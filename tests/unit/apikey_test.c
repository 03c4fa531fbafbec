/* Unit tests of apikey: generated secrets have the documented form, a
 * mistyped, cut or forged secret is refused without a database, secrets
 * issued earlier stay valid, and the stored hash depends on the server's
 * key. */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apikey.h"
#include "unit.h"

enum { PREFIX_LEN = sizeof APIKEY_PREFIX - 1 };

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Secrets made by apikey_generate once and kept: every key a user holds
 * must keep passing apikey_well_formed. */
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

/* well_formed calls apikey_well_formed on a heap copy of exactly `len`
 * bytes, so that a read past the end shows under AddressSanitizer. */
static bool
well_formed(const char *secret, size_t len)
{
	char *copy = malloc(len + (len == 0));
	if (copy == NULL)
		abort();
	memcpy(copy, secret, len);
	bool ok = apikey_well_formed(copy, len);
	free(copy);
	return ok;
}

static void
constants(void)
{
	EXPECT_STR(APIKEY_PREFIX, "exa_live_");
	EXPECT_INT(APIKEY_SECRET_LEN, PREFIX_LEN + 36);
	EXPECT_INT(APIKEY_HASH_KEY_BYTES, crypto_generichash_KEYBYTES);
	EXPECT_INT(APIKEY_DISPLAY_LEN, PREFIX_LEN + 4);
}

static void
generated_keys_are_well_formed(void)
{
	init_sodium();
	for (int round = 0; round < 200; round++) {
		/* Exactly the documented buffer size, filled with junk. */
		char *secret = malloc(APIKEY_SECRET_LEN + 1);
		if (secret == NULL)
			abort();
		memset(secret, 0x7f, APIKEY_SECRET_LEN + 1);
		apikey_generate(secret);
		EXPECT_INT(strlen(secret), APIKEY_SECRET_LEN);
		EXPECT(strncmp(secret, APIKEY_PREFIX, PREFIX_LEN) == 0);
		for (size_t i = PREFIX_LEN; i < APIKEY_SECRET_LEN; i++) {
			if (!in_alphabet(secret[i])) {
				fprintf(stderr, "  %s: byte %zu not base64url\n",
				    secret, i);
				unit_case_failed = 1;
				break;
			}
		}
		if (!well_formed(secret, APIKEY_SECRET_LEN)) {
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
	static char keys[N][APIKEY_SECRET_LEN + 1];
	for (size_t i = 0; i < N; i++)
		apikey_generate(keys[i]);
	size_t distinct_display = 0;
	for (size_t i = 0; i < N; i++) {
		bool display_seen = false;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(keys[i], keys[k]) == 0) {
				fprintf(stderr, "  keys %zu and %zu are equal\n", k, i);
				unit_case_failed = 1;
			}
			if (memcmp(keys[i], keys[k], APIKEY_DISPLAY_LEN) == 0)
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
		EXPECT_INT(strlen(known_keys[i]), APIKEY_SECRET_LEN);
		if (!well_formed(known_keys[i], APIKEY_SECRET_LEN)) {
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
		for (size_t i = PREFIX_LEN; i < APIKEY_SECRET_LEN; i++) {
			for (size_t c = 0; c < sizeof alphabet - 1; c++) {
				char m[APIKEY_SECRET_LEN + 1];
				memcpy(m, known_keys[k], sizeof m);
				if (m[i] == alphabet[c])
					continue;
				m[i] = alphabet[c];
				if (well_formed(m, APIKEY_SECRET_LEN)) {
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
		for (size_t i = PREFIX_LEN; i < APIKEY_SECRET_LEN; i++) {
			size_t accepted = 0;
			unsigned first = 0;
			for (unsigned byte = 0; byte < 256; byte++) {
				if (in_alphabet((char)byte))
					continue;
				char m[APIKEY_SECRET_LEN + 1];
				memcpy(m, known_keys[k], sizeof m);
				m[i] = (char)byte;
				if (well_formed(m, APIKEY_SECRET_LEN)) {
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
		for (size_t i = PREFIX_LEN; i + 1 < APIKEY_SECRET_LEN; i++) {
			char m[APIKEY_SECRET_LEN + 1];
			memcpy(m, known_keys[k], sizeof m);
			if (m[i] == m[i + 1])
				continue;
			char t = m[i];
			m[i] = m[i + 1];
			m[i + 1] = t;
			if (well_formed(m, APIKEY_SECRET_LEN)) {
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
		char key[APIKEY_SECRET_LEN + 1];
		apikey_generate(key);
		for (size_t i = APIKEY_SECRET_LEN - 4; i < APIKEY_SECRET_LEN; i++) {
			for (size_t c = 0; c < sizeof alphabet - 1; c++) {
				char m[APIKEY_SECRET_LEN + 1];
				memcpy(m, key, sizeof m);
				if (m[i] == alphabet[c])
					continue;
				m[i] = alphabet[c];
				if (well_formed(m, APIKEY_SECRET_LEN)) {
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
	for (size_t len = 0; len < APIKEY_SECRET_LEN; len++) {
		if (well_formed(key, len)) {
			fprintf(stderr, "  the first %zu bytes accepted\n", len);
			unit_case_failed = 1;
		}
	}
	char longer[APIKEY_SECRET_LEN + 2];
	memcpy(longer, key, APIKEY_SECRET_LEN);
	longer[APIKEY_SECRET_LEN] = 'A';
	longer[APIKEY_SECRET_LEN + 1] = '\0';
	EXPECT(!well_formed(longer, APIKEY_SECRET_LEN + 1));
	/* The terminating NUL counted as part of the key. */
	EXPECT(!well_formed(key, APIKEY_SECRET_LEN + 1));
	/* The right length with the last character missing in the middle. */
	char shifted[APIKEY_SECRET_LEN + 1];
	memcpy(shifted, key, PREFIX_LEN);
	memcpy(shifted + PREFIX_LEN, key + PREFIX_LEN + 1,
	    APIKEY_SECRET_LEN - PREFIX_LEN - 1);
	shifted[APIKEY_SECRET_LEN - 1] = 'A';
	shifted[APIKEY_SECRET_LEN] = '\0';
	EXPECT(!well_formed(shifted, APIKEY_SECRET_LEN));
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
			char m[APIKEY_SECRET_LEN + 1];
			memcpy(m, known_keys[k], sizeof m);
			memcpy(m, prefixes[p], PREFIX_LEN);
			if (well_formed(m, APIKEY_SECRET_LEN)) {
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
	EXPECT(!well_formed(longer, APIKEY_SECRET_LEN));
}

/* reencode replaces the key's raw bytes by `raw` (27 bytes). */
static void
reencode(char *key, const unsigned char *raw)
{
	memcpy(key, APIKEY_PREFIX, PREFIX_LEN);
	sodium_bin2base64(key + PREFIX_LEN, APIKEY_SECRET_LEN - PREFIX_LEN + 1,
	    raw, APIKEY_RANDOM_BYTES + APIKEY_CHECK_BYTES,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void
wrong_checksum_is_refused(void)
{
	init_sodium();
	enum { RAW = APIKEY_RANDOM_BYTES + APIKEY_CHECK_BYTES };
	unsigned char raw[RAW];
	size_t raw_len = 0;
	const char *key = known_keys[0];
	EXPECT_INT(sodium_base642bin(raw, sizeof raw, key + PREFIX_LEN,
	               APIKEY_SECRET_LEN - PREFIX_LEN, NULL, &raw_len, NULL,
	               sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
	EXPECT_INT(raw_len, RAW);
	char m[APIKEY_SECRET_LEN + 1];
	reencode(m, raw);
	EXPECT_STR(m, key); /* decoding and encoding again is lossless */
	EXPECT(well_formed(m, APIKEY_SECRET_LEN));

	/* Each bit of the checksum, and each bit of the random bytes. */
	for (size_t byte = 0; byte < RAW; byte++) {
		for (int bit = 0; bit < 8; bit++) {
			unsigned char bad[RAW];
			memcpy(bad, raw, RAW);
			bad[byte] ^= (unsigned char)(1u << bit);
			reencode(m, bad);
			if (well_formed(m, APIKEY_SECRET_LEN)) {
				fprintf(stderr, "  bit %d of byte %zu flipped: "
				    "accepted\n", bit, byte);
				unit_case_failed = 1;
			}
		}
	}
	/* A zero checksum and an all-ones checksum. */
	unsigned char bad[RAW];
	memcpy(bad, raw, RAW);
	memset(bad + APIKEY_RANDOM_BYTES, 0, APIKEY_CHECK_BYTES);
	reencode(m, bad);
	EXPECT(!well_formed(m, APIKEY_SECRET_LEN));
	memset(bad + APIKEY_RANDOM_BYTES, 0xff, APIKEY_CHECK_BYTES);
	reencode(m, bad);
	EXPECT(!well_formed(m, APIKEY_SECRET_LEN));
}

static void
hash_is_keyed_and_deterministic(void)
{
	init_sodium();
	unsigned char k1[APIKEY_HASH_KEY_BYTES], k2[APIKEY_HASH_KEY_BYTES];
	for (size_t i = 0; i < sizeof k1; i++)
		k1[i] = (unsigned char)(i * 7 + 1);
	memcpy(k2, k1, sizeof k2);
	k2[sizeof k2 - 1] ^= 0x01; /* one bit apart */

	const char *s = known_keys[0];
	unsigned char a[APIKEY_HASH_BYTES], b[APIKEY_HASH_BYTES];
	memset(a, 0xaa, sizeof a);
	memset(b, 0x55, sizeof b);
	apikey_hash(s, APIKEY_SECRET_LEN, k1, a);
	apikey_hash(s, APIKEY_SECRET_LEN, k1, b);
	/* Same input, same output, in every byte (the fills differed). */
	EXPECT(memcmp(a, b, sizeof a) == 0);

	apikey_hash(s, APIKEY_SECRET_LEN, k2, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);

	unsigned char random_key[APIKEY_HASH_KEY_BYTES];
	randombytes_buf(random_key, sizeof random_key);
	apikey_hash(s, APIKEY_SECRET_LEN, random_key, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);

	/* Another secret, or the same one cut short: another hash. */
	apikey_hash(known_keys[1], APIKEY_SECRET_LEN, k1, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);
	apikey_hash(s, APIKEY_SECRET_LEN - 1, k1, b);
	EXPECT(memcmp(a, b, sizeof a) != 0);

	/* Not the unkeyed hash: the database alone does not give it away. */
	unsigned char plain[APIKEY_HASH_BYTES];
	crypto_generichash(plain, sizeof plain, (const unsigned char *)s,
	    APIKEY_SECRET_LEN, NULL, 0);
	EXPECT(memcmp(a, plain, sizeof a) != 0);

	/* Not the secret itself, nor all zeroes. */
	unsigned char zero[APIKEY_HASH_BYTES] = {0};
	EXPECT(memcmp(a, zero, sizeof a) != 0);
	EXPECT(memcmp(a, s, sizeof a) != 0);
}

static void
hash_of_generated_keys(void)
{
	init_sodium();
	unsigned char key[APIKEY_HASH_KEY_BYTES];
	randombytes_buf(key, sizeof key);
	char s1[APIKEY_SECRET_LEN + 1], s2[APIKEY_SECRET_LEN + 1];
	apikey_generate(s1);
	apikey_generate(s2);
	unsigned char h1[APIKEY_HASH_BYTES], h1again[APIKEY_HASH_BYTES],
	    h2[APIKEY_HASH_BYTES];
	apikey_hash(s1, APIKEY_SECRET_LEN, key, h1);
	apikey_hash(s1, APIKEY_SECRET_LEN, key, h1again);
	apikey_hash(s2, APIKEY_SECRET_LEN, key, h2);
	EXPECT(memcmp(h1, h1again, sizeof h1) == 0);
	EXPECT(memcmp(h1, h2, sizeof h1) != 0);
}

static const struct unit_case cases[] = {
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
};

UNIT_MAIN(cases)
