#!/usr/bin/env bash
# postgres-init.sh - create one role and one database per service, idempotently.
#
# Used in two places, so there is one implementation:
#   - docker-compose mounts it into the postgres image's
#     /docker-entrypoint-initdb.d (run once, on the first start);
#   - scripts/infra.sh runs it after each start of the local PostgreSQL.
# Input (environment):
#   <SVC>_DATABASE_URL   postgresql://user:password@host:port/dbname for each
#                        service of DB_SERVICES: the role (LOGIN, that
#                        password) and the database it owns.
#   DB_SERVICES          default: auth users catalog cart orders payments
#                        notifications realtime
#   POSTGRES_USER, POSTGRES_DB   superuser and database to connect as/to;
#                        PGHOST/PGPORT as usual for psql.
#   POSTGRES_SUPERUSER_PASSWORD  if set, the superuser's password is set to it.
# Other roles lose CONNECT on each service database: a service never reads
# another's tables.
set -euo pipefail

services=${DB_SERVICES:-auth users catalog cart orders payments notifications realtime}

url_decode() {
  local s=$1
  if [[ $s == *%* ]]; then printf '%b' "${s//%/\\x}"; else printf '%s' "$s"; fi
}

# psql_admin ARGS... - psql as the superuser, stop at the first error.
psql_admin() {
  psql -X -q -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" \
    --dbname "${POSTGRES_DB:-postgres}" "$@"
}

if [[ -n ${POSTGRES_SUPERUSER_PASSWORD:-} ]]; then
  psql_admin -v su="${POSTGRES_USER:-postgres}" -v pw="$POSTGRES_SUPERUSER_PASSWORD" <<'SQL'
ALTER ROLE :"su" WITH PASSWORD :'pw';
SQL
fi

for svc in $services; do
  var=${svc^^}_DATABASE_URL
  url=${!var:-}
  if [[ -z $url ]]; then
    echo "postgres-init: $var is not set, skipping $svc" >&2
    continue
  fi
  # postgresql://user:password@host:port/dbname?params
  rest=${url#*://}
  auth=${rest%%@*}
  db=${rest#*@}
  db=${db#*/}
  db=${db%%\?*}
  user=$(url_decode "${auth%%:*}")
  password=$(url_decode "${auth#*:}")
  if [[ $rest != *@* || $auth != *:* || -z $user || -z $password || -z $db ]]; then
    echo "postgres-init: cannot read user, password and database from $var" >&2
    exit 1
  fi
  # One statement per transaction (script mode): CREATE DATABASE cannot run
  # inside a transaction block; \gexec runs the generated statement.
  psql_admin -v u="$user" -v p="$password" -v d="$db" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH LOGIN PASSWORD :'p';
SELECT format('CREATE DATABASE %I OWNER %I', :'d', :'u')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'d') \gexec
ALTER DATABASE :"d" OWNER TO :"u";
REVOKE CONNECT ON DATABASE :"d" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"d" TO :"u";
SQL
  echo "postgres-init: role and database $db ready for $svc"
done
