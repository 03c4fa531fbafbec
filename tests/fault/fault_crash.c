/* fault_crash: kill -9 of exe-accessd in the middle of writes.
 *
 * Injects: six threads — two signing users up, two accepting invitations,
 * two changing roles in team workspaces (promotions and demotions, some
 * of the last admin) — run against one daemon, which is killed with
 * SIGKILL three times, each time restarted at once on the same ipc://
 * path. The callers keep the same clients throughout (they reconnect by
 * themselves) and never resend.
 *
 * Asserts, through SQL on the database afterwards: every acknowledged
 * sign-up is there whole, every acknowledged acceptance made its
 * membership with the invited role, every acknowledged role change is the
 * member's role (or a later change whose reply the crash swallowed is);
 * and no half-state exists anywhere: no user without a personal workspace,
 * no personal workspace without its owner's admin membership (and no one
 * else), no workspace without a current API key, no accepted invitation
 * without its membership and no membership of an invitee whose invitation
 * is still open, no team without an admin, no revision without its
 * change-log row. Calls fail only with UNAVAILABLE or DEADLINE_EXCEEDED
 * (and demotions of a last admin with FAILED_PRECONDITION). The restarted
 * daemon exits 0 on SIGTERM at the end. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "fixtures.h"
#include "unit/unit.h"

#define ROLE(r) EXE__ACCESS__V1__ROLE__ROLE_##r

enum {
	ROLE_TEAMS = 4,
	MEMBERS = 5,
	INVITE_TEAMS = 3,
	INVITES = 150,
	CRASHES = 3,
	CALL_TIMEOUT_MS = 3000,
	MAX_SIGNUPS = 20000,
};

static struct harness h;
static struct fixture_user org_admin;
static char org[FIXTURE_ID_SIZE];

struct role_team {
	char ws[FIXTURE_ID_SIZE];
	struct fixture_user m[MEMBERS];
	Exe__Access__V1__Role acked[MEMBERS]; /* last acknowledged role */
	unsigned maybe[MEMBERS]; /* roles tried since, reply lost (bits) */
};

struct invitation {
	char ws[FIXTURE_ID_SIZE];
	struct fixture_user invitee;
	Exe__Access__V1__Role role;
	char token[128];
	exa_status rc;
};

struct signup {
	char name[48];
	exa_status rc;
};

static struct role_team teams[ROLE_TEAMS];
static char invite_teams[INVITE_TEAMS][FIXTURE_ID_SIZE];
static struct invitation invitations[INVITES];
static atomic_int next_invitation;
static atomic_bool stop;

/* Per-thread counts. */
struct stats {
	long calls, ok, transport, refused, unexpected;
	char unexpected_message[640];
};

static void
count(struct stats *s, exa_status rc, const exa_error *err)
{
	s->calls++;
	if (rc == EXA_OK)
		s->ok++;
	else if (rc == EXA_UNAVAILABLE || rc == EXA_DEADLINE_EXCEEDED)
		s->transport++;
	else if (s->unexpected++ == 0)
		snprintf(s->unexpected_message, sizeof s->unexpected_message,
		    "%s: %s", exa_status_name(rc), err->message);
}

struct signer {
	int index;
	exa_client *c;
	struct stats s;
	struct signup *done;
	size_t n;
};

static void *
sign_ups(void *arg)
{
	struct signer *w = arg;
	for (long n = 0; !atomic_load(&stop) && w->n < MAX_SIGNUPS; n++) {
		struct signup *a = &w->done[w->n++];
		snprintf(a->name, sizeof a->name, "c%xt%dn%ld",
		    (unsigned)getpid() & 0xffff, w->index, n);
		exa_error err;
		a->rc =
		    fixture_create_user(w->c, a->name, NULL, NULL, NULL, &err);
		count(&w->s, a->rc, &err);
		if (a->rc != EXA_OK)
			usleep(10 * 1000);
	}
	return NULL;
}

struct acceptor {
	exa_client *c;
	struct stats s;
};

static void *
acceptances(void *arg)
{
	struct acceptor *w = arg;
	int i;
	while (!atomic_load(&stop) &&
	       (i = atomic_fetch_add(&next_invitation, 1)) < INVITES) {
		struct invitation *inv = &invitations[i];
		Exe__Access__V1__Principal invitee =
		    fixture_as_user(inv->invitee.id);
		exa_error err;
		inv->rc = fixture_accept_invitation(
		    w->c, &invitee, inv->token, NULL, &err);
		count(&w->s, inv->rc, &err);
		/* Spread the acceptances over the crashes. */
		usleep(50 * 1000);
	}
	return NULL;
}

