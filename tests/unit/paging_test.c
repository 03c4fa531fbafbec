/* Unit tests of paging: page sizes, and that a cursor made by paging_encode
 * decodes to the same key parts while anything else is INVALID_ARGUMENT
 * naming page_token. */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/status.h"
#include "rpc/call.h"
#include "rpc/paging.h"
#include "rpc/validate.h"
#include "unit.h"

#define UUID "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90"

static void
call_start(struct call *call)
{
	memset(call, 0, sizeof *call);
	arena_init(&call->arena);
}

static void
call_finish(struct call *call)
{
	arena_reset(&call->arena);
}

static bool
is_base64url(const char *s)
{
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* b64url encodes `len` raw bytes into `out` (of `size` bytes). */
static void
b64url(const void *raw, size_t len, char *out, size_t size)
{
	if (sodium_base64_ENCODED_LEN(len,
	        sodium_base64_VARIANT_URLSAFE_NO_PADDING) > size)
		abort();
	sodium_bin2base64(out, size, raw, len,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* round_trip encodes `n` parts, decodes the token, and compares. */
static void
round_trip(const char *const *parts, size_t n)
{
	struct call call;
	call_start(&call);
	char *token = paging_encode(&call, parts, n);
	EXPECT(token != NULL);
	if (token == NULL) {
		call_finish(&call);
		return;
	}
	EXPECT(token[0] != '\0');
	EXPECT(is_base64url(token));
	char *got[PAGING_MAX_PARTS] = {NULL};
	int rc = paging_decode(&call, token, got, n);
	EXPECT_INT(rc, STATUS_OK);
	if (rc != STATUS_OK) {
		fprintf(stderr, "  token of %zu bytes refused: %s\n",
		    strlen(token), call.message);
	} else {
		for (size_t i = 0; i < n; i++)
			EXPECT_STR(got[i], parts[i]);
	}
	call_finish(&call);
}

static void
round_trip_three_parts(void)
{
	const char *ascii[] = {"1", "Lab notebooks", UUID};
	round_trip(ascii, 3);
	const char *unicode[] = {
		"0",
		"\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9 "       /* Ünïcødé */
		"\xe5\xb7\xa5\xe4\xbd\x9c\xe5\x8c\xba "              /* 工作区 */
		"\xf0\x9f\x9a\x80",                                  /* 🚀 */
		UUID,
	};
	round_trip(unicode, 3);
	const char *empties[] = {"", "", ""};
	round_trip(empties, 3);
	const char *one[] = {"only"};
	round_trip(one, 1);
	const char *four[] = {"a", "b", "c", "d"};
	round_trip(four, PAGING_MAX_PARTS);
}

static void
round_trip_longest_workspace_key(void)
{
	/* ListWorkspaces pages on (kind, name, id); a team workspace's name
	 * may be LIMIT_NAME bytes, and the cursor it yields must come back. */
	char name[LIMIT_NAME + 1];
	memset(name, 'n', LIMIT_NAME);
	name[LIMIT_NAME] = '\0';
	const char *key[] = {"1", name, UUID};
	round_trip(key, 3);

	/* The same in two-byte characters: 100 of them are 200 bytes. */
	char wide[LIMIT_NAME + 1];
	for (size_t i = 0; i < LIMIT_NAME; i += 2)
		memcpy(wide + i, "\xc3\xa9", 2);
	wide[LIMIT_NAME] = '\0';
	const char *wide_key[] = {"1", wide, UUID};
	round_trip(wide_key, 3);
}

static void
empty_token_gives_null_parts(void)
{
	struct call call;
	call_start(&call);
	char sentinel[] = "x";
	char *parts[3] = {sentinel, sentinel, sentinel};
	EXPECT_INT(paging_decode(&call, "", parts, 3), STATUS_OK);
	for (size_t i = 0; i < 3; i++)
		EXPECT(parts[i] == NULL);
	EXPECT_INT(call.code, STATUS_OK);
	call_finish(&call);
}

/* expect_refused decodes `token` into `n` parts and wants
 * INVALID_ARGUMENT naming page_token. */
static void
expect_refused(const char *what, const char *token, size_t n)
{
	struct call call;
	call_start(&call);
	char *parts[PAGING_MAX_PARTS] = {NULL};
	int rc = paging_decode(&call, token, parts, n);
	if (rc != STATUS_INVALID_ARGUMENT) {
		fprintf(stderr, "  %s: code %d, expected INVALID_ARGUMENT\n", what,
		    rc);
		unit_case_failed = 1;
	}
	EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
	if (strstr(call.message, "page_token") == NULL) {
		fprintf(stderr, "  %s: message \"%s\" does not name page_token\n",
		    what, call.message);
		unit_case_failed = 1;
	}
	call_finish(&call);
}

static void
tampered_not_base64url(void)
{
	expect_refused("spaces and punctuation", "not a token!", 3);
	expect_refused("one character", "A", 3);
	expect_refused("standard base64 '+'", "MR8+", 3);
	expect_refused("standard base64 '/'", "MR8/", 3);
	expect_refused("padding", "MR8=", 3);
	expect_refused("newline", "MR8f\n", 3);
	expect_refused("non-ASCII", "MR8\xc3\xa9", 3);

	/* A valid cursor with one character changed into a non-alphabet one. */
	struct call call;
	call_start(&call);
	const char *key[] = {"1", "Lab", UUID};
	char *token = paging_encode(&call, key, 3);
	EXPECT(token != NULL);
	if (token != NULL) {
		char bad[256];
		snprintf(bad, sizeof bad, "%s", token);
		bad[strlen(bad) / 2] = '.';
		expect_refused("a dot in the middle", bad, 3);
		snprintf(bad, sizeof bad, "%s=", token);
		expect_refused("trailing '='", bad, 3);
	}
	call_finish(&call);
}

static void
tampered_wrong_part_count(void)
{
	struct call call;
	call_start(&call);
	const char *two[] = {"1", "Lab"};
	const char *four[] = {"1", "Lab", UUID, "extra"};
	char *t2 = paging_encode(&call, two, 2);
	char *t4 = paging_encode(&call, four, 4);
	EXPECT(t2 != NULL && t4 != NULL);
	if (t2 != NULL)
		expect_refused("two parts for three", t2, 3);
	if (t4 != NULL)
		expect_refused("four parts for three", t4, 3);
	call_finish(&call);

	/* Raw bytes with no separator at all, or a missing final one. */
	char tok[64];
	b64url("just text", 9, tok, sizeof tok);
	expect_refused("no separators", tok, 3);
	b64url("a\x1f" "b\x1f" "c", 5, tok, sizeof tok);
	expect_refused("no final separator", tok, 3);
	b64url("a\x1f" "b\x1f" "c\x1f" "d", 7, tok, sizeof tok);
	expect_refused("bytes after the last part", tok, 3);
}

static void
tampered_bad_parts(void)
{
	char tok[64];
	/* A part that is not UTF-8. */
	b64url("\xc0\xaf\x1f" "b\x1f" "c\x1f", 7, tok, sizeof tok);
	expect_refused("overlong UTF-8 in a part", tok, 3);
	b64url("a\x1f\xed\xa0\x80\x1f" "c\x1f", 8, tok, sizeof tok);
	expect_refused("a surrogate in a part", tok, 3);
	b64url("a\x1f" "c\x1f" "d\x1f\0", 7, tok, sizeof tok);
	expect_refused("a NUL after the last part", tok, 3);
}

static void
tampered_nul_inside_part(void)
{
	/* paging_encode never puts a NUL in a cursor (its parts are C
	 * strings): a cursor with one was made by someone else. */
	char tok[64];
	b64url("a\0b\x1f" "c\x1f" "d\x1f", 8, tok, sizeof tok);
	expect_refused("a NUL inside the first part", tok, 3);
	b64url("a\x1f" "c\x1f" "\0\x1f", 6, tok, sizeof tok);
	expect_refused("a part that is only a NUL", tok, 3);
}

static void
tampered_over_long(void)
{
	char tok[LIMIT_PAGE_TOKEN + 2];
	memset(tok, 'A', LIMIT_PAGE_TOKEN + 1);
	tok[LIMIT_PAGE_TOKEN + 1] = '\0';
	expect_refused("one byte over the limit", tok, 3);

	char *huge = malloc(100001);
	if (huge == NULL)
		abort();
	memset(huge, 'A', 100000);
	huge[100000] = '\0';
	expect_refused("100000 bytes", huge, 3);
	free(huge);
}

static void
size_default_and_limit(void)
{
	static const struct {
		uint32_t requested, expected;
	} ok[] = {
		{0, PAGE_SIZE_DEFAULT}, {1, 1}, {50, 50}, {100, 100},
		{999, 999}, {1000, 1000},
	};
	EXPECT_INT(PAGE_SIZE_DEFAULT, 100);
	EXPECT_INT(PAGE_SIZE_MAX, 1000);
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		struct call call;
		call_start(&call);
		uint32_t out = 12345;
		EXPECT_INT(paging_size(&call, ok[i].requested, &out), STATUS_OK);
		EXPECT_INT(out, ok[i].expected);
		EXPECT_INT(call.code, STATUS_OK);
		call_finish(&call);
	}
	static const uint32_t bad[] = {1001, 5000, UINT32_MAX};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct call call;
		call_start(&call);
		uint32_t out = 12345;
		EXPECT_INT(paging_size(&call, bad[i], &out),
		    STATUS_INVALID_ARGUMENT);
		EXPECT_INT(out, 12345); /* untouched on failure */
		EXPECT_INT(call.code, STATUS_INVALID_ARGUMENT);
		EXPECT_CONTAINS(call.message, "page_size");
		EXPECT_CONTAINS(call.message, "1000");
		call_finish(&call);
	}
}

static const struct unit_case cases[] = {
	{"round_trip_three_parts", round_trip_three_parts},
	{"round_trip_longest_workspace_key", round_trip_longest_workspace_key},
	{"empty_token_gives_null_parts", empty_token_gives_null_parts},
	{"tampered_not_base64url", tampered_not_base64url},
	{"tampered_wrong_part_count", tampered_wrong_part_count},
	{"tampered_bad_parts", tampered_bad_parts},
	{"tampered_nul_inside_part", tampered_nul_inside_part},
	{"tampered_over_long", tampered_over_long},
	{"size_default_and_limit", size_default_and_limit},
};

UNIT_MAIN(cases)
