/* Unit tests of wiretext: every string field of a serialized message is
 * checked over its wire length, at every depth (nested messages, repeated
 * fields, oneofs), and named by its full path; bytes fields, unknown
 * fields and numbers are not text; bytes that do not read as a message
 * end the walk quietly. Messages with a NUL byte are packed with a marker
 * byte in its place that is then overwritten (protobuf-c packs C strings,
 * which cannot hold one), so the wire is what any other language sends. */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exe/access/v1/authz.pb-c.h"
#include "exe/access/v1/rpc.pb-c.h"
#include "exe/access/v1/workspace.pb-c.h"
#include "rpc/wiretext.h"
#include "unit.h"

/* A packed message. */
struct packed {
	uint8_t *buf;
	size_t len;
};

static struct packed
pack(const ProtobufCMessage *m)
{
	struct packed p;
	p.len = protobuf_c_message_get_packed_size(m);
	p.buf = malloc(p.len + 1);
	if (p.buf == NULL)
		abort();
	protobuf_c_message_pack(m, p.buf);
	return p;
}

/* poke replaces the first byte of the first `marker` in `p` by `byte`. */
static void
poke(struct packed *p, const char *marker, uint8_t byte)
{
	uint8_t *at = memmem(p->buf, p->len, marker, strlen(marker));
	if (at == NULL) {
		fprintf(
		    stderr, "  marker \"%s\" is not in the message\n", marker);
		abort();
	}
	*at = byte;
}

/* The faults a walk told, in order. */
struct told {
	size_t n;
	char text[8][160];
	uint32_t top_field[8];
	size_t top_index[8];
	bool stop_after_first;
};

static bool
record_cb(void *arg, const struct wiretext_fault *f)
{
	struct told *t = arg;
	if (t->n < 8) {
		snprintf(t->text[t->n], sizeof t->text[t->n], "%s: %s", f->path,
		    f->what);
		t->top_field[t->n] = f->top_field;
		t->top_index[t->n] = f->top_index;
	}
	t->n++;
	return !t->stop_after_first;
}

static struct told
walk(const ProtobufCMessageDescriptor *d, const struct packed *p)
{
	struct told t = {0};
	size_t n = wiretext_walk(d, p->buf, p->len, record_cb, &t);
	EXPECT_INT(n, t.n);
	return t;
}

static void
nul_in_a_top_level_string(void)
{
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.permission = "experiment.view#junk";
	struct packed p = pack(&req.base);
	struct told t = walk(&exe__access__v1__check_request__descriptor, &p);
	EXPECT_INT(t.n, 0);
	poke(&p, "#junk", 0);
	t = walk(&exe__access__v1__check_request__descriptor, &p);
	EXPECT_INT(t.n, 1);
	EXPECT_STR(t.text[0], "permission: contains a NUL byte");
	EXPECT_INT(t.top_field[0], 2);
	/* protobuf-c itself takes it, and its copy ends at the NUL. */
	Exe__Access__V1__CheckRequest *back =
	    exe__access__v1__check_request__unpack(NULL, p.len, p.buf);
	EXPECT(back != NULL);
	if (back != NULL)
		EXPECT_STR(back->permission, "experiment.view");
	exe__access__v1__check_request__free_unpacked(back, NULL);
	char msg[128] = "";
	EXPECT(!wiretext_first(&exe__access__v1__check_request__descriptor,
	    p.buf, p.len, msg, sizeof msg));
	EXPECT_STR(msg, "permission: contains a NUL byte");
	free(p.buf);
}

