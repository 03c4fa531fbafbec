/* exa-bench: the load generator of the benchmark suite, built on
 * libexeaccess. N threads call one operation for a fixed duration or count;
 * every call is timed with the monotonic clock into a preallocated pool,
 * sorted at the end for p50/p99/p99.9. The population (memberships, users,
 * teams and their organisation admins) is read from the service's database
 * with libpq, so a "cold" run can use a different principal every call.
 *
 *   exa-bench --url URL --token TOKEN --database-url CONNINFO --op OP
 *             [--concurrency N] [--duration S | --count N] ...
 *
 * `--op echo` talks raw nng req0 to bench/echo-server with an envelope of
 * the size of a real Check request: the transport's own cost, to compare
 * the service against. One RESULT line goes to stdout (see stats.h). */
#include <errno.h>
#include <getopt.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include <exe/access.h>
#include <exe/access_raw.h>

#include "exe/access/v1/rpc.pb-c.h"
#include "population.h"
#include "stats.h"

enum { BATCH_ITEMS = 100, WARM_CALLS = 3, MAX_THREADS = 1024 };

static const char ZERO_UUID[] = "00000000-0000-4000-8000-000000000000";

enum clients_mode { CLIENTS_THREAD, CLIENTS_SHARED };

struct options {
	const char *url;
	const char *token;
	const char *database_url;
	const char *op;
	const char *transport; /* label for the RESULT line */
	const char *tag;       /* optional extra label */
	const char *permission;
	unsigned concurrency;
	double duration_s;
	uint64_t count;
	enum clients_mode clients;
	size_t working_set; /* pairs the cached ops cycle over */
	size_t pairs;       /* population rows to read; 0: as the op needs */
	unsigned seed;      /* of the population sample; 0: random */
	bool distinct;      /* a different membership every call */
	bool echo_per_call; /* echo: open a context per call, as the library */
	int timeout_ms;
	double max_rate; /* sizes the latency pool for --duration */
	size_t local_cache; /* entries of the clients' local cache; 0: off */
	const char *subscribe; /* the service's --publish URL, for it */
};

struct bench;
struct worker;

/* One operation: what a call does, and what it needs. */
struct op {
	const char *name;
	enum population_kind population;
	bool needs_population;
	bool cached; /* cycles over a warmed working set unless --distinct */
	unsigned decisions; /* per call, for decisions/s; 0: not a check */
	int (*call)(struct worker *w, uint64_t idx, exa_error *err);
};

struct bench {
	struct options o;
	const struct op *op;
	struct id_table table; /* the op's population */
	size_t working_set;
	_Atomic unsigned char *roles; /* change-role: 1 member, 2 read_only */
	char run_tag[16];             /* create-user: unique per run */
	unsigned seed;
	exa_client *shared;
	exa_client *workers_first; /* the first worker's client */
	nng_socket echo_sock;
	bool echo_sock_open;
	uint8_t *payload;
	size_t payload_len;
	struct stats_pool *pool;
	_Atomic uint64_t next; /* the next call's global index */
	uint64_t end_ns;
	pthread_barrier_t ready, go;
	pthread_mutex_t error_lock;
	uint64_t errors, item_errors;
	char first_error[600];
	_Atomic bool wrapped, pool_full;
};

struct worker {
	struct bench *b;
	unsigned index;
	pthread_t thread;
	exa_client *client;
	nng_socket sock; /* echo */
	bool own_sock;
	nng_ctx ctx;
	nng_aio *aio;
	struct stats_recorder rec;
	uint64_t override_ns; /* propagation: what to record for the call */
	uint64_t finished_ns;
	int setup_failed;
};

static void
note_error(struct bench *b, const char *what, const exa_error *err)
{
	pthread_mutex_lock(&b->error_lock);
	if (b->errors++ == 0)
		snprintf(b->first_error, sizeof b->first_error, "%s: %s: %s",
		    what, exa_status_name(err->code), err->message);
	pthread_mutex_unlock(&b->error_lock);
}

/* row maps a call's index onto the population; it notes when the run
 * comes round again (a "distinct" run is then no longer first-touch). */
static size_t
row(struct worker *w, uint64_t idx)
{
	struct bench *b = w->b;
	if (idx >= b->table.rows)
		atomic_store_explicit(&b->wrapped, true, memory_order_relaxed);
	return (size_t)(idx % b->table.rows);
}

/* pair_row is the membership a check-like call uses. */
static size_t
pair_row(struct worker *w, uint64_t idx)
{
	struct bench *b = w->b;
	if (b->op->cached && !b->o.distinct)
		return (size_t)(idx % b->working_set);
	return row(w, idx);
}

