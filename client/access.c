/* libexeaccess: envelopes over an nng req0 socket, one context per call. */
#include "exe/access.h"

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exe/access/v1/rpc.pb-c.h"

enum { DEFAULT_TIMEOUT_MS = 5000, MAX_ENDPOINTS = 16 };

struct exa_client {
	nng_socket sock;
	char *token;
	int timeout_ms;
	char urls[512];
};

static exa_status fail(exa_error *err, exa_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static exa_status
fail(exa_error *err, exa_status code, const char *fmt, ...)
{
	if (err != NULL) {
		err->code = code;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *
exa_status_name(int code)
{
	switch (code) {
	case EXA_OK: return "OK";
	case EXA_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
	case EXA_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
	case EXA_NOT_FOUND: return "NOT_FOUND";
	case EXA_ALREADY_EXISTS: return "ALREADY_EXISTS";
	case EXA_PERMISSION_DENIED: return "PERMISSION_DENIED";
	case EXA_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
	case EXA_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
	case EXA_ABORTED: return "ABORTED";
	case EXA_UNIMPLEMENTED: return "UNIMPLEMENTED";
	case EXA_INTERNAL: return "INTERNAL";
	case EXA_UNAVAILABLE: return "UNAVAILABLE";
	case EXA_UNAUTHENTICATED: return "UNAUTHENTICATED";
	}
	return "UNKNOWN";
}

enum { EXA_TLS_REFUSED = -1 };

/* dial_tls dials a tls+tcp:// URL verifying the server against the
 * options' CA file; returns an nng error, or EXA_TLS_REFUSED with `err`
 * set when the options do not allow it. */
static int
dial_tls(exa_client *c, const char *url, const exa_client_options *opts,
    exa_error *err)
{
	if (opts == NULL || opts->tls_ca_file == NULL) {
		fail(err, EXA_INVALID_ARGUMENT,
		    "tls_ca_file: required for %s (the server is verified)", url);
		return EXA_TLS_REFUSED;
	}
	nng_url *u = NULL;
	nng_dialer d;
	nng_tls_config *cfg = NULL;
	int rv = nng_url_parse(&u, url);
	if (rv == 0)
		rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	if (rv == 0 && (rv = nng_tls_config_ca_file(cfg, opts->tls_ca_file)) != 0) {
		fail(err, EXA_INVALID_ARGUMENT, "tls_ca_file: cannot use %s: %s",
		    opts->tls_ca_file, nng_strerror(rv));
		rv = EXA_TLS_REFUSED;
	}
	if (rv == 0)
		rv = nng_tls_config_server_name(cfg,
		    opts->tls_server_name != NULL ? opts->tls_server_name
		                                  : u->u_hostname);
	if (rv == 0)
		rv = nng_dialer_create(&d, c->sock, url);
	if (rv == 0)
		rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg);
	if (rv == 0)
		rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
	if (cfg != NULL)
		nng_tls_config_free(cfg); /* the dialer holds its own reference */
	nng_url_free(u);
	return rv;
}

exa_status
exa_client_open(const char *urls, const char *token,
    const exa_client_options *opts, exa_client **out, exa_error *err)
{
	if (urls == NULL || urls[0] == '\0')
		return fail(err, EXA_INVALID_ARGUMENT, "url: is required");
	if (strlen(urls) >= sizeof ((exa_client *)0)->urls)
		return fail(err, EXA_INVALID_ARGUMENT, "url: too long");
	exa_client *c = calloc(1, sizeof *c);
	if (c == NULL)
		return fail(err, EXA_INTERNAL, "out of memory");
	c->timeout_ms = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms
	                                                     : DEFAULT_TIMEOUT_MS;
	c->token = strdup(token != NULL ? token : "");
	snprintf(c->urls, sizeof c->urls, "%s", urls);
	int rv = nng_req0_open(&c->sock);
	if (c->token == NULL || rv != 0) {
		free(c->token);
		free(c);
		return fail(err, EXA_INTERNAL, "cannot open a socket: %s",
		    nng_strerror(rv));
	}
	/* Reconnect quickly after a server restart. Requests are not resent
	 * automatically: a write must not be applied twice behind the
	 * caller's back, so the caller decides what to retry. */
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT, 20);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT, 1000);
	nng_socket_set_ms(c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);

	char list[sizeof c->urls];
	snprintf(list, sizeof list, "%s", urls);
	char *save = NULL;
	int dialers = 0;
	for (char *u = strtok_r(list, ",", &save); u != NULL;
	     u = strtok_r(NULL, ",", &save)) {
		/* Non-blocking: the dialer keeps trying in the background, and
		 * a call waits (within its timeout) for a connection. */
		rv = strncmp(u, "tls+", 4) == 0 ? dial_tls(c, u, opts, err)
		                                 : nng_dial(c->sock, u, NULL,
		                                       NNG_FLAG_NONBLOCK);
		if (rv == EXA_TLS_REFUSED) {
			nng_close(c->sock);
			free(c->token);
			free(c);
			return err != NULL ? err->code : EXA_INVALID_ARGUMENT;
		}
		if (rv != 0 || ++dialers > MAX_ENDPOINTS) {
			nng_close(c->sock);
			free(c->token);
			free(c);
			return fail(err, EXA_INVALID_ARGUMENT,
			    rv != 0 ? "url: cannot dial \"%s\": %s"
			            : "url: at most 16 endpoints (\"%s\")",
			    u, nng_strerror(rv));
		}
	}
	*out = c;
	return EXA_OK;
}

