/* WorkspaceService methods about users: CreateUser (sign-up, SPEC R1),
 * GetUser and FindUser. Each method has a validate function (no database)
 * and a handler (on a database worker), as rows of the dispatch table. */
#ifndef EXE_USERS_H
#define EXE_USERS_H

#include "rpc/call.h"

int users_create_validate(struct call *call);
int users_create(struct call *call);
int users_get_validate(struct call *call);
int users_get(struct call *call);
int users_find_validate(struct call *call);
int users_find(struct call *call);

#endif
