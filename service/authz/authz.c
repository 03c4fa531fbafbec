/* AuthzService: Check, BatchCheck, ListPermissions, VerifyApiKey and
 * LookupResources. One decision path, check_decide, serves all of them:
 * it gathers what is known of the principal through authz/standing.h
 * (from the cache alone on nng's callback thread, the fast path with no
 * hand-off to a database worker; from the cache and then the database on
 * a worker) and decides with the pure base/decide.h. */
#include "authz/authz.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authz/standing.h"
#include "base/clock.h"
#include "base/decide.h"
#include "base/perms.h"
#include "base/secrets.h"
#include "base/status.h"
#include "exe/access/v1/authz.pb-c.h"
#include "rpc/method.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "store/authz.h"
#include "store/lookup.h"

enum { BATCH_MAX = 1000 };

/* What check_request_validate read out of a valid CheckRequest, so that
 * deciding it parses nothing twice. */
struct check_ids {
	const struct permission *perm;
	bool user;      /* user_id: the user principal's id */
	bool workspace; /* workspace_id: the target workspace's id */
	unsigned char user_id[16];
	unsigned char workspace_id[16];
};

/* check_request_validate checks one CheckRequest (also a BatchCheck item)
 * and fills *ids from it. */
static int
check_request_validate(const Exe__Access__V1__CheckRequest *req,
    struct check_ids *ids, char *msg, size_t size)
{
	ids->perm = NULL;
	ids->workspace = false;
	int rc = validate_principal("principal", req->principal, ids->user_id, &ids->user,
	    msg, size);
	if (rc != STATUS_OK)
		return rc;
	/* A name the table holds is short printable ASCII, which
	 * validate_text passes: only other text needs its scan (and its
	 * message, should it fail). */
	ids->perm = perms_find(req->permission);
	if (ids->perm == NULL) {
		rc = validate_text("permission", req->permission,
		    LIMIT_PERMISSION, true, msg, size);
		if (rc != STATUS_OK)
			return rc;
		snprintf(msg, size,
		    "permission: \"%s\" is not a permission (e.g. "
		    "experiment.create, members.invite)", req->permission);
		return STATUS_INVALID_ARGUMENT;
	}
	switch (req->target_case) {
	case EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID:
		rc = validate_uuid_id("workspace_id", req->workspace_id, true,
		    ids->workspace_id, msg, size);
		ids->workspace = rc == STATUS_OK;
		return rc;
	case EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE:
		if (!perms_resource_type_known(req->resource->type)) {
			snprintf(msg, size,
			    "resource.type: must be experiment, dataset or "
			    "project");
			return STATUS_INVALID_ARGUMENT;
		}
		return validate_text("resource.id", req->resource->id,
		    LIMIT_RESOURCE_ID, true, msg, size);
	default:
		snprintf(msg, size, "target: give a workspace_id or a resource");
		return STATUS_INVALID_ARGUMENT;
	}
}

