/* SPEC R5 as data. Every decision about what a role may do reads this
 * table; nothing else in the service spells out a role's permissions. */
#include "base/perms.h"

#include <string.h>

/* clang-format off */
const struct permission perms_all[] = {
	/* name                        admin  member read_only management */
	{"workspace.view",             true,  true,  true,  false},
	{"members.view",               true,  true,  true,  false},
	{"activity.view",              true,  true,  true,  false},
	{"experiment.view",            true,  true,  true,  false},
	{"dataset.view",               true,  true,  true,  false},
	{"project.view",               true,  true,  true,  false},
	{"experiment.create",          true,  true,  false, false},
	{"experiment.edit",            true,  true,  false, false},
	{"dataset.create",             true,  true,  false, false},
	{"dataset.edit",               true,  true,  false, false},
	{"optimization.run",           true,  true,  false, false},
	{"measurement.add",            true,  true,  false, false},
	{"experiment.delete",          true,  false, false, false},
	{"dataset.delete",             true,  false, false, false},
	{"project.create",             true,  false, false, false},
	{"project.edit",               true,  false, false, false},
	{"project.delete",             true,  false, false, false},
	{"members.invite",             true,  false, false, true},
	{"members.remove",             true,  false, false, true},
	{"api_key.view",               true,  false, false, true},
	{"api_key.rotate",             true,  false, false, true},
	{"workspace.settings.update",  true,  false, false, true},
	{"workspace.delete",           true,  false, false, true},
};
/* clang-format on */

const size_t perms_count = sizeof perms_all / sizeof perms_all[0];

const struct permission *
perms_find(const char *name)
{
	/* Every check looks its permission up: compare the first byte before
	 * calling strcmp, so most rows cost one load. */
	for (size_t i = 0; i < perms_count; i++) {
		const char *row = perms_all[i].name;
		if (row[0] == name[0] && strcmp(row, name) == 0)
			return &perms_all[i];
	}
	return NULL;
}

bool
perms_role_has(enum role role, const struct permission *perm)
{
	switch (role) {
	case ROLE_ADMIN: return perm->admin;
	case ROLE_MEMBER: return perm->member;
	case ROLE_READ_ONLY: return perm->read_only;
	case ROLE_NONE: return false;
	}
	return false;
}

static const char *const role_names[] = {"none", "admin", "member", "read_only"};

const char *
perms_role_name(enum role role)
{
	if ((unsigned)role < sizeof role_names / sizeof role_names[0])
		return role_names[role];
	return "none";
}

bool
perms_role_parse(const char *name, enum role *out)
{
	for (unsigned i = ROLE_ADMIN; i <= ROLE_READ_ONLY; i++) {
		if (strcmp(role_names[i], name) == 0) {
			*out = (enum role)i;
			return true;
		}
	}
	return false;
}

bool
perms_resource_type_known(const char *type)
{
	return strcmp(type, "experiment") == 0 || strcmp(type, "dataset") == 0 ||
	    strcmp(type, "project") == 0;
}
