/* The seed corpus generator: writes corpus/fuzz_envelope/,
 * corpus/fuzz_dispatch/ and corpus/fuzz_paging/ under the directory it is
 * given. Requests are built from the protobuf-c descriptors of the method
 * table, so every method gets a valid request, one with the other member
 * of each oneof (API keys instead of user ids, resources instead of
 * workspaces), and a near-valid one with one field broken; envelopes and
 * cursors are built with the generated code and libsodium. The output is
 * the same on every run, so regenerating changes nothing that did not
 * change in the code.
 *
 *     build-fuzz/tests/fuzz/fuzz_seeds tests/fuzz/corpus */
#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/secrets.h"
#include "dispatch.h"
#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "fuzz.h"
#include "rpc/validate.h"

#define UUID "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90"
#define SEP "\x1f"
#define WS_METHOD(m) "exe.access.v1.WorkspaceService/" m
/* BYTES: a string literal with NUL bytes in it, and its whole length. */
#define BYTES(s) s, sizeof(s) - 1

enum { POOL_MAX = 256, PATH_MAX_LEN = 1024, INVITATION_BYTES = 32 };

/* A well-formed API key and invitation token, the same on every run. */
static char api_key[SECRET_API_KEY_LEN + 1];
static char invitation[8 + 43 + 1];
/* A cursor of two parts, as a list method returns it. */
static char cursor[128];

static const char *out_dir;
static size_t files_written, bytes_written;

/* write_seed writes one corpus file, corpus/<target>/<name>. */
static void
write_seed(const char *target, const char *name, const void *data,
    size_t len)
{
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof path, "%s/%s", out_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		FUZZ_CHECK(0, "mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL, "%s: %s", path, strerror(errno));
	FUZZ_CHECK(fwrite(data, 1, len, f) == len && fclose(f) == 0,
	    "writing %s: %s", path, strerror(errno));
	files_written++;
	bytes_written += len;
}

/* Everything one request is built from, freed together. */
struct pool {
	void *blocks[POOL_MAX];
	size_t n;
};

static void *
pool_alloc(struct pool *p, size_t size)
{
	FUZZ_CHECK(p->n < POOL_MAX, "the request is too deep");
	void *block = calloc(1, size);
	FUZZ_CHECK(block != NULL, "out of memory");
	p->blocks[p->n++] = block;
	return block;
}

static void
pool_free(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->blocks[i]);
	p->n = 0;
}

/* How the one broken field of a near-valid request is broken. */
enum breakage {
	BREAK_EMPTY,   /* required fields are refused empty */
	BREAK_LONG,    /* over every limit but detail's */
	BREAK_UTF8,    /* an overlong encoding of '/' appended */
	BREAK_CONTROL, /* a control character in front */
	BREAK_KINDS,
};

/* What build_message makes: `alt` picks the last member of each oneof
 * instead of the first; the string field numbered `break_at` (in the
 * order they are filled) is broken as `how`; `strings` counts them. */
struct build {
	struct pool pool;
	bool alt;
	int break_at;
	enum breakage how;
	int strings;
};

/* string_value is a valid value for a string field, by its name. */
static const char *
string_value(const struct build *b, const char *field)
{
	static const struct {
		const char *field, *value;
	} values[] = {
	    {"username", "ada.lovelace"},
	    {"email", "ada@example.com"},
	    {"display_name", "Ada Lovelace"},
	    {"name", "Analytical Engine Lab"},
	    {"permission", "experiment.create"},
	    {"action", "experiment.edit"},
	    {"type", "experiment"},
	    {"resource_type", "dataset"},
	    {"detail", "moved the second run to Tuesday"},
	    {"key", "theme"},
	    {"value", "dark"},
	    {"unset", "locale"},
	};
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		if (strcmp(values[i].field, field) == 0)
			return values[i].value;
	}
	if (strcmp(field, "api_key") == 0 || strcmp(field, "secret") == 0)
		return api_key;
	if (strcmp(field, "token") == 0)
		return invitation;
	if (strcmp(field, "page_token") == 0)
		return b->alt ? cursor : "";
	/* user_id, workspace_id, organization_id, id, ... */
	return UUID;
}

