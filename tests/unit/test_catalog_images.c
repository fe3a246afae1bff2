/* Unit tests for the catalog's image upload checks: type sniffing and the
 * multipart/form-data parser.
 *
 * The Makefile links unit tests against the core library only, so the
 * service's pure source file is compiled into this test directly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../services/catalog/image_format.c"

#define SNIFF(lit) image_sniff(lit, sizeof lit - 1)

static void sniffing(void **state)
{
    (void)state;
    assert_int_equal(SNIFF("\xFF\xD8\xFF\xE0\x00\x10JFIF"), IMAGE_JPEG);
    assert_int_equal(SNIFF("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), IMAGE_PNG);
    assert_int_equal(SNIFF("RIFF\x24\0\0\0WEBPVP8 "), IMAGE_WEBP);
    assert_int_equal(SNIFF("GIF89a\x01\0\x01\0"), IMAGE_GIF);
    assert_int_equal(SNIFF("GIF87a\x01\0\x01\0"), IMAGE_GIF);
    assert_string_equal(image_mime(IMAGE_WEBP), "image/webp");
    assert_null(image_mime(IMAGE_UNKNOWN));
}

static void sniffing_refuses(void **state)
{
    (void)state;
    assert_int_equal(image_sniff("", 0), IMAGE_UNKNOWN);
    assert_int_equal(SNIFF("\xFF\xD8"), IMAGE_UNKNOWN);               /* too short */
    assert_int_equal(SNIFF("\x89PNG\r\n\x1a"), IMAGE_UNKNOWN);        /* 7 of 8 bytes */
    assert_int_equal(SNIFF("\x89PNG\n\n\x1a\n"), IMAGE_UNKNOWN);      /* newline-mangled */
    assert_int_equal(SNIFF("RIFF\x24\0\0\0WAVEfmt "), IMAGE_UNKNOWN); /* other RIFF */
    assert_int_equal(SNIFF("GIF88a"), IMAGE_UNKNOWN);
    assert_int_equal(SNIFF("%PDF-1.7\n"), IMAGE_UNKNOWN);
    assert_int_equal(SNIFF("<svg xmlns="), IMAGE_UNKNOWN);
    assert_int_equal(SNIFF("hello, I am a .png"), IMAGE_UNKNOWN);
}

static void boundaries(void **state)
{
    (void)state;
    const char *b;
    size_t n;
    assert_true(multipart_boundary("multipart/form-data; boundary=abc123", &b, &n));
    assert_int_equal(n, 6);
    assert_memory_equal(b, "abc123", 6);
    assert_true(multipart_boundary("Multipart/Form-Data;boundary=\"a b\"; charset=x", &b, &n));
    assert_int_equal(n, 3);
    assert_memory_equal(b, "a b", 3);
    assert_true(multipart_boundary("multipart/form-data; charset=utf-8; boundary=x", &b, &n));
    assert_int_equal(n, 1);
    assert_false(multipart_boundary(NULL, &b, &n));
    assert_false(multipart_boundary("application/json", &b, &n));
    assert_false(multipart_boundary("multipart/mixed; boundary=abc", &b, &n));
    assert_false(multipart_boundary("multipart/form-data", &b, &n));
    assert_false(multipart_boundary("multipart/form-data; boundary=", &b, &n));
    assert_false(multipart_boundary("multipart/form-data; boundary=\"abc", &b, &n));
    /* 71 characters: over RFC 2046's limit */
    assert_false(multipart_boundary(
        "multipart/form-data; boundary="
        "12345678901234567890123456789012345678901234567890123456789012345678901",
        &b, &n));
}

static const char BODY[] =
    "preamble\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"alt\"\r\n"
    "\r\n"
    "a red mug\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"name=x.png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\0\r\n--Xy\0bytes\r\n"
    "--XyZ--\r\n";

