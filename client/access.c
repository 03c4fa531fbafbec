/* libexeaccess: envelopes over an nng req0 socket. Each call borrows an
 * nng context and aio from a small per-client pool (opening a fresh pair
 * when the pool is empty) and gives it back after a clean round trip; a
 * pair whose call failed is closed, so no late reply can meet a later
 * call. */
#include "exe/access.h"
#include "exe/access_raw.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <sodium.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/decide.h"
#include "base/perms.h"
#include "base/secrets.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "local_cache.h"
#include "local_feed.h"

enum {
	DEFAULT_TIMEOUT_MS = 5000,
	MAX_ENDPOINTS = 16,
	/* Idle context+aio pairs a client keeps; beyond, they are closed. */
	SLOTS_IDLE_MAX = 64,
	/* Request bodies up to this size are packed on the stack. */
	BODY_STACK_MAX = 512,
};

/* A call slot: an nng context and the aio that drives it. Free slots wait
 * on the client's idle list. */
struct call_slot {
	nng_ctx ctx;
	nng_aio *aio;
	struct call_slot *next;
};

struct exa_client {
	nng_socket sock;
	bool sock_open;
	char *token;
	int timeout_ms;
	char urls[512];
	nng_mtx *slots_lock;
	struct call_slot *idle; /* under slots_lock */
	unsigned n_idle;        /* under slots_lock */
	/* Request ids come from this counter (see next_request_id). */
	_Atomic uint64_t id_counter;
	/* The local cache and the thread that follows the change log for it
	 * (NULL: off). */
	struct local_cache *lc;
	struct local_feed *feed;
	/* API keys are kept by a digest of the secret keyed with this
	 * (random per client), never by the secret. */
	unsigned char digest_key[crypto_generichash_KEYBYTES];
};

static exa_status fail(exa_error *err, exa_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static exa_status
fail(exa_error *err, exa_status code, const char *fmt, ...)
{
	if (err != NULL) {
		err->code = code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *
exa_status_name(int code)
{
	switch (code) {
	case EXA_OK: return "OK";
	case EXA_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
	case EXA_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
	case EXA_NOT_FOUND: return "NOT_FOUND";
	case EXA_ALREADY_EXISTS: return "ALREADY_EXISTS";
	case EXA_PERMISSION_DENIED: return "PERMISSION_DENIED";
	case EXA_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
	case EXA_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
	case EXA_ABORTED: return "ABORTED";
	case EXA_UNIMPLEMENTED: return "UNIMPLEMENTED";
	case EXA_INTERNAL: return "INTERNAL";
	case EXA_UNAVAILABLE: return "UNAVAILABLE";
	case EXA_UNAUTHENTICATED: return "UNAUTHENTICATED";
	}
	return "UNKNOWN";
}

enum { EXA_TLS_REFUSED = -1 };

/* dial_tls dials a tls+tcp:// URL verifying the server against the
 * options' CA file; returns an nng error, or EXA_TLS_REFUSED with `err`
 * set when the options do not allow it. */
static int
dial_tls(exa_client *c, const char *url, const exa_client_options *opts,
    exa_error *err)
{
	if (opts == NULL || opts->tls_ca_file == NULL) {
		fail(err, EXA_INVALID_ARGUMENT,
		    "tls_ca_file: required for %s (the server is verified)", url);
		return EXA_TLS_REFUSED;
	}
	nng_url *u = NULL;
	nng_dialer d;
	nng_tls_config *cfg = NULL;
	int rv = nng_url_parse(&u, url);
	if (rv == 0)
		rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0 && (rv = nng_tls_config_ca_file(cfg, opts->tls_ca_file)) != 0) {
		fail(err, EXA_INVALID_ARGUMENT, "tls_ca_file: cannot use %s: %s",
		    opts->tls_ca_file, nng_strerror(rv));
		rv = EXA_TLS_REFUSED;
	}
	if (rv == 0)
		rv = nng_tls_config_server_name(cfg,
		    opts->tls_server_name != NULL ? opts->tls_server_name
		                                  : u->u_hostname);
	if (rv == 0)
		rv = nng_dialer_create(&d, c->sock, url);
	if (rv == 0)
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	if (rv == 0)
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the dialer holds its own reference */
	nng_url_free(u);
	return rv;
}

/* slot_free closes a slot's aio, then its context, and frees it. */
static void
slot_free(struct call_slot *slot)
{
	nng_aio_free(slot->aio);
	nng_ctx_close(slot->ctx);
	free(slot);
}

/* client_free frees a client, whole or half-built by exa_client_open. */
static void
client_free(exa_client *c)
{
	/* The feed calls the service through this client: first. */
	local_feed_stop(c->feed);
	c->feed = NULL;
	while (c->idle != NULL) {
		struct call_slot *slot = c->idle;
		c->idle = slot->next;
		slot_free(slot);
	}
	if (c->sock_open)
		nng_close(c->sock);
	if (c->slots_lock != NULL)
		nng_mtx_free(c->slots_lock);
	local_cache_free(c->lc);
	sodium_memzero(c->digest_key, sizeof c->digest_key);
	free(c->token);
	free(c);
}

/* The most entries a local cache may be asked for (the service's own
 * --cache-size has the same bound): its table is sized up front. */
enum { LOCAL_CACHE_MAX_ENTRIES = 50000000 };

/* options_check refuses options that cannot work, naming the field. */
static exa_status
options_check(const exa_client_options *o, exa_error *err)
{
	if (o == NULL)
		return EXA_OK;
	if (o->timeout_ms < 0)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "timeout_ms: %d is negative (0: the default, 5000)",
		    o->timeout_ms);
	if (o->local_cache_entries > LOCAL_CACHE_MAX_ENTRIES)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "local_cache_entries: %zu is over the limit of %d",
		    o->local_cache_entries, LOCAL_CACHE_MAX_ENTRIES);
	if (o->local_cache_max_staleness_ms < 0)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "local_cache_max_staleness_ms: %d is negative (0: the "
		    "default, 1000)", o->local_cache_max_staleness_ms);
	if (o->local_cache_poll_ms < 0)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "local_cache_poll_ms: %d is negative (0: the default, 100)",
		    o->local_cache_poll_ms);
	if (o->local_cache_entries == 0) {
		if (o->local_cache_subscribe != NULL)
			return fail(err, EXA_INVALID_ARGUMENT,
			    "local_cache_subscribe: the local cache is off "
			    "(local_cache_entries is 0)");
		return EXA_OK;
	}
	int staleness = o->local_cache_max_staleness_ms > 0
	    ? o->local_cache_max_staleness_ms
	    : 1000;
	int poll = o->local_cache_poll_ms > 0 ? o->local_cache_poll_ms : 100;
	/* A quiet log sends no hints: the feed then reads it every poll, and
	 * a bound no longer than that would stop the cache between reads. */
	if (poll >= staleness)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "local_cache_poll_ms: %d must be less than "
		    "local_cache_max_staleness_ms (%d)", poll, staleness);
	if (o->local_cache_subscribe != NULL &&
	    strncmp(o->local_cache_subscribe, "tls+", 4) == 0)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "local_cache_subscribe: \"%s\": the service publishes on "
		    "ipc:// or tcp:// only", o->local_cache_subscribe);
	return EXA_OK;
}

