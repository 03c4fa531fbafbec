/* Unit tests of the cache: lookups by parsed ids (cache_get_membership_ids
 * finds what cache_put_membership stored under the ids' text, in either
 * case, and misses everything else; API key entries are still found by
 * their hash beside memberships), and invalidation through the workspace
 * and key-id indexes: a change drops exactly the entries it touched, and
 * entries replaced or evicted leave the indexes (under AddressSanitizer a
 * stale index node would be a use after free). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <urcu/urcu-bp.h>

#include "authz/cache.h"
#include "rpc/validate.h"
#include "unit.h"

#define USER "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90"
#define USER_UPPER "3F2B8C1E-0D4A-4E7B-9C1F-2A6D5E8B7C90"
#define WS "123e4567-e89b-12d3-a456-426614174000"
#define OTHER "123e4567-e89b-12d3-a456-426614174001"

static struct cache *
cache_with_member(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 100, 60000, 5), 0);
	if (c == NULL)
		return NULL;
	struct cache_membership m = {true, false, ROLE_MEMBER, false};
	cache_put_membership(c, USER, WS, &m, 7);
	return c;
}

static bool
ids(const char *text, unsigned char out[16])
{
	bool ok = validate_uuid_bytes(text, out);
	EXPECT(ok);
	return ok;
}

static void
ids_find_what_text_stored(void)
{
	struct cache *c = cache_with_member();
	if (c == NULL)
		return;
	unsigned char user[16], upper[16], ws[16];
	if (!ids(USER, user) || !ids(USER_UPPER, upper) || !ids(WS, ws)) {
		cache_free(c);
		return;
	}
	struct cache_membership got;
	uint64_t rev = 0;
	memset(&got, 0, sizeof got);
	EXPECT(cache_get_membership_ids(c, user, ws, &got, &rev));
	EXPECT(got.workspace_exists);
	EXPECT(!got.personal);
	EXPECT_INT(got.role, ROLE_MEMBER);
	EXPECT_INT(rev, 7);
	/* The same id in upper case is the same key. */
	EXPECT(cache_get_membership_ids(c, upper, ws, &got, &rev));
	/* And the text lookup agrees. */
	EXPECT(cache_get_membership(c, USER_UPPER, WS, &got, &rev));
	cache_free(c);
}

static void
ids_miss_other_pairs(void)
{
	struct cache *c = cache_with_member();
	if (c == NULL)
		return;
	unsigned char user[16], ws[16], other[16];
	if (!ids(USER, user) || !ids(WS, ws) || !ids(OTHER, other)) {
		cache_free(c);
		return;
	}
	struct cache_membership got;
	uint64_t rev = 0;
	EXPECT(!cache_get_membership_ids(c, user, other, &got, &rev));
	EXPECT(!cache_get_membership_ids(c, other, ws, &got, &rev));
	/* User and workspace swapped is another key. */
	EXPECT(!cache_get_membership_ids(c, ws, user, &got, &rev));
	struct cache_stats st;
	cache_stats(c, &st);
	EXPECT_INT(st.misses, 3);
	cache_free(c);
}

static void
ids_miss_in_a_disabled_cache(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 0, 60000, 1), 0);
	if (c == NULL)
		return;
	struct cache_membership m = {true, false, ROLE_ADMIN, false}, got;
	cache_put_membership(c, USER, WS, &m, 1);
	unsigned char user[16], ws[16];
	uint64_t rev;
	if (ids(USER, user) && ids(WS, ws))
		EXPECT(!cache_get_membership_ids(c, user, ws, &got, &rev));
	cache_free(c);
}

