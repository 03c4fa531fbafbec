/* Private PostgreSQL cluster management: initdb, pg_ctl start/stop, and
 * dropping privileges for them when run as root. */
#include "embedded.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "rpc/tokens.h"
#include "store/db.h"

struct embedded {
	char data_dir[PATH_MAX / 2];
	char pg_dir[PATH_MAX];
	char sock_dir[PATH_MAX];
	char log_file[PATH_MAX];
	char key_file[PATH_MAX];
	char activity_key_file[PATH_MAX];
	char token_file[PATH_MAX];
	char dev_token_file[PATH_MAX];
	char bin_dir[PATH_MAX / 2];
	char conninfo[PATH_MAX + 64];
	bool as_other; /* root: run PostgreSQL as uid/gid */
	uid_t uid;
	gid_t gid;
	bool started_here;
};

/* find_bin_dir picks the newest /usr/lib/postgresql/N/bin with initdb. */
static int
find_bin_dir(struct embedded *e, char *msg, size_t msg_size)
{
	glob_t g;
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0) {
		snprintf(msg, msg_size,
		    "no PostgreSQL server found under /usr/lib/postgresql "
		    "(install the postgresql package, or pass --database-url)");
		return -1;
	}
	/* glob sorts; versions compare numerically, so pick by number. */
	size_t best = 0;
	long best_v = -1;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"),
		    NULL, 10);
		if (v > best_v) {
			best_v = v;
			best = i;
		}
	}
	snprintf(e->bin_dir, sizeof e->bin_dir, "%s", g.gl_pathv[best]);
	*strrchr(e->bin_dir, '/') = '\0';
	globfree(&g);
	return 0;
}

/* embedded_run waits for argv[0] (in bin_dir) to finish, as the PostgreSQL account,
 * with its output appended to the log file. Returns its exit status. */
