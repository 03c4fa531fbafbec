/* Time budgets (RpcRequest.timeout_ms) on a real exe-accessd with one
 * database worker: a budget counts from arrival, so an absolute deadline
 * from a skewed clock beside it changes nothing; a read whose statement
 * would outlive its budget is cancelled and answered DEADLINE_EXCEEDED at
 * the budget, and the worker serves the next call; a write that would
 * outlive its budget is answered DEADLINE_EXCEEDED and is not committed.
 * The test holds locks from a connection of its own, so that the
 * service's statements wait. Raw nng req0 sockets, so that the test sees
 * the service's own answer rather than the client library's timeout. */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exe/access/v1/rpc.pb-c.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "harness.h"
#include "unit/unit.h"

/* As in wire_test: this program's own req sockets are not leak-checked
 * (nng 1.5.2 leaks a pipe the peer dropped); the daemon is. */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:libnng.so\n";
}

static struct harness h;

#define GET_USER "exe.access.v1.WorkspaceService/GetUser"
#define CREATE_USER "exe.access.v1.WorkspaceService/CreateUser"
#define NOBODY "00000000-0000-4000-8000-000000000000"

struct reply {
	bool received;
	int code;
	char message[512];
	long after_ms; /* from the send */
};

static long
mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* request_send packs an envelope for `method` with `body` and sends it on
 * a new socket, whose reply request_wait reads. */
static nng_socket
request_send(const char *method, const uint8_t *body, size_t body_len,
    int64_t timeout_ms, int64_t deadline_unix_ms, long *sent_ms)
{
	Exe__Access__V1__RpcRequest req = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	req.method = (char *)method;
	req.body.data = (uint8_t *)body;
	req.body.len = body_len;
	req.request_id = "deadline-test";
	req.timeout_ms = timeout_ms;
	req.deadline_unix_ms = deadline_unix_ms;
	req.token = h.token;
	nng_socket s = NNG_SOCKET_INITIALIZER;
	nng_msg *msg = NULL;
	if (nng_req0_open(&s) != 0)
		return s;
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	size_t n = exe__access__v1__rpc_request__get_packed_size(&req);
	if (nng_dial(s, h.url, NULL, 0) != 0 || nng_msg_alloc(&msg, n) != 0) {
		nng_close(s);
		return (nng_socket)NNG_SOCKET_INITIALIZER;
	}
	exe__access__v1__rpc_request__pack(&req, nng_msg_body(msg));
	*sent_ms = mono_ms();
	if (nng_sendmsg(s, msg, 0) != 0)
		nng_msg_free(msg);
	return s;
}

/* request_wait waits up to `ms` for the reply on `s`. */
static struct reply
request_wait(nng_socket s, long sent_ms, int ms)
{
	struct reply r = {0};
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, ms);
	nng_msg *in;
	if (nng_recvmsg(s, &in, 0) != 0)
		return r;
	r.after_ms = mono_ms() - sent_ms;
	Exe__Access__V1__RpcResponse *resp =
	    exe__access__v1__rpc_response__unpack(NULL, nng_msg_len(in),
	        nng_msg_body(in));
	if (resp != NULL) {
		r.received = true;
		r.code = resp->code;
		snprintf(r.message, sizeof r.message, "%s", resp->message);
		exe__access__v1__rpc_response__free_unpacked(resp, NULL);
	}
	nng_msg_free(in);
	return r;
}

static size_t
get_user_body(uint8_t *out)
{
	Exe__Access__V1__GetUserRequest get =
	    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	get.user_id = NOBODY;
	return exe__access__v1__get_user_request__pack(&get, out);
}

/* call runs one GetUser with the given budget and deadline. */
static struct reply
get_user(int64_t timeout_ms, int64_t deadline_unix_ms, int wait_ms)
{
	uint8_t body[128];
	size_t len = get_user_body(body);
	long sent;
	nng_socket s = request_send(GET_USER, body, len, timeout_ms,
	    deadline_unix_ms, &sent);
	struct reply r = request_wait(s, sent, wait_ms);
	nng_close(s);
	return r;
}

/* sql runs a statement on the test's own connection; false on failure. */
static bool
sql(const char *text)
{
	PGresult *res = PQexec(h.db, text);
	bool ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "  %s: %s", text, PQerrorMessage(h.db));
	PQclear(res);
	return ok;
}