static char *
broken_value(struct build *b, const char *good)
{
	size_t len = strlen(good);
	char *s = pool_alloc(&b->pool, len + 300);
	switch (b->how) {
	case BREAK_EMPTY: break;
	case BREAK_LONG: memset(s, 'a', 260); break;
	case BREAK_UTF8: snprintf(s, len + 300, "%s\xc0\xaf", good); break;
	default: snprintf(s, len + 300, "\x01%s", good); break;
	}
	return s;
}

static uint32_t
number_value(const char *field)
{
	if (strcmp(field, "page_size") == 0)
		return 10;
	if (strcmp(field, "role") == 0)
		return EXE__ACCESS__V1__ROLE__ROLE_MEMBER;
	if (strcmp(field, "expires_in_days") == 0)
		return 7;
	if (strcmp(field, "grace_seconds") == 0)
		return 60;
	if (strcmp(field, "anchor_seq") == 0)
		return 3;
	if (strcmp(field, "read_only") == 0 ||
	    strcmp(field, "include_closed") == 0)
		return 1;
	return 0;
}

/* oneof_member_wanted: the first member of its oneof, or with `alt` the
 * last. Members of one oneof share their case's offset. */
static bool
oneof_member_wanted(const ProtobufCMessageDescriptor *d, unsigned i, bool alt)
{
	const ProtobufCFieldDescriptor *f = &d->fields[i];
	for (unsigned k = 0; k < d->n_fields; k++) {
		const ProtobufCFieldDescriptor *g = &d->fields[k];
		if (k != i && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    g->quantifier_offset == f->quantifier_offset &&
		    (alt ? k > i : k < i))
			return false;
	}
	return true;
}

/* field_skipped: RecordActivity takes a workspace or a resource, not both;
 * VerifyActivity a workspace (the first seed) or, for the whole log, an
 * anchor (the other). */
static bool
field_skipped(const ProtobufCMessageDescriptor *d,
    const ProtobufCFieldDescriptor *f, bool alt)
{
	if (d == &exe__access__v1__verify_activity_request__descriptor)
		return alt ? strcmp(f->name, "workspace_id") == 0 ||
		        strcmp(f->name, "organization_id") == 0
		           : strcmp(f->name, "workspace_id") != 0;
	if (d != &exe__access__v1__record_activity_request__descriptor)
		return false;
	return strcmp(f->name, alt ? "workspace_id" : "resource") == 0;
}

static ProtobufCMessage *build_message(struct build *b,
    const ProtobufCMessageDescriptor *d);

/* fill_value writes one value of field `f` at `slot`. */
static void
fill_value(struct build *b, const ProtobufCFieldDescriptor *f, void *slot)
{
	uint32_t u32 = number_value(f->name);
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *good = string_value(b, f->name);
		char *value = b->strings++ == b->break_at
		    ? broken_value(b, good)
		    : (char *)good;
		memcpy(slot, &value, sizeof value);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *sub = build_message(b, f->descriptor);
		memcpy(slot, &sub, sizeof sub);
		break;
	}
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_BOOL:
		memcpy(slot, &u32, sizeof u32);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64: {
		uint64_t u64 = u32;
		memcpy(slot, &u64, sizeof u64);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		/* A hash's 32 bytes (anchor_hash, the only bytes field). */
		static uint8_t bytes[32] = {0xa5};
		ProtobufCBinaryData v = {.len = sizeof bytes, .data = bytes};
		memcpy(slot, &v, sizeof v);
		break;
	}
	default:
		FUZZ_CHECK(0, "field %s: type %d is not in the requests", f->name,
		    f->type);
	}
}

static size_t
value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
	case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64: return sizeof(uint64_t);
	case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
	default: return sizeof(uint32_t);
	}
}

/* build_message makes a message of type `d` with every field set, one
 * element in each repeated field. */
