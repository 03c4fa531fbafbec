/* A bounded lock-free table of cache entries, evicted CLOCK-wise: the
 * machinery the service's authorization cache (authz/cache.c) and the
 * client library's local cache (client/local_cache.c) share. Each cache
 * embeds a struct cachetab_entry in its own entry type, which holds the
 * key and the value; the table finds entries by key on liburcu's lock-free
 * hash table under the bulletproof RCU flavour (any thread may read,
 * without registering), bounds them in number with CLOCK (second-chance)
 * eviction, and keeps the two rules that make a cache exact:
 *
 *   - no stale insert: an entry is stored only if the revision its value
 *     reflects is at least `applied`, the newest change-log revision whose
 *     changes the cache has applied, under the write lock that the cache
 *     also holds to apply changes; so no entry outlives a change it did
 *     not see;
 *   - a hit is stamped with the newer of the entry's revision and
 *     `applied` as it was before the lookup (every change applied up to
 *     then has dropped what it touched), and fails if `applied` was
 *     lowered meanwhile, even if raised again since (a rewind or a
 *     resync: the numbers above it may be given to other writes).
 *
 * Writers (stores, the caches' drops, eviction) share the table's write
 * lock. An entry that leaves the table (removed, replaced, evicted,
 * dropped) is handed to the table's leave callback under that lock, so
 * that its cache takes it out of its own indexes, and freed after an RCU
 * grace period by the table's free callback. The caches keep their keys,
 * their indexes (struct cachetab_index) and their rules of what a change
 * drops; counting hits and misses is theirs too. */
#ifndef EXE_CACHETAB_H
#define EXE_CACHETAB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <urcu/urcu-bp.h>
#include <urcu/rculfhash.h>

struct cachetab;

/* The table's part of an entry, embedded first in each cache's own entry
 * type (the indexes find the rest at fixed offsets from it). */
struct cachetab_entry {
	struct cds_lfht_node node; /* in the table, by key */
	struct rcu_head rcu;       /* for the free after a grace period */
	const unsigned char *key;  /* key_len bytes, in the cache's entry */
	size_t key_len;
	const void *value; /* what a hit copies, in the cache's entry */
	uint64_t revision; /* the revision the value reflects */
	atomic_uchar ref;  /* CLOCK bit: set on every hit */
	/* The key is a digest of a secret (an API key): compared in constant
	 * time, with any key. */
	bool secret;
};

/* cachetab_entry_init readies `e` to be stored: its key (`len` bytes at
 * `key`, which must live as long as the entry, in the cache's entry),
 * whether that is secret, its value and the revision the value reflects. */
void cachetab_entry_init(struct cachetab_entry *e, const unsigned char *key,
    size_t len, bool secret, const void *value, uint64_t revision);

/* The hash of the keys, keyed with random bytes drawn at cachetab_new. */
enum cachetab_hash {
	/* SipHash-2-4 (crypto_shorthash): for keys that callers choose,
	 * such as resource ids, which a keyed multiply-xorshift does not
	 * keep from being chosen to collide. */
	CACHETAB_HASH_SIP,
	/* A keyed multiply-xorshift of the key's 8-byte words, several
	 * times faster: for keys no caller chooses (ids the service made,
	 * digests). */
	CACHETAB_HASH_MIX,
};

struct cachetab_config {
	size_t capacity; /* at most this many entries; 0: stores nothing */
	enum cachetab_hash hash;
	uint64_t applied; /* the applied revision to start from */
	/* enter_cb is called under the write lock when an entry has entered
	 * the table, before any eviction it causes; leave_cb when one has
	 * left it. NULL: nothing to do. */
	void (*enter_cb)(struct cachetab_entry *e, void *arg);
	void (*leave_cb)(struct cachetab_entry *e, void *arg);
	/* free_cb frees an entry: one that left the table, after an RCU
	 * grace period (`head` is its rcu), or one cachetab_put refused, at
	 * once. */
	void (*free_cb)(struct rcu_head *head);
	void *arg; /* passed to enter_cb and leave_cb */
};

/* cachetab_new makes an empty table. Returns 0, or -1 when out of
 * memory. */
int cachetab_new(struct cachetab **out, const struct cachetab_config *cfg)
    __attribute__((warn_unused_result));

/* cachetab_free drops every entry (through leave_cb), waits for their
 * frees and frees the table; no other thread may use it. The cache's
 * indexes outlive it. NULL is fine. */
