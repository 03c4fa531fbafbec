/* The daemon's life: replicas that start together and race to migrate one
 * database, SIGTERM in the middle of traffic (every request answered,
 * every acknowledged write kept, exit 0), refusal of bad configuration,
 * the embedded default, and the client's bounded wait for a server that
 * is not there. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static void
replicas_starting_together_migrate_once(void)
{
	struct harness hs[3];
	harness_start_together(hs, 3, "together");
	EXPECT_INT(harness_sql_long(&hs[0],
	    "SELECT count(*) FROM schema_migrations", NULL),
	    harness_sql_long(&hs[0],
	        "SELECT max(version) FROM schema_migrations", NULL));
	/* All three serve the same data. */
	exa_error err;
	Exe__Access__V1__CreateUserResponse *u = NULL;
	EXPECT_INT(fixture_create_user(hs[1].client, "together1", NULL, NULL,
	    &u, &err), EXA_OK);
	char id[40] = "";
	if (u != NULL)
		snprintf(id, sizeof id, "%s", u->user->id);
	exa_free(u);
	EXPECT_INT(fixture_create_user(hs[2].client, "TOGETHER1", NULL, NULL,
	    NULL, &err), EXA_ALREADY_EXISTS);
	exa_decision d;
	Exe__Access__V1__ListWorkspacesRequest req =
	    EXE__ACCESS__V1__LIST_WORKSPACES_REQUEST__INIT;
	req.user_id = id;
	Exe__Access__V1__ListWorkspacesResponse *ws = NULL;
	EXPECT_INT(exa_list_workspaces(hs[0].client, &req, &ws, &err), EXA_OK);
	if (ws != NULL && ws->n_workspaces == 1) {
		EXPECT_INT(exa_check(hs[2].client, id, "workspace.delete",
		    ws->workspaces[0]->workspace->id, &d, &err), EXA_OK);
		EXPECT(d.allowed);
	}
	exa_free(ws);
	for (int i = 2; i >= 0; i--)
		EXPECT_INT(harness_stop(&hs[i]), 0);
}

struct writer {
	exa_client *client;
	int index;
	atomic_bool *stop;
	int ok;
	int failed_cleanly; /* UNAVAILABLE or DEADLINE_EXCEEDED */
	int other;
	char ok_names[400][40];
};

static void *
write_until_stopped(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < 400 && !atomic_load(w->stop); i++) {
		char name[40];
		snprintf(name, sizeof name, "drain%dw%di%d", (int)getpid(),
		    w->index, i);
		exa_error err;
		exa_status rc = fixture_create_user(w->client, name, NULL, NULL,
		    NULL, &err);
		if (rc == EXA_OK)
			snprintf(w->ok_names[w->ok++], 40, "%s", name);
		else if (rc == EXA_UNAVAILABLE || rc == EXA_DEADLINE_EXCEEDED)
			w->failed_cleanly++;
		else
			w->other++;
	}
	return NULL;
}

static void
sigterm_answers_in_flight_requests_and_exits_zero(void)
{
	enum { WRITERS = 6 };
	struct harness h;
	harness_start(&h, "drain", NULL);
	atomic_bool stop = false;
	static struct writer writers[WRITERS];
	pthread_t threads[WRITERS];
	exa_client *clients[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		exa_error err;
		exa_client_options opts = {.timeout_ms = 3000};
		EXPECT_INT(exa_client_open(h.url, h.token, &opts, &clients[i], &err),
		    EXA_OK);
		writers[i] = (struct writer){.client = clients[i], .index = i,
		    .stop = &stop};
		pthread_create(&threads[i], NULL, write_until_stopped, &writers[i]);
	}
	/* Let traffic build, then stop the daemon under it. */
	usleep(300 * 1000);
	int status = harness_stop(&h);
	atomic_store(&stop, true);
	int ok = 0, other = 0;
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(threads[i], NULL);
		ok += writers[i].ok;
		other += writers[i].other;
		exa_client_close(clients[i]);
	}
	int refused = 0;
	for (int i = 0; i < WRITERS; i++)
		refused += writers[i].failed_cleanly;
	printf("  drain: %d sign-ups acknowledged, %d refused cleanly after "
	       "the stop\n", ok, refused);
	EXPECT_INT(status, 0);
	EXPECT(ok > 0);
	EXPECT_INT(other, 0);

	/* Every acknowledged sign-up is in the database, whole. */
	PGconn *db = PQconnectdb(h.conninfo);
	EXPECT_INT(PQstatus(db), CONNECTION_OK);
	int missing = 0;
	for (int i = 0; i < WRITERS; i++) {
		for (int j = 0; j < writers[i].ok; j++) {
			const char *p[] = {writers[i].ok_names[j]};
			PGresult *res = PQexecParams(db,
			    "SELECT count(*) FROM users u JOIN workspaces w"
			    " ON w.owner_user_id = u.id WHERE u.username = $1",
			    1, NULL, p, NULL, NULL, 0);
			if (PQresultStatus(res) != PGRES_TUPLES_OK ||
			    strcmp(PQgetvalue(res, 0, 0), "1") != 0)
				missing++;
			PQclear(res);
		}
	}
	PQfinish(db);
	EXPECT_INT(missing, 0);
}

