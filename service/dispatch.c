/* The method table and the request pipeline around it. */
#include "dispatch.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "activity.h"
#include "apikeys.h"
#include "authz.h"
#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "log.h"
#include "invitations.h"
#include "members.h"
#include "orgs.h"
#include "resources.h"
#include "status.h"
#include "users.h"
#include "workspaces.h"

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

const struct method *
dispatch_lookup(const char *name)
{
	/* 32 rows: a linear scan of short strings beats hashing here. */
	for (size_t i = 0; i < dispatch_method_count; i++) {
		if (strcmp(dispatch_methods[i].name, name) == 0)
			return &dispatch_methods[i];
	}
	return NULL;
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

int
call_fail(struct call *call, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->message, sizeof call->message, fmt, ap);
	va_end(ap);
	call->code = code;
	return code;
}

void *
call_new(struct call *call, size_t size)
{
	return arena_alloc(&call->arena, size);
}

char *
call_strdup(struct call *call, const char *s)
{
	return arena_strdup(&call->arena, s != NULL ? s : "");
}

ProtobufCMessage *
call_response(struct call *call)
{
	const ProtobufCMessageDescriptor *d = call->method->response;
	ProtobufCMessage *m = call_new(call, d->sizeof_message);
	if (m != NULL)
		d->message_init(m);
	call->response = m;
	return m;
}

char *
call_secret(struct call *call, size_t size)
{
	/* A handler run twice (dispatch_retryable) gets its secret again. */
	if (call->secret != NULL)
		return call->secret;
	call->secret = sodium_malloc(size);
	if (call->secret != NULL)
		memset(call->secret, 0, size);
	return call->secret;
}

/* The request and its envelope are unpacked into the call's arena: no
 * malloc or free a field, and dispatch_end wipes the arena whole, so
 * secrets that arrive in requests do not linger in freed memory. */
static void *
request_alloc(void *arena, size_t size)
{
	return arena_alloc_raw(arena, size);
}

static void
request_free(void *arena, void *ptr)
{
	(void)arena;
	(void)ptr;
}

static bool
deadline_passed(const struct call *call)
{
	if (call->deadline_ms == 0)
		return false;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	return now_ms >= call->deadline_ms;
}

enum dispatch_next
dispatch_begin(struct call *call, const uint8_t *buf, size_t len,
    size_t max_bytes)
{
	ProtobufCAllocator alloc = {request_alloc, request_free, &call->arena};
	Exe__Access__V1__RpcRequest *env;
	call->code = envelope_decode_with(buf, len, max_bytes, &alloc, &env,
	    call->message, sizeof call->message);
	call->envelope = env != NULL ? &env->base : NULL;
	if (call->code != STATUS_OK)
		return DISPATCH_REPLY;

	struct tokens *tokens = call->svc != NULL ? call->svc->tokens : NULL;
	if (tokens != NULL) {
		if (env->token[0] == '\0') {
			call_fail(call, STATUS_UNAUTHENTICATED,
			    "token: missing; every call carries the calling "
			    "service's token (RpcRequest.token)");
			return DISPATCH_REPLY;
		}
		if (!tokens_authenticate(tokens, env->token, &call->caller)) {
			call_fail(call, STATUS_UNAUTHENTICATED,
			    "token: not recognized; ask the operators for a "
			    "token of this service");
			return DISPATCH_REPLY;
		}
	}

	const struct method *m = dispatch_lookup(env->method);
	if (m == NULL) {
		call_fail(call, STATUS_UNIMPLEMENTED,
		    "unknown method \"%s\" (methods are named like "
		    "exe.access.v1.AuthzService/Check)", env->method);
		return DISPATCH_REPLY;
	}
	call->method = m;
	if (tokens != NULL && !(m->flags & METHOD_CHECK_SCOPE) &&
	    call->caller.scope != TOKEN_SCOPE_ADMIN) {
		call_fail(call, STATUS_PERMISSION_DENIED,
		    "token \"%s\" has scope %s, which does not cover %s; it "
		    "needs an admin token", call->caller.name,
		    tokens_scope_name(call->caller.scope), m->name);
		return DISPATCH_REPLY;
	}
	if (m->handle == NULL) {
		call_fail(call, STATUS_UNIMPLEMENTED, "%s is not implemented yet",
		    m->name);
		return DISPATCH_REPLY;
	}
	if (tokens != NULL) {
		unsigned limit = call->svc->max_in_flight_per_caller;
		if (!tokens_acquire(tokens, &call->caller, limit)) {
			call_fail(call, STATUS_RESOURCE_EXHAUSTED,
			    "caller \"%s\" already has %u requests in flight, "
			    "its limit; wait for replies before sending more",
			    call->caller.name, limit);
			return DISPATCH_REPLY;
		}
		call->counted = true;
	}
	call->deadline_ms = env->deadline_unix_ms;
	if (deadline_passed(call)) {
		call_fail(call, STATUS_DEADLINE_EXCEEDED,
		    "the request's deadline passed before it was served");
		return DISPATCH_REPLY;
	}
	call->request = protobuf_c_message_unpack(m->request, &alloc,
	    env->body.len, env->body.data);
	if (call->request == NULL) {
		call_fail(call, STATUS_INVALID_ARGUMENT,
		    "body: not a valid %s for %s", m->request->name, m->name);
		return DISPATCH_REPLY;
	}
	if (m->validate != NULL) {
		/* The validator's return decides, whatever it left in call. */
		int rc = m->validate(call);
		if (rc != STATUS_OK) {
			call->code = rc;
			if (call->message[0] == '\0')
				snprintf(call->message, sizeof call->message,
				    "invalid request for %s", m->name);
			return DISPATCH_REPLY;
		}
	}
	if (m->fast != NULL) {
		int rc = m->fast(call);
		if (rc != DISPATCH_MISS) {
			call->code = rc;
			return DISPATCH_REPLY;
		}
		/* Start the database path clean: the fast path may have
		 * allocated, but it answered nothing. */
		call->response = NULL;
		call->code = STATUS_OK;
		call->message[0] = '\0';
	}
	return DISPATCH_NEEDS_DB;
}

