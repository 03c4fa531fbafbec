/* Fault-injection helpers: daemons that can be killed and restarted on the
 * same ipc:// path, a PostgreSQL of the test's own that can be stopped,
 * and the measurements the reliability suite prints (time, resident
 * memory, open descriptors).
 *
 * Every process these helpers start is registered and stopped when the
 * test program exits, however it exits: daemons are started with
 * PR_SET_PDEATHSIG (they die with the test), and an atexit handler and a
 * SIGALRM watchdog (fault_watchdog) kill daemons and stop the private
 * PostgreSQL. Fork daemons from the main thread only: the death signal
 * follows the thread that forked. */
#ifndef EXE_FAULT_H
#define EXE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness.h"

/* fault_watchdog arms a SIGALRM after `seconds` that kills every
 * registered process, stops the private PostgreSQL and exits 1: a test
 * that hangs still cleans up before ctest's TIMEOUT kills it. */
void fault_watchdog(unsigned seconds);

/* fault_pg_start starts a PostgreSQL cluster of this test's own through
 * tests/harness/pg.sh ($EXA_TEST_PG_SCRIPT) and points EXA_TEST_PG_ENV at
 * it, so harness_start_db creates databases there. With `durable`, commits
 * wait for their WAL to be written (synchronous_commit = on): the suite's
 * clusters trade that for speed, but a test that kills PostgreSQL and then
 * counts acknowledged writes needs it. Returns 0, or -1 with a message. */
int fault_pg_start(const char *name, bool durable);

/* fault_pg runs `pg.sh VERB STATE [MODE]` on the private cluster (verb
 * "pause" with mode "fast" or "immediate", or "resume"); returns its exit
 * status. */
int fault_pg(const char *verb, const char *mode);

/* fault_pg_stop stops and deletes the private cluster (also at exit). */
void fault_pg_stop(void);

/* fault_pg_standby gives the private cluster a streaming hot standby
 * (pg.sh standby: pg_basebackup -R, port 5433 of the same socket
 * directory); with `sync` the primary's commits wait for it. Then
 * fault_pg("standby-stop", mode), fault_pg("standby-start", NULL) and
 * fault_pg("promote", NULL) act on it. Returns 0, or -1 with a message. */
int fault_pg_standby(bool sync);

/* fault_standby_conninfo writes h's connection string with the standby's
 * port: the same database, read from the standby. */
void fault_standby_conninfo(const struct harness *h, char *out, size_t size);

/* fault_standby_sql runs one statement on h's database on the standby
 * (e.g. SELECT pg_wal_replay_pause()); returns 0, or -1 (printed). */
int fault_standby_sql(const struct harness *h, const char *sql);

/* fault_daemon_prepare makes h a fresh database (harness_start_db) or,
 * with `share` not NULL, a second daemon on share's database; no daemon
 * runs yet. */
void fault_daemon_prepare(
    struct harness *h, const char *name, const struct harness *share);

/* fault_daemon_start starts exe-accessd on h's URL, database, hash key and
 * token file with `extra` arguments (NULL-terminated, may be NULL), with
 * its output in a fresh log file (h->log_path), waits until it logs ready
 * (at most 60 s) and, if h->client is NULL, connects it. Returns 0, or -1
 * (printing the log) if it did not start. Restarting on the same h reuses
 * the same ipc:// path. */
int fault_daemon_start(struct harness *h, const char *const *extra);

/* fault_daemon_kill sends SIGKILL and reaps the daemon. */
void fault_daemon_kill(struct harness *h);

/* fault_daemon_stop sends SIGTERM and waits (at most 40 s); returns the
 * exit status (0 for a clean drain), 128+signal if a signal ended it, -1
 * if it had to be killed, or 100 if any of h's log files (every start)
 * holds a line that is not a JSON object. Prints the log unless 0. Does
 * not close h->client. */
int fault_daemon_stop(struct harness *h);

/* fault_daemon_free closes h's client and database connection and, if
 * `remove_dir`, deletes h's directory. */
void fault_daemon_free(struct harness *h, bool remove_dir);

/* fault_daemon_logs_contain says whether any of h's logs contains text. */
bool fault_daemon_logs_contain(const struct harness *h, const char *text);

/* fault_client opens a client on `urls` with the admin token of h and a
 * per-call timeout; exits the test on failure. */
exa_client *fault_client(
    const char *urls, const struct harness *h, int timeout_ms);

/* fault_ms is a monotonic clock in milliseconds. */
int64_t fault_ms(void);

/* fault_rss_kb is the process's VmRSS in KiB (-1 if unknown);
 * fault_fd_count the number of its open file descriptors. */
long fault_rss_kb(pid_t pid);
long fault_fd_count(pid_t pid);

/* fault_must ends the test program (status 2) unless `ok`: a set-up
 * step failed (the fixture that took it said why), and nothing after it
 * would mean anything. */
void fault_must(bool ok);

/* fault_role_name is "admin", "member" or "read_only" ("none" else). */
const char *fault_role_name(Exe__Access__V1__Role role);

/* fault_sql_count runs a COUNT query on `db` with NULL-terminated text
 * parameters; -1 on an SQL error (printed). */
long fault_sql_count(void *db, const char *sql, ...);

/* fault_user_whole says whether the user named `name` exists with exactly
 * what sign-up creates (R1): its personal workspace named
 * "{name}'s Workspace", its admin membership there and a current API key.
 * Returns 1 whole, 0 absent, -1 present but not whole. */
int fault_user_whole(void *db, const char *name);

/* What became of the sign-ups a test attempted, as the database holds
 * them afterwards. */
struct fault_sign_ups {
	long acked;     /* answered OK */
	long found;     /* of those, in the database whole */
	long failed;    /* answered with an error */
	long committed; /* of those, in the database whole all the same */
	long partial;   /* in the database but not whole (R1 broken) */
};

/* fault_sign_up_judge counts in `s` the sign-up of `name`, whose caller
 * got `rc`, as `db` holds it (fault_user_whole), and prints the ones that
 * are half-made, acknowledged but missing, or failed but committed. */
void fault_sign_up_judge(
    void *db, const char *name, exa_status rc, struct fault_sign_ups *s);

#endif