static int
op_check(struct worker *w, uint64_t idx, exa_error *err)
{
	struct bench *b = w->b;
	size_t r = pair_row(w, idx);
	exa_decision d;
	return exa_check(w->client, id_table_cell(&b->table, r, 0),
	    b->o.permission, id_table_cell(&b->table, r, 1), &d, err);
}

/* op_check_resource checks `<type>.edit` on a resource for a user (the
 * rows of POPULATION_RESOURCES or POPULATION_GRANTED): without a grant in
 * the workspace the service reads the standing alone; with one it also
 * looks the grant up. */
static int
op_check_resource(struct worker *w, uint64_t idx, exa_error *err)
{
	struct bench *b = w->b;
	size_t r = pair_row(w, idx);
	char permission[48];
	snprintf(permission, sizeof permission, "%s.edit",
	    id_table_cell(&b->table, r, 1));
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = (char *)id_table_cell(&b->table, r, 0);
	Exe__Access__V1__ResourceRef res = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	res.type = (char *)id_table_cell(&b->table, r, 1);
	res.id = (char *)id_table_cell(&b->table, r, 2);
	Exe__Access__V1__CheckRequest req = EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &p;
	req.permission = permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
	req.resource = &res;
	Exe__Access__V1__CheckResponse *resp = NULL;
	int rc = exa_authz_check(w->client, &req, &resp, err);
	exa_free(resp);
	return rc;
}

static int
batch_run(struct worker *w, uint64_t first, size_t n, bool count_items,
    exa_error *err)
{
	struct bench *b = w->b;
	exa_batch *batch = exa_batch_new();
	if (batch == NULL) {
		err->code = EXA_INTERNAL;
		snprintf(err->message, sizeof err->message, "out of memory");
		return EXA_INTERNAL;
	}
	for (size_t k = 0; k < n; k++) {
		size_t r = pair_row(w, first + k);
		exa_batch_add_user(batch, id_table_cell(&b->table, r, 0),
		    b->o.permission, id_table_cell(&b->table, r, 1));
	}
	int rc = exa_batch_run(w->client, batch, 0, err);
	if (rc == EXA_OK && count_items) {
		exa_decision d;
		exa_error item;
		uint64_t bad = 0;
		for (size_t k = 0; k < n; k++)
			if (exa_batch_result(batch, k, &d, &item) != EXA_OK)
				bad++;
		if (bad > 0) {
			pthread_mutex_lock(&b->error_lock);
			b->item_errors += bad;
			pthread_mutex_unlock(&b->error_lock);
		}
	}
	exa_batch_free(batch);
	return rc;
}

static int
op_batch(struct worker *w, uint64_t idx, exa_error *err)
{
	return batch_run(w, idx * BATCH_ITEMS, BATCH_ITEMS, true, err);
}

static int
op_list_permissions(struct worker *w, uint64_t idx, exa_error *err)
{
	struct bench *b = w->b;
	size_t r = pair_row(w, idx);
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = (char *)id_table_cell(&b->table, r, 0);
	Exe__Access__V1__ListPermissionsRequest req =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	req.principal = &p;
	req.workspace_id = (char *)id_table_cell(&b->table, r, 1);
	Exe__Access__V1__ListPermissionsResponse *resp = NULL;
	int rc = exa_list_permissions(w->client, &req, &resp, err);
	exa_free(resp);
	return rc;
}

static int
op_list_workspaces(struct worker *w, uint64_t idx, exa_error *err)
{
	struct bench *b = w->b;
	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	req.user_id = (char *)id_table_cell(&b->table, row(w, idx), 0);
	Exe__Access__V1__ListWorkspacesResponse *resp = NULL;
	int rc = exa_list_workspaces(w->client, &req, &resp, err);
	exa_free(resp);
	return rc;
}

static int
op_create_user(struct worker *w, uint64_t idx, exa_error *err)
{
	struct bench *b = w->b;
	char name[64], email[96];
	snprintf(
	    name, sizeof name, "b%s-%llu", b->run_tag, (unsigned long long)idx);
	snprintf(email, sizeof email, "%s@bench.example", name);
	Exe__Access__V1__CreateUserRequest req =
	    EXE__ACCESS__V1__CREATE_USER_REQUEST__INIT;
	req.username = name;
	req.email = email;
	req.display_name = "Bench User";
	Exe__Access__V1__CreateUserResponse *resp = NULL;
	int rc = exa_create_user(w->client, &req, &resp, err);
	exa_free(resp);
	return rc;
}

