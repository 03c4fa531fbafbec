/* The authorization cache on liburcu's lock-free hash table. Readers take
 * only an RCU read lock; writers (stores, invalidations, eviction) share
 * one mutex; removed entries are freed after a grace period (call_rcu).
 * More tables, touched by writers only, index the entries by workspace,
 * API keys by key id, and grants by resource and by (user, workspace), so
 * that a change to a workspace, a key, a resource or a membership drops
 * its entries without a walk over the whole cache. */
#include "authz/cache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-bp.h>
#include <urcu/rculfhash.h>

#include <jansson.h>

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
	struct cds_lfht_node node;    /* in ht, by key */
	struct cds_lfht_node ws_node; /* in by_workspace */
	/* API keys: in by_key_id; grants: in by_resource */
	struct cds_lfht_node id_node;
	struct cds_lfht_node owner_node; /* grants: in by_owner */
	struct rcu_head rcu;
	atomic_uchar ref; /* CLOCK bit: set on every hit */
	uint64_t revision; /* the revision the database read reflected */
	unsigned char workspace[16]; /* whose entry this is, for scans */
	union {
		struct cache_membership m;
		struct key_standing k;
		enum role g;
	} v;
	size_t key_len;
	/* A kind byte, then the kind's key bytes: a membership's user and
	 * workspace ids (16 bytes each), a key's hash, a resource's type,
	 * a NUL and its id, a grant's user id (16 bytes) and its resource as
	 * a resource's. */
	unsigned char key[];
};

struct cache {
	struct cds_lfht *ht;
	struct cds_lfht *by_workspace; /* every entry, by e->workspace */
	struct cds_lfht *by_key_id;    /* API key entries, by e->v.k.key_id */
	struct cds_lfht *by_resource;  /* grant entries, by their resource */
	struct cds_lfht *by_owner;     /* grant entries, by user and workspace */
	size_t capacity;
	long max_staleness_ms;
	unsigned char seed[crypto_shorthash_KEYBYTES];
	pthread_mutex_t write_lock;
	size_t count; /* under write_lock */
	/* The CLOCK hand: the entry the next eviction looks at first (NULL:
	 * the table's first). Under write_lock; always an entry in `ht`. */
	struct entry *hand;
	_Atomic uint64_t applied;
	/* The newest revision the cache knows the database reached: what it
	 * applied, or a read it keeps (under write_lock). A database at an
	 * older revision lost writes the cache may hold. */
	uint64_t seen;
	_Atomic int64_t synced_ms;
	/* The database lost revisions the cache had applied (cache_rewind):
	 * no answers until the feeder has read the log afresh. */
	_Atomic bool rewound;
	_Atomic uint64_t hits, misses, evictions;
};

struct lookup_key {
	const unsigned char *bytes;
	size_t len;
};

static unsigned long
hash_of(const struct cache *c, const unsigned char *key, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	crypto_shorthash(h, key, len, c->seed);
	unsigned long v;
	memcpy(&v, h, sizeof v);
	return v;
}

