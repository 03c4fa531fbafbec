/* The authorization cache on the shared cache table (base/cachetab.c):
 * lock-free lookups, one writer lock, CLOCK eviction, freeing after a
 * grace period, and the no-stale-insert and stamping rules. Here: the
 * keys, the rewind and resync rules, and four more tables, touched by
 * writers only, that index the entries by workspace, API keys by key id,
 * and grants by resource and by (user, workspace), so that a change to a
 * workspace, a key, a resource or a membership drops its entries without
 * a walk over the whole cache. */
#include "authz/cache.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/rculfhash.h>

#include <jansson.h>

#include "base/cachetab.h"
#include "base/clock.h"
#include "base/log.h"
#include "rpc/validate.h"

enum entry_kind {
	ENTRY_MEMBERSHIP = 'M',
	ENTRY_KEY = 'K',
	ENTRY_RESOURCE = 'R',
	ENTRY_GRANT = 'G',
};

struct entry {
	struct cachetab_entry base;   /* in the table, by key; first */
	struct cds_lfht_node ws_node; /* in by_workspace */
	/* API keys: in by_key_id; grants: in by_resource */
	struct cds_lfht_node id_node;
	struct cds_lfht_node owner_node; /* grants: in by_owner */
	unsigned char workspace[16]; /* whose entry this is, for scans */
	union {
		struct cache_membership m;
		struct key_standing k;
		enum role g;
	} v;
	/* A kind byte, then the kind's key bytes: a membership's user and
	 * workspace ids (16 bytes each), a key's hash, a resource's type,
	 * a NUL and its id, a grant's user id (16 bytes) and its resource as
	 * a resource's. */
	unsigned char key[];
};

_Static_assert(offsetof(struct entry, base) == 0,
    "the indexes find an entry's nodes from its table part");

struct cache {
	struct cachetab *tab;
	/* Every entry, by e->workspace; API key entries, by e->v.k.key_id;
	 * grant entries, by their resource and by user and workspace. */
	struct cachetab_index by_workspace, by_key_id, by_resource, by_owner;
	size_t capacity;
	long max_staleness_ms;
	_Atomic int64_t synced_ms;
	/* The database lost revisions the cache had applied (cache_rewind):
	 * no answers until the feeder has read the log afresh. Under the
	 * table's write lock. */
	_Atomic bool rewound;
	_Atomic uint64_t hits, misses;
};

struct lookup_key {
	const unsigned char *bytes;
	size_t len;
};

static struct entry *
cache_entry_of(struct cachetab_entry *e)
{
	return caa_container_of(e, struct entry, base);
}

static int
cache_match_workspace(struct cds_lfht_node *node, const void *ws)
{
	const struct entry *e = caa_container_of(node, struct entry, ws_node);
	return memcmp(e->workspace, ws, 16) == 0;
}

static int
cache_match_key_id(struct cds_lfht_node *node, const void *key_id)
{
	const struct entry *e = caa_container_of(node, struct entry, id_node);
	return strcmp(e->v.k.key_id, key_id) == 0;
}

/* A grant entry's resource: the key's bytes after the kind and user. */
enum { GRANT_RESOURCE_AT = 1 + 16 };

static int
cache_match_resource(struct cds_lfht_node *node, const void *arg)
{
	const struct entry *e = caa_container_of(node, struct entry, id_node);
	const struct lookup_key *r = arg;
	return e->base.key_len - GRANT_RESOURCE_AT == r->len &&
	    memcmp(e->key + GRANT_RESOURCE_AT, r->bytes, r->len) == 0;
}

/* cache_match_owner: `owner` is a user's 16 bytes and a workspace's 16. */
static int
cache_match_owner(struct cds_lfht_node *node, const void *owner)
{
	const struct entry *e =
	    caa_container_of(node, struct entry, owner_node);
	const unsigned char *o = owner;
	return memcmp(e->key + 1, o, 16) == 0 &&
	    memcmp(e->workspace, o + 16, 16) == 0;
}

static void
cache_free_entry_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct entry, base.rcu));
}

