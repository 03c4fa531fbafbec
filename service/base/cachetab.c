/* The cache table on liburcu's lock-free hash table (cds_lfht, bulletproof
 * flavour): readers take only an RCU read lock (the lookup is inline, in
 * cachetab.h); writers share one mutex; an entry that leaves is freed
 * after a grace period (call_rcu). The CLOCK hand persists between
 * evictions. */
#include "base/cachetab.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(crypto_shorthash_KEYBYTES == 2 * sizeof(uint64_t),
    "the SipHash key is the two seeds");

unsigned long
cachetab_sip(const struct cachetab *t, const void *key, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	crypto_shorthash(h, key, len, (const unsigned char *)t->seed);
	unsigned long v;
	memcpy(&v, h, sizeof v);
	return v;
}

int
cachetab_match(struct cds_lfht_node *node, const void *arg)
{
	const struct cachetab_entry *e =
	    caa_container_of(node, struct cachetab_entry, node);
	const struct cachetab_key *k = arg;
	if (e->key_len != k->len)
		return 0;
	/* Constant time wherever a secret's digest is involved; the other
	 * keys (memberships, resources) are not secret. */
	if (e->secret || k->secret)
		return sodium_memcmp(e->key, k->bytes, k->len) == 0;
	return memcmp(e->key, k->bytes, k->len) == 0;
}

void
cachetab_entry_init(struct cachetab_entry *e, const unsigned char *key,
    size_t len, bool secret, const void *value, uint64_t revision)
{
	cds_lfht_node_init(&e->node);
	e->key = key;
	e->key_len = len;
	e->secret = secret;
	e->value = value;
	e->revision = revision;
	atomic_init(&e->ref, 0);
}

/* cachetab_new_lfht makes a hash table sized for `entries` up front (at
 * most two a bucket): growing is left to liburcu's lazy resize, which can
 * lag far behind a fast fill and leave every lookup walking long
 * chains. */
static struct cds_lfht *
cachetab_new_lfht(size_t entries)
{
	unsigned long buckets = 1024;
	while (buckets < entries / 2)
		buckets <<= 1;
	return cds_lfht_new_flavor(buckets, buckets, 0,
	    CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, &urcu_bp_flavor, NULL);
}

int
cachetab_new(struct cachetab **out, const struct cachetab_config *cfg)
{
	struct cachetab *t = calloc(1, sizeof *t);
	if (t == NULL)
		return -1;
	t->capacity = cfg->capacity;
	t->hash = cfg->hash;
	randombytes_buf(t->seed, sizeof t->seed);
	t->enter_cb = cfg->enter_cb;
	t->leave_cb = cfg->leave_cb;
	t->free_cb = cfg->free_cb;
	t->arg = cfg->arg;
	atomic_init(&t->applied, cfg->applied);
	atomic_init(&t->seen, cfg->applied);
	t->ht = cachetab_new_lfht(t->capacity);
	if (t->ht == NULL) {
		free(t);
		return -1;
	}
	pthread_mutex_init(&t->write_lock, NULL);
	*out = t;
	return 0;
}

void
cachetab_free(struct cachetab *t)
{
	if (t == NULL)
		return;
	cachetab_lock(t);
	cachetab_drop_all_locked(t);
	cachetab_unlock(t);
	urcu_bp_barrier(); /* every call_rcu free has run */
	cds_lfht_destroy(t->ht, NULL);
	pthread_mutex_destroy(&t->write_lock);
	free(t);
}

void
cachetab_lock(struct cachetab *t)
{
	pthread_mutex_lock(&t->write_lock);
	urcu_bp_read_lock();
}

void
cachetab_unlock(struct cachetab *t)
{
	urcu_bp_read_unlock();
	pthread_mutex_unlock(&t->write_lock);
}

/* cachetab_leave_locked hands `e`, out of the table now, to its cache and
 * frees it after a grace period. */
static void
cachetab_leave_locked(struct cachetab *t, struct cachetab_entry *e)
{
	if (t->leave_cb != NULL)
		t->leave_cb(e, t->arg);
	urcu_bp_call_rcu(&e->rcu, t->free_cb);
}