static ProtobufCMessage *
build_message(struct build *b, const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = pool_alloc(&b->pool, d->sizeof_message);
	d->message_init(m);
	char *base = (char *)m;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (field_skipped(d, f, b->alt))
			continue;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			if (!oneof_member_wanted(d, i, b->alt))
				continue;
			uint32_t which = f->id;
			memcpy(base + f->quantifier_offset, &which, sizeof which);
		}
		void *slot = base + f->offset;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = 1;
			void *values = pool_alloc(&b->pool, value_size(f));
			memcpy(base + f->quantifier_offset, &n, sizeof n);
			memcpy(slot, &values, sizeof values);
			slot = values;
		}
		fill_value(b, f, slot);
	}
	return m;
}

/* pack_message packs `m` into a new buffer of *len bytes. */
static uint8_t *
pack_message(const ProtobufCMessage *m, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n + 1);
	FUZZ_CHECK(buf != NULL, "out of memory");
	*len = protobuf_c_message_pack(m, buf);
	return buf;
}

/* request_body packs a request of method `m`, built as `b` says. */
static uint8_t *
request_body(const struct method *m, struct build *b, size_t *len)
{
	ProtobufCMessage *req = build_message(b, m->request);
	uint8_t *buf = pack_message(req, len);
	pool_free(&b->pool);
	return buf;
}

/* An envelope's fields; NULL strings are left empty. */
struct envelope {
	const char *method, *request_id, *token;
	const uint8_t *body;
	size_t body_len;
	int64_t deadline;
};

static uint8_t *
pack_envelope(const struct envelope *e, size_t *len)
{
	Exe__Access__V1__RpcRequest req = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	if (e->method != NULL)
		req.method = (char *)e->method;
	if (e->request_id != NULL)
		req.request_id = (char *)e->request_id;
	if (e->token != NULL)
		req.token = (char *)e->token;
	req.body.data = (uint8_t *)e->body;
	req.body.len = e->body_len;
	req.deadline_unix_ms = e->deadline;
	return pack_message(&req.base, len);
}

/* seed_method_index is the row of the method named "<Service>/<short>". */
static size_t
seed_method_index(const char *name)
{
	const struct method *m = dispatch_lookup(name);
	FUZZ_CHECK(m != NULL, "no method %s", name);
	return (size_t)(m - dispatch_methods);
}

static const char *
short_name(const char *name)
{
	return strrchr(name, '/') + 1;
}

/* write_dispatch_seed writes a fuzz_dispatch input: method, flags, rest. */
static void
write_dispatch_seed(const char *name, size_t method, unsigned flags,
    const uint8_t *rest, size_t rest_len)
{
	uint8_t *buf = malloc(rest_len + 2);
	FUZZ_CHECK(buf != NULL, "out of memory");
	buf[0] = (uint8_t)method;
	buf[1] = (uint8_t)flags;
	if (rest_len > 0)
		memcpy(buf + 2, rest, rest_len);
	write_seed("fuzz_dispatch", name, buf, rest_len + 2);
	free(buf);
}

static unsigned
caller_flag(enum fuzz_caller caller)
{
	return (unsigned)caller << FUZZ_CALLER_SHIFT;
}

/* count_strings is how many string fields a request of `m` fills. */
static int
count_strings(const struct method *m, bool alt)
{
	struct build b = {.alt = alt, .break_at = -1};
	size_t len;
	free(request_body(m, &b, &len));
	return b.strings;
}

/* dispatch_method_seeds: for every method, a valid request from the admin
 * caller, one with the other oneof members and no token table, and one
 * with a field broken. */
