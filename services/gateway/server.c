/*
 * server.c - listening socket, event-loop threads, orderly shutdown.
 *
 * N threads, each with its own h2o evloop and h2o_context_t, accept on the
 * same port: one SO_REUSEPORT socket per thread, so that the kernel spreads
 * connections evenly (the default: measured 15-25% faster), or a dup() of one
 * shared listening socket each (the threads then race for new connections and
 * the load ends up uneven). Each thread tracks its open client connections so
 * that a shutdown can end them: on SIGTERM/SIGINT the main thread wakes every
 * loop through its h2o message queue; the loop closes its listener, asks h2o
 * to close connections after their current response, half-closes the read
 * side of every client socket (idle keep-alive connections and WebSocket
 * tunnels see EOF and close; responses being written still complete) and
 * runs until its last connection is gone or the grace period ends.
 */
#include "gateway.h"

#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define ACCEPT_BATCH 16

struct gw_conn {
    h2o_linklist_t link;
    h2o_socket_t *sock;
    struct gw_worker *w;
};

struct gw_server {
    h2o_globalconf_t *conf;
    unsigned n;
    struct gw_worker *workers;
    uint64_t grace_ms;
    bool started, drained;
    pthread_barrier_t ready;
};

/* ------------------------------------------------------------------------ */
/* listening                                                                 */

/* A listening socket on addr:port; with 'probe_only', a socket that is bound
 * but not listening (to find out whether the port is free). */
