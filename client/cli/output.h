/* output: the human side of exe-access's output — aligned tables with a
 * header line, aligned "field  value" blocks, and the words shown for
 * roles, kinds, states and times. The JSON side is json.h. */
#ifndef EXA_CLI_OUTPUT_H
#define EXA_CLI_OUTPUT_H

#include <exe/access.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A table: columns of left-aligned cells, widths fitted to the content. */
struct output_table;

/* output_table_new returns a table with `ncols` columns and, when
 * `headers` is not NULL, a header line (ncols strings, copied). NULL when
 * out of memory. */
struct output_table *output_table_new(size_t ncols, const char *const *headers);

/* output_table_add appends a row of ncols cells (copied; NULL prints as
 * empty). Returns 0, or -1 when out of memory. */
int output_table_add(struct output_table *t, ...);

/* output_table_rows is the number of rows added. */
size_t output_table_rows(const struct output_table *t);

/* output_table_print writes the table, every line indented by `indent`
 * spaces. */
void output_table_print(const struct output_table *t, FILE *out, int indent);

/* output_table_free frees the table. NULL is fine. */
void output_table_free(struct output_table *t);

/* output_fields prints "name  value" lines aligned on the values, from
 * `n` pairs; a pair whose value is NULL is skipped. */
void output_fields(FILE *out, const char *const (*pairs)[2], size_t n);

/* output_secret prints a secret that the service returns only once, with
 * a note saying so: `what` (e.g. "API key of \"alice's Workspace\""). */
void output_secret(
    FILE *out, const char *what, const char *secret, const char *hint);

/* output_wrap prints `text` from column `col`, breaking lines between
 * words before column `width` and starting each new line with `indent`
 * spaces; ends with a newline. */
void output_wrap(FILE *out, const char *text, int col, int indent, int width);

/* The words for enum values: "admin", "member", "read_only", "-". */
const char *output_role(Exe__Access__V1__Role role);
const char *output_kind(Exe__Access__V1__WorkspaceKind kind);
const char *output_state(Exe__Access__V1__InvitationState state);
const char *output_scope(Exe__Access__V1__ApiKeyScope scope);

/* output_time writes a time in ms since the epoch as
 * "2026-11-23 17:20:41Z" ("-" for 0) into buf and returns buf. */
const char *output_time(int64_t unix_ms, char *buf, size_t size);

/* output_u64 writes a number into buf and returns buf. */
const char *output_u64(uint64_t v, char *buf, size_t size);

#endif