exa_status
exa_client_open(const char *urls, const char *token,
    const exa_client_options *opts, exa_client **out, exa_error *err)
{
	if (urls == NULL || urls[0] == '\0')
		return fail(err, EXA_INVALID_ARGUMENT, "url: is required");
	exa_status bad = options_check(opts, err);
	if (bad != EXA_OK)
		return bad;
	if (strlen(urls) >= sizeof ((exa_client *)0)->urls)
		return fail(err, EXA_INVALID_ARGUMENT, "url: too long");
	exa_client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return fail(err, EXA_INTERNAL, "out of memory");
	c->timeout_ms = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms
	                                                     : DEFAULT_TIMEOUT_MS;
	c->token = strdup(token != NULL ? token : "");
	snprintf(c->urls, sizeof c->urls, "%s", urls);
	atomic_init(&c->id_counter,
	    (uint64_t)nng_random() << 32 | (uint64_t)nng_random());
	int rv = nng_mtx_alloc(&c->slots_lock);
	if (rv == 0 && (rv = nng_req0_open(&c->sock)) == 0)
		c->sock_open = true;
	if (c->token == NULL || rv != 0) {
		client_free(c);
		return fail(err, EXA_INTERNAL, "cannot open a socket: %s",
		    nng_strerror(rv));
	}
	/* Reconnect quickly after a server restart. Requests are not resent
	 * automatically: a write must not be applied twice behind the
	 * caller's back, so the caller decides what to retry. */
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);

	char list[sizeof c->urls];
	snprintf(list, sizeof list, "%s", urls);
	char *save = NULL;
	int dialers = 0;
	for (char *u = strtok_r(list, ",", &save); u != NULL;
	     u = strtok_r(NULL, ",", &save)) {
		/* Non-blocking: the dialer keeps trying in the background, and
		 * a call waits (within its timeout) for a connection. */
		rv = strncmp(u, "tls+", 4) == 0 ? dial_tls(c, u, opts, err)
		                                 : nng_dial(c->sock, u, NULL,
		                                       NNG_FLAG_NONBLOCK);
		if (rv == EXA_TLS_REFUSED) {
			client_free(c);
			return err != NULL ? err->code : EXA_INVALID_ARGUMENT;
		}
		if (rv != 0 || ++dialers > MAX_ENDPOINTS) {
			client_free(c);
			return fail(err, EXA_INVALID_ARGUMENT,
			    rv != 0 ? "url: cannot dial \"%s\": %s"
			            : "url: at most 16 endpoints (\"%s\")",
			    u, nng_strerror(rv));
		}
	}
	if (dialers == 0) {
		client_free(c);
		return fail(err, EXA_INVALID_ARGUMENT,
		    "url: \"%s\" names no endpoint", urls);
	}
	if (opts != NULL && opts->local_cache_entries > 0) {
		long staleness = opts->local_cache_max_staleness_ms > 0
		    ? opts->local_cache_max_staleness_ms
		    : 1000;
		int poll = opts->local_cache_poll_ms > 0 ? opts->local_cache_poll_ms
		                                         : 100;
		/* A read of the log that takes longer than the bound is of
		 * no use: the cache has stopped answering by then. */
		int call_ms = c->timeout_ms < staleness ? c->timeout_ms
		                                        : (int)staleness;
		if (sodium_init() < 0) {
			client_free(c);
			return fail(err, EXA_INTERNAL, "libsodium cannot start");
		}
		randombytes_buf(c->digest_key, sizeof c->digest_key);
		if (local_cache_new(&c->lc, opts->local_cache_entries,
		        staleness) != 0) {
			client_free(c);
			return fail(err, EXA_INTERNAL, "out of memory");
		}
		if (local_feed_start(&c->feed, c, c->lc,
		        opts->local_cache_subscribe, poll, call_ms, err) != 0) {
			exa_status code = err != NULL ? err->code : EXA_INTERNAL;
			client_free(c);
			return code;
		}
	}
	*out = c;
	return EXA_OK;
}

