/*
 * search.c - GET /products: full-text search, filters, sort, pages, facets.
 *
 * The statement is assembled from a fixed set of SQL fragments, one per
 * filter the request uses; every request value travels as a $n parameter,
 * never inside the SQL text. The set of fragments used (a bit mask) and
 * the sort name the prepared statement, so each shape is prepared once per
 * connection and planned for its own conditions (a catch-all
 * "$n IS NULL OR ..." statement would get generic plans that cannot use
 * the indexes).
 *
 * Relevance: a product matches q when its tsvector matches
 * websearch_to_tsquery('simple', q) or q is word-similar to its name
 * (pg_trgm, so a one-letter typo still finds it). The score is 1000 for an
 * exact case-insensitive name match (so it always ranks first), plus
 * ts_rank_cd normalised to [0,1), plus the trigram word similarity.
 *
 * Pages: page/limit (OFFSET) or an opaque cursor, base64url of
 * {"s": sort, "k": last sort key, "id": last id}, continued by keyset on
 * (key, id). The whole answer is cached (cache.c) under the normalised
 * query, and every write elsewhere retires it.
 */
#include "catalog.h"

#include "core/db.h"
#include "core/log.h"
#include "core/validate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

enum { MAX_Q = 200, MAX_ATTRS = 8, MAX_ATTR_NAME = 100, MAX_ATTR_VALUE = 200, MAX_PARAMS = 16 };
enum { DEFAULT_LIMIT = 20, MAX_LIMIT = 100, MAX_PAGE = 100000, MAX_CURSOR = 2048 };

/* Bits of the filter mask: which fragments the statement holds. */
enum {
    F_Q = 1 << 0,
    F_CATEGORY = 1 << 1,
    F_MIN = 1 << 2,
    F_MAX = 1 << 3,
    F_STOCK_YES = 1 << 4,
    F_STOCK_NO = 1 << 5,
    F_SELLER = 1 << 6,
    F_ATTR_ONE = 1 << 7,
    F_ATTR_ANY = 1 << 8,
    F_FUZZY = 1 << 9, /* q also matches names by trigram similarity */
};

/* Below this many full-text matches, q also matches by name similarity:
 * typos find something, while a query that matches well is neither
 * diluted with look-alikes nor slowed by the trigram recheck (measured:
 * it triples the cost of a common word on 100k products). */
enum { FUZZY_BELOW = 5 };

/* The relevance score; {Q} is q's parameter. The fuzzy score adds the
 * trigram word similarity of q to the name. */
#define SCORE_SQL                                                                                  \
    "((CASE WHEN lower(p.name) = lower({Q}) THEN 1000 ELSE 0 END) + "                              \
    "ts_rank_cd(p.search, websearch_to_tsquery('simple', {Q}), 32))::float8"
#define SCORE_FUZZY_SQL                                                                            \
    "((CASE WHEN lower(p.name) = lower({Q}) THEN 1000 ELSE 0 END) + "                              \
    "ts_rank_cd(p.search, websearch_to_tsquery('simple', {Q}), 32) + "                             \
    "word_similarity({Q}, p.name))::float8"

/* A sort: its key (for cursors), its ORDER BY, and the keyset condition
 * after a cursor ({Q} q, {K} the key, {I} the id: see sql_put). Directions follow
 * the indexes of 001_catalog.sql (newest: created_at DESC, id ASC). */
struct sort_spec {
    const char *name;
    const char *key;
    const char *order;
    const char *after;
};

static const struct sort_spec SORTS[] = {
    {"relevance", SCORE_SQL, SCORE_SQL " DESC, p.id",
     "(" SCORE_SQL " < {K}::float8 OR (" SCORE_SQL " = {K}::float8 AND p.id > {I}::uuid))"},
    {"price", "p.price", "p.price, p.id", "(p.price, p.id) > ({K}::bigint, {I}::uuid)"},
    {"-price", "p.price", "p.price DESC, p.id DESC", "(p.price, p.id) < ({K}::bigint, {I}::uuid)"},
    {"newest", "p.created_at", "p.created_at DESC, p.id",
     "(p.created_at < {K}::timestamptz OR "
     "(p.created_at = {K}::timestamptz AND p.id > {I}::uuid))"},
    {"name", "lower(p.name)", "lower(p.name), p.id", "(lower(p.name), p.id) > ({K}, {I}::uuid)"},
};
enum { SORT_RELEVANCE, SORT_PRICE, SORT_PRICE_DESC, SORT_NEWEST, SORT_NAME, SORT_COUNT };

