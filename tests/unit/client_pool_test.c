/* client_pool_test: libexeaccess against a fake service played with a raw
 * nng rep0 socket in this process (no daemon, no database): calls reuse
 * nng contexts, so a call after a timed-out, a dropped or a concurrent
 * one must still get its own answer; request ids stay distinct; a batch
 * grows past its first capacity and stops at 1000 items. (nng's req0
 * already drops a reply whose context was reset; the late-reply cases
 * guard the pool against handing such a context, or its aio, to a later
 * call in any other state.)
 *
 * The fake answers Check with a reason naming the request it answers
 * ("<permission> for <principal> in <workspace>"), so a test sees at once
 * whose answer a call got. A permission "sleep:N" makes it wait N ms
 * before answering; "drop" makes it close its socket instead. */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <exe/access.h>

#include "exe/access/v1/rpc.pb-c.h"
#include "unit/unit.h"

enum { MAX_IDS = 4096 };

struct fake {
	nng_socket sock;
	pthread_t thread;
	bool running;
	char url[128];
	pthread_mutex_t lock;
	char ids[MAX_IDS][17]; /* request ids seen, under lock */
	size_t n_ids;
	/* The last request's budget and absolute deadline, under lock. */
	int64_t timeout_ms, deadline_unix_ms;
};

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool
is_key(const Exe__Access__V1__CheckRequest *r)
{
	return r->principal != NULL &&
	       r->principal->kind_case ==
	           EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
}

/* describe writes the reason the fake answers `r` with. */
static void
describe(char *out, size_t size, const Exe__Access__V1__CheckRequest *r)
{
	const char *who = r->principal == NULL ? "?"
	                  : is_key(r)          ? r->principal->api_key
	                                       : r->principal->user_id;
	snprintf(
	    out, size, "%s for %s in %s", r->permission, who, r->workspace_id);
}

/* pack_check packs the fake's CheckResponse to `r` into *out (malloc'd). */
static size_t
pack_check(const Exe__Access__V1__CheckRequest *r, uint8_t **out)
{
	char reason[300];
	describe(reason, sizeof reason, r);
	Exe__Access__V1__CheckResponse resp =
	    EXE__ACCESS__V1__CHECK_RESPONSE__INIT;
	resp.allowed = is_key(r);
	resp.reason = reason;
	resp.revision = 7;
	size_t len = exe__access__v1__check_response__get_packed_size(&resp);
	*out = malloc(len + 1);
	exe__access__v1__check_response__pack(&resp, *out);
	return len;
}

/* pack_batch packs the fake's BatchCheckResponse to `r` into *out. */
static size_t
pack_batch(const Exe__Access__V1__BatchCheckRequest *r, uint8_t **out)
{
	size_t n = r->n_checks;
	Exe__Access__V1__BatchCheckResult *items = calloc(n + 1, sizeof *items);
	Exe__Access__V1__BatchCheckResult **list = calloc(n + 1, sizeof *list);
	Exe__Access__V1__CheckResponse *results =
	    calloc(n + 1, sizeof *results);
	char(*reasons)[300] = calloc(n + 1, sizeof *reasons);
	for (size_t i = 0; i < n; i++) {
		exe__access__v1__batch_check_result__init(&items[i]);
		exe__access__v1__check_response__init(&results[i]);
		const Exe__Access__V1__CheckRequest *c = r->checks[i];
		describe(reasons[i], sizeof reasons[i], c);
		results[i].reason = reasons[i];
		results[i].allowed = is_key(c);
		items[i].result = &results[i];
		list[i] = &items[i];
	}
	Exe__Access__V1__BatchCheckResponse resp =
	    EXE__ACCESS__V1__BATCH_CHECK_RESPONSE__INIT;
	resp.results = list;
	resp.n_results = n;
	size_t len =
	    exe__access__v1__batch_check_response__get_packed_size(&resp);
	*out = malloc(len + 1);
	exe__access__v1__batch_check_response__pack(&resp, *out);
	free(reasons);
	free(results);
	free(list);
	free(items);
	return len;
}

/* fake_reply builds the reply to one request; false: drop the socket. */
static bool
fake_reply(
    struct fake *f, const Exe__Access__V1__RpcRequest *env, nng_msg **reply)
{
	pthread_mutex_lock(&f->lock);
	if (f->n_ids < MAX_IDS)
		snprintf(f->ids[f->n_ids++], sizeof f->ids[0], "%s",
		    env->request_id);
	f->timeout_ms = env->timeout_ms;
	f->deadline_unix_ms = env->deadline_unix_ms;
	pthread_mutex_unlock(&f->lock);

