/* Fault-injection helpers: restartable daemons, a private PostgreSQL, and
 * measurements. See fault.h. */
/* nftw is X/Open. */
#define _XOPEN_SOURCE 700
#include "fault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { MAX_DAEMONS = 16, MAX_STARTS = 64 };

/* Every daemon still running, for the exit handlers. */
static volatile pid_t live[MAX_DAEMONS];
static char pg_script[512];
static char pg_state[256];
static volatile sig_atomic_t pg_running;

static void
register_pid(pid_t pid)
{
	for (int i = 0; i < MAX_DAEMONS; i++) {
		if (live[i] == 0) {
			live[i] = pid;
			return;
		}
	}
}

static void
unregister_pid(pid_t pid)
{
	for (int i = 0; i < MAX_DAEMONS; i++) {
		if (live[i] == pid)
			live[i] = 0;
	}
}

/* kill_all is async-signal-safe: the watchdog calls it. */
static void
kill_all(void)
{
	for (int i = 0; i < MAX_DAEMONS; i++) {
		if (live[i] > 0) {
			kill(live[i], SIGKILL);
			waitpid(live[i], NULL, 0);
			live[i] = 0;
		}
	}
	if (pg_running) {
		pg_running = 0;
		pid_t pid = fork();
		if (pid == 0) {
			char *const argv[] = {
			    pg_script, "stop", pg_state, NULL};
			execv(pg_script, argv);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
}

static void
watchdog_cb(int sig)
{
	(void)sig;
	static const char msg[] =
	    "fault: watchdog: the test ran out of time; stopping everything\n";
	ssize_t unused = write(STDERR_FILENO, msg, sizeof msg - 1);
	(void)unused;
	kill_all();
	_exit(1);
}

static void
at_exit_cb(void)
{
	kill_all();
}

static void
install_exit_handlers(void)
{
	static bool done;
	if (!done) {
		done = true;
		atexit(at_exit_cb);
	}
}

void
fault_watchdog(unsigned seconds)
{
	install_exit_handlers();
	signal(SIGALRM, watchdog_cb);
	alarm(seconds);
}

int64_t
fault_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- The private PostgreSQL ---- */

int
fault_pg(const char *verb, const char *mode)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s %s %s", pg_script, verb, pg_state,
	    mode != NULL ? mode : "");
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int
pg_admin(const char *sql)
{
	char env[300];
	snprintf(env, sizeof env, "%s/env", pg_state);
	FILE *f = fopen(env, "r");
	if (f == NULL)
		return -1;
	char line[512], host[400] = "", user[64] = "";
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "PGHOST=", 7) == 0)
			snprintf(host, sizeof host, "%.399s", line + 7);
		else if (strncmp(line, "PGUSER=", 7) == 0)
			snprintf(user, sizeof user, "%.63s", line + 7);
	}
	fclose(f);
	char conninfo[600];
	snprintf(conninfo, sizeof conninfo, "host=%s user=%s dbname=postgres",
	    host, user);
	PGconn *conn = PQconnectdb(conninfo);
	int rc = -1;
	if (PQstatus(conn) == CONNECTION_OK) {
		PGresult *res = PQexec(conn, sql);
		ExecStatusType st = PQresultStatus(res);
		rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
		if (rc != 0)
			fprintf(stderr, "fault: %s: %s", sql,
			    PQresultErrorMessage(res));
		PQclear(res);
	} else {
		fprintf(stderr, "fault: %s", PQerrorMessage(conn));
	}
	PQfinish(conn);
	return rc;
}

int
fault_pg_start(const char *name, bool durable)
{
	install_exit_handlers();
	const char *script = getenv("EXA_TEST_PG_SCRIPT");
	if (script == NULL) {
		fprintf(stderr, "EXA_TEST_PG_SCRIPT is not set: run through "
		                "ctest\n");
		return -1;
	}
	snprintf(pg_script, sizeof pg_script, "%s", script);
	snprintf(pg_state, sizeof pg_state, "/tmp/exa-fault-%s-pg.%d", name,
	    (int)getpid());
	pg_running = 1;
	if (fault_pg("start", NULL) != 0)
		return -1;
	char env[300];
	snprintf(env, sizeof env, "%s/env", pg_state);
	setenv("EXA_TEST_PG_ENV", env, 1);
	/* An acknowledged commit must survive an immediate shutdown (a
	 * crash of PostgreSQL's processes; fsync stays off, the kernel
	 * keeps what was written). */
	if (durable &&
	    (pg_admin("ALTER SYSTEM SET synchronous_commit = on") != 0 ||
	        pg_admin("SELECT pg_reload_conf()") != 0))
		return -1;
	return 0;
}

void
fault_pg_stop(void)
{
	if (pg_running) {
		pg_running = 0;
		fault_pg("stop", NULL);
	}
}

