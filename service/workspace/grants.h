/* WorkspaceService methods about grants on resources: an admin of a
 * team workspace gives a user, member or guest, a role on one of its
 * registered resources, changes it or revokes it; the grants on a
 * resource and a user's grants are listed. What a grant allows is
 * decided in base/decide.c (decide_user_resource). */
#ifndef EXE_GRANTS_H
#define EXE_GRANTS_H

#include "rpc/call.h"

int grants_put_validate(struct call *call);
int grants_put(struct call *call);
int grants_revoke_validate(struct call *call);
int grants_revoke(struct call *call);
int grants_list_resource_validate(struct call *call);
int grants_list_resource(struct call *call);
int grants_list_user_validate(struct call *call);
int grants_list_user(struct call *call);

#endif
