/* Standbys, their worker pools, and the monitor that keeps them in
 * rotation or out of it. */
#include "store/replicas.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/status.h"
#include "store/changes.h"
#include "store/db.h"

/* When the monitor first saw the primary at a revision: enough entries
 * for REPLICAS_HISTORY polls that each saw a new revision. */
enum { REPLICAS_HISTORY = 1024 };

struct replica {
	char *conninfo;
	struct workers *pool;
	PGconn *conn; /* the monitor's */
	_Atomic bool up;
	_Atomic bool in_rotation;
	_Atomic uint64_t revision;
	_Atomic uint64_t lag_revisions;
	_Atomic int64_t lag_ms;
	_Atomic uint64_t reads;
	bool was_in_rotation; /* the monitor's, for logging changes */
	bool was_up;
	bool was_diverged;
};

struct replicas {
	size_t count;
	struct replica list[REPLICAS_MAX];
	long max_lag_ms;
	_Atomic size_t next; /* round robin */

	/* The monitor. */
	char *primary;
	PGconn *primary_conn;
	uint64_t primary_revision;
	struct seen {
		uint64_t revision;
		int64_t at_ms;
	} history[REPLICAS_HISTORY]; /* oldest first, from `first` */
	size_t first, seen;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping; /* under lock */
	pthread_cond_t polled;
	bool polled_once; /* under lock */
};

/* How long start-up waits for the monitor's first poll. */
enum { REPLICAS_FIRST_POLL_WAIT_MS = 1000 };

static int64_t
replicas_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* replicas_connect opens a monitor connection whose statements give up
 * after a second: a standby that hangs must not stall the monitor. */
static PGconn *
replicas_connect(const char *conninfo)
{
	PGconn *conn = db_connect(conninfo);
	if (PQstatus(conn) == CONNECTION_OK) {
		PGresult *res = PQexec(conn, "SET statement_timeout = 1000");
		PQclear(res);
	}
	return conn;
}

/* replicas_read_revision reads the revision counter on *conn (connecting
 * first if need be), and into *at_us the commit time of the change at that
 * revision in microseconds (-1 if the log no longer holds it): the two
 * say which history the server is on. False when the server does not
 * answer, with the reason in `why`. */
static bool
replicas_read_revision(PGconn **conn, const char *conninfo, uint64_t *out,
    int64_t *at_us, char *why, size_t why_size)
{
	if (*conn != NULL && db_conn_lost(*conn)) {
		PQfinish(*conn);
		*conn = NULL;
	}
	if (*conn == NULL) {
		*conn = replicas_connect(conninfo);
		if (PQstatus(*conn) != CONNECTION_OK) {
			snprintf(why, why_size, "%s", PQerrorMessage(*conn));
			why[strcspn(why, "\n")] = '\0';
			PQfinish(*conn);
			*conn = NULL;
			return false;
		}
	}
	PGresult *res;
	struct db_error err;
	int rc = db_exec(*conn,
	    "SELECT r.value, (SELECT (extract(epoch FROM c.at) * 1000000)::bigint"
	    "                 FROM change_log c WHERE c.revision = r.value)"
	    " FROM revision_counter r",
	    0, NULL, &res, &err);
	if (rc != STATUS_OK) {
		snprintf(why, why_size, "%s", err.message);
		PQfinish(*conn);
		*conn = NULL;
		return false;
	}
	*out = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	*at_us = PQgetisnull(res, 0, 1) ? -1
	                                : strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	return true;
}

/* What the primary says of the history a standby is on. */
enum history { HISTORY_SAME, HISTORY_OTHER, HISTORY_UNKNOWN };

/* replicas_history asks the primary, after the standby was read, whether
 * it holds the change the standby stands at, the same one. After a
 * failover a standby still on the old primary's timeline (one that had
 * received more than the promoted one) stands at revision numbers the new
 * primary has not reached, or reached with other writes; it would answer
 * reads that ask for those revisions from a history that is gone.
 * HISTORY_UNKNOWN when the primary does not answer, or either side's log
 * no longer holds that change (pruned). */
static enum history
replicas_history(struct replicas *r, uint64_t revision, int64_t at_us)
{
	struct store_change_at primary;
	if (r->primary_conn == NULL || at_us < 0 ||
	    store_change_at(r->primary_conn, revision, &primary) != STATUS_OK)
		return HISTORY_UNKNOWN;
	if (primary.found)
		return primary.at_us == at_us ? HISTORY_SAME : HISTORY_OTHER;
	/* Not there: a revision the primary has not reached, or pruned. */
	return primary.current < revision ? HISTORY_OTHER : HISTORY_UNKNOWN;
}