static int
embedded_run(const struct embedded *e, char *const argv[])
{
	/* The full path also as argv[0]: the PostgreSQL tools find their
	 * siblings (postgres, initdb) next to their own argv[0], and
	 * Debian's bin directory is not on PATH. */
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", e->bin_dir, argv[0]);
	char *args[16];
	size_t n = 0;
	args[n++] = path;
	for (size_t i = 1; argv[i] != NULL && n < 15; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (e->as_other &&
		    (setgroups(0, NULL) != 0 || setgid(e->gid) != 0 ||
		        setuid(e->uid) != 0))
			_exit(126);
		int fd = open(e->log_file, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
		execv(path, args);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int
make_dir(const struct embedded *e, const char *path, mode_t mode, bool owned,
    char *msg, size_t msg_size)
{
	if (mkdir(path, mode) != 0 && errno != EEXIST) {
		snprintf(msg, msg_size, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (owned && e->as_other && chown(path, e->uid, e->gid) != 0) {
		snprintf(msg, msg_size, "cannot hand %s to uid %d: %s", path,
		    (int)e->uid, strerror(errno));
		return -1;
	}
	return 0;
}

static int
init_cluster(struct embedded *e, char *msg, size_t msg_size)
{
	char version_file[PATH_MAX + 16];
	snprintf(version_file, sizeof version_file, "%s/PG_VERSION", e->pg_dir);
	if (access(version_file, F_OK) == 0)
		return 0;
	if (make_dir(e, e->pg_dir, 0700, true, msg, msg_size) != 0)
		return -1;
	log_info("embedded_initdb", "{s:s}", "dir", e->pg_dir);
	char *const argv[] = {"initdb", "-D", e->pg_dir, "-U", "exe_access",
	    "--auth=trust", "--encoding=UTF8", "--locale=C", NULL};
	if (embedded_run(e, argv) != 0) {
		snprintf(msg, msg_size, "initdb failed; see %s", e->log_file);
		return -1;
	}
	/* Unix socket only, in our own directory: no TCP port to collide with
	 * and nobody else can connect. Appended as its own include-free
	 * lines, so no shell quoting of paths is ever needed. */
	char conf[PATH_MAX + 32];
	snprintf(conf, sizeof conf, "%s/postgresql.conf", e->pg_dir);
	FILE *f = fopen(conf, "a");
	if (f == NULL) {
		snprintf(msg, msg_size, "cannot write %s: %s", conf,
		    strerror(errno));
		return -1;
	}
	fprintf(f, "\n# exe-accessd embedded default\n"
	           "listen_addresses = ''\n"
	           "unix_socket_directories = '%s'\n"
	           "max_connections = 200\n"
	           "fsync = on\n", e->sock_dir);
	fclose(f);
	return 0;
}

static int
start_cluster(struct embedded *e, char *msg, size_t msg_size)
{
	char *const status_argv[] = {"pg_ctl", "status", "-D", e->pg_dir, NULL};
	if (embedded_run(e, status_argv) == 0) {
		log_info("embedded_reused", "{s:s}", "dir", e->pg_dir);
		return 0;
	}
	char *const argv[] = {"pg_ctl", "start", "-w", "-t", "60", "-D",
	    e->pg_dir, "-l", e->log_file, NULL};
	if (embedded_run(e, argv) != 0) {
		snprintf(msg, msg_size, "PostgreSQL did not start; see %s",
		    e->log_file);
		return -1;
	}
	e->started_here = true;
	log_info("embedded_started", "{s:s}", "dir", e->pg_dir);
	return 0;
}

static int
create_database(struct embedded *e, char *msg, size_t msg_size)
{
	char conninfo[PATH_MAX + 64];
	snprintf(conninfo, sizeof conninfo,
	    "host=%s dbname=postgres user=exe_access", e->sock_dir);
	PGconn *conn = db_connect(conninfo);
	int rc = 0;
	if (PQstatus(conn) != CONNECTION_OK) {
		snprintf(msg, msg_size, "cannot connect to the embedded "
		    "PostgreSQL: %s", PQerrorMessage(conn));
		rc = -1;
	} else {
		PGresult *res = PQexec(conn,
		    "SELECT 1 FROM pg_database WHERE datname = 'exe_access'");
		bool exists = PQresultStatus(res) == PGRES_TUPLES_OK &&
		    PQntuples(res) == 1;
		PQclear(res);
		if (!exists) {
			res = PQexec(conn, "CREATE DATABASE exe_access");
			if (PQresultStatus(res) != PGRES_COMMAND_OK) {
				snprintf(msg, msg_size, "CREATE DATABASE failed: %s",
				    PQresultErrorMessage(res));
				rc = -1;
			}
			PQclear(res);
		}
	}
	PQfinish(conn);
	snprintf(e->conninfo, sizeof e->conninfo,
	    "host=%s dbname=exe_access user=exe_access", e->sock_dir);
	return rc;
}

/* write_key creates a key file once (the hash key, the activity key): 32
 * random bytes in hex, readable by this account only. */
static int
write_key(const char *path, char *msg, size_t msg_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		snprintf(msg, msg_size, "cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	unsigned char key[32];
	char hex[65];
	randombytes_buf(key, sizeof key);
	sodium_bin2hex(hex, sizeof hex, key, sizeof key);
	hex[64] = '\n';
	ssize_t n = write(fd, hex, sizeof hex);
	sodium_memzero(key, sizeof key);
	sodium_memzero(hex, sizeof hex);
	close(fd);
	if (n != (ssize_t)sizeof hex) {
		unlink(path);
		snprintf(msg, msg_size, "cannot write %s", path);
		return -1;
	}
	return 0;
}

/* write_dev_token creates the token file with one admin token, and the
 * token itself beside it, both readable by this account only. */
static int
write_dev_token(const struct embedded *e, char *msg, size_t msg_size)
{
	if (access(e->token_file, F_OK) == 0)
		return 0;
	char token[TOKENS_LEN + 1], hash[TOKENS_HASH_HEX + 1];
	tokens_mint(token, hash);
	int rc = -1;
	int fd = open(e->dev_token_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f != NULL) {
		fprintf(f, "%s\n", token);
		if (fclose(f) == 0)
			rc = 0;
	} else if (fd >= 0) {
		close(fd);
	}
	sodium_memzero(token, sizeof token);
	if (rc == 0) {
		fd = open(e->token_file, O_WRONLY | O_CREAT | O_EXCL, 0600);
		f = fd >= 0 ? fdopen(fd, "w") : NULL;
		rc = -1;
		if (f != NULL) {
			fprintf(f, "# Callers of this exe-accessd: name scope "
			           "hash (see --mint-token).\n"
			           "development admin %s\n", hash);
			if (fclose(f) == 0)
				rc = 0;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	if (rc != 0) {
		snprintf(msg, msg_size, "cannot write %s: %s", e->token_file,
		    strerror(errno));
		return -1;
	}
	log_info("dev_token_written", "{s:s}", "path", e->dev_token_file);
	return 0;
}

static int
resolve_account(struct embedded *e, const struct config *cfg, char *msg,
    size_t msg_size)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(cfg->embedded_user);
	if (pw == NULL) {
		snprintf(msg, msg_size,
		    "--embedded-user: no account \"%s\" to run PostgreSQL as "
		    "(PostgreSQL refuses to run as root)", cfg->embedded_user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(msg, msg_size,
		    "--embedded-user: \"%s\" is root; PostgreSQL refuses root",
		    cfg->embedded_user);
		return -1;
	}
	e->as_other = true;
	e->uid = pw->pw_uid;
	e->gid = pw->pw_gid;
	return 0;
}

int
embedded_start(struct embedded **out, const struct config *cfg, char *msg,
    size_t msg_size)
{
	struct embedded *e = calloc(1, sizeof *e);
	if (e == NULL) {
		snprintf(msg, msg_size, "out of memory");
		return -1;
	}
	if (cfg->data_dir != NULL) {
		snprintf(e->data_dir, sizeof e->data_dir, "%s", cfg->data_dir);
	} else if (geteuid() == 0) {
		snprintf(e->data_dir, sizeof e->data_dir, "/var/lib/exe-access");
	} else {
		const char *home = getenv("HOME");
		snprintf(e->data_dir, sizeof e->data_dir,
		    "%s/.local/share/exe-access", home != NULL ? home : ".");
	}
	if (strchr(e->data_dir, '\'') != NULL) {
		snprintf(msg, msg_size, "--data-dir: must not contain a quote");
		free(e);
		return -1;
	}
	snprintf(e->pg_dir, sizeof e->pg_dir, "%s/pg", e->data_dir);
	snprintf(e->sock_dir, sizeof e->sock_dir, "%s/run", e->data_dir);
	snprintf(e->log_file, sizeof e->log_file, "%s/log/postgresql.log",
	    e->data_dir);
	snprintf(e->key_file, sizeof e->key_file, "%s/hash.key", e->data_dir);
	snprintf(e->activity_key_file, sizeof e->activity_key_file,
	    "%s/activity.key", e->data_dir);
	snprintf(e->token_file, sizeof e->token_file, "%s/tokens", e->data_dir);
	snprintf(e->dev_token_file, sizeof e->dev_token_file, "%s/dev-token",
	    e->data_dir);
	char log_dir[PATH_MAX];
	snprintf(log_dir, sizeof log_dir, "%s/log", e->data_dir);

	/* Parents must be traversable by the PostgreSQL account. */
	char parent[PATH_MAX / 2];
	snprintf(parent, sizeof parent, "%s", e->data_dir);
	for (char *p = parent + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(parent, 0755);
			*p = '/';
		}
	}
	if (resolve_account(e, cfg, msg, msg_size) != 0 ||
	    find_bin_dir(e, msg, msg_size) != 0 ||
	    make_dir(e, e->data_dir, 0755, false, msg, msg_size) != 0 ||
	    make_dir(e, log_dir, 0700, true, msg, msg_size) != 0 ||
	    make_dir(e, e->sock_dir, 0700, true, msg, msg_size) != 0 ||
	    init_cluster(e, msg, msg_size) != 0 ||
	    start_cluster(e, msg, msg_size) != 0 ||
	    create_database(e, msg, msg_size) != 0 ||
	    write_key(e->key_file, msg, msg_size) != 0 ||
	    write_key(e->activity_key_file, msg, msg_size) != 0 ||
	    write_dev_token(e, msg, msg_size) != 0) {
		embedded_stop(e);
		return -1;
	}
	*out = e;
	return 0;
}

const char *
embedded_conninfo(const struct embedded *e)
{
	return e->conninfo;
}

const char *
embedded_hash_key_file(const struct embedded *e)
{
	return e->key_file;
}

const char *
embedded_activity_key_file(const struct embedded *e)
{
	return e->activity_key_file;
}

const char *
embedded_token_file(const struct embedded *e)
{
	return e->token_file;
}

const char *
embedded_dev_token_file(const struct embedded *e)
{
	return e->dev_token_file;
}

void
embedded_stop(struct embedded *e)
{
	if (e == NULL)
		return;
	if (e->started_here) {
		char *const argv[] = {"pg_ctl", "stop", "-w", "-m", "fast", "-D",
		    e->pg_dir, NULL};
		if (embedded_run(e, argv) == 0)
			log_info("embedded_stopped", "{s:s}", "dir", e->pg_dir);
		else
			log_warn("embedded_stop_failed", "{s:s}", "log",
			    e->log_file);
	}
	free(e);
}
