/* The activity chain's SQL (docs/DESIGN.md, "The activity chain"): hashing
 * the records that predate the chain, when the migration that adds it
 * runs. Records are appended to the chain by db_record_change. */
#ifndef EXE_STORE_CHAIN_H
#define EXE_STORE_CHAIN_H

#include <libpq-fe.h>
#include <stddef.h>

/* chain_seal_existing hashes, in chain order, every record that has a
 * place in the chain but no hash yet, with `key` (CHAIN_KEY_BYTES), and
 * makes the newest the chain's head. It runs inside the transaction of
 * the migration that numbers those records, and only there: a record
 * that appears later without a hash is reported, never sealed. Returns
 * a status code; on failure writes a message into `msg`. */
int chain_seal_existing(PGconn *conn, const unsigned char *key, char *msg,
    size_t msg_size) __attribute__((warn_unused_result));

#endif
