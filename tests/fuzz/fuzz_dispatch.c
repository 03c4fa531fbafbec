/* Fuzz target of the request pipeline of every method, without a database:
 * pipeline_begin (envelope, caller token, method lookup, deadline, body,
 * the method's validate function, its fast path with no cache), then
 * pipeline_reply and pipeline_end, as the server runs them. A call that
 * would go on to a database worker is answered UNAVAILABLE here; its
 * handler never runs. The input picks the method, the caller and the
 * limits and carries the request body, or the whole envelope (layout in
 * fuzz.h). Besides what the sanitizers catch, it checks that every call is
 * decided, that no caller gets past its token or its scope, that no string
 * with a NUL byte or another control character gets past validation, and
 * that every reply has a code, a readable message and none of the
 * request's secrets. */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/secrets.h"
#include "base/status.h"
#include "dispatch.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "fuzz.h"
#include "rpc/call.h"
#include "rpc/envelope.h"
#include "rpc/pipeline.h"
#include "rpc/tokens.h"
#include "rpc/validate.h"
#include "rpc/wiretext.h"

_Static_assert(sizeof FUZZ_TOKEN_ADMIN - 1 == TOKENS_LEN, "token length");
_Static_assert(sizeof FUZZ_TOKEN_CHECK - 1 == TOKENS_LEN, "token length");
_Static_assert(sizeof FUZZ_TOKEN_UNKNOWN - 1 == TOKENS_LEN, "token length");

/* Invitation tokens: "exa_inv_" and 43 base64url characters. */
#define INVITATION_PREFIX "exa_inv_"
enum { INVITATION_LEN = 8 + 43, SECRETS_MAX = 16 };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct service_ctx svc_open; /* no token table */
static struct service_ctx svc_auth; /* knows the admin and check tokens */
/* EXA_FUZZ_VERBOSE=1 prints how each call ends: for reading what an input
 * does, e.g. when reproducing a crash. */
static bool verbose;
/* EXA_FUZZ_TOLERATE lets a long run go on past bug classes that are known
 * and reported, instead of stopping at the first input that hits them
 * again; each is counted and the counts printed at exit. Not for CI.
 * A comma-separated list of:
 *   undecided  a validate function refused a request without recording
 *              it in call->code, leaving the call undecided, which crashes
 *              pipeline_reply (tests/fuzz/crashes/undecided-*); the call is
 *              answered INVALID_ARGUMENT, as it should have been
 *   utf8       a reply's text is not UTF-8 (tests/fuzz/crashes/utf8-*) */
enum tolerance { TOLERATE_UNDECIDED, TOLERATE_UTF8, TOLERATE_KINDS };
static const char *const tolerance_names[] = {"undecided", "utf8"};
_Static_assert(sizeof tolerance_names / sizeof tolerance_names[0] ==
        TOLERATE_KINDS,
    "a name for each tolerance");
static bool tolerated[TOLERATE_KINDS];
static unsigned long tolerated_count[TOLERATE_KINDS];

/* tokens_load writes a token file naming FUZZ_TOKEN_ADMIN and
 * FUZZ_TOKEN_CHECK to a temporary file, opens it and removes the file. */