void
exa_client_close(exa_client *c)
{
	if (c == NULL)
		return;
	nng_close(c->sock);
	free(c->token);
	free(c);
}

void
exa_free(void *response)
{
	if (response != NULL)
		protobuf_c_message_free_unpacked(response, NULL);
}

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* transport_status maps an nng error onto a status for the caller. */
static exa_status
transport_fail(exa_client *c, exa_error *err, int rv, int timeout_ms,
    const char *method)
{
	if (rv == NNG_ETIMEDOUT)
		return fail(err, EXA_DEADLINE_EXCEEDED,
		    "%s: no reply from %s within %d ms", method, c->urls,
		    timeout_ms);
	return fail(err, EXA_UNAVAILABLE, "%s: %s: %s", method, c->urls,
	    nng_strerror(rv));
}

/* round_trip sends `req` on a fresh context and waits for the reply, all
 * within `timeout_ms` in total: nng starts a relative timeout afresh for
 * each operation, so the receive gets only what the send left. */
static int
round_trip(exa_client *c, nng_msg *req, int timeout_ms, nng_msg **reply)
{
	nng_ctx ctx;
	nng_aio *aio;
	int rv = nng_ctx_open(&ctx, c->sock);
	if (rv != 0) {
		nng_msg_free(req);
		return rv;
	}
	rv = nng_aio_alloc(&aio, NULL, NULL);
	if (rv != 0) {
		nng_ctx_close(ctx);
		nng_msg_free(req);
		return rv;
	}
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	nng_aio_set_timeout(aio, timeout_ms);
	nng_aio_set_msg(aio, req);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	rv = nng_aio_result(aio);
	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
	} else {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
		long left = timeout_ms - spent;
		nng_aio_set_timeout(aio, left > 0 ? (nng_duration)left : 1);
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		rv = nng_aio_result(aio);
		if (rv == 0)
			*reply = nng_aio_get_msg(aio);
	}
	nng_aio_free(aio);
	nng_ctx_close(ctx);
	return rv;
}

