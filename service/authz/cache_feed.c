/* Change-log reader feeding cache invalidations. */
#include "authz/cache_feed.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/log.h"
#include "base/status.h"
#include "store/changes.h"
#include "store/db.h"

enum { BATCH = 1000 };

struct cache_feed {
	struct cache *cache;
	char *conninfo;
	long interval_ms;
	pthread_t thread;
	int wake[2]; /* self-pipe: a byte means stop */
	PGconn *conn;
	cache_feed_fn on_revision;
	void *on_revision_arg;
	uint64_t told; /* the last revision on_revision was told */
	/* The change at revision `known` (0: none) committed at `known_at_us`
	 * on the database the cache followed: a database reached later whose
	 * change there is another is on another history. */
	uint64_t known;
	int64_t known_at_us;
};

/* same_history is for a new connection, which may reach a new primary:
 * one promoted without the last writes of the old stands behind the
 * cache, and after other writes there it may stand ahead of it again,
 * with other changes at the revisions the cache applied. The count
 * (cache_rewind) sees the first; the change at the applied revision
 * tells the second. A change there that is not the one applied, or one
 * pruned (nothing to compare with), and the cache is dropped and goes on
 * from where the database stands (cache_resync); entries read past the
 * applied revision, whose changes the feeder has not read, cannot be
 * checked at all, and are dropped (cache_rewind to the applied revision).
 * Returns false when the database could not be read. */
static bool
same_history(struct cache_feed *f)
{
	uint64_t applied = cache_revision(f->cache);
	if (applied == 0 || f->known != applied)
		return true; /* nothing applied, or nothing known of it */
	struct store_change_at at;
	if (store_change_at(f->conn, applied, &at) != STATUS_OK)
		return false;
	if (!at.found || at.at_us != f->known_at_us) {
		log_warn("cache_history_changed", "{s:I, s:I, s:I, s:b, s:I}",
		    "applied", (json_int_t)applied, "applied_at_us",
		    (json_int_t)f->known_at_us, "database_at_us",
		    (json_int_t)at.at_us, "pruned",
		    !at.found && applied <= at.pruned_through, "database",
		    (json_int_t)at.current);
		f->known = 0;
		(void)cache_resync(f->cache, at.current);
		return true;
	}
	if (cache_seen(f->cache) > applied) {
		log_warn("cache_history_unchecked", "{s:I, s:I}", "applied",
		    (json_int_t)applied, "seen",
		    (json_int_t)cache_seen(f->cache));
		(void)cache_rewind(f->cache, applied);
	}
	return true;
}

static bool
connect_feed(struct cache_feed *f)
{
	f->conn = db_connect(f->conninfo);
	if (PQstatus(f->conn) == CONNECTION_OK) {
		PGresult *res = PQexec(f->conn, "LISTEN exe_access_changes");
		bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		PQclear(res);
		/* A new connection may reach a new primary: one promoted
		 * without the last writes stands behind the cache. */
		uint64_t latest;
		if (ok && db_current_revision(f->conn, &latest) == STATUS_OK &&
		    !cache_rewind(f->cache, latest))
			ok = same_history(f);
		if (ok)
			return true;
	}
	char reason[256];
	snprintf(reason, sizeof reason, "%s", PQerrorMessage(f->conn));
	reason[strcspn(reason, "\n")] = '\0';
	log_warn("cache_feed_disconnected", "{s:s}", "reason", reason);
	PQfinish(f->conn);
	f->conn = NULL;
	return false;
}

/* learn_applied reads the change at the applied revision when it is not
 * the one known (moved by a resync or a rewind, or a fresh cache) from
 * the database the cache follows now; false when it could not. */
static bool
learn_applied(struct cache_feed *f)
{
	uint64_t applied = cache_revision(f->cache);
	if (applied == f->known || applied == 0)
		return true;
	struct store_change_at at;
	if (store_change_at(f->conn, applied, &at) != STATUS_OK)
		return false;
	f->known = at.found ? applied : 0;
	f->known_at_us = at.at_us;
	return true;
}

/* read_changes applies one batch; returns the number of rows read, or -1
 * when the connection failed. A log pruned past the applied revision has
 * lost changes the cache never saw: it is dropped whole (cache_resync). */
