/* Unit tests of dispatch: the method table's shape, look-ups, and the part
 * of the request pipeline that runs without a database (envelope → lookup →
 * deadline → unpack → validate), down to the reply it prepares. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/status.h"
#include "dispatch.h"
#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"
#include "rpc/envelope.h"
#include "rpc/pipeline.h"
#include "rpc/tokens.h"
#include "unit.h"

#define AUTHZ_PREFIX "exe.access.v1.AuthzService/"
#define WS_PREFIX "exe.access.v1.WorkspaceService/"
#define CREATE_USER WS_PREFIX "CreateUser"

enum { MAX_BYTES = 1 << 20 };

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The method name without its service, e.g. "GetUser". */
static const char *
short_name(const char *name)
{
	const char *slash = strrchr(name, '/');
	return slash != NULL ? slash + 1 : name;
}

/* The pipeline as the service runs it, without caller tokens. */
static const struct service_ctx test_svc = {.methods = &dispatch_table};

static void
call_start(struct call *call)
{
	memset(call, 0, sizeof *call);
	arena_init(&call->arena);
	call->svc = &test_svc;
}

/* pack_envelope packs an RpcRequest; the caller frees the buffer. */
static uint8_t *
pack_envelope(const char *method, const uint8_t *body, size_t body_len,
    const char *request_id, int64_t deadline_ms, size_t *len)
{
	Exe__Access__V1__RpcRequest req;
	exe__access__v1__rpc_request__init(&req);
	req.method = (char *)method;
	req.body.data = (uint8_t *)body;
	req.body.len = body_len;
	if (request_id != NULL)
		req.request_id = (char *)request_id;
	req.deadline_unix_ms = deadline_ms;
	size_t n = exe__access__v1__rpc_request__get_packed_size(&req);
	uint8_t *buf = malloc(n + 1);
	if (buf == NULL)
		abort();
	*len = exe__access__v1__rpc_request__pack(&req, buf);
	return buf;
}

/* create_user_body packs a CreateUserRequest; the caller frees it. */
static uint8_t *
create_user_body(const char *username, const char *email, size_t *len)
{
	Exe__Access__V1__CreateUserRequest req;
	exe__access__v1__create_user_request__init(&req);
	req.username = (char *)username;
	req.email = (char *)email;
	req.display_name = "Ada Lovelace";
	size_t n = exe__access__v1__create_user_request__get_packed_size(&req);
	uint8_t *buf = malloc(n + 1);
	if (buf == NULL)
		abort();
	*len = exe__access__v1__create_user_request__pack(&req, buf);
	return buf;
}

/* begin packs an envelope and runs pipeline_begin on it. */
static enum pipeline_next
begin(struct call *call, const char *method, const uint8_t *body,
    size_t body_len, const char *request_id, int64_t deadline_ms)
{
	size_t len;
	uint8_t *buf = pack_envelope(method, body, body_len, request_id,
	    deadline_ms, &len);
	enum pipeline_next next = pipeline_begin(call, buf, len, MAX_BYTES);
	free(buf);
	return next;
}

/* expect_reply checks that pipeline_reply turns the decided call into a
 * reply with its code, its message and the request's id, and that the
 * reply packs into an RpcResponse saying the same. */
static void
expect_reply(struct call *call, int code, const char *request_id)
{
	if (call->code == STATUS_OK && call->response == NULL) {
		/* Undecided: pipeline_begin said "reply" without a code. */
		fprintf(stderr, "  the call has neither an error nor a response "
		    "(expected code %d)\n", code);
		unit_case_failed = 1;
		return;
	}
	struct envelope_reply reply;
	pipeline_reply(call, MAX_BYTES, &reply);
	EXPECT_INT(reply.code, code);
	EXPECT_INT(call->code, code);
	if (code != STATUS_OK) {
		EXPECT(reply.message != NULL && reply.message[0] != '\0');
		EXPECT_INT(reply.body_len, 0);
	}
	if (request_id != NULL)
		EXPECT_STR(reply.request_id, request_id);
	else
		EXPECT(reply.request_id == NULL || reply.request_id[0] == '\0');

	size_t size = envelope_reply_size(&reply);
	uint8_t *buf = malloc(size + 1);
	if (buf == NULL)
		abort();
	size_t n = envelope_reply_pack(&reply, buf);
	Exe__Access__V1__RpcResponse *resp =
	    exe__access__v1__rpc_response__unpack(NULL, n, buf);
	EXPECT(resp != NULL);
	if (resp != NULL) {
		EXPECT_INT(resp->code, code);
		EXPECT_STR(resp->message, reply.message ? reply.message : "");
		EXPECT_STR(resp->request_id, request_id ? request_id : "");
		exe__access__v1__rpc_response__free_unpacked(resp, NULL);
	}
	free(buf);
}

