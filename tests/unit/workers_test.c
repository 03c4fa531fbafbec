/* Unit tests of the worker pool's grouping: jobs of one group waiting
 * together are taken together, in queue order and up to the limit, jobs
 * of other groups and ungrouped jobs keep their turn, and a group asked to
 * run again runs again with the same jobs. The database is unreachable
 * here: jobs run with a NULL connection, which is all they need. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/workers.h"
#include "unit.h"

enum { MAX_JOBS = 4000, MAX_RUNS = 4000 };

/* One test job, and a record of every run. */
struct test_job {
	struct job job;
	int id;
	bool retry_once; /* a run_many asked for a second run */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool blocker_started, blocker_release;
	int done;
	/* run k: how many jobs, their ids, `last` */
	size_t runs;
	size_t sizes[MAX_RUNS];
	int first_id[MAX_RUNS];
	int ids[MAX_RUNS][WORKERS_GROUP_MAX];
	bool last[MAX_RUNS];
} rec = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .changed = PTHREAD_COND_INITIALIZER,
};

static struct test_job jobs[MAX_JOBS];
static const char group_a[] = "a", group_b[] = "b";

static void
record(struct job **list, size_t n, bool last, bool count_done)
{
	pthread_mutex_lock(&rec.lock);
	if (rec.runs < MAX_RUNS) {
		rec.sizes[rec.runs] = n;
		rec.last[rec.runs] = last;
		for (size_t i = 0; i < n; i++)
			rec.ids[rec.runs][i] = ((struct test_job *)list[i])->id;
		rec.first_id[rec.runs] = rec.ids[rec.runs][0];
		rec.runs++;
	}
	if (count_done)
		rec.done += (int)n;
	pthread_cond_broadcast(&rec.changed);
	pthread_mutex_unlock(&rec.lock);
}

static bool
run_one(struct job *job, PGconn *conn, bool last)
{
	(void)conn;
	record(&job, 1, last, true);
	return false;
}

static bool
run_many(struct job **list, size_t n, PGconn *conn, bool last)
{
	(void)conn;
	bool again = !last && ((struct test_job *)list[0])->retry_once;
	record(list, n, last, !again);
	return again;
}

static bool
run_blocker(struct job *job, PGconn *conn, bool last)
{
	(void)job;
	(void)conn;
	(void)last;
	pthread_mutex_lock(&rec.lock);
	rec.blocker_started = true;
	pthread_cond_broadcast(&rec.changed);
	while (!rec.blocker_release)
		pthread_cond_wait(&rec.changed, &rec.lock);
	pthread_mutex_unlock(&rec.lock);
	return false;
}

static void
reset_record(void)
{
	pthread_mutex_lock(&rec.lock);
	rec.blocker_started = rec.blocker_release = false;
	rec.done = 0;
	rec.runs = 0;
	pthread_mutex_unlock(&rec.lock);
}

/* start_blocked starts a pool of one worker busy with a job that waits
 * for release(): what is submitted meanwhile queues up. */
static struct workers *
start_blocked(void)
{
	static struct job blocker = {.run = run_blocker};
	struct workers *pool = NULL;
	reset_record();
	if (workers_start(&pool, "host=/nonexistent/exa-workers-test", 1) != 0)
		return NULL;
	workers_submit(pool, &blocker);
	pthread_mutex_lock(&rec.lock);
	while (!rec.blocker_started)
		pthread_cond_wait(&rec.changed, &rec.lock);
	pthread_mutex_unlock(&rec.lock);
	return pool;
}

static void
submit(struct workers *pool, int id, const void *group)
{
	struct test_job *t = &jobs[id];
	memset(t, 0, sizeof *t);
	t->id = id;
	t->job.run = run_one;
	t->job.run_many = run_many;
	t->job.group = group;
	workers_submit(pool, &t->job);
}

/* release lets the blocker finish and waits until `n` jobs have run. */
static void
release_and_wait(int n)
{
	pthread_mutex_lock(&rec.lock);
	rec.blocker_release = true;
	pthread_cond_broadcast(&rec.changed);
	while (rec.done < n)
		pthread_cond_wait(&rec.changed, &rec.lock);
	pthread_mutex_unlock(&rec.lock);
}

static void
groups_run_together_in_queue_order(void)
{
	struct workers *pool = start_blocked();
	EXPECT(pool != NULL);
	if (pool == NULL)
		return;
	/* a1..a5, x (no group), a6..a8, b1, b2 */
	for (int id = 1; id <= 5; id++)
		submit(pool, id, group_a);
	submit(pool, 6, NULL);
	for (int id = 7; id <= 9; id++)
		submit(pool, id, group_a);
	submit(pool, 10, group_b);
	submit(pool, 11, group_b);
	release_and_wait(11);

	EXPECT_INT(rec.runs, 3);
	EXPECT_INT(rec.sizes[0], 8);
	static const int a[] = {1, 2, 3, 4, 5, 7, 8, 9};
	for (size_t i = 0; i < 8; i++)
		EXPECT_INT(rec.ids[0][i], a[i]);
	EXPECT_INT(rec.sizes[1], 1);
	EXPECT_INT(rec.first_id[1], 6);
	EXPECT_INT(rec.sizes[2], 2);
	EXPECT_INT(rec.ids[2][0], 10);
	EXPECT_INT(rec.ids[2][1], 11);

	struct workers_stats st;
	workers_stats(pool, &st);
	EXPECT_INT(st.grouped, 10);
	EXPECT_INT(st.queued, 0);
	workers_stop(pool);
}

