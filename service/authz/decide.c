/* Decisions and their reasons, from the permission table and the
 * principal's standing in the workspace. */
#include "authz/decide.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "authz/cache.h"
#include "base/secrets.h"
#include "base/status.h"
#include "store/db.h"

/* reason_set writes the concatenation of its strings, up to a NULL, to
 * d->reason, cut at its end as snprintf would. Denials are common (a
 * BatchCheck asks about many permissions at once), and joining strings
 * costs several times less than formatting them. */
static void
reason_set(struct decision *d, ...)
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

void
decide_from_standing(const char *user_id, const struct permission *perm,
    struct decision *d)
{
	const struct standing *st = &d->standing;
	d->role = st->role;
	d->allowed = false;
	if (!st->workspace_exists) {
		reason_set(d, "workspace ", d->workspace_id, " does not exist",
		    NULL);
	} else if (st->role == ROLE_NONE && st->personal) {
		reason_set(d, "user ", user_id, " is not the owner of workspace ",
		    d->workspace_id,
		    "; a personal workspace is visible to its owner only", NULL);
	} else if (st->role == ROLE_NONE) {
		reason_set(d, "user ", user_id, " is not a member of workspace ",
		    d->workspace_id, "; ask one of its admins for an invitation",
		    NULL);
	} else if (!perms_role_has(st->role, perm)) {
		/* Which roles hold it, e.g. "admin or member". */
		reason_set(d, "user ", user_id, " has role ",
		    perms_role_name(st->role), " in workspace ", d->workspace_id,
		    ", which does not grant ", perm->name, " (",
		    perm->admin ? "admin" : "", perm->member ? " or member" : "",
		    perm->read_only ? " or read_only" : "",
		    " does); ask an admin of the workspace", NULL);
	} else {
		d->allowed = true;
	}
}

int
decide_user(struct call *call, const char *user_id, const char *workspace_id,
    const struct permission *perm, enum store_lock lock, struct decision *d)
{
	struct standing st;
	int rc = store_user_standing(call, workspace_id, user_id, lock, &st);
	if (rc != STATUS_OK)
		return rc;
	decide_user_read(call, user_id, workspace_id, perm, &st,
	    lock == STORE_LOCK_NONE, d);
	return STATUS_OK;
}

void
decide_user_read(struct call *call, const char *user_id,
    const char *workspace_id, const struct permission *perm,
    const struct standing *st, bool cache_it, struct decision *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->workspace_id, sizeof d->workspace_id, "%s", workspace_id);
	d->standing = *st;
	d->revision = st->revision;
	if (cache_it && call->svc->cache != NULL) {
		struct cache_membership m = {st->workspace_exists, st->personal,
		    st->role};
		cache_put_membership(call->svc->cache, user_id, workspace_id, &m,
		    st->revision);
	}
	decide_from_standing(user_id, perm, d);
}

void
decide_from_key(const struct permission *perm, struct decision *d)
{
	d->allowed = false;
	if (strcmp(d->key.workspace_id, d->workspace_id) != 0) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key belongs to workspace %s; a key acts only in "
		    "its own workspace", d->key.workspace_id);
		return;
	}
	d->role = d->key.read_only ? ROLE_READ_ONLY : ROLE_MEMBER;
	if (perm->management) {
		snprintf(d->reason, sizeof d->reason,
		    "API keys never hold %s; a workspace admin must do this",
		    perm->name);
	} else if (!perms_role_has(d->role, perm)) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key is %s, which does not grant %s",
		    d->key.read_only ? "read-only" : "a member key", perm->name);
	} else {
		d->allowed = true;
	}
}

int64_t
decide_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
decide_cache_key(struct cache *cache, const unsigned char *hash,
    const struct key_standing *k)
{
	struct cache_key entry;
	memset(&entry, 0, sizeof entry);
	memcpy(entry.key_id, k->key_id, sizeof entry.key_id);
	memcpy(entry.workspace_id, k->workspace_id, sizeof entry.workspace_id);
	entry.read_only = k->read_only;
	entry.personal = k->workspace_personal;
	entry.expires_ms = k->expires_ms;
	entry.read_ms = decide_now_ms();
	cache_put_key(cache, hash, SECRET_HASH_BYTES, &entry, k->revision);
}

bool
decide_key_from_cache(struct cache *cache, const unsigned char *hash,
    struct decision *d)
{
	struct cache_key entry;
	uint64_t revision;
	if (!cache_get_key(cache, hash, SECRET_HASH_BYTES, &entry, &revision))
		return false;
	int64_t now = decide_now_ms();
	/* Go back to the database once a minute per key: that is when its
	 * last use is recorded. */
	if (now - entry.read_ms > 60 * 1000)
		return false;
	memset(&d->key, 0, sizeof d->key);
	d->key.found = entry.expires_ms == 0 || now < entry.expires_ms;
	memcpy(d->key.key_id, entry.key_id, sizeof d->key.key_id);
	memcpy(d->key.workspace_id, entry.workspace_id,
	    sizeof d->key.workspace_id);
	d->key.read_only = entry.read_only;
	d->key.workspace_personal = entry.personal;
	d->key.expires_ms = entry.expires_ms;
	if (revision > d->revision)
		d->revision = revision;
	return true;
}

int
decide_key(struct call *call, const char *secret, const char *workspace_id,
    const struct permission *perm, enum store_lock lock, struct decision *d)
{
	memset(d, 0, sizeof *d);
	snprintf(d->workspace_id, sizeof d->workspace_id, "%s", workspace_id);
	size_t len = strlen(secret);
	if (!secret_well_formed(SECRET_API_KEY, secret, len)) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key is malformed (wrong prefix, length or "
		    "checksum)");
		return db_current_revision(call->db, &d->revision);
	}
	unsigned char hash[SECRET_HASH_BYTES];
	char hash_hex[SECRET_HASH_HEX];
	secret_hash(secret, len, call->svc->hash_key, hash);
	db_hex(hash, sizeof hash, hash_hex);
	int rc = store_key_lookup(call, hash_hex, &d->key);
	if (rc != STATUS_OK)
		return rc;
	d->revision = d->key.revision;
	if (d->key.found && lock == STORE_LOCK_NONE && call->svc->cache != NULL)
		decide_cache_key(call->svc->cache, hash, &d->key);
	if (!d->key.found) {
		snprintf(d->reason, sizeof d->reason,
		    "the API key is unknown, revoked, or rotated and past its "
		    "grace period");
		return STATUS_OK;
	}
	if (lock != STORE_LOCK_NONE &&
	    strcmp(d->key.workspace_id, workspace_id) == 0) {
		/* Inside a write: lock the workspace as a user actor would. */
		rc = store_user_standing(call, workspace_id,
		    "00000000-0000-0000-0000-000000000000", lock, &d->standing);
		if (rc != STATUS_OK)
			return rc;
	} else {
		d->standing.workspace_exists = true;
		d->standing.personal = d->key.workspace_personal;
	}
	decide_from_key(perm, d);
	return STATUS_OK;
}
