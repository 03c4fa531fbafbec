/* Versioned schema migrations, embedded in the binary from
 * service/migrations/NNN_name.sql and applied at start. Several replicas may
 * start at once: a PostgreSQL advisory lock lets one apply while the others
 * wait, then find nothing left to do. */
#ifndef EXE_MIGRATE_H
#define EXE_MIGRATE_H

#include <libpq-fe.h>
#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* migrate_all lists every migration in version order (generated). */
extern const struct migration migrate_all[];
extern const size_t migrate_count;

/* migrate_run applies every migration the database lacks, each in its own
 * transaction, under the advisory lock. The migration that adds the
 * activity chain also hashes the records it finds, with `activity_key`
 * (CHAIN_KEY_BYTES), in its transaction. Returns a status code; on
 * failure writes a message naming the migration into `msg`. */
int migrate_run(PGconn *conn, const unsigned char *activity_key, char *msg,
    size_t msg_size)
    __attribute__((warn_unused_result));

/* migrate_latest is the highest version this binary knows. */
int migrate_latest(void);

#endif
