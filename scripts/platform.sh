#!/usr/bin/env bash
# platform.sh {up|down|status} - the development platform (`make up`/`make down`).
#
#   up      write var/dev/platform.env (scripts/env.sh, port offset 0), start
#           the infrastructure (scripts/infra.sh start), then the nine services
#           from build/release/bin in order, wait for each GET /ready == 200,
#           and print the URLs. On a platform that is already up, the
#           infrastructure keeps running and the services are restarted (so
#           `make up` after a rebuild runs the new binaries).
#   down    stop the services (SIGTERM, by pid), then the infrastructure.
#   status  one line per server and service; exit 1 if something is down.
#
# Configuration: if the repo has a .env file, its values replace the generated
# ones in platform.env, except the ports (the *_PORT keys always come from
# .env.example, so the port table in the README holds). The services also read
# that .env themselves for any key the environment leaves unset.
#
# Environment: BIN_DIR (default build/release/bin), ALLOW_MISSING=1 (skip
# services not built yet, with a warning), SERVICE_READY_TIMEOUT (default 60 s).
# Files: var/dev/platform.env, var/dev/log/<name>.log, var/dev/run/<name>.pid.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OFFSET=0
VAR_DIR=$(abs_path var/dev)
BIN_DIR=$(abs_path "${BIN_DIR:-build/release/bin}")
ENV_FILE=$VAR_DIR/platform.env
INFRA=$ROOT/scripts/infra.sh

write_env() {
  local overrides=''
  [[ -f $ROOT/.env ]] && overrides=$ROOT/.env
  write_platform_env "$ENV_FILE" "$OFFSET" "$VAR_DIR" "$BIN_DIR" "$overrides"
}

print_urls() {
  (
    env_file_load "$ENV_FILE"
    local h=127.0.0.1 name var
    url_parse "$RABBITMQ_URL"
    local ruser=${URL_USER:-guest} rpass=${URL_PASSWORD:-guest}
    url_parse "$POSTGRES_URL"
    cat <<EOF

The platform is up.
  Gateway (API)      http://$h:$GATEWAY_PORT
  API docs           http://$h:$GATEWAY_PORT/docs  (merged; each service also serves /docs)
EOF
    for name in "${SERVICES[@]}"; do
      [[ $name == gateway ]] && continue
      var=$(service_port_var "$name")
      printf '  %-18s http://%s:%s  (/health /ready /metrics /docs)\n' "$name" "$h" "${!var}"
    done
    cat <<EOF
  RabbitMQ UI        http://$h:$RABBITMQ_MANAGEMENT_PORT  ($ruser/$rpass)
  Mail (maildev)     http://$h:$MAILDEV_WEB_PORT  (SMTP $h:$SMTP_PORT)
  PostgreSQL         $h:$POSTGRES_PORT  (superuser $URL_USER/$URL_PASSWORD; one database and role per service)
  Redis              $REDIS_URL
  Logs               $VAR_DIR/log/   pids: $VAR_DIR/run/   settings: $ENV_FILE
Stop everything with: make down
EOF
  )
}

cmd_up() {
  local t0=$SECONDS
  write_env
  "$INFRA" start "$ENV_FILE"
  # Restart semantics: stop services of a previous `up` (by pid) first.
  services_stop "$VAR_DIR" || true
  services_start "$ENV_FILE" "$BIN_DIR" || {
    echo "ERROR: the platform did not come up; \`make down\` stops what did start" >&2
    exit 1
  }
  log "platform up in $((SECONDS - t0))s"
  print_urls
}

cmd_down() {
  [[ -f $ENV_FILE ]] || write_env
  services_stop "$VAR_DIR" || true
  "$INFRA" stop "$ENV_FILE"
}

cmd_status() {
  local rc=0
  if [[ ! -f $ENV_FILE ]]; then
    echo "not started (no $ENV_FILE)"
    return 1
  fi
  echo "infrastructure ($VAR_DIR):"
  "$INFRA" status "$ENV_FILE" || rc=1
  echo "services:"
  services_status "$ENV_FILE" || rc=1
  return "$rc"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*) die "usage: $0 {up|down|status}" ;;
esac
