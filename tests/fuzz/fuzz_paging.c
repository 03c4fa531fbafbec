/* Fuzz target of list cursors and field checks. paging_decode on arbitrary
 * tokens (a cursor it accepts must be the one paging_encode makes of its
 * parts, for exactly one part count), paging_encode then paging_decode on
 * arbitrary parts (they must come back), and every validate_* function on
 * the input as a string, each held to the contract in validate.h by a
 * plain restatement of it written here. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/status.h"
#include "fuzz.h"
#include "rpc/call.h"
#include "rpc/paging.h"
#include "rpc/validate.h"

enum { SEP = 0x1f, MSG_SIZE = 512 };

#define ALNUM \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ref_utf8 is well-formed UTF-8 by the table of RFC 3629 section 4,
 * without NUL. */
static bool
ref_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t tail;
		if (c == 0)
			return false;
		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			tail = 1;
		else if (c == 0xe0)
			tail = 2, lo = 0xa0;
		else if (c == 0xed)
			tail = 2, hi = 0x9f;
		else if (c >= 0xe1 && c <= 0xef)
			tail = 2;
		else if (c == 0xf0)
			tail = 3, lo = 0x90;
		else if (c == 0xf4)
			tail = 3, hi = 0x8f;
		else if (c >= 0xf1 && c <= 0xf3)
			tail = 3;
		else
			return false;
		if (i + tail >= len)
			return false;
		/* The second byte has the narrowed range, the rest 80..BF. */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= tail; k++) {
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		}
		i += tail + 1;
	}
	return true;
}

/* ref_text: empty only when optional; at most `max` bytes of UTF-8 with no
 * C0 or C1 control character and no DEL. */
static bool
ref_text(const char *s, size_t max, bool required)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	if (len == 0)
		return !required;
	if (len > max || !ref_utf8(p, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
		/* U+0080..U+009F are C2 80..C2 9F. */
		if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

static bool
ref_uuid(const char *s, bool required)
{
	static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	static const char hex[] = "0123456789abcdefABCDEF";
	if (s[0] == '\0')
		return !required;
	if (strlen(s) != sizeof pattern - 1)
		return false;
	for (size_t i = 0; pattern[i] != '\0'; i++) {
		bool ok = pattern[i] == '-' ? s[i] == '-'
		                            : strchr(hex, s[i]) != NULL;
		if (!ok)
			return false;
	}
	return true;
}

static bool
ref_username(const char *s)
{
	return ref_text(s, LIMIT_USERNAME, true) && strchr(ALNUM, s[0]) != NULL &&
	    strspn(s, ALNUM ".-_") == strlen(s);
}

static bool
ref_email(const char *s)
{
	if (!ref_text(s, LIMIT_EMAIL, true) || strchr(s, ' ') != NULL)
		return false;
	const char *at = strchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL;
}

static bool
ref_base64url(const unsigned char *s, size_t len)
{
	static const char alphabet[] = ALNUM "-_";
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\0' || memchr(alphabet, s[i], sizeof alphabet - 1) ==
		        NULL)
			return false;
	}
	return true;
}

/* expect checks one validate_* result against the reference: the same
 * verdict, and a refusal that names the field. */
static void
expect(const char *what, int rc, bool ok, const char *field, const char *msg,
    const char *value)
{
	FUZZ_CHECK((rc == STATUS_OK) == ok, "%s(\"%s\") returned %d, expected %s",
	    what, value, rc, ok ? "OK" : "a refusal");
	if (rc == STATUS_OK)
		return;
	FUZZ_CHECK(rc == STATUS_INVALID_ARGUMENT, "%s returned %d", what, rc);
	size_t n = strlen(field);
	FUZZ_CHECK(strncmp(msg, field, n) == 0 && msg[n] == ':',
	    "%s: the message \"%s\" does not name %s", what, msg, field);
	FUZZ_CHECK(validate_utf8(msg, strlen(msg)), "%s: the message is not "
	                                            "UTF-8", what);
}

/* check_validators runs every validate_* function on the input. */
static void
check_validators(const uint8_t *data, size_t size, const char *s)
{
	char msg[MSG_SIZE];
	FUZZ_CHECK(validate_utf8((const char *)data, size) ==
	        ref_utf8(data, size),
	    "validate_utf8 differs on %zu bytes", size);
	FUZZ_CHECK(validate_base64url((const char *)data, size) ==
	        ref_base64url(data, size),
	    "validate_base64url differs on %zu bytes", size);

	static const size_t limits[] = {LIMIT_USERNAME, LIMIT_DETAIL};
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		for (int required = 0; required <= 1; required++) {
			int rc = validate_text("text", s, limits[i], required,
			    msg, sizeof msg);
			expect("validate_text", rc,
			    ref_text(s, limits[i], required), "text", msg, s);
		}
	}
	for (int required = 0; required <= 1; required++) {
		int rc = validate_uuid("id", s, required, msg, sizeof msg);
		expect("validate_uuid", rc, ref_uuid(s, required), "id", msg, s);
	}
	int rc = validate_username("username", s, msg, sizeof msg);
	expect("validate_username", rc, ref_username(s), "username", msg, s);
	rc = validate_email("email", s, msg, sizeof msg);
	expect("validate_email", rc, ref_email(s), "email", msg, s);
}

