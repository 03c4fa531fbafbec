/* ReadChanges: validation (the cursor, the revision to start after) and
 * the page, built from store/changes.h's one-snapshot read. */
#include "authz/changes.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "exe/access/v1/authz.pb-c.h"
#include "rpc/paging.h"
#include "store/changes.h"

/* changes_after parses a cursor's revision; false if it is not one (the
 * log's revisions are PostgreSQL bigints: none is past INT64_MAX). */
static bool
changes_after(const char *text, uint64_t *out)
{
	if (text[0] < '0' || text[0] > '9' || strlen(text) > 20)
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (*end != '\0' || errno == ERANGE || v > INT64_MAX)
		return false;
	*out = v;
	return true;
}

int
changes_read_validate(struct call *call)
{
	const Exe__Access__V1__ReadChangesRequest *req =
	    (const void *)call->request;
	uint64_t *after = call_new(call, sizeof *after);
	if (after == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	*after = req->after_revision;
	if (req->page_token[0] != '\0') {
		char *part;
		int rc = paging_decode(call, req->page_token, &part, 1);
		if (rc != STATUS_OK)
			return rc;
		if (!changes_after(part, after))
			return call_fail(call, STATUS_INVALID_ARGUMENT,
			    "page_token: not a token this method returned");
	}
	/* Only a standby that has applied it may answer: one behind would
	 * call it unwritten. */
	call->at_least_as_fresh = req->at_least_as_fresh > *after
	    ? req->at_least_as_fresh
	    : *after;
	if (req->current_only)
		call->at_least_as_fresh = req->at_least_as_fresh;
	call->parsed = after;
	return STATUS_OK;
}

/* changes_text copies a column, or NULL (the field stays empty). */
static char *
changes_text(struct call *call, PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col)
	    ? (char *)protobuf_c_empty_string
	    : call_strdup(call, PQgetvalue(res, row, col));
}

/* changes_fill puts the first `shown` rows of the page into resp. */
static int
changes_fill(struct call *call, PGresult *res, int shown,
    Exe__Access__V1__ReadChangesResponse *resp)
{
	resp->changes = call_new(call, sizeof *resp->changes * (size_t)(shown + 1));
	if (resp->changes == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	for (int i = 0; i < shown; i++) {
		Exe__Access__V1__Change *c = CALL_MSG(call,
		    Exe__Access__V1__Change, exe__access__v1__change__init);
		if (c == NULL)
			return call_fail(call, STATUS_INTERNAL, "out of memory");
		c->revision = strtoull(PQgetvalue(res, i, STORE_CHANGE_REVISION),
		    NULL, 10);
		c->changed_unix_ms = strtoll(PQgetvalue(res, i,
		    STORE_CHANGE_AT_MS), NULL, 10);
		c->kind = changes_text(call, res, i, STORE_CHANGE_KIND);
		c->workspace_id = changes_text(call, res, i,
		    STORE_CHANGE_WORKSPACE);
		c->user_id = changes_text(call, res, i, STORE_CHANGE_USER);
		c->api_key_id = changes_text(call, res, i, STORE_CHANGE_API_KEY);
		c->organization_id = changes_text(call, res, i,
		    STORE_CHANGE_ORGANIZATION);
		if (!PQgetisnull(res, i, STORE_CHANGE_RESOURCE_TYPE)) {
			Exe__Access__V1__ResourceRef *ref = CALL_MSG(call,
			    Exe__Access__V1__ResourceRef,
			    exe__access__v1__resource_ref__init);
			if (ref == NULL)
				return call_fail(call, STATUS_INTERNAL,
				    "out of memory");
			ref->type = changes_text(call, res, i,
			    STORE_CHANGE_RESOURCE_TYPE);
			ref->id = changes_text(call, res, i,
			    STORE_CHANGE_RESOURCE_ID);
			c->resource = ref;
		}
		if (c->kind == NULL || c->workspace_id == NULL ||
		    c->user_id == NULL || c->api_key_id == NULL ||
		    c->organization_id == NULL)
			return call_fail(call, STATUS_INTERNAL, "out of memory");
		resp->changes[i] = c;
		resp->n_changes = (size_t)i + 1;
	}
	return STATUS_OK;
}

int
changes_read(struct call *call)
{
	const Exe__Access__V1__ReadChangesRequest *req =
	    (const void *)call->request;
	uint64_t after = *(const uint64_t *)call->parsed;
	uint32_t limit = req->current_only ? 0 : call->page_size;
	Exe__Access__V1__ReadChangesResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ReadChangesResponse,
	    exe__access__v1__read_changes_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	struct store_changes page;
	/* One more than the page: whether more follow. */
	int rc = store_changes_read(call->db, req->current_only ? 0 : after,
	    limit == 0 ? 0 : limit + 1, &page);
	if (rc != STATUS_OK)
		return call_fail(call, rc, "the change log could not be read");
	if (call->on_replica && page.current < call->at_least_as_fresh) {
		PQclear(page.res);
		return call_not_fresh(call, call->at_least_as_fresh,
		    page.current);
	}
	resp->pruned_through = page.pruned_through;
	resp->revision = page.current;
	if (req->current_only) {
		PQclear(page.res);
		call->response = &resp->base;
		return STATUS_OK;
	}
	/* The field the caller gave the revision in. */
	const char *field =
	    req->page_token[0] != '\0' ? "page_token" : "after_revision";
	if (after > page.current) {
		PQclear(page.res);
		if (call->on_replica)
			return call_not_fresh(call, after, page.current);
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "%s: revision %llu has not been written (the "
		    "database stands at %llu; after a failover it may have lost "
		    "the last writes): drop everything learned from the change "
		    "log and resynchronise from the current revision %llu",
		    field, (unsigned long long)after,
		    (unsigned long long)page.current,
		    (unsigned long long)page.current);
	}
	if (after < page.pruned_through) {
		PQclear(page.res);
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "%s: the change log no longer holds the changes "
		    "after revision %llu (retention has pruned it through "
		    "revision %llu): drop everything learned from it and "
		    "resynchronise from the current revision %llu",
		    field, (unsigned long long)after,
		    (unsigned long long)page.pruned_through,
		    (unsigned long long)page.current);
	}
	int shown = page.n > (int)limit ? (int)limit : page.n;
	rc = changes_fill(call, page.res, shown, resp);
	if (rc == STATUS_OK && page.n > (int)limit) {
		char last[24];
		snprintf(last, sizeof last, "%llu",
		    (unsigned long long)resp->changes[shown - 1]->revision);
		const char *parts[] = {last};
		resp->revision = resp->changes[shown - 1]->revision;
		resp->next_page_token = paging_encode(call, parts, 1);
		if (resp->next_page_token == NULL)
			rc = call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	PQclear(page.res);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
