/* args: the flags of exe-access and the getopt_long parsing of a command
 * line into positional arguments and flag values. Every flag is a row of
 * one table (long name, argument, help); a command names the rows it
 * takes, and the global options are accepted by every command, before or
 * after its words. */
#ifndef EXA_CLI_ARGS_H
#define EXA_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Every flag any command takes. */
enum cli_flag {
	FLAG_NONE = 0,
	/* global options */
	FLAG_URL,
	FLAG_TOKEN,
	FLAG_TIMEOUT,
	FLAG_JSON,
	FLAG_HELP,
	FLAG_VERSION,
	/* command options */
	FLAG_AS,
	FLAG_AS_KEY,
	FLAG_EMAIL,
	FLAG_DISPLAY_NAME,
	FLAG_USERNAME,
	FLAG_FIRST_ADMIN,
	FLAG_USER,
	FLAG_KEY,
	FLAG_ROLE,
	FLAG_DAYS,
	FLAG_ALL,
	FLAG_GRACE,
	FLAG_READ_ONLY,
	FLAG_NAME,
	FLAG_SET,
	FLAG_UNSET,
	FLAG_TYPE,
	FLAG_WORKSPACE,
	FLAG_RESOURCE,
	FLAG_DETAIL,
	FLAG_FRESH,
	FLAG_PAGE_SIZE,
	FLAG_PAGE_TOKEN,
	FLAG_AFTER,
	FLAG_FOLLOW,
	FLAG_SUBSCRIBE,
	FLAG_ORGANIZATION,
	FLAG_ANCHOR,
	FLAG_COUNT
};

/* A flag as one command uses it: `help` overrides the table's text when
 * not NULL. Lists of these end with {FLAG_NONE, NULL}. */
struct cli_flag_use {
	enum cli_flag flag;
	const char *help;
};

/* A parsed command line. Values point into argv (or are argv's strings
 * themselves); `pos` and the value lists are owned by the struct. */
struct cli_args {
	char **pos; /* positional arguments, in order */
	int npos;
	const char **values[FLAG_COUNT]; /* every value given, in order */
	size_t count[FLAG_COUNT];        /* times given (flags without a
	                                    value count too) */
	char *error; /* what was wrong, after a failed parse (malloc'd) */
};

/* args_parse_global parses the global options that come before the
 * command's words (getopt_long stopping at the first word). Returns the
 * index in argv of the first word (argc when there is none), or -1 with
 * a->error set. */
int args_parse_global(struct cli_args *a, int argc, char **argv)
    __attribute__((warn_unused_result));

/* args_parse_command parses `argc` words after a command's name with
 * getopt_long (flags and positional arguments in any order, `--` ending
 * the flags), accepting the flags in `uses` and the global options.
 * Returns 0, or -1 with a->error set (unknown flag, missing value, a
 * single-valued flag given twice). Positional counts are the caller's. */
int args_parse_command(struct cli_args *a, const struct cli_flag_use *uses,
    int argc, char **argv) __attribute__((warn_unused_result));

/* args_get returns the value of a single-valued flag, or NULL. */
const char *args_get(const struct cli_args *a, enum cli_flag f);

/* args_has says whether a flag was given. */
bool args_has(const struct cli_args *a, enum cli_flag f);

/* args_fini frees what parsing allocated. */
void args_fini(struct cli_args *a);

/* args_print_flags prints one line per flag of `uses` (with its argument
 * and help), then, when `globals` is set, the global options. */
void args_print_flags(FILE *out, const struct cli_flag_use *uses, bool globals);

#endif