/* end runs pipeline_end and checks the call is ready for reuse. */
static void
end(struct call *call)
{
	pipeline_end(call);
	EXPECT(call->method == NULL);
	EXPECT(call->envelope == NULL);
	EXPECT(call->request == NULL);
	EXPECT(call->response == NULL);
	EXPECT(call->secrets == NULL);
	EXPECT_INT(call->code, 0);
	EXPECT_INT(call->deadline_ms, 0);
	EXPECT_STR(call->message, "");
	EXPECT(call->arena.head == NULL);
	EXPECT_INT(call->arena.inline_used, 0);
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
table_matches_proto(void)
{
	char msg[256] = "";
	int rc = dispatch_check_table(msg, sizeof msg);
	EXPECT_INT(rc, 0);
	if (rc != 0)
		fprintf(stderr, "  %s\n", msg);
	EXPECT(dispatch_method_count > 0);
}

static void
row_names_have_a_service(void)
{
	for (size_t i = 0; i < dispatch_method_count; i++) {
		const char *name = dispatch_methods[i].name;
		if (!starts_with(name, AUTHZ_PREFIX) &&
		    !starts_with(name, WS_PREFIX)) {
			fprintf(stderr, "  row %zu: %s has no known service\n", i,
			    name);
			unit_case_failed = 1;
		}
		/* Something after the slash, and no second slash. */
		EXPECT(short_name(name)[0] != '\0');
		EXPECT(strchr(name, '/') == strrchr(name, '/'));
		EXPECT(strlen(name) <= LIMIT_METHOD);
		EXPECT(dispatch_methods[i].request != NULL);
		EXPECT(dispatch_methods[i].response != NULL);
	}
}

static void
no_duplicate_names(void)
{
	for (size_t i = 0; i < dispatch_method_count; i++) {
		for (size_t k = i + 1; k < dispatch_method_count; k++) {
			if (strcmp(dispatch_methods[i].name,
			        dispatch_methods[k].name) == 0) {
				fprintf(stderr, "  %s is in rows %zu and %zu\n",
				    dispatch_methods[i].name, i, k);
				unit_case_failed = 1;
			}
		}
	}
}

static void
lookup_each_row(void)
{
	for (size_t i = 0; i < dispatch_method_count; i++) {
		const struct method *m = dispatch_lookup(dispatch_methods[i].name);
		if (m != &dispatch_methods[i]) {
			fprintf(stderr, "  dispatch_lookup(%s) is not row %zu\n",
			    dispatch_methods[i].name, i);
			unit_case_failed = 1;
		}
	}
}

static void
lookup_unknown(void)
{
	static const char *const unknown[] = {
		"",
		"Check",
		"/Check",
		AUTHZ_PREFIX,
		AUTHZ_PREFIX "check",
		AUTHZ_PREFIX "Check ",
		" " AUTHZ_PREFIX "Check",
		AUTHZ_PREFIX "Check/",
		"exe.access.v1.AuthzService.Check",
		"exe.access.v2.AuthzService/Check",
		"AuthzService/Check",
		AUTHZ_PREFIX "CreateUser",
		WS_PREFIX "Check",
		WS_PREFIX "NoSuchMethod",
	};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		if (dispatch_lookup(unknown[i]) != NULL) {
			fprintf(stderr, "  dispatch_lookup(\"%s\") found a row\n",
			    unknown[i]);
			unit_case_failed = 1;
		}
	}
}

