/* The envelope codec: bytes off the wire into an RpcRequest, and a status,
 * message and response body into RpcResponse bytes. Pure functions with no
 * I/O, so the unit tests and the fuzzers drive them directly. */
#ifndef EXE_ENVELOPE_H
#define EXE_ENVELOPE_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "exe/access/v1/rpc.pb-c.h"

/* envelope_allocator is a protobuf-c allocator that zeroes memory before
 * freeing it, so that secrets in a request (API keys, invitation tokens)
 * do not linger in freed heap; envelope_decode unpacks with it. (The
 * service's dispatch unpacks into the call's arena instead, wiped whole
 * after each call.) */
extern ProtobufCAllocator envelope_allocator;

/* envelope_decode unpacks `len` bytes into *out (free it with
 * envelope_request_free). Checks the size limit, the envelope's form and
 * its own fields (method present, request_id and token bounded and UTF-8).
 * On failure returns a status and writes the reason into `msg`; *out is set
 * whenever the envelope itself could be read (so its request_id can still
 * be echoed), else NULL. */
int envelope_decode(const uint8_t *buf, size_t len, size_t max_bytes,
    Exe__Access__V1__RpcRequest **out, char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

/* envelope_decode_with is envelope_decode unpacking with `allocator`
 * (the request is then the allocator's to free: envelope_request_free is
 * only for envelope_allocator). */
int envelope_decode_with(const uint8_t *buf, size_t len, size_t max_bytes,
    ProtobufCAllocator *allocator, Exe__Access__V1__RpcRequest **out,
    char *msg, size_t msg_size) __attribute__((warn_unused_result));

/* envelope_request_free frees what envelope_decode returned; NULL is fine. */
void envelope_request_free(Exe__Access__V1__RpcRequest *req);

/* An encoded reply's parts. `body` is the already-packed response message
 * (only for code 0); `request_id` may be NULL. */
struct envelope_reply {
	int code;
	const char *message;
	const uint8_t *body;
	size_t body_len;
	const char *request_id;
};

/* envelope_reply_size returns the packed size of the RpcResponse. */
size_t envelope_reply_size(const struct envelope_reply *reply);

/* envelope_reply_pack writes the RpcResponse into `out`, which holds
 * envelope_reply_size(reply) bytes; returns the bytes written. */
size_t envelope_reply_pack(const struct envelope_reply *reply, uint8_t *out);

#endif
