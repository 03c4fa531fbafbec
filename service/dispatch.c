/* The method table: one row per RPC method of the .proto services,
 * expanded from their list, checked against the service descriptors at
 * start. */
#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#include "authz/authz.h"
#include "authz/changes.h"
#include "base/log.h"
#include "base/status.h"
#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/methods.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "workspace/activity.h"
#include "workspace/apikeys.h"
#include "workspace/grants.h"
#include "workspace/invitations.h"
#include "workspace/members.h"
#include "workspace/orgs.h"
#include "workspace/resources.h"
#include "workspace/users.h"
#include "workspace/verify.h"
#include "workspace/workspaces.h"

/* Each method's row: its flags (scope, writes, the common prologue) and
 * the functions of the module that implements it. The method's name and
 * types come from the .proto's list (exe/access/v1/methods.h), so a
 * method added to the .proto does not build until it has a row here. */
#define CHECK METHOD_CHECK_SCOPE
#define WRITES METHOD_WRITES
#define ACTOR METHOD_ACTOR
#define WORKSPACE METHOD_WORKSPACE
#define PAGED METHOD_PAGED
#define ITEMS METHOD_ITEMS

/* clang-format off */
/* AuthzService: the hot path validates its own fields (validate once,
 * parse once: see authz.c). */
#define ROW_Check .flags = CHECK, .validate = authz_check_validate, \
	.fast = authz_check_fast, .handle = authz_check, \
	.handle_many = authz_check_many
#define ROW_BatchCheck .flags = CHECK | ITEMS, .validate = authz_batch_validate, \
	.fast = authz_batch_fast, .handle = authz_batch
#define ROW_ListPermissions .flags = CHECK, \
	.validate = authz_permissions_validate, \
	.fast = authz_permissions_fast, .handle = authz_permissions
#define ROW_VerifyApiKey .flags = CHECK, .validate = authz_verify_validate, \
	.handle = authz_verify
#define ROW_LookupResources .flags = CHECK, \
	.validate = authz_lookup_validate, .handle = authz_lookup
#define ROW_ReadChanges .flags = CHECK | PAGED, \
	.validate = changes_read_validate, .handle = changes_read

/* WorkspaceService: users and organisations */
#define ROW_CreateUser .flags = WRITES, .validate = users_create_validate, \
	.handle = users_create
#define ROW_GetUser .flags = CHECK, .validate = users_get_validate, \
	.handle = users_get
#define ROW_FindUser .flags = CHECK, .validate = users_find_validate, \
	.handle = users_find
#define ROW_CreateOrganization .flags = WRITES | ACTOR, \
	.validate = orgs_create_validate, .handle = orgs_create
#define ROW_AddOrganizationAdmin .flags = WRITES | ACTOR, \
	.validate = orgs_admin_validate, .handle = orgs_admin_change
#define ROW_RemoveOrganizationAdmin .flags = WRITES | ACTOR, \
	.validate = orgs_admin_validate, .handle = orgs_admin_change

/* workspaces */
#define ROW_CreateTeamWorkspace .flags = WRITES | ACTOR, \
	.validate = workspaces_create_team_validate, \
	.handle = workspaces_create_team
#define ROW_GetWorkspace .flags = CHECK | ACTOR | WORKSPACE, \
	.handle = workspaces_get
#define ROW_ListWorkspaces .flags = CHECK | PAGED, \
	.validate = workspaces_list_validate, .handle = workspaces_list
#define ROW_UpdateWorkspaceSettings .flags = WRITES | ACTOR | WORKSPACE, \
	.validate = workspaces_update_validate, .handle = workspaces_update
#define ROW_DeleteWorkspace .flags = WRITES | ACTOR | WORKSPACE, \
	.handle = workspaces_delete

/* members */
#define ROW_AddMember .flags = WRITES | ACTOR | WORKSPACE, \
	.validate = members_change_validate, .handle = members_add
#define ROW_ChangeMemberRole .flags = WRITES | ACTOR | WORKSPACE, \
	.validate = members_change_validate, .handle = members_change_role
#define ROW_RemoveMember .flags = WRITES | ACTOR | WORKSPACE, \
	.validate = members_change_validate, .handle = members_remove
#define ROW_ListMembers .flags = CHECK | ACTOR | WORKSPACE | PAGED, \
	.handle = members_list

/* invitations */
#define ROW_CreateInvitation .flags = WRITES | ACTOR | WORKSPACE, \
	.validate = invitations_create_validate, .handle = invitations_create