struct changer {
	int first_team; /* owns teams first_team and first_team + 1 */
	exa_client *c;
	struct stats s;
	unsigned seed;
};

static void *
role_changes(void *arg)
{
	struct changer *w = arg;
	static const Exe__Access__V1__Role roles[] = {
	    ROLE(ADMIN), ROLE(MEMBER), ROLE(READ_ONLY)};
	while (!atomic_load(&stop)) {
		struct role_team *t =
		    &teams[w->first_team + rand_r(&w->seed) % 2];
		int m = rand_r(&w->seed) % MEMBERS;
		Exe__Access__V1__Role role = roles[rand_r(&w->seed) % 3];
		exa_error err;
		exa_status rc = fixture_change_role(
		    w->c, org_admin.id, t->ws, t->m[m].id, role, NULL, &err);
		if (rc == EXA_OK) {
			t->acked[m] = role;
			t->maybe[m] = 0;
			count(&w->s, rc, &err);
		} else if (rc == EXA_FAILED_PRECONDITION &&
		           strstr(err.message, "last admin") != NULL) {
			w->s.calls++;
			w->s.refused++;
		} else {
			if (rc == EXA_UNAVAILABLE ||
			    rc == EXA_DEADLINE_EXCEEDED)
				t->maybe[m] |= 1u << role;
			count(&w->s, rc, &err);
			usleep(10 * 1000);
		}
	}
	return NULL;
}

static void
set_up(void)
{
	exa_client *c = h.client;
	fault_must(
	    fixture_org_found(c, "orgadm", "Fault Org", &org_admin, org));
	for (int t = 0; t < ROLE_TEAMS; t++) {
		struct role_team *rt = &teams[t];
		for (int m = 0; m < MEMBERS; m++)
			fault_must(fixture_sign_up(c, "mem", &rt->m[m]));
		fault_must(fixture_team_create(c, org_admin.id, org,
		    "Fault Team", rt->m[0].id, rt->ws, NULL));
		rt->acked[0] = ROLE(ADMIN);
		for (int m = 1; m < MEMBERS; m++) {
			rt->acked[m] = m == 1 ? ROLE(ADMIN) : ROLE(MEMBER);
			fault_must(fixture_member_add(c, org_admin.id, rt->ws,
			    rt->m[m].id, rt->acked[m]));
		}
	}
	/* The organisation admin creates the invitation teams, so is their
	 * first admin, and invites. */
	for (int t = 0; t < INVITE_TEAMS; t++)
		fault_must(fixture_team_create(c, org_admin.id, org,
		    "Fault Team", NULL, invite_teams[t], NULL));
	static const Exe__Access__V1__Role roles[] = {
	    ROLE(MEMBER), ROLE(READ_ONLY), ROLE(ADMIN)};
	for (int i = 0; i < INVITES; i++) {
		struct invitation *inv = &invitations[i];
		snprintf(inv->ws, sizeof inv->ws, "%s",
		    invite_teams[i % INVITE_TEAMS]);
		inv->role = roles[i % 3];
		inv->rc = -1;
		fault_must(fixture_sign_up(c, "inv", &inv->invitee));
		fault_must(fixture_invitation_make(c, org_admin.id, inv->ws,
		    inv->invitee.username, inv->role, inv->token,
		    sizeof inv->token));
	}
}

static struct signer signers[2];
static struct acceptor acceptors[2];
static struct changer changers[2];
static char figures[1024];

