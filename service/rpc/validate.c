/* Field-level input validation. Messages always name the field and say
 * what was expected, so a caller can fix the request without reading code. */
#include "rpc/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/secrets.h"
#include "base/status.h"

bool
validate_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

bool
validate_base64url(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static int
validate_fail(char *msg, size_t msg_size, const char *field, const char *what)
{
	snprintf(msg, msg_size, "%s: %s", field, what);
	return STATUS_INVALID_ARGUMENT;
}

/* printable_ascii says whether all `len` bytes at `s` are printable ASCII
 * (0x20 to 0x7E). Such text is valid UTF-8 with no NUL and no control
 * character, so it needs no other scan. Eight bytes at a time: every
 * string of every request is scanned. */
static bool
printable_ascii(const char *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t bad = 0;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, sizeof x);
		uint64_t low7 = x & ~highs;
		/* Per byte, with no carry between bytes: the high bit of
		 * low7 + 0x01 is set for 0x7F, and that of low7 + 0x60 for
		 * 0x20 and above. */
		bad |= x | (low7 + ones) | ~(low7 + 0x60 * ones);
	}
	bad &= highs;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bad |= c < 0x20 || c > 0x7E;
	}
	return !bad;
}

const char *
validate_text_fault(const char *s, size_t len)
{
	if (printable_ascii(s, len))
		return NULL;
	if (memchr(s, '\0', len) != NULL)
		return "contains a NUL byte";
	if (!validate_utf8(s, len))
		return "is not valid UTF-8";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool c1 = c == 0xC2 && i + 1 < len &&
		    (unsigned char)s[i + 1] <= 0x9F;
		if (c < 0x20 || c == 0x7F || c1)
			return "contains a control character";
	}
	return NULL;
}

int
validate_text(const char *field, const char *value, size_t max, bool required,
    char *msg, size_t msg_size)
{
	size_t len = strlen(value);
	if (len == 0) {
		if (required)
			return validate_fail(msg, msg_size, field, "is required");
		return STATUS_OK;
	}
	if (len > max) {
		snprintf(msg, msg_size, "%s: is %zu bytes, the limit is %zu",
		    field, len, max);
		return STATUS_INVALID_ARGUMENT;
	}
	const char *what = validate_text_fault(value, len);
	if (what != NULL)
		return validate_fail(msg, msg_size, field, what);
	return STATUS_OK;
}

/* hex_digit maps a character to its value as a hex digit plus one (either
 * case); 0 for every other character. */
static const unsigned char hex_digit[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
    ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

bool
validate_uuid_bytes(const char *value, unsigned char out[16])
{
	/* 8-4-4-4-12 hex digits: where each byte's two digits start. */
	static const unsigned char at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21,
	    24, 26, 28, 30, 32, 34};
	if (strnlen(value, 37) != 36 || value[8] != '-' || value[13] != '-' ||
	    value[18] != '-' || value[23] != '-')
		return false;
	unsigned char bytes[16];
	for (size_t i = 0; i < 16; i++) {
		unsigned hi = hex_digit[(unsigned char)value[at[i]]];
		unsigned lo = hex_digit[(unsigned char)value[at[i] + 1]];
		if (hi == 0 || lo == 0)
			return false;
		bytes[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
	}
	memcpy(out, bytes, sizeof bytes);
	return true;
}

int
validate_uuid(const char *field, const char *value, bool required, char *msg,
    size_t msg_size)
{
	unsigned char bytes[16];
	return validate_uuid_id(field, value, required, bytes, msg, msg_size);
}

int
validate_uuid_id(const char *field, const char *value, bool required,
    unsigned char out[16], char *msg, size_t msg_size)
{
	if (value[0] == '\0')
		return required ? validate_fail(msg, msg_size, field, "is required")
		                : STATUS_OK;
	if (!validate_uuid_bytes(value, out))
		return validate_fail(msg, msg_size, field,
		    "is not an id (expected a UUID such as "
		    "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90)");
	return STATUS_OK;
}

int
validate_username(const char *field, const char *value, char *msg,
    size_t msg_size)
{
	int rc = validate_text(field, value, LIMIT_USERNAME, true, msg, msg_size);
	if (rc != STATUS_OK)
		return rc;
	/* ASCII only, which keeps look-alike names out: the alphabet is
	 * checked before the first character, so a name that starts with
	 * a letter outside ASCII is told what is wrong with it. */
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0';
	     p++) {
		unsigned char c = *p;
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
		if (alnum || c == '.' || c == '-' || c == '_')
			continue;
		/* Valid UTF-8 without control characters (checked above): the
		 * character is safe to echo, a multi-byte one whole. */
		int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		snprintf(msg, msg_size,
		    "%s: may contain only ASCII letters (a-z, A-Z), digits, "
		    "'.', '-' and '_'; \"%.*s\" is not one of them", field, n,
		    (const char *)p);
		return STATUS_INVALID_ARGUMENT;
	}
	unsigned char first = (unsigned char)value[0];
	if (first == '.' || first == '-' || first == '_')
		return validate_fail(msg, msg_size, field,
		    "must start with an ASCII letter or digit, not '.', '-' or "
		    "'_'");
	return STATUS_OK;
}

int
validate_email(const char *field, const char *value, char *msg,
    size_t msg_size)
{
	int rc = validate_text(field, value, LIMIT_EMAIL, true, msg, msg_size);
	if (rc != STATUS_OK)
		return rc;
	const char *at = strchr(value, '@');
	if (at == NULL || at == value || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return validate_fail(msg, msg_size, field,
		    "is not an email address (expected name@domain)");
	if (strchr(value, ' ') != NULL)
		return validate_fail(msg, msg_size, field, "must not contain spaces");
	return STATUS_OK;
}

int
validate_principal(const char *field, const Exe__Access__V1__Principal *p,
    unsigned char user_id[16], bool *is_user, char *msg, size_t msg_size)
{
	if (is_user != NULL)
		*is_user = false;
	if (p == NULL || p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND__NOT_SET) {
		snprintf(msg, msg_size, "%s: give a user_id or an api_key", field);
		return STATUS_INVALID_ARGUMENT;
	}
	/* The field's full name ("principal.user_id") is formatted only for
	 * an error: a Check validates its principal on every call. */
	char name[64];
	if (p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID) {
		unsigned char ignored[16];
		unsigned char *out = user_id != NULL ? user_id : ignored;
		bool ok = validate_uuid_bytes(p->user_id, out);
		if (is_user != NULL)
			*is_user = ok;
		if (ok)
			return STATUS_OK;
		snprintf(name, sizeof name, "%s.user_id", field);
		return validate_uuid_id(name, p->user_id, true, out, msg,
		    msg_size);
	}
	char scratch[8];
	if (validate_text("", p->api_key, LIMIT_API_KEY, true, scratch,
	        sizeof scratch) == STATUS_OK)
		return STATUS_OK;
	snprintf(name, sizeof name, "%s.api_key", field);
	return validate_text(name, p->api_key, LIMIT_API_KEY, true, msg,
	    msg_size);
}

int
validate_actor(const Exe__Access__V1__Principal *p, char *msg,
    size_t msg_size)
{
	int rc = validate_principal("actor", p, NULL, NULL, msg, msg_size);
	if (rc == STATUS_OK &&
	    p->kind_case == EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY &&
	    !secret_well_formed(SECRET_API_KEY, p->api_key, strlen(p->api_key)))
		return validate_fail(msg, msg_size, "actor.api_key",
		    "not an ExE Access API key (wrong prefix, length or "
		    "checksum)");
	return rc;
}
