/* tls+tcp:// (SPEC §5): a throwaway CA and server certificate made with
 * openssl; a client that trusts the CA is served, one that trusts another
 * CA is refused, one with no CA file is refused before it dials, and the
 * daemon refuses to start with a key that is not a key; the key's text is
 * not left in the daemon's memory once it has been loaded; connections
 * whose TLS handshake never finishes are shut down after the receive
 * timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;
static char dir[] = "/tmp/exa-tls.XXXXXX";
static char url[128];
static int metrics_port;

/* make_certs writes ca.pem, server.pem/server.key (for 127.0.0.1 and
 * localhost, signed by ca) and other-ca.pem. */
static int
make_certs(void)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "cd %s && "
	          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	          " -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=exa-test-ca"
	          " 2>/dev/null && "
	          "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	          " -nodes -keyout server.key -out server.csr -subj /CN=localhost"
	          " 2>/dev/null && "
	          "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf && "
	          "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key"
	          " -CAcreateserial -out server.pem -days 2 -extfile ext.cnf"
	          " 2>/dev/null && "
	          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
	          " -nodes -keyout other-ca.key -out other-ca.pem -days 2"
	          " -subj /CN=someone-else 2>/dev/null", dir);
	return system(cmd);
}

static exa_status
get_user_over_tls(const char *ca_file, int timeout_ms, exa_error *err)
{
	exa_client *c;
	/* By its DNS name: the TLS library here (mbedtls 2.28) does not match
	 * IP addresses against the certificate. */
	exa_client_options opts = {.timeout_ms = timeout_ms,
	    .tls_ca_file = ca_file, .tls_server_name = "localhost"};
	exa_status rc = exa_client_open(url, h.token, &opts, &c, err);
	if (rc != EXA_OK)
		return rc;
	Exe__Access__V1__GetUserRequest req = EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	req.user_id = "00000000-0000-4000-8000-000000000000";
	Exe__Access__V1__GetUserResponse *r = NULL;
	rc = exa_get_user(c, &req, &r, err);
	exa_free(r);
	exa_client_close(c);
	return rc;
}

static void
a_client_trusting_the_ca_is_served(void)
{
	char ca[300];
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	exa_error err;
	/* NOT_FOUND: the request crossed TLS and reached its handler. */
	EXPECT_INT(get_user_over_tls(ca, 5000, &err), EXA_NOT_FOUND);
}

static void
a_client_trusting_another_ca_is_refused(void)
{
	char other[300];
	snprintf(other, sizeof other, "%s/other-ca.pem", dir);
	exa_error err;
	exa_status rc = get_user_over_tls(other, 1000, &err);
	EXPECT(rc == EXA_DEADLINE_EXCEEDED || rc == EXA_UNAVAILABLE);
	EXPECT_CONTAINS(err.message, url);
}

static void
a_client_without_a_ca_file_is_refused_before_dialing(void)
{
	exa_error err;
	EXPECT_INT(get_user_over_tls(NULL, 1000, &err), EXA_INVALID_ARGUMENT);
	EXPECT_CONTAINS(err.message, "tls_ca_file");
}

static void
the_daemon_refuses_a_bad_key(void)
{
	char flags[3][400];
	snprintf(flags[0], sizeof flags[0], "--listen=tls+tcp://127.0.0.1:%d",
	    fixture_free_port());
	snprintf(flags[1], sizeof flags[1], "--tls-cert=%s/server.pem", dir);
	snprintf(flags[2], sizeof flags[2], "--tls-key=%s/ca.pem", dir);
	char cmd[4096];
	snprintf(cmd, sizeof cmd,
	    "%s %s %s %s --database-url='%s' --hash-key-file=%s"
	    " --activity-key-file=%s --token-file=%s > %s/bad.log 2>&1",
	    getenv("EXA_TEST_DAEMON"), flags[0], flags[1], flags[2], h.conninfo,
	    h.key_path, h.activity_key_path, h.token_path, dir);
	int status = system(cmd);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	snprintf(cmd, sizeof cmd, "grep -q 'tls-key' %s/bad.log", dir);
	EXPECT_INT(system(cmd), 0);
	/* And a tls+tcp:// URL without a certificate is a configuration
	 * error. */
	snprintf(cmd, sizeof cmd, "%s %s > %s/bad2.log 2>&1",
	    getenv("EXA_TEST_DAEMON"), flags[0], dir);
	status = system(cmd);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

static void
the_private_key_leaves_no_copy_behind(void)
{
	/* The daemon read server.key at start. The key's PEM text must be
	 * nowhere in its memory now, freed memory included: it was read into
	 * guarded memory and wiped once nng had parsed it. Each base64 line
	 * is searched for on its own (a freed buffer's first bytes are
	 * overwritten by the allocator's own pointers). */
	char path[300];
	snprintf(path, sizeof path, "%s/server.key", dir);
	FILE *f = fopen(path, "r");
	EXPECT(f != NULL);
	if (f == NULL)
		return;
	char line[128];
	int lines = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		size_t n = strcspn(line, "\r\n");
		if (strncmp(line, "-----", 5) == 0 || n < 32)
			continue;
		lines++;
		int found = harness_memory_contains(h.pid, line, n);
		EXPECT_INT(found, 0);
	}
	fclose(f);
	EXPECT(lines >= 2);
}

