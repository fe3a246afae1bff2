/*
 * settings.c - the auth service's configuration, read once at start.
 *
 * Names and defaults follow .env.example. LOGIN_IP_MAX_ATTEMPTS is this
 * service's own addition: one address is shared by many people (an office
 * NAT, and every request that reaches us without X-Forwarded-For), so its
 * limit defaults to four times the per-account limit. An attacker spraying
 * one password over many accounts from one address is still stopped.
 */
#include "auth_svc.h"

#include "core/config.h"
#include "core/log.h"

static struct auth_settings g_settings;

const struct auth_settings *settings(void)
{
    return &g_settings;
}

/* A duration setting that must be positive. */
static long positive_duration(const char *name, const char *def)
{
    long v = config_duration(name, def);
    if (v <= 0)
        log_error("%s must be a positive duration", name);
    return v;
}

int settings_load(void)
{
    struct auth_settings *s = &g_settings;
    s->refresh_ttl = positive_duration("JWT_REFRESH_EXPIRES_IN", "7d");
    s->verify_ttl = positive_duration("EMAIL_VERIFICATION_EXPIRES_IN", "24h");
    s->reset_ttl = positive_duration("PASSWORD_RESET_EXPIRES_IN", "1h");
    s->login_window = positive_duration("LOGIN_WINDOW", "15m");
    s->login_lock = positive_duration("LOGIN_LOCK", "15m");
    s->login_max = config_long("LOGIN_MAX_ATTEMPTS", 5, 1, 1000);
    s->login_ip_max = config_long("LOGIN_IP_MAX_ATTEMPTS", 4 * s->login_max, 1, 100000);
    s->public_app_url = config_str("PUBLIC_APP_URL", "http://localhost:3010");
    if (s->refresh_ttl <= 0 || s->verify_ttl <= 0 || s->reset_ttl <= 0 || s->login_window <= 0 ||
        s->login_lock <= 0)
        return -1;
    return 0;
}
