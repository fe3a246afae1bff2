/*
 * images.c - product images: upload, serving, alt/position edits, deletion.
 *
 *   POST   /products/:id/images                      multipart, field "file" (+ "alt")
 *   GET    /products/:id/images/:imageId/:variant    thumb | medium | large (also HEAD)
 *   PATCH  /products/:id/images/:imageId             {alt?, position?}
 *   DELETE /products/:id/images/:imageId
 *
 * An upload is checked before it is decoded: the type from its magic bytes
 * (415 for anything but JPEG, PNG, WebP, GIF), then its dimensions from the
 * header alone (422 over MAX_SIDE or MAX_PIXELS, so a small file announcing
 * a gigapixel image costs nothing). It is then decoded once, failing on
 * truncation (422, never 500), shrunk (never enlarged) to the `large`
 * variant with EXIF auto-rotation, and the smaller variants are made from
 * that. Variants are WebP without metadata (GPS positions and camera serial
 * numbers stay with the seller), written to
 * $VAR_DIR/catalog/images/<imageId>/<variant>.webp through a temporary file
 * and rename(), so a reader never sees half a file.
 *
 * Order of a write: the files first, then the row and its product.updated
 * event in one transaction; a failed transaction removes the files again,
 * so no row ever points to missing files. Deleting removes the row first
 * and the files after the commit: a crash in between leaves orphan files,
 * never a broken image.
 *
 * Variant files never change (a new upload is a new image id), so they are
 * served with a one-year immutable Cache-Control and a strong ETag made of
 * the original's SHA-256 and the variant name.
 */
#include "catalog.h"
#include "image_format.h"

#include "core/auth.h"
#include "core/config.h"
#include "core/events.h"
#include "core/log.h"
#include "core/store.h"
#include "core/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ulfius.h>
#include <unistd.h>
#include <vips/vips.h>

#define MAX_SIDE 10000      /* px, either side */
#define MAX_PIXELS 40000000 /* 40 megapixels */
#define QUALITY 82
#define ALT_MAX 300
/* Room for the multipart envelope around the file (boundaries, headers, alt). */
#define MULTIPART_OVERHEAD 65536

/* Largest first: the smaller variants are made from the large one. */
static const struct variant {
    const char *name;
    int max; /* px, the longer side */
} VARIANTS[] = {{"large", 1200}, {"medium", 600}, {"thumb", 200}};
enum { N_VARIANTS = sizeof VARIANTS / sizeof VARIANTS[0] };

static const char *const EDITORS[] = {"SUPERADMIN", "ADMIN", "SELLER", NULL};

/* clang-format off */
#define ISO(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
#define IMAGE_URL "'/products/' || i.product_id || '/images/' || i.id || '/'"
#define IMAGE_JSON                                                                             \
    "json_build_object('id', i.id, 'productId', i.product_id, 'position', i.position, "       \
    "'alt', i.alt, 'contentType', i.content_type, 'width', i.width, 'height', i.height, "     \
    "'bytes', i.bytes, 'url', " IMAGE_URL " || 'large', "                                    \
    "'variants', json_build_object('thumb', " IMAGE_URL " || 'thumb', "                        \
    "'medium', " IMAGE_URL " || 'medium', 'large', " IMAGE_URL " || 'large'), "                \
    "'createdAt', " ISO("i.created_at") ")"

static const char SQL_PRODUCT_SELLER[] =
    "SELECT to_json(seller_id) FROM products WHERE id = $1 AND deleted_at IS NULL";

/* Locks the product row: one image write per product at a time, so
 * positions do not collide; its updatedAt moves because its JSON did. */
static const char SQL_PRODUCT_TOUCH[] =
    "UPDATE products SET updated_at = now() WHERE id = $1 AND deleted_at IS NULL";

static const char SQL_IMAGE_INSERT[] =
    "INSERT INTO product_images AS i (id, product_id, position, alt, content_type, width, "
    "height, bytes, sha256) SELECT $1, $2, COALESCE(max(position) + 1, 0), $3, $4, $5, $6, $7, $8 "
    "FROM product_images WHERE product_id = $2 RETURNING " IMAGE_JSON;