static void
keys_beside_memberships(void)
{
	struct cache *c = cache_with_member();
	if (c == NULL)
		return;
	/* A key whose hash begins with the bytes of a membership key. */
	unsigned char hash[32];
	memset(hash, 0, sizeof hash);
	hash[0] = 'M';
	struct key_standing k;
	memset(&k, 0, sizeof k);
	memcpy(k.key_id, OTHER, sizeof k.key_id);
	memcpy(k.workspace_id, WS, sizeof k.workspace_id);
	k.read_only = true;
	cache_put_key(c, hash, sizeof hash, &k, 8);
	struct key_standing got;
	uint64_t rev = 0;
	EXPECT(cache_get_key(c, hash, sizeof hash, &got, &rev));
	EXPECT(got.read_only);
	EXPECT_STR(got.workspace_id, WS);
	hash[31] = 1;
	EXPECT(!cache_get_key(c, hash, sizeof hash, &got, &rev));
	unsigned char user[16], ws[16];
	struct cache_membership m;
	if (ids(USER, user) && ids(WS, ws))
		EXPECT(cache_get_membership_ids(c, user, ws, &m, &rev));
	cache_free(c);
}

/* id_text writes a UUID whose last 12 digits are `n` (kind `k`). */
static void
id_text(char out[37], unsigned k, unsigned n)
{
	snprintf(out, 37, "%08x-0000-4000-8000-%012x", k, n);
}

static bool
member_cached(struct cache *c, unsigned user, unsigned ws)
{
	char u[37], w[37];
	id_text(u, 1, user);
	id_text(w, 2, ws);
	struct cache_membership m;
	uint64_t rev;
	return cache_get_membership(c, u, w, &m, &rev);
}

static void
put_member(struct cache *c, unsigned user, unsigned ws, uint64_t rev)
{
	char u[37], w[37];
	id_text(u, 1, user);
	id_text(w, 2, ws);
	struct cache_membership m = {true, false, ROLE_MEMBER, false};
	cache_put_membership(c, u, w, &m, rev);
}

/* put_key caches key `key` (ids of kind 3) of workspace `ws`, found by a
 * hash made from `hash`. */
static void
put_key(struct cache *c, unsigned hash, unsigned key, unsigned ws)
{
	unsigned char h[32] = {0};
	memcpy(h, &hash, sizeof hash);
	struct key_standing k;
	memset(&k, 0, sizeof k);
	id_text(k.key_id, 3, key);
	id_text(k.workspace_id, 2, ws);
	cache_put_key(c, h, sizeof h, &k, 1);
}

static bool
key_cached(struct cache *c, unsigned hash)
{
	unsigned char h[32] = {0};
	memcpy(h, &hash, sizeof hash);
	struct key_standing k;
	uint64_t rev;
	return cache_get_key(c, h, sizeof h, &k, &rev);
}

static uint64_t
entries(struct cache *c)
{
	struct cache_stats st;
	cache_stats(c, &st);
	return st.entries;
}

static void
workspace_change_drops_only_its_entries(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 10000, 60000, 1), 0);
	if (c == NULL)
		return;
	for (unsigned w = 0; w < 20; w++)
		for (unsigned u = 0; u < 50; u++)
			put_member(c, u, w, 1);
	put_key(c, 1, 1, 7);
	put_key(c, 2, 2, 8);
	cache_put_resource(c, "experiment", "e7",
	    "00000002-0000-4000-8000-000000000007", 1);
	EXPECT_INT(entries(c), 1003);

	char w7[37];
	id_text(w7, 2, 7);
	struct cache_change ch = {.kind = "workspace", .workspace_id = w7};
	cache_apply(c, &ch, 1, 2);
	EXPECT_INT(entries(c), 1003 - 50 - 2);
	for (unsigned u = 0; u < 50; u++) {
		EXPECT(!member_cached(c, u, 7));
		EXPECT(member_cached(c, u, 6));
		EXPECT(member_cached(c, u, 8));
	}
	EXPECT(!key_cached(c, 1));
	EXPECT(key_cached(c, 2));
	char ws[37];
	uint64_t rev;
	EXPECT(!cache_get_resource(c, "experiment", "e7", ws, &rev));
	cache_free(c);
}

