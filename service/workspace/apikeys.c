/* Workspace API keys (SPEC R10): rotation returns the new secret once and
 * lets the old one work on for the grace period the admin chose (0 to
 * 24 h); GetApiKey shows prefixes, times and the keys still in their
 * grace period, never a secret. The secret lives in the call's guarded
 * memory (call_secret) and reaches the database only as its keyed hash;
 * SQL in store/apikeys.c. */
#include "workspace/apikeys.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "base/secrets.h"
#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/validate.h"
#include "store/apikeys.h"
#include "store/db.h"
#include "workspace/actor.h"

/* The longest grace period an admin may give the old key: 24 hours. */
enum { GRACE_SECONDS_MAX = 86400 };

int
apikeys_rotate_validate(struct call *call)
{
	const Exe__Access__V1__RotateApiKeyRequest *req =
	    (const void *)call->request;
	int rc = STATUS_OK;
	if (req->grace_seconds > GRACE_SECONDS_MAX)
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "grace_seconds: %u is over the limit of %d (24 hours); "
		    "give 0 to stop the old key at once",
		    req->grace_seconds, GRACE_SECONDS_MAX);
	call->code = rc;
	return rc;
}

static int
rotate_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	const Exe__Access__V1__RotateApiKeyRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__RotateApiKeyResponse *resp = (void *)call->response;
	/* FOR UPDATE rather than SHARE: two rotations of one workspace must
	 * run one after the other, or the second would not see the key the
	 * first made current. */
	struct decision d;
	int rc = actor_require(call, req->actor, req->workspace_id,
	    "api_key.rotate", STORE_LOCK_UPDATE, &d);
	if (rc != STATUS_OK)
		return rc;

	struct secret_stored stored;
	secret_stored_form(resp->secret, call->svc->hash_key, &stored);
	struct new_key k = {
	    .hash_hex = stored.hash_hex,
	    .display = stored.display,
	    .read_only = req->read_only,
	    .grace_seconds = req->grace_seconds,
	};
	const char *old_key_id;
	rc = store_apikey_rotate(call, req->workspace_id, &k, &old_key_id,
	    &resp->key);
	if (rc != STATUS_OK)
		return rc;

	char detail[160];
	if (old_key_id == NULL)
		snprintf(detail, sizeof detail, "first key %s%s",
		    resp->key->key_id, k.read_only ? " (read-only)" : "");
	else if (k.grace_seconds == 0)
		snprintf(detail, sizeof detail,
		    "new key %s%s; the old key stopped at once",
		    resp->key->key_id, k.read_only ? " (read-only)" : "");
	else
		snprintf(detail, sizeof detail,
		    "new key %s%s; the old key works %u more seconds",
		    resp->key->key_id, k.read_only ? " (read-only)" : "",
		    k.grace_seconds);
	/* The change names the old key, so caches drop what they hold
	 * about it; a first key has no predecessor, so it names itself. */
	struct db_change change = {
	    .kind = "api_key",
	    .workspace_id = req->workspace_id,
	    .api_key_id = old_key_id != NULL ? old_key_id : resp->key->key_id,
	    .action = "api_key.rotated",
	    .detail = detail,
	};
	actor_fill_change(req->actor, &d, &change);
	return db_record_change(conn, &change, &resp->revision);
}

int
apikeys_rotate(struct call *call)
{
	Exe__Access__V1__RotateApiKeyResponse *resp =
	    (void *)call_response(call);
	char *secret = call_secret(call, SECRET_API_KEY_LEN + 1);
	if (resp == NULL || secret == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	/* Made once, outside the transaction: a retried transaction stores
	 * the same secret's hash. */
	secret_generate(SECRET_API_KEY, secret);
	resp->secret = secret;
	return db_call_txn(call, rotate_txn);
}

int
apikeys_get(struct call *call)
{
	const Exe__Access__V1__GetApiKeyRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__GetApiKeyResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__GetApiKeyResponse,
	    exe__access__v1__get_api_key_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	struct decision d;
	int rc = actor_require(call, req->actor, req->workspace_id,
	    "api_key.view", STORE_LOCK_NONE, &d);
	if (rc == STATUS_OK)
		rc = store_apikey_get(call, req->workspace_id, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