static const char SQL_IMAGE_PATCH[] =
    "UPDATE product_images i SET alt = COALESCE($3, i.alt), "
    "position = COALESCE($4::int, i.position) "
    "WHERE i.id = $1 AND i.product_id = $2 RETURNING " IMAGE_JSON;

static const char SQL_IMAGE_DELETE[] =
    "DELETE FROM product_images i WHERE i.id = $1 AND i.product_id = $2 "
    "RETURNING json_build_object('id', i.id)";

/* What serving a variant needs to know, cached with the catalog's reads. */
static const char SQL_IMAGE_META[] =
    "SELECT json_build_object('sha256', i.sha256, 'sellerId', p.seller_id, "
    "'public', p.is_active AND p.deleted_at IS NULL) "
    "FROM product_images i JOIN products p ON p.id = i.product_id "
    "WHERE i.id = $1 AND i.product_id = $2";
/* clang-format on */

/* ------------------------------------------------------------------------ */
/* configuration                                                             */

static long max_image_bytes(void)
{
    return config_long("CATALOG_IMAGE_MAX_BYTES", 10485760, 1024, 1L << 30);
}

/* "$VAR_DIR/catalog/images/<id>" (caller frees), or NULL on OOM. */
static char *image_dir(const char *image_id)
{
    char *dir = NULL;
    if (asprintf(&dir, "%s/catalog/images/%s", config_str("VAR_DIR", "var"), image_id) < 0)
        return NULL;
    return dir;
}

/* "<dir>/<variant>.webp" (caller frees), or NULL on OOM. */
static char *variant_path(const char *dir, const char *variant)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s.webp", dir, variant) < 0)
        return NULL;
    return path;
}