int
authz_check_validate(struct call *call)
{
	struct check_ids *ids = call_new(call, sizeof *ids);
	if (ids == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	const Exe__Access__V1__CheckRequest *req = (const void *)call->request;
	call->code = check_request_validate(req, ids, call->message,
	    sizeof call->message);
	if (call->code == STATUS_OK) {
		call->parsed = ids;
		call->at_least_as_fresh = req->at_least_as_fresh;
	}
	return call->code;
}

/* Where a decision may come from. */
enum source {
	CACHE_ONLY = STANDING_CACHE_ONLY,   /* a miss is METHOD_MISS */
	CACHE_OR_DB = STANDING_CACHE_OR_DB, /* on a database worker */
};

/* copy_id copies an id's text (at most 36 bytes) into `out`. */
static void
copy_id(char out[37], const char *id)
{
	size_t n = strnlen(id, 36);
	memcpy(out, id, n);
	out[n] = '\0';
}

/* take_part stamps a decision with what one of its parts reflects: the
 * decision reflects every write up to the oldest of its parts' revisions
 * and no further (a cached part is known good only up to what its cache
 * has applied; a part read from the database, later, may be newer).
 * Stamped with the newest, a check could read a resource's location at
 * 96 and a grant cached at 90 whose revocation at 95 the cache had not
 * applied yet, and answer "allowed, revision 96". */
static void
take_part(struct decision *d, uint64_t part_revision)
{
	if (part_revision < d->revision)
		d->revision = part_revision;
}

/* check_decide decides one request, whose fields check_request_validate
 * read into `ids`. With CACHE_ONLY it returns METHOD_MISS when the cache
 * cannot answer (or is not fresh enough for at_least_as_fresh); otherwise
 * a status, with *d filled on STATUS_OK. `known`, when not NULL, is the
 * user principal's standing in the target workspace, already read with
 * others in one statement (standings_read). */
static int
check_decide(struct call *call, const Exe__Access__V1__CheckRequest *req,
    const struct check_ids *ids, enum source src,
    const struct standing *known, struct decision *d)
{
	uint64_t fresh = req->at_least_as_fresh;
	enum standing_source from = (enum standing_source)src;
	/* Only the fixed part: each path below writes the reason it gives. */
	memset(d, 0, offsetof(struct decision, reason));
	d->reason[0] = '\0';
	d->revision = UINT64_MAX; /* lowered by each part (take_part) */
	int rc;

	if (req->target_case == EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE) {
		bool found;
		uint64_t rev;
		rc = standing_resource(call, from, fresh, req->resource->type,
		    req->resource->id, &found, d->workspace_id, &rev);
		if (rc != STATUS_OK)
			return rc;
		take_part(d, rev);
		if (!found) {
			snprintf(d->reason, sizeof d->reason,
			    "%s \"%s\" is not registered; it is unknown to ExE "
			    "Access", req->resource->type, req->resource->id);
			return STATUS_OK;
		}
	} else {
		copy_id(d->workspace_id, req->workspace_id);
	}

	const Exe__Access__V1__Principal *p = req->principal;
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID) {
		struct standing_user_ids q = {
		    .user_id = p->user_id,
		    .workspace_id = d->workspace_id,
		    .user_bytes = ids->user ? ids->user_id : NULL,
		    .workspace_bytes = ids->workspace ? ids->workspace_id : NULL,
		};
		rc = standing_user(call, from, fresh, &q, known, &d->standing);
		if (rc != STATUS_OK)
			return rc;
		take_part(d, d->standing.revision);
		if (req->target_case !=
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE) {
			decide_user(p->user_id, d->workspace_id, &d->standing,
			    ids->perm, d);
			return STATUS_OK;
		}
		/* On a resource the user's grant counts too: asked for only
		 * if they hold some grant in the workspace, and one could
		 * matter (an admin has all a grant could give). */
		enum role grant = ROLE_NONE;
		if (d->standing.has_grants && !d->standing.personal &&
		    d->standing.role != ROLE_ADMIN) {
			uint64_t rev;
			rc = standing_grant(call, from, fresh, p->user_id,
			    d->workspace_id, req->resource->type,
			    req->resource->id, &grant, &rev);
			if (rc != STATUS_OK)
				return rc;
			take_part(d, rev);
		}
		struct decide_resource r = {req->resource->type,
		    req->resource->id};
		decide_user_resource(p->user_id, d->workspace_id, &d->standing,
		    grant, &r, ids->perm, d);
		return STATUS_OK;
	}

	/* A malformed key is refused by its checksum, without a database
	 * access unless the caller asks for a revision the cache has not
	 * reached. */
	size_t len = strlen(p->api_key);
	if (!secret_well_formed(SECRET_API_KEY, p->api_key, len)) {
		uint64_t rev;
		rc = standing_revision(call, from, fresh, &rev);
		if (rc != STATUS_OK)
			return rc;
		take_part(d, rev);
		decide_key_malformed(d);
		return STATUS_OK;
	}
	rc = standing_key(call, from, fresh, p->api_key, len, &d->key);
	if (rc != STATUS_OK)
		return rc;
	take_part(d, d->key.revision);
	d->standing.workspace_exists = true;
	d->standing.personal = d->key.workspace_personal;
	decide_key(&d->key, d->workspace_id, ids->perm, clock_wall_ms(), d);
	return STATUS_OK;
}

/* check_result fills a CheckResponse from a decision, refusing one that
 * is older than the caller asked for. */
