/* Text over its wire length, on a real exe-accessd over raw nng sockets: a
 * string with a NUL byte in it (or any other control character) is
 * INVALID_ARGUMENT naming the field, in every method, in every kind of
 * field (ids, names, permissions, keys, invitation tokens, free text,
 * nested and repeated fields), and nothing after a NUL is dropped unseen.
 * protobuf-c packs C strings, which cannot hold a NUL, so each request is
 * packed with a marker byte ('#') where the NUL goes and the marker is
 * overwritten in the packed bytes: what reaches the service is exactly what
 * a caller in another language sends. */
#define _GNU_SOURCE /* memmem */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

struct reply {
	bool received;
	int code;
	char message[512];
	uint8_t body[8192];
	size_t body_len;
};

/* send_envelope sends `len` bytes of RpcRequest and waits for the reply. */
static struct reply
send_envelope(const uint8_t *buf, size_t len)
{
	struct reply r = {0};
	nng_socket s;
	if (nng_req0_open(&s) != 0)
		return r;
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, 5000);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_msg *msg = NULL, *in = NULL;
	if (nng_dial(s, h.url, NULL, 0) == 0 && nng_msg_alloc(&msg, len) == 0) {
		memcpy(nng_msg_body(msg), buf, len);
		if (nng_sendmsg(s, msg, 0) != 0)
			nng_msg_free(msg);
		else if (nng_recvmsg(s, &in, 0) == 0) {
			Exe__Access__V1__RpcResponse *resp =
			    exe__access__v1__rpc_response__unpack(
			        NULL, nng_msg_len(in), nng_msg_body(in));
			if (resp != NULL && resp->body.len <= sizeof r.body) {
				r.received = true;
				r.code = resp->code;
				snprintf(r.message, sizeof r.message, "%s",
				    resp->message);
				if (resp->body.len > 0)
					memcpy(r.body, resp->body.data,
					    resp->body.len);
				r.body_len = resp->body.len;
			}
			exe__access__v1__rpc_response__free_unpacked(
			    resp, NULL);
			nng_msg_free(in);
		}
	}
	nng_close(s);
	return r;
}

/* poke_all replaces every '#' in `buf` by `byte`. */
static void
poke_all(uint8_t *buf, size_t len, uint8_t byte)
{
	for (uint8_t *at; (at = memchr(buf, '#', len)) != NULL;)
		*at = byte;
}

/* poke_strings finds, in the packed form `buf` of `msg`, each string
 * value of `msg` (at any depth) that holds a '#', and replaces its '#'s by
 * `byte`: only inside those values, never in a tag or a length. */
static void
poke_strings(
    const ProtobufCMessage *msg, uint8_t *buf, size_t len, uint8_t byte)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	const char *base = (const char *)msg;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t which;
			memcpy(
			    &which, base + f->quantifier_offset, sizeof which);
			if (which != f->id)
				continue;
		}
		size_t n = 1;
		void *const *values = (void *const *)(base + f->offset);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			memcpy(&n, base + f->quantifier_offset, sizeof n);
			values = *(void *const *const *)(base + f->offset);
		}
		for (size_t k = 0; k < n; k++) {
			if (values[k] == NULL)
				continue;
			if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
				poke_strings(values[k], buf, len, byte);
				continue;
			}
			const char *v = values[k];
			size_t vlen = strlen(v);
			uint8_t *at;
			if (strchr(v, '#') == NULL ||
			    (at = memmem(buf, len, v, vlen)) == NULL)
				continue;
			poke_all(at, vlen, byte);
		}
	}
}

/* call_poked packs `req`, puts `byte` where each '#' of its strings is,
 * and sends it to `method` with the admin token (or `token`). */
static struct reply
call_poked_as(const char *method, const ProtobufCMessage *req, uint8_t byte,
    const char *token)
{
	size_t body_len = protobuf_c_message_get_packed_size(req);
	uint8_t *body = malloc(body_len + 1);
	if (body == NULL)
		abort();
	protobuf_c_message_pack(req, body);
	poke_strings(req, body, body_len, byte);
	char full[160];
	snprintf(full, sizeof full, "exe.access.v1.%s", method);
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	env.method = full;
	env.body.data = body;
	env.body.len = body_len;
	env.token = (char *)(token != NULL ? token : h.token);
	size_t n = exe__access__v1__rpc_request__get_packed_size(&env);
	uint8_t *buf = malloc(n);
	if (buf == NULL)
		abort();
	exe__access__v1__rpc_request__pack(&env, buf);
	struct reply r = send_envelope(buf, n);
	free(buf);
	free(body);
	return r;
}

