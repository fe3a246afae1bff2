/*
 * log.h - JSON-lines logging.
 *
 * One JSON object per line on stderr: time, level, service, msg, plus the
 * request id and trace id of the request the calling thread is serving (set by
 * the HTTP glue through log_set_context), so a single grep for a request id
 * finds every line that request produced in every service.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <jansson.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Name the service and read LOG_LEVEL. Call once before threads start. */
void log_init(const char *service);

/* Set / clear the per-thread request context. Strings are copied. */
void log_set_context(const char *request_id, const char *trace_id);
void log_clear_context(void);
const char *log_request_id(void); /* "" when none; owned by the thread */
const char *log_trace_id(void);   /* "" when none; owned by the thread */

/* Log a formatted message. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log a message with extra fields; 'fields' is stolen (may be NULL). */
void log_fields(enum log_level level, const char *msg, json_t *fields);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
