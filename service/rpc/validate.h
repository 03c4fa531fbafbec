/* Input checks shared by every method's validation: string lengths, UTF-8,
 * ids, names. Each check that fails writes a message naming the field and
 * the limit into `msg` and returns STATUS_INVALID_ARGUMENT. */
#ifndef EXE_VALIDATE_H
#define EXE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "exe/access/v1/types.pb-c.h"

/* Limits on every string field, in bytes. */
enum {
	LIMIT_USERNAME = 64,
	LIMIT_EMAIL = 254,
	LIMIT_DISPLAY_NAME = 200,
	LIMIT_NAME = 200,
	LIMIT_PERMISSION = 64,
	LIMIT_RESOURCE_ID = 200,
	LIMIT_API_KEY = 128,
	LIMIT_DETAIL = 2000,
	LIMIT_PAGE_TOKEN = 512,
	LIMIT_REQUEST_ID = 128,
	LIMIT_TOKEN = 256,
	LIMIT_METHOD = 128,
	PAGE_SIZE_DEFAULT = 100,
	PAGE_SIZE_MAX = 1000,
};

/* validate_utf8 returns true when `len` bytes at `s` are well-formed UTF-8
 * (no overlongs, no surrogates, nothing above U+10FFFF) with no NUL. */
bool validate_utf8(const char *s, size_t len);

/* validate_base64url says whether `len` bytes at `s` are all of the
 * base64url alphabet (A-Z a-z 0-9 - _). libsodium's decoder is lenient
 * about bytes above 0x7F, so callers check this first. */
bool validate_base64url(const char *s, size_t len);

/* validate_text_fault says what is wrong with `len` bytes of text at `s`:
 * "contains a NUL byte", "is not valid UTF-8" or "contains a control
 * character" (C0, DEL, C1); NULL when they are fit text. */
const char *validate_text_fault(const char *s, size_t len);

/* validate_text checks a required or optional text field: at most `max`
 * bytes, valid UTF-8, no control characters; required means non-empty.
 * It measures `value` with strlen: the pipeline has checked every string
 * of the request over its wire length first (wiretext.h), so no NUL byte
 * hides the rest of it. */
int validate_text(const char *field, const char *value, size_t max,
    bool required, char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

/* validate_uuid checks that `value` is a UUID in canonical text form
 * (8-4-4-4-12 hex digits); required means non-empty. */
int validate_uuid(const char *field, const char *value, bool required,
    char *msg, size_t msg_size) __attribute__((warn_unused_result));

/* validate_uuid_id is validate_uuid that also writes the id's 16 bytes to
 * `out` when it is one (out is left alone for an empty optional value or
 * on failure). */
int validate_uuid_id(const char *field, const char *value, bool required,
    unsigned char out[16], char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

/* validate_uuid_bytes says whether `value` is a UUID in canonical text form
 * (8-4-4-4-12 hex digits, either case, nothing else) and, if so, writes
 * its 16 bytes to `out`; `out` is untouched otherwise. */
bool validate_uuid_bytes(const char *value, unsigned char out[16])
    __attribute__((warn_unused_result));

/* validate_username checks a username: 1 to 64 bytes of ASCII letters,
 * digits, '.', '-' and '_', starting with a letter or digit. */
int validate_username(const char *field, const char *value, char *msg,
    size_t msg_size) __attribute__((warn_unused_result));

/* validate_email checks an email address: at most 254 bytes of valid UTF-8
 * with no spaces or controls, one '@' with text on both sides. */
int validate_email(const char *field, const char *value, char *msg,
    size_t msg_size) __attribute__((warn_unused_result));

/* validate_principal checks the form of a principal named `field` (e.g.
 * "principal", "actor"): present, a UUID user id or a bounded API key. For
 * a user it writes the id's 16 bytes to `user_id` and sets *is_user (both
 * may be NULL). */
int validate_principal(const char *field, const Exe__Access__V1__Principal *p,
    unsigned char user_id[16], bool *is_user, char *msg, size_t msg_size)
    __attribute__((warn_unused_result));

/* validate_actor checks the `actor` of a WorkspaceService call: a
 * principal (validate_principal), and an API key of the form of one
 * (prefix, length, checksum), refused here without the database. A key
 * that acts must be one; a key that is only asked about (Check) is
 * answered with a denial instead. */
int validate_actor(const Exe__Access__V1__Principal *p, char *msg,
    size_t msg_size) __attribute__((warn_unused_result));

#endif
