/* The change log's SQL: reading it past a revision (ReadChanges and the
 * cache feeder, each page with the current revision and how far
 * retention has pruned, all in one statement and so one snapshot), and
 * pruning its oldest rows (retention.c). */
#ifndef EXE_STORE_CHANGES_H
#define EXE_STORE_CHANGES_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* Columns of the rows store_changes_read returns, one change each. */
enum store_change_col {
	STORE_CHANGE_REVISION,
	STORE_CHANGE_AT_MS,
	STORE_CHANGE_KIND,
	STORE_CHANGE_WORKSPACE,
	STORE_CHANGE_USER,
	STORE_CHANGE_API_KEY,
	STORE_CHANGE_RESOURCE_TYPE,
	STORE_CHANGE_RESOURCE_ID,
	STORE_CHANGE_ORGANIZATION,
	/* 9 and 10 are the page's current and pruned revisions; then when
	 * the change committed, in microseconds since the Unix epoch: with
	 * its revision, what tells one history's change from another's
	 * (store_change_at). */
	STORE_CHANGE_AT_US = 11,
};

/* A page of the change log, read in one snapshot. */
struct store_changes {
	PGresult *res;           /* rows 0 .. n-1 are changes; PQclear it */
	int n;                   /* changes read (at most the limit asked) */
	uint64_t current;        /* the latest committed revision */
	uint64_t pruned_through; /* every revision up to it may be gone */
};

/* store_changes_read reads at most `limit` changes after `after`, in
 * revision order, with the current revision and the pruned one. A
 * column is NULL when the change did not touch it. Returns a status
 * (db_exec's); on STATUS_OK the caller PQclears out->res. */
int store_changes_read(PGconn *conn, uint64_t after, uint32_t limit,
    struct store_changes *out) __attribute__((warn_unused_result));

/* The change at one revision, as the database reached holds it. */
struct store_change_at {
	bool found;              /* the log holds a change at the revision */
	int64_t at_us;           /* when it committed (STORE_CHANGE_AT_US) */
	uint64_t current;        /* the latest committed revision */
	uint64_t pruned_through; /* every revision up to it may be gone */
};

/* store_change_at reads the change at `revision` (its commit time), with
 * the current and the pruned revision, in one snapshot. Returns a status
 * (db_exec's). */
int store_change_at(PGconn *conn, uint64_t revision,
    struct store_change_at *out) __attribute__((warn_unused_result));

/* store_changes_prune deletes at most `batch` of the oldest changes that
 * are older than `max_age_s` seconds or not among the newest `max_rows`
 * (0: no such limit), stopping at the first change that is neither (the
 * log loses only a prefix), and records the newest revision deleted in
 * change_log_pruned. One short statement: writes are not held up (they
 * touch neither the rows deleted nor change_log_pruned). *pruned gets
 * the number of changes deleted, *through the pruned revision after it. */
int store_changes_prune(PGconn *conn, long max_age_s, long max_rows,
    int batch, int *pruned, uint64_t *through)
    __attribute__((warn_unused_result));

#endif
