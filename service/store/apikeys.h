/* SQL for workspace API keys (SPEC R10): rotating a workspace's key and
 * reading what GetApiKey may show. Secrets never reach this module: it
 * stores and reads only their keyed hashes and display prefixes. Results
 * are built in the call's arena. */
#ifndef EXE_STORE_APIKEYS_H
#define EXE_STORE_APIKEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

/* The key a rotation puts in place. */
struct new_key {
	const char *hash_hex;   /* keyed hash of the secret, bytea text */
	const char *display;    /* the visible prefix of the secret */
	bool read_only;
	uint32_t grace_seconds; /* how long the old key keeps working */
};

/* store_apikey_rotate makes the workspace's current key expire after the
 * grace period (at once for 0) and inserts `k` as the current key. The
 * caller must hold the workspace row FOR UPDATE, so that rotations of one
 * workspace run one after the other. *old_key_id is the id of the key that
 * was current (arena string), or NULL when the workspace had none; *out is
 * the new key's info. */
int store_apikey_rotate(struct call *call, const char *workspace_id,
    const struct new_key *k, const char **old_key_id,
    Exe__Access__V1__ApiKeyInfo **out) __attribute__((warn_unused_result));

/* store_apikey_get fills resp->key with the workspace's current key and
 * resp->previous with the rotated keys still in their grace period, the
 * one working longest first. STATUS_NOT_FOUND (with a message) when the
 * workspace has no current key. */
int store_apikey_get(struct call *call, const char *workspace_id,
    Exe__Access__V1__GetApiKeyResponse *resp)
    __attribute__((warn_unused_result));

#endif
