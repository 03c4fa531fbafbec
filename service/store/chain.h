/* The activity chain's SQL (docs/DESIGN.md, "The activity chain"): hashing
 * the records that predate the chain, when the migration that adds it
 * runs, and walking the chain to verify it. Records are appended to the
 * chain by db_record_change. */
#ifndef EXE_STORE_CHAIN_H
#define EXE_STORE_CHAIN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/chain.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

/* What chain_verify found. */
struct chain_report {
	bool intact;
	uint64_t count;                       /* records checked */
	unsigned char head[CHAIN_HASH_BYTES]; /* see VerifyActivityResponse */
	uint64_t head_seq;
	/* The first break, when not intact. */
	Exe__Access__V1__ActivityBreakKind kind;
	uint64_t break_seq;
	char record_id[24]; /* "" when there is none */
	char message[320];
};

/* chain_seal_existing hashes, in chain order, every record that has a
 * place in the chain but no hash yet, with `key` (CHAIN_KEY_BYTES), and
 * makes the newest the chain's head. It runs inside the transaction of
 * the migration that numbers those records, and only there: a record
 * that appears later without a hash is reported, never sealed. Returns
 * a status code; on failure writes a message into `msg`. */
int chain_seal_existing(PGconn *conn, const unsigned char *key, char *msg,
    size_t msg_size) __attribute__((warn_unused_result));

/* chain_key_fits says in *fits whether `key` is the key the activity
 * log was chained with: true when the log has no chained record yet, or
 * when one of its CHAIN_KEY_PROBE newest records hashes, with its stored
 * previous hash, to its stored hash. One record altered since is
 * VerifyActivity's to report; that none of them matches means another
 * key. Returns a status code; on failure writes a message into `msg`. */
enum { CHAIN_KEY_PROBE = 3 };
int chain_key_fits(PGconn *conn, const unsigned char *key, bool *fits,
    char *msg, size_t msg_size) __attribute__((warn_unused_result));

/* A head kept elsewhere: the record at place `seq` had hash `hash`. */
struct chain_anchor {
	uint64_t seq;
	unsigned char hash[CHAIN_HASH_BYTES];
};

/* chain_verify walks the chain on call->db with `key` and fills `out`:
 * the whole log when `workspace_id` and `organization_id` are both
 * NULL (and then checks `anchor`, if not NULL), else the records of that
 * workspace, or the organisation's own (of no workspace). It sets the
 * transaction to REPEATABLE READ, READ ONLY, so the walk and the head come from
 * one snapshot: call it first in a transaction of its own. STATUS_NOT_FOUND
 * when that workspace or organisation has no record and never had one. */
int chain_verify(struct call *call, const unsigned char *key,
    const char *workspace_id, const char *organization_id,
    const struct chain_anchor *anchor, struct chain_report *out)
    __attribute__((warn_unused_result));

#endif
