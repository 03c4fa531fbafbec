/* WorkspaceService methods about members (SPEC R2, R4, R8): organisation
 * admins add members and change roles; team admins (and organisation
 * admins) remove members; nobody changes their own role; a personal
 * workspace has exactly one member; a team keeps at least one admin. */
#ifndef EXE_MEMBERS_H
#define EXE_MEMBERS_H

#include "rpc/call.h"

/* AddMember, ChangeMemberRole and RemoveMember share one validation. */
int members_change_validate(struct call *call);
int members_add(struct call *call);
int members_change_role(struct call *call);
int members_remove(struct call *call);
int members_list(struct call *call);

#endif