static bool known_variant(const char *name)
{
    for (size_t i = 0; i < N_VARIANTS; i++)
        if (name && !strcmp(name, VARIANTS[i].name))
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* answers                                                                   */

static void image_missing(struct http_exchange *x)
{
    http_problem(x, 404, "image not found", NULL);
}

static void invalid_field(struct http_exchange *x, const char *field, const char *message)
{
    json_t *errors = NULL;
    http_field_error(&errors, field, message);
    http_problem(x, 422, "the request has invalid fields", errors);
}

/* ------------------------------------------------------------------------ */
/* who may write                                                             */

/* The path's product id when the caller may change that product's images
 * (ADMIN, SUPERADMIN; a SELLER on its own products); NULL after sending
 * 401, 403 or 404. The id belongs to the exchange. */
static const char *editable_product(struct http_exchange *x)
{
    const struct auth_claims *c = http_require_role(x, EDITORS);
    if (!c)
        return NULL;
    const char *pid = http_param(x, "id");
    if (!valid_uuid(pid)) {
        product_missing(x);
        return NULL;
    }
    const char *params[] = {pid};
    json_t *seller = NULL;
    enum store_result r =
        store_json(x, "catalog_image_seller", SQL_PRODUCT_SELLER, 1, params, &seller);
    if (r != STORE_ROW) {
        if (r == STORE_NONE)
            product_missing(x);
        return NULL;
    }
    bool allowed = strcmp(c->role, "SELLER") || !strcmp(json_string_value(seller), c->sub);
    json_decref(seller);
    if (!allowed) {
        http_problem(x, 403, "sellers may change their own products only", NULL);
        return NULL;
    }
    return pid;
}

/* ------------------------------------------------------------------------ */
/* libvips                                                                   */

/* Log and clear libvips' error buffer (it is per process, not per call). */
static void log_vips_error(const char *what)
{
    char *msg = vips_error_buffer_copy(); /* g_free; clears the buffer */
    for (char *p = msg; p && *p; p++)
        if (*p == '\n') /* one log line, whatever libvips wrote */
            *p = *(p + 1) ? ' ' : '\0';
    log_warn("image %s: %s", what, msg && *msg ? msg : "(no detail)");
    g_free(msg);
}

/* Read the header only (no pixels are decoded). 0 with the size, 1 when the
 * header cannot be read, 2 when the image is too large to decode. */
static int image_header(const void *data, size_t len, int *width, int *height)
{
    VipsImage *img =
        vips_image_new_from_buffer(data, len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!img) {
        log_vips_error("header");
        return 1;
    }
    *width = vips_image_get_width(img);
    *height = vips_image_get_height(img);
    g_object_unref(img);
    if (*width <= 0 || *height <= 0)
        return 1;
    if (*width > MAX_SIDE || *height > MAX_SIDE || (long long)*width * *height > MAX_PIXELS)
        return 2;
    return 0;
}

/* The encoded variants of one upload, in VARIANTS order (g_free each). */
struct variants {
    void *buf[N_VARIANTS];
    size_t len[N_VARIANTS];
};

static void variants_clear(struct variants *v)
{
    for (size_t i = 0; i < N_VARIANTS; i++) {
        g_free(v->buf[i]);
        v->buf[i] = NULL;
    }
}

/* Drop every metadata item (EXIF, XMP, IPTC, ICC, comments) of 'img',
 * which the caller owns alone. Saving with "strip" should do this, but
 * libvips 8.14.1's webpsave ignores it and copies EXIF (GPS positions,
 * camera serial numbers) into every variant; and what it still writes is
 * removed from the encoded file (webp_strip_metadata). Header fields
 * (width, ...) are not metadata items and stay. */
static void strip_metadata(VipsImage *img)
{
    gchar **fields = vips_image_get_fields(img);
    for (size_t i = 0; fields && fields[i]; i++)
        vips_image_remove(img, fields[i]);
    g_strfreev(fields);
}

/* The large variant decoded into memory: fully decoded here, so that a
 * truncated or corrupt file fails now rather than mid-write. Caller unrefs;
 * NULL on failure (logged). */
static VipsImage *decode_large(const void *data, size_t len)
{
    VipsImage *thumb = NULL;
    /* thumbnail_buffer shrinks while loading where the format allows (JPEG,
     * WebP), applies the EXIF orientation, and turns an image with an
     * embedded colour profile into sRGB (the profile is dropped after). */
    if (vips_thumbnail_buffer((void *)data, len, &thumb, VARIANTS[0].max, "height", VARIANTS[0].max,
                              "size", VIPS_SIZE_DOWN, "export_profile", "srgb", "option_string",
                              "fail_on=truncated", NULL)) {
        log_vips_error("decode");
        return NULL;
    }
    VipsImage *mem = vips_image_copy_memory(thumb);
    g_object_unref(thumb);
    if (mem)
        strip_metadata(mem);
    else
        log_vips_error("decode");
    return mem;
}

/* Encode variant 'i' of 'large' as WebP into v. 0 or -1 (logged). */
static int encode_variant(VipsImage *large, size_t i, struct variants *v)
{
    VipsImage *img = NULL;
    if (i == 0)
        img = g_object_ref(large);
    else if (vips_thumbnail_image(large, &img, VARIANTS[i].max, "height", VARIANTS[i].max, "size",
                                  VIPS_SIZE_DOWN, NULL))
        img = NULL;
    int rc =
        img ? vips_webpsave_buffer(img, &v->buf[i], &v->len[i], "Q", QUALITY, "strip", TRUE, NULL)
            : -1;
    if (img)
        g_object_unref(img);
    if (rc)
        log_vips_error("encode");
    else /* libvips 8.14.1 writes a fresh EXIF chunk despite "strip" */
        v->len[i] = webp_strip_metadata(v->buf[i], v->len[i]);
    return rc ? -1 : 0;
}

/* Every variant of an upload. 0, or -1 with nothing left in v. */
static int make_variants(const void *data, size_t len, struct variants *v)
{
    VipsImage *large = decode_large(data, len);
    if (!large)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < N_VARIANTS && rc == 0; i++)
        rc = encode_variant(large, i, v);
    g_object_unref(large);
    if (rc)
        variants_clear(v);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* files                                                                     */

/* mkdir -p with mode 0750 (the service's data is no one else's). 0 or -1. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0750);
        *p = '/';
        if (rc && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0750) && errno != EEXIST ? -1 : 0;
}

/* Write all of data to fd. 0 or -1. */
static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Write 'path' whole or not at all: a temporary file renamed into place. */
static int write_atomic(const char *path, const void *data, size_t len)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
        return -1;
    int fd = mkstemp(tmp);
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0)
        rc = fchmod(fd, 0640) || write_all(fd, data, len) ? -1 : 0;
    if (fd >= 0 && close(fd) && rc == 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path))
        rc = -1;
    if (rc && fd >= 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* Remove an image's files and its directory; missing files are fine. */
static void remove_files(const char *image_id)
{
    char *dir = image_dir(image_id);
    if (!dir)
        return;
    for (size_t i = 0; i < N_VARIANTS; i++) {
        char *path = variant_path(dir, VARIANTS[i].name);
        if (path && unlink(path) && errno != ENOENT)
            log_warn("image files: cannot remove %s: %s", path, strerror(errno));
        free(path);
    }
    if (rmdir(dir) && errno != ENOENT)
        log_warn("image files: cannot remove %s: %s", dir, strerror(errno));
    free(dir);
}

/* Write every variant under the image's directory. 0, or -1 with whatever
 * was written removed again (logged). */
static int write_files(const char *image_id, const struct variants *v)
{
    char *dir = image_dir(image_id);
    int rc = dir && make_dirs(dir) == 0 ? 0 : -1;
    for (size_t i = 0; i < N_VARIANTS && rc == 0; i++) {
        char *path = variant_path(dir, VARIANTS[i].name);
        rc = path && write_atomic(path, v->buf[i], v->len[i]) == 0 ? 0 : -1;
        free(path);
    }
    if (rc) {
        log_error("image files: cannot write %s: %s", dir ? dir : image_id, strerror(errno));
        remove_files(image_id);
    }
    free(dir);
    return rc;
}

/* A whole file read into memory (caller frees), or NULL. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (data = malloc((size_t)st.st_size))) {
        *len = fread(data, 1, (size_t)st.st_size, f);
        if (*len != (size_t)st.st_size) {
            free(data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

/* ------------------------------------------------------------------------ */
/* events                                                                    */

/* product.updated for an image change, inside the open transaction. Sends
 * 500 and returns STORE_FAILED when the event cannot be written. */
static enum store_result emit_updated(struct http_exchange *x, const char *product_id,
                                      const char *image_id, const char *change)
{
    json_t *data = json_pack("{s:s, s:s, s:s, s:[s]}", "productId", product_id, "imageId", image_id,
                             "change", change, "fields", "images");
    int rc = data ? events_emit("product.updated", data) : -1;
    json_decref(data);
    if (rc == 0)
        return STORE_ROW;
    http_problem(x, 500, "could not record the product.updated event", NULL);
    return STORE_FAILED;
}

/* Lock and touch the product; STORE_NONE when it is gone. */
static enum store_result touch_product(struct http_exchange *x, const char *product_id)
{
    const char *params[] = {product_id};
    long n = store_exec(x, "catalog_image_touch", SQL_PRODUCT_TOUCH, 1, params);
    return n < 0 ? STORE_FAILED : n == 0 ? STORE_NONE : STORE_ROW;
}

/* ------------------------------------------------------------------------ */
/* POST /products/:id/images                                                 */

/* One accepted upload, as the transaction needs it. */
struct upload {
    const char *product_id;
    char image_id[37];
    char *alt; /* owned */
    const char *content_type;
    int width, height;
    size_t bytes;
    char sha256[crypto_hash_sha256_BYTES * 2 + 1];
    struct variants variants;
};

static enum store_result insert_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct upload *u = arg;
    enum store_result r = touch_product(x, u->product_id);
    if (r != STORE_ROW)
        return r;
    char w[16], h[16], bytes[24];
    snprintf(w, sizeof w, "%d", u->width);
    snprintf(h, sizeof h, "%d", u->height);
    snprintf(bytes, sizeof bytes, "%zu", u->bytes);
    const char *params[] = {u->image_id, u->product_id, u->alt ? u->alt : "", u->content_type, w, h,
                            bytes,       u->sha256};
    r = store_json(x, "catalog_image_insert", SQL_IMAGE_INSERT, 8, params, out);
    if (r == STORE_ROW && emit_updated(x, u->product_id, u->image_id, "image_added") != STORE_ROW) {
        json_decref(*out);
        *out = NULL;
        return STORE_FAILED;
    }
    return r;
}

