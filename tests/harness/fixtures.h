/* The set-up the integration tests share: signing people up, building
 * teams, managing members, rotating keys, registering resources,
 * invitations and Check, all through the client library as any caller
 * would; and the main() of a suite that runs on one daemon. The fault
 * suite (tests/fault) builds its teams with them too. The request
 * wrappers, named after the call (fixture_create_team), return the call's
 * status and leave judging it to the test (they keep no state: threads may
 * share them); the builders, named after what they build
 * (fixture_sign_up, fixture_org_*, fixture_team_*, fixture_member_add,
 * fixture_invitation_make), report a failure on stderr and fail the
 * current case (unit/unit.h), as an EXPECT does: call them from the
 * program's main thread. fixture_must ends the program. Only programs
 * that define UNIT_STATE may use this module. */
#ifndef EXE_FIXTURES_H
#define EXE_FIXTURES_H

#include <exe/access.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

struct unit_case;

/* The size of the buffers that hold an id (a UUID as text) and a key. */
enum { FIXTURE_ID_SIZE = 40, FIXTURE_KEY_SIZE = 64 };

/* A person who signed up: their personal workspace and its first key. */
struct fixture_user {
	char id[FIXTURE_ID_SIZE];
	char username[64];
	char email[128];
	char workspace[FIXTURE_ID_SIZE]; /* personal */
	char key[FIXTURE_KEY_SIZE]; /* the personal workspace's key from sign-up
	                             */
	uint64_t revision;          /* of the sign-up */
};

/* A team workspace in an organisation of its own: `admin` is the
 * organisation's admin and the team's first admin; `member` and `reader`
 * (fixture_team_make only) hold member and read_only. */
struct fixture_team {
	struct fixture_user admin, member, reader;
	char org[FIXTURE_ID_SIZE];
	char workspace[FIXTURE_ID_SIZE];
	char
	    first_key[FIXTURE_KEY_SIZE]; /* the key the team was created with */
};

/* fixture_must ends the program (status 1) if a set-up step did not work,
 * saying which (`what`) and why: nothing after it would mean anything. */
void fixture_must(exa_status rc, const exa_error *err, const char *what);

/* fixture_as_user and fixture_as_key make a principal that points into
 * the string given (which must outlive it). */
Exe__Access__V1__Principal fixture_as_user(const char *user_id);
Exe__Access__V1__Principal fixture_as_key(const char *secret);

/* fixture_principal is the user if `user_id` is not NULL, else the key if
 * `api_key` is not NULL, else a principal of no kind. */
Exe__Access__V1__Principal fixture_principal(
    const char *user_id, const char *api_key);

/* fixture_create_user signs up `username` with `email` (NULL:
 * {username}@example.com) and `display_name` (NULL: none). The response
 * goes to *out (NULL if the call failed); `out` may be NULL to discard
 * it. The caller frees it with exa_free. */
exa_status fixture_create_user(exa_client *c, const char *username,
    const char *email, const char *display_name,
    Exe__Access__V1__CreateUserResponse **out, exa_error *err);

/* fixture_get_user reads the user `user_id`; the response goes to *out
 * as for fixture_create_user. */
exa_status fixture_get_user(exa_client *c, const char *user_id,
    Exe__Access__V1__GetUserResponse **out, exa_error *err);

/* fixture_sign_up signs up a new person named after `prefix`
 * (harness_unique) and fills `u`; false if it failed (reported, `u` left
 * zeroed but for its names). fixture_sign_up_email gives them `email`
 * (NULL: {username}@example.com). */
bool fixture_sign_up(exa_client *c, const char *prefix, struct fixture_user *u);
bool fixture_sign_up_email(exa_client *c, const char *prefix, const char *email,
    struct fixture_user *u);

/* The requests below that a person makes take the actor's user id; those
 * an API key may also make take a principal. Responses go to *out as for
 * fixture_create_user. */

