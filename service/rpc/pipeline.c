/* The request pipeline every call goes through: envelope → caller token →
 * method lookup → scope → deadline → unpack → validate → fast path, and, on
 * a database worker, deadline → handler; then the reply and the call's
 * release. It knows methods only as rows of the table in the service's
 * context (method.h). */
#include "rpc/pipeline.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/status.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "exe/access/v1/types.pb-c.h"
#include "rpc/method.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "rpc/wiretext.h"

const struct method *
method_lookup(const struct method_table *table, const char *name)
{
	/* 32 rows: a linear scan of short strings beats hashing here. */
	for (size_t i = 0; i < table->count; i++) {
		if (strcmp(table->rows[i].name, name) == 0)
			return &table->rows[i];
	}
	return NULL;
}

size_t
method_index(const struct method_table *table, const struct method *m)
{
	return (size_t)(m - table->rows);
}

/* The request and its envelope are unpacked into the call's arena: no
 * malloc or free a field, and pipeline_end wipes the arena whole, so
 * secrets that arrive in requests do not linger in freed memory. */
static void *
request_alloc(void *arena, size_t size)
{
	return arena_alloc_raw(arena, size);
}

static void
request_free(void *arena, void *ptr)
{
	(void)arena;
	(void)ptr;
}

/* Budgets over ten years are taken as ten years (no overflow). */
#define PIPELINE_BUDGET_MAX_MS (10LL * 366 * 24 * 3600 * 1000)

/* deadline_of turns the envelope's time budget into a deadline on the
 * monotonic clock, counted from `arrived_ms`: timeout_ms as it is; an
 * absolute deadline_unix_ms (older callers) against this host's wall
 * clock, now. 0: none. */
static int64_t
deadline_of(const Exe__Access__V1__RpcRequest *env, int64_t arrived_ms)
{
	int64_t budget;
	if (env->timeout_ms > 0)
		budget = env->timeout_ms;
	else if (env->deadline_unix_ms > 0)
		budget = env->deadline_unix_ms - clock_wall_ms();
	else
		return 0;
	if (budget > PIPELINE_BUDGET_MAX_MS)
		budget = PIPELINE_BUDGET_MAX_MS;
	int64_t at = arrived_ms + budget;
	return at > 0 ? at : 1; /* spent already: any past instant */
}

