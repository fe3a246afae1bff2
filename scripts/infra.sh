#!/usr/bin/env bash
# infra.sh COMMAND ENV_FILE - the platform's infrastructure as project-local
# processes (no systemd, no Docker): PostgreSQL 15, Redis 7, RabbitMQ 3.10 with
# its management UI, and the maildev mail sink.
#
# Commands:
#   start        start all four in parallel (each skipped if already ours and
#                running), wait until each answers on a port held by its own
#                pid, then create the per-service roles and databases
#   stop         stop all four by pid (graceful signal, SIGKILL after a timeout)
#   status       one line per server; exit 1 if one is down
#   start-redis  / stop-redis: only Redis (a test takes Redis away and back)
#   wipe         delete all data and logs of this copy (refuses while running)
#
# Everything comes from ENV_FILE (written by env.sh): ports, VAR_DIR, URLs.
# Layout under VAR_DIR:
#   pg/          PostgreSQL: data/ (the cluster), postgres.log, unix socket
#                (a symlink to /var/tmp/ecommerce-pg-<hash> when needed, see
#                pg_base below)
#   redis/       redis.conf, append-only file and dump
#   rabbitmq/    config, mnesia database, HOME with the Erlang cookie
#   maildev/     received mails
#   log/         redis.log rabbitmq.log rabbitmq/ (node logs) maildev.log
#                postgres.log (symlink)
#   run/         redis.pid rabbitmq.pid (the Erlang VM) rabbitmq-launcher.pid
#                maildev.pid; PostgreSQL keeps its pid in pg/data/postmaster.pid
#
# INFRA_FAST=1 (environment or ENV_FILE; run-tests.sh sets it) creates a new
# PostgreSQL cluster without durability (fsync=off, ...): for throw-away test
# data only. The setting is written into that cluster when it is created.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_BIN=/usr/lib/postgresql/15/bin
RABBIT_BIN=/usr/lib/rabbitmq/bin

usage() { die "usage: $0 {start|stop|status|start-redis|stop-redis|wipe} ENV_FILE"; }

