/* Unit tests of the activity chain's hash (base/chain.c): a record's
 * hash is pinned (a stored chain must keep verifying), every field and
 * the previous hash and the key change it, and the encoding is
 * unambiguous: moving bytes from one field to the next, or an empty
 * field for an absent one, gives another hash. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/chain.h"
#include "unit.h"

static unsigned char key[CHAIN_KEY_BYTES];
static unsigned char prev[CHAIN_HASH_BYTES];

static struct chain_record
sample(void)
{
	if (sodium_init() < 0)
		abort();
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(0xa0 + i);
	for (size_t i = 0; i < sizeof prev; i++)
		prev[i] = (unsigned char)i;
	return (struct chain_record){
	    .seq = 42,
	    .prev = prev,
	    .id = 4242,
	    .revision = 9001,
	    .at_us = 1764000000123456,
	    .scope_prev = 40,
	    .workspace_id = "5f0c3a2e-8d1b-4c5e-9a7f-0123456789ab",
	    .organization_id = NULL,
	    .actor_user_id = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a",
	    .actor_api_key_id = NULL,
	    .action = "measurement.add",
	    .resource_type = "experiment",
	    .resource_id = "exp-1",
	    .detail = "added 12 measurements",
	};
}

static void
hex_of(const struct chain_record *r, char out[CHAIN_HASH_HEX])
{
	unsigned char h[CHAIN_HASH_BYTES];
	chain_hash(key, r, h);
	sodium_bin2hex(out, CHAIN_HASH_HEX, h, sizeof h);
}

static void
the_hash_of_a_record_is_pinned(void)
{
	struct chain_record r = sample();
	char hex[CHAIN_HASH_HEX];
	hex_of(&r, hex);
	/* Also what Python's hashlib.blake2b(encoding, key=key,
	 * digest_size=32) gives for the encoding of base/chain.h; a change
	 * here means every stored chain breaks. */
	EXPECT_STR(hex,
	    "4f1022b476920fc45e383322b049861742a588f43514e1f43cf9c00b730395fb");
}

static void
every_field_changes_the_hash(void)
{
	struct chain_record base = sample();
	char want[CHAIN_HASH_HEX], got[CHAIN_HASH_HEX];
	hex_of(&base, want);
	unsigned char other_prev[CHAIN_HASH_BYTES];
	memcpy(other_prev, prev, sizeof other_prev);
	other_prev[31] ^= 1;
	struct chain_record m[15];
	for (size_t i = 0; i < 15; i++)
		m[i] = base;
	m[0].seq++;
	m[1].prev = other_prev;
	m[2].id++;
	m[3].revision++;
	m[4].at_us++;
	m[5].scope_prev++;
	m[6].workspace_id = "5f0c3a2e-8d1b-4c5e-9a7f-0123456789ac";
	m[7].organization_id = "5f0c3a2e-8d1b-4c5e-9a7f-0123456789ab";
	m[8].actor_user_id = NULL;
	m[9].actor_api_key_id = "0d9e8f7a-6b5c-4d3e-2f1a-0b9c8d7e6f5a";
	m[10].action = "measurement.adD";
	m[11].resource_type = "dataset";
	m[12].resource_id = "exp-2";
	m[13].detail = "added 13 measurements";
	m[14].prev = NULL; /* the zeros of the first record */
	for (size_t i = 0; i < 15; i++) {
		hex_of(&m[i], got);
		if (strcmp(got, want) == 0)
			fprintf(
			    stderr, "  change %zu left the hash alone\n", i);
		EXPECT(strcmp(got, want) != 0);
	}
	/* The key, too. */
	key[0] ^= 1;
	unsigned char h[CHAIN_HASH_BYTES];
	chain_hash(key, &base, h);
	sodium_bin2hex(got, sizeof got, h, sizeof h);
	EXPECT(strcmp(got, want) != 0);
}

static void
the_encoding_is_unambiguous(void)
{
	char a[CHAIN_HASH_HEX], b[CHAIN_HASH_HEX];
	/* Bytes moved across a field boundary. */
	struct chain_record r = sample(), s = sample();
	r.resource_type = "ab";
	r.resource_id = "c";
	s.resource_type = "a";
	s.resource_id = "bc";
	hex_of(&r, a);
	hex_of(&s, b);
	EXPECT(strcmp(a, b) != 0);
	/* Absent is not empty. */
	r = sample();
	s = sample();
	r.organization_id = NULL;
	s.organization_id = "";
	hex_of(&r, a);
	hex_of(&s, b);
	EXPECT(strcmp(a, b) != 0);
	/* A field's absence is not the next field moving up. */
	r = sample();
	s = sample();
	r.resource_type = NULL;
	r.resource_id = "experiment";
	s.resource_type = "experiment";
	s.resource_id = NULL;
	hex_of(&r, a);
	hex_of(&s, b);
	EXPECT(strcmp(a, b) != 0);
	/* Equal records, equal hashes; the comparison agrees. */
	unsigned char x[CHAIN_HASH_BYTES], y[CHAIN_HASH_BYTES];
	r = sample();
	chain_hash(key, &r, x);
	chain_hash(key, &r, y);
	EXPECT(chain_hash_equal(x, y));
	y[0] ^= 0x80;
	EXPECT(!chain_hash_equal(x, y));
}

static const struct unit_case cases[] = {
    {"the hash of a record is pinned", the_hash_of_a_record_is_pinned},
    {"every field changes the hash", every_field_changes_the_hash},
    {"the encoding is unambiguous", the_encoding_is_unambiguous},
};

UNIT_MAIN(cases)
