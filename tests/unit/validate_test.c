/* Unit tests of validate: UTF-8 well-formedness, text lengths and controls,
 * ids, usernames and email addresses, and that every refusal is
 * INVALID_ARGUMENT with a message that starts with the field's name. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "rpc/validate.h"
#include "unit.h"

/* A byte string with its length, so embedded NULs survive. */
struct bytes {
	const char *s;
	size_t len;
};

#define B(lit) {lit, sizeof(lit) - 1}

/* msg_names_field: the message starts with "<field>:". */
static bool
msg_names_field(const char *msg, const char *field)
{
	size_t n = strlen(field);
	return strncmp(msg, field, n) == 0 && msg[n] == ':';
}

#define EXPECT_FIELD_MSG(msg, field)                                          \
	do {                                                                  \
		if (!msg_names_field((msg), (field))) {                       \
			fprintf(stderr, "  %s:%d: message \"%s\" does not "   \
			    "start with \"%s:\"\n", __FILE__, __LINE__,       \
			    (msg), (field));                                  \
			unit_case_failed = 1;                                 \
		}                                                             \
	} while (0)

/* repeat returns a malloc'd string of `unit` repeated `n` times. */
static char *
repeat(const char *unit, size_t n)
{
	size_t ul = strlen(unit);
	char *s = malloc(ul * n + 1);
	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

static void
utf8_valid(void)
{
	static const struct bytes good[] = {
		B(""),
		B("plain ASCII ~!"),
		B("\xc2\x80"),                 /* U+0080, smallest 2-byte */
		B("\xc3\xa9t\xc3\xa9"),        /* été */
		B("\xdf\xbf"),                 /* U+07FF */
		B("\xe0\xa0\x80"),             /* U+0800, smallest 3-byte */
		B("\xe2\x82\xac"),             /* € */
		B("\xed\x9f\xbf"),             /* U+D7FF, just below surrogates */
		B("\xee\x80\x80"),             /* U+E000, just above them */
		B("\xef\xbf\xbf"),             /* U+FFFF */
		B("\xf0\x90\x80\x80"),         /* U+10000, smallest 4-byte */
		B("\xf0\x9d\x84\x9e"),         /* 𝄞 */
		B("\xf4\x8f\xbf\xbf"),         /* U+10FFFF, the largest */
		B("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z"),
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!validate_utf8(good[i].s, good[i].len)) {
			fprintf(stderr, "  valid UTF-8 case %zu refused\n", i);
			unit_case_failed = 1;
		}
	}
}

static void
utf8_invalid(void)
{
	static const struct bytes bad[] = {
		B("\xc0\xaf"),                 /* overlong '/' */
		B("\xc1\xbf"),                 /* overlong U+007F */
		B("\xc0\x80"),                 /* overlong NUL */
		B("\xe0\x80\xaf"),             /* overlong 3-byte '/' */
		B("\xe0\x9f\xbf"),             /* overlong U+07FF */
		B("\xf0\x80\x80\xaf"),         /* overlong 4-byte '/' */
		B("\xf0\x8f\xbf\xbf"),         /* overlong U+FFFF */
		B("\xed\xa0\x80"),             /* U+D800, a surrogate */
		B("\xed\xbf\xbf"),             /* U+DFFF, a surrogate */
		B("\xed\xa0\xbd\xed\xb8\x80"), /* CESU-8 surrogate pair */
		B("\xf4\x90\x80\x80"),         /* U+110000 */
		B("\xf5\x80\x80\x80"),         /* lead byte past U+10FFFF */
		B("\xf7\xbf\xbf\xbf"),
		B("\xf8\x88\x80\x80\x80"),     /* 5-byte form */
		B("\xfc\x84\x80\x80\x80\x80"), /* 6-byte form */
		B("\xfe"),
		B("\xff"),
		B("\x80"),                     /* lone continuation */
		B("a\xbf"),
		B("\xc3"),                     /* truncated 2-byte */
		B("\xe2\x82"),                 /* truncated 3-byte */
		B("\xe2"),
		B("\xf0\x9d\x84"),             /* truncated 4-byte */
		B("abc\xc3"),                  /* truncated at the end */
		B("\xc3" "A"),                 /* continuation replaced */
		B("\xe2\x28\xa1"),
		B("\xf0\x9d\x84" "A"),
		B("a\0b"),                     /* embedded NUL */
		B("\0"),
		B("abc\0"),
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (validate_utf8(bad[i].s, bad[i].len)) {
			fprintf(stderr, "  invalid UTF-8 case %zu accepted\n", i);
			unit_case_failed = 1;
		}
	}
}