/* The "alt" part as a string (caller frees) in *alt, NULL when absent.
 * False after sending 400/422. */
static bool read_alt(struct http_exchange *x, const char *body, size_t len, const char *b,
                     size_t blen, char **alt)
{
    struct multipart_part part;
    *alt = NULL;
    int found = multipart_find(body, len, b, blen, "alt", &part);
    if (found <= 0)
        return true; /* a malformed body was already refused by the "file" lookup */
    if (memchr(part.data, '\0', part.len) || !(*alt = strndup(part.data, part.len))) {
        invalid_field(x, "alt", "must be text");
        return false;
    }
    long n = utf8_length(*alt);
    if (n < 0 || n > ALT_MAX || has_control_chars(*alt)) {
        invalid_field(x, "alt", "must be at most 300 characters of single-line text");
        free(*alt);
        *alt = NULL;
        return false;
    }
    return true;
}

/* The "file" part of the multipart body; false after sending 4xx. */
static bool read_file_part(struct http_exchange *x, struct multipart_part *file, char **alt)
{
    const char *b;
    size_t blen;
    if (!multipart_boundary(http_header(x, "Content-Type"), &b, &blen)) {
        http_problem(x, 415, "expected Content-Type: multipart/form-data with a boundary", NULL);
        return false;
    }
    const char *body = x->req->binary_body;
    size_t len = x->req->binary_body_length;
    int found = body ? multipart_find(body, len, b, blen, "file", file) : -1;
    if (found < 0) {
        http_problem(x, 400, "malformed or truncated multipart/form-data body", NULL);
        return false;
    }
    if (found == 0 || file->len == 0) {
        invalid_field(x, "file", found ? "is empty" : "is required");
        return false;
    }
    if (file->len > (size_t)max_image_bytes()) {
        char detail[96];
        snprintf(detail, sizeof detail, "image exceeds %ld bytes", max_image_bytes());
        http_problem(x, 413, detail, NULL);
        return false;
    }
    return read_alt(x, body, len, b, blen, alt);
}

