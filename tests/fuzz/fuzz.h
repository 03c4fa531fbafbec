/* What the fuzz targets and the seed generator share: FUZZ_CHECK, an
 * assertion that holds in every build, so that a broken contract is a crash
 * libFuzzer keeps the input of, like a memory error the sanitizers catch;
 * the layout of fuzz_dispatch's input; and the caller tokens its token
 * table knows. */
#ifndef EXE_FUZZ_H
#define EXE_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

/* FUZZ_CHECK(cond, fmt, ...) prints where and why, then aborts. */
#define FUZZ_CHECK(cond, ...)                                                 \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, \
			    __LINE__, #cond);                                 \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
			abort();                                              \
		}                                                             \
	} while (0)

/* fuzz_dispatch's input: byte 0 picks the method (modulo
 * dispatch_method_count), byte 1 holds the flags below, and the rest is
 * the method's request body, which the target wraps in a valid RpcRequest;
 * with FUZZ_ENVELOPE the rest is the whole RpcRequest instead, and byte 0
 * is not used. */
enum fuzz_flags {
	FUZZ_ENVELOPE = 1u << 0,
	/* Who calls (bits 1-2): with FUZZ_CALLER_NONE the service runs without
	 * a token table; otherwise with one, and the wrapped request carries
	 * the admin token, the check token or one the table does not know.
	 * With FUZZ_ENVELOPE any value but NONE just turns the table on. */
	FUZZ_CALLER_SHIFT = 1,
	FUZZ_CALLER_MASK = 3u << FUZZ_CALLER_SHIFT,
	/* The wrapped request's deadline (bits 3-4). */
	FUZZ_DEADLINE_SHIFT = 3,
	FUZZ_DEADLINE_MASK = 3u << FUZZ_DEADLINE_SHIFT,
	/* Replies limited to FUZZ_SMALL_REPLY bytes instead of 1 MiB. */
	FUZZ_SMALL_REPLY = 1u << 5,
	/* Requests limited to FUZZ_SMALL_REQUEST bytes instead of 1 MiB. */
	FUZZ_SMALL_REQUEST = 1u << 6,
	/* The wrapped request carries a request_id to echo. */
	FUZZ_REQUEST_ID = 1u << 7,
};

enum fuzz_caller {
	FUZZ_CALLER_NONE = 0,
	FUZZ_CALLER_ADMIN = 1,
	FUZZ_CALLER_CHECK = 2,
	FUZZ_CALLER_UNKNOWN = 3,
};

enum fuzz_deadline {
	FUZZ_DEADLINE_NONE = 0,
	FUZZ_DEADLINE_PASSED = 1, /* 1 ms after the epoch */
	FUZZ_DEADLINE_AHEAD = 2,  /* an hour from now */
	FUZZ_DEADLINE_MAX = 3,    /* INT64_MAX */
};

enum {
	FUZZ_SMALL_REPLY_BYTES = 32,
	FUZZ_SMALL_REQUEST_BYTES = 64,
	FUZZ_MAX_BYTES = 1 << 20,
};

#define FUZZ_REQUEST_ID_TEXT "fuzz-request-1"

/* The caller tokens in fuzz_dispatch's token table, and one it lacks. */
#define FUZZ_TOKEN_ADMIN "exa_svc_FuzzAdminTokenFuzzAdminTokenFuzzAdminToken0"
#define FUZZ_TOKEN_CHECK "exa_svc_FuzzCheckTokenFuzzCheckTokenFuzzCheckToken0"
#define FUZZ_TOKEN_UNKNOWN "exa_svc_FuzzNobodyTokenFuzzNobodyTokenFuzzNobody000"

#endif
