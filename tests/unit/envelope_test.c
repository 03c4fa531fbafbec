/* Unit tests of the envelope codec: what envelope_decode makes of empty,
 * oversize, garbage and well-formed RpcRequest bytes, and that a reply
 * packed by envelope_reply_pack reads back as the RpcResponse it meant. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "rpc/envelope.h"
#include "rpc/validate.h"
#include "unit.h"

enum { MAX_BYTES = 1 << 20 };

struct request_fields {
	const char *method;
	const uint8_t *body;
	size_t body_len;
	const char *request_id;
	int64_t deadline_unix_ms;
	const char *token;
	int64_t timeout_ms;
};

/* pack_request packs an RpcRequest with the generated code; the caller
 * frees the returned buffer. */
static uint8_t *
pack_request(const struct request_fields *f, size_t *len)
{
	Exe__Access__V1__RpcRequest req;
	exe__access__v1__rpc_request__init(&req);
	if (f->method != NULL)
		req.method = (char *)f->method;
	req.body.data = (uint8_t *)f->body;
	req.body.len = f->body_len;
	if (f->request_id != NULL)
		req.request_id = (char *)f->request_id;
	req.deadline_unix_ms = f->deadline_unix_ms;
	req.timeout_ms = f->timeout_ms;
	if (f->token != NULL)
		req.token = (char *)f->token;
	size_t n = exe__access__v1__rpc_request__get_packed_size(&req);
	/* At least one byte, so malloc never returns NULL for an empty one. */
	uint8_t *buf = malloc(n + 1);
	if (buf == NULL)
		abort();
	*len = exe__access__v1__rpc_request__pack(&req, buf);
	return buf;
}

/* decode_fields packs `f` and decodes it; returns the status. */
static int
decode_fields(const struct request_fields *f, Exe__Access__V1__RpcRequest **out,
    char *msg, size_t msg_size)
{
	size_t len;
	uint8_t *buf = pack_request(f, &len);
	int rc = envelope_decode(buf, len, MAX_BYTES, out, msg, msg_size);
	free(buf);
	return rc;
}

