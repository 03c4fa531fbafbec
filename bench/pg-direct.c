/* exa-pg-direct: the baseline for a cold check. N threads, one PostgreSQL
 * connection each, issue the membership lookup the service makes for a
 * check, as a prepared statement, on random memberships read from the
 * database: what a backend would do without ExE Access.
 *
 *   exa-pg-direct --database-url CONNINFO [--concurrency N]
 *                 [--duration S | --count N] [--pairs N] [--seed N]
 *                 [--sql lookup|service] [--unprepared]
 *
 * The last two measure what the service's own statement costs: prepared,
 * as service/db.c sends it, or unprepared (PQexecParams, planned on every
 * call), as it did before it prepared its statements.
 * One RESULT line (see stats.h) goes to stdout. */
#include <getopt.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "population.h"
#include "stats.h"

/* The service's lookup for a user's standing in a workspace
 * (store_user_standing), minus its revision read. */
static const char LOOKUP_SQL[] =
    "SELECT w.kind, m.role FROM workspaces w"
    " LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = $2"
    " WHERE w.id = $1";

/* --sql service: the statement exactly as service/store_authz.c sends it,
 * for comparing what the service pays per cold check. */
static const char SERVICE_SQL[] =
    "SELECT w.kind, coalesce(w.organization_id::text, ''), m.role,"
    "       (SELECT value FROM revision_counter)"
    " FROM workspaces w"
    " LEFT JOIN memberships m"
    "   ON m.workspace_id = w.id AND m.user_id = $2"
    " WHERE w.id = $1";

struct bench {
	const char *conninfo;
	const char *sql;
	bool unprepared; /* PQexecParams every call */
	unsigned concurrency;
	double duration_s;
	uint64_t count;
	struct id_table pairs;
	struct stats_pool *pool;
	_Atomic uint64_t next;
	uint64_t end_ns;
	pthread_barrier_t ready, go;
	_Atomic uint64_t errors;
	_Atomic bool setup_failed;
	pthread_mutex_t error_lock;
	char first_error[512];
};

struct worker {
	struct bench *b;
	pthread_t thread;
	PGconn *conn;
	struct stats_recorder rec;
	uint64_t finished_ns;
};

static void
note_error(struct bench *b, const char *what, PGconn *conn)
{
	pthread_mutex_lock(&b->error_lock);
	if (atomic_fetch_add(&b->errors, 1) == 0) {
		snprintf(b->first_error, sizeof b->first_error, "%s: %s", what,
		    PQerrorMessage(conn));
		b->first_error[strcspn(b->first_error, "\n")] = '\0';
	}
	pthread_mutex_unlock(&b->error_lock);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	w->conn = PQconnectdb(b->conninfo);
	PGresult *res = NULL;
	if (PQstatus(w->conn) != CONNECTION_OK) {
		note_error(b, "connect", w->conn);
		atomic_store(&b->setup_failed, true);
	} else if (!b->unprepared) {
		res = PQprepare(w->conn, "lookup", b->sql, 2, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			note_error(b, "prepare", w->conn);
			atomic_store(&b->setup_failed, true);
		}
		PQclear(res);
	}
	pthread_barrier_wait(&b->ready);
	pthread_barrier_wait(&b->go);
	while (!atomic_load(&b->setup_failed)) {
		uint64_t idx = atomic_fetch_add_explicit(
		    &b->next, 1, memory_order_relaxed);
		if (b->count > 0 && idx >= b->count)
			break;
		size_t r = (size_t)(idx % b->pairs.rows);
		const char *params[] = {id_table_cell(&b->pairs, r, 1),
		    id_table_cell(&b->pairs, r, 0)};
		uint64_t t0 = stats_now_ns();
		res = b->unprepared ? PQexecParams(w->conn, b->sql, 2, NULL,
		                          params, NULL, NULL, 0)
		                    : PQexecPrepared(w->conn, "lookup", 2,
		                          params, NULL, NULL, 0);
		bool ok = PQresultStatus(res) == PGRES_TUPLES_OK &&
		          PQntuples(res) == 1;
		PQclear(res);
		uint64_t t1 = stats_now_ns();
		if (!ok)
			note_error(b, "lookup", w->conn);
		if (!stats_record(&w->rec, t1 - t0))
			break;
		if (b->count == 0 && t1 >= b->end_ns)
			break;
	}
	w->finished_ns = stats_now_ns();
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: exa-pg-direct --database-url CONNINFO "
	           "[--concurrency N] [--duration S | --count N] "
	           "[--pairs N] [--seed N] [--sql lookup|service] "
	           "[--unprepared]\n"
	           "  --sql service   the statement exactly as the service "
	           "sends it\n"
	           "  --unprepared    PQexecParams every call (parse and plan "
	           "each time)\n");
}

