/*
 * openapi_merge.c - merge the services' OpenAPI documents. See openapi_merge.h.
 */
#include "openapi_merge.h"

#include "core/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const http_methods[] = {"get",     "put",  "post",  "delete",
                                           "options", "head", "patch", "trace"};

/* merged[key] as an object, created when absent. NULL when it is not one. */
static json_t *object_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        v = json_object();
        if (!v || json_object_set_new(obj, key, v) != 0)
            return NULL;
    }
    return json_is_object(v) ? v : NULL;
}

/* Rewrite every "$ref": "#/components/<section>/<old>" found in 'renames'
 * ({section: {old: new}}) under 'node'. */
static void rewrite_refs(json_t *node, json_t *renames)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v) rewrite_refs(v, renames);
        return;
    }
    if (!json_is_object(node))
        return;
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    static const char prefix[] = "#/components/";
    if (ref && !strncmp(ref, prefix, sizeof prefix - 1)) {
        const char *section = ref + sizeof prefix - 1;
        const char *slash = strchr(section, '/');
        if (slash) {
            char sec[64];
            size_t n = (size_t)(slash - section);
            if (n < sizeof sec) {
                memcpy(sec, section, n);
                sec[n] = '\0';
                const char *to =
                    json_string_value(json_object_get(json_object_get(renames, sec), slash + 1));
                if (to) {
                    char *nref = NULL;
                    if (asprintf(&nref, "%s%s/%s", prefix, sec, to) >= 0) {
                        json_object_set_new(node, "$ref", json_string(nref));
                        free(nref);
                    }
                }
            }
        }
    }
    const char *key;
    json_t *v;
    json_object_foreach(node, key, v) rewrite_refs(v, renames);
}

/* Decide, per component, whether it is new, the same as one already merged,
 * or a different one under a taken name (renamed "<service>_<name>"). */
static json_t *plan_renames(json_t *merged_components, const char *service, json_t *components)
{
    json_t *renames = json_object();
    const char *section;
    json_t *defs;
    json_object_foreach(components, section, defs)
    {
        json_t *have = json_object_get(merged_components, section);
        if (!json_is_object(defs) || !json_is_object(have))
            continue;
        /* Security schemes are referenced by bare name, not $ref: the first
         * definition stays. */
        bool renamable = strcmp(section, "securitySchemes") != 0;
        const char *name;
        json_t *def;
        json_object_foreach(defs, name, def)
        {
            json_t *old = json_object_get(have, name);
            if (!old || json_equal(old, def))
                continue;
            if (!renamable) {
                log_warn("openapi: %s defines components.%s.%s differently; the first one is kept",
                         service, section, name);
                continue;
            }
            char *nn = NULL;
            if (asprintf(&nn, "%s_%s", service, name) < 0)
                continue;
            json_t *sec = object_member(renames, section);
            if (sec)
                json_object_set_new(sec, name, json_string(nn));
            free(nn);
        }
    }
    return renames;
}

static void merge_components(json_t *merged, const char *service, json_t *components,
                             json_t *renames)
{
    json_t *mc = object_member(merged, "components");
    if (!mc || !json_is_object(components))
        return;
    const char *section;
    json_t *defs;
    json_object_foreach(components, section, defs)
    {
        json_t *target = object_member(mc, section);
        if (!target || !json_is_object(defs))
            continue;
        json_t *ren = json_object_get(renames, section);
        const char *name;
        json_t *def;
        json_object_foreach(defs, name, def)
        {
            const char *to = json_string_value(json_object_get(ren, name));
            const char *key = to ? to : name;
            json_t *old = json_object_get(target, key);
            if (old) {
                if (!json_equal(old, def) && to)
                    log_warn("openapi: %s: components.%s.%s taken twice; the first one is kept",
                             service, section, key);
                continue;
            }
            json_object_set(target, key, def);
        }
    }
}

static bool has_tag(json_t *tags, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t)
    {
        const char *have = json_string_value(json_object_get(t, "name"));
        if (have && !strcmp(have, name))
            return true;
    }
    return false;
}

static void merge_tags(json_t *merged, const char *service, json_t *doc_tags)
{
    json_t *tags = json_object_get(merged, "tags");
    if (!json_is_array(tags)) {
        tags = json_array();
        if (!tags || json_object_set_new(merged, "tags", tags) != 0)
            return;
    }
    if (!has_tag(tags, service)) {
        char desc[96];
        snprintf(desc, sizeof desc, "The %s service", service);
        json_array_append_new(tags, json_pack("{s:s, s:s}", "name", service, "description", desc));
    }
    size_t i;
    json_t *t;
    json_array_foreach(doc_tags, i, t)
    {
        const char *name = json_string_value(json_object_get(t, "name"));
        if (name && !has_tag(tags, name))
            json_array_append(tags, t);
    }
}

