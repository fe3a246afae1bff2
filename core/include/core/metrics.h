/*
 * metrics.h - Prometheus metrics for a service.
 *
 * Three families, enough to see load, errors and latency per route:
 *   http_requests_total{method,route,status}      counter
 *   http_request_duration_seconds{method,route}   histogram
 *   http_requests_in_flight                       gauge
 * Routes are registered patterns (/orders/:id), never raw paths, so the number
 * of series stays bounded whatever clients send.
 */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H

/* Record one finished request. Thread-safe. */
void metrics_observe(const char *method, const char *route, int status, double seconds);

/* Add +1 / -1 to the in-flight gauge. Thread-safe. */
void metrics_inflight(int delta);

/* Render the Prometheus text exposition. Caller frees. NULL on OOM. */
char *metrics_render(const char *service);

/* Drop every series (shutdown, tests). */
void metrics_reset(void);

#endif
