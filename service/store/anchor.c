/* The activity head's reader: a read, a log line, a copy for /metrics. */
#include "store/anchor.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/log.h"
#include "base/status.h"
#include "store/db.h"

struct anchor {
	struct anchor_options o;
	char *conninfo;
	pthread_t thread;
	int wake[2]; /* self-pipe: a byte means stop */
	pthread_mutex_t lock;
	struct anchor_head last;
};

/* anchor_sleep waits `ms` or until stopped; false when stopped. */
static bool
anchor_sleep(struct anchor *a, long ms)
{
	struct pollfd fd = {a->wake[0], POLLIN, 0};
	return poll(&fd, 1, (int)ms) <= 0;
}

/* anchor_read reads the head once, logs it and keeps it. */
static void
anchor_read(struct anchor *a, PGconn *conn)
{
	PGresult *res;
	struct db_error err;
	if (db_exec(conn,
	        "SELECT activity_count, encode(activity_head, 'hex'), value"
	        " FROM revision_counter",
	        0, NULL, &res, &err) != STATUS_OK) {
		log_warn(
		    "activity_head_unread", "{s:s}", "reason", err.message);
		return;
	}
	struct anchor_head h = {.known = PQntuples(res) == 1};
	if (h.known) {
		h.count = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(
		    h.hash_hex, sizeof h.hash_hex, "%s", PQgetvalue(res, 0, 1));
		h.revision = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		h.read_unix_ms =
		    (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	PQclear(res);
	if (!h.known)
		return;
	log_info("activity_head", "{s:I, s:s, s:I}", "count",
	    (json_int_t)h.count, "head", h.hash_hex, "revision",
	    (json_int_t)h.revision);
	pthread_mutex_lock(&a->lock);
	a->last = h;
	pthread_mutex_unlock(&a->lock);
}

static void *
anchor_main(void *arg)
{
	struct anchor *a = arg;
	PGconn *conn = NULL;
	for (;;) {
		if (db_keep_connected(&conn, a->conninfo))
			anchor_read(a, conn);
		/* Without a connection, try again within a second. */
		long ms = conn != NULL ? a->o.interval_s * 1000 : 1000;
		if (!anchor_sleep(a, ms))
			break;
	}
	PQfinish(conn);
	return NULL;
}

int
anchor_start(struct anchor **out, const struct anchor_options *o)
{
	*out = NULL;
	if (o->interval_s <= 0)
		return 0;
	struct anchor *a = calloc(1, sizeof *a);
	if (a == NULL)
		return -1;
	a->o = *o;
	a->conninfo = strdup(o->conninfo);
	if (a->conninfo == NULL || pipe(a->wake) != 0) {
		free(a->conninfo);
		free(a);
		return -1;
	}
	pthread_mutex_init(&a->lock, NULL);
	if (pthread_create(&a->thread, NULL, anchor_main, a) != 0) {
		close(a->wake[0]);
		close(a->wake[1]);
		pthread_mutex_destroy(&a->lock);
		free(a->conninfo);
		free(a);
		return -1;
	}
	*out = a;
	return 0;
}

void
anchor_last(struct anchor *a, struct anchor_head *out)
{
	if (a == NULL) {
		*out = (struct anchor_head){.known = false};
		return;
	}
	pthread_mutex_lock(&a->lock);
	*out = a->last;
	pthread_mutex_unlock(&a->lock);
}

void
anchor_stop(struct anchor *a)
{
	if (a == NULL)
		return;
	ssize_t unused = write(a->wake[1], "x", 1);
	(void)unused;
	pthread_join(a->thread, NULL);
	close(a->wake[0]);
	close(a->wake[1]);
	pthread_mutex_destroy(&a->lock);
	free(a->conninfo);
	free(a);
}
