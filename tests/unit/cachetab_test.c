/* Unit tests of the cache table (base/cachetab.c) that the service's cache
 * and the client library's local cache are built on: the stamp a hit
 * carries under a racing writer, the no-stale-insert rule under both
 * hashes, the callbacks every entry that leaves goes through, and a table
 * that stores nothing. Eviction's order is held by cache_test, through the
 * service's cache. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cachetab.h"
#include "unit.h"

/* A cache's entry as the table wants it: the table's part first, then
 * the value and the key. */
struct test_entry {
	struct cachetab_entry base;
	int value;
	unsigned char key[8];
};

/* What the callbacks saw. */
struct test_log {
	atomic_long entered, left, freed;
};

static void
test_enter_cb(struct cachetab_entry *e, void *arg)
{
	(void)e;
	atomic_fetch_add(&((struct test_log *)arg)->entered, 1);
}

static void
test_leave_cb(struct cachetab_entry *e, void *arg)
{
	(void)e;
	atomic_fetch_add(&((struct test_log *)arg)->left, 1);
}

static struct test_log *freed_log; /* free_cb has no argument */

static void
test_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct test_entry, base.rcu));
	if (freed_log != NULL)
		atomic_fetch_add(&freed_log->freed, 1);
}

static struct cachetab *
new_table(size_t capacity, enum cachetab_hash hash, uint64_t applied,
    struct test_log *log)
{
	memset(log, 0, sizeof *log);
	freed_log = log;
	struct cachetab_config cfg = {
	    .capacity = capacity,
	    .hash = hash,
	    .applied = applied,
	    .enter_cb = test_enter_cb,
	    .leave_cb = test_leave_cb,
	    .free_cb = test_free_cb,
	    .arg = log,
	};
	struct cachetab *t = NULL;
	EXPECT_INT(cachetab_new(&t, &cfg), 0);
	return t;
}

static void
key_of(unsigned n, unsigned char key[8])
{
	memset(key, 0, 8);
	memcpy(key, &n, sizeof n);
}

static void
put(struct cachetab *t, unsigned n, int value, uint64_t revision)
{
	struct test_entry *e = calloc(1, sizeof *e);
	if (e == NULL)
		return;
	e->value = value;
	key_of(n, e->key);
	cachetab_entry_init(&e->base, e->key, sizeof e->key, false, &e->value,
	    revision);
	cachetab_put(t, &e->base);
}

/* get says whether entry `n` is there, its value in *value and the
 * revision of the answer in *revision. */
static bool
get(struct cachetab *t, unsigned n, int *value, uint64_t *revision)
{
	unsigned char key[8];
	key_of(n, key);
	return cachetab_get(t, key, sizeof key, false, value, sizeof *value,
	    revision);
}

static void
apply(struct cachetab *t, unsigned drop, uint64_t up_to)
{
	unsigned char key[8];
	key_of(drop, key);
	cachetab_lock(t);
	cachetab_remove_locked(t, key, sizeof key, false);
	cachetab_set_applied_locked(t, up_to);
	cachetab_unlock(t);
}

static const enum cachetab_hash hashes[] = {CACHETAB_HASH_SIP,
    CACHETAB_HASH_MIX};

/* An entry older than the applied revision is refused (and freed); one
 * at it or newer is kept, and a hit carries the newer of its revision and
 * the applied one. */
static void
stale_entries_are_not_stored(void)
{
	for (size_t h = 0; h < 2; h++) {
		struct test_log log;
		struct cachetab *t = new_table(100, hashes[h], 10, &log);
		if (t == NULL)
			return;
		int v;
		uint64_t rev;
		put(t, 1, 7, 9);
		EXPECT(!get(t, 1, &v, &rev));
		EXPECT_INT(atomic_load(&log.freed), 1);
		EXPECT_INT(atomic_load(&log.entered), 0);
		put(t, 1, 7, 10);
		EXPECT(get(t, 1, &v, &rev));
		EXPECT_INT(v, 7);
		EXPECT_INT(rev, 10);
		put(t, 2, 8, 14); /* read past what was applied */
		EXPECT(get(t, 2, &v, &rev));
		EXPECT_INT(rev, 14);
		EXPECT_INT(cachetab_seen(t), 14);
		apply(t, 99, 12); /* touched neither */
		EXPECT(get(t, 1, &v, &rev));
		EXPECT_INT(rev, 12);
		EXPECT(get(t, 2, &v, &rev));
		EXPECT_INT(rev, 14);
		apply(t, 1, 13);
		EXPECT(!get(t, 1, &v, &rev));
		EXPECT_INT(cachetab_count(t), 1);
		cachetab_free(t);
	}
}

