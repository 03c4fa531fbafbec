/* cmd_changes: prints the change log page by page, and with --follow
 * keeps reading it, woken by the service's change hints (--subscribe, an
 * nng sub0 socket) or asking every second. */
#include "cmd_changes.h"

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "output.h"

enum { CHANGES_PAGE = 1000, CHANGES_POLL_MS = 1000 };

/* changes_field prints " name=value" for a field the change touched. */
static void
changes_field(const char *name, const char *value)
{
	if (value != NULL && value[0] != '\0')
		printf("  %s=%s", name, value);
}

static int
changes_print(const struct cli *cli, const Exe__Access__V1__Change *c)
{
	if (cli->json) {
		json_t *doc = json_from_message(&c->base);
		if (doc == NULL)
			return cli_fail(EXA_INTERNAL, "out of memory");
		char *text = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
		if (text == NULL)
			return cli_fail(EXA_INTERNAL, "out of memory");
		printf("%s\n", text);
		free(text);
		return 0;
	}
	char when[40];
	printf("%llu  %s  %-12s", (unsigned long long)c->revision,
	    output_time(c->changed_unix_ms, when, sizeof when), c->kind);
	changes_field("workspace", c->workspace_id);
	changes_field("user", c->user_id);
	changes_field("api_key", c->api_key_id);
	if (c->resource != NULL) {
		char ref[300];
		snprintf(ref, sizeof ref, "%s:%s", c->resource->type,
		    c->resource->id);
		changes_field("resource", ref);
	}
	changes_field("organization", c->organization_id);
	printf("\n");
	return 0;
}

/* changes_wait waits for a hint on `sub` (when open) or the poll
 * interval. */
static void
changes_wait(nng_socket sub, bool subscribed)
{
	if (!subscribed) {
		nng_msleep(CHANGES_POLL_MS);
		return;
	}
	char *buf = NULL;
	size_t len;
	/* The socket's receive timeout bounds the wait: a lost hint costs
	 * at most the poll interval. */
	if (nng_recv(sub, &buf, &len, NNG_FLAG_ALLOC) == 0)
		nng_free(buf, len);
}

int
cmd_changes(struct cli *cli, const struct cli_args *a)
{
	uint64_t after = 0;
	int rc = cli_u64_arg(cli, "--after", args_get(a, FLAG_AFTER), 0,
	    UINT64_MAX, "a revision number", &after);
	if (rc != 0)
		return rc;
	bool follow = args_has(a, FLAG_FOLLOW);
	const char *url = args_get(a, FLAG_SUBSCRIBE);
	if (url != NULL && !follow)
		return cli_usage_fail(cli, "--subscribe needs --follow");
	nng_socket sub = NNG_SOCKET_INITIALIZER;
	bool subscribed = false;
	if (url != NULL) {
		int rv = nng_sub0_open(&sub);
		if (rv == 0)
			rv = nng_socket_set(sub, NNG_OPT_SUB_SUBSCRIBE, "", 0);
		if (rv == 0)
			rv = nng_socket_set_ms(sub, NNG_OPT_RECVTIMEO,
			    CHANGES_POLL_MS);
		if (rv == 0)
			rv = nng_dial(sub, url, NULL, NNG_FLAG_NONBLOCK);
		if (rv != 0) {
			nng_close(sub);
			return cli_usage_fail(cli, "--subscribe %s: %s", url,
			    nng_strerror(rv));
		}
		subscribed = true;
	}
	for (;;) {
		Exe__Access__V1__ReadChangesRequest req =
		    EXE__ACCESS__V1__READ_CHANGES_REQUEST__INIT;
		req.after_revision = after;
		req.page_size = CHANGES_PAGE;
		Exe__Access__V1__ReadChangesResponse *resp = NULL;
		exa_error err;
		if (exa_read_changes(cli_client(cli), &req, &resp, &err) !=
		    EXA_OK) {
			rc = cli_fail_call(cli, &err, NULL);
			break;
		}
		for (size_t i = 0; i < resp->n_changes && rc == 0; i++)
			rc = changes_print(cli, resp->changes[i]);
		fflush(stdout);
		after = resp->revision;
		bool more = resp->next_page_token[0] != '\0';
		exa_free(resp);
		if (rc != 0)
			break;
		if (more)
			continue;
		if (!follow)
			break;
		changes_wait(sub, subscribed);
	}
	if (subscribed)
		nng_close(sub);
	return rc;
}
