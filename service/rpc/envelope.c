/* RpcRequest decoding and RpcResponse encoding with protobuf-c. */
#include "rpc/envelope.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "rpc/tokens.h"
#include "rpc/validate.h"
#include "rpc/wiretext.h"

/* Each block carries its size in front, for the wipe. */
enum { HEADER = sizeof(max_align_t) };

static void *
wipe_alloc(void *data, size_t size)
{
	(void)data;
	if (size > SIZE_MAX - HEADER)
		return NULL;
	char *base = malloc(HEADER + size);
	if (base == NULL)
		return NULL;
	memcpy(base, &size, sizeof size);
	return base + HEADER;
}

static void
wipe_free(void *data, void *ptr)
{
	(void)data;
	if (ptr == NULL)
		return;
	char *base = (char *)ptr - HEADER;
	size_t size;
	memcpy(&size, base, sizeof size);
	sodium_memzero(ptr, size);
	free(base);
}

ProtobufCAllocator envelope_allocator = {wipe_alloc, wipe_free, NULL};

/* The envelope's string fields, by number (rpc.proto). */
enum {
	ENVELOPE_METHOD = 1,
	ENVELOPE_REQUEST_ID = 3,
	ENVELOPE_TOKEN = 5,
	ENVELOPE_FIELDS = 6,
};

/* What wiretext found wrong with each string field of the envelope. */
struct envelope_text {
	const char *what[ENVELOPE_FIELDS];
};

static bool
envelope_text_cb(void *arg, const struct wiretext_fault *f)
{
	struct envelope_text *t = arg;
	if (f->top_field < ENVELOPE_FIELDS && t->what[f->top_field] == NULL)
		t->what[f->top_field] = f->what;
	return true;
}

/* envelope_field checks one string field of the envelope: over its wire
 * length as wiretext saw it, then its length and presence. */
static int
envelope_field(const struct envelope_text *t, unsigned number,
    const char *name, const char *value, size_t max, bool required,
    char *msg, size_t msg_size)
{
	if (t->what[number] != NULL) {
		snprintf(msg, msg_size, "%s: %s", name, t->what[number]);
		return STATUS_INVALID_ARGUMENT;
	}
	return validate_text(name, value, max, required, msg, msg_size);
}

int
envelope_decode(const uint8_t *buf, size_t len, size_t max_bytes,
    Exe__Access__V1__RpcRequest **out, char *msg, size_t msg_size)
{
	return envelope_decode_with(buf, len, max_bytes, &envelope_allocator,
	    out, msg, msg_size);
}

int
envelope_decode_with(const uint8_t *buf, size_t len, size_t max_bytes,
    ProtobufCAllocator *allocator, Exe__Access__V1__RpcRequest **out,
    char *msg, size_t msg_size)
{
	*out = NULL;
	if (len == 0) {
		snprintf(msg, msg_size,
		    "empty message: expected an exe.access.v1.RpcRequest");
		return STATUS_INVALID_ARGUMENT;
	}
	if (len > max_bytes) {
		snprintf(msg, msg_size,
		    "request is %zu bytes, the limit is %zu bytes", len,
		    max_bytes);
		return STATUS_RESOURCE_EXHAUSTED;
	}
	Exe__Access__V1__RpcRequest *req =
	    exe__access__v1__rpc_request__unpack(allocator, len, buf);
	if (req == NULL) {
		snprintf(msg, msg_size,
		    "malformed message: not an exe.access.v1.RpcRequest");
		return STATUS_INVALID_ARGUMENT;
	}
	/* Every string is checked over its wire length first: a NUL would
	 * hide what follows it from everything below (wiretext.h). */
	struct envelope_text text = {0};
	wiretext_walk(&exe__access__v1__rpc_request__descriptor, buf, len,
	    envelope_text_cb, &text);
	/* request_id is echoed back: make sure it is fit to be. */
	int rc = envelope_field(&text, ENVELOPE_REQUEST_ID, "request_id",
	    req->request_id, LIMIT_REQUEST_ID, false, msg, msg_size);
	if (rc != STATUS_OK) {
		req->request_id[0] = '\0';
		*out = req;
		return rc;
	}
	*out = req;
	rc = envelope_field(&text, ENVELOPE_METHOD, "method", req->method,
	    LIMIT_METHOD, true, msg, msg_size);
	if (rc == STATUS_OK && req->deadline_unix_ms < 0) {
		snprintf(msg, msg_size, "deadline_unix_ms: must not be negative");
		rc = STATUS_INVALID_ARGUMENT;
	}
	if (rc == STATUS_OK && req->timeout_ms < 0) {
		snprintf(msg, msg_size, "timeout_ms: must not be negative");
		rc = STATUS_INVALID_ARGUMENT;
	}
	/* A token that cannot be one (too long, not text) is a wrong token,
	 * answered as any other. */
	char ignored[8];
	if (rc == STATUS_OK &&
	    envelope_field(&text, ENVELOPE_TOKEN, "token", req->token,
	        LIMIT_TOKEN, false, ignored, sizeof ignored) != STATUS_OK) {
		snprintf(msg, msg_size, "%s", TOKENS_NOT_RECOGNIZED);
		rc = STATUS_UNAUTHENTICATED;
	}
	return rc;
}

void
envelope_request_free(Exe__Access__V1__RpcRequest *req)
{
	if (req != NULL)
		exe__access__v1__rpc_request__free_unpacked(req, &envelope_allocator);
}

static void
reply_fill(const struct envelope_reply *reply, Exe__Access__V1__RpcResponse *resp)
{
	exe__access__v1__rpc_response__init(resp);
	resp->code = reply->code;
	resp->message = (char *)(reply->message != NULL ? reply->message : "");
	resp->body.data = (uint8_t *)reply->body;
	resp->body.len = reply->body_len;
	resp->request_id =
	    (char *)(reply->request_id != NULL ? reply->request_id : "");
}

size_t
envelope_reply_size(const struct envelope_reply *reply)
{
	Exe__Access__V1__RpcResponse resp;
	reply_fill(reply, &resp);
	return exe__access__v1__rpc_response__get_packed_size(&resp);
}

size_t
envelope_reply_pack(const struct envelope_reply *reply, uint8_t *out)
{
	Exe__Access__V1__RpcResponse resp;
	reply_fill(reply, &resp);
	return exe__access__v1__rpc_response__pack(&resp, out);
}
