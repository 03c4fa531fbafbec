/* The database worker pool: a fixed number of threads, each owning one
 * PostgreSQL connection, taking jobs from one FIFO queue. nng callbacks
 * never block; anything that needs the database is queued here. A worker
 * whose connection broke reconnects before its next job; while PostgreSQL
 * is unreachable jobs run with a NULL connection and answer UNAVAILABLE. */
#ifndef EXE_WORKERS_H
#define EXE_WORKERS_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* A job is embedded in its owner (no allocation per job). run returns
 * true to be run once more, on a fresh connection, when it failed only
 * because `conn` turned out dead and nothing can have been committed;
 * `last` says this is already the second run. */
struct job {
	struct job *next;
	bool (*run)(struct job *job, PGconn *conn, bool last);
};

struct workers;

/* workers_start starts `count` threads connecting with `conninfo`.
 * Returns 0, or -1 when threads cannot be created. */
int workers_start(struct workers **out, const char *conninfo, size_t count)
    __attribute__((warn_unused_result));

/* workers_submit queues `job`; it runs on some worker. Never blocks long. */
void workers_submit(struct workers *w, struct job *job);

/* workers_stats reports the pool's size, how many workers are running a
 * job, and how many jobs wait. */
void workers_stats(struct workers *w, size_t *total, size_t *busy,
    size_t *queued);

/* workers_stop runs the jobs already queued, then stops every thread and
 * closes the connections. NULL is fine. */
void workers_stop(struct workers *w);

#endif
