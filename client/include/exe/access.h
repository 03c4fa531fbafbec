/* libexeaccess: the C client of ExE Access.
 *
 * Link it (pkg-config libexeaccess) to ask the service who may do what, and
 * to administer users, workspaces, members, invitations, keys, resources
 * and activity. Requests and responses are the protobuf-c messages
 * generated from the exe/access/v1 .proto files, installed beside this
 * header.
 *
 *     exa_client *c;
 *     exa_error err;
 *     if (exa_client_open("tcp://127.0.0.1:7400", token, NULL, &c, &err))
 *         fail(err.message);
 *     exa_decision d;
 *     if (exa_check(c, user_id, "experiment.create", workspace_id, &d, &err))
 *         fail(err.message);
 *     if (!d.allowed) deny(d.reason);
 *     exa_client_close(c);
 *
 * A client is safe to share between threads: every call uses its own nng
 * context. Every call is bounded by a timeout and returns an exa_status;
 * on anything but EXA_OK, `err` (if not NULL) holds the code and a message
 * a person can act on, and no response is returned. */
#ifndef EXE_ACCESS_H
#define EXE_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include <exe/access/v1/authz.pb-c.h>
#include <exe/access/v1/workspace.pb-c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The gRPC canonical status codes the service answers with. */
typedef enum exa_status {
	EXA_OK = 0,
	EXA_INVALID_ARGUMENT = 3,
	EXA_DEADLINE_EXCEEDED = 4,
	EXA_NOT_FOUND = 5,
	EXA_ALREADY_EXISTS = 6,
	EXA_PERMISSION_DENIED = 7,
	EXA_RESOURCE_EXHAUSTED = 8,
	EXA_FAILED_PRECONDITION = 9,
	EXA_ABORTED = 10,
	EXA_UNIMPLEMENTED = 12,
	EXA_INTERNAL = 13,
	EXA_UNAVAILABLE = 14,
	EXA_UNAUTHENTICATED = 16,
} exa_status;

typedef struct exa_error {
	exa_status code;
	char message[512];
} exa_error;

typedef struct exa_client exa_client;

typedef struct exa_client_options {
	/* Default bound of every call, in milliseconds; 0 means 5000. */
	int timeout_ms;
	/* For tls+tcp:// URLs: the PEM file of the CA(s) the server's
	 * certificate must chain to (required: no unverified connections),
	 * and the DNS name it must carry (default: the URL's host). nng's TLS
	 * engine (mbedtls 2.28) matches DNS names only: when dialing an IP
	 * address, give the certificate's DNS name here. */
	const char *tls_ca_file;
	const char *tls_server_name;
	/* The local cache (off unless local_cache_entries > 0): the client
	 * keeps what the service answered about a user in a workspace, and
	 * about a workspace's current API key (by a keyed digest of its
	 * secret, never the secret; asked of the service with VerifyApiKey
	 * when first seen and every minute), at most local_cache_entries of
	 * them, and decides later checks in this process: exa_check,
	 * exa_check_fresh, the items of exa_batch_run and ListPermissions
	 * in a workspace (exa_list_permissions), for a user or a key it
	 * knows. A background thread follows the service's change log
	 * (ReadChanges) and drops what each change touched; an
	 * at_least_as_fresh newer than what it has applied goes to the
	 * service. When the log could not be read for
	 * local_cache_max_staleness_ms (0: 1000) the cache answers nothing
	 * until it can: no local answer is older than that. The log is read
	 * every local_cache_poll_ms (0: 100; it must be less than the
	 * staleness bound) and, when local_cache_subscribe names the
	 * service's --publish URL (ipc:// or tcp://), as soon as the service
	 * says it moved on. At most 50,000,000 entries; exa_client_open
	 * refuses negative values, and these options without
	 * local_cache_entries, with EXA_INVALID_ARGUMENT naming the field. The caller token needs the check scope. See
	 * docs/DESIGN.md, "The client's local cache". */
	size_t local_cache_entries;
	int local_cache_max_staleness_ms;
	int local_cache_poll_ms;
	const char *local_cache_subscribe;
} exa_client_options;

/* What the local cache has done, for the caller to read and export. */
typedef struct exa_cache_stats {
	bool enabled;
	bool answering;  /* it would answer now (the feed is fresh enough) */
	uint64_t hits;   /* answers given from memory */
	uint64_t misses; /* lookups that went to the service */
	uint64_t entries;
	uint64_t evictions;
	uint64_t resyncs;     /* times it started afresh (pruned log...) */
	uint64_t feed_errors; /* reads of the change log that failed */
	uint64_t applied_revision; /* every change up to it is applied */
	int64_t feed_lag_ms; /* since the log was last read to its end; -1:
	                        never */
} exa_cache_stats;

