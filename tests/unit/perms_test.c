/* Unit tests of perms: the permission table against SPEC R5, written out
 * here a second time as literal data so that a slip in either copy shows,
 * and the role names. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "base/perms.h"
#include "unit.h"

/* SPEC R5, row by row, in the SPEC's order: admin, member, read_only. */
struct expected_perm {
	const char *name;
	bool admin, member, read_only;
};

/* clang-format off */
static const struct expected_perm spec_r5[] = {
	{"workspace.view",            true, true,  true},
	{"members.view",              true, true,  true},
	{"activity.view",             true, true,  true},
	{"experiment.view",           true, true,  true},
	{"dataset.view",              true, true,  true},
	{"project.view",              true, true,  true},
	{"experiment.create",         true, true,  false},
	{"experiment.edit",           true, true,  false},
	{"dataset.create",            true, true,  false},
	{"dataset.edit",              true, true,  false},
	{"optimization.run",          true, true,  false},
	{"measurement.add",           true, true,  false},
	{"experiment.delete",         true, false, false},
	{"dataset.delete",            true, false, false},
	{"project.create",            true, false, false},
	{"project.edit",              true, false, false},
	{"project.delete",            true, false, false},
	{"members.invite",            true, false, false},
	{"members.remove",            true, false, false},
	{"api_key.view",              true, false, false},
	{"api_key.rotate",            true, false, false},
	{"workspace.settings.update", true, false, false},
	{"workspace.delete",          true, false, false},
};
/* clang-format on */

enum { SPEC_ROWS = sizeof spec_r5 / sizeof spec_r5[0] };

/* Managing members, keys or settings: what an API key may never do. */
static const char *const management[] = {
	"members.invite",
	"members.remove",
	"api_key.view",
	"api_key.rotate",
	"workspace.settings.update",
	"workspace.delete",
};

static bool
is_management(const char *name)
{
	for (size_t i = 0; i < sizeof management / sizeof management[0]; i++) {
		if (strcmp(management[i], name) == 0)
			return true;
	}
	return false;
}

static void
count_is_23(void)
{
	EXPECT_INT(SPEC_ROWS, 23);
	EXPECT_INT(perms_count, 23);
}

static void
every_cell_matches_spec(void)
{
	for (size_t i = 0; i < SPEC_ROWS; i++) {
		const struct expected_perm *e = &spec_r5[i];
		const struct permission *p = perms_find(e->name);
		if (p == NULL) {
			fprintf(stderr, "  missing permission %s\n", e->name);
			unit_case_failed = 1;
			continue;
		}
		EXPECT_STR(p->name, e->name);
		if (perms_role_has(ROLE_ADMIN, p) != e->admin ||
		    perms_role_has(ROLE_MEMBER, p) != e->member ||
		    perms_role_has(ROLE_READ_ONLY, p) != e->read_only) {
			fprintf(stderr, "  %s: admin/member/read_only is %d/%d/%d, "
			    "SPEC R5 says %d/%d/%d\n", e->name,
			    perms_role_has(ROLE_ADMIN, p),
			    perms_role_has(ROLE_MEMBER, p),
			    perms_role_has(ROLE_READ_ONLY, p), e->admin, e->member,
			    e->read_only);
			unit_case_failed = 1;
		}
		/* The row's own columns say the same as perms_role_has. */
		EXPECT(p->admin == e->admin);
		EXPECT(p->member == e->member);
		EXPECT(p->read_only == e->read_only);
	}
}

static void
table_in_spec_order_without_extras(void)
{
	size_t n = perms_count < SPEC_ROWS ? perms_count : SPEC_ROWS;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(perms_all[i].name, spec_r5[i].name) != 0) {
			fprintf(stderr, "  row %zu is %s, SPEC R5 has %s\n", i,
			    perms_all[i].name, spec_r5[i].name);
			unit_case_failed = 1;
		}
	}
	/* No row that the SPEC does not have, and no name twice. */
	for (size_t i = 0; i < perms_count; i++) {
		bool known = false;
		for (size_t k = 0; k < SPEC_ROWS; k++)
			known = known || strcmp(perms_all[i].name, spec_r5[k].name) == 0;
		if (!known) {
			fprintf(stderr, "  %s is not in SPEC R5\n", perms_all[i].name);
			unit_case_failed = 1;
		}
		for (size_t k = i + 1; k < perms_count; k++) {
			if (strcmp(perms_all[i].name, perms_all[k].name) == 0) {
				fprintf(stderr, "  %s appears twice\n",
				    perms_all[i].name);
				unit_case_failed = 1;
			}
		}
		EXPECT(perms_find(perms_all[i].name) == &perms_all[i]);
	}
}

