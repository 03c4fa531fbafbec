/* Unit tests of decide, the pure decision core: a table of standings and
 * keys against permissions, each with the answer, the role and the reason
 * a person reads (SPEC R5, R12, R13). No service, cache or database: the
 * same function decides for the service and for the client library. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "base/decide.h"
#include "base/perms.h"
#include "unit.h"

#define USER "11111111-1111-4111-8111-111111111111"
#define WS "22222222-2222-4222-8222-222222222222"
#define OTHER_WS "33333333-3333-4333-8333-333333333333"

struct user_case {
	const char *name;
	struct standing st;
	const char *permission;
	bool allowed;
	enum role role;
	const char *reason; /* exactly, "" when allowed */
};

/* clang-format off */
static const struct user_case user_cases[] = {
	{"missing workspace", {.workspace_exists = false}, "workspace.view",
	 false, ROLE_NONE, "workspace " WS " does not exist"},
	{"someone else's personal workspace reads as a team",
	 {.workspace_exists = true, .personal = true}, "experiment.view",
	 false, ROLE_NONE, "user " USER " is not a member "
	 "of workspace " WS "; ask one of its admins for an invitation"},
	{"not a member of a team", {.workspace_exists = true},
	 "workspace.view", false, ROLE_NONE, "user " USER " is not a member "
	 "of workspace " WS "; ask one of its admins for an invitation"},
	{"read_only may view", {.workspace_exists = true,
	 .role = ROLE_READ_ONLY}, "experiment.view", true, ROLE_READ_ONLY, ""},
	{"read_only may not create", {.workspace_exists = true,
	 .role = ROLE_READ_ONLY}, "experiment.create", false, ROLE_READ_ONLY,
	 "user " USER " has role read_only in workspace " WS ", which does "
	 "not grant experiment.create (admin or member does); ask an admin of "
	 "the workspace"},
	{"member may not delete", {.workspace_exists = true,
	 .role = ROLE_MEMBER}, "experiment.delete", false, ROLE_MEMBER,
	 "user " USER " has role member in workspace " WS ", which does not "
	 "grant experiment.delete (admin does); ask an admin of the workspace"},
	{"member may add measurements", {.workspace_exists = true,
	 .role = ROLE_MEMBER}, "measurement.add", true, ROLE_MEMBER, ""},
	{"admin may delete the workspace", {.workspace_exists = true,
	 .role = ROLE_ADMIN}, "workspace.delete", true, ROLE_ADMIN, ""},
	{"personal owner holds everything", {.workspace_exists = true,
	 .personal = true, .role = ROLE_ADMIN}, "api_key.rotate", true,
	 ROLE_ADMIN, ""},
};
/* clang-format on */

static void
user_table(void)
{
	for (size_t i = 0; i < sizeof user_cases / sizeof user_cases[0]; i++) {
		const struct user_case *c = &user_cases[i];
		struct decision d;
		memset(&d, 0x5a, sizeof d); /* no field may be left unset */
		decide_user(USER, WS, &c->st, perms_find(c->permission), &d);
		if (d.allowed != c->allowed || d.role != c->role ||
		    strcmp(d.reason, c->reason) != 0) {
			fprintf(stderr, "  case \"%s\": allowed %d role %d "
			    "reason \"%s\"\n", c->name, d.allowed, d.role,
			    d.reason);
			unit_case_failed = 1;
		}
	}
}

/* Every cell of R5 for every role, through decide_user: allowed exactly
 * when the table says so, and a denial always names role and permission. */
static void
every_cell(void)
{
	const enum role roles[] = {ROLE_ADMIN, ROLE_MEMBER, ROLE_READ_ONLY};
	for (size_t r = 0; r < 3; r++) {
		for (size_t i = 0; i < perms_count; i++) {
			const struct permission *p = &perms_all[i];
			struct standing st = {.workspace_exists = true,
			    .role = roles[r]};
			struct decision d;
			decide_user(USER, WS, &st, p, &d);
			EXPECT(d.allowed == perms_role_has(roles[r], p));
			EXPECT_INT(d.role, roles[r]);
			if (!d.allowed) {
				EXPECT_CONTAINS(d.reason, p->name);
				EXPECT_CONTAINS(d.reason,
				    perms_role_name(roles[r]));
			}
		}
	}
}

