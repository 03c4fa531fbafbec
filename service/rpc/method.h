/* What a row of the method table says about one RPC method: its name, its
 * request and response types, the functions that validate, answer from
 * memory and handle it, and its flags. The table itself lives above every
 * layer (dispatch.c); the request pipeline (pipeline.h) reads it through
 * the service's context, so no layer below names a handler. */
#ifndef EXE_METHOD_H
#define EXE_METHOD_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

struct call;

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
enum { METHOD_MISS = -1 };

struct method {
	const char *name; /* "exe.access.v1.AuthzService/Check" */
	const ProtobufCMessageDescriptor *request;
	const ProtobufCMessageDescriptor *response;
	method_fn validate; /* checks call->request; no database; may be NULL */
	method_fn handle;   /* runs with call->db; NULL: not implemented yet */
	unsigned flags;
	/* Answers from memory on nng's callback thread, or METHOD_MISS to
	 * hand the call to a database worker; may be NULL. Never blocks. */
	method_fn fast;
	/* Handles several calls of this method that wait for a worker at
	 * once (pipeline_run_many), each status in rcs[i]; may be NULL. */
	method_many_fn handle_many;
};

/* A whole table: `count` rows. */
struct method_table {
	const struct method *rows;
	size_t count;
};

/* method_lookup returns the row of `table` for a full method name, or
 * NULL. */
const struct method *method_lookup(const struct method_table *table,
    const char *name);

/* method_index is the row's position in `table` (for per-method metrics). */
size_t method_index(const struct method_table *table, const struct method *m);

#endif
