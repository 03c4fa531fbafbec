/* exe-accessd: start-up, signal handling and orderly shutdown.
 *
 * Start: configuration → (embedded PostgreSQL) → hash and activity keys →
 * wait for the database → migrations → database workers → listeners. Then
 * the main thread waits for signals: SIGTERM or SIGINT drain in-flight
 * requests and exit 0; SIGHUP reloads the token file. */
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "authz/cache.h"
#include "authz/cache_feed.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/secrets.h"
#include "base/status.h"
#include "config.h"
#include "dispatch.h"
#include "embedded.h"
#include "rpc/call.h"
#include "rpc/tokens.h"
#include "store/chain.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/replicas.h"
#include "store/anchor.h"
#include "store/retention.h"
#include "store/workers.h"
#include "transport/conns.h"
#include "transport/http.h"
#include "transport/publish.h"
#include "transport/server.h"

/* The teardown after the drain is bounded. Every request has been
 * answered by then, but a step can hang: nng 1.5.2 can block closing a
 * socket, and a thread can sit in a connect to a database host that
 * stopped answering until its connect_timeout. If the steps have not all
 * returned within --exit-timeout-ms, the guard logs the step that stalled,
 * stops the embedded PostgreSQL unless that step has begun, and exits
 * with the code the process was going to exit with. */
struct teardown {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t finished;
	bool done;                 /* under lock */
	const char *step;          /* under lock */
	struct embedded *embedded; /* under lock: whoever takes it stops it */
	long limit_ms;
	int exit_code;
};

static void *
teardown_guard(void *arg)
{
	struct teardown *t = arg;
	struct timespec until = clock_mono_after(t->limit_ms);
	pthread_mutex_lock(&t->lock);
	int rc = 0;
	while (!t->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&t->finished, &t->lock, &until);
	if (t->done) {
		pthread_mutex_unlock(&t->lock);
		return NULL;
	}
	const char *step = t->step;
	struct embedded *e = t->embedded;
	t->embedded = NULL;
	pthread_mutex_unlock(&t->lock);
	log_warn("shutdown_stalled", "{s:s, s:i}", "step", step, "ms",
	    (int)t->limit_ms);
	embedded_stop(e);
	log_info("exited", "{s:i}", "code", t->exit_code);
	_exit(t->exit_code);
}

/* teardown_begin starts the guard (none for a limit of 0, or if no
 * thread can be made: the teardown then runs unbounded). */
static void
teardown_begin(struct teardown *t, long limit_ms, struct embedded *embedded,
    int exit_code)
{
	*t = (struct teardown){.step = "start", .embedded = embedded,
	    .limit_ms = limit_ms, .exit_code = exit_code};
	pthread_mutex_init(&t->lock, NULL);
	clock_cond_init(&t->finished);
	t->running = limit_ms > 0 &&
	    pthread_create(&t->thread, NULL, teardown_guard, t) == 0;
}

static void
teardown_step(struct teardown *t, const char *step)
{
	pthread_mutex_lock(&t->lock);
	t->step = step;
	pthread_mutex_unlock(&t->lock);
}

/* teardown_take_embedded starts the last step, stopping the embedded
 * PostgreSQL, and returns it (NULL if the guard stopped it already). */
static struct embedded *
teardown_take_embedded(struct teardown *t)
{
	pthread_mutex_lock(&t->lock);
	t->step = "embedded_postgresql";
	struct embedded *e = t->embedded;
	t->embedded = NULL;
	pthread_mutex_unlock(&t->lock);
	return e;
}

static void
teardown_end(struct teardown *t)
{
	pthread_mutex_lock(&t->lock);
	t->done = true;
	pthread_cond_signal(&t->finished);
	pthread_mutex_unlock(&t->lock);
	if (t->running)
		pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->finished);
	pthread_mutex_destroy(&t->lock);
}

/* load_key reads a key file (`flag` names its option in messages): 64 hex
 * digits, read with read(2) into guarded memory, returned read-only
 * (CHAIN_KEY_BYTES = SECRET_HASH_KEY_BYTES = 32 bytes). The file's text
 * passes through no stdio buffer, and is wiped. */
