# shellcheck shell=bash
# lib.sh - helpers shared by infra.sh, platform.sh and run-tests.sh.
#
# Source it (`. scripts/lib.sh`); it defines functions and a few constants and
# changes no shell option. Everything here identifies processes by pid (pid
# files we wrote ourselves, or postmaster.pid) and ports by number: nothing
# looks processes up by name, so a second copy of the platform (a test run
# beside the dev platform) or another user's servers are never touched.

[[ -n ${_ECOMMERCE_LIB:-} ]] && return 0
_ECOMMERCE_LIB=1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Start order of the services (the gateway last: it fronts the others).
SERVICES=(auth users catalog cart orders payments notifications realtime gateway)
# Services that own a PostgreSQL database (<NAME>_DATABASE_URL).
DB_SERVICES=(auth users catalog cart orders payments notifications realtime)

# ---------------------------------------------------------------- messages

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

# log_tail FILE [LINES] - show the end of a log file after a failure.
log_tail() {
  local file=$1 lines=${2:-40}
  if [[ -r $file ]]; then
    printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2 || true
    printf -- '-----\n' >&2
  else
    printf '(no log at %s)\n' "$file" >&2
  fi
}

# abs_path PATH - PATH made absolute; a relative PATH is relative to the repo
# root (the scripts always run from there), not to the caller's directory.
abs_path() {
  local p=$1
  [[ $p == /* ]] || p=$ROOT/$p
  # Normalise without requiring the path to exist.
  realpath -m -- "$p"
}

# ---------------------------------------------------------------- env files
#
# Format (shared with core/src/config.c's .env reader): KEY=VALUE per line,
# '#' comments, optional leading "export ", one pair of matching quotes around
# the value is removed, no escapes and no $expansion. We parse instead of
# `source` so a value is never executed.

# env_file_load FILE - export every KEY=VALUE of FILE (overriding the
# current environment: the file is the authority).
env_file_load() {
  local file=$1 line key val
  [[ -r $file ]] || die "env file not found: $file"
  while IFS= read -r line || [[ -n $line ]]; do
    _env_split_line "$line" || continue
    key=$_ENV_KEY val=$_ENV_VAL
    export "$key=$val"
  done <"$file"
}

# _env_split_line LINE - sets _ENV_KEY/_ENV_VAL; returns 1 for blank/comment.
_env_split_line() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  [[ -z $s || $s == '#'* ]] && return 1
  [[ $s == 'export '* ]] && s=${s#export } && s=${s#"${s%%[![:space:]]*}"}
  [[ $s == *=* ]] || return 1
  _ENV_KEY=${s%%=*}
  _ENV_KEY=${_ENV_KEY%"${_ENV_KEY##*[![:space:]]}"}
  [[ $_ENV_KEY =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || return 1
  _ENV_VAL=${s#*=}
  _ENV_VAL=${_ENV_VAL#"${_ENV_VAL%%[![:space:]]*}"}
  if [[ ${#_ENV_VAL} -ge 2 && (${_ENV_VAL:0:1} == '"' || ${_ENV_VAL:0:1} == "'") &&
    ${_ENV_VAL: -1} == "${_ENV_VAL:0:1}" ]]; then
    _ENV_VAL=${_ENV_VAL:1:${#_ENV_VAL}-2}
  fi
  return 0
}

# env_format KEY VALUE - one line the loader above (and a shell `source`)
# reads back as exactly VALUE: plain when safe, else in single quotes.
env_format() {
  local key=$1 val=$2
  if [[ $val =~ ^[A-Za-z0-9_./:@,%+=~-]*$ ]]; then
    printf '%s=%s\n' "$key" "$val"
  elif [[ $val != *"'"* ]]; then
    printf "%s='%s'\n" "$key" "$val"
  elif [[ $val != *'"'* && $val != *'$'* && $val != *'`'* && $val != *'\'* ]]; then
    printf '%s="%s"\n' "$key" "$val"
  else
    die "value of $key mixes quotes and shell characters; simplify it"
  fi
}

# write_platform_env ENV_FILE OFFSET VAR_DIR BIN_DIR [OVERRIDES_FILE|""] [KEY=VALUE...]
# - (re)write ENV_FILE atomically: scripts/env.sh's output, then BIN_DIR and
# the extra KEY=VALUE settings.
write_platform_env() {
  local file=$1 offset=$2 var_dir=$3 bin_dir=$4 overrides=${5:-} tmp kv
  shift 4
  (($# > 0)) && shift
  mkdir -p "$(dirname "$file")"
  tmp=$(mktemp "$file.XXXXXX")
  if ! "$ROOT/scripts/env.sh" "$offset" "$var_dir" ${overrides:+"$overrides"} >"$tmp"; then
    rm -f "$tmp"
    die "scripts/env.sh failed"
  fi
  env_format BIN_DIR "$bin_dir" >>"$tmp"
  for kv in "$@"; do env_format "${kv%%=*}" "${kv#*=}" >>"$tmp"; done
  mv -f "$tmp" "$file"
  log "wrote $file${overrides:+ (values from $overrides)}"
}

# ---------------------------------------------------------------- URLs

# url_parse URL - sets URL_USER URL_PASSWORD URL_HOST URL_PORT URL_PATH
# (path without the leading '/', query dropped); user and password are
# percent-decoded. Handles scheme://[user[:password]@]host[:port][/path].
url_parse() {
  local url=$1 rest auth hostport
  URL_USER='' URL_PASSWORD='' URL_HOST='' URL_PORT='' URL_PATH=''
  [[ $url == *://* ]] || return 1
  rest=${url#*://}
  rest=${rest%%\?*}
  hostport=${rest%%/*}
  [[ $rest == */* ]] && URL_PATH=${rest#*/}
  if [[ $hostport == *@* ]]; then
    auth=${hostport%@*}
    hostport=${hostport##*@}
    URL_USER=$(url_decode "${auth%%:*}")
    [[ $auth == *:* ]] && URL_PASSWORD=$(url_decode "${auth#*:}")
  fi
  URL_HOST=${hostport%:*}
  [[ $hostport == *:* ]] && URL_PORT=${hostport##*:}
  return 0
}

url_decode() {
  local s=$1
  if [[ $s == *%* ]]; then printf '%b' "${s//%/\\x}"; else printf '%s' "$s"; fi
}

# ---------------------------------------------------------------- processes

# pid_alive PID - true if PID runs and is not a zombie. (PID 1 here reaps
# orphans slowly: a zombie still answers kill -0.)
pid_alive() {
  local pid=$1 state
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  state=$(awk '/^State:/ {print $2; exit}' "/proc/$pid/status" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# pid_cmdline PID - the command line of PID, arguments separated by spaces.
pid_cmdline() {
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
}

# pidfile_pid FILE [PATTERN] - print the pid in FILE if that process is
# alive (and, if PATTERN is given, its command line contains PATTERN, which
# guards against a recycled pid). A stale pid file is removed. Returns 1 when
# nothing of ours runs.
pidfile_pid() {
  local file=$1 pattern=${2:-} pid
  [[ -f $file ]] || return 1
  pid=$(head -n1 "$file" 2>/dev/null | tr -dc 0-9)
  if [[ -n $pid ]] && pid_alive "$pid" &&
    { [[ -z $pattern ]] || [[ $(pid_cmdline "$pid") == *"$pattern"* ]]; }; then
    printf '%s\n' "$pid"
    return 0
  fi
  rm -f "$file"
  return 1
}

# A long-lived server must not keep open a file descriptor it inherited by
# accident (say the write end of the pipe a CI job or `make up | tee` reads
# until EOF): this snippet closes every fd above 2 before exec'ing "$@".
# shellcheck disable=SC2016 # expanded by the inner bash
CLOSE_FDS='for fd in /proc/self/fd/*; do fd=${fd##*/}; if ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || :; fi; done'

# run_clean_fds CMD... - run CMD with only stdin, stdout and stderr open.
run_clean_fds() {
  bash -c "$CLOSE_FDS"'; exec "$@"' run_clean_fds "$@"
}

# spawn_detached PIDFILE LOGFILE CMD... - run CMD in the current directory in
# its own session (setsid; SIGHUP ignored via nohup) so it outlives this
# shell, stdin from /dev/null, stdout+stderr appended to LOGFILE, no other fd.
# The child writes its own pid before exec'ing CMD, so PIDFILE holds the pid
# of CMD itself whatever setsid does. Returns once PIDFILE exists.
spawn_detached() {
  local pidfile=$1 logfile=$2 i
  shift 2
  rm -f "$pidfile"
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
  setsid nohup bash -c "$CLOSE_FDS"'; echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' \
    "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  for ((i = 0; i < 100; i++)); do
    [[ -s $pidfile ]] && return 0
    sleep 0.05
  done
  die "could not start $1 (no pid file $pidfile)"
}

# stop_pid PID NAME [TIMEOUT_S] [SIGNAL] [quiet] - send SIGNAL (default
# TERM), wait up to TIMEOUT_S (default 15, may be fractional) for the process
# to go, then SIGKILL it (with a warning unless "quiet").
# Returns 0 if it went by itself, 2 if it had to be killed.
stop_pid() {
  local pid=$1 name=$2 timeout=${3:-15} sig=${4:-TERM} quiet=${5:-} i tenths
  pid_alive "$pid" || return 0
  kill -s "$sig" "$pid" 2>/dev/null || true
  tenths=$(awk -v t="$timeout" 'BEGIN { printf "%d", t * 10 }')
  for ((i = 0; i < tenths; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  [[ $quiet == quiet ]] || warn "$name (pid $pid) still running after ${timeout}s: SIGKILL"
  kill -s KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$pid" || return 2
    sleep 0.1
  done
  warn "$name (pid $pid) survived SIGKILL"
  return 2
}

# ---------------------------------------------------------------- ports

# port_pids PORT - pids of the processes listening on TCP PORT (any address).
port_pids() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u
}

# port_listening PORT - true if anything listens on TCP PORT.
port_listening() {
  [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

# port_owned_by PORT PID - true if PID is one of the listeners of PORT.
port_owned_by() {
  port_pids "$1" | grep -qx "$2"
}

# port_describe PORT - "pid 123 (cmd...)" of the listeners, for messages.
port_describe() {
  local pid out=''
  for pid in $(port_pids "$1"); do
    out+="pid $pid ($(pid_cmdline "$pid" | cut -c1-80)) "
  done
  printf '%s\n' "${out:-an unknown process}"
}

# port_require_free PORT WHAT - fail with a clear message if PORT is taken.
port_require_free() {
  if port_listening "$1"; then
    printf 'ERROR: port %s (%s) is already in use by %s\n' "$1" "$2" "$(port_describe "$1")" >&2
    return 1
  fi
}

# wait_for_port_owner PORT PID TIMEOUT_S - wait until PID listens on PORT.
# Fails early if PID dies. (A readiness probe alone can be answered by
# another copy of the platform on the same port: this checks it is ours.)
wait_for_port_owner() {
  local port=$1 pid=$2 timeout=$3 i
  for ((i = 0; i < timeout * 10; i++)); do
    port_owned_by "$port" "$pid" && return 0
    pid_alive "$pid" || return 1
    sleep 0.1
  done
  return 1
}

# wait_for_http URL TIMEOUT_S [PID] - wait until URL answers 200. With PID,
# give up as soon as that process has died.
wait_for_http() {
  local url=$1 timeout=$2 pid=${3:-} code deadline
  deadline=$((SECONDS + timeout))
  while ((SECONDS < deadline)); do
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null) || true
    [[ $code == 200 ]] && return 0
    if [[ -n $pid ]] && ! pid_alive "$pid"; then return 1; fi
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- services
#
# A service is the binary BIN_DIR/<name>, run from the repo root (relative
# paths such as SWAGGER_UI_DIR and services/<name>/migrations resolve there)
# with the env file exported. Pid: VAR_DIR/run/<name>.pid, log (stdout and
# stderr, appended): VAR_DIR/log/<name>.log. Any ASAN_OPTIONS/UBSAN_OPTIONS in
# the caller's environment pass through.

# service_port_var NAME - the env variable holding the port of service NAME.
service_port_var() {
  if [[ $1 == gateway ]]; then echo GATEWAY_PORT; else echo "${1^^}_SERVICE_PORT"; fi
}

# services_start ENV_FILE BIN_DIR - start every service, then wait for each
# GET /ready == 200 (SERVICE_READY_TIMEOUT, default 60 s) on a port held by
# its own pid. ALLOW_MISSING=1 skips services whose binary is not built yet.
# On failure prints the log tail of the failing service and returns 1
# (services already started keep running: the caller stops them).
services_start() {
  local env_file=$1 bin_dir=$2 name bin port pid var_dir
  local timeout=${SERVICE_READY_TIMEOUT:-60}
  local -a started=()
  (
    env_file_load "$env_file"
    var_dir=$VAR_DIR
    mkdir -p "$var_dir/run" "$var_dir/log"
    cd "$ROOT"
    for name in "${SERVICES[@]}"; do
      bin=$bin_dir/$name
      if [[ ! -x $bin ]]; then
        if [[ ${ALLOW_MISSING:-0} == 1 ]]; then
          warn "service $name: $bin not built, skipped (ALLOW_MISSING=1)"
          continue
        fi
        die "service $name: $bin does not exist (build it, or ALLOW_MISSING=1 to skip)"
      fi
      var=$(service_port_var "$name")
      port=${!var:?$var missing in $env_file}
      if pid=$(pidfile_pid "$var_dir/run/$name.pid" "$bin"); then
        die "service $name already runs (pid $pid); stop it first"
      fi
      port_require_free "$port" "$name" || exit 1
      spawn_detached "$var_dir/run/$name.pid" "$var_dir/log/$name.log" "$bin"
      started+=("$name")
    done
    for name in "${started[@]}"; do
      var=$(service_port_var "$name")
      port=${!var}
      pid=$(<"$var_dir/run/$name.pid")
      if ! wait_for_http "http://127.0.0.1:$port/ready" "$timeout" "$pid"; then
        if pid_alive "$pid"; then
          printf 'ERROR: service %s (pid %s) did not answer GET /ready with 200 on port %s within %ss\n' \
            "$name" "$pid" "$port" "$timeout" >&2
        else
          printf 'ERROR: service %s (pid %s) exited during start-up\n' "$name" "$pid" >&2
        fi
        log_tail "$var_dir/log/$name.log"
        exit 1
      fi
      if ! port_owned_by "$port" "$pid"; then
        printf 'ERROR: port %s answers but is not held by %s (pid %s): %s\n' \
          "$port" "$name" "$pid" "$(port_describe "$port")" >&2
        exit 1
      fi
      log "$name ready on :$port (pid $pid)"
    done
  )
}

# services_stop VAR_DIR [TIMEOUT_S] - SIGTERM every running service at once
# (gateway first so it stops taking requests), wait up to TIMEOUT_S (default
# 20: sanitizer builds run their leak check at exit) and SIGKILL the rest.
# Returns 2 if some service had to be killed.
services_stop() {
  local var_dir=$1 timeout=${2:-20} name pid rc=0 i
  local -a names=() pids=()
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    name=${SERVICES[i]}
    if pid=$(pidfile_pid "$var_dir/run/$name.pid" "/$name"); then
      names+=("$name")
      pids+=("$pid")
      kill -s TERM "$pid" 2>/dev/null || true
    fi
  done
  for i in "${!names[@]}"; do
    stop_pid "${pids[i]}" "${names[i]}" "$timeout" TERM || rc=2
    rm -f "$var_dir/run/${names[i]}.pid"
    log "${names[i]} stopped"
  done
  return "$rc"
}

# services_status ENV_FILE - one line per service; returns 1 if any is down.
services_status() {
  local env_file=$1 name var port pid rc=0
  (
    env_file_load "$env_file"
    for name in "${SERVICES[@]}"; do
      var=$(service_port_var "$name")
      port=${!var:-?}
      if pid=$(pidfile_pid "$VAR_DIR/run/$name.pid" "/$name"); then
        printf '  %-14s running  pid %-7s port %s\n' "$name" "$pid" "$port"
      else
        printf '  %-14s stopped            port %s\n' "$name" "$port"
        rc=1
      fi
    done
    exit "$rc"
  )
}