static int
read_changes(struct cache_feed *f)
{
	uint64_t applied = cache_revision(f->cache);
	struct store_changes page;
	if (store_changes_read(f->conn, applied, BATCH, &page) != STATUS_OK)
		return -1;
	if (page.pruned_through > applied) {
		PQclear(page.res);
		(void)cache_resync(f->cache, page.current);
		return learn_applied(f) ? 0 : -1;
	}
	PGresult *res = page.res;
	int rows = page.n;
	struct cache_change changes[BATCH];
	uint64_t up_to = rows < BATCH ? page.current : applied;
	for (int i = 0; i < rows; i++) {
		const char *v[STORE_CHANGE_ORGANIZATION + 1];
		for (int k = 0; k <= STORE_CHANGE_ORGANIZATION; k++)
			v[k] = PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
		changes[i] = (struct cache_change){
		    .kind = v[STORE_CHANGE_KIND],
		    .workspace_id = v[STORE_CHANGE_WORKSPACE],
		    .user_id = v[STORE_CHANGE_USER],
		    .api_key_id = v[STORE_CHANGE_API_KEY],
		    .resource_type = v[STORE_CHANGE_RESOURCE_TYPE],
		    .resource_id = v[STORE_CHANGE_RESOURCE_ID]};
		if (rows == BATCH)
			up_to = strtoull(v[STORE_CHANGE_REVISION], NULL, 10);
	}
	cache_apply(f->cache, changes, (size_t)rows, up_to);
	uint64_t now = cache_revision(f->cache);
	if (rows > 0 &&
	    strtoull(PQgetvalue(res, rows - 1, STORE_CHANGE_REVISION), NULL,
	        10) == now) {
		f->known = now;
		f->known_at_us = strtoll(
		    PQgetvalue(res, rows - 1, STORE_CHANGE_AT_US), NULL, 10);
	}
	PQclear(res);
	if (!learn_applied(f))
		return -1;
	if (f->on_revision != NULL && now > f->told) {
		f->told = now;
		f->on_revision(f->on_revision_arg, now);
	}
	return rows;
}

/* wait_for_news sleeps until a notification, the interval, or stop.
 * Returns false on stop. */
static bool
wait_for_news(struct cache_feed *f, long timeout_ms)
{
	struct pollfd fds[2] = {{f->wake[0], POLLIN, 0}, {-1, POLLIN, 0}};
	if (f->conn != NULL)
		fds[1].fd = PQsocket(f->conn);
	int n = poll(fds, 2, (int)timeout_ms);
	if (n > 0 && (fds[0].revents & POLLIN))
		return false;
	if (f->conn != NULL && n > 0 && fds[1].revents != 0) {
		if (PQconsumeInput(f->conn) == 0) {
			PQfinish(f->conn);
			f->conn = NULL;
		} else {
			PGnotify *note;
			while ((note = PQnotifies(f->conn)) != NULL)
				PQfreemem(note);
		}
	}
	return true;
}

static void *
feed_main(void *arg)
{
	struct cache_feed *f = arg;
	long backoff = 100;
	for (;;) {
		if (f->conn == NULL && !connect_feed(f)) {
			if (!wait_for_news(f, backoff))
				break;
			/* Capped well under the staleness bound: the cache (and
			 * /readyz) should be back soon after the database. */
			if (backoff < 400)
				backoff *= 2;
			continue;
		}
		backoff = 100;
		int rows;
		while ((rows = read_changes(f)) == BATCH)
			;
		if (rows < 0) {
			log_warn("cache_feed_read_failed", "{s:s}", "reason",
			    PQerrorMessage(f->conn));
			PQfinish(f->conn);
			f->conn = NULL;
			continue;
		}
		if (!wait_for_news(f, f->interval_ms))
			break;
	}
	PQfinish(f->conn);
	f->conn = NULL;
	return NULL;
}

int
cache_feed_start(struct cache_feed **out, struct cache *c,
    const char *conninfo, long interval_ms, cache_feed_fn on_revision,
    void *arg)
{
	struct cache_feed *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	f->cache = c;
	f->interval_ms = interval_ms;
	f->on_revision = on_revision;
	f->on_revision_arg = arg;
	f->conninfo = strdup(conninfo);
	if (f->conninfo == NULL || pipe(f->wake) != 0) {
		free(f->conninfo);
		free(f);
		return -1;
	}
	if (pthread_create(&f->thread, NULL, feed_main, f) != 0) {
		close(f->wake[0]);
		close(f->wake[1]);
		free(f->conninfo);
		free(f);
		return -1;
	}
	*out = f;
	return 0;
}

void
cache_feed_stop(struct cache_feed *f)
{
	if (f == NULL)
		return;
	ssize_t unused = write(f->wake[1], "x", 1);
	(void)unused;
	pthread_join(f->thread, NULL);
	close(f->wake[0]);
	close(f->wake[1]);
	free(f->conninfo);
	free(f);
}
