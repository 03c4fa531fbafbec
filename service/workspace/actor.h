/* The acting principal of a WorkspaceService call (`actor`, a user or an
 * API key), checked by the service itself, never trusted from the caller:
 * does it hold this permission in this workspace (SPEC R5), is it an
 * admin of this organisation (R3, R4)? Denials carry the R12 reason.
 * Called inside the call's write transaction, with the workspace row
 * locked, so the answer holds until the write commits. */
#ifndef EXE_ACTOR_H
#define EXE_ACTOR_H

#include <stdbool.h>

#include "base/decide.h"
#include "exe/access/v1/types.pb-c.h"
#include "rpc/call.h"
#include "store/authz.h"
#include "store/db.h"

/* actor_require decides whether `actor` holds `permission` in
 * `workspace_id`, reading the workspace with `lock`. Returns STATUS_OK
 * (with *d filled), STATUS_NOT_FOUND when the workspace does not exist, or
 * STATUS_PERMISSION_DENIED with the reason. */
int actor_require(struct call *call, const Exe__Access__V1__Principal *actor,
    const char *workspace_id, const char *permission, enum store_lock lock,
    struct decision *d) __attribute__((warn_unused_result));

/* actor_require_resource decides whether `actor` holds `permission` on
 * the registered resource `ref`, in the workspace that holds it (its id
 * written to `workspace_id`, 37 bytes), reading that workspace with
 * `lock`. A user's grant on the resource counts as in Check (the stronger
 * of it and the workspace role; never for the workspace's own
 * permissions). An unregistered resource and one held where the actor has
 * no standing (a user who is not a member and holds no grant on it, a key
 * of another workspace) get the same NOT_FOUND (actor_resource_unknown),
 * so that a stranger learns neither whether it is registered nor where.
 * Otherwise as actor_require. */
int actor_require_resource(struct call *call,
    const Exe__Access__V1__Principal *actor,
    const Exe__Access__V1__ResourceRef *ref, const char *permission,
    enum store_lock lock, char *workspace_id, struct decision *d)
    __attribute__((warn_unused_result));

/* actor_resource_unknown answers NOT_FOUND for `ref`: "not registered, or
 * not in a workspace the actor belongs to". */
int actor_resource_unknown(struct call *call,
    const Exe__Access__V1__ResourceRef *ref);

/* actor_or_service checks the optional actor of a read the service may
 * also make for itself (GetUser, FindUser, ListWorkspaces), without the
 * database: given, it must be a user of the right form (an API key is
 * refused: PERMISSION_DENIED); absent, the caller reads as the service,
 * which needs an admin caller token (PERMISSION_DENIED for a check token).
 * `what` names the read ("read users"). */
int actor_or_service(struct call *call,
    const Exe__Access__V1__Principal *actor, const char *what)
    __attribute__((warn_unused_result));

/* actor_require_user refuses an API key where only a person may act
 * (creating organisations, accepting invitations): PERMISSION_DENIED
 * saying `what` needs a user. */
int actor_require_user(struct call *call,
    const Exe__Access__V1__Principal *actor, const char *what)
    __attribute__((warn_unused_result));

/* actor_require_org_admin checks that the (user) actor administers
 * organisation `org_id`, locking the organisation row with `lock`.
 * STATUS_NOT_FOUND for no such organisation, STATUS_PERMISSION_DENIED
 * with the reason otherwise. */
int actor_require_org_admin(struct call *call,
    const Exe__Access__V1__Principal *actor, const char *org_id,
    enum store_lock lock) __attribute__((warn_unused_result));

/* actor_fill_change records who acted in a change record: the user, or
 * the API key that `d` resolved (d may be NULL for a user actor). */
void actor_fill_change(const Exe__Access__V1__Principal *actor,
    const struct decision *d, struct db_change *change);

#endif