void
exa_client_cache_stats(exa_client *c, exa_cache_stats *out)
{
	memset(out, 0, sizeof *out);
	if (c == NULL || c->lc == NULL)
		return;
	struct local_cache_stats st;
	local_cache_stats(c->lc, &st);
	out->enabled = true;
	out->answering = local_cache_usable(c->lc, 0);
	out->hits = st.hits;
	out->misses = st.misses;
	out->entries = st.entries;
	out->evictions = st.evictions;
	out->resyncs = st.resyncs;
	out->feed_errors = local_feed_errors(c->feed);
	out->applied_revision = st.applied;
	out->feed_lag_ms = local_cache_sync_age_ms(c->lc);
}

void
exa_client_close(exa_client *c)
{
	if (c != NULL)
		client_free(c);
}

void
exa_free(void *response)
{
	if (response != NULL)
		protobuf_c_message_free_unpacked(response, NULL);
}

/* transport_fail maps an nng error onto a status for the caller. */
static exa_status
transport_fail(exa_client *c, exa_error *err, int rv, int timeout_ms,
    const char *method)
{
	if (rv == NNG_ETIMEDOUT)
		return fail(err, EXA_DEADLINE_EXCEEDED,
		    "%s: no reply from %s within %d ms", method, c->urls,
		    timeout_ms);
	return fail(err, EXA_UNAVAILABLE, "%s: %s: %s", method, c->urls,
	    nng_strerror(rv));
}

/* slot_take gives the caller an idle slot of `c`, or opens a new one when
 * none is idle. */
static int
slot_take(exa_client *c, struct call_slot **out)
{
	nng_mtx_lock(c->slots_lock);
	struct call_slot *slot = c->idle;
	if (slot != NULL) {
		c->idle = slot->next;
		c->n_idle--;
	}
	nng_mtx_unlock(c->slots_lock);
	if (slot == NULL) {
		if ((slot = malloc(sizeof *slot)) == NULL)
			return NNG_ENOMEM;
		int rv = nng_ctx_open(&slot->ctx, c->sock);
		if (rv == 0 &&
		    (rv = nng_aio_alloc(&slot->aio, NULL, NULL)) != 0)
			nng_ctx_close(slot->ctx);
		if (rv != 0) {
			free(slot);
			return rv;
		}
	}
	*out = slot;
	return 0;
}

/* slot_give puts back a slot whose round trip completed, or closes it when
 * enough are idle already. */
static void
slot_give(exa_client *c, struct call_slot *slot)
{
	nng_mtx_lock(c->slots_lock);
	bool keep = c->n_idle < SLOTS_IDLE_MAX;
	if (keep) {
		slot->next = c->idle;
		c->idle = slot;
		c->n_idle++;
	}
	nng_mtx_unlock(c->slots_lock);
	if (!keep)
		slot_free(slot);
}

/* round_trip sends `req` on a pooled context and waits for the reply, all
 * within `timeout_ms` in total: nng starts a relative timeout afresh for
 * each operation, so the receive gets only what the send left. The slot
 * goes back to the pool only after a reply; after a timeout, a
 * cancellation or a transport error it is closed, so that nothing of this
 * request can reach a later call. */
static int
round_trip(exa_client *c, nng_msg *req, int timeout_ms, nng_msg **reply)
{
	struct call_slot *slot;
	int rv = slot_take(c, &slot);
	if (rv != 0) {
		nng_msg_free(req);
		return rv;
	}
	nng_aio *aio = slot->aio;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, req);
	nng_ctx_send(slot->ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
	} else {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
		long left = timeout_ms - spent;
		nng_aio_set_timeout(aio, left > 0 ? (nng_duration)left : 1);
		nng_ctx_recv(slot->ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
		if (rv == 0)
			*reply = nng_aio_get_msg(aio);
	}
	if (rv == 0)
		slot_give(c, slot);
	else
		slot_free(slot);
	return rv;
}

/* next_request_id writes the next request id of `c` into out[17]: 16 hex
 * digits. The ids look random (a splitmix64 step over a counter that
 * exa_client_open starts at random) and never repeat within a client, at
 * no system call per request (nng_random asks the kernel each time). */
static void
next_request_id(exa_client *c, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const uint64_t gamma = 0x9e3779b97f4a7c15u;
	uint64_t z = gamma + atomic_fetch_add_explicit(
	                         &c->id_counter, gamma, memory_order_relaxed);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	z ^= z >> 31;
	for (int i = 15; i >= 0; i--, z >>= 4)
		out[i] = hex[z & 0xf];
	out[16] = '\0';
}

/* Responses are unpacked into an arena (base/arena.h, the one the
 * service uses for its requests): its first kilobyte lives inside the
 * arena itself, on the caller's stack, and nothing is freed field by
 * field. */
static void *
client_arena_alloc(void *data, size_t n)
{
	return arena_alloc_raw(data, n);
}

static void
client_arena_free(void *data, void *p)
{
	(void)data;
	(void)p;
}

#define ARENA_ALLOCATOR(a)                                                     \
	{                                                                      \
		.alloc = client_arena_alloc, .free = client_arena_free,        \
		.allocator_data = (a)                                          \
	}

