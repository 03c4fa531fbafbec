/* cmd_resources: resource and activity commands. */
#include "cmd_resources.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "pager.h"
#include "resolve.h"

/* creator names who registered a resource or did an activity. */
static const char *
creator(struct cli *cli, const char *user_id, const char *key_id, char *buf,
    size_t size)
{
	if (user_id != NULL && user_id[0] != '\0')
		return resolve_user_name(cli, user_id);
	if (key_id != NULL && key_id[0] != '\0') {
		snprintf(buf, size, "key %s", key_id);
		return buf;
	}
	return "-";
}

static int
resource_registered_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)ctx;
	const Exe__Access__V1__RegisterResourceResponse *resp = reply;
	if (resp->resource == NULL || resp->resource->ref == NULL)
		return cli_fail(EXA_INTERNAL,
		    "RegisterResource answered without "
		    "the resource");
	const Exe__Access__V1__Resource *r = resp->resource;
	char what[440], rev[24], by[64];
	snprintf(what, sizeof what, "%s:%s", r->ref->type, r->ref->id);
	const char *const fields[][2] = {
	    {"resource", what},
	    {"name", r->name[0] != '\0' ? r->name : NULL},
	    {"workspace", r->workspace_id},
	    {"registered by", creator(cli, r->created_by_user_id,
	                          r->created_by_api_key_id, by, sizeof by)},
	    {"revision", output_u64(resp->revision, rev, sizeof rev)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	return 0;
}

int
cmd_resource_register(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = a->pos[1];
	ref.id = a->pos[2];
	Exe__Access__V1__RegisterResourceRequest req =
	    EXE__ACCESS__V1__REGISTER_RESOURCE_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	req.resource = &ref;
	if (args_has(a, FLAG_NAME))
		req.name = (char *)args_get(a, FLAG_NAME);
	Exe__Access__V1__RegisterResourceResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_register_resource(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(
	    cli, st, &err, resp, resource_registered_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_resource_delete(struct cli *cli, const struct cli_args *a)
{
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	char buf[512];
	if (a->npos == 2) {
		ref.type = a->pos[0];
		ref.id = a->pos[1];
	} else if (!cli_parse_resource(a->pos[0], buf, sizeof buf, &ref)) {
		return cli_usage_fail(cli,
		    "expected TYPE ID or TYPE:ID, not "
		    "\"%s\"",
		    a->pos[0]);
	}
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__DeleteResourceRequest req =
	    EXE__ACCESS__V1__DELETE_RESOURCE_REQUEST__INIT;
	req.actor = &actor.p;
	req.resource = &ref;
	Exe__Access__V1__WriteResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_delete_resource(cli_client(cli), &req, &resp, &err);
	rc = cli_print_write(
	    cli, st, &err, resp, "deleted %s:%s", ref.type, ref.id);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
resources_row(
    struct cli *cli, struct output_table *t, const ProtobufCMessage *item)
{
	const Exe__Access__V1__Resource *r =
	    (const Exe__Access__V1__Resource *)item;
	char created[32], by[64];
	output_table_add(t, r->ref != NULL ? r->ref->type : "",
	    r->ref != NULL ? r->ref->id : "", r->name, r->workspace_id,
	    creator(cli, r->created_by_user_id, r->created_by_api_key_id, by,
	        sizeof by),
	    output_time(r->created_unix_ms, created, sizeof created));
}

/* resources_list prints the resources that `method` lists, every page or
 * one. */
static int
resources_list(struct cli *cli, const struct cli_args *a,
    ProtobufCMessage *request, const char *method,
    const ProtobufCMessageDescriptor *response)
{
	static const char *const headers[] = {"TYPE", "ID", "NAME", "WORKSPACE",
	    "REGISTERED BY", "CREATED", NULL};
	const struct pager p = {
	    .list_field = "resources",
	    .method = method,
	    .response = response,
	    .headers = headers,
	    .row = resources_row,
	    .empty = "no resources",
	};
	return pager_run(cli, a, request, &p);
}

int
cmd_resource_list(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ListResourcesRequest req =
	    EXE__ACCESS__V1__LIST_RESOURCES_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	if (args_has(a, FLAG_TYPE))
		req.type = (char *)args_get(a, FLAG_TYPE);
	rc = resources_list(cli, a, &req.base,
	    "exe.access.v1.WorkspaceService/ListResources",
	    &exe__access__v1__list_resources_response__descriptor);
out:
	resolve_principal_fini(&actor);
	return rc;
}

int
cmd_resource_lookup(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal who;
	int rc = resolve_principal(cli, a, FLAG_USER, FLAG_KEY, &who);
	if (rc != 0)
		goto out;
	Exe__Access__V1__LookupResourcesRequest req =
	    EXE__ACCESS__V1__LOOKUP_RESOURCES_REQUEST__INIT;
	req.principal = &who.p;
	req.resource_type = a->pos[0];
	req.permission = a->pos[1];
	rc = resources_list(cli, a, &req.base,
	    "exe.access.v1.AuthzService/LookupResources",
	    &exe__access__v1__lookup_resources_response__descriptor);
out:
	resolve_principal_fini(&who);
	return rc;
}

static int
activity_recorded_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)ctx;
	const Exe__Access__V1__RecordActivityResponse *resp = reply;
	if (resp->record == NULL)
		return cli_fail(EXA_INTERNAL, "RecordActivity answered without "
		                              "the record");
	const Exe__Access__V1__ActivityRecord *r = resp->record;
	char target[440] = "", at[32], rev[24], by[64];
	if (r->resource != NULL && r->resource->type[0] != '\0')
		snprintf(target, sizeof target, "%s:%s", r->resource->type,
		    r->resource->id);
	const char *const fields[][2] = {
	    {"record", r->id},
	    {"action", r->action},
	    {"workspace", r->workspace_id},
	    {"resource", target[0] != '\0' ? target : NULL},
	    {"by", creator(cli, r->actor_user_id, r->actor_api_key_id, by,
	               sizeof by)},
	    {"at", output_time(r->at_unix_ms, at, sizeof at)},
	    {"revision", output_u64(resp->revision, rev, sizeof rev)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	return 0;
}

int
cmd_activity_record(struct cli *cli, const struct cli_args *a)
{
	const char *ws;
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	char buf[512];
	int rc = cli_target_arg(cli, a, &ws, buf, sizeof buf, &ref);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__RecordActivityRequest req =
	    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
	req.actor = &actor.p;
	if (ws != NULL)
		req.workspace_id = (char *)ws;
	else
		req.resource = &ref;
	req.action = a->pos[0];
	if (args_has(a, FLAG_DETAIL))
		req.detail = (char *)args_get(a, FLAG_DETAIL);
	Exe__Access__V1__RecordActivityResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_record_activity(cli_client(cli), &req, &resp, &err);
	rc =
	    cli_print_reply(cli, st, &err, resp, activity_recorded_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
activity_row(
    struct cli *cli, struct output_table *t, const ProtobufCMessage *item)
{
	const Exe__Access__V1__ActivityRecord *r =
	    (const Exe__Access__V1__ActivityRecord *)item;
	char at[32], by[64], target[440] = "";
	if (r->resource != NULL && r->resource->type[0] != '\0')
		snprintf(target, sizeof target, "%s:%s", r->resource->type,
		    r->resource->id);
	output_table_add(t, output_time(r->at_unix_ms, at, sizeof at),
	    creator(cli, r->actor_user_id, r->actor_api_key_id, by, sizeof by),
	    r->action, target, r->detail);
}

int
cmd_activity_list(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ListActivityRequest req =
	    EXE__ACCESS__V1__LIST_ACTIVITY_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	static const char *const headers[] = {
	    "AT", "BY", "ACTION", "RESOURCE", "DETAIL", NULL};
	const struct pager p = {
	    .list_field = "records",
	    .method = "exe.access.v1.WorkspaceService/ListActivity",
	    .response = &exe__access__v1__list_activity_response__descriptor,
	    .headers = headers,
	    .row = activity_row,
	    .empty = "no activity",
	};
	rc = pager_run(cli, a, &req.base, &p);
out:
	resolve_principal_fini(&actor);
	return rc;
}

/* The head's hash: 32 bytes, printed and read as 64 hex digits. */
enum { VERIFY_HASH_BYTES = 32 };

static void
verify_hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
verify_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* verify_parse_anchor reads SEQ:HASH (a place and 64 hex digits). */
static bool
verify_parse_anchor(
    const char *text, uint64_t *seq, uint8_t hash[VERIFY_HASH_BYTES])
{
	const char *colon = strchr(text, ':');
	char place[24];
	if (colon == NULL || (size_t)(colon - text) >= sizeof place)
		return false;
	memcpy(place, text, (size_t)(colon - text));
	place[colon - text] = '\0';
	const char *hex = colon + 1;
	if (!cli_parse_u64(place, 1, UINT64_MAX >> 1, seq) ||
	    strlen(hex) != 2 * VERIFY_HASH_BYTES)
		return false;
	for (size_t i = 0; i < VERIFY_HASH_BYTES; i++) {
		int hi = verify_nibble(hex[2 * i]),
		    lo = verify_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		hash[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static const char *
verify_kind_name(Exe__Access__V1__ActivityBreakKind kind)
{
	switch (kind) {
	case EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_ALTERED:
		return "altered";
	case EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_MISSING:
		return "missing";
	case EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_MISLINKED:
		return "mislinked";
	case EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_INSERTED:
		return "inserted";
	case EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_HEAD:
		return "head";
	case EXE__ACCESS__V1__ACTIVITY_BREAK_KIND__ACTIVITY_BREAK_KIND_ANCHOR:
		return "anchor";
	default: return "broken";
	}
}

int
cmd_activity_verify(struct cli *cli, const struct cli_args *a)
{
	const char *ws = args_get(a, FLAG_WORKSPACE);
	const char *org = args_get(a, FLAG_ORGANIZATION);
	const char *anchor = args_get(a, FLAG_ANCHOR);
	if (ws != NULL && org != NULL)
		return cli_usage_fail(
		    cli, "give at most one of --workspace and --organization");
	Exe__Access__V1__VerifyActivityRequest req =
	    EXE__ACCESS__V1__VERIFY_ACTIVITY_REQUEST__INIT;
	uint8_t hash[VERIFY_HASH_BYTES];
	if (anchor != NULL) {
		if (!verify_parse_anchor(anchor, &req.anchor_seq, hash))
			return cli_usage_fail(cli,
			    "--anchor: expected SEQ:HASH, a place and 64 hex "
			    "digits as `activity verify` printed them, not "
			    "\"%s\"",
			    anchor);
		req.anchor_hash.data = hash;
		req.anchor_hash.len = sizeof hash;
	}
	if (ws != NULL)
		req.workspace_id = (char *)ws;
	if (org != NULL)
		req.organization_id = (char *)org;
	/* A walk of a large log takes longer than a usual call. */
	if (cli->timeout_ms == 0)
		cli->timeout_ms = 600000;
	Exe__Access__V1__VerifyActivityResponse *resp = NULL;
	exa_error err;
	if (exa_verify_activity(cli_client(cli), &req, &resp, &err) != EXA_OK)
		return cli_fail_call(cli, &err, NULL);
	int rc = resp->intact ? CLI_EXIT_OK : CLI_EXIT_DENIED;
	if (cli->json) {
		int jrc = json_print_message(&resp->base);
		if (jrc != 0)
			rc = jrc;
	} else {
		char count[24], head[24 + 2 * VERIFY_HASH_BYTES + 2];
		char place[24], where[96];
		char hex[2 * VERIFY_HASH_BYTES + 1] = "";
		if (resp->head_hash.len == VERIFY_HASH_BYTES)
			verify_hex(
			    resp->head_hash.data, resp->head_hash.len, hex);
		snprintf(head, sizeof head, "%s:%s",
		    output_u64(resp->head_seq, place, sizeof place), hex);
		const Exe__Access__V1__ActivityBreak *b = resp->first_break;
		if (b != NULL)
			snprintf(where, sizeof where, "%s at place %llu%s%s",
			    verify_kind_name(b->kind),
			    (unsigned long long)b->chain_seq,
			    b->record_id[0] != '\0' ? ", record " : "",
			    b->record_id);
		const char *const fields[][2] = {
		    {"intact", resp->intact ? "yes" : "no"},
		    {"records", output_u64(resp->count, count, sizeof count)},
		    {"break", b != NULL ? where : NULL},
		    {"why", b != NULL ? b->message : NULL},
		    {"head", head},
		};
		output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	}
	exa_free(resp);
	return rc;
}