/* now_ms is the monotonic clock in milliseconds. */
static int64_t
now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A replica host that stopped answering: a loopback listener that takes
 * connections and never says a word. */
struct quiet_host {
	int listener;
	atomic_bool stop;
	atomic_int held; /* connections taken and kept */
	int fds[16];
};

static void *
quiet_host_main(void *arg)
{
	struct quiet_host *q = arg;
	while (!atomic_load(&q->stop)) {
		struct pollfd pfd = {.fd = q->listener, .events = POLLIN};
		if (poll(&pfd, 1, 50) != 1)
			continue;
		int fd = accept(q->listener, NULL, NULL);
		int n = atomic_load(&q->held);
		if (fd >= 0 && n < 16) {
			q->fds[n] = fd;
			atomic_store(&q->held, n + 1);
		} else if (fd >= 0) {
			close(fd);
		}
	}
	return NULL;
}

/* A read replica whose host stopped answering holds every connect to it
 * for the URL's connect_timeout, 60 s here. Start-up waits for it no
 * more than a second; and SIGTERM, while the replica monitor sits in
 * such a connect, still ends the daemon about --exit-timeout-ms after the
 * drain, with exit code 0, and the log names the step that stalled. */
static void
a_replica_host_that_does_not_answer_holds_up_neither_start_nor_stop(void)
{
	static struct quiet_host q;
	q.listener = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof addr;
	if (q.listener < 0 ||
	    bind(q.listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(q.listener, 16) != 0 ||
	    getsockname(q.listener, (struct sockaddr *)&addr, &len) != 0) {
		EXPECT(!"a loopback listener");
		if (q.listener >= 0)
			close(q.listener);
		return;
	}
	pthread_t thread;
	pthread_create(&thread, NULL, quiet_host_main, &q);
	char replica[200];
	snprintf(replica, sizeof replica,
	    "--read-database-url=postgresql://exa@127.0.0.1:%d/exa"
	    "?connect_timeout=60",
	    ntohs(addr.sin_port));
	struct harness h;
	int64_t t0 = now_ms();
	harness_start(&h, "quiet_replica",
	    (const char *const[]){replica, "--exit-timeout-ms=1000", NULL});
	int64_t started = now_ms() - t0;
	EXPECT(atomic_load(&q.held) > 0);
	h.keep_dir = true;
	t0 = now_ms();
	int status = harness_stop(&h);
	int64_t stopped = now_ms() - t0;
	printf("  started in %lld ms, stopped in %lld ms, with %d connections "
	       "to the replica host held\n",
	    (long long)started, (long long)stopped, atomic_load(&q.held));
	EXPECT(started < 15000); /* the connect alone would take 60 s */
	EXPECT_INT(status, 0);
	EXPECT(stopped < 15000);
	EXPECT(harness_log_contains(&h,
	    "\"event\":\"shutdown_stalled\",\"step\":\"replicas\""));
	harness_remove_tree(h.dir);
	atomic_store(&q.stop, true);
	pthread_join(thread, NULL);
	for (int i = 0; i < atomic_load(&q.held); i++)
		close(q.fds[i]);
	close(q.listener);
}

/* run_daemon runs exe-accessd with `args` to completion (it should refuse
 * to start) and returns its exit status, its output in `out`; one that
 * is still running after 30 s (it started) is killed: -2. */
static int
run_daemon(const char *const *args, char *out, size_t out_size)
{
	int fds[2];
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		const char *argv[16] = {getenv("EXA_TEST_DAEMON")};
		for (int i = 0; args[i] != NULL && i < 14; i++)
			argv[i + 1] = args[i];
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	size_t n = 0;
	ssize_t r = 1;
	int64_t until = now_ms() + 30000;
	bool killed = false;
	while (n + 1 < out_size && r > 0) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		int64_t left = until - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) != 1) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		r = read(fds[0], out + n, out_size - 1 - n);
		if (r > 0)
			n += (size_t)r;
	}
	out[n] = '\0';
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	if (killed)
		return -2;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* write_key writes a hash key (64 hex digits) to `fd`. (Not dprintf: its
 * glibc buffer leaks on such files under LeakSanitizer.) */
