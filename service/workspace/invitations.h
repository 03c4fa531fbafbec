/* WorkspaceService: invitations to team workspaces (SPEC R9). An admin of
 * the team invites a username or an email (the person may not have an
 * account yet) with a role and an expiry; the single-use token is returned
 * once and stored only as a keyed hash. Only the invited person accepts or
 * declines, once, before expiry; a pending invitation can be revoked.
 * Inviting to a personal workspace is FAILED_PRECONDITION (R2); inviting a
 * member is ALREADY_EXISTS. */
#ifndef EXE_INVITATIONS_H
#define EXE_INVITATIONS_H

#include "rpc/call.h"

/* Each method: a validate function (no database) and a handler (on a
 * database worker), rows of the dispatch table. Accept and Decline share
 * their validation. */
int invitations_create_validate(struct call *call)
    __attribute__((warn_unused_result));
int invitations_create(struct call *call) __attribute__((warn_unused_result));
int invitations_list(struct call *call) __attribute__((warn_unused_result));
int invitations_revoke_validate(struct call *call)
    __attribute__((warn_unused_result));
int invitations_revoke(struct call *call) __attribute__((warn_unused_result));
int invitations_answer_validate(struct call *call)
    __attribute__((warn_unused_result));
int invitations_accept(struct call *call) __attribute__((warn_unused_result));
int invitations_decline(struct call *call) __attribute__((warn_unused_result));

#endif