static int
op_add_member(struct worker *w, uint64_t idx, exa_error *err)
{
	struct bench *b = w->b;
	size_t r = row(w, idx);
	Exe__Access__V1__Principal actor = EXE__ACCESS__V1__PRINCIPAL__INIT;
	actor.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	actor.user_id = (char *)id_table_cell(&b->table, r, 1);
	Exe__Access__V1__AddMemberRequest req =
	    EXE__ACCESS__V1__ADD_MEMBER_REQUEST__INIT;
	req.actor = &actor;
	req.workspace_id = (char *)id_table_cell(&b->table, r, 0);
	req.user_id = (char *)id_table_cell(&b->table, r, 2);
	req.role = EXE__ACCESS__V1__ROLE__ROLE_MEMBER;
	Exe__Access__V1__MemberResponse *resp = NULL;
	int rc = exa_add_member(w->client, &req, &resp, err);
	exa_free(resp);
	return rc;
}

/* flip_role changes the role of row r's member between member and
 * read_only (never the last admin, R8), with the response in *resp
 * (exa_free it), and remembers the role it now holds. */
static int
flip_role(struct worker *w, size_t r, Exe__Access__V1__MemberResponse **resp,
    exa_error *err)
{
	struct bench *b = w->b;
	unsigned char to = atomic_load(&b->roles[r]) == 1 ? 2 : 1;
	Exe__Access__V1__Principal actor = EXE__ACCESS__V1__PRINCIPAL__INIT;
	actor.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	actor.user_id = (char *)id_table_cell(&b->table, r, 1);
	Exe__Access__V1__ChangeMemberRoleRequest req =
	    EXE__ACCESS__V1__CHANGE_MEMBER_ROLE_REQUEST__INIT;
	req.actor = &actor;
	req.workspace_id = (char *)id_table_cell(&b->table, r, 0);
	req.user_id = (char *)id_table_cell(&b->table, r, 2);
	req.role = to == 1 ? EXE__ACCESS__V1__ROLE__ROLE_MEMBER
	                   : EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY;
	*resp = NULL;
	int rc = exa_change_member_role(w->client, &req, resp, err);
	if (rc == EXA_OK)
		atomic_store(&b->roles[r], to);
	return rc;
}

static int
op_change_role(struct worker *w, uint64_t idx, exa_error *err)
{
	Exe__Access__V1__MemberResponse *resp;
	int rc = flip_role(w, row(w, idx), &resp, err);
	exa_free(resp);
	return rc;
}

/* rss_kib is this process's resident memory, from /proc. */
static long
rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = 0;
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kib;
}

/* cpu_seconds is the CPU time this process has used (every thread). */
static double
cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* op_propagation changes a role and waits until the client's local
 * cache has applied the write's revision: it records the time from the
 * write's reply (the commit came just before it) to that. */
static int
op_propagation(struct worker *w, uint64_t idx, exa_error *err)
{
	Exe__Access__V1__MemberResponse *resp;
	int rc = flip_role(w, row(w, idx), &resp, err);
	uint64_t replied = stats_now_ns();
	if (rc != EXA_OK) {
		exa_free(resp);
		return rc;
	}
	uint64_t rev = resp->revision;
	exa_free(resp);
	exa_cache_stats st;
	for (;;) {
		exa_client_cache_stats(w->client, &st);
		if (st.applied_revision >= rev)
			break;
		if (stats_now_ns() - replied > 5000000000ull) {
			err->code = EXA_DEADLINE_EXCEEDED;
			snprintf(err->message, sizeof err->message,
			    "revision %llu not applied within 5 s",
			    (unsigned long long)rev);
			return err->code;
		}
	}
	w->override_ns = stats_now_ns() - replied;
	return EXA_OK;
}

/* echo_round_trip sends the payload on `ctx` and checks that the same
 * bytes come back. */
static int
echo_round_trip(struct worker *w, nng_ctx ctx, nng_aio *aio, exa_error *err)
{
	struct bench *b = w->b;
	nng_msg *msg;
	int rv = nng_msg_alloc(&msg, b->payload_len);
	if (rv == 0) {
		memcpy(nng_msg_body(msg), b->payload, b->payload_len);
		nng_aio_set_msg(aio, msg);
		nng_ctx_send(ctx, aio);
		nng_aio_wait(aio);
		if ((rv = nng_aio_result(aio)) != 0)
			nng_msg_free(nng_aio_get_msg(aio));
	}
	if (rv == 0) {
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
	}
	if (rv != 0) {
		err->code = rv == NNG_ETIMEDOUT ? EXA_DEADLINE_EXCEEDED
		                                : EXA_UNAVAILABLE;
		snprintf(err->message, sizeof err->message, "echo: %s",
		    nng_strerror(rv));
		return err->code;
	}
	msg = nng_aio_get_msg(aio);
	bool same = nng_msg_len(msg) == b->payload_len &&
	            memcmp(nng_msg_body(msg), b->payload, b->payload_len) == 0;
	nng_msg_free(msg);
	if (!same) {
		err->code = EXA_INTERNAL;
		snprintf(err->message, sizeof err->message,
		    "echo: the reply differs from the request");
		return EXA_INTERNAL;
	}
	return EXA_OK;
}