static void
authz_rows_need_check_scope(void)
{
	size_t authz = 0;
	for (size_t i = 0; i < dispatch_method_count; i++) {
		const struct method *m = &dispatch_methods[i];
		if (!starts_with(m->name, AUTHZ_PREFIX))
			continue;
		authz++;
		if (!(m->flags & METHOD_CHECK_SCOPE)) {
			fprintf(stderr, "  %s lacks METHOD_CHECK_SCOPE\n", m->name);
			unit_case_failed = 1;
		}
		if (m->flags & METHOD_WRITES) {
			fprintf(stderr, "  %s is marked as writing\n", m->name);
			unit_case_failed = 1;
		}
	}
	/* Check, BatchCheck, ListPermissions, VerifyApiKey, LookupResources,
	 * ReadChanges. */
	EXPECT_INT(authz, 6);
}

static void
workspace_reads_and_writes(void)
{
	/* SPEC §5: a `check` token may call AuthzService and reads; every
	 * change needs `admin`. Reads are the Get, List and Find methods.
	 * VerifyActivity reads too, but only for `admin`: it reports on
	 * every workspace's records. */
	for (size_t i = 0; i < dispatch_method_count; i++) {
		const struct method *m = &dispatch_methods[i];
		if (!starts_with(m->name, WS_PREFIX))
			continue;
		const char *s = short_name(m->name);
		bool read = starts_with(s, "Get") || starts_with(s, "List") ||
		    starts_with(s, "Find");
		bool admin_read = strcmp(s, "VerifyActivity") == 0;
		bool check = (m->flags & METHOD_CHECK_SCOPE) != 0;
		bool writes = (m->flags & METHOD_WRITES) != 0;
		if (admin_read ? check || writes
		               : check != read || writes == read) {
			fprintf(stderr, "  %s: check scope %d, writes %d\n",
			    m->name, check, writes);
			unit_case_failed = 1;
		}
	}
}

static void
begin_unknown_method(void)
{
	struct call call;
	call_start(&call);
	const char *name = WS_PREFIX "NoSuchMethod";
	EXPECT_INT(begin(&call, name, NULL, 0, "r-unknown", 0), PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_UNIMPLEMENTED);
	EXPECT_CONTAINS(call.message, name);
	EXPECT(call.method == NULL);
	expect_reply(&call, STATUS_UNIMPLEMENTED, "r-unknown");
	end(&call);
}

static void
begin_not_implemented(void)
{
	/* A row without a handler yet (WorkspaceService/AddMember once was
	 * one) answers UNIMPLEMENTED naming the method, before its body is
	 * even read. */
	const struct method *row = NULL;
	for (size_t i = 0; i < dispatch_method_count && row == NULL; i++) {
		if (dispatch_methods[i].handle == NULL)
			row = &dispatch_methods[i];
	}
	if (row == NULL) {
		printf("  (every method has a handler: nothing to check)\n");
		return;
	}
	static const uint8_t junk[] = {0xff, 0xff, 0xff};
	struct call call;
	call_start(&call);
	EXPECT_INT(begin(&call, row->name, junk, sizeof junk, "r-todo", 0),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_UNIMPLEMENTED);
	EXPECT_CONTAINS(call.message, "not implemented");
	EXPECT_CONTAINS(call.message, short_name(row->name));
	EXPECT(call.method == row);
	expect_reply(&call, STATUS_UNIMPLEMENTED, "r-todo");
	end(&call);
}

static void
begin_deadline_passed(void)
{
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("ada", "ada@example.com", &body_len);
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-late", 1),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_DEADLINE_EXCEEDED);
	EXPECT_CONTAINS(call.message, "deadline");
	expect_reply(&call, STATUS_DEADLINE_EXCEEDED, "r-late");
	end(&call);

	/* One second ago has passed too. */
	call_start(&call);
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-late",
	               now_ms() - 1000), PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_DEADLINE_EXCEEDED);
	end(&call);
	free(body);
}

static void
begin_deadline_ahead(void)
{
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("ada", "ada@example.com", &body_len);
	/* An absolute deadline (older callers) becomes one on the monotonic
	 * clock, as far ahead as it was on this host's wall clock. */
	int64_t before = clock_mono_ms();
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-soon",
	               now_ms() + 3600 * 1000), PIPELINE_NEEDS_DB);
	int64_t after = clock_mono_ms();
	EXPECT_INT(call.code, STATUS_OK);
	EXPECT(call.deadline_ms >= before + 3600 * 1000 - 1);
	EXPECT(call.deadline_ms <= after + 3600 * 1000);
	end(&call);
	free(body);
}