/* cachetab_hand_iter points `iter` at the hand's entry, or at the table's
 * first entry when there is no hand (inside an RCU read-side section). */
static void
cachetab_hand_iter(struct cachetab *t, struct cds_lfht_iter *iter)
{
	struct cachetab_entry *h = t->hand;
	if (h != NULL) {
		struct cachetab_key k = {h->key, h->key_len, h->secret};
		cds_lfht_lookup(t->ht, cachetab_hash(t, h->key, h->key_len),
		    cachetab_match, &k, iter);
		if (cds_lfht_iter_get_node(iter) == &h->node)
			return;
	}
	cds_lfht_first(t->ht, iter);
}

static struct cachetab_entry *
cachetab_iter_entry(struct cds_lfht_iter *iter)
{
	struct cds_lfht_node *n = cds_lfht_iter_get_node(iter);
	return n != NULL ? caa_container_of(n, struct cachetab_entry, node)
	                 : NULL;
}

/* cachetab_hand_step moves the hand off `e`, about to leave the table,
 * onto the entry after it, so that it never points at freed memory. */
static void
cachetab_hand_step(struct cachetab *t, struct cachetab_entry *e)
{
	if (t->hand != e)
		return;
	struct cds_lfht_iter iter;
	cachetab_hand_iter(t, &iter);
	cds_lfht_next(t->ht, &iter);
	t->hand = cachetab_iter_entry(&iter);
}

void
cachetab_remove_entry_locked(struct cachetab *t, struct cachetab_entry *e)
{
	cachetab_hand_step(t, e);
	if (cds_lfht_del(t->ht, &e->node) == 0) {
		t->count--;
		cachetab_leave_locked(t, e);
	}
}

void
cachetab_remove_locked(struct cachetab *t, const unsigned char *key,
    size_t len, bool secret)
{
	struct cachetab_key k = {key, len, secret};
	struct cds_lfht_iter iter;
	cds_lfht_lookup(t->ht, cachetab_hash(t, key, len), cachetab_match,
	    &k, &iter);
	struct cachetab_entry *e = cachetab_iter_entry(&iter);
	if (e != NULL)
		cachetab_remove_entry_locked(t, e);
}

void
cachetab_drop_all_locked(struct cachetab *t)
{
	struct cds_lfht_iter iter;
	struct cachetab_entry *e;
	t->hand = NULL; /* every entry goes */
	cds_lfht_for_each_entry(t->ht, &iter, e, node)
		cachetab_remove_entry_locked(t, e);
}

/* cachetab_evict_locked runs the CLOCK hand over the table until it is a
 * tenth under capacity: an entry hit since the hand last passed it gets a
 * second chance. The hand stays where it stopped, so the next eviction
 * goes on from there instead of sweeping the start of the table again
 * (which would evict the same region over and over and never give the
 * entries past it their turn). At most two turns of the table: the first
 * clears every bit, the second finds an entry to evict. */
static void
cachetab_evict_locked(struct cachetab *t)
{
	size_t target = t->capacity - t->capacity / 10;
	if (target == t->capacity && target > 0)
		target--;
	struct cds_lfht_iter iter;
	cachetab_hand_iter(t, &iter);
	t->hand = NULL; /* `iter` is the hand while this runs */
	size_t budget = 2 * t->count + 1;
	while (t->count > target && budget-- > 0) {
		struct cachetab_entry *e = cachetab_iter_entry(&iter);
		if (e == NULL) { /* past the end: round to the first */
			cds_lfht_first(t->ht, &iter);
			e = cachetab_iter_entry(&iter);
			if (e == NULL)
				break;
		}
		cds_lfht_next(t->ht, &iter);
		if (atomic_exchange(&e->ref, 0) == 0) {
			cachetab_remove_entry_locked(t, e);
			atomic_fetch_add(&t->evictions, 1);
		}
	}
	t->hand = cachetab_iter_entry(&iter);
}