/* copy_text copies `src` into dst[size] as snprintf("%s") would:
 * truncated to fit, always terminated. */
static void
copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src != NULL ? strnlen(src, size - 1) : 0;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* client_call is exa_client_call with the allocator to unpack the response
 * with (NULL: malloc, which exa_free expects). */
static exa_status
client_call(exa_client *c, const char *method, const ProtobufCMessage *request,
    const ProtobufCMessageDescriptor *response_type, int timeout_ms,
    ProtobufCAllocator *allocator, ProtobufCMessage **response, exa_error *err)
{
	if (c == NULL || method == NULL || request == NULL ||
	    response_type == NULL || response == NULL)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "exa_client_call: client, method, request, response type "
		    "and response are required");
	if (timeout_ms <= 0)
		timeout_ms = c->timeout_ms;

	/* A small body (a check's is ~100 bytes) is packed on the stack. */
	uint8_t body_space[BODY_STACK_MAX];
	size_t body_len = protobuf_c_message_get_packed_size(request);
	uint8_t *body =
	    body_len <= sizeof body_space ? body_space : malloc(body_len);
	if (body == NULL)
		return fail(err, EXA_INTERNAL, "out of memory");
	protobuf_c_message_pack(request, body);

	char request_id[17];
	next_request_id(c, request_id);
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	env.method = (char *)method;
	env.body.data = body;
	env.body.len = body_len;
	env.request_id = request_id;
	/* The budget, not a deadline: the service counts it from arrival on
	 * its own clock, so no skew between the hosts can shorten it. */
	env.timeout_ms = timeout_ms;
	env.token = c->token;

	nng_msg *msg;
	size_t len = exe__access__v1__rpc_request__get_packed_size(&env);
	int rv = nng_msg_alloc(&msg, len);
	if (rv == 0)
		exe__access__v1__rpc_request__pack(&env, nng_msg_body(msg));
	if (body != body_space)
		free(body);
	if (rv != 0)
		return fail(err, EXA_INTERNAL, "out of memory");

	nng_msg *reply = NULL;
	rv = round_trip(c, msg, timeout_ms, &reply);
	if (rv != 0)
		return transport_fail(c, err, rv, timeout_ms, method);

	/* The envelope lives only until its body is unpacked. */
	struct arena envelope;
	arena_init(&envelope);
	ProtobufCAllocator envelope_alloc = ARENA_ALLOCATOR(&envelope);
	Exe__Access__V1__RpcResponse *resp =
	    exe__access__v1__rpc_response__unpack(
	        &envelope_alloc, nng_msg_len(reply), nng_msg_body(reply));
	nng_msg_free(reply);
	exa_status code = resp != NULL ? (exa_status)resp->code : EXA_INTERNAL;
	if (resp == NULL)
		fail(err, code,
		    "%s: the reply is not an exe.access.v1.RpcResponse",
		    method);
	else if (code != EXA_OK)
		fail(err, code, "%s", resp->message);
	else
		*response = protobuf_c_message_unpack(
		    response_type, allocator, resp->body.len, resp->body.data);
	arena_reset(&envelope);
	if (code != EXA_OK)
		return code;
	if (*response == NULL)
		return fail(err, EXA_INTERNAL, "%s: the reply's body is not a %s",
		    method, response_type->name);
	return EXA_OK;
}

static const char LIST_PERMISSIONS[] =
    "exe.access.v1.AuthzService/ListPermissions";

static bool local_decide(exa_client *c, const char *user_id,
    const char *permission, const char *workspace_id, uint64_t revision,
    exa_decision *d);
static bool local_decide_key(exa_client *c, const char *secret,
    const char *permission, const char *workspace_id, uint64_t revision,
    exa_decision *d);

/* local_permissions answers a ListPermissions in a workspace from the
 * local cache, as the service would: it decides the service's probe
 * (workspace.view) from what is known of the user or the API key, and
 * with a standing lists what its role holds in table order (for a key,
 * without the management permissions, which no key has); without one,
 * no role and nothing. The response is built by packing and unpacking,
 * so that exa_free frees it like any other. False when the cache cannot
 * answer. */
static bool
local_permissions(exa_client *c,
    const Exe__Access__V1__ListPermissionsRequest *req,
    ProtobufCMessage **response)
{
	const Exe__Access__V1__Principal *p = req->principal;
	if (p == NULL || req->resource != NULL || req->workspace_id == NULL)
		return false;
	bool key = p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
	exa_decision probe;
	if (key ? p->api_key == NULL ||
	            !local_decide_key(c, p->api_key, "workspace.view",
	                req->workspace_id, req->at_least_as_fresh, &probe)
	        : p->kind_case != EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID ||
	            !local_decide(c, p->user_id, "workspace.view",
	                req->workspace_id, req->at_least_as_fresh, &probe))
		return false;
	Exe__Access__V1__ListPermissionsResponse resp =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_RESPONSE__INIT;
	char *names[128];
	if (probe.allowed || probe.role != EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED) {
		resp.role = probe.role;
		for (size_t i = 0; i < perms_count && i < 128; i++)
			if (perms_role_has((enum role)probe.role, &perms_all[i]) &&
			    !(key && perms_all[i].management))
				names[resp.n_permissions++] =
				    (char *)perms_all[i].name;
	}
	resp.permissions = names;
	resp.revision = probe.revision;
	size_t len = exe__access__v1__list_permissions_response__get_packed_size(
	    &resp);
	uint8_t buf[4096];
	if (len > sizeof buf)
		return false;
	exe__access__v1__list_permissions_response__pack(&resp, buf);
	*response = protobuf_c_message_unpack(
	    &exe__access__v1__list_permissions_response__descriptor, NULL, len,
	    buf);
	return *response != NULL;
}