void cachetab_free(struct cachetab *t);

/* cachetab_get (below, inline) finds an entry by key. */

/* cachetab_put stores `e` (cachetab_entry_init'd), replacing the entry of
 * the same key, unless its revision is below the applied one: then it is
 * freed at once (free_cb), as it is when the table stores nothing.
 * Evicts when the table is over capacity. Takes the write lock; the table
 * owns `e` from here on. */
void cachetab_put(struct cachetab *t, struct cachetab_entry *e);

/* cachetab_lock takes the write lock and enters an RCU read-side section,
 * as the _locked functions below need; cachetab_unlock leaves both. The
 * caches hold it to apply changes, so that no store comes between a
 * change's drops and the applied revision's advance. */
void cachetab_lock(struct cachetab *t);
void cachetab_unlock(struct cachetab *t);

/* cachetab_remove_locked removes the entry with `key`, if there is one. */
void cachetab_remove_locked(struct cachetab *t, const unsigned char *key,
    size_t len, bool secret);

/* cachetab_remove_entry_locked removes `e`, an entry of the table. */
void cachetab_remove_entry_locked(struct cachetab *t, struct cachetab_entry *e);

/* cachetab_drop_all_locked removes every entry. */
void cachetab_drop_all_locked(struct cachetab *t);

/* cachetab_applied (below, inline) is the applied revision. */

/* cachetab_set_applied_locked sets the applied revision: raised by the
 * caches as they apply changes, set back by a rewind or a resync. */
void cachetab_set_applied_locked(struct cachetab *t, uint64_t revision);

/* cachetab_seen is the newest revision the table knows the database
 * reached: the applied one, or that of an entry stored since
 * cachetab_set_seen_locked (which a rewind or a resync calls). */
uint64_t cachetab_seen(struct cachetab *t);
void cachetab_set_seen_locked(struct cachetab *t, uint64_t revision);

/* cachetab_count is the number of entries; cachetab_evictions the number
 * evicted so far. */
size_t cachetab_count(struct cachetab *t);
uint64_t cachetab_evictions(struct cachetab *t);

/* A secondary index of a cache's entries: a lock-free hash table of nodes
 * embedded in the cache's entry type, `node_at` bytes after its struct
 * cachetab_entry, found by keys of the cache's choosing (a workspace, a
 * key id) hashed as the table hashes. Written under the table's write
 * lock only (the cache adds an entry from its enter_cb and deletes it
 * from its leave_cb); `match` compares a node of the index with the `arg`
 * of cachetab_index_drop_locked. */
struct cachetab_index {
	struct cds_lfht *ht;
	size_t node_at;
	cds_lfht_match_fct match;
};

/* cachetab_index_init makes an index sized for about `entries` nodes.
 * Returns 0, or -1 when out of memory. */
int cachetab_index_init(struct cachetab_index *ix, size_t entries,
    size_t node_at, cds_lfht_match_fct match)
    __attribute__((warn_unused_result));

/* cachetab_index_fini frees it (every entry gone); a zeroed one is fine. */
void cachetab_index_fini(struct cachetab_index *ix);

/* cachetab_index_add_locked indexes `e` under the `len` bytes at `key`;
 * cachetab_index_del_locked takes it out. */
void cachetab_index_add_locked(struct cachetab *t, struct cachetab_index *ix,
    struct cachetab_entry *e, const void *key, size_t len);
void cachetab_index_del_locked(struct cachetab_index *ix,
    struct cachetab_entry *e);

/* cachetab_index_drop_locked removes from the table every entry indexed
 * under `key` (`len` bytes) that `match`es `arg`, and for which `pick`
 * says so (NULL: every one). */
void cachetab_index_drop_locked(struct cachetab *t, struct cachetab_index *ix,
    const void *key, size_t len, const void *arg,
    bool (*pick)(const struct cachetab_entry *e));

/* The table's body. Its fields are cachetab.c's: they are here only so
 * that the lookup inlines into each cache's own, where the key's length
 * and the value's size are constants (on the client library's hot path
 * that unrolls the hash and the copy). */
