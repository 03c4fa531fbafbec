/* The method table: one row per RPC method, checked against the .proto
 * service descriptors at start. */
#include "dispatch.h"

#include <stdio.h>
#include <string.h>

#include "authz/authz.h"
#include "base/log.h"
#include "base/status.h"
#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "workspace/activity.h"
#include "workspace/apikeys.h"
#include "workspace/invitations.h"
#include "workspace/members.h"
#include "workspace/orgs.h"
#include "workspace/resources.h"
#include "workspace/users.h"
#include "workspace/workspaces.h"

#define AUTHZ(m) "exe.access.v1.AuthzService/" #m
#define WS(m) "exe.access.v1.WorkspaceService/" #m
#define D(t) &exe__access__v1__##t##__descriptor

enum {
	CHECK = METHOD_CHECK_SCOPE,
	WRITE = METHOD_WRITES,
	ADMIN = 0,
};

/* clang-format off */
const struct method dispatch_methods[] = {
	{AUTHZ(Check), D(check_request), D(check_response),
	 authz_check_validate, authz_check, CHECK, authz_check_fast,
	 authz_check_many},
	{AUTHZ(BatchCheck), D(batch_check_request), D(batch_check_response),
	 authz_batch_validate, authz_batch, CHECK, authz_batch_fast, NULL},
	{AUTHZ(ListPermissions), D(list_permissions_request),
	 D(list_permissions_response), authz_permissions_validate,
	 authz_permissions, CHECK, authz_permissions_fast, NULL},
	{AUTHZ(VerifyApiKey), D(verify_api_key_request),
	 D(verify_api_key_response), authz_verify_validate, authz_verify, CHECK,
	 NULL, NULL},
	{AUTHZ(LookupResources), D(lookup_resources_request),
	 D(lookup_resources_response), authz_lookup_validate, authz_lookup,
	 CHECK, NULL, NULL},

	{WS(CreateUser), D(create_user_request), D(create_user_response),
	 users_create_validate, users_create, ADMIN | WRITE, NULL, NULL},
	{WS(GetUser), D(get_user_request), D(get_user_response),
	 users_get_validate, users_get, CHECK, NULL, NULL},
	{WS(FindUser), D(find_user_request), D(find_user_response),
	 users_find_validate, users_find, CHECK, NULL, NULL},

	{WS(CreateOrganization), D(create_organization_request),
	 D(create_organization_response), orgs_create_validate, orgs_create,
	 ADMIN | WRITE, NULL, NULL},
	{WS(AddOrganizationAdmin), D(add_organization_admin_request),
	 D(write_response), orgs_admin_validate, orgs_admin_change,
	 ADMIN | WRITE, NULL, NULL},
	{WS(RemoveOrganizationAdmin), D(remove_organization_admin_request),
	 D(write_response), orgs_admin_validate, orgs_admin_change,
	 ADMIN | WRITE, NULL, NULL},

	{WS(CreateTeamWorkspace), D(create_team_workspace_request),
	 D(create_team_workspace_response), workspaces_create_team_validate,
	 workspaces_create_team, ADMIN | WRITE, NULL, NULL},
	{WS(GetWorkspace), D(get_workspace_request), D(get_workspace_response),
	 workspaces_get_validate, workspaces_get, CHECK, NULL, NULL},
	{WS(ListWorkspaces), D(list_workspaces_request),
	 D(list_workspaces_response), workspaces_list_validate,
	 workspaces_list, CHECK, NULL, NULL},
	{WS(UpdateWorkspaceSettings), D(update_workspace_settings_request),
	 D(update_workspace_settings_response), workspaces_update_validate,
	 workspaces_update, ADMIN | WRITE, NULL, NULL},
	{WS(DeleteWorkspace), D(delete_workspace_request), D(write_response),
	 workspaces_delete_validate, workspaces_delete, ADMIN | WRITE, NULL, NULL},

	{WS(AddMember), D(add_member_request), D(member_response),
	 members_change_validate, members_add, ADMIN | WRITE, NULL, NULL},
	{WS(ChangeMemberRole), D(change_member_role_request),
	 D(member_response), members_change_validate, members_change_role,
	 ADMIN | WRITE, NULL, NULL},
	{WS(RemoveMember), D(remove_member_request), D(write_response),
	 members_change_validate, members_remove, ADMIN | WRITE, NULL, NULL},
	{WS(ListMembers), D(list_members_request), D(list_members_response),
	 members_list_validate, members_list, CHECK, NULL, NULL},

	{WS(CreateInvitation), D(create_invitation_request),
	 D(create_invitation_response), invitations_create_validate,
	 invitations_create, ADMIN | WRITE, NULL, NULL},
	{WS(ListInvitations), D(list_invitations_request),
	 D(list_invitations_response), invitations_list_validate,
	 invitations_list, CHECK, NULL, NULL},
	{WS(RevokeInvitation), D(revoke_invitation_request), D(write_response),
	 invitations_revoke_validate, invitations_revoke, ADMIN | WRITE, NULL, NULL},
	{WS(AcceptInvitation), D(accept_invitation_request),
	 D(member_response), invitations_answer_validate, invitations_accept,
	 ADMIN | WRITE, NULL, NULL},
	{WS(DeclineInvitation), D(decline_invitation_request),
	 D(write_response), invitations_answer_validate, invitations_decline,
	 ADMIN | WRITE, NULL, NULL},

	{WS(RotateApiKey), D(rotate_api_key_request), D(rotate_api_key_response),
	 apikeys_rotate_validate, apikeys_rotate, ADMIN | WRITE, NULL, NULL},
	{WS(GetApiKey), D(get_api_key_request), D(get_api_key_response),
	 apikeys_get_validate, apikeys_get, CHECK, NULL, NULL},

	{WS(RegisterResource), D(register_resource_request),
	 D(register_resource_response), resources_register_validate,
	 resources_register, ADMIN | WRITE, NULL, NULL},
	{WS(DeleteResource), D(delete_resource_request), D(write_response),
	 resources_delete_validate, resources_delete, ADMIN | WRITE, NULL, NULL},
	{WS(ListResources), D(list_resources_request),
	 D(list_resources_response), resources_list_validate, resources_list,
	 CHECK, NULL, NULL},

	{WS(RecordActivity), D(record_activity_request),
	 D(record_activity_response), activity_record_validate,
	 activity_record, ADMIN | WRITE, NULL, NULL},
	{WS(ListActivity), D(list_activity_request), D(list_activity_response),
	 activity_list_validate, activity_list, CHECK, NULL, NULL},
};
/* clang-format on */

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