/* local_learn_permissions keeps the role a ListPermissions answer gave a
 * user in a workspace, if the table gives that role exactly the
 * permissions listed. */
static void
local_learn_permissions(exa_client *c,
    const Exe__Access__V1__ListPermissionsRequest *req,
    const Exe__Access__V1__ListPermissionsResponse *resp)
{
	const Exe__Access__V1__Principal *p = req->principal;
	unsigned char user[16], ws[16];
	if (p == NULL || p->kind_case != EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID ||
	    req->resource != NULL || req->workspace_id == NULL ||
	    resp->role == EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED ||
	    !local_cache_uuid(p->user_id, user) ||
	    !local_cache_uuid(req->workspace_id, ws))
		return;
	enum role role = (enum role)resp->role;
	size_t k = 0;
	for (size_t i = 0; i < perms_count; i++) {
		if (!perms_role_has(role, &perms_all[i]))
			continue;
		if (k >= resp->n_permissions ||
		    strcmp(resp->permissions[k], perms_all[i].name) != 0)
			return;
		k++;
	}
	if (k != resp->n_permissions)
		return;
	struct local_membership m = {true, role};
	local_cache_put_membership(c->lc, user, ws, &m, resp->revision);
}

exa_status
exa_client_call(exa_client *c, const char *method,
    const ProtobufCMessage *request,
    const ProtobufCMessageDescriptor *response_type, int timeout_ms,
    ProtobufCMessage **response, exa_error *err)
{
	bool permissions = c != NULL && c->lc != NULL && method != NULL &&
	    request != NULL &&
	    request->descriptor ==
	        &exe__access__v1__list_permissions_request__descriptor &&
	    response_type ==
	        &exe__access__v1__list_permissions_response__descriptor &&
	    strcmp(method, LIST_PERMISSIONS) == 0;
	if (permissions &&
	    local_permissions(c, (const void *)request, response))
		return EXA_OK;
	exa_status rc = client_call(
	    c, method, request, response_type, timeout_ms, NULL, response, err);
	if (permissions && rc == EXA_OK)
		local_learn_permissions(c, (const void *)request,
		    (const void *)*response);
	return rc;
}

/* local_decide decides a user's check in a workspace from the local
 * cache, as the service would (base/decide.h, the same code); false when
 * the cache cannot answer it (off, stale, older than `revision`, not
 * known, or input the service must judge). */
static bool
local_decide(exa_client *c, const char *user_id, const char *permission,
    const char *workspace_id, uint64_t revision, exa_decision *d)
{
	if (c->lc == NULL || !local_cache_usable(c->lc, revision))
		return false;
	unsigned char user[16], ws[16];
	const struct permission *perm = perms_find(permission);
	if (perm == NULL || !local_cache_uuid(user_id, user) ||
	    !local_cache_uuid(workspace_id, ws))
		return false;
	struct local_membership m;
	uint64_t rev;
	if (!local_cache_get_membership(c->lc, user, ws, revision, &m, &rev))
		return false;
	struct standing st = {
	    .workspace_exists = m.workspace_exists, .role = m.role};
	struct decision dec;
	decide_user(user_id, workspace_id, &st, perm, &dec);
	d->allowed = dec.allowed;
	d->role = (Exe__Access__V1__Role)dec.role;
	d->revision = rev;
	copy_text(d->reason, sizeof d->reason, dec.reason);
	return true;
}

/* local_learn keeps what the service's answer to a user's check in a
 * workspace says of their standing: the role, or, without one, whether
 * the workspace exists, told apart by the reason. It is kept only if
 * deciding from it gives the service's answer word for word, so a local
 * answer always reads as the service's would. */
static void
local_learn(exa_client *c, const char *user_id, const char *permission,
    const char *workspace_id, const Exe__Access__V1__CheckResponse *resp)
{
	unsigned char user[16], ws[16];
	const struct permission *perm = perms_find(permission);
	if (c->lc == NULL || perm == NULL || !local_cache_uuid(user_id, user) ||
	    !local_cache_uuid(workspace_id, ws) ||
	    (resp->workspace_id[0] != '\0' &&
	        strcmp(resp->workspace_id, workspace_id) != 0))
		return;
	struct local_membership cands[2];
	size_t n = 0;
	if (resp->role != EXE__ACCESS__V1__ROLE__ROLE_UNSPECIFIED) {
		cands[n++] = (struct local_membership){true, (enum role)resp->role};
	} else {
		cands[n++] = (struct local_membership){false, ROLE_NONE};
		cands[n++] = (struct local_membership){true, ROLE_NONE};
	}
	for (size_t i = 0; i < n; i++) {
		struct standing st = {.workspace_exists =
		                          cands[i].workspace_exists,
		    .role = cands[i].role};
		struct decision dec;
		decide_user(user_id, workspace_id, &st, perm, &dec);
		if (dec.allowed == resp->allowed &&
		    (Exe__Access__V1__Role)dec.role == resp->role &&
		    strcmp(dec.reason, resp->reason) == 0) {
			local_cache_put_membership(c->lc, user, ws, &cands[i],
			    resp->revision);
			return;
		}
	}
}

/* A key learned from VerifyApiKey is asked again after this long, which
 * is also how often the service records a key's last use. */
