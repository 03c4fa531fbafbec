/* AuthzService: may this principal do this here? The decision follows the
 * permission table (perms.h), the principal's membership or API key, and
 * says why when it denies (SPEC R12). */
#ifndef EXE_AUTHZ_H
#define EXE_AUTHZ_H

#include "call.h"

int authz_check_validate(struct call *call);
int authz_check(struct call *call);

#endif
