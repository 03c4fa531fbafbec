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
#include <stdint.h>

/* A job is embedded in its owner (no allocation per job). run returns
 * true to be run once more, on a fresh connection, when it failed only
 * because `conn` turned out dead and nothing can have been committed;
 * `last` says this is already the second run. */
struct job {
	struct job *next;  /* the pool's, while queued */
	uint64_t seq;      /* the pool's: its place in the queue */
	bool (*run)(struct job *job, PGconn *conn, bool last);
	/* Jobs with the same non-NULL `group` that wait together are taken
	 * together (up to WORKERS_GROUP_MAX, in queue order) and run by one
	 * call of run_many, with the same meaning of its return and `last`;
	 * a job taken alone is run by `run`. The pool keeps the jobs of up
	 * to WORKERS_LANES groups apart, so that taking costs the same
	 * however many wait; a job of a further group, while that many
	 * others wait, is run alone. */
	const void *group;
	bool (*run_many)(struct job **jobs, size_t n, PGconn *conn, bool last);
};

enum { WORKERS_GROUP_MAX = 64, WORKERS_LANES = 8 };

struct workers;

/* workers_start starts `count` threads connecting with `conninfo`.
 * Returns 0, or -1 when threads cannot be created. */
int workers_start(struct workers **out, const char *conninfo, size_t count)
    __attribute__((warn_unused_result));

/* workers_submit queues `job`; it runs on some worker. Never blocks long. */
void workers_submit(struct workers *w, struct job *job);

/* What the pool is doing. */
struct workers_stats {
	size_t total;   /* workers */
	size_t busy;    /* running a job */
	size_t queued;  /* jobs waiting */
	uint64_t grouped; /* jobs run with others by run_many, so far */
	uint64_t examined; /* queued jobs looked at to take jobs, so far */
};

/* workers_stats reports the pool's figures. */
void workers_stats(struct workers *w, struct workers_stats *out);

/* workers_stop runs the jobs already queued, then stops every thread and
 * closes the connections. NULL is fine. */
void workers_stop(struct workers *w);

#endif