enum { LOCAL_KEY_TTL_MS = 60000 };

/* local_key_digest is the keyed digest a key is kept by. */
static void
local_key_digest(const exa_client *c, const char *secret, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)secret,
	    strlen(secret), c->digest_key, sizeof c->digest_key);
}

/* local_decide_key is local_decide for an API key in a workspace. */
static bool
local_decide_key(exa_client *c, const char *secret, const char *permission,
    const char *workspace_id, uint64_t revision, exa_decision *d)
{
	if (c->lc == NULL || !local_cache_usable(c->lc, revision))
		return false;
	unsigned char ws[16], digest[32];
	const struct permission *perm = perms_find(permission);
	if (perm == NULL || !local_cache_uuid(workspace_id, ws) ||
	    !secret_well_formed(SECRET_API_KEY, secret, strlen(secret)))
		return false;
	local_key_digest(c, secret, digest);
	struct local_key k;
	uint64_t rev;
	bool hit = local_cache_get_key(c->lc, digest, revision, &k, &rev);
	sodium_memzero(digest, sizeof digest);
	if (!hit || clock_mono_ms() - k.learned_ms > LOCAL_KEY_TTL_MS)
		return false;
	struct key_standing ks = {.found = true, .read_only = k.read_only,
	    .expires_ms = k.expires_ms};
	memcpy(ks.key_id, k.key_id, sizeof ks.key_id);
	memcpy(ks.workspace_id, k.workspace_id, sizeof ks.workspace_id);
	struct decision dec;
	decide_key(&ks, workspace_id, perm, clock_wall_ms(), &dec);
	d->allowed = dec.allowed;
	d->role = (Exe__Access__V1__Role)dec.role;
	d->revision = rev;
	copy_text(d->reason, sizeof d->reason, dec.reason);
	return true;
}

/* local_learn_key asks the service about a key (VerifyApiKey) whose check
 * it has just answered, and keeps it if it is the workspace's current
 * key (one in its grace period ends at a time the two hosts' clocks may
 * not agree on) and deciding from it gives the service's answer word for
 * word. */
static void
local_learn_key(exa_client *c, const char *secret, const char *permission,
    const char *workspace_id, const Exe__Access__V1__CheckResponse *resp)
{
	const struct permission *perm = perms_find(permission);
	if (c->lc == NULL || perm == NULL ||
	    !secret_well_formed(SECRET_API_KEY, secret, strlen(secret)))
		return;
	/* Known already (another item of the batch taught it)? */
	exa_decision known;
	if (local_decide_key(c, secret, permission, workspace_id, 0, &known))
		return;
	Exe__Access__V1__VerifyApiKeyRequest req =
	    EXE__ACCESS__V1__VERIFY_API_KEY_REQUEST__INIT;
	req.secret = (char *)secret;
	Exe__Access__V1__VerifyApiKeyResponse *v = NULL;
	exa_error err;
	if (exa_verify_api_key(c, &req, &v, &err) != EXA_OK)
		return;
	struct local_key k = {.read_only = v->scope ==
	        EXE__ACCESS__V1__API_KEY_SCOPE__API_KEY_SCOPE_READ_ONLY,
	    .expires_ms = v->expires_unix_ms, .learned_ms = clock_mono_ms()};
	copy_text(k.key_id, sizeof k.key_id, v->key_id);
	copy_text(k.workspace_id, sizeof k.workspace_id, v->workspace_id);
	uint64_t revision = v->revision;
	bool current = v->expires_unix_ms == 0 && v->revision != 0;
	exa_free(v);
	if (!current)
		return;
	struct key_standing ks = {.found = true, .read_only = k.read_only};
	memcpy(ks.key_id, k.key_id, sizeof ks.key_id);
	memcpy(ks.workspace_id, k.workspace_id, sizeof ks.workspace_id);
	struct decision dec;
	decide_key(&ks, workspace_id, perm, clock_wall_ms(), &dec);
	if (dec.allowed != resp->allowed ||
	    (Exe__Access__V1__Role)dec.role != resp->role ||
	    strcmp(dec.reason, resp->reason) != 0)
		return;
	unsigned char digest[32];
	local_key_digest(c, secret, digest);
	local_cache_put_key(c->lc, digest, &k, revision);
	sodium_memzero(digest, sizeof digest);
}

exa_status
exa_check(exa_client *c, const char *user_id, const char *permission,
    const char *workspace_id, exa_decision *d, exa_error *err)
{
	return exa_check_fresh(c, user_id, permission, workspace_id, 0, d, err);
}

exa_status
exa_check_fresh(exa_client *c, const char *user_id, const char *permission,
    const char *workspace_id, uint64_t revision, exa_decision *d,
    exa_error *err)
{
	if (c != NULL && user_id != NULL && permission != NULL &&
	    workspace_id != NULL &&
	    local_decide(c, user_id, permission, workspace_id, revision, d))
		return EXA_OK;
	Exe__Access__V1__Principal principal = EXE__ACCESS__V1__PRINCIPAL__INIT;
	principal.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	principal.user_id = (char *)user_id;
	Exe__Access__V1__CheckRequest req = EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &principal;
	req.permission = (char *)permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	req.workspace_id = (char *)workspace_id;
	req.at_least_as_fresh = revision;
	/* The response lives only until it is copied into *d. */
	struct arena arena;
	arena_init(&arena);
	ProtobufCAllocator alloc = ARENA_ALLOCATOR(&arena);
	ProtobufCMessage *msg = NULL;
	exa_status rc = client_call(c, "exe.access.v1.AuthzService/Check",
	    &req.base, &exe__access__v1__check_response__descriptor, 0, &alloc,
	    &msg, err);
	if (rc == EXA_OK) {
		const Exe__Access__V1__CheckResponse *resp =
		    (const Exe__Access__V1__CheckResponse *)msg;
		d->allowed = resp->allowed;
		d->role = resp->role;
		d->revision = resp->revision;
		copy_text(d->reason, sizeof d->reason, resp->reason);
		local_learn(c, user_id, permission, workspace_id, resp);
	}
	arena_reset(&arena);
	return rc;
}

