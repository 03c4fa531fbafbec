/* Option table and its four readers: defaults, ini file, environment, flags. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "rpc/tokens.h"
#include "rpc/validate.h"

/* OPT_LIST: the listen URLs; OPT_URLS: the read database URLs, each flag
 * one connection string (which may hold commas, as libpq's multi-host
 * ones do), comma-separated in the variable and the file. */
enum opt_type { OPT_STRING, OPT_LONG, OPT_LIST, OPT_URLS };

struct opt {
	const char *name;
	enum opt_type type;
	size_t offset;
	const char *def; /* NULL: unset */
	long min, max;
	const char *help;
};

#define FIELD(f) offsetof(struct config, f)

/* clang-format off */
static const struct opt opts[] = {
	{"listen", OPT_LIST, FIELD(listen), "tcp://127.0.0.1:7400", 0, 0,
	 "URL to serve on: ipc://PATH, tcp://HOST:PORT or tls+tcp://HOST:PORT; "
	 "repeat for several (comma-separated in the variable and the file)"},
	{"tls-cert", OPT_STRING, FIELD(tls_cert), NULL, 0, 0,
	 "PEM certificate (chain) presented on tls+tcp:// URLs"},
	{"tls-key", OPT_STRING, FIELD(tls_key), NULL, 0, 0,
	 "PEM private key of --tls-cert"},
	{"database-url", OPT_STRING, FIELD(database_url), NULL, 0, 0,
	 "PostgreSQL connection string; unset: start a private PostgreSQL "
	 "under --data-dir"},
	{"read-database-url", OPT_URLS, FIELD(read_database_urls), NULL, 0, 0,
	 "connection string of a hot standby of the database that serves "
	 "pure reads (checks, lists); repeat for several (comma-separated in "
	 "the variable and the file), at most 8"},
	{"read-max-lag-ms", OPT_LONG, FIELD(read_max_lag_ms), "1000", 200,
	 60000, "a standby that lags the primary by more than this is not "
	 "read from until it catches up"},
	{"data-dir", OPT_STRING, FIELD(data_dir), NULL, 0, 0,
	 "directory of the embedded PostgreSQL and its hash key (default "
	 "/var/lib/exe-access as root, else ~/.local/share/exe-access)"},
	{"embedded-user", OPT_STRING, FIELD(embedded_user), "postgres", 0, 0,
	 "account that runs the embedded PostgreSQL when started as root"},
	{"hash-key-file", OPT_STRING, FIELD(hash_key_file), NULL, 0, 0,
	 "file holding the 64-hex-digit key that secrets are hashed with; "
	 "required with --database-url (embedded default: created in --data-dir)"},
	{"activity-key-file", OPT_STRING, FIELD(activity_key_file), NULL, 0, 0,
	 "file holding the 64-hex-digit key that chains the activity log "
	 "(not the hash key); required with --database-url, the same on "
	 "every replica (embedded default: created in --data-dir)"},
	{"token-file", OPT_STRING, FIELD(token_file), NULL, 0, 0,
	 "file of callers' token hashes, `name scope hash` a line (make "
	 "lines with --mint-token); required with --database-url (embedded "
	 "default: created in --data-dir with a development admin token)"},
	{"workers", OPT_LONG, FIELD(workers), "4", 1, 256,
	 "database worker threads, one PostgreSQL connection each"},
	{"max-in-flight", OPT_LONG, FIELD(max_in_flight), "256", 1, 65536,
	 "requests served at once; more wait in the socket"},
	{"max-in-flight-per-caller", OPT_LONG, FIELD(max_in_flight_per_caller),
	 "128", 0, 65536, "requests one caller (token name) may have in "
	 "flight; more get RESOURCE_EXHAUSTED; 0: no limit"},
	{"max-connections", OPT_LONG, FIELD(max_connections), "4096", 0,
	 1000000, "connections open at once; one more is closed as soon as "
	 "it connects; 0: no limit but the open-file limit"},
	{"recv-timeout-ms", OPT_LONG, FIELD(recv_timeout_ms), "60000", 0,
	 86400000, "a connection with no request in progress that delivers "
	 "no whole request for this long is closed (a peer stalled in the "
	 "middle of a message, or idle: clients reconnect), and so is a "
	 "tls+tcp:// connection whose handshake is not done by then; 0: never"},
	{"max-message-bytes", OPT_LONG, FIELD(max_message_bytes), "1048576",
	 1024, 67108864, "largest request accepted; larger gets RESOURCE_EXHAUSTED"},
	{"listener-probe-ms", OPT_LONG, FIELD(listener_probe_ms), "1000", 0,
	 60000, "how often ipc:// and tls+tcp:// listeners are checked to "
	 "still accept connections (nng 1.5.2 can stall them); 0: never"},
	{"drain-timeout-ms", OPT_LONG, FIELD(drain_timeout_ms), "10000", 0,
	 600000, "on SIGTERM, how long to wait for in-flight requests"},
	{"exit-timeout-ms", OPT_LONG, FIELD(exit_timeout_ms), "5000", 0,
	 600000, "after the drain, how long closing threads, sockets and "
	 "connections may take before the process stops its embedded "
	 "PostgreSQL and exits anyway (logged as shutdown_stalled); 0: no "
	 "limit"},
	{"db-connect-timeout", OPT_LONG, FIELD(db_connect_timeout_s), "30", 0,
	 3600, "seconds start-up waits for PostgreSQL to accept connections"},
	{"cache-size", OPT_LONG, FIELD(cache_size), "100000", 0, 50000000,
	 "authorization cache entries (memberships, API keys, resources); "
	 "0 disables the cache"},
	{"cache-refresh-ms", OPT_LONG, FIELD(cache_refresh_ms), "100", 5,
	 60000, "how often the change log is read when no notification "
	 "arrives"},
	{"cache-max-staleness-ms", OPT_LONG, FIELD(cache_max_staleness_ms),
	 "1000", 50, 600000, "the cache is not used when the change log could "
	 "not be read for this long: the bound on a cached answer's age"},
	{"activity-anchor-interval-s", OPT_LONG,
	 FIELD(activity_anchor_interval_s), "60", 0, 86400,
	 "how often the activity log's head (its length and newest hash) is "
	 "read, logged as activity_head and shown in /metrics, to be kept "
	 "elsewhere; 0: never"},
	{"change-log-max-age-s", OPT_LONG, FIELD(change_log_max_age_s),
	 "604800", 0, 315360000, "changes older than this many seconds are "
	 "pruned from the change log (7 days); a reader behind them must "
	 "resynchronise; 0: no age limit"},
	{"change-log-max-rows", OPT_LONG, FIELD(change_log_max_rows),
	 "1000000", 0, 1000000000000, "the change log keeps at most this "
	 "many of the newest changes; 0: no count limit (both 0: never "
	 "pruned)"},
	{"metrics-address", OPT_STRING, FIELD(metrics_address), NULL, 0, 0,
	 "http://HOST:PORT serving /healthz, /readyz and /metrics; unset: "
	 "off"},
	{"publish", OPT_STRING, FIELD(publish), NULL, 0, 0,
	 "ipc:// or tcp:// URL of an nng pub0 socket on which each new "
	 "revision is published as a wake-up hint for subscribers (the "
	 "client library's local cache); unset: off"},
	{"log-level", OPT_STRING, FIELD(log_level), "info", 0, 0,
	 "debug, info, warn or error"},
	{"org-creators", OPT_STRING, FIELD(org_creators), "any-user", 0, 0,
	 "who may create organisations (CreateOrganization): any-user, or "
	 "the user ids that may, comma-separated (at most 64)"},
};
/* clang-format on */

