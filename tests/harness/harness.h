/* Integration-test harness: a real exe-accessd on a private ipc:// path,
 * with a database of its own in the suite's throwaway PostgreSQL (started
 * by the `postgres` CTest fixture, see pg.sh), and a client connected to
 * it. Tests drive the service only through the client library, the wire,
 * and (to inspect what was stored) a direct database connection. */
#ifndef EXE_HARNESS_H
#define EXE_HARNESS_H

#include <exe/access.h>
#include <exe/access_raw.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <sys/types.h>

/* The activity key every test daemon chains its log with (a test may
 * recompute a record's hash with it). Not the hash key. */
#define HARNESS_ACTIVITY_KEY_HEX                                              \
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"

struct harness {
	pid_t pid;
	char dir[256];       /* temporary directory of this daemon */
	char url[300];       /* ipc:// URL it listens on */
	char dbname[64];
	char conninfo[512];
	char log_path[300];
	char key_path[300];
	char activity_key_path[300];
	char token_path[300];
	char token[64];       /* an admin caller token the daemon accepts */
	char check_token[64]; /* a check-scoped one */
	char dev_token_path[320]; /* embedded default: its development token */
	exa_client *client;
	PGconn *db;          /* direct connection, for inspecting state */
	bool bare_path;      /* run the daemon with PATH=/usr/bin:/bin */
	long open_files;     /* >0: the daemon's soft RLIMIT_NOFILE at exec */
	bool keep_dir;       /* harness_stop keeps the directory and its log */
};

/* harness_start creates a database named after `name`, starts exe-accessd
 * on it with `extra_args` (NULL-terminated, may be NULL) and waits until it
 * is ready. Exits the test program with a message on failure. */
void harness_start(struct harness *h, const char *name,
    const char *const *extra_args);

/* harness_spawn starts exe-accessd with `extra_args` on the database of a
 * harness made by harness_start_db or harness_share_db, and waits until it
 * is ready (set h->open_files between the two to start it with that soft
 * open-file limit). */
void harness_spawn(struct harness *h, const char *const *extra_args);

/* harness_start_db creates h's database, hash key and activity key (no
 * daemon yet). */
void harness_start_db(struct harness *h, const char *name);

/* harness_share_db points h2 at h's database and keys, with its own
 * directory and ipc path (no daemon yet). */
void harness_share_db(struct harness *h2, const struct harness *h);

/* harness_start_together starts `n` daemons on one new database at the
 * same moment (they race to migrate it) and waits until all are ready. */
void harness_start_together(struct harness *hs, size_t n, const char *name);

/* harness_start_embedded starts exe-accessd with no database URL, on its
 * embedded default under `data_dir` (which the PostgreSQL account must be
 * able to reach when the tests run as root). */
void harness_start_embedded(struct harness *h, const char *data_dir);

/* harness_remove_tree deletes a directory and everything in it. */
void harness_remove_tree(const char *dir);

/* harness_launch starts another daemon on the same database as `h` (a
 * second replica) with its own ipc path; `h2` gets its own client. */
void harness_launch_replica(struct harness *h2, const struct harness *h,
    const char *const *extra_args);

/* harness_stop sends SIGTERM, waits for the daemon to exit, and returns
 * its exit status (0 for a clean drain); -1 if it had to be killed, and
 * 100 if its log held a line that is not a JSON object (the log contract).
 * Prints the daemon's log when the result is not 0. */
int harness_stop(struct harness *h);

/* harness_sql runs a statement on the direct connection and returns the
 * first column of the first row as an integer (0 if none). Parameters are
 * NULL-terminated. Exits on an SQL error. */
long harness_sql_long(struct harness *h, const char *sql, ...);

/* harness_log_not_json says whether any line of the log at `path` is not
 * a JSON object (the log contract), printing the first such line. */
bool harness_log_not_json(const char *path);

/* harness_log_contains says whether the daemon's log contains `text`. */
bool harness_log_contains(const struct harness *h, const char *text);

/* harness_memory_contains searches the writable memory of process `pid`
 * (heap, stacks, anonymous and data mappings, freed memory included) for
 * the `len` bytes at `bytes` (at most 4096): 1 if found, 0 if not, -1 if
 * the memory cannot be read. Reservations over 256 MiB (sanitizer shadow)
 * are skipped. For checking that a secret left no copy behind. */
int harness_memory_contains(pid_t pid, const void *bytes, size_t len);

/* harness_unique returns a short string unique in this run ("k3f9a1"),
 * for usernames that must not collide; in static storage of 8 slots. */
const char *harness_unique(const char *prefix);

#endif
