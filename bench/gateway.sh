#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# gateway.sh - what the gateway costs: requests/s and p99 latency of the users
# service's GET /health measured in one run with wrk
#   direct   http://127.0.0.1:3002/health                  (the service alone)
#   gateway  http://127.0.0.1:3900/services/users/health   (our own gateway)
#   nginx    http://127.0.0.1:3901/services/users/health   (nginx proxy_pass)
# and the ratios gateway/nginx (the ARCHITECTURE.md target: >= 0.8x nginx
# proxy_pass throughput) and gateway/direct.
#
# Needs the dev platform (`make up`): the users service on 3002 is the
# upstream of both proxies. Starts its own gateway on 3900 and nginx on 3901
# (never the platform's gateway on 3000, whose access log and settings are
# those of development) and stops both by pid on exit.
#
# The two proxies are set up alike:
#   - 2 event loops: GATEWAY_THREADS=2 / worker_processes 2, one SO_REUSEPORT
#     listener each (the gateway's default; `listen ... reuseport` in nginx),
#     or both one shared listener when GATEWAY_REUSEPORT is false (in the
#     platform's settings or BENCH_GATEWAY_ENV, see common.sh);
#   - kept-alive HTTP/1.1 upstream connections closed after 2 s idle (the
#     gateway's UPSTREAM_KEEPALIVE_MS in services/gateway/main.c; nginx
#     `keepalive_timeout 2s` in the upstream). The gateway's pool has no size
#     limit (SIZE_MAX in upstreams.c); nginx keeps up to `keepalive 64` idle
#     connections per worker, more than the 50 client connections can use;
#   - no per-request cap on kept-alive connections (h2o has none; nginx's
#     keepalive_requests default of 1000 is raised for clients and upstream);
#   - no access log: the gateway writes none at LOG_LEVEL=warn (only 5xx
#     lines, see access_log.c), so nginx has `access_log off`;
#   - both send X-Forwarded-For/-Proto and an X-Request-Id upstream and echo
#     the id to the client. The gateway also makes a W3C traceparent and
#     counts Prometheus metrics, which nginx does not do.
# The upstream (users) logs one line per request at the platform's
# LOG_LEVEL=info in all three cases alike.
#
# Settings (environment): THREADS=1 CONNS=50 DURATION=10s WARMUP=2s ROUNDS=3.
# Each round measures the three targets one after the other (so a burst of
# load from elsewhere hits one round of each rather than all rounds of one);
# the table shows the median of the rounds. wrk's raw output is kept in
# var/bench/gateway/.
#
# Exit: 0 done, 1 failure (including any non-2xx answer), 2 platform not up.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

THREADS=${THREADS:-1}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
NGINX_PORT=${NGINX_PORT:-3901}
# The gateway's idle timeout for pooled upstream connections (main.c).
UPSTREAM_KEEPALIVE_MS=2000
GATEWAY_THREADS=2

OUT=$BENCH_VAR/gateway
NGINX_PREFIX=$BENCH_VAR/nginx

# gateway_reuseport - "reuseport" if the bench gateway will use SO_REUSEPORT
# listeners (its setting from platform.env, then BENCH_GATEWAY_ENV; the same
# reading as core's config_bool), else nothing.
gateway_reuseport() {
  local v kv
  v=$(
    env_file_load "$DEV_ENV"
    printf '%s' "${GATEWAY_REUSEPORT:-true}"
  )
  for kv in ${BENCH_GATEWAY_ENV:-}; do
    [[ $kv == GATEWAY_REUSEPORT=* ]] && v=${kv#*=}
  done
  case ${v,,} in
  0 | false | no | off) ;;
  *) printf reuseport ;;
  esac
}

# start_nginx - nginx with our own config only (never the system service),
# in the foreground (daemon off) as our child, so its pid is $!.
start_nginx() {
  local conf=$NGINX_PREFIX/nginx.conf user_line='' reuseport
  reuseport=$(gateway_reuseport)
  port_require_free "$NGINX_PORT" "bench nginx" || exit 1
  mkdir -p "$NGINX_PREFIX/tmp"
  # As root nginx switches its workers to an unprivileged user; say which
  # (the compiled-in default group may not exist on Debian).
  ((EUID == 0)) && user_line='user nobody nogroup;'
  cat >"$conf" <<EOF
# Written by bench/gateway.sh: nginx as the reference reverse proxy.
$user_line
worker_processes $GATEWAY_THREADS;
pid $NGINX_PREFIX/nginx.pid;
error_log $NGINX_PREFIX/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $NGINX_PREFIX/tmp/body;
    proxy_temp_path $NGINX_PREFIX/tmp/proxy;
    fastcgi_temp_path $NGINX_PREFIX/tmp/fastcgi;
    uwsgi_temp_path $NGINX_PREFIX/tmp/uwsgi;
    scgi_temp_path $NGINX_PREFIX/tmp/scgi;
    keepalive_requests 1000000;
    upstream users {
        server 127.0.0.1:3002;
        keepalive 64;
        keepalive_timeout ${UPSTREAM_KEEPALIVE_MS}ms;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT${reuseport:+ $reuseport};
        location = /services/users/health {
            proxy_pass http://users/health;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_set_header X-Request-Id \$request_id;
            add_header X-Request-Id \$request_id always;
        }
    }
}
EOF
  nginx -t -q -p "$NGINX_PREFIX" -e "$NGINX_PREFIX/error.log" -c "$conf" ||
    die "nginx rejected $conf"
  nginx -p "$NGINX_PREFIX" -e "$NGINX_PREFIX/error.log" -c "$conf" -g 'daemon off;' \
    </dev/null >>"$NGINX_PREFIX/stdout.log" 2>&1 &
  NGINX_PID=$!
  bench_track "$NGINX_PID" "bench nginx"
  if ! wait_for_port_owner "$NGINX_PORT" "$NGINX_PID" 10; then
    log_tail "$NGINX_PREFIX/error.log"
    die "nginx did not start on :$NGINX_PORT"
  fi
  log "bench nginx on :$NGINX_PORT (master pid $NGINX_PID, $GATEWAY_THREADS workers, ${reuseport:-shared listener})"
}