/* begin_budget runs pipeline_begin on a CreateUser envelope with a time
 * budget and an absolute deadline. */
static enum pipeline_next
begin_budget(struct call *call, int64_t timeout_ms, int64_t deadline_unix_ms)
{
	size_t body_len;
	uint8_t *body = create_user_body("ada", "ada@example.com", &body_len);
	Exe__Access__V1__RpcRequest req;
	exe__access__v1__rpc_request__init(&req);
	req.method = CREATE_USER;
	req.body.data = body;
	req.body.len = body_len;
	req.timeout_ms = timeout_ms;
	req.deadline_unix_ms = deadline_unix_ms;
	uint8_t buf[512];
	size_t n = exe__access__v1__rpc_request__pack(&req, buf);
	free(body);
	return pipeline_begin(call, buf, n, MAX_BYTES);
}

static void
begin_budget_ignores_the_wall_clock(void)
{
	/* A budget counts from arrival on the monotonic clock; an absolute
	 * deadline beside it, however skewed (here the epoch's first
	 * millisecond), changes nothing. */
	struct call call;
	call_start(&call);
	int64_t before = clock_mono_ms();
	EXPECT_INT(begin_budget(&call, 2000, 1), PIPELINE_NEEDS_DB);
	int64_t after = clock_mono_ms();
	EXPECT_INT(call.code, STATUS_OK);
	EXPECT(call.deadline_ms >= before + 2000);
	EXPECT(call.deadline_ms <= after + 2000);
	end(&call);

	/* Counted from the arrival (started_ns): a request that arrived
	 * 3 s ago with a 2 s budget is late already. */
	call_start(&call);
	call.started_ns = clock_mono_ns() - 3000ull * 1000000;
	EXPECT_INT(begin_budget(&call, 2000, 0), PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_DEADLINE_EXCEEDED);
	end(&call);

	/* An absurd budget is a long one, not an overflow. */
	call_start(&call);
	EXPECT_INT(begin_budget(&call, INT64_MAX, 0), PIPELINE_NEEDS_DB);
	EXPECT(call.deadline_ms > clock_mono_ms());
	end(&call);
}

static void
begin_body_not_the_message(void)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff};
	struct call call;
	call_start(&call);
	EXPECT_INT(begin(&call, CREATE_USER, junk, sizeof junk, "r-junk", 0),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(call.message, "body");
	EXPECT(call.request == NULL);
	expect_reply(&call, STATUS_INVALID_ARGUMENT, "r-junk");
	end(&call);
}

static void
begin_empty_username(void)
{
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("", "ada@example.com", &body_len);
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-empty", 0),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(call.message, "username");
	expect_reply(&call, STATUS_INVALID_ARGUMENT, "r-empty");
	end(&call);
	free(body);

	/* An empty body is a request with every field empty. */
	call_start(&call);
	EXPECT_INT(begin(&call, CREATE_USER, NULL, 0, NULL, 0), PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(call.message, "username");
	expect_reply(&call, STATUS_INVALID_ARGUMENT, NULL);
	end(&call);
}

static void
begin_bad_email(void)
{
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("ada", "not-an-address", &body_len);
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-mail", 0),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(call.message, "email");
	expect_reply(&call, STATUS_INVALID_ARGUMENT, "r-mail");
	end(&call);
	free(body);
}

static void
begin_valid_create_user(void)
{
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("ada.lovelace", "ada@example.com",
	    &body_len);
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-ok", 0),
	    PIPELINE_NEEDS_DB);
	EXPECT_INT(call.code, STATUS_OK);
	EXPECT(call.method == dispatch_lookup(CREATE_USER));
	EXPECT(call.request != NULL);
	if (call.request != NULL) {
		const Exe__Access__V1__CreateUserRequest *req =
		    (const Exe__Access__V1__CreateUserRequest *)call.request;
		EXPECT_STR(req->username, "ada.lovelace");
		EXPECT_STR(req->email, "ada@example.com");
	}
	/* Without a database the call ends UNAVAILABLE, with a reply. */
	pipeline_run(&call, NULL);
	EXPECT_INT(call.code, STATUS_UNAVAILABLE);
	EXPECT_CONTAINS(call.message, "database");
	expect_reply(&call, STATUS_UNAVAILABLE, "r-ok");
	end(&call);
	free(body);
}