static int open_socket(const char *addr, int port, bool reuseport, bool probe_only)
{
    char serv[16];
    snprintf(serv, sizeof serv, "%d", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int rc = getaddrinfo(addr, serv, &hints, &ai);
    if (rc != 0) {
        log_error("invalid BIND_ADDRESS %s: %s", addr, gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || (!probe_only && listen(fd, SOMAXCONN) != 0)) {
        log_error("cannot listen on %s:%d: %s", addr, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

static int open_listener(const char *addr, int port, bool reuseport)
{
    return open_socket(addr, port, reuseport, false);
}

/* SO_REUSEPORT would let a second gateway bind the same port and silently
 * take half the connections: make sure nobody holds it first (a bind without
 * SO_REUSEPORT fails while any socket listens there). */
static bool port_is_free(const char *addr, int port)
{
    int fd = open_socket(addr, port, false, true);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static void on_conn_close(void *data)
{
    struct gw_conn *c = data;
    h2o_linklist_unlink(&c->link);
    c->w->num_conns--;
    free(c);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    struct gw_worker *w = listener->data;
    if (err)
        return;
    for (int i = 0; i < ACCEPT_BATCH && !atomic_load(&w->stopping); i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (!sock)
            break;
        struct gw_conn *c = calloc(1, sizeof *c);
        if (!c) {
            h2o_socket_close(sock);
            continue;
        }
        c->sock = sock;
        c->w = w;
        h2o_linklist_insert(&w->conns, &c->link);
        w->num_conns++;
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = c;
        h2o_accept(&w->accept_ctx, sock);
    }
}

/* ------------------------------------------------------------------------ */
/* the loop threads                                                          */

/* The stop flag is set by the main thread; a message without content only
 * wakes the loop (h2o calls no receiver for it), which then sees the flag. */
static void on_stop_message(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    (void)messages;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Returns true when every connection closed within the grace period. */
static bool drain(struct gw_worker *w, uint64_t grace_ms)
{
    if (w->listener) {
        h2o_socket_read_stop(w->listener);
        h2o_socket_close(w->listener);
        w->listener = NULL;
    }
    h2o_context_request_shutdown(&w->ctx);
    for (h2o_linklist_t *l = w->conns.next; l != &w->conns; l = l->next) {
        struct gw_conn *c = H2O_STRUCT_FROM_MEMBER(struct gw_conn, link, l);
        shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
    }
    uint64_t deadline = now_ms() + grace_ms;
    while (w->num_conns > 0 && now_ms() < deadline)
        h2o_evloop_run(w->loop, 100);
    /* Let deferred callbacks (closes, zero timeouts) run. */
    for (int i = 0; i < 4; i++)
        h2o_evloop_run(w->loop, 0);
    if (w->num_conns > 0)
        log_warn("%zu connection(s) still open after %llu ms; not freeing their thread",
                 w->num_conns, (unsigned long long)grace_ms);
    return w->num_conns == 0;
}

/* h2o keeps freed socket buffers in a per-thread cache: give them back
 * before the thread ends, or they would be lost with it. */
static void release_thread_buffers(void)
{
    h2o_mem_recycle_t *r = &h2o_socket_buffer_prototype.allocator;
    while (r->cnt > 0)
        free(h2o_mem_alloc_recycle(r, 1));
}

struct thread_arg {
    struct gw_server *s;
    struct gw_worker *w;
};

static void *worker_main(void *arg)
{
    struct gw_server *s = ((struct thread_arg *)arg)->s;
    struct gw_worker *w = ((struct thread_arg *)arg)->w;
    free(arg);

    h2o_context_init(&w->ctx, w->loop, s->conf);
    h2o_timeout_init(w->loop, &w->websocket_timeout, H2O_DEFAULT_PROXY_WEBSOCKET_TIMEOUT);
    w->ctx.proxy.client_ctx.websocket_timeout = &w->websocket_timeout;
    gw_ready_worker_init(w);
    gw_ratelimit_worker_init(w);
    w->accept_ctx = (h2o_accept_ctx_t){.ctx = &w->ctx, .hosts = s->conf->hosts};
    h2o_linklist_init_anchor(&w->conns);
    h2o_multithread_register_receiver(w->ctx.queue, &w->stop_receiver, on_stop_message);
    w->listener = h2o_evloop_socket_create(w->loop, w->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listen_fd = -1; /* owned by the socket now */
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
    pthread_barrier_wait(&s->ready);

    while (!atomic_load(&w->stopping))
        h2o_evloop_run(w->loop, INT32_MAX);
    bool clean = drain(w, s->grace_ms);

    h2o_multithread_unregister_receiver(w->ctx.queue, &w->stop_receiver);
    /* h2o_context_request_shutdown armed a one-second timer to resend HTTP/2
     * GOAWAY frames; with every connection gone it has nothing left to do. */
    h2o_timeout_unlink(&w->ctx.http2._graceful_shutdown_timeout);
    if (clean) {
        gw_ratelimit_worker_dispose(w);
        gw_ready_worker_dispose(w);
        h2o_timeout_dispose(w->loop, &w->websocket_timeout);
        h2o_context_dispose(&w->ctx);
        release_thread_buffers();
    }
    return clean ? w : NULL;
}

/* ------------------------------------------------------------------------ */
/* lifecycle                                                                 */

struct gw_server *gw_server_new(h2o_globalconf_t *conf, const char *addr, int port,
                                unsigned threads, bool reuseport)
{
    struct gw_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->conf = conf;
    s->n = threads ? threads : 1;
    s->workers = calloc(s->n, sizeof *s->workers);
    if (!s->workers) {
        free(s);
        return NULL;
    }
    int shared = reuseport ? -1 : open_listener(addr, port, false);
    bool ok = reuseport ? port_is_free(addr, port) : shared >= 0;
    for (unsigned i = 0; i < s->n; i++) {
        struct gw_worker *w = &s->workers[i];
        w->listen_fd = -1;
        if (!ok)
            continue;
        w->listen_fd =
            reuseport ? open_listener(addr, port, true) : fcntl(shared, F_DUPFD_CLOEXEC, 0);
        w->loop = h2o_evloop_create();
        ok = w->listen_fd >= 0 && w->loop;
    }
    if (shared >= 0)
        close(shared);
    if (!ok) {
        gw_server_free(s, NULL);
        return NULL;
    }
    return s;
}

h2o_loop_t *gw_server_first_loop(struct gw_server *s)
{
    return s->workers[0].loop;
}

int gw_server_start(struct gw_server *s)
{
    pthread_barrier_init(&s->ready, NULL, s->n + 1);
    unsigned started = 0;
    for (; started < s->n; started++) {
        struct thread_arg *a = malloc(sizeof *a);
        if (!a)
            break;
        *a = (struct thread_arg){s, &s->workers[started]};
        if (pthread_create(&s->workers[started].tid, NULL, worker_main, a) != 0) {
            free(a);
            break;
        }
    }
    if (started < s->n) {
        /* Cannot happen short of resource exhaustion; give up loudly. */
        log_error("cannot start event-loop threads");
        exit(1);
    }
    pthread_barrier_wait(&s->ready);
    s->started = true;
    return 0;
}

void gw_server_stop(struct gw_server *s, uint64_t grace_ms)
{
    if (!s || !s->started)
        return;
    s->grace_ms = grace_ms;
    for (unsigned i = 0; i < s->n; i++) {
        atomic_store(&s->workers[i].stopping, 1);
        h2o_multithread_send_message(&s->workers[i].stop_receiver, NULL);
    }
    s->drained = true;
    for (unsigned i = 0; i < s->n; i++) {
        void *res = NULL;
        pthread_join(s->workers[i].tid, &res);
        s->drained &= res != NULL;
    }
    pthread_barrier_destroy(&s->ready);
    s->started = false;
}

void gw_server_free(struct gw_server *s, void (*before_loops_destroyed)(void))
{
    if (!s)
        return;
    if (!s->drained && s->workers && s->workers[0].ctx.loop) {
        /* Threads left connections open: their memory cannot be released
         * safely; the process is about to exit anyway. */
        return;
    }
    if (before_loops_destroyed)
        before_loops_destroyed();
    for (unsigned i = 0; i < s->n; i++) {
        struct gw_worker *w = &s->workers[i];
        if (w->listen_fd >= 0)
            close(w->listen_fd);
        if (w->loop)
            h2o_evloop_destroy(w->loop);
#if H2O_VERSION_MAJOR == 2 && H2O_VERSION_MINOR == 2
        /* h2o 2.2's evloop h2o_multithread_destroy_queue (called by
         * h2o_context_dispose) closes the queue's pipe but never frees the
         * queue itself. */
        if (w->ctx.loop)
            free(w->ctx.queue);
#endif
    }
    free(s->workers);
    free(s);
}