enum { NOPTS = sizeof opts / sizeof opts[0], OPT_HELP = 1000, OPT_VERSION,
	OPT_CONFIG, OPT_MINT };

/* org_creators_parse reads --org-creators: "any-user", or user ids
 * (comma-separated, blanks around them ignored), kept in lower case. */
static int
org_creators_parse(struct config *cfg, char *msg, size_t msg_size)
{
	cfg->org_creators_listed = false;
	cfg->org_creator_count = 0;
	if (strcmp(cfg->org_creators, "any-user") == 0)
		return 0;
	cfg->org_creators_listed = true;
	for (const char *p = cfg->org_creators;;) {
		p += strspn(p, " \t");
		size_t len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		char id[37];
		unsigned char bytes[16];
		bool ok = len == 36;
		if (ok) {
			memcpy(id, p, 36);
			id[36] = '\0';
			ok = validate_uuid_bytes(id, bytes);
		}
		if (!ok) {
			snprintf(msg, msg_size,
			    "--org-creators: \"%.*s\" is not a user id; give "
			    "any-user, or user ids separated by commas",
			    (int)(len < 64 ? len : 64), p);
			return -1;
		}
		if (cfg->org_creator_count == CONFIG_MAX_ORG_CREATORS) {
			snprintf(msg, msg_size,
			    "--org-creators: more than %d user ids",
			    CONFIG_MAX_ORG_CREATORS);
			return -1;
		}
		for (size_t i = 0; i < 36; i++)
			id[i] = (char)tolower((unsigned char)id[i]);
		for (size_t i = 0; i < cfg->org_creator_count; i++) {
			if (strcmp(cfg->org_creator_ids[i], id) == 0) {
				snprintf(msg, msg_size,
				    "--org-creators: %s is listed twice", id);
				return -1;
			}
		}
		memcpy(cfg->org_creator_ids[cfg->org_creator_count++], id, 37);
		p += strcspn(p, ",");
		if (*p == '\0')
			return 0;
		p++;
	}
}

