/* The change-log pruning thread. */
#include "store/retention.h"

#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/log.h"
#include "base/status.h"
#include "store/changes.h"
#include "store/db.h"

enum { RETENTION_BATCH = 1000, RETENTION_PAUSE_MS = 10 };

struct retention {
	struct retention_options o;
	char *conninfo;
	pthread_t thread;
	int wake[2]; /* self-pipe: a byte means stop */
};

/* retention_sleep waits `ms` or until stopped; false when stopped. */
static bool
retention_sleep(struct retention *r, long ms)
{
	struct pollfd fd = {r->wake[0], POLLIN, 0};
	return poll(&fd, 1, (int)ms) <= 0;
}

/* retention_round prunes until a batch is not full; false when stopped. */
static bool
retention_round(struct retention *r, PGconn *conn)
{
	long total = 0;
	uint64_t through = 0;
	for (;;) {
		int pruned = 0;
		if (store_changes_prune(conn, r->o.max_age_s, r->o.max_rows,
		        RETENTION_BATCH, &pruned, &through) != STATUS_OK) {
			log_warn("change_log_prune_failed", "{s:s}", "reason",
			    PQerrorMessage(conn));
			break;
		}
		total += pruned;
		if (pruned < RETENTION_BATCH)
			break;
		/* Leave the database to others between batches. */
		if (!retention_sleep(r, RETENTION_PAUSE_MS))
			return false;
	}
	if (total > 0)
		log_debug("change_log_pruned", "{s:I, s:I}", "changes",
		    (json_int_t)total, "through", (json_int_t)through);
	return true;
}

static void *
retention_main(void *arg)
{
	struct retention *r = arg;
	PGconn *conn = NULL;
	for (;;) {
		if (db_keep_connected(&conn, r->conninfo) &&
		    !retention_round(r, conn))
			break;
		if (!retention_sleep(r, r->o.interval_ms))
			break;
	}
	PQfinish(conn);
	return NULL;
}

int
retention_start(struct retention **out, const struct retention_options *o)
{
	*out = NULL;
	if (o->max_age_s <= 0 && o->max_rows <= 0)
		return 0;
	struct retention *r = calloc(1, sizeof *r);
	if (r == NULL)
		return -1;
	r->o = *o;
	if (r->o.interval_ms <= 0)
		r->o.interval_ms = 1000;
	r->conninfo = strdup(o->conninfo);
	if (r->conninfo == NULL || pipe(r->wake) != 0) {
		free(r->conninfo);
		free(r);
		return -1;
	}
	if (pthread_create(&r->thread, NULL, retention_main, r) != 0) {
		close(r->wake[0]);
		close(r->wake[1]);
		free(r->conninfo);
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void
retention_stop(struct retention *r)
{
	if (r == NULL)
		return;
	ssize_t unused = write(r->wake[1], "x", 1);
	(void)unused;
	pthread_join(r->thread, NULL);
	close(r->wake[0]);
	close(r->wake[1]);
	free(r->conninfo);
	free(r);
}
