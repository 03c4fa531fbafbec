/* resolve: user names and principals, with a per-run cache of users. */
#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct cli_user_cache {
	char *id;
	char *username;
	char *email;
	struct cli_user_cache *next;
};

bool
resolve_is_uuid(const char *text)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	if (text == NULL || strlen(text) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? text[i] != '-' : strchr(hex, text[i]) == NULL)
			return false;
	}
	return true;
}

static void
remember(struct cli *cli, const Exe__Access__V1__User *u)
{
	struct cli_user_cache *e = calloc(1, sizeof *e);
	if (e == NULL)
		return;
	e->id = strdup(u->id);
	e->username = strdup(u->username);
	e->email = strdup(u->email);
	if (e->id == NULL || e->username == NULL || e->email == NULL) {
		free(e->id);
		free(e->username);
		free(e->email);
		free(e);
		return;
	}
	e->next = cli->users;
	cli->users = e;
}

static const struct cli_user_cache *
cached(const struct cli *cli, const char *value, bool by_email)
{
	for (const struct cli_user_cache *e = cli->users; e != NULL;
	     e = e->next) {
		const char *key = by_email ? e->email : e->username;
		if (strcasecmp(key, value) == 0)
			return e;
	}
	return NULL;
}

void
resolve_find_user_request(
    Exe__Access__V1__FindUserRequest *req, const char *value, bool by_email)
{
	exe__access__v1__find_user_request__init(req);
	if (by_email) {
		req->by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_EMAIL;
		req->email = (char *)value;
	} else {
		req->by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_USERNAME;
		req->username = (char *)value;
	}
}

int
resolve_user(
    struct cli *cli, const char *what, const char *value, char *id, size_t size)
{
	if (value == NULL || value[0] == '\0')
		return cli_usage_fail(cli,
		    "%s: a user id, username or email "
		    "is required",
		    what);
	/* A secret given where a user belongs must not be echoed into an
	 * error message (nor sent to FindUser, which would echo it). */
	if (strncmp(value, "exa_live_", 9) == 0 ||
	    strncmp(value, "exa_inv_", 8) == 0 ||
	    strncmp(value, "exa_svc_", 8) == 0)
		return cli_usage_fail(cli,
		    "%s: that is a secret (an API key or "
		    "token), not a user",
		    what);
	if (resolve_is_uuid(value)) {
		snprintf(id, size, "%s", value);
		return 0;
	}
	bool by_email = strchr(value, '@') != NULL;
	const struct cli_user_cache *e = cached(cli, value, by_email);
	if (e != NULL) {
		snprintf(id, size, "%s", e->id);
		return 0;
	}
	Exe__Access__V1__FindUserRequest req;
	resolve_find_user_request(&req, value, by_email);
	Exe__Access__V1__FindUserResponse *resp = NULL;
	exa_error err;
	if (exa_find_user(cli_client(cli), &req, &resp, &err) != EXA_OK) {
		char label[160];
		snprintf(label, sizeof label, "%s \"%s\"", what, value);
		return cli_fail_call(cli, &err, label);
	}
	if (resp->user == NULL) {
		exa_free(resp);
		return cli_fail(EXA_INTERNAL,
		    "%s \"%s\": FindUser answered "
		    "without a user",
		    what, value);
	}
	snprintf(id, size, "%s", resp->user->id);
	remember(cli, resp->user);
	exa_free(resp);
	return 0;
}

const char *
resolve_user_name(struct cli *cli, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return "";
	for (const struct cli_user_cache *e = cli->users; e != NULL;
	     e = e->next)
		if (strcmp(e->id, id) == 0)
			return e->username;
	Exe__Access__V1__GetUserRequest req =
	    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	req.user_id = (char *)id;
	Exe__Access__V1__GetUserResponse *resp = NULL;
	exa_error err;
	/* Only for display: on any failure the id itself will do. */
	if (exa_get_user(cli_client(cli), &req, &resp, &err) != EXA_OK)
		return id;
	if (resp->user != NULL)
		remember(cli, resp->user);
	exa_free(resp);
	return cli->users != NULL && strcmp(cli->users->id, id) == 0
	           ? cli->users->username
	           : id;
}

int
resolve_principal(struct cli *cli, const struct cli_args *a,
    enum cli_flag user_flag, enum cli_flag key_flag,
    struct resolve_principal *out)
{
	memset(out, 0, sizeof *out);
	exe__access__v1__principal__init(&out->p);
	const char *user = args_get(a, user_flag);
	const char *key = args_get(a, key_flag);
	const char *user_name = user_flag == FLAG_AS ? "--as" : "--user";
	const char *key_name = key_flag == FLAG_AS_KEY ? "--as-key" : "--key";
	if ((user == NULL) == (key == NULL))
		return cli_usage_fail(cli, "give one of %s USER and %s SECRET",
		    user_name, key_name);
	if (user != NULL) {
		int rc = resolve_user(
		    cli, user_name, user, out->user_id, sizeof out->user_id);
		if (rc != 0)
			return rc;
		out->p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
		out->p.user_id = out->user_id;
		return 0;
	}
	const char *secret = cli_read_secret(key, &out->owned_secret);
	if (secret == NULL || secret[0] == '\0')
		return cli_usage_fail(
		    cli, "%s: the API key secret is empty", key_name);
	out->p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
	out->p.api_key = (char *)secret;
	return 0;
}

int
resolve_actor(
    struct cli *cli, const struct cli_args *a, struct resolve_principal *out)
{
	return resolve_principal(cli, a, FLAG_AS, FLAG_AS_KEY, out);
}

int
resolve_actor_and_user(struct cli *cli, const struct cli_args *a,
    const char *what, const char *value, struct resolve_principal *actor,
    char *id, size_t size)
{
	id[0] = '\0';
	int rc = resolve_actor(cli, a, actor);
	if (rc == 0 && value != NULL)
		rc = resolve_user(cli, what, value, id, size);
	return rc;
}

void
resolve_principal_fini(struct resolve_principal *p)
{
	cli_secret_free(p->owned_secret);
	p->owned_secret = NULL;
}

void
resolve_fini(struct cli *cli)
{
	struct cli_user_cache *e = cli->users;
	while (e != NULL) {
		struct cli_user_cache *next = e->next;
		free(e->id);
		free(e->username);
		free(e->email);
		free(e);
		e = next;
	}
	cli->users = NULL;
}