/* exa_status_name returns "NOT_FOUND" and so on; "UNKNOWN" otherwise. */
const char *exa_status_name(int code);

/* exa_client_open connects (in the background, reconnecting as needed) to
 * `urls`: one nng URL, or several separated by commas, among which calls
 * are spread. `token` is the caller's service token (may be NULL).
 * `opts` may be NULL. The client is returned in *out. */
exa_status exa_client_open(const char *urls, const char *token,
    const exa_client_options *opts, exa_client **out, exa_error *err);

/* exa_client_cache_stats fills *out (all zero when the client has no
 * local cache). */
void exa_client_cache_stats(exa_client *c, exa_cache_stats *out);

/* exa_client_close closes the connections and frees the client. Calls in
 * progress on other threads must have returned. NULL is fine. */
void exa_client_close(exa_client *c);

/* exa_client_call sends `request` to `method` ("exe.access.v1.AuthzService/
 * Check") and unpacks the reply as `response_type` into *response (free it
 * with exa_free). timeout_ms 0 uses the client's default. */
exa_status exa_client_call(exa_client *c, const char *method,
    const ProtobufCMessage *request,
    const ProtobufCMessageDescriptor *response_type, int timeout_ms,
    ProtobufCMessage **response, exa_error *err);

/* exa_free frees a response returned by any call. NULL is fine. */
void exa_free(void *response);

/* An authorization decision, as the hot path wants it. */
typedef struct exa_decision {
	bool allowed;
	Exe__Access__V1__Role role;
	uint64_t revision;
	char reason[320]; /* why not, when !allowed */
} exa_decision;

/* exa_check asks whether user `user_id` holds `permission` in workspace
 * `workspace_id`. A denial is EXA_OK with d->allowed false and a reason.
 * The answer may come from the service's cache: a change made moments ago
 * may not be reflected yet (see exa_check_fresh). */
exa_status exa_check(exa_client *c, const char *user_id,
    const char *permission, const char *workspace_id, exa_decision *d,
    exa_error *err);

/* exa_check_fresh is exa_check reflecting every write up to `revision`
 * (the revision a write returned; 0 for none): read-your-writes. */
exa_status exa_check_fresh(exa_client *c, const char *user_id,
    const char *permission, const char *workspace_id, uint64_t revision,
    exa_decision *d, exa_error *err);

/* A batch of checks sent as one BatchCheck (at most 1000), answered in
 * order, each item on its own: one bad item does not fail the others.
 *
 *     exa_batch *b = exa_batch_new();
 *     exa_batch_add_user(b, alice, "experiment.view", ws);
 *     exa_batch_add_key(b, secret, "measurement.add", ws);
 *     if (exa_batch_run(client, b, 0, &err) == EXA_OK)
 *         for (size_t i = 0; i < exa_batch_size(b); i++)
 *             if (exa_batch_result(b, i, &d, &item_err) == EXA_OK) ...
 *     exa_batch_free(b);
 */
typedef struct exa_batch exa_batch;

/* exa_batch_new returns an empty batch (NULL when out of memory). */
exa_batch *exa_batch_new(void);

/* exa_batch_add_user and exa_batch_add_key append a check for a user or an
 * API key on a workspace; the strings are copied. Returns the item's
 * index, or -1 when out of memory or the batch is full (1000). */
long exa_batch_add_user(exa_batch *b, const char *user_id,
    const char *permission, const char *workspace_id);
long exa_batch_add_key(exa_batch *b, const char *api_key,
    const char *permission, const char *workspace_id);

/* exa_batch_size is the number of items added. */
size_t exa_batch_size(const exa_batch *b);

/* exa_batch_run sends every item, with at_least_as_fresh `revision` (0:
 * none), and keeps the results in the batch. */
exa_status exa_batch_run(exa_client *c, exa_batch *b, uint64_t revision,
    exa_error *err);

/* exa_batch_result gives item i's decision after exa_batch_run: EXA_OK
 * with *d filled, or the item's own error in *item_err. */
exa_status exa_batch_result(const exa_batch *b, size_t i, exa_decision *d,
    exa_error *item_err);

/* exa_batch_free frees the batch and its results. NULL is fine. */
void exa_batch_free(exa_batch *b);

/* A typed call of every RPC method, exa_<method>(client, request,
 * &response, err), for administration tools: <exe/access_raw.h>. */

#ifdef __cplusplus
}
#endif

#endif