/* run_start prepares a call to be handled on `db`; false when it is
 * answered already (its deadline passed, or there is no database). */
static bool
run_start(struct call *call, PGconn *db)
{
	if (deadline_passed(call)) {
		call_fail(call, STATUS_DEADLINE_EXCEEDED,
		    "the request's deadline passed while it waited for a "
		    "database worker");
		return false;
	}
	if (db == NULL) {
		call_fail(call, STATUS_UNAVAILABLE,
		    "the database is unavailable; retry later");
		return false;
	}
	call->db = db;
	return true;
}

/* run_finish records the handler's status `rc`, with a message for the
 * caller when the handler left none. */
static void
run_finish(struct call *call, int rc)
{
	call->db = NULL;
	if (rc == STATUS_OK && call->response == NULL)
		rc = call_fail(call, STATUS_INTERNAL, "%s produced no response",
		    call->method->name);
	if (rc == STATUS_UNAVAILABLE && call->message[0] == '\0')
		call_fail(call, rc, "the database is unavailable; retry later");
	else if (rc == STATUS_ABORTED && call->message[0] == '\0')
		call_fail(call, rc,
		    "the change conflicted with concurrent changes; retry it");
	else if (rc == STATUS_INTERNAL && call->message[0] == '\0')
		call_fail(call, rc, "internal error in %s; see the service log",
		    call->method->name);
	call->code = rc;
}

void
dispatch_run(struct call *call, PGconn *db)
{
	if (run_start(call, db))
		run_finish(call, call->method->handle(call));
}

void
dispatch_run_many(struct call **calls, size_t n, PGconn *db)
{
	struct call *ready[DISPATCH_MANY_MAX];
	int rcs[DISPATCH_MANY_MAX];
	for (size_t start = 0; start < n; start += DISPATCH_MANY_MAX) {
		size_t k = 0;
		for (size_t i = start; i < n && i < start + DISPATCH_MANY_MAX;
		     i++) {
			if (run_start(calls[i], db))
				ready[k++] = calls[i];
		}
		if (k == 0)
			continue;
		ready[0]->method->handle_many(ready, k, rcs);
		for (size_t i = 0; i < k; i++)
			run_finish(ready[i], rcs[i]);
	}
}

static bool
retryable(const struct call *call, PGconn *db)
{
	return call->code == STATUS_UNAVAILABLE && !call->in_doubt &&
	    db != NULL && PQstatus(db) == CONNECTION_BAD;
}

static void
reset_answer(struct call *call)
{
	call->code = STATUS_OK;
	call->message[0] = '\0';
	call->response = NULL;
}

bool
dispatch_retryable(struct call *call, PGconn *db)
{
	if (!retryable(call, db))
		return false;
	reset_answer(call);
	return true;
}

bool
dispatch_retryable_many(struct call **calls, size_t n, PGconn *db)
{
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (calls[i]->in_doubt)
			return false;
		any = any || retryable(calls[i], db);
	}
	if (any) {
		for (size_t i = 0; i < n; i++)
			reset_answer(calls[i]);
	}
	return any;
}

void
dispatch_reply(struct call *call, size_t max_bytes, struct envelope_reply *out)
{
	memset(out, 0, sizeof *out);
	const Exe__Access__V1__RpcRequest *env =
	    (const Exe__Access__V1__RpcRequest *)call->envelope;
	out->request_id = env != NULL ? env->request_id : NULL;
	if (call->code == STATUS_OK && call->response == NULL)
		call_fail(call, STATUS_INTERNAL, "%s produced no response",
		    call->method != NULL ? call->method->name : "the request");
	if (call->code == STATUS_OK) {
		size_t n = protobuf_c_message_get_packed_size(call->response);
		uint8_t *body = n <= max_bytes ? call_new(call, n) : NULL;
		if (n > max_bytes)
			call_fail(call, STATUS_RESOURCE_EXHAUSTED,
			    "the response would be %zu bytes, over the %zu-byte "
			    "limit; ask for a smaller page", n, max_bytes);
		else if (body == NULL)
			call_fail(call, STATUS_INTERNAL, "out of memory");
		else {
			out->body = body;
			out->body_len =
			    protobuf_c_message_pack(call->response, body);
		}
	}
	out->code = call->code;
	out->message = call->code == STATUS_OK ? "" : call->message;
}

void
dispatch_end(struct call *call)
{
	/* The request lives in the arena (see request_alloc): wiped always. */
	arena_wipe(&call->arena);
	if (call->secret != NULL)
		sodium_free(call->secret);
	if (call->counted)
		tokens_release(call->svc->tokens, &call->caller);
	arena_reset(&call->arena);
	const struct service_ctx *svc = call->svc;
	memset(call, 0, offsetof(struct call, arena));
	call->svc = svc;
}