static struct key_standing
key(bool read_only, int64_t expires_ms)
{
	struct key_standing k = {.found = true, .read_only = read_only,
	    .expires_ms = expires_ms};
	memcpy(k.key_id, "44444444-4444-4444-8444-444444444444", 37);
	memcpy(k.workspace_id, WS, sizeof WS);
	return k;
}

static void
keys(void)
{
	struct decision d;
	struct key_standing k = key(false, 0);
	decide_key(&k, WS, perms_find("experiment.create"), 1000, &d);
	EXPECT(d.allowed);
	EXPECT_INT(d.role, ROLE_MEMBER);

	decide_key(&k, OTHER_WS, perms_find("experiment.view"), 1000, &d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "the API key belongs to workspace " WS
	    "; a key acts only in its own workspace");

	decide_key(&k, WS, perms_find("members.invite"), 1000, &d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "API keys never hold members.invite; a workspace "
	    "admin must do this");

	/* Deleting is not management, but the member column lacks it. */
	decide_key(&k, WS, perms_find("experiment.delete"), 1000, &d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "the API key is a member key, which does not "
	    "grant experiment.delete");

	struct key_standing ro = key(true, 0);
	decide_key(&ro, WS, perms_find("dataset.edit"), 1000, &d);
	EXPECT(!d.allowed);
	EXPECT_INT(d.role, ROLE_READ_ONLY);
	EXPECT_STR(d.reason, "the API key is read-only, which does not grant "
	    "dataset.edit");
	decide_key(&ro, WS, perms_find("dataset.view"), 1000, &d);
	EXPECT(d.allowed);
}

static void
keys_in_grace_and_unknown(void)
{
	struct decision d;
	struct key_standing k = key(false, 5000);
	decide_key(&k, WS, perms_find("experiment.view"), 4999, &d);
	EXPECT(d.allowed);
	EXPECT(decide_key_live(&k, 4999));
	decide_key(&k, WS, perms_find("experiment.view"), 5000, &d);
	EXPECT(!d.allowed);
	EXPECT(!decide_key_live(&k, 5000));
	EXPECT_STR(d.reason, "the API key is unknown, revoked, or rotated and "
	    "past its grace period");

	struct key_standing none = {.found = false};
	decide_key(&none, WS, perms_find("experiment.view"), 0, &d);
	EXPECT(!d.allowed);
	EXPECT_INT(d.role, ROLE_NONE);

	decide_key_malformed(&d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "the API key is malformed (wrong prefix, length "
	    "or checksum)");
}

