/* Unit tests of the log: every line it writes to stderr is one JSON
 * record, including text a library prints through stdio's stderr once
 * log_capture_stdio has run (libpq's own notice processor is the case in
 * point: it prints a server's notice there while a connection is still
 * being made). */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "unit.h"

/* The log's descriptor, swapped for a pipe while a case runs. */
static int saved_stderr = -1;
static int pipe_read = -1;

static bool
capture_begin(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		return false;
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	pipe_read = fds[0];
	return true;
}

/* capture_end restores stderr and returns what was written (NUL-ended,
 * in `out`). */
static void
capture_end(char *out, size_t size)
{
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	size_t n = 0;
	ssize_t got;
	while (n + 1 < size && (got = read(pipe_read, out + n, size - 1 - n)) > 0)
		n += (size_t)got;
	out[n] = '\0';
	close(pipe_read);
}

/* records checks that each line of `text` is a JSON object, and returns
 * how many library_message records there were, their messages in
 * messages[]. */
static int
records(const char *text, char messages[][256], int max)
{
	int found = 0;
	const char *line = text;
	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
		json_error_t error;
		json_t *j = json_loadb(line, len, 0, &error);
		if (j == NULL) {
			fprintf(stderr, "  not JSON: %.*s\n", (int)len, line);
			unit_case_failed = 1;
		} else {
			const char *event = json_string_value(
			    json_object_get(j, "event"));
			const char *msg = json_string_value(
			    json_object_get(j, "message"));
			if (event != NULL &&
			    strcmp(event, "library_message") == 0 &&
			    msg != NULL && found < max)
				snprintf(messages[found++], 256, "%s", msg);
			json_decref(j);
		}
		line += len + (end != NULL);
	}
	return found;
}

static void
library_output_through_stdio_becomes_records(void)
{
	if (!capture_begin())
		return;
	int rc = log_capture_stdio();
	/* libpq's default notice processor, as a connection being made
	 * uses it: PQsetNoticeProcessor with NULL only returns it. */
	PGconn *conn = PQconnectStart("host=/nonexistent");
	PQnoticeProcessor libpq_default = conn != NULL
	    ? PQsetNoticeProcessor(conn, NULL, NULL)
	    : NULL;
	if (libpq_default != NULL)
		libpq_default(NULL, "WARNING:  terminating connection due to "
		                    "immediate shutdown command\n");
	PQfinish(conn);
	fprintf(stderr, "half a line, ");
	fprintf(stderr, "then its end\n\n");
	log_info("own_record", "{s:i}", "n", 1);
	char text[8192];
	capture_end(text, sizeof text);
	EXPECT_INT(rc, 0);
	EXPECT(libpq_default != NULL);
	char messages[4][256];
	int n = records(text, messages, 4);
	EXPECT_INT(n, 2);
	if (n == 2) {
		EXPECT_STR(messages[0], "WARNING:  terminating connection due "
		                        "to immediate shutdown command");
		EXPECT_STR(messages[1], "half a line, then its end");
	}
	EXPECT(strstr(text, "\"event\":\"own_record\"") != NULL);
}

static const struct unit_case cases[] = {
	{"library output through stdio becomes records",
	    library_output_through_stdio_becomes_records},
};

UNIT_MAIN(cases)
