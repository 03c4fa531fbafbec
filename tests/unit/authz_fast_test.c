/* Unit tests of Check's fast path (authz.c on the cache alone, as nng's
 * thread runs it, through pipeline_begin): the revision an answer carries
 * when it is made of several cached parts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz/cache.h"
#include "dispatch.h"
#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "rpc/call.h"
#include "rpc/pipeline.h"
#include "unit.h"

#define USER "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90"
#define WS "123e4567-e89b-12d3-a456-426614174000"

enum { MAX_BYTES = 1 << 20 };

/* check_on_resource runs a Check of `permission` for USER on experiment
 * "e1" through the pipeline on `svc`; the response, or NULL if the fast
 * path did not answer it. */
static const Exe__Access__V1__CheckResponse *
check_on_resource(struct call *call, const struct service_ctx *svc,
    const char *permission)
{
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = USER;
	Exe__Access__V1__ResourceRef r = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	r.type = "experiment";
	r.id = "e1";
	Exe__Access__V1__CheckRequest req = EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &p;
	req.permission = (char *)permission;
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
	req.resource = &r;
	uint8_t body[512];
	size_t body_len = exe__access__v1__check_request__pack(&req, body);
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	env.method = "exe.access.v1.AuthzService/Check";
	env.body.data = body;
	env.body.len = body_len;
	uint8_t buf[1024];
	size_t len = exe__access__v1__rpc_request__pack(&env, buf);
	memset(call, 0, sizeof *call);
	arena_init(&call->arena);
	call->svc = svc;
	if (pipeline_begin(call, buf, len, MAX_BYTES) != PIPELINE_REPLY ||
	    call->code != 0 || call->response == NULL)
		return NULL;
	return (const Exe__Access__V1__CheckResponse *)call->response;
}

/* A resource's location learned from a read past what the cache has
 * applied (stored at 100, the cache at 90), and the user's standing and
 * grant known only up to 90: the grant's revocation may have come at 95
 * and not be applied yet. The answer reflects 90, not 100. */
static void
an_answer_reflects_the_oldest_of_its_parts(void)
{
	struct cache *c = NULL;
	EXPECT_INT(cache_new(&c, 100, 60000, 90), 0);
	if (c == NULL)
		return;
	cache_put_resource(c, "experiment", "e1", WS, 100);
	struct cache_membership m = {.workspace_exists = true,
	    .role = ROLE_READ_ONLY, .has_grants = true};
	cache_put_membership(c, USER, WS, &m, 90);
	cache_put_grant(c, USER, WS, "experiment", "e1", ROLE_MEMBER, 90);
	struct service_ctx svc = {.methods = &dispatch_table, .cache = c};
	struct call call;
	const Exe__Access__V1__CheckResponse *resp =
	    check_on_resource(&call, &svc, "experiment.edit");
	EXPECT(resp != NULL);
	if (resp != NULL) {
		EXPECT(resp->allowed); /* by the grant */
		EXPECT_INT(resp->revision, 90);
	}
	pipeline_end(&call);

	/* Every part newer than what was applied: the oldest of them. */
	cache_put_membership(c, USER, WS, &m, 97);
	cache_put_grant(c, USER, WS, "experiment", "e1", ROLE_MEMBER, 95);
	resp = check_on_resource(&call, &svc, "experiment.edit");
	EXPECT(resp != NULL);
	if (resp != NULL)
		EXPECT_INT(resp->revision, 95);
	pipeline_end(&call);
	cache_free(c);
}

static const struct unit_case cases[] = {
	{"an answer reflects the oldest of its parts",
	    an_answer_reflects_the_oldest_of_its_parts},
};

UNIT_MAIN(cases)
