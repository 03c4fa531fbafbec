/* The authorization decision itself, as a pure function: what is known of
 * a principal where it asks (a user's standing in a workspace, or an API
 * key) and a permission in; allowed or not, with which role, and why not
 * (SPEC R5, R12, R13) out. No call, cache, clock or SQL: the service's
 * AuthzService, its WorkspaceService actors and the client library's local
 * cache all decide with it, so their reasons read the same. */
#ifndef EXE_DECIDE_H
#define EXE_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "base/perms.h"

/* What is known of a user in a workspace. */
struct standing {
	bool workspace_exists;
	bool personal;
	char organization_id[37]; /* team workspaces */
	enum role role;           /* ROLE_NONE: not a member */
	/* The user holds a grant on some resource of this workspace, so a
	 * check on one of its resources must ask for the grant on it. */
	bool has_grants;
	uint64_t revision;        /* the revision this reflects */
};

/* What is known of an API key, found by its keyed hash. The database, the
 * service's cache and the client's cache all hold this one struct. */
struct key_standing {
	bool found; /* false: unknown, rotated past its grace, or revoked */
	char key_id[37];
	char workspace_id[37];
	bool read_only;
	bool workspace_personal;
	int64_t expires_ms; /* 0: current; else the end of its grace period */
	int64_t read_ms;    /* when the database was read (wall clock) */
	uint64_t revision;  /* the revision this reflects */
};

/* A decision, and what it was made from. decide_* write `allowed`,
 * `role` and `reason`; whoever gathered the standing fills the rest. */
struct decision {
	bool allowed;
	enum role role;
	uint64_t revision;
	char workspace_id[37];
	struct standing standing; /* the workspace as the decision saw it */
	struct key_standing key;  /* for an API key principal */
	/* On a resource: the user's grant on it (ROLE_NONE: none), and
	 * whether it is what allowed the permission. */
	enum role grant;
	bool by_grant;
	/* Why not, when !allowed; when allowed by a grant, which grant. */
	char reason[480];
};

/* decide_user decides for user `user_id` in `workspace_id` from `st`:
 * a missing workspace, no membership (of a team, or someone else's
 * personal workspace: one reason for both, so that it does not tell a
 * stranger the workspace's kind), or a role without the permission, each
 * with its reason. */
void decide_user(const char *user_id, const char *workspace_id,
    const struct standing *st, const struct permission *perm,
    struct decision *d);

/* A registered resource a check is on. */
struct decide_resource {
	const char *type;
	const char *id;
};

/* decide_user_resource decides for user `user_id` on the resource `r`,
 * registered in `workspace_id`, from the user's standing there and their
 * grant on it (`grant`, ROLE_NONE for none). The role it acts with is the
 * stronger of the two: a grant never lowers. A permission of the
 * workspace's own (perms_of_workspace) comes from the workspace role
 * alone, and a personal workspace's resources know no grants (R2): both
 * are decided as decide_user does. d->role is the role the decision was
 * made with, d->grant the grant it saw; a denial names both, and an
 * allowance that the grant alone made says so in d->reason. */
void decide_user_resource(const char *user_id, const char *workspace_id,
    const struct standing *st, enum role grant, const struct decide_resource *r,
    const struct permission *perm, struct decision *d);

/* decide_key decides for the API key `k` in `workspace_id`: a key acts in
 * its own workspace only, with the member column (read_only for a
 * read-only key), and never holds a management permission. A key that is
 * not found (or whose grace period ended at `now_ms`) is refused. */
void decide_key(const struct key_standing *k, const char *workspace_id,
    const struct permission *perm, int64_t now_ms, struct decision *d);

/* decide_key_malformed refuses a key whose form (prefix, length,
 * checksum) is wrong. */
void decide_key_malformed(struct decision *d);

/* decide_key_live says whether `k` is found and not past its grace
 * period at `now_ms`. */
bool decide_key_live(const struct key_standing *k, int64_t now_ms);

#endif
