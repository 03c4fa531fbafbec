/* Unit tests of config: defaults, and how the config file, the EXE_ACCESS_*
 * variables and the flags override one another, and that every bad value
 * is refused with a message naming the option (or the file). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

#define ARGC(argv) ((int)(sizeof(argv) / sizeof((argv)[0])))

static const char *const env_vars[] = {
	"EXE_ACCESS_LISTEN",
	"EXE_ACCESS_DATABASE_URL",
	"EXE_ACCESS_DATA_DIR",
	"EXE_ACCESS_EMBEDDED_USER",
	"EXE_ACCESS_HASH_KEY_FILE",
	"EXE_ACCESS_WORKERS",
	"EXE_ACCESS_MAX_IN_FLIGHT",
	"EXE_ACCESS_MAX_MESSAGE_BYTES",
	"EXE_ACCESS_DRAIN_TIMEOUT_MS",
	"EXE_ACCESS_DB_CONNECT_TIMEOUT",
	"EXE_ACCESS_LOG_LEVEL",
	"EXE_ACCESS_ORG_CREATORS",
	"EXE_ACCESS_CONFIG",
	"EXE_ACCESS_READ_DATABASE_URL",
	"EXE_ACCESS_READ_MAX_LAG_MS",
};

/* clean_env removes every variable config_load reads, and puts glibc's
 * getopt back to its first-call state (optind = 0), so that no case sees
 * what an earlier case left behind. */
static void
clean_env(void)
{
	for (size_t i = 0; i < sizeof env_vars / sizeof env_vars[0]; i++)
		unsetenv(env_vars[i]);
	optind = 0;
}

/* load runs config_load on `argv` (argc entries) with a fresh message. */
static enum config_result
load(struct config *cfg, int argc, char **argv, char *msg, size_t msg_size)
{
	msg[0] = '\0';
	return config_load(cfg, argc, argv, msg, msg_size);
}

/* expect_error wants CONFIG_ERROR with a message containing `needle`. */
static void
expect_error(int argc, char **argv, const char *needle)
{
	struct config cfg;
	char msg[512];
	enum config_result r = load(&cfg, argc, argv, msg, sizeof msg);
	if (r != CONFIG_ERROR) {
		fprintf(stderr, "  argv[1] \"%s\": result %d, expected "
		    "CONFIG_ERROR\n", argc > 1 ? argv[1] : "", (int)r);
		unit_case_failed = 1;
	}
	EXPECT_CONTAINS(msg, needle);
	config_free(&cfg);
}

/* write_file writes `text` to a new temporary file; its path goes into
 * `path` (at least 64 bytes). */
static void
write_file(char *path, const char *text)
{
	strcpy(path, "/tmp/exe-access-config-test-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		abort();
	}
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len) {
		perror("write");
		abort();
	}
	close(fd);
}

static void
defaults(void)
{
	clean_env();
	char *argv[] = {"exe-accessd"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.listen_count, 1);
	EXPECT_STR(cfg.listen[0], "tcp://127.0.0.1:7400");
	EXPECT_INT(cfg.workers, 4);
	EXPECT_INT(cfg.max_in_flight, 256);
	EXPECT_INT(cfg.max_message_bytes, 1048576);
	EXPECT_INT(cfg.drain_timeout_ms, 10000);
	EXPECT_INT(cfg.db_connect_timeout_s, 30);
	EXPECT_STR(cfg.log_level, "info");
	EXPECT_STR(cfg.embedded_user, "postgres");
	EXPECT(cfg.database_url == NULL);
	EXPECT(cfg.hash_key_file == NULL);
	config_free(&cfg);
}

static void
flags_set_values(void)
{
	clean_env();
	char *argv[] = {"exe-accessd", "--workers", "8", "--max-in-flight=32",
	    "--database-url", "postgresql://db/exe", "--log-level", "debug",
	    "--hash-key-file=/etc/exe/key", "--drain-timeout-ms", "0"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.workers, 8);
	EXPECT_INT(cfg.max_in_flight, 32);
	EXPECT_STR(cfg.database_url, "postgresql://db/exe");
	EXPECT_STR(cfg.log_level, "debug");
	EXPECT_STR(cfg.hash_key_file, "/etc/exe/key");
	EXPECT_INT(cfg.drain_timeout_ms, 0);
	/* Untouched options keep their defaults. */
	EXPECT_INT(cfg.listen_count, 1);
	EXPECT_STR(cfg.listen[0], "tcp://127.0.0.1:7400");
	config_free(&cfg);
}