/* fixture_create_org: `actor_id` creates an organisation named `name`. */
exa_status fixture_create_org(exa_client *c, const char *actor_id,
    const char *name, Exe__Access__V1__CreateOrganizationResponse **out,
    exa_error *err);

/* fixture_create_team: `actor_id` creates a team workspace `name` in
 * organisation `org_id`, with `first_admin_id` (NULL: the actor) as its
 * first admin. */
exa_status fixture_create_team(exa_client *c, const char *actor_id,
    const char *org_id, const char *name, const char *first_admin_id,
    Exe__Access__V1__CreateTeamWorkspaceResponse **out, exa_error *err);

/* fixture_add_member, fixture_change_role and fixture_remove_member:
 * `actor_id` changes `user_id`'s membership of `workspace_id`. When the
 * call succeeds and `newest` is not NULL, *newest is raised to the
 * revision of the write (left alone if it is newer already). */
exa_status fixture_add_member(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, Exe__Access__V1__Role role,
    uint64_t *newest, exa_error *err);
exa_status fixture_change_role(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, Exe__Access__V1__Role role,
    uint64_t *newest, exa_error *err);
exa_status fixture_remove_member(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, uint64_t *newest,
    exa_error *err);

/* fixture_grant and fixture_revoke: `actor_id` gives `user_id` `role` on
 * the resource (`type`, `id`), or takes their grant on it away; *newest
 * as for fixture_add_member. */
exa_status fixture_grant(exa_client *c, const char *actor_id, const char *type,
    const char *id, const char *user_id, Exe__Access__V1__Role role,
    uint64_t *newest, exa_error *err);
exa_status fixture_revoke(exa_client *c, const char *actor_id,
    const char *type, const char *id, const char *user_id, uint64_t *newest,
    exa_error *err);

/* fixture_org_found signs up `admin` (named after `admin_prefix`), who
 * creates the organisation `org_name`; its id goes to `org_id`
 * (FIXTURE_ID_SIZE bytes). False if a step failed (reported; the steps
 * after it not taken). */
bool fixture_org_found(exa_client *c, const char *admin_prefix,
    const char *org_name, struct fixture_user *admin, char *org_id);

/* fixture_team_create: `actor_id` creates the team workspace `name` in
 * the organisation `org_id`, with `first_admin_id` (NULL: the actor) as
 * its first admin; its id goes to `workspace_id` (FIXTURE_ID_SIZE bytes)
 * and, if `key` is not NULL, the key it was created with to `key`
 * (FIXTURE_KEY_SIZE bytes). False if that failed (reported). */
bool fixture_team_create(exa_client *c, const char *actor_id,
    const char *org_id, const char *name, const char *first_admin_id,
    char *workspace_id, char *key);

/* fixture_member_add: `actor_id` adds `user_id` to `workspace_id` with
 * `role`; false if that failed (reported). */
bool fixture_member_add(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *user_id, Exe__Access__V1__Role role);

/* fixture_invitation_make: `actor_id` invites `username` to
 * `workspace_id` with `role` (for the default time); the invitation's
 * token goes to `token` (`size` bytes). False if that failed (reported). */
bool fixture_invitation_make(exa_client *c, const char *actor_id,
    const char *workspace_id, const char *username, Exe__Access__V1__Role role,
    char *token, size_t size);

/* fixture_team_found signs up `t->admin` (named after `admin_prefix`),
 * who creates the organisation `org_name` and in it the team
 * `team_name`; no other members. fixture_team_make also signs up
 * `member` and `reader`, whom the admin adds. Both return false if a
 * step failed (reported; the steps after it not taken). */
bool fixture_team_found(exa_client *c, const char *admin_prefix,
    const char *org_name, const char *team_name, struct fixture_team *t);
bool fixture_team_make(exa_client *c, const char *org_name,
    const char *team_name, struct fixture_team *t);

/* fixture_team_add: the team's admin adds `u` with `role`; false if that
 * failed (reported). */
bool fixture_team_add(exa_client *c, const struct fixture_team *t,
    const struct fixture_user *u, Exe__Access__V1__Role role);

