/*
 * sql.h - the JSON shape of each resource, built by PostgreSQL.
 *
 * Queries return one JSON text column made by json_build_object, so a
 * resource's wire format is written once here and every statement that
 * returns it (SELECT, UPDATE ... RETURNING, INSERT ... RETURNING) agrees.
 * json (not jsonb) keeps the members in this order. Aliases are fixed: p for
 * profiles, a for addresses, s for preferences.
 */
#ifndef USERS_SQL_H
#define USERS_SQL_H

/* UTC ISO 8601 with milliseconds, independent of the session's TimeZone. */
#define SQL_ISO_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* clang-format off */
#define SQL_PROFILE_JSON                                                                           \
    "json_build_object('id', p.id, 'email', p.email, 'firstName', p.first_name, "                  \
    "'lastName', p.last_name, 'phone', p.phone, 'avatarUrl', p.avatar_url, "                       \
    "'dateOfBirth', to_char(p.date_of_birth, 'YYYY-MM-DD'), 'role', p.role, "                      \
    "'emailVerified', p.email_verified, 'active', p.active, "                                      \
    "'deactivatedAt', " SQL_ISO_TS("p.deactivated_at") ", "                                        \
    "'createdAt', " SQL_ISO_TS("p.created_at") ", "                                                \
    "'updatedAt', " SQL_ISO_TS("p.updated_at") ")"
/* clang-format on */

#define SQL_ADDRESS_JSON                                                                           \
    "json_build_object('id', a.id, 'label', a.label, 'fullName', a.full_name, "                    \
    "'line1', a.line1, 'line2', a.line2, 'city', a.city, 'region', a.region, "                     \
    "'postalCode', a.postal_code, 'country', a.country, 'phone', a.phone, "                        \
    "'isDefaultShipping', a.is_default_shipping, 'isDefaultBilling', a.is_default_billing, "       \
    "'createdAt', " SQL_ISO_TS("a.created_at") ", 'updatedAt', " SQL_ISO_TS("a.updated_at") ")"

/* Preferences a user never saved read as these defaults (s is then the
 * all-NULL side of a LEFT JOIN): the only place the defaults live. */
#define SQL_PREFERENCES_JSON                                                                       \
    "json_build_object('language', coalesce(s.language, 'en'), "                                   \
    "'currency', coalesce(s.currency, 'USD'), "                                                    \
    "'notifications', json_build_object('email', coalesce(s.notify_email, true), "                 \
    "'sms', coalesce(s.notify_sms, false), 'push', coalesce(s.notify_push, false)), "              \
    "'marketingOptIn', coalesce(s.marketing_opt_in, false), "                                      \
    "'updatedAt', " SQL_ISO_TS("s.updated_at") ")"

/* In an UPDATE ... FROM (SELECT $n::jsonb AS b) i: the new value of 'col'
 * when the body has member 'key' (JSON null gives SQL NULL), else the old
 * one. Lets one static, parameterised statement apply any partial update. */
#define SQL_PATCH(alias, col, key, cast)                                                           \
    col " = CASE WHEN i.b ? '" key "' THEN (i.b->>'" key "')" cast " ELSE " alias "." col " END"

#endif
