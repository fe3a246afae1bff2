/*
 * config.h - configuration from the environment.
 *
 * Every setting is an environment variable named as in .env.example. An optional
 * .env file (KEY=VALUE lines) fills in variables that the environment does not
 * already set, so the real environment always wins. Production mode
 * (NODE_ENV or APP_ENV = "production") refuses secrets that are missing or still
 * equal to their development default: a shop must not run on a published key.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Load KEY=VALUE lines from 'path' into the environment without overriding
 * variables already set. Missing file is not an error. Returns 0, or -1 on a
 * malformed line (the line number is logged). */
int config_load_dotenv(const char *path);

/* Value of 'name', or 'def' when unset or empty. The pointer belongs to the
 * environment (or is 'def'): do not free it. */
const char *config_str(const char *name, const char *def);

/* Integer value of 'name' within [min, max], or 'def' when unset. Exits the
 * process with a clear message when the value is not a number in range. */
long config_long(const char *name, long def, long min, long max);

/* Boolean: "1", "true", "yes", "on" are true; "0", "false", "no", "off" false. */
bool config_bool(const char *name, bool def);

/* Duration such as "15m", "7d", "30s", "2h" or plain seconds, in seconds. Exits
 * on a malformed value. */
long config_duration(const char *name, const char *def);

/* Parse a duration string; returns seconds or -1 when malformed. */
long config_parse_duration(const char *text);

/* True when NODE_ENV or APP_ENV is "production". */
bool config_is_production(void);

/* A secret: in development returns the value or 'dev_default'; in production,
 * exits with a message naming the variable when it is unset, empty, equal to
 * 'dev_default', or shorter than 'min_len' bytes. */
const char *config_secret(const char *name, const char *dev_default, size_t min_len);

#endif
