/* Worker threads with a connection each, and the queue feeding them. */
#include "store/workers.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "store/db.h"

struct worker {
	struct workers *pool;
	pthread_t thread;
	PGconn *conn;
	size_t index;
	struct timespec failed_at; /* last failed connection attempt */
	bool failed;
};

/* After a failed connection attempt a worker answers UNAVAILABLE at once
 * for this long instead of trying again for every job. */
enum { RECONNECT_BACKOFF_MS = 250 };

static int64_t
ms_of(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

static long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* The queue is a set of FIFO lanes: lane 0 for jobs without a group,
 * one lane for each group that has jobs waiting (WORKERS_LANES at most;
 * the jobs of a further group wait in lane 0). A job's sequence number
 * keeps the order across lanes: a worker takes the oldest head, and with
 * it the jobs of its group from the head of the same lane. Taking and
 * queueing touch only lane heads and tails, never what waits behind. */
struct lane {
	const void *group; /* lanes 1..: whose jobs, while any wait */
	struct job *head, *tail;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct lane lanes[1 + WORKERS_LANES]; /* under lock */
	uint64_t seq;                         /* under lock */
	bool stopping;
	size_t busy;   /* under lock */
	size_t queued; /* under lock */
	uint64_t grouped; /* under lock */
	uint64_t examined; /* under lock */
	_Atomic int64_t connected_ms; /* a worker's last successful connect */
	char *conninfo;
	size_t count;
	struct worker *workers;
};

/* connect_worker (re)opens the worker's connection if it is missing or
 * broken; leaves conn NULL while PostgreSQL cannot be reached. */
static void
connect_worker(struct worker *w)
{
	if (w->conn != NULL && PQstatus(w->conn) == CONNECTION_OK &&
	    !db_conn_lost(w->conn))
		return;
	if (w->conn != NULL) {
		PQfinish(w->conn);
		w->conn = NULL;
	}
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Back off after a failure, unless another worker has connected
	 * since: then the database is back, and this job need not fail. */
	if (w->failed && ms_between(&w->failed_at, &now) < RECONNECT_BACKOFF_MS &&
	    atomic_load(&w->pool->connected_ms) <= ms_of(&w->failed_at))
		return;
	PGconn *conn = db_connect(w->pool->conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		char reason[256];
		strncpy(reason, PQerrorMessage(conn), sizeof reason - 1);
		reason[sizeof reason - 1] = '\0';
		reason[strcspn(reason, "\n")] = '\0';
		log_warn("db_connect_failed", "{s:i, s:s}", "worker",
		    (int)w->index, "reason", reason);
		PQfinish(conn);
		clock_gettime(CLOCK_MONOTONIC, &w->failed_at);
		w->failed = true;
		return;
	}
	w->failed = false;
	w->conn = conn;
	clock_gettime(CLOCK_MONOTONIC, &now);
	atomic_store(&w->pool->connected_ms, ms_of(&now));
}

/* take_locked takes the oldest job waiting and, if it has a lane of its
 * group, the jobs waiting behind it in that lane; returns how many. The
 * queue must not be empty. */
static size_t
take_locked(struct workers *pool, struct job **jobs)
{
	struct lane *lane = NULL;
	for (size_t i = 0; i <= WORKERS_LANES; i++) {
		struct lane *l = &pool->lanes[i];
		if (l->head == NULL)
			continue;
		pool->examined++;
		if (lane == NULL || l->head->seq < lane->head->seq)
			lane = l;
	}
	size_t max = lane != &pool->lanes[0] ? WORKERS_GROUP_MAX : 1;
	size_t n = 0;
	while (n < max && lane->head != NULL) {
		struct job *job = lane->head;
		lane->head = job->next;
		job->next = NULL;
		jobs[n++] = job;
		pool->examined++;
	}
	if (lane->head == NULL)
		*lane = (struct lane){0};
	pool->queued -= n;
	if (n > 1)
		pool->grouped += n;
	return n;
}

/* lane_of finds the lane for a new job of `group`: its group's, else a
 * free one, else lane 0. */
static struct lane *
lane_of(struct workers *pool, const void *group)
{
	if (group == NULL)
		return &pool->lanes[0];
	struct lane *free_lane = NULL;
	for (size_t i = 1; i <= WORKERS_LANES; i++) {
		struct lane *l = &pool->lanes[i];
		if (l->head != NULL && l->group == group)
			return l;
		if (l->head == NULL && free_lane == NULL)
			free_lane = l;
	}
	if (free_lane == NULL)
		return &pool->lanes[0];
	free_lane->group = group;
	return free_lane;
}

static bool
run_jobs(struct job **jobs, size_t n, PGconn *conn, bool last)
{
	return n == 1 ? jobs[0]->run(jobs[0], conn, last)
	              : jobs[0]->run_many(jobs, n, conn, last);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct workers *pool = w->pool;
	struct job *jobs[WORKERS_GROUP_MAX];
	connect_worker(w);
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		while (pool->queued == 0 && !pool->stopping)
			pthread_cond_wait(&pool->ready, &pool->lock);
		if (pool->queued == 0) {
			pthread_mutex_unlock(&pool->lock);
			break;
		}
		size_t n = take_locked(pool, jobs);
		pool->busy++;
		pthread_mutex_unlock(&pool->lock);

		connect_worker(w);
		if (run_jobs(jobs, n, w->conn, false)) {
			/* The connection had died while idle (a database
			 * restart, seen only now): once more on a new one. */
			PQfinish(w->conn);
			w->conn = NULL;
			w->failed = false;
			connect_worker(w);
			run_jobs(jobs, n, w->conn, true);
		}
		/* A handler must leave no transaction open; if one did (or the
		 * connection broke mid-way), start the next job clean. */
		if (w->conn != NULL &&
		    PQtransactionStatus(w->conn) != PQTRANS_IDLE) {
			PQclear(PQexec(w->conn, "ROLLBACK"));
		}
		pthread_mutex_lock(&pool->lock);
		pool->busy--;
		pthread_mutex_unlock(&pool->lock);
	}
	PQfinish(w->conn);
	w->conn = NULL;
	return NULL;
}