static void
write_key(int fd)
{
	static const char key[] =
	    "00112233445566778899001122334455667788990011223344556677889900"
	    "11\n";
	if (write(fd, key, sizeof key - 1) != (ssize_t)(sizeof key - 1))
		EXPECT(!"cannot write the key file");
}

static void
bad_configuration_is_refused_with_the_option_named(void)
{
	char out[4096];
	EXPECT_INT(run_daemon((const char *const[]){"--workers=0", NULL}, out,
	    sizeof out), 2);
	EXPECT_CONTAINS(out, "--workers");
	EXPECT_INT(run_daemon((const char *const[]){"--listen=http://x", NULL},
	    out, sizeof out), 2);
	EXPECT_CONTAINS(out, "--listen");
	EXPECT_INT(run_daemon((const char *const[]){"--no-such-flag", NULL}, out,
	    sizeof out), 2);
	EXPECT_CONTAINS(out, "--no-such-flag");
	EXPECT_INT(run_daemon((const char *const[]){"--log-level=loud", NULL},
	    out, sizeof out), 2);
	EXPECT_CONTAINS(out, "--log-level");
	EXPECT_INT(run_daemon((const char *const[]){
	    "--database-url=host=/nonexistent", NULL}, out, sizeof out), 1);
	EXPECT_CONTAINS(out, "--hash-key-file");
	EXPECT_INT(run_daemon((const char *const[]){"--database-url=host=/x",
	    "--hash-key-file=/nonexistent/key", NULL}, out, sizeof out), 1);
	EXPECT_CONTAINS(out, "/nonexistent/key");
	EXPECT_INT(run_daemon((const char *const[]){"--help", NULL}, out,
	    sizeof out), 0);
	EXPECT_CONTAINS(out, "EXE_ACCESS_DATABASE_URL");
	EXPECT_CONTAINS(out, "EXE_ACCESS_TOKEN_FILE");

	/* The activity log has a key of its own: none, an unreadable one or
	 * the hash key itself, no start. */
	char key[] = "/tmp/exa-lifecycle-key.XXXXXX";
	int fd = mkstemp(key);
	EXPECT(fd >= 0);
	write_key(fd);
	close(fd);
	char key_flag[64];
	snprintf(key_flag, sizeof key_flag, "--hash-key-file=%s", key);
	EXPECT_INT(run_daemon((const char *const[]){"--database-url=host=/x",
	    key_flag, NULL}, out, sizeof out), 1);
	EXPECT_CONTAINS(out, "--activity-key-file is required");
	EXPECT_INT(run_daemon((const char *const[]){"--database-url=host=/x",
	    key_flag, "--activity-key-file=/nonexistent/akey", NULL}, out,
	    sizeof out), 1);
	EXPECT_CONTAINS(out, "/nonexistent/akey");
	char same_flag[64];
	snprintf(same_flag, sizeof same_flag, "--activity-key-file=%s", key);
	EXPECT_INT(run_daemon((const char *const[]){"--database-url=host=/x",
	    key_flag, same_flag, NULL}, out, sizeof out), 1);
	EXPECT_CONTAINS(out, "same key as --hash-key-file");
	char akey[] = "/tmp/exa-lifecycle-akey.XXXXXX";
	fd = mkstemp(akey);
	EXPECT(fd >= 0);
	static const char activity_hex[] =
	    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";
	if (write(fd, activity_hex, sizeof activity_hex - 1) !=
	    (ssize_t)(sizeof activity_hex - 1))
		EXPECT(!"cannot write the activity key file");
	close(fd);
	char akey_flag[64];
	snprintf(akey_flag, sizeof akey_flag, "--activity-key-file=%s", akey);

	/* Every caller authenticates: no token file, no start. */
	EXPECT_INT(run_daemon((const char *const[]){"--database-url=host=/x",
	    key_flag, akey_flag, NULL}, out, sizeof out), 1);
	EXPECT_CONTAINS(out, "--token-file");
	EXPECT_INT(run_daemon((const char *const[]){"--database-url=host=/x",
	    key_flag, akey_flag, "--token-file=/nonexistent/tokens", NULL}, out,
	    sizeof out), 1);
	EXPECT_CONTAINS(out, "/nonexistent/tokens");

	/* Start-up waits for the database, saying so, for a bounded time. */
	char token_file[] = "/tmp/exa-lifecycle-tokens.XXXXXX";
	fd = mkstemp(token_file);
	EXPECT(fd >= 0);
	close(fd);
	char token_flag[64];
	snprintf(token_flag, sizeof token_flag, "--token-file=%s", token_file);
	snprintf(key, sizeof key, "/tmp/exa-lifecycle-key.XXXXXX");
	fd = mkstemp(key);
	write_key(fd);
	close(fd);
	snprintf(key_flag, sizeof key_flag, "--hash-key-file=%s", key);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_INT(run_daemon((const char *const[]){
	    "--database-url=host=/nonexistent/socket/dir dbname=x",
	    key_flag, akey_flag, token_flag, "--db-connect-timeout=2", NULL},
	    out, sizeof out), 1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	EXPECT(waited >= 1.5 && waited < 10);
	EXPECT_CONTAINS(out, "\"event\":\"waiting_for_database\"");
	EXPECT_CONTAINS(out, "/nonexistent/socket/dir");
	EXPECT_CONTAINS(out, "did not accept connections within 2s");
	unlink(token_file);
	unlink(key);
	unlink(akey);

	/* Minting prints a token and the line that admits it. */
	EXPECT_INT(run_daemon((const char *const[]){"--mint-token=web:check",
	    NULL}, out, sizeof out), 0);
	EXPECT_CONTAINS(out, "exa_svc_");
	EXPECT_CONTAINS(out, "web check ");
	EXPECT_INT(run_daemon((const char *const[]){"--mint-token=web:root",
	    NULL}, out, sizeof out), 2);
	EXPECT_CONTAINS(out, "--mint-token");
}

static void
embedded_default_runs_its_own_postgresql(void)
{
	char dir[] = "/tmp/exa-embedded.XXXXXX";
	if (mkdtemp(dir) == NULL) {
		EXPECT(!"mkdtemp");
		return;
	}
	/* As root, PostgreSQL runs as another account that must reach it. */
	chmod(dir, 0755);
	char data[300], pidfile[400];
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(pidfile, sizeof pidfile, "%s/pg/postmaster.pid", data);

	struct harness h;
	harness_start_embedded(&h, data);
	EXPECT(harness_log_contains(&h, "embedded_started"));
	exa_error err;
	EXPECT_INT(fixture_create_user(h.client, "embedded1", NULL, NULL, NULL,
	    &err), EXA_OK);
	EXPECT(access(pidfile, F_OK) == 0);
	/* It made an activity key beside the hash key: its own, private. */
	char hash_key[400], activity_key[400];
	snprintf(hash_key, sizeof hash_key, "%s/hash.key", data);
	snprintf(activity_key, sizeof activity_key, "%s/activity.key", data);
	struct stat st;
	EXPECT(stat(activity_key, &st) == 0 && (st.st_mode & 0777) == 0600);
	char a[80] = "", k[80] = "";
	FILE *f = fopen(activity_key, "r");
	if (f != NULL) {
		EXPECT(fgets(a, sizeof a, f) != NULL);
		fclose(f);
	}
	f = fopen(hash_key, "r");
	if (f != NULL) {
		EXPECT(fgets(k, sizeof k, f) != NULL);
		fclose(f);
	}
	EXPECT_INT((int)strlen(a), 65);
	EXPECT(strcmp(a, k) != 0);
	/* PostgreSQL stops with the daemon. */
	EXPECT_INT(harness_stop(&h), 0);
	EXPECT(access(pidfile, F_OK) != 0);

	/* Started again on the same directory, the data is still there. */
	harness_start_embedded(&h, data);
	Exe__Access__V1__FindUserRequest find =
	    EXE__ACCESS__V1__FIND_USER_REQUEST__INIT;
	find.by_case = EXE__ACCESS__V1__FIND_USER_REQUEST__BY_USERNAME;
	find.username = "embedded1";
	Exe__Access__V1__FindUserResponse *found = NULL;
	EXPECT_INT(exa_find_user(h.client, &find, &found, &err), EXA_OK);
	exa_free(found);
	EXPECT_INT(harness_stop(&h), 0);
	harness_remove_tree(dir);
}

static void
client_gives_up_within_its_timeout(void)
{
	exa_client *c;
	exa_error err;
	exa_client_options opts = {.timeout_ms = 300};
	EXPECT_INT(exa_client_open("ipc:///tmp/exa-nobody-listens-here.sock",
	    NULL, &opts, &c, &err), EXA_OK);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_INT(fixture_create_user(c, "nobody", NULL, NULL, NULL, &err),
	    EXA_DEADLINE_EXCEEDED);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1000 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	EXPECT(ms < 3000);
	EXPECT_CONTAINS(err.message, "no reply");
	exa_client_close(c);
	EXPECT_INT(exa_client_open("", NULL, NULL, &c, &err),
	    EXA_INVALID_ARGUMENT);
	EXPECT_INT(exa_client_open("bogus://x", NULL, NULL, &c, &err),
	    EXA_INVALID_ARGUMENT);
}

/* A replica given another activity key than the log was chained with
 * would chain new records that read as tampered with (and hide a real
 * break after them): it does not start, and says which file is wrong. */
static void
a_wrong_activity_key_is_refused_at_start(void)
{
	struct harness h;
	harness_start(&h, "wrong_akey", NULL);
	struct fixture_user u;
	EXPECT(fixture_sign_up(h.client, "chained", &u));
	h.keep_dir = true;
	EXPECT_INT(harness_stop(&h), 0);
	char other[300];
	snprintf(other, sizeof other, "%s/other.akey", h.dir);
	int fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	EXPECT(fd >= 0);
	write_key(fd); /* not the harness's activity key */
	close(fd);
	char db[600], hash[320], akey[320], tokens[320], listen[320];
	snprintf(db, sizeof db, "--database-url=%s", h.conninfo);
	snprintf(hash, sizeof hash, "--hash-key-file=%s", h.key_path);
	snprintf(akey, sizeof akey, "--activity-key-file=%s", other);
	snprintf(tokens, sizeof tokens, "--token-file=%s", h.token_path);
	snprintf(listen, sizeof listen, "--listen=ipc://%s/again.sock", h.dir);
	char out[4096];
	EXPECT_INT(run_daemon((const char *const[]){db, hash, akey, tokens,
	    listen, NULL}, out, sizeof out), 1);
	EXPECT_CONTAINS(out, "--activity-key-file: not the key the activity "
	                     "log was chained with");
	/* Its own key still starts a daemon on that log. */
	struct harness again;
	harness_share_db(&again, &h);
	harness_spawn(&again, NULL);
	EXPECT(fixture_sign_up(again.client, "chained", &u));
	EXPECT_INT(harness_stop(&again), 0);
	harness_remove_tree(h.dir);
}

static const struct unit_case cases[] = {
    {"replicas starting together migrate once",
        replicas_starting_together_migrate_once},
    {"SIGTERM answers in-flight requests and exits 0",
        sigterm_answers_in_flight_requests_and_exits_zero},
    {"bad configuration is refused with the option named",
        bad_configuration_is_refused_with_the_option_named},
    {"embedded default runs its own PostgreSQL",
        embedded_default_runs_its_own_postgresql},
    {"client gives up within its timeout", client_gives_up_within_its_timeout},
    {"a wrong activity key is refused at start",
        a_wrong_activity_key_is_refused_at_start},
    {"a replica host that does not answer holds up neither start nor stop",
        a_replica_host_that_does_not_answer_holds_up_neither_start_nor_stop},
};

UNIT_STATE

int
main(void)
{
	return unit_run(cases, sizeof cases / sizeof cases[0]) == 0 ? 0 : 1;
}