static void
dispatch_method_seeds(void)
{
	for (size_t i = 0; i < dispatch_method_count; i++) {
		const struct method *m = &dispatch_methods[i];
		const char *s = short_name(m->name);
		char name[128];
		size_t len;
		uint8_t *body;

		struct build valid = {.break_at = -1};
		body = request_body(m, &valid, &len);
		snprintf(name, sizeof name, "valid-%s", s);
		write_dispatch_seed(name, i,
		    caller_flag(FUZZ_CALLER_ADMIN) | FUZZ_REQUEST_ID, body, len);
		free(body);

		struct build alt = {.alt = true, .break_at = -1};
		body = request_body(m, &alt, &len);
		snprintf(name, sizeof name, "alt-%s", s);
		write_dispatch_seed(name, i, caller_flag(FUZZ_CALLER_NONE), body,
		    len);
		free(body);

		int strings = count_strings(m, false);
		if (strings == 0)
			continue;
		struct build bad = {
		    .break_at = (int)((i * 7) % (size_t)strings),
		    .how = (enum breakage)(i % BREAK_KINDS),
		};
		body = request_body(m, &bad, &len);
		snprintf(name, sizeof name, "bad-%s", s);
		write_dispatch_seed(name, i, caller_flag(FUZZ_CALLER_NONE), body,
		    len);
		free(body);
	}
}

/* dispatch_fast_path_seeds: AuthzService requests with malformed API keys,
 * which the fast path answers without a cache or a database. */
static void
dispatch_fast_path_seeds(void)
{
	Exe__Access__V1__Principal bogus = EXE__ACCESS__V1__PRINCIPAL__INIT;
	bogus.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_API_KEY;
	bogus.api_key = "exa_live_not-a-real-key";

	Exe__Access__V1__CheckRequest check =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	check.principal = &bogus;
	check.permission = "dataset.edit";
	check.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_WORKSPACE_ID;
	check.workspace_id = UUID;
	size_t len;
	uint8_t *body = pack_message(&check.base, &len);
	write_dispatch_seed("fast-Check",
	    seed_method_index("exe.access.v1.AuthzService/Check"),
	    caller_flag(FUZZ_CALLER_CHECK) | FUZZ_REQUEST_ID, body, len);
	free(body);

	Exe__Access__V1__CheckRequest *items[] = {&check, &check};
	Exe__Access__V1__BatchCheckRequest batch =
	    EXE__ACCESS__V1__BATCH_CHECK_REQUEST__INIT;
	batch.checks = items;
	batch.n_checks = 2;
	body = pack_message(&batch.base, &len);
	write_dispatch_seed("fast-BatchCheck",
	    seed_method_index("exe.access.v1.AuthzService/BatchCheck"),
	    caller_flag(FUZZ_CALLER_NONE) | FUZZ_SMALL_REPLY, body, len);
	free(body);

	Exe__Access__V1__ListPermissionsRequest perms =
	    EXE__ACCESS__V1__LIST_PERMISSIONS_REQUEST__INIT;
	perms.principal = &bogus;
	perms.workspace_id = UUID;
	body = pack_message(&perms.base, &len);
	write_dispatch_seed("fast-ListPermissions",
	    seed_method_index("exe.access.v1.AuthzService/ListPermissions"),
	    caller_flag(FUZZ_CALLER_CHECK), body, len);
	free(body);
}

/* A whole-envelope input of fuzz_dispatch. */
struct envelope_seed {
	const char *name;
	unsigned flags;
	struct envelope e;
};