static unsigned char *
load_key(const char *flag, const char *path, char *msg, size_t msg_size)
{
	char *hex = NULL;
	size_t len = 0;
	int err = secret_file_read(path, 130, &hex, &len);
	if (err != 0) {
		snprintf(msg, msg_size, "%s: cannot read %s: %s", flag, path,
		    err == EFBIG ? "longer than a key" : strerror(err));
		return NULL;
	}
	unsigned char *key = sodium_malloc(crypto_generichash_KEYBYTES);
	size_t key_len = 0;
	bool ok = key != NULL &&
	    sodium_hex2bin(key, crypto_generichash_KEYBYTES, hex, len, "\n",
	        &key_len, NULL) == 0 &&
	    key_len == crypto_generichash_KEYBYTES;
	sodium_free(hex);
	if (!ok) {
		if (key != NULL)
			sodium_free(key);
		snprintf(msg, msg_size,
		    "%s: %s must hold 64 hex digits (32 bytes); "
		    "make one with: head -c 32 /dev/urandom | od -An -tx1 | "
		    "tr -d ' \\n'",
		    flag, path);
		return NULL;
	}
	sodium_mprotect_readonly(key);
	return key;
}

/* Descriptors kept free of connections: database connections, listeners,
 * files, and nng's own. */
enum { MAIN_SPARE_FILES = 256 };

/* raise_open_files raises the soft limit on open files to the hard one:
 * every connection holds a descriptor, and the usual soft default (1024)
 * is far under --max-connections. Logs both, and warns when the limit
 * leaves too little room for `max_connections`. */
static void
raise_open_files(long max_connections)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		return;
	rlim_t was = lim.rlim_cur;
	if (lim.rlim_cur < lim.rlim_max) {
		struct rlimit want = lim;
		/* An unlimited hard limit is capped by the kernel's nr_open. */
		want.rlim_cur = lim.rlim_max == RLIM_INFINITY ? 1048576
		                                              : lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			lim.rlim_cur = want.rlim_cur;
	}
	log_info("open_files_limit", "{s:I, s:I, s:I}", "was", (json_int_t)was,
	    "now", (json_int_t)lim.rlim_cur, "hard",
	    (json_int_t)(lim.rlim_max == RLIM_INFINITY ? -1
	                                               : (long long)lim.rlim_max));
	/* Room for the database connections, listeners and nng's own. */
	if (max_connections == 0 ||
	    (rlim_t)max_connections + MAIN_SPARE_FILES > lim.rlim_cur)
		log_warn("open_files_limit_low", "{s:I, s:I, s:s}", "limit",
		    (json_int_t)lim.rlim_cur, "max_connections",
		    (json_int_t)max_connections, "hint",
		    "raise LimitNOFILE (systemd) or ulimit -Hn, or lower "
		    "--max-connections, or connections beyond the limit wait "
		    "unaccepted");
}

/* prepare_database connects, retrying with back-off for up to
 * `timeout_s` seconds, applies the migrations, and reads the revision the
 * change log stands at. */
