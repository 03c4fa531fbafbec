/* output: tables, field blocks and the words for enum values. */
#include "output.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct output_table {
	size_t ncols;
	char **cells; /* rows * ncols, row 0 the header when there is one */
	size_t nrows; /* including the header */
	size_t cap;
	int has_header;
};

/* display_width counts characters, not bytes, so that UTF-8 names (a
 * workspace called "Müller's Lab") line up. */
static size_t
display_width(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int
add_row(struct output_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap > 0 ? t->cap * 2 : 16;
		char **grown =
		    realloc(t->cells, cap * t->ncols * sizeof *grown);
		if (grown == NULL)
			return -1;
		t->cells = grown;
		t->cap = cap;
	}
	char **row = &t->cells[t->nrows * t->ncols];
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = strdup(cells[i] != NULL ? cells[i] : "");
		if (row[i] == NULL) {
			while (i-- > 0)
				free(row[i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

struct output_table *
output_table_new(size_t ncols, const char *const *headers)
{
	struct output_table *t = calloc(1, sizeof *t);
	if (t == NULL || ncols == 0 || ncols > 16) {
		free(t);
		return NULL;
	}
	t->ncols = ncols;
	if (headers != NULL) {
		if (add_row(t, headers) != 0) {
			output_table_free(t);
			return NULL;
		}
		t->has_header = 1;
	}
	return t;
}

int
output_table_add(struct output_table *t, ...)
{
	if (t == NULL)
		return -1;
	const char *cells[16];
	if (t->ncols > 16)
		return -1;
	va_list ap;
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	return add_row(t, cells);
}

size_t
output_table_rows(const struct output_table *t)
{
	return t == NULL ? 0 : t->nrows - (size_t)t->has_header;
}

void
output_table_print(const struct output_table *t, FILE *out, int indent)
{
	if (t == NULL)
		return;
	size_t width[16] = {0};
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = display_width(t->cells[r * t->ncols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		char *const *row = &t->cells[r * t->ncols];
		/* No trailing blanks: stop at the last non-empty cell. */
		size_t last = t->ncols;
		while (last > 1 && row[last - 1][0] == '\0')
			last--;
		fprintf(out, "%*s", indent, "");
		for (size_t c = 0; c < last; c++) {
			const char *cell = row[c];
			fputs(cell, out);
			if (c + 1 < last)
				fprintf(out, "%*s",
				    (int)(width[c] - display_width(cell) + 2),
				    "");
		}
		fputc('\n', out);
	}
}

void
output_table_free(struct output_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void
output_fields(FILE *out, const char *const (*pairs)[2], size_t n)
{
	size_t width = 0;
	for (size_t i = 0; i < n; i++)
		if (pairs[i][1] != NULL && display_width(pairs[i][0]) > width)
			width = display_width(pairs[i][0]);
	for (size_t i = 0; i < n; i++)
		if (pairs[i][1] != NULL)
			fprintf(out, "%s%*s%s\n", pairs[i][0],
			    (int)(width - display_width(pairs[i][0]) + 2), "",
			    pairs[i][1]);
}

void
output_secret(FILE *out, const char *what, const char *secret, const char *hint)
{
	fprintf(out,
	    "\n%s (shown once; it cannot be shown again, store it "
	    "now):\n  %s\n",
	    what, secret);
	if (hint != NULL)
		fprintf(out, "%s\n", hint);
}

void
output_wrap(FILE *out, const char *text, int col, int indent, int width)
{
	bool first = true;
	const char *p = text + strspn(text, " ");
	while (*p != '\0') {
		int len = (int)strcspn(p, " ");
		if (!first && col + 1 + len > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
			first = true;
		}
		if (!first) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, p);
		col += len;
		first = false;
		p += len;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

const char *
output_role(Exe__Access__V1__Role role)
{
	switch (role) {
	case EXE__ACCESS__V1__ROLE__ROLE_ADMIN: return "admin";
	case EXE__ACCESS__V1__ROLE__ROLE_MEMBER: return "member";
	case EXE__ACCESS__V1__ROLE__ROLE_READ_ONLY: return "read_only";
	default: return "-";
	}
}

const char *
output_kind(Exe__Access__V1__WorkspaceKind kind)
{
	switch (kind) {
	case EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_PERSONAL:
		return "personal";
	case EXE__ACCESS__V1__WORKSPACE_KIND__WORKSPACE_KIND_TEAM:
		return "team";
	default: return "-";
	}
}

const char *
output_state(Exe__Access__V1__InvitationState state)
{
	switch (state) {
	case EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_PENDING:
		return "pending";
	case EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_ACCEPTED:
		return "accepted";
	case EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_DECLINED:
		return "declined";
	case EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_REVOKED:
		return "revoked";
	case EXE__ACCESS__V1__INVITATION_STATE__INVITATION_STATE_EXPIRED:
		return "expired";
	default: return "-";
	}
}

const char *
output_scope(Exe__Access__V1__ApiKeyScope scope)
{
	switch (scope) {
	case EXE__ACCESS__V1__API_KEY_SCOPE__API_KEY_SCOPE_READ_WRITE:
		return "read_write";
	case EXE__ACCESS__V1__API_KEY_SCOPE__API_KEY_SCOPE_READ_ONLY:
		return "read_only";
	default: return "-";
	}
}

const char *
output_time(int64_t unix_ms, char *buf, size_t size)
{
	if (unix_ms <= 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%" PRId64, unix_ms);
	return buf;
}

const char *
output_u64(uint64_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64, v);
	return buf;
}