static struct tokens *
tokens_load(void)
{
	const char *dir = getenv("TMPDIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/exa-fuzz-tokens.XXXXXX",
	    dir != NULL && dir[0] != '\0' ? dir : "/tmp");
	int fd = mkstemp(path);
	FUZZ_CHECK(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
	FILE *f = fdopen(fd, "w");
	FUZZ_CHECK(f != NULL, "fdopen %s: %s", path, strerror(errno));
	char admin[TOKENS_HASH_HEX + 1], check[TOKENS_HASH_HEX + 1];
	tokens_hash(FUZZ_TOKEN_ADMIN, admin);
	tokens_hash(FUZZ_TOKEN_CHECK, check);
	fprintf(f, "# name scope hash\nfuzz-admin admin %s\n"
	           "fuzz-check check %s\n", admin, check);
	FUZZ_CHECK(fclose(f) == 0, "writing %s: %s", path, strerror(errno));

	struct tokens *t = NULL;
	char msg[256] = "";
	int rc = tokens_open(&t, path, msg, sizeof msg);
	unlink(path);
	FUZZ_CHECK(rc == 0, "%s", msg);
	FUZZ_CHECK(tokens_count(t) == 2, "%zu tokens", tokens_count(t));
	return t;
}

static bool
env_flag(const char *name)
{
	const char *v = getenv(name);
	return v != NULL && strcmp(v, "1") == 0;
}

static void
tolerance_report(void)
{
	for (size_t i = 0; i < TOLERATE_KINDS; i++) {
		if (tolerated[i])
			fprintf(stderr, "fuzz_dispatch: tolerated %s: %lu times\n",
			    tolerance_names[i], tolerated_count[i]);
	}
}

/* tolerance_parse reads EXA_FUZZ_TOLERATE. */
static void
tolerance_parse(void)
{
	const char *list = getenv("EXA_FUZZ_TOLERATE");
	if (list == NULL || list[0] == '\0')
		return;
	char copy[128];
	snprintf(copy, sizeof copy, "%s", list);
	char *save = NULL;
	for (char *name = strtok_r(copy, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		size_t k = 0;
		while (k < TOLERATE_KINDS && strcmp(name, tolerance_names[k]) != 0)
			k++;
		FUZZ_CHECK(k < TOLERATE_KINDS,
		    "EXA_FUZZ_TOLERATE: no check named \"%s\"", name);
		tolerated[k] = true;
	}
	atexit(tolerance_report);
}

/* tolerate says whether a failed check of kind `k` is let pass. */
static bool
tolerate(enum tolerance k)
{
	if (tolerated[k])
		tolerated_count[k]++;
	return tolerated[k];
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(sodium_init() >= 0, "sodium_init failed");
	FUZZ_CHECK(dispatch_method_count > 0 && dispatch_method_count <= 256,
	    "%zu methods do not fit the input's first byte",
	    dispatch_method_count);
	unsigned char *key = sodium_malloc(SECRET_HASH_KEY_BYTES);
	FUZZ_CHECK(key != NULL, "sodium_malloc failed");
	for (size_t i = 0; i < SECRET_HASH_KEY_BYTES; i++)
		key[i] = (unsigned char)(0xa5 ^ i);
	FUZZ_CHECK(sodium_mprotect_readonly(key) == 0, "mprotect failed");
	svc_open = (struct service_ctx){
	    .methods = &dispatch_table, .tokens = NULL, .hash_key = key};
	svc_auth = (struct service_ctx){.methods = &dispatch_table,
	    .tokens = tokens_load(), .hash_key = key};
	verbose = env_flag("EXA_FUZZ_VERBOSE");
	tolerance_parse();
	return 0;
}

/* token_fault notes a fault wiretext found in the envelope's token
 * (field 5 of RpcRequest). */
static bool
token_fault(void *arg, const struct wiretext_fault *f)
{
	if (f->top_field == 5)
		*(bool *)arg = true;
	return true;
}

/* token_caller says whose token the envelope `buf` (`len` bytes) carries,
 * `token` being protobuf-c's copy of it. A token is known only when its
 * whole wire value is: "KNOWN\0junk" reads as KNOWN to strcmp, but is
 * another token to the service. */
static enum fuzz_caller
token_caller(const char *token, const uint8_t *buf, size_t len)
{
	bool unfit = false;
	wiretext_walk(&exe__access__v1__rpc_request__descriptor, buf, len,
	    token_fault, &unfit);
	if (unfit)
		return FUZZ_CALLER_UNKNOWN;
	if (strcmp(token, FUZZ_TOKEN_ADMIN) == 0)
		return FUZZ_CALLER_ADMIN;
	if (strcmp(token, FUZZ_TOKEN_CHECK) == 0)
		return FUZZ_CALLER_CHECK;
	return FUZZ_CALLER_UNKNOWN;
}

static int64_t
deadline_ms(unsigned flags)
{
	struct timespec now;
	switch ((flags & FUZZ_DEADLINE_MASK) >> FUZZ_DEADLINE_SHIFT) {
	case FUZZ_DEADLINE_PASSED: return 1;
	case FUZZ_DEADLINE_AHEAD:
		clock_gettime(CLOCK_REALTIME, &now);
		return ((int64_t)now.tv_sec + 3600) * 1000;
	case FUZZ_DEADLINE_MAX: return INT64_MAX;
	default: return 0;
	}
}

/* wrap packs `body` into an RpcRequest for method `m` as the flags say;
 * the caller frees the buffer. */
static uint8_t *
wrap(const struct method *m, const uint8_t *body, size_t body_len,
    unsigned flags, size_t *len)
{
	static const char *const tokens[] = {
	    [FUZZ_CALLER_NONE] = "",
	    [FUZZ_CALLER_ADMIN] = FUZZ_TOKEN_ADMIN,
	    [FUZZ_CALLER_CHECK] = FUZZ_TOKEN_CHECK,
	    [FUZZ_CALLER_UNKNOWN] = FUZZ_TOKEN_UNKNOWN,
	};
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	env.method = (char *)m->name;
	env.body.data = (uint8_t *)body;
	env.body.len = body_len;
	env.token = (char *)tokens[(flags & FUZZ_CALLER_MASK) >>
	    FUZZ_CALLER_SHIFT];
	if (flags & FUZZ_REQUEST_ID)
		env.request_id = FUZZ_REQUEST_ID_TEXT;
	env.deadline_unix_ms = deadline_ms(flags);
	size_t n = exe__access__v1__rpc_request__get_packed_size(&env);
	uint8_t *buf = malloc(n + 1);
	FUZZ_CHECK(buf != NULL, "out of memory");
	*len = exe__access__v1__rpc_request__pack(&env, buf);
	return buf;
}

/* string_fn is called for each string field set in a message. */
typedef void (*string_fn)(const ProtobufCFieldDescriptor *field,
    const char *value, void *arg);

/* strings_each calls `fn` on every string field set in `msg` and in the
 * messages it holds, repeated fields and oneofs included. */
static void
strings_each(const ProtobufCMessage *msg, string_fn fn, void *arg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which;
			memcpy(&which, base + f->quantifier_offset, sizeof which);
			if (which != f->id)
				continue;
		}
		size_t n = 1;
		const void *const *values = (const void *const *)(base + f->offset);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			memcpy(&n, base + f->quantifier_offset, sizeof n);
			values = *(const void *const *const *)(base + f->offset);
		}
		for (size_t k = 0; k < n; k++) {
			if (values[k] == NULL)
				continue;
			if (f->type == PROTOBUF_C_TYPE_STRING)
				fn(f, values[k], arg);
			else
				strings_each(values[k], fn, arg);
		}
	}
}

