/* Read replicas: PostgreSQL hot standbys that serve the service's pure
 * reads. Each standby has a worker pool of its own (workers.h). A monitor
 * thread asks the primary and every standby for its revision every
 * REPLICAS_POLL_MS; a standby is in rotation while it answers and lags the
 * primary by at most the configured bound, and out of it otherwise (also
 * at once when a read on it fails for want of it) until it answers again
 * within the bound.
 *
 * Lag is measured in revisions (the primary's revision counter minus the
 * standby's; the counter is replicated with the data) and in time: the
 * monitor remembers when it first saw the primary at each revision, so a
 * standby at revision R lags by the time since the primary was first seen
 * past R (to within REPLICAS_POLL_MS; 0 when it has caught up). */
#ifndef EXE_REPLICAS_H
#define EXE_REPLICAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/workers.h"

enum { REPLICAS_MAX = 8, REPLICAS_POLL_MS = 100 };

struct replicas;

struct replicas_options {
	const char *primary;     /* the primary's connection string */
	const char *const *urls; /* each standby's */
	size_t count;            /* 1..REPLICAS_MAX */
	size_t workers;          /* connections (worker threads) per standby */
	long max_lag_ms;         /* out of rotation beyond this */
};

/* replicas_start starts a worker pool per standby and the monitor, and
 * waits up to a second for its first poll (so a standby that answers is in
 * rotation from the start, and one whose host does not answer holds
 * start-up no longer). `opts` is copied. Returns 0, or -1 when threads
 * cannot be created. */
int replicas_start(struct replicas **out, const struct replicas_options *opts)
    __attribute__((warn_unused_result));

/* replicas_pick chooses, round robin, a standby in rotation whose last
 * polled revision is at least `min_revision`; -1 when there is none (the
 * read goes to the primary). Never blocks. NULL: -1. */
int replicas_pick(struct replicas *r, uint64_t min_revision);

/* replicas_workers is standby `index`'s worker pool. */
struct workers *replicas_workers(struct replicas *r, int index);

/* replicas_failed takes standby `index` out of rotation at once: a read
 * on it could not be served for want of it (its connection was lost or
 * could not be made). The monitor puts it back when it answers again. */
void replicas_failed(struct replicas *r, int index);

/* replicas_served counts one read answered by standby `index`. */
void replicas_served(struct replicas *r, int index);

/* What is known of one standby. */
struct replica_stats {
	bool up;           /* answered the last poll (and no read failed) */
	bool in_rotation;  /* up and within the lag bound */
	uint64_t revision; /* its revision at the last poll */
	uint64_t lag_revisions;
	int64_t lag_ms;
	uint64_t reads; /* reads it answered, so far */
	struct workers_stats workers;
};

/* replicas_count is the number of standbys (0 for NULL). */
size_t replicas_count(const struct replicas *r);

/* replicas_stats reports standby `index`. */
void replicas_stats(
    struct replicas *r, size_t index, struct replica_stats *out);

/* replicas_stop stops the monitor and every standby's workers (running
 * the jobs they hold first, as workers_stop does). NULL is fine. */
void replicas_stop(struct replicas *r);

#endif