/* Type, dimensions and variants of the file into u; false after 415/422. */
static bool process_file(struct http_exchange *x, const struct multipart_part *file,
                         struct upload *u)
{
    u->content_type = image_mime(image_sniff(file->data, file->len));
    if (!u->content_type) {
        http_problem(x, 415, "unsupported image type: send JPEG, PNG, WebP or GIF", NULL);
        return false;
    }
    int hr = image_header(file->data, file->len, &u->width, &u->height);
    if (hr) {
        invalid_field(x, "file",
                      hr == 1 ? "is not a readable image"
                              : "is too large: at most 10000 px a side and 40 megapixels");
        return false;
    }
    if (make_variants(file->data, file->len, &u->variants)) {
        invalid_field(x, "file", "is corrupt or truncated");
        return false;
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, (const unsigned char *)file->data, file->len);
    sodium_bin2hex(u->sha256, sizeof u->sha256, digest, sizeof digest);
    u->bytes = file->len;
    return true;
}

/* Files, then the row; answers 201 with the image. */
static void store_upload(struct http_exchange *x, struct upload *u)
{
    http_uuid4(u->image_id);
    if (write_files(u->image_id, &u->variants)) {
        http_problem(x, 500, "could not store the image", NULL);
        return;
    }
    json_t *image = NULL;
    enum store_result r = store_tx(x, insert_steps, u, &image);
    if (r != STORE_ROW) {
        remove_files(u->image_id);
        if (r == STORE_NONE)
            product_missing(x);
        return;
    }
    cache_invalidate();
    const char *url = json_string_value(json_object_get(image, "url"));
    if (url)
        http_set_header(x, "Location", url);
    http_json(x, 201, image);
}

static void upload_image(struct http_exchange *x)
{
    struct upload u = {0};
    struct multipart_part file;
    u.product_id = editable_product(x);
    if (u.product_id && read_file_part(x, &file, &u.alt) && process_file(x, &file, &u))
        store_upload(x, &u);
    variants_clear(&u.variants);
    free(u.alt);
    /* Decoding leaves megabytes of freed buffers in this thread's malloc
     * arena, which glibc keeps; uploads are rare enough to hand them back
     * to the system each time (measured: 24 MB of anonymous memory kept
     * after three uploads without this). */
    malloc_trim(0);
}

