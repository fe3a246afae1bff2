/*
 * tokens.c - opaque tokens: refresh tokens, email verification and password
 * reset tokens.
 *
 * 256 bits from the system CSPRNG (randombytes_buf) sent as unpadded
 * base64url. The database keeps only the SHA-256 digest: a leaked table
 * yields no usable token, and with 256 random bits a plain (unsalted) digest
 * is enough, since there is nothing to guess.
 */
#include "auth_svc.h"

#include <sodium.h>
#include <string.h>

_Static_assert(TOKEN_LEN + 1 ==
                   sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "43 characters encode 32 bytes");

void token_new(char out[TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, TOKEN_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool token_well_formed(const char *token)
{
    if (!token || strlen(token) != TOKEN_LEN)
        return false;
    return strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
           TOKEN_LEN;
}

void token_digest(const char *text, char out[TOKEN_HASH_LEN + 1])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)text, strlen(text));
    sodium_bin2hex(out, TOKEN_HASH_LEN + 1, d, sizeof d);
}
