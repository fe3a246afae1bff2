/*
 * fields.c - format checks for the users service's input fields. See fields.h.
 */
#include "fields.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Locale-independent character classes: isalpha() and friends follow the C
 * locale today, but a check must not change meaning if someone calls
 * setlocale() later. */
static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alpha(char c)
{
    return is_upper(c) || (c >= 'a' && c <= 'z');
}

static bool is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

bool users_valid_phone(const char *s)
{
    if (!s || s[0] != '+' || !is_digit(s[1]) || s[1] == '0')
        return false;
    int digits = 0;
    for (const char *p = s + 1; *p; p++) {
        if (is_digit(*p)) {
            digits++;
            continue;
        }
        /* a separator sits between two digits */
        if ((*p != ' ' && *p != '-') || !is_digit(p[1]))
            return false;
    }
    return digits >= 7 && digits <= 15;
}

/* Length of the host[:port] part at 's' if it is a dotted DNS name with an
 * optional numeric port, else 0. */
static size_t host_length(const char *s)
{
    size_t n = 0, label = 0;
    bool dot = false;
    for (; is_alnum(s[n]) || s[n] == '-' || s[n] == '.'; n++) {
        if (s[n] == '.') {
            /* no empty labels, no label ending with '-' */
            if (label == 0 || s[n - 1] == '-')
                return 0;
            dot = true;
            label = 0;
        } else if (label++ == 0 && s[n] == '-') {
            return 0; /* no label starting with '-' */
        }
    }
    if (!dot || label == 0 || s[n - 1] == '-')
        return 0;
    if (s[n] == ':') {
        size_t digits = 0;
        while (is_digit(s[n + 1 + digits]))
            digits++;
        if (digits < 1 || digits > 5)
            return 0;
        n += 1 + digits;
    }
    return n;
}