static int
check_result(struct call *call, const Exe__Access__V1__CheckRequest *req,
    const struct decision *d, Exe__Access__V1__CheckResponse **out)
{
	if (req->at_least_as_fresh > d->revision)
		return call_not_fresh(call, req->at_least_as_fresh,
		    d->revision);
	Exe__Access__V1__CheckResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__CheckResponse, exe__access__v1__check_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	/* The response is only packed, never freed: text that outlives the
	 * reply (a literal, the request's own fields) is used in place. */
	resp->allowed = d->allowed;
	resp->role = (Exe__Access__V1__Role)d->role;
	/* An allowance says why only when a grant made it. */
	resp->reason = d->allowed && !d->by_grant
	    ? (char *)""
	    : call_strdup(call, d->reason);
	resp->revision = d->revision;
	/* Which workspace holds a resource is the business of its members
	 * (and its key) only: neither the field nor the reason tells others. */
	bool standing = d->allowed || d->role != ROLE_NONE ||
	    d->grant != ROLE_NONE;
	if (!standing)
		resp->workspace_id = (char *)"";
	else if (req->target_case ==
	        EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID &&
	    strcmp(req->workspace_id, d->workspace_id) == 0)
		resp->workspace_id = req->workspace_id;
	else
		resp->workspace_id = call_strdup(call, d->workspace_id);
	if (!standing && req->target_case ==
	        EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE &&
	    d->workspace_id[0] != '\0') {
		char reason[320];
		snprintf(reason, sizeof reason,
		    "no access to %s \"%.200s\": the principal is not a member "
		    "of the workspace that holds it and has no grant on it",
		    req->resource->type, req->resource->id);
		resp->reason = call_strdup(call, reason);
	}
	*out = resp;
	return STATUS_OK;
}

static int
check(struct call *call, enum source src, const struct standing *known)
{
	const Exe__Access__V1__CheckRequest *req = (const void *)call->request;
	struct decision d;
	int rc = check_decide(call, req, call->parsed, src, known, &d);
	Exe__Access__V1__CheckResponse *resp;
	if (rc == STATUS_OK)
		rc = check_result(call, req, &d, &resp);
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}

int
authz_check_fast(struct call *call)
{
	return check(call, CACHE_ONLY, NULL);
}

int
authz_check(struct call *call)
{
	/* On a worker, one Check is a group of one. */
	int rc;
	authz_check_many(&call, 1, &rc);
	return rc;
}

/* standings_read reads, in one statement, the standing of the user
 * principal of each of the n valid requests (ids[i] non-NULL) in its
 * target workspace, and points known[i] at it; known[i] is NULL for
 * requests that are invalid or about an API key or a resource (decided one
 * by one). Items the cache holds are read too: one statement costs little
 * more for them, and check_decide still prefers the cache. */
static int
standings_read(PGconn *db, size_t n,
    const Exe__Access__V1__CheckRequest *const *reqs,
    const struct check_ids *const *ids, struct standing *out,
    const struct standing **known)
{
	const char **text = calloc(2 * n, sizeof *text);
	size_t *which = malloc(n * sizeof *which);
	if (text == NULL || which == NULL) {
		free(text);
		free(which);
		return STATUS_INTERNAL;
	}
	const char **workspaces = text, **users = text + n;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		known[i] = NULL;
		if (ids[i] == NULL || !ids[i]->user || !ids[i]->workspace)
			continue;
		workspaces[m] = reqs[i]->workspace_id;
		users[m] = reqs[i]->principal->user_id;
		which[m++] = i;
	}
	int rc = store_user_standings(db, m, workspaces, users, out);
	if (rc == STATUS_OK) {
		for (size_t j = 0; j < m; j++)
			known[which[j]] = &out[j];
	}
	free(text);
	free(which);
	return rc;
}

void
authz_check_many(struct call **calls, size_t n, int *rcs)
{
	const Exe__Access__V1__CheckRequest **reqs = calloc(n, sizeof *reqs);
	const struct check_ids **ids = calloc(n, sizeof *ids);
	struct standing *standings = calloc(n, sizeof *standings);
	const struct standing **known = calloc(n, sizeof *known);
	int rc = reqs != NULL && ids != NULL && standings != NULL &&
	        known != NULL
	    ? STATUS_OK
	    : STATUS_INTERNAL;
	if (rc == STATUS_OK) {
		for (size_t i = 0; i < n; i++) {
			reqs[i] = (const void *)calls[i]->request;
			ids[i] = calls[i]->parsed; /* validated on arrival */
		}
		rc = standings_read(calls[0]->db, n, reqs, ids, standings,
		    known);
	}
	for (size_t i = 0; i < n; i++)
		rcs[i] = rc == STATUS_OK ? check(calls[i], CACHE_OR_DB, known[i])
		                         : rc;
	free(reqs);
	free(ids);
	free(standings);
	free(known);
}

