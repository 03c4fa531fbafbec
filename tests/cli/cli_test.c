/* The exe-access CLI, driven as a person or a script would drive it: the
 * built binary ($EXA_TEST_CLI) run as a subprocess against a real
 * exe-accessd, its output read as text or parsed as JSON (jansson), its
 * exit status checked. The cases walk the product flow in order — sign-up
 * and the personal workspace, an organisation and a team with an admin, a
 * member and a read-only user, an invitation, checks that pass and fail, a
 * key rotation — then every remaining command, the exit statuses of each
 * kind of failure, paging, and the rule that secrets never reach stderr.
 * Every run also fails its case if a sanitizer (ASan, LeakSanitizer,
 * UBSan) spoke on the CLI's stderr. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "unit/unit.h"

static struct harness h;
static const char *cli_path;

/* ---- running the CLI ---- */

struct run {
	int status; /* exit status; 128 + signal if killed */
	char *out;
	char *err;
};

static char *
slurp(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static int
temp_file(void)
{
	char path[] = "/tmp/exa-cli-test.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		exit(2);
	}
	unlink(path);
	return fd;
}

/* run_argv runs exe-access with `args` (NULL-terminated), `input` on its
 * standard input (NULL: empty). */
static struct run
run_argv(const char *input, const char *const *args)
{
	const char *argv[64];
	size_t n = 0;
	argv[n++] = cli_path;
	for (size_t i = 0; args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	int in = temp_file(), out = temp_file(), err = temp_file();
	if (input != NULL && write(in, input, strlen(input)) < 0)
		perror("write");
	lseek(in, 0, SEEK_SET);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		execv(cli_path, (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	struct run r = {
	    .status = WIFEXITED(status) ? WEXITSTATUS(status)
	                                : 128 + WTERMSIG(status),
	    .out = slurp(out),
	    .err = slurp(err),
	};
	close(in);
	close(out);
	close(err);
	/* A sanitizer report fails the case whatever the test expected:
	 * leaks in the CLI count. */
	if (strstr(r.err, "Sanitizer") != NULL ||
	    strstr(r.err, "runtime error") != NULL) {
		fprintf(
		    stderr, "  sanitizer report from exe-access:\n%s\n", r.err);
		unit_case_failed = 1;
	}
	return r;
}

static struct run
run_in(const char *input, ...)
{
	const char *args[64];
	size_t n = 0;
	va_list ap;
	va_start(ap, input);
	for (const char *a; n < 63 && (a = va_arg(ap, const char *)) != NULL;)
		args[n++] = a;
	va_end(ap);
	args[n] = NULL;
	return run_argv(input, args);
}

#define RUN(...)           run_in(NULL, __VA_ARGS__, (const char *)NULL)
#define RUN_IN(input, ...) run_in(input, __VA_ARGS__, (const char *)NULL)

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/* EXPECT_EXIT checks a run's exit status, showing its output if wrong. */
#define EXPECT_EXIT(r, want)                                                   \
	do {                                                                   \
		if ((r).status != (want)) {                                    \
			fprintf(stderr,                                        \
			    "  %s:%d: exit status %d, expected %d\n"           \
			    "  stdout: %s\n  stderr: %s\n",                    \
			    __FILE__, __LINE__, (r).status, (want), (r).out,   \
			    (r).err);                                          \
			unit_case_failed = 1;                                  \
		}                                                              \
	} while (0)

/* ---- JSON ---- */

/* parse reads a run's stdout as exactly one JSON document. */
static json_t *
parse(const struct run *r)
{
	json_error_t e;
	json_t *doc = json_loads(r->out, 0, &e);
	if (doc == NULL) {
		fprintf(stderr, "  stdout is not one JSON document (%s): %s\n",
		    e.text, r->out);
		unit_case_failed = 1;
	}
	return doc;
}

/* jget follows a path like "workspaces.0.workspace.id" (numbers index
 * arrays); NULL if any step is missing. */
static json_t *
jget(json_t *doc, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	json_t *v = doc;
	char *save = NULL;
	for (char *step = strtok_r(buf, ".", &save); v != NULL && step != NULL;
	     step = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, strtoul(step, NULL, 10));
		else
			v = json_object_get(v, step);
	}
	return v;
}

static const char *
jstr(json_t *doc, const char *path)
{
	const char *s = json_string_value(jget(doc, path));
	return s != NULL ? s : "(missing)";
}

static long long
jint(json_t *doc, const char *path)
{
	json_t *v = jget(doc, path);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

static size_t
jlen(json_t *doc, const char *path)
{
	return json_array_size(jget(doc, path));
}

/* ---- the flow's state ---- */

struct user {
	const char *name;
	char id[40];
	char personal[40];
	char key[64];
};

static struct user alice = {.name = "alice"}, bob = {.name = "bob"},
                   carol = {.name = "carol"}, dave = {.name = "dave"},
                   erin = {.name = "erin"};
static char org[40], team[40], team_key[64];
/* The newest revision a write returned: checks pass it with --fresh so
 * that they see the writes before them (read-your-writes). */
static char fresh[24] = "1";

static void
saw_revision(json_t *doc, const char *path)
{
	long long rev = jint(doc, path);
	EXPECT(rev > 0);
	if (rev > strtoll(fresh, NULL, 10))
		snprintf(fresh, sizeof fresh, "%lld", rev);
}

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

/* sign_up creates u with --json and keeps its ids and key. */
static void
sign_up(struct user *u)
{
	char email[96];
	snprintf(email, sizeof email, "%s@example.com", u->name);
	struct run r =
	    RUN("user", "create", u->name, "--email", email, "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	EXPECT_STR(jstr(doc, "user.username"), u->name);
	copy(u->id, sizeof u->id, jstr(doc, "user.id"));
	copy(u->personal, sizeof u->personal,
	    jstr(doc, "personal_workspace.id"));
	copy(u->key, sizeof u->key, jstr(doc, "api_key"));
	EXPECT(strncmp(u->key, "exa_live_", 9) == 0);
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);
}

/* ---- cases ---- */

/* Every command, its words and flags its --help must mention. */
static const struct {
	const char *words;
	const char *flags[6];
} commands[] = {
    {"user create", {"--email", "--display-name"}},
    {"user get", {NULL}},
    {"user find", {"--username", "--email"}},
    {"org create", {"--as", "--as-key", "--first-admin"}},
    {"org admin add", {"--as", "--as-key"}},
    {"org admin remove", {"--as", "--as-key"}},
    {"team create", {"--first-admin", "--as", "--as-key"}},
    {"workspaces", {"--user", "--page-size", "--page-token"}},
    {"workspace list", {"--user"}},
    {"workspace get", {"--as", "--as-key"}},
    {"workspace settings", {"--name", "--set", "--unset", "--as"}},
    {"workspace delete", {"--as"}},
    {"member add", {"--role", "--as", "--as-key"}},
    {"member role", {"--as"}},
    {"member remove", {"--as"}},
    {"member list", {"--page-size", "--page-token", "--as"}},
    {"invite create", {"--username", "--email", "--role", "--days", "--as"}},
    {"invite list", {"--all", "--page-size", "--as"}},
    {"invite revoke", {"--as"}},
    {"invite accept", {"--as"}},
    {"invite decline", {"--as"}},
    {"key rotate", {"--grace", "--read-only", "--as"}},
    {"key get", {"--as"}},
    {"key verify", {NULL}},
    {"resource register", {"--name", "--as"}},
    {"resource delete", {"--as"}},
    {"resource list", {"--type", "--page-size", "--as"}},
    {"resource lookup", {"--user", "--key", "--page-token"}},
    {"grant add", {"--as", "--as-key"}},
    {"grant revoke", {"--as"}},
    {"grant list", {"--page-size", "--page-token", "--as"}},
    {"grant user", {"--page-size", "--page-token"}},
    {"activity record", {"--workspace", "--resource", "--detail", "--as"}},
    {"activity list", {"--page-size", "--as"}},
    {"activity verify", {"--workspace", "--organization", "--anchor"}},
    {"check", {"--workspace", "--resource", "--user", "--key", "--fresh"}},
    {"permissions", {"--resource", "--user", "--key", "--fresh"}},
    {"batch-check", {"--fresh"}},
    {"help", {NULL}},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

/* split_words turns "org admin add" into argv entries, then `extra`. */
static size_t
split_words(const char *words, char *buf, size_t size, const char **argv,
    const char *extra)
{
	snprintf(buf, size, "%s", words);
	size_t n = 0;
	char *save = NULL;
	for (char *w = strtok_r(buf, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	if (extra != NULL)
		argv[n++] = extra;
	argv[n] = NULL;
	return n;
}

static void
test_help_on_every_command(void)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char buf[128], usage[160];
		const char *argv[16];
		split_words(commands[i].words, buf, sizeof buf, argv, "--help");
		struct run r = run_argv(NULL, argv);
		EXPECT_EXIT(r, 0);
		snprintf(usage, sizeof usage, "usage: exe-access %s",
		    commands[i].words);
		EXPECT_CONTAINS(r.out, usage);
		for (size_t f = 0; f < 6 && commands[i].flags[f] != NULL; f++)
			EXPECT_CONTAINS(r.out, commands[i].flags[f]);
		/* The global options and the exit statuses, everywhere. */
		EXPECT_CONTAINS(r.out, "--url");
		EXPECT_CONTAINS(r.out, "--token");
		EXPECT_CONTAINS(r.out, "--timeout");
		EXPECT_CONTAINS(r.out, "--json");
		EXPECT_CONTAINS(r.out, "exit status");
		EXPECT_STR(r.err, "");
		run_free(&r);
	}
	/* Help is per command: sign-up's does not list key rotation's. */
	struct run r = RUN("user", "create", "-h");
	EXPECT_EXIT(r, 0);
	EXPECT(strstr(r.out, "--grace") == NULL);
	run_free(&r);

	/* The overview lists every command and the exit status table. */
	r = RUN("--help");
	EXPECT_EXIT(r, 0);
	for (size_t i = 0; i < NCOMMANDS; i++)
		EXPECT_CONTAINS(r.out, commands[i].words);
	EXPECT_CONTAINS(r.out, "1  check denied");
	EXPECT_CONTAINS(r.out, "6  service unavailable");
	EXPECT_CONTAINS(r.out, "exe-access: CODE_NAME: message");
	run_free(&r);

	r = RUN("member", "--help");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "member add");
	EXPECT_CONTAINS(r.out, "member list");
	run_free(&r);

	r = RUN("help", "invite", "accept");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "usage: exe-access invite accept TOKEN");
	run_free(&r);

	r = RUN("--version");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "exe-access 0.");
	run_free(&r);
}

static void
test_sign_up_and_personal_workspace(void)
{
	/* A person signs up: human output, the key shown once. */
	struct run r = RUN("user", "create", "alice", "--email",
	    "alice@example.com", "--display-name", "Alice Liddell");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "alice's Workspace");
	EXPECT_CONTAINS(r.out, "shown once");
	EXPECT_CONTAINS(r.out, "Alice Liddell");
	const char *key = strstr(r.out, "exa_live_");
	EXPECT(key != NULL);
	if (key != NULL)
		snprintf(alice.key, sizeof alice.key, "%.*s",
		    (int)strcspn(key, " \n"), key);
	run_free(&r);

	/* The switcher: the personal workspace, admin, in a table. */
	r = RUN("workspaces", "--user", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "WORKSPACE");
	EXPECT_CONTAINS(r.out, "ROLE");
	EXPECT_CONTAINS(r.out, "alice's Workspace  personal  admin");
	run_free(&r);

	r = RUN("workspaces", "--user", "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	EXPECT_INT(jlen(doc, "workspaces"), 1);
	EXPECT_STR(
	    jstr(doc, "workspaces.0.workspace.name"), "alice's Workspace");
	EXPECT_STR(jstr(doc, "workspaces.0.workspace.kind"),
	    "WORKSPACE_KIND_PERSONAL");
	EXPECT_STR(jstr(doc, "workspaces.0.role"), "ROLE_ADMIN");
	copy(alice.personal, sizeof alice.personal,
	    jstr(doc, "workspaces.0.workspace.id"));
	copy(alice.id, sizeof alice.id,
	    jstr(doc, "workspaces.0.workspace.owner_user_id"));
	EXPECT_STR(jstr(doc, "next_page_token"), "");
	json_decref(doc);
	run_free(&r);

	/* The key printed once is the personal workspace's. */
	r = RUN("key", "verify", alice.key, "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "workspace_id"), alice.personal);
	EXPECT_STR(jstr(doc, "scope"), "API_KEY_SCOPE_READ_WRITE");
	json_decref(doc);
	run_free(&r);

	/* A user named by id, username or email is the same user. */
	r = RUN("user", "get", "ALICE@example.com", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "user.id"), alice.id);
	EXPECT_STR(jstr(doc, "user.display_name"), "Alice Liddell");
	json_decref(doc);
	run_free(&r);
	r = RUN("user", "find", "--username", "Alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, alice.id);
	EXPECT_CONTAINS(r.out, "alice@example.com");
	run_free(&r);

	sign_up(&bob);
	sign_up(&carol);
	sign_up(&dave);
	sign_up(&erin);
}

static void
test_team_with_admin_member_read_only(void)
{
	struct run r =
	    RUN("org", "create", "Acme Labs", "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	copy(org, sizeof org, jstr(doc, "organization.id"));
	EXPECT_STR(jstr(doc, "organization.name"), "Acme Labs");
	EXPECT_STR(jstr(doc, "organization.admin_user_ids.0"), alice.id);
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);

	r = RUN(
	    "team", "create", org, "Optimisation", "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	copy(team, sizeof team, jstr(doc, "workspace.id"));
	EXPECT_STR(jstr(doc, "workspace.kind"), "WORKSPACE_KIND_TEAM");
	EXPECT_STR(jstr(doc, "workspace.organization_id"), org);
	/* The team's own API key, returned once. */
	EXPECT(strncmp(jstr(doc, "api_key"), "exa_live_", 9) == 0);
	json_decref(doc);
	run_free(&r);
	r = RUN("team", "create", org, "Second team", "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "API key of the team workspace (shown once");
	EXPECT_CONTAINS(r.out, "exa_live_");
	run_free(&r);

	/* bob by username with the default role; carol by id, read-only. */
	r = RUN("member", "add", team, "bob", "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "bob has role member");
	run_free(&r);
	r = RUN("member", "add", team, carol.id, "--role", "read_only", "--as",
	    alice.id, "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "member.username"), "carol");
	EXPECT_STR(jstr(doc, "member.role"), "ROLE_READ_ONLY");
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);

	r = RUN("member", "list", team, "--as", "carol", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "members"), 3);
	for (size_t i = 0; i < jlen(doc, "members"); i++) {
		char path[64];
		snprintf(path, sizeof path, "members.%zu.username", i);
		const char *name = jstr(doc, path);
		snprintf(path, sizeof path, "members.%zu.role", i);
		const char *role = jstr(doc, path);
		if (strcmp(name, "alice") == 0)
			EXPECT_STR(role, "ROLE_ADMIN");
		else if (strcmp(name, "bob") == 0)
			EXPECT_STR(role, "ROLE_MEMBER");
		else
			EXPECT_STR(role, "ROLE_READ_ONLY");
	}
	json_decref(doc);
	run_free(&r);

	r = RUN("member", "list", team, "--as", "bob");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "USER");
	EXPECT_CONTAINS(r.out, "carol  read_only");
	run_free(&r);

	/* carol's switcher: personal first, then the team with her role. */
	r = RUN("workspaces", "--user", "carol", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "workspaces"), 2);
	EXPECT_STR(
	    jstr(doc, "workspaces.0.workspace.name"), "carol's Workspace");
	EXPECT_STR(jstr(doc, "workspaces.1.workspace.id"), team);
	EXPECT_STR(jstr(doc, "workspaces.1.role"), "ROLE_READ_ONLY");
	json_decref(doc);
	run_free(&r);
	r = RUN("workspace", "list", "--user", "carol");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "Optimisation       team      read_only");
	run_free(&r);

	r = RUN("workspace", "get", team, "--as", "carol");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "Optimisation");
	EXPECT_CONTAINS(r.out, "read_only");
	run_free(&r);
}

static void
test_invitation_created_and_accepted(void)
{
	struct run r = RUN("invite", "create", team, "--username", "dave",
	    "--role", "member", "--days", "3", "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	char token[128], id[40];
	copy(token, sizeof token, jstr(doc, "token"));
	copy(id, sizeof id, jstr(doc, "invitation.id"));
	EXPECT_STR(jstr(doc, "invitation.invitee_username"), "dave");
	EXPECT_STR(jstr(doc, "invitation.state"), "INVITATION_STATE_PENDING");
	EXPECT(jint(doc, "invitation.expires_unix_ms") >
	       jint(doc, "invitation.created_unix_ms") + 2LL * 86400 * 1000);
	json_decref(doc);
	run_free(&r);

	r = RUN("invite", "list", team, "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, id);
	EXPECT_CONTAINS(r.out, "dave");
	EXPECT_CONTAINS(r.out, "pending");
	run_free(&r);

	/* A member cannot invite. */
	r = RUN("invite", "create", team, "--email", "x@example.com", "--as",
	    "bob");
	EXPECT_EXIT(r, 4);
	EXPECT_CONTAINS(r.err, "exe-access: PERMISSION_DENIED: ");
	run_free(&r);

	/* Someone else cannot accept dave's invitation; dave can, once,
	 * giving the token on stdin. */
	char input[160];
	snprintf(input, sizeof input, "%s\n", token);
	r = RUN_IN(input, "invite", "accept", "-", "--as", "erin");
	EXPECT_EXIT(r, 4);
	run_free(&r);
	r = RUN_IN(input, "invite", "accept", "-", "--as", "dave", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "member.user_id"), dave.id);
	EXPECT_STR(jstr(doc, "member.workspace_id"), team);
	EXPECT_STR(jstr(doc, "member.role"), "ROLE_MEMBER");
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);
	r = RUN("invite", "accept", token, "--as", "dave");
	EXPECT_EXIT(r, 5);
	run_free(&r);

	r = RUN("invite", "list", team, "--all", "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "invitations"), 1);
	EXPECT_STR(
	    jstr(doc, "invitations.0.state"), "INVITATION_STATE_ACCEPTED");
	json_decref(doc);
	run_free(&r);

	/* Inviting a member again is a conflict. */
	r = RUN(
	    "invite", "create", team, "--username", "dave", "--as", "alice");
	EXPECT_EXIT(r, 5);
	EXPECT_CONTAINS(r.err, "exe-access: ALREADY_EXISTS: ");
	run_free(&r);

	/* The human form prints the token once, with the note. */
	r = RUN("invite", "create", team, "--email", "erin@example.com",
	    "--role", "read_only", "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "Invitation token (shown once");
	EXPECT_CONTAINS(r.out, "exe-access invite accept");
	run_free(&r);
}

static void
test_checks_pass_and_fail(void)
{
	/* bob (member) may create experiments: exit 0. */
	struct run r = RUN("check", "experiment.create", "--workspace", team,
	    "--user", "bob", "--fresh", fresh);
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "allowed");
	EXPECT_STR(r.err, "");
	run_free(&r);

	/* carol (read-only) may not: exit 1, and why. */
	r = RUN("check", "experiment.create", "--workspace", team, "--user",
	    "carol", "--fresh", fresh);
	EXPECT_EXIT(r, 1);
	EXPECT_CONTAINS(r.out, "denied");
	EXPECT_CONTAINS(r.out, "read_only");
	EXPECT_CONTAINS(r.out, "experiment.create");
	run_free(&r);

	r = RUN("check", "experiment.create", "--workspace", team, "--user",
	    carol.id, "--json");
	EXPECT_EXIT(r, 1);
	json_t *doc = parse(&r);
	EXPECT(json_is_false(jget(doc, "allowed")));
	EXPECT_STR(jstr(doc, "role"), "ROLE_READ_ONLY");
	EXPECT_CONTAINS(jstr(doc, "reason"), "read_only");
	EXPECT_STR(jstr(doc, "workspace_id"), team);
	json_decref(doc);
	run_free(&r);

	/* erin is not a member (R13): her own workspace grants nothing. */
	r = RUN("check", "experiment.view", "--workspace", team, "--user",
	    "erin@example.com");
	EXPECT_EXIT(r, 1);
	EXPECT_CONTAINS(r.out, "not a member");
	run_free(&r);
	r = RUN("check", "workspace.delete", "--workspace", erin.personal,
	    "--user", "erin");
	EXPECT_EXIT(r, 0);
	run_free(&r);

	r = RUN("permissions", team, "--user", "carol", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "role"), "ROLE_READ_ONLY");
	bool view = false, create = false;
	for (size_t i = 0; i < jlen(doc, "permissions"); i++) {
		char path[48];
		snprintf(path, sizeof path, "permissions.%zu", i);
		view |= strcmp(jstr(doc, path), "experiment.view") == 0;
		create |= strcmp(jstr(doc, path), "experiment.create") == 0;
	}
	EXPECT(view);
	EXPECT(!create);
	json_decref(doc);
	run_free(&r);
	r = RUN("permissions", team, "--user", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "PERMISSION");
	EXPECT_CONTAINS(r.out, "workspace.delete");
	run_free(&r);
}

static void
test_key_rotation(void)
{
	/* bob is a member: rotating is an admin's. */
	struct run r = RUN("key", "rotate", team, "--as", "bob");
	EXPECT_EXIT(r, 4);
	run_free(&r);

	r = RUN("key", "rotate", team, "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	char first[64];
	copy(first, sizeof first, jstr(doc, "secret"));
	EXPECT(strncmp(first, "exa_live_", 9) == 0);
	EXPECT_STR(jstr(doc, "key.workspace_id"), team);
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);

	r = RUN("check", "measurement.add", "--workspace", team, "--key", first,
	    "--fresh", fresh);
	EXPECT_EXIT(r, 0);
	run_free(&r);

	/* Rotate again, human output, no grace: the old secret stops. */
	r = RUN("key", "rotate", team, "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "New API key secret (shown once");
	/* The secret follows the note (the prefix line comes before). */
	const char *note = strstr(r.out, "shown once");
	const char *key = note != NULL ? strstr(note, "exa_live_") : NULL;
	EXPECT(key != NULL);
	if (key != NULL)
		snprintf(team_key, sizeof team_key, "%.*s",
		    (int)strcspn(key, " \n"), key);
	char rev[24] = "1";
	const char *revline = strstr(r.out, "revision");
	if (revline != NULL)
		snprintf(rev, sizeof rev, "%lld",
		    strtoll(
		        revline + strcspn(revline, "0123456789"), NULL, 10));
	run_free(&r);
	EXPECT(strcmp(team_key, first) != 0);

	r = RUN("check", "measurement.add", "--workspace", team, "--key", first,
	    "--fresh", rev);
	EXPECT_EXIT(r, 1);
	EXPECT_CONTAINS(r.out, "rotated");
	run_free(&r);
	/* The secret given on stdin, as scripts should. */
	char input[96];
	snprintf(input, sizeof input, "%s\n", team_key);
	r = RUN_IN(input, "check", "measurement.add", "--workspace", team,
	    "--key", "-", "--fresh", rev);
	EXPECT_EXIT(r, 0);
	run_free(&r);
	/* A key never manages members. */
	r = RUN(
	    "check", "members.invite", "--workspace", team, "--key", team_key);
	EXPECT_EXIT(r, 1);
	run_free(&r);

	/* A grace period keeps the old one working; key get shows both. */
	r = RUN("key", "rotate", team, "--grace", "3600", "--read-only", "--as",
	    "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT(json_is_true(jget(doc, "key.read_only")));
	snprintf(rev, sizeof rev, "%lld", jint(doc, "revision"));
	json_decref(doc);
	run_free(&r);
	r = RUN("check", "measurement.add", "--workspace", team, "--key",
	    team_key, "--fresh", rev);
	EXPECT_EXIT(r, 0);
	run_free(&r);
	r = RUN("key", "get", team, "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "previous"), 1);
	EXPECT(jint(doc, "previous.0.expires_unix_ms") > 0);
	json_decref(doc);
	run_free(&r);
	r = RUN("key", "get", team, "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "PREFIX");
	EXPECT_CONTAINS(r.out, "current");
	EXPECT_CONTAINS(r.out, "until");
	EXPECT(strstr(r.out, team_key) == NULL);
	run_free(&r);
}

static void
test_batch_check(void)
{
	char input[1024];
	snprintf(input, sizeof input,
	    "# who, what, where\n"
	    "user bob experiment.create %s\n"
	    "\n"
	    "user carol experiment.create %s\n"
	    "key %s experiment.view %s\n",
	    team, team, alice.key, alice.personal);
	struct run r = RUN_IN(input, "batch-check", "--json");
	EXPECT_EXIT(r, 1); /* carol is denied */
	json_t *doc = parse(&r);
	EXPECT_INT(jlen(doc, "results"), 3);
	EXPECT(json_is_true(jget(doc, "results.0.result.allowed")));
	EXPECT(json_is_false(jget(doc, "results.1.result.allowed")));
	EXPECT_CONTAINS(jstr(doc, "results.1.result.reason"), "read_only");
	EXPECT(json_is_true(jget(doc, "results.2.result.allowed")));
	EXPECT_INT(jint(doc, "results.2.code"), 0);
	json_decref(doc);
	run_free(&r);

	/* Human output never prints a key's secret back. */
	r = RUN_IN(input, "batch-check");
	EXPECT_EXIT(r, 1);
	EXPECT_CONTAINS(r.out, "denied");
	EXPECT(strstr(r.out, alice.key) == NULL);
	run_free(&r);

	snprintf(input, sizeof input, "user bob experiment.view %s\n", team);
	r = RUN_IN(input, "batch-check");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "allowed");
	run_free(&r);

	r = RUN_IN("user bob experiment.view\n", "batch-check");
	EXPECT_EXIT(r, 2);
	EXPECT_CONTAINS(r.err, "line 1");
	run_free(&r);
}

static void
test_resources_and_activity(void)
{
	struct run r = RUN("resource", "register", team, "experiment", "exp-42",
	    "--name", "Yield study", "--as", "bob", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	EXPECT_STR(jstr(doc, "resource.ref.type"), "experiment");
	EXPECT_STR(jstr(doc, "resource.ref.id"), "exp-42");
	EXPECT_STR(jstr(doc, "resource.created_by_user_id"), bob.id);
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);
	r = RUN("resource", "register", team, "dataset", "ds-1", "--as-key",
	    team_key);
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "dataset:ds-1");
	run_free(&r);
	/* Read-only carol cannot register. */
	r = RUN(
	    "resource", "register", team, "dataset", "ds-2", "--as", "carol");
	EXPECT_EXIT(r, 4);
	run_free(&r);

	/* Everything in the team is visible to every member (R6). */
	r = RUN("resource", "list", team, "--as", "carol");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "exp-42");
	EXPECT_CONTAINS(r.out, "Yield study");
	EXPECT_CONTAINS(r.out, "ds-1");
	run_free(&r);
	r = RUN("resource", "list", team, "--type", "dataset", "--as", "carol",
	    "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "resources"), 1);
	json_decref(doc);
	run_free(&r);
	r = RUN("resource", "lookup", "experiment", "experiment.view", "--user",
	    "carol", "--json", "--page-size", "10");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "resources"), 1);
	EXPECT_STR(jstr(doc, "resources.0.ref.id"), "exp-42");
	json_decref(doc);
	run_free(&r);
	r = RUN("resource", "lookup", "experiment", "experiment.edit", "--user",
	    "carol");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "no resources");
	run_free(&r);

	/* A check on the resource follows its workspace. */
	r = RUN("check", "experiment.delete", "--resource", "experiment:exp-42",
	    "--user", "bob", "--fresh", fresh);
	EXPECT_EXIT(r, 1);
	run_free(&r);
	r = RUN("check", "experiment.delete", "--resource", "experiment:exp-42",
	    "--user", "alice", "--fresh", fresh);
	EXPECT_EXIT(r, 0);
	run_free(&r);

	r = RUN("activity", "record", "--resource", "experiment:exp-42",
	    "measurement.add", "--detail", "run 3", "--as", "bob", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "record.action"), "measurement.add");
	EXPECT_STR(jstr(doc, "record.actor_user_id"), bob.id);
	EXPECT_STR(jstr(doc, "record.workspace_id"), team);
	json_decref(doc);
	run_free(&r);
	r = RUN("activity", "record", "--workspace", team, "measurement.add",
	    "--as", "carol");
	EXPECT_EXIT(r, 4);
	run_free(&r);

	r = RUN("activity", "list", team, "--as", "carol");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "ACTION");
	EXPECT_CONTAINS(r.out, "measurement.add");
	EXPECT_CONTAINS(r.out, "run 3");
	run_free(&r);
	r = RUN("activity", "list", team, "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(
	    jstr(doc, "records.0.action"), "measurement.add"); /* newest */
	json_decref(doc);
	run_free(&r);

	r = RUN("resource", "delete", "experiment", "exp-42", "--as", "bob");
	EXPECT_EXIT(r, 4); /* members do not delete experiments */
	run_free(&r);
	r = RUN("resource", "delete", "experiment:exp-42", "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "deleted experiment:exp-42");
	run_free(&r);
	r = RUN("resource", "delete", "experiment", "exp-42", "--as", "alice");
	EXPECT_EXIT(r, 3);
	run_free(&r);
}

static void
test_organisation_and_member_changes(void)
{
	struct run r =
	    RUN("org", "admin", "add", org, "bob", "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);
	r = RUN("org", "admin", "remove", org, "bob", "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "removed bob");
	run_free(&r);
	/* The last admin stays (conflict). */
	r = RUN("org", "admin", "remove", org, "alice", "--as", "alice");
	EXPECT_EXIT(r, 5);
	EXPECT_CONTAINS(r.err, "exe-access: FAILED_PRECONDITION: ");
	run_free(&r);

	r = RUN("member", "role", team, "carol", "member", "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "carol has role member");
	run_free(&r);
	r = RUN("member", "role", team, "carol", "read-only", "--as", "alice",
	    "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "member.role"), "ROLE_READ_ONLY");
	json_decref(doc);
	run_free(&r);
	/* Nobody changes their own role. */
	r = RUN("member", "role", team, "alice", "member", "--as", "alice");
	EXPECT_EXIT(r, 4);
	run_free(&r);

	r = RUN("member", "remove", team, "dave", "--as", "alice");
	EXPECT_EXIT(r, 0);
	run_free(&r);
	r = RUN("member", "list", team, "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "members"), 3);
	json_decref(doc);
	run_free(&r);

	/* Invitations revoked and declined. */
	r = RUN("invite", "create", team, "--username", "dave", "--as", "alice",
	    "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	char id[40], token[128];
	copy(id, sizeof id, jstr(doc, "invitation.id"));
	json_decref(doc);
	run_free(&r);
	r = RUN("invite", "revoke", id, "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "revoked invitation");
	run_free(&r);
	r = RUN("invite", "create", team, "--username", "dave", "--as", "alice",
	    "--json");
	doc = parse(&r);
	copy(token, sizeof token, jstr(doc, "token"));
	json_decref(doc);
	run_free(&r);
	r = RUN("invite", "decline", token, "--as", "dave", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT(jint(doc, "revision") > 0);
	json_decref(doc);
	run_free(&r);
}

static void
test_exit_statuses(void)
{
	/* 3: not found — an unknown id, an unknown username. */
	struct run r =
	    RUN("user", "get", "00000000-0000-4000-8000-000000000000");
	EXPECT_EXIT(r, 3);
	EXPECT_CONTAINS(r.err, "exe-access: NOT_FOUND: ");
	EXPECT_STR(r.out, "");
	run_free(&r);
	r = RUN("member", "list", team, "--as", "nobody");
	EXPECT_EXIT(r, 3);
	EXPECT_CONTAINS(r.err, "--as \"nobody\"");
	run_free(&r);

	/* 2: bad input — from the service, and before any call. */
	r = RUN(
	    "check", "experiment.fly", "--workspace", team, "--user", "bob");
	EXPECT_EXIT(r, 2);
	EXPECT_CONTAINS(r.err, "exe-access: INVALID_ARGUMENT: permission");
	run_free(&r);
	r = RUN(
	    "member", "add", team, "erin", "--role", "boss", "--as", "alice");
	EXPECT_EXIT(r, 2);
	EXPECT_CONTAINS(r.err, "--role");
	run_free(&r);
	r = RUN("member", "add", team, "--as", "alice");
	EXPECT_EXIT(r, 2);
	EXPECT_CONTAINS(r.err, "missing arguments");
	run_free(&r);
	r = RUN("check", "experiment.view", "--workspace", team);
	EXPECT_EXIT(r, 2); /* neither --user nor --key */
	run_free(&r);
	r = RUN("user", "create", "zed", "--emial", "z@example.com");
	EXPECT_EXIT(r, 2);
	EXPECT_CONTAINS(r.err, "--emial");
	run_free(&r);
	r = RUN("user", "frobnicate");
	EXPECT_EXIT(r, 2);
	run_free(&r);
	r = RUN("teleport");
	EXPECT_EXIT(r, 2);
	run_free(&r);
	r = RUN("key", "rotate", team, "--grace", "90000", "--as", "alice");
	EXPECT_EXIT(r, 2);
	run_free(&r);

	/* 4: permission denied, and an unknown caller token. */
	r = RUN("member", "add", team, "erin", "--as", "bob");
	EXPECT_EXIT(r, 4);
	EXPECT_CONTAINS(r.err, "exe-access: PERMISSION_DENIED: ");
	run_free(&r);
	r = RUN("user", "get", bob.id, "--token", "exa_svc_wrong");
	EXPECT_EXIT(r, 4);
	EXPECT_CONTAINS(r.err, "exe-access: UNAUTHENTICATED: ");
	run_free(&r);

	/* 5: conflicts — a taken username, adding to a personal workspace. */
	r = RUN("user", "create", "alice", "--email", "other@example.com");
	EXPECT_EXIT(r, 5);
	EXPECT_CONTAINS(r.err, "exe-access: ALREADY_EXISTS: ");
	run_free(&r);
	r = RUN("member", "add", bob.personal, "carol", "--as", "bob");
	EXPECT_EXIT(r, 5);
	EXPECT_CONTAINS(r.err, "personal workspace");
	run_free(&r);

	/* 6: nobody listening. */
	char url[400];
	snprintf(url, sizeof url, "ipc://%s/nobody.sock", h.dir);
	r = RUN("--url", url, "--timeout", "300", "user", "get", bob.id);
	EXPECT_EXIT(r, 6);
	EXPECT(strncmp(r.err, "exe-access: ", 12) == 0);
	run_free(&r);
	r = RUN("check", "experiment.view", "--workspace", team, "--user",
	    bob.id, "--url", url, "--timeout", "300");
	EXPECT_EXIT(r, 6);
	run_free(&r);
}

/* A command refused on its own input must not connect: nng 1.5.2's ipc
 * listener wedges when a peer drops before the SP handshake
 * (nanomsg/nng#1518), so an operator's typos would take the service
 * down. Twenty refusals in a row, then the service still answers. */
static void
test_refusals_do_not_connect(void)
{
	for (int i = 0; i < 20; i++) {
		struct run r =
		    RUN("check", "experiment.view", "--workspace", team);
		EXPECT_EXIT(r, 2); /* neither --user nor --key */
		run_free(&r);
		r = RUN("member", "add", team, "erin", "--role", "boss", "--as",
		    "alice");
		EXPECT_EXIT(r, 2);
		run_free(&r);
	}
	struct run r = RUN("--timeout", "3000", "user", "get", bob.id);
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "bob");
	run_free(&r);
}

static void
test_paging(void)
{
	/* 120 activities, more than one default page (100). */
	Exe__Access__V1__Principal p = EXE__ACCESS__V1__PRINCIPAL__INIT;
	p.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	p.user_id = bob.id;
	for (int i = 0; i < 120; i++) {
		Exe__Access__V1__RecordActivityRequest req =
		    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
		req.actor = &p;
		req.workspace_id = bob.personal;
		req.action = "measurement.add";
		Exe__Access__V1__RecordActivityResponse *resp = NULL;
		exa_error err;
		if (exa_record_activity(h.client, &req, &resp, &err) !=
		    EXA_OK) {
			fprintf(stderr, "  record: %s\n", err.message);
			unit_case_failed = 1;
			return;
		}
		exa_free(resp);
	}
	/* Every page, into one document. */
	struct run r =
	    RUN("activity", "list", bob.personal, "--as", "bob", "--json");
	EXPECT_EXIT(r, 0);
	json_t *all = parse(&r);
	size_t total = jlen(all, "records");
	EXPECT(total >= 121); /* and user.created */
	EXPECT_STR(jstr(all, "next_page_token"), "");
	run_free(&r);

	/* One page at a time, following the tokens. */
	r = RUN("activity", "list", bob.personal, "--as", "bob", "--json",
	    "--page-size", "50");
	EXPECT_EXIT(r, 0);
	json_t *page = parse(&r);
	EXPECT_INT(jlen(page, "records"), 50);
	char token[256];
	copy(token, sizeof token, jstr(page, "next_page_token"));
	EXPECT(token[0] != '\0');
	json_decref(page);
	run_free(&r);
	r = RUN("activity", "list", bob.personal, "--as", "bob", "--json",
	    "--page-size", "50", "--page-token", token);
	EXPECT_EXIT(r, 0);
	page = parse(&r);
	EXPECT_INT(jlen(page, "records"), 50);
	EXPECT_STR(jstr(page, "records.0.id"), jstr(all, "records.50.id"));
	json_decref(page);
	run_free(&r);
	json_decref(all);

	r = RUN("activity", "list", bob.personal, "--as", "bob", "--page-size",
	    "5");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "next page: --page-token ");
	run_free(&r);
	r = RUN("activity", "list", bob.personal, "--as", "bob", "--page-size",
	    "0");
	EXPECT_EXIT(r, 2);
	run_free(&r);
}

/* ---- exact output ---- */

/* shape_match says whether text matches pattern, where each '*' stands
 * for any run of characters within one line (ids, revisions, times). */
static bool
shape_match(const char *p, const char *t)
{
	if (*p == '\0')
		return *t == '\0';
	if (*p == '*') {
		for (;; t++) {
			if (shape_match(p + 1, t))
				return true;
			if (*t == '\0' || *t == '\n')
				return false;
		}
	}
	return *p == *t && shape_match(p + 1, t + 1);
}

#define EXPECT_SHAPE(text, pattern)                                            \
	do {                                                                   \
		const char *t_ = (text), *p_ = (pattern);                      \
		if (t_ == NULL || !shape_match(p_, t_)) {                      \
			fprintf(stderr,                                        \
			    "  %s:%d: %s is\n\"%s\"\n  expected the shape\n"   \
			    "\"%s\"\n",                                        \
			    __FILE__, __LINE__, #text, t_ ? t_ : "(null)",     \
			    p_);                                               \
			unit_case_failed = 1;                                  \
		}                                                              \
	} while (0)

/* expect_refusal runs a command that must be refused with exit status
 * `want` and exactly the one stderr line `line` (a shape), printing
 * nothing on stdout. */
static void
expect_refusal(
    const char *input, int want, const char *line, const char *const *args)
{
	struct run r = run_argv(input, args);
	EXPECT_EXIT(r, want);
	EXPECT_SHAPE(r.err, line);
	EXPECT_STR(r.out, "");
	run_free(&r);
}

#define REFUSED(want, line, ...)                                               \
	expect_refusal(                                                        \
	    NULL, (want), (line), (const char *const[]){__VA_ARGS__, NULL})
#define REFUSED_IN(input, want, line, ...)                                     \
	expect_refusal(                                                        \
	    (input), (want), (line), (const char *const[]){__VA_ARGS__, NULL})

/* Usage errors, word for word: each names the argument, what it takes
 * and the command's --help. */
static void
test_usage_errors_word_for_word(void)
{
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: ROLE: expected admin, member or "
	    "read_only, not \"boss\" (see `exe-access grant add --help`)\n",
	    "grant", "add", "experiment:exp-7", "gina", "boss", "--as",
	    "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: ROLE: expected admin, member or "
	    "read_only, not \"boss\" (see `exe-access member role --help`)\n",
	    "member", "role", team, "carol", "boss", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --role: expected admin, member or "
	    "read_only, not \"boss\" (see `exe-access member add --help`)\n",
	    "member", "add", team, "erin", "--role", "boss", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --role: expected admin, member or "
	    "read_only, not \"boss\" (see `exe-access invite create --help`)\n",
	    "invite", "create", team, "--username", "erin", "--role", "boss",
	    "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --days: expected a number from 1 "
	    "to 30, not \"31\" (see `exe-access invite create --help`)\n",
	    "invite", "create", team, "--username", "erin", "--days", "31",
	    "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: give one of --username USERNAME "
	    "and --email EMAIL (see `exe-access invite create --help`)\n",
	    "invite", "create", team, "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --grace: expected seconds from 0 "
	    "to 86400, not \"90000\" (see `exe-access key rotate --help`)\n",
	    "key", "rotate", team, "--grace", "90000", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: expected TYPE:ID, not \"exp-7\" "
	    "(see `exe-access grant add --help`)\n",
	    "grant", "add", "exp-7", "gina", "member", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: expected TYPE:ID, not \"exp-7\" "
	    "(see `exe-access grant revoke --help`)\n",
	    "grant", "revoke", "exp-7", "gina", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: expected TYPE:ID, not \":x\" "
	    "(see `exe-access grant list --help`)\n",
	    "grant", "list", ":x", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: expected TYPE ID or TYPE:ID, not "
	    "\"exp-7\" (see `exe-access resource delete --help`)\n",
	    "resource", "delete", "exp-7", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: give one of --workspace WS and "
	    "--resource TYPE:ID (see `exe-access check --help`)\n",
	    "check", "experiment.view", "--user", "bob");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --resource: expected TYPE:ID, not "
	    "\"exp\" (see `exe-access check --help`)\n",
	    "check", "experiment.view", "--resource", "exp", "--user", "bob");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --fresh: expected a revision "
	    "number, not \"0\" (see `exe-access check --help`)\n",
	    "check", "experiment.view", "--workspace", team, "--user", "bob",
	    "--fresh", "0");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: give one of --workspace WS and "
	    "--resource TYPE:ID (see `exe-access activity record --help`)\n",
	    "activity", "record", "measurement.add", "--workspace", team,
	    "--resource", "experiment:exp-7", "--as", "bob");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --resource: expected TYPE:ID, not "
	    "\"exp\" (see `exe-access activity record --help`)\n",
	    "activity", "record", "measurement.add", "--resource", "exp",
	    "--as", "bob");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: give one of WS and --resource "
	    "TYPE:ID (see `exe-access permissions --help`)\n",
	    "permissions", "--user", "gina");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --resource: expected TYPE:ID, not "
	    "\"exp\" (see `exe-access permissions --help`)\n",
	    "permissions", "--resource", "exp", "--user", "gina");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --after: expected a revision "
	    "number, not \"x\" (see `exe-access changes --help`)\n",
	    "changes", "--after", "x");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --timeout: expected milliseconds "
	    "from 1 to 3600000, not \"0\" (see `exe-access user get --help`)\n",
	    "--timeout", "0", "user", "get", "bob");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --user USER is required (see "
	    "`exe-access workspaces --help`)\n",
	    "workspaces");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --email is required (see "
	    "`exe-access user create --help`)\n",
	    "user", "create", "zed");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: give one of --username USERNAME "
	    "and --email EMAIL (see `exe-access user find --help`)\n",
	    "user", "find");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --set: expected KEY=VALUE, not "
	    "\"novalue\" (see `exe-access workspace settings --help`)\n",
	    "workspace", "settings", team, "--set", "novalue", "--as", "alice");
	REFUSED(2,
	    "exe-access: INVALID_ARGUMENT: --page-size: expected a number "
	    "from 1 to 1000, not \"0\" (see `exe-access member list --help`)\n",
	    "member", "list", team, "--page-size", "0", "--as", "alice");
	REFUSED_IN("", 2,
	    "exe-access: INVALID_ARGUMENT: TOKEN: the invitation token is "
	    "empty (see `exe-access invite accept --help`)\n",
	    "invite", "accept", "-", "--as", "dave");
	REFUSED_IN("", 2,
	    "exe-access: INVALID_ARGUMENT: SECRET: the API key secret is "
	    "empty (see `exe-access key verify --help`)\n",
	    "key", "verify", "-");
	REFUSED_IN("", 2,
	    "exe-access: INVALID_ARGUMENT: --as-key: the API key secret is "
	    "empty (see `exe-access grant add --help`)\n",
	    "grant", "add", "experiment:exp-7", "gina", "member", "--as-key",
	    "-");
	/* A blank line given for a secret is refused like an empty one,
	 * and what was read for it is freed (LeakSanitizer would say). */
	REFUSED_IN("\n", 2,
	    "exe-access: INVALID_ARGUMENT: SECRET: the API key secret is "
	    "empty (see `exe-access key verify --help`)\n",
	    "key", "verify", "-");
	REFUSED_IN("\n", 2,
	    "exe-access: INVALID_ARGUMENT: TOKEN: the invitation token is "
	    "empty (see `exe-access invite accept --help`)\n",
	    "invite", "accept", "-", "--as", "dave");
	REFUSED_IN("\n", 2,
	    "exe-access: INVALID_ARGUMENT: --key: the API key secret is "
	    "empty (see `exe-access check --help`)\n",
	    "check", "experiment.view", "--workspace", team, "--key", "-");
	/* A name that resolves to nobody is named in the error. */
	REFUSED(3, "exe-access: NOT_FOUND: USER \"nobody\": *\n", "grant",
	    "add", "experiment:exp-7", "nobody", "member", "--as", "alice");
	REFUSED(3, "exe-access: NOT_FOUND: USER \"nobody\": *\n", "member",
	    "remove", team, "nobody", "--as", "alice");
	REFUSED(3, "exe-access: NOT_FOUND: --as \"nobody\": *\n", "grant",
	    "revoke", "experiment:exp-7", "gina", "--as", "nobody");
	REFUSED(3, "exe-access: NOT_FOUND: --first-admin \"nobody\": *\n",
	    "team", "create", org, "Nobody's", "--first-admin", "nobody",
	    "--as", "alice");
	REFUSED(3, "exe-access: NOT_FOUND: --user \"nobody\": *\n",
	    "workspaces", "--user", "nobody");
	/* The service's refusal, as it said it. */
	REFUSED(4, "exe-access: PERMISSION_DENIED: *\n", "workspace", "delete",
	    team, "--as", "bob");
	REFUSED(3, "exe-access: NOT_FOUND: *\n", "invite", "revoke",
	    "00000000-0000-4000-8000-000000000000", "--as", "alice");
}

