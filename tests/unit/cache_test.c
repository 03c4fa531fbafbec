/* Unit tests of cache lookups by parsed ids: cache_get_membership_ids finds
 * what cache_put_membership stored under the ids' text (in either case),
 * misses everything else, and API key entries are still found by their
 * hash beside memberships. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cache.h"
#include "unit.h"
#include "validate.h"

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
	struct cache_membership m = {true, false, ROLE_MEMBER};
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
	struct cache_membership m = {true, false, ROLE_ADMIN}, got;
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
	struct cache_key k;
	memset(&k, 0, sizeof k);
	memcpy(k.key_id, OTHER, sizeof k.key_id);
	memcpy(k.workspace_id, WS, sizeof k.workspace_id);
	k.read_only = true;
	cache_put_key(c, hash, sizeof hash, &k, 8);
	struct cache_key got;
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

static const struct unit_case cases[] = {
	{"ids_find_what_text_stored", ids_find_what_text_stored},
	{"ids_miss_other_pairs", ids_miss_other_pairs},
	{"ids_miss_in_a_disabled_cache", ids_miss_in_a_disabled_cache},
	{"keys_beside_memberships", keys_beside_memberships},
};

UNIT_MAIN(cases)
