/* The population a benchmark works on, read from the service's database
 * with libpq: random samples of memberships, users, and the (workspace,
 * actor, user) triples that administrative calls need. */
#ifndef EXA_BENCH_POPULATION_H
#define EXA_BENCH_POPULATION_H

#include <stddef.h>

/* A table of short text cells (UUIDs, role names): rows × cols cells of at
 * most 36 characters, row-major. */
struct id_table {
	size_t rows;
	size_t cols;
	char (*cells)[37];
};

enum population_kind {
	/* (user_id, workspace_id) of existing memberships, in random order. */
	POPULATION_MEMBERSHIPS,
	/* (user_id) of users, in random order. */
	POPULATION_USERS,
	/* (workspace_id, actor_user_id, user_id): a team workspace, an admin
	 * of its organisation, and a user who is not yet a member; distinct
	 * pairs, in random order. */
	POPULATION_ADD_MEMBER,
	/* (workspace_id, actor_user_id, user_id, role): a non-admin member of
	 * a team workspace and an admin of its organisation who is not that
	 * member; role is "member" or "read_only". */
	POPULATION_CHANGE_ROLE,
	/* (user_id, resource_type, resource_id): a team resource and a
	 * non-admin member of its workspace who holds no grant there. */
	POPULATION_RESOURCES,
	/* (user_id, resource_type, resource_id) of existing grants. */
	POPULATION_GRANTED,
};

/* id_table_cell returns the cell at (row, col). */
static inline const char *
id_table_cell(const struct id_table *t, size_t row, size_t col)
{
	return t->cells[row * t->cols + col];
}

/* id_table_fini frees the cells; a zeroed table is fine. */
void id_table_fini(struct id_table *t);

/* population_read samples at most `limit` rows of `kind` from the database
 * at `conninfo` into *out (free with id_table_fini). The same `seed` and
 * limit give the same rows in the same order while the tables are
 * unchanged. Returns 0, or -1 with a message; fewer rows than asked for is
 * not an error. */
__attribute__((warn_unused_result)) int population_read(const char *conninfo,
    enum population_kind kind, size_t limit, unsigned seed,
    struct id_table *out, char *msg, size_t msg_size);

#endif