static void
dispatch_envelope_seeds(const uint8_t *body, size_t body_len)
{
	static const uint8_t junk[] = {0xff, 0xff, 0xff};
	const struct envelope_seed seeds[] = {
	    {"env-admin", caller_flag(FUZZ_CALLER_ADMIN),
	        {WS_METHOD("CreateUser"), "r-1", FUZZ_TOKEN_ADMIN, body,
	            body_len, 0}},
	    {"env-check-scope", caller_flag(FUZZ_CALLER_CHECK),
	        {WS_METHOD("CreateUser"), "r-2", FUZZ_TOKEN_CHECK, body,
	            body_len, 0}},
	    {"env-unknown-token", caller_flag(FUZZ_CALLER_ADMIN),
	        {WS_METHOD("CreateUser"), "r-3", FUZZ_TOKEN_UNKNOWN, body,
	            body_len, 0}},
	    {"env-no-token", caller_flag(FUZZ_CALLER_ADMIN),
	        {WS_METHOD("CreateUser"), "r-4", NULL, body, body_len, 0}},
	    {"env-open", caller_flag(FUZZ_CALLER_NONE),
	        {WS_METHOD("CreateUser"), NULL, NULL, body, body_len, 0}},
	    {"env-unknown-method", caller_flag(FUZZ_CALLER_NONE),
	        {WS_METHOD("NoSuchMethod"), "r-5", NULL, NULL, 0, 0}},
	    {"env-bad-request-id", caller_flag(FUZZ_CALLER_NONE),
	        {WS_METHOD("CreateUser"), "bad\xc0\xaf", NULL, body, body_len,
	            0}},
	    {"env-deadline-passed", caller_flag(FUZZ_CALLER_NONE),
	        {WS_METHOD("CreateUser"), "r-6", NULL, body, body_len, 1}},
	    {"env-negative-deadline", caller_flag(FUZZ_CALLER_NONE),
	        {WS_METHOD("CreateUser"), "r-7", NULL, body, body_len, -5}},
	    {"env-junk-body", caller_flag(FUZZ_CALLER_NONE),
	        {WS_METHOD("CreateUser"), "r-8", NULL, junk, sizeof junk, 0}},
	    {"env-too-big", caller_flag(FUZZ_CALLER_NONE) | FUZZ_SMALL_REQUEST,
	        {WS_METHOD("CreateUser"), "r-9", NULL, body, body_len, 0}},
	};
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		size_t len;
		uint8_t *env = pack_envelope(&seeds[i].e, &len);
		write_dispatch_seed(seeds[i].name, 0,
		    seeds[i].flags | FUZZ_ENVELOPE, env, len);
		free(env);
	}

	/* A known token followed by a NUL and more: another token to the
	 * service (protobuf-c cannot pack the NUL, so it is put in after). */
	const struct envelope nul_token = {WS_METHOD("CreateUser"), "r-10",
	    FUZZ_TOKEN_ADMIN "~x", body, body_len, 0};
	size_t len;
	uint8_t *env = pack_envelope(&nul_token, &len);
	uint8_t *tilde = NULL;
	for (size_t i = 0; tilde == NULL && i + 1 < len; i++)
		if (env[i] == '~' && env[i + 1] == 'x')
			tilde = env + i;
	if (tilde == NULL) {
		fprintf(stderr, "seeds: the token is not in the envelope\n");
		exit(1);
	}
	*tilde = '\0';
	write_dispatch_seed("env-token-nul", 0,
	    caller_flag(FUZZ_CALLER_ADMIN) | FUZZ_ENVELOPE, env, len);
	free(env);
}

