/* WorkspaceService: VerifyActivity, which walks the activity log's hash
 * chain (docs/SECURITY.md, "The activity log") and reports the first
 * record that does not match. */
#ifndef EXE_VERIFY_H
#define EXE_VERIFY_H

#include "rpc/call.h"

int verify_activity_validate(struct call *call);
int verify_activity(struct call *call);

#endif
