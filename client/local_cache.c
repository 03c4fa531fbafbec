/* The client's local cache on the cache table it shares with the
 * service's cache (service/base/cachetab.c, in exa_base): lock-free
 * lookups (bulletproof RCU, so any thread of the caller may read), one
 * writer lock for stores, the feed's drops and eviction, CLOCK eviction,
 * freeing after a grace period, and the no-stale-insert and stamping
 * rules. Here: the keys, the hit and miss counters, the staleness clock,
 * the rules of what a change drops, and two more tables, touched by
 * writers only, that index the entries by workspace and the API keys by
 * key id. */
#include "local_cache.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/rculfhash.h>

#include "base/cachetab.h"

enum { KIND_MEMBERSHIP = 'M', KIND_KEY = 'K', KEY_LEN = 1 + 32 };

/* Hits and misses are counted in stripes, each on a cache line of its
 * own, a thread in the stripe its id picks: one shared counter would
 * bounce its line between every reading thread. */
enum { STRIPES = 16 };
struct stripe {
	_Alignas(64) _Atomic uint64_t hits;
	_Atomic uint64_t misses;
};

struct entry {
	struct cachetab_entry base;   /* in the table, by key; first */
	struct cds_lfht_node ws_node; /* in by_workspace */
	struct cds_lfht_node id_node; /* API keys: in by_key_id */
	unsigned char workspace[16];
	union {
		struct local_membership m;
		struct local_key k;
	} v;
	unsigned char key[KEY_LEN]; /* kind byte, then 32 bytes */
};

_Static_assert(offsetof(struct entry, base) == 0,
    "the indexes find an entry's nodes from its table part");

struct local_cache {
	struct cachetab *tab;
	struct cachetab_index by_workspace;
	struct cachetab_index by_key_id;
	long max_staleness_ms;
	int64_t tick_ms; /* the coarse clock's resolution, rounded up */
	_Atomic int64_t synced_ms; /* 0: never */
	_Atomic uint64_t resyncs;
	struct stripe stripes[STRIPES];
};

/* stripe_of picks the calling thread's stripe. */
static struct stripe *
stripe_of(struct local_cache *c)
{
	static _Atomic unsigned next_thread;
	static _Thread_local unsigned mine
	    __attribute__((tls_model("initial-exec")));
	if (mine == 0)
		mine = atomic_fetch_add(&next_thread, 1) + 1;
	return &c->stripes[mine % STRIPES];
}

static struct entry *
local_cache_entry_of(struct cachetab_entry *e)
{
	return caa_container_of(e, struct entry, base);
}

static int
local_cache_match_workspace(struct cds_lfht_node *node, const void *ws)
{
	const struct entry *e = caa_container_of(node, struct entry, ws_node);
	return memcmp(e->workspace, ws, 16) == 0;
}

static int
local_cache_match_key_id(struct cds_lfht_node *node, const void *key_id)
{
	const struct entry *e = caa_container_of(node, struct entry, id_node);
	return strcmp(e->v.k.key_id, key_id) == 0;
}

static void
local_cache_free_entry_cb(struct rcu_head *head)
{
	struct entry *e = caa_container_of(head, struct entry, base.rcu);
	sodium_memzero(e->key, sizeof e->key);
	free(e);
}

/* local_cache_enter_cb adds `e`, just stored, to the indexes. */
static void
local_cache_enter_cb(struct cachetab_entry *base, void *arg)
{
	struct local_cache *c = arg;
	struct entry *e = local_cache_entry_of(base);
	cachetab_index_add_locked(c->tab, &c->by_workspace, base, e->workspace,
	    16);
	if (e->key[0] == KIND_KEY)
		cachetab_index_add_locked(c->tab, &c->by_key_id, base,
		    e->v.k.key_id, strlen(e->v.k.key_id));
}

