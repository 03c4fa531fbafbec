/* Starting, inspecting and stopping a real exe-accessd for a test. */
/* nftw is X/Open, memmem a GNU extension. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "harness: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* read_pg_env reads PGHOST and PGUSER from the fixture's env file. */
static void
read_pg_env(char *host, size_t host_size, char *user, size_t user_size)
{
	const char *path = getenv("EXA_TEST_PG_ENV");
	if (path == NULL)
		die("EXA_TEST_PG_ENV is not set: run through ctest");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die("cannot read %s: is the postgres fixture running?", path);
	char line[512];
	host[0] = user[0] = '\0';
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "PGHOST=", 7) == 0)
			snprintf(host, host_size, "%.*s", (int)host_size - 1, line + 7);
		else if (strncmp(line, "PGUSER=", 7) == 0)
			snprintf(user, user_size, "%.*s", (int)user_size - 1, line + 7);
	}
	fclose(f);
	if (host[0] == '\0' || user[0] == '\0')
		die("%s lacks PGHOST or PGUSER", path);
}

static void
ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static void
admin_exec(const char *host, const char *user, const char *sql)
{
	char conninfo[512];
	snprintf(conninfo, sizeof conninfo, "host=%s user=%s dbname=postgres",
	    host, user);
	PGconn *conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		die("cannot reach the test PostgreSQL: %s", PQerrorMessage(conn));
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	PGresult *res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		die("%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(conn);
}

bool
harness_log_contains(const struct harness *h, const char *text)
{
	FILE *f = fopen(h->log_path, "r");
	if (f == NULL)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strstr(line, text) != NULL;
	fclose(f);
	return found;
}

bool
harness_log_not_json(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	char line[16384];
	bool bad = false;
	while (!bad && fgets(line, sizeof line, f) != NULL) {
		json_error_t error;
		json_t *v = json_loads(line, JSON_DISABLE_EOF_CHECK, &error);
		bad = !json_is_object(v);
		if (bad)
			fprintf(stderr, "%s: line is not JSON: %s", path, line);
		json_decref(v);
	}
	fclose(f);
	return bad;
}

static void
print_log(const struct harness *h)
{
	FILE *f = fopen(h->log_path, "r");
	if (f == NULL)
		return;
	fprintf(stderr, "---- %s ----\n", h->log_path);
	char line[4096];
	while (fgets(line, sizeof line, f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

static int
remove_entry(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* spawn_begin starts the daemon with `args` (NULL-terminated, without
 * argv[0]) and its output in the log file; does not wait. */
static void
spawn_begin(struct harness *h, const char *const *args)
{
	const char *daemon = getenv("EXA_TEST_DAEMON");
	if (daemon == NULL)
		die("EXA_TEST_DAEMON is not set: run through ctest");
	const char *argv[40];
	size_t n = 0;
	argv[n++] = daemon;
	for (size_t i = 0; args[i] != NULL && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	pid_t parent = getpid();
	h->pid = fork();
	if (h->pid < 0)
		die("fork: %s", strerror(errno));
	if (h->pid == 0) {
		/* Stop with the test, whatever ends it (SIGTERM, so that an
		 * embedded PostgreSQL is stopped too). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(126);
		int fd = open(h->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, STDERR_FILENO);
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		/* Debian keeps the PostgreSQL tools off PATH; the embedded
		 * default must not depend on finding them there. */
		if (h->bare_path)
			setenv("PATH", "/usr/bin:/bin", 1);
		struct rlimit lim;
		if (h->open_files > 0 && getrlimit(RLIMIT_NOFILE, &lim) == 0) {
			lim.rlim_cur = (rlim_t)h->open_files;
			setrlimit(RLIMIT_NOFILE, &lim);
		}
		execv(daemon, (char *const *)argv);
		_exit(127);
	}
}

/* spawn_wait_ready waits until the daemon logs "ready" (at most 60 s),
 * then connects the client. */
static void
spawn_wait_ready(struct harness *h)
{
	for (int i = 0; i < 6000; i++) {
		if (harness_log_contains(h, "\"event\":\"ready\""))
			break;
		int status;
		if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
			print_log(h);
			die("exe-accessd exited during start-up");
		}
		usleep(10000);
	}
	if (!harness_log_contains(h, "\"event\":\"ready\"")) {
		print_log(h);
		kill(h->pid, SIGKILL);
		die("exe-accessd did not become ready");
	}
	/* The embedded default wrote its development token: use it, as the
	 * README tells people to. */
	if (h->token[0] == '\0' && h->dev_token_path[0] != '\0') {
		FILE *f = fopen(h->dev_token_path, "r");
		if (f == NULL || fgets(h->token, sizeof h->token, f) == NULL)
			die("cannot read the development token %s",
			    h->dev_token_path);
		fclose(f);
		h->token[strcspn(h->token, "\n")] = '\0';
	}
	exa_error err;
	exa_client_options opts = {.timeout_ms = 10000};
	if (exa_client_open(h->url, h->token, &opts, &h->client, &err) != EXA_OK)
		die("client: %s", err.message);
}

/* spawn_with_db starts the daemon on h's database and hash key. */
static void
spawn_with_db(struct harness *h, const char *const *extra_args)
{
	char listen[400], db[600], key[400], activity_key[400], tokens[400];
	snprintf(listen, sizeof listen, "--listen=%s", h->url);
	snprintf(db, sizeof db, "--database-url=%s", h->conninfo);
	snprintf(key, sizeof key, "--hash-key-file=%s", h->key_path);
	snprintf(activity_key, sizeof activity_key, "--activity-key-file=%s",
	    h->activity_key_path);
	snprintf(tokens, sizeof tokens, "--token-file=%s", h->token_path);
	const char *args[32] = {
	    listen, db, key, activity_key, tokens, "--log-level=debug"};
	size_t n = 6;
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && n < 31;
	     i++)
		args[n++] = extra_args[i];
	args[n] = NULL;
	spawn_begin(h, args);
}

/* write_tokens gives the test two callers: "tests" (admin) and "checker"
 * (check), with fixed tokens whose hashes go in the token file. */
static void
write_tokens(struct harness *h)
{
	snprintf(h->token, sizeof h->token, "exa_svc_%s",
	    "testsAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	snprintf(h->check_token, sizeof h->check_token, "exa_svc_%s",
	    "checkBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
	snprintf(h->token_path, sizeof h->token_path, "%s/tokens", h->dir);
	FILE *f = fopen(h->token_path, "w");
	if (f == NULL)
		die("cannot write %s", h->token_path);
	const char *names[] = {"tests admin", "checker check"};
	const char *tokens[] = {h->token, h->check_token};
	for (int i = 0; i < 2; i++) {
		unsigned char hash[32];
		char hex[65];
		crypto_generichash(hash, sizeof hash,
		    (const unsigned char *)tokens[i], strlen(tokens[i]), NULL, 0);
		sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
		fprintf(f, "%s %s\n", names[i], hex);
	}
	fclose(f);
}

static void
make_dir(struct harness *h)
{
	snprintf(h->dir, sizeof h->dir, "/tmp/exa-test.XXXXXX");
	if (mkdtemp(h->dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(h->url, sizeof h->url, "ipc://%s/exa.sock", h->dir);
	snprintf(h->log_path, sizeof h->log_path, "%s/daemon.log", h->dir);
}

void
harness_start_db(struct harness *h, const char *name)
{
	memset(h, 0, sizeof *h);
	char host[300], user[64];
	read_pg_env(host, sizeof host, user, sizeof user);
	snprintf(h->dbname, sizeof h->dbname, "exa_%s_%d", name, (int)getpid());
	char sql[200];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", h->dbname);
	admin_exec(host, user, sql);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", h->dbname);
	admin_exec(host, user, sql);
	snprintf(h->conninfo, sizeof h->conninfo, "host=%s user=%s dbname=%s",
	    host, user, h->dbname);

	make_dir(h);
	snprintf(h->key_path, sizeof h->key_path, "%s/hash.key", h->dir);
	FILE *f = fopen(h->key_path, "w");
	if (f == NULL)
		die("cannot write %s", h->key_path);
	/* A fixed test key: its value does not matter, its secrecy does not
	 * either in a throwaway database. */
	fprintf(f, "%s\n",
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	fclose(f);
	snprintf(h->activity_key_path, sizeof h->activity_key_path,
	    "%s/activity.key", h->dir);
	f = fopen(h->activity_key_path, "w");
	if (f == NULL)
		die("cannot write %s", h->activity_key_path);
	fprintf(f, "%s\n", HARNESS_ACTIVITY_KEY_HEX);
	fclose(f);

	write_tokens(h);
	h->db = PQconnectdb(h->conninfo);
	if (PQstatus(h->db) != CONNECTION_OK)
		die("cannot connect to %s: %s", h->dbname, PQerrorMessage(h->db));
}

void
harness_share_db(struct harness *h2, const struct harness *h)
{
	memset(h2, 0, sizeof *h2);
	snprintf(h2->dbname, sizeof h2->dbname, "%s", h->dbname);
	snprintf(h2->conninfo, sizeof h2->conninfo, "%s", h->conninfo);
	snprintf(h2->key_path, sizeof h2->key_path, "%s", h->key_path);
	snprintf(h2->activity_key_path, sizeof h2->activity_key_path, "%s",
	    h->activity_key_path);
	snprintf(h2->token_path, sizeof h2->token_path, "%s", h->token_path);
	snprintf(h2->token, sizeof h2->token, "%s", h->token);
	snprintf(h2->check_token, sizeof h2->check_token, "%s", h->check_token);
	make_dir(h2);
}

void
harness_start(struct harness *h, const char *name,
    const char *const *extra_args)
{
	harness_start_db(h, name);
	spawn_with_db(h, extra_args);
	spawn_wait_ready(h);
}

void
harness_spawn(struct harness *h, const char *const *extra_args)
{
	spawn_with_db(h, extra_args);
	spawn_wait_ready(h);
}

void
harness_launch_replica(struct harness *h2, const struct harness *h,
    const char *const *extra_args)
{
	harness_share_db(h2, h);
	spawn_with_db(h2, extra_args);
	spawn_wait_ready(h2);
}

void
harness_start_together(struct harness *hs, size_t n, const char *name)
{
	harness_start_db(&hs[0], name);
	for (size_t i = 1; i < n; i++)
		harness_share_db(&hs[i], &hs[0]);
	for (size_t i = 0; i < n; i++)
		spawn_with_db(&hs[i], NULL);
	for (size_t i = 0; i < n; i++)
		spawn_wait_ready(&hs[i]);
}

void
harness_start_embedded(struct harness *h, const char *data_dir)
{
	memset(h, 0, sizeof *h);
	h->bare_path = true;
	make_dir(h);
	char data[400], listen[400];
	snprintf(data, sizeof data, "--data-dir=%s", data_dir);
	snprintf(listen, sizeof listen, "--listen=%s", h->url);
	snprintf(h->dev_token_path, sizeof h->dev_token_path, "%s/dev-token",
	    data_dir);
	const char *args[] = {listen, data, NULL};
	spawn_begin(h, args);
	spawn_wait_ready(h);
}

void
harness_remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
harness_stop(struct harness *h)
{
	exa_client_close(h->client);
	h->client = NULL;
	int result = -1;
	if (h->pid > 0) {
		kill(h->pid, SIGTERM);
		for (int i = 0; i < 3000; i++) {
			int status;
			if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
				result = WIFEXITED(status) ? WEXITSTATUS(status)
				                           : 128 + WTERMSIG(status);
				break;
			}
			usleep(10000);
		}
		if (result == -1) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, NULL, 0);
		}
		h->pid = 0;
	}
	if (result == 0 && harness_log_not_json(h->log_path))
		result = 100;
	if (result != 0)
		print_log(h);
	if (h->db != NULL) {
		PQfinish(h->db);
		h->db = NULL;
	}
	/* Keep the directory, and the log in it, when something went wrong. */
	if (result == 0 && !h->keep_dir)
		nftw(h->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return result;
}

long
harness_sql_long(struct harness *h, const char *sql, ...)
{
	const char *params[16];
	int n = 0;
	va_list ap;
	va_start(ap, sql);
	for (const char *p; n < 16 && (p = va_arg(ap, const char *)) != NULL;)
		params[n++] = p;
	va_end(ap);
	PGresult *res = PQexecParams(h->db, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQresultErrorMessage(res));
	long v = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)
	    ? strtol(PQgetvalue(res, 0, 0), NULL, 10)
	    : 0;
	PQclear(res);
	return v;
}

const char *
harness_unique(const char *prefix)
{
	static char slots[8][64];
	static unsigned next;
	static unsigned counter;
	char *out = slots[next++ % 8];
	snprintf(out, 64, "%s%x%x", prefix, (unsigned)getpid() & 0xffff,
	    counter++);
	return out;
}

int
harness_memory_contains(pid_t pid, const void *bytes, size_t len)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	FILE *maps = fopen(path, "r");
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int mem = open(path, O_RDONLY | O_CLOEXEC);
	if (maps == NULL || mem < 0 || len == 0 || len > 4096) {
		if (maps != NULL)
			fclose(maps);
		if (mem >= 0)
			close(mem);
		return -1;
	}
	enum { CHUNK = 1 << 20, LARGEST = 256 << 20 };
	char *buf = malloc(CHUNK + len);
	int found = buf != NULL ? 0 : -1;
	char line[512];
	while (found == 0 && fgets(line, sizeof line, maps) != NULL) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || perms[1] != 'w' || hi - lo > LARGEST)
			continue; /* unreadable, read-only, or a reservation */
		/* Chunks overlap by len - 1 bytes, so no match is cut. */
		size_t carry = 0;
		for (unsigned long at = lo; found == 0 && at < hi;) {
			size_t want = hi - at < CHUNK ? hi - at : CHUNK;
			ssize_t n = pread(mem, buf + carry, want, (off_t)at);
			if (n <= 0)
				break; /* unmapped since, or a guard page */
			size_t have = carry + (size_t)n;
			if (memmem(buf, have, bytes, len) != NULL)
				found = 1;
			carry = have < len - 1 ? have : len - 1;
			memmove(buf, buf + have - carry, carry);
			at += (unsigned long)n;
		}
	}
	free(buf);
	fclose(maps);
	close(mem);
	return found;
}