/* cache_enter_cb adds `e`, just stored, to the indexes. */
static void
cache_enter_cb(struct cachetab_entry *base, void *arg)
{
	struct cache *c = arg;
	struct entry *e = cache_entry_of(base);
	cachetab_index_add_locked(c->tab, &c->by_workspace, base, e->workspace,
	    16);
	if (e->key[0] == ENTRY_KEY)
		cachetab_index_add_locked(c->tab, &c->by_key_id, base,
		    e->v.k.key_id, strlen(e->v.k.key_id));
	if (e->key[0] == ENTRY_GRANT) {
		unsigned char owner[32];
		memcpy(owner, e->key + 1, 16);
		memcpy(owner + 16, e->workspace, 16);
		cachetab_index_add_locked(c->tab, &c->by_resource, base,
		    e->key + GRANT_RESOURCE_AT,
		    base->key_len - GRANT_RESOURCE_AT);
		cachetab_index_add_locked(c->tab, &c->by_owner, base, owner,
		    sizeof owner);
	}
}

/* cache_leave_cb takes `e`, out of the table now, out of the indexes. */
static void
cache_leave_cb(struct cachetab_entry *base, void *arg)
{
	struct cache *c = arg;
	struct entry *e = cache_entry_of(base);
	cachetab_index_del_locked(&c->by_workspace, base);
	if (e->key[0] == ENTRY_KEY)
		cachetab_index_del_locked(&c->by_key_id, base);
	if (e->key[0] == ENTRY_GRANT) {
		cachetab_index_del_locked(&c->by_resource, base);
		cachetab_index_del_locked(&c->by_owner, base);
	}
}

static void
cache_fini_indexes(struct cache *c)
{
	cachetab_index_fini(&c->by_workspace);
	cachetab_index_fini(&c->by_key_id);
	cachetab_index_fini(&c->by_resource);
	cachetab_index_fini(&c->by_owner);
}

