/* Fuzz target of the envelope codec: envelope_decode on arbitrary bytes,
 * under the service's 1 MiB limit and under a small one taken from the
 * input, then the reply the server builds from what was decoded, sized,
 * packed and read back. Besides what the sanitizers catch (overreads,
 * leaks, undefined behaviour) it holds the codec to its contract: every
 * input gets a status and a readable message, a decoded envelope is within
 * its limits with every string fit text over its whole wire length, a
 * token that cannot be one is UNAUTHENTICATED, and nothing unfit is
 * echoed in the reply. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "fuzz.h"
#include "rpc/envelope.h"
#include "rpc/validate.h"
#include "rpc/wiretext.h"

enum { MSG_SIZE = 512 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* text_ok says whether an envelope field passes its own check. */
static bool
text_ok(const char *field, const char *value, size_t max, bool required)
{
	char msg[MSG_SIZE];
	return validate_text(field, value, max, required, msg, sizeof msg) ==
	    STATUS_OK;
}

/* check_reply packs a reply and reads it back as an RpcResponse. */
static void
check_reply(const struct envelope_reply *reply)
{
	size_t size = envelope_reply_size(reply);
	uint8_t *buf = malloc(size + 1);
	FUZZ_CHECK(buf != NULL, "out of memory");
	size_t n = envelope_reply_pack(reply, buf);
	FUZZ_CHECK(n == size, "packed %zu bytes, sized %zu", n, size);

	Exe__Access__V1__RpcResponse *resp =
	    exe__access__v1__rpc_response__unpack(NULL, n, buf);
	FUZZ_CHECK(resp != NULL, "a packed reply of %zu bytes does not unpack",
	    n);
	FUZZ_CHECK(resp->code == reply->code, "code %d, expected %d",
	    resp->code, reply->code);
	FUZZ_CHECK(strcmp(resp->message, reply->message) == 0,
	    "message \"%s\", expected \"%s\"", resp->message, reply->message);
	const char *id = reply->request_id != NULL ? reply->request_id : "";
	FUZZ_CHECK(strcmp(resp->request_id, id) == 0,
	    "request_id \"%s\", expected \"%s\"", resp->request_id, id);
	FUZZ_CHECK(resp->body.len == reply->body_len &&
	        (reply->body_len == 0 ||
	            memcmp(resp->body.data, reply->body, reply->body_len) == 0),
	    "the body did not survive the round trip");
	exe__access__v1__rpc_response__free_unpacked(resp, NULL);
	free(buf);
}

/* decode_and_reply decodes `size` bytes under `max_bytes` and answers as
 * the server would: the body echoed on success, the reason otherwise. */
static void
decode_and_reply(const uint8_t *data, size_t size, size_t max_bytes)
{
	Exe__Access__V1__RpcRequest *req = NULL;
	char msg[MSG_SIZE] = "";
	int rc = envelope_decode(data, size, max_bytes, &req, msg, sizeof msg);

	if (rc == STATUS_OK) {
		FUZZ_CHECK(req != NULL, "OK without a request");
		FUZZ_CHECK(size > 0 && size <= max_bytes,
		    "accepted %zu bytes under a limit of %zu", size, max_bytes);
		FUZZ_CHECK(text_ok("method", req->method, LIMIT_METHOD, true),
		    "accepted method \"%s\"", req->method);
		FUZZ_CHECK(text_ok("token", req->token, LIMIT_TOKEN, false),
		    "accepted an unfit token");
		FUZZ_CHECK(req->deadline_unix_ms >= 0, "accepted deadline %lld",
		    (long long)req->deadline_unix_ms);
		/* Each string whole, not only up to a NUL byte. */
		char fault[MSG_SIZE];
		FUZZ_CHECK(wiretext_first(&exe__access__v1__rpc_request__descriptor,
		               data, size, fault, sizeof fault),
		    "accepted %s", fault);
	} else {
		/* A token that cannot be a token is a wrong token. */
		FUZZ_CHECK(rc == STATUS_INVALID_ARGUMENT ||
		        rc == STATUS_RESOURCE_EXHAUSTED ||
		        rc == STATUS_UNAUTHENTICATED,
		    "status %d", rc);
		if (rc == STATUS_UNAUTHENTICATED)
			FUZZ_CHECK(req != NULL && strncmp(msg, "token:", 6) == 0,
			    "UNAUTHENTICATED for something else: %s", msg);
		FUZZ_CHECK(msg[0] != '\0', "status %d without a message", rc);
		FUZZ_CHECK(validate_utf8(msg, strlen(msg)),
		    "the message is not UTF-8");
		if (size > max_bytes)
			FUZZ_CHECK(rc == STATUS_RESOURCE_EXHAUSTED && req == NULL,
			    "%zu bytes over a limit of %zu: status %d", size,
			    max_bytes, rc);
	}
	/* Whatever was decoded has its request_id echoed: it must be fit. */
	if (req != NULL)
		FUZZ_CHECK(text_ok("request_id", req->request_id,
		               LIMIT_REQUEST_ID, false),
		    "an unfit request_id would be echoed");

	struct envelope_reply reply = {
	    .code = rc,
	    .message = rc == STATUS_OK ? "" : msg,
	    .request_id = req != NULL ? req->request_id : NULL,
	};
	if (rc == STATUS_OK) {
		reply.body = req->body.data;
		reply.body_len = req->body.len;
	}
	check_reply(&reply);
	envelope_request_free(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_and_reply(data, size, FUZZ_MAX_BYTES);
	/* A limit at or under the input's size, from its first byte: the
	 * refusal, and the decoder right at the limit. */
	if (size > 0)
		decode_and_reply(data, size, data[0] % (size + 1));
	return 0;
}