struct cachetab {
	struct cds_lfht *ht;
	size_t capacity;
	enum cachetab_hash hash;
	uint64_t seed[2];
	void (*enter_cb)(struct cachetab_entry *e, void *arg);
	void (*leave_cb)(struct cachetab_entry *e, void *arg);
	void (*free_cb)(struct rcu_head *head);
	void *arg;
	pthread_mutex_t write_lock;
	size_t count; /* under write_lock */
	/* The CLOCK hand: the entry the next eviction looks at first (NULL:
	 * the table's first). Under write_lock; always an entry in `ht`. */
	struct cachetab_entry *hand;
	_Atomic uint64_t applied;
	/* How many times `applied` was lowered (a rewind or a resync to a
	 * database behind it), counted after each lowering. */
	_Atomic uint64_t lowered;
	/* The newest revision of an entry stored, or what the cache set
	 * (written under write_lock; cachetab_seen is the newer of it and
	 * `applied`). */
	_Atomic uint64_t seen;
	_Atomic uint64_t evictions;
};

/* What cachetab_match compares an entry's key with. */
struct cachetab_key {
	const unsigned char *bytes;
	size_t len;
	bool secret;
};

/* cachetab_match is the table's cds_lfht match function. */
int cachetab_match(struct cds_lfht_node *node, const void *arg);

/* cachetab_sip is CACHETAB_HASH_SIP's hash. */
unsigned long cachetab_sip(const struct cachetab *t, const void *key,
    size_t len);

/* cachetab_mix is a keyed multiply-xorshift hash of the key's 8-byte
 * words (the seeds drawn at start, so that keys cannot be chosen to
 * collide without knowing them): a lookup is on every local check of the
 * client library, and SipHash cost a third of one. */
static inline unsigned long
cachetab_mix(const struct cachetab *t, const unsigned char *key, size_t len)
{
	uint64_t h = t->seed[0] ^ (len * 0x9e3779b97f4a7c15ull);
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
	h = (h ^ tail ^ t->seed[1]) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return (unsigned long)h;
}

/* cachetab_hash is the table's hash of `len` bytes at `key`. */
static inline unsigned long
cachetab_hash(const struct cachetab *t, const void *key, size_t len)
{
	if (t->hash == CACHETAB_HASH_MIX)
		return cachetab_mix(t, key, len);
	return cachetab_sip(t, key, len);
}

/* cachetab_applied is the applied revision (an acquire load: what a change
 * applied up to it dropped is gone). */
static inline uint64_t
cachetab_applied(struct cachetab *t)
{
	return atomic_load_explicit(&t->applied, memory_order_acquire);
}

/* cachetab_get copies the first `size` bytes of the value of the entry
 * with `key` (`len` bytes; `secret` as in struct cachetab_entry) into
 * `out`, and into *revision the revision the answer reflects (see the top
 * of this file), and sets the entry's CLOCK bit; true on a hit. Lock-free:
 * an RCU read-side section. */
static inline bool
cachetab_get(struct cachetab *t, const unsigned char *key, size_t len,
    bool secret, void *out, size_t size, uint64_t *revision)
{
	if (t->capacity == 0)
		return false;
	struct cachetab_key k = {key, len, secret};
	struct cds_lfht_iter iter;
	bool hit = false;
	/* Read before the entry: every change applied up to it has dropped
	 * what it touched, so an entry found after is valid at it. Read
	 * after, it could be a change that dropped the entry just after it
	 * was copied, and stamp the old value with the revision that ended
	 * it. */
	uint64_t lowered = atomic_load_explicit(&t->lowered,
	    memory_order_acquire);
	uint64_t applied = cachetab_applied(t);
	urcu_bp_read_lock();
	cds_lfht_lookup(t->ht, cachetab_hash(t, key, len), cachetab_match, &k,
	    &iter);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&iter);
	if (node != NULL) {
		struct cachetab_entry *e =
		    caa_container_of(node, struct cachetab_entry, node);
		/* Written only when clear: a hot entry's line is not written
		 * by every reader. */
		if (atomic_load_explicit(&e->ref, memory_order_relaxed) == 0)
			atomic_store_explicit(&e->ref, 1, memory_order_relaxed);
		memcpy(out, e->value, size);
		*revision = e->revision > applied ? e->revision : applied;
		/* Lowered meanwhile (a rewind to a database behind it), even
		 * if raised again since: the revision read before may now
		 * number other writes, and the entry may be of either
		 * history. Each lowering is counted after it is made, so a
		 * count read unchanged means `applied` was read after every
		 * lowering the lookup could see the effects of. */
		hit = atomic_load_explicit(&t->lowered, memory_order_acquire) ==
		    lowered;
	}
	urcu_bp_read_unlock();
	return hit;
}

#endif
