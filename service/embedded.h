/* The embedded default: with no database URL, exe-accessd runs a private
 * PostgreSQL cluster under its data directory. It initializes the cluster
 * on first start (initdb), starts it (pg_ctl) listening on a Unix socket
 * only, creates the database, writes the hash key, and stops the cluster
 * on exit if it started it. Run as root, PostgreSQL (which refuses root)
 * runs as an unprivileged account, `postgres` by default. */
#ifndef EXE_EMBEDDED_H
#define EXE_EMBEDDED_H

#include <stddef.h>

#include "config.h"

struct embedded;

/* embedded_start brings the private cluster up. Returns 0, or -1 with the
 * reason in `msg`. */
int embedded_start(struct embedded **out, const struct config *cfg,
    char *msg, size_t msg_size) __attribute__((warn_unused_result));

/* embedded_conninfo is the libpq connection string of the cluster. */
const char *embedded_conninfo(const struct embedded *e);

/* embedded_hash_key_file is the path of the hash key in the data dir. */
const char *embedded_hash_key_file(const struct embedded *e);

/* embedded_activity_key_file is the path of the activity key in the data
 * dir. */
const char *embedded_activity_key_file(const struct embedded *e);

/* embedded_token_file is the token file in the data dir. On first start
 * it is created with one development admin token, whose secret is written
 * (mode 0600) to embedded_dev_token_file, so the quick start works in one
 * command: EXE_ACCESS_TOKEN=$(cat <data-dir>/dev-token). */
const char *embedded_token_file(const struct embedded *e);
const char *embedded_dev_token_file(const struct embedded *e);

/* embedded_stop stops the cluster if this process started it, and frees
 * `e`. NULL is fine. */
void embedded_stop(struct embedded *e);

#endif