static void
reason_is_cut_not_overrun(void)
{
	/* An id as long as validation allows keeps the reason in bounds. */
	char long_id[300];
	memset(long_id, 'x', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0';
	struct standing st = {.workspace_exists = true, .role = ROLE_READ_ONLY};
	struct decision d;
	decide_user(long_id, long_id, &st, perms_find("project.delete"), &d);
	EXPECT(!d.allowed);
	EXPECT_INT(strlen(d.reason), sizeof d.reason - 1);
}

/* The grant rule, every cell: a workspace role (or none: a guest) and a
 * grant on the resource (or none) against every permission of R5, in the
 * table's order. Written out as literal data, so that a slip in the rule
 * or in the table shows: 'y' allowed, '-' denied. The workspace's own
 * permissions (workspace.*, members.*, activity.view, api_key.*: the
 * first three and the last six) never come from a grant. */
struct grant_row {
	enum role ws;
	enum role grant;
	const char *cells; /* perms_count of them */
};

/* clang-format off */
static const struct grant_row grant_rows[] = {
	{ROLE_ADMIN,     ROLE_NONE,      "yyyyyyyyyyyyyyyyyyyyyyy"},
	{ROLE_ADMIN,     ROLE_ADMIN,     "yyyyyyyyyyyyyyyyyyyyyyy"},
	{ROLE_ADMIN,     ROLE_MEMBER,    "yyyyyyyyyyyyyyyyyyyyyyy"},
	{ROLE_ADMIN,     ROLE_READ_ONLY, "yyyyyyyyyyyyyyyyyyyyyyy"},
	{ROLE_MEMBER,    ROLE_NONE,      "yyyyyyyyyyyy-----------"},
	{ROLE_MEMBER,    ROLE_ADMIN,     "yyyyyyyyyyyyyyyyy------"},
	{ROLE_MEMBER,    ROLE_MEMBER,    "yyyyyyyyyyyy-----------"},
	{ROLE_MEMBER,    ROLE_READ_ONLY, "yyyyyyyyyyyy-----------"},
	{ROLE_READ_ONLY, ROLE_NONE,      "yyyyyy-----------------"},
	{ROLE_READ_ONLY, ROLE_ADMIN,     "yyyyyyyyyyyyyyyyy------"},
	{ROLE_READ_ONLY, ROLE_MEMBER,    "yyyyyyyyyyyy-----------"},
	{ROLE_READ_ONLY, ROLE_READ_ONLY, "yyyyyy-----------------"},
	{ROLE_NONE,      ROLE_NONE,      "-----------------------"},
	{ROLE_NONE,      ROLE_ADMIN,     "---yyyyyyyyyyyyyy------"},
	{ROLE_NONE,      ROLE_MEMBER,    "---yyyyyyyyy-----------"},
	{ROLE_NONE,      ROLE_READ_ONLY, "---yyy-----------------"},
};
/* clang-format on */

static const struct decide_resource exp_e = {"experiment", "E"};

static void
grant_every_cell(void)
{
	for (size_t g = 0; g < sizeof grant_rows / sizeof grant_rows[0]; g++) {
		const struct grant_row *row = &grant_rows[g];
		EXPECT_INT(strlen(row->cells), perms_count);
		for (size_t i = 0; i < perms_count; i++) {
			const struct permission *p = &perms_all[i];
			struct standing st = {.workspace_exists = true,
			    .role = row->ws, .has_grants = true};
			struct decision d;
			memset(&d, 0x5a, sizeof d);
			decide_user_resource(USER, WS, &st, row->grant, &exp_e, p,
			    &d);
			bool want = row->cells[i] == 'y';
			if (d.allowed != want) {
				fprintf(stderr, "  role %s, grant %s, %s: allowed "
				    "%d, expected %d (\"%s\")\n",
				    perms_role_name(row->ws),
				    perms_role_name(row->grant), p->name,
				    d.allowed, want, d.reason);
				unit_case_failed = 1;
				continue;
			}
			/* The role it acted with: the workspace's for the
			 * workspace's own permissions, else the stronger. */
			enum role role = perms_of_workspace(p)
			    ? row->ws
			    : (row->grant == ROLE_NONE ||
			              (row->ws != ROLE_NONE &&
			                  row->ws < row->grant)
			            ? row->ws
			            : row->grant);
			EXPECT_INT(d.role, role);
			EXPECT_INT(d.grant, row->grant);
			/* The grant allowed it only where the workspace role
			 * did not, and then the reason says so. */
			bool by_grant = want && !perms_role_has(row->ws, p);
			EXPECT_INT(d.by_grant, by_grant);
			if (by_grant) {
				char allows[128];
				snprintf(allows, sizeof allows,
				    "grant %s on experiment \"E\" allows %s",
				    perms_role_name(row->grant), p->name);
				EXPECT_STR(d.reason, allows);
			} else if (want) {
				EXPECT_STR(d.reason, "");
			} else if (row->ws == ROLE_NONE &&
			    row->grant == ROLE_NONE) {
				EXPECT_CONTAINS(d.reason, "is not a member");
			} else {
				EXPECT_CONTAINS(d.reason, p->name);
			}
		}
	}
}

static void
grant_reasons(void)
{
	struct standing reader = {.workspace_exists = true,
	    .role = ROLE_READ_ONLY, .has_grants = true};
	struct standing guest = {.workspace_exists = true, .has_grants = true};
	struct decision d;

	decide_user_resource(USER, WS, &reader, ROLE_NONE, &exp_e,
	    perms_find("experiment.edit"), &d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "user " USER " has role read_only in workspace "
	    WS " and no grant on experiment \"E\"; read_only does not grant "
	    "experiment.edit (admin or member does); ask an admin of the "
	    "workspace");

	decide_user_resource(USER, WS, &reader, ROLE_MEMBER, &exp_e,
	    perms_find("experiment.edit"), &d);
	EXPECT(d.allowed);
	EXPECT_INT(d.role, ROLE_MEMBER);
	EXPECT_STR(d.reason, "grant member on experiment \"E\" allows "
	    "experiment.edit");

	decide_user_resource(USER, WS, &reader, ROLE_MEMBER, &exp_e,
	    perms_find("experiment.delete"), &d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "user " USER " has role read_only in workspace "
	    WS " and grant member on experiment \"E\"; neither grants "
	    "experiment.delete (admin does); ask an admin of the workspace");

	decide_user_resource(USER, WS, &reader, ROLE_ADMIN, &exp_e,
	    perms_find("members.invite"), &d);
	EXPECT(!d.allowed);
	EXPECT_INT(d.role, ROLE_READ_ONLY);
	EXPECT_STR(d.reason, "user " USER " has role read_only in workspace "
	    WS ", which does not grant members.invite (admin does); a grant on "
	    "experiment \"E\" never gives members.invite, which belongs to the "
	    "workspace; ask an admin of the workspace");

	decide_user_resource(USER, WS, &guest, ROLE_READ_ONLY, &exp_e,
	    perms_find("experiment.edit"), &d);
	EXPECT(!d.allowed);
	EXPECT_INT(d.role, ROLE_READ_ONLY);
	EXPECT_STR(d.reason, "user " USER " is not a member of workspace " WS
	    " and has grant read_only on experiment \"E\"; read_only does not "
	    "grant experiment.edit (admin or member does); ask an admin of the "
	    "workspace");

	decide_user_resource(USER, WS, &guest, ROLE_ADMIN, &exp_e,
	    perms_find("members.view"), &d);
	EXPECT(!d.allowed);
	EXPECT_INT(d.role, ROLE_NONE);
	EXPECT_STR(d.reason, "user " USER " is not a member of workspace " WS
	    "; a grant (admin on experiment \"E\") gives nothing of the "
	    "workspace itself, such as members.view");

	decide_user_resource(USER, WS, &guest, ROLE_NONE, &exp_e,
	    perms_find("experiment.view"), &d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "user " USER " is not a member of workspace " WS
	    " and has no grant on experiment \"E\"; ask one of its admins for "
	    "an invitation or a grant");
}

/* R2: a personal workspace's resources know no grant, even one the
 * database somehow held; a missing workspace is missing. */
static void
grant_never_opens_a_personal_workspace(void)
{
	struct standing other = {.workspace_exists = true, .personal = true,
	    .has_grants = true};
	struct decision d;
	decide_user_resource(USER, WS, &other, ROLE_ADMIN, &exp_e,
	    perms_find("experiment.view"), &d);
	EXPECT(!d.allowed);
	EXPECT_INT(d.role, ROLE_NONE);
	EXPECT_INT(d.grant, ROLE_NONE);
	EXPECT_CONTAINS(d.reason, "is not a member of workspace");
	struct standing gone = {.workspace_exists = false};
	decide_user_resource(USER, WS, &gone, ROLE_ADMIN, &exp_e,
	    perms_find("experiment.view"), &d);
	EXPECT(!d.allowed);
	EXPECT_STR(d.reason, "workspace " WS " does not exist");
}

static void
roles_stronger(void)
{
	EXPECT_INT(perms_role_stronger(ROLE_READ_ONLY, ROLE_MEMBER), ROLE_MEMBER);
	EXPECT_INT(perms_role_stronger(ROLE_ADMIN, ROLE_READ_ONLY), ROLE_ADMIN);
	EXPECT_INT(perms_role_stronger(ROLE_NONE, ROLE_READ_ONLY),
	    ROLE_READ_ONLY);
	EXPECT_INT(perms_role_stronger(ROLE_MEMBER, ROLE_NONE), ROLE_MEMBER);
	EXPECT_INT(perms_role_stronger(ROLE_NONE, ROLE_NONE), ROLE_NONE);
}

static const struct unit_case cases[] = {
	{"user_table", user_table},
	{"every_cell", every_cell},
	{"keys", keys},
	{"keys_in_grace_and_unknown", keys_in_grace_and_unknown},
	{"reason_is_cut_not_overrun", reason_is_cut_not_overrun},
	{"grant_every_cell", grant_every_cell},
	{"grant_reasons", grant_reasons},
	{"grant_never_opens_a_personal_workspace",
	    grant_never_opens_a_personal_workspace},
	{"roles_stronger", roles_stronger},
};

UNIT_MAIN(cases)
