/* Walking serialized messages by their descriptors, to check text over its
 * wire length. */
#include "rpc/wiretext.h"

#include <stdio.h>
#include <string.h>

#include "rpc/validate.h"

enum {
	/* Nesting deeper than any message of the .proto files. */
	WIRETEXT_DEPTH_MAX = 16,
	/* Elements are numbered in this many repeated fields of a message
	 * (every message of the .proto files has fewer). */
	WIRETEXT_REPEATED_MAX = 8,
};

enum wiretext_wire_type {
	WIRE_VARINT = 0,
	WIRE_64BIT = 1,
	WIRE_LENGTH_DELIMITED = 2,
	WIRE_32BIT = 5,
};

struct wiretext_walk {
	wiretext_fn fn;
	void *arg;
	size_t told;
	bool stop;     /* fn asked to stop */
	bool unread;   /* bytes that do not read as a message */
	bool top_told; /* a fault was told in the current top-level element */
	uint32_t top_field;
	size_t top_index;
	/* The fields being read, from the top. */
	struct wiretext_frame {
		const char *name;
		bool repeated;
		size_t index;
	} frames[WIRETEXT_DEPTH_MAX];
	unsigned depth;
	char path[256];
};

static bool
wiretext_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false;
}

/* wiretext_path writes the full name of the field being read, from its
 * frames, e.g. "checks[3].principal.user_id". Only for a fault: a fit
 * request pays for no formatting. */
static void
wiretext_path(struct wiretext_walk *w)
{
	size_t len = 0;
	w->path[0] = '\0';
	for (unsigned i = 0; i < w->depth && len < sizeof w->path - 1; i++) {
		const struct wiretext_frame *f = &w->frames[i];
		size_t room = sizeof w->path - len;
		const char *dot = i > 0 ? "." : "";
		int n = f->repeated ? snprintf(w->path + len, room, "%s%s[%zu]",
		                          dot, f->name, f->index)
		                    : snprintf(w->path + len, room, "%s%s", dot,
		                          f->name);
		if (n < 0)
			break;
		len += (size_t)n < room ? (size_t)n : room - 1;
	}
}

static void
wiretext_tell(struct wiretext_walk *w, const char *what)
{
	wiretext_path(w);
	struct wiretext_fault f = {
	    .top_field = w->top_field,
	    .top_index = w->top_index,
	    .path = w->path,
	    .what = what,
	};
	w->told++;
	w->top_told = true;
	if (!w->fn(w->arg, &f))
		w->stop = true;
}

static void
wiretext_message(struct wiretext_walk *w, const ProtobufCMessageDescriptor *d,
    const uint8_t *p, const uint8_t *end, unsigned depth)
{
	/* How many elements of each repeated field were read so far. */
	struct {
		size_t field, seen;
	} counts[WIRETEXT_REPEATED_MAX];
	size_t n_counts = 0;
	while (p < end && !w->stop && !w->unread) {
		uint64_t tag, len = 0;
		if (!wiretext_varint(&p, end, &tag)) {
			w->unread = true;
			return;
		}
		switch (tag & 7) {
		case WIRE_VARINT:
			if (!wiretext_varint(&p, end, &len))
				w->unread = true;
			continue;
		case WIRE_64BIT:
		case WIRE_32BIT: {
			size_t n = (tag & 7) == WIRE_64BIT ? 8 : 4;
			if ((size_t)(end - p) < n)
				w->unread = true;
			else
				p += n;
			continue;
		}
		case WIRE_LENGTH_DELIMITED:
			if (!wiretext_varint(&p, end, &len) ||
			    len > (uint64_t)(end - p)) {
				w->unread = true;
				return;
			}
			break;
		default:
			/* Groups, and wire types that do not exist. */
			w->unread = true;
			return;
		}
		const uint8_t *value = p;
		p += len;
		uint64_t number = tag >> 3;
		const ProtobufCFieldDescriptor *f =
		    number <= UINT32_MAX
		        ? protobuf_c_message_descriptor_get_field(
		              d, (unsigned)number)
		        : NULL;
		if (f == NULL || (f->type != PROTOBUF_C_TYPE_STRING &&
		                     f->type != PROTOBUF_C_TYPE_MESSAGE))
			continue; /* unknown, bytes, or packed numbers */
		bool repeated = f->label == PROTOBUF_C_LABEL_REPEATED;
		size_t index = 0;
		if (repeated) {
			size_t k = (size_t)(f - d->fields), i = 0;
			while (i < n_counts && counts[i].field != k)
				i++;
			if (i == n_counts && n_counts < WIRETEXT_REPEATED_MAX)
				counts[n_counts++].field = k,
				counts[i].seen = 0;
			if (i < n_counts)
				index = counts[i].seen++;
		}
		if (depth == 0) {
			w->top_field = (uint32_t)number;
			w->top_index = index;
			w->top_told = false;
		} else if (w->top_told) {
			continue;
		}
		w->frames[depth] =
		    (struct wiretext_frame){f->name, repeated, index};
		w->depth = depth + 1;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			const char *what = validate_text_fault(
			    (const char *)value, (size_t)len);
			if (what != NULL)
				wiretext_tell(w, what);
		} else if (depth + 1 < WIRETEXT_DEPTH_MAX) {
			wiretext_message(
			    w, f->descriptor, value, value + len, depth + 1);
		}
	}
}

size_t
wiretext_walk(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
    size_t len, wiretext_fn fn, void *arg)
{
	/* Only what a fit request needs is set: the frames and the path
	 * are written before they are read. */
	struct wiretext_walk w;
	w.fn = fn;
	w.arg = arg;
	w.told = 0;
	w.stop = w.unread = w.top_told = false;
	w.top_field = 0;
	w.top_index = 0;
	w.depth = 0;
	if (len > 0)
		wiretext_message(&w, desc, buf, buf + len, 0);
	return w.told;
}

struct wiretext_first {
	char *msg;
	size_t size;
};

static bool
wiretext_first_cb(void *arg, const struct wiretext_fault *f)
{
	struct wiretext_first *first = arg;
	snprintf(first->msg, first->size, "%s: %s", f->path, f->what);
	return false;
}

bool
wiretext_first(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
    size_t len, char *msg, size_t msg_size)
{
	struct wiretext_first first = {msg, msg_size};
	return wiretext_walk(desc, buf, len, wiretext_first_cb, &first) == 0;
}
