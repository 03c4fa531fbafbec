/* Workspace methods: inputs, paging and responses; SQL in
 * store/workspaces.c. */
#include "workspace/workspaces.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/secrets.h"
#include "base/status.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "store/apikeys.h"
#include "store/db.h"
#include "store/users.h"
#include "store/workspaces.h"
#include "workspace/actor.h"

int
workspaces_list_validate(struct call *call)
{
	const Exe__Access__V1__ListWorkspacesRequest *req =
	    (const Exe__Access__V1__ListWorkspacesRequest *)call->request;
	int rc = validate_uuid("user_id", req->user_id, true, call->message,
	    sizeof call->message);
	if (rc == STATUS_OK)
		rc = actor_or_service(call, req->actor,
		    "list a user's workspaces");
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
	size = call->page_size;
	int rc = paging_decode(call, req->page_token, after, 3);
	char ignored[8];
	if (rc == STATUS_OK && after[0] != NULL &&
	    ((after[0][0] != '0' && after[0][0] != '1') || after[0][1] != '\0' ||
	        validate_uuid("", after[2], true, ignored, sizeof ignored) !=
	            STATUS_OK))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "page_token: not a token this method returned");
	/* Someone else sees what they may of the user (see the .proto);
	 * one they may not read is as unknown as a user who is not. */
	const char *viewer = req->actor != NULL &&
	        strcasecmp(req->actor->user_id, req->user_id) != 0
	    ? req->actor->user_id
	    : NULL;
	bool visible = true;
	if (rc == STATUS_OK && viewer != NULL)
		rc = store_user_visible(call, viewer, req->user_id, &visible);
	if (rc == STATUS_OK && !visible)
		rc = call_fail(call, STATUS_NOT_FOUND, "no user with id \"%s\"",
		    req->user_id);
	if (rc == STATUS_OK)
		rc = store_workspaces_list(call, req->user_id, viewer, after, size,
		    resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}

/* Limits on a workspace's settings. */
enum {
	SETTINGS_MAX = 64,
	SETTING_KEY_MAX = 64,
	SETTING_VALUE_MAX = 1024,
};

int
workspaces_create_team_validate(struct call *call)
{
	const Exe__Access__V1__CreateTeamWorkspaceRequest *req =
	    (const void *)call->request;
	int rc = validate_uuid("organization_id", req->organization_id, true,
	    call->message, sizeof call->message);
	if (rc == STATUS_OK)
		rc = validate_text("name", req->name, LIMIT_NAME, true,
		    call->message, sizeof call->message);
	if (rc == STATUS_OK)
		rc = validate_uuid("first_admin_user_id", req->first_admin_user_id,
		    false, call->message, sizeof call->message);
	call->code = rc;
	return rc;
}

static int
create_team_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	const Exe__Access__V1__CreateTeamWorkspaceRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__CreateTeamWorkspaceResponse *resp =
	    (void *)call->response;
	const char *first = req->first_admin_user_id[0] != '\0'
	    ? req->first_admin_user_id
	    : req->actor->user_id;
	int rc = actor_require_org_admin(call, req->actor, req->organization_id,
	    STORE_LOCK_SHARE);
	if (rc == STATUS_OK)
		rc = store_user_require(call, "first_admin_user_id", first);
	if (rc == STATUS_OK)
		rc = store_workspace_create_team(call, req->organization_id,
		    req->name, first, &resp->workspace);
	/* Every workspace has its own API key (SPEC §1), from the start. */
	struct secret_stored stored;
	secret_stored_form(resp->api_key, call->svc->hash_key, &stored);
	struct new_key key = {.hash_hex = stored.hash_hex,
	    .display = stored.display};
	const char *no_old_key;
	Exe__Access__V1__ApiKeyInfo *info;
	if (rc == STATUS_OK)
		rc = store_apikey_rotate(call, resp->workspace->id, &key,
		    &no_old_key, &info);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "workspace",
	    .organization_id = req->organization_id,
	    .workspace_id = resp->workspace->id,
	    .user_id = first,
	    .action = "workspace.created",
	    .detail = req->name,
	};
	actor_fill_change(req->actor, NULL, &change);
	return db_record_change(conn, &change, &resp->revision);
}

