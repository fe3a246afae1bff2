/*
 * metrics.c - Prometheus metrics. See metrics.h.
 *
 * Series live in a small open list under one mutex: a service has a few dozen
 * routes, the critical section is a short scan and a few additions, and the
 * lock is uncontended next to the cost of an HTTP request.
 */
#include "core/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bucket_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                   0.25,  0.5,    1,     2.5,  5,     10};
#define NBUCKETS (sizeof bucket_le / sizeof bucket_le[0])

struct series {
    struct series *next;
    char *method;
    char *route;
    /* counts per status class are kept per exact status */
    int status[8];
    unsigned long status_count[8];
    unsigned long buckets[NBUCKETS]; /* non-cumulative; summed when rendered */
    unsigned long count;
    double sum;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct series *g_series;
static atomic_long g_inflight;

void metrics_inflight(int delta)
{
    atomic_fetch_add(&g_inflight, delta);
}

/* Find or create the series for method+route. Called with g_lock held.
 * Returns NULL on OOM. */
static struct series *series_get(const char *method, const char *route)
{
    for (struct series *s = g_series; s; s = s->next)
        if (!strcmp(s->method, method) && !strcmp(s->route, route))
            return s;
    struct series *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->method = strdup(method);
    s->route = strdup(route);
    if (!s->method || !s->route) {
        free(s->method);
        free(s->route);
        free(s);
        return NULL;
    }
    s->next = g_series;
    g_series = s;
    return s;
}

/* Count one status; a route seeing more than 8 distinct statuses folds the
 * rest into the last slot's status 0 ("other"), keeping memory bounded. */
static void series_count_status(struct series *s, int status)
{
    for (int i = 0; i < 8; i++) {
        if (s->status[i] == status || s->status[i] == 0) {
            s->status[i] = status;
            s->status_count[i]++;
            return;
        }
    }
    s->status_count[7]++;
}

void metrics_observe(const char *method, const char *route, int status, double seconds)
{
    pthread_mutex_lock(&g_lock);
    struct series *s = series_get(method, route);
    if (s) {
        series_count_status(s, status);
        size_t b = 0;
        while (b < NBUCKETS && seconds > bucket_le[b])
            b++;
        if (b < NBUCKETS)
            s->buckets[b]++;
        s->count++;
        s->sum += seconds;
    }
    pthread_mutex_unlock(&g_lock);
}

/* Growable string for rendering. */
struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = (b->cap + (size_t)n + 1) * 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

char *metrics_render(const char *service)
{
    struct buf b = {malloc(4096), 0, 4096, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    bprintf(&b,
            "# HELP http_requests_in_flight Requests being served now.\n"
            "# TYPE http_requests_in_flight gauge\n"
            "http_requests_in_flight{service=\"%s\"} %ld\n",
            service, atomic_load(&g_inflight));
    pthread_mutex_lock(&g_lock);
    bprintf(&b, "# HELP http_requests_total Requests served, by route and status.\n"
                "# TYPE http_requests_total counter\n");
    for (struct series *s = g_series; s; s = s->next)
        for (int i = 0; i < 8 && s->status_count[i]; i++)
            bprintf(&b,
                    "http_requests_total{service=\"%s\",method=\"%s\",route=\"%s\",status=\"%d\"} "
                    "%lu\n",
                    service, s->method, s->route, s->status[i], s->status_count[i]);
    bprintf(&b, "# HELP http_request_duration_seconds Request latency, by route.\n"
                "# TYPE http_request_duration_seconds histogram\n");
    for (struct series *s = g_series; s; s = s->next) {
        unsigned long cum = 0;
        const char *fmt = "http_request_duration_seconds_bucket{service=\"%s\",method=\"%s\","
                          "route=\"%s\",le=\"%g\"} %lu\n";
        for (size_t i = 0; i < NBUCKETS; i++) {
            cum += s->buckets[i];
            bprintf(&b, fmt, service, s->method, s->route, bucket_le[i], cum);
        }
        bprintf(&b,
                "http_request_duration_seconds_bucket{service=\"%s\",method=\"%s\",route=\"%s\","
                "le=\"+Inf\"} %lu\n"
                "http_request_duration_seconds_sum{service=\"%s\",method=\"%s\",route=\"%s\"} "
                "%.6f\n"
                "http_request_duration_seconds_count{service=\"%s\",method=\"%s\",route=\"%s\"} "
                "%lu\n",
                service, s->method, s->route, s->count, service, s->method, s->route, s->sum,
                service, s->method, s->route, s->count);
    }
    pthread_mutex_unlock(&g_lock);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

void metrics_reset(void)
{
    pthread_mutex_lock(&g_lock);
    struct series *s = g_series;
    g_series = NULL;
    pthread_mutex_unlock(&g_lock);
    while (s) {
        struct series *next = s->next;
        free(s->method);
        free(s->route);
        free(s);
        s = next;
    }
}
