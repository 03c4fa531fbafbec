/* cli: exit statuses, error reporting and small value parsers shared by
 * every exe-access command. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "json.h"

enum cli_exit
cli_exit_for(exa_status code)
{
	switch (code) {
	case EXA_OK: return CLI_EXIT_OK;
	case EXA_INVALID_ARGUMENT: return CLI_EXIT_USAGE;
	case EXA_NOT_FOUND: return CLI_EXIT_NOT_FOUND;
	case EXA_PERMISSION_DENIED:
	case EXA_UNAUTHENTICATED: return CLI_EXIT_FORBIDDEN;
	case EXA_ALREADY_EXISTS:
	case EXA_FAILED_PRECONDITION:
	case EXA_ABORTED: return CLI_EXIT_CONFLICT;
	case EXA_UNAVAILABLE:
	case EXA_DEADLINE_EXCEEDED: return CLI_EXIT_UNAVAILABLE;
	default: return CLI_EXIT_ERROR;
	}
}

static void
vreport(exa_status code, const char *prefix, const char *fmt, va_list ap)
{
	/* One write per line, so that lines of concurrent runs sharing a
	 * log do not interleave mid-line. */
	char msg[1024];
	int n = snprintf(msg, sizeof msg, "exe-access: %s: %s",
	    exa_status_name(code), prefix != NULL ? prefix : "");
	if (n < 0 || (size_t)n >= sizeof msg)
		n = (int)sizeof msg - 1;
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", msg);
}

int
cli_fail(exa_status code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(code, NULL, fmt, ap);
	va_end(ap);
	return cli_exit_for(code);
}

int
cli_fail_call(const struct cli *cli, const exa_error *err, const char *what)
{
	if (cli != NULL && cli->open_exit != 0)
		return cli->open_exit; /* reported by cli_client */
	if (what != NULL)
		return cli_fail(err->code, "%s: %s", what, err->message);
	return cli_fail(err->code, "%s", err->message);
}

exa_client *
cli_client(struct cli *cli)
{
	if (cli->client != NULL || cli->open_exit != 0)
		return cli->client;
	exa_client_options opts = {.timeout_ms = cli->timeout_ms};
	exa_error err;
	if (exa_client_open(cli->url, cli->token, &opts, &cli->client, &err) !=
	    EXA_OK) {
		cli->client = NULL;
		cli->open_exit = cli_fail(err.code, "--url: %s", err.message);
	}
	return cli->client;
}

const char *
cli_command_path(const struct cli *cli, char *buf, size_t size)
{
	if (cli == NULL || cli->cmd == NULL) {
		snprintf(buf, size, "%s", "");
		return buf;
	}
	snprintf(buf, size, "%s%s%s", cli->cmd->name,
	    cli->cmd->sub != NULL ? " " : "",
	    cli->cmd->sub != NULL ? cli->cmd->sub : "");
	return buf;
}

int
cli_usage_fail(const struct cli *cli, const char *fmt, ...)
{
	char msg[768], path[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_command_path(cli, path, sizeof path);
	return cli_fail(EXA_INVALID_ARGUMENT,
	    "%s (see `exe-access %s%s--help`)", msg, path,
	    path[0] != '\0' ? " " : "");
}

int
cli_print_write(const struct cli *cli, exa_status st, const exa_error *err,
    Exe__Access__V1__WriteResponse *resp, const char *done, ...)
{
	if (st != EXA_OK)
		return cli_fail_call(cli, err, NULL);
	int rc = 0;
	if (cli->json) {
		rc = json_print_message(&resp->base);
	} else {
		va_list ap;
		va_start(ap, done);
		vprintf(done, ap);
		va_end(ap);
		printf(
		    " (revision %llu)\n", (unsigned long long)resp->revision);
	}
	exa_free(resp);
	return rc;
}

int
cli_print_reply(struct cli *cli, exa_status st, const exa_error *err,
    void *resp, cli_print_fn print, const void *ctx)
{
	if (st != EXA_OK)
		return cli_fail_call(cli, err, NULL);
	int rc = cli->json ? json_print_message(resp) : print(cli, resp, ctx);
	exa_free(resp);
	return rc;
}

bool
cli_parse_role(const char *text, Exe__Access__V1__Role *role)
{
	if (text == NULL)
		return false;
	if (strcmp(text, "admin") == 0)
		*role = EXE__ACCESS__V1__ROLE__ROLE_ADMIN;
	else if (strcmp(text, "member") == 0)
		*role = EXE__ACCESS__V1__ROLE__ROLE_MEMBER;
	else if (strcmp(text, "read_only") == 0 ||
	         strcmp(text, "read-only") == 0)
		*role = EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY;
	else
		return false;
	return true;
}

bool
cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
	if (text == NULL || text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool
cli_parse_resource(
    const char *text, char *buf, size_t size, Exe__Access__V1__ResourceRef *ref)
{
	if (text == NULL || strlen(text) >= size)
		return false;
	snprintf(buf, size, "%s", text);
	char *colon = strchr(buf, ':');
	if (colon == NULL || colon == buf || colon[1] == '\0')
		return false;
	*colon = '\0';
	ref->type = buf;
	ref->id = colon + 1;
	return true;
}

const char *
cli_read_secret(const char *value, char **owned)
{
	*owned = NULL;
	if (value == NULL || strcmp(value, "-") != 0)
		return value;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (n <= 0) {
		free(line); /* nothing was read into it */
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	*owned = line;
	return line;
}

void
cli_secret_free(char *owned)
{
	if (owned == NULL)
		return;
	explicit_bzero(owned, strlen(owned));
	free(owned);
}

int
cli_u64_arg(const struct cli *cli, const char *what, const char *text,
    uint64_t min, uint64_t max, const char *expected, uint64_t *out)
{
	if (text == NULL || cli_parse_u64(text, min, max, out))
		return 0;
	return cli_usage_fail(
	    cli, "%s: expected %s, not \"%s\"", what, expected, text);
}

int
cli_role_arg(const struct cli *cli, const char *what, const char *text,
    Exe__Access__V1__Role *role)
{
	if (cli_parse_role(text, role))
		return 0;
	return cli_usage_fail(cli,
	    "%s: expected admin, member or read_only, not \"%s\"", what, text);
}

int
cli_resource_arg(const struct cli *cli, const char *what, const char *text,
    char *buf, size_t size, Exe__Access__V1__ResourceRef *ref)
{
	if (cli_parse_resource(text, buf, size, ref))
		return 0;
	return cli_usage_fail(cli, "%s%sexpected TYPE:ID, not \"%s\"",
	    what != NULL ? what : "", what != NULL ? ": " : "", text);
}

int
cli_target_arg(const struct cli *cli, const struct cli_args *a, const char **ws,
    char *buf, size_t size, Exe__Access__V1__ResourceRef *ref)
{
	*ws = args_get(a, FLAG_WORKSPACE);
	const char *res = args_get(a, FLAG_RESOURCE);
	if ((*ws == NULL) == (res == NULL))
		return cli_usage_fail(
		    cli, "give one of --workspace WS and --resource TYPE:ID");
	if (res == NULL)
		return 0;
	return cli_resource_arg(cli, "--resource", res, buf, size, ref);
}
