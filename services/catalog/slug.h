/*
 * slug.h - URL slugs for products and categories.
 *
 * Pure functions (no I/O), shared by products.c and categories.c and tested
 * directly by tests/unit/test_catalog_slug.c. A slug is lower-case ASCII
 * letters and digits in runs joined by single hyphens: the pattern the
 * database's CHECK constraints hold, ^[a-z0-9]+(-[a-z0-9]+)*$.
 */
#ifndef CATALOG_SLUG_H
#define CATALOG_SLUG_H

#include <stdbool.h>
#include <stddef.h>

/* The slug of free text: ASCII letters and digits lower-cased, Latin
 * letters with diacritics transliterated ("Crème Brûlée" -> "creme-brulee",
 * "Straße" -> "strasse"), every other ASCII character a separator, other
 * code points (CJK, emoji, invalid UTF-8) dropped; runs of separators
 * become one '-', none at either end; at most 'max' bytes, cut at a word
 * boundary when possible. "" when nothing is left. Caller frees; NULL on
 * OOM. */
char *slug_from_text(const char *text, size_t max);

/* True when 's' is a well-formed slug of 1..max bytes. */
bool slug_valid(const char *s, size_t max);

#endif