/* What batch_validate read out of a BatchCheck: each item's ids, or its
 * refusal. */
struct batch_items {
	struct check_ids *ids;          /* n_checks of them */
	const struct check_ids **valid; /* &ids[i], or NULL for a refused item */
	int *codes;                     /* each item's validation status */
	char **messages;                /* its message, when refused */
};

int
authz_batch_validate(struct call *call)
{
	const Exe__Access__V1__BatchCheckRequest *req =
	    (const void *)call->request;
	if (req->n_checks > BATCH_MAX)
		return call_fail(call, STATUS_INVALID_ARGUMENT,
		    "checks: %zu items, the limit is %d", req->n_checks,
		    BATCH_MAX);
	size_t n = req->n_checks;
	struct batch_items *b = call_new(call, sizeof *b);
	if (b == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	b->ids = call_new(call, sizeof *b->ids * (n + 1));
	b->valid = call_new(call, sizeof *b->valid * (n + 1));
	b->codes = call_new(call, sizeof *b->codes * (n + 1));
	b->messages = call_new(call, sizeof *b->messages * (n + 1));
	if (b->ids == NULL || b->valid == NULL || b->codes == NULL ||
	    b->messages == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	/* Each item is checked once, here; a bad item is answered alone. */
	for (size_t i = 0; i < n; i++) {
		char msg[sizeof call->message];
		if (i < call->n_item_faults && call->item_faults[i] != NULL) {
			/* Its text was refused over its wire length (a NUL
			 * byte, say): the message names the item already. */
			b->codes[i] = STATUS_INVALID_ARGUMENT;
			b->valid[i] = NULL;
			b->messages[i] = call->item_faults[i];
			continue;
		}
		b->codes[i] = check_request_validate(req->checks[i], &b->ids[i],
		    msg, sizeof msg);
		b->valid[i] = b->codes[i] == STATUS_OK ? &b->ids[i] : NULL;
		if (b->codes[i] == STATUS_OK &&
		    req->checks[i]->at_least_as_fresh > call->at_least_as_fresh)
			call->at_least_as_fresh = req->checks[i]->at_least_as_fresh;
		if (b->codes[i] != STATUS_OK) {
			char prefixed[sizeof msg + 32];
			snprintf(prefixed, sizeof prefixed, "checks[%zu].%.*s", i,
			    (int)sizeof msg - 1, msg);
			b->messages[i] = call_strdup(call, prefixed);
		}
	}
	call->parsed = b;
	return STATUS_OK;
}

/* batch answers every item in order; each item fails alone. With
 * CACHE_ONLY one miss sends the whole batch to a worker, which reads the
 * standings of all its user items in one statement first. */
static int
batch(struct call *call, enum source src)
{
	const Exe__Access__V1__BatchCheckRequest *req =
	    (const void *)call->request;
	const struct batch_items *b = call->parsed;
	Exe__Access__V1__BatchCheckResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__BatchCheckResponse,
	    exe__access__v1__batch_check_response__init);
	Exe__Access__V1__BatchCheckResult *items =
	    call_new(call, sizeof *items * (req->n_checks + 1));
	Exe__Access__V1__BatchCheckResult **list =
	    call_new(call, sizeof *list * (req->n_checks + 1));
	if (resp == NULL || items == NULL || list == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	const struct standing **known = NULL;
	if (src == CACHE_OR_DB && req->n_checks > 0) {
		struct standing *standings =
		    call_new(call, sizeof *standings * req->n_checks);
		known = call_new(call, sizeof *known * req->n_checks);
		if (standings == NULL || known == NULL)
			return call_fail(call, STATUS_INTERNAL, "out of memory");
		int rc = standings_read(call->db, req->n_checks,
		    (const Exe__Access__V1__CheckRequest *const *)req->checks,
		    b->valid, standings, known);
		if (rc != STATUS_OK)
			return rc;
	}
	for (size_t i = 0; i < req->n_checks; i++) {
		const Exe__Access__V1__CheckRequest *item = req->checks[i];
		Exe__Access__V1__BatchCheckResult *r = &items[i];
		exe__access__v1__batch_check_result__init(r);
		list[i] = r;
		int rc = b->codes[i];
		if (rc != STATUS_OK) {
			r->code = rc;
			r->message = b->messages[i];
			continue;
		}
		struct decision d;
		rc = check_decide(call, item, &b->ids[i], src,
		    known != NULL ? known[i] : NULL, &d);
		if (rc == METHOD_MISS)
			return rc;
		if (rc == STATUS_OK)
			rc = check_result(call, item, &d, &r->result);
		if (rc == STATUS_UNAVAILABLE || rc == STATUS_INTERNAL)
			return rc; /* the whole batch cannot be answered */
		r->code = rc;
		if (rc != STATUS_OK) {
			char prefixed[sizeof call->message + 32];
			snprintf(prefixed, sizeof prefixed, "checks[%zu].%.*s", i,
			    (int)sizeof call->message - 1, call->message);
			r->message = call_strdup(call, prefixed);
		}
		call->code = STATUS_OK;
		call->message[0] = '\0';
	}
	resp->results = list;
	resp->n_results = req->n_checks;
	call->response = &resp->base;
	return STATUS_OK;
}

int
authz_batch_fast(struct call *call)
{
	return batch(call, CACHE_ONLY);
}

int
authz_batch(struct call *call)
{
	return batch(call, CACHE_OR_DB);
}

int
authz_permissions_validate(struct call *call)
{
	const Exe__Access__V1__ListPermissionsRequest *req =
	    (const void *)call->request;
	unsigned char user_id[16];
	bool is_user;
	int rc = validate_principal("principal", req->principal, user_id, &is_user,
	    call->message, sizeof call->message);
	if (rc == STATUS_OK &&
	    (req->workspace_id[0] != '\0') == (req->resource != NULL))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "workspace_id, resource: give exactly one, the workspace or "
		    "the registered resource");
	if (rc == STATUS_OK && req->resource != NULL) {
		if (!perms_resource_type_known(req->resource->type))
			rc = call_fail(call, STATUS_INVALID_ARGUMENT,
			    "resource.type: must be experiment, dataset or "
			    "project");
		else
			rc = validate_text("resource.id", req->resource->id,
			    LIMIT_RESOURCE_ID, true, call->message,
			    sizeof call->message);
	} else if (rc == STATUS_OK) {
		rc = validate_uuid("workspace_id", req->workspace_id, true,
		    call->message, sizeof call->message);
	}
	if (rc == STATUS_OK)
		call->at_least_as_fresh = req->at_least_as_fresh;
	call->code = rc;
	return rc;
}

/* permission_held says whether what decision `d` gathered holds `perm`:
 * a user with a grant on the resource is decided again with the pure core
 * for each permission (the grant counts for some, not for the
 * workspace's own); anyone else holds their role's column (a key never a
 * management permission). */
static bool
permission_held(const Exe__Access__V1__ListPermissionsRequest *req,
    const struct decision *d, const struct permission *perm)
{
	const Exe__Access__V1__Principal *p = req->principal;
	bool is_user = p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	if (req->resource == NULL || !is_user || d->grant == ROLE_NONE) {
		/* The role alone decides (a key's column, minus management):
		 * the table, without writing a reason for every denial. */
		return perms_role_has(d->role, perm) &&
		    (is_user || !perm->management);
	}
	struct decision one;
	struct decide_resource r = {req->resource->type, req->resource->id};
	decide_user_resource(p->user_id, d->workspace_id, &d->standing,
	    d->grant, &r, perm, &one);
	return one.allowed;
}

/* permissions lists what the principal holds: one decision gathers what
 * is known of it (the probe: workspace.view in a workspace, or a
 * permission of the resource's own type on a resource, whose role is the
 * stronger of workspace role and grant), then the pure core decides each
 * permission of the table from that. */
static int
permissions(struct call *call, enum source src)
{
	const Exe__Access__V1__ListPermissionsRequest *req =
	    (const void *)call->request;
	bool on_resource = req->resource != NULL;
	Exe__Access__V1__CheckRequest probe = EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	probe.principal = req->principal;
	probe.at_least_as_fresh = req->at_least_as_fresh;
	char view[LIMIT_PERMISSION + 1];
	if (on_resource) {
		snprintf(view, sizeof view, "%s.view", req->resource->type);
		probe.permission = view;
		probe.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
		probe.resource = req->resource;
	} else {
		probe.permission = "workspace.view";
		probe.target_case =
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
		probe.workspace_id = req->workspace_id;
	}
	/* The ids' bytes are parsed again when the cache is asked. */
	struct check_ids ids = {.perm = perms_find(probe.permission)};
	struct decision d;
	int rc = check_decide(call, &probe, &ids, src, NULL, &d);
	if (rc != STATUS_OK)
		return rc;
	/* A missing workspace (or resource) is no access, for users and keys
	 * alike, as a Check of it is a denial: OK, ROLE_UNSPECIFIED, nothing
	 * held. */
	if (req->at_least_as_fresh > d.revision)
		return call_not_fresh(call, req->at_least_as_fresh, d.revision);
	Exe__Access__V1__ListPermissionsResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__ListPermissionsResponse,
	    exe__access__v1__list_permissions_response__init);
	char **names = call_new(call, sizeof *names * (perms_count + 1));
	if (resp == NULL || names == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	/* Someone with no standing where the resource is, and no grant on
	 * it, learns nothing of it, not even its workspace (as in Check). */
	bool standing = d.allowed || d.role != ROLE_NONE || d.grant != ROLE_NONE;
	if (standing) {
		resp->role = (Exe__Access__V1__Role)d.role;
		for (size_t i = 0; i < perms_count; i++) {
			const struct permission *perm = &perms_all[i];
			if (permission_held(req, &d, perm))
				names[resp->n_permissions++] = (char *)perm->name;
		}
		if (on_resource)
			resp->workspace_id = call_strdup(call, d.workspace_id);
	}
	resp->permissions = names;
	resp->revision = d.revision;
	call->response = &resp->base;
	return STATUS_OK;
}

int
authz_permissions_fast(struct call *call)
{
	return permissions(call, CACHE_ONLY);
}

int
authz_permissions(struct call *call)
{
	return permissions(call, CACHE_OR_DB);
}

int
authz_verify_validate(struct call *call)
{
	const Exe__Access__V1__VerifyApiKeyRequest *req =
	    (const void *)call->request;
	int rc = validate_text("secret", req->secret, LIMIT_API_KEY, true,
	    call->message, sizeof call->message);
	/* Refused by its checksum, before any database access. */
	if (rc == STATUS_OK &&
	    !secret_well_formed(SECRET_API_KEY, req->secret, strlen(req->secret)))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "secret: not an ExE Access API key (wrong prefix, length or "
		    "checksum)");
	call->code = rc;
	return rc;
}

