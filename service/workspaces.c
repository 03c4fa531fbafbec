/* Workspace methods: inputs, paging and responses; SQL in
 * store_workspaces.c. */
#include "workspaces.h"

#include "exe/access/v1/workspace.pb-c.h"
#include "paging.h"
#include "status.h"
#include "store_workspaces.h"
#include "validate.h"

int
workspaces_list_validate(struct call *call)
{
	const Exe__Access__V1__ListWorkspacesRequest *req =
	    (const Exe__Access__V1__ListWorkspacesRequest *)call->request;
	uint32_t size;
	int rc = validate_uuid("user_id", req->user_id, true, call->message,
	    sizeof call->message);
	if (rc == STATUS_OK)
		rc = paging_size(call, req->page_size, &size);
	call->code = rc;
	return rc;
}

int
workspaces_list(struct call *call)
{
	const Exe__Access__V1__ListWorkspacesRequest *req =
	    (const Exe__Access__V1__ListWorkspacesRequest *)call->request;
	Exe__Access__V1__ListWorkspacesResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListWorkspacesResponse,
	    exe__access__v1__list_workspaces_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	uint32_t size;
	char *after[3];
	int rc = paging_size(call, req->page_size, &size);
	if (rc == STATUS_OK)
		rc = paging_decode(call, req->page_token, after, 3);
	char ignored[8];
	if (rc == STATUS_OK && after[0] != NULL &&
	    ((after[0][0] != '0' && after[0][0] != '1') || after[0][1] != '\0' ||
	        validate_uuid("", after[2], true, ignored, sizeof ignored) !=
	            STATUS_OK))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned");
	if (rc == STATUS_OK)
		rc = store_workspaces_list(call, req->user_id, after, size, resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
