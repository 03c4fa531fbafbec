/* The client's local cache on liburcu's lock-free hash table, in the
 * manner of the service's (service/authz/cache.c): readers take only an
 * RCU read lock (bulletproof flavour, so any thread of the caller may
 * read); writers (stores, the feed's drops, eviction) share one mutex;
 * removed entries are freed after a grace period. Two more tables,
 * touched by writers only, index the entries by workspace and the API
 * keys by key id. */
#include "local_cache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-bp.h>
#include <urcu/rculfhash.h>

#include <time.h>

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
	struct cds_lfht_node node;    /* in ht, by key */
	struct cds_lfht_node ws_node; /* in by_workspace */
	struct cds_lfht_node id_node; /* API keys: in by_key_id */
	struct rcu_head rcu;
	atomic_uchar ref; /* CLOCK bit: set on every hit */
	uint64_t revision; /* what the answer it was learned from reflected */
	unsigned char workspace[16];
	union {
		struct local_membership m;
		struct local_key k;
	} v;
	unsigned char key[KEY_LEN]; /* kind byte, then 32 bytes */
};

struct local_cache {
	struct cds_lfht *ht;
	struct cds_lfht *by_workspace;
	struct cds_lfht *by_key_id;
	size_t capacity;
	long max_staleness_ms;
	uint64_t seed64, seed64b;
	int64_t tick_ms; /* the coarse clock's resolution, rounded up */
	pthread_mutex_t write_lock;
	size_t count;       /* under write_lock */
	struct entry *hand; /* CLOCK hand, under write_lock; NULL: the first */
	_Atomic uint64_t applied;
	/* The newest revision of an answer the cache took (it may be past
	 * `applied`: an answer to a check with at_least_as_fresh). */
	_Atomic uint64_t seen;
	_Atomic int64_t synced_ms; /* 0: never */
	_Atomic uint64_t evictions, resyncs;
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

/* hash_of is a keyed multiply-xorshift hash of the key's 8-byte words
 * (a seed drawn at start, so that keys cannot be chosen to collide
 * without knowing it): a lookup is on every local check, and SipHash
 * cost a third of one. */
static inline unsigned long
hash_of(const struct local_cache *c, const unsigned char *key, size_t len)
{
	uint64_t h = c->seed64 ^ (len * 0x9e3779b97f4a7c15ull);
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	uint64_t tail = 0;
	for (size_t k = 0; i + k < len; k++)
		tail |= (uint64_t)key[i + k] << (8 * k);
	h = (h ^ tail ^ c->seed64b) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return (unsigned long)h;
}

static int
match(struct cds_lfht_node *node, const void *key)
{
	const struct entry *e = caa_container_of(node, struct entry, node);
	const unsigned char *k = key;
	/* A key entry's bytes are a digest of a secret: compare those in
	 * constant time. */
	if (k[0] == KIND_KEY || e->key[0] == KIND_KEY)
		return sodium_memcmp(e->key, k, KEY_LEN) == 0;
	return memcmp(e->key, k, KEY_LEN) == 0;
}

static int
match_workspace(struct cds_lfht_node *node, const void *ws)
{
	const struct entry *e = caa_container_of(node, struct entry, ws_node);
	return memcmp(e->workspace, ws, 16) == 0;
}

static int
match_key_id(struct cds_lfht_node *node, const void *key_id)
{
	const struct entry *e = caa_container_of(node, struct entry, id_node);
	return strcmp(e->v.k.key_id, key_id) == 0;
}

static unsigned long
key_id_hash(const struct local_cache *c, const char *key_id)
{
	return hash_of(c, (const unsigned char *)key_id, strlen(key_id));
}

static void
free_entry(struct rcu_head *head)
{
	struct entry *e = caa_container_of(head, struct entry, rcu);
	sodium_memzero(e->key, sizeof e->key);
	free(e);
}

static void
index_locked(struct local_cache *c, struct entry *e)
{
	cds_lfht_add(c->by_workspace, hash_of(c, e->workspace, 16),
	    &e->ws_node);
	if (e->key[0] == KIND_KEY)
		cds_lfht_add(c->by_key_id, key_id_hash(c, e->v.k.key_id),
		    &e->id_node);
}

static void
retire_locked(struct local_cache *c, struct entry *e)
{
	(void)cds_lfht_del(c->by_workspace, &e->ws_node);
	if (e->key[0] == KIND_KEY)
		(void)cds_lfht_del(c->by_key_id, &e->id_node);
	urcu_bp_call_rcu(&e->rcu, free_entry);
}

/* hand_iter points `iter` at the hand's entry, or the table's first. */
static void
hand_iter(struct local_cache *c, struct cds_lfht_iter *iter)
{
	struct entry *h = c->hand;
	if (h != NULL) {
		cds_lfht_lookup(c->ht, hash_of(c, h->key, KEY_LEN), match,
		    h->key, iter);
		if (cds_lfht_iter_get_node(iter) == &h->node)
			return;
	}
	cds_lfht_first(c->ht, iter);
}

/* hand_step moves the hand off `e`, about to leave the table. */
static void
hand_step(struct local_cache *c, struct entry *e)
{
	if (c->hand != e)
		return;
	struct cds_lfht_iter iter;
	hand_iter(c, &iter);
	cds_lfht_next(c->ht, &iter);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&iter);
	c->hand = n != NULL ? caa_container_of(n, struct entry, node) : NULL;
}