static void
nul_in_nested_and_oneof_strings(void)
{
	Exe__Access__V1__Principal who = EXE__ACCESS__V1__PRINCIPAL__INIT;
	who.kind_case = EXE__ACCESS__V1__PRINCIPAL__KIND_USER_ID;
	who.user_id = "3f2b8c1e-0d4a-4e7b-9c1f-2a6d5e8b7c90#zzz";
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "experiment";
	ref.id = "nulid#x";
	Exe__Access__V1__CheckRequest req =
	    EXE__ACCESS__V1__CHECK_REQUEST__INIT;
	req.principal = &who;
	req.permission = "experiment.view";
	req.target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
	req.resource = &ref;
	struct packed p = pack(&req.base);
	poke(&p, "#zzz", 0);
	poke(&p, "#x", 0);
	struct told t = walk(&exe__access__v1__check_request__descriptor, &p);
	EXPECT_INT(t.n, 2);
	EXPECT_STR(t.text[0], "principal.user_id: contains a NUL byte");
	EXPECT_STR(t.text[1], "resource.id: contains a NUL byte");
	EXPECT_INT(t.top_field[0], 1);
	EXPECT_INT(t.top_field[1], 4);
	free(p.buf);
}

static void
repeated_items_are_numbered(void)
{
	Exe__Access__V1__CheckRequest items[6];
	Exe__Access__V1__CheckRequest *list[6];
	char permissions[6][32];
	for (size_t i = 0; i < 6; i++) {
		exe__access__v1__check_request__init(&items[i]);
		snprintf(permissions[i], sizeof permissions[i],
		    "experiment.view%c%zu", i == 3 || i == 5 ? '#' : '-', i);
		items[i].permission = permissions[i];
		list[i] = &items[i];
	}
	/* Two faults in item 3: only the first is told. */
	Exe__Access__V1__ResourceRef ref = EXE__ACCESS__V1__RESOURCE_REF__INIT;
	ref.type = "dataset";
	ref.id = "d#3";
	items[3].target_case = EXE__ACCESS__V1__CHECK_REQUEST__TARGET_RESOURCE;
	items[3].resource = &ref;
	Exe__Access__V1__BatchCheckRequest req =
	    EXE__ACCESS__V1__BATCH_CHECK_REQUEST__INIT;
	req.checks = list;
	req.n_checks = 6;
	struct packed p = pack(&req.base);
	poke(&p, "#3", 0);
	poke(&p, "#3", 0x01);
	poke(&p, "#5", 0x7f);
	struct told t =
	    walk(&exe__access__v1__batch_check_request__descriptor, &p);
	EXPECT_INT(t.n, 2);
	EXPECT_STR(t.text[0], "checks[3].permission: contains a NUL byte");
	EXPECT_INT(t.top_field[0], 1);
	EXPECT_INT(t.top_index[0], 3);
	EXPECT_STR(
	    t.text[1], "checks[5].permission: contains a control character");
	EXPECT_INT(t.top_index[1], 5);
	/* A callback that stops hears of the first only. */
	struct told first = {.stop_after_first = true};
	EXPECT_INT(
	    wiretext_walk(&exe__access__v1__batch_check_request__descriptor,
	        p.buf, p.len, record_cb, &first),
	    1);
	free(p.buf);
}

static void
repeated_strings_and_messages(void)
{
	Exe__Access__V1__Setting set[2] = {
	    EXE__ACCESS__V1__SETTING__INIT, EXE__ACCESS__V1__SETTING__INIT};
	Exe__Access__V1__Setting *sets[2] = {&set[0], &set[1]};
	set[0].key = "colour";
	set[0].value = "blue";
	set[1].key = "size";
	set[1].value = "big#gest";
	char *unset[3] = {"a", "b", "c#d"};
	Exe__Access__V1__UpdateWorkspaceSettingsRequest req =
	    EXE__ACCESS__V1__UPDATE_WORKSPACE_SETTINGS_REQUEST__INIT;
	req.set = sets;
	req.n_set = 2;
	req.unset = unset;
	req.n_unset = 3;
	struct packed p = pack(&req.base);
	poke(&p, "#gest", 0);
	poke(&p, "#d", 0xC2); /* a lead byte with no continuation */
	struct told t = walk(
	    &exe__access__v1__update_workspace_settings_request__descriptor,
	    &p);
	EXPECT_INT(t.n, 2);
	EXPECT_STR(t.text[0], "set[1].value: contains a NUL byte");
	EXPECT_STR(t.text[1], "unset[2]: is not valid UTF-8");
	EXPECT_INT(t.top_index[1], 2);
	free(p.buf);
}