static struct reply
call_poked(const char *method, const ProtobufCMessage *req, uint8_t byte)
{
	return call_poked_as(method, req, byte, NULL);
}

#define EXPECT_REFUSED(r, text)                                                \
	do {                                                                   \
		struct reply r_ = (r);                                         \
		EXPECT(r_.received);                                           \
		EXPECT_INT(r_.code, EXA_INVALID_ARGUMENT);                     \
		EXPECT_STR(r_.message, (text));                                \
	} while (0)

static struct fixture_user alice;

static void
set_up(void)
{
	fixture_sign_up(h.client, "nul", &alice);
}

/* The principal and target of a Check of `permission` by `user_id` in
 * `workspace_id`. */
static Exe__Access__V1__CheckRequest
check_of(Exe__Access__V1__Principal *who, const char *permission,
    const char *workspace_id)
{
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = who;
	req.permission = (char *)permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	req.workspace_id = (char *)workspace_id;
	return req;
}

/* Permissions: "experiment.view\0junk" was answered as experiment.view. */
static void
check_permission(void)
{
	Exe__Access__V1__Principal who = fixture_as_user(alice.id);
	Exe__Access__V1__CheckRequest req =
	    check_of(&who, "experiment.view#junk", alice.workspace);
	EXPECT_REFUSED(call_poked("AuthzService/Check", &req.base, 0),
	    "permission: contains a NUL byte");
	EXPECT_REFUSED(call_poked("AuthzService/Check", &req.base, 0x1b),
	    "permission: contains a control character");
	/* The same request without the marker's byte is allowed. */
	req.permission = "experiment.view";
	struct reply r = call_poked("AuthzService/Check", &req.base, 0);
	EXPECT_INT(r.code, EXA_OK);
	Exe__Access__V1__CheckResponse *resp =
	    exe__access__v1__check_response__unpack(NULL, r.body_len, r.body);
	EXPECT(resp != NULL && resp->allowed);
	exe__access__v1__check_response__free_unpacked(resp, NULL);
}

/* Ids: a user id followed by "\0zzz" was taken as that user. */
static void
check_user_id(void)
{
	char id[64];
	snprintf(id, sizeof id, "%s#zzz", alice.id);
	Exe__Access__V1__Principal who = fixture_as_user(id);
	Exe__Access__V1__CheckRequest req =
	    check_of(&who, "experiment.view", alice.workspace);
	EXPECT_REFUSED(call_poked("AuthzService/Check", &req.base, 0),
	    "principal.user_id: contains a NUL byte");
	char ws[64];
	snprintf(ws, sizeof ws, "%s#", alice.workspace);
	Exe__Access__V1__Principal me = fixture_as_user(alice.id);
	req = check_of(&me, "experiment.view", ws);
	EXPECT_REFUSED(call_poked("AuthzService/Check", &req.base, 0),
	    "workspace_id: contains a NUL byte");
}

/* Keys: a key followed by "\0trailing" verified, and acted as the key. */
static void
api_keys(void)
{
	char key[96];
	snprintf(key, sizeof key, "%s#trailing", alice.key);
	Exe__Access__V1__VerifyApiKeyRequest verify =
	    EXE__ACCESS__V1__VERIFY_API_KEY_REQUEST__INIT;
	verify.secret = key;
	EXPECT_REFUSED(call_poked("AuthzService/VerifyApiKey", &verify.base, 0),
	    "secret: contains a NUL byte");
	Exe__Access__V1__Principal who = fixture_as_key(key);
	Exe__Access__V1__CheckRequest check =
	    check_of(&who, "experiment.view", alice.workspace);
	EXPECT_REFUSED(call_poked("AuthzService/Check", &check.base, 0),
	    "principal.api_key: contains a NUL byte");
	Exe__Access__V1__ListPermissionsRequest list =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	list.principal = &who;
	list.workspace_id = alice.workspace;
	EXPECT_REFUSED(
	    call_poked("AuthzService/ListPermissions", &list.base, 0),
	    "principal.api_key: contains a NUL byte");
	Exe__Access__V1__GetWorkspaceRequest get =
	    EXE__ACCESS__V1__GET_WORKSPACE_REQUEST__INIT;
	get.actor = &who;
	get.workspace_id = alice.workspace;
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/GetWorkspace", &get.base, 0),
	    "actor.api_key: contains a NUL byte");
}

