/* json: the --json side of exe-access's output. Any protobuf-c message
 * becomes a jansson object walking its descriptor: fields named as in the
 * .proto, every field present (defaults too, so scripts need no
 * fallbacks) except unset messages and unset oneof members, enums as
 * their names ("ROLE_ADMIN"), 64-bit numbers as JSON numbers, bytes as
 * base64. One command prints one document. */
#ifndef EXA_CLI_JSON_H
#define EXA_CLI_JSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* json_from_message returns a new object for `m` (NULL when out of
 * memory); the caller owns the reference. */
json_t *json_from_message(const ProtobufCMessage *m);

/* json_print writes `doc` to stdout, indented, with a final newline, and
 * drops the reference. Returns 0, or the exit status after reporting a
 * failure (NULL doc: out of memory). */
int json_print(json_t *doc);

/* json_print_message prints json_from_message(m). */
int json_print_message(const ProtobufCMessage *m);

#endif