int
cache_new(struct cache **out, size_t capacity, long max_staleness_ms,
    uint64_t revision)
{
	struct cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->capacity = capacity;
	c->max_staleness_ms = max_staleness_ms;
	atomic_store(&c->synced_ms, clock_mono_ms());
	/* Workspaces: at most one an entry. Keys: a few per workspace at
	 * most, and far fewer cached than memberships. Grants: only for
	 * users who hold one in the workspace. Resource ids are the
	 * callers' own: SipHash, so that they cannot be chosen to
	 * collide. */
	struct cachetab_config cfg = {
	    .capacity = capacity,
	    .hash = CACHETAB_HASH_SIP,
	    .applied = revision,
	    .enter_cb = cache_enter_cb,
	    .leave_cb = cache_leave_cb,
	    .free_cb = cache_free_entry_cb,
	    .arg = c,
	};
	if (cachetab_index_init(&c->by_workspace, capacity,
	        offsetof(struct entry, ws_node), cache_match_workspace) != 0 ||
	    cachetab_index_init(&c->by_key_id, capacity / 8,
	        offsetof(struct entry, id_node), cache_match_key_id) != 0 ||
	    cachetab_index_init(&c->by_resource, capacity / 8,
	        offsetof(struct entry, id_node), cache_match_resource) != 0 ||
	    cachetab_index_init(&c->by_owner, capacity / 8,
	        offsetof(struct entry, owner_node), cache_match_owner) != 0 ||
	    cachetab_new(&c->tab, &cfg) != 0) {
		cache_fini_indexes(c);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	cachetab_free(c->tab); /* every entry leaves the indexes */
	cache_fini_indexes(c);
	free(c);
}

bool
cache_usable(struct cache *c, uint64_t min_revision)
{
	if (c == NULL || c->capacity == 0)
		return false;
	if (clock_mono_ms() - atomic_load(&c->synced_ms) > c->max_staleness_ms)
		return false;
	if (atomic_load(&c->rewound))
		return false;
	return cachetab_applied(c->tab) >= min_revision;
}

uint64_t
cache_revision(struct cache *c)
{
	return cachetab_applied(c->tab);
}

uint64_t
cache_seen(struct cache *c)
{
	return cachetab_seen(c->tab);
}

bool
cache_rewind(struct cache *c, uint64_t revision)
{
	cachetab_lock(c->tab);
	uint64_t applied = cachetab_applied(c->tab);
	uint64_t seen = cachetab_seen(c->tab);
	/* Behind a read the cache keeps, too: an entry read at a revision
	 * the database no longer has would be dropped by no change. */
	bool behind = revision < seen;
	if (behind) {
		atomic_store(&c->rewound, true);
		cachetab_drop_all_locked(c->tab);
		cachetab_set_applied_locked(c->tab,
		    revision < applied ? revision : applied);
		cachetab_set_seen_locked(c->tab, revision);
	}
	cachetab_unlock(c->tab);
	if (behind)
		log_warn("cache_rewound", "{s:I, s:I, s:I}", "applied",
		    (json_int_t)applied, "seen", (json_int_t)seen, "database",
		    (json_int_t)revision);
	return behind;
}

bool
cache_resync(struct cache *c, uint64_t revision)
{
	cachetab_lock(c->tab);
	if (atomic_exchange(&c->rewound, false)) {
		/* As in cache_apply: read before a rewind, perhaps. */
		cachetab_unlock(c->tab);
		return false;
	}
	uint64_t applied = cachetab_applied(c->tab);
	cachetab_drop_all_locked(c->tab);
	if (revision > applied)
		cachetab_set_applied_locked(c->tab, revision);
	cachetab_set_seen_locked(c->tab, cachetab_applied(c->tab));
	atomic_store(&c->synced_ms, clock_mono_ms());
	cachetab_unlock(c->tab);
	log_warn("cache_resynced", "{s:I, s:I}", "applied",
	    (json_int_t)applied, "revision", (json_int_t)revision);
	return true;
}

void
cache_note_write(struct cache *c, uint64_t revision)
{
	/* Nothing at or after `revision` can have been applied, or read:
	 * its write holds the revision row until it commits. Unless the
	 * database is not the one the cache followed. Read without the
	 * write lock (the two atomics): on every write, and a lock would
	 * not close the window for a read of the old history stored just
	 * after it, which the feeder's check on its connection covers. */
	if (c == NULL)
		return;
	if (revision <= cachetab_seen(c->tab))
		(void)cache_rewind(c, revision - 1);
}

/* cache_get is cachetab_get, counted (when the cache is enabled); the
 * key of an API key entry is the hash of a secret. */
static bool
cache_get(struct cache *c, const unsigned char *key, size_t len, void *out,
    size_t size, uint64_t *revision)
{
	if (c->capacity == 0)
		return false;
	bool hit = cachetab_get(c->tab, key, len, key[0] == ENTRY_KEY, out,
	    size, revision);
	atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1,
	    memory_order_relaxed);
	return hit;
}

/* cache_put stores `value` (`size` bytes) under `key` for `workspace`, as
 * read at `read_revision`. */
static void
cache_put(struct cache *c, const unsigned char *key, size_t len,
    const unsigned char workspace[16], const void *value, size_t size,
    uint64_t read_revision)
{
	if (c->capacity == 0)
		return;
	struct entry *e = calloc(1, sizeof *e + len);
	if (e == NULL)
		return;
	memcpy(e->workspace, workspace, 16);
	memcpy(&e->v, value, size);
	memcpy(e->key, key, len);
	cachetab_entry_init(&e->base, e->key, len, key[0] == ENTRY_KEY, &e->v,
	    read_revision);
	cachetab_put(c->tab, &e->base);
}

/* Keys: a kind byte, then the kind's identity. */
enum {
	MEMBERSHIP_KEY = 1 + 32,
	RESOURCE_KEY_MAX = 1 + 16 + 1 + 256,
	GRANT_KEY_MAX = 16 + RESOURCE_KEY_MAX,
};

static bool
membership_key(const char *user_id, const char *workspace_id,
    unsigned char key[MEMBERSHIP_KEY])
{
	key[0] = ENTRY_MEMBERSHIP;
	return validate_uuid_bytes(user_id, key + 1) &&
	    validate_uuid_bytes(workspace_id, key + 17);
}

static size_t
resource_key(const char *type, const char *id, unsigned char *key)
{
	size_t tl = strlen(type), il = strlen(id);
	if (1 + tl + 1 + il > RESOURCE_KEY_MAX)
		return 0;
	key[0] = ENTRY_RESOURCE;
	memcpy(key + 1, type, tl);
	key[1 + tl] = '\0';
	memcpy(key + 2 + tl, id, il);
	return 2 + tl + il;
}

