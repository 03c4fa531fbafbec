/* WorkspaceService: Resources registered in a workspace by the services that create them
 * (experiments, datasets, projects): register, delete, list. */
#ifndef EXE_RESOURCES_H
#define EXE_RESOURCES_H

#include "rpc/call.h"

int resources_register_validate(struct call *call);
int resources_register(struct call *call);
int resources_delete_validate(struct call *call);
int resources_delete(struct call *call);
int resources_list_validate(struct call *call);
int resources_list(struct call *call);

#endif
