/* WorkspaceService: Invitations to team workspaces (SPEC R9): create with a single-use
 * secret token, list (never the tokens), revoke while pending, and accept or
 * decline by the invited person, once, before expiry. */
#ifndef EXE_INVITATIONS_H
#define EXE_INVITATIONS_H

#include "call.h"

int invitations_create_validate(struct call *call);
int invitations_create(struct call *call);
int invitations_list_validate(struct call *call);
int invitations_list(struct call *call);
int invitations_revoke_validate(struct call *call);
int invitations_revoke(struct call *call);
int invitations_answer_validate(struct call *call);
int invitations_accept(struct call *call);
int invitations_decline(struct call *call);

#endif