/* remove_locked deletes `e` (writer lock held, in a read-side section). */
static void
remove_locked(struct local_cache *c, struct entry *e)
{
	hand_step(c, e);
	if (cds_lfht_del(c->ht, &e->node) == 0) {
		c->count--;
		retire_locked(c, e);
	}
}

static struct cds_lfht *
new_table(size_t entries)
{
	unsigned long buckets = 1024;
	while (buckets < entries / 2)
		buckets <<= 1;
	return cds_lfht_new_flavor(buckets, buckets, 0,
	    CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, &urcu_bp_flavor, NULL);
}

static void
destroy_tables(struct local_cache *c)
{
	if (c->ht != NULL)
		cds_lfht_destroy(c->ht, NULL);
	if (c->by_workspace != NULL)
		cds_lfht_destroy(c->by_workspace, NULL);
	if (c->by_key_id != NULL)
		cds_lfht_destroy(c->by_key_id, NULL);
}

int
local_cache_new(struct local_cache **out, size_t capacity,
    long max_staleness_ms)
{
	struct local_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->capacity = capacity > 0 ? capacity : 1;
	c->max_staleness_ms = max_staleness_ms;
	randombytes_buf(&c->seed64, sizeof c->seed64);
	randombytes_buf(&c->seed64b, sizeof c->seed64b);
	struct timespec res;
	c->tick_ms = clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0
	    ? res.tv_sec * 1000 + (res.tv_nsec + 999999) / 1000000
	    : 1000;
	pthread_mutex_init(&c->write_lock, NULL);
	c->ht = new_table(c->capacity);
	c->by_workspace = new_table(c->capacity);
	c->by_key_id = new_table(c->capacity / 8);
	if (c->ht == NULL || c->by_workspace == NULL || c->by_key_id == NULL) {
		destroy_tables(c);
		pthread_mutex_destroy(&c->write_lock);
		free(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* drop_all_locked removes every entry. */
static void
drop_all_locked(struct local_cache *c)
{
	struct cds_lfht_iter iter;
	struct entry *e;
	c->hand = NULL;
	urcu_bp_read_lock();
	cds_lfht_for_each_entry(c->ht, &iter, e, node)
		remove_locked(c, e);
	urcu_bp_read_unlock();
}

void
local_cache_free(struct local_cache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->write_lock);
	drop_all_locked(c);
	pthread_mutex_unlock(&c->write_lock);
	urcu_bp_barrier(); /* every call_rcu free has run */
	destroy_tables(c);
	pthread_mutex_destroy(&c->write_lock);
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
	return atomic_load_explicit(&c->applied, memory_order_acquire) >=
	    min_revision;
}

uint64_t
local_cache_seen(struct local_cache *c)
{
	uint64_t seen = atomic_load(&c->seen);
	uint64_t applied = atomic_load(&c->applied);
	return seen > applied ? seen : applied;
}

uint64_t
local_cache_applied(struct local_cache *c)
{
	return atomic_load(&c->applied);
}

/* get copies the value of the entry with `key` into `out` (`size` bytes)
 * and the revision the answer reflects into *revision; true on a hit. */
static bool
get(struct local_cache *c, const unsigned char key[KEY_LEN], void *out,
    size_t size, uint64_t *revision)
{
	struct cds_lfht_iter iter;
	bool hit = false;
	/* Read before the entry: every change applied up to it has dropped
	 * what it touched, so an entry found after is valid at it. Read
	 * after, it could be a change that dropped the entry just after it
	 * was copied, and stamp the old value with the revision that ended
	 * it. */
	uint64_t applied = atomic_load_explicit(&c->applied,
	    memory_order_acquire);
	urcu_bp_read_lock();
	cds_lfht_lookup(c->ht, hash_of(c, key, KEY_LEN), match, key, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node != NULL) {
		struct entry *e = caa_container_of(node, struct entry, node);
		if (atomic_load_explicit(&e->ref, memory_order_relaxed) == 0)
			atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
		memcpy(out, &e->v, size);
		*revision = e->revision > applied ? e->revision : applied;
		/* Lowered meanwhile (a rewind to a database behind it): the
		 * revision read before may now number other writes. */
		hit = atomic_load(&c->applied) >= applied;
	}
	urcu_bp_read_unlock();
	struct stripe *st = stripe_of(c);
	atomic_fetch_add_explicit(hit ? &st->hits : &st->misses, 1,
	    memory_order_relaxed);
	return hit;
}

/* evict_locked runs the CLOCK hand until the table is a tenth under
 * capacity, as the service's cache does. */
static void
evict_locked(struct local_cache *c)
{
	size_t target = c->capacity - c->capacity / 10;
	if (target == c->capacity && target > 0)
		target--;
	struct cds_lfht_iter iter;
	hand_iter(c, &iter);
	c->hand = NULL;
	size_t budget = 2 * c->count + 1;
	while (c->count > target && budget-- > 0) {
		struct cds_lfht_node *n = cds_lfht_iter_get_node(&iter);
		if (n == NULL) {
			cds_lfht_first(c->ht, &iter);
			n = cds_lfht_iter_get_node(&iter);
			if (n == NULL)
				break;
		}
		struct entry *e = caa_container_of(n, struct entry, node);
		cds_lfht_next(c->ht, &iter);
		if (atomic_exchange(&e->ref, 0) == 0) {
			remove_locked(c, e);
			atomic_fetch_add(&c->evictions, 1);
		}
	}
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&iter);
	c->hand = n != NULL ? caa_container_of(n, struct entry, node) : NULL;
}

static void
put(struct local_cache *c, const unsigned char key[KEY_LEN],
    const unsigned char workspace[16], const void *value, size_t size,
    uint64_t revision)
{
	struct entry *e = calloc(1, sizeof *e);
	if (e == NULL)
		return;
	cds_lfht_node_init(&e->node);
	cds_lfht_node_init(&e->ws_node);
	cds_lfht_node_init(&e->id_node);
	memcpy(e->workspace, workspace, 16);
	memcpy(&e->v, value, size);
	memcpy(e->key, key, KEY_LEN);
	e->revision = revision;

	pthread_mutex_lock(&c->write_lock);
	if (revision < atomic_load(&c->applied)) {
		/* The answer is older than a change already applied: it may
		 * be stale, and nothing would ever drop it. */
		pthread_mutex_unlock(&c->write_lock);
		free_entry(&e->rcu);
		return;
	}
	if (revision > atomic_load(&c->seen))
		atomic_store(&c->seen, revision);
	urcu_bp_read_lock();
	struct cds_lfht_node *old = cds_lfht_add_replace(c->ht,
	    hash_of(c, key, KEY_LEN), match, key, &e->node);
	if (old != NULL) {
		struct entry *was = caa_container_of(old, struct entry, node);
		if (c->hand == was)
			c->hand = e;
		retire_locked(c, was);
	} else {
		c->count++;
	}
	index_locked(c, e);
	if (c->count > c->capacity)
		evict_locked(c);
	urcu_bp_read_unlock();
	pthread_mutex_unlock(&c->write_lock);
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
    struct local_membership *out, uint64_t *revision)
{
	unsigned char key[KEY_LEN];
	membership_key(user_id, workspace_id, key);
	return get(c, key, out, sizeof *out, revision);
}

void
local_cache_put_membership(struct local_cache *c,
    const unsigned char user_id[16], const unsigned char workspace_id[16],
    const struct local_membership *m, uint64_t revision)
{
	unsigned char key[KEY_LEN];
	membership_key(user_id, workspace_id, key);
	put(c, key, workspace_id, m, sizeof *m, revision);
}

bool
local_cache_get_key(struct local_cache *c, const unsigned char digest[32],
    struct local_key *out, uint64_t *revision)
{
	unsigned char key[KEY_LEN];
	key[0] = KIND_KEY;
	memcpy(key + 1, digest, 32);
	bool hit = get(c, key, out, sizeof *out, revision);
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
	put(c, key, ws, k, sizeof *k, revision);
	sodium_memzero(key, sizeof key);
}

static void
remove_key_locked(struct local_cache *c, const unsigned char key[KEY_LEN])
{
	struct cds_lfht_iter iter;
	cds_lfht_lookup(c->ht, hash_of(c, key, KEY_LEN), match, key, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node != NULL)
		remove_locked(c, caa_container_of(node, struct entry, node));
}

/* drop_workspace_locked removes every entry of workspace `ws`, or only
 * its API keys. */
static void
drop_workspace_locked(struct local_cache *c, const unsigned char ws[16],
    bool keys_only)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	cds_lfht_lookup(c->by_workspace, hash_of(c, ws, 16), match_workspace, ws,
	    &iter);
	while ((node = cds_lfht_iter_get_node(&iter)) != NULL) {
		cds_lfht_next_duplicate(c->by_workspace, match_workspace, ws,
		    &iter);
		struct entry *e = caa_container_of(node, struct entry, ws_node);
		if (!keys_only || e->key[0] == KIND_KEY)
			remove_locked(c, e);
	}
}

