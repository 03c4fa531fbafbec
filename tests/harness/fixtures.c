/* The integration and fault tests' shared set-up, through the client
 * library. See fixtures.h. */
#include "fixtures.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "unit/unit.h"

/* failed reports that `what` did not work and fails the current case. */
static bool
failed(const char *what, const exa_error *err)
{
	fprintf(stderr, "  %s failed: %s\n", what, err->message);
	unit_case_failed = 1;
	return false;
}

void
fixture_must(exa_status rc, const exa_error *err, const char *what)
{
	if (rc != EXA_OK) {
		fprintf(stderr, "  %s: %s: %s\n", what, exa_status_name(rc),
		    err->message);
		exit(1);
	}
}

Exe__Access__V1__Principal
fixture_as_user(const char *user_id)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = (char *)user_id;
	return p;
}

Exe__Access__V1__Principal
fixture_as_key(const char *secret)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
	p.api_key = (char *)secret;
	return p;
}

Exe__Access__V1__Principal
fixture_principal(const char *user_id, const char *api_key)
{
	if (user_id != NULL)
		return fixture_as_user(user_id);
	if (api_key != NULL)
		return fixture_as_key(api_key);
	Exe__Access__V1__Principal none = EXE__ACCESS__V1__PRINCIPAL__INIT;
	return none;
}