static int
match(struct cds_lfht_node *node, const void *arg)
{
	const struct entry *e = caa_container_of(node, struct entry, node);
	const struct lookup_key *k = arg;
	if (e->key_len != k->len)
		return 0;
	/* Constant time wherever an API key entry is involved: its key is
	 * the hash of a secret. Memberships and resources are not secret. */
	if (e->key[0] == ENTRY_KEY || k->bytes[0] == ENTRY_KEY)
		return sodium_memcmp(e->key, k->bytes, k->len) == 0;
	return memcmp(e->key, k->bytes, k->len) == 0;
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

/* A grant entry's resource: the key's bytes after the kind and user. */
enum { GRANT_RESOURCE_AT = 1 + 16 };

static int
match_resource(struct cds_lfht_node *node, const void *arg)
{
	const struct entry *e = caa_container_of(node, struct entry, id_node);
	const struct lookup_key *r = arg;
	return e->key_len - GRANT_RESOURCE_AT == r->len &&
	    memcmp(e->key + GRANT_RESOURCE_AT, r->bytes, r->len) == 0;
}

/* match_owner: `owner` is a user's 16 bytes and a workspace's 16. */
static int
match_owner(struct cds_lfht_node *node, const void *owner)
{
	const struct entry *e = caa_container_of(node, struct entry, owner_node);
	const unsigned char *o = owner;
	return memcmp(e->key + 1, o, 16) == 0 &&
	    memcmp(e->workspace, o + 16, 16) == 0;
}

static unsigned long
key_id_hash(const struct cache *c, const char *key_id)
{
	return hash_of(c, (const unsigned char *)key_id, strlen(key_id));
}

static void
free_entry(struct rcu_head *head)
{
	free(caa_container_of(head, struct entry, rcu));
}

/* index_locked adds `e`, just stored, to the indexes. */
static void
index_locked(struct cache *c, struct entry *e)
{
	cds_lfht_add(c->by_workspace, hash_of(c, e->workspace, 16),
	    &e->ws_node);
	if (e->key[0] == ENTRY_KEY)
		cds_lfht_add(c->by_key_id, key_id_hash(c, e->v.k.key_id),
		    &e->id_node);
	if (e->key[0] == ENTRY_GRANT) {
		unsigned char owner[32];
		memcpy(owner, e->key + 1, 16);
		memcpy(owner + 16, e->workspace, 16);
		cds_lfht_add(c->by_resource,
		    hash_of(c, e->key + GRANT_RESOURCE_AT,
		        e->key_len - GRANT_RESOURCE_AT),
		    &e->id_node);
		cds_lfht_add(c->by_owner, hash_of(c, owner, sizeof owner),
		    &e->owner_node);
	}
}

/* retire_locked takes `e`, already out of the main table, out of the
 * indexes and frees it after a grace period. */
static void
retire_locked(struct cache *c, struct entry *e)
{
	(void)cds_lfht_del(c->by_workspace, &e->ws_node);
	if (e->key[0] == ENTRY_KEY)
		(void)cds_lfht_del(c->by_key_id, &e->id_node);
	if (e->key[0] == ENTRY_GRANT) {
		(void)cds_lfht_del(c->by_resource, &e->id_node);
		(void)cds_lfht_del(c->by_owner, &e->owner_node);
	}
	urcu_bp_call_rcu(&e->rcu, free_entry);
}

/* hand_iter points `iter` at the hand's entry, or at the table's first
 * entry when there is no hand (inside an RCU read-side section). */
static void
hand_iter(struct cache *c, struct cds_lfht_iter *iter)
{
	struct entry *h = c->hand;
	if (h != NULL) {
		struct lookup_key k = {h->key, h->key_len};
		cds_lfht_lookup(c->ht, hash_of(c, h->key, h->key_len), match,
		    &k, iter);
		if (cds_lfht_iter_get_node(iter) == &h->node)
			return;
	}
	cds_lfht_first(c->ht, iter);
}

/* hand_step moves the hand off `e`, about to leave the table, onto the
 * entry after it, so that it never points at freed memory. */
static void
hand_step(struct cache *c, struct entry *e)
{
	if (c->hand != e)
		return;
	struct cds_lfht_iter iter;
	hand_iter(c, &iter);
	cds_lfht_next(c->ht, &iter);
	struct cds_lfht_node *n = cds_lfht_iter_get_node(&iter);
	c->hand = n != NULL ? caa_container_of(n, struct entry, node) : NULL;
}

/* remove_locked deletes `e` from the cache (writer lock held, inside an
 * RCU read-side section) and frees it after a grace period. */
static void
remove_locked(struct cache *c, struct entry *e)
{
	hand_step(c, e);
	if (cds_lfht_del(c->ht, &e->node) == 0) {
		c->count--;
		retire_locked(c, e);
	}
}

/* new_table makes a hash table sized for `entries` up front (at most two
 * a bucket): growing is left to liburcu's lazy resize, which can lag far
 * behind a fast fill and leave every lookup walking long chains. */
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
destroy_tables(struct cache *c)
{
	if (c->ht != NULL)
		cds_lfht_destroy(c->ht, NULL);
	if (c->by_workspace != NULL)
		cds_lfht_destroy(c->by_workspace, NULL);
	if (c->by_key_id != NULL)
		cds_lfht_destroy(c->by_key_id, NULL);
	if (c->by_resource != NULL)
		cds_lfht_destroy(c->by_resource, NULL);
	if (c->by_owner != NULL)
		cds_lfht_destroy(c->by_owner, NULL);
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
	randombytes_buf(c->seed, sizeof c->seed);
	pthread_mutex_init(&c->write_lock, NULL);
	atomic_store(&c->applied, revision);
	atomic_store(&c->synced_ms, clock_mono_ms());
	if (capacity > 0) {
		/* Workspaces: at most one an entry. Keys: a few per workspace
		 * at most, and far fewer cached than memberships. */
		c->ht = new_table(capacity);
		c->by_workspace = new_table(capacity);
		c->by_key_id = new_table(capacity / 8);
		/* Grants: only for users who hold one in the workspace. */
		c->by_resource = new_table(capacity / 8);
		c->by_owner = new_table(capacity / 8);
		if (c->ht == NULL || c->by_workspace == NULL ||
		    c->by_key_id == NULL || c->by_resource == NULL ||
		    c->by_owner == NULL) {
			destroy_tables(c);
			pthread_mutex_destroy(&c->write_lock);
			free(c);
			return -1;
		}
	}
	*out = c;
	return 0;
}

void
cache_free(struct cache *c)
{
	if (c == NULL)
		return;
	if (c->ht != NULL) {
		struct cds_lfht_iter iter;
		struct entry *e;
		pthread_mutex_lock(&c->write_lock);
		urcu_bp_read_lock();
		cds_lfht_for_each_entry(c->ht, &iter, e, node)
			remove_locked(c, e);
		urcu_bp_read_unlock();
		pthread_mutex_unlock(&c->write_lock);
		destroy_tables(c);
		urcu_bp_barrier(); /* every call_rcu free has run */
	}
	pthread_mutex_destroy(&c->write_lock);
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
	return atomic_load(&c->applied) >= min_revision;
}

uint64_t
cache_revision(struct cache *c)
{
	return atomic_load(&c->applied);
}

/* drop_all_locked removes every entry. */
static void
drop_all_locked(struct cache *c)
{
	if (c->capacity == 0)
		return;
	struct cds_lfht_iter iter;
	struct entry *e;
	c->hand = NULL; /* every entry goes */
	urcu_bp_read_lock();
	cds_lfht_for_each_entry(c->ht, &iter, e, node)
		remove_locked(c, e);
	urcu_bp_read_unlock();
}

bool
cache_rewind(struct cache *c, uint64_t revision)
{
	pthread_mutex_lock(&c->write_lock);
	uint64_t applied = atomic_load(&c->applied);
	uint64_t seen = c->seen > applied ? c->seen : applied;
	/* Behind a read the cache keeps, too: an entry read at a revision
	 * the database no longer has would be dropped by no change. */
	bool behind = revision < seen;
	if (behind) {
		atomic_store(&c->rewound, true);
		drop_all_locked(c);
		atomic_store(&c->applied, revision < applied ? revision : applied);
		c->seen = revision;
	}
	pthread_mutex_unlock(&c->write_lock);
	if (behind)
		log_warn("cache_rewound", "{s:I, s:I, s:I}", "applied",
		    (json_int_t)applied, "seen", (json_int_t)seen, "database",
		    (json_int_t)revision);
	return behind;
}

bool
cache_resync(struct cache *c, uint64_t revision)
{
	pthread_mutex_lock(&c->write_lock);
	if (atomic_exchange(&c->rewound, false)) {
		/* As in cache_apply: read before a rewind, perhaps. */
		pthread_mutex_unlock(&c->write_lock);
		return false;
	}
	uint64_t applied = atomic_load(&c->applied);
	drop_all_locked(c);
	if (revision > applied)
		atomic_store(&c->applied, revision);
	c->seen = atomic_load(&c->applied);
	atomic_store(&c->synced_ms, clock_mono_ms());
	pthread_mutex_unlock(&c->write_lock);
	log_warn("cache_resynced", "{s:I, s:I}", "applied",
	    (json_int_t)applied, "revision", (json_int_t)revision);
	return true;
}

void
cache_note_write(struct cache *c, uint64_t revision)
{
	/* Nothing at or after `revision` can have been applied, or read:
	 * its write holds the revision row until it commits. Unless the
	 * database is not the one the cache followed. */
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->write_lock);
	uint64_t applied = atomic_load(&c->applied);
	uint64_t seen = c->seen > applied ? c->seen : applied;
	pthread_mutex_unlock(&c->write_lock);
	if (revision <= seen)
		(void)cache_rewind(c, revision - 1);
}

