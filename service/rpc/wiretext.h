/* Text checked over its wire length. protobuf-c hands a `string` field to C
 * as a NUL-terminated copy, so whatever follows a NUL byte in the value is
 * invisible to strlen() and to every check built on it, and is silently
 * dropped. wiretext reads the serialized message itself, guided by its
 * protobuf-c descriptor (field numbers and types, nested messages,
 * repeated fields, oneofs), and checks every string field over the length
 * the wire gives it: valid UTF-8, no NUL, no other control character (C0,
 * DEL, C1). Every string field of every request is such text. Once a
 * request has passed, strlen() of each of its strings is the whole value. */
#ifndef EXE_WIRETEXT_H
#define EXE_WIRETEXT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One string field that is not fit text. */
struct wiretext_fault {
	/* The field at the message's top level that holds it, and which
	 * element of it when that field is repeated (else 0). */
	uint32_t top_field;
	size_t top_index;
	/* Its full name, e.g. "checks[3].principal.user_id". */
	const char *path;
	/* What is wrong: "contains a NUL byte", "contains a control
	 * character" or "is not valid UTF-8". */
	const char *what;
};

/* wiretext_fn is told each fault; it returns true to go on walking, false
 * to stop. Only the first fault within one top-level element is told. */
typedef bool (*wiretext_fn)(void *arg, const struct wiretext_fault *fault);

/* wiretext_walk walks the `len` serialized bytes of a message of type
 * `desc` and calls `fn` for every string field that is not fit text.
 * Returns the number of faults told. Bytes that do not read as a message
 * end the walk quietly: protobuf-c refuses them when it unpacks them. */
size_t wiretext_walk(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
    size_t len, wiretext_fn fn, void *arg);

/* wiretext_first writes "path: what" for the first fault in the message to
 * `msg` and returns false; true when every string field is fit text. */
bool wiretext_first(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
    size_t len, char *msg, size_t msg_size) __attribute__((warn_unused_result));

#endif