static void
key_change_drops_every_entry_of_the_key(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 1000, 60000, 1), 0);
	if (c == NULL)
		return;
	/* Key 5 found by two hashes (its secret before and after a
	 * rotation, within the grace period), key 6 by one, in the same
	 * workspace, beside a membership there. */
	put_key(c, 10, 5, 1);
	put_key(c, 11, 5, 1);
	put_key(c, 12, 6, 1);
	put_member(c, 1, 1, 1);
	char k5[37];
	id_text(k5, 3, 5);
	struct cache_change ch = {.kind = "api_key", .api_key_id = k5};
	cache_apply(c, &ch, 1, 2);
	EXPECT(!key_cached(c, 10));
	EXPECT(!key_cached(c, 11));
	EXPECT(key_cached(c, 12));
	EXPECT(member_cached(c, 1, 1));
	EXPECT_INT(entries(c), 2);
	cache_free(c);
}

static void
replaced_entries_leave_the_indexes(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 1000, 60000, 1), 0);
	if (c == NULL)
		return;
	for (int round = 0; round < 3; round++) {
		put_member(c, 1, 1, 1);
		put_key(c, 20, 9, 1);
	}
	EXPECT_INT(entries(c), 2);
	urcu_bp_barrier(); /* the replaced entries are freed now */
	char w1[37], k9[37];
	id_text(w1, 2, 1);
	id_text(k9, 3, 9);
	struct cache_change ch[] = {
	    {.kind = "api_key", .api_key_id = k9},
	    {.kind = "workspace", .workspace_id = w1},
	};
	cache_apply(c, ch, 2, 2);
	EXPECT_INT(entries(c), 0);
	EXPECT(!member_cached(c, 1, 1));
	EXPECT(!key_cached(c, 20));
	cache_free(c);
}

static void
evicted_entries_leave_the_indexes(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 100, 60000, 1), 0);
	if (c == NULL)
		return;
	for (unsigned u = 0; u < 1000; u++) {
		put_member(c, u, 3, 1);
		put_key(c, 100 + u, 100 + u, 3);
	}
	EXPECT(entries(c) <= 100);
	urcu_bp_barrier(); /* the evicted entries are freed now */
	char w3[37];
	id_text(w3, 2, 3);
	struct cache_change ch = {.kind = "workspace", .workspace_id = w3};
	cache_apply(c, &ch, 1, 2);
	EXPECT_INT(entries(c), 0);
	cache_free(c);
}

/* A database behind the cache (an asynchronous standby promoted without
 * the last writes): a write that takes a revision the cache applied
 * already rewinds it, dropping everything it held, answering nothing until
 * the feeder has read the log again from the rewound revision; a write
 * past what it applied changes nothing. */
static void
a_write_behind_the_cache_rewinds_it(void)
{
	struct cache *c = cache_with_member(); /* applied 5, entry read at 7 */
	if (c == NULL)
		return;
	struct cache_change none = {.kind = "user"};
	cache_apply(c, &none, 0, 9);
	struct cache_membership m = {true, false, ROLE_ADMIN, false};
	cache_put_membership(c, USER, OTHER, &m, 9);
	struct cache_membership got;
	uint64_t rev;
	EXPECT(cache_get_membership(c, USER, OTHER, &got, &rev));

	cache_note_write(c, 10); /* the next revision: as it should be */
	EXPECT(cache_usable(c, 9));
	EXPECT(cache_get_membership(c, USER, WS, &got, &rev));
	EXPECT_INT(cache_revision(c), 9);

	cache_note_write(c, 8); /* 8 was applied: the database lost 8 and 9 */
	EXPECT_INT(cache_revision(c), 7);
	EXPECT(!cache_usable(c, 0));
	EXPECT(!cache_get_membership(c, USER, WS, &got, &rev));
	EXPECT(!cache_get_membership(c, USER, OTHER, &got, &rev));
	/* The feeder's read in flight, from 9, is discarded; the next one,
	 * from 7, is applied. */
	cache_apply(c, &none, 0, 12);
	EXPECT_INT(cache_revision(c), 7);
	EXPECT(!cache_usable(c, 8));
	cache_apply(c, &none, 0, 8);
	EXPECT_INT(cache_revision(c), 8);
	EXPECT(cache_usable(c, 8));
	/* A rewind to where it stands, or ahead, is no rewind. */
	EXPECT(!cache_rewind(c, 8));
	EXPECT(!cache_rewind(c, 20));
	EXPECT(cache_usable(c, 8));
	cache_note_write(NULL, 1);
	cache_free(c);
}

