#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# auth.sh - what signing in costs, and what the gateway adds to an
# authenticated request:
#   1. POST /auth/login (Argon2id: 2 passes over 64 MiB per attempt) at
#      concurrency 1 and 4, directly on the auth service (3001): p50, p99 and
#      requests/s. The gateway's share of ~80 ms is measured by 2., not here.
#   2. GET /auth/me with a Bearer token (JWT check, session check, one user
#      read) directly on auth (3001) and through our own gateway (3900, as in
#      bench/gateway.sh: LOG_LEVEL=warn, 2 threads, rate limits off), at
#      concurrency 1 and ME_CONNS: requests/s, p50, p99, and the gateway's
#      overhead (ratios and the absolute p50/p99 differences).
#
# Needs the dev platform (`make up`). It registers the account
# bench-user@bench.test through the platform's gateway (3000) the first time
# (409 afterwards: the account is reused), signs in, and at the end revokes
# the sessions its logins made (POST /auth/logout-all), so repeated runs do
# not pile up sessions. Only successful logins are made: the lockout counts
# failures only.
#
# Rate limits: when the platform's gateway limits /auth/register, the
# registration may get 429. Benchmarks then need RATE_LIMIT_ENABLED=false in
# the repository's .env (and `make up` again to apply it). The measurements
# themselves never go through the platform's gateway.
#
# Settings (environment): LOGIN_DURATION=10s, ME_DURATION=10s, WARMUP=2s,
# ROUNDS=3, THREADS=1, ME_CONNS=50 (connections of the GET /auth/me runs),
# BENCH_EMAIL, BENCH_PASSWORD. wrk's raw output is kept in var/bench/auth/.
#
# Exit: 0 done, 1 failure (including any non-2xx answer), 2 platform not up.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LOGIN_DURATION=${LOGIN_DURATION:-10s}
ME_DURATION=${ME_DURATION:-10s}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1}
ME_CONNS=${ME_CONNS:-50}
BENCH_EMAIL=${BENCH_EMAIL:-bench-user@bench.test}
BENCH_PASSWORD=${BENCH_PASSWORD:-Bench-password-2026}

AUTH=http://127.0.0.1:3001
PUBLIC_GATEWAY=http://127.0.0.1:3000
OUT=$BENCH_VAR/auth
TOKEN=''

# register_user - create the bench account through the platform's gateway;
# an existing one (409) is fine.
register_user() {
  local body code
  body=$(jq -nc --arg e "$BENCH_EMAIL" --arg p "$BENCH_PASSWORD" \
    '{email: $e, password: $p, firstName: "Bench", lastName: "User"}')
  code=$(curl -s -o "$OUT/register.json" -w '%{http_code}' -m 10 -X POST \
    -H 'Content-Type: application/json' --data "$body" "$PUBLIC_GATEWAY/auth/register") || true
  case $code in
  201) log "registered $BENCH_EMAIL through the gateway (:3000)" ;;
  409) log "$BENCH_EMAIL exists already: reused" ;;
  429)
    cat "$OUT/register.json" >&2
    die "the gateway answered 429 (rate limit) to POST /auth/register: put RATE_LIMIT_ENABLED=false in .env and run \`make up\` again to benchmark"
    ;;
  *)
    cat "$OUT/register.json" >&2 || true
    die "POST $PUBLIC_GATEWAY/auth/register answered ${code:-nothing}"
    ;;
  esac
}

# login_token - one login on the auth service; sets TOKEN.
login_token() {
  local code
  code=$(curl -s -o "$OUT/login.json" -w '%{http_code}' -m 10 -X POST \
    -H 'Content-Type: application/json' --data @"$OUT/login-body.json" "$AUTH/auth/login") || true
  [[ $code == 200 ]] || {
    cat "$OUT/login.json" >&2 || true
    die "POST $AUTH/auth/login answered ${code:-nothing} (a different password for $BENCH_EMAIL? set BENCH_EMAIL)"
  }
  TOKEN=$(jq -r .accessToken "$OUT/login.json")
  [[ -n $TOKEN && $TOKEN != null ]] || die "no accessToken in the login answer"
}

# revoke_sessions - end every session the benchmark opened (runs on exit).
revoke_sessions() {
  [[ -n $TOKEN ]] || return 0
  curl -s -o /dev/null -m 10 -X POST -H "Authorization: Bearer $TOKEN" \
    "$AUTH/auth/logout-all" || true
}

# diff_ms A B - A-B with a sign, two decimals.
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.2f", a - b }'; }

on_exit() {
  revoke_sessions
  bench_cleanup
}

