/* WorkspaceService: Workspace API keys (SPEC R10): rotation with an optional grace period
 * for the old secret, and what GetApiKey may show (never the secret). */
#ifndef EXE_APIKEYS_H
#define EXE_APIKEYS_H

#include "rpc/call.h"

int apikeys_rotate_validate(struct call *call);
int apikeys_rotate(struct call *call);
int apikeys_get(struct call *call);

#endif