	Exe__Access__V1__RpcResponse resp = EXE__ACCESS__V1__RPC_RESPONSE__INIT;
	resp.request_id = env->request_id;
	uint8_t *body = NULL;
	if (strcmp(env->method, "exe.access.v1.AuthzService/Check") == 0) {
		Exe__Access__V1__CheckRequest *r =
		    exe__access__v1__check_request__unpack(
		        NULL, env->body.len, env->body.data);
		if (r == NULL)
			return false;
		if (strcmp(r->permission, "drop") == 0) {
			exe__access__v1__check_request__free_unpacked(r, NULL);
			return false;
		}
		if (strncmp(r->permission, "sleep:", 6) == 0)
			sleep_ms(atol(r->permission + 6));
		resp.body.len = pack_check(r, &body);
		exe__access__v1__check_request__free_unpacked(r, NULL);
	} else if (strcmp(env->method,
	               "exe.access.v1.AuthzService/BatchCheck") == 0) {
		Exe__Access__V1__BatchCheckRequest *r =
		    exe__access__v1__batch_check_request__unpack(
		        NULL, env->body.len, env->body.data);
		if (r == NULL)
			return false;
		resp.body.len = pack_batch(r, &body);
		exe__access__v1__batch_check_request__free_unpacked(r, NULL);
	} else {
		resp.code = EXA_UNIMPLEMENTED;
		resp.message = "the fake knows Check and BatchCheck";
	}
	resp.body.data = body;
	size_t len = exe__access__v1__rpc_response__get_packed_size(&resp);
	if (nng_msg_alloc(reply, len) != 0) {
		free(body);
		return false;
	}
	exe__access__v1__rpc_response__pack(&resp, nng_msg_body(*reply));
	free(body);
	return true;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		nng_msg *msg;
		if (nng_recvmsg(f->sock, &msg, 0) != 0)
			return NULL; /* closed */
		Exe__Access__V1__RpcRequest *env =
		    exe__access__v1__rpc_request__unpack(
		        NULL, nng_msg_len(msg), nng_msg_body(msg));
		nng_msg_free(msg);
		nng_msg *reply = NULL;
		bool ok = env != NULL && fake_reply(f, env, &reply);
		exe__access__v1__rpc_request__free_unpacked(env, NULL);
		if (!ok) {
			nng_close(f->sock);
			return NULL;
		}
		if (nng_sendmsg(f->sock, reply, 0) != 0)
			nng_msg_free(reply);
	}
}

/* fake_start listens on f->url (set by fake_init) and serves. */
static void
fake_start(struct fake *f)
{
	int rv = nng_rep0_open(&f->sock);
	if (rv == 0)
		rv = nng_listen(f->sock, f->url, NULL, 0);
	if (rv != 0) {
		fprintf(stderr, "fake: cannot listen on %s: %s\n", f->url,
		    nng_strerror(rv));
		exit(1);
	}
	pthread_create(&f->thread, NULL, fake_main, f);
	f->running = true;
}

static void
fake_init(struct fake *f)
{
	static int serial;
	memset(f, 0, sizeof *f);
	pthread_mutex_init(&f->lock, NULL);
	snprintf(f->url, sizeof f->url, "ipc:///tmp/exa-client-pool-%d-%d.sock",
	    (int)getpid(), ++serial);
}

/* fake_join waits for the server thread (stopping it first if asked). */
static void
fake_join(struct fake *f, bool stop)
{
	if (!f->running)
		return;
	if (stop)
		nng_close(f->sock);
	pthread_join(f->thread, NULL);
	f->running = false;
}

static struct fake *
fake_new(void)
{
	struct fake *f = malloc(sizeof *f);
	fake_init(f);
	fake_start(f);
	return f;
}

static void
fake_free(struct fake *f)
{
	fake_join(f, true);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static exa_client *
client_for(const struct fake *f)
{
	exa_client *c = NULL;
	exa_error err;
	exa_client_options opts = {.timeout_ms = 5000};
	if (exa_client_open(f->url, "token", &opts, &c, &err) != EXA_OK) {
		fprintf(stderr, "cannot open a client: %s\n", err.message);
		exit(1);
	}
	return c;
}

/* check_with_timeout is exa_check with its own timeout. */
static exa_status
check_with_timeout(
    exa_client *c, const char *permission, int timeout_ms, exa_error *err)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = "u-slow";
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &p;
	req.permission = (char *)permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	req.workspace_id = "w-slow";
	ProtobufCMessage *resp = NULL;
	exa_status rc = exa_client_call(c, "exe.access.v1.AuthzService/Check",
	    &req.base, &exe__access__v1__check_response__descriptor, timeout_ms,
	    &resp, err);
	exa_free(resp);
	return rc;
}

