/* Structured logging: one JSON object per line on stderr, e.g.
 *   {"ts":"2026-11-23T17:20:01.123Z","level":"info","event":"listening","url":"ipc:///tmp/x"}
 * Callers pass extra fields as a jansson json_pack format and its values.
 * No secret may ever be passed to these functions. */
#ifndef EXE_LOG_H
#define EXE_LOG_H

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
};

/* log_set_level drops records below `level`. Default LOG_INFO. */
void log_set_level(enum log_level level);

/* log_level_parse turns "debug", "info", "warn" or "error" into a level;
 * returns 0 on success, -1 for anything else. */
int log_level_parse(const char *text, enum log_level *out)
    __attribute__((warn_unused_result));

/* log_write writes one record. `fields` is a json_pack format for an object
 * ("{s:s, s:i}") or NULL for none. Thread-safe: each record is one write(2). */
void log_write(enum log_level level, const char *event, const char *fields, ...);

/* log_capture_stdio makes stdio's stderr a stream whose every line
 * becomes a record of its own (warn, "library_message", the text as
 * "message"), so that what a library prints there keeps the log JSON:
 * libpq's default notice processor prints a server's notice there while a
 * connection is still being made, before db_connect can install its own.
 * Records themselves go to the file descriptor, not through stdio.
 * Returns 0, or -1 when the stream cannot be made. */
int log_capture_stdio(void) __attribute__((warn_unused_result));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