enum { BATCH_MAX = 1000, BATCH_FIRST = 16 };

/* One check of a batch and its principal. */
struct batch_item {
	Exe__Access__V1__CheckRequest req;
	Exe__Access__V1__Principal principal;
};

/* The items start at BATCH_FIRST and double as needed, up to BATCH_MAX.
 * Since they move when they grow, the pointers protobuf-c wants (item to
 * principal, list to item) are set by exa_batch_run. The strings, copied
 * into `text`, do not move. The results are unpacked into `result_mem`. */
struct exa_batch {
	struct batch_item *items;
	Exe__Access__V1__CheckRequest **list;
	size_t n, cap;
	struct arena text;
	struct arena result_mem;
	Exe__Access__V1__BatchCheckResponse *results;
};

exa_batch *
exa_batch_new(void)
{
	return calloc(1, sizeof(exa_batch));
}

/* batch_grow makes room for one more item; false when out of memory or
 * full. */
static bool
batch_grow(exa_batch *b)
{
	if (b->n < b->cap)
		return true;
	if (b->cap == BATCH_MAX)
		return false;
	size_t cap = b->cap == 0 ? BATCH_FIRST : b->cap * 2;
	if (cap > BATCH_MAX)
		cap = BATCH_MAX;
	struct batch_item *items = realloc(b->items, cap * sizeof *items);
	if (items == NULL)
		return false;
	b->items = items;
	Exe__Access__V1__CheckRequest **list =
	    realloc(b->list, cap * sizeof *list);
	if (list == NULL)
		return false;
	b->list = list;
	b->cap = cap;
	return true;
}

static long
batch_add(exa_batch *b, bool key, const char *who, const char *permission,
    const char *workspace_id)
{
	if (b == NULL || who == NULL || permission == NULL ||
	    workspace_id == NULL || !batch_grow(b))
		return -1;
	size_t len[3] = {
	    strlen(who) + 1, strlen(permission) + 1, strlen(workspace_id) + 1};
	char *s = arena_alloc(&b->text, len[0] + len[1] + len[2]);
	if (s == NULL)
		return -1;
	memcpy(s, who, len[0]);
	memcpy(s + len[0], permission, len[1]);
	memcpy(s + len[0] + len[1], workspace_id, len[2]);

	struct batch_item *it = &b->items[b->n];
	Exe__Access__V1__Principal *p = &it->principal;
	exe__access__v1__principal__init(p);
	if (key) {
		p->kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
		p->api_key = s;
	} else {
		p->kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
		p->user_id = s;
	}
	Exe__Access__V1__CheckRequest *r = &it->req;
	exe__access__v1__check_request__init(r);
	r->permission = s + len[0];
	r->target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	r->workspace_id = s + len[0] + len[1];
	return (long)b->n++;
}

long
exa_batch_add_user(exa_batch *b, const char *user_id, const char *permission,
    const char *workspace_id)
{
	return batch_add(b, false, user_id, permission, workspace_id);
}

long
exa_batch_add_key(exa_batch *b, const char *api_key, const char *permission,
    const char *workspace_id)
{
	return batch_add(b, true, api_key, permission, workspace_id);
}

size_t
exa_batch_size(const exa_batch *b)
{
	return b != NULL ? b->n : 0;
}

/* batch_local_result makes item i's result from a local decision, in
 * the batch's result memory. */
static Exe__Access__V1__BatchCheckResult *
batch_local_result(exa_batch *b, size_t i, const exa_decision *d)
{
	Exe__Access__V1__BatchCheckResult *r =
	    arena_alloc(&b->result_mem, sizeof *r);
	Exe__Access__V1__CheckResponse *cr =
	    arena_alloc(&b->result_mem, sizeof *cr);
	char *reason = arena_alloc(&b->result_mem, strlen(d->reason) + 1);
	if (r == NULL || cr == NULL || reason == NULL)
		return NULL;
	exe__access__v1__batch_check_result__init(r);
	exe__access__v1__check_response__init(cr);
	strcpy(reason, d->reason);
	cr->allowed = d->allowed;
	cr->role = d->role;
	cr->reason = reason;
	cr->revision = d->revision;
	cr->workspace_id = b->items[i].req.workspace_id;
	r->result = cr;
	return r;
}