/* Resource ids: "nulid\0x" was registered as "nulid". */
static void
resource_ids(void)
{
	Exe__Access__V1__Principal who = fixture_as_user(alice.id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = "nulid#x";
	Exe__Access__V1__RegisterResourceRequest reg =
	    EXE__ACCESS__V1__REGISTER_RESOURCE_REQUEST__INIT;
	reg.actor = &who;
	reg.workspace_id = alice.workspace;
	reg.resource = &ref;
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/RegisterResource", &reg.base, 0),
	    "resource.id: contains a NUL byte");
	EXPECT_INT(harness_sql_long(&h,
	               "SELECT count(*) FROM resources WHERE external_id "
	               "LIKE 'nulid%'",
	               NULL),
	    0);
}

/* Usernames and names: "nulab\0cd" was stored as "nulab"; names and
 * details were cut at the NUL. */
static void
names_and_free_text(void)
{
	Exe__Access__V1__CreateUserRequest user =
	    EXE__ACCESS__V1__CREATE_USER_REQUEST__INIT;
	user.username = "nulab#cd";
	user.email = "nulab@example.com";
	EXPECT_REFUSED(call_poked("WorkspaceService/CreateUser", &user.base, 0),
	    "username: contains a NUL byte");
	EXPECT_REFUSED(call_poked("WorkspaceService/CreateUser", &user.base, 1),
	    "username: contains a control character");
	user.username = "nulab";
	user.email = "nulab@example.com#evil.example";
	EXPECT_REFUSED(call_poked("WorkspaceService/CreateUser", &user.base, 0),
	    "email: contains a NUL byte");
	user.email = "nulab@example.com";
	user.display_name = "Nul#Ab";
	EXPECT_REFUSED(call_poked("WorkspaceService/CreateUser", &user.base, 0),
	    "display_name: contains a NUL byte");
	EXPECT_INT(
	    harness_sql_long(&h,
	        "SELECT count(*) FROM users WHERE username ILIKE 'nulab%'",
	        NULL),
	    0);

	Exe__Access__V1__Principal who = fixture_as_user(alice.id);
	Exe__Access__V1__CreateOrganizationRequest org =
	    EXE__ACCESS__V1__CREATE_ORGANIZATION_REQUEST__INIT;
	org.actor = &who;
	org.name = "Acme#Hidden";
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/CreateOrganization", &org.base, 0),
	    "name: contains a NUL byte");

	Exe__Access__V1__RecordActivityRequest act =
	    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
	act.actor = &who;
	act.workspace_id = alice.workspace;
	act.action = "measurement.add";
	act.detail = "added 3#hidden";
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/RecordActivity", &act.base, 0),
	    "detail: contains a NUL byte");
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/RecordActivity", &act.base, 0x7f),
	    "detail: contains a control character");
	EXPECT_INT(
	    harness_sql_long(&h,
	        "SELECT count(*) FROM activity WHERE detail LIKE 'added 3%'",
	        NULL),
	    0);
}

/* Look-ups: FindUser("mike3\0") found mike3. */
static void
find_user(void)
{
	char name[80];
	snprintf(name, sizeof name, "%s#", alice.username);
	Exe__Access__V1__FindUserRequest req =
	    EXE__ACCESS__V1__FIND_USER_REQUEST__INIT;
	req.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_USERNAME;
	req.username = name;
	EXPECT_REFUSED(call_poked("WorkspaceService/FindUser", &req.base, 0),
	    "username: contains a NUL byte");
	char email[160];
	snprintf(email, sizeof email, "%s#", alice.email);
	req.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_EMAIL;
	req.email = email;
	EXPECT_REFUSED(call_poked("WorkspaceService/FindUser", &req.base, 0),
	    "email: contains a NUL byte");
}