static void
every_kind_of_unfit_text(void)
{
	static const struct {
		uint8_t byte;
		const char *what;
	} cases[] = {
	    {0x00, "contains a NUL byte"},
	    {0x01, "contains a control character"},
	    {0x0a, "contains a control character"},
	    {0x1f, "contains a control character"},
	    {0x7f, "contains a control character"},
	    {0x80, "is not valid UTF-8"},
	    {0xff, "is not valid UTF-8"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Exe__Access__V1__RecordActivityRequest req =
		    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
		req.detail = "measured #well";
		struct packed p = pack(&req.base);
		poke(&p, "#well", cases[i].byte);
		struct told t = walk(
		    &exe__access__v1__record_activity_request__descriptor, &p);
		EXPECT_INT(t.n, 1);
		char want[80];
		snprintf(want, sizeof want, "detail: %s", cases[i].what);
		EXPECT_STR(t.text[0], want);
		free(p.buf);
	}
	/* C1 controls are two bytes in UTF-8: U+0085. */
	Exe__Access__V1__RecordActivityRequest req =
	    EXE__ACCESS__V1__RECORD_ACTIVITY_REQUEST__INIT;
	req.detail = "next\xc2\x85line";
	struct packed p = pack(&req.base);
	struct told t =
	    walk(&exe__access__v1__record_activity_request__descriptor, &p);
	EXPECT_INT(t.n, 1);
	EXPECT_STR(t.text[0], "detail: contains a control character");
	free(p.buf);
	/* Fit UTF-8 is fit. */
	req.detail = "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
	p = pack(&req.base);
	t = walk(&exe__access__v1__record_activity_request__descriptor, &p);
	EXPECT_INT(t.n, 0);
	free(p.buf);
}

static void
bytes_numbers_and_unknown_fields_are_not_text(void)
{
	/* The envelope's body is bytes: a NUL in it is the body's business. */
	Exe__Access__V1__RpcRequest env = EXE__ACCESS__V1__RPC_REQUEST__INIT;
	env.method = "exe.access.v1.AuthzService/Check";
	static uint8_t body[] = {0x12, 0x03, 'a', 0x00, 'b'};
	env.body.data = body;
	env.body.len = sizeof body;
	env.deadline_unix_ms = 1234;
	struct packed p = pack(&env.base);
	struct told t = walk(&exe__access__v1__rpc_request__descriptor, &p);
	EXPECT_INT(t.n, 0);
	free(p.buf);
	/* Field 9 is unknown to GetUserRequest: skipped, whatever it holds;
	 * field 1 after it is still checked. */
	static const uint8_t unknown[] = {
	    0x4a, 0x02, 0x00, 0x01, 0x48, 0x05, 0x0a, 0x02, 'x', 0x00};
	p.buf = (uint8_t *)unknown;
	p.len = sizeof unknown;
	t = walk(&exe__access__v1__get_user_request__descriptor, &p);
	EXPECT_INT(t.n, 1);
	EXPECT_STR(t.text[0], "user_id: contains a NUL byte");
}

static void
unreadable_bytes_end_the_walk(void)
{
	static const struct {
		const char *name;
		uint8_t bytes[8];
		size_t len;
	} cases[] = {
	    {"length past the end", {0x0a, 0x05, 'a', 0x00}, 4},
	    {"tag cut short", {0x80}, 1},
	    {"varint cut short", {0x08, 0x80}, 2},
	    {"fixed64 cut short", {0x09, 1, 2, 3}, 4},
	    {"group", {0x0b, 0x0c}, 2},
	    {"wire type 7", {0x0f, 0x00}, 2},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct packed p = {(uint8_t *)cases[i].bytes, cases[i].len};
		struct told t =
		    walk(&exe__access__v1__get_user_request__descriptor, &p);
		EXPECT_INT(t.n, 0);
		/* The walk may end quietly on them only because protobuf-c
		 * refuses them too, before the walk ever runs. */
		Exe__Access__V1__GetUserRequest *r =
		    exe__access__v1__get_user_request__unpack(
		        NULL, p.len, p.buf);
		if (r != NULL)
			fprintf(stderr, "  protobuf-c took \"%s\"\n",
			    cases[i].name);
		EXPECT(r == NULL);
		exe__access__v1__get_user_request__free_unpacked(r, NULL);
	}
	struct told t = walk(&exe__access__v1__get_user_request__descriptor,
	    &(struct packed){NULL, 0});
	EXPECT_INT(t.n, 0);
}

/* Every string field of every request descriptor, at any depth, is
 * checked: each in turn is set alone to a value with a NUL, its path must
 * be the one told. */
struct string_path {
	char path[128];
	unsigned wire[4]; /* field numbers from the top */
	size_t depth;
};

static size_t
string_paths(const ProtobufCMessageDescriptor *d, struct string_path *prefix,
    struct string_path *out, size_t n, size_t max)
{
	for (unsigned i = 0; i < d->n_fields && n < max; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_STRING &&
		    f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		struct string_path p = *prefix;
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t len = strlen(p.path);
		snprintf(p.path + len, sizeof p.path - len, "%s%s%s",
		    len > 0 ? "." : "", f->name, repeated ? "[0]" : "");
		p.wire[p.depth++] = f->id;
		if (f->type == PROTOBUF_C_TYPE_STRING)
			out[n++] = p;
		else if (p.depth < 4)
			n = string_paths(f->descriptor, &p, out, n, max);
	}
	return n;
}

/* nested_wire writes the field path `p` around the value "a\0b". */
static size_t
nested_wire(const struct string_path *p, size_t level, uint8_t *out)
{
	uint8_t inner[64];
	size_t n;
	if (level + 1 == p->depth) {
		memcpy(inner, "a\0b", 3);
		n = 3;
	} else {
		n = nested_wire(p, level + 1, inner);
	}
	out[0] = (uint8_t)(p->wire[level] << 3 | 2);
	out[1] = (uint8_t)n;
	memcpy(out + 2, inner, n);
	return n + 2;
}

static void
every_string_field_of_every_request(void)
{
	const ProtobufCServiceDescriptor *services[] = {
	    &exe__access__v1__authz_service__descriptor,
	    &exe__access__v1__workspace_service__descriptor,
	};
	size_t fields = 0;
	for (size_t s = 0; s < 2; s++) {
		for (unsigned m = 0; m < services[s]->n_methods; m++) {
			const ProtobufCMessageDescriptor *d =
			    services[s]->methods[m].input;
			struct string_path root = {{0}, {0}, 0}, paths[64];
			size_t n = string_paths(d, &root, paths, 0, 64);
			for (size_t i = 0; i < n; i++) {
				uint8_t wire[64];
				size_t len = nested_wire(&paths[i], 0, wire);
				struct packed p = {wire, len};
				struct told t = walk(d, &p);
				char want[200];
				snprintf(want, sizeof want,
				    "%.128s: contains a NUL byte",
				    paths[i].path);
				if (t.n != 1 || strcmp(t.text[0], want) != 0)
					fprintf(stderr, "  %s: %s\n", d->name,
					    want);
				EXPECT_INT(t.n, 1);
				EXPECT_STR(t.text[0], want);
				fields++;
			}
		}
	}
	/* The .proto files have well over 60 string fields in requests. */
	EXPECT(fields > 60);
}

static const struct unit_case cases[] = {
    {"nul_in_a_top_level_string", nul_in_a_top_level_string},
    {"nul_in_nested_and_oneof_strings", nul_in_nested_and_oneof_strings},
    {"repeated_items_are_numbered", repeated_items_are_numbered},
    {"repeated_strings_and_messages", repeated_strings_and_messages},
    {"every_kind_of_unfit_text", every_kind_of_unfit_text},
    {"bytes_numbers_and_unknown_fields_are_not_text",
        bytes_numbers_and_unknown_fields_are_not_text},
    {"unreadable_bytes_end_the_walk", unreadable_bytes_end_the_walk},
    {"every_string_field_of_every_request",
        every_string_field_of_every_request},
};

UNIT_MAIN(cases)