static const struct sort_spec RELEVANCE_FUZZY = {
    "relevance", SCORE_FUZZY_SQL, SCORE_FUZZY_SQL " DESC, p.id",
    "(" SCORE_FUZZY_SQL " < {K}::float8 OR (" SCORE_FUZZY_SQL
    " = {K}::float8 AND p.id > {I}::uuid))"};

/* One parsed request. Strings point into the request or into 'owned'. */
struct search {
    const char *q;
    const char *category;
    const char *seller;
    long long min_price, max_price;
    int in_stock;   /* -1: either, 0: out of stock only, 1: in stock only */
    json_t *attrs;  /* {"name": "value"} as given (owned) */
    char *attr_alt; /* jsonb (one alternative) or jsonb[] literal (owned) */
    int sort;
    long limit, page;
    bool page_given;
    char *cursor_key; /* from the cursor (owned) */
    char *cursor_id;  /* from the cursor (owned) */
    bool facet_categories, facet_price;
    unsigned mask;
};

static void search_free(struct search *s)
{
    json_decref(s->attrs);
    free(s->attr_alt);
    free(s->cursor_key);
    free(s->cursor_id);
}

/* ---------------------------------------------------------------- base64url */

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url of 'len' bytes, no padding (caller frees), or NULL on OOM. */
static char *b64url_encode(const unsigned char *in, size_t len)
{
    char *out = malloc(len / 3 * 4 + 5);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = B64URL[(v >> 18) & 63];
        out[o++] = B64URL[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = B64URL[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = B64URL[v & 63];
    }
    out[o] = '\0';
    return out;
}

/* Decode base64url text (padding optional) into a NUL-terminated buffer
 * (caller frees), or NULL when it is not base64url. */
static char *b64url_decode(const char *in, size_t *out_len)
{
    size_t n = strlen(in);
    while (n > 0 && in[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (!out)
        return NULL;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = memchr(B64URL, in[i], 64);
        if (!p || !in[i]) {
            free(out);
            return NULL;
        }
        acc = (acc << 6) | (unsigned)(p - B64URL);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out[o] = '\0';
    *out_len = o;
    return (char *)out;
}

/* ---------------------------------------------------------------- parsing */

/* A decimal integer in [min, max]; false when 's' is anything else. */
static bool parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static void parse_q(struct search *s, const char *q, json_t **errors)
{
    if (!q)
        return;
    long n = utf8_length(q);
    if (n < 0)
        http_field_error(errors, "q", "must be valid UTF-8");
    else if (n > MAX_Q)
        http_field_error(errors, "q", "must be at most 200 characters");
    else if (has_control_chars(q))
        http_field_error(errors, "q", "must not hold control characters");
    else if (strspn(q, " \t") < strlen(q))
        s->q = q; /* blank means no search */
}

/* A category is named by its id or its slug. */
static void parse_category(struct search *s, const char *c, json_t **errors)
{
    if (!c)
        return;
    size_t n = strlen(c);
    bool slug = n > 0 && n <= 100 && strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
    if (!valid_uuid(c) && !slug)
        http_field_error(errors, "category", "must be a category id or slug");
    else
        s->category = c;
}

static void parse_prices(struct search *s, const char *min, const char *max, json_t **errors)
{
    bool ok_min = true, ok_max = true;
    if (min && !(ok_min = parse_ll(min, 0, 1000000000000000LL, &s->min_price)))
        http_field_error(errors, "minPrice", "must be an integer >= 0 (minor units)");
    if (max && !(ok_max = parse_ll(max, 0, 1000000000000000LL, &s->max_price)))
        http_field_error(errors, "maxPrice", "must be an integer >= 0 (minor units)");
    if (min && ok_min)
        s->mask |= F_MIN;
    if (max && ok_max)
        s->mask |= F_MAX;
    if (min && max && ok_min && ok_max && s->min_price > s->max_price)
        http_field_error(errors, "minPrice", "must not be greater than maxPrice");
}

static void parse_stock_seller(struct search *s, const char *stock, const char *seller,
                               json_t **errors)
{
    if (stock && strcmp(stock, "true") == 0)
        s->mask |= F_STOCK_YES;
    else if (stock && strcmp(stock, "false") == 0)
        s->mask |= F_STOCK_NO;
    else if (stock)
        http_field_error(errors, "inStock", "must be true or false");
    if (seller && !valid_uuid(seller))
        http_field_error(errors, "seller", "must be a UUID");
    else if (seller)
        s->seller = seller;
}

static void parse_sort(struct search *s, const char *sort, json_t **errors)
{
    s->sort = s->q ? SORT_RELEVANCE : SORT_NEWEST;
    if (!sort)
        return;
    for (int i = 0; i < SORT_COUNT; i++)
        if (strcmp(sort, SORTS[i].name) == 0)
            s->sort = i;
    if (strcmp(sort, SORTS[s->sort].name) != 0)
        http_field_error(errors, "sort", "must be one of relevance, price, -price, newest, name");
    else if (s->sort == SORT_RELEVANCE && !s->q)
        s->sort = SORT_NEWEST; /* nothing to rank by: newest first */
}

static void parse_facets(struct search *s, const char *facets, json_t **errors)
{
    if (!facets)
        return;
    char *copy = strdup(facets);
    if (!copy) {
        http_field_error(errors, "facets", "cannot be read");
        return;
    }
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (strcmp(t, "category") == 0 || strcmp(t, "categories") == 0)
            s->facet_categories = true;
        else if (strcmp(t, "price") == 0)
            s->facet_price = true;
        else {
            http_field_error(errors, "facets", "must list category and/or price");
            break;
        }
    }
    free(copy);
}

/* A cursor's key must be what its sort's key looks like, so the cast in
 * SQL cannot fail. */
static bool cursor_key_valid(int sort, const char *k)
{
    long long ll;
    char *end;
    switch (sort) {
    case SORT_RELEVANCE:
        errno = 0;
        double d = strtod(k, &end);
        return !errno && end != k && !*end && isfinite(d);
    case SORT_PRICE:
    case SORT_PRICE_DESC:
        return parse_ll(k, 0, 1000000000000000000LL, &ll);
    case SORT_NEWEST:
        return strlen(k) >= 19 && strlen(k) <= 40 && strspn(k, "0123456789-:. +") == strlen(k);
    default:
        return utf8_length(k) >= 0 && strlen(k) <= 1000;
    }
}

static void parse_cursor(struct search *s, const char *cursor, json_t **errors)
{
    if (!cursor)
        return;
    size_t len = 0;
    char *text = strlen(cursor) <= MAX_CURSOR ? b64url_decode(cursor, &len) : NULL;
    json_t *c = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    const char *sort = json_string_value(json_object_get(c, "s"));
    const char *k = json_string_value(json_object_get(c, "k"));
    const char *id = json_string_value(json_object_get(c, "id"));
    if (!sort || !k || !id || !valid_uuid(id))
        http_field_error(errors, "cursor", "is not a cursor this endpoint gave");
    else if (strcmp(sort, SORTS[s->sort].name) != 0)
        http_field_error(errors, "cursor", "belongs to another sort order");
    else if (!cursor_key_valid(s->sort, k))
        http_field_error(errors, "cursor", "is not a cursor this endpoint gave");
    else if (!(s->cursor_key = strdup(k)) || !(s->cursor_id = strdup(id)))
        http_field_error(errors, "cursor", "cannot be read");
    json_decref(c);
}

/* ---------------------------------------------------------------- attributes */

/* The JSON alternatives an attribute value can mean: always the string,
 * and also the number or boolean it spells. New array (caller decrefs). */
static json_t *value_alternatives(const char *v)
{
    json_t *alts = json_array();
    json_array_append_new(alts, json_string(v));
    json_t *typed = json_loads(v, JSON_DECODE_ANY, NULL);
    if (typed && (json_is_number(typed) || json_is_boolean(typed)))
        json_array_append(alts, typed);
    json_decref(typed);
    return alts;
}

/* Every combination of the attributes' alternatives, as objects: the
 * product matches when its attributes contain one of them. New array. */
static json_t *attr_combinations(json_t *attrs)
{
    json_t *combos = json_array();
    json_array_append_new(combos, json_object());
    const char *name;
    json_t *value;
    json_object_foreach(attrs, name, value)
    {
        json_t *alts = value_alternatives(json_string_value(value));
        json_t *next = json_array();
        size_t i, j;
        json_t *combo, *alt;
        json_array_foreach(combos, i, combo) json_array_foreach(alts, j, alt)
        {
            json_t *c = json_deep_copy(combo);
            json_object_set(c, name, alt);
            json_array_append_new(next, c);
        }
        json_decref(alts);
        json_decref(combos);
        combos = next;
    }
    return combos;
}

/* 'combos' as text for a parameter: one jsonb object, or a PostgreSQL
 * array literal of them (each element quoted, '"' and '\' escaped).
 * Caller frees; NULL on OOM. */
static char *attr_param(json_t *combos, bool *many)
{
    *many = json_array_size(combos) > 1;
    if (!*many)
        return json_dumps(json_array_get(combos, 0), JSON_COMPACT);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return NULL;
    fputc('{', f);
    size_t i;
    json_t *combo;
    json_array_foreach(combos, i, combo)
    {
        char *t = json_dumps(combo, JSON_COMPACT);
        fputs(i ? ",\"" : "\"", f);
        for (const char *c = t; c && *c; c++) {
            if (*c == '"' || *c == '\\')
                fputc('\\', f);
            fputc(*c, f);
        }
        fputc('"', f);
        free(t);
    }
    fputc('}', f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* One "attr.<name>=<value>" query parameter. */
static void parse_attr(struct search *s, const char *key, const char *value, json_t **errors)
{
    const char *name = key + 5;
    long n = utf8_length(name), vn = utf8_length(value);
    if (n < 1 || n > MAX_ATTR_NAME || has_control_chars(name))
        http_field_error(errors, key, "attribute name must be 1 to 100 characters");
    else if (vn < 0 || vn > MAX_ATTR_VALUE || has_control_chars(value))
        http_field_error(errors, key, "must be at most 200 characters of text");
    else if (json_object_size(s->attrs) >= MAX_ATTRS)
        http_field_error(errors, key, "at most 8 attribute filters");
    else
        json_object_set_new(s->attrs, name, json_string(value));
}

static void parse_attrs(struct search *s, const struct http_exchange *x, json_t **errors)
{
    s->attrs = json_object();
    const char **keys = u_map_enum_keys(x->req->map_url);
    for (size_t i = 0; keys && keys[i]; i++)
        if (strncmp(keys[i], "attr.", 5) == 0)
            parse_attr(s, keys[i], u_map_get(x->req->map_url, keys[i]), errors);
    if (json_object_size(s->attrs) == 0 || *errors)
        return;
    json_t *combos = attr_combinations(s->attrs);
    bool many = false;
    s->attr_alt = attr_param(combos, &many);
    json_decref(combos);
    if (!s->attr_alt)
        http_field_error(errors, "attr", "cannot be read");
    s->mask |= many ? F_ATTR_ANY : F_ATTR_ONE;
}

/* Read and check every query parameter. Returns the errors (caller
 * decrefs) or NULL when the request is good. */
static json_t *parse_search(struct search *s, const struct http_exchange *x)
{
    json_t *errors = NULL;
    memset(s, 0, sizeof *s);
    s->in_stock = -1;
    parse_q(s, http_param(x, "q"), &errors);
    parse_category(s, http_param(x, "category"), &errors);
    parse_prices(s, http_param(x, "minPrice"), http_param(x, "maxPrice"), &errors);
    parse_stock_seller(s, http_param(x, "inStock"), http_param(x, "seller"), &errors);
    parse_attrs(s, x, &errors);
    parse_sort(s, http_param(x, "sort"), &errors);
    v_page(http_param(x, "page"), http_param(x, "limit"), DEFAULT_LIMIT, MAX_LIMIT, &s->page,
           &s->limit, &errors);
    s->page_given = http_param(x, "page") != NULL;
    if (s->page > MAX_PAGE)
        http_field_error(&errors, "page", "must be at most 100000 (use the cursor)");
    if (s->page_given && http_param(x, "cursor"))
        http_field_error(&errors, "cursor", "give either page or cursor, not both");
    else
        parse_cursor(s, http_param(x, "cursor"), &errors);
    parse_facets(s, http_param(x, "facets"), &errors);
    if (s->q)
        s->mask |= F_Q;
    if (s->category)
        s->mask |= F_CATEGORY;
    if (s->seller)
        s->mask |= F_SELLER;
    return errors;
}

/* The cache key: the parsed query, normalised as canonical JSON (values
 * quoted, so no value can pose as another parameter). Caller frees. */
static char *cache_key(const struct search *s)
{
    json_t *k =
        json_pack("{s:s?, s:s?, s:s?, s:I, s:I, s:i, s:O, s:s, s:I, s:I, s:s?, s:s?, "
                  "s:b, s:b, s:b}",
                  "q", s->q, "category", s->category, "seller", s->seller, "min",
                  (json_int_t)((s->mask & F_MIN) ? s->min_price : -1), "max",
                  (json_int_t)((s->mask & F_MAX) ? s->max_price : -1), "stock",
                  (s->mask & F_STOCK_YES)  ? 1
                  : (s->mask & F_STOCK_NO) ? 0
                                           : -1,
                  "attrs", s->attrs, "sort", SORTS[s->sort].name, "limit", (json_int_t)s->limit,
                  "page", (json_int_t)s->page, "ck", s->cursor_key, "cid", s->cursor_id, "fc",
                  s->facet_categories, "fp", s->facet_price, "pg", s->page_given);
    char *text = k ? json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(k);
    if (!text)
        return NULL;
    char *key = NULL;
    if (asprintf(&key, "products:%s", text) < 0)
        key = NULL;
    free(text);
    return key;
}

/* ---------------------------------------------------------------- SQL */

/* A statement under construction: its text and its parameters. q, when
 * searched for, is always $1. */
struct sql {
    FILE *f;
    char *text;
    size_t size;
    const char *params[MAX_PARAMS];
    int n;
    char num[2][24]; /* prices formatted for their parameters */
};

/* Add a parameter; its number ($n). */
static int sql_param(struct sql *q, const char *value)
{
    q->params[q->n++] = value;
    return q->n;
}

/* Append the fixed SQL 'tmpl' with its parameter tokens replaced by
 * numbers: {Q} q ($1), {P} the fragment's own parameter, {K} a cursor's
 * key and {I} its id. Only numbers are ever put into the text. */
static void sql_put(FILE *f, const char *tmpl, int p, int k, int id)
{
    static const char TOKENS[] = "QPKI";
    for (const char *c = tmpl; *c; c++) {
        const char *t = c[0] == '{' && c[1] && c[2] == '}' ? strchr(TOKENS, c[1]) : NULL;
        if (!t) {
            fputc(*c, f);
            continue;
        }
        int n[] = {1, p, k, id};
        fprintf(f, "$%d", n[t - TOKENS]);
        c += 2;
    }
}

/* Append " AND <fragment>" with one new parameter 'value' (or none). */
static void sql_cond(struct sql *q, const char *fragment, const char *value)
{
    int n = value ? sql_param(q, value) : 0;
    fputs(" AND ", q->f);
    sql_put(q->f, fragment, n, 0, 0);
}

/* Fragments of the filtered set; each takes at most one parameter. */
static const char SQL_Q[] = "p.search @@ websearch_to_tsquery('simple', {P})";
static const char SQL_Q_FUZZY[] =
    "(p.search @@ websearch_to_tsquery('simple', {P}) OR {P} <% p.name)";
static const char SQL_CATEGORY[] =
    "p.id IN (SELECT pc.product_id FROM product_categories pc WHERE pc.category_id IN ("
    "SELECT d.id FROM categories r JOIN categories d "
    "ON d.path = r.path OR d.path LIKE r.path || '/%' "
    "WHERE r.id::text = lower({P}) OR r.slug = {P}))"; /* ids may come in upper case */

/* Open 'q' with "FROM products p WHERE <visible and filtered>". */
static int sql_open(struct sql *q, const struct search *s, const char *select)
{
    memset(q, 0, sizeof *q);
    q->f = open_memstream(&q->text, &q->size);
    if (!q->f)
        return -1;
    sql_put(q->f, select, 0, 0, 0);
    fputs(" FROM products p WHERE p.deleted_at IS NULL AND p.is_active", q->f);
    if (s->mask & F_Q)
        sql_cond(q, (s->mask & F_FUZZY) ? SQL_Q_FUZZY : SQL_Q, s->q);
    if (s->mask & F_CATEGORY)
        sql_cond(q, SQL_CATEGORY, s->category);
    snprintf(q->num[0], sizeof q->num[0], "%lld", s->min_price);
    snprintf(q->num[1], sizeof q->num[1], "%lld", s->max_price);
    if (s->mask & F_MIN)
        sql_cond(q, "p.price >= {P}::bigint", q->num[0]);
    if (s->mask & F_MAX)
        sql_cond(q, "p.price <= {P}::bigint", q->num[1]);
    if (s->mask & F_STOCK_YES)
        sql_cond(q, "p.quantity > 0", NULL);
    if (s->mask & F_STOCK_NO)
        sql_cond(q, "p.quantity = 0", NULL);
    if (s->mask & F_SELLER)
        sql_cond(q, "p.seller_id = {P}::uuid", s->seller);
    if (s->mask & F_ATTR_ONE)
        sql_cond(q, "p.attributes @> {P}::jsonb", s->attr_alt);
    if (s->mask & F_ATTR_ANY)
        sql_cond(q, "p.attributes @> ANY({P}::jsonb[])", s->attr_alt);
    return 0;
}

/* Finish the text; 0, or -1 when it could not be built (q->text freed). */
static int sql_close(struct sql *q)
{
    if (fclose(q->f) != 0) {
        free(q->text);
        q->text = NULL;
        return -1;
    }
    return 0;
}

/* Run the statement of 'q' under a name unique to its shape. Returns the
 * result (caller PQclear()s) or NULL after sending the problem. */
static PGresult *sql_run(struct http_exchange *x, struct sql *q, const char *kind,
                         const struct search *s)
{
    char name[64];
    snprintf(name, sizeof name, "catalog_search_%s_%x_%d", kind, s->mask, s->sort);
    /* A text search is planned for its values each time: prepared, after
     * five runs PostgreSQL settles on a generic plan that guesses a price
     * bound keeps a third of the rows and ANDs the price index (100k
     * entries) into the text match - 3x slower than the text index alone.
     * Planning costs well under a millisecond of a search's several. */
    PGresult *r = (s->mask & F_Q) ? db_exec_planned(q->text, q->n, q->params)
                                  : db_exec(name, q->text, q->n, q->params);
    free(q->text);
    q->text = NULL;
    if (!db_ok(r)) {
        http_db_problem(x, r);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* ---------------------------------------------------------------- answer */

/* The cursor after a row whose sort key is 'k' (caller frees), or NULL. */
static char *make_cursor(const struct search *s, const char *k, const char *id)
{
    json_t *c = json_pack("{s:s, s:s, s:s}", "s", SORTS[s->sort].name, "k", k, "id", id);
    char *text = c ? json_dumps(c, JSON_COMPACT) : NULL;
    json_decref(c);
    char *out = text ? b64url_encode((const unsigned char *)text, strlen(text)) : NULL;
    free(text);
    return out;
}

static const struct sort_spec *sort_of(const struct search *s)
{
    if (s->sort == SORT_RELEVANCE && (s->mask & F_FUZZY))
        return &RELEVANCE_FUZZY;
    return &SORTS[s->sort];
}

/* The page's rows (caller PQclear()s): product JSON, sort key, id and,
 * with 'window', the count of the whole filtered set. One row more than
 * the limit tells that there is a next page. NULL after sending the
 * problem.
 *
 * Two steps in one statement: the filtered set is ranked, counted and cut
 * to the page carrying only (id, key), then the page's few rows are joined
 * back for their JSON. Sorting and counting whole product rows (a common
 * word matches thousands) took twice as long. The outer ORDER BY repeats
 * the inner one over the same columns, so the order is the same. */
static PGresult *fetch_page(struct http_exchange *x, const struct search *s, bool window)
{
    const struct sort_spec *sp = sort_of(s);
    char *select = NULL;
    if (asprintf(&select, "WITH r AS (SELECT p.id, (%s) AS k%s", sp->key,
                 window ? ", count(*) OVER () AS total" : "") < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return NULL;
    }
    struct sql q;
    int opened = sql_open(&q, s, select);
    free(select);
    if (opened < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return NULL;
    }
    if (s->cursor_key) {
        int k = sql_param(&q, s->cursor_key);
        int id = sql_param(&q, s->cursor_id);
        fputs(" AND ", q.f);
        sql_put(q.f, sp->after, 0, k, id);
    }
    fputs(" ORDER BY ", q.f);
    sql_put(q.f, sp->order, 0, 0, 0);
    char lim[24], off[24];
    snprintf(lim, sizeof lim, "%ld", s->limit + 1);
    snprintf(off, sizeof off, "%ld", s->cursor_key ? 0 : (s->page - 1) * s->limit);
    fprintf(q.f, " LIMIT $%d OFFSET $%d) ", sql_param(&q, lim), sql_param(&q, off));
    fprintf(q.f, "SELECT %s, r.k::text, p.id%s FROM r JOIN products p ON p.id = r.id ORDER BY ",
            PRODUCT_JSON, window ? ", r.total" : "");
    sql_put(q.f, sp->order, 0, 0, 0);
    if (sql_close(&q) < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return NULL;
    }
    /* after a cursor and with a window the statements have other shapes */
    return sql_run(x, &q, s->cursor_key ? "after" : window ? "window" : "page", s);
}

/* The number of products in the filtered set into *total. 0, or -1 after
 * sending the problem. */
static int count_total(struct http_exchange *x, const struct search *s, long long *total)
{
    struct sql q;
    if (sql_open(&q, s, "SELECT count(*)") < 0 || sql_close(&q) < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return -1;
    }
    PGresult *r = sql_run(x, &q, "count", s);
    if (!r)
        return -1;
    *total = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return 0;
}

/* The page and the total in the current mode. Ranked by relevance from
 * the start, every match is scored anyway, so the total comes with the
 * page (a window count) instead of a second scan. 0 or -1 (sent). */
static int page_and_total(struct http_exchange *x, const struct search *s, PGresult **page,
                          long long *total)
{
    bool window = s->sort == SORT_RELEVANCE && !s->cursor_key;
    *page = window ? fetch_page(x, s, true) : NULL;
    if (window && !*page)
        return -1;
    if (window && PQntuples(*page) > 0) {
        *total = strtoll(PQgetvalue(*page, 0, 3), NULL, 10);
        return 0;
    }
    return count_total(x, s, total);
}

/* Run the search: full text first, with name similarity too when full
 * text finds fewer than FUZZY_BELOW (s->mask gains F_FUZZY, so the facets
 * follow). *page is the page's rows (caller PQclear()s). 0 or -1 (sent). */
static int run_search(struct http_exchange *x, struct search *s, PGresult **page, long long *total)
{
    if (page_and_total(x, s, page, total) < 0)
        return -1;
    if ((s->mask & F_Q) && *total < FUZZY_BELOW) {
        PQclear(*page);
        s->mask |= F_FUZZY;
        if (page_and_total(x, s, page, total) < 0)
            return -1;
    }
    if (!*page && !(*page = fetch_page(x, s, false)))
        return -1;
    return 0;
}

/* The rows as "items":[...] and, when there are more, "nextCursor". */
static void write_items(const struct search *s, PGresult *r, FILE *out)
{
    int rows = PQntuples(r), shown = rows > s->limit ? (int)s->limit : rows;
    fputs("\"items\":[", out);
    for (int i = 0; i < shown; i++) {
        if (i)
            fputc(',', out);
        fputs(PQgetvalue(r, i, 0), out);
    }
    fputc(']', out);
    if (rows > s->limit) {
        char *c = make_cursor(s, PQgetvalue(r, shown - 1, 1), PQgetvalue(r, shown - 1, 2));
        if (c)
            fprintf(out, ",\"nextCursor\":\"%s\"", c);
        free(c);
    }
}

/* Run a one-value statement over the filtered set and write its text
 * after 'label'. 0, or -1 after sending the problem. */
static int write_scalar(struct http_exchange *x, const struct search *s, const char *kind,
                        const char *head, const char *tail, const char *label, FILE *out)
{
    struct sql q;
    if (sql_open(&q, s, head) < 0 || (fputs(tail, q.f), sql_close(&q)) < 0) {
        http_problem(x, 500, "out of memory", NULL);
        return -1;
    }
    PGresult *r = sql_run(x, &q, kind, s);
    if (!r)
        return -1;
    fprintf(out, "%s%s", label, PQntuples(r) ? PQgetvalue(r, 0, 0) : "null");
    PQclear(r);
    return 0;
}

/* Facets over the filtered set. Categories count the products in each
 * category's subtree (a product counts once per category, however many
 * of its descendants it sits in), most first. Price buckets have fixed
 * bounds in minor units, [min, max), the last open-ended; all are listed,
 * empty ones with count 0. */
static const char SQL_FACET_CATEGORIES_HEAD[] = "WITH f AS (SELECT p.id";
static const char SQL_FACET_CATEGORIES_TAIL[] =
    ") SELECT COALESCE(json_agg(json_build_object('id', c.id, 'slug', c.slug, "
    "'name', c.name, 'count', n.count) ORDER BY n.count DESC, c.path), '[]'::json) "
    "FROM (SELECT a.id, count(DISTINCT f.id) AS count FROM categories a "
    "JOIN categories d ON d.path = a.path OR d.path LIKE a.path || '/%' "
    "JOIN product_categories pc ON pc.category_id = d.id JOIN f ON f.id = pc.product_id "
    "GROUP BY a.id) n JOIN categories c ON c.id = n.id";
static const char SQL_FACET_PRICE_HEAD[] = "WITH f AS (SELECT p.price";
static const char SQL_FACET_PRICE_TAIL[] =
    "), b(i, lo, hi) AS (VALUES (0, 0, 1000), (1, 1000, 2500), (2, 2500, 5000), "
    "(3, 5000, 10000), (4, 10000, 25000), (5, 25000, 50000), (6, 50000, 100000), "
    "(7, 100000, NULL)), "
    "n AS (SELECT width_bucket(f.price, ARRAY[1000, 2500, 5000, 10000, 25000, 50000, "
    "100000]::bigint[]) AS i, count(*) AS count FROM f GROUP BY 1) "
    "SELECT json_agg(json_build_object('min', b.lo, 'max', b.hi, 'count', "
    "COALESCE(n.count, 0)) ORDER BY b.i) FROM b LEFT JOIN n ON n.i = b.i";

static int write_answer(struct http_exchange *x, struct search *s, FILE *out)
{
    PGresult *page = NULL;
    long long total = 0;
    if (run_search(x, s, &page, &total) < 0)
        return -1;
    fputc('{', out);
    write_items(s, page, out);
    PQclear(page);
    fprintf(out, ",\"total\":%lld,\"limit\":%ld", total, s->limit);
    if (!s->cursor_key)
        fprintf(out, ",\"page\":%ld", s->page);
    if (s->facet_categories || s->facet_price)
        fputs(",\"facets\":{", out);
    if (s->facet_categories && write_scalar(x, s, "fcat", SQL_FACET_CATEGORIES_HEAD,
                                            SQL_FACET_CATEGORIES_TAIL, "\"categories\":", out) < 0)
        return -1;
    if (s->facet_price && write_scalar(x, s, "fprice", SQL_FACET_PRICE_HEAD, SQL_FACET_PRICE_TAIL,
                                       s->facet_categories ? ",\"price\":" : "\"price\":", out) < 0)
        return -1;
    if (s->facet_categories || s->facet_price)
        fputc('}', out);
    fputc('}', out);
    return 0;
}

/* Build the answer text (caller frees), or NULL after sending a problem. */
static char *build_answer(struct http_exchange *x, struct search *s, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out) {
        http_problem(x, 500, "out of memory", NULL);
        return NULL;
    }
    int rc = write_answer(x, s, out);
    if (fclose(out) != 0 && rc == 0) {
        http_problem(x, 500, "out of memory", NULL);
        rc = -1;
    }
    if (rc < 0) {
        free(text);
        return NULL;
    }
    char *compact = json_text_compact(text, len);
    free(text);
    if (!compact)
        http_problem(x, 500, "cannot build the answer", NULL);
    return compact;
}

/* GET /products (public) */
static void list_products(struct http_exchange *x)
{
    struct search s;
    json_t *errors = parse_search(&s, x);
    if (errors) {
        http_problem(x, 422, "invalid query parameters", errors);
        search_free(&s);
        return;
    }
    char *key = cache_key(&s);
    size_t len = 0;
    char *text = key ? cache_get(key, &len) : NULL;
    if (!text && (text = build_answer(x, &s, &len)) && key)
        cache_put(key, text, len);
    if (text)
        http_send_json_etag(x, text, len);
    free(text);
    free(key);
    search_free(&s);
}

int routes_search(struct http_server *srv)
{
    return http_route(srv, "GET", "/products", list_products, 0, NULL);
}
