/* Caller authentication (SPEC §5): no or a wrong token is
 * UNAUTHENTICATED, a check-scoped token reaches AuthzService and read-only
 * calls only (PERMISSION_DENIED otherwise, naming the token and method),
 * the token file reloads on SIGHUP (a bad file keeps the old table), and
 * no token is ever logged. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fixtures.h"
#include "harness.h"
#include "unit/unit.h"

static struct harness h;

static exa_status
get_user_with(const char *token, exa_error *err)
{
	exa_client *c;
	exa_client_options opts = {.timeout_ms = 5000};
	if (exa_client_open(h.url, token, &opts, &c, err) != EXA_OK)
		return err->code;
	Exe__Access__V1__GetUserRequest req = EXE__ACCESS__V1__GET_USER_REQUEST__INIT;
	req.user_id = "00000000-0000-4000-8000-000000000000";
	Exe__Access__V1__GetUserResponse *r = NULL;
	exa_status rc = exa_get_user(c, &req, &r, err);
	exa_free(r);
	exa_client_close(c);
	return rc;
}

static exa_status
create_user_with(const char *token, const char *name, exa_error *err)
{
	exa_client *c;
	if (exa_client_open(h.url, token, NULL, &c, err) != EXA_OK)
		return err->code;
	exa_status rc = fixture_create_user(c, name, NULL, NULL, NULL, err);
	exa_client_close(c);
	return rc;
}

static void
callers_without_a_good_token_are_refused(void)
{
	exa_error err;
	EXPECT_INT(get_user_with(NULL, &err), EXA_UNAUTHENTICATED);
	EXPECT_CONTAINS(err.message, "token: missing");
	EXPECT_INT(get_user_with("exa_svc_wrongwrongwrongwrongwrongwrongwrongwrongwro",
	    &err), EXA_UNAUTHENTICATED);
	EXPECT_CONTAINS(err.message, "not recognized");
	EXPECT_INT(get_user_with("short", &err), EXA_UNAUTHENTICATED);
	/* A token over the length limit (256 bytes) is a wrong token like
	 * any other, answered in the same words, not bad input. */
	char long_token[301];
	memset(long_token, 'x', 300);
	long_token[300] = '\0';
	memcpy(long_token, h.token, strlen(h.token));
	EXPECT_INT(get_user_with(long_token, &err), EXA_UNAUTHENTICATED);
	EXPECT_CONTAINS(err.message, "token: not recognized");
	/* The same calls with the right token go through to the handler. */
	EXPECT_INT(get_user_with(h.token, &err), EXA_NOT_FOUND);
}

static void
check_scope_reaches_reads_only(void)
{
	exa_error err;
	/* A read for nobody in particular is the service's: admin only. */
	EXPECT_INT(get_user_with(h.check_token, &err), EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "actor: missing");
	EXPECT_INT(create_user_with(h.check_token, harness_unique("scoped"), &err),
	    EXA_PERMISSION_DENIED);
	EXPECT_CONTAINS(err.message, "token \"checker\" has scope check");
	EXPECT_CONTAINS(err.message, "WorkspaceService/CreateUser");
	EXPECT_INT(create_user_with(h.token, harness_unique("scoped"), &err),
	    EXA_OK);

	exa_client *c;
	EXPECT_INT(exa_client_open(h.url, h.check_token, NULL, &c, &err), EXA_OK);
	exa_decision d;
	EXPECT_INT(exa_check(c, "00000000-0000-4000-8000-000000000000",
	    "workspace.view", "00000000-0000-4000-8000-000000000001", &d, &err),
	    EXA_OK);
	EXPECT(!d.allowed);
	exa_client_close(c);
}

static void
write_tokens(const char *text)
{
	FILE *f = fopen(h.token_path, "w");
	EXPECT(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* wait_for_log waits up to 5 s for `text` in the daemon's log. */
static bool
wait_for_log(const char *text)
{
	for (int i = 0; i < 500; i++) {
		if (harness_log_contains(&h, text))
			return true;
		usleep(10000);
	}
	return false;
}

static void
sighup_reloads_the_token_file(void)
{
	char original[1024] = "";
	FILE *f = fopen(h.token_path, "r");
	size_t n = f != NULL ? fread(original, 1, sizeof original - 1, f) : 0;
	original[n] = '\0';
	if (f != NULL)
		fclose(f);

	/* Drop the checker, add a new caller. */
	const char *fresh = "exa_svc_freshCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC";
	unsigned char hash[32];
	char hex[65];
	crypto_generichash(hash, sizeof hash, (const unsigned char *)fresh,
	    strlen(fresh), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
	char text[2048];
	const char *admin_line = strstr(original, "tests admin");
	snprintf(text, sizeof text, "%.*s\nfresh admin %s\n",
	    admin_line != NULL ? (int)strcspn(admin_line, "\n") : 0,
	    admin_line != NULL ? admin_line : "", hex);
	write_tokens(text);
	kill(h.pid, SIGHUP);
	EXPECT(wait_for_log("\"event\":\"tokens_reloaded\""));
	exa_error err;
	EXPECT_INT(get_user_with(fresh, &err), EXA_NOT_FOUND);
	EXPECT_INT(get_user_with(h.check_token, &err), EXA_UNAUTHENTICATED);

	/* A broken file is refused and the table in force stays. */
	write_tokens("fresh superuser 1234\n");
	kill(h.pid, SIGHUP);
	EXPECT(wait_for_log("\"event\":\"tokens_reload_failed\""));
	EXPECT(harness_log_contains(&h, "superuser"));
	EXPECT_INT(get_user_with(fresh, &err), EXA_NOT_FOUND);
	EXPECT_INT(get_user_with(h.token, &err), EXA_NOT_FOUND);

	write_tokens(original);
	kill(h.pid, SIGHUP);
	usleep(200 * 1000);
}

static void
tokens_never_reach_the_log(void)
{
	EXPECT(harness_log_contains(&h, "\"event\":\"ready\""));
	EXPECT(!harness_log_contains(&h, h.token));
	EXPECT(!harness_log_contains(&h, h.check_token));
	EXPECT(!harness_log_contains(&h, "exa_svc_fresh"));
}

static const struct unit_case cases[] = {
    {"callers without a good token are refused",
        callers_without_a_good_token_are_refused},
    {"a check token reaches reads only", check_scope_reaches_reads_only},
    {"SIGHUP reloads the token file", sighup_reloads_the_token_file},
    {"tokens never reach the log", tokens_never_reach_the_log},
};

UNIT_STATE

int
main(void)
{
	return fixture_run_suite(&h, "auth", NULL, cases,
	    sizeof cases / sizeof cases[0]);
}