static void
utf8_length_is_respected(void)
{
	/* Bytes past `len` are not looked at; bytes before it all are. */
	EXPECT(validate_utf8("ab\xff", 2));
	EXPECT(!validate_utf8("ab\xff", 3));
	EXPECT(!validate_utf8("\xc3\xa9", 1));
	EXPECT(validate_utf8("\xc3\xa9", 2));
	EXPECT(!validate_utf8("\xe2\x82\xac", 2));
	EXPECT(!validate_utf8("\xf0\x9d\x84\x9e", 3));
	EXPECT(validate_utf8("\xf0\x9d\x84\x9e", 4));
}

static void
text_length_limits(void)
{
	static const size_t limits[] = {1, 64, 200, 2000};
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		size_t max = limits[i];
		char msg[256] = "";
		char *at = repeat("a", max);
		char *over = repeat("a", max + 1);
		EXPECT_INT(validate_text("display_name", at, max, true, msg,
		               sizeof msg), STATUS_OK);
		EXPECT_INT(validate_text("display_name", over, max, true, msg,
		               sizeof msg), STATUS_INVALID_ARGUMENT);
		EXPECT_FIELD_MSG(msg, "display_name");
		char num[32];
		snprintf(num, sizeof num, "%zu", max);
		EXPECT_CONTAINS(msg, num);
		snprintf(num, sizeof num, "%zu", max + 1);
		EXPECT_CONTAINS(msg, num);
		free(at);
		free(over);
	}
}