static void
empty_input(void)
{
	uint8_t byte = 0;
	Exe__Access__V1__RpcRequest *req = (void *)&byte; /* must be reset */
	char msg[512] = "";
	EXPECT_INT(envelope_decode(&byte, 0, MAX_BYTES, &req, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT(req == NULL);
	EXPECT(msg[0] != '\0');
	envelope_request_free(req);
}

static void
oversize_input(void)
{
	struct request_fields f = {
		.method = "exe.access.v1.AuthzService/Check",
		.request_id = "r-1",
	};
	size_t len;
	uint8_t *buf = pack_request(&f, &len);
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[512] = "";

	/* One byte over the limit. */
	EXPECT_INT(envelope_decode(buf, len, len - 1, &req, msg, sizeof msg),
	    STATUS_RESOURCE_EXHAUSTED);
	EXPECT(req == NULL);
	char num[32];
	snprintf(num, sizeof num, "%zu", len);
	EXPECT_CONTAINS(msg, num);
	snprintf(num, sizeof num, "%zu", len - 1);
	EXPECT_CONTAINS(msg, num);
	envelope_request_free(req);

	/* A large request against a small limit names both numbers too. */
	uint8_t big[5000];
	memset(big, 'x', sizeof big);
	EXPECT_INT(envelope_decode(big, sizeof big, 4096, &req, msg, sizeof msg),
	    STATUS_RESOURCE_EXHAUSTED);
	EXPECT_CONTAINS(msg, "5000");
	EXPECT_CONTAINS(msg, "4096");
	envelope_request_free(req);

	/* Exactly at the limit is fine. */
	req = NULL;
	EXPECT_INT(envelope_decode(buf, len, len, &req, msg, sizeof msg),
	    STATUS_OK);
	EXPECT(req != NULL);
	envelope_request_free(req);
	free(buf);
}

#define G(lit) {(const uint8_t *)lit, sizeof(lit) - 1}

static void
garbage_input(void)
{
	static const struct {
		const uint8_t *b;
		size_t len;
	} garbage[] = {
		G("\xff"),
		G("\xff\xff\xff\xff"),
		G("\x00"),
		G("\x00\x00\x00\x00"),
		G("\x0a"),                         /* method: no length */
		G("\x0a\x05" "ab"),                /* method: cut short */
		G("\x0a\xff\xff\xff\xff\x0f" "a"), /* method: 4 GB long */
		G("\x08\x01"),                     /* method as a varint */
		G("\x12\x03\x01"),                 /* body: cut short */
		G("\x20\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"),
		G("\x0f"),                         /* wire type 7 */
		G("\x0e\x00"),                     /* wire type 6 */
		G("\x0b\x0c"),                     /* a group */
		G("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01"),
		G("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		G("{\"method\": \"exe.access.v1.AuthzService/Check\"}"),
		G("\x1a\x02" "id"),                /* only a request_id */
		G("\x20\x05"),                     /* only a deadline */
		G("\x0a\x00"),                     /* an empty method */
		G("\x0a\x02\xc0\xaf"),             /* method: overlong UTF-8 */
		G("\x0a\x03" "a\nb"),              /* method: control char */
	};
	for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
		/* A heap copy of exactly `len` bytes, so that reading past the
		 * end shows under AddressSanitizer. */
		uint8_t *buf = malloc(garbage[i].len);
		if (buf == NULL)
			abort();
		memcpy(buf, garbage[i].b, garbage[i].len);
		Exe__Access__V1__RpcRequest *req = NULL;
		char msg[512] = "";
		int rc = envelope_decode(buf, garbage[i].len, MAX_BYTES, &req, msg,
		    sizeof msg);
		if (rc != STATUS_INVALID_ARGUMENT) {
			fprintf(stderr, "  garbage %zu: code %d (%s)\n", i, rc, msg);
			unit_case_failed = 1;
		}
		if (msg[0] == '\0') {
			fprintf(stderr, "  garbage %zu: no message\n", i);
			unit_case_failed = 1;
		}
		envelope_request_free(req);
		free(buf);
	}
}

/* A fixed pseudo-random sequence, the same on every run. */
static uint32_t
next_rand(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void
pseudo_random_input(void)
{
	uint32_t state = 0x2545f491u;
	for (int round = 0; round < 5000; round++) {
		size_t len = 1 + next_rand(&state) % 96;
		uint8_t *buf = malloc(len);
		if (buf == NULL)
			abort();
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)next_rand(&state);
		Exe__Access__V1__RpcRequest *req = NULL;
		char msg[512] = "";
		int rc = envelope_decode(buf, len, MAX_BYTES, &req, msg, sizeof msg);
		/* Whatever it made of the bytes, it either accepted a method or
		 * said what was wrong. */
		if (rc == STATUS_OK) {
			EXPECT(req != NULL && req->method[0] != '\0');
		} else {
			EXPECT_INT(rc, STATUS_INVALID_ARGUMENT);
			EXPECT(msg[0] != '\0');
		}
		envelope_request_free(req);
		free(buf);
	}
}

static void
valid_round_trip(void)
{
	static const uint8_t body[] = {0x0a, 0x03, 'a', 'd', 'a', 0x00, 0xff};
	struct request_fields f = {
		.method = "exe.access.v1.WorkspaceService/GetUser",
		.body = body,
		.body_len = sizeof body,
		.request_id = "req-\xc3\xa9-42",
		.deadline_unix_ms = 1893456000000,
		.token = "tok_check_123",
	};
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[512] = "";
	int rc = decode_fields(&f, &req, msg, sizeof msg);
	EXPECT_INT(rc, STATUS_OK);
	if (rc != STATUS_OK)
		fprintf(stderr, "  message: %s\n", msg);
	EXPECT(req != NULL);
	if (req != NULL) {
		EXPECT_STR(req->method, f.method);
		EXPECT_INT(req->body.len, sizeof body);
		EXPECT(req->body.len == sizeof body &&
		    memcmp(req->body.data, body, sizeof body) == 0);
		EXPECT_STR(req->request_id, f.request_id);
		EXPECT_INT(req->deadline_unix_ms, f.deadline_unix_ms);
		EXPECT_STR(req->token, f.token);
	}
	envelope_request_free(req);

	/* Only a method: every other field takes its default. */
	struct request_fields bare = {.method = "exe.access.v1.AuthzService/Check"};
	req = NULL;
	EXPECT_INT(decode_fields(&bare, &req, msg, sizeof msg), STATUS_OK);
	EXPECT(req != NULL);
	if (req != NULL) {
		EXPECT_STR(req->method, bare.method);
		EXPECT_INT(req->body.len, 0);
		EXPECT_STR(req->request_id, "");
		EXPECT_INT(req->deadline_unix_ms, 0);
		EXPECT_STR(req->token, "");
	}
	envelope_request_free(req);
}

static void
missing_method(void)
{
	struct request_fields f = {.request_id = "keep-me"};
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[512] = "";
	EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "method");
	/* The envelope itself was readable: its request_id can be echoed. */
	EXPECT(req != NULL);
	if (req != NULL)
		EXPECT_STR(req->request_id, "keep-me");
	envelope_request_free(req);
}

static void
method_too_long(void)
{
	char method[LIMIT_METHOD + 2];
	memset(method, 'm', LIMIT_METHOD + 1);
	method[LIMIT_METHOD + 1] = '\0';
	struct request_fields f = {.method = method};
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[512] = "";
	EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "method");
	envelope_request_free(req);

	method[LIMIT_METHOD] = '\0'; /* at the limit: decoded */
	req = NULL;
	EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg), STATUS_OK);
	envelope_request_free(req);
}