/* Every entry that leaves (replaced, removed, evicted, dropped, or with
 * the table) goes through leave_cb once and is freed once. */
static void
leaving_entries_are_handed_back_once(void)
{
	struct test_log log;
	struct cachetab *t = new_table(50, CACHETAB_HASH_MIX, 1, &log);
	if (t == NULL)
		return;
	for (unsigned n = 0; n < 200; n++)
		put(t, n, (int)n, 1);
	put(t, 199, 0, 2); /* a replacement */
	EXPECT(cachetab_count(t) <= 50);
	EXPECT(cachetab_evictions(t) >= 150);
	cachetab_lock(t);
	cachetab_drop_all_locked(t);
	cachetab_unlock(t);
	EXPECT_INT(cachetab_count(t), 0);
	for (unsigned n = 0; n < 10; n++)
		put(t, n, (int)n, 2);
	cachetab_free(t);
	EXPECT_INT(atomic_load(&log.entered), 211);
	EXPECT_INT(atomic_load(&log.left), 211);
	EXPECT_INT(atomic_load(&log.freed), 211);
}

/* A table of capacity 0 stores nothing and misses every lookup. */
static void
a_table_of_nothing_stores_nothing(void)
{
	struct test_log log;
	struct cachetab *t = new_table(0, CACHETAB_HASH_SIP, 1, &log);
	if (t == NULL)
		return;
	int v;
	uint64_t rev;
	put(t, 1, 1, 1);
	EXPECT(!get(t, 1, &v, &rev));
	EXPECT_INT(atomic_load(&log.freed), 1);
	EXPECT_INT(cachetab_count(t), 0);
	cachetab_free(t);
}

/* A lookup racing a writer: the answer's revision is the newer of the
 * entry's and the applied one, and the applied one must be read before
 * the entry. Read after, it can belong to a change that dropped the entry
 * just after it was copied, and stamp the old value with the revision of
 * the change that ended it. The writer stores the value of revision r at
 * r, then applies the change at r + 1 that drops it, again and again;
 * each value is the one of its revision, so a reader knows which answer
 * is stale. */
enum { RACE_ROUNDS = 300000, RACE_READERS = 2 };

struct race {
	struct cachetab *t;
	atomic_bool stop;
	atomic_long hits, wrong;
};

static int
race_value(uint64_t revision)
{
	return (int)(revision % 3);
}

static void *
race_reader(void *arg)
{
	struct race *r = arg;
	long hits = 0, wrong = 0;
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		int v;
		uint64_t rev;
		if (!get(r->t, 1, &v, &rev))
			continue;
		hits++;
		if (v != race_value(rev))
			wrong++;
	}
	atomic_fetch_add(&r->hits, hits);
	atomic_fetch_add(&r->wrong, wrong);
	return NULL;
}

static void
a_hit_is_stamped_with_what_was_applied_before_it(void)
{
	static struct race r;
	struct test_log log;
	r.t = new_table(100, CACHETAB_HASH_MIX, 1, &log);
	if (r.t == NULL)
		return;
	atomic_store(&r.stop, false);
	pthread_t th[RACE_READERS];
	for (int i = 0; i < RACE_READERS; i++)
		pthread_create(&th[i], NULL, race_reader, &r);
	for (uint64_t rev = 1; rev <= RACE_ROUNDS; rev++) {
		put(r.t, 1, race_value(rev), rev);
		apply(r.t, 1, rev + 1);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < RACE_READERS; i++)
		pthread_join(th[i], NULL);
	printf("  %ld hits, %ld stamped past the change that dropped them\n",
	    atomic_load(&r.hits), atomic_load(&r.wrong));
	EXPECT(atomic_load(&r.hits) > 0);
	EXPECT_INT(atomic_load(&r.wrong), 0);
	cachetab_free(r.t);
}

static const struct unit_case cases[] = {
	{"a_hit_is_stamped_with_what_was_applied_before_it",
	    a_hit_is_stamped_with_what_was_applied_before_it},
	{"stale_entries_are_not_stored", stale_entries_are_not_stored},
	{"leaving_entries_are_handed_back_once",
	    leaving_entries_are_handed_back_once},
	{"a_table_of_nothing_stores_nothing",
	    a_table_of_nothing_stores_nothing},
};

UNIT_MAIN(cases)