static void
begin_bad_envelope(void)
{
	/* Empty input: no envelope, so no request_id to echo. */
	struct call call;
	call_start(&call);
	uint8_t byte = 0;
	EXPECT_INT(pipeline_begin(&call, &byte, 0, MAX_BYTES), PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT(call.envelope == NULL);
	expect_reply(&call, STATUS_INVALID_ARGUMENT, NULL);
	end(&call);

	/* Over the size limit. */
	call_start(&call);
	size_t len;
	uint8_t *buf = pack_envelope(CREATE_USER, NULL, 0, "r-big", 0, &len);
	EXPECT_INT(pipeline_begin(&call, buf, len, len - 1), PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_RESOURCE_EXHAUSTED);
	expect_reply(&call, STATUS_RESOURCE_EXHAUSTED, NULL);
	end(&call);
	free(buf);

	/* A request_id unfit to echo is dropped from the reply. */
	call_start(&call);
	EXPECT_INT(begin(&call, CREATE_USER, NULL, 0, "bad\xc0\xaf", 0),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(call.message, "request_id");
	expect_reply(&call, STATUS_INVALID_ARGUMENT, NULL);
	end(&call);

	/* Missing method, but the request_id is still echoed. */
	call_start(&call);
	EXPECT_INT(begin(&call, "", NULL, 0, "r-nomethod", 0), PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(call.message, "method");
	expect_reply(&call, STATUS_INVALID_ARGUMENT, "r-nomethod");
	end(&call);
}

static void
begin_get_user_bad_id(void)
{
	Exe__Access__V1__GetUserRequest req;
	exe__access__v1__get_user_request__init(&req);
	req.user_id = "not-a-uuid";
	uint8_t body[64];
	EXPECT(exe__access__v1__get_user_request__get_packed_size(&req) <=
	    sizeof body);
	size_t body_len = exe__access__v1__get_user_request__pack(&req, body);
	struct call call;
	call_start(&call);
	EXPECT_INT(begin(&call, WS_PREFIX "GetUser", body, body_len, "r-get", 0),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(call.message, "user_id");
	expect_reply(&call, STATUS_INVALID_ARGUMENT, "r-get");
	end(&call);
}

/* respond plays a handler: a CreateUserResponse built in the call's arena. */
static void
respond(struct call *call, const char *api_key)
{
	Exe__Access__V1__CreateUserResponse *resp = call_new(call, sizeof *resp);
	Exe__Access__V1__User *user = call_new(call, sizeof *user);
	EXPECT(resp != NULL && user != NULL);
	if (resp == NULL || user == NULL)
		return;
	exe__access__v1__create_user_response__init(resp);
	exe__access__v1__user__init(user);
	user->username = call_strdup(call, "ada.lovelace");
	resp->user = user;
	resp->api_key = call_strdup(call, api_key);
	resp->revision = 7;
	call->response = &resp->base;
	call->code = STATUS_OK;
}

static void
reply_carries_the_response(void)
{
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("ada.lovelace", "ada@example.com",
	    &body_len);
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-resp", 0),
	    PIPELINE_NEEDS_DB);
	respond(&call, "exa_live_secret");
	struct envelope_reply reply;
	pipeline_reply(&call, MAX_BYTES, &reply);
	EXPECT_INT(reply.code, STATUS_OK);
	EXPECT_STR(reply.message, "");
	EXPECT_STR(reply.request_id, "r-resp");
	Exe__Access__V1__CreateUserResponse *got =
	    exe__access__v1__create_user_response__unpack(NULL, reply.body_len,
	        reply.body);
	EXPECT(got != NULL);
	if (got != NULL) {
		EXPECT(got->user != NULL);
		if (got->user != NULL)
			EXPECT_STR(got->user->username, "ada.lovelace");
		EXPECT_STR(got->api_key, "exa_live_secret");
		EXPECT_INT(got->revision, 7);
		exe__access__v1__create_user_response__free_unpacked(got, NULL);
	}
	end(&call);
	free(body);
}

static void
reply_over_limit_is_resource_exhausted(void)
{
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("ada.lovelace", "ada@example.com",
	    &body_len);
	EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "r-huge", 0),
	    PIPELINE_NEEDS_DB);
	respond(&call, "exa_live_secret");
	size_t need = protobuf_c_message_get_packed_size(call.response);
	struct envelope_reply reply;
	pipeline_reply(&call, need - 1, &reply);
	EXPECT_INT(reply.code, STATUS_RESOURCE_EXHAUSTED);
	EXPECT_INT(reply.body_len, 0);
	EXPECT_STR(reply.request_id, "r-huge");
	char num[32];
	snprintf(num, sizeof num, "%zu", need);
	EXPECT_CONTAINS(reply.message, num);
	end(&call);
	free(body);
}

static void
call_is_reusable(void)
{
	/* One call object serves request after request. */
	struct call call;
	call_start(&call);
	size_t body_len;
	uint8_t *body = create_user_body("ada", "ada@example.com", &body_len);
	for (int i = 0; i < 3; i++) {
		EXPECT_INT(begin(&call, WS_PREFIX "NoSuchMethod", NULL, 0, "a", 0),
		    PIPELINE_REPLY);
		EXPECT_INT(call.code, STATUS_UNIMPLEMENTED);
		expect_reply(&call, STATUS_UNIMPLEMENTED, "a");
		end(&call);
		EXPECT_INT(begin(&call, CREATE_USER, body, body_len, "b", 0),
		    PIPELINE_NEEDS_DB);
		EXPECT_INT(call.code, STATUS_OK);
		end(&call);
	}
	free(body);
}

static void
request_secrets_are_wiped(void)
{
	/* A secret that arrives in a request (here VerifyApiKey's, refused
	 * by its checksum, but it arrived all the same) is unpacked into the
	 * call's arena, and pipeline_end wipes it: the bytes where it stood
	 * are zero afterwards. */
	static const char secret[] = "exa_wipe_me_0123456789abcdefghijklmnop";
	Exe__Access__V1__VerifyApiKeyRequest req =
	    EXE__ACCESS__V1__VERIFY_API_KEY_REQUEST__INIT;
	req.secret = (char *)secret;
	uint8_t body[128];
	size_t body_len = exe__access__v1__verify_api_key_request__pack(&req,
	    body);
	struct call call;
	call_start(&call);
	EXPECT_INT(begin(&call, AUTHZ_PREFIX "VerifyApiKey", body, body_len,
	               "w", 0),
	    PIPELINE_REPLY);
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	const Exe__Access__V1__VerifyApiKeyRequest *got =
	    (const void *)call.request;
	EXPECT(got != NULL);
	if (got == NULL)
		return;
	EXPECT_STR(got->secret, secret);
	/* Small requests live in the arena's first kilobyte, inside the
	 * call: still ours to read after pipeline_end. */
	const char *at = got->secret;
	const char *buf = call.arena.inline_buf;
	bool inside = at >= buf && at + sizeof secret <= buf + sizeof
	    call.arena.inline_buf;
	EXPECT(inside);
	end(&call);
	if (inside) {
		for (size_t i = 0; i < sizeof secret; i++)
			EXPECT_INT(at[i], 0);
	}
}

/* pack_list_members packs a ListMembersRequest; the caller frees it. */
static uint8_t *
pack_list_members(const char *actor, const char *workspace_id,
    uint32_t page_size, size_t *len)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	Exe__Access__V1__ListMembersRequest req =
	    EXE__ACCESS__V1__LIST_MEMBERS_REQUEST__INIT;
	if (actor != NULL) {
		p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
		p.user_id = (char *)actor;
		req.actor = &p;
	}
	req.workspace_id = (char *)workspace_id;
	req.page_size = page_size;
	size_t n = exe__access__v1__list_members_request__get_packed_size(&req);
	uint8_t *buf = malloc(n + 1);
	if (buf == NULL)
		abort();
	*len = exe__access__v1__list_members_request__pack(&req, buf);
	return buf;
}

