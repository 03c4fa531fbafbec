/* Standings read through the cache. A cache hit answers only if it
 * reflects the caller's min_revision: cache_usable says the cache has
 * applied it, but a rewind can lower what it applied before the lookup
 * stamps the hit, and such a hit goes to the database like a miss. */
#include "authz/standing.h"

#include <string.h>

#include "authz/cache.h"
#include "base/clock.h"
#include "base/secrets.h"
#include "base/status.h"
#include "rpc/method.h"
#include "rpc/validate.h"
#include "store/authz.h"
#include "store/db.h"

int
standing_user(struct call *call, enum standing_source src,
    uint64_t min_revision, const struct standing_user_ids *ids,
    const struct standing *known, struct standing *out)
{
	struct cache *cache = call->svc->cache;
	if (cache_usable(cache, min_revision)) {
		unsigned char user[16], ws[16];
		const unsigned char *u = ids->user_bytes, *w = ids->workspace_bytes;
		if (u == NULL && validate_uuid_bytes(ids->user_id, user))
			u = user;
		if (w == NULL && validate_uuid_bytes(ids->workspace_id, ws))
			w = ws;
		struct cache_membership m;
		uint64_t rev;
		if (u != NULL && w != NULL &&
		    cache_get_membership_ids(cache, u, w, &m, &rev) &&
		    rev >= min_revision) {
			memset(out, 0, sizeof *out);
			out->workspace_exists = m.workspace_exists;
			out->personal = m.personal;
			out->role = m.role;
			out->has_grants = m.has_grants;
			out->revision = rev;
			return STATUS_OK;
		}
	}
	if (src == STANDING_CACHE_ONLY)
		return METHOD_MISS;
	if (known != NULL) {
		*out = *known;
	} else {
		/* A question of its own is a group of one. */
		int rc = store_user_standings(call->db, 1, &ids->workspace_id,
		    &ids->user_id, out);
		if (rc != STATUS_OK)
			return rc;
	}
	if (cache != NULL) {
		struct cache_membership m = {
		    .workspace_exists = out->workspace_exists,
		    .personal = out->personal,
		    .role = out->role,
		    .has_grants = out->has_grants,
		};
		cache_put_membership(cache, ids->user_id, ids->workspace_id, &m,
		    out->revision);
	}
	return STATUS_OK;
}

int
standing_key_read(struct call *call, const char *secret, size_t len,
    struct key_standing *out)
{
	char hash_hex[SECRET_HASH_HEX];
	secret_hash_hex(secret, len, call->svc->hash_key, hash_hex);
	int rc = store_key_lookup(call, hash_hex, out);
	if (rc == STATUS_OK)
		out->read_ms = clock_wall_ms();
	return rc;
}

int
standing_key(struct call *call, enum standing_source src,
    uint64_t min_revision, const char *secret, size_t len,
    struct key_standing *out)
{
	struct cache *cache = call->svc->cache;
	unsigned char hash[SECRET_HASH_BYTES];
	secret_hash(secret, len, call->svc->hash_key, hash);
	if (cache_usable(cache, min_revision)) {
		uint64_t rev;
		if (cache_get_key(cache, hash, sizeof hash, out, &rev) &&
		    rev >= min_revision &&
		    clock_wall_ms() - out->read_ms <= STANDING_KEY_REREAD_MS) {
			out->revision = rev;
			return STATUS_OK;
		}
	}
	if (src == STANDING_CACHE_ONLY)
		return METHOD_MISS;
	char hash_hex[SECRET_HASH_HEX];
	db_hex(hash, sizeof hash, hash_hex);
	int rc = store_key_lookup(call, hash_hex, out);
	if (rc != STATUS_OK)
		return rc;
	out->read_ms = clock_wall_ms();
	if (out->found && cache != NULL)
		cache_put_key(cache, hash, sizeof hash, out, out->revision);
	return STATUS_OK;
}

int
standing_resource(struct call *call, enum standing_source src,
    uint64_t min_revision, const char *type, const char *id, bool *found,
    char *workspace_id, uint64_t *revision)
{
	struct cache *cache = call->svc->cache;
	if (cache_usable(cache, min_revision) &&
	    cache_get_resource(cache, type, id, workspace_id, revision) &&
	    *revision >= min_revision) {
		*found = true;
		return STATUS_OK;
	}
	if (src == STANDING_CACHE_ONLY)
		return METHOD_MISS;
	int rc = store_resource_workspace(call, type, id, found, workspace_id,
	    revision);
	if (rc == STATUS_OK && *found && cache != NULL)
		cache_put_resource(cache, type, id, workspace_id, *revision);
	return rc;
}

int
standing_grant(struct call *call, enum standing_source src,
    uint64_t min_revision, const char *user_id, const char *workspace_id,
    const char *type, const char *id, enum role *role, uint64_t *revision)
{
	struct cache *cache = call->svc->cache;
	if (cache_usable(cache, min_revision) &&
	    cache_get_grant(cache, user_id, type, id, role, revision) &&
	    *revision >= min_revision)
		return STATUS_OK;
	if (src == STANDING_CACHE_ONLY)
		return METHOD_MISS;
	int rc = store_grant_role(call, user_id, type, id, role, revision);
	if (rc == STATUS_OK && cache != NULL)
		cache_put_grant(cache, user_id, workspace_id, type, id, *role,
		    *revision);
	return rc;
}

int
standing_revision(struct call *call, enum standing_source src,
    uint64_t min_revision, uint64_t *revision)
{
	/* The cache's applied revision has been written, whether or not the
	 * cache is fresh enough to answer about what is stored. */
	struct cache *cache = call->svc->cache;
	*revision = cache != NULL ? cache_revision(cache) : 0;
	if (*revision >= min_revision)
		return STATUS_OK;
	if (src == STANDING_CACHE_ONLY)
		return METHOD_MISS;
	return db_current_revision(call->db, revision);
}
