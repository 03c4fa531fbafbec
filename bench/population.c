/* Samples of the population, read straight from PostgreSQL. BERNOULLI
 * sampling keeps a large table from being sorted whole: it keeps a bit more
 * than the share of rows asked for (from the planner's row count), and
 * random() orders what it kept. The seed fixes both (REPEATABLE and
 * setseed), so two reads with one seed and limit get the same rows in the
 * same order while the tables do not change. */
#include "population.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PCT(table, factor) is the BERNOULLI percentage that keeps about
 * factor × $1 + 100 rows of `table`. */
#define PCT(table, factor)                                                     \
	"least(100, 100.0 * (" #factor " * $1::float8 + 100) / greatest(1,"    \
	" (SELECT reltuples FROM pg_class WHERE oid = '" table                 \
	"'::regclass)))"

static const char *const queries[] = {
    [POPULATION_MEMBERSHIPS] =
        "SELECT user_id::text, workspace_id::text"
        " FROM memberships TABLESAMPLE BERNOULLI (" PCT(
            "memberships", 1.25) ")"
                                 " REPEATABLE ($2::float8)"
                                 " ORDER BY random() LIMIT $1::bigint",
    [POPULATION_USERS] = "SELECT id::text"
                         " FROM users TABLESAMPLE BERNOULLI (" PCT("users",
                             1.25) ")"
                                   " REPEATABLE ($2::float8)"
                                   " ORDER BY random() LIMIT $1::bigint",
    /* Users (sampled) are dealt round-robin over the shuffled teams, so
     * every pair is distinct; pairs that are already memberships drop. */
    [POPULATION_ADD_MEMBER] =
        "WITH t AS ("
        "  SELECT w.id, a.user_id AS admin,"
        "         row_number() OVER (ORDER BY random()) - 1 AS rn"
        "  FROM workspaces w"
        "  JOIN LATERAL (SELECT user_id FROM organization_admins oa"
        "                WHERE oa.organization_id = w.organization_id"
        "                ORDER BY user_id LIMIT 1) a ON true"
        "  WHERE w.kind = 'team'),"
        " n AS (SELECT count(*) AS c FROM t),"
        " u AS ("
        "  SELECT id, row_number() OVER (ORDER BY random()) - 1 AS rn"
        "  FROM users TABLESAMPLE BERNOULLI (" PCT(
            "users", 1.25) ")"
                           "   REPEATABLE ($2::float8))"
                           " SELECT t.id::text, t.admin::text, u.id::text"
                           " FROM u JOIN t ON t.rn = u.rn % (SELECT c FROM n)"
                           " WHERE NOT EXISTS (SELECT 1 FROM memberships m"
                           "                   WHERE m.workspace_id = t.id AND "
                           "m.user_id = u.id)"
                           " ORDER BY random() LIMIT $1::bigint",
    [POPULATION_CHANGE_ROLE] =
        "SELECT m.workspace_id::text, a.user_id::text, m.user_id::text, m.role"
        " FROM memberships m TABLESAMPLE BERNOULLI (" PCT("memberships",
            1.7) ") REPEATABLE ($2::float8)"
                 " JOIN workspaces w ON w.id = m.workspace_id AND w.kind = "
                 "'team'"
                 " JOIN LATERAL (SELECT user_id FROM organization_admins oa"
                 "               WHERE oa.organization_id = w.organization_id"
                 "                 AND oa.user_id <> m.user_id"
                 "               ORDER BY user_id LIMIT 1) a ON true"
                 " WHERE m.role <> 'admin'"
                 " ORDER BY random() LIMIT $1::bigint",
    [POPULATION_RESOURCES] =
        "SELECT m.user_id::text, r.type, r.external_id"
        " FROM resources r TABLESAMPLE BERNOULLI (" PCT("resources", 2.5) ")"
        " REPEATABLE ($2::float8)"
        " JOIN LATERAL (SELECT user_id FROM memberships m"
        "               WHERE m.workspace_id = r.workspace_id"
        "                 AND m.role <> 'admin'"
        "                 AND NOT EXISTS (SELECT 1 FROM grants g"
        "                     WHERE g.user_id = m.user_id"
        "                       AND g.workspace_id = m.workspace_id)"
        "               ORDER BY user_id LIMIT 1) m ON true"
        " ORDER BY random() LIMIT $1::bigint",
    [POPULATION_GRANTED] =
        "SELECT user_id::text, resource_type, resource_id"
        " FROM grants TABLESAMPLE BERNOULLI (" PCT("grants", 1.25) ")"
        " REPEATABLE ($2::float8)"
        " ORDER BY random() LIMIT $1::bigint",
};

void
id_table_fini(struct id_table *t)
{
	free(t->cells);
	memset(t, 0, sizeof *t);
}

int
population_read(const char *conninfo, enum population_kind kind, size_t limit,
    unsigned seed, struct id_table *out, char *msg, size_t msg_size)
{
	PGconn *conn = PQconnectdb(conninfo);
	PGresult *res = NULL;
	int rc = -1;
	msg[0] = '\0';
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(msg, msg_size, "cannot connect to the database: %s",
		    PQerrorMessage(conn));
		goto out;
	}
	char n[32], s[32], unit[32];
	snprintf(n, sizeof n, "%zu", limit);
	snprintf(s, sizeof s, "%u", seed);
	/* setseed takes -1..1. */
	snprintf(unit, sizeof unit, "%.9f", (double)seed / 4294967296.0);
	const char *setseed[] = {unit};
	res = PQexecParams(conn, "SELECT setseed($1::float8)", 1, NULL, setseed,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(msg, msg_size, "setseed: %s", PQerrorMessage(conn));
		goto out;
	}
	PQclear(res);
	const char *params[] = {n, s};
	res = PQexecParams(conn, queries[kind], 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(msg, msg_size, "reading the population: %s",
		    PQerrorMessage(conn));
		goto out;
	}
	size_t rows = (size_t)PQntuples(res), cols = (size_t)PQnfields(res);
	char(*cells)[37] = calloc(rows * cols + 1, sizeof *cells);
	if (cells == NULL) {
		snprintf(msg, msg_size, "out of memory for %zu rows", rows);
		goto out;
	}
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < cols; c++) {
			const char *v = PQgetvalue(res, (int)r, (int)c);
			if (strlen(v) > 36) {
				snprintf(
				    msg, msg_size, "unexpected value %.40s", v);
				free(cells);
				goto out;
			}
			strcpy(cells[r * cols + c], v);
		}
	}
	out->rows = rows;
	out->cols = cols;
	out->cells = cells;
	rc = 0;
out:
	PQclear(res);
	PQfinish(conn);
	msg[strcspn(msg, "\n")] = '\0';
	return rc;
}
