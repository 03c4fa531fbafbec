/* WorkspaceService: the activity log (SPEC R7): activities a calling
 * service reports, and the newest-first, paged listing of a workspace's
 * or an organisation's records. */
#ifndef EXE_ACTIVITY_H
#define EXE_ACTIVITY_H

#include "rpc/call.h"

int activity_record_validate(struct call *call);
int activity_record(struct call *call);
int activity_list_validate(struct call *call);
int activity_list(struct call *call);

#endif