static void
eviction_resumes_where_it_stopped(void)
{
	/* Capacity 100: an eviction brings the cache down to 90. Every even
	 * user is hit once, then two evictions run. The first passes some
	 * even entries (clearing their bit) before it has evicted eleven
	 * odd ones and stops there; the second must go on from there, where
	 * odd entries are left, and not start over at the table's first
	 * entry, where the even ones it passed have lost their bit. So every
	 * even entry is still cached after both. */
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 100, 60000, 1), 0);
	if (c == NULL)
		return;
	for (unsigned u = 0; u < 100; u++)
		put_member(c, u, 1, 1);
	for (unsigned u = 0; u < 100; u += 2)
		EXPECT(member_cached(c, u, 1));
	put_member(c, 100, 1, 1); /* 101 entries: the first eviction */
	EXPECT_INT(entries(c), 90);
	for (unsigned u = 101; u <= 111; u++)
		put_member(c, u, 1, 1); /* the last makes 101: the second */
	EXPECT_INT(entries(c), 90);
	struct cache_stats st;
	cache_stats(c, &st);
	EXPECT_INT(st.evictions, 22);
	unsigned kept = 0;
	for (unsigned u = 0; u < 100; u += 2)
		kept += member_cached(c, u, 1);
	EXPECT_INT(kept, 50);
	cache_free(c);
}

static void
hand_moves_off_dropped_entries(void)
{
	/* The entry the hand stopped at is dropped (by a change to its
	 * workspace, or by being replaced): the hand moves on and the next
	 * evictions still run (under AddressSanitizer a hand left on a freed
	 * entry is a use after free). */
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 20, 60000, 1), 0);
	if (c == NULL)
		return;
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned u = 0; u < 40; u++) {
			put_member(c, u, round, 1 + round);
			put_member(c, u, round, 1 + round); /* replaced */
		}
		EXPECT(entries(c) <= 20);
		urcu_bp_barrier();
		char w[37];
		id_text(w, 2, round);
		struct cache_change ch = {.kind = "workspace", .workspace_id = w};
		cache_apply(c, &ch, 1, 1 + round);
		EXPECT_INT(entries(c), 0);
		urcu_bp_barrier();
	}
	for (unsigned u = 0; u < 40; u++)
		put_member(c, u, 9, 9);
	EXPECT(entries(c) <= 20);
	EXPECT(entries(c) > 0);
	cache_free(c);
}

/* put_grant caches user `user`'s grant `role` on experiment "e<res>" of
 * workspace `ws`. */
static void
put_grant_at(struct cache *c, unsigned user, unsigned res, unsigned ws,
    enum role role, uint64_t rev)
{
	char u[37], w[37], id[16];
	id_text(u, 1, user);
	id_text(w, 2, ws);
	snprintf(id, sizeof id, "e%u", res);
	cache_put_grant(c, u, w, "experiment", id, role, rev);
}

static void
put_grant(struct cache *c, unsigned user, unsigned res, unsigned ws,
    enum role role)
{
	put_grant_at(c, user, res, ws, role, 1);
}