/* local_cache_leave_cb takes `e`, out of the table now, out of the indexes. */
static void
local_cache_leave_cb(struct cachetab_entry *base, void *arg)
{
	struct local_cache *c = arg;
	cachetab_index_del_locked(&c->by_workspace, base);
	if (local_cache_entry_of(base)->key[0] == KIND_KEY)
		cachetab_index_del_locked(&c->by_key_id, base);
}

int
local_cache_new(struct local_cache **out, size_t capacity,
    long max_staleness_ms)
{
	struct local_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->max_staleness_ms = max_staleness_ms;
	struct timespec res;
	c->tick_ms = clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0
	    ? res.tv_sec * 1000 + (res.tv_nsec + 999999) / 1000000
	    : 1000;
	/* Its keys are ids the service made and digests keyed with the
	 * client's own bytes, which no caller chooses: the fast hash. */
	struct cachetab_config cfg = {
	    .capacity = capacity > 0 ? capacity : 1,
	    .hash = CACHETAB_HASH_MIX,
	    .enter_cb = local_cache_enter_cb,
	    .leave_cb = local_cache_leave_cb,
	    .free_cb = local_cache_free_entry_cb,
	    .arg = c,
	};
	if (cachetab_index_init(&c->by_workspace, cfg.capacity,
	        offsetof(struct entry, ws_node),
	        local_cache_match_workspace) != 0 ||
	    cachetab_index_init(&c->by_key_id, cfg.capacity / 8,
	        offsetof(struct entry, id_node),
	        local_cache_match_key_id) != 0 ||
	    cachetab_new(&c->tab, &cfg) != 0) {
		cachetab_index_fini(&c->by_workspace);
		cachetab_index_fini(&c->by_key_id);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void
local_cache_free(struct local_cache *c)
{
	if (c == NULL)
		return;
	cachetab_free(c->tab); /* every entry leaves the indexes */
	cachetab_index_fini(&c->by_workspace);
	cachetab_index_fini(&c->by_key_id);
	free(c);
}

/* coarse_ms is the coarse monotonic clock (a few nanoseconds to read,
 * where the precise one costs tens): both the sync time and the check
 * use it, and the check allows for one tick of it, so that the bound
 * holds whatever the tick. */
static int64_t
coarse_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
local_cache_usable(struct local_cache *c, uint64_t min_revision)
{
	int64_t synced = atomic_load_explicit(&c->synced_ms,
	    memory_order_relaxed);
	if (synced == 0 ||
	    coarse_ms() - synced + c->tick_ms > c->max_staleness_ms)
		return false;
	return cachetab_applied(c->tab) >= min_revision;
}

uint64_t
local_cache_seen(struct local_cache *c)
{
	return cachetab_seen(c->tab);
}

uint64_t
local_cache_applied(struct local_cache *c)
{
	return cachetab_applied(c->tab);
}

/* local_cache_get is cachetab_get for an answer that reflects
 * `min_revision`, counted in the caller's stripe. */
static bool
local_cache_get(struct local_cache *c, const unsigned char key[KEY_LEN],
    uint64_t min_revision, void *out, size_t size, uint64_t *revision)
{
	bool hit = cachetab_get(c->tab, key, KEY_LEN, key[0] == KIND_KEY, out,
	               size, revision) &&
	    *revision >= min_revision;
	struct stripe *st = stripe_of(c);
	atomic_fetch_add_explicit(hit ? &st->hits : &st->misses, 1,
	    memory_order_relaxed);
	return hit;
}

/* local_cache_put stores `value` (`size` bytes) under `key` for
 * `workspace`, as the service answered it at `revision`. */
static void
local_cache_put(struct local_cache *c, const unsigned char key[KEY_LEN],
    const unsigned char workspace[16], const void *value, size_t size,
    uint64_t revision)
{
	struct entry *e = calloc(1, sizeof *e);
	if (e == NULL)
		return;
	memcpy(e->workspace, workspace, 16);
	memcpy(&e->v, value, size);
	memcpy(e->key, key, KEY_LEN);
	cachetab_entry_init(&e->base, e->key, KEY_LEN, key[0] == KIND_KEY,
	    &e->v, revision);
	cachetab_put(c->tab, &e->base);
}

static void
membership_key(const unsigned char user[16], const unsigned char ws[16],
    unsigned char key[KEY_LEN])
{
	key[0] = KIND_MEMBERSHIP;
	memcpy(key + 1, user, 16);
	memcpy(key + 17, ws, 16);
}

bool
local_cache_get_membership(struct local_cache *c,
    const unsigned char user_id[16], const unsigned char workspace_id[16],
    uint64_t min_revision, struct local_membership *out, uint64_t *revision)
{
	unsigned char key[KEY_LEN];
	membership_key(user_id, workspace_id, key);
	return local_cache_get(c, key, min_revision, out, sizeof *out,
	    revision);
}

void
local_cache_put_membership(struct local_cache *c,
    const unsigned char user_id[16], const unsigned char workspace_id[16],
    const struct local_membership *m, uint64_t revision)
{
	unsigned char key[KEY_LEN];
	membership_key(user_id, workspace_id, key);
	local_cache_put(c, key, workspace_id, m, sizeof *m, revision);
}

bool
local_cache_get_key(struct local_cache *c, const unsigned char digest[32],
    uint64_t min_revision, struct local_key *out, uint64_t *revision)
{
	unsigned char key[KEY_LEN];
	key[0] = KIND_KEY;
	memcpy(key + 1, digest, 32);
	bool hit = local_cache_get(c, key, min_revision, out, sizeof *out,
	    revision);
	sodium_memzero(key, sizeof key);
	return hit;
}

void
local_cache_put_key(struct local_cache *c, const unsigned char digest[32],
    const struct local_key *k, uint64_t revision)
{
	unsigned char ws[16];
	if (!local_cache_uuid(k->workspace_id, ws))
		return;
	unsigned char key[KEY_LEN];
	key[0] = KIND_KEY;
	memcpy(key + 1, digest, 32);
	local_cache_put(c, key, ws, k, sizeof *k, revision);
	sodium_memzero(key, sizeof key);
}

static bool
local_cache_is_key(const struct cachetab_entry *e)
{
	return e->key[0] == KIND_KEY;
}

/* local_cache_drop_workspace_locked removes every entry of workspace
 * `ws`, or only its API keys. */
static void
local_cache_drop_workspace_locked(struct local_cache *c,
    const unsigned char ws[16], bool keys_only)
{
	cachetab_index_drop_locked(c->tab, &c->by_workspace, ws, 16, ws,
	    keys_only ? local_cache_is_key : NULL);
}

static void
local_cache_drop_key_id_locked(struct local_cache *c, const char *key_id)
{
	cachetab_index_drop_locked(c->tab, &c->by_key_id, key_id,
	    strlen(key_id), key_id, NULL);
}

/* The kinds of change this library knows what to drop for. Any other
 * (a kind newer than the library) drops all of its workspace, or the
 * whole cache when it names none: safe, if wasteful. A grant on a
 * resource changes nothing of a check on the workspace, which is all this
 * cache answers (its user's entry there goes, as for any change naming
 * user and workspace). */
static bool
known_kind(const char *kind)
{
	static const char *const kinds[] = {"user", "organization",
	    "workspace", "membership", "invitation", "api_key", "resource",
	    "grant", "activity"};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strcmp(kind, kinds[i]) == 0)
			return true;
	return false;
}

void
local_cache_apply(struct local_cache *c, const struct local_change *ch,
    size_t n, uint64_t up_to, bool synced)
{
	cachetab_lock(c->tab);
	for (size_t i = 0; i < n; i++) {
		unsigned char user[16], ws[16], key[KEY_LEN];
		bool has_ws = ch[i].workspace_id != NULL &&
		    local_cache_uuid(ch[i].workspace_id, ws);
		const char *kind = ch[i].kind != NULL ? ch[i].kind : "";
		if (!known_kind(kind)) {
			if (has_ws) {
				local_cache_drop_workspace_locked(c, ws, false);
			} else {
				cachetab_drop_all_locked(c->tab);
			}
			continue;
		}
		if (has_ws && ch[i].user_id != NULL &&
		    local_cache_uuid(ch[i].user_id, user)) {
			membership_key(user, ws, key);
			cachetab_remove_locked(c->tab, key, KEY_LEN, false);
		}
		if (ch[i].api_key_id != NULL && ch[i].api_key_id[0] != '\0')
			local_cache_drop_key_id_locked(c, ch[i].api_key_id);
		/* A rotation names the old key; a key learned without its id
		 * would escape that, so every key of the workspace goes. */
		if (has_ws && strcmp(kind, "api_key") == 0)
			local_cache_drop_workspace_locked(c, ws, true);
		if (has_ws && strcmp(kind, "workspace") == 0)
			local_cache_drop_workspace_locked(c, ws, false);
	}
	if (up_to > cachetab_applied(c->tab))
		cachetab_set_applied_locked(c->tab, up_to);
	if (synced)
		atomic_store(&c->synced_ms, coarse_ms());
	cachetab_unlock(c->tab);
}

void
local_cache_resync(struct local_cache *c, uint64_t revision)
{
	cachetab_lock(c->tab);
	cachetab_drop_all_locked(c->tab);
	/* Set, not raised: a database behind what was applied gives those
	 * revision numbers to new writes. */
	cachetab_set_applied_locked(c->tab, revision);
	cachetab_set_seen_locked(c->tab, revision);
	atomic_store(&c->synced_ms, coarse_ms());
	atomic_fetch_add(&c->resyncs, 1);
	cachetab_unlock(c->tab);
}

int64_t
local_cache_sync_age_ms(struct local_cache *c)
{
	int64_t synced = atomic_load(&c->synced_ms);
	return synced == 0 ? -1 : coarse_ms() - synced;
}

void
local_cache_stats(struct local_cache *c, struct local_cache_stats *out)
{
	out->entries = cachetab_count(c->tab);
	out->hits = out->misses = 0;
	for (size_t i = 0; i < STRIPES; i++) {
		out->hits += atomic_load(&c->stripes[i].hits);
		out->misses += atomic_load(&c->stripes[i].misses);
	}
	out->evictions = cachetab_evictions(c->tab);
	out->resyncs = atomic_load(&c->resyncs);
	out->applied = cachetab_applied(c->tab);
}

/* hex_value[c] is the value of a lower-case hex digit, else 0xff. */
static const unsigned char hex_value[256] = {
    ['0'] = 0x10, ['1'] = 0x11, ['2'] = 0x12, ['3'] = 0x13, ['4'] = 0x14,
    ['5'] = 0x15, ['6'] = 0x16, ['7'] = 0x17, ['8'] = 0x18, ['9'] = 0x19,
    ['a'] = 0x1a, ['b'] = 0x1b, ['c'] = 0x1c, ['d'] = 0x1d, ['e'] = 0x1e,
    ['f'] = 0x1f};

bool
local_cache_uuid(const char *text, unsigned char out[16])
{
	/* Where each byte's two digits start: 8-4-4-4-12 with dashes. */
	static const unsigned char at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19,
	    21, 24, 26, 28, 30, 32, 34};
	if (strnlen(text, 37) != 36)
		return false;
	const unsigned char *t = (const unsigned char *)text;
	/* The table holds 0x10 + value for a digit and 0 for anything
	 * else, so one AND over all 32 digits tells whether each was one. */
	unsigned ok = 0x10;
	for (size_t i = 0; i < 16; i++) {
		unsigned hi = hex_value[t[at[i]]], lo = hex_value[t[at[i] + 1]];
		ok &= hi & lo;
		out[i] = (unsigned char)((hi & 0xf) << 4 | (lo & 0xf));
	}
	return ok != 0 && t[8] == '-' && t[13] == '-' && t[18] == '-' &&
	    t[23] == '-';
}