static void
drop_key_id_locked(struct local_cache *c, const char *key_id)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	cds_lfht_lookup(c->by_key_id, key_id_hash(c, key_id), match_key_id,
	    key_id, &iter);
	while ((node = cds_lfht_iter_get_node(&iter)) != NULL) {
		cds_lfht_next_duplicate(c->by_key_id, match_key_id, key_id,
		    &iter);
		remove_locked(c, caa_container_of(node, struct entry, id_node));
	}
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
	pthread_mutex_lock(&c->write_lock);
	urcu_bp_read_lock();
	for (size_t i = 0; i < n; i++) {
		unsigned char user[16], ws[16], key[KEY_LEN];
		bool has_ws = ch[i].workspace_id != NULL &&
		    local_cache_uuid(ch[i].workspace_id, ws);
		const char *kind = ch[i].kind != NULL ? ch[i].kind : "";
		if (!known_kind(kind)) {
			if (has_ws) {
				drop_workspace_locked(c, ws, false);
			} else {
				urcu_bp_read_unlock();
				drop_all_locked(c);
				urcu_bp_read_lock();
			}
			continue;
		}
		if (has_ws && ch[i].user_id != NULL &&
		    local_cache_uuid(ch[i].user_id, user)) {
			membership_key(user, ws, key);
			remove_key_locked(c, key);
		}
		if (ch[i].api_key_id != NULL && ch[i].api_key_id[0] != '\0')
			drop_key_id_locked(c, ch[i].api_key_id);
		/* A rotation names the old key; a key learned without its id
		 * would escape that, so every key of the workspace goes. */
		if (has_ws && strcmp(kind, "api_key") == 0)
			drop_workspace_locked(c, ws, true);
		if (has_ws && strcmp(kind, "workspace") == 0)
			drop_workspace_locked(c, ws, false);
	}
	urcu_bp_read_unlock();
	if (up_to > atomic_load(&c->applied))
		atomic_store(&c->applied, up_to);
	if (synced)
		atomic_store(&c->synced_ms, coarse_ms());
	pthread_mutex_unlock(&c->write_lock);
}

void
local_cache_resync(struct local_cache *c, uint64_t revision)
{
	pthread_mutex_lock(&c->write_lock);
	drop_all_locked(c);
	/* Set, not raised: a database behind what was applied gives those
	 * revision numbers to new writes. */
	atomic_store(&c->applied, revision);
	atomic_store(&c->seen, revision);
	atomic_store(&c->synced_ms, coarse_ms());
	atomic_fetch_add(&c->resyncs, 1);
	pthread_mutex_unlock(&c->write_lock);
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
	pthread_mutex_lock(&c->write_lock);
	out->entries = c->count;
	pthread_mutex_unlock(&c->write_lock);
	out->hits = out->misses = 0;
	for (size_t i = 0; i < STRIPES; i++) {
		out->hits += atomic_load(&c->stripes[i].hits);
		out->misses += atomic_load(&c->stripes[i].misses);
	}
	out->evictions = atomic_load(&c->evictions);
	out->resyncs = atomic_load(&c->resyncs);
	out->applied = atomic_load(&c->applied);
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