/* tls_port is the port of `url`. */
static int
tls_port(void)
{
	const char *colon = strrchr(url, ':');
	return colon != NULL ? atoi(colon + 1) : 0;
}

static void
unfinished_handshakes_are_shut_down(void)
{
	/* The daemon runs with --recv-timeout-ms=1500. Connections that
	 * never start the TLS handshake, or stop in the middle of the
	 * ClientHello, are invisible to nng's pipe events and would hold
	 * their descriptors for ever: they are shut down after the timeout
	 * (and within a sweep or so). */
	enum { N = 10 };
	int fds[N];
	for (int i = 0; i < N; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in addr = {.sin_family = AF_INET,
		    .sin_port = htons((uint16_t)tls_port())};
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		EXPECT(connect(fds[i], (struct sockaddr *)&addr, sizeof addr) ==
		    0);
		/* Half of them: the first bytes of a TLS record. */
		static const unsigned char hello[] = {0x16, 0x03, 0x01, 0x02,
		    0x00, 0x01};
		if (i % 2 == 1)
			EXPECT(write(fds[i], hello, sizeof hello) ==
			    (ssize_t)sizeof hello);
	}
	/* Meanwhile a client that calls every 200 ms is served every time:
	 * its connection is a pipe, not an unfinished handshake. */
	exa_client *c;
	exa_error err;
	char ca[300];
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	exa_client_options opts = {.timeout_ms = 5000, .tls_ca_file = ca,
	    .tls_server_name = "localhost"};
	EXPECT_INT(exa_client_open(url, h.token, &opts, &c, &err), EXA_OK);
	int served = 0;
	for (int i = 0; i < 15; i++) {
		Exe__Access__V1__GetUserRequest req =
		    EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
		req.user_id = "00000000-0000-4000-8000-000000000000";
		Exe__Access__V1__GetUserResponse *r = NULL;
		served += exa_get_user(c, &req, &r, &err) == EXA_NOT_FOUND;
		exa_free(r);
		usleep(200 * 1000);
	}
	exa_client_close(c);
	EXPECT_INT(served, 15);
	int closed = 0;
	for (int i = 0; i < N; i++) {
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		char buf[16];
		ssize_t n = poll(&p, 1, 5000) == 1 ? read(fds[i], buf, sizeof buf)
		                                   : 1;
		closed += n == 0 || (n < 0 && errno == ECONNRESET);
		close(fds[i]);
	}
	EXPECT_INT(closed, N);
	char body[1 << 16];
	EXPECT_INT(fixture_http_get(metrics_port, "/metrics", body, sizeof body),
	    200);
	EXPECT(fixture_metric(body, "exe_access_tls_handshakes_timed_out_total") >=
	    N);
}

static const struct unit_case cases[] = {
    {"unfinished handshakes are shut down",
        unfinished_handshakes_are_shut_down},
    {"the private key leaves no copy behind",
        the_private_key_leaves_no_copy_behind},
    {"a client trusting the CA is served", a_client_trusting_the_ca_is_served},
    {"a client trusting another CA is refused",
        a_client_trusting_another_ca_is_refused},
    {"a client without a CA file is refused before dialing",
        a_client_without_a_ca_file_is_refused_before_dialing},
    {"the daemon refuses a bad key", the_daemon_refuses_a_bad_key},
};

UNIT_STATE

int
main(void)
{
	if (mkdtemp(dir) == NULL || make_certs() != 0) {
		fprintf(stderr, "cannot make test certificates with openssl\n");
		return 2;
	}
	snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d",
	    fixture_free_port());
	char listen[160], cert[300], key[300], metrics[96];
	snprintf(listen, sizeof listen, "--listen=%s", url);
	snprintf(cert, sizeof cert, "--tls-cert=%s/server.pem", dir);
	snprintf(key, sizeof key, "--tls-key=%s/server.key", dir);
	metrics_port = fixture_free_port();
	snprintf(metrics, sizeof metrics,
	    "--metrics-address=http://127.0.0.1:%d", metrics_port);
	int status = fixture_run_suite(&h, "tls",
	    (const char *const[]){listen, cert, key, metrics,
	        "--recv-timeout-ms=1500", NULL}, cases,
	    sizeof cases / sizeof cases[0]);
	harness_remove_tree(dir);
	return status;
}