static void
a_group_is_at_most_the_limit(void)
{
	struct workers *pool = start_blocked();
	EXPECT(pool != NULL);
	if (pool == NULL)
		return;
	int n = WORKERS_GROUP_MAX + 36;
	for (int id = 1; id <= n; id++)
		submit(pool, id, group_a);
	release_and_wait(n);
	EXPECT_INT(rec.runs, 2);
	EXPECT_INT(rec.sizes[0], WORKERS_GROUP_MAX);
	EXPECT_INT(rec.sizes[1], 36);
	EXPECT_INT(rec.ids[1][0], WORKERS_GROUP_MAX + 1);
	EXPECT_INT(rec.ids[1][35], n);
	workers_stop(pool);
}

static void
a_lone_group_job_runs_alone(void)
{
	struct workers *pool = start_blocked();
	EXPECT(pool != NULL);
	if (pool == NULL)
		return;
	submit(pool, 1, group_a);
	submit(pool, 2, NULL);
	release_and_wait(2);
	EXPECT_INT(rec.runs, 2);
	EXPECT_INT(rec.sizes[0], 1);
	EXPECT_INT(rec.sizes[1], 1);
	struct workers_stats st;
	workers_stats(pool, &st);
	EXPECT_INT(st.grouped, 0);
	workers_stop(pool);
}

static void
a_group_runs_again_when_asked(void)
{
	struct workers *pool = start_blocked();
	EXPECT(pool != NULL);
	if (pool == NULL)
		return;
	submit(pool, 1, group_a);
	submit(pool, 2, group_a);
	submit(pool, 3, group_a);
	jobs[1].retry_once = true;
	release_and_wait(3);
	EXPECT_INT(rec.runs, 2);
	for (size_t r = 0; r < 2; r++) {
		EXPECT_INT(rec.sizes[r], 3);
		EXPECT_INT(rec.ids[r][0], 1);
		EXPECT_INT(rec.ids[r][2], 3);
	}
	EXPECT(!rec.last[0]);
	EXPECT(rec.last[1]);
	workers_stop(pool);
}

/* A queue that backed up is taken with work in proportion to the jobs
 * taken: the pool does not rescan what waits behind them on every take
 * (that made a backlog of n jobs cost n * n / 2 steps under the lock). */
static void
a_backed_up_queue_costs_linear_work(void)
{
	struct workers *pool = start_blocked();
	EXPECT(pool != NULL);
	if (pool == NULL)
		return;
	/* 3000 jobs: ungrouped ones between jobs of two groups, so that
	 * groups are taken from the middle of the queue. */
	int n = 3000;
	for (int id = 1; id <= n; id++)
		submit(pool, id, id % 3 == 0 ? NULL : id % 3 == 1 ? group_a
		                                                  : group_b);
	release_and_wait(n);
	struct workers_stats st;
	workers_stats(pool, &st);
	EXPECT_INT(st.queued, 0);
	EXPECT_INT(rec.done, n);
	/* Every take starts with the oldest job waiting. */
	for (size_t r = 1; r < rec.runs; r++)
		EXPECT(rec.first_id[r] > rec.first_id[r - 1]);
	printf("  %d jobs taken in %zu runs, %llu jobs examined\n", n,
	    rec.runs, (unsigned long long)st.examined);
	EXPECT(st.examined <= 16 * (uint64_t)n);
	workers_stop(pool);
}

/* More groups than the pool keeps apart: each job still runs once, and
 * every take starts with the oldest job waiting. */
static void
many_groups_keep_queue_order(void)
{
	struct workers *pool = start_blocked();
	EXPECT(pool != NULL);
	if (pool == NULL)
		return;
	static char groups[40];
	int n = 400;
	for (int id = 1; id <= n; id++)
		submit(pool, id, &groups[id % 40]);
	release_and_wait(n);
	bool seen[401] = {false};
	int twice = 0;
	for (size_t r = 0; r < rec.runs; r++) {
		if (r > 0)
			EXPECT(rec.first_id[r] > rec.first_id[r - 1]);
		for (size_t i = 0; i < rec.sizes[r]; i++) {
			int id = rec.ids[r][i];
			twice += seen[id];
			seen[id] = true;
			/* Jobs taken together are of one group, in order. */
			if (i > 0) {
				EXPECT_INT(id % 40, rec.ids[r][0] % 40);
				EXPECT(id > rec.ids[r][i - 1]);
			}
		}
	}
	EXPECT_INT(twice, 0);
	EXPECT_INT(rec.done, n);
	workers_stop(pool);
}

static const struct unit_case cases[] = {
	{"groups_run_together_in_queue_order",
	    groups_run_together_in_queue_order},
	{"a_group_is_at_most_the_limit", a_group_is_at_most_the_limit},
	{"a_lone_group_job_runs_alone", a_lone_group_job_runs_alone},
	{"a_group_runs_again_when_asked", a_group_runs_again_when_asked},
	{"a_backed_up_queue_costs_linear_work",
	    a_backed_up_queue_costs_linear_work},
	{"many_groups_keep_queue_order", many_groups_keep_queue_order},
};

UNIT_MAIN(cases)