/* envelope_seeds: RpcRequests for fuzz_envelope, well-formed and not. */
static void
envelope_seeds(const uint8_t *body, size_t body_len)
{
	char long_id[LIMIT_REQUEST_ID + 2];
	memset(long_id, 'r', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = '\0';
	const struct {
		const char *name;
		struct envelope e;
	} seeds[] = {
	    {"valid", {WS_METHOD("CreateUser"), "r-1", FUZZ_TOKEN_ADMIN, body,
	                  body_len, 1700000000000}},
	    {"valid-minimal", {WS_METHOD("CreateUser"), NULL, NULL, NULL, 0, 0}},
	    {"valid-check", {"exe.access.v1.AuthzService/Check", "r-2", NULL,
	                        body, body_len, 0}},
	    {"no-method", {NULL, "r-3", NULL, body, body_len, 0}},
	    {"bad-method-utf8", {"exe\xed\xa0\x80", "r-4", NULL, NULL, 0, 0}},
	    {"bad-request-id-utf8", {WS_METHOD("GetUser"), "r\xc0\xaf", NULL,
	                                NULL, 0, 0}},
	    {"bad-request-id-control", {WS_METHOD("GetUser"), "r\x01", NULL,
	                                   NULL, 0, 0}},
	    {"long-request-id", {WS_METHOD("GetUser"), long_id, NULL, NULL, 0,
	                            0}},
	    {"bad-token-utf8", {WS_METHOD("GetUser"), "r-5", "exa_svc_\xff",
	                           NULL, 0, 0}},
	    {"negative-deadline", {WS_METHOD("GetUser"), "r-6", NULL, NULL, 0,
	                              -1}},
	    {"c1-control-method", {"exe\xc2\x85", "r-7", NULL, NULL, 0, 0}},
	};
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		size_t len;
		uint8_t *env = pack_envelope(&seeds[i].e, &len);
		write_seed("fuzz_envelope", seeds[i].name, env, len);
		if (i == 0) {
			/* The first, cut short, and with things appended:
			 * an unknown field, a second method, a varint where a
			 * string belongs, a length past the end. */
			static const uint8_t unknown[] = {0x78, 0x01};
			static const uint8_t method2[] = {0x0a, 0x01, 'x'};
			static const uint8_t varint_method[] = {0x08, 0x05};
			static const uint8_t past_end[] = {0x1a, 0x7f, 'r'};
			static const struct {
				const char *name;
				const uint8_t *tail;
				size_t len;
			} tails[] = {
			    {"unknown-field", unknown, sizeof unknown},
			    {"method-twice", method2, sizeof method2},
			    {"method-as-varint", varint_method,
			        sizeof varint_method},
			    {"length-past-end", past_end, sizeof past_end},
			};
			write_seed("fuzz_envelope", "truncated", env, len - 1);
			write_seed("fuzz_envelope", "first-byte", env, 1);
			for (size_t k = 0; k < sizeof tails / sizeof tails[0]; k++) {
				uint8_t *buf = malloc(len + tails[k].len);
				FUZZ_CHECK(buf != NULL, "out of memory");
				memcpy(buf, env, len);
				memcpy(buf + len, tails[k].tail, tails[k].len);
				write_seed("fuzz_envelope", tails[k].name, buf,
				    len + tails[k].len);
				free(buf);
			}
		}
		free(env);
	}
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff};
	write_seed("fuzz_envelope", "junk", junk, sizeof junk);
	write_seed("fuzz_envelope", "empty", "", 0);
}

/* paging_seeds: strings for the validators and cursors for paging. A seed
 * is also cut into parts at NUL bytes for the encode round trip, its first
 * byte giving the count. */
