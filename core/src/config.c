/*
 * config.c - environment configuration. See config.h.
 */
#include "core/config.h"
#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Trim spaces at both ends of 's' in place; returns the new start. */
static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Strip one pair of matching quotes around a value. */
static char *unquote(char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        return v + 1;
    }
    return v;
}

int config_load_dotenv(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0; /* optional */
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    while (getline(&line, &cap, f) != -1) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            fprintf(stderr, "config: %s:%d: expected KEY=VALUE\n", path, lineno);
            rc = -1;
            continue;
        }
        *eq = '\0';
        char *key = trim(s);
        char *val = unquote(trim(eq + 1));
        if (setenv(key, val, 0) != 0)
            rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}

const char *config_str(const char *name, const char *def)
{
    const char *v = getenv(name);
    return (v && *v) ? v : def;
}

/* Print a configuration error and stop: a service with a bad setting must not
 * half-start. */
static _Noreturn void config_die(const char *name, const char *why)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"configuration error: %s %s\"}\n", name, why);
    exit(2);
}

long config_long(const char *name, long def, long min, long max)
{
    const char *v = config_str(name, NULL);
    if (!v)
        return def;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < min || n > max)
        config_die(name, "must be an integer in range");
    return n;
}

bool config_bool(const char *name, bool def)
{
    const char *v = config_str(name, NULL);
    if (!v)
        return def;
    if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
        !strcasecmp(v, "on"))
        return true;
    if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
        !strcasecmp(v, "off"))
        return false;
    config_die(name, "must be a boolean (true/false)");
}

long config_parse_duration(const char *text)
{
    if (!text || !*text)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || end == text || n < 0)
        return -1;
    long mult;
    if (*end == '\0' || !strcmp(end, "s"))
        mult = 1;
    else if (!strcmp(end, "m"))
        mult = 60;
    else if (!strcmp(end, "h"))
        mult = 3600;
    else if (!strcmp(end, "d"))
        mult = 86400;
    else
        return -1;
    if (n > 0 && mult > 0 && n > (long)(3650L * 86400L) / mult)
        return -1; /* more than ten years is a typo, not a lifetime */
    return n * mult;
}

long config_duration(const char *name, const char *def)
{
    long s = config_parse_duration(config_str(name, def));
    if (s < 0)
        config_die(name, "must be a duration like 30s, 15m, 2h or 7d");
    return s;
}

bool config_is_production(void)
{
    const char *a = config_str("NODE_ENV", "");
    const char *b = config_str("APP_ENV", "");
    return !strcmp(a, "production") || !strcmp(b, "production");
}

const char *config_secret(const char *name, const char *dev_default, size_t min_len)
{
    const char *v = config_str(name, NULL);
    if (!config_is_production())
        return v ? v : dev_default;
    if (!v)
        config_die(name, "is required in production (NODE_ENV/APP_ENV=production)");
    if (dev_default && !strcmp(v, dev_default))
        config_die(name, "still has its development default; set a real secret for production");
    if (strlen(v) < min_len)
        config_die(name, "is too short for a production secret");
    return v;
}