/* Invitation tokens and page tokens. */
static void
tokens(void)
{
	Exe__Access__V1__Principal who = fixture_as_user(alice.id);
	Exe__Access__V1__AcceptInvitationRequest accept =
	    EXE__ACCESS__V1__ACCEPT_INVITATION_REQUEST__INIT;
	accept.actor = &who;
	accept.token = "exa_inv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA#";
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/AcceptInvitation", &accept.base, 0),
	    "token: contains a NUL byte");
	Exe__Access__V1__ListActivityRequest list =
	    EXE__ACCESS__V1__LIST_ACTIVITY_REQUEST__INIT;
	list.actor = &who;
	list.workspace_id = alice.workspace;
	list.page_token = "AAAA#";
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/ListActivity", &list.base, 0),
	    "page_token: contains a NUL byte");
	/* The caller token itself: a known token followed by a NUL is not
	 * that token. */
	char caller[96];
	snprintf(caller, sizeof caller, "%s#junk", h.token);
	Exe__Access__V1__GetUserRequest get =
	    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	get.user_id = alice.id;
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	uint8_t body[128];
	env.method = "exe.access.v1.WorkspaceService/GetUser";
	env.body.data = body;
	env.body.len = exe__access__v1__get_user_request__pack(&get, body);
	env.token = caller;
	uint8_t buf[512];
	size_t n = exe__access__v1__rpc_request__pack(&env, buf);
	poke_strings(&env.base, buf, n, 0);
	struct reply r = send_envelope(buf, n);
	EXPECT_INT(r.code, EXA_UNAUTHENTICATED);
	EXPECT_CONTAINS(r.message, "token: not recognized");
}

/* Repeated fields: settings and BatchCheck items. A BatchCheck item fails
 * alone, as any other bad item does. */
static void
repeated_fields(void)
{
	Exe__Access__V1__Principal who = fixture_as_user(alice.id);
	Exe__Access__V1__Setting s0 = EXE__ACCESS__V1__SETTING__INIT,
	                         s1 = EXE__ACCESS__V1__SETTING__INIT;
	s0.key = "colour";
	s0.value = "blue";
	s1.key = "theme";
	s1.value = "dark#light";
	Exe__Access__V1__Setting *set[] = {&s0, &s1};
	Exe__Access__V1__UpdateWorkspaceSettingsRequest up =
	    EXE__ACCESS__V1__UPDATE_WORKSPACE_SETTINGS_REQUEST__INIT;
	up.actor = &who;
	up.workspace_id = alice.workspace;
	up.set = set;
	up.n_set = 2;
	EXPECT_REFUSED(
	    call_poked("WorkspaceService/UpdateWorkspaceSettings", &up.base, 0),
	    "set[1].value: contains a NUL byte");

	Exe__Access__V1__CheckRequest items[3] = {
	    check_of(&who, "experiment.view", alice.workspace),
	    check_of(&who, "experiment.view#junk", alice.workspace),
	    check_of(&who, "dataset.view", alice.workspace),
	};
	Exe__Access__V1__CheckRequest *list[] = {
	    &items[0], &items[1], &items[2]};
	Exe__Access__V1__BatchCheckRequest batch =
	    EXE__ACCESS__V1__BATCH_CHECK_REQUEST__INIT;
	batch.checks = list;
	batch.n_checks = 3;
	struct reply r = call_poked("AuthzService/BatchCheck", &batch.base, 0);
	EXPECT_INT(r.code, EXA_OK);
	Exe__Access__V1__BatchCheckResponse *resp =
	    exe__access__v1__batch_check_response__unpack(
	        NULL, r.body_len, r.body);
	EXPECT(resp != NULL && resp->n_results == 3);
	if (resp != NULL && resp->n_results == 3) {
		EXPECT_INT(resp->results[0]->code, EXA_OK);
		EXPECT(resp->results[0]->result != NULL &&
		       resp->results[0]->result->allowed);
		EXPECT_INT(resp->results[1]->code, EXA_INVALID_ARGUMENT);
		EXPECT_STR(resp->results[1]->message,
		    "checks[1].permission: contains a NUL byte");
		EXPECT(resp->results[1]->result == NULL);
		EXPECT_INT(resp->results[2]->code, EXA_OK);
		EXPECT(resp->results[2]->result != NULL &&
		       resp->results[2]->result->allowed);
	}
	exe__access__v1__batch_check_response__free_unpacked(resp, NULL);
}

/* A field path: the numbers of the fields from the top, and its name. */
struct field_path {
	char name[128];
	unsigned numbers[4];
	size_t depth;
};

