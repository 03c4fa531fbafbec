/* JSON-lines logging on stderr with jansson. Each record is formatted in
 * memory and written with a single write(2), so lines from concurrent
 * threads never interleave. */
#define _GNU_SOURCE /* fopencookie */
#include "base/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic int min_level = LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void
log_set_level(enum log_level level)
{
	atomic_store(&min_level, (int)level);
}

int
log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_write(enum log_level level, const char *event, const char *fields, ...)
{
	if ((int)level < atomic_load(&min_level))
		return;

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct tm tm;
	gmtime_r(&now.tv_sec, &tm);
	char ts[40];
	size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);

	json_t *record = json_pack("{s:s, s:s, s:s}", "ts", ts, "level",
	    level_names[level], "event", event);
	if (record == NULL)
		return;
	if (fields != NULL) {
		va_list ap;
		va_start(ap, fields);
		json_error_t error;
		json_t *extra = json_vpack_ex(&error, 0, fields, ap);
		va_end(ap);
		if (extra != NULL)
			json_object_update(record, extra);
		else
			json_object_set_new(record, "log_error", json_string(error.text));
		json_decref(extra);
	}
	char *line = json_dumps(record, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(record);
	if (line == NULL)
		return;
	size_t len = strlen(line);
	line[len] = '\n'; /* json_dumps leaves room: replace the NUL */
	ssize_t unused = write(STDERR_FILENO, line, len + 1);
	(void)unused;
	free(line);
}

/* What libraries write through stdio's stderr is gathered here until its
 * line ends, then logged as a record of its own. */
static pthread_mutex_t stray_lock = PTHREAD_MUTEX_INITIALIZER;
static char stray_line[1024]; /* under stray_lock; longer lines are cut */
static size_t stray_len;

static ssize_t
stray_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	pthread_mutex_lock(&stray_lock);
	for (size_t i = 0; i < size; i++) {
		if (buf[i] != '\n') {
			if (stray_len < sizeof stray_line - 1)
				stray_line[stray_len++] = buf[i];
			continue;
		}
		/* libpq ends a notice with its newline; a blank line says
		 * nothing. */
		if (stray_len > 0) {
			stray_line[stray_len] = '\0';
			log_write(LOG_WARN, "library_message", "{s:s}",
			    "message", stray_line);
		}
		stray_len = 0;
	}
	pthread_mutex_unlock(&stray_lock);
	return (ssize_t)size;
}

int
log_capture_stdio(void)
{
	cookie_io_functions_t io = {.write = stray_write};
	FILE *f = fopencookie(NULL, "w", io);
	if (f == NULL)
		return -1;
	/* Unbuffered: each fprintf reaches stray_write at once. */
	setvbuf(f, NULL, _IONBF, 0);
	/* glibc's stderr is a plain variable, documented as settable. */
	stderr = f;
	return 0;
}
