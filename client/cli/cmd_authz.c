/* cmd_authz: check, permissions and batch-check. */
#include "cmd_authz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "output.h"
#include "resolve.h"

/* fresh reads --fresh into *revision (0 without it). */
static int
fresh(struct cli *cli, const struct cli_args *a, uint64_t *revision)
{
	*revision = 0;
	return cli_u64_arg(cli, "--fresh", args_get(a, FLAG_FRESH), 1,
	    UINT64_MAX, "a revision number", revision);
}

/* who names a principal in output, never showing a key's secret. */
static const char *
who(const struct cli_args *a)
{
	return args_has(a, FLAG_USER) ? args_get(a, FLAG_USER) : "the API key";
}

int
cmd_check(struct cli *cli, const struct cli_args *a)
{
	uint64_t revision;
	int rc = fresh(cli, a, &revision);
	if (rc != 0)
		return rc;
	const char *ws;
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	char buf[512];
	rc = cli_target_arg(cli, a, &ws, buf, sizeof buf, &ref);
	if (rc != 0)
		return rc;
	struct resolve_principal p;
	rc = resolve_principal(cli, a, FLAG_USER, FLAG_KEY, &p);
	if (rc != 0)
		goto out;
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &p.p;
	req.permission = a->pos[0];
	if (ws != NULL) {
		req.target_case =
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
		req.workspace_id = (char *)ws;
	} else {
		req.target_case =
		    EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
		req.resource = &ref;
	}
	req.at_least_as_fresh = revision;
	Exe__Access__V1__CheckResponse *resp = NULL;
	exa_error err;
	if (exa_authz_check(cli_client(cli), &req, &resp, &err) != EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	if (cli->json)
		rc = json_print_message(&resp->base);
	else if (resp->allowed)
		/* An allowance that a grant made says so. */
		printf("allowed: %s may %s in workspace %s (role %s, revision "
		       "%llu)%s%s\n",
		    who(a), req.permission, resp->workspace_id,
		    output_role(resp->role), (unsigned long long)resp->revision,
		    resp->reason[0] != '\0' ? ": " : "", resp->reason);
	else
		printf("denied: %s\n", resp->reason);
	if (rc == 0 && !resp->allowed)
		rc = CLI_EXIT_DENIED;
	exa_free(resp);
out:
	resolve_principal_fini(&p);
	return rc;
}

/* permissions_print prints a role and its permissions; ctx is the
 * command line. */
static int
permissions_print(struct cli *cli, const void *reply, const void *ctx)
{
	(void)cli;
	const Exe__Access__V1__ListPermissionsResponse *resp = reply;
	const struct cli_args *a = ctx;
	const char *res = args_get(a, FLAG_RESOURCE);
	char rev[24];
	const char *const fields[][2] = {
	    {"resource", res},
	    {"workspace", res != NULL ? (resp->workspace_id[0] != '\0'
	                                        ? resp->workspace_id
	                                        : NULL)
	                              : a->pos[0]},
	    {"role", output_role(resp->role)},
	    {"revision", output_u64(resp->revision, rev, sizeof rev)},
	};
	output_fields(stdout, fields, sizeof fields / sizeof fields[0]);
	printf("\n");
	if (resp->n_permissions == 0) {
		printf("no permissions\n");
		return 0;
	}
	static const char *const headers[] = {"PERMISSION"};
	struct output_table *t = output_table_new(1, headers);
	for (size_t i = 0; i < resp->n_permissions; i++)
		output_table_add(t, resp->permissions[i]);
	output_table_print(t, stdout, 0);
	output_table_free(t);
	return 0;
}

int
cmd_permissions(struct cli *cli, const struct cli_args *a)
{
	uint64_t revision;
	int rc = fresh(cli, a, &revision);
	if (rc != 0)
		return rc;
	const char *res = args_get(a, FLAG_RESOURCE);
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	char buf[512];
	if ((a->npos == 1) == (res != NULL))
		return cli_usage_fail(
		    cli, "give one of WS and --resource TYPE:ID");
	if (res != NULL)
		rc = cli_resource_arg(
		    cli, "--resource", res, buf, sizeof buf, &ref);
	if (rc != 0)
		return rc;
	struct resolve_principal p;
	rc = resolve_principal(cli, a, FLAG_USER, FLAG_KEY, &p);
	if (rc != 0)
		goto out;
	Exe__Access__V1__ListPermissionsRequest req =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	req.principal = &p.p;
	if (res != NULL)
		req.resource = &ref;
	else
		req.workspace_id = a->pos[0];
	req.at_least_as_fresh = revision;
	Exe__Access__V1__ListPermissionsResponse *resp = NULL;
	exa_error err;
	exa_status st =
	    exa_list_permissions(cli_client(cli), &req, &resp, &err);
	rc = cli_print_reply(cli, st, &err, resp, permissions_print, a);
out:
	resolve_principal_fini(&p);
	return rc;
}

/* One line of batch-check's input. */
struct batch_line {
	long lineno;
	bool key;
	char *principal; /* points into text */
	char *permission;
	char *workspace;
	char user_id[40];
	char *text; /* the line, malloc'd; wiped at the end (key secrets) */
};

struct batch_input {
	struct batch_line *lines;
	size_t n, cap;
};

static void
batch_input_free(struct batch_input *in)
{
	for (size_t i = 0; i < in->n; i++)
		cli_secret_free(in->lines[i].text);
	free(in->lines);
}

/* read_lines reads and splits stdin; a malformed line is a usage error
 * before anything is sent. */
static int
read_lines(struct cli *cli, struct batch_input *in)
{
	char *buf = NULL;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0;
	while (getline(&buf, &cap, stdin) > 0) {
		lineno++;
		buf[strcspn(buf, "\r\n")] = '\0';
		char *start = buf + strspn(buf, " \t");
		if (*start == '\0' || *start == '#')
			continue;
		if (in->n == in->cap) {
			size_t ncap = in->cap > 0 ? in->cap * 2 : 64;
			struct batch_line *grown =
			    realloc(in->lines, ncap * sizeof *grown);
			if (grown == NULL) {
				rc = cli_fail(EXA_INTERNAL, "out of memory");
				break;
			}
			in->lines = grown;
			in->cap = ncap;
		}
		struct batch_line *l = &in->lines[in->n];
		memset(l, 0, sizeof *l);
		l->text = strdup(start);
		if (l->text == NULL) {
			rc = cli_fail(EXA_INTERNAL, "out of memory");
			break;
		}
		in->n++;
		l->lineno = lineno;
		char *save = NULL;
		char *kind = strtok_r(l->text, " \t", &save);
		l->principal = strtok_r(NULL, " \t", &save);
		l->permission = strtok_r(NULL, " \t", &save);
		l->workspace = strtok_r(NULL, " \t", &save);
		char *extra = strtok_r(NULL, " \t", &save);
		bool kind_ok =
		    strcmp(kind, "user") == 0 || strcmp(kind, "key") == 0;
		if (!kind_ok || l->workspace == NULL || extra != NULL) {
			rc = cli_usage_fail(cli,
			    "stdin line %ld: expected `user "
			    "USER PERMISSION WS` or `key "
			    "SECRET PERMISSION WS`",
			    lineno);
			break;
		}
		l->key = strcmp(kind, "key") == 0;
	}
	if (buf != NULL) {
		explicit_bzero(buf, cap);
		free(buf);
	}
	return rc;
}

/* shown names a line's principal for output: a key by its visible
 * prefix only, as the service itself shows keys. */
static const char *
shown(const struct batch_line *l, char *buf, size_t size)
{
	if (!l->key)
		return l->principal;
	snprintf(buf, size, "key %.13s...", l->principal);
	return buf;
}

/* What batch-check has to say: the JSON results or the table, and the
 * exit status so far. */
struct batch_out {
	json_t *results;        /* --json */
	struct output_table *t; /* otherwise */
	bool denied;            /* some check was denied */
	int first_error;        /* exit status of the first failed item */
};

/* batch_report adds line l's outcome: st and *d, or the item's error. */
static void
batch_report(struct batch_out *o, const struct batch_line *l, exa_status st,
    const exa_decision *d, const exa_error *item)
{
	if (st != EXA_OK) {
		cli_fail(st, "stdin line %ld: %s", l->lineno, item->message);
		if (o->first_error == 0)
			o->first_error = cli_exit_for(st);
	} else if (!d->allowed) {
		o->denied = true;
	}
	if (o->results != NULL) {
		/* Shaped as the .proto's BatchCheckResult, names and all. */
		Exe__Access__V1__CheckResponse cr =
		    EXE__ACCESS__V1__CHECK_RESPONSE__INIT;
		Exe__Access__V1__BatchCheckResult r =
		    EXE__ACCESS__V1__BATCH_CHECK_RESULT__INIT;
		r.code = (int32_t)st;
		if (st != EXA_OK) {
			r.message = (char *)item->message;
		} else {
			cr.allowed = d->allowed;
			cr.role = d->role;
			cr.reason = (char *)d->reason;
			cr.revision = d->revision;
			cr.workspace_id = l->workspace;
			r.result = &cr;
		}
		json_array_append_new(o->results, json_from_message(&r.base));
		return;
	}
	char lineno[24], principal[40], result[40];
	snprintf(lineno, sizeof lineno, "%ld", l->lineno);
	if (st != EXA_OK)
		snprintf(
		    result, sizeof result, "error %s", exa_status_name(st));
	else
		snprintf(result, sizeof result, "%s",
		    d->allowed ? "allowed" : "denied");
	const char *why = st != EXA_OK ? item->message
	                  : d->allowed ? ""
	                               : d->reason;
	output_table_add(o->t, lineno, shown(l, principal, sizeof principal),
	    l->permission, l->workspace, result, why);
}

/* batch_run sends lines [from, to) as one BatchCheck (the client's batch
 * builder) and reports each. Returns 0 or the exit status of a failure
 * of the whole call. */
static int
batch_run(struct cli *cli, const struct batch_input *in, size_t from, size_t to,
    uint64_t revision, struct batch_out *o)
{
	exa_batch *b = exa_batch_new();
	if (b == NULL)
		return cli_fail(EXA_INTERNAL, "out of memory");
	int rc = 0;
	for (size_t i = from; i < to; i++) {
		const struct batch_line *l = &in->lines[i];
		long idx = l->key ? exa_batch_add_key(b, l->principal,
		                        l->permission, l->workspace)
		                  : exa_batch_add_user(b, l->user_id,
		                        l->permission, l->workspace);
		if (idx < 0) {
			rc = cli_fail(EXA_INTERNAL, "out of memory");
			goto out;
		}
	}
	exa_error err;
	if (exa_batch_run(cli_client(cli), b, revision, &err) != EXA_OK) {
		rc = cli_fail_call(cli, &err, NULL);
		goto out;
	}
	for (size_t i = from; i < to; i++) {
		exa_decision d;
		exa_error item;
		exa_status st = exa_batch_result(b, i - from, &d, &item);
		batch_report(o, &in->lines[i], st, &d, &item);
	}
out:
	exa_batch_free(b);
	return rc;
}

int
cmd_batch_check(struct cli *cli, const struct cli_args *a)
{
	uint64_t revision;
	int rc = fresh(cli, a, &revision);
	if (rc != 0)
		return rc;
	static const char *const headers[] = {
	    "LINE", "PRINCIPAL", "PERMISSION", "WORKSPACE", "RESULT", "REASON"};
	struct batch_input in = {0};
	struct batch_out o = {0};
	if (cli->json)
		o.results = json_array();
	else
		o.t = output_table_new(6, headers);
	rc = read_lines(cli, &in);
	for (size_t i = 0; rc == 0 && i < in.n; i++)
		if (!in.lines[i].key)
			rc = resolve_user(cli, "user", in.lines[i].principal,
			    in.lines[i].user_id, sizeof in.lines[i].user_id);
	enum { CHUNK = 1000 }; /* BatchCheck's limit */
	for (size_t from = 0; rc == 0 && from < in.n; from += CHUNK)
		rc = batch_run(cli, &in, from,
		    in.n - from > CHUNK ? from + CHUNK : in.n, revision, &o);
	if (rc != 0)
		goto out;

	if (cli->json) {
		json_t *doc = json_object();
		if (doc != NULL)
			json_object_set(doc, "results", o.results);
		rc = json_print(doc);
	} else if (in.n == 0) {
		printf("no checks on stdin\n");
	} else {
		output_table_print(o.t, stdout, 0);
	}
	if (rc == 0)
		rc = o.first_error != 0 ? o.first_error
		     : o.denied         ? CLI_EXIT_DENIED
		                        : CLI_EXIT_OK;
out:
	output_table_free(o.t);
	json_decref(o.results);
	batch_input_free(&in);
	return rc;
}
