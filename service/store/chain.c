/* The activity chain's SQL: sealing the records that predate it. */
#include "store/chain.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/chain.h"
#include "base/status.h"
#include "store/db.h"

/* Records hashed per statement while sealing. */
enum { CHAIN_SEAL_PAGE = 1000 };

/* The columns chain_row_record reads, in its order. */
#define CHAIN_COLUMNS                                                          \
	"chain_seq, id, revision, unix_us(at), scope_prev,"                    \
	" workspace_id::text, organization_id::text, actor_user_id::text,"     \
	" actor_api_key_id::text, action, resource_type, resource_id, detail"

static const char *
chain_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* chain_row_record reads row `row` (CHAIN_COLUMNS first) into `r`, whose
 * strings point into `res`; r->prev is left to the caller. */
static void
chain_row_record(const PGresult *res, int row, struct chain_record *r)
{
	*r = (struct chain_record){
	    .seq = strtoull(PQgetvalue(res, row, 0), NULL, 10),
	    .id = strtoll(PQgetvalue(res, row, 1), NULL, 10),
	    .revision = strtoull(PQgetvalue(res, row, 2), NULL, 10),
	    .at_us = strtoll(PQgetvalue(res, row, 3), NULL, 10),
	    .scope_prev = strtoull(PQgetvalue(res, row, 4), NULL, 10),
	    .workspace_id = chain_text(res, row, 5),
	    .organization_id = chain_text(res, row, 6),
	    .actor_user_id = chain_text(res, row, 7),
	    .actor_api_key_id = chain_text(res, row, 8),
	    .action = chain_text(res, row, 9),
	    .resource_type = chain_text(res, row, 10),
	    .resource_id = chain_text(res, row, 11),
	    .detail = chain_text(res, row, 12),
	};
}

/* chain_seal_page hashes up to CHAIN_SEAL_PAGE records after `*after`
 * (chain order), linking the first to `prev`, which it leaves holding
 * the last one's hash; *after moves to the last one's place and *done
 * says whether there were none. */
static int
chain_seal_page(PGconn *conn, const unsigned char *key, uint64_t *after,
    unsigned char prev[CHAIN_HASH_BYTES], bool *done, char *msg,
    size_t msg_size)
{
	static const char page_sql[] =
	    "SELECT " CHAIN_COLUMNS " FROM activity"
	    " WHERE chain_seq > $1::bigint AND hash IS NULL"
	    " ORDER BY chain_seq LIMIT 1000";
	static const char write_sql[] =
	    "UPDATE activity a SET prev_hash = decode(u.p, 'hex'),"
	    "   hash = decode(u.h, 'hex')"
	    " FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(seq, p, h)"
	    " WHERE a.chain_seq = u.seq";
	char after_text[24];
	snprintf(after_text, sizeof after_text, "%" PRIu64, *after);
	const char *params[] = {after_text};
	PGresult *res;
	struct db_error err;
	int rc = db_exec(conn, page_sql, 1, params, &res, &err);
	if (rc != STATUS_OK) {
		snprintf(
		    msg, msg_size, "reading records to chain: %s", err.message);
		return rc;
	}
	int rows = PQntuples(res);
	*done = rows == 0;
	if (rows == 0) {
		PQclear(res);
		return STATUS_OK;
	}
	/* Arrays of place, previous hash and hash, as text: "{1,2}" and
	 * "{ab..,cd..}" need no quoting. */
	size_t hex = 2 * CHAIN_HASH_BYTES;
	char *seqs = malloc((size_t)rows * 21 + 3);
	char *prevs = malloc((size_t)rows * (hex + 1) + 3);
	char *hashes = malloc((size_t)rows * (hex + 1) + 3);
	if (seqs == NULL || prevs == NULL || hashes == NULL) {
		free(seqs);
		free(prevs);
		free(hashes);
		PQclear(res);
		snprintf(msg, msg_size, "out of memory");
		return STATUS_INTERNAL;
	}
	char *s = seqs, *p = prevs, *h = hashes;
	*s++ = *p++ = *h++ = '{';
	for (int i = 0; i < rows; i++) {
		struct chain_record r;
		chain_row_record(res, i, &r);
		r.prev = prev;
		unsigned char hash[CHAIN_HASH_BYTES];
		chain_hash(key, &r, hash);
		if (i > 0)
			*s++ = *p++ = *h++ = ',';
		s += sprintf(s, "%" PRIu64, r.seq);
		sodium_bin2hex(p, hex + 1, prev, CHAIN_HASH_BYTES);
		sodium_bin2hex(h, hex + 1, hash, CHAIN_HASH_BYTES);
		p += hex;
		h += hex;
		memcpy(prev, hash, CHAIN_HASH_BYTES);
		*after = r.seq;
	}
	strcpy(s, "}");
	strcpy(p, "}");
	strcpy(h, "}");
	PQclear(res);
	const char *wparams[] = {seqs, prevs, hashes};
	rc = db_exec(conn, write_sql, 3, wparams, NULL, &err);
	free(seqs);
	free(prevs);
	free(hashes);
	if (rc != STATUS_OK)
		snprintf(msg, msg_size, "chaining records: %s", err.message);
	return rc;
}

int
chain_seal_existing(
    PGconn *conn, const unsigned char *key, char *msg, size_t msg_size)
{
	if (key == NULL) {
		snprintf(msg, msg_size,
		    "chaining the activity log needs the activity key");
		return STATUS_INTERNAL;
	}
	unsigned char prev[CHAIN_HASH_BYTES] = {0};
	uint64_t after = 0;
	bool done = false;
	int rc = STATUS_OK;
	while (rc == STATUS_OK && !done)
		rc = chain_seal_page(
		    conn, key, &after, prev, &done, msg, msg_size);
	if (rc != STATUS_OK || after == 0)
		return rc;
	char head[2 * CHAIN_HASH_BYTES + 3];
	db_hex(prev, sizeof prev, head);
	const char *params[] = {head};
	struct db_error err;
	rc = db_exec(conn,
	    "UPDATE revision_counter SET activity_head = $1::bytea", 1, params,
	    NULL, &err);
	if (rc != STATUS_OK)
		snprintf(
		    msg, msg_size, "writing the chain's head: %s", err.message);
	return rc;
}