/* grant_cached says whether the grant entry is there, its role in *role. */
static bool
grant_cached(struct cache *c, unsigned user, unsigned res, enum role *role)
{
	char u[37], id[16];
	id_text(u, 1, user);
	snprintf(id, sizeof id, "e%u", res);
	uint64_t rev;
	return cache_get_grant(c, u, "experiment", id, role, &rev);
}

/* Grant entries (and "no grant" ones) go with a change to the user in
 * the workspace (a grant, a membership change, a removal), with a change
 * to their resource (a grant on it, its deletion), and with their
 * workspace; nothing else is dropped. */
static void
grant_entries_go_with_user_resource_and_workspace(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 1000, 60000, 1), 0);
	if (c == NULL)
		return;
	/* Users 1 and 2 on resources 1..3 of workspace 1; user 1 on
	 * resource 9 of workspace 2; a membership beside them. */
	for (unsigned u = 1; u <= 2; u++)
		for (unsigned r = 1; r <= 3; r++)
			put_grant(c, u, r, 1, r == 3 ? ROLE_NONE : ROLE_MEMBER);
	put_grant(c, 1, 9, 2, ROLE_ADMIN);
	put_member(c, 1, 1, 1);
	EXPECT_INT(entries(c), 8);
	enum role role = ROLE_ADMIN;
	EXPECT(grant_cached(c, 2, 3, &role));
	EXPECT_INT(role, ROLE_NONE);
	EXPECT(grant_cached(c, 1, 9, &role));
	EXPECT_INT(role, ROLE_ADMIN);

	/* User 1 changed in workspace 1: their membership and grants there. */
	char u1[37], w1[37];
	id_text(u1, 1, 1);
	id_text(w1, 2, 1);
	struct cache_change ch = {.kind = "membership", .workspace_id = w1,
	    .user_id = u1};
	cache_apply(c, &ch, 1, 2);
	EXPECT(!member_cached(c, 1, 1));
	for (unsigned r = 1; r <= 3; r++) {
		EXPECT(!grant_cached(c, 1, r, &role));
		EXPECT(grant_cached(c, 2, r, &role));
	}
	EXPECT(grant_cached(c, 1, 9, &role));
	EXPECT_INT(entries(c), 4);

	/* Resource 2 deleted: every grant on it, and its location. */
	cache_put_resource(c, "experiment", "e2", w1, 2);
	struct cache_change del = {.kind = "resource", .workspace_id = w1,
	    .resource_type = "experiment", .resource_id = "e2"};
	cache_apply(c, &del, 1, 3);
	EXPECT(!grant_cached(c, 2, 2, &role));
	EXPECT(grant_cached(c, 2, 1, &role));
	EXPECT(grant_cached(c, 2, 3, &role));
	char ws[37];
	uint64_t rev;
	EXPECT(!cache_get_resource(c, "experiment", "e2", ws, &rev));
	EXPECT_INT(entries(c), 3);

	/* A resource whose id only starts like another's is another. */
	put_grant_at(c, 2, 22, 1, ROLE_MEMBER, 3);
	struct cache_change e2 = {.kind = "grant", .workspace_id = w1,
	    .resource_type = "experiment", .resource_id = "e2"};
	cache_apply(c, &e2, 1, 4);
	EXPECT(grant_cached(c, 2, 22, &role));

	/* Workspace 2 deleted: user 1's grant there. */
	char w2[37];
	id_text(w2, 2, 2);
	struct cache_change gone = {.kind = "workspace", .workspace_id = w2};
	cache_apply(c, &gone, 1, 5);
	EXPECT(!grant_cached(c, 1, 9, &role));
	EXPECT(grant_cached(c, 2, 1, &role));
	EXPECT_INT(entries(c), 3);
	/* Replaced and evicted grant entries leave both indexes: ASan would
	 * find a freed node on the next drop otherwise. */
	put_grant_at(c, 2, 1, 1, ROLE_ADMIN, 5);
	EXPECT(grant_cached(c, 2, 1, &role));
	EXPECT_INT(role, ROLE_ADMIN);
	urcu_bp_barrier();
	id_text(u1, 1, 2);
	struct cache_change u2 = {.kind = "grant", .workspace_id = w1,
	    .user_id = u1, .resource_type = "experiment", .resource_id = "e1"};
	cache_apply(c, &u2, 1, 6);
	EXPECT_INT(entries(c), 0);
	cache_free(c);
}