exa_status
exa_client_call(exa_client *c, const char *method,
    const ProtobufCMessage *request,
    const ProtobufCMessageDescriptor *response_type, int timeout_ms,
    ProtobufCMessage **response, exa_error *err)
{
	if (c == NULL || method == NULL || request == NULL ||
	    response_type == NULL || response == NULL)
		return fail(err, EXA_INVALID_ARGUMENT,
		    "exa_client_call: client, method, request, response type "
		    "and response are required");
	if (timeout_ms <= 0)
		timeout_ms = c->timeout_ms;

	size_t body_len = protobuf_c_message_get_packed_size(request);
	uint8_t *body = malloc(body_len > 0 ? body_len : 1);
	if (body == NULL)
		return fail(err, EXA_INTERNAL, "out of memory");
	protobuf_c_message_pack(request, body);

	char request_id[17];
	snprintf(request_id, sizeof request_id, "%08x%08x",
	    (unsigned)nng_random(), (unsigned)nng_random());
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	env.method = (char *)method;
	env.body.data = body;
	env.body.len = body_len;
	env.request_id = request_id;
	env.deadline_unix_ms = now_ms() + timeout_ms;
	env.token = c->token;

	nng_msg *msg;
	size_t len = exe__access__v1__rpc_request__get_packed_size(&env);
	if (nng_msg_alloc(&msg, len) != 0) {
		free(body);
		return fail(err, EXA_INTERNAL, "out of memory");
	}
	exe__access__v1__rpc_request__pack(&env, nng_msg_body(msg));
	free(body);

	nng_msg *reply = NULL;
	int rv = round_trip(c, msg, timeout_ms, &reply);
	if (rv != 0)
		return transport_fail(c, err, rv, timeout_ms, method);

	Exe__Access__V1__RpcResponse *resp = exe__access__v1__rpc_response__unpack(
	    NULL, nng_msg_len(reply), nng_msg_body(reply));
	nng_msg_free(reply);
	if (resp == NULL)
		return fail(err, EXA_INTERNAL,
		    "%s: the reply is not an exe.access.v1.RpcResponse", method);
	exa_status code = (exa_status)resp->code;
	if (code != EXA_OK) {
		fail(err, code, "%s", resp->message);
		exe__access__v1__rpc_response__free_unpacked(resp, NULL);
		return code;
	}
	*response = protobuf_c_message_unpack(response_type, NULL,
	    resp->body.len, resp->body.data);
	exe__access__v1__rpc_response__free_unpacked(resp, NULL);
	if (*response == NULL)
		return fail(err, EXA_INTERNAL, "%s: the reply's body is not a %s",
		    method, response_type->name);
	return EXA_OK;
}

exa_status
exa_check(exa_client *c, const char *user_id, const char *permission,
    const char *workspace_id, exa_decision *d, exa_error *err)
{
	return exa_check_fresh(c, user_id, permission, workspace_id, 0, d, err);
}

exa_status
exa_check_fresh(exa_client *c, const char *user_id, const char *permission,
    const char *workspace_id, uint64_t revision, exa_decision *d,
    exa_error *err)
{
	Exe__Access__V1__Principal principal = EXE__ACCESS__V1__PRINCIPAL__INIT;
	principal.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	principal.user_id = (char *)user_id;
	Exe__Access__V1__CheckRequest req = EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &principal;
	req.permission = (char *)permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	req.workspace_id = (char *)workspace_id;
	req.at_least_as_fresh = revision;
	Exe__Access__V1__CheckResponse *resp = NULL;
	exa_status rc = exa_authz_check(c, &req, &resp, err);
	if (rc != EXA_OK)
		return rc;
	d->allowed = resp->allowed;
	d->role = resp->role;
	d->revision = resp->revision;
	snprintf(d->reason, sizeof d->reason, "%s", resp->reason);
	exa_free(resp);
	return EXA_OK;
}

enum { BATCH_MAX = 1000 };

struct exa_batch {
	Exe__Access__V1__CheckRequest items[BATCH_MAX];
	Exe__Access__V1__Principal principals[BATCH_MAX];
	Exe__Access__V1__CheckRequest *list[BATCH_MAX];
	char *strings[BATCH_MAX][3];
	size_t n;
	Exe__Access__V1__BatchCheckResponse *results;
};

exa_batch *
exa_batch_new(void)
{
	return calloc(1, sizeof(exa_batch));
}

static long
batch_add(exa_batch *b, bool key, const char *who, const char *permission,
    const char *workspace_id)
{
	if (b == NULL || b->n == BATCH_MAX || who == NULL ||
	    permission == NULL || workspace_id == NULL)
		return -1;
	size_t i = b->n;
	char **s = b->strings[i];
	s[0] = strdup(who);
	s[1] = strdup(permission);
	s[2] = strdup(workspace_id);
	if (s[0] == NULL || s[1] == NULL || s[2] == NULL) {
		for (int k = 0; k < 3; k++) {
			free(s[k]);
			s[k] = NULL;
		}
		return -1;
	}
	Exe__Access__V1__Principal *p = &b->principals[i];
	exe__access__v1__principal__init(p);
	if (key) {
		p->kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
		p->api_key = s[0];
	} else {
		p->kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
		p->user_id = s[0];
	}
	Exe__Access__V1__CheckRequest *r = &b->items[i];
	exe__access__v1__check_request__init(r);
	r->principal = p;
	r->permission = s[1];
	r->target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	r->workspace_id = s[2];
	b->list[i] = r;
	b->n++;
	return (long)i;
}