bool
cache_get_membership(struct cache *c, const char *user_id,
    const char *workspace_id, struct cache_membership *out,
    uint64_t *revision)
{
	unsigned char key[MEMBERSHIP_KEY];
	return membership_key(user_id, workspace_id, key) &&
	    cache_get(c, key, sizeof key, out, sizeof *out, revision);
}

bool
cache_get_membership_ids(struct cache *c, const unsigned char user_id[16],
    const unsigned char workspace_id[16], struct cache_membership *out,
    uint64_t *revision)
{
	unsigned char key[MEMBERSHIP_KEY];
	key[0] = ENTRY_MEMBERSHIP;
	memcpy(key + 1, user_id, 16);
	memcpy(key + 17, workspace_id, 16);
	return cache_get(c, key, sizeof key, out, sizeof *out, revision);
}

void
cache_put_membership(struct cache *c, const char *user_id,
    const char *workspace_id, const struct cache_membership *m,
    uint64_t read_revision)
{
	unsigned char key[MEMBERSHIP_KEY];
	if (membership_key(user_id, workspace_id, key))
		cache_put(c, key, sizeof key, key + 17, m, sizeof *m,
		    read_revision);
}

bool
cache_get_key(struct cache *c, const unsigned char *hash, size_t len,
    struct key_standing *out, uint64_t *revision)
{
	unsigned char key[1 + 64];
	if (len > 64)
		return false;
	key[0] = ENTRY_KEY;
	memcpy(key + 1, hash, len);
	return cache_get(c, key, 1 + len, out, sizeof *out, revision);
}

void
cache_put_key(struct cache *c, const unsigned char *hash, size_t len,
    const struct key_standing *k, uint64_t read_revision)
{
	unsigned char key[1 + 64];
	unsigned char workspace[16];
	if (len > 64 || !validate_uuid_bytes(k->workspace_id, workspace))
		return;
	key[0] = ENTRY_KEY;
	memcpy(key + 1, hash, len);
	cache_put(c, key, 1 + len, workspace, k, sizeof *k, read_revision);
}

bool
cache_get_resource(struct cache *c, const char *type, const char *id,
    char workspace_id[37], uint64_t *revision)
{
	unsigned char key[RESOURCE_KEY_MAX];
	size_t len = resource_key(type, id, key);
	char value[37];
	if (len == 0 || !cache_get(c, key, len, value, sizeof value, revision))
		return false;
	memcpy(workspace_id, value, sizeof value);
	return true;
}

void
cache_put_resource(struct cache *c, const char *type, const char *id,
    const char *workspace_id, uint64_t read_revision)
{
	unsigned char key[RESOURCE_KEY_MAX];
	unsigned char workspace[16];
	size_t len = resource_key(type, id, key);
	if (len == 0 || !validate_uuid_bytes(workspace_id, workspace))
		return;
	char value[37] = {0};
	strncpy(value, workspace_id, 36);
	cache_put(c, key, len, workspace, value, sizeof value, read_revision);
}

/* grant_key writes the key of `user_id`'s grant on (type, id) to `key`
 * (GRANT_KEY_MAX bytes) and returns its length; 0 if it cannot be one. */
static size_t
grant_key(const char *user_id, const char *type, const char *id,
    unsigned char *key)
{
	unsigned char user[16];
	if (!validate_uuid_bytes(user_id, user))
		return 0;
	size_t len = resource_key(type, id, key + 16);
	if (len == 0)
		return 0;
	/* resource_key wrote its kind byte at key[16]: the user goes over
	 * it and before, and the resource follows as it is. */
	key[0] = ENTRY_GRANT;
	memcpy(key + 1, user, 16);
	return 16 + len;
}

bool
cache_get_grant(struct cache *c, const char *user_id, const char *type,
    const char *id, enum role *out, uint64_t *revision)
{
	unsigned char key[GRANT_KEY_MAX];
	size_t len = grant_key(user_id, type, id, key);
	return len > 0 && cache_get(c, key, len, out, sizeof *out, revision);
}