static void
env_sets_values(void)
{
	clean_env();
	setenv("EXE_ACCESS_WORKERS", "12", 1);
	setenv("EXE_ACCESS_LISTEN", "ipc:///tmp/exe-a.sock,tcp://0.0.0.0:7500", 1);
	setenv("EXE_ACCESS_DATABASE_URL", "", 1); /* empty: embedded */
	char *argv[] = {"exe-accessd"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.workers, 12);
	EXPECT_INT(cfg.listen_count, 2);
	EXPECT_STR(cfg.listen[0], "ipc:///tmp/exe-a.sock");
	EXPECT_STR(cfg.listen[1], "tcp://0.0.0.0:7500");
	EXPECT(cfg.database_url == NULL);
	config_free(&cfg);
	clean_env();
}

static void
flags_override_env(void)
{
	clean_env();
	setenv("EXE_ACCESS_WORKERS", "12", 1);
	setenv("EXE_ACCESS_LISTEN", "ipc:///tmp/from-env.sock", 1);
	char *argv[] = {"exe-accessd", "--workers=2", "--listen",
	    "tcp://127.0.0.1:7999"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.workers, 2);
	/* The flag's list replaces the variable's, it does not add to it. */
	EXPECT_INT(cfg.listen_count, 1);
	EXPECT_STR(cfg.listen[0], "tcp://127.0.0.1:7999");
	config_free(&cfg);

	/* Without the flag, the variable wins over the default. */
	char *bare[] = {"exe-accessd"};
	EXPECT_INT(load(&cfg, ARGC(bare), bare, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.workers, 12);
	config_free(&cfg);
	clean_env();
}

static void
repeated_listen_accumulates(void)
{
	clean_env();
	char *argv[] = {"exe-accessd", "--listen", "ipc:///tmp/exe-1.sock",
	    "--workers", "3", "--listen=tcp://127.0.0.1:7401",
	    "--listen", "tcp6://[::1]:7402,tcp4://127.0.0.1:7403"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.listen_count, 4);
	if (cfg.listen_count == 4) {
		EXPECT_STR(cfg.listen[0], "ipc:///tmp/exe-1.sock");
		EXPECT_STR(cfg.listen[1], "tcp://127.0.0.1:7401");
		EXPECT_STR(cfg.listen[2], "tcp6://[::1]:7402");
		EXPECT_STR(cfg.listen[3], "tcp4://127.0.0.1:7403");
	}
	config_free(&cfg);

	/* More than CONFIG_MAX_LISTEN URLs is refused, not truncated. */
	char *many[] = {"exe-accessd", "--listen",
	    "tcp://h:1,tcp://h:2,tcp://h:3,tcp://h:4,tcp://h:5", "--listen",
	    "tcp://h:6,tcp://h:7,tcp://h:8,tcp://h:9"};
	expect_error(ARGC(many), many, "--listen");
}

static void
bad_numbers_name_the_option(void)
{
	clean_env();
	char *abc[] = {"exe-accessd", "--workers", "abc"};
	expect_error(ARGC(abc), abc, "--workers");
	char *zero[] = {"exe-accessd", "--workers=0"};
	expect_error(ARGC(zero), zero, "--workers");
	char *over[] = {"exe-accessd", "--workers=257"};
	expect_error(ARGC(over), over, "--workers");
	char *suffix[] = {"exe-accessd", "--workers", "4x"};
	expect_error(ARGC(suffix), suffix, "--workers");
	char *empty[] = {"exe-accessd", "--workers="};
	expect_error(ARGC(empty), empty, "--workers");
	char *huge[] = {"exe-accessd", "--workers", "99999999999999999999999"};
	expect_error(ARGC(huge), huge, "--workers");
	char *neg[] = {"exe-accessd", "--drain-timeout-ms=-1"};
	expect_error(ARGC(neg), neg, "--drain-timeout-ms");
	char *small[] = {"exe-accessd", "--max-message-bytes", "10"};
	expect_error(ARGC(small), small, "--max-message-bytes");

	/* A bad variable names the option too. */
	setenv("EXE_ACCESS_WORKERS", "lots", 1);
	char *bare[] = {"exe-accessd"};
	expect_error(ARGC(bare), bare, "--workers");
	expect_error(ARGC(bare), bare, "EXE_ACCESS_WORKERS");
	clean_env();
}

static void
listen_must_be_ipc_or_tcp(void)
{
	clean_env();
	char *http[] = {"exe-accessd", "--listen", "http://127.0.0.1:7400"};
	expect_error(ARGC(http), http, "--listen");
	char *bare_addr[] = {"exe-accessd", "--listen=127.0.0.1:7400"};
	expect_error(ARGC(bare_addr), bare_addr, "--listen");
	char *inproc[] = {"exe-accessd", "--listen", "inproc://x"};
	expect_error(ARGC(inproc), inproc, "--listen");
	/* One bad URL among good ones is still refused. */
	char *mixed[] = {"exe-accessd", "--listen", "ipc:///tmp/ok.sock",
	    "--listen", "udp://127.0.0.1:7400"};
	expect_error(ARGC(mixed), mixed, "udp://127.0.0.1:7400");
	/* No URL at all. */
	char *none[] = {"exe-accessd", "--listen", ","};
	expect_error(ARGC(none), none, "--listen");
	setenv("EXE_ACCESS_LISTEN", "ws://127.0.0.1:7400", 1);
	char *bare[] = {"exe-accessd"};
	expect_error(ARGC(bare), bare, "ws://127.0.0.1:7400");
	clean_env();
}

static void
unknown_and_malformed_arguments(void)
{
	clean_env();
	char *unknown[] = {"exe-accessd", "--bogus"};
	expect_error(ARGC(unknown), unknown, "--bogus");
	char *unknown_val[] = {"exe-accessd", "--workers", "2", "--port=7400"};
	expect_error(ARGC(unknown_val), unknown_val, "--port");
	char *missing[] = {"exe-accessd", "--workers"};
	expect_error(ARGC(missing), missing, "--workers");
	char *stray[] = {"exe-accessd", "serve"};
	expect_error(ARGC(stray), stray, "serve");
}

/* expect_good_load wants CONFIG_RUN with `workers` workers. */
static void
expect_good_load(int argc, char **argv, long workers)
{
	struct config cfg;
	char msg[512];
	enum config_result r = load(&cfg, argc, argv, msg, sizeof msg);
	EXPECT_INT(r, CONFIG_RUN);
	if (r != CONFIG_RUN)
		fprintf(stderr, "  message: %s\n", msg);
	EXPECT_INT(cfg.workers, workers);
	config_free(&cfg);
}

static void
unknown_short_option_is_named(void)
{
	clean_env();
	char *single[] = {"exe-accessd", "-x"};
	expect_error(ARGC(single), single, "-x");
	clean_env();
	/* Inside a cluster too: "-xy" is not "exe-accessd". */
	char *cluster[] = {"exe-accessd", "-xy"};
	expect_error(ARGC(cluster), cluster, "-x");
	clean_env();
}

static void
load_again_after_an_error(void)
{
	/* Each config_load starts its own scan of argv, whatever an earlier
	 * one (here one that stopped at an error) left behind. */
	clean_env();
	char *good[] = {"exe-accessd", "--workers", "6"};
	char *unknown[] = {"exe-accessd", "--bogus", "--workers", "5"};
	expect_error(ARGC(unknown), unknown, "--bogus");
	expect_good_load(ARGC(good), good, 6);

	/* Stopped inside a cluster of short options: the rest of the cluster
	 * ("y") must not be read as part of the next argv. */
	char *cluster[] = {"exe-accessd", "-xy"};
	expect_error(ARGC(cluster), cluster, "unknown option");
	expect_good_load(ARGC(good), good, 6);
	clean_env();
}

static void
config_file_sets_values(void)
{
	clean_env();
	char path[64];
	write_file(path,
	    "; exe-accessd settings\n"
	    "workers = 16\n"
	    "listen = ipc:///tmp/exe-file.sock,tcp://127.0.0.1:7411\n"
	    "log-level = warn\n"
	    "database-url = postgresql://file/exe\n");
	char config_flag[80];
	snprintf(config_flag, sizeof config_flag, "--config=%s", path);
	char *argv[] = {"exe-accessd", config_flag};
	struct config cfg;
	char msg[512];
	enum config_result r = load(&cfg, ARGC(argv), argv, msg, sizeof msg);
	EXPECT_INT(r, CONFIG_RUN);
	if (r != CONFIG_RUN)
		fprintf(stderr, "  message: %s\n", msg);
	EXPECT_INT(cfg.workers, 16);
	EXPECT_STR(cfg.log_level, "warn");
	EXPECT_STR(cfg.database_url, "postgresql://file/exe");
	EXPECT_INT(cfg.listen_count, 2);
	if (cfg.listen_count >= 1)
		EXPECT_STR(cfg.listen[0], "ipc:///tmp/exe-file.sock");
	config_free(&cfg);

	/* The variable beats the file, the flag beats both. */
	setenv("EXE_ACCESS_WORKERS", "9", 1);
	EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.workers, 9);
	EXPECT_STR(cfg.log_level, "warn");
	config_free(&cfg);
	char *with_flag[] = {"exe-accessd", config_flag, "--workers", "7"};
	EXPECT_INT(load(&cfg, ARGC(with_flag), with_flag, msg, sizeof msg),
	    CONFIG_RUN);
	EXPECT_INT(cfg.workers, 7);
	config_free(&cfg);
	clean_env();

	/* EXE_ACCESS_CONFIG names the file as well. */
	setenv("EXE_ACCESS_CONFIG", path, 1);
	char *bare[] = {"exe-accessd"};
	EXPECT_INT(load(&cfg, ARGC(bare), bare, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.workers, 16);
	config_free(&cfg);
	clean_env();
	unlink(path);
}

static void
config_file_errors_name_the_file(void)
{
	clean_env();
	char path[64];
	write_file(path, "workers = 2\nbogus-key = 1\n");
	char config_flag[80];
	snprintf(config_flag, sizeof config_flag, "--config=%s", path);
	char *argv[] = {"exe-accessd", config_flag};
	expect_error(ARGC(argv), argv, path);
	expect_error(ARGC(argv), argv, "bogus-key");
	unlink(path);

	write_file(path, "workers = many\n");
	snprintf(config_flag, sizeof config_flag, "--config=%s", path);
	expect_error(ARGC(argv), argv, path);
	expect_error(ARGC(argv), argv, "--workers");
	unlink(path);

	write_file(path, "this line has no equals sign\n");
	snprintf(config_flag, sizeof config_flag, "--config=%s", path);
	expect_error(ARGC(argv), argv, path);
	unlink(path);

	/* A file that is not there. */
	expect_error(ARGC(argv), argv, path);
}

static void
bad_log_level(void)
{
	clean_env();
	char *verbose[] = {"exe-accessd", "--log-level", "verbose"};
	expect_error(ARGC(verbose), verbose, "--log-level");
	char *empty[] = {"exe-accessd", "--log-level="};
	expect_error(ARGC(empty), empty, "--log-level");
	setenv("EXE_ACCESS_LOG_LEVEL", "loud", 1);
	char *bare[] = {"exe-accessd"};
	expect_error(ARGC(bare), bare, "--log-level");
	clean_env();

	static const char *const good[] = {"debug", "info", "warn", "error"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char *argv[] = {"exe-accessd", "--log-level", (char *)good[i]};
		struct config cfg;
		char msg[512];
		EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg),
		    CONFIG_RUN);
		EXPECT_STR(cfg.log_level, good[i]);
		config_free(&cfg);
	}
}

