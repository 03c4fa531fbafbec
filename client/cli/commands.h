/* commands: the command table of exe-access — one row per command (its
 * words, handler, synopsis, help and flags) — which drives dispatch and
 * every --help screen. */
#ifndef EXA_CLI_COMMANDS_H
#define EXA_CLI_COMMANDS_H

#include <stdio.h>

#include "args.h"
#include "cli.h"

/* A command's handler: runs with the client open and the arguments
 * checked against the row's counts; returns the exit status. */
typedef int (*cli_handler)(struct cli *cli, const struct cli_args *args);

struct cli_command {
	const char *name; /* first word: "member" */
	const char *sub;  /* following words: "add", "admin add"; NULL */
	cli_handler run;
	const char *usage;   /* after the words: "WS USER [--role ROLE] ..." */
	const char *summary; /* one line for the command list */
	const char *detail;  /* more help, may be NULL */
	int min_pos, max_pos;
	const struct cli_flag_use *flags;
};

/* The table, in the order `exe-access --help` lists it. */
extern const struct cli_command commands_table[];
extern const size_t commands_count;

/* commands_find matches the longest row whose words start `words`
 * (nwords of them) and sets *used to how many words it took; NULL when
 * none matches. */
const struct cli_command *commands_find(char **words, int nwords, int *used);

/* commands_is_group says whether `name` is the first word of some rows. */
int commands_is_group(const char *name);

/* commands_print_help prints the full help of one command. */
void commands_print_help(FILE *out, const struct cli_command *cmd);

/* commands_print_group prints the rows starting with `name`. */
void commands_print_group(FILE *out, const char *name);

/* commands_print_overview prints `exe-access --help`: every command, the
 * global options and the exit statuses. */
void commands_print_overview(FILE *out);

#endif