/* check_decode: a non-empty token decodes for at most one part count, and
 * then paging_encode of its parts gives the token back. */
static void
check_decode(struct call *call, const char *token)
{
	size_t accepted = 0;
	for (size_t n = 1; n <= PAGING_MAX_PARTS; n++) {
		char *parts[PAGING_MAX_PARTS];
		call->code = STATUS_OK;
		call->message[0] = '\0';
		int rc = paging_decode(call, token, parts, n);
		if (rc != STATUS_OK) {
			FUZZ_CHECK(rc == STATUS_INVALID_ARGUMENT,
			    "paging_decode returned %d: %s", rc, call->message);
			FUZZ_CHECK(strncmp(call->message, "page_token:", 11) == 0,
			    "the refusal does not name page_token: %s",
			    call->message);
			continue;
		}
		if (token[0] == '\0') {
			for (size_t i = 0; i < n; i++)
				FUZZ_CHECK(parts[i] == NULL, "part %zu of \"\"", i);
			continue;
		}
		accepted++;
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(validate_utf8(parts[i], strlen(parts[i])) &&
			        strchr(parts[i], SEP) == NULL,
			    "part %zu is not a clean string", i);
		char *again = paging_encode(call, (const char *const *)parts, n);
		FUZZ_CHECK(again != NULL, "out of memory");
		FUZZ_CHECK(strcmp(again, token) == 0,
		    "\"%s\" decodes to %zu parts that encode to \"%s\"", token,
		    n, again);
	}
	FUZZ_CHECK(accepted <= 1, "\"%s\" decodes for %zu part counts", token,
	    accepted);
}

/* check_round_trip encodes up to PAGING_MAX_PARTS parts cut from the
 * input at NUL bytes and decodes the cursor; clean parts come back. */
static void
check_round_trip(struct call *call, const uint8_t *data, size_t size)
{
	if (size == 0)
		return;
	size_t n = 1 + data[0] % PAGING_MAX_PARTS;
	char *copy = malloc(size);
	FUZZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	const char *parts[PAGING_MAX_PARTS];
	char *p = copy;
	bool clean = true;
	for (size_t i = 0; i < n; i++) {
		parts[i] = p;
		size_t len = strlen(p);
		clean = clean && validate_utf8(p, len) &&
		    memchr(p, SEP, len) == NULL;
		/* Past an inner NUL; at the end, the rest are empty. */
		if (p + len < copy + size - 1)
			p += len + 1;
		else
			p += len;
	}

	char *token = paging_encode(call, parts, n);
	FUZZ_CHECK(token != NULL, "out of memory");
	size_t tlen = strlen(token);
	FUZZ_CHECK(tlen > 0 && validate_base64url(token, tlen),
	    "the cursor \"%s\" is not base64url", token);
	char *back[PAGING_MAX_PARTS];
	int rc = paging_decode(call, token, back, n);
	if (tlen > LIMIT_PAGE_TOKEN) {
		FUZZ_CHECK(rc == STATUS_INVALID_ARGUMENT,
		    "a %zu-byte cursor was accepted", tlen);
	} else if (clean) {
		FUZZ_CHECK(rc == STATUS_OK, "our own cursor was refused: %s",
		    call->message);
		for (size_t i = 0; i < n; i++)
			FUZZ_CHECK(strcmp(back[i], parts[i]) == 0,
			    "part %zu came back as \"%s\"", i, back[i]);
		/* The part count is part of the cursor. */
		char *other[PAGING_MAX_PARTS + 1];
		FUZZ_CHECK(paging_decode(call, token, other, n - 1) != STATUS_OK,
		    "%zu parts decoded as %zu", n, n - 1);
		FUZZ_CHECK(paging_decode(call, token, other, n + 1) != STATUS_OK,
		    "%zu parts decoded as %zu", n, n + 1);
	}
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The input as a C string: up to its first NUL. */
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';

	check_validators(data, size, s);

	struct call call;
	memset(&call, 0, sizeof call);
	arena_init(&call.arena);
	check_decode(&call, s);
	check_round_trip(&call, data, size);
	arena_reset(&call.arena);
	free(s);
	return 0;
}
