/* Method dispatch: the one table of every RPC method of SPEC §3, each row
 * naming the domain module's validate function, fast path and handler.
 * It sits above every layer; the request pipeline (rpc/pipeline.h) reads it
 * through the service context's `methods`. */
#ifndef EXE_DISPATCH_H
#define EXE_DISPATCH_H

#include <stddef.h>

#include "rpc/method.h"

/* dispatch_methods is the table; dispatch_method_count rows;
 * dispatch_table is both, as the pipeline takes them. */
extern const struct method dispatch_methods[];
extern const size_t dispatch_method_count;
extern const struct method_table dispatch_table;

/* dispatch_lookup returns the row for a full method name, or NULL. */
const struct method *dispatch_lookup(const char *name);

/* dispatch_check_table verifies that the table and the .proto services
 * agree: every service method has exactly one row with the same request
 * and response types. Returns 0, or -1 with the mismatch in `msg`. */
int dispatch_check_table(char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

#endif