static void
kill_9_during_writes(void)
{
	pthread_t threads[6];
	exa_client *clients[6];
	for (int i = 0; i < 6; i++)
		clients[i] = fault_client(h.url, &h, CALL_TIMEOUT_MS);
	for (int i = 0; i < 2; i++) {
		signers[i] = (struct signer){.index = i,
		    .c = clients[i],
		    .done = calloc(MAX_SIGNUPS, sizeof(struct signup))};
		acceptors[i] = (struct acceptor){.c = clients[2 + i]};
		changers[i] = (struct changer){.first_team = 2 * i,
		    .c = clients[4 + i],
		    .seed = (unsigned)getpid() + (unsigned)i};
		pthread_create(&threads[i], NULL, sign_ups, &signers[i]);
		pthread_create(
		    &threads[2 + i], NULL, acceptances, &acceptors[i]);
		pthread_create(
		    &threads[4 + i], NULL, role_changes, &changers[i]);
	}
	int64_t restart_max = 0;
	unsigned seed = (unsigned)getpid();
	for (int crash = 0; crash < CRASHES; crash++) {
		usleep((useconds_t)(1200 + rand_r(&seed) % 800) * 1000);
		fault_daemon_kill(&h);
		int64_t t0 = fault_ms();
		EXPECT_INT(fault_daemon_start(&h, NULL), 0);
		int64_t took = fault_ms() - t0;
		if (took > restart_max)
			restart_max = took;
	}
	usleep(1500 * 1000);
	atomic_store(&stop, true);
	for (int i = 0; i < 6; i++) {
		pthread_join(threads[i], NULL);
		exa_client_close(clients[i]);
	}

	struct stats total = {0};
	struct stats *all[] = {&signers[0].s, &signers[1].s, &acceptors[0].s,
	    &acceptors[1].s, &changers[0].s, &changers[1].s};
	for (int i = 0; i < 6; i++) {
		total.calls += all[i]->calls;
		total.ok += all[i]->ok;
		total.transport += all[i]->transport;
		total.refused += all[i]->refused;
		total.unexpected += all[i]->unexpected;
		if (all[i]->unexpected > 0)
			fprintf(stderr,
			    "  thread %d: %ld unexpected, first %s\n", i,
			    all[i]->unexpected, all[i]->unexpected_message);
	}
	snprintf(figures, sizeof figures,
	    "%d kill -9s (restart to ready at most %lld ms); %ld calls: %ld "
	    "OK, %ld UNAVAILABLE or DEADLINE_EXCEEDED, %ld last-admin "
	    "refusals, %ld unexpected",
	    CRASHES, (long long)restart_max, total.calls, total.ok,
	    total.transport, total.refused, total.unexpected);
	printf("  %s\n", figures);
	EXPECT(total.ok > 0);
	EXPECT_INT(total.unexpected, 0);
}

static void
acknowledged_writes_are_present(void)
{
	struct fault_sign_ups s = {0};
	for (int i = 0; i < 2; i++) {
		for (size_t k = 0; k < signers[i].n; k++) {
			const struct signup *a = &signers[i].done[k];
			fault_sign_up_judge(h.db, a->name, a->rc, &s);
		}
		free(signers[i].done);
	}
	printf("  sign-ups: %ld acknowledged, %ld found whole; %ld failed, %ld "
	       "of them committed (reply lost in the crash); %ld half-made\n",
	    s.acked, s.found, s.failed, s.committed, s.partial);
	EXPECT(s.acked > 0);
	EXPECT_INT(s.found, s.acked);
	EXPECT_INT(s.partial, 0);

	long accepted = 0, joined = 0, tried = 0;
	for (int i = 0; i < INVITES; i++) {
		const struct invitation *inv = &invitations[i];
		if (inv->rc == (exa_status)-1)
			continue;
		tried++;
		if (inv->rc != EXA_OK)
			continue;
		accepted++;
		long m = fault_sql_count(h.db,
		    "SELECT count(*) FROM memberships m JOIN invitations i"
		    " ON i.workspace_id = m.workspace_id AND i.closed_by = "
		    "m.user_id"
		    " AND i.state = 'accepted' AND i.role = m.role"
		    " WHERE m.workspace_id = $1 AND m.user_id = $2 AND m.role "
		    "= $3",
		    inv->ws, inv->invitee.id, fault_role_name(inv->role), NULL);
		joined += m == 1;
		if (m != 1)
			fprintf(stderr,
			    "  acknowledged acceptance by %s is missing\n",
			    inv->invitee.username);
	}
	printf("  acceptances: %ld attempted, %ld acknowledged, %ld found\n",
	    tried, accepted, joined);
	EXPECT(accepted > 0);
	EXPECT_INT(joined, accepted);

	long checked = 0, wrong = 0;
	for (int t = 0; t < ROLE_TEAMS; t++) {
		for (int m = 0; m < MEMBERS; m++) {
			const struct role_team *rt = &teams[t];
			PGresult *res = PQexecParams(h.db,
			    "SELECT role FROM memberships WHERE workspace_id = "
			    "$1"
			    " AND user_id = $2",
			    2, NULL, (const char *const[]){rt->ws, rt->m[m].id},
			    NULL, NULL, 0);
			const char *role =
			    PQresultStatus(res) == PGRES_TUPLES_OK &&
			            PQntuples(res) == 1
			        ? PQgetvalue(res, 0, 0)
			        : "none";
			bool ok =
			    strcmp(role, fault_role_name(rt->acked[m])) == 0;
			for (int r = 1; r <= 3 && !ok; r++)
				ok = (rt->maybe[m] & (1u << r)) &&
				     strcmp(role, fault_role_name(r)) == 0;
			checked++;
			if (!ok) {
				wrong++;
				fprintf(stderr,
				    "  member %d of team %d is %s; last "
				    "acknowledged %s\n",
				    m, t, role, fault_role_name(rt->acked[m]));
			}
			PQclear(res);
		}
	}
	printf("  roles: %ld memberships match their last acknowledged "
	       "change, %ld do not\n",
	    checked - wrong, wrong);
	EXPECT_INT(wrong, 0);
}

