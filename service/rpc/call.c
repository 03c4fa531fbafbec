/* The call's helpers for handlers: errors with their message, memory in
 * the call's arena, the response message, and guarded memory for a secret
 * the response carries. */
#include "rpc/call.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc/method.h"

int
call_fail(struct call *call, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->message, sizeof call->message, fmt, ap);
	va_end(ap);
	call->code = code;
	return code;
}

void *
call_new(struct call *call, size_t size)
{
	return arena_alloc(&call->arena, size);
}

char *
call_strdup(struct call *call, const char *s)
{
	return arena_strdup(&call->arena, s != NULL ? s : "");
}

ProtobufCMessage *
call_response(struct call *call)
{
	const ProtobufCMessageDescriptor *d = call->method->response;
	ProtobufCMessage *m = call_new(call, d->sizeof_message);
	if (m != NULL)
		d->message_init(m);
	call->response = m;
	return m;
}

char *
call_secret(struct call *call, size_t size)
{
	/* A handler run twice (dispatch_retryable) gets its secret again. */
	if (call->secret != NULL)
		return call->secret;
	call->secret = sodium_malloc(size);
	if (call->secret != NULL)
		memset(call->secret, 0, size);
	return call->secret;
}

