/*
 * password_hash.c - Argon2id password hashes (libsodium crypto_pwhash_str).
 *
 * OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE (2 passes over 64 MiB): the
 * libsodium recommendation for online logins. The encoded hash carries its
 * algorithm and limits, so raising them later only needs a rehash at the
 * next successful login (password_needs_rehash).
 *
 * Unknown emails: login still runs one verification, against a decoy hash
 * made at start from a random password, so a wrong email costs as much time
 * as a wrong password and timing does not reveal which accounts exist.
 *
 * Each hash or verification holds 64 MiB while it runs, and the work is pure
 * CPU: more of them at once than there are cores only adds memory (four
 * request threads made a 270 MB peak) without adding throughput. A
 * semaphore with one slot per core makes the others wait their turn.
 */
#include "auth_svc.h"

#include "core/log.h"

#include <errno.h>
#include <semaphore.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#define OPSLIMIT crypto_pwhash_OPSLIMIT_INTERACTIVE
#define MEMLIMIT crypto_pwhash_MEMLIMIT_INTERACTIVE

_Static_assert(crypto_pwhash_STRBYTES == 128, "hash buffers are 128 bytes");

/* Written once by password_init() before any request thread runs. */
static char g_decoy[crypto_pwhash_STRBYTES];
static sem_t g_slots; /* Argon2id runs at once: one per core */

static void slot_take(void)
{
    while (sem_wait(&g_slots) != 0 && errno == EINTR)
        ;
}

static void slot_give(void)
{
    sem_post(&g_slots);
}

int password_hash(const char *password, char out[128])
{
    slot_take();
    int rc = crypto_pwhash_str_alg(out, password, strlen(password), OPSLIMIT, MEMLIMIT,
                                   crypto_pwhash_ALG_ARGON2ID13);
    slot_give();
    if (rc != 0) {
        log_error("password hashing failed (out of memory)");
        return -1;
    }
    return 0;
}

int password_init(void)
{
    if (sodium_init() < 0)
        return -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (sem_init(&g_slots, 0, cores > 0 ? (unsigned)cores : 1) != 0)
        return -1;
    char random_pw[33];
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(random_pw, sizeof random_pw, raw, sizeof raw);
    int rc = password_hash(random_pw, g_decoy);
    sodium_memzero(random_pw, sizeof random_pw);
    return rc;
}

bool password_verify(const char *hash, const char *password)
{
    size_t n = strlen(password);
    /* Unknown account: the decoy is checked and the result ignored on
     * purpose; only the time spent matters. */
    bool known = hash && *hash;
    slot_take();
    int rc = crypto_pwhash_str_verify(known ? hash : g_decoy, password, n);
    slot_give();
    return known && rc == 0;
}

bool password_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, OPSLIMIT, MEMLIMIT) != 0;
}