main() {
  bench_require_platform
  bench_need_tool wrk wrk
  bench_need_tool jq jq
  mkdir -p "$OUT"
  trap on_exit EXIT
  trap 'exit 130' INT TERM

  register_user
  jq -nc --arg e "$BENCH_EMAIL" --arg p "$BENCH_PASSWORD" '{email: $e, password: $p}' \
    >"$OUT/login-body.json"
  login_token
  # wrk sends the same POST on every request: method, body and header from a
  # Lua script (the body is JSON-quoted by jq, which Lua reads as a string).
  cat >"$OUT/login.lua" <<EOF
wrk.method = "POST"
wrk.body = $(jq -Rs . <"$OUT/login-body.json" | sed 's/\\n"$/"/')
wrk.headers["Content-Type"] = "application/json"
EOF
  bench_start_gateway
  local me_direct=$AUTH/auth/me
  local me_gw=http://127.0.0.1:$BENCH_GATEWAY_PORT/auth/me
  local auth_header="Authorization: Bearer $TOKEN"
  bench_expect_200 "$me_direct" -H "$auth_header"
  bench_expect_200 "$me_gw" -H "$auth_header"

  bench_print_conditions
  local c r n
  local -A rps=() p50=() p99=()

  # ---- 1. login
  echo "# POST /auth/login on :3001, wrk -t1 -c{1,4} -d$LOGIN_DURATION --latency, $ROUNDS rounds, median"
  bench_wrk "$OUT/login-warmup.txt" -t1 -c1 -d"$WARMUP" -s "$OUT/login.lua" "$AUTH/auth/login"
  for ((r = 1; r <= ROUNDS; r++)); do
    for c in 1 4; do
      bench_wrk "$OUT/login-c$c-round$r.txt" -t1 -c"$c" -d"$LOGIN_DURATION" -s "$OUT/login.lua" \
        "$AUTH/auth/login"
      rps[login$c]+="$WRK_RPS " p50[login$c]+="$WRK_P50 " p99[login$c]+="$WRK_P99 "
      printf '#   round %d login c=%d  %7.1f req/s  p50 %7.2f ms  p99 %7.2f ms\n' \
        "$r" "$c" "$WRK_RPS" "$WRK_P50" "$WRK_P99"
    done
  done

  # ---- 2. authenticated GET, direct and through the gateway: at c=1 the
  # difference is the gateway's own work per request; at c=ME_CONNS it adds
  # the queueing of two more processes sharing the two cores.
  local -a me_conns=(1 "$ME_CONNS")
  echo "# GET /auth/me (Bearer), wrk -t$THREADS -c{${me_conns[*]}} -d$ME_DURATION --latency, $ROUNDS rounds, median"
  bench_wrk "$OUT/me-direct-warmup.txt" -t"$THREADS" -c"$ME_CONNS" -d"$WARMUP" -H "$auth_header" "$me_direct"
  bench_wrk "$OUT/me-gateway-warmup.txt" -t"$THREADS" -c"$ME_CONNS" -d"$WARMUP" -H "$auth_header" "$me_gw"
  for ((r = 1; r <= ROUNDS; r++)); do
    for c in "${me_conns[@]}"; do
      for n in direct gateway; do
        local url=$me_direct
        [[ $n == gateway ]] && url=$me_gw
        bench_wrk "$OUT/me-$n-c$c-round$r.txt" -t"$THREADS" -c"$c" -d"$ME_DURATION" \
          -H "$auth_header" "$url"
        rps[me_${n}_$c]+="$WRK_RPS " p50[me_${n}_$c]+="$WRK_P50 " p99[me_${n}_$c]+="$WRK_P99 "
        printf '#   round %d me c=%-3d %-8s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n' \
          "$r" "$c" "$n" "$WRK_RPS" "$WRK_P50" "$WRK_P99"
      done
    done
  done

  # ---- report (medians)
  local -A m_rps=() m_p50=() m_p99=()
  local k
  for k in "${!rps[@]}"; do
    # shellcheck disable=SC2086 # word splitting of the lists is intended
    {
      m_rps[$k]=$(median ${rps[$k]})
      m_p50[$k]=$(median ${p50[$k]})
      m_p99[$k]=$(median ${p99[$k]})
    }
  done
  echo
  printf '%-40s %10s %10s %10s\n' 'what (median of rounds)' 'req/s' 'p50 ms' 'p99 ms'
  for c in 1 4; do
    printf '%-40s %10.1f %10.2f %10.2f\n' "POST /auth/login c=$c (auth :3001)" \
      "${m_rps[login$c]}" "${m_p50[login$c]}" "${m_p99[login$c]}"
  done
  for c in "${me_conns[@]}"; do
    printf '%-40s %10.0f %10.2f %10.2f\n' "GET /auth/me c=$c direct (:3001)" \
      "${m_rps[me_direct_$c]}" "${m_p50[me_direct_$c]}" "${m_p99[me_direct_$c]}"
    printf '%-40s %10.0f %10.2f %10.2f\n' "GET /auth/me c=$c gateway (:$BENCH_GATEWAY_PORT)" \
      "${m_rps[me_gateway_$c]}" "${m_p50[me_gateway_$c]}" "${m_p99[me_gateway_$c]}"
  done
  echo
  for c in "${me_conns[@]}"; do
    printf 'authenticated GET c=%-3s gateway/direct: throughput %sx, p50 %sx, p99 %sx; p50 %s ms, p99 %s ms\n' "$c" \
      "$(ratio "${m_rps[me_gateway_$c]}" "${m_rps[me_direct_$c]}")" \
      "$(ratio "${m_p50[me_gateway_$c]}" "${m_p50[me_direct_$c]}")" \
      "$(ratio "${m_p99[me_gateway_$c]}" "${m_p99[me_direct_$c]}")" \
      "$(diff_ms "${m_p50[me_gateway_$c]}" "${m_p50[me_direct_$c]}")" \
      "$(diff_ms "${m_p99[me_gateway_$c]}" "${m_p99[me_direct_$c]}")"
  done
  printf '# uptime after (includes this benchmark itself): %s\n' "$(uptime)"
}

main "$@"