/* True when the first n bytes of s equal 'prefix' ignoring ASCII case. */
static bool has_prefix_nocase(const char *s, const char *prefix, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char a = s[i], b = prefix[i];
        if (is_upper(a))
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

bool users_valid_https_url(const char *s)
{
    if (!s || strlen(s) > 2048 || !has_prefix_nocase(s, "https://", 8))
        return false;
    size_t host = host_length(s + 8);
    if (host == 0)
        return false;
    const char *rest = s + 8 + host;
    if (*rest && *rest != '/' && *rest != '?' && *rest != '#')
        return false; /* '@' (user info) or another odd character after the host */
    for (const unsigned char *p = (const unsigned char *)rest; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>\\^`{|}", *p))
            return false;
    return true;
}

/* Parse exactly 'n' digits at s; -1 when one is not a digit. */
static int parse_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

const char *users_birth_date_error(const char *s, int today_y, int today_m, int today_d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return "must be a date YYYY-MM-DD";
    int y = parse_digits(s, 4), m = parse_digits(s + 5, 2), d = parse_digits(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return "must be a real calendar date YYYY-MM-DD";
    if (y < 1900)
        return "must not be before 1900-01-01";
    long date = y * 10000L + m * 100L + d;
    if (date > today_y * 10000L + today_m * 100L + today_d)
        return "must not be in the future";
    return NULL;
}

const char *users_birth_date_error_now(const char *s)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!gmtime_r(&now, &tm))
        return "cannot be checked now";
    return users_birth_date_error(s, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/* Every officially assigned ISO 3166-1 alpha-2 code (249). */
static const char COUNTRIES[] =
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
    "BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ "
    "EC EE EG EH ER ES ET "
    "FI FJ FK FM FO FR "
    "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
    "HK HM HN HR HT HU "
    "ID IE IL IM IN IO IQ IR IS IT "
    "JE JM JO JP "
    "KE KG KH KI KM KN KP KR KW KY KZ "
    "LA LB LC LI LK LR LS LT LU LV LY "
    "MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
    "NA NC NE NF NG NI NL NO NP NR NU NZ "
    "OM "
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY "
    "QA "
    "RE RO RS RU RW "
    "SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
    "TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
    "UA UG UM US UY UZ "
    "VA VC VE VG VI VN VU "
    "WF WS "
    "YE YT "
    "ZA ZM ZW";

bool users_valid_country(const char *s)
{
    if (!s || strlen(s) != 2 || !is_upper(s[0]) || !is_upper(s[1]))
        return false;
    /* codes sit at multiples of 3 in the table */
    for (size_t i = 0; i + 1 < sizeof COUNTRIES; i += 3)
        if (COUNTRIES[i] == s[0] && COUNTRIES[i + 1] == s[1])
            return true;
    return false;
}

/* Length of the subtag at s (up to '-' or the end) when all alphanumeric, else 0. */
static size_t subtag_length(const char *s)
{
    size_t n = 0;
    while (is_alnum(s[n]))
        n++;
    return (s[n] == '\0' || s[n] == '-') ? n : 0;
}

static bool all_alpha(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_alpha(s[i]))
            return false;
    return true;
}

static bool all_digit(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* Which optional subtag of a language tag may come next. */
enum lang_stage { AFTER_LANGUAGE, AFTER_SCRIPT, AFTER_REGION };

/* Accept one subtag after the language; updates *stage. */
static bool lang_subtag_ok(const char *t, size_t n, enum lang_stage *stage)
{
    if (*stage == AFTER_LANGUAGE && n == 4 && all_alpha(t, n)) {
        *stage = AFTER_SCRIPT;
        return true;
    }
    if (*stage != AFTER_REGION && ((n == 2 && all_alpha(t, n)) || (n == 3 && all_digit(t, n)))) {
        *stage = AFTER_REGION;
        return true;
    }
    /* variants: 5-8 alphanumerics, or a digit followed by 3 alphanumerics */
    *stage = AFTER_REGION;
    return (n >= 5 && n <= 8) || (n == 4 && is_digit(t[0]));
}

bool users_valid_language(const char *s)
{
    if (!s || strlen(s) > 35)
        return false;
    size_t n = subtag_length(s);
    if (n < 2 || n > 3 || !all_alpha(s, n))
        return false;
    enum lang_stage stage = AFTER_LANGUAGE;
    for (const char *p = s + n; *p; p += n) {
        p++; /* the '-' */
        n = subtag_length(p);
        if (n == 0 || !lang_subtag_ok(p, n, &stage))
            return false;
    }
    return true;
}

bool users_valid_currency(const char *s)
{
    return s && strlen(s) == 3 && is_upper(s[0]) && is_upper(s[1]) && is_upper(s[2]);
}

bool users_valid_postal_code(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > 16 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i < n; i++) {
        bool sep = s[i] == ' ' || s[i] == '-';
        if (!is_alnum(s[i]) && !(sep && is_alnum(s[i - 1])))
            return false;
    }
    return true;
}

bool users_blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n\v\f", *s))
            return false;
    return true;
}

char *users_like_pattern(const char *s)
{
    size_t extra = 0;
    for (const char *p = s; *p; p++)
        extra += (*p == '%' || *p == '_' || *p == '\\');
    char *out = malloc(strlen(s) + extra + 3);
    if (!out)
        return NULL;
    char *o = out;
    *o++ = '%';
    for (const char *p = s; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

int users_role_rank(const char *role)
{
    static const char *const ranked[] = {"CUSTOMER", "SELLER", "ADMIN", "SUPERADMIN"};
    for (int i = 0; role && i < 4; i++)
        if (!strcmp(role, ranked[i]))
            return i + 1;
    return 0;
}

bool users_valid_role(const char *role)
{
    return users_role_rank(role) > 0;
}

const char *users_check_phone(const char *s)
{
    return users_valid_phone(s) ? NULL
                                : "must be an international number like +14155550123 (7-15 "
                                  "digits, single spaces or hyphens between them)";
}

const char *users_check_https_url(const char *s)
{
    return users_valid_https_url(s) ? NULL : "must be an https:// URL with a host name";
}

const char *users_check_country(const char *s)
{
    return users_valid_country(s) ? NULL
                                  : "must be an ISO 3166-1 alpha-2 country code in upper case "
                                    "like PT";
}

const char *users_check_postal_code(const char *s)
{
    return users_valid_postal_code(s) ? NULL
                                      : "must be letters and digits, optionally separated by "
                                        "single spaces or hyphens";
}

const char *users_check_language(const char *s)
{
    return users_valid_language(s) ? NULL : "must be a BCP 47 language tag like en or pt-BR";
}

const char *users_check_currency(const char *s)
{
    return users_valid_currency(s)
               ? NULL
               : "must be an ISO 4217 code of three upper-case letters like EUR";
}
