/* SPEC R5 as data. Every decision about what a role may do reads this
 * table; nothing else in the service spells out a role's permissions. */
#include "base/perms.h"

#include <stdio.h>
#include <string.h>

/* clang-format off */
const struct permission perms_all[] = {
	/* name                        admin  member read_only management
	 *                                                    resource type */
	{"workspace.view",             true,  true,  true,  false,  NULL},
	{"members.view",               true,  true,  true,  false,  NULL},
	{"activity.view",              true,  true,  true,  false,  NULL},
	{"experiment.view",            true,  true,  true,  false,  "experiment"},
	{"dataset.view",               true,  true,  true,  false,  "dataset"},
	{"project.view",               true,  true,  true,  false,  "project"},
	{"experiment.create",          true,  true,  false, false,  "experiment"},
	{"experiment.edit",            true,  true,  false, false,  "experiment"},
	{"dataset.create",             true,  true,  false, false,  "dataset"},
	{"dataset.edit",               true,  true,  false, false,  "dataset"},
	{"optimization.run",           true,  true,  false, false,  "experiment"},
	{"measurement.add",            true,  true,  false, false,  "experiment"},
	{"experiment.delete",          true,  false, false, false,  "experiment"},
	{"dataset.delete",             true,  false, false, false,  "dataset"},
	{"project.create",             true,  false, false, false,  "project"},
	{"project.edit",               true,  false, false, false,  "project"},
	{"project.delete",             true,  false, false, false,  "project"},
	{"members.invite",             true,  false, false, true,   NULL},
	{"members.remove",             true,  false, false, true,   NULL},
	{"api_key.view",               true,  false, false, true,   NULL},
	{"api_key.rotate",             true,  false, false, true,   NULL},
	{"workspace.settings.update",  true,  false, false, true,   NULL},
	{"workspace.delete",           true,  false, false, true,   NULL},
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

bool
perms_of_workspace(const struct permission *perm)
{
	return perm->resource_type == NULL;
}

enum role
perms_role_stronger(enum role a, enum role b)
{
	if (a == ROLE_NONE)
		return b;
	if (b == ROLE_NONE)
		return a;
	return a < b ? a : b; /* ROLE_ADMIN is 1 */
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

bool
perms_acts_on(const struct permission *perm, const char *type)
{
	return perm->resource_type != NULL &&
	    strcmp(perm->resource_type, type) == 0;
}

void
perms_list_for(const char *type, char *out, size_t size)
{
	size_t len = 0;
	if (size == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < perms_count; i++) {
		if (!perms_acts_on(&perms_all[i], type))
			continue;
		const char *sep = len > 0 ? ", " : "";
		size_t n = strlen(sep) + strlen(perms_all[i].name);
		if (n >= size - len)
			return; /* whole names only */
		snprintf(out + len, size - len, "%s%s", sep, perms_all[i].name);
		len += n;
	}
}