/* run_out runs a command that must succeed and returns its stdout
 * (malloc'd). */
static char *
run_out(const char *input, const char *const *args)
{
	struct run r = run_argv(input, args);
	EXPECT_EXIT(r, 0);
	EXPECT_STR(r.err, "");
	free(r.err);
	return r.out;
}

#define OUT(...) run_out(NULL, (const char *const[]){__VA_ARGS__, NULL})

/* The human form of every write and show, line for line. */
static void
test_human_output_line_for_line(void)
{
	char want[2048];
	char *out = OUT("user", "get", "bob");
	snprintf(want, sizeof want,
	    "user     bob\n"
	    "id       %s\n"
	    "email    bob@example.com\n"
	    "created  *Z\n",
	    bob.id);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("user", "find", "--email", "bob@example.com");
	EXPECT_SHAPE(out, want);
	free(out);

	out = OUT("org", "create", "Scratch Org", "--first-admin", "bob",
	    "--as", "alice");
	EXPECT_SHAPE(out, "organisation  Scratch Org\n"
	                  "id            *\n"
	                  "admins        bob\n"
	                  "revision      *\n");
	free(out);

	out = OUT("team", "create", org, "Scratch", "--as", "alice");
	snprintf(want, sizeof want,
	    "workspace     Scratch\n"
	    "id            *\n"
	    "kind          team\n"
	    "organisation  %s\n"
	    "created       *Z\n"
	    "revision      *\n"
	    "\n"
	    "API key of the team workspace (shown once; it cannot be shown "
	    "again, store it now):\n"
	    "  exa_live_*\n",
	    org);
	EXPECT_SHAPE(out, want);
	char scratch[40] = "";
	/* The id line: "id", then spaces, then the id. */
	const char *id = strstr(out, "\nid ");
	if (id != NULL)
		snprintf(scratch, sizeof scratch, "%.36s",
		    id + 3 + strspn(id + 3, " "));
	free(out);

	out = OUT("workspace", "settings", scratch, "--set", "colour=red",
	    "--as", "alice");
	snprintf(want, sizeof want,
	    "workspace     Scratch\n"
	    "id            %s\n"
	    "kind          team\n"
	    "organisation  %s\n"
	    "created       *Z\n"
	    "revision      *\n"
	    "\n"
	    "SETTING  VALUE\n"
	    "colour   red\n",
	    scratch, org);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("workspace", "get", scratch, "--as", "alice");
	snprintf(want, sizeof want,
	    "workspace     Scratch\n"
	    "id            %s\n"
	    "kind          team\n"
	    "organisation  %s\n"
	    "role          admin\n"
	    "created       *Z\n"
	    "\n"
	    "SETTING  VALUE\n"
	    "colour   red\n",
	    scratch, org);
	EXPECT_SHAPE(out, want);
	free(out);

	out = OUT("invite", "list", scratch, "--as", "alice");
	EXPECT_STR(out, "no pending invitations\n");
	free(out);
	out = OUT("invite", "list", scratch, "--all", "--as", "alice");
	EXPECT_STR(out, "no invitations\n");
	free(out);

	out = OUT("member", "add", scratch, "dave", "--as", "alice");
	snprintf(want, sizeof want,
	    "dave has role member in workspace %s (revision *)\n", scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT(
	    "member", "role", scratch, "dave", "read-only", "--as", "alice");
	snprintf(want, sizeof want,
	    "dave has role read_only in workspace %s (revision *)\n", scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("member", "list", scratch, "--as", "dave");
	snprintf(want, sizeof want,
	    "USER   ROLE       JOINED  * USER ID\n"
	    "alice  admin      *Z  %s\n"
	    "dave   read_only  *Z  %s\n",
	    alice.id, dave.id);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("member", "remove", scratch, "dave", "--as", "alice");
	snprintf(want, sizeof want,
	    "removed dave from workspace %s (revision *)\n", scratch);
	EXPECT_SHAPE(out, want);
	free(out);

	out = OUT("org", "admin", "add", org, "carol", "--as", "alice");
	snprintf(want, sizeof want,
	    "added carol to the admins of organisation %s (revision *)\n", org);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("org", "admin", "remove", org, "carol", "--as", "alice");
	snprintf(want, sizeof want,
	    "removed carol from the admins of organisation %s (revision *)\n",
	    org);
	EXPECT_SHAPE(out, want);
	free(out);

	/* Invitations: created, declined, accepted, revoked. */
	struct run r = RUN("invite", "create", scratch, "--username", "dave",
	    "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	char token[128], inv[40];
	copy(token, sizeof token, jstr(doc, "token"));
	json_decref(doc);
	run_free(&r);
	out = OUT("invite", "decline", token, "--as", "dave");
	EXPECT_SHAPE(out, "declined the invitation (revision *)\n");
	free(out);
	out = OUT("invite", "create", scratch, "--username", "dave", "--role",
	    "admin", "--days", "2", "--as", "alice");
	snprintf(want, sizeof want,
	    "invitation  *\n"
	    "workspace   %s\n"
	    "invitee     dave\n"
	    "role        admin\n"
	    "expires     *Z\n"
	    "revision    *\n"
	    "\n"
	    "Invitation token (shown once; it cannot be shown again, store "
	    "it now):\n"
	    "  *\n"
	    "Give it to the invitee, who runs:\n"
	    "  exe-access invite accept TOKEN --as THEM\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	const char *note = strstr(out, "store it now):\n  ");
	if (note != NULL)
		snprintf(token, sizeof token, "%.*s",
		    (int)strcspn(note + 17, "\n"), note + 17);
	free(out);
	out = OUT("invite", "list", scratch, "--as", "alice");
	EXPECT_SHAPE(out, "ID  * INVITEE  ROLE   STATE    EXPIRES  * "
	                  "INVITED BY\n"
	                  "*  dave     admin  pending  *Z  alice\n");
	free(out);
	char input[160];
	snprintf(input, sizeof input, "%s\n", token);
	out = run_out(input, (const char *const[]){"invite", "accept", "-",
	                         "--as", "dave", NULL});
	snprintf(want, sizeof want,
	    "dave joined workspace %s as admin (revision *)\n", scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	r = RUN("invite", "create", scratch, "--email", "gina@example.com",
	    "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	copy(inv, sizeof inv, jstr(doc, "invitation.id"));
	json_decref(doc);
	run_free(&r);
	out = OUT("invite", "revoke", inv, "--as", "alice");
	snprintf(
	    want, sizeof want, "revoked invitation %s (revision *)\n", inv);
	EXPECT_SHAPE(out, want);
	free(out);

	/* Resources, grants and activity. */
	out = OUT("resource", "register", scratch, "dataset", "ds-9", "--name",
	    "Nine", "--as", "dave");
	snprintf(want, sizeof want,
	    "resource       dataset:ds-9\n"
	    "name           Nine\n"
	    "workspace      %s\n"
	    "registered by  dave\n"
	    "revision       *\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("resource", "list", scratch, "--as", "alice");
	snprintf(want, sizeof want,
	    "TYPE     ID    NAME  WORKSPACE  * REGISTERED BY  CREATED\n"
	    "dataset  ds-9  Nine  %s  dave           *Z\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT(
	    "grant", "add", "dataset:ds-9", "gina", "member", "--as", "alice");
	snprintf(want, sizeof want,
	    "gina has grant member on dataset:ds-9 in workspace %s "
	    "(revision *)\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("grant", "list", "dataset:ds-9", "--as", "alice");
	snprintf(want, sizeof want,
	    "RESOURCE      USER  ROLE    WORKSPACE  * GRANTED BY  SINCE\n"
	    "dataset:ds-9  gina  member  %s  alice       *Z\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT(
	    "resource", "lookup", "dataset", "dataset.view", "--user", "gina");
	EXPECT_SHAPE(out, "TYPE     ID    NAME  WORKSPACE  * REGISTERED BY  "
	                  "CREATED\n"
	                  "dataset  ds-9  Nine  *  dave           *Z\n");
	free(out);
	out =
	    OUT("permissions", "--resource", "dataset:ds-9", "--user", "gina");
	snprintf(want, sizeof want,
	    "resource   dataset:ds-9\n"
	    "workspace  %s\n"
	    "role       member\n"
	    "revision   *\n"
	    "\n"
	    "PERMISSION\n"
	    "experiment.view\n"
	    "dataset.view\n"
	    "project.view\n"
	    "experiment.create\n"
	    "experiment.edit\n"
	    "dataset.create\n"
	    "dataset.edit\n"
	    "optimization.run\n"
	    "measurement.add\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("grant", "revoke", "dataset:ds-9", "gina", "--as", "alice");
	EXPECT_SHAPE(
	    out, "revoked gina's grant on dataset:ds-9 (revision *)\n");
	free(out);
	out = OUT("activity", "record", "--resource", "dataset:ds-9",
	    "dataset.view", "--detail", "a look", "--as", "dave");
	snprintf(want, sizeof want,
	    "record     *\n"
	    "action     dataset.view\n"
	    "workspace  %s\n"
	    "resource   dataset:ds-9\n"
	    "by         dave\n"
	    "at         *Z\n"
	    "revision   *\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("resource", "delete", "dataset", "ds-9", "--as", "alice");
	EXPECT_SHAPE(out, "deleted dataset:ds-9 (revision *)\n");
	free(out);

	out = OUT("key", "verify", alice.key);
	snprintf(want, sizeof want,
	    "workspace  %s\n"
	    "key        *\n"
	    "scope      read_write\n",
	    alice.personal);
	EXPECT_SHAPE(out, want);
	free(out);
	out = OUT("key", "rotate", scratch, "--grace", "60", "--as", "alice");
	snprintf(want, sizeof want,
	    "key         *\n"
	    "workspace   %s\n"
	    "prefix      *\n"
	    "scope       read_write\n"
	    "created     *Z\n"
	    "old secret  works 60 s more, if any\n"
	    "revision    *\n"
	    "\n"
	    "New API key secret (shown once; it cannot be shown again, store "
	    "it now):\n"
	    "  exa_live_*\n",
	    scratch);
	EXPECT_SHAPE(out, want);
	free(out);

	out = OUT("workspace", "delete", scratch, "--as", "alice");
	snprintf(
	    want, sizeof want, "deleted workspace %s (revision *)\n", scratch);
	EXPECT_SHAPE(out, want);
	free(out);
}

static void
test_settings_and_delete(void)
{
	struct run r = RUN("workspace", "settings", team, "--name",
	    "Optimisation Team", "--set", "colour=blue", "--set", "region=eu",
	    "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	EXPECT_STR(jstr(doc, "workspace.name"), "Optimisation Team");
	EXPECT_INT(jlen(doc, "workspace.settings"), 2);
	json_decref(doc);
	run_free(&r);
	r = RUN("workspace", "settings", team, "--unset", "region", "--as",
	    "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "colour");
	EXPECT(strstr(r.out, "region") == NULL);
	run_free(&r);
	r = RUN(
	    "workspace", "settings", team, "--set", "novalue", "--as", "alice");
	EXPECT_EXIT(r, 2);
	run_free(&r);
	r = RUN("workspace", "settings", team, "--name", "Mine", "--as", "bob");
	EXPECT_EXIT(r, 4);
	run_free(&r);

	r = RUN("workspace", "delete", alice.personal, "--as", "alice");
	EXPECT_EXIT(r, 5); /* never a personal workspace */
	run_free(&r);
	r = RUN("workspace", "delete", team, "--as", "bob");
	EXPECT_EXIT(r, 4);
	run_free(&r);
	r = RUN("workspace", "delete", team, "--as", "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT(jint(doc, "revision") > 0);
	json_decref(doc);
	run_free(&r);
	r = RUN("workspaces", "--user", "bob", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "workspaces"), 1);
	json_decref(doc);
	run_free(&r);
}

static void
test_secrets_stay_off_stderr(void)
{
	/* A key acting where it may not: the error never repeats it. */
	struct run r =
	    RUN("member", "add", team, "erin", "--as-key", alice.key);
	EXPECT(r.status != 0);
	EXPECT(strstr(r.err, alice.key) == NULL);
	run_free(&r);
	/* Nor does a mistyped flag carrying one. */
	char flag[128];
	snprintf(flag, sizeof flag, "--kye=%s", alice.key);
	r = RUN(
	    "check", "experiment.view", "--workspace", alice.personal, flag);
	EXPECT_EXIT(r, 2);
	EXPECT(strstr(r.err, alice.key) == NULL);
	run_free(&r);
	/* Nor a secret given where a user belongs. */
	r = RUN("check", "experiment.view", "--workspace", alice.personal,
	    "--user", alice.key);
	EXPECT_EXIT(r, 2);
	EXPECT(strstr(r.err, alice.key) == NULL);
	run_free(&r);
	/* Nor the caller's token. */
	r = RUN("user", "get", "00000000-0000-4000-8000-000000000000");
	EXPECT(strstr(r.err, h.token) == NULL);
	run_free(&r);
}


/* The publish URL the daemon was started with (--publish). */
static char publish_url[300];

/* changes_now is the current revision, asked of the service directly. */
static uint64_t
changes_now(void)
{
	Exe__Access__V1__ReadChangesRequest req =
	    EXE__ACCESS__V1__READ_CHANGES_REQUEST__INIT;
	req.current_only = true;
	Exe__Access__V1__ReadChangesResponse *resp = NULL;
	exa_error err;
	if (exa_read_changes(h.client, &req, &resp, &err) != EXA_OK) {
		fprintf(stderr, "  ReadChanges: %s\n", err.message);
		unit_case_failed = 1;
		return 0;
	}
	uint64_t rev = resp->revision;
	exa_free(resp);
	return rev;
}

static void
test_changes(void)
{
	/* The whole log: alice's sign-up is in it; no secret is. */
	struct run r = RUN("changes");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, alice.id);
	EXPECT_CONTAINS(r.out, "membership");
	EXPECT(strstr(r.out, "exa_live_") == NULL);
	run_free(&r);
	r = RUN("changes", "--after", "999999999");
	EXPECT_EXIT(r, 5);
	EXPECT_CONTAINS(r.err, "FAILED_PRECONDITION");
	EXPECT_CONTAINS(r.err, "resynchronise from the current revision");
	run_free(&r);
	r = RUN("changes", "--subscribe", publish_url);
	EXPECT_EXIT(r, 2);
	run_free(&r);
	r = RUN("changes", "--after", "x");
	EXPECT_EXIT(r, 2);
	run_free(&r);

	/* --follow, woken by the daemon's hints: a sign-up made after it
	 * started shows up as a JSON line. */
	char after[24];
	snprintf(after, sizeof after, "%llu", (unsigned long long)changes_now());
	int out = temp_file();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out, STDOUT_FILENO);
		execl(cli_path, cli_path, "changes", "--follow", "--subscribe",
		    publish_url, "--after", after, "--json", (char *)NULL);
		_exit(127);
	}
	usleep(300 * 1000);
	r = RUN("user", "create", "frank", "--email", "frank@example.com",
	    "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	char frank_id[40];
	copy(frank_id, sizeof frank_id, jstr(doc, "user.id"));
	json_decref(doc);
	run_free(&r);
	char *text = NULL;
	for (int i = 0; i < 100; i++) {
		free(text);
		text = slurp(out);
		if (strstr(text, frank_id) != NULL)
			break;
		usleep(50 * 1000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	close(out);
	EXPECT_CONTAINS(text, frank_id);
	/* One JSON object a line, the sign-up's first. */
	json_error_t e;
	json_t *line = json_loadb(text, strcspn(text, "\n"), 0, &e);
	EXPECT(line != NULL);
	EXPECT_STR(jstr(line, "kind"), "user");
	EXPECT_STR(jstr(line, "user_id"), frank_id);
	EXPECT(jint(line, "revision") > strtoll(after, NULL, 10));
	json_decref(line);
	free(text);
}

static void
test_activity_verify(void)
{
	/* An untouched log: exit 0, the count and the head to keep. */
	struct run r = RUN("activity", "verify");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "intact");
	EXPECT_CONTAINS(r.out, "yes");
	char head[128] = "";
	const char *at = strstr(r.out, "head");
	if (at != NULL) {
		at += 4;
		while (*at == ' ')
			at++;
		snprintf(head, sizeof head, "%.*s", (int)strcspn(at, "\n"), at);
	}
	EXPECT_INT((int)strlen(head) > 64, 1);
	run_free(&r);
	r = RUN("activity", "verify", "--anchor", head);
	EXPECT_EXIT(r, 0);
	run_free(&r);
	r = RUN("activity", "verify", "--workspace", team, "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	EXPECT(json_is_true(json_object_get(doc, "intact")));
	json_decref(doc);
	run_free(&r);

	/* A record edited in the database: exit 1, where and why. */
	char id[32];
	snprintf(id, sizeof id, "%ld",
	    harness_sql_long(&h,
	        "SELECT max(id) FROM activity WHERE workspace_id = $1", team,
	        NULL));
	harness_sql_long(&h,
	    "WITH u AS (UPDATE activity SET detail = detail || ' (edited)'"
	    " WHERE id = $1::bigint RETURNING 1) SELECT count(*) FROM u",
	    id, NULL);
	r = RUN("activity", "verify");
	EXPECT_EXIT(r, 1);
	EXPECT_CONTAINS(r.out, "no");
	EXPECT_CONTAINS(r.out, "altered at place");
	EXPECT_CONTAINS(r.out, id);
	EXPECT_CONTAINS(r.out, "does not match its hash");
	run_free(&r);
	r = RUN("activity", "verify", "--workspace", team);
	EXPECT_EXIT(r, 1);
	run_free(&r);
	harness_sql_long(&h,
	    "WITH u AS (UPDATE activity SET detail = left(detail,"
	    " length(detail) - 9) WHERE id = $1::bigint RETURNING 1)"
	    " SELECT count(*) FROM u",
	    id, NULL);
	r = RUN("activity", "verify");
	EXPECT_EXIT(r, 0);
	run_free(&r);

	/* Bad input, before any call. */
	r = RUN("activity", "verify", "--anchor", "12:abc");
	EXPECT_EXIT(r, 2);
	EXPECT_CONTAINS(r.err, "--anchor");
	run_free(&r);
	r = RUN("activity", "verify", "--workspace", team, "--organization",
	    team);
	EXPECT_EXIT(r, 2);
	run_free(&r);
}

/* Grants on a resource: given, shown in a check's reason and in
 * permissions, listed by resource and by user, refused to non-admins and
 * to bad roles, revoked. */
static void
test_grants(void)
{
	struct run r = RUN("user", "create", "gina", "--email",
	    "gina@example.com");
	EXPECT_EXIT(r, 0);
	run_free(&r);
	r = RUN("resource", "register", team, "experiment", "exp-7", "--as",
	    "bob", "--json");
	EXPECT_EXIT(r, 0);
	json_t *reg = parse(&r);
	saw_revision(reg, "revision");
	json_decref(reg);
	run_free(&r);
	r = RUN("check", "experiment.edit", "--resource", "experiment:exp-7",
	    "--user", "carol", "--fresh", fresh);
	EXPECT_EXIT(r, 1);
	EXPECT_CONTAINS(r.out, "no grant on experiment \"exp-7\"");
	run_free(&r);
	r = RUN("grant", "add", "experiment:exp-7", "carol", "member", "--as",
	    "alice", "--json");
	EXPECT_EXIT(r, 0);
	json_t *doc = parse(&r);
	EXPECT_STR(jstr(doc, "grant.user_id"), carol.id);
	EXPECT_STR(jstr(doc, "grant.role"), "ROLE_MEMBER");
	EXPECT_STR(jstr(doc, "grant.workspace_id"), team);
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);
	r = RUN("check", "experiment.edit", "--resource", "experiment:exp-7",
	    "--user", "carol", "--fresh", fresh);
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "grant member on experiment \"exp-7\" allows "
	    "experiment.edit");
	run_free(&r);
	/* A guest, read_only on it. */
	r = RUN("grant", "add", "experiment:exp-7", "gina", "read_only",
	    "--as", "alice");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "gina has grant read_only on experiment:exp-7");
	run_free(&r);
	r = RUN("grant", "list", "experiment:exp-7", "--as", "bob", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "grants"), 2);
	EXPECT_STR(jstr(doc, "grants.0.username"), "carol");
	EXPECT_STR(jstr(doc, "grants.1.username"), "gina");
	json_decref(doc);
	run_free(&r);
	r = RUN("grant", "list", "experiment:exp-7", "--as", "bob");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "GRANTED BY");
	EXPECT_CONTAINS(r.out, "alice");
	run_free(&r);
	r = RUN("grant", "user", "gina");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "experiment:exp-7");
	EXPECT_CONTAINS(r.out, "read_only");
	run_free(&r);
	r = RUN("grant", "user", "bob");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "no grants");
	run_free(&r);
	r = RUN("permissions", "--resource", "experiment:exp-7", "--user",
	    "gina", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_STR(jstr(doc, "role"), "ROLE_READ_ONLY");
	EXPECT_INT(jlen(doc, "permissions"), 3);
	EXPECT_STR(jstr(doc, "workspace_id"), team);
	json_decref(doc);
	run_free(&r);
	r = RUN("permissions", "--resource", "experiment:exp-7", "--user",
	    "gina");
	EXPECT_EXIT(r, 0);
	EXPECT_CONTAINS(r.out, "experiment.view");
	EXPECT(strstr(r.out, "workspace.view") == NULL);
	run_free(&r);
	r = RUN("resource", "lookup", "experiment", "experiment.view", "--user",
	    "gina", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	EXPECT_INT(jlen(doc, "resources"), 1);
	json_decref(doc);
	run_free(&r);
	/* Refusals. */
	r = RUN("grant", "add", "experiment:exp-7", "gina", "member", "--as",
	    "bob");
	EXPECT_EXIT(r, 4);
	run_free(&r);
	r = RUN("grant", "add", "experiment:exp-7", "gina", "boss", "--as",
	    "alice");
	EXPECT_EXIT(r, 2);
	run_free(&r);
	r = RUN("grant", "add", "exp-7", "gina", "member", "--as", "alice");
	EXPECT_EXIT(r, 2);
	run_free(&r);
	r = RUN("permissions", team, "--resource", "experiment:exp-7",
	    "--user", "gina");
	EXPECT_EXIT(r, 2);
	run_free(&r);
	/* Revoked: carol is read_only there again. */
	r = RUN("grant", "revoke", "experiment:exp-7", "carol", "--as",
	    "alice", "--json");
	EXPECT_EXIT(r, 0);
	doc = parse(&r);
	saw_revision(doc, "revision");
	json_decref(doc);
	run_free(&r);
	r = RUN("check", "experiment.edit", "--resource", "experiment:exp-7",
	    "--user", "carol", "--fresh", fresh);
	EXPECT_EXIT(r, 1);
	run_free(&r);
	r = RUN("grant", "revoke", "experiment:exp-7", "carol", "--as",
	    "alice");
	EXPECT_EXIT(r, 3);
	run_free(&r);
}

static const struct unit_case cases[] = {
    {"help on every command", test_help_on_every_command},
    {"sign-up and the personal workspace", test_sign_up_and_personal_workspace},
    {"a team with an admin, a member and a read-only user",
        test_team_with_admin_member_read_only},
    {"an invitation created and accepted",
        test_invitation_created_and_accepted},
    {"checks that pass (0) and fail (1, with why)", test_checks_pass_and_fail},
    {"key rotation", test_key_rotation},
    {"batch-check from stdin", test_batch_check},
    {"resources and activity", test_resources_and_activity},
    {"activity verify: intact, then an edited record",
        test_activity_verify},
    {"grants on a resource", test_grants},
    {"organisation admins, roles, removals, revoke and decline",
        test_organisation_and_member_changes},
    {"exit statuses 2 to 6", test_exit_statuses},
    {"refused commands do not connect", test_refusals_do_not_connect},
    {"paging", test_paging},
    {"usage errors, word for word", test_usage_errors_word_for_word},
    {"human output, line for line", test_human_output_line_for_line},
    {"settings and deletion", test_settings_and_delete},
    {"secrets stay off stderr", test_secrets_stay_off_stderr},
    {"the change log, once and followed", test_changes},
};

UNIT_STATE

int
main(void)
{
	cli_path = getenv("EXA_TEST_CLI");
	if (cli_path == NULL) {
		fprintf(stderr, "EXA_TEST_CLI is not set: run through ctest\n");
		return 2;
	}
	/* The daemon publishes change hints for `changes --follow`. */
	char pub_dir[] = "/tmp/exa-cli-pub.XXXXXX";
	if (mkdtemp(pub_dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(publish_url, sizeof publish_url, "ipc://%s/pub.sock", pub_dir);
	char publish_arg[320];
	snprintf(publish_arg, sizeof publish_arg, "--publish=%s", publish_url);
	const char *daemon_args[] = {publish_arg, NULL};
	harness_start(&h, "cli", daemon_args);
	/* The CLI finds the service and its token in the environment, as
	 * on an operator's shell. */
	setenv("EXE_ACCESS_URL", h.url, 1);
	setenv("EXE_ACCESS_TOKEN", h.token, 1);
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int status = harness_stop(&h);
	if (status != 0)
		fprintf(stderr, "exe-accessd exited with %d after SIGTERM\n",
		    status);
	harness_remove_tree(pub_dir);
	return failed == 0 && status == 0 ? 0 : 1;
}
