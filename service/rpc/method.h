/* What a row of the method table says about one RPC method: its name, its
 * request and response types, the functions that validate, answer from
 * memory and handle it, and its flags. The table itself lives above every
 * layer (dispatch.c); the request pipeline (pipeline.h) reads it through
 * the service's context, so no layer below names a handler. */
#ifndef EXE_METHOD_H
#define EXE_METHOD_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

struct call;

enum method_flags {
	/* Callable with a `check`-scope caller token (AuthzService and
	 * read-only calls); without it the method needs `admin`. */
	METHOD_CHECK_SCOPE = 1u << 0,
	/* Changes state and returns a revision. */
	METHOD_WRITES = 1u << 1,
	/* The common prologue, run by the pipeline once, before the method's
	 * own validate, on fields the request has by these names (checked at
	 * start, dispatch_check_table):
	 *   METHOD_ACTOR      `actor`: a well-formed principal
	 *   METHOD_WORKSPACE  `workspace_id`: a UUID, required
	 *   METHOD_PAGED      `page_size` within the limits (kept in
	 *                     call->page_size) and `page_token` bounded text */
	METHOD_ACTOR = 1u << 2,
	METHOD_WORKSPACE = 1u << 3,
	METHOD_PAGED = 1u << 4,
	/* The elements of the request's one repeated message field are
	 * answered each alone (BatchCheck's checks): text that is not fit
	 * (a NUL byte, a control character, bad UTF-8) in one of them fails
	 * that element only, through call->item_faults. */
	METHOD_ITEMS = 1u << 5,
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
	unsigned flags;
	/* Checks call->request after the prologue; no database; may be NULL. */
	method_fn validate;
	method_fn handle; /* runs with call->db; NULL: not implemented yet */
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

/* method_prologue_check says whether the request type of `m` has the
 * fields its prologue flags name, with the right types and outside any
 * oneof; if not, writes the problem to `msg` and returns false. */
bool method_prologue_check(const struct method *m, char *msg, size_t size);

/* method_index is the row's position in `table` (for per-method metrics). */
size_t method_index(const struct method_table *table, const struct method *m);

#endif
