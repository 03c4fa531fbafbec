/* Unit tests for the call's helpers (rpc/call.h): guarded memory for the
 * secrets a response carries, and its release by pipeline_end. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/call.h"
#include "rpc/pipeline.h"
#include "unit.h"

static const struct service_ctx test_svc = {0};

static void
call_start(struct call *call)
{
	memset(call, 0, sizeof *call);
	arena_init(&call->arena);
	call->svc = &test_svc;
}

/* all_are reports whether the `n` bytes at `p` are all `c`. */
static bool
all_are(const char *p, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != c)
			return false;
	return true;
}

static void
second_secret_has_its_own_size(void)
{
	/* A second request, larger than the first, gets memory of its own
	 * of the size it asked for: filling it whole neither overruns nor
	 * touches the first. */
	struct call call;
	call_start(&call);
	char *a = call_secret(&call, 8);
	EXPECT(a != NULL);
	char *b = call_secret(&call, 4096);
	EXPECT(b != NULL);
	EXPECT(a != b);
	if (a != NULL && b != NULL && a != b) {
		EXPECT(all_are(a, 8, 0));
		EXPECT(all_are(b, 4096, 0));
		memset(a, 'a', 8);
		memset(b, 'b', 4096);
		EXPECT(all_are(a, 8, 'a'));
		EXPECT(all_are(b, 4096, 'b'));
	}
	pipeline_end(&call);
	EXPECT(call.secrets == NULL);
}

static void
handler_run_again_gets_fresh_memory(void)
{
	/* The same handler run twice on one call (a retry on a fresh
	 * connection) asks for the same size twice: the second run starts
	 * from zeroed memory, not from the first run's secret. */
	struct call call;
	call_start(&call);
	char *a = call_secret(&call, 41);
	EXPECT(a != NULL);
	if (a != NULL)
		memset(a, 'x', 40);
	char *b = call_secret(&call, 41);
	EXPECT(b != NULL);
	EXPECT(a != b);
	if (b != NULL)
		EXPECT(all_are(b, 41, 0));
	pipeline_end(&call);
	EXPECT(call.secrets == NULL);
	/* The call is reusable: the next request starts with no secrets. */
	char *c = call_secret(&call, 16);
	EXPECT(c != NULL);
	pipeline_end(&call);
	EXPECT(call.secrets == NULL);
}

static const struct unit_case cases[] = {
	{"second_secret_has_its_own_size", second_secret_has_its_own_size},
	{"handler_run_again_gets_fresh_memory",
	    handler_run_again_gets_fresh_memory},
};

UNIT_STATE

int
main(void)
{
	if (sodium_init() < 0)
		return 1;
	return unit_run(cases, sizeof cases / sizeof cases[0]) == 0 ? 0 : 1;
}
