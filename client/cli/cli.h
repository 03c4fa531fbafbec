/* cli: what every exe-access command shares — the connection and output
 * mode chosen by the global options, the mapping from service status codes
 * to exit statuses, error reporting on stderr in one format
 * (`exe-access: CODE_NAME: message`), and parsing of the small values that
 * several commands take (roles, numbers, TYPE:ID resources). */
#ifndef EXA_CLI_H
#define EXA_CLI_H

#include <exe/access.h>
#include <exe/access_raw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses of exe-access, documented in `exe-access --help`. */
enum cli_exit {
	CLI_EXIT_OK = 0,          /* success; for check: allowed */
	CLI_EXIT_DENIED = 1,      /* a check answered allowed=false; activity
	                           * verify found a break */
	CLI_EXIT_USAGE = 2,       /* usage error, INVALID_ARGUMENT */
	CLI_EXIT_NOT_FOUND = 3,   /* NOT_FOUND */
	CLI_EXIT_FORBIDDEN = 4,   /* PERMISSION_DENIED, UNAUTHENTICATED */
	CLI_EXIT_CONFLICT = 5,    /* ALREADY_EXISTS, FAILED_PRECONDITION,
	                             ABORTED */
	CLI_EXIT_UNAVAILABLE = 6, /* UNAVAILABLE, DEADLINE_EXCEEDED */
	CLI_EXIT_ERROR = 7,       /* any other service error */
};

struct cli_args;
struct cli_command;
struct cli_user_cache;

/* The state of one run of exe-access. */
struct cli {
	const struct cli_command *cmd; /* the command being run */
	const char *url;               /* never NULL once set up */
	const char *token;             /* may be NULL; never printed */
	int timeout_ms;                /* 0: the library's default */
	bool json;                     /* --json: one JSON document */
	exa_client *client;            /* NULL until cli_client opens it */
	int open_exit;                 /* why it could not be opened */
	struct cli_user_cache *users;  /* usernames resolved so far */
};

/* cli_client returns the client, opening it — and so connecting — on
 * first use: a command that fails on its own input never connects. (A
 * connection dropped before the SP handshake wedges an ipc:// listener
 * of nng 1.5.2, nanomsg/nng#1518.) When it cannot be opened (a bad
 * --url), reports that once, remembers the exit status and returns NULL:
 * the call given NULL then fails, and cli_fail_call adds nothing. */
exa_client *cli_client(struct cli *cli);

/* cli_exit_for maps a service status onto an exit status. */
enum cli_exit cli_exit_for(exa_status code);

/* cli_fail prints `exe-access: CODE_NAME: message` on stderr and returns
 * the exit status for `code`. The message must never hold a secret. */
int cli_fail(exa_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_fail_call reports a failed call: `what` (e.g. `--as "bob"`, may be
 * NULL) and the service's message, and returns the exit status. */
int cli_fail_call(
    const struct cli *cli, const exa_error *err, const char *what);

/* cli_usage_fail reports bad input found before any call (exit 2), with a
 * pointer to the running command's --help. */
int cli_usage_fail(const struct cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_command_path writes "member add" (the running command's words) into
 * buf and returns buf. */
const char *cli_command_path(const struct cli *cli, char *buf, size_t size);

/* cli_print_write prints the outcome of a write that returns only its
 * revision: the failed call (`st`, reported from err), or `done` (a printf
 * format) and the revision, or with --json the reply. Frees resp. Returns
 * the exit status. */
int cli_print_write(const struct cli *cli, exa_status st, const exa_error *err,
    Exe__Access__V1__WriteResponse *resp, const char *done, ...)
    __attribute__((format(printf, 5, 6)));

/* A command's human form of a reply: prints it, or reports a reply that
 * lacks what it prints. `ctx` is what cli_print_reply was given. Returns
 * the exit status. */
typedef int (*cli_print_fn)(struct cli *cli, const void *resp, const void *ctx);

/* cli_print_reply prints the outcome of a call: the failed call (`st`,
 * reported from err), or with --json the reply `resp` (a response
 * message), or its human form by `print`. Frees resp. Returns the exit
 * status. */
int cli_print_reply(struct cli *cli, exa_status st, const exa_error *err,
    void *resp, cli_print_fn print, const void *ctx);

/* cli_parse_role reads "admin", "member", "read_only" (or "read-only").
 * Returns false for anything else. */
bool cli_parse_role(const char *text, Exe__Access__V1__Role *role)
    __attribute__((warn_unused_result));

/* cli_parse_u64 reads a decimal number in [min, max]. */
bool cli_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
    __attribute__((warn_unused_result));

/* cli_parse_resource splits "TYPE:ID" at its first colon into type and
 * id, which point into `buf` (a copy of text, of `size` bytes). */
bool cli_parse_resource(const char *text, char *buf, size_t size,
    Exe__Access__V1__ResourceRef *ref) __attribute__((warn_unused_result));

/* cli_u64_arg is cli_parse_u64 of the value `text` of flag `what`,
 * reporting text it cannot read as a usage error: `what: expected
 * <expected>, not "text"`. NULL text (the flag not given) leaves *out
 * alone. Returns 0 or the exit status. */
int cli_u64_arg(const struct cli *cli, const char *what, const char *text,
    uint64_t min, uint64_t max, const char *expected, uint64_t *out)
    __attribute__((warn_unused_result));

/* cli_role_arg is cli_parse_role reporting text it cannot read as a usage
 * error naming `what` ("ROLE", "--role"). Returns 0 or the exit status. */
int cli_role_arg(const struct cli *cli, const char *what, const char *text,
    Exe__Access__V1__Role *role) __attribute__((warn_unused_result));

/* cli_resource_arg is cli_parse_resource reporting text it cannot read as
 * a usage error naming `what` ("--resource"; NULL for a positional
 * argument). Returns 0 or the exit status. */
int cli_resource_arg(const struct cli *cli, const char *what, const char *text,
    char *buf, size_t size, Exe__Access__V1__ResourceRef *ref)
    __attribute__((warn_unused_result));

/* cli_target_arg reads the target that exactly one of --workspace WS and
 * --resource TYPE:ID names: *ws is the workspace, or NULL with the
 * resource in ref (its text in buf). Returns 0 or the exit status. */
int cli_target_arg(const struct cli *cli, const struct cli_args *a,
    const char **ws, char *buf, size_t size, Exe__Access__V1__ResourceRef *ref)
    __attribute__((warn_unused_result));

/* cli_read_secret returns `value`, or for "-" the first line of standard
 * input in *owned (malloc'd; wipe and free it with cli_secret_free).
 * Returns NULL when standard input holds no line. */
const char *cli_read_secret(const char *value, char **owned);

/* cli_secret_free wipes and frees a secret read by cli_read_secret. NULL
 * is fine. */
void cli_secret_free(char *owned);

#endif
