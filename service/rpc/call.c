/* The call's helpers for handlers: errors with their message, memory in
 * the call's arena, the response message, and guarded memory for a secret
 * the response carries. */
#include "rpc/call.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/status.h"
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

int
call_not_fresh(struct call *call, uint64_t want, uint64_t have)
{
	if (call->on_replica) {
		call->needs_primary = true;
		return call_fail(call, STATUS_UNAVAILABLE,
		    "at_least_as_fresh: the standby has applied revision %llu, "
		    "not yet %llu", (unsigned long long)have,
		    (unsigned long long)want);
	}
	return call_fail(call, STATUS_FAILED_PRECONDITION,
	    "at_least_as_fresh: revision %llu has not been written (the "
	    "latest is %llu)", (unsigned long long)want,
	    (unsigned long long)have);
}

bool
call_deadline_passed(const struct call *call)
{
	return call->deadline_ms != 0 && clock_mono_ms() >= call->deadline_ms;
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

/* One piece of guarded memory a call handed out; the node lives in the
 * call's arena, the bytes in sodium_malloc'd memory. */
struct call_secret {
	struct call_secret *next;
	char *bytes;
};

char *
call_secret(struct call *call, size_t size)
{
	/* Every request gets memory of its own of the size it asks for: a
	 * handler run again (pipeline_retryable) or asking for a second
	 * secret must never write past the first buffer or into it. */
	struct call_secret *s = call_new(call, sizeof *s);
	if (s == NULL)
		return NULL;
	s->bytes = sodium_malloc(size);
	if (s->bytes == NULL)
		return NULL;
	memset(s->bytes, 0, size);
	s->next = call->secrets;
	call->secrets = s;
	return s->bytes;
}

void
call_secrets_free(struct call *call)
{
	for (struct call_secret *s = call->secrets; s != NULL; s = s->next)
		sodium_free(s->bytes); /* wipes before it unmaps */
	call->secrets = NULL;
}
