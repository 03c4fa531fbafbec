/* args: the flag table of exe-access and its getopt_long parser. */
#include "args.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* getopt_long returns 0x100 + the flag, clear of short options and of
 * the '?' and ':' it returns for errors. */
enum { FLAG_BASE = 0x100 };

struct flag_def {
	const char *name;
	int has_arg;
	const char *metavar;
	const char *help;
	bool repeatable;
};

/* clang-format off */
static const struct flag_def flag_defs[FLAG_COUNT] = {
	[FLAG_URL] = {"url", required_argument, "URL",
	    "service URL, or several separated by commas (default "
	    "$EXE_ACCESS_URL, then tcp://127.0.0.1:7400)", false},
	[FLAG_TOKEN] = {"token", required_argument, "TOKEN",
	    "this caller's service token (default $EXE_ACCESS_TOKEN)", false},
	[FLAG_TIMEOUT] = {"timeout", required_argument, "MS",
	    "bound of each call in milliseconds (default 5000)", false},
	[FLAG_JSON] = {"json", no_argument, NULL,
	    "print one JSON document, fields named as in the .proto", false},
	[FLAG_HELP] = {"help", no_argument, NULL, "show this help (also -h)",
	    false},
	[FLAG_VERSION] = {"version", no_argument, NULL,
	    "print the version and exit", false},
	[FLAG_AS] = {"as", required_argument, "USER",
	    "act as this user: a user id, username or email", false},
	[FLAG_AS_KEY] = {"as-key", required_argument, "SECRET",
	    "act as a workspace API key instead ('-' reads it from stdin)",
	    false},
	[FLAG_EMAIL] = {"email", required_argument, "EMAIL", "email address",
	    false},
	[FLAG_DISPLAY_NAME] = {"display-name", required_argument, "NAME",
	    "name shown to people", false},
	[FLAG_USERNAME] = {"username", required_argument, "USERNAME",
	    "username", false},
	[FLAG_FIRST_ADMIN] = {"first-admin", required_argument, "USER",
	    "first admin (default: the user of --as)", false},
	[FLAG_USER] = {"user", required_argument, "USER",
	    "the user asking: a user id, username or email", false},
	[FLAG_KEY] = {"key", required_argument, "SECRET",
	    "an API key secret asking instead ('-' reads it from stdin)",
	    false},
	[FLAG_ROLE] = {"role", required_argument, "ROLE",
	    "admin, member or read_only (default member)", false},
	[FLAG_DAYS] = {"days", required_argument, "N",
	    "days until it expires, 1 to 30 (default 7)", false},
	[FLAG_ALL] = {"all", no_argument, NULL,
	    "also list accepted, declined, revoked and expired ones", false},
	[FLAG_GRACE] = {"grace", required_argument, "SECONDS",
	    "how long the old secret keeps working, 0 to 86400 (default 0: "
	    "stops at once)", false},
	[FLAG_READ_ONLY] = {"read-only", no_argument, NULL,
	    "make the new key read-only", false},
	[FLAG_NAME] = {"name", required_argument, "NAME", "name", false},
	[FLAG_SET] = {"set", required_argument, "KEY=VALUE",
	    "set a setting (repeatable)", true},
	[FLAG_UNSET] = {"unset", required_argument, "KEY",
	    "remove a setting (repeatable)", true},
	[FLAG_TYPE] = {"type", required_argument, "TYPE",
	    "experiment, dataset or project", false},
	[FLAG_WORKSPACE] = {"workspace", required_argument, "WS",
	    "a workspace id", false},
	[FLAG_RESOURCE] = {"resource", required_argument, "TYPE:ID",
	    "a registered resource, e.g. experiment:42", false},
	[FLAG_DETAIL] = {"detail", required_argument, "TEXT",
	    "free text kept with the record", false},
	[FLAG_FRESH] = {"fresh", required_argument, "REVISION",
	    "answer reflecting every write up to REVISION (what a write "
	    "printed)", false},
	[FLAG_PAGE_SIZE] = {"page-size", required_argument, "N",
	    "fetch one page of up to N (1 to 1000) and print the next page "
	    "token; without it every page is fetched", false},
	[FLAG_PAGE_TOKEN] = {"page-token", required_argument, "TOKEN",
	    "fetch the page that this token (printed by the previous page) "
	    "starts", false},
	[FLAG_AFTER] = {"after", required_argument, "REVISION",
	    "only changes after this revision (default: the start of the "
	    "log)", false},
	[FLAG_FOLLOW] = {"follow", no_argument, NULL,
	    "keep printing new changes as they are made, until interrupted",
	    false},
	[FLAG_SUBSCRIBE] = {"subscribe", required_argument, "URL",
	    "with --follow: the service's --publish URL, to be woken at once "
	    "by each new revision instead of asking every second", false},
	[FLAG_ORGANIZATION] = {"organization", required_argument, "ORG",
	    "an organisation id", false},
	[FLAG_ANCHOR] = {"anchor", required_argument, "SEQ:HASH",
	    "a head printed earlier (place:hex hash), kept elsewhere", false},
};
/* clang-format on */

static const enum cli_flag global_flags[] = {
    FLAG_URL, FLAG_TOKEN, FLAG_TIMEOUT, FLAG_JSON, FLAG_HELP, FLAG_VERSION};
enum { GLOBAL_COUNT = sizeof global_flags / sizeof global_flags[0] };

static int
set_error(struct cli_args *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char buf[512];
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(a->error);
	a->error = strdup(buf);
	return -1;
}

/* option_name gives the option a bad argument spelled, without any
 * `=value`: a mistyped `--kye=SECRET` must not echo the secret. */
static void
option_name(const char *arg, char *buf, size_t size)
{
	size_t n = strcspn(arg, "=");
	snprintf(buf, size, "%.*s", (int)n, arg);
}

