/* cmd_keys: API key commands. */
#include "cmd_keys.h"

#include <stdio.h>

#include "json.h"
#include "output.h"
#include "resolve.h"

/* key_rotated_print prints a new key; ctx is the grace in seconds. */
static int
key_rotated_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	const Exe__Access__V1__RotateApiKeyResponse *resp = reply;
	uint64_t grace = *(const uint64_t *)ctx;
	if (resp->key == NULL)
		return cli_fail(EXA_INTERNAL,
		    "RotateApiKey answered without the "
		    "key");
	const Exe__Access__V1__ApiKeyInfo *k = resp->key;
	char created[32], rev[24], old[64];
	/* The reply does not say whether there was an old key (a team's
	 * first rotation creates its first one). */
	if (grace == 0)
		snprintf(old, sizeof old, "stopped working, if any");
	else
		snprintf(old, sizeof old, "works %llu s more, if any",
		    (unsigned long long)grace);
	const char *const fields[][2] = {
	    {"key", k->key_id},
	    {"workspace", k->workspace_id},
	    {"prefix", k->display_prefix},
	    {"scope", k->read_only ? "read_only" : "read_write"},
	    {"created",
	        output_time(k->created_unix_ms, created, sizeof created)},
	    {"old secret", old},
	    {"revision", output_u64(resp->revision, rev, sizeof rev)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	output_secret(stdout, "New API key secret", resp->secret, NULL);
	return 0;
}

int
cmd_key_rotate(struct cli *cli, const struct cli_args *a)
{
	uint64_t grace = 0;
	int rc = cli_u64_arg(cli, "--grace", args_get(a, FLAG_GRACE), 0, 86400,
	    "seconds from 0 to 86400", &grace);
	if (rc != 0)
		return rc;
	struct resolve_principal actor;
	rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__RotateApiKeyRequest req =
	    EXE__ACCESS__V1__ROTATE_API_KEY_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	req.grace_seconds = (uint32_t)grace;
	req.read_only = args_has(a, FLAG_READ_ONLY);
	Exe__Access__V1__RotateApiKeyResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_rotate_api_key(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, key_rotated_print, &grace);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static void
key_row(struct output_table *t, const Exe__Access__V1__ApiKeyInfo *k)
{
	char created[32], used[32], expires[32], status[48];
	if (k->expires_unix_ms == 0)
		snprintf(status, sizeof status, "current");
	else
		snprintf(status, sizeof status, "until %s",
		    output_time(k->expires_unix_ms, expires, sizeof expires));
	output_table_add(t, k->key_id, k->display_prefix,
	    k->read_only ? "read_only" : "read_write",
	    output_time(k->created_unix_ms, created, sizeof created),
	    k->last_used_unix_ms > 0
	        ? output_time(k->last_used_unix_ms, used, sizeof used)
	        : "never",
	    status);
}

static int
key_got_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	const Exe__Access__V1__GetApiKeyResponse *resp = reply;
	static const char *const headers[] = {
	    "KEY", "PREFIX", "SCOPE", "CREATED", "LAST USED", "STATUS"};
	struct output_table *t = output_table_new(6, headers);
	if (resp->key != NULL)
		key_row(t, resp->key);
	for (size_t i = 0; i < resp->n_previous; i++)
		key_row(t, resp->previous[i]);
	output_table_print(t, stdout, 0);
	output_table_free(t);
	return 0;
}

int
cmd_key_get(struct cli *cli, const struct cli_args *a)
{
	struct resolve_principal actor;
	int rc = resolve_actor(cli, a, &actor);
	if (rc != 0)
		goto out;
	Exe__Access__V1__GetApiKeyRequest req =
	    EXE__ACCESS__V1__GET_API_KEY_REQUEST__INIT;
	req.actor = &actor.p;
	req.workspace_id = a->pos[0];
	Exe__Access__V1__GetApiKeyResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_get_api_key(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, key_got_print, NULL);
out:
	resolve_principal_fini(&actor);
	return rc;
}

static int
key_verified_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	(void)ctx;
	const Exe__Access__V1__VerifyApiKeyResponse *resp = reply;
	const char *const fields[][2] = {
	    {"workspace", resp->workspace_id},
	    {"key", resp->key_id},
	    {"scope", output_scope(resp->scope)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	return 0;
}

int
cmd_key_verify(struct cli *cli, const struct cli_args *a)
{
	char *owned = NULL;
	const char *secret = cli_read_secret(a->pos[0], &owned);
	if (secret == NULL || secret[0] == '\0') {
		cli_secret_free(owned); /* a blank line was read */
		return cli_usage_fail(
		    cli, "SECRET: the API key secret is empty");
	}
	Exe__Access__V1__VerifyApiKeyRequest req =
	    EXE__ACCESS__V1__VERIFY_API_KEY_REQUEST__INIT;
	req.secret = (char *)secret;
	Exe__Access__V1__VerifyApiKeyResponse *resp = NULL;
	exa_error err;
	exa_status st = exa_verify_api_key(cli_client(cli), &req, &resp, &err);
	int rc = cli_print_reply(cli, st, &err, resp, key_verified_print, NULL);
	cli_secret_free(owned);
	return rc;
}