/* expect_own_answer makes one exa_check and expects the fake's answer to
 * exactly this request. */
static void
expect_own_answer(exa_client *c, const char *user, const char *permission,
    const char *workspace)
{
	exa_decision d;
	exa_error err;
	memset(&err, 0, sizeof err);
	exa_status rc = exa_check(c, user, permission, workspace, &d, &err);
	EXPECT_INT(rc, EXA_OK);
	if (rc != EXA_OK) {
		fprintf(stderr, "  %s: %s\n", exa_status_name(rc), err.message);
		return;
	}
	char want[300];
	snprintf(
	    want, sizeof want, "%s for %s in %s", permission, user, workspace);
	EXPECT_STR(d.reason, want);
	EXPECT_INT(d.revision, 7);
	EXPECT(!d.allowed);
}

static void
test_call_after_timeout_gets_its_own_answer(void)
{
	struct fake *f = fake_new();
	exa_client *c = client_for(f);
	expect_own_answer(c, "u-0", "warm.up", "w-0");
	/* The fake answers this one 400 ms late: while the next call waits
	 * on the same socket, and on the context the first one would have
	 * given back had it been kept. */
	exa_error err;
	EXPECT_INT(check_with_timeout(c, "sleep:400", 100, &err),
	    EXA_DEADLINE_EXCEEDED);
	EXPECT_CONTAINS(err.message, "within 100 ms");
	expect_own_answer(c, "u-1", "after.timeout", "w-1");
	/* Twice in a row, then many calls: each still its own answer. */
	EXPECT_INT(check_with_timeout(c, "sleep:300", 50, &err),
	    EXA_DEADLINE_EXCEEDED);
	EXPECT_INT(check_with_timeout(c, "sleep:300", 50, &err),
	    EXA_DEADLINE_EXCEEDED);
	for (int i = 0; i < 20; i++) {
		char perm[32];
		snprintf(perm, sizeof perm, "perm.%d", i);
		expect_own_answer(c, "u-2", perm, "w-2");
	}
	exa_client_close(c);
	fake_free(f);
}

static void
test_calls_carry_their_budget(void)
{
	/* A call sends its time budget, which the service counts from
	 * arrival, and no wall-clock deadline a skewed clock would shift. */
	struct fake *f = fake_new();
	exa_client *c = client_for(f);
	expect_own_answer(c, "u-0", "budget", "w-0");
	pthread_mutex_lock(&f->lock);
	EXPECT_INT(f->timeout_ms, 5000); /* the client's default */
	EXPECT_INT(f->deadline_unix_ms, 0);
	pthread_mutex_unlock(&f->lock);
	exa_error err;
	EXPECT_INT(check_with_timeout(c, "own.timeout", 1234, &err), EXA_OK);
	pthread_mutex_lock(&f->lock);
	EXPECT_INT(f->timeout_ms, 1234);
	pthread_mutex_unlock(&f->lock);
	exa_client_close(c);
	fake_free(f);
}

static void
test_call_after_dropped_connection(void)
{
	struct fake *f = fake_new();
	exa_client *c = client_for(f);
	expect_own_answer(c, "u-0", "before.drop", "w-0");
	exa_error err;
	/* The fake closes its socket holding this request: the call fails
	 * (the request is not resent), and its context is not reused. */
	EXPECT(check_with_timeout(c, "drop", 2000, &err) != EXA_OK);
	fake_join(f, false);
	fake_start(f); /* a new server on the same path */
	expect_own_answer(c, "u-1", "after.drop", "w-1");
	expect_own_answer(c, "u-2", "and.again", "w-2");
	exa_client_close(c);
	fake_free(f);
}

static void
test_timeout_before_any_server(void)
{
	struct fake *f = malloc(sizeof *f);
	fake_init(f);
	exa_client *c = client_for(f);
	exa_error err;
	/* Nobody listens yet: the send itself times out. */
	EXPECT_INT(check_with_timeout(c, "no.server", 100, &err),
	    EXA_DEADLINE_EXCEEDED);
	fake_start(f);
	expect_own_answer(c, "u-1", "server.up", "w-1");
	exa_client_close(c);
	fake_free(f);
}

enum { THREADS = 8, CALLS = 100 };

struct caller {
	exa_client *c;
	int index;
	int wrong;
};