/* The fields the prologue flags name, found through the descriptor. */
static const ProtobufCFieldDescriptor *
pipeline_field(const struct method *m, const char *name,
    ProtobufCType type)
{
	const ProtobufCFieldDescriptor *f =
	    protobuf_c_message_descriptor_get_field_by_name(m->request, name);
	if (f == NULL || f->type != type ||
	    f->label == PROTOBUF_C_LABEL_REPEATED ||
	    (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
		return NULL;
	return f;
}

/* pipeline_items_field is the one repeated message field of the request
 * of a METHOD_ITEMS row; NULL when there is not exactly one. */
static const ProtobufCFieldDescriptor *
pipeline_items_field(const struct method *m)
{
	const ProtobufCFieldDescriptor *found = NULL;
	for (unsigned i = 0; i < m->request->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &m->request->fields[i];
		if (f->label != PROTOBUF_C_LABEL_REPEATED ||
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (found != NULL)
			return NULL;
		found = f;
	}
	return found;
}

/* What pipeline_text_cb gathers: the first fault outside the items, and
 * (for METHOD_ITEMS) each item's. */
struct pipeline_text {
	struct call *call;
	const ProtobufCFieldDescriptor *items; /* NULL: none answered alone */
	size_t n_items;
	bool failed;
};

static bool
pipeline_text_cb(void *arg, const struct wiretext_fault *f)
{
	struct pipeline_text *t = arg;
	struct call *call = t->call;
	if (t->items == NULL || f->top_field != t->items->id ||
	    f->top_index >= t->n_items) {
		call_fail(call, STATUS_INVALID_ARGUMENT, "%s: %s", f->path,
		    f->what);
		t->failed = true;
		return false;
	}
	if (call->item_faults == NULL) {
		call->item_faults =
		    call_new(call, sizeof *call->item_faults * t->n_items);
		if (call->item_faults == NULL) {
			call_fail(call, STATUS_INTERNAL, "out of memory");
			t->failed = true;
			return false;
		}
		call->n_item_faults = t->n_items;
	}
	char text[sizeof call->message];
	snprintf(text, sizeof text, "%s: %s", f->path, f->what);
	call->item_faults[f->top_index] = call_strdup(call, text);
	return true;
}

/* pipeline_text checks every string of the unpacked request over its wire
 * length (wiretext.h): protobuf-c's copies end at the first NUL, which
 * would hide the rest of a value from every check after this one. */
static int
pipeline_text(struct call *call, const struct method *m,
    const ProtobufCBinaryData *body)
{
	struct pipeline_text t = {.call = call};
	if (m->flags & METHOD_ITEMS) {
		t.items = pipeline_items_field(m);
		if (t.items != NULL)
			memcpy(&t.n_items, (const char *)call->request +
			        t.items->quantifier_offset,
			    sizeof t.n_items);
	}
	wiretext_walk(m->request, body->data, body->len, pipeline_text_cb, &t);
	return t.failed ? call->code : STATUS_OK;
}

#define PIPELINE_FIELD(call, f, T) (*(T *)((char *)(call)->request + (f)->offset))

bool
method_prologue_check(const struct method *m, char *msg, size_t size)
{
	static const struct {
		unsigned flag;
		const char *field;
		ProtobufCType type;
	} need[] = {
	    {METHOD_ACTOR, "actor", PROTOBUF_C_TYPE_MESSAGE},
	    {METHOD_WORKSPACE, "workspace_id", PROTOBUF_C_TYPE_STRING},
	    {METHOD_PAGED, "page_size", PROTOBUF_C_TYPE_UINT32},
	    {METHOD_PAGED, "page_token", PROTOBUF_C_TYPE_STRING},
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		if ((m->flags & need[i].flag) &&
		    pipeline_field(m, need[i].field, need[i].type) == NULL) {
			snprintf(msg, size, "%s: its flags need a plain field "
			    "\"%s\" in %s", m->name, need[i].field,
			    m->request->name);
			return false;
		}
	}
	if ((m->flags & METHOD_ITEMS) && pipeline_items_field(m) == NULL) {
		snprintf(msg, size, "%s: METHOD_ITEMS needs one repeated "
		    "message field in %s", m->name, m->request->name);
		return false;
	}
	const ProtobufCFieldDescriptor *actor =
	    (m->flags & METHOD_ACTOR) ? pipeline_field(m, "actor",
	                                    PROTOBUF_C_TYPE_MESSAGE)
	                              : NULL;
	if (actor != NULL &&
	    actor->descriptor != &exe__access__v1__principal__descriptor) {
		snprintf(msg, size, "%s: its actor is not a Principal", m->name);
		return false;
	}
	return true;
}

/* pipeline_prologue runs, once, the checks the row's flags name, before
 * the method's own validate; the page size it keeps for the handler. */
static int
pipeline_prologue(struct call *call, const struct method *m)
{
	const ProtobufCFieldDescriptor *f;
	int rc = STATUS_OK;
	if ((m->flags & METHOD_ACTOR) &&
	    (f = pipeline_field(m, "actor", PROTOBUF_C_TYPE_MESSAGE)) != NULL)
		rc = validate_actor(
		    PIPELINE_FIELD(call, f, const Exe__Access__V1__Principal *),
		    call->message, sizeof call->message);
	if (rc == STATUS_OK && (m->flags & METHOD_WORKSPACE) &&
	    (f = pipeline_field(m, "workspace_id", PROTOBUF_C_TYPE_STRING)) !=
	        NULL)
		rc = validate_uuid("workspace_id",
		    PIPELINE_FIELD(call, f, const char *), true, call->message,
		    sizeof call->message);
	if (rc == STATUS_OK && (m->flags & METHOD_PAGED)) {
		f = pipeline_field(m, "page_size", PROTOBUF_C_TYPE_UINT32);
		if (f != NULL)
			rc = paging_size(call, PIPELINE_FIELD(call, f, uint32_t),
			    &call->page_size);
		f = pipeline_field(m, "page_token", PROTOBUF_C_TYPE_STRING);
		if (rc == STATUS_OK && f != NULL)
			rc = validate_text("page_token",
			    PIPELINE_FIELD(call, f, const char *),
			    LIMIT_PAGE_TOKEN, false, call->message,
			    sizeof call->message);
	}
	return rc;
}

enum pipeline_next
pipeline_begin(struct call *call, const uint8_t *buf, size_t len,
    size_t max_bytes)
{
	ProtobufCAllocator alloc = {request_alloc, request_free, &call->arena};
	Exe__Access__V1__RpcRequest *env;
	call->code = envelope_decode_with(buf, len, max_bytes, &alloc, &env,
	    call->message, sizeof call->message);
	call->envelope = env != NULL ? &env->base : NULL;
	if (call->code != STATUS_OK)
		return PIPELINE_REPLY;

	struct tokens *tokens = call->svc->tokens;
	if (tokens != NULL) {
		if (env->token[0] == '\0') {
			call_fail(call, STATUS_UNAUTHENTICATED,
			    "token: missing; every call carries the calling "
			    "service's token (RpcRequest.token)");
			return PIPELINE_REPLY;
		}
		if (!tokens_authenticate(tokens, env->token, &call->caller)) {
			call_fail(call, STATUS_UNAUTHENTICATED, "%s",
			    TOKENS_NOT_RECOGNIZED);
			return PIPELINE_REPLY;
		}
	}

	const struct method *m = method_lookup(call->svc->methods, env->method);
	if (m == NULL) {
		call_fail(call, STATUS_UNIMPLEMENTED,
		    "unknown method \"%s\" (methods are named like "
		    "exe.access.v1.AuthzService/Check)", env->method);
		return PIPELINE_REPLY;
	}
	call->method = m;
	if (tokens != NULL && !(m->flags & METHOD_CHECK_SCOPE) &&
	    call->caller.scope != TOKEN_SCOPE_ADMIN) {
		call_fail(call, STATUS_PERMISSION_DENIED,
		    "token \"%s\" has scope %s, which does not cover %s; it "
		    "needs an admin token", call->caller.name,
		    tokens_scope_name(call->caller.scope), m->name);
		return PIPELINE_REPLY;
	}
	if (m->handle == NULL) {
		call_fail(call, STATUS_UNIMPLEMENTED, "%s is not implemented yet",
		    m->name);
		return PIPELINE_REPLY;
	}
	if (tokens != NULL) {
		unsigned limit = call->svc->max_in_flight_per_caller;
		if (!tokens_acquire(tokens, &call->caller, limit)) {
			call_fail(call, STATUS_RESOURCE_EXHAUSTED,
			    "caller \"%s\" already has %u requests in flight, "
			    "its limit; wait for replies before sending more",
			    call->caller.name, limit);
			return PIPELINE_REPLY;
		}
		call->holds_slot = true;
	}
	call->deadline_ms = deadline_of(env, call->started_ns != 0
	        ? (int64_t)(call->started_ns / 1000000)
	        : clock_mono_ms());
	if (call_deadline_passed(call)) {
		call_fail(call, STATUS_DEADLINE_EXCEEDED,
		    "the request's deadline passed before it was served");
		return PIPELINE_REPLY;
	}
	call->request = protobuf_c_message_unpack(m->request, &alloc,
	    env->body.len, env->body.data);
	if (call->request == NULL) {
		call_fail(call, STATUS_INVALID_ARGUMENT,
		    "body: not a valid %s for %s", m->request->name, m->name);
		return PIPELINE_REPLY;
	}
	int rc = pipeline_text(call, m, &env->body);
	if (rc == STATUS_OK)
		rc = pipeline_prologue(call, m);
	if (rc != STATUS_OK) {
		call->code = rc;
		return PIPELINE_REPLY;
	}
	if (m->validate != NULL) {
		/* The validator's return decides, whatever it left in call. */
		rc = m->validate(call);
		if (rc != STATUS_OK) {
			call->code = rc;
			if (call->message[0] == '\0')
				snprintf(call->message, sizeof call->message,
				    "invalid request for %s", m->name);
			return PIPELINE_REPLY;
		}
	}
	if (m->fast != NULL) {
		rc = m->fast(call);
		if (rc != METHOD_MISS) {
			call->code = rc;
			return PIPELINE_REPLY;
		}
		/* Start the database path clean: the fast path may have
		 * allocated, but it answered nothing. */
		call->response = NULL;
		call->code = STATUS_OK;
		call->message[0] = '\0';
	}
	return PIPELINE_NEEDS_DB;
}

/* run_start prepares a call to be handled on `db`; false when it is
 * answered already (its deadline passed, or there is no database). */
static bool
run_start(struct call *call, PGconn *db)
{
	if (call_deadline_passed(call)) {
		call_fail(call, STATUS_DEADLINE_EXCEEDED,
		    "the request's deadline passed while it waited for a "
		    "database worker");
		return false;
	}
	if (db == NULL) {
		call_fail(call, STATUS_UNAVAILABLE,
		    "the database is unavailable; retry later");
		return false;
	}
	call->db = db;
	return true;
}

/* run_finish records the handler's status `rc`, with a message for the
 * caller when the handler left none. */
static void
run_finish(struct call *call, int rc)
{
	call->db = NULL;
	if (rc == STATUS_OK && call->response == NULL)
		rc = call_fail(call, STATUS_INTERNAL, "%s produced no response",
		    call->method->name);
	if (rc == STATUS_UNAVAILABLE && call->message[0] == '\0')
		call_fail(call, rc, "the database is unavailable; retry later");
	else if (rc == STATUS_ABORTED && call->message[0] == '\0')
		call_fail(call, rc,
		    "the change conflicted with concurrent changes; retry it");
	else if (rc == STATUS_DEADLINE_EXCEEDED && call->message[0] == '\0')
		call_fail(call, rc,
		    "the request's deadline passed while it ran: its statement "
		    "was cancelled%s", call->method->flags & METHOD_WRITES
		        ? " and nothing was changed"
		        : "");
	else if (rc == STATUS_INTERNAL && call->message[0] == '\0')
		call_fail(call, rc, "internal error in %s; see the service log",
		    call->method->name);
	call->code = rc;
}

void
pipeline_run(struct call *call, PGconn *db)
{
	if (run_start(call, db))
		run_finish(call, call->method->handle(call));
}

void
pipeline_run_many(struct call **calls, size_t n, PGconn *db)
{
	struct call *ready[PIPELINE_MANY_MAX];
	int rcs[PIPELINE_MANY_MAX];
	for (size_t start = 0; start < n; start += PIPELINE_MANY_MAX) {
		size_t k = 0;
		for (size_t i = start; i < n && i < start + PIPELINE_MANY_MAX;
		     i++) {
			if (run_start(calls[i], db))
				ready[k++] = calls[i];
		}
		if (k == 0)
			continue;
		ready[0]->method->handle_many(ready, k, rcs);
		for (size_t i = 0; i < k; i++)
			run_finish(ready[i], rcs[i]);
	}
}

static bool
retryable(const struct call *call, bool conn_lost)
{
	return call->code == STATUS_UNAVAILABLE && !call->in_doubt &&
	    conn_lost;
}

static void
reset_answer(struct call *call)
{
	call->code = STATUS_OK;
	call->message[0] = '\0';
	call->response = NULL;
}

enum pipeline_standby
pipeline_standby_result(struct call *call)
{
	enum pipeline_standby r = PIPELINE_ANSWERED;
	/* NOT_FOUND too: what the standby has not seen may be a write it has
	 * not replayed yet (a GetUser right after its CreateUser). */
	if (call->needs_primary || call->code == STATUS_ABORTED ||
	    call->code == STATUS_NOT_FOUND)
		r = PIPELINE_TO_PRIMARY;
	else if (call->code == STATUS_UNAVAILABLE)
		r = PIPELINE_STANDBY_FAILED;
	if (r != PIPELINE_ANSWERED) {
		reset_answer(call);
		call->on_replica = false;
		call->needs_primary = false;
	}
	return r;
}

bool
pipeline_retryable(struct call *call, bool conn_lost)
{
	if (!retryable(call, conn_lost))
		return false;
	reset_answer(call);
	return true;
}

bool
pipeline_retryable_many(struct call **calls, size_t n, bool conn_lost)
{
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (calls[i]->in_doubt)
			return false;
		any = any || retryable(calls[i], conn_lost);
	}
	if (any) {
		for (size_t i = 0; i < n; i++)
			reset_answer(calls[i]);
	}
	return any;
}

void
pipeline_reply(struct call *call, size_t max_bytes, struct envelope_reply *out)
{
	memset(out, 0, sizeof *out);
	const Exe__Access__V1__RpcRequest *env =
	    (const Exe__Access__V1__RpcRequest *)call->envelope;
	out->request_id = env != NULL ? env->request_id : NULL;
	if (call->code == STATUS_OK && call->response == NULL)
		call_fail(call, STATUS_INTERNAL, "%s produced no response",
		    call->method != NULL ? call->method->name : "the request");
	if (call->code == STATUS_OK) {
		size_t n = protobuf_c_message_get_packed_size(call->response);
		uint8_t *body = n <= max_bytes ? call_new(call, n) : NULL;
		if (n > max_bytes)
			call_fail(call, STATUS_RESOURCE_EXHAUSTED,
			    "the response would be %zu bytes, over the %zu-byte "
			    "limit; ask for a smaller page", n, max_bytes);
		else if (body == NULL)
			call_fail(call, STATUS_INTERNAL, "out of memory");
		else {
			out->body = body;
			out->body_len =
			    protobuf_c_message_pack(call->response, body);
		}
	}
	out->code = call->code;
	out->message = call->code == STATUS_OK ? "" : call->message;
}

void
pipeline_end(struct call *call)
{
	call_secrets_free(call);
	/* The request lives in the arena (see request_alloc): wiped always. */
	arena_wipe(&call->arena);
	if (call->holds_slot)
		tokens_release(call->svc->tokens, &call->caller);
	arena_reset(&call->arena);
	const struct service_ctx *svc = call->svc;
	memset(call, 0, offsetof(struct call, arena));
	call->svc = svc;
}