/* The secrets a request carried: well-formed caller tokens, API keys and
 * invitation tokens, which no reply may repeat. */
struct secrets {
	const char *list[SECRETS_MAX];
	size_t n;
};

static void
secrets_add(struct secrets *s, const char *value)
{
	if (s->n < SECRETS_MAX)
		s->list[s->n++] = value;
}

static void
secret_field_cb(const ProtobufCFieldDescriptor *field, const char *value,
    void *arg)
{
	size_t len = strlen(value);
	bool key = strcmp(field->name, "api_key") == 0 ||
	    strcmp(field->name, "secret") == 0;
	bool invitation = strcmp(field->name, "token") == 0 &&
	    len == INVITATION_LEN &&
	    strncmp(value, INVITATION_PREFIX, 8) == 0;
	if ((key && secret_well_formed(SECRET_API_KEY, value, len)) || invitation)
		secrets_add(arg, value);
}

/* secrets_of collects the secrets of the call's envelope and request. */
static void
secrets_of(const struct call *call, struct secrets *out)
{
	memset(out, 0, sizeof *out);
	const Exe__Access__V1__RpcRequest *env = (const void *)call->envelope;
	if (env != NULL && strlen(env->token) == TOKENS_LEN &&
	    strncmp(env->token, SECRET_CALLER_TOKEN_PREFIX, 8) == 0)
		secrets_add(out, env->token);
	if (call->request != NULL)
		strings_each(call->request, secret_field_cb, out);
}

static void
check_text(const char *what, const char *value, const struct secrets *s)
{
	FUZZ_CHECK(validate_utf8(value, strlen(value)) ||
	        tolerate(TOLERATE_UTF8),
	    "%s is not UTF-8: \"%s\"", what, value);
	for (size_t i = 0; i < s->n; i++)
		FUZZ_CHECK(strstr(value, s->list[i]) == NULL,
		    "%s repeats a secret of the request: \"%s\"", what, value);
}

static void
response_field_cb(const ProtobufCFieldDescriptor *field, const char *value,
    void *arg)
{
	check_text(field->name, value, arg);
}

/* check_begin holds pipeline_begin to deciding the call or handing it on
 * ready for a database worker. */
