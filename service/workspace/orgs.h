/* WorkspaceService methods about organisations (SPEC R3): creating one
 * with its first admin, and adding and removing admins. An organisation
 * always keeps at least one admin. */
#ifndef EXE_ORGS_H
#define EXE_ORGS_H

#include "rpc/call.h"

int orgs_create_validate(struct call *call);
int orgs_create(struct call *call);
/* AddOrganizationAdmin and RemoveOrganizationAdmin share these two. */
int orgs_admin_validate(struct call *call);
int orgs_admin_change(struct call *call);

#endif