static void parts(void **state)
{
    (void)state;
    struct multipart_part p;
    size_t len = sizeof BODY - 1;
    assert_int_equal(multipart_find(BODY, len, "XyZ", 3, "alt", &p), 1);
    assert_int_equal(p.len, 9);
    assert_memory_equal(p.data, "a red mug", 9);
    /* binary data with NULs and a near-boundary inside */
    assert_int_equal(multipart_find(BODY, len, "XyZ", 3, "file", &p), 1);
    assert_int_equal(p.len, 17);
    assert_memory_equal(p.data, "\x89PNG\0\r\n--Xy\0bytes", 17);
    /* filename="name=x.png" does not make a part named "x.png" or "name" */
    assert_int_equal(multipart_find(BODY, len, "XyZ", 3, "x.png", &p), 0);
    assert_int_equal(multipart_find(BODY, len, "XyZ", 3, "filename", &p), 0);
    assert_int_equal(multipart_find(BODY, len, "XyZ", 3, "nope", &p), 0);
}

static void malformed_parts(void **state)
{
    (void)state;
    struct multipart_part p;
    size_t len = sizeof BODY - 1;
    /* truncated inside the file part: no closing delimiter */
    assert_int_equal(multipart_find(BODY, len - 40, "XyZ", 3, "file", &p), -1);
    /* wrong boundary: no delimiter at all */
    assert_int_equal(multipart_find(BODY, len, "Other", 5, "file", &p), -1);
    /* headers never end */
    static const char open_headers[] = "--b\r\nContent-Disposition: form-data; name=\"file\"";
    assert_int_equal(multipart_find(open_headers, sizeof open_headers - 1, "b", 1, "file", &p), -1);
    /* a part without headers is skipped, not mistaken for the next one */
    static const char no_headers[] = "--b\r\n\r\nzz\r\n--b\r\nContent-Disposition: form-data; "
                                     "name=file\r\n\r\nok\r\n--b--";
    assert_int_equal(multipart_find(no_headers, sizeof no_headers - 1, "b", 1, "file", &p), 1);
    assert_int_equal(p.len, 2);
    assert_memory_equal(p.data, "ok", 2);
    assert_int_equal(multipart_find("", 0, "b", 1, "file", &p), -1);
}

/* A chunk: fourcc, little-endian size, payload (odd sizes padded). */
static size_t put_chunk(unsigned char *out, const char *fourcc, const char *payload, size_t n)
{
    memcpy(out, fourcc, 4);
    for (int i = 0; i < 4; i++)
        out[4 + i] = (unsigned char)(n >> (8 * i));
    memcpy(out + 8, payload, n);
    if (n & 1)
        out[8 + n++] = 0;
    return 8 + n;
}

static void webp_metadata(void **state)
{
    (void)state;
    unsigned char b[128] = "RIFF\0\0\0\0WEBP";
    size_t n = 12;
    n += put_chunk(b + n, "VP8X", "\x0C\0\0\0\x09\0\0\x09\0\0", 10);
    n += put_chunk(b + n, "VP8 ", "frame", 5);
    n += put_chunk(b + n, "EXIF", "MM\0*GPS-secret", 15);
    n += put_chunk(b + n, "XMP ", "<x/>", 4);
    b[4] = (unsigned char)(n - 8);
    size_t len = webp_strip_metadata(b, n);
    assert_int_equal(len, 12 + 18 + 14);
    assert_memory_equal(b + 30, "VP8 ", 4);
    assert_int_equal(b[4], len - 8);
    assert_int_equal(b[20], 0); /* EXIF and XMP flags cleared */
    assert_null(memmem(b, len, "secret", 6));
    /* a chunk that overruns the file: left alone */
    unsigned char bad[64] = "RIFF\0\0\0\0WEBP";
    size_t m = 12 + put_chunk(bad + 12, "EXIF", "abcd", 4);
    bad[16] = 40; /* EXIF claims 40 bytes */
    assert_int_equal(webp_strip_metadata(bad, m), m);
    assert_memory_equal(bad + 12, "EXIF", 4);
    assert_int_equal(webp_strip_metadata((unsigned char *)"RIFF", 4), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sniffing),        cmocka_unit_test(sniffing_refuses),
        cmocka_unit_test(boundaries),      cmocka_unit_test(parts),
        cmocka_unit_test(malformed_parts), cmocka_unit_test(webp_metadata),
    };
    return cmocka_run_group_tests_name("catalog images", tests, NULL, NULL);
}