int
workers_start(struct workers **out, const char *conninfo, size_t count)
{
	struct workers *pool = calloc(1, sizeof *pool);
	if (pool == NULL)
		return -1;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->ready, NULL);
	pool->conninfo = strdup(conninfo);
	pool->workers = calloc(count, sizeof *pool->workers);
	if (pool->conninfo == NULL || pool->workers == NULL) {
		workers_stop(pool);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		struct worker *w = &pool->workers[i];
		w->pool = pool;
		w->index = i;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			workers_stop(pool);
			return -1;
		}
		pool->count++;
	}
	*out = pool;
	return 0;
}

void
workers_submit(struct workers *pool, struct job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&pool->lock);
	job->seq = pool->seq++;
	struct lane *lane = lane_of(pool, job->group);
	if (lane->tail != NULL)
		lane->tail->next = job;
	else
		lane->head = job;
	lane->tail = job;
	pool->queued++;
	pthread_cond_signal(&pool->ready);
	pthread_mutex_unlock(&pool->lock);
}

void
workers_stats(struct workers *pool, struct workers_stats *out)
{
	pthread_mutex_lock(&pool->lock);
	out->total = pool->count;
	out->busy = pool->busy;
	out->queued = pool->queued;
	out->grouped = pool->grouped;
	out->examined = pool->examined;
	pthread_mutex_unlock(&pool->lock);
}

void
workers_stop(struct workers *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = true;
	pthread_cond_broadcast(&pool->ready);
	pthread_mutex_unlock(&pool->lock);
	for (size_t i = 0; i < pool->count; i++)
		pthread_join(pool->workers[i].thread, NULL);
	pthread_cond_destroy(&pool->ready);
	pthread_mutex_destroy(&pool->lock);
	free(pool->workers);
	free(pool->conninfo);
	free(pool);
}
