/* AuthzService/ReadChanges: the change log as an API, for callers that
 * keep what they learned and must drop what each write makes stale (the
 * client library's local cache is one). Changes after a revision, in
 * revision order, keyset-paged by revision; a revision the log no longer
 * holds, or one never written, is FAILED_PRECONDITION naming the current
 * revision to resynchronise from. */
#ifndef EXE_AUTHZ_CHANGES_H
#define EXE_AUTHZ_CHANGES_H

#include "rpc/call.h"

int changes_read_validate(struct call *call);
int changes_read(struct call *call);

#endif
