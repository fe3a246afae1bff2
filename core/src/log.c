/*
 * log.c - JSON-lines logging. See log.h.
 *
 * Each line is built in memory and written with a single fwrite under the
 * stdio lock, so lines from concurrent threads never interleave.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char g_service[64] = "unknown";
static enum log_level g_min = LOG_INFO;

/* Request ids are at most 128 bytes (the HTTP glue rejects longer ones), trace
 * ids 55 bytes; copies are truncated to these sizes, never overflowed. */
static _Thread_local char t_request_id[129];
static _Thread_local char t_trace_id[64];

static const char *level_name[] = {"debug", "info", "warn", "error"};

void log_init(const char *service)
{
    snprintf(g_service, sizeof g_service, "%s", service);
    const char *lv = getenv("LOG_LEVEL");
    if (lv) {
        for (int i = LOG_DEBUG; i <= LOG_ERROR; i++)
            if (!strcasecmp(lv, level_name[i]))
                g_min = (enum log_level)i;
    }
}

void log_set_context(const char *request_id, const char *trace_id)
{
    snprintf(t_request_id, sizeof t_request_id, "%s", request_id ? request_id : "");
    snprintf(t_trace_id, sizeof t_trace_id, "%s", trace_id ? trace_id : "");
}

void log_clear_context(void)
{
    t_request_id[0] = '\0';
    t_trace_id[0] = '\0';
}

const char *log_request_id(void)
{
    return t_request_id;
}

const char *log_trace_id(void)
{
    return t_trace_id;
}

/* ISO 8601 UTC with milliseconds into buf (at least 32 bytes). */
static void now_iso(char *buf, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

void log_fields(enum log_level level, const char *msg, json_t *fields)
{
    if (level < g_min) {
        json_decref(fields);
        return;
    }
    char ts[40];
    now_iso(ts, sizeof ts);
    json_t *o = json_object();
    if (!o) {
        json_decref(fields);
        return;
    }
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "level", json_string(level_name[level]));
    json_object_set_new(o, "service", json_string(g_service));
    json_object_set_new(o, "msg", json_string(msg ? msg : ""));
    if (t_request_id[0])
        json_object_set_new(o, "requestId", json_string(t_request_id));
    if (t_trace_id[0])
        json_object_set_new(o, "traceId", json_string(t_trace_id));
    if (fields)
        json_object_update(o, fields);
    json_decref(fields);
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line)
        return;
    flockfile(stderr);
    fputs(line, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    funlockfile(stderr);
    free(line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < g_min)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    log_fields(level, msg, NULL);
    free(msg);
}