/* replicas_note_primary remembers when the primary was first seen at
 * `revision`. */
static void
replicas_note_primary(struct replicas *r, uint64_t revision, int64_t now)
{
	if (r->seen > 0 && revision <= r->primary_revision) {
		/* Lower: a failover to a standby that had not received
		 * everything; forget what the old primary had. */
		if (revision < r->primary_revision)
			r->seen = 0;
		else
			return;
	}
	r->primary_revision = revision;
	size_t i;
	if (r->seen < REPLICAS_HISTORY) {
		i = (r->first + r->seen++) % REPLICAS_HISTORY;
	} else {
		i = r->first;
		r->first = (r->first + 1) % REPLICAS_HISTORY;
	}
	r->history[i] = (struct seen){revision, now};
}

/* replicas_lag_ms is how long ago the primary was first seen past
 * `revision`: 0 if it never was. */
static int64_t
replicas_lag_ms(const struct replicas *r, uint64_t revision, int64_t now)
{
	if (r->seen == 0 || revision >= r->primary_revision)
		return 0;
	/* The oldest sample past `revision`: binary search, as the history
	 * grows with the revision. */
	size_t lo = 0, hi = r->seen - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->history[(r->first + mid) % REPLICAS_HISTORY].revision >
		    revision)
			hi = mid;
		else
			lo = mid + 1;
	}
	return now - r->history[(r->first + lo) % REPLICAS_HISTORY].at_ms;
}

static void
replicas_poll(struct replicas *r)
{
	char why[256];
	uint64_t p;
	int64_t p_at;
	if (replicas_read_revision(
	        &r->primary_conn, r->primary, &p, &p_at, why, sizeof why))
		replicas_note_primary(r, p, replicas_now_ms());
	/* With the primary unreachable, lag is measured against what it was
	 * last seen at: no write can commit without it. */
	for (size_t i = 0; i < r->count; i++) {
		struct replica *rep = &r->list[i];
		uint64_t rev = 0;
		int64_t at_us = -1;
		bool up = replicas_read_revision(
		    &rep->conn, rep->conninfo, &rev, &at_us, why, sizeof why);
		int64_t now = replicas_now_ms();
		/* Unknown keeps the last verdict: a standby found on another
		 * history stays out while the primary cannot be asked. */
		enum history hist = up ? replicas_history(r, rev, at_us)
		                       : HISTORY_UNKNOWN;
		bool diverged = hist == HISTORY_UNKNOWN ? rep->was_diverged
		                                        : hist == HISTORY_OTHER;
		if (diverged != rep->was_diverged) {
			if (diverged)
				log_warn("replica_diverged",
				    "{s:i, s:I, s:s}", "replica", (int)i,
				    "revision", (json_int_t)rev, "reason",
				    "the primary does not hold the change this "
				    "standby stands at: it is on another history "
				    "(a failover it did not follow)");
			else
				log_info("replica_history_agrees", "{s:i, s:I}",
				    "replica", (int)i, "revision",
				    (json_int_t)rev);
			rep->was_diverged = diverged;
		}
		if (up) {
			int64_t lag = replicas_lag_ms(r, rev, now);
			atomic_store(&rep->revision, rev);
			atomic_store(
			    &rep->lag_revisions, r->primary_revision > rev
			                             ? r->primary_revision - rev
			                             : 0);
			atomic_store(&rep->lag_ms, lag);
			atomic_store(&rep->up, true);
			bool in = lag <= r->max_lag_ms && !diverged;
			atomic_store(&rep->in_rotation, in);
			if (in != rep->was_in_rotation || !rep->was_up)
				log_info(in ? "replica_in_rotation"
				            : "replica_lagging",
				    "{s:i, s:I, s:I, s:I}", "replica", (int)i,
				    "revision", (json_int_t)rev,
				    "lag_revisions",
				    (json_int_t)atomic_load(
				        &rep->lag_revisions),
				    "lag_ms", (json_int_t)lag);
			rep->was_in_rotation = in;
			rep->was_up = true;
		} else {
			atomic_store(&rep->up, false);
			atomic_store(&rep->in_rotation, false);
			if (rep->was_up || rep->was_in_rotation)
				log_warn("replica_down", "{s:i, s:s}",
				    "replica", (int)i, "reason", why);
			rep->was_up = rep->was_in_rotation = false;
		}
	}
}