int
fault_pg_standby(bool sync)
{
	return fault_pg("standby", sync ? "sync" : NULL) == 0 ? 0 : -1;
}

void
fault_standby_conninfo(const struct harness *h, char *out, size_t size)
{
	snprintf(out, size, "%s port=5433", h->conninfo);
}

int
fault_standby_sql(const struct harness *h, const char *sql)
{
	char conninfo[600];
	fault_standby_conninfo(h, conninfo, sizeof conninfo);
	PGconn *conn = PQconnectdb(conninfo);
	int rc = -1;
	if (PQstatus(conn) == CONNECTION_OK) {
		PGresult *res = PQexec(conn, sql);
		ExecStatusType st = PQresultStatus(res);
		rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
		if (rc != 0)
			fprintf(stderr, "fault: standby: %s: %s", sql,
			    PQresultErrorMessage(res));
		PQclear(res);
	} else {
		fprintf(stderr, "fault: standby: %s", PQerrorMessage(conn));
	}
	PQfinish(conn);
	return rc;
}

/* ---- Daemons ---- */

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fault: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

void
fault_daemon_prepare(
    struct harness *h, const char *name, const struct harness *share)
{
	install_exit_handlers();
	if (share != NULL)
		harness_share_db(h, share);
	else
		harness_start_db(h, name);
}

/* log_path_of writes the path of h's n-th log (0-based). */
static void
log_path_of(const struct harness *h, int n, char *out, size_t size)
{
	snprintf(out, size, "%s/daemon.%d.log", h->dir, n);
}

static int
starts_of(const struct harness *h)
{
	int n = 0;
	char path[400];
	for (; n < MAX_STARTS; n++) {
		log_path_of(h, n, path, sizeof path);
		if (access(path, F_OK) != 0)
			break;
	}
	return n;
}

static void
print_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return;
	fprintf(stderr, "---- %s ----\n", path);
	char line[4096];
	while (fgets(line, sizeof line, f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

int
fault_daemon_start(struct harness *h, const char *const *extra)
{
	const char *daemon = getenv("EXA_TEST_DAEMON");
	if (daemon == NULL)
		die("EXA_TEST_DAEMON is not set: run through ctest");
	char listen[400], db[600], key[400], activity_key[400], tokens[400];
	snprintf(listen, sizeof listen, "--listen=%s", h->url);
	snprintf(db, sizeof db, "--database-url=%s", h->conninfo);
	snprintf(key, sizeof key, "--hash-key-file=%s", h->key_path);
	snprintf(activity_key, sizeof activity_key, "--activity-key-file=%s",
	    h->activity_key_path);
	snprintf(tokens, sizeof tokens, "--token-file=%s", h->token_path);
	const char *argv[40] = {daemon, listen, db, key, activity_key, tokens,
	    "--log-level=info"};
	size_t n = 7;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 39; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	int start = starts_of(h);
	log_path_of(h, start, h->log_path, sizeof h->log_path);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Die with the test, whatever kills it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		int fd = open(h->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		execv(daemon, (char *const *)argv);
		_exit(127);
	}
	h->pid = pid;
	register_pid(pid);
	for (int i = 0; i < 6000; i++) {
		if (harness_log_contains(h, "\"event\":\"ready\""))
			break;
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			unregister_pid(pid);
			h->pid = 0;
			print_file(h->log_path);
			fprintf(stderr,
			    "fault: exe-accessd exited during start-up\n");
			return -1;
		}
		usleep(10000);
	}
	if (!harness_log_contains(h, "\"event\":\"ready\"")) {
		print_file(h->log_path);
		fault_daemon_kill(h);
		fprintf(stderr, "fault: exe-accessd did not become ready\n");
		return -1;
	}
	if (h->client == NULL) {
		exa_error err;
		exa_client_options opts = {.timeout_ms = 10000};
		if (exa_client_open(
		        h->url, h->token, &opts, &h->client, &err) != EXA_OK)
			die("client: %s", err.message);
	}
	return 0;
}

void
fault_daemon_kill(struct harness *h)
{
	if (h->pid <= 0)
		return;
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
	unregister_pid(h->pid);
	h->pid = 0;
}

/* fault_print_stacks prints every thread's stack of `pid`, a daemon that
 * did not stop, when gdb is there to read them. */
static void
fault_print_stacks(pid_t pid)
{
	if (access("/usr/bin/gdb", X_OK) != 0)
		return;
	char cmd[128];
	snprintf(cmd, sizeof cmd,
	    "/usr/bin/gdb -p %d -batch -ex 'thread apply all bt' >&2 "
	    "2>/dev/null",
	    (int)pid);
	fprintf(stderr, "  the daemon did not stop; its threads:\n");
	if (system(cmd) != 0)
		fprintf(stderr, "  (gdb could not read them)\n");
}

int
fault_daemon_stop(struct harness *h)
{
	int result = -1;
	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		for (int i = 0; i < 4000; i++) {
			int status;
			if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
				result = WIFEXITED(status)
				             ? WEXITSTATUS(status)
				             : 128 + WTERMSIG(status);
				break;
			}
			usleep(10000);
		}
		if (result == -1) {
			fault_print_stacks(h->pid);
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
		}
		unregister_pid(h->pid);
		h->pid = 0;
	}
	int starts = starts_of(h);
	for (int i = 0; i < starts && result == 0; i++) {
		char path[400];
		log_path_of(h, i, path, sizeof path);
		if (harness_log_not_json(path))
			result = 100;
	}
	if (result != 0)
		print_file(h->log_path);
	return result;
}