# load_config ENV_FILE - read the env file and derive what the servers need.
load_config() {
  env_file_load "$1"
  [[ ${VAR_DIR:-} == /* ]] || die "VAR_DIR in $1 must be an absolute path"
  RUN=$VAR_DIR/run
  LOGS=$VAR_DIR/log
  PG_PORT=${POSTGRES_PORT:?}
  url_parse "${POSTGRES_URL:?}"
  PG_SUPER_PASSWORD=$URL_PASSWORD
  url_parse "${REDIS_URL:?}"
  REDIS_PORT=${URL_PORT:-6379}
  REDIS_PASSWORD=$URL_PASSWORD
  url_parse "${RABBITMQ_URL:?}"
  AMQP_PORT=${URL_PORT:-5672}
  RABBIT_USER=${URL_USER:-guest}
  RABBIT_PASSWORD=${URL_PASSWORD:-guest}
  RABBIT_VHOST=$(url_decode "${URL_PATH:-}")
  RABBIT_VHOST=${RABBIT_VHOST:-/}
  MGMT_PORT=${RABBITMQ_MANAGEMENT_PORT:?}
  DIST_PORT=${RABBITMQ_DIST_PORT:?}
  SMTP_PORT=${SMTP_PORT:?}
  MAIL_WEB_PORT=${MAILDEV_WEB_PORT:?}
  # Unique per copy: the node name is how Erlang tells two brokers apart.
  RABBIT_NODE=rabbit-$AMQP_PORT@localhost
  FAST=${INFRA_FAST:-0}
}

require_tools() {
  local t missing=()
  for t in runuser setsid ss curl "$PG_BIN/pg_ctl" "$PG_BIN/initdb" psql pg_isready \
    redis-server redis-cli "$RABBIT_BIN/rabbitmq-server" "$RABBIT_BIN/rabbitmqctl" epmd \
    "$ROOT/node_modules/.bin/maildev"; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  id postgres >/dev/null 2>&1 || missing+=("OS user postgres")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} - run scripts/deps.sh"
}

# elapsed T0 - seconds since T0 (from now_s) with one decimal.
now_s() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; }

# ================================================================ PostgreSQL
#
# PostgreSQL refuses to run as root, so the cluster runs as the `postgres` OS
# user, which needs search (x) permission on every folder above its data dir.
# A checkout under /root (mode 700) does not give that. Rather than loosening
# permissions of the user's folders (chmod o+x /root would be a surprise), the
# cluster then lives in /var/tmp/ecommerce-pg-<hash of VAR_DIR> (/var/tmp is
# world-traversable and, unlike /tmp, survives a reboot), and VAR_DIR/pg is a
# symlink to it, so `ls var/dev/pg` still finds it. The same fallback applies
# when VAR_DIR/pg would be too long for a unix socket path (~107 bytes).
# The decision is made once, when VAR_DIR/pg is first created.

pg_base() {
  local link=$VAR_DIR/pg fallback hash
  if [[ -L $link ]]; then
    fallback=$(readlink "$link")
    pg_check_fallback "$fallback"
    printf '%s\n' "$fallback"
    return
  fi
  if [[ -d $link ]]; then
    printf '%s\n' "$link"
    return
  fi
  mkdir -p "$VAR_DIR"
  if runuser -u postgres -- test -x "$VAR_DIR" 2>/dev/null && ((${#link} + 22 <= 100)); then
    install -d -o postgres -g postgres -m 0750 "$link"
    printf '%s\n' "$link"
    return
  fi
  hash=$(printf '%s' "$VAR_DIR" | sha256sum | cut -c1-12)
  fallback=/var/tmp/ecommerce-pg-$hash
  pg_check_fallback "$fallback"
  ln -sfn "$fallback" "$link"
  log "postgres: $VAR_DIR is not reachable by the postgres user; data in $fallback (symlink $link)" >&2
  printf '%s\n' "$fallback"
}

# The fallback sits in a world-writable folder: use it only if it is a real
# folder of the postgres user (not something another user planted).
pg_check_fallback() {
  local dir=$1
  if [[ ! -e $dir ]]; then
    install -d -o postgres -g postgres -m 0750 "$dir"
  fi
  [[ -d $dir && ! -L $dir && $(stat -c %U "$dir") == postgres ]] ||
    die "$dir exists but is not a folder owned by postgres; remove it"
}

pg_as_postgres() { (cd / && runuser -u postgres -- "$@"); }

# pg_pid - pid of our postmaster (first line of postmaster.pid) if it runs.
pg_pid() {
  local f=$PG_DATA/postmaster.pid pid
  [[ -f $f ]] || return 1
  pid=$(head -n1 "$f" | tr -dc 0-9)
  [[ -n $pid ]] && pid_alive "$pid" && [[ $(pid_cmdline "$pid") == *postgres* ]] && printf '%s\n' "$pid"
}

pg_paths() {
  PG_BASE=$(pg_base)
  PG_DATA=$PG_BASE/data
}

pg_initdb() {
  local pwfile=$PG_BASE/initdb.pw
  log "postgres: creating cluster in $PG_DATA$([[ $FAST == 1 ]] && echo ' (INFRA_FAST: no durability)')"
  (umask 077 && printf '%s\n' "${PG_SUPER_PASSWORD:-postgres}" >"$pwfile")
  chown postgres:postgres "$pwfile"
  if ! pg_as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$PG_BASE/initdb.log" 2>&1; then
    rm -f "$pwfile"
    log_tail "$PG_BASE/initdb.log"
    return 1
  fi
  rm -f "$pwfile"
  {
    echo
    echo "# Added by scripts/infra.sh: port, addresses and socket (rewritten at each start)"
    echo "include_if_exists = 'platform.conf'"
    echo "include_if_exists = 'fast.conf'"
  } >>"$PG_DATA/postgresql.conf"
  if [[ $FAST == 1 ]]; then
    # Test data only: a crash may lose or corrupt it, and the tests recreate it.
    printf '%s\n' "# INFRA_FAST=1: throw-away test cluster, no durability" \
      "fsync = off" "synchronous_commit = off" "full_page_writes = off" \
      "wal_level = minimal" "max_wal_senders = 0" >"$PG_DATA/fast.conf"
    chown postgres:postgres "$PG_DATA/fast.conf"
  fi
}

start_postgres() {
  local pid t0
  t0=$(now_s)
  pg_paths
  if pid=$(pg_pid) && port_owned_by "$PG_PORT" "$pid"; then
    log "postgres already running (pid $pid, port $PG_PORT)"
  else
    port_require_free "$PG_PORT" postgres || return 1
    [[ -f $PG_DATA/PG_VERSION ]] || pg_initdb || return 1
    printf '%s\n' "# Written by scripts/infra.sh at each start" "port = $PG_PORT" \
      "listen_addresses = '127.0.0.1'" "unix_socket_directories = '$PG_BASE'" \
      >"$PG_DATA/platform.conf"
    chown postgres:postgres "$PG_DATA/platform.conf"
    ln -sfn "$PG_BASE/postgres.log" "$LOGS/postgres.log"
    # pg_ctl -w returns when the server accepts connections, or fails if the
    # postmaster died; setsid keeps it out of the caller's terminal signals.
    if ! run_clean_fds setsid -w runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" \
      -l "$PG_BASE/postgres.log" -w -t 60 start >/dev/null 2>&1 </dev/null; then
      echo "ERROR: postgres did not start" >&2
      log_tail "$PG_BASE/postgres.log"
      return 1
    fi
    pid=$(pg_pid) || {
      echo "ERROR: postgres started but postmaster.pid names no live process" >&2
      return 1
    }
  fi
  if ! wait_for_port_owner "$PG_PORT" "$pid" 10 ||
    ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 10; then
    echo "ERROR: postgres pid $pid does not answer on port $PG_PORT ($(port_describe "$PG_PORT"))" >&2
    log_tail "$PG_BASE/postgres.log"
    return 1
  fi
  pg_provision || return 1
  log "postgres ready on 127.0.0.1:$PG_PORT (pid $pid, data $PG_DATA) in $(elapsed "$t0")s"
}

# Roles and databases, idempotently, with the same script the Docker setup
# uses (deploy/postgres-init.sh reads the <SVC>_DATABASE_URL variables, which
# are exported from the env file). It runs as root through the unix socket,
# where the superuser is trusted: so it can also (re)set the superuser
# password from POSTGRES_URL.
pg_provision() {
  if ! PGHOST=$PG_BASE PGPORT=$PG_PORT POSTGRES_USER=postgres POSTGRES_DB=postgres \
    POSTGRES_SUPERUSER_PASSWORD=$PG_SUPER_PASSWORD DB_SERVICES="${DB_SERVICES[*]}" \
    bash "$ROOT/deploy/postgres-init.sh" >>"$PG_BASE/provision.log" 2>&1; then
    echo "ERROR: creating the service roles and databases failed" >&2
    log_tail "$PG_BASE/provision.log" 20
    return 1
  fi
}

stop_postgres() {
  local pid
  pg_paths
  pid=$(pg_pid) || {
    log "postgres not running"
    return 0
  }
  # SIGINT is PostgreSQL's "fast" shutdown: abort sessions, checkpoint, exit.
  stop_pid "$pid" postgres 30 INT || true
  log "postgres stopped"
}

status_postgres() {
  local pid
  pg_paths
  if pid=$(pg_pid); then
    printf '  %-14s running  pid %-7s port %s  data %s\n' postgres "$pid" "$PG_PORT" "$PG_DATA"
  else
    printf '  %-14s stopped            port %s\n' postgres "$PG_PORT"
    return 1
  fi
}

# ================================================================ Redis

redis_pid() { pidfile_pid "$RUN/redis.pid" redis-server; }

redis_ping() {
  REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -qx PONG
}

start_redis() {
  local pid dir=$VAR_DIR/redis i t0
  t0=$(now_s)
  if pid=$(redis_pid) && port_owned_by "$REDIS_PORT" "$pid"; then
    log "redis already running (pid $pid, port $REDIS_PORT)"
    return 0
  fi
  port_require_free "$REDIS_PORT" redis || return 1
  mkdir -p "$dir"
  # Foreground (daemonize no) so our pid file holds the server's own pid.
  {
    echo "# Written by scripts/infra.sh at each start"
    echo "bind 127.0.0.1"
    echo "port $REDIS_PORT"
    echo "dir \"$dir\""
    echo "daemonize no"
    echo 'logfile ""'
    echo "appendonly yes"
    echo "appendfsync everysec"
    [[ -n $REDIS_PASSWORD ]] && echo "requirepass \"$REDIS_PASSWORD\""
  } >"$dir/redis.conf"
  spawn_detached "$RUN/redis.pid" "$LOGS/redis.log" redis-server "$dir/redis.conf"
  pid=$(<"$RUN/redis.pid")
  # PONG (not -LOADING) once the data set is loaded.
  for ((i = 0; i < 200; i++)); do
    redis_ping && break
    pid_alive "$pid" || break
    sleep 0.05
  done
  if ! redis_ping || ! port_owned_by "$REDIS_PORT" "$pid"; then
    echo "ERROR: redis (pid $pid) not ready on port $REDIS_PORT ($(port_describe "$REDIS_PORT"))" >&2
    log_tail "$LOGS/redis.log"
    return 1
  fi
  log "redis ready on 127.0.0.1:$REDIS_PORT (pid $pid) in $(elapsed "$t0")s"
}

stop_redis() {
  local pid
  pid=$(redis_pid) || {
    log "redis not running"
    return 0
  }
  stop_pid "$pid" redis 15 TERM || true
  rm -f "$RUN/redis.pid"
  log "redis stopped"
}

status_redis() {
  local pid
  if pid=$(redis_pid); then
    printf '  %-14s running  pid %-7s port %s\n' redis "$pid" "$REDIS_PORT"
  else
    printf '  %-14s stopped            port %s\n' redis "$REDIS_PORT"
    return 1
  fi
}

# ================================================================ RabbitMQ
#
# The /usr/sbin wrappers switch to the rabbitmq user and /var/lib/rabbitmq:
# we run the scripts of /usr/lib/rabbitmq/bin as root instead, with every
# path, port and the node name pointed into VAR_DIR (notes/local-infrastructure.md).

rabbit_env() {
  local r=$VAR_DIR/rabbitmq
  export PATH=$RABBIT_BIN:$PATH
  export HOME=$r/home # the Erlang cookie lives in $HOME/.erlang.cookie
  export RABBITMQ_NODENAME=$RABBIT_NODE
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$AMQP_PORT
  export RABBITMQ_DIST_PORT=$DIST_PORT
  export RABBITMQ_CONF_ENV_FILE=$r/rabbitmq-env.conf # else /etc/rabbitmq/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$r/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$r/advanced.config
  export RABBITMQ_ENABLED_PLUGINS_FILE=$r/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$r/mnesia
  export RABBITMQ_LOG_BASE=$LOGS/rabbitmq
  export RABBITMQ_PID_FILE=$RUN/rabbitmq.pid
  export ERL_EPMD_ADDRESS=127.0.0.1
  # Else the distribution port listens on 0.0.0.0.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

rabbit_write_config() {
  local r=$VAR_DIR/rabbitmq cookie
  mkdir -p "$r/home" "$r/mnesia" "$LOGS/rabbitmq"
  : >"$r/rabbitmq-env.conf"
  [[ -f $r/advanced.config ]] || echo '[].' >"$r/advanced.config"
  echo '[rabbitmq_management].' >"$r/enabled_plugins"
  {
    echo "# Written by scripts/infra.sh at each start"
    echo "listeners.tcp.default = 127.0.0.1:$AMQP_PORT"
    echo "management.tcp.ip = 127.0.0.1"
    echo "management.tcp.port = $MGMT_PORT"
    echo "disk_free_limit.absolute = 50MB"
    # Used only when the node creates its database (first start).
    echo "default_user = $RABBIT_USER"
    echo "default_pass = $RABBIT_PASSWORD"
    echo "default_vhost = $RABBIT_VHOST"
  } >"$r/rabbitmq.conf"
  if [[ ! -s $r/home/.erlang.cookie ]]; then
    cookie=$(head -c 30 /dev/urandom | sha256sum | tr -dc A-Z0-9a-z | head -c 32)
    (umask 077 && printf '%s' "$cookie" >"$r/home/.erlang.cookie")
    chmod 400 "$r/home/.erlang.cookie"
  fi
}

rabbit_pid() { pidfile_pid "$RUN/rabbitmq.pid" beam; }
rabbit_launcher_pid() { pidfile_pid "$RUN/rabbitmq-launcher.pid" rabbitmq-server; }

start_rabbitmq() {
  local pid launcher waiter t0 p deadline ok=0
  t0=$(now_s)
  if pid=$(rabbit_pid) && port_owned_by "$AMQP_PORT" "$pid"; then
    log "rabbitmq already running (pid $pid, port $AMQP_PORT)"
    return 0
  fi
  # A taken dist port makes the node die while `rabbitmqctl wait` sits out
  # its whole timeout: check every port first.
  for p in "$AMQP_PORT" "$MGMT_PORT" "$DIST_PORT"; do
    port_require_free "$p" rabbitmq || return 1
  done
  rabbit_write_config
  rm -f "$RUN/rabbitmq.pid"
  (
    rabbit_env
    # The script stays as a small shell parent of the Erlang VM (it turns
    # SIGTERM into a clean stop); the VM writes its own pid to rabbitmq.pid.
    spawn_detached "$RUN/rabbitmq-launcher.pid" "$LOGS/rabbitmq.log" rabbitmq-server
  )
  launcher=$(<"$RUN/rabbitmq-launcher.pid")
  (
    rabbit_env
    exec rabbitmqctl -q wait "$RUN/rabbitmq.pid" --timeout 120 >>"$LOGS/rabbitmq.log" 2>&1
  ) &
  waiter=$!
  # Wait for `rabbitmqctl wait`, but give up at once if the broker dies.
  deadline=$((SECONDS + 125))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$waiter" 2>/dev/null; then
      wait "$waiter" && ok=1
      break
    fi
    if ! pid_alive "$launcher"; then
      kill "$waiter" 2>/dev/null || true
      wait "$waiter" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  if ((ok)) && pid=$(rabbit_pid) && wait_for_port_owner "$AMQP_PORT" "$pid" 10 &&
    wait_for_port_owner "$MGMT_PORT" "$pid" 20; then
    log "rabbitmq ready on 127.0.0.1:$AMQP_PORT, management :$MGMT_PORT (pid $pid, node $RABBIT_NODE) in $(elapsed "$t0")s"
    return 0
  fi
  kill "$waiter" 2>/dev/null || true
  echo "ERROR: rabbitmq did not start (node $RABBIT_NODE, ports $AMQP_PORT/$MGMT_PORT/$DIST_PORT)" >&2
  log_tail "$LOGS/rabbitmq.log"
  for p in "$LOGS/rabbitmq/$RABBIT_NODE.log"; do [[ -f $p ]] && log_tail "$p" 20; done
  return 1
}

stop_rabbitmq() {
  local pid launcher
  pid=$(rabbit_pid) || pid=''
  launcher=$(rabbit_launcher_pid) || launcher=''
  if [[ -z $pid && -z $launcher ]]; then
    log "rabbitmq not running"
  else
    # SIGTERM makes the VM stop the broker cleanly (as `rabbitmqctl stop`).
    # The broker itself is down within ~20 ms (listeners closed, message
    # stores flushed: see its log), but the Erlang VM then takes ~6 s more
    # to halt. For a throw-away test copy (INFRA_FAST=1) we do not wait for
    # that: SIGKILL after a short grace (the notes: the next start recovers).
    if [[ -n $pid ]]; then
      if [[ $FAST == 1 ]]; then
        stop_pid "$pid" rabbitmq 1.5 TERM quiet || true
      else
        stop_pid "$pid" rabbitmq 30 TERM || true
      fi
    fi
    [[ -n $launcher ]] && { stop_pid "$launcher" rabbitmq-launcher 5 TERM || true; }
    log "rabbitmq stopped"
  fi
  rm -f "$RUN/rabbitmq.pid" "$RUN/rabbitmq-launcher.pid"
  epmd_stop_if_unused
}

# The node started epmd (the Erlang port mapper, 4369, shared by every Erlang
# node of the host). Leave it to other nodes (the other copy of the platform)
# while any is registered; else ask it to exit.
epmd_stop_if_unused() {
  local names
  names=$(ERL_EPMD_ADDRESS=127.0.0.1 epmd -names 2>/dev/null) || return 0
  if ! grep -q '^name ' <<<"$names"; then
    epmd -kill >/dev/null 2>&1 || true
  fi
}

status_rabbitmq() {
  local pid
  if pid=$(rabbit_pid); then
    printf '  %-14s running  pid %-7s port %s  management %s  node %s\n' rabbitmq "$pid" "$AMQP_PORT" "$MGMT_PORT" "$RABBIT_NODE"
  else
    printf '  %-14s stopped            port %s  management %s\n' rabbitmq "$AMQP_PORT" "$MGMT_PORT"
    return 1
  fi
}

# ================================================================ maildev

maildev_pid() { pidfile_pid "$RUN/maildev.pid" maildev; }

start_maildev() {
  local pid t0
  t0=$(now_s)
  if pid=$(maildev_pid) && port_owned_by "$SMTP_PORT" "$pid"; then
    log "maildev already running (pid $pid, port $SMTP_PORT)"
    return 0
  fi
  port_require_free "$SMTP_PORT" "maildev SMTP" || return 1
  port_require_free "$MAIL_WEB_PORT" "maildev web" || return 1
  mkdir -p "$VAR_DIR/maildev"
  spawn_detached "$RUN/maildev.pid" "$LOGS/maildev.log" "$ROOT/node_modules/.bin/maildev" \
    --smtp "$SMTP_PORT" --ip 127.0.0.1 --web "$MAIL_WEB_PORT" --web-ip 127.0.0.1 \
    --mail-directory "$VAR_DIR/maildev"
  pid=$(<"$RUN/maildev.pid")
  if ! wait_for_http "http://127.0.0.1:$MAIL_WEB_PORT/api/healthz" 30 "$pid" ||
    ! port_owned_by "$MAIL_WEB_PORT" "$pid" || ! wait_for_port_owner "$SMTP_PORT" "$pid" 5; then
    echo "ERROR: maildev (pid $pid) not ready on ports $SMTP_PORT/$MAIL_WEB_PORT" >&2
    log_tail "$LOGS/maildev.log"
    return 1
  fi
  log "maildev ready: SMTP 127.0.0.1:$SMTP_PORT, web :$MAIL_WEB_PORT (pid $pid) in $(elapsed "$t0")s"
}

stop_maildev() {
  local pid
  pid=$(maildev_pid) || {
    log "maildev not running"
    return 0
  }
  stop_pid "$pid" maildev 10 TERM || true
  rm -f "$RUN/maildev.pid"
  log "maildev stopped"
}

status_maildev() {
  local pid
  if pid=$(maildev_pid); then
    printf '  %-14s running  pid %-7s smtp %s  web %s\n' maildev "$pid" "$SMTP_PORT" "$MAIL_WEB_PORT"
  else
    printf '  %-14s stopped            smtp %s  web %s\n' maildev "$SMTP_PORT" "$MAIL_WEB_PORT"
    return 1
  fi
}

# ================================================================ commands

COMPONENTS=(postgres redis rabbitmq maildev)

# in_parallel ACTION - run ACTION_<component> for all components at once;
# fails if one failed.
in_parallel() {
  local action=$1 c failed=()
  local -A jobs=()
  for c in "${COMPONENTS[@]}"; do
    "${action}_$c" &
    jobs[$c]=$!
  done
  for c in "${COMPONENTS[@]}"; do
    wait "${jobs[$c]}" || failed+=("$c")
  done
  if ((${#failed[@]})); then
    echo "ERROR: $action failed for: ${failed[*]}" >&2
    return 1
  fi
}

cmd_start() {
  local t0
  t0=$(now_s)
  require_tools
  mkdir -p "$RUN" "$LOGS"
  in_parallel start || return 1
  log "infrastructure up in $(elapsed "$t0")s ($VAR_DIR)"
}

cmd_stop() {
  local t0
  t0=$(now_s)
  in_parallel stop || return 1
  log "infrastructure stopped in $(elapsed "$t0")s"
}

cmd_status() {
  local c rc=0
  for c in "${COMPONENTS[@]}"; do "status_$c" || rc=1; done
  return "$rc"
}

cmd_wipe() {
  local c target
  for c in "${COMPONENTS[@]}"; do
    if "status_$c" >/dev/null; then die "$c still runs: stop it before wiping $VAR_DIR"; fi
  done
  # Refuse obviously wrong targets before an rm -rf.
  case $VAR_DIR in
  / | /root | /home | /tmp | /var | /var/tmp | /work | "$ROOT" | "${HOME:-/}") die "refusing to wipe $VAR_DIR" ;;
  esac
  [[ $VAR_DIR == /*/*/* ]] || die "refusing to wipe $VAR_DIR (too close to /)"
  if [[ -L $VAR_DIR/pg ]]; then
    target=$(readlink "$VAR_DIR/pg")
    [[ $target == /var/tmp/ecommerce-pg-* ]] && rm -rf -- "$target"
  fi
  rm -rf -- "$VAR_DIR"
  log "wiped $VAR_DIR"
}

main() {
  [[ $# -eq 2 ]] || usage
  local cmd=$1
  load_config "$2"
  case $cmd in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  start-redis) mkdir -p "$RUN" "$LOGS" && start_redis ;;
  stop-redis) stop_redis ;;
  wipe) cmd_wipe ;;
  *) usage ;;
  esac
}

main "$@"