exa_status
fixture_create_user(exa_client *c, const char *username, const char *email,
    const char *display_name, Exe__Access__V1__CreateUserResponse **out,
    exa_error *err)
{
	char default_email[128];
	if (email == NULL) {
		snprintf(default_email, sizeof default_email, "%s@example.com",
		    username);
		email = default_email;
	}
	Exe__Access__V1__CreateUserRequest req =
	    EXE__ACCESS__V1__CREATE_USER_REQUEST__INIT;
	req.username = (char *)username;
	req.email = (char *)email;
	req.display_name = (char *)(display_name != NULL ? display_name : "");
	Exe__Access__V1__CreateUserResponse *r = NULL;
	exa_status rc = exa_create_user(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

exa_status
fixture_get_user(exa_client *c, const char *user_id,
    Exe__Access__V1__GetUserResponse **out, exa_error *err)
{
	Exe__Access__V1__GetUserRequest req =
	    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	req.user_id = (char *)user_id;
	Exe__Access__V1__GetUserResponse *r = NULL;
	exa_status rc = exa_get_user(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

bool
fixture_sign_up_email(exa_client *c, const char *prefix, const char *email,
    struct fixture_user *u)
{
	memset(u, 0, sizeof *u);
	snprintf(u->username, sizeof u->username, "%s", harness_unique(prefix));
	if (email != NULL)
		snprintf(u->email, sizeof u->email, "%s", email);
	else
		snprintf(
		    u->email, sizeof u->email, "%s@example.com", u->username);
	Exe__Access__V1__CreateUserResponse *r = NULL;
	exa_error err;
	if (fixture_create_user(c, u->username, u->email, NULL, &r, &err) !=
	    EXA_OK) {
		fprintf(stderr, "  sign-up of %s failed: %s\n", u->username,
		    err.message);
		unit_case_failed = 1;
		return false;
	}
	snprintf(u->id, sizeof u->id, "%s", r->user->id);
	snprintf(
	    u->workspace, sizeof u->workspace, "%s", r->personal_workspace->id);
	snprintf(u->key, sizeof u->key, "%s", r->api_key);
	u->revision = r->revision;
	exa_free(r);
	return true;
}

bool
fixture_sign_up(exa_client *c, const char *prefix, struct fixture_user *u)
{
	return fixture_sign_up_email(c, prefix, NULL, u);
}

exa_status
fixture_create_org(exa_client *c, const char *actor_id, const char *name,
    Exe__Access__V1__CreateOrganizationResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__CreateOrganizationRequest req =
	    EXE__ACCESS__V1__CREATE_ORGANIZATION_REQUEST__INIT;
	req.actor = &actor;
	req.name = (char *)name;
	Exe__Access__V1__CreateOrganizationResponse *r = NULL;
	exa_status rc = exa_create_organization(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

exa_status
fixture_create_team(exa_client *c, const char *actor_id, const char *org_id,
    const char *name, const char *first_admin_id,
    Exe__Access__V1__CreateTeamWorkspaceResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__CreateTeamWorkspaceRequest req =
	    EXE__ACCESS__V1__CREATE_TEAM_WORKSPACE_REQUEST__INIT;
	req.actor = &actor;
	req.organization_id = (char *)org_id;
	req.name = (char *)name;
	if (first_admin_id != NULL)
		req.first_admin_user_id = (char *)first_admin_id;
	Exe__Access__V1__CreateTeamWorkspaceResponse *r = NULL;
	exa_status rc = exa_create_team_workspace(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

static void
raise_to(uint64_t *newest, uint64_t revision)
{
	if (newest != NULL && revision > *newest)
		*newest = revision;
}

exa_status
fixture_add_member(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, Exe__Access__V1__Role role,
    uint64_t *newest, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__AddMemberRequest req =
	    EXE__ACCESS__V1__ADD_MEMBER_REQUEST__INIT;
	req.actor = &actor;
	req.workspace_id = (char *)workspace_id;
	req.user_id = (char *)user_id;
	req.role = role;
	Exe__Access__V1__MemberResponse *r = NULL;
	exa_status rc = exa_add_member(c, &req, &r, err);
	if (rc == EXA_OK)
		raise_to(newest, r->revision);
	exa_free(r);
	return rc;
}

exa_status
fixture_change_role(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, Exe__Access__V1__Role role,
    uint64_t *newest, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__ChangeMemberRoleRequest req =
	    EXE__ACCESS__V1__CHANGE_MEMBER_ROLE_REQUEST__INIT;
	req.actor = &actor;
	req.workspace_id = (char *)workspace_id;
	req.user_id = (char *)user_id;
	req.role = role;
	Exe__Access__V1__MemberResponse *r = NULL;
	exa_status rc = exa_change_member_role(c, &req, &r, err);
	if (rc == EXA_OK)
		raise_to(newest, r->revision);
	exa_free(r);
	return rc;
}

exa_status
fixture_remove_member(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, uint64_t *newest,
    exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__RemoveMemberRequest req =
	    EXE__ACCESS__V1__REMOVE_MEMBER_REQUEST__INIT;
	req.actor = &actor;
	req.workspace_id = (char *)workspace_id;
	req.user_id = (char *)user_id;
	Exe__Access__V1__WriteResponse *r = NULL;
	exa_status rc = exa_remove_member(c, &req, &r, err);
	if (rc == EXA_OK)
		raise_to(newest, r->revision);
	exa_free(r);
	return rc;
}

exa_status
fixture_grant(exa_client *c, const char *actor_id, const char *type,
    const char *id, const char *user_id, Exe__Access__V1__Role role,
    uint64_t *newest, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = (char *)type;
	ref.id = (char *)id;
	Exe__Access__V1__GrantResourceRoleRequest req =
	    EXE__ACCESS__V1__GRANT_RESOURCE_ROLE_REQUEST__INIT;
	req.actor = &actor;
	req.resource = &ref;
	req.user_id = (char *)user_id;
	req.role = role;
	Exe__Access__V1__GrantResourceRoleResponse *r = NULL;
	exa_status rc = exa_grant_resource_role(c, &req, &r, err);
	if (rc == EXA_OK)
		raise_to(newest, r->revision);
	exa_free(r);
	return rc;
}

exa_status
fixture_revoke(exa_client *c, const char *actor_id, const char *type,
    const char *id, const char *user_id, uint64_t *newest, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = (char *)type;
	ref.id = (char *)id;
	Exe__Access__V1__RevokeResourceRoleRequest req =
	    EXE__ACCESS__V1__REVOKE_RESOURCE_ROLE_REQUEST__INIT;
	req.actor = &actor;
	req.resource = &ref;
	req.user_id = (char *)user_id;
	Exe__Access__V1__WriteResponse *r = NULL;
	exa_status rc = exa_revoke_resource_role(c, &req, &r, err);
	if (rc == EXA_OK)
		raise_to(newest, r->revision);
	exa_free(r);
	return rc;
}

/* org_create: `actor_id` creates the organisation `name`, whose id goes
 * to `org_id`. */
static bool
org_create(exa_client *c, const char *actor_id, const char *name, char *org_id)
{
	exa_error err;
	Exe__Access__V1__CreateOrganizationResponse *o = NULL;
	if (fixture_create_org(c, actor_id, name, &o, &err) != EXA_OK)
		return failed("CreateOrganization", &err);
	snprintf(org_id, FIXTURE_ID_SIZE, "%s", o->organization->id);
	exa_free(o);
	return true;
}

bool
fixture_org_found(exa_client *c, const char *admin_prefix, const char *org_name,
    struct fixture_user *admin, char *org_id)
{
	return fixture_sign_up(c, admin_prefix, admin) &&
	       org_create(c, admin->id, org_name, org_id);
}

bool
fixture_team_create(exa_client *c, const char *actor_id, const char *org_id,
    const char *name, const char *first_admin_id, char *workspace_id, char *key)
{
	exa_error err;
	Exe__Access__V1__CreateTeamWorkspaceResponse *w = NULL;
	if (fixture_create_team(
	        c, actor_id, org_id, name, first_admin_id, &w, &err) != EXA_OK)
		return failed("CreateTeamWorkspace", &err);
	snprintf(workspace_id, FIXTURE_ID_SIZE, "%s", w->workspace->id);
	if (key != NULL)
		snprintf(key, FIXTURE_KEY_SIZE, "%s", w->api_key);
	exa_free(w);
	return true;
}

bool
fixture_member_add(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, Exe__Access__V1__Role role)
{
	exa_error err;
	if (fixture_add_member(
	        c, actor_id, workspace_id, user_id, role, NULL, &err) != EXA_OK)
		return failed("AddMember", &err);
	return true;
}

bool
fixture_invitation_make(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *username, Exe__Access__V1__Role role,
    char *token, size_t size)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__CreateInvitationResponse *r = NULL;
	exa_error err;
	if (fixture_invite(c, &actor, workspace_id, username, NULL, role, 0, &r,
	        &err) != EXA_OK)
		return failed("CreateInvitation", &err);
	snprintf(token, size, "%s", r->token);
	exa_free(r);
	return true;
}

bool
fixture_team_found(exa_client *c, const char *admin_prefix,
    const char *org_name, const char *team_name, struct fixture_team *t)
{
	memset(t, 0, sizeof *t);
	return fixture_org_found(
	           c, admin_prefix, org_name, &t->admin, t->org) &&
	       fixture_team_create(c, t->admin.id, t->org, team_name, NULL,
	           t->workspace, t->first_key);
}

bool
fixture_team_make(exa_client *c, const char *org_name, const char *team_name,
    struct fixture_team *t)
{
	memset(t, 0, sizeof *t);
	fixture_sign_up(c, "adm", &t->admin);
	fixture_sign_up(c, "mem", &t->member);
	fixture_sign_up(c, "ro", &t->reader);
	if (!org_create(c, t->admin.id, org_name, t->org) ||
	    !fixture_team_create(c, t->admin.id, t->org, team_name, NULL,
	        t->workspace, t->first_key))
		return false;
	bool member = fixture_team_add(
	    c, t, &t->member, EXE__ACCESS__V1__ROLE__ROLE_MEMBER);
	bool reader = fixture_team_add(
	    c, t, &t->reader, EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY);
	return member && reader;
}

bool
fixture_team_add(exa_client *c, const struct fixture_team *t,
    const struct fixture_user *u, Exe__Access__V1__Role role)
{
	return fixture_member_add(c, t->admin.id, t->workspace, u->id, role);
}

bool
fixture_team_join(exa_client *c, const struct fixture_team *t,
    const char *prefix, Exe__Access__V1__Role role, struct fixture_user *u)
{
	return fixture_sign_up(c, prefix, u) && fixture_team_add(c, t, u, role);
}

exa_status
fixture_rotate_key(exa_client *c, const Exe__Access__V1__Principal *actor,
    const char *workspace_id, uint32_t grace_seconds, bool read_only,
    Exe__Access__V1__RotateApiKeyResponse **out, exa_error *err)
{
	Exe__Access__V1__RotateApiKeyRequest req =
	    EXE__ACCESS__V1__ROTATE_API_KEY_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	req.grace_seconds = grace_seconds;
	req.read_only = read_only;
	Exe__Access__V1__RotateApiKeyResponse *r = NULL;
	exa_status rc = exa_rotate_api_key(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

exa_status
fixture_register_resource(exa_client *c,
    const Exe__Access__V1__Principal *actor, const char *workspace_id,
    const char *type, const char *id, const char *name,
    Exe__Access__V1__RegisterResourceResponse **out, exa_error *err)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = (char *)type;
	ref.id = (char *)id;
	Exe__Access__V1__RegisterResourceRequest req =
	    EXE__ACCESS__V1__REGISTER_RESOURCE_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	req.resource = &ref;
	req.name = (char *)(name != NULL ? name : "");
	Exe__Access__V1__RegisterResourceResponse *r = NULL;
	exa_status rc = exa_register_resource(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

exa_status
fixture_invite(exa_client *c, const Exe__Access__V1__Principal *actor,
    const char *workspace_id, const char *username, const char *email,
    Exe__Access__V1__Role role, unsigned days,
    Exe__Access__V1__CreateInvitationResponse **out, exa_error *err)
{
	Exe__Access__V1__CreateInvitationRequest req =
	    EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.workspace_id = (char *)workspace_id;
	if (username != NULL) {
		req.invitee_case =
		    EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INVITEE_USERNAME;
		req.username = (char *)username;
	} else if (email != NULL) {
		req.invitee_case =
		    EXE__ACCESS__V1__CREATE_INVITATION_REQUEST__INVITEE_EMAIL;
		req.email = (char *)email;
	}
	req.role = role;
	req.expires_in_days = days;
	Exe__Access__V1__CreateInvitationResponse *r = NULL;
	exa_status rc = exa_create_invitation(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

exa_status
fixture_accept_invitation(exa_client *c,
    const Exe__Access__V1__Principal *actor, const char *token,
    Exe__Access__V1__MemberResponse **out, exa_error *err)
{
	Exe__Access__V1__AcceptInvitationRequest req =
	    EXE__ACCESS__V1__ACCEPT_INVITATION_REQUEST__INIT;
	req.actor = (Exe__Access__V1__Principal *)actor;
	req.token = (char *)token;
	Exe__Access__V1__MemberResponse *r = NULL;
	exa_status rc = exa_accept_invitation(c, &req, &r, err);
	if (out != NULL)
		*out = r;
	else
		exa_free(r);
	return rc;
}

exa_status
fixture_decline_invitation(
    exa_client *c, const char *actor_id, const char *token, exa_error *err)
{
	Exe__Access__V1__Principal actor = fixture_as_user(actor_id);
	Exe__Access__V1__DeclineInvitationRequest req =
	    EXE__ACCESS__V1__DECLINE_INVITATION_REQUEST__INIT;
	req.actor = &actor;
	req.token = (char *)token;
	Exe__Access__V1__WriteResponse *r = NULL;
	exa_status rc = exa_decline_invitation(c, &req, &r, err);
	exa_free(r);
	return rc;
}

exa_status
fixture_check(exa_client *c, const char *user_id, const char *api_key,
    const char *permission, const char *workspace_id, const char *resource_type,
    const char *resource_id, uint64_t fresh,
    Exe__Access__V1__CheckResponse **out, exa_error *err)
{
	Exe__Access__V1__Principal p = fixture_principal(user_id, api_key);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &p;
	req.permission = (char *)permission;
	req.at_least_as_fresh = fresh;
	if (workspace_id != NULL) {
		req.target_case =
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
		req.workspace_id = (char *)workspace_id;
	} else if (resource_type != NULL) {
		req.target_case =
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
		ref.type = (char *)resource_type;
		ref.id = (char *)resource_id;
		req.resource = &ref;
	}
	*out = NULL;
	return exa_authz_check(c, &req, out, err);
}

uint64_t
fixture_current_revision(exa_client *c)
{
	Exe__Access__V1__ReadChangesRequest req =
	    EXE__ACCESS__V1__READ_CHANGES_REQUEST__INIT;
	req.current_only = true;
	Exe__Access__V1__ReadChangesResponse *resp = NULL;
	exa_error err;
	fixture_must(exa_read_changes(c, &req, &resp, &err), &err,
	    "the current revision");
	uint64_t rev = resp->revision;
	exa_free(resp);
	return rev;
}

int
fixture_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof addr;
	int port = 0;
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
	    getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
		port = ntohs(addr.sin_port);
	close(fd);
	return port;
}

int
fixture_run_suite(struct harness *h, const char *name,
    const char *const *extra_args, const struct unit_case *cases, size_t n)
{
	harness_start(h, name, extra_args);
	int failed = unit_run(cases, n);
	int status = harness_stop(h);
	if (status != 0)
		fprintf(stderr, "exe-accessd exited with %d after SIGTERM\n",
		    status);
	return failed == 0 && status == 0 ? 0 : 1;
}

int
fixture_http_get(int port, const char *path, char *body, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	/* Bounded: a daemon that cannot accept must fail the test, not
	 * hang it. */
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	struct sockaddr_in addr = {
	    .sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return 0;
	}
	char req[256];
	int n = snprintf(req, sizeof req,
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
	    path);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return 0;
	}
	static char buf[1 << 20];
	size_t got = 0;
	ssize_t r;
	while (got + 1 < sizeof buf &&
	       (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	close(fd);
	int status = 0;
	sscanf(buf, "HTTP/1.%*d %d", &status);
	const char *start = strstr(buf, "\r\n\r\n");
	snprintf(body, size, "%s", start != NULL ? start + 4 : "");
	return status;
}

double
fixture_metric(const char *body, const char *sample)
{
	const char *p = body;
	size_t len = strlen(sample);
	while ((p = strstr(p, sample)) != NULL) {
		if ((p == body || p[-1] == '\n') && p[len] == ' ')
			return strtod(p + len + 1, NULL);
		p += len;
	}
	return -1;
}