int
main(int argc, char **argv)
{
	struct bench b = {.concurrency = 1, .sql = LOOKUP_SQL};
	const char *sql_name = "lookup";
	size_t pairs = 200000;
	unsigned seed = 0;
	static const struct option longopts[] = {
	    {"database-url", required_argument, NULL, 'd'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 'D'},
	    {"count", required_argument, NULL, 'n'},
	    {"pairs", required_argument, NULL, 'p'},
	    {"seed", required_argument, NULL, 's'},
	    {"sql", required_argument, NULL, 'q'},
	    {"unprepared", no_argument, NULL, 'U'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd': b.conninfo = optarg; break;
		case 'c':
			b.concurrency = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'D': b.duration_s = strtod(optarg, NULL); break;
		case 'n': b.count = strtoull(optarg, NULL, 10); break;
		case 'p': pairs = strtoul(optarg, NULL, 10); break;
		case 's': seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'U': b.unprepared = true; break;
		case 'q':
			sql_name = optarg;
			if (strcmp(optarg, "service") == 0)
				b.sql = SERVICE_SQL;
			else if (strcmp(optarg, "lookup") != 0) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (b.conninfo == NULL || b.concurrency == 0 || b.concurrency > 1024 ||
	    pairs == 0) {
		usage(stderr);
		return 2;
	}
	if (b.count == 0 && b.duration_s <= 0)
		b.duration_s = 3;

	char msg[600];
	if (seed == 0)
		seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (population_read(b.conninfo, POPULATION_MEMBERSHIPS, pairs, seed,
	        &b.pairs, msg, sizeof msg) != 0) {
		fprintf(stderr, "exa-pg-direct: %s\n", msg);
		return 1;
	}
	if (b.pairs.rows == 0) {
		fprintf(stderr, "exa-pg-direct: no memberships (load "
		                "bench/datagen.sql)\n");
		return 1;
	}
	size_t capacity = b.count > 0 ? (size_t)b.count
	                              : (size_t)(b.duration_s * 200000) + 1000;
	capacity += 256 * (size_t)b.concurrency;
	if (stats_pool_new(&b.pool, capacity) != 0) {
		fprintf(stderr, "exa-pg-direct: out of memory\n");
		return 1;
	}
	pthread_mutex_init(&b.error_lock, NULL);
	pthread_barrier_init(&b.ready, NULL, b.concurrency + 1);
	pthread_barrier_init(&b.go, NULL, b.concurrency + 1);
	struct worker *workers = calloc(b.concurrency, sizeof *workers);
	if (workers == NULL) {
		fprintf(stderr, "exa-pg-direct: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < b.concurrency; i++) {
		workers[i].b = &b;
		stats_recorder_init(&workers[i].rec, b.pool);
		if (pthread_create(&workers[i].thread, NULL, worker_main,
		        &workers[i]) != 0) {
			fprintf(stderr, "exa-pg-direct: cannot start thread\n");
			return 1;
		}
	}
	pthread_barrier_wait(&b.ready);
	uint64_t start = stats_now_ns();
	b.end_ns = start + (uint64_t)(b.duration_s * 1e9);
	pthread_barrier_wait(&b.go);
	uint64_t last = start, count = 0;
	for (unsigned i = 0; i < b.concurrency; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].finished_ns > last)
			last = workers[i].finished_ns;
		count += workers[i].rec.count;
		PQfinish(workers[i].conn);
	}
	if (atomic_load(&b.setup_failed)) {
		fprintf(stderr, "exa-pg-direct: %s\n", b.first_error);
		return 1;
	}
	struct stats_summary s;
	stats_summarize(b.pool, count, (double)(last - start) / 1e9, &s);
	char name[64], labels[256];
	snprintf(name, sizeof name, "pg-lookup%s%s",
	    strcmp(sql_name, "lookup") == 0 ? "" : "-service",
	    b.unprepared ? "-unprepared" : "");
	snprintf(labels, sizeof labels,
	    "tool=exa-pg-direct op=%s transport=unix conc=%u errors=%llu "
	    "population=%zu",
	    name, b.concurrency, (unsigned long long)atomic_load(&b.errors),
	    b.pairs.rows);
	stats_print(stdout, labels, &s);
	fprintf(stderr,
	    "%-16s %-4s c=%-3u %10.0f ops/s  p50 %8.1f us  p99 %8.1f us  "
	    "p99.9 %8.1f us%s\n",
	    name, "unix", b.concurrency, s.ops_per_s, s.p50_us, s.p99_us,
	    s.p999_us, atomic_load(&b.errors) > 0 ? "  (errors)" : "");
	if (atomic_load(&b.errors) > 0)
		fprintf(stderr, "exa-pg-direct: %llu errors; the first: %s\n",
		    (unsigned long long)atomic_load(&b.errors), b.first_error);
	pthread_barrier_destroy(&b.ready);
	pthread_barrier_destroy(&b.go);
	pthread_mutex_destroy(&b.error_lock);
	stats_pool_free(b.pool);
	id_table_fini(&b.pairs);
	free(workers);
	return 0;
}
