/* Change-log SQL: keyset reads by revision, and retention's pruning. */
#include "store/changes.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/status.h"
#include "store/db.h"

int
store_changes_read(PGconn *conn, uint64_t after, uint32_t limit,
    struct store_changes *out)
{
	/* The pruned mark, the newest change and the page in one statement,
	 * so one snapshot: the page holds every change up to `current` after
	 * `after` (when it is not full), and no row of it was pruned. The
	 * newest change's revision is the current revision (every write
	 * appends one in the transaction that takes its revision), or, with
	 * the whole log pruned, the pruned one. revision_counter is not read:
	 * every write updates its one row, and under a steady write load a
	 * scan of it was measured taking 0.3-3 s. A log with no change after
	 * `after` gives one row of NULL changes. */
	static const char sql[] =
	    "SELECT c.revision, unix_ms(c.at), c.kind, c.workspace_id,"
	    "       c.user_id, c.api_key_id, c.resource_type, c.resource_id,"
	    "       c.organization_id,"
	    "       greatest(p.through, (SELECT max(revision) FROM change_log)),"
	    "       p.through, (extract(epoch FROM c.at) * 1000000)::bigint"
	    " FROM change_log_pruned p"
	    " LEFT JOIN LATERAL (SELECT * FROM change_log"
	    "    WHERE revision > $1 ORDER BY revision LIMIT $2) c ON true"
	    " ORDER BY c.revision";
	char after_text[24], limit_text[16];
	/* The log's revisions are bigints: past INT64_MAX there is nothing,
	 * and PostgreSQL would refuse the number. */
	snprintf(after_text, sizeof after_text, "%llu",
	    (unsigned long long)(after > INT64_MAX ? INT64_MAX : after));
	snprintf(limit_text, sizeof limit_text, "%u", limit);
	const char *params[] = {after_text, limit_text};
	PGresult *res;
	int rc = db_exec(conn, sql, 2, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	int rows = PQntuples(res);
	if (rows == 0) { /* change_log_pruned's row is always there */
		PQclear(res);
		return STATUS_INTERNAL;
	}
	out->res = res;
	out->current = strtoull(PQgetvalue(res, 0, 9), NULL, 10);
	out->pruned_through = strtoull(PQgetvalue(res, 0, 10), NULL, 10);
	out->n = PQgetisnull(res, 0, STORE_CHANGE_REVISION) ? 0 : rows;
	return STATUS_OK;
}

int
store_change_at(PGconn *conn, uint64_t revision, struct store_change_at *out)
{
	static const char sql[] =
	    "SELECT (extract(epoch FROM c.at) * 1000000)::bigint,"
	    "       greatest(p.through, (SELECT max(revision) FROM change_log)),"
	    "       p.through"
	    " FROM change_log_pruned p"
	    " LEFT JOIN change_log c ON c.revision = $1";
	char rev_text[24];
	snprintf(rev_text, sizeof rev_text, "%llu",
	    (unsigned long long)revision);
	const char *params[] = {rev_text};
	PGresult *res;
	int rc = db_exec(conn, sql, 1, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return STATUS_INTERNAL;
	}
	out->found = !PQgetisnull(res, 0, 0);
	out->at_us = out->found ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0;
	out->current = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	out->pruned_through = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	return STATUS_OK;
}

int
store_changes_prune(PGconn *conn, long max_age_s, long max_rows, int batch,
    int *pruned, uint64_t *through)
{
	/* `oldest` is a short index scan of the log's head; `keep` is the
	 * first row either limit keeps, and only rows before it go. */
	static const char sql[] =
	    "WITH lim AS ("
	    "   SELECT (SELECT value FROM revision_counter) - $2::bigint"
	    "            AS by_count,"
	    "          now() - make_interval(secs => $1::bigint) AS by_age),"
	    " oldest AS (SELECT revision, at FROM change_log"
	    "            ORDER BY revision LIMIT $3),"
	    " keep AS (SELECT min(o.revision) AS first FROM oldest o, lim"
	    "          WHERE NOT (coalesce(o.revision <= lim.by_count, false)"
	    "                     OR coalesce(o.at < lim.by_age, false))),"
	    " doomed AS (SELECT o.revision FROM oldest o, keep"
	    "            WHERE keep.first IS NULL OR o.revision < keep.first),"
	    " d AS (DELETE FROM change_log c USING doomed"
	    "       WHERE c.revision = doomed.revision RETURNING c.revision),"
	    " u AS (UPDATE change_log_pruned"
	    "       SET through = greatest(through, (SELECT max(revision) FROM d))"
	    "       WHERE EXISTS (SELECT 1 FROM d) RETURNING through)"
	    " SELECT (SELECT count(*) FROM d),"
	    "        coalesce((SELECT through FROM u),"
	    "                 (SELECT through FROM change_log_pruned))";
	char age[24], rows[24], limit[16];
	snprintf(age, sizeof age, "%ld", max_age_s);
	snprintf(rows, sizeof rows, "%ld", max_rows);
	snprintf(limit, sizeof limit, "%d", batch);
	const char *params[] = {max_age_s > 0 ? age : NULL,
	    max_rows > 0 ? rows : NULL, limit};
	PGresult *res;
	int rc = db_exec(conn, sql, 3, params, &res, NULL);
	if (rc != STATUS_OK)
		return rc;
	*pruned = atoi(PQgetvalue(res, 0, 0));
	*through = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return STATUS_OK;
}