/* ------------------------------------------------------------------------ */
/* GET /products/:id/images/:imageId/:variant                                */

/* {sha256, sellerId, public} of the path's image (caller decrefs), or NULL
 * after sending 404/5xx. From the read cache when it has it. */
static json_t *image_meta(struct http_exchange *x, const char *pid, const char *iid)
{
    char key[96];
    snprintf(key, sizeof key, "image:%s:%s", pid, iid);
    size_t len = 0;
    char *text = cache_get(key, &len);
    json_t *meta = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    if (meta)
        return meta;
    const char *params[] = {iid, pid};
    enum store_result r = store_json(x, "catalog_image_meta", SQL_IMAGE_META, 2, params, &meta);
    if (r == STORE_NONE)
        image_missing(x);
    if (r != STORE_ROW)
        return NULL;
    char *dump = json_dumps(meta, JSON_COMPACT);
    if (dump)
        cache_put(key, dump, strlen(dump));
    free(dump);
    return meta;
}

/* True when the caller may see the image of a product that is not public:
 * its seller or an admin. Otherwise sends 404 (or 401 for a bad token). */
static bool may_see_hidden(struct http_exchange *x, json_t *meta)
{
    if (!http_header(x, "Authorization")) {
        image_missing(x);
        return false;
    }
    const struct auth_claims *c = http_authenticate(x);
    if (!c)
        return false;
    const char *seller = json_string_value(json_object_get(meta, "sellerId"));
    if (!strcmp(c->role, "ADMIN") || !strcmp(c->role, "SUPERADMIN") ||
        (seller && !strcmp(seller, c->sub)))
        return true;
    image_missing(x);
    return false;
}

/* Send the variant file with its caching headers, or 304. */
static void send_variant(struct http_exchange *x, const char *iid, const char *variant,
                         const char *sha256, bool public)
{
    char etag[128];
    snprintf(etag, sizeof etag, "\"%.64s-%s\"", sha256, variant);
    http_set_header(x, "ETag", etag);
    /* The bytes behind a URL never change; an image of a hidden product
     * must not be kept by shared caches. */
    http_set_header(x, "Cache-Control",
                    public ? "public, max-age=31536000, immutable" : "private, no-cache");
    if (http_etag_matches(http_header(x, "If-None-Match"), etag)) {
        http_send(x, 304, NULL, NULL, 0);
        return;
    }
    char *dir = image_dir(iid), *path = dir ? variant_path(dir, variant) : NULL;
    size_t len = 0;
    char *data = path ? read_file(path, &len) : NULL;
    if (data) {
        http_send(x, 200, "image/webp", data, len);
    } else {
        log_error("image files: cannot read %s", path ? path : iid);
        image_missing(x);
    }
    free(data);
    free(path);
    free(dir);
}

static void get_image(struct http_exchange *x)
{
    const char *pid = http_param(x, "id"), *iid = http_param(x, "imageId");
    const char *variant = http_param(x, "variant");
    if (!valid_uuid(pid) || !valid_uuid(iid) || !known_variant(variant)) {
        image_missing(x);
        return;
    }
    json_t *meta = image_meta(x, pid, iid);
    if (!meta)
        return;
    bool public = json_is_true(json_object_get(meta, "public"));
    const char *sha = json_string_value(json_object_get(meta, "sha256"));
    if (!sha)
        http_problem(x, 500, "image metadata is incomplete", NULL);
    else if (public || may_see_hidden(x, meta))
        send_variant(x, iid, variant, sha, public);
    json_decref(meta);
}

/* ------------------------------------------------------------------------ */
/* PATCH and DELETE /products/:id/images/:imageId                            */

/* One PATCH or DELETE of an image: its statement (the image and product
 * ids are $1 and $2; a PATCH adds alt and position) and the reason its
 * product.updated event gives. */
struct image_change {
    const char *product_id, *image_id;
    const char *alt;      /* PATCH: NULL keeps it */
    const char *position; /* PATCH: NULL keeps it */
    const char *stmt, *sql, *reason;
    int nparams;
};