/* The rows' prologue flags make the pipeline check actor, workspace and
 * page size once, with the field's name, and keep the page size. */
static void
prologue_checks_flagged_fields(void)
{
	static const char *const list_members =
	    "exe.access.v1.WorkspaceService/ListMembers";
	const char *ok_id = "3c764f00-52c9-4e0c-bf7d-1f1335d459dd";
	const struct method *m = dispatch_lookup(list_members);
	EXPECT(m != NULL && (m->flags & METHOD_ACTOR) &&
	    (m->flags & METHOD_WORKSPACE) && (m->flags & METHOD_PAGED));
	static const struct {
		const char *actor, *workspace;
		uint32_t page_size;
		int code;
		const char *says;
	} cases[] = {
	    {NULL, "3c764f00-52c9-4e0c-bf7d-1f1335d459dd", 10,
	        STATUS_INVALID_ARGUMENT, "actor"},
	    {"nope", "3c764f00-52c9-4e0c-bf7d-1f1335d459dd", 10,
	        STATUS_INVALID_ARGUMENT, "actor.user_id"},
	    {"3c764f00-52c9-4e0c-bf7d-1f1335d459dd", "", 10,
	        STATUS_INVALID_ARGUMENT, "workspace_id"},
	    {"3c764f00-52c9-4e0c-bf7d-1f1335d459dd", "x", 10,
	        STATUS_INVALID_ARGUMENT, "workspace_id"},
	    {"3c764f00-52c9-4e0c-bf7d-1f1335d459dd",
	        "3c764f00-52c9-4e0c-bf7d-1f1335d459dd", 100000,
	        STATUS_INVALID_ARGUMENT, "page_size"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct call call;
		call_start(&call);
		size_t len;
		uint8_t *body = pack_list_members(cases[i].actor,
		    cases[i].workspace, cases[i].page_size, &len);
		EXPECT_INT(begin(&call, list_members, body, len, NULL, 0),
		    PIPELINE_REPLY);
		EXPECT_INT(call.code, cases[i].code);
		EXPECT_CONTAINS(call.message, cases[i].says);
		end(&call);
		free(body);
	}
	/* A good request goes on to a worker with its page size kept. */
	struct call call;
	call_start(&call);
	size_t len;
	uint8_t *body = pack_list_members(ok_id, ok_id, 7, &len);
	EXPECT_INT(begin(&call, list_members, body, len, NULL, 0),
	    PIPELINE_NEEDS_DB);
	EXPECT_INT(call.page_size, 7);
	end(&call);
	free(body);
}

/* dispatch_check_table refuses a row whose flags name a field its request
 * does not have (or has in a oneof), so a slip in a row stops the start. */
static void
prologue_fields_are_checked_at_start(void)
{
	char msg[256];
	struct method m = {.name = "exe.access.v1.AuthzService/Check",
	    .request = &exe__access__v1__check_request__descriptor,
	    .flags = METHOD_ACTOR};
	EXPECT(!method_prologue_check(&m, msg, sizeof msg));
	EXPECT_CONTAINS(msg, "actor");
	/* CheckRequest's workspace_id is in the oneof target. */
	m.flags = METHOD_WORKSPACE;
	EXPECT(!method_prologue_check(&m, msg, sizeof msg));
	EXPECT_CONTAINS(msg, "workspace_id");
	m.flags = METHOD_PAGED;
	EXPECT(!method_prologue_check(&m, msg, sizeof msg));
	m.request = &exe__access__v1__list_members_request__descriptor;
	m.flags = METHOD_ACTOR | METHOD_WORKSPACE | METHOD_PAGED;
	EXPECT(method_prologue_check(&m, msg, sizeof msg));
}

/* begin_as packs a Check envelope carrying caller token `token` (and no
 * body, which the method's validate refuses after the caller's slot is
 * taken) and runs pipeline_begin on it. */
static enum pipeline_next
begin_as(struct call *call, const char *token)
{
	Exe__Access__V1__RpcRequest req;
	exe__access__v1__rpc_request__init(&req);
	req.method = AUTHZ_PREFIX "Check";
	req.token = (char *)token;
	uint8_t buf[256];
	size_t n = exe__access__v1__rpc_request__pack(&req, buf);
	return pipeline_begin(call, buf, n, MAX_BYTES);
}

static void
no_per_caller_limit_counts_nothing_back(void)
{
	/* With no per-caller limit (0), calls that end must not leave the
	 * caller's in-flight count below zero: once a limit of one is in
	 * force, a caller with nothing in flight is still served, and only
	 * a second call at once is refused. */
	EXPECT(sodium_init() >= 0);
	char token[TOKENS_LEN + 1], hash[TOKENS_HASH_HEX + 1];
	tokens_mint(token, hash);
	char path[] = "/tmp/exe-access-dispatch-tokens-XXXXXX";
	int fd = mkstemp(path);
	EXPECT(fd >= 0);
	if (fd < 0)
		return;
	char line[128];
	int len = snprintf(line, sizeof line, "web-api check %s\n", hash);
	EXPECT(write(fd, line, (size_t)len) == len);
	close(fd);
	char msg[256];
	struct tokens *tokens = NULL;
	EXPECT_INT(tokens_open(&tokens, path, msg, sizeof msg), 0);
	unlink(path);
	if (tokens == NULL)
		return;
	struct service_ctx svc = {.methods = &dispatch_table,
	    .tokens = tokens, .max_in_flight_per_caller = 0};

	struct call call;
	for (int i = 0; i < 3; i++) {
		call_start(&call);
		call.svc = &svc;
		begin_as(&call, token);
		EXPECT(call.code != STATUS_RESOURCE_EXHAUSTED);
		EXPECT(call.code != STATUS_UNAUTHENTICATED);
		pipeline_end(&call);
	}

	svc.max_in_flight_per_caller = 1;
	struct call second;
	call_start(&call);
	call.svc = &svc;
	begin_as(&call, token);
	EXPECT(call.code != STATUS_RESOURCE_EXHAUSTED);
	call_start(&second);
	second.svc = &svc;
	begin_as(&second, token);
	EXPECT_INT(second.code, STATUS_RESOURCE_EXHAUSTED);
	pipeline_end(&second);
	pipeline_end(&call);
	/* Both ended: the one slot is free again. */
	call_start(&call);
	call.svc = &svc;
	begin_as(&call, token);
	EXPECT(call.code != STATUS_RESOURCE_EXHAUSTED);
	pipeline_end(&call);
	tokens_close(tokens);
}

static const struct unit_case cases[] = {
	{"no_per_caller_limit_counts_nothing_back",
	    no_per_caller_limit_counts_nothing_back},
	{"request_secrets_are_wiped", request_secrets_are_wiped},
	{"prologue_checks_flagged_fields", prologue_checks_flagged_fields},
	{"prologue_fields_are_checked_at_start",
	    prologue_fields_are_checked_at_start},
	{"table_matches_proto", table_matches_proto},
	{"row_names_have_a_service", row_names_have_a_service},
	{"no_duplicate_names", no_duplicate_names},
	{"lookup_each_row", lookup_each_row},
	{"lookup_unknown", lookup_unknown},
	{"authz_rows_need_check_scope", authz_rows_need_check_scope},
	{"workspace_reads_and_writes", workspace_reads_and_writes},
	{"begin_unknown_method", begin_unknown_method},
	{"begin_not_implemented", begin_not_implemented},
	{"begin_deadline_passed", begin_deadline_passed},
	{"begin_deadline_ahead", begin_deadline_ahead},
	{"begin_budget_ignores_the_wall_clock",
	    begin_budget_ignores_the_wall_clock},
	{"begin_body_not_the_message", begin_body_not_the_message},
	{"begin_empty_username", begin_empty_username},
	{"begin_bad_email", begin_bad_email},
	{"begin_valid_create_user", begin_valid_create_user},
	{"begin_bad_envelope", begin_bad_envelope},
	{"begin_get_user_bad_id", begin_get_user_bad_id},
	{"reply_carries_the_response", reply_carries_the_response},
	{"reply_over_limit_is_resource_exhausted",
	    reply_over_limit_is_resource_exhausted},
	{"call_is_reusable", call_is_reusable},
};

UNIT_MAIN(cases)
