/* The request pipeline: a received message becomes a decided call (an
 * error, an answer from memory, or a call for a database worker), a
 * handled call becomes a reply. The transport drives it; it never blocks
 * outside pipeline_run, and it reaches handlers only through the method
 * table in the call's service context. */
#ifndef EXE_PIPELINE_H
#define EXE_PIPELINE_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/call.h"
#include "rpc/envelope.h"

enum pipeline_next {
	PIPELINE_REPLY,    /* the call is decided: reply now */
	PIPELINE_NEEDS_DB, /* run pipeline_run on a database worker */
};

/* pipeline_begin decodes and validates a request of `len` bytes into
 * `call` (which must be zeroed or ended, with call->svc set). Never
 * blocks. */
enum pipeline_next pipeline_begin(struct call *call, const uint8_t *buf,
    size_t len, size_t max_bytes);

/* pipeline_run runs the call's handler with database connection `db`
 * (NULL when the database cannot be reached). */
void pipeline_run(struct call *call, PGconn *db);

/* pipeline_run_many runs n calls of one method that has handle_many
 * together on `db` (PIPELINE_MANY_MAX at a time), as pipeline_run would
 * one by one. */
enum { PIPELINE_MANY_MAX = 64 };
void pipeline_run_many(struct call **calls, size_t n, PGconn *db);

/* pipeline_retryable says whether the call failed only because its
 * connection was dead (`conn_lost`: the worker found the connection it
 * ran on lost; and no commit was in doubt), and if so resets it to run
 * again: a handler's transaction rolled back, so running it once more is
 * safe. */
bool pipeline_retryable(struct call *call, bool conn_lost);

/* pipeline_retryable_many is pipeline_retryable for calls run together:
 * if any of them may run again, all are reset to run again together. */
bool pipeline_retryable_many(struct call **calls, size_t n, bool conn_lost);

/* What became of a read run on a hot standby. */
enum pipeline_standby {
	PIPELINE_ANSWERED,      /* reply with what the standby answered */
	PIPELINE_TO_PRIMARY,    /* run it on the primary: the standby had not
	                         * applied the revision it asked for, it needs
	                         * a write, replay cancelled its query, or it
	                         * found nothing (perhaps not replayed yet) */
	PIPELINE_STANDBY_FAILED /* run it on the primary: the standby could
	                         * not be reached or its connection died */
};

/* pipeline_standby_result judges a call run on a standby (call->on_replica)
 * and, unless it was answered, resets it to run again on the primary (a
 * pure read: running it again is safe). */
enum pipeline_standby pipeline_standby_result(struct call *call);

/* pipeline_reply prepares the reply's parts, packing the response body
 * into the call's arena; a body over `max_bytes` turns into
 * RESOURCE_EXHAUSTED. The parts stay valid until pipeline_end. */
void pipeline_reply(struct call *call, size_t max_bytes,
    struct envelope_reply *out);

/* pipeline_end releases everything the call holds and zeroes it for reuse
 * (keeping its service context). */
void pipeline_end(struct call *call);

#endif