static void
check_begin(const struct call *call, enum pipeline_next next)
{
	const struct method *m = call->method;
	FUZZ_CHECK(memchr(call->message, '\0', sizeof call->message) != NULL,
	    "the message is not terminated");
	if (call->request != NULL)
		FUZZ_CHECK(m != NULL && call->request->descriptor == m->request,
		    "the body was unpacked as something else");
	/* Past validation, every string of the body was fit text over its
	 * whole wire length: nothing after a NUL byte went unseen. */
	const Exe__Access__V1__RpcRequest *env = (const void *)call->envelope;
	char fault[256];
	if (call->code == STATUS_OK && call->request != NULL)
		FUZZ_CHECK(wiretext_first(m->request, env->body.data,
		               env->body.len, fault, sizeof fault) ||
		        (m->flags & METHOD_ITEMS),
		    "%s got past validation with %s", m->name, fault);
	if (next == PIPELINE_NEEDS_DB) {
		FUZZ_CHECK(call->code == STATUS_OK, "to the database with %d: %s",
		    call->code, call->message);
		FUZZ_CHECK(m != NULL && m->handle != NULL && call->request != NULL,
		    "to the database without a method, a handler or a body");
		FUZZ_CHECK(call->response == NULL && call->message[0] == '\0',
		    "to the database with an answer");
		return;
	}
	FUZZ_CHECK(next == PIPELINE_REPLY, "pipeline_begin returned %d", next);
	if (call->code != STATUS_OK)
		return;
	/* Answered OK without a database: only a fast path does that. */
	FUZZ_CHECK(m != NULL && m->fast != NULL && call->request != NULL,
	    "OK without a fast path");
	FUZZ_CHECK(call->response != NULL, "undecided: neither error nor "
	                                   "response");
	FUZZ_CHECK(call->response->descriptor == m->response,
	    "%s answered with a %s", m->name, call->response->descriptor->name);
}

/* check_access holds pipeline_begin to the token table: with one, only a
 * known token gets its method looked up, and only a token whose scope
 * covers the method gets its body read. */
static void
check_access(const struct call *call, enum pipeline_next next,
    const uint8_t *buf, size_t len)
{
	const Exe__Access__V1__RpcRequest *env = (const void *)call->envelope;
	if (call->svc->tokens == NULL || env == NULL)
		return;
	enum fuzz_caller who = token_caller(env->token, buf, len);
	const struct method *m = call->method;
	bool body_read = call->request != NULL || next == PIPELINE_NEEDS_DB ||
	    call->code == STATUS_OK;
	if (who == FUZZ_CALLER_UNKNOWN) {
		FUZZ_CHECK(m == NULL && !body_read,
		    "an unknown token got to %s", m != NULL ? m->name : "?");
		FUZZ_CHECK(call->code == STATUS_UNAUTHENTICATED ||
		        call->code == STATUS_INVALID_ARGUMENT ||
		        call->code == STATUS_RESOURCE_EXHAUSTED,
		    "an unknown token: %d %s", call->code, call->message);
		return;
	}
	FUZZ_CHECK(call->code != STATUS_UNAUTHENTICATED,
	    "a known token was refused: %s", call->message);
	if (m == NULL)
		return;
	FUZZ_CHECK(strcmp(call->caller.name, who == FUZZ_CALLER_ADMIN
	                                         ? "fuzz-admin"
	                                         : "fuzz-check") == 0,
	    "the caller is \"%s\"", call->caller.name);
	if (who == FUZZ_CALLER_CHECK && !(m->flags & METHOD_CHECK_SCOPE)) {
		FUZZ_CHECK(!body_read && call->code == STATUS_PERMISSION_DENIED,
		    "a check token got into %s: %d %s", m->name, call->code,
		    call->message);
	}
}

/* check_reply holds pipeline_reply to a reply with the call's code, a
 * message for an error, a body of the method's response type for OK, an
 * echo of a fit request_id, and no secret of the request anywhere. */