static int
prepare_database(const char *conninfo, long timeout_s,
    const unsigned char *activity_key, uint64_t *revision, char *msg,
    size_t msg_size)
{
	time_t give_up = time(NULL) + timeout_s;
	unsigned delay_ms = 100;
	PGconn *conn;
	for (;;) {
		conn = db_connect(conninfo);
		if (PQstatus(conn) == CONNECTION_OK)
			break;
		char reason[256];
		snprintf(reason, sizeof reason, "%s", PQerrorMessage(conn));
		reason[strcspn(reason, "\n")] = '\0';
		PQfinish(conn);
		if (time(NULL) >= give_up) {
			snprintf(msg, msg_size,
			    "the database did not accept connections within %lds: "
			    "%s", timeout_s, reason);
			return -1;
		}
		log_info("waiting_for_database", "{s:s, s:i}", "reason", reason,
		    "retry_ms", (int)delay_ms);
		usleep(delay_ms * 1000);
		if (delay_ms < 2000)
			delay_ms *= 2;
	}
	int rc = migrate_run(conn, activity_key, msg, msg_size);
	bool fits = true;
	if (rc == STATUS_OK &&
	    (rc = chain_key_fits(conn, activity_key, &fits, msg, msg_size)) ==
	        STATUS_OK &&
	    !fits) {
		/* Records chained with another key would read as tampered
		 * with, and hide a real break after the first. */
		snprintf(msg, msg_size,
		    "--activity-key-file: not the key the activity log was "
		    "chained with (none of its %d newest records matches its "
		    "hash with this key); give every replica the same key",
		    CHAIN_KEY_PROBE);
		rc = STATUS_FAILED_PRECONDITION;
	}
	if (rc == STATUS_OK && db_current_revision(conn, revision) != STATUS_OK) {
		snprintf(msg, msg_size, "cannot read the revision: %s",
		    PQerrorMessage(conn));
		rc = STATUS_INTERNAL;
	}
	PQfinish(conn);
	return rc == STATUS_OK ? 0 : -1;
}

/* main_note_write hands every revision a write takes to the cache, which
 * so learns of a database that lost what it had applied. */
static void
main_note_write(void *cache, uint64_t revision)
{
	cache_note_write(cache, revision);
}

static int
main_fail(const char *event, const char *msg)
{
	log_error(event, "{s:s}", "message", msg);
	return 1;
}