static void
management_flag_exactly_on_six(void)
{
	size_t flagged = 0;
	for (size_t i = 0; i < perms_count; i++) {
		const struct permission *p = &perms_all[i];
		if (p->management != is_management(p->name)) {
			fprintf(stderr, "  %s: management is %d, expected %d\n",
			    p->name, p->management, is_management(p->name));
			unit_case_failed = 1;
		}
		if (p->management)
			flagged++;
	}
	EXPECT_INT(flagged, 6);
	/* An API key acts with the member or read_only column: neither may
	 * hold a management permission. */
	for (size_t i = 0; i < sizeof management / sizeof management[0]; i++) {
		const struct permission *p = perms_find(management[i]);
		EXPECT(p != NULL);
		if (p == NULL)
			continue;
		EXPECT(p->management);
		EXPECT(!perms_role_has(ROLE_MEMBER, p));
		EXPECT(!perms_role_has(ROLE_READ_ONLY, p));
	}
}

/* The workspace's own permissions, which a grant on a resource never
 * gives: everything about the workspace, its members, keys, settings and
 * activity, and nothing about experiments, datasets or projects. */
static const char *const of_workspace[] = {
	"workspace.view",
	"members.view",
	"activity.view",
	"members.invite",
	"members.remove",
	"api_key.view",
	"api_key.rotate",
	"workspace.settings.update",
	"workspace.delete",
};

static void
of_workspace_exactly_nine(void)
{
	size_t flagged = 0;
	for (size_t i = 0; i < perms_count; i++) {
		const struct permission *p = &perms_all[i];
		bool want = false;
		for (size_t k = 0;
		     k < sizeof of_workspace / sizeof of_workspace[0]; k++)
			want = want || strcmp(of_workspace[k], p->name) == 0;
		if (perms_of_workspace(p) != want) {
			fprintf(stderr, "  %s: perms_of_workspace is %d, expected "
			    "%d\n", p->name, perms_of_workspace(p), want);
			unit_case_failed = 1;
		}
		/* Every management permission is the workspace's own. */
		if (p->management)
			EXPECT(perms_of_workspace(p));
		if (perms_of_workspace(p))
			flagged++;
	}
	EXPECT_INT(flagged, 9);
}

static void
no_role_holds_nothing(void)
{
	for (size_t i = 0; i < perms_count; i++)
		EXPECT(!perms_role_has(ROLE_NONE, &perms_all[i]));
	const struct permission *p = perms_find("workspace.view");
	EXPECT(p != NULL);
	if (p != NULL)
		EXPECT(!perms_role_has((enum role)42, p));
}

static void
find_unknown_is_null(void)
{
	static const char *const unknown[] = {
		"",
		"workspace",
		"workspace.View",
		"WORKSPACE.VIEW",
		"workspace.view ",
		" workspace.view",
		"workspace.viewx",
		"experiment.run",
		"api_key.delete",
		"members.*",
		"admin",
	};
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		if (perms_find(unknown[i]) != NULL) {
			fprintf(stderr, "  perms_find(\"%s\") found a row\n",
			    unknown[i]);
			unit_case_failed = 1;
		}
	}
}

static void
role_names_round_trip(void)
{
	static const struct {
		enum role role;
		const char *name;
	} roles[] = {
		{ROLE_ADMIN, "admin"},
		{ROLE_MEMBER, "member"},
		{ROLE_READ_ONLY, "read_only"},
	};
	for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
		EXPECT_STR(perms_role_name(roles[i].role), roles[i].name);
		enum role parsed = ROLE_NONE;
		EXPECT(perms_role_parse(roles[i].name, &parsed));
		EXPECT_INT(parsed, roles[i].role);
		parsed = ROLE_NONE;
		EXPECT(perms_role_parse(perms_role_name(roles[i].role), &parsed));
		EXPECT_INT(parsed, roles[i].role);
	}
	EXPECT_STR(perms_role_name(ROLE_NONE), "none");
	EXPECT_STR(perms_role_name((enum role)99), "none");
}

