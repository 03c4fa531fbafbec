/* Decisions and their reasons, from the permission table and what is known
 * of the principal. */
#include "base/decide.h"

#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* decide_reason writes the concatenation of its strings, up to a NULL, to
 * d->reason, cut at its end as snprintf would. Denials are common (a
 * BatchCheck asks about many permissions at once), and joining strings
 * costs several times less than formatting them. */
static void
decide_reason(struct decision *d, ...)
{
	size_t len = 0, room = sizeof d->reason - 1;
	va_list ap;
	va_start(ap, d);
	for (const char *s; (s = va_arg(ap, const char *)) != NULL;) {
		size_t n = strnlen(s, room - len);
		memcpy(d->reason + len, s, n);
		len += n;
	}
	va_end(ap);
	d->reason[len] = '\0';
}

/* decide_holders names the roles that hold `perm`: "admin", "admin or
 * member" or "admin or member or read_only" (in three parts, for
 * decide_reason). */
#define decide_holders(perm)                                                  \
	(perm)->admin ? "admin" : "", (perm)->member ? " or member" : "",     \
	    (perm)->read_only ? " or read_only" : ""

void
decide_user(const char *user_id, const char *workspace_id,
    const struct standing *st, const struct permission *perm,
    struct decision *d)
{
	d->role = st->role;
	d->allowed = false;
	d->grant = ROLE_NONE;
	d->by_grant = false;
	if (!st->workspace_exists) {
		decide_reason(d, "workspace ", workspace_id, " does not exist",
		    NULL);
	} else if (st->role == ROLE_NONE) {
		/* Someone else's personal workspace reads as any team the
		 * user is not in: the reason must not tell a stranger which
		 * kind a workspace is. */
		decide_reason(d, "user ", user_id, " is not a member of workspace ",
		    workspace_id, "; ask one of its admins for an invitation",
		    NULL);
	} else if (!perms_role_has(st->role, perm)) {
		/* Which roles hold it, e.g. "admin or member". */
		decide_reason(d, "user ", user_id, " has role ",
		    perms_role_name(st->role), " in workspace ", workspace_id,
		    ", which does not grant ", perm->name, " (",
		    decide_holders(perm), " does); ask an admin of the workspace",
		    NULL);
	} else {
		d->allowed = true;
		d->reason[0] = '\0';
	}
}

void
decide_user_resource(const char *user_id, const char *workspace_id,
    const struct standing *st, enum role grant, const struct decide_resource *r,
    const struct permission *perm, struct decision *d)
{
	if (!st->workspace_exists || st->personal || grant == ROLE_NONE) {
		/* Nothing a grant could add: the workspace decides, as for the
		 * workspace itself, except that a denial of a permission a
		 * grant could give says that there is none. */
		decide_user(user_id, workspace_id, st, perm, d);
		if (d->allowed || !st->workspace_exists || st->personal ||
		    perms_of_workspace(perm))
			return;
		if (st->role == ROLE_NONE)
			decide_reason(d, "user ", user_id,
			    " is not a member of workspace ", workspace_id,
			    " and has no grant on ", r->type, " \"", r->id,
			    "\"; ask one of its admins for an invitation or a "
			    "grant", NULL);
		else
			decide_reason(d, "user ", user_id, " has role ",
			    perms_role_name(st->role), " in workspace ",
			    workspace_id, " and no grant on ", r->type, " \"",
			    r->id, "\"; ", perms_role_name(st->role),
			    " does not grant ", perm->name, " (",
			    decide_holders(perm),
			    " does); ask an admin of the workspace", NULL);
		return;
	}
	d->grant = grant;
	d->by_grant = false;
	d->allowed = false;
	if (perms_of_workspace(perm)) {
		/* The workspace's own: the grant counts for nothing. */
		decide_user(user_id, workspace_id, st, perm, d);
		d->grant = grant;
		if (d->allowed)
			return;
		if (st->role == ROLE_NONE)
			decide_reason(d, "user ", user_id,
			    " is not a member of workspace ", workspace_id,
			    "; a grant (", perms_role_name(grant), " on ", r->type,
			    " \"", r->id, "\") gives nothing of the workspace "
			    "itself, such as ", perm->name, NULL);
		else
			decide_reason(d, "user ", user_id, " has role ",
			    perms_role_name(st->role), " in workspace ",
			    workspace_id, ", which does not grant ", perm->name,
			    " (", decide_holders(perm), " does); a grant on ",
			    r->type, " \"", r->id, "\" never gives ", perm->name,
			    ", which belongs to the workspace; ask an admin of "
			    "the workspace", NULL);
		return;
	}
	d->role = perms_role_stronger(st->role, grant);
	if (perms_role_has(st->role, perm)) {
		d->allowed = true;
		d->reason[0] = '\0';
	} else if (perms_role_has(grant, perm)) {
		d->allowed = true;
		d->by_grant = true;
		decide_reason(d, "grant ", perms_role_name(grant), " on ", r->type,
		    " \"", r->id, "\" allows ", perm->name, NULL);
	} else if (st->role == ROLE_NONE) {
		decide_reason(d, "user ", user_id, " is not a member of workspace ",
		    workspace_id, " and has grant ", perms_role_name(grant),
		    " on ", r->type, " \"", r->id, "\"; ",
		    perms_role_name(grant), " does not grant ", perm->name, " (",
		    decide_holders(perm), " does); ask an admin of the workspace",
		    NULL);
	} else {
		decide_reason(d, "user ", user_id, " has role ",
		    perms_role_name(st->role), " in workspace ", workspace_id,
		    " and grant ", perms_role_name(grant), " on ", r->type, " \"",
		    r->id, "\"; neither grants ", perm->name, " (",
		    decide_holders(perm), " does); ask an admin of the workspace",
		    NULL);
	}
}

bool
decide_key_live(const struct key_standing *k, int64_t now_ms)
{
	return k->found && (k->expires_ms == 0 || now_ms < k->expires_ms);
}

void
decide_key(const struct key_standing *k, const char *workspace_id,
    const struct permission *perm, int64_t now_ms, struct decision *d)
{
	d->allowed = false;
	d->role = ROLE_NONE;
	d->grant = ROLE_NONE;
	d->by_grant = false;
	if (!decide_key_live(k, now_ms)) {
		decide_reason(d, "the API key is unknown, revoked, or rotated "
		    "and past its grace period", NULL);
		return;
	}
	if (strcasecmp(k->workspace_id, workspace_id) != 0) {
		decide_reason(d, "the API key belongs to workspace ",
		    k->workspace_id, "; a key acts only in its own workspace",
		    NULL);
		return;
	}
	d->role = k->read_only ? ROLE_READ_ONLY : ROLE_MEMBER;
	if (perm->management) {
		decide_reason(d, "API keys never hold ", perm->name,
		    "; a workspace admin must do this", NULL);
	} else if (!perms_role_has(d->role, perm)) {
		decide_reason(d, "the API key is ",
		    k->read_only ? "read-only" : "a member key",
		    ", which does not grant ", perm->name, NULL);
	} else {
		d->allowed = true;
		d->reason[0] = '\0';
	}
}

void
decide_key_malformed(struct decision *d)
{
	d->allowed = false;
	d->role = ROLE_NONE;
	d->grant = ROLE_NONE;
	d->by_grant = false;
	decide_reason(d, "the API key is malformed (wrong prefix, length or "
	    "checksum)", NULL);
}