static size_t
string_fields(const ProtobufCMessageDescriptor *d, const struct field_path *at,
    struct field_path *out, size_t n, size_t max)
{
	for (unsigned i = 0; i < d->n_fields && n < max; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		struct field_path p = *at;
		size_t len = strlen(p.name);
		snprintf(p.name + len, sizeof p.name - len, "%s%s%s",
		    len > 0 ? "." : "", f->name,
		    f->label == PROTOBUF_C_LABEL_REPEATED ? "[0]" : "");
		p.numbers[p.depth++] = f->id;
		if (f->type == PROTOBUF_C_TYPE_STRING)
			out[n++] = p;
		else if (p.depth < 4)
			n = string_fields(f->descriptor, &p, out, n, max);
	}
	return n;
}

/* wrap writes the field path `p` from `level` down around "a\0b". */
static size_t
wrap(const struct field_path *p, size_t level, uint8_t *out)
{
	uint8_t inner[64];
	size_t n = 3;
	if (level + 1 < p->depth)
		n = wrap(p, level + 1, inner);
	else
		memcpy(inner, "a\0b", 3);
	out[0] = (uint8_t)(p->numbers[level] << 3 | 2);
	out[1] = (uint8_t)n;
	memcpy(out + 2, inner, n);
	return n + 2;
}

/* Every string field of every method's request, set alone to "a\0b",
 * is refused naming it: as the service's own .proto lists them, so a
 * field added later is covered too. */
static void
every_string_field_of_every_method(void)
{
	const ProtobufCServiceDescriptor *services[] = {
	    &exe__access__v1__authz_service__descriptor,
	    &exe__access__v1__workspace_service__descriptor,
	};
	size_t sent = 0;
	for (size_t s = 0; s < 2; s++) {
		const ProtobufCServiceDescriptor *sd = services[s];
		for (unsigned m = 0; m < sd->n_methods; m++) {
			struct field_path root = {{0}, {0}, 0}, fields[64];
			size_t n = string_fields(
			    sd->methods[m].input, &root, fields, 0, 64);
			char method[160];
			snprintf(method, sizeof method, "%s/%s", sd->name,
			    sd->methods[m].name);
			for (size_t i = 0; i < n; i++) {
				uint8_t body[64];
				Exe__Access__V1__RpcRequest env =
				    EXE__ACCESS__V1__RPC_REQUEST__INIT;
				env.method = method;
				env.body.data = body;
				env.body.len = wrap(&fields[i], 0, body);
				env.token = h.token;
				uint8_t buf[512];
				size_t len = exe__access__v1__rpc_request__pack(
				    &env, buf);
				struct reply r = send_envelope(buf, len);
				char want[200];
				snprintf(want, sizeof want,
				    "%.128s: contains a NUL byte",
				    fields[i].name);
				bool item = strcmp(sd->methods[m].name,
				                "BatchCheck") == 0;
				if (item) {
					/* The item fails, alone. */
					EXPECT_INT(r.code, EXA_OK);
					Exe__Access__V1__BatchCheckResponse *b =
					    exe__access__v1__batch_check_response__unpack(
					        NULL, r.body_len, r.body);
					EXPECT(b != NULL && b->n_results == 1);
					if (b != NULL && b->n_results == 1)
						EXPECT_STR(
						    b->results[0]->message,
						    want);
					exe__access__v1__batch_check_response__free_unpacked(
					    b, NULL);
				} else {
					if (r.code != EXA_INVALID_ARGUMENT ||
					    strcmp(r.message, want) != 0)
						fprintf(
						    stderr, "  %s\n", method);
					EXPECT_INT(
					    r.code, EXA_INVALID_ARGUMENT);
					EXPECT_STR(r.message, want);
				}
				sent++;
			}
		}
	}
	EXPECT(sent > 60);
}

static const struct unit_case cases[] = {
    {"set_up", set_up},
    {"check_permission", check_permission},
    {"check_user_id", check_user_id},
    {"api_keys", api_keys},
    {"resource_ids", resource_ids},
    {"names_and_free_text", names_and_free_text},
    {"find_user", find_user},
    {"tokens", tokens},
    {"repeated_fields", repeated_fields},
    {"every_string_field_of_every_method", every_string_field_of_every_method},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(
	    &h, "text", NULL, cases, sizeof cases / sizeof cases[0]);
}