static void
grant_entries_leave_the_indexes_when_evicted(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 50, 60000, 1), 0);
	if (c == NULL)
		return;
	for (unsigned r = 0; r < 500; r++)
		put_grant(c, r % 7, r, 1, ROLE_READ_ONLY);
	EXPECT(entries(c) <= 50);
	urcu_bp_barrier();
	char w1[37];
	id_text(w1, 2, 1);
	for (unsigned u = 0; u < 7; u++) {
		char uid[37];
		id_text(uid, 1, u);
		struct cache_change ch = {.kind = "membership",
		    .workspace_id = w1, .user_id = uid};
		cache_apply(c, &ch, 1, 2 + u);
	}
	EXPECT_INT(entries(c), 0);
	cache_free(c);
}

/* An entry read at a revision past what the cache applied (a Check sent
 * with at_least_as_fresh reads the database) is behind no change either:
 * a database that comes back behind that read (a standby promoted
 * without the last writes, which the feeder had not read yet) rewinds the
 * cache, whether the feeder or a write finds it. */
static void
a_database_behind_a_read_rewinds_the_cache(void)
{
	struct cache *c = cache_with_member(); /* applied 5, entry read at 7 */
	if (c == NULL)
		return;
	struct cache_membership got;
	uint64_t rev;
	EXPECT(cache_get_membership(c, USER, WS, &got, &rev));
	EXPECT(!cache_rewind(c, 7)); /* where the read stands: no rewind */
	EXPECT(cache_rewind(c, 5)); /* the feeder finds the database at 5 */
	EXPECT(!cache_get_membership(c, USER, WS, &got, &rev));
	EXPECT_INT(cache_revision(c), 5);
	cache_free(c);

	c = cache_with_member();
	if (c == NULL)
		return;
	cache_note_write(c, 6); /* a write finds it: 6 was given out again */
	EXPECT(!cache_get_membership(c, USER, WS, &got, &rev));
	EXPECT_INT(cache_revision(c), 5);
	cache_free(c);
}

static const struct unit_case cases[] = {
	{"grant_entries_go_with_user_resource_and_workspace",
	    grant_entries_go_with_user_resource_and_workspace},
	{"grant_entries_leave_the_indexes_when_evicted",
	    grant_entries_leave_the_indexes_when_evicted},
	{"eviction_resumes_where_it_stopped",
	    eviction_resumes_where_it_stopped},
	{"hand_moves_off_dropped_entries", hand_moves_off_dropped_entries},
	{"a_write_behind_the_cache_rewinds_it",
	    a_write_behind_the_cache_rewinds_it},
	{"a_database_behind_a_read_rewinds_the_cache",
	    a_database_behind_a_read_rewinds_the_cache},
	{"workspace_change_drops_only_its_entries",
	    workspace_change_drops_only_its_entries},
	{"key_change_drops_every_entry_of_the_key",
	    key_change_drops_every_entry_of_the_key},
	{"replaced_entries_leave_the_indexes",
	    replaced_entries_leave_the_indexes},
	{"evicted_entries_leave_the_indexes", evicted_entries_leave_the_indexes},
	{"ids_find_what_text_stored", ids_find_what_text_stored},
	{"ids_miss_other_pairs", ids_miss_other_pairs},
	{"ids_miss_in_a_disabled_cache", ids_miss_in_a_disabled_cache},
	{"keys_beside_memberships", keys_beside_memberships},
};

UNIT_MAIN(cases)