exa_status
exa_batch_run(exa_client *c, exa_batch *b, uint64_t revision, exa_error *err)
{
	if (b == NULL)
		return fail(err, EXA_INVALID_ARGUMENT, "batch: is required");
	b->results = NULL;
	arena_reset(&b->result_mem);
	for (size_t i = 0; i < b->n; i++) {
		struct batch_item *it = &b->items[i];
		it->req.principal = &it->principal;
		it->req.at_least_as_fresh = revision;
		b->list[i] = &it->req;
	}
	/* Items the local cache answers are not sent: `local[i]` is item i's
	 * result, or NULL for one the service must answer (listed, in
	 * order, in `ask`, which reuses b->list). */
	Exe__Access__V1__BatchCheckResult **local = NULL;
	size_t n_ask = b->n;
	if (c != NULL && c->lc != NULL && b->n > 0 &&
	    local_cache_usable(c->lc, revision)) {
		local = arena_alloc(&b->result_mem, sizeof *local * b->n);
		if (local == NULL)
			return fail(err, EXA_INTERNAL, "out of memory");
		n_ask = 0;
		for (size_t i = 0; i < b->n; i++) {
			struct batch_item *it = &b->items[i];
			exa_decision d;
			bool key = it->principal.kind_case ==
			    EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
			bool hit = key
			    ? local_decide_key(c, it->principal.api_key,
			          it->req.permission, it->req.workspace_id,
			          revision, &d)
			    : local_decide(c, it->principal.user_id,
			          it->req.permission, it->req.workspace_id,
			          revision, &d);
			if (hit && (local[i] = batch_local_result(b, i, &d)) ==
			        NULL)
				return fail(err, EXA_INTERNAL, "out of memory");
			if (!hit)
				b->list[n_ask++] = &it->req;
		}
	}
	Exe__Access__V1__BatchCheckResponse *resp = NULL;
	if (n_ask > 0) {
		Exe__Access__V1__BatchCheckRequest req =
		    EXE__ACCESS__V1__BATCH_CHECK_REQUEST__INIT;
		req.checks = b->list;
		req.n_checks = n_ask;
		ProtobufCAllocator alloc = ARENA_ALLOCATOR(&b->result_mem);
		ProtobufCMessage *msg = NULL;
		exa_status rc = client_call(c,
		    "exe.access.v1.AuthzService/BatchCheck", &req.base,
		    &exe__access__v1__batch_check_response__descriptor, 0,
		    &alloc, &msg, err);
		if (rc != EXA_OK) {
			arena_reset(&b->result_mem);
			return rc;
		}
		resp = (Exe__Access__V1__BatchCheckResponse *)msg;
		if (resp->n_results != n_ask) {
			size_t got = resp->n_results;
			arena_reset(&b->result_mem);
			return fail(err, EXA_INTERNAL,
			    "BatchCheck answered %zu items for %zu", got, n_ask);
		}
	}
	if (local == NULL) {
		b->results = resp;
	} else {
		/* Merge: the service's answers fill the gaps, in order. */
		Exe__Access__V1__BatchCheckResponse *all = arena_alloc(
		    &b->result_mem, sizeof *all);
		Exe__Access__V1__BatchCheckResult **list = arena_alloc(
		    &b->result_mem, sizeof *list * b->n);
		if (all == NULL || list == NULL) {
			arena_reset(&b->result_mem);
			return fail(err, EXA_INTERNAL, "out of memory");
		}
		exe__access__v1__batch_check_response__init(all);
		size_t next = 0;
		for (size_t i = 0; i < b->n; i++)
			list[i] = local[i] != NULL ? local[i]
			                           : resp->results[next++];
		all->results = list;
		all->n_results = b->n;
		b->results = all;
	}
	/* Learn from what the service answered. */
	if (c != NULL && c->lc != NULL && resp != NULL) {
		size_t next = 0;
		for (size_t i = 0; i < b->n; i++) {
			if (local != NULL && local[i] != NULL)
				continue;
			const Exe__Access__V1__BatchCheckResult *r =
			    resp->results[next++];
			const struct batch_item *it = &b->items[i];
			if (r->code != EXA_OK || r->result == NULL)
				continue;
			if (it->principal.kind_case ==
			    EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY)
				local_learn_key(c, it->principal.api_key,
				    it->req.permission, it->req.workspace_id,
				    r->result);
			else
				local_learn(c, it->principal.user_id,
				    it->req.permission, it->req.workspace_id,
				    r->result);
		}
	}
	return EXA_OK;
}

exa_status
exa_batch_result(const exa_batch *b, size_t i, exa_decision *d,
    exa_error *item_err)
{
	if (b == NULL || b->results == NULL || i >= b->results->n_results)
		return fail(item_err, EXA_FAILED_PRECONDITION,
		    "no result %zu: run the batch first", i);
	const Exe__Access__V1__BatchCheckResult *r = b->results->results[i];
	if (r->code != EXA_OK || r->result == NULL)
		return fail(item_err, (exa_status)r->code, "%s", r->message);
	d->allowed = r->result->allowed;
	d->role = r->result->role;
	d->revision = r->result->revision;
	copy_text(d->reason, sizeof d->reason, r->result->reason);
	return EXA_OK;
}

void
exa_batch_free(exa_batch *b)
{
	if (b == NULL)
		return;
	arena_reset(&b->text);
	arena_reset(&b->result_mem);
	free(b->items);
	free(b->list);
	free(b);
}

/* One typed call per RPC method, expanded from the .proto's list. */
#define EXA_METHOD_DEF(Svc, svc, Method, method, fn, Req, req, Resp, resp)   \
	exa_status exa_##fn(exa_client *c,                                    \
	    const Exe__Access__V1__##Req *request,                            \
	    Exe__Access__V1__##Resp **response, exa_error *err)               \
	{                                                                     \
		return exa_client_call(c, "exe.access.v1." #Svc "/" #Method,  \
		    &request->base, &exe__access__v1__##resp##__descriptor, 0,  \
		    (ProtobufCMessage **)response, err);                      \
	}

EXA_METHOD_LIST(EXA_METHOD_DEF)