static void *
replicas_main(void *arg)
{
	struct replicas *r = arg;
	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		pthread_mutex_unlock(&r->lock);
		replicas_poll(r);
		pthread_mutex_lock(&r->lock);
		r->polled_once = true;
		pthread_cond_broadcast(&r->polled);
		struct timespec until = clock_mono_after(REPLICAS_POLL_MS);
		while (!r->stopping &&
		       pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int
replicas_start(struct replicas **out, const struct replicas_options *o)
{
	if (o->count == 0 || o->count > REPLICAS_MAX)
		return -1;
	struct replicas *r = calloc(1, sizeof *r);
	if (r == NULL)
		return -1;
	pthread_mutex_init(&r->lock, NULL);
	clock_cond_init(&r->wake);
	clock_cond_init(&r->polled);
	r->max_lag_ms = o->max_lag_ms;
	r->primary = strdup(o->primary);
	if (r->primary == NULL)
		goto fail;
	for (size_t i = 0; i < o->count; i++) {
		struct replica *rep = &r->list[i];
		rep->conninfo = strdup(o->urls[i]);
		if (rep->conninfo == NULL)
			goto fail;
		r->count++;
		if (workers_start(&rep->pool, rep->conninfo, o->workers) != 0)
			goto fail;
	}
	if (pthread_create(&r->thread, NULL, replicas_main, r) != 0)
		goto fail;
	r->thread_started = true;
	/* The first poll puts the standbys that answer in rotation from the
	 * start; one whose host does not answer must not hold start-up for
	 * its connect_timeout, so the wait is short. Until a standby is
	 * polled it is out of rotation and its reads go to the primary. */
	struct timespec until = clock_mono_after(REPLICAS_FIRST_POLL_WAIT_MS);
	pthread_mutex_lock(&r->lock);
	while (!r->polled_once &&
	    pthread_cond_timedwait(&r->polled, &r->lock, &until) == 0)
		;
	pthread_mutex_unlock(&r->lock);
	*out = r;
	return 0;
fail:
	replicas_stop(r);
	return -1;
}

int
replicas_pick(struct replicas *r, uint64_t min_revision)
{
	if (r == NULL)
		return -1;
	size_t start =
	    atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
	for (size_t k = 0; k < r->count; k++) {
		size_t i = (start + k) % r->count;
		struct replica *rep = &r->list[i];
		if (atomic_load(&rep->in_rotation) &&
		    atomic_load(&rep->revision) >= min_revision)
			return (int)i;
	}
	return -1;
}

struct workers *
replicas_workers(struct replicas *r, int index)
{
	return r->list[index].pool;
}

void
replicas_failed(struct replicas *r, int index)
{
	struct replica *rep = &r->list[index];
	if (atomic_exchange(&rep->in_rotation, false))
		log_warn("replica_failed", "{s:i}", "replica", index);
	atomic_store(&rep->up, false);
}

void
replicas_served(struct replicas *r, int index)
{
	atomic_fetch_add_explicit(
	    &r->list[index].reads, 1, memory_order_relaxed);
}

size_t
replicas_count(const struct replicas *r)
{
	return r != NULL ? r->count : 0;
}

void
replicas_stats(struct replicas *r, size_t index, struct replica_stats *out)
{
	struct replica *rep = &r->list[index];
	out->up = atomic_load(&rep->up);
	out->in_rotation = atomic_load(&rep->in_rotation);
	out->revision = atomic_load(&rep->revision);
	out->lag_revisions = atomic_load(&rep->lag_revisions);
	out->lag_ms = atomic_load(&rep->lag_ms);
	out->reads = atomic_load(&rep->reads);
	workers_stats(rep->pool, &out->workers);
}

void
replicas_stop(struct replicas *r)
{
	if (r == NULL)
		return;
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->stopping = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	for (size_t i = 0; i < r->count; i++) {
		struct replica *rep = &r->list[i];
		workers_stop(rep->pool);
		PQfinish(rep->conn);
		free(rep->conninfo);
	}
	PQfinish(r->primary_conn);
	free(r->primary);
	pthread_cond_destroy(&r->wake);
	pthread_cond_destroy(&r->polled);
	pthread_mutex_destroy(&r->lock);
	free(r);
}