/* --org-creators: any user by default; or a list of user ids, kept in
 * lower case; anything else is refused naming the option. */
static void
org_creators(void)
{
	clean_env();
	char *bare[] = {"exe-accessd"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(bare), bare, msg, sizeof msg), CONFIG_RUN);
	EXPECT_STR(cfg.org_creators, "any-user");
	EXPECT(!cfg.org_creators_listed);
	EXPECT_INT(cfg.org_creator_count, 0);
	config_free(&cfg);

	char *two[] = {"exe-accessd", "--org-creators",
	    "3C764F00-52C9-4E0C-BF7D-1F1335D459DD, "
	    "0b0e5b57-7a0e-4c2c-9b53-5d0a7e3f1c11"};
	EXPECT_INT(load(&cfg, ARGC(two), two, msg, sizeof msg), CONFIG_RUN);
	EXPECT(cfg.org_creators_listed);
	EXPECT_INT(cfg.org_creator_count, 2);
	EXPECT_STR(cfg.org_creator_ids[0], "3c764f00-52c9-4e0c-bf7d-1f1335d459dd");
	EXPECT_STR(cfg.org_creator_ids[1], "0b0e5b57-7a0e-4c2c-9b53-5d0a7e3f1c11");
	config_free(&cfg);

	setenv("EXE_ACCESS_ORG_CREATORS", "0b0e5b57-7a0e-4c2c-9b53-5d0a7e3f1c11", 1);
	EXPECT_INT(load(&cfg, ARGC(bare), bare, msg, sizeof msg), CONFIG_RUN);
	EXPECT(cfg.org_creators_listed);
	EXPECT_INT(cfg.org_creator_count, 1);
	config_free(&cfg);
	clean_env();

	const char *bad[] = {"", "anyone", "any-user,", "nope",
	    "3c764f00-52c9-4e0c-bf7d-1f1335d459dd,,",
	    "3c764f00-52c9-4e0c-bf7d-1f1335d459dd;0b0e5b57-7a0e-4c2c-9b53-"
	    "5d0a7e3f1c11",
	    /* The same user twice, whatever the case. */
	    "3c764f00-52c9-4e0c-bf7d-1f1335d459dd, "
	    "3C764F00-52C9-4E0C-BF7D-1F1335D459DD"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char flag[200];
		snprintf(flag, sizeof flag, "--org-creators=%s", bad[i]);
		char *argv[] = {"exe-accessd", flag};
		expect_error(ARGC(argv), argv, "--org-creators");
	}
}