static int
add_value(struct cli_args *a, enum cli_flag f, const char *value)
{
	if (a->count[f] > 0 && !flag_defs[f].repeatable)
		return set_error(
		    a, "--%s is given more than once", flag_defs[f].name);
	const char **grown =
	    realloc(a->values[f], (a->count[f] + 1) * sizeof *grown);
	if (grown == NULL)
		return set_error(a, "out of memory");
	grown[a->count[f]++] = value;
	a->values[f] = grown;
	return 0;
}

static void
fill_option(struct option *o, enum cli_flag f)
{
	o->name = flag_defs[f].name;
	o->has_arg = flag_defs[f].has_arg;
	o->flag = NULL;
	o->val = FLAG_BASE + (int)f;
}

/* run_getopt parses argv with `longopts` until getopt_long is done and
 * returns 0, or -1 with a->error set. */
static int
run_getopt(struct cli_args *a, const char *optstring,
    const struct option *longopts, int argc, char **argv)
{
	optind = 0; /* glibc: start afresh, also after an earlier parse */
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, optstring, longopts, NULL)) != -1) {
		char name[64];
		if (c == 'h')
			c = FLAG_BASE + FLAG_HELP;
		if (c == '?') {
			if (optopt != 0)
				return set_error(
				    a, "unknown option -%c", optopt);
			option_name(argv[optind - 1], name, sizeof name);
			return set_error(
			    a, "unknown or ambiguous option %s", name);
		}
		if (c == ':') {
			if (optopt != 0 && optopt < FLAG_BASE)
				return set_error(
				    a, "-%c needs a value", optopt);
			option_name(argv[optind - 1], name, sizeof name);
			return set_error(a, "%s needs a value", name);
		}
		if (c < FLAG_BASE || c >= FLAG_BASE + FLAG_COUNT)
			return set_error(a, "unexpected option");
		if (add_value(a, (enum cli_flag)(c - FLAG_BASE), optarg) != 0)
			return -1;
	}
	return 0;
}

int
args_parse_global(struct cli_args *a, int argc, char **argv)
{
	struct option longopts[GLOBAL_COUNT + 1];
	for (size_t i = 0; i < GLOBAL_COUNT; i++)
		fill_option(&longopts[i], global_flags[i]);
	memset(&longopts[GLOBAL_COUNT], 0, sizeof longopts[0]);
	/* '+': stop at the first word, the command's name. */
	if (run_getopt(a, "+:h", longopts, argc, argv) != 0)
		return -1;
	return optind;
}

int
args_parse_command(
    struct cli_args *a, const struct cli_flag_use *uses, int argc, char **argv)
{
	size_t n = 0;
	while (uses[n].flag != FLAG_NONE)
		n++;
	struct option *longopts =
	    calloc(n + GLOBAL_COUNT + 1, sizeof *longopts);
	/* getopt_long permutes its argv: give it a copy, with a program
	 * name in front as it expects. */
	char **copy = calloc((size_t)argc + 2, sizeof *copy);
	if (longopts == NULL || copy == NULL) {
		free(longopts);
		free(copy);
		return set_error(a, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		fill_option(&longopts[i], uses[i].flag);
	for (size_t i = 0; i < GLOBAL_COUNT; i++)
		fill_option(&longopts[n + i], global_flags[i]);
	copy[0] = "exe-access";
	for (int i = 0; i < argc; i++)
		copy[i + 1] = argv[i];

	int rc = run_getopt(a, ":h", longopts, argc + 1, copy);
	if (rc == 0) {
		int npos = argc + 1 - optind;
		a->pos = calloc((size_t)npos + 1, sizeof *a->pos);
		if (a->pos == NULL) {
			rc = set_error(a, "out of memory");
		} else {
			for (int i = 0; i < npos; i++)
				a->pos[i] = copy[optind + i];
			a->npos = npos;
		}
	}
	free(longopts);
	free(copy);
	return rc;
}

const char *
args_get(const struct cli_args *a, enum cli_flag f)
{
	return a->count[f] > 0 ? a->values[f][a->count[f] - 1] : NULL;
}

bool
args_has(const struct cli_args *a, enum cli_flag f)
{
	return a->count[f] > 0;
}

void
args_fini(struct cli_args *a)
{
	for (int f = 0; f < FLAG_COUNT; f++)
		free(a->values[f]);
	free(a->pos);
	free(a->error);
	memset(a, 0, sizeof *a);
}

/* print_flag prints "  --name ARG   help", the help wrapped at 79
 * columns under itself. */
static void
print_flag(FILE *out, enum cli_flag f, const char *help)
{
	enum { LEFT = 27, WIDTH = 79 };
	const struct flag_def *d = &flag_defs[f];
	char left[64];
	if (d->metavar != NULL)
		snprintf(left, sizeof left, "--%s %s", d->name, d->metavar);
	else
		snprintf(left, sizeof left, "--%s", d->name);
	fprintf(out, "  %-24s ", left);
	if (strlen(left) > 24)
		fprintf(out, "\n%*s", LEFT, "");
	output_wrap(out, help != NULL ? help : d->help, LEFT, LEFT, WIDTH);
}

void
args_print_flags(FILE *out, const struct cli_flag_use *uses, bool globals)
{
	if (uses != NULL && uses[0].flag != FLAG_NONE) {
		fprintf(out, "\noptions:\n");
		for (size_t i = 0; uses[i].flag != FLAG_NONE; i++)
			print_flag(out, uses[i].flag, uses[i].help);
	}
	if (globals) {
		fprintf(
		    out, "\nglobal options (before or after the command):\n");
		for (size_t i = 0; i < GLOBAL_COUNT; i++)
			print_flag(out, global_flags[i], NULL);
	}
}