void
cache_put_grant(struct cache *c, const char *user_id, const char *workspace_id,
    const char *type, const char *id, enum role role, uint64_t read_revision)
{
	unsigned char key[GRANT_KEY_MAX];
	unsigned char workspace[16];
	size_t len = grant_key(user_id, type, id, key);
	if (len == 0 || !validate_uuid_bytes(workspace_id, workspace))
		return;
	cache_put(c, key, len, workspace, &role, sizeof role, read_revision);
}

/* cache_drop_workspace_locked deletes every entry of workspace `ws` (any
 * kind). */
static void
cache_drop_workspace_locked(struct cache *c, const unsigned char *ws)
{
	cachetab_index_drop_locked(c->tab, &c->by_workspace, ws, 16, ws, NULL);
}

/* cache_drop_grants_of_resource_locked deletes every grant entry on the
 * resource whose type, NUL and id are the `len` bytes at `r`. */
static void
cache_drop_grants_of_resource_locked(struct cache *c, const unsigned char *r,
    size_t len)
{
	struct lookup_key k = {r, len};
	cachetab_index_drop_locked(c->tab, &c->by_resource, r, len, &k, NULL);
}

/* cache_drop_grants_of_owner_locked deletes every grant entry of the user
 * and workspace whose ids are the 32 bytes at `owner`. */
static void
cache_drop_grants_of_owner_locked(struct cache *c, const unsigned char *owner)
{
	cachetab_index_drop_locked(c->tab, &c->by_owner, owner, 32, owner,
	    NULL);
}

/* cache_drop_key_locked deletes every entry of API key `key_id`. */
static void
cache_drop_key_locked(struct cache *c, const char *key_id)
{
	cachetab_index_drop_locked(c->tab, &c->by_key_id, key_id,
	    strlen(key_id), key_id, NULL);
}

void
cache_apply(struct cache *c, const struct cache_change *changes, size_t n,
    uint64_t up_to)
{
	cachetab_lock(c->tab);
	if (atomic_exchange(&c->rewound, false)) {
		/* Read against the revision before the rewind, perhaps: drop
		 * it; the next read starts from the rewound revision. */
		cachetab_unlock(c->tab);
		return;
	}
	for (size_t i = 0; c->capacity > 0 && i < n; i++) {
		const struct cache_change *ch = &changes[i];
		unsigned char key[RESOURCE_KEY_MAX];
		unsigned char ws[16];
		/* A membership, or a grant, changed: the user's entry in the
		 * workspace and all their grants there. */
		if (ch->user_id != NULL && ch->workspace_id != NULL &&
		    membership_key(ch->user_id, ch->workspace_id, key)) {
			cachetab_remove_locked(c->tab, key, MEMBERSHIP_KEY,
			    false);
			cache_drop_grants_of_owner_locked(c, key + 1);
		}
		if (ch->api_key_id != NULL)
			cache_drop_key_locked(c, ch->api_key_id);
		size_t len;
		if (ch->resource_type != NULL && ch->resource_id != NULL &&
		    (len = resource_key(ch->resource_type, ch->resource_id,
		         key)) > 0) {
			/* Registered, deleted or granted: its location and
			 * every grant on it. */
			cachetab_remove_locked(c->tab, key, len, false);
			cache_drop_grants_of_resource_locked(c, key + 1,
			    len - 1);
		}
		/* A workspace created, changed or deleted: drop all it had. */
		if (strcmp(ch->kind, "workspace") == 0 &&
		    ch->workspace_id != NULL &&
		    validate_uuid_bytes(ch->workspace_id, ws))
			cache_drop_workspace_locked(c, ws);
	}
	if (up_to > cachetab_applied(c->tab))
		cachetab_set_applied_locked(c->tab, up_to);
	atomic_store(&c->synced_ms, clock_mono_ms());
	cachetab_unlock(c->tab);
}

int64_t
cache_sync_age_ms(struct cache *c)
{
	return clock_mono_ms() - atomic_load(&c->synced_ms);
}

void
cache_stats(struct cache *c, struct cache_stats *out)
{
	out->entries = cachetab_count(c->tab);
	out->hits = atomic_load(&c->hits);
	out->misses = atomic_load(&c->misses);
	out->evictions = cachetab_evictions(c->tab);
	out->revision = cachetab_applied(c->tab);
}