#define ROW_ListInvitations .flags = CHECK | ACTOR | WORKSPACE | PAGED, \
	.handle = invitations_list
#define ROW_RevokeInvitation .flags = WRITES | ACTOR, \
	.validate = invitations_revoke_validate, .handle = invitations_revoke
#define ROW_AcceptInvitation .flags = WRITES | ACTOR, \
	.validate = invitations_answer_validate, .handle = invitations_accept
#define ROW_DeclineInvitation .flags = WRITES | ACTOR, \
	.validate = invitations_answer_validate, .handle = invitations_decline

/* API keys */
#define ROW_RotateApiKey .flags = WRITES | ACTOR | WORKSPACE, \
	.validate = apikeys_rotate_validate, .handle = apikeys_rotate
#define ROW_GetApiKey .flags = CHECK | ACTOR | WORKSPACE, \
	.handle = apikeys_get

/* resources and activity */
#define ROW_RegisterResource .flags = WRITES | ACTOR | WORKSPACE, \
	.validate = resources_register_validate, .handle = resources_register
#define ROW_DeleteResource .flags = WRITES | ACTOR, \
	.validate = resources_delete_validate, .handle = resources_delete
#define ROW_ListResources .flags = CHECK | ACTOR | WORKSPACE | PAGED, \
	.validate = resources_list_validate, .handle = resources_list

/* grants on resources */
#define ROW_GrantResourceRole .flags = WRITES | ACTOR, \
	.validate = grants_put_validate, .handle = grants_put
#define ROW_RevokeResourceRole .flags = WRITES | ACTOR, \
	.validate = grants_revoke_validate, .handle = grants_revoke
#define ROW_ListResourceGrants .flags = CHECK | ACTOR | PAGED, \
	.validate = grants_list_resource_validate, \
	.handle = grants_list_resource
#define ROW_ListUserGrants .flags = CHECK | PAGED, \
	.validate = grants_list_user_validate, .handle = grants_list_user

#define ROW_RecordActivity .flags = WRITES | ACTOR, \
	.validate = activity_record_validate, .handle = activity_record
#define ROW_ListActivity .flags = CHECK | ACTOR | PAGED, \
	.validate = activity_list_validate, .handle = activity_list
/* Admin scope only, and no actor: it reports on every workspace's
 * records. */
#define ROW_VerifyActivity .flags = 0, \
	.validate = verify_activity_validate, .handle = verify_activity
/* clang-format on */

#define DISPATCH_ROW(Svc, svc, Method, method, fn, Req, req, Resp, resp)     \
	{.name = "exe.access.v1." #Svc "/" #Method,                           \
	    .request = &exe__access__v1__##req##__descriptor,                 \
	    .response = &exe__access__v1__##resp##__descriptor, ROW_##Method},

const struct method dispatch_methods[] = {EXA_METHOD_LIST(DISPATCH_ROW)};

const size_t dispatch_method_count =
    sizeof dispatch_methods / sizeof dispatch_methods[0];

const struct method_table dispatch_table = {
    dispatch_methods, sizeof dispatch_methods / sizeof dispatch_methods[0]};

const struct method *
dispatch_lookup(const char *name)
{
	return method_lookup(&dispatch_table, name);
}

int
dispatch_check_table(char *msg, size_t msg_size)
{
	const ProtobufCServiceDescriptor *services[] = {
	    &exe__access__v1__authz_service__descriptor,
	    &exe__access__v1__workspace_service__descriptor,
	};
	size_t described = 0;
	for (size_t s = 0; s < sizeof services / sizeof services[0]; s++) {
		const ProtobufCServiceDescriptor *sd = services[s];
		for (unsigned i = 0; i < sd->n_methods; i++) {
			char name[160];
			snprintf(name, sizeof name, "%s/%s", sd->name,
			    sd->methods[i].name);
			const struct method *m = dispatch_lookup(name);
			if (m == NULL) {
				snprintf(msg, msg_size, "%s has no row", name);
				return -1;
			}
			if (m->request != sd->methods[i].input ||
			    m->response != sd->methods[i].output) {
				snprintf(msg, msg_size,
				    "%s: row types differ from the .proto", name);
				return -1;
			}
			if (!method_prologue_check(m, msg, msg_size))
				return -1;
			described++;
		}
	}
	if (described != dispatch_method_count) {
		snprintf(msg, msg_size,
		    "the table has %zu rows, the .proto %zu methods",
		    dispatch_method_count, described);
		return -1;
	}
	return 0;
}
