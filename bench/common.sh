# shellcheck shell=bash source-path=SCRIPTDIR
# common.sh - helpers shared by bench/gateway.sh and bench/auth.sh (and
# bench/rss.sh for the platform check). Source it; it sources scripts/lib.sh
# (pid and port helpers, env file reader) and changes no shell option.
#
# The benchmarks run against the dev platform of `make up` (ports 3000-3008)
# and start their own processes on 3900-3999 only, so that they never touch
# the platform's processes or those of a test run on shifted ports. Every
# process started here is stopped by pid (bench_cleanup, from a trap).

[[ -n ${_ECOMMERCE_BENCH:-} ]] && return 0
_ECOMMERCE_BENCH=1

# shellcheck source=../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

DEV_ENV=$ROOT/var/dev/platform.env
BENCH_VAR=$ROOT/var/bench
BENCH_GATEWAY_PORT=${BENCH_GATEWAY_PORT:-3900}

# ---------------------------------------------------------------- platform

# bench_require_platform - exit 2 with advice unless the dev platform answers
# (the users service's /health on 3002 is the probe the brief asks for).
bench_require_platform() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' http://127.0.0.1:3002/health 2>/dev/null) || true
  if [[ $code != 200 || ! -r $DEV_ENV ]]; then
    printf 'ERROR: the dev platform is not running (GET http://127.0.0.1:3002/health -> %s).\n' "${code:-no answer}" >&2
    printf '%s\n' "Start it with \`make up\` (from the repository root), then run this again." >&2
    exit 2
  fi
}

# bench_print_conditions - the machine and its load: the figures are only
# comparable with each other when the load average is low.
bench_print_conditions() {
  local load cores
  cores=$(nproc)
  load=$(cut -d' ' -f1 /proc/loadavg)
  printf '# %s  host %s  %s CPU cores\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(hostname)" "$cores"
  printf '# uptime: %s\n' "$(uptime)"
  if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > c / 2) }'; then
    printf '# NOTE: load average %s on %s cores: other work shares the CPUs, the figures are NOISY.\n' "$load" "$cores"
  fi
}

# ---------------------------------------------------------------- tools

# bench_need_tool CMD PACKAGE... - install the first PACKAGE that apt knows
# when CMD is missing. The same guard as scripts/deps.sh: a policy-rc.d that
# forbids starting services, so installing nginx does not start the system
# nginx on port 80 (we only ever run nginx with our own config).
bench_need_tool() {
  local cmd=$1 pkg policy=/usr/sbin/policy-rc.d ours=0 rc=1
  shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  ((EUID == 0)) || die "$cmd is missing; install one of: $* (as root)"
  log "installing $cmd ($*)"
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# bench: no service starts during install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=1
  fi
  apt-get update -q >/dev/null || true
  for pkg in "$@"; do
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg"; then
      rc=0
      break
    fi
  done
  ((ours)) && rm -f "$policy"
  if ((rc != 0)) || ! command -v "$cmd" >/dev/null 2>&1; then
    die "could not install $cmd"
  fi
}

# ---------------------------------------------------------------- processes

BENCH_PIDS=()

# bench_track PID NAME - stop PID (by pid, never by name: other copies of the
# same binaries run on this machine) when the script exits.
bench_track() { BENCH_PIDS+=("$1:$2"); }

bench_cleanup() {
  local entry
  for entry in ${BENCH_PIDS[@]+"${BENCH_PIDS[@]}"}; do
    stop_pid "${entry%%:*}" "${entry#*:}" 10 TERM || true
  done
  BENCH_PIDS=()
}

