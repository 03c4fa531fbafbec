/* WorkspaceService: Resources registered in a workspace by the services that create them
 * (experiments, datasets, projects): register, delete, list. */
#ifndef EXE_RESOURCES_H
#define EXE_RESOURCES_H

#include "exe/access/v1/types.pb-c.h"
#include "rpc/call.h"

/* resources_validate_ref checks a resource reference's form (also
 * absent); errors name the field as "resource", "resource.type" and
 * "resource.id". */
int resources_validate_ref(struct call *call,
    const Exe__Access__V1__ResourceRef *ref);

int resources_register_validate(struct call *call);
int resources_register(struct call *call);
int resources_delete_validate(struct call *call);
int resources_delete(struct call *call);
int resources_list_validate(struct call *call);
int resources_list(struct call *call);

#endif
