/* exe-accessd's configuration. One table of options drives the command-line
 * flags (getopt_long), the EXE_ACCESS_* environment variables, the optional
 * ini file (--config) and --help. Precedence, lowest first: built-in
 * defaults, the config file, the environment, the flags. */
#ifndef EXE_CONFIG_H
#define EXE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum { CONFIG_MAX_LISTEN = 8, CONFIG_MAX_READ_URLS = 8,
	CONFIG_MAX_ORG_CREATORS = 64 };

struct config {
	char *listen[CONFIG_MAX_LISTEN];
	size_t listen_count;
	char *database_url;        /* NULL: the embedded default */
	/* Hot standbys that serve pure reads (--read-database-url). */
	char *read_database_urls[CONFIG_MAX_READ_URLS];
	size_t read_database_url_count;
	long read_max_lag_ms;      /* a standby lagging more is not read */
	char *data_dir;            /* embedded PostgreSQL and its secrets */
	char *embedded_user;       /* account that runs PostgreSQL when root */
	char *hash_key_file;       /* server-side key for secret hashes */
	char *activity_key_file;   /* key of the activity log's hash chain */
	char *token_file;          /* callers' token hashes */
	char *log_level;
	char *metrics_address;     /* http://HOST:PORT; NULL: off */
	char *publish;             /* pub0 URL for change hints; NULL: off */
	char *tls_cert;            /* PEM certificate chain for tls+tcp:// */
	char *tls_key;             /* its PEM private key */
	long workers;              /* database connections */
	long max_in_flight;        /* requests served at once */
	long max_in_flight_per_caller; /* one caller's share; 0: no limit */
	long max_message_bytes;
	long max_connections;      /* open at once; 0: no limit */
	long recv_timeout_ms;      /* idle or stalled connections; 0: never */
	long drain_timeout_ms;
	long exit_timeout_ms;
	long listener_probe_ms;    /* listener watchdog interval; 0: off */
	long db_connect_timeout_s; /* how long start-up waits for PostgreSQL */
	long cache_size;           /* entries; 0 disables the cache */
	long cache_refresh_ms;     /* change-log poll interval */
	long cache_max_staleness_ms; /* no sync for this long: stop using it */
	long change_log_max_age_s;   /* retention by age; 0: none */
	long change_log_max_rows;    /* retention by count; 0: none */
	long activity_anchor_interval_s; /* activity head read/logged; 0: off */
	/* Who may create organisations: "any-user", or user ids, comma-
	 * separated (--org-creators). config_load parses the ids into
	 * org_creator_ids (lower case); org_creators_listed says which. */
	char *org_creators;
	bool org_creators_listed;
	char org_creator_ids[CONFIG_MAX_ORG_CREATORS][37];
	size_t org_creator_count;
};

enum config_result {
	CONFIG_RUN,   /* start the service */
	CONFIG_EXIT,  /* --help or --version was printed; exit 0 */
	CONFIG_ERROR, /* a bad value; the message is in `msg` */
};

/* config_load fills `cfg` from defaults, file, environment and argv.
 * On CONFIG_ERROR `msg` names the option and the problem. */
enum config_result config_load(struct config *cfg, int argc, char **argv,
    char *msg, size_t msg_size) __attribute__((warn_unused_result));

/* config_free releases every string config_load allocated. */
void config_free(struct config *cfg);

/* config_usage prints --help: every option, its variable and its default. */
void config_usage(FILE *out);

#endif