static void
a_budget_ignores_the_wall_clocks(void)
{
	/* Beside a 5 s budget, the absolute deadline a caller whose clock
	 * is far behind would write (the first millisecond of 1970): the
	 * budget counts, from arrival, and the call is served. */
	struct reply r = get_user(5000, 1, 5000);
	EXPECT(r.received);
	EXPECT_INT(r.code, 5); /* NOT_FOUND: it ran */
	/* The same budget alone. */
	r = get_user(5000, 0, 5000);
	EXPECT_INT(r.code, 5);
	/* A negative budget is refused, naming the field. */
	r = get_user(-1, 0, 5000);
	EXPECT_INT(r.code, 3);
	EXPECT_CONTAINS(r.message, "timeout_ms");
}

static void
a_read_past_its_budget_is_cancelled(void)
{
	/* users locked against any access: the GetUser's statement waits
	 * for the lock, and its 400 ms budget runs out meanwhile. */
	EXPECT(sql("BEGIN") && sql("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"));
	uint8_t body[128];
	size_t len = get_user_body(body);
	long sent;
	nng_socket s = request_send(GET_USER, body, len, 400, 0, &sent);
	struct reply r = request_wait(s, sent, 2500);
	EXPECT(sql("ROLLBACK"));
	nng_close(s);
	EXPECT(r.received);
	EXPECT_INT(r.code, 4);
	EXPECT_CONTAINS(r.message, "deadline");
	printf("  answered after %ld ms (budget 400 ms)\n", r.after_ms);
	EXPECT(r.after_ms >= 350 && r.after_ms < 1500);
	/* The one worker serves the next calls, with and without a budget:
	 * no statement_timeout is left behind for them. */
	EXPECT_INT(get_user(0, 0, 5000).code, 5);
	EXPECT_INT(get_user(3000, 0, 5000).code, 5);
	EXPECT(sql("BEGIN") && sql("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"));
	s = request_send(GET_USER, body, len, 0, 0, &sent);
	usleep(1000 * 1000); /* longer than any budget the worker ran */
	EXPECT(sql("ROLLBACK"));
	r = request_wait(s, sent, 5000);
	nng_close(s);
	EXPECT_INT(r.code, 5); /* waited for the lock, as long as it took */
}

static void
a_write_past_its_budget_is_not_committed(void)
{
	/* The revision row locked: every write waits for it in its last
	 * statement. A CreateUser with a 400 ms budget is answered
	 * DEADLINE_EXCEEDED at its budget, rolled back, and after the lock
	 * is gone the user still does not exist. */
	Exe__Access__V1__CreateUserRequest create =
	    EXE__ACCESS__V1__CREATE_USER_REQUEST__INIT;
	create.username = "late.writer";
	create.email = "late.writer@example.com";
	create.display_name = "Late Writer";
	uint8_t body[256];
	size_t len = exe__access__v1__create_user_request__pack(&create, body);
	EXPECT(sql("BEGIN") &&
	    sql("SELECT value FROM revision_counter FOR UPDATE"));
	long sent;
	nng_socket s = request_send(CREATE_USER, body, len, 400, 0, &sent);
	struct reply r = request_wait(s, sent, 2500);
	EXPECT(sql("ROLLBACK"));
	if (!r.received) /* too late to matter; see what it was */
		r = request_wait(s, sent, 5000);
	nng_close(s);
	EXPECT_INT(r.code, 4);
	EXPECT_CONTAINS(r.message, "nothing was changed");
	printf("  answered after %ld ms (budget 400 ms)\n", r.after_ms);
	EXPECT(r.after_ms >= 350 && r.after_ms < 1500);
	usleep(300 * 1000);
	EXPECT_INT(harness_sql_long(&h,
	               "SELECT count(*) FROM users WHERE username = $1",
	               "late.writer", NULL),
	    0);
	/* With the budget to spare, the same write commits. */
	s = request_send(CREATE_USER, body, len, 5000, 0, &sent);
	r = request_wait(s, sent, 5000);
	nng_close(s);
	EXPECT_INT(r.code, 0);
	EXPECT_INT(harness_sql_long(&h,
	               "SELECT count(*) FROM users WHERE username = $1",
	               "late.writer", NULL),
	    1);
}

static const struct unit_case cases[] = {
    {"a budget ignores the wall clocks", a_budget_ignores_the_wall_clocks},
    {"a read past its budget is cancelled",
        a_read_past_its_budget_is_cancelled},
    {"a write past its budget is not committed",
        a_write_past_its_budget_is_not_committed},
};

UNIT_STATE

int
main(void)
{
	harness_start(&h, "deadline", (const char *const[]){"--workers=1", NULL});
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int status = harness_stop(&h);
	return failed == 0 && status == 0 ? 0 : 1;
}
