/*
 * image_format.h - the pure parts of image upload (no libvips, no I/O), kept
 * apart so unit tests can compile them alone: what kind of image some bytes
 * are, and the parts of a multipart/form-data body.
 */
#ifndef CATALOG_IMAGE_FORMAT_H
#define CATALOG_IMAGE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

enum image_type { IMAGE_UNKNOWN = 0, IMAGE_JPEG, IMAGE_PNG, IMAGE_WEBP, IMAGE_GIF };

/* The type of an image from its first bytes (its magic number), whatever
 * name or Content-Type the client gave it. IMAGE_UNKNOWN for anything else. */
enum image_type image_sniff(const void *data, size_t len);

/* "image/jpeg", ... for a known type; NULL for IMAGE_UNKNOWN. */
const char *image_mime(enum image_type t);

/* Remove the EXIF and XMP chunks of a WebP file in place (and their flags
 * in its VP8X header); returns the new length. Anything that is not a
 * well-formed WebP file is left as it is (and 'len' returned). */
size_t webp_strip_metadata(unsigned char *webp, size_t len);

/* RFC 2046 caps a boundary at 70 characters. */
enum { MULTIPART_BOUNDARY_MAX = 70 };

/* The boundary parameter of a multipart/form-data Content-Type (quoted or
 * not). On success *boundary points into 'content_type' and *len is 1..70.
 * False when the type is not multipart/form-data or has no usable boundary. */
bool multipart_boundary(const char *content_type, const char **boundary, size_t *len);

/* One part of a multipart body: its bytes, pointing into the body. */
struct multipart_part {
    const char *data;
    size_t len;
};

/* Find the first part whose Content-Disposition names 'name' in 'body'.
 * Returns 1 (found, *out set), 0 (the body is well formed and has no such
 * part) or -1 (malformed or truncated body). */
int multipart_find(const char *body, size_t len, const char *boundary, size_t blen,
                   const char *name, struct multipart_part *out);

#endif
