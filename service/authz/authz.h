/* AuthzService: may this principal do this here? The decision follows the
 * permission table (perms.h), the principal's membership or API key, and
 * says why when it denies (SPEC R12). */
#ifndef EXE_AUTHZ_H
#define EXE_AUTHZ_H

#include <stddef.h>

#include "rpc/call.h"

/* Each method: a validate function, a fast path that answers from the
 * cache on nng's thread or returns METHOD_MISS, and a handler for a
 * database worker. */
int authz_check_validate(struct call *call);
int authz_check_fast(struct call *call);
int authz_check(struct call *call);
/* authz_check_many runs n Checks that wait for a database worker at once:
 * the standings they need are read in one statement. Each call's status
 * goes to rcs[i]. */
void authz_check_many(struct call **calls, size_t n, int *rcs);
int authz_batch_validate(struct call *call);
int authz_batch_fast(struct call *call);
int authz_batch(struct call *call);
int authz_permissions_validate(struct call *call);
int authz_permissions_fast(struct call *call);
int authz_permissions(struct call *call);
int authz_verify_validate(struct call *call);
int authz_verify(struct call *call);
int authz_lookup_validate(struct call *call);
int authz_lookup(struct call *call);

#endif
