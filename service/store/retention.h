/* Change-log retention: one thread with its own connection that prunes
 * the oldest changes, by age and by count (store_changes_prune), in
 * batches of a thousand with a pause between them, every second. The log
 * then never grows without bound, and a reader that falls behind what
 * was pruned is told to resynchronise (ReadChanges, the cache feeder).
 * Several replicas may prune one database: each batch is one statement,
 * and they simply share the work. */
#ifndef EXE_RETENTION_H
#define EXE_RETENTION_H

struct retention;

struct retention_options {
	const char *conninfo;
	long max_age_s; /* changes older than this go; 0: no age limit */
	long max_rows;  /* only the newest this many are kept; 0: no limit */
	long interval_ms; /* between rounds; 0: 1000 */
};

/* retention_start starts the thread, or (both limits 0) nothing, with
 * *out NULL. Returns 0, or -1 if it cannot. */
int retention_start(struct retention **out, const struct retention_options *o)
    __attribute__((warn_unused_result));

/* retention_stop stops the thread; NULL is fine. */
void retention_stop(struct retention *r);

#endif