static int
op_echo(struct worker *w, uint64_t idx, exa_error *err)
{
	(void)idx;
	if (!w->b->o.echo_per_call)
		return echo_round_trip(w, w->ctx, w->aio, err);
	/* What the library does per call: a context and an aio of its own. */
	nng_ctx ctx;
	nng_aio *aio;
	int rv = nng_ctx_open(&ctx, w->sock);
	if (rv == 0 && (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0)
		nng_ctx_close(ctx);
	if (rv != 0) {
		err->code = EXA_INTERNAL;
		snprintf(err->message, sizeof err->message, "echo: %s",
		    nng_strerror(rv));
		return err->code;
	}
	nng_aio_set_timeout(aio, w->b->o.timeout_ms);
	rv = echo_round_trip(w, ctx, aio, err);
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return rv;
}

/* clang-format off */
static const struct op ops[] = {
	{"check-cached", POPULATION_MEMBERSHIPS, true, true, 1, op_check},
	{"check-cold", POPULATION_MEMBERSHIPS, true, false, 1, op_check},
	{"check-local", POPULATION_MEMBERSHIPS, true, true, 1, op_check},
	{"check-resource", POPULATION_RESOURCES, true, true, 1,
	 op_check_resource},
	{"check-granted", POPULATION_GRANTED, true, true, 1, op_check_resource},
	{"propagation", POPULATION_CHANGE_ROLE, true, false, 0,
	 op_propagation},
	{"batch100", POPULATION_MEMBERSHIPS, true, true, BATCH_ITEMS, op_batch},
	{"list-permissions", POPULATION_MEMBERSHIPS, true, true, 0,
	 op_list_permissions},
	{"list-workspaces", POPULATION_USERS, true, false, 0, op_list_workspaces},
	{"create-user", POPULATION_USERS, false, false, 0, op_create_user},
	{"add-member", POPULATION_ADD_MEMBER, true, false, 0, op_add_member},
	{"change-role", POPULATION_CHANGE_ROLE, true, false, 0, op_change_role},
	{"echo", POPULATION_USERS, false, false, 0, op_echo},
};
/* clang-format on */

static bool
is_echo(const struct bench *b)
{
	return b->op->call == op_echo;
}

/* warm_up makes the connection (and, for cached ops, this thread's share of
 * the working set) ready before the clock starts. Batches of 100 fill the
 * cache in one round trip each. */
static int
warm_up(struct worker *w, exa_error *err)
{
	struct bench *b = w->b;
	int rc = EXA_OK;
	for (int i = 0; i < WARM_CALLS && rc == EXA_OK; i++) {
		if (is_echo(b)) {
			rc = op_echo(w, 0, err);
		} else {
			exa_decision d;
			rc = exa_check(w->client, ZERO_UUID, b->o.permission,
			    ZERO_UUID, &d, err);
		}
	}
	if (rc == EXA_OK && b->o.local_cache > 0) {
		/* The local cache answers once its feed stands somewhere. */
		exa_cache_stats st;
		for (int i = 0; i < 500; i++) {
			exa_client_cache_stats(w->client, &st);
			if (st.answering)
				break;
			struct timespec ts = {0, 10 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (rc != EXA_OK || !b->op->cached || b->o.distinct)
		return rc;
	size_t n = b->o.concurrency;
	size_t per = (b->working_set + n - 1) / n;
	size_t first = w->index * per, last = first + per;
	if (last > b->working_set)
		last = b->working_set;
	/* Resource checks have no batch of their own here: one at a time. */
	bool one_by_one = b->op->call == op_check_resource;
	for (size_t i = first; i < last && rc == EXA_OK;) {
		size_t k = one_by_one ? 1
		    : last - i < BATCH_ITEMS ? last - i
		                             : BATCH_ITEMS;
		rc = one_by_one ? op_check_resource(w, i, err)
		                : batch_run(w, i, k, false, err);
		i += k;
	}
	return rc;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	exa_error err;
	memset(&err, 0, sizeof err);
	int rc = warm_up(w, &err);
	if (rc != EXA_OK) {
		note_error(b, "warm-up", &err);
		w->setup_failed = 1;
	}
	pthread_barrier_wait(&b->ready);
	pthread_barrier_wait(&b->go);
	if (w->setup_failed) {
		w->finished_ns = stats_now_ns();
		return NULL;
	}
	for (;;) {
		uint64_t idx = atomic_fetch_add_explicit(
		    &b->next, 1, memory_order_relaxed);
		if (b->o.count > 0 && idx >= b->o.count)
			break;
		uint64_t t0 = stats_now_ns();
		rc = b->op->call(w, idx, &err);
		uint64_t t1 = stats_now_ns();
		uint64_t took = t1 - t0;
		if (w->override_ns != 0) {
			took = w->override_ns;
			w->override_ns = 0;
		}
		if (!stats_record(&w->rec, took)) {
			atomic_store(&b->pool_full, true);
			break;
		}
		if (rc != EXA_OK)
			note_error(b, b->op->name, &err);
		if (b->o.count == 0 && t1 >= b->end_ns)
			break;
	}
	w->finished_ns = stats_now_ns();
	return NULL;
}

/* make_payload packs the envelope of a real Check request, so the echo
 * carries exactly the bytes a Check puts on the wire. */
static int
make_payload(struct bench *b)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = (char *)ZERO_UUID;
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &p;
	req.permission = (char *)b->o.permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	req.workspace_id = (char *)ZERO_UUID;
	uint8_t body[512];
	size_t body_len = exe__access__v1__check_request__get_packed_size(&req);
	if (body_len > sizeof body)
		return -1;
	exe__access__v1__check_request__pack(&req, body);
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	env.method = "exe.access.v1.AuthzService/Check";
	env.body.data = body;
	env.body.len = body_len;
	env.request_id = "0123456789abcdef"; /* the library's: 16 hex digits */
	env.timeout_ms = b->o.timeout_ms; /* as the library sends it */
	env.token = (char *)(b->o.token != NULL ? b->o.token : "");
	b->payload_len = exe__access__v1__rpc_request__get_packed_size(&env);
	b->payload = malloc(b->payload_len);
	if (b->payload == NULL)
		return -1;
	exe__access__v1__rpc_request__pack(&env, b->payload);
	return 0;
}

static int
echo_socket(struct bench *b, nng_socket *out)
{
	int rv = nng_req0_open(out);
	if (rv != 0)
		return rv;
	nng_socket_set_ms(*out, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(*out, NNG_OPT_RECONNMINT, 20);
	if ((rv = nng_dial(*out, b->o.url, NULL, NNG_FLAG_NONBLOCK)) != 0)
		nng_close(*out);
	return rv;
}

/* worker_open gives the worker its client (or echo socket and context). */
static int
worker_open(struct bench *b, struct worker *w, char *msg, size_t size)
{
	w->b = b;
	stats_recorder_init(&w->rec, b->pool);
	if (!is_echo(b)) {
		if (b->shared != NULL) {
			w->client = b->shared;
			return 0;
		}
		exa_error err;
		exa_client_options opts = {.timeout_ms = b->o.timeout_ms,
		    .local_cache_entries = b->o.local_cache,
		    .local_cache_subscribe = b->o.subscribe};
		if (exa_client_open(b->o.url, b->o.token, &opts, &w->client,
		        &err) != EXA_OK) {
			snprintf(msg, size, "client: %s", err.message);
			return -1;
		}
		return 0;
	}
	int rv = 0;
	if (b->echo_sock_open) {
		w->sock = b->echo_sock;
	} else if ((rv = echo_socket(b, &w->sock)) == 0) {
		w->own_sock = true;
	}
	if (rv == 0 && !b->o.echo_per_call) {
		if ((rv = nng_ctx_open(&w->ctx, w->sock)) == 0 &&
		    (rv = nng_aio_alloc(&w->aio, NULL, NULL)) == 0)
			nng_aio_set_timeout(w->aio, b->o.timeout_ms);
	}
	if (rv != 0) {
		snprintf(msg, size, "echo socket %s: %s", b->o.url,
		    nng_strerror(rv));
		return -1;
	}
	return 0;
}

static void
worker_close(struct worker *w)
{
	if (w->aio != NULL)
		nng_aio_free(w->aio);
	if (nng_ctx_id(w->ctx) > 0)
		nng_ctx_close(w->ctx);
	if (w->own_sock)
		nng_close(w->sock);
	if (w->client != NULL && w->client != w->b->shared)
		exa_client_close(w->client);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: exa-bench --op OP --url URL [options]\n"
	    "  --op OP              check-cached, check-cold, check-local,\n"
	    "                       check-resource, check-granted, batch100,\n"
	    "                       propagation, list-permissions,\n"
	    "                       list-workspaces, create-user, add-member,\n"
	    "                       change-role, echo\n"
	    "  --url URL            the service (or, for echo, the echo "
	    "server)\n"
	    "  --token TOKEN        caller token (or EXA_BENCH_TOKEN)\n"
	    "  --database-url CONN  where to read the population (libpq)\n"
	    "  --concurrency N      calling threads (default 1)\n"
	    "  --duration S         seconds to run (default 3), or\n"
	    "  --count N            calls to make in all\n"
	    "  --clients MODE       thread: a client per thread (default);\n"
	    "                       shared: one client for all threads\n"
	    "  --working-set N      memberships the cached ops cycle over\n"
	    "                       (default 10000)\n"
	    "  --distinct           check/batch100/list-permissions: a new\n"
	    "                       membership every call (first touch)\n"
	    "  --pairs N            population rows to read (default: the\n"
	    "                       working set for cached ops, else 200000);\n"
	    "                       cached ops use the first --working-set\n"
	    "  --seed N             fixes the population sample (default:\n"
	    "                       random): same seed and --pairs, same rows\n"
	    "  --permission P       what checks ask (default "
	    "experiment.create)\n"
	    "  --transport LABEL    label for the RESULT line (default: the "
	    "URL's scheme)\n"
	    "  --tag WORD           adds tag=WORD to the RESULT line\n"
	    "  --timeout-ms MS      per call (default 10000)\n"
	    "  --echo-per-call      echo: a context per call, as the library\n"
	    "  --max-rate R         calls/s the latency pool is sized for\n"
	    "                       with --duration (default 400000)\n"
	    "  --local-cache N      the clients keep a local cache of N\n"
	    "                       entries (check-local, propagation)\n"
	    "  --subscribe URL      the service's --publish URL, for it\n");
}

static int
parse(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof *o);
	o->token = getenv("EXA_BENCH_TOKEN");
	o->concurrency = 1;
	o->permission = "experiment.create";
	o->working_set = 10000;
	o->timeout_ms = 10000;
	o->max_rate = 400000;
	static const struct option longopts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 't'},
	    {"database-url", required_argument, NULL, 'd'},
	    {"op", required_argument, NULL, 'o'},
	    {"concurrency", required_argument, NULL, 'c'},
	    {"duration", required_argument, NULL, 'D'},
	    {"count", required_argument, NULL, 'n'},
	    {"clients", required_argument, NULL, 'C'},
	    {"working-set", required_argument, NULL, 'w'},
	    {"distinct", no_argument, NULL, 'x'},
	    {"pairs", required_argument, NULL, 'p'},
	    {"seed", required_argument, NULL, 's'},
	    {"permission", required_argument, NULL, 'P'},
	    {"transport", required_argument, NULL, 'T'},
	    {"tag", required_argument, NULL, 'g'},
	    {"timeout-ms", required_argument, NULL, 'm'},
	    {"echo-per-call", no_argument, NULL, 'e'},
	    {"max-rate", required_argument, NULL, 'r'},
	    {"local-cache", required_argument, NULL, 'L'},
	    {"subscribe", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u': o->url = optarg; break;
		case 't': o->token = optarg; break;
		case 'd': o->database_url = optarg; break;
		case 'o': o->op = optarg; break;
		case 'c':
			o->concurrency = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'D': o->duration_s = strtod(optarg, NULL); break;
		case 'n': o->count = strtoull(optarg, NULL, 10); break;
		case 'w': o->working_set = strtoul(optarg, NULL, 10); break;
		case 'x': o->distinct = true; break;
		case 'p': o->pairs = strtoul(optarg, NULL, 10); break;
		case 's': o->seed = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': o->permission = optarg; break;
		case 'T': o->transport = optarg; break;
		case 'g': o->tag = optarg; break;
		case 'm': o->timeout_ms = atoi(optarg); break;
		case 'e': o->echo_per_call = true; break;
		case 'r': o->max_rate = strtod(optarg, NULL); break;
		case 'L': o->local_cache = strtoul(optarg, NULL, 10); break;
		case 'S': o->subscribe = optarg; break;
		case 'C':
			if (strcmp(optarg, "thread") == 0)
				o->clients = CLIENTS_THREAD;
			else if (strcmp(optarg, "shared") == 0)
				o->clients = CLIENTS_SHARED;
			else {
				fprintf(
				    stderr, "--clients: thread or shared\n");
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->op == NULL || o->url == NULL) {
		usage(stderr);
		return -1;
	}
	if (o->concurrency == 0 || o->concurrency > MAX_THREADS ||
	    o->timeout_ms <= 0 || o->working_set == 0) {
		fprintf(stderr,
		    "--concurrency 1..%d, --timeout-ms and "
		    "--working-set above 0\n",
		    MAX_THREADS);
		return -1;
	}
	if (o->count == 0 && o->duration_s <= 0)
		o->duration_s = 3;
	if (o->transport == NULL)
		o->transport = strncmp(o->url, "ipc://", 6) == 0   ? "ipc"
		               : strncmp(o->url, "tcp://", 6) == 0 ? "tcp"
		                                                   : "other";
	return 0;
}

static int
setup(struct bench *b, char *msg, size_t size)
{
	const struct options *o = &b->o;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (strcmp(ops[i].name, o->op) == 0)
			b->op = &ops[i];
	if (b->op == NULL) {
		snprintf(
		    msg, size, "--op: no operation \"%s\" (see --help)", o->op);
		return -1;
	}
	unsigned seed;
	FILE *f = fopen("/dev/urandom", "r");
	if (f == NULL || fread(&seed, sizeof seed, 1, f) != 1)
		seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	if (f != NULL)
		fclose(f);
	/* create-user names must differ between runs even with one seed. */
	b->seed = o->seed != 0 ? o->seed : seed;
	snprintf(b->run_tag, sizeof b->run_tag, "%08x", seed);
	if (b->op->needs_population) {
		if (o->database_url == NULL) {
			snprintf(msg, size,
			    "--database-url: %s reads its population from the "
			    "database",
			    o->op);
			return -1;
		}
		size_t want = o->pairs;
		if (want == 0)
			want = b->op->cached && !o->distinct ? o->working_set
			                                     : 200000;
		if (population_read(o->database_url, b->op->population, want,
		        b->seed, &b->table, msg, size) != 0)
			return -1;
		if (b->table.rows == 0) {
			snprintf(msg, size,
			    "the database has no population "
			    "for %s (load bench/datagen.sql)",
			    o->op);
			return -1;
		}
		b->working_set = b->table.rows < o->working_set
		                     ? b->table.rows
		                     : o->working_set;
	}
	if (b->op->call == op_change_role || b->op->call == op_propagation) {
		b->roles = calloc(b->table.rows, sizeof *b->roles);
		if (b->roles == NULL) {
			snprintf(msg, size, "out of memory");
			return -1;
		}
		for (size_t r = 0; r < b->table.rows; r++)
			b->roles[r] = strcmp(id_table_cell(&b->table, r, 3),
			                  "member") == 0
			                  ? 1
			                  : 2;
	}

	if (is_echo(b)) {
		if (make_payload(b) != 0) {
			snprintf(msg, size, "cannot build the echo payload");
			return -1;
		}
		int rv;
		if (o->clients == CLIENTS_SHARED &&
		    (rv = echo_socket(b, &b->echo_sock)) != 0) {
			snprintf(msg, size, "echo socket %s: %s", o->url,
			    nng_strerror(rv));
			return -1;
		}
		b->echo_sock_open = o->clients == CLIENTS_SHARED;
	} else if (o->clients == CLIENTS_SHARED) {
		exa_error err;
		exa_client_options opts = {.timeout_ms = o->timeout_ms,
		    .local_cache_entries = o->local_cache,
		    .local_cache_subscribe = o->subscribe};
		if (exa_client_open(
		        o->url, o->token, &opts, &b->shared, &err) != EXA_OK) {
			snprintf(msg, size, "client: %s", err.message);
			return -1;
		}
	}
	size_t capacity = o->count > 0
	                      ? (size_t)o->count
	                      : (size_t)(o->duration_s * o->max_rate) + 1000;
	capacity += 256 * (size_t)o->concurrency;
	if (stats_pool_new(&b->pool, capacity) != 0) {
		snprintf(msg, size, "out of memory for %zu samples", capacity);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof *b);
	if (b == NULL || parse(argc, argv, &b->o) != 0)
		return 2;
	pthread_mutex_init(&b->error_lock, NULL);
	char msg[600] = "";
	if (setup(b, msg, sizeof msg) != 0) {
		fprintf(stderr, "exa-bench: %s\n", msg);
		return 1;
	}
	unsigned n = b->o.concurrency;
	struct worker *workers = calloc(n, sizeof *workers);
	if (workers == NULL) {
		fprintf(stderr, "exa-bench: out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		workers[i].index = i;
		if (worker_open(b, &workers[i], msg, sizeof msg) != 0) {
			fprintf(stderr, "exa-bench: %s\n", msg);
			return 1;
		}
		if (i == 0)
			b->workers_first = workers[0].client;
	}
	long rss_before = rss_kib();
	pthread_barrier_init(&b->ready, NULL, n + 1);
	pthread_barrier_init(&b->go, NULL, n + 1);
	for (unsigned i = 0; i < n; i++) {
		if (pthread_create(&workers[i].thread, NULL, worker_main,
		        &workers[i]) != 0) {
			fprintf(
			    stderr, "exa-bench: cannot start thread %u\n", i);
			return 1;
		}
	}
	pthread_barrier_wait(&b->ready);
	long rss_warm = rss_kib();
	double cpu_before = cpu_seconds();
	bool setup_failed = false;
	for (unsigned i = 0; i < n; i++)
		setup_failed |= workers[i].setup_failed != 0;
	uint64_t start = stats_now_ns();
	b->end_ns = start + (uint64_t)(b->o.duration_s * 1e9);
	pthread_barrier_wait(&b->go);
	uint64_t last = start, count = 0;
	for (unsigned i = 0; i < n; i++) {
		pthread_join(workers[i].thread, NULL);
		if (workers[i].finished_ns > last)
			last = workers[i].finished_ns;
		count += workers[i].rec.count;
	}
	if (setup_failed) {
		fprintf(stderr, "exa-bench: %s\n", b->first_error);
		return 1;
	}

	double cpu_used = cpu_seconds() - cpu_before;
	struct stats_summary s;
	stats_summarize(b->pool, count, (double)(last - start) / 1e9, &s);
	char labels[512];
	int len = snprintf(labels, sizeof labels,
	    "tool=exa-bench op=%s transport=%s conc=%u clients=%s%s%s%s "
	    "errors=%llu",
	    b->op->name, b->o.transport, n,
	    b->o.clients == CLIENTS_SHARED ? "shared" : "thread",
	    b->o.distinct ? " distinct=1" : "", b->o.tag != NULL ? " tag=" : "",
	    b->o.tag != NULL ? b->o.tag : "", (unsigned long long)b->errors);
	if (b->op->decisions > 1 && len > 0 && (size_t)len < sizeof labels)
		len += snprintf(labels + len, sizeof labels - (size_t)len,
		    " decisions_s=%.0f item_errors=%llu",
		    s.ops_per_s * b->op->decisions,
		    (unsigned long long)b->item_errors);
	if (is_echo(b) && len > 0 && (size_t)len < sizeof labels)
		len += snprintf(labels + len, sizeof labels - (size_t)len,
		    " bytes=%zu", b->payload_len);
	if (b->op->needs_population && len > 0 && (size_t)len < sizeof labels)
		snprintf(labels + len, sizeof labels - (size_t)len,
		    " population=%zu wrapped=%d", b->table.rows,
		    atomic_load(&b->wrapped) ? 1 : 0);
	if (b->o.local_cache > 0 && len > 0 && (size_t)len < sizeof labels) {
		exa_cache_stats st;
		exa_client_cache_stats(b->shared != NULL ? b->shared
		                                         : b->workers_first,
		    &st);
		len = (int)strlen(labels);
		snprintf(labels + len, sizeof labels - (size_t)len,
		    " local_hits=%llu local_misses=%llu local_entries=%llu "
		    "p50_ns=%.0f p99_ns=%.0f warm_rss_kib=%ld cpu_s=%.3f "
		    "ops_per_cpu_s=%.0f",
		    (unsigned long long)st.hits, (unsigned long long)st.misses,
		    (unsigned long long)st.entries, s.p50_us * 1000,
		    s.p99_us * 1000, rss_warm - rss_before, cpu_used,
		    cpu_used > 0 ? (double)count / cpu_used : 0);
	}
	stats_print(stdout, labels, &s);
	fprintf(stderr,
	    "%-16s %-4s c=%-3u %10.0f ops/s  p50 %8.1f us  p99 %8.1f us  "
	    "p99.9 %8.1f us%s\n",
	    b->op->name, b->o.transport, n, s.ops_per_s, s.p50_us, s.p99_us,
	    s.p999_us, b->errors > 0 ? "  (errors)" : "");
	if (b->errors > 0)
		fprintf(stderr, "exa-bench: %llu errors; the first: %s\n",
		    (unsigned long long)b->errors, b->first_error);
	if (atomic_load(&b->pool_full))
		fprintf(stderr, "exa-bench: the latency pool filled up; raise "
		                "--max-rate\n");

	for (unsigned i = 0; i < n; i++)
		worker_close(&workers[i]);
	exa_client_close(b->shared);
	if (b->echo_sock_open)
		nng_close(b->echo_sock);
	pthread_barrier_destroy(&b->ready);
	pthread_barrier_destroy(&b->go);
	pthread_mutex_destroy(&b->error_lock);
	stats_pool_free(b->pool);
	id_table_fini(&b->table);
	free(b->roles);
	free(b->payload);
	free(workers);
	free(b);
	return 0;
}
