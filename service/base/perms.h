/* The permission table of SPEC R5, in one place, as data: which role holds
 * which permission in a team workspace. A personal workspace's owner holds
 * every permission; an API key acts with the member column (or read_only
 * for a read-only key) and never holds a management permission. */
#ifndef EXE_PERMS_H
#define EXE_PERMS_H

#include <stdbool.h>
#include <stddef.h>

enum role {
	ROLE_NONE = 0,
	ROLE_ADMIN = 1,
	ROLE_MEMBER = 2,
	ROLE_READ_ONLY = 3,
};

struct permission {
	const char *name;
	bool admin;
	bool member;
	bool read_only;
	/* Managing members, keys or settings: never held by an API key. */
	bool management;
	/* The resource type it acts on ("experiment", "dataset",
	 * "project"), or NULL for a permission on the workspace itself. */
	const char *resource_type;
};

/* perms_all is the table itself, in the order of SPEC R5; perms_count rows. */
extern const struct permission perms_all[];
extern const size_t perms_count;

/* perms_find returns the row named `name`, or NULL for no such permission. */
const struct permission *perms_find(const char *name);

/* perms_role_has says whether `role` holds `perm` in a team workspace. */
bool perms_role_has(enum role role, const struct permission *perm);

/* perms_of_workspace says whether `perm` is the workspace's own, acting
 * on no resource (resource_type NULL: workspace.*, members.*, api_key.*,
 * activity.view): held through the workspace role only, never through a
 * grant on a resource. */
bool perms_of_workspace(const struct permission *perm);

/* perms_role_stronger returns the stronger of two roles (admin over
 * member over read_only over none). */
enum role perms_role_stronger(enum role a, enum role b);

/* perms_resource_type_known says whether `type` is a resource type of
 * SPEC §1: experiment, dataset or project. */
bool perms_resource_type_known(const char *type);

/* perms_acts_on says whether `perm` acts on resources of `type` (its
 * resource_type column): experiment.edit and measurement.add act on
 * experiments, members.invite on no resource. */
bool perms_acts_on(const struct permission *perm, const char *type);

/* perms_list_for writes the names of the permissions that act on `type`,
 * in table order and separated by ", ", to `out` (`size` bytes; the
 * names that do not fit whole are left off). */
void perms_list_for(const char *type, char *out, size_t size);

/* perms_role_name returns "admin", "member", "read_only" or "none". */
const char *perms_role_name(enum role role);

/* perms_role_parse turns a role's name back into the role; returns false
 * for any other text. */
bool perms_role_parse(const char *name, enum role *out);

#endif