/* fixture_team_join signs up a person named after `prefix` (into `u`),
 * whom the team's admin adds with `role`; false if a step failed
 * (reported). */
bool fixture_team_join(exa_client *c, const struct fixture_team *t,
    const char *prefix, Exe__Access__V1__Role role, struct fixture_user *u);

/* fixture_rotate_key: `actor` gives `workspace_id` a new key (read-only if
 * asked), the old one kept for `grace_seconds`. */
exa_status fixture_rotate_key(exa_client *c,
    const Exe__Access__V1__Principal *actor, const char *workspace_id,
    uint32_t grace_seconds, bool read_only,
    Exe__Access__V1__RotateApiKeyResponse **out, exa_error *err);

/* fixture_register_resource: `actor` registers the resource (`type`,
 * `id`) named `name` (NULL: no name) in `workspace_id`. */
exa_status fixture_register_resource(exa_client *c,
    const Exe__Access__V1__Principal *actor, const char *workspace_id,
    const char *type, const char *id, const char *name,
    Exe__Access__V1__RegisterResourceResponse **out, exa_error *err);

/* fixture_invite: `actor` invites `username` or, if that is NULL,
 * `email` (neither if both are NULL) to `workspace_id` with `role`, for
 * `days` (0: the default). */
exa_status fixture_invite(exa_client *c,
    const Exe__Access__V1__Principal *actor, const char *workspace_id,
    const char *username, const char *email, Exe__Access__V1__Role role,
    unsigned days, Exe__Access__V1__CreateInvitationResponse **out,
    exa_error *err);

/* fixture_accept_invitation: `actor` accepts the invitation `token`. */
exa_status fixture_accept_invitation(exa_client *c,
    const Exe__Access__V1__Principal *actor, const char *token,
    Exe__Access__V1__MemberResponse **out, exa_error *err);

/* fixture_decline_invitation: `actor_id` declines the invitation
 * `token`. */
exa_status fixture_decline_invitation(
    exa_client *c, const char *actor_id, const char *token, exa_error *err);

/* fixture_check asks whether the principal (as fixture_principal makes
 * it) holds `permission` in the workspace `workspace_id` or, if that is
 * NULL, on the resource (`resource_type`, `resource_id`) (if that is NULL
 * too, on no target), at least as fresh as `fresh`. The response goes to
 * *out (NULL if the call failed), which must not be NULL. */
exa_status fixture_check(exa_client *c, const char *user_id,
    const char *api_key, const char *permission, const char *workspace_id,
    const char *resource_type, const char *resource_id, uint64_t fresh,
    Exe__Access__V1__CheckResponse **out, exa_error *err);

/* fixture_current_revision is where c's service's database stands
 * (ReadChanges with current_only); it exits the test if the call fails. */
uint64_t fixture_current_revision(exa_client *c);

/* fixture_free_port returns a TCP port on 127.0.0.1 that was free a
 * moment ago (0 if none could be had). */
int fixture_free_port(void);

/* fixture_http_get fetches `path` from http://127.0.0.1:`port` (a
 * daemon's metrics address); returns the status code (0 when it could not
 * connect) and the body in `body` (`size` bytes; NULL if `size` is 0, for
 * the status alone), waiting at most 10 s for it. Not for threads: it
 * reads into a static buffer. */
int fixture_http_get(int port, const char *path, char *body, size_t size);

/* fixture_metric reads one sample's value from a /metrics body; -1 if
 * absent. */
double fixture_metric(const char *body, const char *sample);

/* fixture_run_suite is the main() of a suite on one daemon: it starts
 * `h` on a database named after `name` with `extra_args` (as
 * harness_start), runs the `n` cases, stops the daemon and returns the
 * program's exit status: 0 only if every case passed and the daemon
 * exited cleanly. */
int fixture_run_suite(struct harness *h, const char *name,
    const char *const *extra_args, const struct unit_case *cases, size_t n);

#endif