static void
check_reply(const struct call *call, const struct envelope_reply *reply,
    size_t max_reply, const struct secrets *secrets)
{
	FUZZ_CHECK(reply->code == call->code, "reply code %d, call code %d",
	    reply->code, call->code);
	FUZZ_CHECK(reply->message != NULL, "no message");
	if (reply->code == STATUS_OK) {
		FUZZ_CHECK(reply->message[0] == '\0', "OK with a message");
		FUZZ_CHECK(reply->body_len <= max_reply,
		    "a %zu-byte body over a limit of %zu", reply->body_len,
		    max_reply);
		ProtobufCMessage *resp = protobuf_c_message_unpack(
		    call->method->response, NULL, reply->body_len, reply->body);
		FUZZ_CHECK(resp != NULL, "the body is not a %s",
		    call->method->response->name);
		strings_each(resp, response_field_cb, (void *)secrets);
		protobuf_c_message_free_unpacked(resp, NULL);
	} else {
		FUZZ_CHECK(reply->message[0] != '\0', "status %d without a "
		                                      "message", reply->code);
		FUZZ_CHECK(reply->body_len == 0, "an error with a body");
		check_text("the message", reply->message, secrets);
	}
	if (reply->request_id != NULL) {
		char msg[256];
		FUZZ_CHECK(validate_text("request_id", reply->request_id,
		               LIMIT_REQUEST_ID, false, msg, sizeof msg) ==
		        STATUS_OK,
		    "an unfit request_id is echoed");
	}

	size_t size = envelope_reply_size(reply);
	uint8_t *buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL, "out of memory");
	size_t n = envelope_reply_pack(reply, buf);
	FUZZ_CHECK(n == size, "packed %zu bytes, sized %zu", n, size);
	Exe__Access__V1__RpcResponse *resp =
	    exe__access__v1__rpc_response__unpack(NULL, n, buf);
	FUZZ_CHECK(resp != NULL && resp->code == reply->code,
	    "the reply does not read back");
	exe__access__v1__rpc_response__free_unpacked(resp, NULL);
	free(buf);
}

/* check_ended holds pipeline_end to leaving the call ready for reuse. */
static void
check_ended(const struct call *call, const struct service_ctx *svc)
{
	FUZZ_CHECK(call->svc == svc, "the service was dropped");
	FUZZ_CHECK(call->method == NULL && call->envelope == NULL &&
	        call->request == NULL && call->response == NULL &&
	        call->secrets == NULL,
	    "the call still holds something");
	FUZZ_CHECK(call->code == 0 && call->message[0] == '\0' &&
	        call->deadline_ms == 0,
	    "the call keeps its outcome");
	FUZZ_CHECK(call->arena.head == NULL && call->arena.inline_used == 0,
	    "the arena was not released");
}

/* run takes one request through the pipeline and checks each step. */
static void
run(const struct service_ctx *svc, const uint8_t *buf, size_t len,
    unsigned flags)
{
	size_t max_request = flags & FUZZ_SMALL_REQUEST
	    ? FUZZ_SMALL_REQUEST_BYTES
	    : FUZZ_MAX_BYTES;
	size_t max_reply = flags & FUZZ_SMALL_REPLY ? FUZZ_SMALL_REPLY_BYTES
	                                            : FUZZ_MAX_BYTES;
	struct call call;
	memset(&call, 0, sizeof call);
	arena_init(&call.arena);
	call.svc = svc;

	enum pipeline_next next = pipeline_begin(&call, buf, len, max_request);
	if (next == PIPELINE_REPLY && call.code == STATUS_OK &&
	    call.response == NULL && tolerate(TOLERATE_UNDECIDED)) {
		call.code = STATUS_INVALID_ARGUMENT;
		if (call.message[0] == '\0')
			call_fail(&call, STATUS_INVALID_ARGUMENT, "(undecided)");
	}
	check_begin(&call, next);
	check_access(&call, next, buf, len);
	struct secrets secrets;
	secrets_of(&call, &secrets);
	/* Where the server would hand the call to a database worker. */
	if (next == PIPELINE_NEEDS_DB)
		call_fail(&call, STATUS_UNAVAILABLE,
		    "the fuzzer has no database");

	struct envelope_reply reply;
	pipeline_reply(&call, max_reply, &reply);
	if (verbose)
		fprintf(stderr, "%s%s: %s %s\n",
		    call.method != NULL ? call.method->name : "(no method)",
		    next == PIPELINE_NEEDS_DB ? " (to the database)" : "",
		    status_name(reply.code), reply.message);
	check_reply(&call, &reply, max_reply, &secrets);
	pipeline_end(&call);
	check_ended(&call, svc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const struct method *m =
	    &dispatch_methods[data[0] % dispatch_method_count];
	unsigned flags = data[1];
	const uint8_t *rest = data + 2;
	size_t rest_len = size - 2;
	unsigned caller = (flags & FUZZ_CALLER_MASK) >> FUZZ_CALLER_SHIFT;
	const struct service_ctx *svc =
	    caller == FUZZ_CALLER_NONE ? &svc_open : &svc_auth;

	if (flags & FUZZ_ENVELOPE) {
		run(svc, rest, rest_len, flags);
		return 0;
	}
	size_t len;
	uint8_t *buf = wrap(m, rest, rest_len, flags, &len);
	run(svc, buf, len, flags);
	free(buf);
	return 0;
}
