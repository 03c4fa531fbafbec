/* One request on its way through the service: the decoded envelope and
 * body, the handler's response or error, and the memory both live in.
 * A call is owned by the server's work item that received it; handlers see
 * it and nothing else. */
#ifndef EXE_CALL_H
#define EXE_CALL_H

#include <libpq-fe.h>
#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "base/arena.h"
#include "rpc/tokens.h"
#include "rpc/validate.h"

struct cache;
struct call_secret;
struct method;
struct method_table;
struct tokens;

/* What every handler may read about the running service. */
struct service_ctx {
	/* The method table requests are dispatched by (dispatch.h). */
	const struct method_table *methods;
	/* The callers allowed in; NULL only in tools and tests that run the
	 * pipeline without authentication. */
	struct tokens *tokens;
	/* Key of the keyed hashes of secrets (sodium_malloc'd, read-only). */
	const unsigned char *hash_key;
	/* Key of the activity chain (sodium_malloc'd, read-only; not the
	 * hash key). */
	const unsigned char *activity_key;
	/* The authorization cache; NULL in tools that run without one. */
	struct cache *cache;
	/* Requests one caller may have in flight at once; 0: no limit. */
	unsigned max_in_flight_per_caller;
	/* Who may create organisations (--org-creators): when
	 * org_creators_listed, only the n_org_creators user ids (lower-case
	 * text) at org_creators; otherwise (the default) any user. */
	bool org_creators_listed;
	const char (*org_creators)[37];
	size_t n_org_creators;
};

struct call {
	const struct service_ctx *svc;
	const struct method *method;
	ProtobufCMessage *envelope; /* the unpacked RpcRequest */
	ProtobufCMessage *request;  /* the unpacked method request */
	ProtobufCMessage *response; /* set by the handler on success */
	/* What the method's validate read out of the request for its fast
	 * path and handler (in the arena, method-specific); may be NULL. */
	const void *parsed;
	uint32_t page_size;         /* METHOD_PAGED: the page size asked for */
	/* METHOD_ITEMS: for each element of the repeated field, why its text
	 * is not fit ("checks[3].permission: contains a NUL byte"), or NULL;
	 * n_item_faults elements (0 and NULL when every one is fit). */
	char **item_faults;
	size_t n_item_faults;
	PGconn *db;                 /* set while running on a database worker */
	/* When the request's time budget runs out, on the monotonic clock
	 * (clock_mono_ms); 0: none. See call_deadline_passed. */
	int64_t deadline_ms;
	uint64_t started_ns;        /* monotonic, when the request arrived */
	struct call_secret *secrets; /* see call_secret */
	struct caller caller;       /* who called (when tokens are on) */
	bool holds_slot;               /* holds one of the caller's in-flight slots */
	bool in_doubt;              /* a commit was lost: never run it again */
	/* Read replicas (store/replicas.h). The newest revision the call
	 * asks its answer to reflect (at_least_as_fresh; its validate sets
	 * it), so that it goes only to a standby that has applied it. */
	uint64_t at_least_as_fresh;
	bool on_replica;   /* db is a hot standby's connection */
	bool needs_primary; /* on a standby: must be run on the primary */
	int code;
	char message[512];
	/* Response memory, freed when the reply is packed. Keep it last:
	 * pipeline_end zeroes everything before it. */
	struct arena arena;
};

/* call_fail records an error for the reply and returns `code`, so handlers
 * can write `return call_fail(call, STATUS_NOT_FOUND, "user %s ...", id);` */
int call_fail(struct call *call, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* call_not_fresh answers a call whose read reflects revision `have`, older
 * than the `want` it asked for: on the primary, FAILED_PRECONDITION (the
 * revision has not been written); on a standby, which may just not have
 * applied it yet, the call is marked to run on the primary instead
 * (needs_primary) and UNAVAILABLE returned. */
int call_not_fresh(struct call *call, uint64_t want, uint64_t have);

/* call_deadline_passed says whether the call's time budget is spent. */
bool call_deadline_passed(const struct call *call);

/* call_new allocates a zeroed object of `size` bytes in the call's arena;
 * NULL when out of memory. */
void *call_new(struct call *call, size_t size);

/* call_strdup copies `s` into the call's arena ("" for NULL). */
char *call_strdup(struct call *call, const char *s);

/* call_secret returns `size` zeroed bytes of guarded memory (sodium_malloc)
 * for a secret the response carries, or NULL when out of memory. The call
 * owns it: pipeline_end wipes and frees it (call_secrets_free), and wipes
 * the arena the reply was packed in. Each request returns memory of its
 * own, of the size asked, also when the same handler runs again. */
char *call_secret(struct call *call, size_t size);

/* call_secrets_free wipes and frees every buffer call_secret handed out for
 * this call; call it before the arena is reset (the list lives there). */
void call_secrets_free(struct call *call);

/* call_response allocates, in the arena, an empty message of the type the
 * call's method answers with (its row's response descriptor) and makes it
 * call->response; NULL when out of memory. */
ProtobufCMessage *call_response(struct call *call);

/* CALL_MSG allocates a protobuf-c message of TYPE in the arena and runs its
 * INIT function; evaluates to NULL when out of memory. */
#define CALL_MSG(call, TYPE, init)                                            \
	__extension__({                                                       \
		TYPE *m_ = call_new((call), sizeof(TYPE));                    \
		if (m_ != NULL)                                               \
			init(m_);                                             \
		m_;                                                           \
	})

#endif
