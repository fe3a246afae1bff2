/*
 * openapi_merge.h - one OpenAPI document for the whole platform.
 *
 * The gateway serves at /docs/openapi.json the union of its own document and
 * every service's: paths (the gateway's own win where they collide, e.g.
 * /health; otherwise the first service that documents a path keeps it),
 * components (a name two services define differently is renamed
 * "<service>_<name>" in the later one, and its $refs follow), and one tag per
 * service, put on every operation of that service that has no tag.
 * No h2o here, so the unit tests can include it.
 */
#ifndef GATEWAY_OPENAPI_MERGE_H
#define GATEWAY_OPENAPI_MERGE_H

#include <jansson.h>

/* Merge service document 'doc' (borrowed) of service 'name' into 'merged'.
 * Returns 0, or -1 when 'doc' is not an OpenAPI object (nothing merged). */
int openapi_merge_into(json_t *merged, const char *name, json_t *doc);

/* Build the merged document: services/gateway/openapi.json under 'app_root'
 * as the base, then services/<name>/openapi.json for each of 'services'
 * (NULL-terminated). Missing or malformed files are skipped with a warning.
 * Returns the document as compact JSON (caller frees), never NULL unless out
 * of memory. */
char *openapi_build(const char *app_root, const char *const *services);

#endif