static void
no_half_state_exists(void)
{
	static const struct {
		const char *what;
		const char *sql;
	} invariants[] = {
	    {"users without a personal workspace",
	        "SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM"
	        " workspaces w WHERE w.owner_user_id = u.id"
	        " AND w.kind = 'personal')"},
	    {"personal workspaces not held by their owner alone, as admin",
	        "SELECT count(*) FROM workspaces w WHERE w.kind = 'personal' "
	        "AND"
	        " ((SELECT count(*) FROM memberships m"
	        "   WHERE m.workspace_id = w.id) <> 1 OR NOT EXISTS (SELECT 1"
	        "   FROM memberships m WHERE m.workspace_id = w.id"
	        "   AND m.user_id = w.owner_user_id AND m.role = 'admin'))"},
	    {"workspaces without a current API key",
	        "SELECT count(*) FROM workspaces w WHERE NOT EXISTS (SELECT 1"
	        " FROM api_keys k WHERE k.workspace_id = w.id"
	        " AND k.expires_at IS NULL)"},
	    {"accepted invitations without their membership",
	        "SELECT count(*) FROM invitations i WHERE i.state = 'accepted'"
	        " AND NOT EXISTS (SELECT 1 FROM memberships m"
	        " WHERE m.workspace_id = i.workspace_id"
	        " AND m.user_id = i.closed_by AND m.role = i.role)"},
	    {"invitees who are members though their invitation is open",
	        "SELECT count(*) FROM invitations i JOIN users u"
	        " ON lower(u.username) = lower(i.invitee_username)"
	        " JOIN memberships m ON m.workspace_id = i.workspace_id"
	        " AND m.user_id = u.id WHERE i.state <> 'accepted'"},
	    {"teams without an admin", "SELECT count(*) FROM workspaces w "
	                               "WHERE w.kind = 'team' AND NOT"
	                               " EXISTS (SELECT 1 FROM memberships m "
	                               "WHERE m.workspace_id = w.id"
	                               " AND m.role = 'admin')"},
	    {"revisions without their change-log row",
	        "SELECT (SELECT value FROM revision_counter) -"
	        " (SELECT count(*) FROM change_log)"},
	};
	for (size_t i = 0; i < sizeof invariants / sizeof invariants[0]; i++) {
		long n = fault_sql_count(h.db, invariants[i].sql, NULL);
		if (n != 0)
			fprintf(stderr, "  %s: %ld\n", invariants[i].what, n);
		EXPECT_INT(n, 0);
	}
	long users = fault_sql_count(h.db, "SELECT count(*) FROM users", NULL);
	long accepted = fault_sql_count(h.db,
	    "SELECT count(*) FROM invitations WHERE state = 'accepted'", NULL);
	printf(
	    "  invariants hold over %ld users and %ld accepted invitations\n",
	    users, accepted);
}

static const struct unit_case cases[] = {
    {"kill -9 during sign-ups, acceptances and role changes",
        kill_9_during_writes},
    {"acknowledged writes are present", acknowledged_writes_are_present},
    {"no half-state exists", no_half_state_exists},
};

UNIT_STATE

int
main(void)
{
	fault_watchdog(140);
	fault_daemon_prepare(&h, "crash", NULL);
	if (fault_daemon_start(&h, NULL) != 0)
		return 2;
	set_up();
	int failed = unit_run(cases, sizeof cases / sizeof cases[0]);
	int status = fault_daemon_stop(&h);
	printf("  exit status on SIGTERM after the restarts: %d\n", status);
	EXPECT_INT(status, 0);
	fault_daemon_free(&h, status == 0 && failed == 0);
	return failed == 0 && status == 0 ? 0 : 1;
}