static void
env_name(const struct opt *o, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "EXE_ACCESS_");
	for (const char *p = o->name; *p != '\0' && n + 1 < size; p++)
		out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	out[n] = '\0';
}

static void
list_clear(struct config *cfg)
{
	for (size_t i = 0; i < cfg->listen_count; i++)
		free(cfg->listen[i]);
	cfg->listen_count = 0;
}

static void
urls_clear(struct config *cfg)
{
	for (size_t i = 0; i < cfg->read_database_url_count; i++)
		free(cfg->read_database_urls[i]);
	cfg->read_database_url_count = 0;
}

/* urls_add appends one URL, trimmed of surrounding blanks (an empty one
 * is skipped). */
static int
urls_add(struct config *cfg, const struct opt *o, const char *url,
    size_t len, const char *source, char *msg, size_t msg_size)
{
	while (len > 0 && (*url == ' ' || *url == '\t')) {
		url++;
		len--;
	}
	while (len > 0 && (url[len - 1] == ' ' || url[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0;
	if (cfg->read_database_url_count == CONFIG_MAX_READ_URLS) {
		snprintf(msg, msg_size, "%s: --%s: at most %d URLs", source,
		    o->name, CONFIG_MAX_READ_URLS);
		return -1;
	}
	cfg->read_database_urls[cfg->read_database_url_count++] =
	    strndup(url, len);
	return 0;
}

/* set_value stores `value` for option `o`; `append` adds to a list instead
 * of replacing it. Returns 0, or -1 with `msg` naming the problem. */
static int
set_value(struct config *cfg, const struct opt *o, const char *value,
    const char *source, bool append, char *msg, size_t msg_size)
{
	void *field = (char *)cfg + o->offset;
	switch (o->type) {
	case OPT_STRING: {
		char **s = field;
		free(*s);
		*s = strdup(value);
		return 0;
	}
	case OPT_LONG: {
		errno = 0;
		char *end;
		long v = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < o->min ||
		    v > o->max) {
			snprintf(msg, msg_size,
			    "%s: --%s must be a whole number from %ld to %ld, "
			    "not \"%s\"", source, o->name, o->min, o->max, value);
			return -1;
		}
		*(long *)field = v;
		return 0;
	}
	case OPT_URLS: {
		if (!append)
			urls_clear(cfg);
		if (strcmp(source, "flag") == 0)
			return urls_add(cfg, o, value, strlen(value), source, msg,
			    msg_size);
		for (const char *p = value;;) {
			size_t n = strcspn(p, ",");
			if (urls_add(cfg, o, p, n, source, msg, msg_size) != 0)
				return -1;
			if (p[n] == '\0')
				return 0;
			p += n + 1;
		}
	}
	case OPT_LIST: {
		if (!append)
			list_clear(cfg);
		char *copy = strdup(value);
		char *save = NULL;
		for (char *tok = strtok_r(copy, ", \t", &save); tok != NULL;
		     tok = strtok_r(NULL, ", \t", &save)) {
			if (cfg->listen_count == CONFIG_MAX_LISTEN) {
				snprintf(msg, msg_size, "%s: --%s: at most %d URLs",
				    source, o->name, CONFIG_MAX_LISTEN);
				free(copy);
				return -1;
			}
			cfg->listen[cfg->listen_count++] = strdup(tok);
		}
		free(copy);
		return 0;
	}
	}
	return -1;
}

struct ini_ctx {
	struct config *cfg;
	char *msg;
	size_t msg_size;
	const char *path;
	bool failed;
};

static int
ini_cb(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	(void)section;
	for (size_t i = 0; i < NOPTS; i++) {
		if (strcmp(opts[i].name, name) == 0) {
			if (set_value(ctx->cfg, &opts[i], value, ctx->path, false,
			        ctx->msg, ctx->msg_size) != 0) {
				ctx->failed = true;
				return 0;
			}
			return 1;
		}
	}
	snprintf(ctx->msg, ctx->msg_size, "%s: unknown option \"%s\"", ctx->path,
	    name);
	ctx->failed = true;
	return 0;
}

/* mint prints a new caller token and its token-file line for
 * --mint-token NAME:SCOPE. */
static enum config_result
mint(const char *arg, char *msg, size_t msg_size)
{
	const char *colon = strchr(arg, ':');
	size_t name_len = colon != NULL ? (size_t)(colon - arg) : 0;
	const char *scope = colon != NULL ? colon + 1 : "";
	if (name_len == 0 || name_len > TOKENS_NAME_MAX ||
	    strcspn(arg, " \t#") < name_len ||
	    (strcmp(scope, "check") != 0 && strcmp(scope, "admin") != 0)) {
		snprintf(msg, msg_size,
		    "--mint-token: expected NAME:check or NAME:admin (NAME at "
		    "most %d characters, no spaces), not \"%s\"", TOKENS_NAME_MAX,
		    arg);
		return CONFIG_ERROR;
	}
	char token[TOKENS_LEN + 1], hash[TOKENS_HASH_HEX + 1];
	tokens_mint(token, hash);
	printf("token (give it to the caller; it is not stored): %s\n"
	       "line for the token file: %.*s %s %s\n",
	    token, (int)name_len, arg, scope, hash);
	sodium_memzero(token, sizeof token);
	return CONFIG_EXIT;
}

void
config_usage(FILE *out)
{
	fprintf(out,
	    "Usage: exe-accessd [OPTION]...\n"
	    "ExE Access: who may do what on the ExE platform.\n\n"
	    "Every option can also be set by the EXE_ACCESS_* variable shown, "
	    "or as\n`name = value` in the file given by --config "
	    "(EXE_ACCESS_CONFIG).\nFlags win over variables, variables over "
	    "the file.\n\n");
	for (size_t i = 0; i < NOPTS; i++) {
		char env[64];
		env_name(&opts[i], env, sizeof env);
		fprintf(out, "  --%s=VALUE  (%s)\n      %s", opts[i].name, env,
		    opts[i].help);
		if (opts[i].def != NULL)
			fprintf(out, "; default: %s", opts[i].def);
		fprintf(out, "\n");
	}
	fprintf(out, "  --config=FILE  (EXE_ACCESS_CONFIG)\n"
	             "      ini file of the options above\n"
	             "  --mint-token=NAME:SCOPE\n"
	             "      print a new caller token (scope check or admin) "
	             "and its token-file line, and exit\n"
	             "  --help     print this and exit\n"
	             "  --version  print the version and exit\n");
}

enum config_result
config_load(struct config *cfg, int argc, char **argv, char *msg,
    size_t msg_size)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].def != NULL &&
		    set_value(cfg, &opts[i], opts[i].def, "default", false, msg,
		        msg_size) != 0)
			return CONFIG_ERROR;
	}

	struct option longopts[NOPTS + 5];
	for (size_t i = 0; i < NOPTS; i++)
		longopts[i] = (struct option){opts[i].name, required_argument,
		    NULL, (int)i};
	longopts[NOPTS] = (struct option){"help", no_argument, NULL, OPT_HELP};
	longopts[NOPTS + 1] = (struct option){"version", no_argument, NULL,
	    OPT_VERSION};
	longopts[NOPTS + 2] = (struct option){"config", required_argument, NULL,
	    OPT_CONFIG};
	longopts[NOPTS + 3] = (struct option){"mint-token", required_argument,
	    NULL, OPT_MINT};
	longopts[NOPTS + 4] = (struct option){NULL, 0, NULL, 0};

	/* First pass: --help, --version and --config, which decide what the
	 * other sources are. */
	const char *config_file = getenv("EXE_ACCESS_CONFIG");
	opterr = 0;
	optind = 0; /* 0, not 1: also forgets a half-read "-xy" cluster */
	int c;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == OPT_HELP) {
			config_usage(stdout);
			return CONFIG_EXIT;
		}
		if (c == OPT_VERSION) {
			printf("exe-accessd %s\n", EXE_ACCESS_VERSION);
			return CONFIG_EXIT;
		}
		if (c == OPT_CONFIG)
			config_file = optarg;
		if (c == OPT_MINT)
			return mint(optarg, msg, msg_size);
		if (c == '?') {
			if (optopt != 0)
				snprintf(msg, msg_size,
				    "unknown option \"-%c\" (see --help)", optopt);
			else
				snprintf(msg, msg_size,
				    "unknown option \"%s\" (see --help)",
				    argv[optind - 1]);
			return CONFIG_ERROR;
		}
		if (c == ':') {
			snprintf(msg, msg_size, "option \"%s\" needs a value",
			    argv[optind - 1]);
			return CONFIG_ERROR;
		}
	}
	if (optind < argc) {
		snprintf(msg, msg_size, "unexpected argument \"%s\" (see --help)",
		    argv[optind]);
		return CONFIG_ERROR;
	}

	if (config_file != NULL && config_file[0] != '\0') {
		struct ini_ctx ctx = {cfg, msg, msg_size, config_file, false};
		int line = ini_parse(config_file, ini_cb, &ctx);
		if (line < 0) {
			snprintf(msg, msg_size, "--config: cannot read %s",
			    config_file);
			return CONFIG_ERROR;
		}
		if (ctx.failed)
			return CONFIG_ERROR;
		if (line > 0) {
			snprintf(msg, msg_size, "%s:%d: not `name = value`",
			    config_file, line);
			return CONFIG_ERROR;
		}
	}

	for (size_t i = 0; i < NOPTS; i++) {
		char env[64];
		env_name(&opts[i], env, sizeof env);
		const char *v = getenv(env);
		if (v != NULL &&
		    set_value(cfg, &opts[i], v, env, false, msg, msg_size) != 0)
			return CONFIG_ERROR;
	}

	optind = 0;
	bool listen_from_flags = false, urls_from_flags = false;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c < 0 || c >= (int)NOPTS)
			continue;
		bool append = (opts[c].type == OPT_LIST && listen_from_flags) ||
		    (opts[c].type == OPT_URLS && urls_from_flags);
		if (set_value(cfg, &opts[c], optarg, "flag", append, msg,
		        msg_size) != 0)
			return CONFIG_ERROR;
		if (opts[c].type == OPT_LIST)
			listen_from_flags = true;
		if (opts[c].type == OPT_URLS)
			urls_from_flags = true;
	}

	if (cfg->listen_count == 0) {
		snprintf(msg, msg_size, "--listen: at least one URL is needed");
		return CONFIG_ERROR;
	}
	bool tls = false;
	for (size_t i = 0; i < cfg->listen_count; i++) {
		const char *u = cfg->listen[i];
		bool is_tls = strncmp(u, "tls+tcp://", 10) == 0 ||
		    strncmp(u, "tls+tcp4://", 11) == 0 ||
		    strncmp(u, "tls+tcp6://", 11) == 0;
		tls |= is_tls;
		if (!is_tls && strncmp(u, "ipc://", 6) != 0 &&
		    strncmp(u, "tcp://", 6) != 0 && strncmp(u, "tcp4://", 7) != 0 &&
		    strncmp(u, "tcp6://", 7) != 0) {
			snprintf(msg, msg_size,
			    "--listen: \"%s\" is not an ipc://, tcp:// or "
			    "tls+tcp:// URL", u);
			return CONFIG_ERROR;
		}
	}
	if (tls && (cfg->tls_cert == NULL || cfg->tls_key == NULL)) {
		snprintf(msg, msg_size,
		    "--tls-cert and --tls-key are required for tls+tcp:// URLs");
		return CONFIG_ERROR;
	}
	if (cfg->cache_max_staleness_ms <= cfg->cache_refresh_ms) {
		snprintf(msg, msg_size,
		    "--cache-max-staleness-ms (%ld) must be more than "
		    "--cache-refresh-ms (%ld)", cfg->cache_max_staleness_ms,
		    cfg->cache_refresh_ms);
		return CONFIG_ERROR;
	}
	if (org_creators_parse(cfg, msg, msg_size) != 0)
		return CONFIG_ERROR;
	enum log_level level;
	if (log_level_parse(cfg->log_level, &level) != 0) {
		snprintf(msg, msg_size,
		    "--log-level: \"%s\" is not debug, info, warn or error",
		    cfg->log_level);
		return CONFIG_ERROR;
	}
	if (cfg->database_url != NULL && cfg->database_url[0] == '\0') {
		free(cfg->database_url);
		cfg->database_url = NULL;
	}
	if (cfg->read_database_url_count > 0 && cfg->database_url == NULL) {
		snprintf(msg, msg_size,
		    "--read-database-url needs --database-url: the embedded "
		    "default has no standbys");
		return CONFIG_ERROR;
	}
	return CONFIG_RUN;
}

void
config_free(struct config *cfg)
{
	list_clear(cfg);
	urls_clear(cfg);
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].type == OPT_STRING) {
			char **s = (char **)((char *)cfg + opts[i].offset);
			free(*s);
			*s = NULL;
		}
	}
}