static void
text_limit_counts_bytes(void)
{
	/* 100 two-byte characters are 200 bytes: at a 200-byte limit. */
	char msg[256] = "";
	char *at = repeat("\xc3\xa9", 100);
	char *over = repeat("\xc3\xa9", 101);
	char *cjk = repeat("\xe4\xb8\xad", 67); /* 201 bytes, 67 characters */
	EXPECT_INT(validate_text("name", at, LIMIT_NAME, true, msg, sizeof msg),
	    STATUS_OK);
	EXPECT_INT(validate_text("name", over, LIMIT_NAME, true, msg,
	               sizeof msg), STATUS_INVALID_ARGUMENT);
	EXPECT_FIELD_MSG(msg, "name");
	EXPECT_CONTAINS(msg, "200");
	EXPECT_INT(validate_text("name", cjk, LIMIT_NAME, true, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_FIELD_MSG(msg, "name");
	free(at);
	free(over);
	free(cjk);
}

static void
text_refuses_control_chars(void)
{
	static const char *const bad[] = {
		"a\tb", "line\n", "\r", "\x01", "x\x1f", "\x7f", "del\x7fx",
		"\x1b[31mred",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char msg[256] = "";
		int rc = validate_text("detail", bad[i], LIMIT_DETAIL, false, msg,
		    sizeof msg);
		if (rc != STATUS_INVALID_ARGUMENT) {
			fprintf(stderr, "  control case %zu gave %d\n", i, rc);
			unit_case_failed = 1;
		}
		EXPECT_FIELD_MSG(msg, "detail");
		EXPECT_CONTAINS(msg, "control");
	}
	char msg[256] = "";
	EXPECT_INT(validate_text("detail", "spaces are fine, as is \xe2\x82\xac",
	               LIMIT_DETAIL, false, msg, sizeof msg), STATUS_OK);
}

static void
text_refuses_invalid_utf8(void)
{
	static const char *const bad[] = {
		"\xc0\xaf", "ok\xed\xa0\x80", "\xf4\x90\x80\x80", "trunc\xe2\x82",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char msg[256] = "";
		EXPECT_INT(validate_text("name", bad[i], LIMIT_NAME, true, msg,
		               sizeof msg), STATUS_INVALID_ARGUMENT);
		EXPECT_FIELD_MSG(msg, "name");
		EXPECT_CONTAINS(msg, "UTF-8");
	}
}

static void
text_required_and_optional(void)
{
	char msg[256] = "";
	EXPECT_INT(validate_text("username", "", LIMIT_USERNAME, true, msg,
	               sizeof msg), STATUS_INVALID_ARGUMENT);
	EXPECT_FIELD_MSG(msg, "username");
	EXPECT_CONTAINS(msg, "required");
	EXPECT_INT(validate_text("display_name", "", LIMIT_DISPLAY_NAME, false,
	               msg, sizeof msg), STATUS_OK);
	EXPECT_INT(validate_text("display_name", "Ada", LIMIT_DISPLAY_NAME,
	               false, msg, sizeof msg), STATUS_OK);
	/* An optional field still obeys the limits when present. */
	EXPECT_INT(validate_text("display_name", "a\nb", LIMIT_DISPLAY_NAME,
	               false, msg, sizeof msg), STATUS_INVALID_ARGUMENT);
	EXPECT_FIELD_MSG(msg, "display_name");
}

static void
text_small_message_buffer(void)
{
	/* The message is cut to fit, never written past the buffer. */
	char buf[16];
	memset(buf, 'x', sizeof buf);
	EXPECT_INT(validate_text("a_long_field_name", "", 10, true, buf, 8),
	    STATUS_INVALID_ARGUMENT);
	EXPECT(memchr(buf, '\0', 8) != NULL);
	for (size_t i = 8; i < sizeof buf; i++)
		EXPECT(buf[i] == 'x');
}

static void
uuid_good(void)
{
	static const char *const good[] = {
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90",
		"00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff",
		"123e4567-e89b-12d3-a456-426614174000",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char msg[256] = "";
		int rc = validate_uuid("user_id", good[i], true, msg, sizeof msg);
		if (rc != STATUS_OK) {
			fprintf(stderr, "  %s refused: %s\n", good[i], msg);
			unit_case_failed = 1;
		}
	}
	char msg[256] = "";
	EXPECT_INT(validate_uuid("workspace_id", "", false, msg, sizeof msg),
	    STATUS_OK);
}

static void
uuid_bad(void)
{
	static const char *const bad[] = {
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c9",     /* 35 */
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c900",   /* 37 */
		"3f2b8c1e0d4a4e7b9c1f2a6d5e8b7c90",        /* no hyphens */
		"3f2b8c1e0-d4a-4e7b-9c1f-2a6d5e8b7c90",    /* hyphen moved */
		"3f2b8c1e-0d4a-4e7b-9c1f+2a6d5e8b7c90",
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c9g",    /* not hex */
		"{3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90}",
		"urn:uuid:3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90",
		" 3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c9",
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c9\n",
		"------------------------------------",
		"not-a-uuid",
		"me",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char msg[256] = "";
		int rc = validate_uuid("user_id", bad[i], true, msg, sizeof msg);
		if (rc != STATUS_INVALID_ARGUMENT) {
			fprintf(stderr, "  \"%s\" gave %d\n", bad[i], rc);
			unit_case_failed = 1;
		}
		EXPECT_FIELD_MSG(msg, "user_id");
	}
	char msg[256] = "";
	EXPECT_INT(validate_uuid("user_id", "", true, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_FIELD_MSG(msg, "user_id");
	EXPECT_CONTAINS(msg, "required");
}

static void
username_good(void)
{
	char *max = repeat("a", LIMIT_USERNAME);
	const char *good[] = {
		"a", "Z", "7", "ada", "Ada.Lovelace", "john-doe_99", "0xdead",
		"a.b-c_d", "a..", max,
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char msg[256] = "";
		int rc = validate_username("username", good[i], msg, sizeof msg);
		if (rc != STATUS_OK) {
			fprintf(stderr, "  \"%s\" refused: %s\n", good[i], msg);
			unit_case_failed = 1;
		}
	}
	free(max);
}

static void
username_bad(void)
{
	char *over = repeat("a", LIMIT_USERNAME + 1);
	const char *bad[] = {
		"", ".ada", "-ada", "_ada", "ada lovelace", "ada@example.com",
		"j\xc3\xb6rg", "ada\n", "ada/", "a+b", "ada\t", " ada", "ada!",
		over,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char msg[256] = "";
		int rc = validate_username("username", bad[i], msg, sizeof msg);
		if (rc != STATUS_INVALID_ARGUMENT) {
			fprintf(stderr, "  \"%s\" gave %d\n", bad[i], rc);
			unit_case_failed = 1;
		}
		EXPECT_FIELD_MSG(msg, "username");
	}
	char msg[256] = "";
	EXPECT_INT(validate_username("username", over, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "64");
	free(over);

	/* Each refusal says what is wrong: a letter outside ASCII is named
	 * as such wherever it stands, first included; a name that starts
	 * with '.', '-' or '_' hears it must start otherwise. */
	const struct {
		const char *name, *says, *not_says;
	} why[] = {
	    {"\xc3\xa9lodie", "ASCII letters", "must start"},
	    {"\xc3\xa9lodie", "\"\xc3\xa9\" is not one", NULL},
	    {"j\xc3\xb6rg", "ASCII letters", "must start"},
	    {"\xe4\xb8\xad\xe6\x96\x87", "\"\xe4\xb8\xad\"", "must start"},
	    {"\xd0\xb0" "da", "ASCII letters", NULL}, /* Cyrillic a */
	    {"ada lovelace", "ASCII letters", NULL},
	    {"ada lovelace", "\" \" is not one", NULL},
	    {"-ada", "must start with an ASCII letter or digit", NULL},
	    {"_ada", "must start with an ASCII letter or digit", NULL},
	};
	for (size_t i = 0; i < sizeof why / sizeof why[0]; i++) {
		char m[256] = "";
		EXPECT_INT(validate_username("username", why[i].name, m, sizeof m),
		    STATUS_INVALID_ARGUMENT);
		EXPECT_FIELD_MSG(m, "username");
		EXPECT_CONTAINS(m, why[i].says);
		if (why[i].not_says != NULL && strstr(m, why[i].not_says) != NULL) {
			fprintf(stderr, "  case %zu: \"%s\" says \"%s\"\n", i, m,
			    why[i].not_says);
			unit_case_failed = 1;
		}
	}
}

static void
email_good(void)
{
	/* 254 bytes in all: the limit. */
	char *local = repeat("a", 64);
	char *domain = repeat("b", LIMIT_EMAIL - 64 - 1);
	char max[LIMIT_EMAIL + 1];
	snprintf(max, sizeof max, "%s@%s", local, domain);
	EXPECT_INT(strlen(max), LIMIT_EMAIL);
	const char *good[] = {
		"a@b", "ada@example.com", "ada.lovelace+exe@example.co.uk",
		"\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.cn", max,
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char msg[256] = "";
		int rc = validate_email("email", good[i], msg, sizeof msg);
		if (rc != STATUS_OK) {
			fprintf(stderr, "  \"%s\" refused: %s\n", good[i], msg);
			unit_case_failed = 1;
		}
	}
	free(local);
	free(domain);
}

static void
email_bad(void)
{
	char *local = repeat("a", 64);
	char *domain = repeat("b", LIMIT_EMAIL - 64);
	char over[LIMIT_EMAIL + 2];
	snprintf(over, sizeof over, "%s@%s", local, domain);
	EXPECT_INT(strlen(over), LIMIT_EMAIL + 1);
	const char *bad[] = {
		"", "ada", "@example.com", "ada@", "@", "ada@b@c", "ada@@b",
		"ada lovelace@example.com", "ada@example .com", " ada@b",
		"ada@b ", "ada\t@b", "ada@b\n", "ad\xc3@b", "ada@\xed\xa0\x80",
		over,
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char msg[256] = "";
		int rc = validate_email("email", bad[i], msg, sizeof msg);
		if (rc != STATUS_INVALID_ARGUMENT) {
			fprintf(stderr, "  \"%s\" gave %d\n", bad[i], rc);
			unit_case_failed = 1;
		}
		EXPECT_FIELD_MSG(msg, "email");
	}
	char msg[256] = "";
	EXPECT_INT(validate_email("email", over, msg, sizeof msg),
	    STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "254");
	free(local);
	free(domain);
}

/* ref_uuid_bytes is the plain reading of a canonical UUID, for
 * validate_uuid_bytes to agree with: 36 bytes, '-' at 8, 13, 18 and 23,
 * hex digits (either case) elsewhere. */
static bool
ref_uuid_bytes(const char *s, size_t len, unsigned char out[16])
{
	if (len != 36 || strlen(s) != 36)
		return false;
	size_t n = 0;
	for (size_t i = 0; i < 36; i++) {
		char c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return false;
			continue;
		}
		int v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (n % 2 == 0)
			out[n / 2] = (unsigned char)(v << 4);
		else
			out[n / 2] |= (unsigned char)v;
		n++;
	}
	return true;
}

static void
uuid_bytes_good(void)
{
	static const struct {
		const char *text;
		unsigned char bytes[16];
	} good[] = {
		{"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90",
		    {0x3f, 0x2b, 0x8c, 0x1e, 0x0d, 0x4a, 0x4e, 0x7b, 0x9c, 0x1f,
		        0x2a, 0x6d, 0x5e, 0x8b, 0x7c, 0x90}},
		{"3F2B8C1E-0D4A-4E7B-9C1F-2A6D5E8B7C90",
		    {0x3f, 0x2b, 0x8c, 0x1e, 0x0d, 0x4a, 0x4e, 0x7b, 0x9c, 0x1f,
		        0x2a, 0x6d, 0x5e, 0x8b, 0x7c, 0x90}},
		{"00000000-0000-0000-0000-000000000000", {0}},
		{"ffffffff-FFFF-ffff-FfFf-ffffffffffff",
		    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		        0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"01234567-89ab-cdef-ABCD-EF0123456789",
		    {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xab, 0xcd,
		        0xef, 0x01, 0x23, 0x45, 0x67, 0x89}},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		unsigned char out[16];
		memset(out, 0xa5, sizeof out);
		EXPECT(validate_uuid_bytes(good[i].text, out));
		if (memcmp(out, good[i].bytes, 16) != 0) {
			fprintf(stderr, "  %s: wrong bytes\n", good[i].text);
			unit_case_failed = 1;
		}
		char msg[256] = "";
		memset(out, 0xa5, sizeof out);
		EXPECT_INT(validate_uuid_id("user_id", good[i].text, true, out,
		               msg, sizeof msg), STATUS_OK);
		EXPECT(memcmp(out, good[i].bytes, 16) == 0);
	}
}

static void
uuid_bytes_bad(void)
{
	static const char *const bad[] = {
		"",
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c9",   /* 35 */
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c900", /* 37 */
		"3f2b8c1e0d4a-4e7b-9c1f-2a6d5e8b7c90-",  /* dash moved */
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c9g",
		"3f2b8c1e-0d4a-4e7b-9c1f_2a6d5e8b7c90",
		"3f2b8c1e 0d4a 4e7b 9c1f 2a6d5e8b7c90",
		"{3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c}",
		"3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c\xc3\xa9",
		"3f2b8c1e3f2b8c1e3f2b8c1e3f2b8c1e",
		"gggggggg-gggg-gggg-gggg-gggggggggggg",
		"--------------------------------------",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned char out[16];
		memset(out, 0xa5, sizeof out);
		if (validate_uuid_bytes(bad[i], out)) {
			fprintf(stderr, "  \"%s\" accepted\n", bad[i]);
			unit_case_failed = 1;
		}
		/* Untouched on failure. */
		for (size_t k = 0; k < 16; k++)
			EXPECT(out[k] == 0xa5);
		char msg[256] = "";
		EXPECT_INT(validate_uuid_id("user_id", bad[i], true, out, msg,
		               sizeof msg), STATUS_INVALID_ARGUMENT);
		EXPECT_FIELD_MSG(msg, "user_id");
	}
	char msg[256] = "";
	unsigned char out[16];
	EXPECT_INT(validate_uuid_id("workspace_id", "", false, out, msg,
	               sizeof msg), STATUS_OK);
	EXPECT_INT(validate_uuid_id("workspace_id", "", true, out, msg,
	               sizeof msg), STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "required");
}

/* Every byte value at every position of a good UUID (and a NUL that cuts
 * it short): validate_uuid_bytes agrees with the plain reading, bytes and
 * all. */
static void
uuid_bytes_every_byte_everywhere(void)
{
	const char *base = "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90";
	size_t disagreements = 0;
	for (size_t pos = 0; pos < 36; pos++) {
		for (unsigned c = 0; c < 256; c++) {
			char s[37];
			memcpy(s, base, 37);
			s[pos] = (char)c;
			unsigned char want[16], got[16];
			bool w = ref_uuid_bytes(s, strlen(s), want);
			bool g = validate_uuid_bytes(s, got);
			if (w != g || (w && memcmp(want, got, 16) != 0)) {
				if (disagreements++ < 5)
					fprintf(stderr, "  byte 0x%02x at %zu: "
					    "expected %d\n", c, pos, w);
				unit_case_failed = 1;
			}
		}
	}
	/* Two digits changed at once, across all pairs of hex values. */
	static const char digits[] = "0123456789abcdefABCDEF";
	for (size_t i = 0; i < sizeof digits - 1; i++) {
		for (size_t j = 0; j < sizeof digits - 1; j++) {
			char s[37];
			memcpy(s, base, 37);
			s[34] = digits[i];
			s[35] = digits[j];
			s[0] = digits[j];
			s[1] = digits[i];
			unsigned char want[16], got[16];
			EXPECT(ref_uuid_bytes(s, 36, want));
			EXPECT(validate_uuid_bytes(s, got));
			EXPECT(memcmp(want, got, 16) == 0);
		}
	}
}

/* ref_text is validate_text without its fast path: the checks it makes on
 * any text, in their order. */
static int
ref_text(const char *value, size_t max, bool required)
{
	size_t len = strlen(value);
	if (len == 0)
		return required ? STATUS_INVALID_ARGUMENT : STATUS_OK;
	if (len > max || !validate_utf8(value, len))
		return STATUS_INVALID_ARGUMENT;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c == 0x7F ||
		    (c == 0xC2 && i + 1 < len &&
		        (unsigned char)value[i + 1] <= 0x9F))
			return STATUS_INVALID_ARGUMENT;
	}
	return STATUS_OK;
}

/* Every byte value at every position of texts of 1 to 20 bytes (so each
 * lands in a whole word and in the tail of the scan): validate_text
 * agrees with the plain checks. */
static void
text_every_byte_everywhere(void)
{
	size_t disagreements = 0;
	for (size_t len = 1; len <= 20; len++) {
		for (size_t pos = 0; pos < len; pos++) {
			for (unsigned c = 1; c < 256; c++) {
				char s[21];
				memset(s, 'a' + (char)(len % 26), len);
				s[len] = '\0';
				s[pos] = (char)c;
				char msg[256] = "";
				int want = ref_text(s, 64, true);
				int got = validate_text("name", s, 64, true, msg,
				    sizeof msg);
				if (want != got) {
					if (disagreements++ < 5)
						fprintf(stderr, "  byte 0x%02x at "
						    "%zu of %zu: %d, expected %d\n",
						    c, pos, len, got, want);
					unit_case_failed = 1;
				}
			}
		}
	}
	/* Printable ASCII from end to end is accepted, up to the limit. */
	char all[0x7F - 0x20 + 1];
	for (int c = 0x20; c < 0x7F; c++)
		all[c - 0x20] = (char)c;
	all[sizeof all - 1] = '\0';
	char msg[256] = "";
	EXPECT_INT(validate_text("name", all, sizeof all - 1, true, msg,
	               sizeof msg), STATUS_OK);
	EXPECT_INT(validate_text("name", all, sizeof all - 2, true, msg,
	               sizeof msg), STATUS_INVALID_ARGUMENT);
	EXPECT_CONTAINS(msg, "bytes");
}

static const struct unit_case cases[] = {
	{"utf8_valid", utf8_valid},
	{"utf8_invalid", utf8_invalid},
	{"utf8_length_is_respected", utf8_length_is_respected},
	{"text_length_limits", text_length_limits},
	{"text_limit_counts_bytes", text_limit_counts_bytes},
	{"text_refuses_control_chars", text_refuses_control_chars},
	{"text_refuses_invalid_utf8", text_refuses_invalid_utf8},
	{"text_required_and_optional", text_required_and_optional},
	{"text_small_message_buffer", text_small_message_buffer},
	{"uuid_good", uuid_good},
	{"uuid_bad", uuid_bad},
	{"uuid_bytes_good", uuid_bytes_good},
	{"uuid_bytes_bad", uuid_bytes_bad},
	{"uuid_bytes_every_byte_everywhere", uuid_bytes_every_byte_everywhere},
	{"text_every_byte_everywhere", text_every_byte_everywhere},
	{"username_good", username_good},
	{"username_bad", username_bad},
	{"email_good", email_good},
	{"email_bad", email_bad},
};

UNIT_MAIN(cases)
