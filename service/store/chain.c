/* The activity chain's SQL: sealing the records that predate it, and
 * walking it, page by page in chain order, to verify it. */
#include "store/chain.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/chain.h"
#include "base/status.h"
#include "store/db.h"

/* Records hashed per statement while sealing, or read while verifying. */
enum { CHAIN_SEAL_PAGE = 1000, CHAIN_VERIFY_PAGE = 1000 };

typedef Exe__Access__V1__ActivityBreakKind chain_kind;
#define KIND(k) EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_##k

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

/* chain_break records the first break in `r` (later ones are not asked
 * for: the walk stops). */
__attribute__((format(printf, 5, 6))) static void
chain_break(struct chain_report *r, chain_kind kind, int64_t seq,
    const char *record_id, const char *fmt, ...)
{
	r->intact = false;
	r->kind = kind;
	r->break_seq = seq > 0 ? (uint64_t)seq : 0;
	snprintf(r->record_id, sizeof r->record_id, "%s",
	    record_id != NULL ? record_id : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof r->message, fmt, ap);
	va_end(ap);
}

/* A row of a verifying walk: CHAIN_COLUMNS, then prev_hash and hash, and
 * (one workspace's walk) the hash of the record before it in the log. */
#define CHAIN_WALK_COLUMNS CHAIN_COLUMNS ", prev_hash, hash"

/* chain_row_hashes reads a row's stored previous hash and hash. */
static bool
chain_row_hashes(const PGresult *res, int row,
    unsigned char prev[CHAIN_HASH_BYTES], unsigned char hash[CHAIN_HASH_BYTES])
{
	return db_unhex(chain_text(res, row, 13), prev, CHAIN_HASH_BYTES) &&
	       db_unhex(chain_text(res, row, 14), hash, CHAIN_HASH_BYTES);
}

/* chain_row_matches says whether a row's hash is that of its content
 * after `prev`. */
static bool
chain_row_matches(const unsigned char *key, const PGresult *res, int row,
    const unsigned char *prev, const unsigned char *hash)
{
	struct chain_record rec;
	chain_row_record(res, row, &rec);
	rec.prev = prev;
	unsigned char want[CHAIN_HASH_BYTES];
	chain_hash(key, &rec, want);
	return chain_hash_equal(want, hash);
}

int
chain_key_fits(PGconn *conn, const unsigned char *key, bool *fits, char *msg,
    size_t msg_size)
{
	static const char sql[] =
	    "SELECT " CHAIN_WALK_COLUMNS " FROM activity"
	    " WHERE hash IS NOT NULL AND prev_hash IS NOT NULL"
	    " ORDER BY chain_seq DESC LIMIT $1::int";
	char limit[8];
	snprintf(limit, sizeof limit, "%d", CHAIN_KEY_PROBE);
	const char *params[] = {limit};
	PGresult *res;
	struct db_error err;
	int rc = db_exec(conn, sql, 1, params, &res, &err);
	if (rc != STATUS_OK) {
		snprintf(msg, msg_size, "reading the newest activity records: %s",
		    err.message);
		return rc;
	}
	int rows = PQntuples(res);
	*fits = rows == 0;
	for (int i = 0; i < rows && !*fits; i++) {
		unsigned char prev[CHAIN_HASH_BYTES], hash[CHAIN_HASH_BYTES];
		*fits = chain_row_hashes(res, i, prev, hash) &&
		    chain_row_matches(key, res, i, prev, hash);
	}
	PQclear(res);
	return STATUS_OK;
}

static void
chain_altered(struct chain_report *r, int64_t seq, const char *id)
{
	chain_break(r, KIND(ALTERED), seq, id,
	    "record %s (place %" PRId64 ") does not match its hash: edited, "
	    "or written without the key",
	    id, seq);
}