static void *
caller_main(void *arg)
{
	struct caller *k = arg;
	for (int i = 0; i < CALLS; i++) {
		char user[32], perm[32], want[128];
		snprintf(user, sizeof user, "u-%d", k->index);
		snprintf(perm, sizeof perm, "p.%d.%d", k->index, i);
		snprintf(want, sizeof want, "%s for %s in w", perm, user);
		exa_decision d;
		exa_error err;
		if (exa_check(k->c, user, perm, "w", &d, &err) != EXA_OK ||
		    strcmp(d.reason, want) != 0)
			k->wrong++;
	}
	return NULL;
}

static bool
is_hex16(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static int
compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_threads_share_a_client(void)
{
	struct fake *f = fake_new();
	exa_client *c = client_for(f);
	struct caller callers[THREADS];
	pthread_t threads[THREADS];
	for (int i = 0; i < THREADS; i++) {
		callers[i] = (struct caller){c, i, 0};
		pthread_create(&threads[i], NULL, caller_main, &callers[i]);
	}
	int wrong = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		wrong += callers[i].wrong;
	}
	EXPECT_INT(wrong, 0);
	exa_client_close(c);
	fake_join(f, true);

	/* Every request carried a request id of 16 hex digits, none twice. */
	EXPECT_INT(f->n_ids, THREADS * CALLS);
	size_t bad = 0;
	for (size_t i = 0; i < f->n_ids; i++)
		if (!is_hex16(f->ids[i]))
			bad++;
	EXPECT_INT(bad, 0);
	qsort(f->ids, f->n_ids, sizeof f->ids[0], compare_ids);
	size_t repeated = 0;
	for (size_t i = 1; i < f->n_ids; i++)
		if (strcmp(f->ids[i - 1], f->ids[i]) == 0)
			repeated++;
	EXPECT_INT(repeated, 0);
	fake_free(f);
}

/* add_items appends items [from, to) to b: even ones for users, odd ones
 * for API keys, each with its own strings. */
static void
add_items(exa_batch *b, int from, int to)
{
	for (int i = from; i < to; i++) {
		char who[32], perm[32], ws[32];
		snprintf(who, sizeof who, "%s-%d", i % 2 ? "key" : "user", i);
		snprintf(perm, sizeof perm, "perm.%d", i);
		snprintf(ws, sizeof ws, "ws-%d", i);
		long at = i % 2 ? exa_batch_add_key(b, who, perm, ws)
		                : exa_batch_add_user(b, who, perm, ws);
		EXPECT_INT(at, i);
	}
}

/* expect_results checks that item i of b got the answer to item i. */
static void
expect_results(const exa_batch *b, int n)
{
	int wrong = 0;
	for (int i = 0; i < n; i++) {
		char want[128];
		snprintf(want, sizeof want, "perm.%d for %s-%d in ws-%d", i,
		    i % 2 ? "key" : "user", i, i);
		exa_decision d;
		exa_error item;
		if (exa_batch_result(b, (size_t)i, &d, &item) != EXA_OK ||
		    strcmp(d.reason, want) != 0 || d.allowed != (i % 2 == 1))
			wrong++;
	}
	EXPECT_INT(wrong, 0);
	exa_decision d;
	exa_error item;
	EXPECT_INT(
	    exa_batch_result(b, (size_t)n, &d, &item), EXA_FAILED_PRECONDITION);
}

static void
test_batch_grows_past_first_capacity(void)
{
	struct fake *f = fake_new();
	exa_client *c = client_for(f);
	exa_batch *b = exa_batch_new();
	exa_error err;
	add_items(b, 0, 100);
	EXPECT_INT(exa_batch_size(b), 100);
	EXPECT_INT(exa_batch_run(c, b, 0, &err), EXA_OK);
	expect_results(b, 100);
	/* Grown again after a run (the items move): run again. */
	add_items(b, 100, 300);
	EXPECT_INT(exa_batch_run(c, b, 5, &err), EXA_OK);
	expect_results(b, 300);
	exa_batch_free(b);

	/* An empty batch runs too. */
	b = exa_batch_new();
	EXPECT_INT(exa_batch_run(c, b, 0, &err), EXA_OK);
	expect_results(b, 0);
	exa_batch_free(b);
	exa_client_close(c);
	fake_free(f);
}

