/* exe-access: the command-line tool of ExE Access for internal tooling
 * and the people on call. It parses the global options and the command's
 * words, finds the command's row in the command table (commands.c), parses
 * the command's flags and runs the handler — which opens its libexeaccess
 * client on first use — whose return value is the exit status (see
 * `exe-access --help`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "commands.h"
#include "resolve.h"

#ifndef EXA_VERSION
#define EXA_VERSION "unknown"
#endif

static const char default_url[] = "tcp://127.0.0.1:7400";

static int
print_version(void)
{
	printf("exe-access %s\n", EXA_VERSION);
	return CLI_EXIT_OK;
}

/* wants_help says whether -h or --help appears among the words (before
 * a "--"): a group's help is asked for after its name. */
static bool
wants_help(char **words, int n)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(words[i], "--") == 0)
			break;
		if (strcmp(words[i], "--help") == 0 ||
		    strcmp(words[i], "-h") == 0)
			return true;
	}
	return false;
}

/* no_command handles words that name no command: a group's help, or a
 * usage error. */
static int
no_command(const struct cli_args *args, char **words, int nwords)
{
	if (!commands_is_group(words[0]))
		return cli_fail(EXA_INVALID_ARGUMENT,
		    "no command \"%s\" (see `exe-access --help`)", words[0]);
	if (args_has(args, FLAG_HELP) || wants_help(words + 1, nwords - 1)) {
		commands_print_group(stdout, words[0]);
		return CLI_EXIT_OK;
	}
	int rc;
	if (nwords == 1 || words[1][0] == '-')
		rc = cli_fail(EXA_INVALID_ARGUMENT,
		    "%s: a sub-command is required", words[0]);
	else
		rc = cli_fail(EXA_INVALID_ARGUMENT, "%s: no sub-command \"%s\"",
		    words[0], words[1]);
	commands_print_group(stderr, words[0]);
	return rc;
}

/* setup reads the global options (and their environment defaults) into
 * cli. The client is opened on first use (cli_client). */
static int
setup(struct cli *cli, const struct cli_args *args)
{
	cli->url = args_get(args, FLAG_URL);
	if (cli->url == NULL)
		cli->url = getenv("EXE_ACCESS_URL");
	if (cli->url == NULL || cli->url[0] == '\0')
		cli->url = default_url;
	cli->token = args_get(args, FLAG_TOKEN);
	if (cli->token == NULL)
		cli->token = getenv("EXE_ACCESS_TOKEN");
	cli->json = args_has(args, FLAG_JSON);
	const char *timeout = args_get(args, FLAG_TIMEOUT);
	uint64_t ms = 0;
	int rc = cli_u64_arg(cli, "--timeout", timeout, 1, 3600000,
	    "milliseconds from 1 to 3600000", &ms);
	cli->timeout_ms = (int)ms;
	return rc;
}

static int
run(int argc, char **argv)
{
	struct cli cli = {0};
	struct cli_args args = {0};
	int rc;
	int first = args_parse_global(&args, argc, argv);
	if (first < 0) {
		rc = cli_usage_fail(&cli, "%s", args.error);
		goto out;
	}
	char **words = argv + first;
	int nwords = argc - first;
	if (nwords == 0) {
		if (args_has(&args, FLAG_HELP)) {
			commands_print_overview(stdout);
			rc = CLI_EXIT_OK;
		} else if (args_has(&args, FLAG_VERSION)) {
			rc = print_version();
		} else {
			rc = cli_fail(EXA_INVALID_ARGUMENT,
			    "a command is required (see `exe-access --help`)");
		}
		goto out;
	}

	int used = 0;
	const struct cli_command *cmd = commands_find(words, nwords, &used);
	if (cmd == NULL) {
		rc = no_command(&args, words, nwords);
		goto out;
	}
	cli.cmd = cmd;
	if (args_parse_command(
	        &args, cmd->flags, nwords - used, words + used) != 0) {
		rc = cli_usage_fail(&cli, "%s", args.error);
		goto out;
	}
	if (args_has(&args, FLAG_HELP)) {
		commands_print_help(stdout, cmd);
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (args_has(&args, FLAG_VERSION)) {
		rc = print_version();
		goto out;
	}
	if (args.npos < cmd->min_pos || args.npos > cmd->max_pos) {
		char path[64];
		rc = cli_usage_fail(&cli,
		    "%s arguments; usage: exe-access %s %s",
		    args.npos < cmd->min_pos ? "missing" : "too many",
		    cli_command_path(&cli, path, sizeof path), cmd->usage);
		goto out;
	}
	if ((rc = setup(&cli, &args)) != 0)
		goto out;
	rc = cmd->run(&cli, &args);
out:
	resolve_fini(&cli);
	exa_client_close(cli.client);
	args_fini(&args);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_fail(EXA_INTERNAL, "cannot write to standard output");
		if (rc == 0)
			rc = CLI_EXIT_ERROR;
	}
	return rc;
}

int
main(int argc, char **argv)
{
	return run(argc, argv);
}