long
exa_batch_add_user(exa_batch *b, const char *user_id, const char *permission,
    const char *workspace_id)
{
	return batch_add(b, false, user_id, permission, workspace_id);
}

long
exa_batch_add_key(exa_batch *b, const char *api_key, const char *permission,
    const char *workspace_id)
{
	return batch_add(b, true, api_key, permission, workspace_id);
}

size_t
exa_batch_size(const exa_batch *b)
{
	return b != NULL ? b->n : 0;
}

exa_status
exa_batch_run(exa_client *c, exa_batch *b, uint64_t revision, exa_error *err)
{
	if (b == NULL)
		return fail(err, EXA_INVALID_ARGUMENT, "batch: is required");
	exa_free(b->results);
	b->results = NULL;
	for (size_t i = 0; i < b->n; i++)
		b->items[i].at_least_as_fresh = revision;
	Exe__Access__V1__BatchCheckRequest req =
	    EXE__ACCESS__V1__BATCH_CHECK_REQUEST__INIT;
	req.checks = b->list;
	req.n_checks = b->n;
	exa_status rc = exa_batch_check(c, &req, &b->results, err);
	if (rc == EXA_OK && b->results->n_results != b->n) {
		size_t got = b->results->n_results;
		exa_free(b->results);
		b->results = NULL;
		return fail(err, EXA_INTERNAL,
		    "BatchCheck answered %zu items for %zu", got, b->n);
	}
	return rc;
}

exa_status
exa_batch_result(const exa_batch *b, size_t i, exa_decision *d,
    exa_error *item_err)
{
	if (b == NULL || b->results == NULL || i >= b->results->n_results)
		return fail(item_err, EXA_FAILED_PRECONDITION,
		    "no result %zu: run the batch first", i);
	const Exe__Access__V1__BatchCheckResult *r = b->results->results[i];
	if (r->code != EXA_OK || r->result == NULL)
		return fail(item_err, (exa_status)r->code, "%s", r->message);
	d->allowed = r->result->allowed;
	d->role = r->result->role;
	d->revision = r->result->revision;
	snprintf(d->reason, sizeof d->reason, "%s", r->result->reason);
	return EXA_OK;
}

void
exa_batch_free(exa_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++)
		for (int k = 0; k < 3; k++)
			free(b->strings[i][k]);
	exa_free(b->results);
	free(b);
}