int
authz_verify(struct call *call)
{
	const Exe__Access__V1__VerifyApiKeyRequest *req =
	    (const void *)call->request;
	struct key_standing key;
	int rc = standing_key_read(call, req->secret, strlen(req->secret), &key);
	if (rc != STATUS_OK)
		return rc;
	if (!key.found)
		return call_fail(call, STATUS_NOT_FOUND,
		    "secret: no live API key has this secret (unknown, revoked, "
		    "or rotated and past its grace period)");
	Exe__Access__V1__VerifyApiKeyResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__VerifyApiKeyResponse,
	    exe__access__v1__verify_api_key_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	resp->workspace_id = call_strdup(call, key.workspace_id);
	resp->key_id = call_strdup(call, key.key_id);
	resp->scope = key.read_only
	    ? EXE__ACCESS__V1__API_KEY_SCOPE__API_KEY_SCOPE_READ_ONLY
	    : EXE__ACCESS__V1__API_KEY_SCOPE__API_KEY_SCOPE_READ_WRITE;
	resp->expires_unix_ms = key.expires_ms;
	resp->revision = key.revision;
	call->response = &resp->base;
	return STATUS_OK;
}

int
authz_lookup_validate(struct call *call)
{
	const Exe__Access__V1__LookupResourcesRequest *req =
	    (const void *)call->request;
	uint32_t *size = call_new(call, sizeof *size);
	if (size == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	unsigned char user_id[16];
	bool is_user;
	int rc = validate_principal("principal", req->principal, user_id, &is_user,
	    call->message, sizeof call->message);
	if (rc == STATUS_OK && !perms_resource_type_known(req->resource_type))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "resource_type: must be experiment, dataset or project");
	if (rc == STATUS_OK)
		rc = validate_text("permission", req->permission,
		    LIMIT_PERMISSION, true, call->message, sizeof call->message);
	/* Checked (bounded, UTF-8) above: safe to echo whole. */
	const struct permission *perm =
	    rc == STATUS_OK ? perms_find(req->permission) : NULL;
	if (rc == STATUS_OK && perm == NULL)
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "permission: \"%s\" is not a permission",
		    req->permission);
	if (rc == STATUS_OK && !perms_acts_on(perm, req->resource_type)) {
		char names[256];
		perms_list_for(req->resource_type, names, sizeof names);
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "permission: %s does not act on %s resources; give one of "
		    "%s", perm->name, req->resource_type, names);
	}
	/* A key's form is checked here, without the database; a key of the
	 * right form that is unknown or dead is refused by authz_lookup. */
	if (rc == STATUS_OK && !is_user &&
	    !secret_well_formed(SECRET_API_KEY, req->principal->api_key,
	        strlen(req->principal->api_key)))
		rc = call_fail(call, STATUS_INVALID_ARGUMENT,
		    "principal.api_key: not an ExE Access API key (wrong "
		    "prefix, length or checksum)");
	if (rc == STATUS_OK)
		rc = paging_size(call, req->page_size, size);
	if (rc == STATUS_OK)
		call->parsed = size; /* the page size, for authz_lookup */
	call->code = rc;
	return rc;
}

