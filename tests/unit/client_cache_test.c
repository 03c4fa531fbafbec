/* Unit tests of the client library's local cache (client/local_cache.c)
 * on its own, without a service: the insert rule against the applied
 * revision, and a resync that lowers the applied revision. (The stamp a
 * hit carries under a racing feed is the cache table's, held by
 * cachetab_test.) */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "local_cache.h"
#include "unit.h"

#define USER "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90"
#define WS "123e4567-e89b-12d3-a456-426614174000"

/* new_cache makes a synced cache (lookups may answer) and the bytes of
 * USER and WS; NULL if it cannot. */
static struct local_cache *
new_cache(unsigned char user[16], unsigned char ws[16])
{
	struct local_cache *c = NULL;
	EXPECT_INT(local_cache_new(&c, 100, 60000), 0);
	if (c == NULL)
		return NULL;
	if (!local_cache_uuid(USER, user) || !local_cache_uuid(WS, ws)) {
		EXPECT(!"the test's ids parse");
		local_cache_free(c);
		return NULL;
	}
	local_cache_resync(c, 1);
	return c;
}

/* An answer older than a change already applied is not kept; one at the
 * applied revision or newer is, stamped with the newer of the two. */
static void
stale_answers_are_not_stored(void)
{
	unsigned char user[16], ws[16];
	struct local_cache *c = new_cache(user, ws);
	if (c == NULL)
		return;
	local_cache_apply(c, NULL, 0, 10, true);
	struct local_membership m = {true, ROLE_MEMBER}, got;
	uint64_t rev;
	local_cache_put_membership(c, user, ws, &m, 9);
	EXPECT(!local_cache_get_membership(c, user, ws, 0, &got, &rev));
	local_cache_put_membership(c, user, ws, &m, 10);
	EXPECT(local_cache_get_membership(c, user, ws, 0, &got, &rev));
	EXPECT_INT(rev, 10);
	EXPECT_INT(got.role, ROLE_MEMBER);
	local_cache_apply(c, NULL, 0, 12, true); /* touched nothing of it */
	EXPECT(local_cache_get_membership(c, user, ws, 0, &got, &rev));
	EXPECT_INT(rev, 12);
	struct local_change ch = {.kind = "membership", .workspace_id = WS,
	    .user_id = USER};
	local_cache_apply(c, &ch, 1, 13, true);
	EXPECT(!local_cache_get_membership(c, user, ws, 0, &got, &rev));
	local_cache_free(c);
}

/* A resync to a lower revision (a database behind what was applied)
 * drops everything, and the numbers below it count again. */
static void
a_resync_to_a_lower_revision_drops_everything(void)
{
	unsigned char user[16], ws[16];
	struct local_cache *c = new_cache(user, ws);
	if (c == NULL)
		return;
	struct local_membership m = {true, ROLE_ADMIN}, got;
	uint64_t rev;
	local_cache_put_membership(c, user, ws, &m, 20);
	EXPECT_INT(local_cache_seen(c), 20);
	local_cache_resync(c, 15);
	EXPECT(!local_cache_get_membership(c, user, ws, 0, &got, &rev));
	EXPECT_INT(local_cache_applied(c), 15);
	EXPECT_INT(local_cache_seen(c), 15);
	local_cache_put_membership(c, user, ws, &m, 16);
	EXPECT(local_cache_get_membership(c, user, ws, 0, &got, &rev));
	EXPECT_INT(rev, 16);
	/* A caller that found the cache usable for revision 18 before the
	 * resync gets no answer stamped below it. */
	EXPECT(!local_cache_get_membership(c, user, ws, 18, &got, &rev));
	EXPECT(local_cache_get_membership(c, user, ws, 16, &got, &rev));
	local_cache_free(c);
}

static const struct unit_case cases[] = {
	{"stale_answers_are_not_stored", stale_answers_are_not_stored},
	{"a_resync_to_a_lower_revision_drops_everything",
	    a_resync_to_a_lower_revision_drops_everything},
};

UNIT_MAIN(cases)