static void
chain_mislinked(struct chain_report *r, int64_t seq, const char *id)
{
	chain_break(r, KIND(MISLINKED), seq, id,
	    "record %s (place %" PRId64 ") does not follow the record before "
	    "it: reordered, or moved",
	    id, seq);
}

/* chain_unchained looks for a record with no place in the chain (the
 * constraint that forbids it dropped), in scope `scope_sql`'s terms. */
static int
chain_unchained(struct call *call, const char *sql, int nparams,
    const char *const *params, struct chain_report *r)
{
	PGresult *res;
	int rc = db_exec(call->db, sql, nparams, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) > 0)
		chain_break(r, KIND(INSERTED), 0, PQgetvalue(res, 0, 0),
		    "record %s has no place in the chain: inserted outside "
		    "the service",
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return STATUS_OK;
}

/* chain_read_head reads the chain's length and head. */
static int
chain_read_head(
    struct call *call, uint64_t *count, unsigned char head[CHAIN_HASH_BYTES])
{
	PGresult *res;
	int rc = db_exec(call->db,
	    "SELECT activity_count, activity_head FROM revision_counter", 0,
	    NULL, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	bool ok = PQntuples(res) == 1 &&
	          db_unhex(PQgetvalue(res, 0, 1), head, CHAIN_HASH_BYTES);
	if (ok)
		*count = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return ok ? STATUS_OK
	          : call_fail(call, STATUS_INTERNAL,
	                "the activity chain's head is unreadable");
}

/* chain_walk_all checks every record, in chain order: places 1, 2, ...
 * with none skipped, each linked to the one before, each matching its
 * hash, and the last one the head. */
static int
chain_walk_all(struct call *call, const unsigned char *key,
    const struct chain_anchor *anchor, struct chain_report *r)
{
	static const char page_sql[] =
	    "SELECT " CHAIN_WALK_COLUMNS " FROM activity"
	    " WHERE chain_seq > $1::bigint ORDER BY chain_seq LIMIT 1000";
	uint64_t head_count = 0;
	int rc = chain_read_head(call, &head_count, r->head);
	if (rc != STATUS_OK)
		return rc;
	r->head_seq = head_count;
	unsigned char prev[CHAIN_HASH_BYTES] = {0};
	char after[24] = "-9223372036854775808";
	int64_t expected = 1;
	int rows = CHAIN_VERIFY_PAGE;
	while (r->intact && rows == CHAIN_VERIFY_PAGE) {
		const char *params[] = {after};
		PGresult *res;
		rc = db_exec(call->db, page_sql, 1, params, &res, NULL);
		if (rc != STATUS_OK)
			return rc;
		rows = PQntuples(res);
		for (int i = 0; r->intact && i < rows; i++) {
			const char *id = PQgetvalue(res, i, 1);
			int64_t seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			unsigned char stored_prev[CHAIN_HASH_BYTES];
			unsigned char hash[CHAIN_HASH_BYTES];
			if (seq < 1 || (uint64_t)seq > head_count)
				chain_break(r, KIND(INSERTED), seq, id,
				    "record %s is at place %" PRId64
				    ", outside "
				    "the chain (places 1 to %" PRIu64 "): "
				    "inserted",
				    id, seq, head_count);
			else if (seq > expected)
				chain_break(r, KIND(MISSING), expected, NULL,
				    "no record at place %" PRId64 " (the next "
				    "is record %s, at place %" PRId64 "): "
				    "deleted",
				    expected, id, seq);
			else if (!chain_row_hashes(res, i, stored_prev, hash))
				chain_altered(r, seq, id);
			else if (!chain_hash_equal(stored_prev, prev))
				chain_mislinked(r, seq, id);
			else if (!chain_row_matches(key, res, i, prev, hash))
				chain_altered(r, seq, id);
			else if (anchor != NULL &&
			         (uint64_t)seq == anchor->seq &&
			         !chain_hash_equal(hash, anchor->hash))
				chain_break(r, KIND(ANCHOR), seq, id,
				    "record %s at the anchored place %" PRId64
				    " is not the anchored record: records were "
				    "removed and the chain rebuilt, or the log "
				    "replaced",
				    id, seq);
			if (!r->intact)
				break;
			memcpy(prev, hash, sizeof prev);
			expected = seq + 1;
			r->count++;
			snprintf(after, sizeof after, "%" PRId64, seq);
		}
		PQclear(res);
	}
	if (r->intact && anchor != NULL && anchor->seq > head_count)
		chain_break(r, KIND(ANCHOR), (int64_t)anchor->seq, NULL,
		    "the chain ends at place %" PRIu64 ", before the anchored "
		    "place %" PRIu64 ": the newest records were deleted and "
		    "the head rewound",
		    head_count, anchor->seq);
	else if (r->intact && (uint64_t)(expected - 1) != head_count)
		chain_break(r, KIND(HEAD), expected, NULL,
		    "the chain ends at place %" PRId64 " but its head is at "
		    "place %" PRIu64 ": the newest records were deleted",
		    expected - 1, head_count);
	else if (r->intact && !chain_hash_equal(prev, r->head))
		chain_break(r, KIND(HEAD), expected - 1, NULL,
		    "the head is not the hash of the newest record (place "
		    "%" PRId64 "): the head was changed",
		    expected - 1);
	if (r->intact)
		rc = chain_unchained(call,
		    "SELECT id FROM activity WHERE chain_seq IS NULL"
		    " ORDER BY id LIMIT 1",
		    0, NULL, r);
	return rc;
}

/* chain_walk_scope checks one workspace's records (or an organisation's
 * own), in chain order: each linked to the record before it in the log,
 * matching its hash, and naming the workspace's previous record as its
 * previous; the last one the workspace's newest. */
static int
chain_walk_scope(struct call *call, const unsigned char *key, const char *scope,
    bool organization, struct chain_report *r)
{
	static const char ws_sql[] =
	    "SELECT " CHAIN_WALK_COLUMNS ","
	    " (SELECT p.hash FROM activity p"
	    "  WHERE p.chain_seq = a.chain_seq - 1)"
	    " FROM activity a WHERE a.workspace_id = $1::uuid"
	    " AND a.chain_seq > $2::bigint ORDER BY a.chain_seq LIMIT 1000";
	static const char org_sql[] =
	    "SELECT " CHAIN_WALK_COLUMNS ","
	    " (SELECT p.hash FROM activity p"
	    "  WHERE p.chain_seq = a.chain_seq - 1)"
	    " FROM activity a WHERE a.workspace_id IS NULL"
	    " AND a.organization_id = $1::uuid"
	    " AND a.chain_seq > $2::bigint ORDER BY a.chain_seq LIMIT 1000";
	static const char ws_unchained[] =
	    "SELECT id FROM activity WHERE chain_seq IS NULL"
	    " AND workspace_id = $1::uuid ORDER BY id LIMIT 1";
	static const char org_unchained[] =
	    "SELECT id FROM activity WHERE chain_seq IS NULL"
	    " AND workspace_id IS NULL AND organization_id = $1::uuid"
	    " ORDER BY id LIMIT 1";
	uint64_t head_count = 0;
	unsigned char global_head[CHAIN_HASH_BYTES];
	int rc = chain_read_head(call, &head_count, global_head);
	if (rc != STATUS_OK)
		return rc;
	const char *scope_params[] = {scope};
	PGresult *res;
	rc = db_exec(call->db,
	    "SELECT last_seq FROM activity_scopes WHERE scope = $1::uuid", 1,
	    scope_params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	bool known = PQntuples(res) == 1;
	int64_t scope_head =
	    known ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	PQclear(res);
	const char *what = organization ? "organisation" : "workspace";
	char after[24] = "-9223372036854775808";
	int64_t last = 0;
	int rows = CHAIN_VERIFY_PAGE;
	while (r->intact && rows == CHAIN_VERIFY_PAGE) {
		const char *params[] = {scope, after};
		rc = db_exec(call->db, organization ? org_sql : ws_sql, 2,
		    params, &res, NULL);
		if (rc != STATUS_OK)
			return rc;
		rows = PQntuples(res);
		for (int i = 0; r->intact && i < rows; i++) {
			const char *id = PQgetvalue(res, i, 1);
			int64_t seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
			int64_t scope_prev =
			    strtoll(PQgetvalue(res, i, 4), NULL, 10);
			unsigned char stored_prev[CHAIN_HASH_BYTES];
			unsigned char hash[CHAIN_HASH_BYTES];
			unsigned char before[CHAIN_HASH_BYTES] = {0};
			bool have_before =
			    seq == 1 || db_unhex(chain_text(res, i, 15), before,
			                    sizeof before);
			if (seq < 1 || (uint64_t)seq > head_count)
				chain_break(r, KIND(INSERTED), seq, id,
				    "record %s is at place %" PRId64
				    ", outside "
				    "the chain (places 1 to %" PRIu64 "): "
				    "inserted",
				    id, seq, head_count);
			else if (!have_before)
				chain_break(r, KIND(MISSING), seq - 1, NULL,
				    "no record at place %" PRId64 ", before "
				    "record %s of this %s: deleted",
				    seq - 1, id, what);
			else if (!chain_row_hashes(res, i, stored_prev, hash))
				chain_altered(r, seq, id);
			else if (!chain_hash_equal(stored_prev, before))
				chain_mislinked(r, seq, id);
			else if (!chain_row_matches(key, res, i, before, hash))
				chain_altered(r, seq, id);
			else if (scope_prev > last)
				chain_break(r, KIND(MISSING), scope_prev, NULL,
				    "the %s's record at place %" PRId64 ", "
				    "before record %s, is gone: deleted, or "
				    "moved to another %s",
				    what, scope_prev, id, what);
			else if (scope_prev < last)
				chain_break(r, KIND(MISLINKED), seq, id,
				    "record %s (place %" PRId64 ") does not "
				    "follow the %s's record at place %" PRId64
				    ": moved from another %s",
				    id, seq, what, last, what);
			if (!r->intact)
				break;
			memcpy(r->head, hash, sizeof r->head);
			last = seq;
			r->head_seq = (uint64_t)seq;
			r->count++;
			snprintf(after, sizeof after, "%" PRId64, seq);
		}
		PQclear(res);
	}
	if (r->intact && !known && r->count == 0)
		return call_fail(call, STATUS_NOT_FOUND,
		    "%s_id: no activity was ever recorded for %s %s",
		    organization ? "organization" : "workspace", what, scope);
	if (r->intact && scope_head > last)
		chain_break(r, KIND(HEAD), scope_head, NULL,
		    "the %s's newest record, at place %" PRId64 ", is "
		    "gone: deleted",
		    what, scope_head);
	else if (r->intact && scope_head < last)
		chain_break(r, KIND(HEAD), last, NULL,
		    "the %s's head (place %" PRId64 ") is before its record at "
		    "place %" PRId64 ": the head was changed",
		    what, scope_head, last);
	if (r->intact)
		rc = chain_unchained(call,
		    organization ? org_unchained : ws_unchained, 1,
		    scope_params, r);
	return rc;
}

int
chain_verify(struct call *call, const unsigned char *key,
    const char *workspace_id, const char *organization_id,
    const struct chain_anchor *anchor, struct chain_report *out)
{
	*out = (struct chain_report){.intact = true};
	int rc = db_exec(call->db,
	    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0,
	    NULL, NULL, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (workspace_id != NULL)
		return chain_walk_scope(call, key, workspace_id, false, out);
	if (organization_id != NULL)
		return chain_walk_scope(call, key, organization_id, true, out);
	return chain_walk_all(call, key, anchor, out);
}
