/* The activity chain's hash: what one activity record is, encoded so that
 * no two different records encode alike, and the keyed BLAKE2b
 * (libsodium's crypto_generichash, keyed with the activity key, which is
 * not the hash key of secrets) that links it to the record before it.
 *
 *   hash = BLAKE2b-256(key, encode(record))
 *
 * The encoding is a tag, then every field in a fixed order: integers as 8
 * bytes big-endian, the previous record's hash as its 32 bytes, and each
 * text field as one byte (0 absent, 1 present) followed, when present, by
 * its length (4 bytes big-endian) and its bytes. So a field's end is
 * never a matter of its content: ("ab", "c") and ("a", "bc") differ, and
 * an absent field differs from an empty one. Pure: no state, no I/O. */
#ifndef EXE_CHAIN_H
#define EXE_CHAIN_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	CHAIN_HASH_BYTES = 32,
	CHAIN_KEY_BYTES = crypto_generichash_KEYBYTES,
	/* A hash in hex, with its NUL. */
	CHAIN_HASH_HEX = 2 * CHAIN_HASH_BYTES + 1,
};

/* One record as the chain sees it. Text fields are NUL-terminated; NULL
 * means absent (SQL NULL). UUIDs are in PostgreSQL's canonical text form
 * (lower-case, hyphenated), as the database prints them back. */
struct chain_record {
	uint64_t seq;              /* position in the chain: 1, 2, ... */
	const unsigned char *prev; /* hash of record seq - 1 (zeros for 1) */
	int64_t id;                /* activity.id */
	uint64_t revision;
	int64_t at_us;       /* activity.at, microseconds since the epoch */
	uint64_t scope_prev; /* seq of the previous record of its workspace
	                      * (or organisation); 0 for its first */
	const char *workspace_id;
	const char *organization_id;
	const char *actor_user_id;
	const char *actor_api_key_id;
	const char *action;
	const char *resource_type;
	const char *resource_id;
	const char *detail;
};

/* chain_hash computes the hash of `r` keyed with `key` (CHAIN_KEY_BYTES)
 * into `out`. */
void chain_hash(const unsigned char *key, const struct chain_record *r,
    unsigned char out[CHAIN_HASH_BYTES]);

/* chain_hash_equal compares two hashes in constant time. */
bool chain_hash_equal(const unsigned char *a, const unsigned char *b);

#endif