void
cachetab_put(struct cachetab *t, struct cachetab_entry *e)
{
	if (t->capacity == 0) {
		t->free_cb(&e->rcu);
		return;
	}
	struct cachetab_key k = {e->key, e->key_len, e->secret};
	unsigned long hash = cachetab_hash(t, e->key, e->key_len);
	pthread_mutex_lock(&t->write_lock);
	if (e->revision < atomic_load(&t->applied)) {
		/* Older than a change the cache already applied: it may be
		 * stale, and nothing would ever drop it. */
		pthread_mutex_unlock(&t->write_lock);
		t->free_cb(&e->rcu);
		return;
	}
	if (e->revision > atomic_load(&t->seen))
		atomic_store(&t->seen, e->revision);
	urcu_bp_read_lock();
	struct cds_lfht_node *old =
	    cds_lfht_add_replace(t->ht, hash, cachetab_match, &k, &e->node);
	if (old != NULL) {
		struct cachetab_entry *was =
		    caa_container_of(old, struct cachetab_entry, node);
		if (t->hand == was) /* `e` took its place in the table */
			t->hand = e;
		cachetab_leave_locked(t, was);
	} else {
		t->count++;
	}
	if (t->enter_cb != NULL)
		t->enter_cb(e, t->arg);
	if (t->count > t->capacity)
		cachetab_evict_locked(t);
	cachetab_unlock(t);
}

void
cachetab_set_applied_locked(struct cachetab *t, uint64_t revision)
{
	uint64_t was = atomic_load(&t->applied);
	atomic_store(&t->applied, revision);
	if (revision < was)
		atomic_fetch_add(&t->lowered, 1); /* after: see cachetab_get */
}

uint64_t
cachetab_seen(struct cachetab *t)
{
	uint64_t seen = atomic_load(&t->seen);
	uint64_t applied = atomic_load(&t->applied);
	return seen > applied ? seen : applied;
}

void
cachetab_set_seen_locked(struct cachetab *t, uint64_t revision)
{
	atomic_store(&t->seen, revision);
}

size_t
cachetab_count(struct cachetab *t)
{
	pthread_mutex_lock(&t->write_lock);
	size_t n = t->count;
	pthread_mutex_unlock(&t->write_lock);
	return n;
}

uint64_t
cachetab_evictions(struct cachetab *t)
{
	return atomic_load(&t->evictions);
}

int
cachetab_index_init(struct cachetab_index *ix, size_t entries,
    size_t node_at, cds_lfht_match_fct match)
{
	ix->ht = cachetab_new_lfht(entries);
	ix->node_at = node_at;
	ix->match = match;
	return ix->ht != NULL ? 0 : -1;
}

void
cachetab_index_fini(struct cachetab_index *ix)
{
	if (ix->ht != NULL)
		cds_lfht_destroy(ix->ht, NULL);
	ix->ht = NULL;
}

static struct cds_lfht_node *
cachetab_index_node(const struct cachetab_index *ix, struct cachetab_entry *e)
{
	return (struct cds_lfht_node *)((char *)e + ix->node_at);
}

void
cachetab_index_add_locked(struct cachetab *t, struct cachetab_index *ix,
    struct cachetab_entry *e, const void *key, size_t len)
{
	cds_lfht_add(ix->ht, cachetab_hash(t, key, len),
	    cachetab_index_node(ix, e));
}

void
cachetab_index_del_locked(struct cachetab_index *ix, struct cachetab_entry *e)
{
	(void)cds_lfht_del(ix->ht, cachetab_index_node(ix, e));
}

void
cachetab_index_drop_locked(struct cachetab *t, struct cachetab_index *ix,
    const void *key, size_t len, const void *arg,
    bool (*pick)(const struct cachetab_entry *e))
{
	struct cds_lfht_iter iter;
	struct cds_lfht_node *node;
	cds_lfht_lookup(ix->ht, cachetab_hash(t, key, len), ix->match, arg,
	    &iter);
	while ((node = cds_lfht_iter_get_node(&iter)) != NULL) {
		/* On before the removal, which takes the node out. */
		cds_lfht_next_duplicate(ix->ht, ix->match, arg, &iter);
		struct cachetab_entry *e =
		    (struct cachetab_entry *)((char *)node - ix->node_at);
		if (pick == NULL || pick(e))
			cachetab_remove_entry_locked(t, e);
	}
}