int
workspaces_create_team(struct call *call)
{
	Exe__Access__V1__CreateTeamWorkspaceResponse *resp =
	    (void *)call_response(call);
	/* Made once, outside the transaction, so a retry stores the hash of
	 * the secret the caller receives. */
	char *secret = call_secret(call, SECRET_API_KEY_LEN + 1);
	if (resp == NULL || secret == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	secret_generate(SECRET_API_KEY, secret);
	resp->api_key = secret;
	return db_call_txn(call, create_team_txn);
}

int
workspaces_get(struct call *call)
{
	const Exe__Access__V1__GetWorkspaceRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__GetWorkspaceResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__GetWorkspaceResponse,
	    exe__access__v1__get_workspace_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	struct decision d;
	int rc = actor_require(call, req->actor, req->workspace_id,
	    "workspace.view", STORE_LOCK_NONE, &d);
	if (rc == STATUS_OK)
		rc = store_workspace_get(call, req->workspace_id, &resp->workspace);
	if (rc != STATUS_OK)
		return rc;
	resp->role = (Exe__Access__V1__Role)d.role;
	call->response = &resp->base;
	return STATUS_OK;
}

static bool
setting_key_ok(const char *key)
{
	size_t len = strlen(key);
	if (len == 0 || len > SETTING_KEY_MAX)
		return false;
	for (const char *p = key; *p != '\0'; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return false;
	}
	return true;
}

int
workspaces_update_validate(struct call *call)
{
	const Exe__Access__V1__UpdateWorkspaceSettingsRequest *req =
	    (const void *)call->request;
	int rc = validate_text("name", req->name, LIMIT_NAME, false,
	    call->message, sizeof call->message);
	if (rc != STATUS_OK)
		return rc;
	if (req->n_set > SETTINGS_MAX || req->n_unset > SETTINGS_MAX)
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "%s: at most %d settings in one request",
		    req->n_set > SETTINGS_MAX ? "set" : "unset", SETTINGS_MAX);
	for (size_t i = 0; i < req->n_set; i++) {
		const Exe__Access__V1__Setting *s = req->set[i];
		if (!setting_key_ok(s->key))
			return call_fail(call, STATUS_INVALID_ARGUMENT,
			    "set[%zu].key: must be 1 to %d letters, digits, '.', "
			    "'-' or '_'", i, SETTING_KEY_MAX);
		char field[32];
		snprintf(field, sizeof field, "set[%zu].value", i);
		rc = validate_text(field, s->value, SETTING_VALUE_MAX, false,
		    call->message, sizeof call->message);
		if (rc != STATUS_OK)
			return call->code = rc;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(req->set[k]->key, s->key) == 0)
				return call_fail(call, STATUS_INVALID_ARGUMENT,
				    "set[%zu].key: \"%s\" is set twice", i, s->key);
		}
	}
	for (size_t i = 0; i < req->n_unset; i++) {
		if (!setting_key_ok(req->unset[i]))
			return call_fail(call, STATUS_INVALID_ARGUMENT,
			    "unset[%zu]: not a setting key", i);
	}
	if (req->name[0] == '\0' && req->n_set == 0 && req->n_unset == 0)
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "name, set, unset: nothing to change");
	return STATUS_OK;
}

/* settings_json turns the request's set and unset lists into the JSON the
 * UPDATE takes (strings malloc'd by jansson; the caller frees them). */
static int
settings_json(struct call *call,
    const Exe__Access__V1__UpdateWorkspaceSettingsRequest *req, char **set,
    char **unset)
{
	json_t *obj = json_object();
	json_t *arr = json_array();
	for (size_t i = 0; i < req->n_set; i++)
		json_object_set_new(obj, req->set[i]->key,
		    json_string(req->set[i]->value));
	for (size_t i = 0; i < req->n_unset; i++)
		json_array_append_new(arr, json_string(req->unset[i]));
	*set = json_dumps(obj, JSON_COMPACT);
	*unset = json_dumps(arr, JSON_COMPACT);
	json_decref(obj);
	json_decref(arr);
	if (*set == NULL || *unset == NULL) {
		free(*set);
		free(*unset);
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	}
	return STATUS_OK;
}

static int
update_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	const Exe__Access__V1__UpdateWorkspaceSettingsRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__UpdateWorkspaceSettingsResponse *resp =
	    (void *)call->response;
	struct decision d;
	int rc = actor_require(call, req->actor, req->workspace_id,
	    "workspace.settings.update", STORE_LOCK_UPDATE, &d);
	if (rc != STATUS_OK)
		return rc;
	if (req->name[0] != '\0' && d.standing.personal)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "name: a personal workspace keeps its name, "
		    "\"{username}'s Workspace\"");
	char *set, *unset;
	if ((rc = settings_json(call, req, &set, &unset)) != STATUS_OK)
		return rc;
	long count = 0;
	rc = store_workspace_update(call, req->workspace_id,
	    req->name[0] != '\0' ? req->name : NULL, set, unset, &count);
	free(set);
	free(unset);
	if (rc == STATUS_OK && count > SETTINGS_MAX)
		rc = call_fail(call, STATUS_FAILED_PRECONDITION,
		    "set: the workspace would have %ld settings, the limit is "
		    "%d; unset some first", count, SETTINGS_MAX);
	if (rc == STATUS_OK)
		rc = store_workspace_get(call, req->workspace_id, &resp->workspace);
	if (rc != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "workspace",
	    .workspace_id = req->workspace_id,
	    .action = "workspace.settings_updated",
	};
	actor_fill_change(req->actor, &d, &change);
	return db_record_change(conn, &change, &resp->revision);
}

int
workspaces_update(struct call *call)
{
	return db_call_txn(call, update_txn);
}

static int
workspaces_delete_txn(PGconn *conn, void *arg)
{
	struct call *call = arg;
	const Exe__Access__V1__DeleteWorkspaceRequest *req =
	    (const void *)call->request;
	Exe__Access__V1__WriteResponse *resp = (void *)call->response;
	struct decision d;
	int rc = actor_require(call, req->actor, req->workspace_id,
	    "workspace.delete", STORE_LOCK_UPDATE, &d);
	if (rc != STATUS_OK)
		return rc;
	if (d.standing.personal)
		return call_fail(call, STATUS_FAILED_PRECONDITION,
		    "workspace %s is a personal workspace; only team workspaces "
		    "can be deleted", req->workspace_id);
	if ((rc = store_workspace_delete(call, req->workspace_id)) != STATUS_OK)
		return rc;
	struct db_change change = {
	    .kind = "workspace",
	    .workspace_id = req->workspace_id,
	    .organization_id = d.standing.organization_id,
	    .action = "workspace.deleted",
	};
	actor_fill_change(req->actor, &d, &change);
	return db_record_change(conn, &change, &resp->revision);
}

int
workspaces_delete(struct call *call)
{
	return db_call_txn(call, workspaces_delete_txn);
}
