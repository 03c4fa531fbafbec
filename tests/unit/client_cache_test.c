/* Unit tests of the client library's local cache (client/local_cache.c)
 * on its own, without a service: the stamp a hit carries under a racing
 * feed, the insert rule against the applied revision, and a resync that
 * lowers the applied revision. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "local_cache.h"
#include "unit.h"

#define USER "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90"
#define WS "123e4567-e89b-12d3-a456-426614174000"

static struct local_cache *
new_cache(void)
{
	struct local_cache *c = NULL;
	EXPECT_INT(local_cache_new(&c, 100, 60000), 0);
	if (c != NULL)
		local_cache_resync(c, 1); /* synced: lookups may answer */
	return c;
}

/* An answer older than a change already applied is not kept; one at the
 * applied revision or newer is, stamped with the newer of the two. */
static void
stale_answers_are_not_stored(void)
{
	struct local_cache *c = new_cache();
	unsigned char user[16], ws[16];
	if (c == NULL || !local_cache_uuid(USER, user) ||
	    !local_cache_uuid(WS, ws)) {
		local_cache_free(c);
		return;
	}
	local_cache_apply(c, NULL, 0, 10, true);
	struct local_membership m = {true, ROLE_MEMBER}, got;
	uint64_t rev;
	local_cache_put_membership(c, user, ws, &m, 9);
	EXPECT(!local_cache_get_membership(c, user, ws, &got, &rev));
	local_cache_put_membership(c, user, ws, &m, 10);
	EXPECT(local_cache_get_membership(c, user, ws, &got, &rev));
	EXPECT_INT(rev, 10);
	EXPECT_INT(got.role, ROLE_MEMBER);
	local_cache_apply(c, NULL, 0, 12, true); /* touched nothing of it */
	EXPECT(local_cache_get_membership(c, user, ws, &got, &rev));
	EXPECT_INT(rev, 12);
	struct local_change ch = {.kind = "membership", .workspace_id = WS,
	    .user_id = USER};
	local_cache_apply(c, &ch, 1, 13, true);
	EXPECT(!local_cache_get_membership(c, user, ws, &got, &rev));
	local_cache_free(c);
}

/* A resync to a lower revision (a database behind what was applied)
 * drops everything, and the numbers below it count again. */
static void
a_resync_to_a_lower_revision_drops_everything(void)
{
	struct local_cache *c = new_cache();
	unsigned char user[16], ws[16];
	if (c == NULL || !local_cache_uuid(USER, user) ||
	    !local_cache_uuid(WS, ws)) {
		local_cache_free(c);
		return;
	}
	struct local_membership m = {true, ROLE_ADMIN}, got;
	uint64_t rev;
	local_cache_put_membership(c, user, ws, &m, 20);
	EXPECT_INT(local_cache_seen(c), 20);
	local_cache_resync(c, 15);
	EXPECT(!local_cache_get_membership(c, user, ws, &got, &rev));
	EXPECT_INT(local_cache_applied(c), 15);
	EXPECT_INT(local_cache_seen(c), 15);
	local_cache_put_membership(c, user, ws, &m, 16);
	EXPECT(local_cache_get_membership(c, user, ws, &got, &rev));
	EXPECT_INT(rev, 16);
	local_cache_free(c);
}

/* A lookup racing the feed, as in the service's cache_test: the applied
 * revision is read before the entry, or a change that dropped the entry
 * just after it was copied would stamp the old value with its revision.
 * The writer stores the role of revision r at r, then applies the change
 * at r + 1 that drops it, over and over. */
enum { RACE_ROUNDS = 300000, RACE_READERS = 2 };

struct race {
	struct local_cache *c;
	unsigned char user[16], ws[16];
	atomic_bool stop;
	atomic_long hits, wrong;
};

static enum role
race_role(uint64_t revision)
{
	static const enum role roles[] = {ROLE_ADMIN, ROLE_MEMBER,
	    ROLE_READ_ONLY};
	return roles[revision % 3];
}

static void *
race_reader(void *arg)
{
	struct race *r = arg;
	long hits = 0, wrong = 0;
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		struct local_membership got;
		uint64_t rev;
		if (!local_cache_get_membership(r->c, r->user, r->ws, &got,
		        &rev))
			continue;
		hits++;
		if (got.role != race_role(rev))
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
	r.c = new_cache();
	if (r.c == NULL || !local_cache_uuid(USER, r.user) ||
	    !local_cache_uuid(WS, r.ws)) {
		local_cache_free(r.c);
		return;
	}
	atomic_store(&r.stop, false);
	pthread_t t[RACE_READERS];
	for (int i = 0; i < RACE_READERS; i++)
		pthread_create(&t[i], NULL, race_reader, &r);
	struct local_change ch = {.kind = "membership", .workspace_id = WS,
	    .user_id = USER};
	for (uint64_t rev = 2; rev <= RACE_ROUNDS; rev++) {
		struct local_membership m = {true, race_role(rev)};
		local_cache_put_membership(r.c, r.user, r.ws, &m, rev);
		local_cache_apply(r.c, &ch, 1, rev + 1, true);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < RACE_READERS; i++)
		pthread_join(t[i], NULL);
	printf("  %ld hits, %ld stamped past the change that dropped them\n",
	    atomic_load(&r.hits), atomic_load(&r.wrong));
	EXPECT_INT(atomic_load(&r.wrong), 0);
	local_cache_free(r.c);
}

static const struct unit_case cases[] = {
	{"a_hit_is_stamped_with_what_was_applied_before_it",
	    a_hit_is_stamped_with_what_was_applied_before_it},
	{"stale_answers_are_not_stored", stale_answers_are_not_stored},
	{"a_resync_to_a_lower_revision_drops_everything",
	    a_resync_to_a_lower_revision_drops_everything},
};

UNIT_MAIN(cases)