static void
role_parse_refuses_other_text(void)
{
	static const char *const bad[] = {
		"Admin",
		"",
		"owner",
		"ADMIN",
		"admin ",
		" member",
		"read-only",
		"readonly",
		"Read_Only",
		"members",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum role out = (enum role)77;
		if (perms_role_parse(bad[i], &out)) {
			fprintf(stderr, "  perms_role_parse(\"%s\") accepted it\n",
			    bad[i]);
			unit_case_failed = 1;
		}
		/* Out-parameters are written only on success. */
		EXPECT_INT(out, 77);
	}
}

static void
find_refuses_near_names(void)
{
	static const char *const near[] = {
		"", "e", "experiment", "experiment.", "experiment.creat",
		"experiment.createx", "Experiment.create", "xperiment.create",
		"workspace.view ", " workspace.view", "workspace.VIEW",
		"api_key", "members.inv", "optimization.runs", "dataset.delete\n",
	};
	for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
		if (perms_find(near[i]) != NULL) {
			fprintf(stderr, "  \"%s\" found\n", near[i]);
			unit_case_failed = 1;
		}
	}
}

static void
resource_types(void)
{
	EXPECT(perms_resource_type_known("experiment"));
	EXPECT(perms_resource_type_known("dataset"));
	EXPECT(perms_resource_type_known("project"));
	EXPECT(!perms_resource_type_known("Experiment"));
	EXPECT(!perms_resource_type_known("experiments"));
	EXPECT(!perms_resource_type_known(""));
}

/* Which resources each permission acts on (LookupResources refuses any
 * other pairing): the type its name starts with, experiments for running
 * optimizations and adding measurements, and none for the rest. */
static void
resource_type_of_each_permission(void)
{
	for (size_t i = 0; i < perms_count; i++) {
		const struct permission *p = &perms_all[i];
		const char *want = NULL;
		if (strncmp(p->name, "experiment.", 11) == 0 ||
		    strcmp(p->name, "optimization.run") == 0 ||
		    strcmp(p->name, "measurement.add") == 0)
			want = "experiment";
		else if (strncmp(p->name, "dataset.", 8) == 0)
			want = "dataset";
		else if (strncmp(p->name, "project.", 8) == 0)
			want = "project";
		const char *types[] = {"experiment", "dataset", "project"};
		for (size_t t = 0; t < 3; t++) {
			bool acts = want != NULL && strcmp(want, types[t]) == 0;
			if (perms_acts_on(p, types[t]) != acts) {
				fprintf(stderr, "  %s on %s: %d\n", p->name,
				    types[t], !acts);
				unit_case_failed = 1;
			}
		}
		EXPECT(!perms_acts_on(p, "workspace"));
	}
	char list[256];
	perms_list_for("dataset", list, sizeof list);
	EXPECT_STR(list, "dataset.view, dataset.create, dataset.edit, "
	                 "dataset.delete");
	perms_list_for("project", list, sizeof list);
	EXPECT_STR(list, "project.view, project.create, project.edit, "
	                 "project.delete");
	perms_list_for("nothing", list, sizeof list);
	EXPECT_STR(list, "");
	char small[20];
	perms_list_for("experiment", small, sizeof small);
	EXPECT_STR(small, "experiment.view");
}

static const struct unit_case cases[] = {
	{"of_workspace_exactly_nine", of_workspace_exactly_nine},
	{"resource_types", resource_types},
	{"count_is_23", count_is_23},
	{"every_cell_matches_spec", every_cell_matches_spec},
	{"table_in_spec_order_without_extras", table_in_spec_order_without_extras},
	{"management_flag_exactly_on_six", management_flag_exactly_on_six},
	{"no_role_holds_nothing", no_role_holds_nothing},
	{"find_unknown_is_null", find_unknown_is_null},
	{"role_names_round_trip", role_names_round_trip},
	{"role_parse_refuses_other_text", role_parse_refuses_other_text},
	{"find_refuses_near_names", find_refuses_near_names},
	{"resource_type_of_each_permission", resource_type_of_each_permission},
};

UNIT_MAIN(cases)