/* Give an operation the service's tag when it has none, and the document's
 * global security requirement when it states none of its own. */
static void adopt_operation(json_t *op, const char *service, json_t *global_security)
{
    json_t *tags = json_object_get(op, "tags");
    if (!json_is_array(tags) || json_array_size(tags) == 0)
        json_object_set_new(op, "tags", json_pack("[s]", service));
    if (global_security && !json_object_get(op, "security"))
        json_object_set_new(op, "security", json_deep_copy(global_security));
}

static void merge_paths(json_t *merged, const char *service, json_t *paths, json_t *security)
{
    json_t *mp = object_member(merged, "paths");
    if (!mp || !json_is_object(paths))
        return;
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        if (!json_is_object(item))
            continue;
        if (json_object_get(mp, path)) {
            /* Every service has /health, /ready, ...: the gateway's stay. */
            log_debug("openapi: %s: path %s already documented; skipped", service, path);
            continue;
        }
        for (size_t i = 0; i < sizeof http_methods / sizeof http_methods[0]; i++) {
            json_t *op = json_object_get(item, http_methods[i]);
            if (json_is_object(op))
                adopt_operation(op, service, security);
        }
        json_object_set(mp, path, item);
    }
}

int openapi_merge_into(json_t *merged, const char *name, json_t *doc)
{
    if (!json_is_object(merged) || !json_is_object(doc) ||
        (!json_is_object(json_object_get(doc, "paths")) &&
         !json_is_object(json_object_get(doc, "components"))))
        return -1;
    json_t *copy = json_deep_copy(doc);
    json_t *mc = object_member(merged, "components");
    json_t *renames =
        copy && mc ? plan_renames(mc, name, json_object_get(copy, "components")) : NULL;
    if (!copy || !renames) {
        json_decref(copy);
        json_decref(renames);
        return -1;
    }
    rewrite_refs(copy, renames);
    json_t *security = json_object_get(copy, "security");
    merge_components(merged, name, json_object_get(copy, "components"), renames);
    merge_paths(merged, name, json_object_get(copy, "paths"),
                json_is_array(security) ? security : NULL);
    merge_tags(merged, name, json_object_get(copy, "tags"));
    json_decref(renames);
    json_decref(copy);
    return 0;
}

static json_t *load(const char *app_root, const char *service)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/services/%s/openapi.json", app_root, service);
    FILE *f = fopen(path, "r");
    if (!f) {
        log_warn("openapi: %s missing; %s left out of /docs", path, service);
        return NULL;
    }
    json_error_t err;
    json_t *doc = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
    fclose(f);
    if (!doc)
        log_warn("openapi: %s:%d:%d: %s; %s left out of /docs", path, err.line, err.column,
                 err.text, service);
    return doc;
}

char *openapi_build(const char *app_root, const char *const *services)
{
    json_t *merged = load(app_root, "gateway");
    if (!json_is_object(merged)) {
        json_decref(merged);
        merged = json_pack("{s:s, s:{s:s, s:s}, s:{}}", "openapi", "3.0.3", "info", "title", "",
                           "version", "0.0.0", "paths");
        if (!merged)
            return NULL;
    }
    json_t *info = object_member(merged, "info");
    if (info) {
        json_object_set_new(info, "title", json_string("E-commerce platform API"));
        if (!json_object_get(info, "description"))
            json_object_set_new(
                info, "description",
                json_string("Every service's API, as reached through the gateway."));
    }
    /* The gateway's own operations are tagged like the services'. */
    json_t *gw_paths = json_object_get(merged, "paths");
    const char *path;
    json_t *item;
    json_object_foreach(gw_paths, path, item)
    {
        for (size_t i = 0; i < sizeof http_methods / sizeof http_methods[0]; i++) {
            json_t *op = json_object_get(item, http_methods[i]);
            if (json_is_object(op))
                adopt_operation(op, "gateway", NULL);
        }
    }
    merge_tags(merged, "gateway", NULL);

    for (const char *const *s = services; *s; s++) {
        json_t *doc = load(app_root, *s);
        if (doc && openapi_merge_into(merged, *s, doc) != 0)
            log_warn("openapi: services/%s/openapi.json is not an OpenAPI document; skipped", *s);
        json_decref(doc);
    }
    char *out = json_dumps(merged, JSON_COMPACT);
    json_decref(merged);
    return out;
}