/* get copies the first `size` bytes of the value of the entry with `key`
 * into `out`, and into *revision the revision the answer reflects: the
 * newer of the entry's read and what the cache had applied when the
 * lookup began (nothing applied up to then touched the entry since its
 * read, or it would be gone); true on a hit. */
static bool
get(struct cache *c, const unsigned char *key, size_t len, void *out,
    size_t size, uint64_t *revision)
{
	if (c->capacity == 0)
		return false;
	struct lookup_key k = {key, len};
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
	cds_lfht_lookup(c->ht, hash_of(c, key, len), match, &k, &iter);
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
	atomic_fetch_add_explicit(hit ? &c->hits : &c->misses, 1,
	    memory_order_relaxed);
	return hit;
}

/* evict_locked runs the CLOCK hand over the table until it is a tenth
 * under capacity: an entry hit since the hand last passed it gets a second
 * chance. The hand stays where it stopped, so the next eviction goes on
 * from there instead of sweeping the start of the table again (which would
 * evict the same region over and over and never give the entries past it
 * their turn). At most two turns of the table: the first clears every
 * bit, the second finds an entry to evict. */
static void
evict_locked(struct cache *c)
{
	size_t target = c->capacity - c->capacity / 10;
	if (target == c->capacity && target > 0)
		target--;
	struct cds_lfht_iter iter;
	hand_iter(c, &iter);
	c->hand = NULL; /* `iter` is the hand while this runs */
	size_t budget = 2 * c->count + 1;
	while (c->count > target && budget-- > 0) {
		struct cds_lfht_node *n = cds_lfht_iter_get_node(&iter);
		if (n == NULL) { /* past the end: round to the first */
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
put(struct cache *c, const unsigned char *key, size_t len,
    const unsigned char workspace[16], const void *value, size_t size,
    uint64_t read_revision)
{
	if (c->capacity == 0)
		return;
	struct entry *e = calloc(1, sizeof *e + len);
	if (e == NULL)
		return;
	cds_lfht_node_init(&e->node);
	cds_lfht_node_init(&e->ws_node);
	cds_lfht_node_init(&e->id_node);
	cds_lfht_node_init(&e->owner_node);
	memcpy(e->workspace, workspace, 16);
	memcpy(&e->v, value, size);
	memcpy(e->key, key, len);
	e->key_len = len;
	e->revision = read_revision;
	struct lookup_key k = {key, len};

	pthread_mutex_lock(&c->write_lock);
	if (read_revision < atomic_load(&c->applied)) {
		/* Read before a change the cache already applied: it may be
		 * stale, and nothing would ever drop it. */
		pthread_mutex_unlock(&c->write_lock);
		free(e);
		return;
	}
	if (read_revision > c->seen)
		c->seen = read_revision;
	urcu_bp_read_lock();
	struct cds_lfht_node *old = cds_lfht_add_replace(c->ht,
	    hash_of(c, key, len), match, &k, &e->node);
	if (old != NULL) {
		struct entry *was = caa_container_of(old, struct entry, node);
		if (c->hand == was) /* `e` took its place in the table */
			c->hand = e;
		retire_locked(c, was);
	}
	else
		c->count++;
	index_locked(c, e);
	if (c->count > c->capacity)
		evict_locked(c);
	urcu_bp_read_unlock();
	pthread_mutex_unlock(&c->write_lock);
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
	    get(c, key, sizeof key, out, sizeof *out, revision);
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
	return get(c, key, sizeof key, out, sizeof *out, revision);
}

void
cache_put_membership(struct cache *c, const char *user_id,
    const char *workspace_id, const struct cache_membership *m,
    uint64_t read_revision)
{
	unsigned char key[MEMBERSHIP_KEY];
	if (membership_key(user_id, workspace_id, key))
		put(c, key, sizeof key, key + 17, m, sizeof *m, read_revision);
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
	return get(c, key, 1 + len, out, sizeof *out, revision);
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
	put(c, key, 1 + len, workspace, k, sizeof *k, read_revision);
}

bool
cache_get_resource(struct cache *c, const char *type, const char *id,
    char workspace_id[37], uint64_t *revision)
{
	unsigned char key[RESOURCE_KEY_MAX];
	size_t len = resource_key(type, id, key);
	char value[37];
	if (len == 0 || !get(c, key, len, value, sizeof value, revision))
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
	put(c, key, len, workspace, value, sizeof value, read_revision);
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
	return len > 0 && get(c, key, len, out, sizeof *out, revision);
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
	put(c, key, len, workspace, &role, sizeof role, read_revision);
}

/* remove_key_locked deletes the entry with `key`, if any. */
static void
remove_key_locked(struct cache *c, const unsigned char *key, size_t len)
{
	struct lookup_key k = {key, len};
	struct cds_lfht_iter iter;
	cds_lfht_lookup(c->ht, hash_of(c, key, len), match, &k, &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node != NULL)
		remove_locked(c, caa_container_of(node, struct entry, node));
}

/* drop_workspace_locked deletes every entry of workspace `ws` (any
 * kind). */
static void
drop_workspace_locked(struct cache *c, const unsigned char *ws)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	cds_lfht_lookup(c->by_workspace, hash_of(c, ws, 16), match_workspace, ws,
	    &iter);
	while ((node = cds_lfht_iter_get_node(&iter)) != NULL) {
		cds_lfht_next_duplicate(c->by_workspace, match_workspace, ws,
		    &iter);
		remove_locked(c, caa_container_of(node, struct entry, ws_node));
	}
}

/* drop_grants_of_resource_locked deletes every grant entry on the
 * resource whose type, NUL and id are the `len` bytes at `r`. */
static void
drop_grants_of_resource_locked(struct cache *c, const unsigned char *r,
    size_t len)
{
	struct lookup_key k = {r, len};
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	cds_lfht_lookup(c->by_resource, hash_of(c, r, len), match_resource, &k,
	    &iter);
	while ((node = cds_lfht_iter_get_node(&iter)) != NULL) {
		cds_lfht_next_duplicate(c->by_resource, match_resource, &k,
		    &iter);
		remove_locked(c, caa_container_of(node, struct entry, id_node));
	}
}

/* drop_grants_of_owner_locked deletes every grant entry of the user and
 * workspace whose ids are the 32 bytes at `owner`. */
static void
drop_grants_of_owner_locked(struct cache *c, const unsigned char *owner)
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	cds_lfht_lookup(c->by_owner, hash_of(c, owner, 32), match_owner, owner,
	    &iter);
	while ((node = cds_lfht_iter_get_node(&iter)) != NULL) {
		cds_lfht_next_duplicate(c->by_owner, match_owner, owner, &iter);
		remove_locked(c,
		    caa_container_of(node, struct entry, owner_node));
	}
}

/* drop_key_locked deletes every entry of API key `key_id`. */
static void
drop_key_locked(struct cache *c, const char *key_id)
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

void
cache_apply(struct cache *c, const struct cache_change *changes, size_t n,
    uint64_t up_to)
{
	pthread_mutex_lock(&c->write_lock);
	if (atomic_exchange(&c->rewound, false)) {
		/* Read against the revision before the rewind, perhaps: drop
		 * it; the next read starts from the rewound revision. */
		pthread_mutex_unlock(&c->write_lock);
		return;
	}
	if (c->capacity > 0) {
		urcu_bp_read_lock();
		for (size_t i = 0; i < n; i++) {
			const struct cache_change *ch = &changes[i];
			unsigned char key[RESOURCE_KEY_MAX];
			unsigned char ws[16];
			/* A membership, or a grant, changed: the user's entry
			 * in the workspace and all their grants there. */
			if (ch->user_id != NULL && ch->workspace_id != NULL &&
			    membership_key(ch->user_id, ch->workspace_id, key)) {
				remove_key_locked(c, key, MEMBERSHIP_KEY);
				drop_grants_of_owner_locked(c, key + 1);
			}
			if (ch->api_key_id != NULL)
				drop_key_locked(c, ch->api_key_id);
			size_t len;
			if (ch->resource_type != NULL && ch->resource_id != NULL &&
			    (len = resource_key(ch->resource_type, ch->resource_id,
			         key)) > 0) {
				/* Registered, deleted or granted: its location and
				 * every grant on it. */
				remove_key_locked(c, key, len);
				drop_grants_of_resource_locked(c, key + 1, len - 1);
			}
			/* A workspace created, changed or deleted: drop all it
			 * had. */
			if (strcmp(ch->kind, "workspace") == 0 &&
			    ch->workspace_id != NULL &&
			    validate_uuid_bytes(ch->workspace_id, ws))
				drop_workspace_locked(c, ws);
		}
		urcu_bp_read_unlock();
	}
	if (up_to > atomic_load(&c->applied))
		atomic_store(&c->applied, up_to);
	atomic_store(&c->synced_ms, clock_mono_ms());
	pthread_mutex_unlock(&c->write_lock);
}

int64_t
cache_sync_age_ms(struct cache *c)
{
	return clock_mono_ms() - atomic_load(&c->synced_ms);
}

void
cache_stats(struct cache *c, struct cache_stats *out)
{
	pthread_mutex_lock(&c->write_lock);
	out->entries = c->count;
	pthread_mutex_unlock(&c->write_lock);
	out->hits = atomic_load(&c->hits);
	out->misses = atomic_load(&c->misses);
	out->evictions = atomic_load(&c->evictions);
	out->revision = atomic_load(&c->applied);
}