static void
paging_seeds(void)
{
	char long_cursor[LIMIT_PAGE_TOKEN + 2];
	memset(long_cursor, 'A', sizeof long_cursor - 1);
	long_cursor[sizeof long_cursor - 1] = '\0';
	static const char p1[] = "abc" SEP;
	static const char p3[] = "2024-05-01" SEP "ada" SEP UUID SEP;
	static const char p4[] = "a" SEP "\xc3\xa9" SEP "" SEP "z" SEP;
	char c1[sizeof p1 * 2], c3[sizeof p3 * 2], c4[sizeof p4 * 2];
	sodium_bin2base64(c1, sizeof c1, (const unsigned char *)p1,
	    sizeof p1 - 1, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(c3, sizeof c3, (const unsigned char *)p3,
	    sizeof p3 - 1, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_bin2base64(c4, sizeof c4, (const unsigned char *)p4,
	    sizeof p4 - 1, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	const struct {
		const char *name;
		const char *text;
		size_t len; /* 0: strlen */
	} seeds[] = {
	    {"cursor-1", c1, 0},
	    {"cursor-2", cursor, 0},
	    {"cursor-3", c3, 0},
	    {"cursor-4", c4, 0},
	    {"cursor-padded", "YWJjHw==", 0},
	    {"cursor-standard-alphabet", "YW+/Hw", 0},
	    {"cursor-too-long", long_cursor, 0},
	    {"cursor-no-separator", "YWJj", 0},
	    {"uuid", UUID, 0},
	    {"uuid-upper", "3F2B8C1E-0D4A-4E7B-9C1F-2A6D5E8B7C90", 0},
	    {"uuid-short", "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c9", 0},
	    {"username", "ada.lovelace", 0},
	    {"username-dash-first", "-ada", 0},
	    {"email", "ada@example.com", 0},
	    {"email-two-at", "ada@@example.com", 0},
	    {"email-space", "ada lovelace@example.com", 0},
	    {"utf8-2", "caf\xc3\xa9", 0},
	    {"utf8-3-lowest", "\xe0\xa0\x80", 0},
	    {"utf8-3-overlong", "\xe0\x9f\xbf", 0},
	    {"utf8-surrogate", "\xed\xa0\x80", 0},
	    {"utf8-before-surrogates", "\xed\x9f\xbf", 0},
	    {"utf8-4-highest", "\xf4\x8f\xbf\xbf", 0},
	    {"utf8-4-too-high", "\xf4\x90\x80\x80", 0},
	    {"utf8-overlong-nul", "a\xc0\x80", 0},
	    {"utf8-truncated", "ab\xe2\x82", 0},
	    {"c1-control", "a\xc2\x85z", 0},
	    {"del", "a\x7fz", 0},
	    {"parts-3", BYTES("\x02" "2024-05-01\0ada\0" UUID)},
	    {"parts-4-empty", BYTES("\x03" "a\0\0\xc3\xa9\0z")},
	    {"parts-separator", BYTES("\x01" "a" SEP "b\0c")},
	};
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		size_t len = seeds[i].len != 0 ? seeds[i].len
		                               : strlen(seeds[i].text);
		write_seed("fuzz_paging", seeds[i].name, seeds[i].text, len);
	}
}

/* make_secrets fills api_key, invitation and cursor from fixed bytes, in
 * the formats apikey.c, invitations.c and paging.c use. */
static void
make_secrets(void)
{
	unsigned char raw[SECRET_API_KEY_RANDOM_BYTES + SECRET_API_KEY_CHECK_BYTES];
	unsigned char sum[crypto_generichash_BYTES_MIN];
	for (size_t i = 0; i < SECRET_API_KEY_RANDOM_BYTES; i++)
		raw[i] = (unsigned char)(i * 37 + 11);
	crypto_generichash(sum, sizeof sum, raw, SECRET_API_KEY_RANDOM_BYTES, NULL, 0);
	memcpy(raw + SECRET_API_KEY_RANDOM_BYTES, sum, SECRET_API_KEY_CHECK_BYTES);
	memcpy(api_key, SECRET_API_KEY_PREFIX, sizeof SECRET_API_KEY_PREFIX - 1);
	sodium_bin2base64(api_key + sizeof SECRET_API_KEY_PREFIX - 1,
	    sizeof api_key - (sizeof SECRET_API_KEY_PREFIX - 1), raw, sizeof raw,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	FUZZ_CHECK(secret_well_formed(SECRET_API_KEY, api_key, strlen(api_key)),
	    "the seed API key %s is not well formed", api_key);

	unsigned char token[INVITATION_BYTES];
	for (size_t i = 0; i < sizeof token; i++)
		token[i] = (unsigned char)(i * 53 + 7);
	memcpy(invitation, "exa_inv_", 8);
	sodium_bin2base64(invitation + 8, sizeof invitation - 8, token,
	    sizeof token, sodium_base64_VARIANT_URLSAFE_NO_PADDING);

	static const char parts[] = "2024-05-01T10:00:00Z" SEP UUID SEP;
	sodium_bin2base64(cursor, sizeof cursor, (const unsigned char *)parts,
	    sizeof parts - 1, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR (tests/fuzz/corpus)\n",
		    argv[0]);
		return 2;
	}
	out_dir = argv[1];
	if (sodium_init() < 0) {
		fprintf(stderr, "sodium_init failed\n");
		return 1;
	}
	make_secrets();

	const struct method *create_user = dispatch_lookup(
	    WS_METHOD("CreateUser"));
	FUZZ_CHECK(create_user != NULL, "no CreateUser");
	struct build b = {.break_at = -1};
	size_t body_len;
	uint8_t *body = request_body(create_user, &b, &body_len);

	dispatch_method_seeds();
	dispatch_fast_path_seeds();
	dispatch_envelope_seeds(body, body_len);
	envelope_seeds(body, body_len);
	paging_seeds();
	free(body);
	printf("%zu files, %zu bytes in %s\n", files_written, bytes_written,
	    out_dir);
	return 0;
}
