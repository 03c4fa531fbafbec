/* The activity chain's canonical encoding and keyed hash (see chain.h). */
#include "base/chain.h"

#include <string.h>

/* Names the encoding, so that no other use of the key can produce a hash
 * that passes for a record's; a new encoding gets a new tag. */
static const char CHAIN_TAG[] = "exe-access activity chain v1";

static void
chain_put_u64(crypto_generichash_state *st, uint64_t v)
{
	unsigned char b[8];
	for (int i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	crypto_generichash_update(st, b, sizeof b);
}

static void
chain_put_text(crypto_generichash_state *st, const char *s)
{
	unsigned char present = s != NULL;
	crypto_generichash_update(st, &present, 1);
	if (s == NULL)
		return;
	size_t len = strlen(s);
	unsigned char b[4] = {(unsigned char)(len >> 24),
	    (unsigned char)(len >> 16), (unsigned char)(len >> 8),
	    (unsigned char)len};
	crypto_generichash_update(st, b, sizeof b);
	crypto_generichash_update(st, (const unsigned char *)s, len);
}

void
chain_hash(const unsigned char *key, const struct chain_record *r,
    unsigned char out[CHAIN_HASH_BYTES])
{
	static const unsigned char zeros[CHAIN_HASH_BYTES];
	crypto_generichash_state st;
	crypto_generichash_init(&st, key, CHAIN_KEY_BYTES, CHAIN_HASH_BYTES);
	chain_put_text(&st, CHAIN_TAG);
	chain_put_u64(&st, r->seq);
	crypto_generichash_update(
	    &st, r->prev != NULL ? r->prev : zeros, CHAIN_HASH_BYTES);
	chain_put_u64(&st, (uint64_t)r->id);
	chain_put_u64(&st, r->revision);
	chain_put_u64(&st, (uint64_t)r->at_us);
	chain_put_u64(&st, r->scope_prev);
	chain_put_text(&st, r->workspace_id);
	chain_put_text(&st, r->organization_id);
	chain_put_text(&st, r->actor_user_id);
	chain_put_text(&st, r->actor_api_key_id);
	chain_put_text(&st, r->action);
	chain_put_text(&st, r->resource_type);
	chain_put_text(&st, r->resource_id);
	chain_put_text(&st, r->detail);
	crypto_generichash_final(&st, out, CHAIN_HASH_BYTES);
	sodium_memzero(&st, sizeof st);
}

bool
chain_hash_equal(const unsigned char *a, const unsigned char *b)
{
	return sodium_memcmp(a, b, CHAIN_HASH_BYTES) == 0;
}
