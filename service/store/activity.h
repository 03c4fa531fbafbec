/* SQL for reading the activity log (SPEC R7). Records are written only by
 * db_record_change, one per revision, and have no foreign keys, so they
 * outlive the member's removal. Results are built in the call's arena. */
#ifndef EXE_STORE_ACTIVITY_H
#define EXE_STORE_ACTIVITY_H

#include <stdbool.h>
#include <stdint.h>

#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/call.h"

/* store_activity_get reads the record that revision `revision` wrote in
 * `workspace_id` (in the caller's transaction, so an uncommitted one is
 * found too). STATUS_INTERNAL when there is none. */
int store_activity_get(struct call *call, const char *workspace_id,
    uint64_t revision, Exe__Access__V1__ActivityRecord **out)
    __attribute__((warn_unused_result));

/* Whose records store_activity_list reads. */
enum activity_of {
	ACTIVITY_OF_WORKSPACE,    /* filed under the workspace */
	ACTIVITY_OF_ORGANIZATION, /* filed under the organisation */
};

/* store_activity_list fills `resp` with up to `limit` records of the
 * workspace or organisation `id`, newest first, older than record
 * `before_id` (decimal text; NULL for the first page). Sets
 * resp->next_page_token when more follow. */
int store_activity_list(struct call *call, enum activity_of of,
    const char *id, const char *before_id, uint32_t limit,
    Exe__Access__V1__ListActivityResponse *resp)
    __attribute__((warn_unused_result));

/* store_activity_deleted_org finds the organisation of the deleted team
 * workspace `workspace_id` from its workspace.deleted record, into
 * `org_id` (37 bytes); *found is false when the workspace has no such
 * record (it was never deleted, or never existed). */
int store_activity_deleted_org(struct call *call, const char *workspace_id,
    bool *found, char *org_id) __attribute__((warn_unused_result));

#endif