static void
version_exits(void)
{
	clean_env();
	char *argv[] = {"exe-accessd", "--version"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(argv), argv, msg, sizeof msg), CONFIG_EXIT);
	config_free(&cfg);
	fflush(stdout);
}

/* Read replicas: each flag is one connection string (commas and spaces
 * and all, as libpq's multi-host strings have them); the variable and the
 * file separate several with commas; flags replace the variable's list. */
static void
read_database_urls(void)
{
	clean_env();
	char *flags[] = {"exe-accessd", "--database-url=host=p dbname=x",
	    "--read-database-url", "host=s1,s2 dbname=x target_session_attrs=standby",
	    "--read-database-url=postgresql://s3/x"};
	struct config cfg;
	char msg[512];
	EXPECT_INT(load(&cfg, ARGC(flags), flags, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.read_database_url_count, 2);
	EXPECT_STR(cfg.read_database_urls[0],
	    "host=s1,s2 dbname=x target_session_attrs=standby");
	EXPECT_STR(cfg.read_database_urls[1], "postgresql://s3/x");
	EXPECT_INT(cfg.read_max_lag_ms, 1000);
	config_free(&cfg);

	clean_env();
	setenv("EXE_ACCESS_READ_DATABASE_URL",
	    "host=s1 dbname=x , postgresql://s2/x,,", 1);
	setenv("EXE_ACCESS_READ_MAX_LAG_MS", "250", 1);
	char *bare[] = {"exe-accessd", "--database-url=host=p"};
	EXPECT_INT(load(&cfg, ARGC(bare), bare, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.read_database_url_count, 2);
	EXPECT_STR(cfg.read_database_urls[0], "host=s1 dbname=x");
	EXPECT_STR(cfg.read_database_urls[1], "postgresql://s2/x");
	EXPECT_INT(cfg.read_max_lag_ms, 250);
	config_free(&cfg);

	char *one[] = {"exe-accessd", "--database-url=host=p",
	    "--read-database-url=host=s9"};
	EXPECT_INT(load(&cfg, ARGC(one), one, msg, sizeof msg), CONFIG_RUN);
	EXPECT_INT(cfg.read_database_url_count, 1);
	EXPECT_STR(cfg.read_database_urls[0], "host=s9");
	config_free(&cfg);

	clean_env();
	setenv("EXE_ACCESS_READ_DATABASE_URL", "a,b,c,d,e,f,g,h,i", 1);
	expect_error(ARGC(bare), bare, "--read-database-url: at most 8");
	clean_env();
	char *embedded[] = {"exe-accessd", "--read-database-url=host=s1"};
	expect_error(ARGC(embedded), embedded, "needs --database-url");
	char *lag[] = {"exe-accessd", "--read-max-lag-ms=50"};
	expect_error(ARGC(lag), lag, "--read-max-lag-ms");
}

static const struct unit_case cases[] = {
	{"defaults", defaults},
	{"flags_set_values", flags_set_values},
	{"env_sets_values", env_sets_values},
	{"flags_override_env", flags_override_env},
	{"repeated_listen_accumulates", repeated_listen_accumulates},
	{"bad_numbers_name_the_option", bad_numbers_name_the_option},
	{"listen_must_be_ipc_or_tcp", listen_must_be_ipc_or_tcp},
	{"unknown_and_malformed_arguments", unknown_and_malformed_arguments},
	{"unknown_short_option_is_named", unknown_short_option_is_named},
	{"load_again_after_an_error", load_again_after_an_error},
	{"config_file_sets_values", config_file_sets_values},
	{"config_file_errors_name_the_file", config_file_errors_name_the_file},
	{"bad_log_level", bad_log_level},
	{"version_exits", version_exits},
	{"org_creators", org_creators},
	{"read_database_urls", read_database_urls},
};

UNIT_MAIN(cases)
