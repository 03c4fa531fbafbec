/* VerifyActivity: the whole log, one workspace's records or an
 * organisation's own, walked in one snapshot (store/chain.c), answered
 * with the first break and the head. For admin-scoped callers only: it
 * names records and places, and no actor is asked for. */
#include "workspace/verify.h"

#include <stdint.h>
#include <string.h>

#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/validate.h"
#include "store/chain.h"
#include "store/db.h"

int
verify_activity_validate(struct call *call)
{
	const Exe__Access__V1__VerifyActivityRequest *req =
	    (const void *)call->request;
	int rc = STATUS_OK;
	if (req->workspace_id[0] != '\0' && req->organization_id[0] != '\0')
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "workspace_id, organization_id: give at most one (neither: "
		    "the whole log)");
	if (rc == STATUS_OK)
		rc = validate_uuid("workspace_id", req->workspace_id, false,
		    call->message, sizeof call->message);
	if (rc == STATUS_OK)
		rc = validate_uuid("organization_id", req->organization_id,
		    false, call->message, sizeof call->message);
	bool scoped =
	    req->workspace_id[0] != '\0' || req->organization_id[0] != '\0';
	if (rc == STATUS_OK &&
	    (req->anchor_seq != 0 || req->anchor_hash.len != 0)) {
		if (scoped)
			rc = call_fail(call, STATUS_INVALID_ARGUMENT,
			    "anchor_seq: an anchor is the whole log's head; "
			    "give no workspace_id or organization_id with it");
		else if (req->anchor_seq == 0)
			rc = call_fail(call, STATUS_INVALID_ARGUMENT,
			    "anchor_seq: give the place of the anchored head "
			    "(1 or more) with anchor_hash");
		else if (req->anchor_seq > INT64_MAX)
			rc = call_fail(call, STATUS_INVALID_ARGUMENT,
			    "anchor_seq: %llu is past any place in the log (at "
			    "most %lld)", (unsigned long long)req->anchor_seq,
			    (long long)INT64_MAX);
		else if (req->anchor_hash.len != CHAIN_HASH_BYTES)
			rc = call_fail(call, STATUS_INVALID_ARGUMENT,
			    "anchor_hash: must be the %d bytes of a head_hash, "
			    "not %zu",
			    CHAIN_HASH_BYTES, req->anchor_hash.len);
	}
	call->code = rc;
	return rc;
}

static int
verify_txn(PGconn *conn, void *arg)
{
	(void)conn;
	struct call *call = arg;
	const Exe__Access__V1__VerifyActivityRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__VerifyActivityResponse *resp = (void *)call->response;
	struct chain_anchor anchor = {.seq = req->anchor_seq};
	if (req->anchor_seq != 0)
		memcpy(anchor.hash, req->anchor_hash.data, sizeof anchor.hash);
	struct chain_report r;
	int rc = chain_verify(call, call->svc->activity_key,
	    req->workspace_id[0] != '\0' ? req->workspace_id : NULL,
	    req->organization_id[0] != '\0' ? req->organization_id : NULL,
	    req->anchor_seq != 0 ? &anchor : NULL, &r);
	if (rc != STATUS_OK)
		return rc;
	unsigned char *head = call_new(call, sizeof r.head);
	if (head == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	memcpy(head, r.head, sizeof r.head);
	resp->intact = r.intact;
	resp->count = r.count;
	resp->head_hash.data = head;
	resp->head_hash.len = sizeof r.head;
	resp->head_seq = r.head_seq;
	if (r.intact)
		return STATUS_OK;
	Exe__Access__V1__ActivityBreak *b =
	    CALL_MSG(call, Exe__Access__V1__ActivityBreak,
	        exe__access__v1__activity_break__init);
	if (b == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	b->kind = r.kind;
	b->chain_seq = r.break_seq;
	b->record_id = call_strdup(call, r.record_id);
	b->message = call_strdup(call, r.message);
	if (b->record_id == NULL || b->message == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	resp->first_break = b;
	return STATUS_OK;
}

int
verify_activity(struct call *call)
{
	if (call->svc->activity_key == NULL)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "this service runs without an activity key");
	return db_call_txn(call, verify_txn);
}