static void
bad_request_id_is_cleared(void)
{
	char long_id[LIMIT_REQUEST_ID + 2];
	memset(long_id, 'i', LIMIT_REQUEST_ID + 1);
	long_id[LIMIT_REQUEST_ID + 1] = '\0';
	const char *bad[] = {
		"\xc0\xaf",          /* overlong */
		"id-\xed\xa0\x80",   /* surrogate */
		"id-\xf4\x90\x80\x80",
		"cut\xe2\x82",
		"two\nlines",        /* a control character */
		long_id,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct request_fields f = {
			.method = "exe.access.v1.AuthzService/Check",
			.request_id = bad[i],
		};
		Exe__Access__V1__RpcRequest *req = NULL;
		char msg[512] = "";
		int rc = decode_fields(&f, &req, msg, sizeof msg);
		if (rc != STATUS_INVALID_ARGUMENT) {
			fprintf(stderr, "  request_id %zu: code %d\n", i, rc);
			unit_case_failed = 1;
		}
		EXPECT_CONTAINS(msg, "request_id");
		EXPECT(req != NULL);
		if (req != NULL)
			EXPECT_STR(req->request_id, "");
		envelope_request_free(req);
	}
}

static void
negative_deadline(void)
{
	struct request_fields f = {
		.method = "exe.access.v1.AuthzService/Check",
		.request_id = "r",
		.deadline_unix_ms = -1,
	};
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[512] = "";
	EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "deadline");
	envelope_request_free(req);

	f.deadline_unix_ms = INT64_MIN;
	req = NULL;
	EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "deadline");
	envelope_request_free(req);
}

static void
negative_timeout(void)
{
	struct request_fields f = {
		.method = "exe.access.v1.AuthzService/Check",
		.request_id = "r",
		.timeout_ms = -1,
	};
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[512] = "";
	EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "timeout_ms");
	envelope_request_free(req);

	/* A budget is read back as sent. */
	f.timeout_ms = 2500;
	req = NULL;
	EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg), STATUS_OK);
	if (req != NULL)
		EXPECT_INT(req->timeout_ms, 2500);
	envelope_request_free(req);
}

/* A token that cannot be one is a wrong token: UNAUTHENTICATED, with the
 * answer any unknown token gets. */
static void
bad_token(void)
{
	char long_token[LIMIT_TOKEN + 2];
	memset(long_token, 't', LIMIT_TOKEN + 1);
	long_token[LIMIT_TOKEN + 1] = '\0';
	const char *bad[] = {long_token, "tok\xc0\xaf", "tok\x7f"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct request_fields f = {
			.method = "exe.access.v1.AuthzService/Check",
			.token = bad[i],
		};
		Exe__Access__V1__RpcRequest *req = NULL;
		char msg[512] = "";
		EXPECT_INT(decode_fields(&f, &req, msg, sizeof msg),
		    STATUS_UNAUTHENTICATED);
		EXPECT_STR(msg, "token: not recognized; ask the operators for a "
		                "token of this service");
		envelope_request_free(req);
	}
}

/* decode_poked packs `f`, replaces the first byte of `marker` in the
 * packed bytes by a NUL (protobuf-c packs C strings, which cannot hold
 * one) and decodes that. */
static int
decode_poked(const struct request_fields *f, const char *marker,
    Exe__Access__V1__RpcRequest **out, char *msg, size_t msg_size)
{
	size_t len;
	uint8_t *buf = pack_request(f, &len);
	size_t m = strlen(marker);
	for (size_t i = 0; i + m <= len; i++) {
		if (memcmp(buf + i, marker, m) == 0) {
			buf[i] = 0;
			break;
		}
	}
	int rc = envelope_decode(buf, len, MAX_BYTES, out, msg, msg_size);
	free(buf);
	return rc;
}

/* Each string of the envelope is read over its wire length: what follows
 * a NUL byte is not dropped unseen. */