int
main(int argc, char **argv)
{
	/* Block the signals we wait for before any thread exists, so every
	 * thread nng and the workers start inherits the mask. */
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	char msg[1024];
	struct config cfg;
	switch (config_load(&cfg, argc, argv, msg, sizeof msg)) {
	case CONFIG_EXIT:
		config_free(&cfg);
		return 0;
	case CONFIG_ERROR:
		fprintf(stderr, "exe-accessd: %s\n", msg);
		config_free(&cfg);
		return 2;
	case CONFIG_RUN:
		break;
	}
	enum log_level level = LOG_INFO;
	if (log_level_parse(cfg.log_level, &level) == 0) /* checked by config */
		log_set_level(level);
	if (log_capture_stdio() != 0)
		log_warn("stdio_capture_failed", NULL);

	raise_open_files(cfg.max_connections);

	int exit_code = 1;
	struct conns *conns = NULL;
	struct embedded *embedded = NULL;
	unsigned char *hash_key = NULL;
	unsigned char *activity_key = NULL;
	struct workers *workers = NULL;
	struct replicas *replicas = NULL;
	struct server *server = NULL;
	struct cache *cache = NULL;
	struct cache_feed *feed = NULL;
	struct retention *retention = NULL;
	struct anchor *anchor = NULL;
	struct publisher *publisher = NULL;
	struct tokens *tokens = NULL;
	struct http *http = NULL;

	if (sodium_init() < 0) {
		exit_code = main_fail("start_failed", "libsodium failed to initialize");
		goto out;
	}
	if (dispatch_check_table(msg, sizeof msg) != 0) {
		exit_code = main_fail("start_failed", msg);
		goto out;
	}

	const char *conninfo = cfg.database_url;
	const char *key_file = cfg.hash_key_file;
	const char *activity_key_file = cfg.activity_key_file;
	const char *token_file = cfg.token_file;
	if (conninfo == NULL) {
		if (embedded_start(&embedded, &cfg, msg, sizeof msg) != 0) {
			exit_code = main_fail("embedded_failed", msg);
			goto out;
		}
		conninfo = embedded_conninfo(embedded);
		if (key_file == NULL)
			key_file = embedded_hash_key_file(embedded);
		if (activity_key_file == NULL)
			activity_key_file = embedded_activity_key_file(embedded);
		if (token_file == NULL)
			token_file = embedded_token_file(embedded);
	}

	if (key_file == NULL) {
		exit_code = main_fail("start_failed",
		    "--hash-key-file is required with --database-url: secrets "
		    "are stored as keyed hashes");
		goto out;
	}
	hash_key = load_key("--hash-key-file", key_file, msg, sizeof msg);
	if (hash_key == NULL) {
		exit_code = main_fail("start_failed", msg);
		goto out;
	}
	if (activity_key_file == NULL) {
		exit_code = main_fail("start_failed",
		    "--activity-key-file is required with --database-url: the "
		    "activity log is chained with a key of its own (make one as "
		    "for --hash-key-file; not the same key)");
		goto out;
	}
	activity_key = load_key(
	    "--activity-key-file", activity_key_file, msg, sizeof msg);
	if (activity_key == NULL) {
		exit_code = main_fail("start_failed", msg);
		goto out;
	}
	if (sodium_memcmp(activity_key, hash_key, crypto_generichash_KEYBYTES) ==
	    0) {
		exit_code = main_fail("start_failed",
		    "--activity-key-file holds the same key as --hash-key-file; "
		    "give the activity log a key of its own");
		goto out;
	}
	db_set_activity_key(activity_key);
	if (token_file == NULL) {
		exit_code = main_fail("start_failed",
		    "--token-file is required with --database-url: every caller "
		    "authenticates (make entries with --mint-token NAME:SCOPE)");
		goto out;
	}
	if (tokens_open(&tokens, token_file, msg, sizeof msg) != 0) {
		exit_code = main_fail("start_failed", msg);
		goto out;
	}
	if (tokens_count(tokens) == 0)
		log_warn("no_callers", "{s:s}", "token_file", token_file);
	uint64_t revision = 0;
	if (prepare_database(conninfo, cfg.db_connect_timeout_s, activity_key,
	        &revision, msg, sizeof msg) != 0) {
		exit_code = main_fail("database_failed", msg);
		goto out;
	}
	if (cfg.publish != NULL &&
	    publisher_open(&publisher, cfg.publish, msg, sizeof msg) != 0) {
		exit_code = main_fail("start_failed", msg);
		goto out;
	}
	if (cache_new(&cache, (size_t)cfg.cache_size, cfg.cache_max_staleness_ms,
	        revision) != 0 ||
	    cache_feed_start(&feed, cache, conninfo, cfg.cache_refresh_ms,
	        publisher != NULL ? publisher_revision : NULL, publisher) != 0) {
		exit_code = main_fail("start_failed", "cannot start the cache");
		goto out;
	}
	db_set_revision_hook(main_note_write, cache);
	struct retention_options retopts = {.conninfo = conninfo,
	    .max_age_s = cfg.change_log_max_age_s,
	    .max_rows = cfg.change_log_max_rows};
	if (retention_start(&retention, &retopts) != 0) {
		exit_code = main_fail("start_failed",
		    "cannot start change-log retention");
		goto out;
	}
	struct anchor_options aopts = {.conninfo = conninfo,
	    .interval_s = cfg.activity_anchor_interval_s};
	if (anchor_start(&anchor, &aopts) != 0) {
		exit_code = main_fail("start_failed",
		    "cannot start the activity head's reader");
		goto out;
	}
	if (workers_start(&workers, conninfo, (size_t)cfg.workers) != 0) {
		exit_code = main_fail("start_failed", "cannot start database workers");
		goto out;
	}
	if (cfg.read_database_url_count > 0) {
		struct replicas_options ropts = {
		    .primary = conninfo,
		    .urls = (const char *const *)cfg.read_database_urls,
		    .count = cfg.read_database_url_count,
		    .workers = (size_t)cfg.workers,
		    .max_lag_ms = cfg.read_max_lag_ms,
		};
		if (replicas_start(&replicas, &ropts) != 0) {
			exit_code = main_fail("start_failed",
			    "cannot start the read replicas' workers");
			goto out;
		}
	}
	struct service_ctx svc = {.methods = &dispatch_table, .tokens = tokens, .hash_key = hash_key,
	    .activity_key = activity_key,
	    .cache = cache,
	    .max_in_flight_per_caller = (unsigned)cfg.max_in_flight_per_caller,
	    .org_creators_listed = cfg.org_creators_listed,
	    .org_creators = cfg.org_creator_ids,
	    .n_org_creators = cfg.org_creator_count};
	struct conns_options copts = {.max = (size_t)cfg.max_connections,
	    .recv_timeout_ms = cfg.recv_timeout_ms};
	if (conns_new(&conns, &copts) != 0) {
		exit_code = main_fail("start_failed", "out of memory");
		goto out;
	}
	struct server_options opts = {
	    .listen = (const char *const *)cfg.listen,
	    .listen_count = cfg.listen_count,
	    .items = (size_t)cfg.max_in_flight,
	    .max_bytes = (size_t)cfg.max_message_bytes,
	    .tls_cert_file = cfg.tls_cert,
	    .tls_key_file = cfg.tls_key,
	    .probe_interval_ms = cfg.listener_probe_ms,
	    .replicas = replicas,
	    .conns = conns,
	};
	if (server_start(&server, &opts, workers, &svc, msg, sizeof msg) != 0) {
		exit_code = main_fail("start_failed", msg);
		goto out;
	}
	struct http_sources http_src = {.methods = &dispatch_table, .cache = cache, .workers = workers,
	    .replicas = replicas, .conns = conns, .anchor = anchor,
	    .ready_within_ms = cfg.cache_max_staleness_ms};
	if (cfg.metrics_address != NULL &&
	    http_start(&http, cfg.metrics_address, &http_src, msg,
	        sizeof msg) != 0) {
		exit_code = main_fail("start_failed", msg);
		goto out;
	}
	log_info("ready", "{s:s, s:i, s:b, s:i, s:i}", "version",
	    EXE_ACCESS_VERSION, "workers", (int)cfg.workers, "embedded",
	    embedded != NULL, "cache_size", (int)cfg.cache_size,
	    "read_replicas", (int)cfg.read_database_url_count);

	for (;;) {
		int sig;
		if (sigwait(&signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (tokens_reload(tokens, msg, sizeof msg) == 0)
				log_info("tokens_reloaded", "{s:i}", "callers",
				    (int)tokens_count(tokens));
			else
				log_error("tokens_reload_failed", "{s:s}",
				    "message", msg);
			continue;
		}
		log_info("stopping", "{s:s}", "signal", strsignal(sig));
		break;
	}
	uint64_t drain_start = clock_mono_ns();
	size_t left = server_drain(server, cfg.drain_timeout_ms);
	if (left > 0)
		log_warn("drain_incomplete", "{s:i}", "unanswered", (int)left);
	log_info("drained", "{s:i}", "ms",
	    (int)((clock_mono_ns() - drain_start) / 1000000));
	exit_code = 0;

out:;
	struct teardown td;
	teardown_begin(&td, cfg.exit_timeout_ms, embedded, exit_code);
	teardown_step(&td, "metrics_listener");
	http_stop(http);
	/* Workers first: a job still running after the drain replies through
	 * its work item, which must outlive it. The standbys' before the
	 * primary's: a read a standby cannot serve goes to the primary. */
	teardown_step(&td, "replicas");
	replicas_stop(replicas);
	teardown_step(&td, "workers");
	workers_stop(workers);
	teardown_step(&td, "listeners");
	server_free(server);
	conns_free(conns);
	teardown_step(&td, "background_threads");
	retention_stop(retention);
	anchor_stop(anchor);
	cache_feed_stop(feed);
	teardown_step(&td, "publisher");
	publisher_close(publisher);
	cache_free(cache);
	tokens_close(tokens);
	embedded_stop(teardown_take_embedded(&td));
	teardown_end(&td);
	if (hash_key != NULL)
		sodium_free(hash_key);
	if (activity_key != NULL)
		sodium_free(activity_key);
	log_info("exited", "{s:i}", "code", exit_code);
	config_free(&cfg);
	return exit_code;
}