/* roles_granting writes the PostgreSQL array literal of the roles that
 * hold `perm`, e.g. "{admin,member}". */
static void
roles_granting(const struct permission *perm, char *out, size_t size)
{
	snprintf(out, size, "{%s%s%s}", perm->admin ? "admin" : "",
	    perm->member ? ",member" : "", perm->read_only ? ",read_only" : "");
}

int
authz_lookup(struct call *call)
{
	const Exe__Access__V1__LookupResourcesRequest *req =
	    (const void *)call->request;
	const struct permission *perm = perms_find(req->permission);
	Exe__Access__V1__LookupResourcesResponse *resp = CALL_MSG(call,
	    Exe__Access__V1__LookupResourcesResponse,
	    exe__access__v1__lookup_resources_response__init);
	if (resp == NULL)
		return call_fail(call, STATUS_INTERNAL, "out of memory");
	uint32_t size = *(const uint32_t *)call->parsed;
	char *after;
	int rc = paging_decode(call, req->page_token, &after, 1);
	if (rc != STATUS_OK)
		return rc;

	const Exe__Access__V1__Principal *p = req->principal;
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID) {
		/* A grant counts for every permission but the workspace's
		 * own (which act on no resource type, so are refused here
		 * anyway). */
		char roles[40];
		roles_granting(perm, roles, sizeof roles);
		rc = store_lookup_for_user(call, p->user_id, req->resource_type,
		    roles, perms_of_workspace(perm) ? "{}" : roles, after, size,
		    resp);
	} else {
		/* A key sees its own workspace, with the member (or read_only)
		 * column, and never through a management permission. */
		struct decision d;
		size_t len = strlen(p->api_key); /* well-formed: validated */
		memset(&d, 0, sizeof d);
		rc = standing_key_read(call, p->api_key, len, &d.key);
		if (rc != STATUS_OK)
			return rc;
		if (!d.key.found)
			return call_fail(call, STATUS_PERMISSION_DENIED,
			    "principal.api_key: unknown, revoked, or rotated and "
			    "past its grace period");
		decide_key(&d.key, d.key.workspace_id, perm, clock_wall_ms(), &d);
		if (d.allowed)
			rc = store_lookup_in_workspace(call, d.key.workspace_id,
			    req->resource_type, after, size, resp);
	}
	if (rc == STATUS_OK)
		call->response = &resp->base;
	return rc;
}
