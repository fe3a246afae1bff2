/*
 * ready.c - /ready checks on a worker thread. See ready.h.
 *
 * Two lists under one mutex: 'pending' (submitted, not run) and 'done'
 * (result waiting for the loop). 'abandoned' is only read and written on the
 * event-loop thread (ready_abandon, ready_collect), so it needs no lock.
 */
#include "ready.h"

#include "core/db.h"
#include "core/log.h"
#include "core/redis.h"
#include "core/service.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* More waiting checks than this means something hangs: answer 503 at once
 * instead of queueing without bound. */
enum { MAX_PENDING = 32 };

struct ready_job {
    struct ready_job *next;
    void *owner;
    bool abandoned;
    int status;
    json_t *report; /* owned */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static struct ready_job *g_pending, *g_done;
static size_t g_npending;
static bool g_stop, g_running;
static pthread_t g_thread;
static unsigned g_needs;
static ready_wake_fn g_wake;
static void *g_wake_arg;

static void push(struct ready_job **list, struct ready_job *j)
{
    j->next = *list;
    *list = j;
}

/* Next job to run, or NULL when told to stop. */
static struct ready_job *take_pending(void)
{
    pthread_mutex_lock(&g_lock);
    while (!g_pending && !g_stop)
        pthread_cond_wait(&g_cond, &g_lock);
    struct ready_job *j = NULL;
    if (!g_stop) {
        j = g_pending;
        g_pending = j->next;
        g_npending--;
    }
    pthread_mutex_unlock(&g_lock);
    return j;
}

static void *worker(void *arg)
{
    (void)arg;
    struct ready_job *j;
    while ((j = take_pending())) {
        j->status = service_readiness(g_needs, &j->report);
        pthread_mutex_lock(&g_lock);
        push(&g_done, j);
        pthread_mutex_unlock(&g_lock);
        g_wake(g_wake_arg);
    }
    /* The core keeps one connection per thread: close ours before exiting. */
    db_disconnect();
    redis_disconnect();
    return NULL;
}

int ready_start(unsigned needs, ready_wake_fn wake, void *wake_arg)
{
    g_needs = needs;
    g_wake = wake;
    g_wake_arg = wake_arg;
    g_stop = false;
    if (pthread_create(&g_thread, NULL, worker, NULL) != 0) {
        log_error("cannot start the readiness worker");
        return -1;
    }
    g_running = true;
    return 0;
}

void ready_stop(void)
{
    if (!g_running)
        return;
    pthread_mutex_lock(&g_lock);
    g_stop = true;
    pthread_cond_signal(&g_cond);
    pthread_mutex_unlock(&g_lock);
    pthread_join(g_thread, NULL);
    g_running = false;
}

static void free_list(struct ready_job *j)
{
    while (j) {
        struct ready_job *next = j->next;
        json_decref(j->report);
        free(j);
        j = next;
    }
}

void ready_free_all(void)
{
    pthread_mutex_lock(&g_lock);
    struct ready_job *pending = g_pending, *done = g_done;
    g_pending = g_done = NULL;
    g_npending = 0;
    pthread_mutex_unlock(&g_lock);
    free_list(pending);
    free_list(done);
}

struct ready_job *ready_submit(void *owner)
{
    struct ready_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->owner = owner;
    pthread_mutex_lock(&g_lock);
    bool ok = g_running && !g_stop && g_npending < MAX_PENDING;
    if (ok) {
        push(&g_pending, j);
        g_npending++;
        pthread_cond_signal(&g_cond);
    }
    pthread_mutex_unlock(&g_lock);
    if (!ok) {
        free(j);
        return NULL;
    }
    return j;
}

void ready_abandon(struct ready_job *job)
{
    if (job)
        job->abandoned = true;
}

void ready_collect(ready_deliver_fn deliver)
{
    pthread_mutex_lock(&g_lock);
    struct ready_job *j = g_done;
    g_done = NULL;
    pthread_mutex_unlock(&g_lock);
    while (j) {
        struct ready_job *next = j->next;
        if (!j->abandoned) {
            deliver(j->owner, j->status, j->report);
            j->report = NULL;
        }
        json_decref(j->report);
        free(j);
        j = next;
    }
}