static enum store_result change_steps(struct http_exchange *x, void *arg, json_t **out)
{
    struct image_change *c = arg;
    enum store_result r = touch_product(x, c->product_id);
    if (r != STORE_ROW)
        return r;
    const char *params[] = {c->image_id, c->product_id, c->alt, c->position};
    r = store_json(x, c->stmt, c->sql, c->nparams, params, out);
    if (r == STORE_ROW && emit_updated(x, c->product_id, c->image_id, c->reason) != STORE_ROW) {
        json_decref(*out);
        *out = NULL;
        return STORE_FAILED;
    }
    return r;
}

/* The {alt?, position?} body into c; false after sending 422. 'pos' holds
 * the position's text. */
static bool valid_patch(struct http_exchange *x, struct image_change *c, char pos[24])
{
    static const char *const known[] = {"alt", "position", NULL};
    json_t *errors = NULL;
    v_no_unknown(x->body, known, &errors);
    c->alt = v_string(x->body, "alt", false, 0, ALT_MAX, true, &errors);
    long long position;
    if (v_int(x->body, "position", false, 0, 100000, &position, &errors)) {
        snprintf(pos, 24, "%lld", position);
        c->position = pos;
    }
    if (!errors)
        return true;
    http_problem(x, 422, "the request has invalid fields", errors);
    return false;
}

static void patch_image(struct http_exchange *x)
{
    struct image_change c = {.product_id = editable_product(x),
                             .stmt = "catalog_image_patch",
                             .sql = SQL_IMAGE_PATCH,
                             .nparams = 4,
                             .reason = "image_changed"};
    char pos[24];
    if (!c.product_id || !(c.image_id = http_param_uuid(x, "imageId", "image")))
        return;
    if (!valid_patch(x, &c, pos))
        return;
    json_t *image = NULL;
    enum store_result r = store_tx(x, change_steps, &c, &image);
    if (r == STORE_ROW)
        cache_invalidate();
    store_reply(x, r, image, 200, image_missing);
}

static void delete_image(struct http_exchange *x)
{
    struct image_change c = {.product_id = editable_product(x),
                             .stmt = "catalog_image_delete",
                             .sql = SQL_IMAGE_DELETE,
                             .nparams = 2,
                             .reason = "image_removed"};
    if (!c.product_id || !(c.image_id = http_param_uuid(x, "imageId", "image")))
        return;
    json_t *row = NULL;
    enum store_result r = store_tx(x, change_steps, &c, &row);
    json_decref(row);
    if (r == STORE_NONE)
        image_missing(x);
    if (r != STORE_ROW)
        return;
    remove_files(c.image_id);
    cache_invalidate();
    http_send(x, 204, NULL, NULL, 0);
}

/* ------------------------------------------------------------------------ */
/* set-up                                                                    */

static void vips_stop(void)
{
    vips_shutdown();
}

/* Start libvips small: one worker thread per operation (requests already
 * run in parallel on the server's threads) and no operation cache (every
 * upload is different; a cache would only hold memory). Loaders libvips
 * marks untrusted (ImageMagick, ...) are blocked: only the sniffed formats'
 * own decoders ever see upload bytes. */
static int vips_setup(void)
{
    if (VIPS_INIT("catalog")) {
        log_vips_error("init");
        return -1;
    }
    atexit(vips_stop);
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_block_untrusted_set(TRUE);
    return 0;
}

int routes_images(struct http_server *srv)
{
    if (vips_setup())
        return -1;
    size_t upload_limit = (size_t)max_image_bytes() + MULTIPART_OVERHEAD;
    return http_route_limit(srv, "POST", "/products/:id/images", upload_image, 0, NULL,
                            upload_limit) |
           http_route(srv, "GET", "/products/:id/images/:imageId/:variant", get_image, 0, NULL) |
           http_route(srv, "HEAD", "/products/:id/images/:imageId/:variant", get_image, 0, NULL) |
           http_route(srv, "PATCH", "/products/:id/images/:imageId", patch_image, HTTP_JSON_BODY,
                      NULL) |
           http_route(srv, "DELETE", "/products/:id/images/:imageId", delete_image, 0, NULL);
}