static void
test_batch_holds_at_most_1000(void)
{
	struct fake *f = fake_new();
	exa_client *c = client_for(f);
	exa_batch *b = exa_batch_new();
	add_items(b, 0, 1000);
	EXPECT_INT(exa_batch_add_user(b, "user-x", "perm.x", "ws-x"), -1);
	EXPECT_INT(exa_batch_add_key(b, "key-x", "perm.x", "ws-x"), -1);
	EXPECT_INT(exa_batch_size(b), 1000);
	exa_error err;
	EXPECT_INT(exa_batch_run(c, b, 0, &err), EXA_OK);
	expect_results(b, 1000);
	exa_batch_free(b);
	exa_client_close(c);
	fake_free(f);
}

static void
test_batch_rejects_missing_strings(void)
{
	exa_batch *b = exa_batch_new();
	EXPECT_INT(exa_batch_add_user(b, NULL, "p", "w"), -1);
	EXPECT_INT(exa_batch_add_key(b, "k", NULL, "w"), -1);
	EXPECT_INT(exa_batch_add_user(b, "u", "p", NULL), -1);
	EXPECT_INT(exa_batch_add_user(NULL, "u", "p", "w"), -1);
	EXPECT_INT(exa_batch_size(b), 0);
	exa_decision d;
	exa_error item;
	EXPECT_INT(exa_batch_result(b, 0, &d, &item), EXA_FAILED_PRECONDITION);
	exa_batch_free(b);
	exa_batch_free(NULL);
}

/* expect_refused opens a client on `urls` with `o` and expects it refused
 * with INVALID_ARGUMENT and a message that starts with `field`. */
static void
expect_refused(const char *urls, const exa_client_options *o,
    const char *field)
{
	exa_client *c = NULL;
	exa_error err = {0};
	exa_status rc = exa_client_open(urls, "token", o, &c, &err);
	EXPECT_INT(rc, EXA_INVALID_ARGUMENT);
	EXPECT(c == NULL);
	if (strncmp(err.message, field, strlen(field)) != 0) {
		fprintf(stderr, "  expected a message about %s, got \"%s\"\n",
		    field, err.message);
		unit_case_failed = 1;
	}
	if (rc == EXA_OK)
		exa_client_close(c);
}

static void
test_options_that_cannot_work_are_refused(void)
{
	const char *url = "ipc:///tmp/exa-options-test.sock";
	exa_client_options o = {.timeout_ms = -1};
	expect_refused(url, &o, "timeout_ms");
	o = (exa_client_options){.local_cache_entries = (size_t)-1};
	expect_refused(url, &o, "local_cache_entries");
	o = (exa_client_options){.local_cache_entries = 100,
	    .local_cache_max_staleness_ms = -5};
	expect_refused(url, &o, "local_cache_max_staleness_ms");
	o = (exa_client_options){.local_cache_entries = 100,
	    .local_cache_poll_ms = -5};
	expect_refused(url, &o, "local_cache_poll_ms");
	/* Read every 5 s, answer for 1 s: silent gaps. */
	o = (exa_client_options){.local_cache_entries = 100,
	    .local_cache_poll_ms = 5000};
	expect_refused(url, &o, "local_cache_poll_ms");
	o = (exa_client_options){.local_cache_subscribe = url};
	expect_refused(url, &o, "local_cache_subscribe");
	o = (exa_client_options){.local_cache_entries = 100,
	    .local_cache_subscribe = "tls+tcp://127.0.0.1:1"};
	expect_refused(url, &o, "local_cache_subscribe");
	expect_refused(",", NULL, "url");
	expect_refused(",,", NULL, "url");
	/* And what works still opens. */
	o = (exa_client_options){.local_cache_entries = 100,
	    .local_cache_poll_ms = 50, .local_cache_max_staleness_ms = 500};
	exa_client *c = NULL;
	exa_error err;
	EXPECT_INT(exa_client_open(url, "token", &o, &c, &err), EXA_OK);
	exa_client_close(c);
}

static const struct unit_case cases[] = {
    {"call_after_timeout_gets_its_own_answer",
        test_call_after_timeout_gets_its_own_answer},
    {"call_after_dropped_connection", test_call_after_dropped_connection},
    {"calls_carry_their_budget", test_calls_carry_their_budget},
    {"timeout_before_any_server", test_timeout_before_any_server},
    {"threads_share_a_client", test_threads_share_a_client},
    {"batch_grows_past_first_capacity", test_batch_grows_past_first_capacity},
    {"batch_holds_at_most_1000", test_batch_holds_at_most_1000},
    {"batch_rejects_missing_strings", test_batch_rejects_missing_strings},
    {"options_that_cannot_work_are_refused",
        test_options_that_cannot_work_are_refused},
};

UNIT_MAIN(cases)