main() {
  bench_require_platform
  bench_need_tool wrk wrk
  bench_need_tool nginx nginx-light nginx
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$OUT"
  bench_start_gateway
  start_nginx

  local -a names=(direct gateway nginx)
  local -A url=(
    [direct]=http://127.0.0.1:3002/health
    [gateway]=http://127.0.0.1:$BENCH_GATEWAY_PORT/services/users/health
    [nginx]=http://127.0.0.1:$NGINX_PORT/services/users/health
  )
  local -A rps=() p50=() p99=()
  local n r

  for n in "${names[@]}"; do bench_expect_200 "${url[$n]}"; done

  bench_print_conditions
  echo "# wrk -t$THREADS -c$CONNS -d$DURATION --latency (warm-up $WARMUP per target), $ROUNDS rounds, median"
  echo "# logging: gateway LOG_LEVEL=warn (no access log; 5xx lines only); nginx access_log off;"
  echo "#          upstream users service at the platform's LOG_LEVEL (one line per request, same for all)"
  echo "# listeners: $(if [[ -n $(gateway_reuseport) ]]; then echo 'one SO_REUSEPORT socket per loop'; else echo 'one shared socket'; fi) in both proxies${BENCH_GATEWAY_ENV:+; gateway env: $BENCH_GATEWAY_ENV}"
  for n in "${names[@]}"; do
    bench_wrk "$OUT/$n-warmup.txt" -t"$THREADS" -c"$CONNS" -d"$WARMUP" "${url[$n]}"
  done
  for ((r = 1; r <= ROUNDS; r++)); do
    for n in "${names[@]}"; do
      bench_wrk "$OUT/$n-round$r.txt" -t"$THREADS" -c"$CONNS" -d"$DURATION" "${url[$n]}"
      rps[$n]+="$WRK_RPS " p50[$n]+="$WRK_P50 " p99[$n]+="$WRK_P99 "
      printf '#   round %d %-8s %10.0f req/s  p50 %6.2f ms  p99 %7.2f ms\n' "$r" "$n" "$WRK_RPS" "$WRK_P50" "$WRK_P99"
    done
  done

  local -A med_rps=() med_p50=() med_p99=()
  echo
  printf '%-8s %-48s %10s %8s %8s   %s\n' target url 'req/s' 'p50 ms' 'p99 ms' 'rounds (req/s)'
  for n in "${names[@]}"; do
    # shellcheck disable=SC2086 # word splitting of the list is intended
    med_rps[$n]=$(median ${rps[$n]})
    # shellcheck disable=SC2086
    med_p99[$n]=$(median ${p99[$n]})
    # shellcheck disable=SC2086
    med_p50[$n]=$(median ${p50[$n]})
    printf '%-8s %-48s %10.0f %8.2f %8.2f   %s\n' "$n" "${url[$n]}" "${med_rps[$n]}" "${med_p50[$n]}" \
      "${med_p99[$n]}" "${rps[$n]}"
  done
  echo
  printf 'gateway/nginx   throughput %sx   p99 %sx\n' \
    "$(ratio "${med_rps[gateway]}" "${med_rps[nginx]}")" "$(ratio "${med_p99[gateway]}" "${med_p99[nginx]}")"
  printf 'gateway/direct  throughput %sx   p99 %sx\n' \
    "$(ratio "${med_rps[gateway]}" "${med_rps[direct]}")" "$(ratio "${med_p99[gateway]}" "${med_p99[direct]}")"
  printf 'nginx/direct    throughput %sx   p99 %sx\n' \
    "$(ratio "${med_rps[nginx]}" "${med_rps[direct]}")" "$(ratio "${med_p99[nginx]}" "${med_p99[direct]}")"
  echo "# (throughput ratio > 1 is better for the numerator; p99 ratio < 1 is better)"
  # The load after includes this benchmark's own wrk, proxy and service.
  printf '# uptime after (includes this benchmark itself): %s\n' "$(uptime)"
}

main "$@"