# bench_start_gateway - start our own gateway (build/release/bin/gateway) on
# BENCH_GATEWAY_PORT with the dev platform's settings, so it proxies to the
# same services as the platform's gateway on 3000 but can be tuned for the
# benchmark without restarting the platform:
#   LOG_LEVEL=warn            no access log line per request (see
#                             services/gateway/access_log.c: only 5xx lines pass)
#   GATEWAY_THREADS=2         one event loop per core, = nginx worker_processes
#   RATE_LIMIT_ENABLED=false  a rate limit would turn the load into 429s
# BENCH_GATEWAY_ENV="KEY=VALUE ..." adds or overrides settings (to try e.g.
# GATEWAY_REUSEPORT=false); BENCH_GATEWAY_BIN measures another build of the
# gateway (e.g. from another worktree). Sets BENCH_GATEWAY_PID.
bench_start_gateway() {
  local bin=${BENCH_GATEWAY_BIN:-$ROOT/build/release/bin/gateway} log=$BENCH_VAR/gateway.log kv
  if [[ ! -x $bin && -z ${BENCH_GATEWAY_BIN:-} ]]; then
    log "building $bin"
    make -C "$ROOT" --no-print-directory FLAVOUR=release build/release/bin/gateway >&2
  fi
  [[ -x $bin ]] || die "no executable gateway at $bin"
  port_require_free "$BENCH_GATEWAY_PORT" "bench gateway" || exit 1
  mkdir -p "$BENCH_VAR"
  : >"$log"
  # A subshell so the platform's variables do not leak into this script.
  (
    env_file_load "$DEV_ENV"
    export GATEWAY_PORT=$BENCH_GATEWAY_PORT LOG_LEVEL=warn GATEWAY_THREADS=2 \
      RATE_LIMIT_ENABLED=false
    for kv in ${BENCH_GATEWAY_ENV:-}; do export "${kv?}"; done
    # From the repo root: the gateway reads services/*/openapi.json and the
    # Swagger UI files by relative path.
    cd "$ROOT" || exit 1
    exec bash -c "$CLOSE_FDS"'; exec "$@"' bench-gateway "$bin" </dev/null >>"$log" 2>&1
  ) &
  BENCH_GATEWAY_PID=$!
  bench_track "$BENCH_GATEWAY_PID" "bench gateway"
  if ! wait_for_port_owner "$BENCH_GATEWAY_PORT" "$BENCH_GATEWAY_PID" 15 ||
    ! wait_for_http "http://127.0.0.1:$BENCH_GATEWAY_PORT/health" 10 "$BENCH_GATEWAY_PID"; then
    log_tail "$log"
    die "the bench gateway did not start on :$BENCH_GATEWAY_PORT"
  fi
  log "bench gateway $bin on :$BENCH_GATEWAY_PORT (pid $BENCH_GATEWAY_PID, 2 threads, LOG_LEVEL=warn${BENCH_GATEWAY_ENV:+, $BENCH_GATEWAY_ENV})"
}

# bench_expect_200 URL [CURL ARGS...] - fail loudly unless URL answers 200.
bench_expect_200() {
  local url=$1 code
  shift
  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$@" "$url" 2>/dev/null) || true
  [[ $code == 200 ]] || die "$url answered ${code:-nothing} instead of 200: not measuring"
}

# ---------------------------------------------------------------- wrk

# bench_wrk OUT_FILE WRK ARGS... - run wrk --latency, keep its output in
# OUT_FILE and fail loudly on non-2xx/3xx answers or socket errors (a
# benchmark of error pages or of refused connections measures nothing).
# Sets WRK_RPS (requests/s), WRK_P50 and WRK_P99 (ms).
bench_wrk() {
  local out=$1 bad errs
  shift
  wrk --latency "$@" >"$out" 2>&1 || {
    cat "$out" >&2
    die "wrk failed: wrk $*"
  }
  bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
  errs=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$out")
  if [[ -n $bad && $bad != 0 ]] || [[ -n $errs && $errs != 0 ]]; then
    cat "$out" >&2
    die "wrk saw ${bad:-0} non-2xx/3xx responses and ${errs:-0} socket errors: wrk $*"
  fi
  WRK_RPS=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  WRK_P50=$(_wrk_percentile 50 "$out")
  WRK_P99=$(_wrk_percentile 99 "$out")
  [[ -n $WRK_RPS && -n $WRK_P50 && -n $WRK_P99 ]] || {
    cat "$out" >&2
    die "could not parse wrk's output"
  }
  local total
  total=$(awk '/requests in/ { print $1 }' "$out")
  [[ ${total:-0} -gt 0 ]] || die "wrk completed no request: wrk $*"
}

# _wrk_percentile P FILE - the "P%" line of wrk's latency distribution in ms
# (wrk prints us, ms, s or m units).
_wrk_percentile() {
  awk -v p="$1%" '
    $1 == p {
      v = $2; u = v; sub(/^[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
      f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
      if (f < 0) exit 1
      printf "%.3f\n", v * f; exit
    }' "$2"
}

# median X... - the median of the numbers (mean of the middle two when even).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
    if (NR == 0) exit 1
    if (NR % 2) printf "%.3f\n", a[(NR + 1) / 2]
    else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio A B - A/B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f\n", a / b }'; }