#define EXA_METHOD_DEF(fn, Svc, Method, Req, Resp, resp_desc)                 \
	exa_status fn(exa_client *c, const Exe__Access__V1__##Req *request,   \
	    Exe__Access__V1__##Resp **response, exa_error *err)               \
	{                                                                     \
		return exa_client_call(c, "exe.access.v1." #Svc "/" #Method,  \
		    &request->base, &exe__access__v1__##resp_desc##__descriptor, \
		    0, (ProtobufCMessage **)response, err);                   \
	}

/* clang-format off */
EXA_METHOD_DEF(exa_authz_check, AuthzService, Check, CheckRequest, CheckResponse, check_response)
EXA_METHOD_DEF(exa_batch_check, AuthzService, BatchCheck, BatchCheckRequest, BatchCheckResponse, batch_check_response)
EXA_METHOD_DEF(exa_list_permissions, AuthzService, ListPermissions, ListPermissionsRequest, ListPermissionsResponse, list_permissions_response)
EXA_METHOD_DEF(exa_verify_api_key, AuthzService, VerifyApiKey, VerifyApiKeyRequest, VerifyApiKeyResponse, verify_api_key_response)
EXA_METHOD_DEF(exa_lookup_resources, AuthzService, LookupResources, LookupResourcesRequest, LookupResourcesResponse, lookup_resources_response)
EXA_METHOD_DEF(exa_create_user, WorkspaceService, CreateUser, CreateUserRequest, CreateUserResponse, create_user_response)
EXA_METHOD_DEF(exa_get_user, WorkspaceService, GetUser, GetUserRequest, GetUserResponse, get_user_response)
EXA_METHOD_DEF(exa_find_user, WorkspaceService, FindUser, FindUserRequest, FindUserResponse, find_user_response)
EXA_METHOD_DEF(exa_create_organization, WorkspaceService, CreateOrganization, CreateOrganizationRequest, CreateOrganizationResponse, create_organization_response)
EXA_METHOD_DEF(exa_add_organization_admin, WorkspaceService, AddOrganizationAdmin, AddOrganizationAdminRequest, WriteResponse, write_response)
EXA_METHOD_DEF(exa_remove_organization_admin, WorkspaceService, RemoveOrganizationAdmin, RemoveOrganizationAdminRequest, WriteResponse, write_response)
EXA_METHOD_DEF(exa_create_team_workspace, WorkspaceService, CreateTeamWorkspace, CreateTeamWorkspaceRequest, CreateTeamWorkspaceResponse, create_team_workspace_response)
EXA_METHOD_DEF(exa_get_workspace, WorkspaceService, GetWorkspace, GetWorkspaceRequest, GetWorkspaceResponse, get_workspace_response)
EXA_METHOD_DEF(exa_list_workspaces, WorkspaceService, ListWorkspaces, ListWorkspacesRequest, ListWorkspacesResponse, list_workspaces_response)
EXA_METHOD_DEF(exa_update_workspace_settings, WorkspaceService, UpdateWorkspaceSettings, UpdateWorkspaceSettingsRequest, UpdateWorkspaceSettingsResponse, update_workspace_settings_response)
EXA_METHOD_DEF(exa_delete_workspace, WorkspaceService, DeleteWorkspace, DeleteWorkspaceRequest, WriteResponse, write_response)
EXA_METHOD_DEF(exa_add_member, WorkspaceService, AddMember, AddMemberRequest, MemberResponse, member_response)
EXA_METHOD_DEF(exa_change_member_role, WorkspaceService, ChangeMemberRole, ChangeMemberRoleRequest, MemberResponse, member_response)
EXA_METHOD_DEF(exa_remove_member, WorkspaceService, RemoveMember, RemoveMemberRequest, WriteResponse, write_response)
EXA_METHOD_DEF(exa_list_members, WorkspaceService, ListMembers, ListMembersRequest, ListMembersResponse, list_members_response)
EXA_METHOD_DEF(exa_create_invitation, WorkspaceService, CreateInvitation, CreateInvitationRequest, CreateInvitationResponse, create_invitation_response)
EXA_METHOD_DEF(exa_list_invitations, WorkspaceService, ListInvitations, ListInvitationsRequest, ListInvitationsResponse, list_invitations_response)
EXA_METHOD_DEF(exa_revoke_invitation, WorkspaceService, RevokeInvitation, RevokeInvitationRequest, WriteResponse, write_response)
EXA_METHOD_DEF(exa_accept_invitation, WorkspaceService, AcceptInvitation, AcceptInvitationRequest, MemberResponse, member_response)
EXA_METHOD_DEF(exa_decline_invitation, WorkspaceService, DeclineInvitation, DeclineInvitationRequest, WriteResponse, write_response)
EXA_METHOD_DEF(exa_rotate_api_key, WorkspaceService, RotateApiKey, RotateApiKeyRequest, RotateApiKeyResponse, rotate_api_key_response)
EXA_METHOD_DEF(exa_get_api_key, WorkspaceService, GetApiKey, GetApiKeyRequest, GetApiKeyResponse, get_api_key_response)
EXA_METHOD_DEF(exa_register_resource, WorkspaceService, RegisterResource, RegisterResourceRequest, RegisterResourceResponse, register_resource_response)
EXA_METHOD_DEF(exa_delete_resource, WorkspaceService, DeleteResource, DeleteResourceRequest, WriteResponse, write_response)
EXA_METHOD_DEF(exa_list_resources, WorkspaceService, ListResources, ListResourcesRequest, ListResourcesResponse, list_resources_response)
EXA_METHOD_DEF(exa_record_activity, WorkspaceService, RecordActivity, RecordActivityRequest, RecordActivityResponse, record_activity_response)
EXA_METHOD_DEF(exa_list_activity, WorkspaceService, ListActivity, ListActivityRequest, ListActivityResponse, list_activity_response)
/* clang-format on */
