/* Method dispatch: the one table of every RPC method, and the pipeline a
 * request goes through: envelope → lookup → deadline → unpack → validate →
 * (on a database worker) handler → reply. */
#ifndef EXE_DISPATCH_H
#define EXE_DISPATCH_H

#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#include "call.h"
#include "envelope.h"

enum method_flags {
	/* Callable with a `check`-scope caller token (AuthzService and
	 * read-only calls); without it the method needs `admin`. */
	METHOD_CHECK_SCOPE = 1u << 0,
	/* Changes state and returns a revision. */
	METHOD_WRITES = 1u << 1,
};

/* A handler returns a status; on STATUS_OK it has set call->response. */
typedef int (*method_fn)(struct call *call);

/* A handler of n calls at once: call i's status goes to rcs[i]. */
typedef void (*method_many_fn)(struct call **calls, size_t n, int *rcs);

/* What a fast path returns when it cannot answer without the database. */
enum { DISPATCH_MISS = -1 };

struct method {
	const char *name; /* "exe.access.v1.AuthzService/Check" */
	const ProtobufCMessageDescriptor *request;
	const ProtobufCMessageDescriptor *response;
	method_fn validate; /* checks call->request; no database; may be NULL */
	method_fn handle;   /* runs with call->db; NULL: not implemented yet */
	unsigned flags;
	/* Answers from memory on nng's callback thread, or DISPATCH_MISS to
	 * hand the call to a database worker; may be NULL. Never blocks. */
	method_fn fast;
	/* Handles several calls of this method that wait for a worker at
	 * once (dispatch_run_many), each status in rcs[i]; may be NULL. */
	method_many_fn handle_many;
};

/* dispatch_methods is the table; dispatch_method_count rows. */
extern const struct method dispatch_methods[];
extern const size_t dispatch_method_count;

/* dispatch_lookup returns the row for a full method name, or NULL. */
const struct method *dispatch_lookup(const char *name);

/* dispatch_check_table verifies that the table and the .proto services
 * agree: every service method has exactly one row with the same request
 * and response types. Returns 0, or -1 with the mismatch in `msg`. */
int dispatch_check_table(char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

enum dispatch_next {
	DISPATCH_REPLY,     /* the call is decided: reply now */
	DISPATCH_NEEDS_DB,  /* run dispatch_run on a database worker */
};

/* dispatch_begin decodes and validates a request of `len` bytes into
 * `call` (which must be zeroed or ended). Never blocks. */
enum dispatch_next dispatch_begin(struct call *call, const uint8_t *buf,
    size_t len, size_t max_bytes);

/* dispatch_run runs the call's handler with database connection `db`
 * (NULL when the database cannot be reached). */
void dispatch_run(struct call *call, PGconn *db);

/* dispatch_run_many runs n calls of one method that has handle_many
 * together on `db` (DISPATCH_MANY_MAX at a time), as dispatch_run would
 * one by one. */
enum { DISPATCH_MANY_MAX = 64 };
void dispatch_run_many(struct call **calls, size_t n, PGconn *db);

/* dispatch_retryable says whether the call failed only because its
 * connection was dead (and no commit was in doubt), and if so resets it to
 * run again: a handler's transaction rolled back, so running it once more
 * is safe. */
bool dispatch_retryable(struct call *call, PGconn *db);

/* dispatch_retryable_many is dispatch_retryable for calls run together:
 * if any of them may run again, all are reset to run again together. */
bool dispatch_retryable_many(struct call **calls, size_t n, PGconn *db);

/* dispatch_reply prepares the reply's parts, packing the response body into
 * the call's arena; a body over `max_bytes` turns into RESOURCE_EXHAUSTED.
 * The parts stay valid until dispatch_end. */
void dispatch_reply(struct call *call, size_t max_bytes,
    struct envelope_reply *out);

/* dispatch_end releases everything the call holds and zeroes it for reuse. */
void dispatch_end(struct call *call);

#endif
