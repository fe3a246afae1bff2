/*
 * main.c - the realtime service: Socket.IO (Engine.IO v4 / Socket.IO v5) and
 * the standard operational routes on one libwebsockets event loop.
 *
 * The core's service_start() does the common start (configuration, logging,
 * database and migrations, Redis, event threads) and blocks SIGTERM/SIGINT in
 * every thread. The event loop runs on this thread; a small thread waits for
 * the signal and asks the loop to stop, then everything is freed in order so
 * LeakSanitizer sees a clean exit.
 *
 * Settings (besides the core's): REALTIME_PING_INTERVAL_MS (25000),
 * REALTIME_PING_TIMEOUT_MS (20000), REALTIME_UPGRADE_TIMEOUT_MS (10000),
 * REALTIME_CONNECT_TIMEOUT_MS (45000), REALTIME_MAX_PAYLOAD (1000000 bytes),
 * REALTIME_MAX_FDS (20000: sockets at most; libwebsockets sizes its tables
 * by it, else by the process's open-file limit, often 1048576 in containers),
 * REALTIME_MAX_BUFFERED_BYTES (2097152: queued for one client before it is
 * dropped).
 */
#include "server.h"

#include "core/config.h"
#include "core/log.h"
#include "core/service.h"

#include <pthread.h>
#include <signal.h>

static const struct service_spec g_spec = {
    .name = "realtime",
    .port_env = "REALTIME_SERVICE_PORT",
    .default_port = 3008,
    .needs = SERVICE_DB | SERVICE_REDIS | SERVICE_EVENTS,
};

static struct rt_server_config read_config(void)
{
    struct rt_server_config c = {
        .bind_address = config_str("BIND_ADDRESS", "127.0.0.1"),
        .port = (int)config_long(g_spec.port_env, g_spec.default_port, 1, 65535),
        .needs = g_spec.needs,
        .max_fds = (unsigned)config_long("REALTIME_MAX_FDS", 20000, 256, 1048576),
        .rt =
            {
                .ping_interval_ms = config_long("REALTIME_PING_INTERVAL_MS", 25000, 1000, 3600000),
                .ping_timeout_ms = config_long("REALTIME_PING_TIMEOUT_MS", 20000, 1000, 3600000),
                .upgrade_timeout_ms =
                    config_long("REALTIME_UPGRADE_TIMEOUT_MS", 10000, 1000, 3600000),
                .connect_timeout_ms =
                    config_long("REALTIME_CONNECT_TIMEOUT_MS", 45000, 1000, 3600000),
                .max_payload = (size_t)config_long("REALTIME_MAX_PAYLOAD", 1000000, 1024, 1L << 28),
            },
    };
    /* The queue must hold at least one maximal answer (an echo) plus framing. */
    long min_buffered = (long)c.rt.max_payload + 4096;
    long def_buffered = min_buffered > 2097152 ? min_buffered : 2097152;
    c.rt.max_buffered =
        (size_t)config_long("REALTIME_MAX_BUFFERED_BYTES", def_buffered, min_buffered, 1L << 30);
    return c;
}

/* Waits for SIGTERM/SIGINT (blocked everywhere by service_start) and stops
 * the loop. */
static void *signal_thread(void *arg)
{
    service_wait_for_signal();
    server_stop(arg);
    return NULL;
}

static int serve(void)
{
    struct rt_server_config cfg = read_config();
    struct rt_server *srv = server_new(&cfg);
    if (!srv)
        return 1;
    pthread_t sig;
    if (pthread_create(&sig, NULL, signal_thread, srv) != 0) {
        log_error("cannot start the signal thread");
        server_free(srv);
        return 1;
    }
    log_info("realtime listening on %s:%d", cfg.bind_address, cfg.port);
    int rc = server_run(srv) == 0 ? 0 : 1;
    /* When the loop failed on its own, the signal thread still waits: send it
     * the signal it waits for (blocked, so it only ends its sigwait). */
    if (rc != 0 && pthread_kill(sig, SIGTERM) != 0)
        log_error("cannot wake the signal thread");
    if (pthread_join(sig, NULL) != 0)
        log_error("cannot join the signal thread");
    server_free(srv);
    return rc;
}

int main(void)
{
    if (service_start(&g_spec) != 0)
        return 1;
    int rc = serve();
    service_stop(&g_spec);
    return rc;
}