bool
fault_daemon_logs_contain(const struct harness *h, const char *text)
{
	struct harness copy = *h;
	int starts = starts_of(h);
	for (int i = 0; i < starts; i++) {
		log_path_of(h, i, copy.log_path, sizeof copy.log_path);
		if (harness_log_contains(&copy, text))
			return true;
	}
	return false;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
fault_daemon_free(struct harness *h, bool remove_dir)
{
	fault_daemon_kill(h);
	exa_client_close(h->client);
	h->client = NULL;
	if (h->db != NULL) {
		PQfinish(h->db);
		h->db = NULL;
	}
	if (remove_dir && h->dir[0] != '\0')
		nftw(h->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

exa_client *
fault_client(const char *urls, const struct harness *h, int timeout_ms)
{
	exa_client *c;
	exa_error err;
	exa_client_options opts = {.timeout_ms = timeout_ms};
	if (exa_client_open(urls, h->token, &opts, &c, &err) != EXA_OK)
		die("client %s: %s", urls, err.message);
	return c;
}

/* ---- Measurements ---- */

long
fault_rss_kb(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	long kb = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return kb;
}

long
fault_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (d == NULL)
		return -1;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(d);
	return n;
}

/* ---- Domain helpers ---- */

void
fault_must(bool ok)
{
	if (!ok) {
		fprintf(stderr, "fault: set-up failed\n");
		exit(2);
	}
}

const char *
fault_role_name(Exe__Access__V1__Role role)
{
	switch (role) {
	case EXE__ACCESS__V1__ROLE__ROLE_ADMIN: return "admin";
	case EXE__ACCESS__V1__ROLE__ROLE_MEMBER: return "member";
	case EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY: return "read_only";
	default: return "none";
	}
}

long
fault_sql_count(void *db, const char *sql, ...)
{
	const char *params[16];
	int n = 0;
	va_list ap;
	va_start(ap, sql);
	for (const char *p; n < 16 && (p = va_arg(ap, const char *)) != NULL;)
		params[n++] = p;
	va_end(ap);
	PGresult *res = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
	long v = -1;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
	    !PQgetisnull(res, 0, 0))
		v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	else if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fprintf(
		    stderr, "fault: %s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return v;
}

int
fault_user_whole(void *db, const char *name)
{
	long users = fault_sql_count(db,
	    "SELECT count(*) FROM users WHERE lower(username) = lower($1)",
	    name, NULL);
	if (users == 0)
		return 0;
	long whole = fault_sql_count(db,
	    "SELECT count(*) FROM users u"
	    " JOIN workspaces w ON w.owner_user_id = u.id AND w.kind = "
	    "'personal'"
	    "   AND w.name = u.username || '''s Workspace'"
	    " JOIN memberships m ON m.workspace_id = w.id AND m.user_id = u.id"
	    "   AND m.role = 'admin'"
	    " WHERE lower(u.username) = lower($1)"
	    "   AND (SELECT count(*) FROM memberships x"
	    "        WHERE x.workspace_id = w.id) = 1"
	    "   AND EXISTS (SELECT 1 FROM api_keys k WHERE k.workspace_id = "
	    "w.id"
	    "               AND k.expires_at IS NULL)",
	    name, NULL);
	return users == 1 && whole == 1 ? 1 : -1;
}

void
fault_sign_up_judge(
    void *db, const char *name, exa_status rc, struct fault_sign_ups *s)
{
	int whole = fault_user_whole(db, name);
	if (whole < 0) {
		s->partial++;
		fprintf(stderr, "  half a sign-up: %s (%s)\n", name,
		    exa_status_name(rc));
	} else if (rc == EXA_OK) {
		s->acked++;
		s->found += whole;
		if (whole == 0)
			fprintf(stderr,
			    "  acknowledged sign-up %s is missing\n", name);
	} else {
		s->failed++;
		s->committed += whole;
		if (whole == 1)
			fprintf(stderr,
			    "  sign-up %s got %s, yet is in the database\n",
			    name, exa_status_name(rc));
	}
}