static void
nul_in_envelope_strings(void)
{
	static const char token[] = "exa_svc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char trailing[sizeof token + 8];
	snprintf(trailing, sizeof trailing, "%s#junk", token);
	struct {
		struct request_fields f;
		int code;
		const char *msg;
		bool id_kept;
	} cases[] = {
		{{.method = "exe.access.v1.AuthzService/Check#x",
		     .request_id = "r1"},
		    STATUS_INVALID_ARGUMENT, "method: contains a NUL byte", true},
		{{.method = "exe.access.v1.AuthzService/Check",
		     .request_id = "r1#x"},
		    STATUS_INVALID_ARGUMENT, "request_id: contains a NUL byte",
		    false},
		{{.method = "exe.access.v1.AuthzService/Check",
		     .request_id = "r1", .token = trailing},
		    STATUS_UNAUTHENTICATED,
		    "token: not recognized; ask the operators for a token of "
		    "this service",
		    true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Exe__Access__V1__RpcRequest *req = NULL;
		char msg[512] = "";
		EXPECT_INT(decode_poked(&cases[i].f, "#", &req, msg, sizeof msg),
		    cases[i].code);
		EXPECT_STR(msg, cases[i].msg);
		EXPECT(req != NULL);
		if (req != NULL)
			EXPECT_STR(req->request_id, cases[i].id_kept ? "r1" : "");
		envelope_request_free(req);
	}
	/* A NUL in the body is the body's business: it is bytes. */
	static const uint8_t body[] = {0x0a, 0x02, 'a', 0x00};
	struct request_fields ok = {.method = "exe.access.v1.AuthzService/Check",
	    .body = body, .body_len = sizeof body, .token = token};
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[512] = "";
	EXPECT_INT(decode_fields(&ok, &req, msg, sizeof msg), STATUS_OK);
	envelope_request_free(req);
}

static void
reply_round_trip(void)
{
	static const uint8_t body[] = {0x08, 0x01, 0x12, 0x02, 'o', 'k', 0x00};
	const struct envelope_reply replies[] = {
		{0, NULL, body, sizeof body, "req-1"},
		{0, "", NULL, 0, NULL},
		{STATUS_NOT_FOUND, "no user with id \"x\"", NULL, 0, "r\xc3\xa9q"},
		{STATUS_INVALID_ARGUMENT, "username: is required", NULL, 0, ""},
		{STATUS_UNAUTHENTICATED, "no token", NULL, 0, NULL},
		{STATUS_UNAVAILABLE, "the database is unavailable; retry later",
		    body, sizeof body, "id"},
	};
	for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++) {
		const struct envelope_reply *r = &replies[i];
		size_t size = envelope_reply_size(r);
		/* Exactly `size` bytes on the heap: writing past shows. */
		uint8_t *buf = malloc(size + (size == 0));
		if (buf == NULL)
			abort();
		size_t written = envelope_reply_pack(r, buf);
		EXPECT_INT(written, size);
		Exe__Access__V1__RpcResponse *resp =
		    exe__access__v1__rpc_response__unpack(NULL, written, buf);
		EXPECT(resp != NULL);
		if (resp != NULL) {
			EXPECT_INT(resp->code, r->code);
			EXPECT_STR(resp->message, r->message ? r->message : "");
			EXPECT_INT(resp->body.len, r->body_len);
			EXPECT(resp->body.len == r->body_len &&
			    (r->body_len == 0 ||
			        memcmp(resp->body.data, r->body, r->body_len) == 0));
			EXPECT_STR(resp->request_id,
			    r->request_id ? r->request_id : "");
			exe__access__v1__rpc_response__free_unpacked(resp, NULL);
		}
		free(buf);
	}
}

static void
reply_size_grows_with_parts(void)
{
	struct envelope_reply r = {STATUS_NOT_FOUND, "m", NULL, 0, NULL};
	size_t small = envelope_reply_size(&r);
	r.message = "a longer message";
	size_t bigger = envelope_reply_size(&r);
	EXPECT_INT(bigger, small + strlen("a longer message") - 1);
	r.request_id = "abc";
	EXPECT_INT(envelope_reply_size(&r), bigger + 2 + 3);
}

static const struct unit_case cases[] = {
	{"empty_input", empty_input},
	{"oversize_input", oversize_input},
	{"garbage_input", garbage_input},
	{"pseudo_random_input", pseudo_random_input},
	{"valid_round_trip", valid_round_trip},
	{"missing_method", missing_method},
	{"method_too_long", method_too_long},
	{"bad_request_id_is_cleared", bad_request_id_is_cleared},
	{"negative_deadline", negative_deadline},
	{"negative_timeout", negative_timeout},
	{"bad_token", bad_token},
	{"nul_in_envelope_strings", nul_in_envelope_strings},
	{"reply_round_trip", reply_round_trip},
	{"reply_size_grows_with_parts", reply_size_grows_with_parts},
};

UNIT_MAIN(cases)
