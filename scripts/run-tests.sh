#!/usr/bin/env bash
# run-tests.sh - the whole suite; `make test` runs it after building
# build/test (ASan+UBSan binaries and the cmocka unit tests).
#
#   a. every build/test/tests/test_* binary (one suite each)
#   b. a fresh test platform: var/test wiped, var/test/platform.env written
#      with ports shifted by 1000 (so it runs beside `make up`), infrastructure
#      started, the services of build/test/bin started exactly as platform.sh
#      does, with sanitizer reports going to var/test/log/{asan,ubsan}.<pid>
#   c. node --test --test-concurrency=1 tests/api/ with PLATFORM_ENV_FILE (the
#      absolute path of var/test/platform.env: ports, URLs, VAR_DIR, BIN_DIR)
#      and REPO_ROOT in the environment
#   d. docker-compose -f deploy/docker-compose.yml config -q, and
#      clang-format --dry-run --Werror over the C sources git tracks
#   e. always (also on failure or Ctrl-C): SIGTERM the services and wait for
#      them (they exit cleanly, so LeakSanitizer runs), stop the
#      infrastructure, then fail if a service needed SIGKILL or a sanitizer
#      wrote a report (the reports are printed).
# The last line is "N passed, N failed" (steps and suites); the exit status is
# non-zero if anything failed. Logs stay in var/test/log until the next run.
#
# Environment: ALLOW_MISSING=1 (skip services not built yet),
# API_TEST_TIMEOUT (seconds for step c, default 1200).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

# TEST_PORT_OFFSET / TEST_VAR_DIR let two test runs (two work trees) run side
# by side; the defaults are what the README documents. Avoid offsets that put
# a service on a port fetch refuses (the WHATWG bad ports: 3000 would put the
# gateway on 6000); 1000, 2000 and 4000 are fine.
OFFSET=${TEST_PORT_OFFSET:-1000}
VAR_DIR=$(abs_path "${TEST_VAR_DIR:-var/test}")
BIN_DIR=$(abs_path build/test/bin)
UNIT_DIR=$(abs_path build/test/tests)
ENV_FILE=$VAR_DIR/platform.env
INFRA=$ROOT/scripts/infra.sh

PASSED=0
FAILED=0
FAILED_NAMES=()
PLATFORM_STARTED=0

pass() {
  PASSED=$((PASSED + 1))
  printf 'PASS  %s\n' "$1"
}
fail() {
  FAILED=$((FAILED + 1))
  FAILED_NAMES+=("$1")
  printf 'FAIL  %s\n' "$1"
}
banner() { printf '\n######## %s\n' "$*"; }

# a. unit tests ------------------------------------------------------------
run_unit_tests() {
  local t bins=()
  banner "unit tests ($UNIT_DIR)"
  shopt -s nullglob
  for t in "$UNIT_DIR"/test_*; do [[ -f $t && -x $t ]] && bins+=("$t"); done
  shopt -u nullglob
  if ((${#bins[@]} == 0)); then
    warn "no unit test binaries in $UNIT_DIR"
    return 0
  fi
  for t in "${bins[@]}"; do
    printf '== %s\n' "${t#"$ROOT"/}"
    if timeout --foreground 300 "$t"; then pass "unit ${t##*/}"; else fail "unit ${t##*/}"; fi
  done
}

# b. platform --------------------------------------------------------------

# Stop whatever an earlier, interrupted run left running, then start clean.
reset_test_platform() {
  if [[ -f $ENV_FILE ]]; then
    services_stop "$VAR_DIR" 5 || true
    "$INFRA" stop "$ENV_FILE" || true
  else
    write_platform_env "$ENV_FILE" "$OFFSET" "$VAR_DIR" "$BIN_DIR" ""
  fi
  "$INFRA" wipe "$ENV_FILE" || return 1
  # INFRA_FAST=1: the test cluster trades durability for speed. The
  # gateway's rate limits are generous: the suite registers and logs in many
  # users through it; gateway_guard.test.mjs starts its own gateway with tiny
  # limits to test them.
  write_platform_env "$ENV_FILE" "$OFFSET" "$VAR_DIR" "$BIN_DIR" "" INFRA_FAST=1 \
    RATE_LIMIT_ANON_MAX=100000 RATE_LIMIT_USER_MAX=100000 RATE_LIMIT_AUTH_MAX=100000
}

start_test_platform() {
  local t0=$SECONDS log=$VAR_DIR/log
  banner "test platform (ports +$OFFSET, $VAR_DIR)"
  reset_test_platform || return 1
  PLATFORM_STARTED=1
  "$INFRA" start "$ENV_FILE" || return 1
  # print_suppressions=0: a process whose only leaks are suppressed ones
  # (the gateway's recycled h2o memory pools) writes no report file at all.
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$log/asan" \
    LSAN_OPTIONS="print_suppressions=0" \
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$log/ubsan" \
    services_start "$ENV_FILE" "$BIN_DIR" || return 1
  log "test platform up in $((SECONDS - t0))s"
}

# c. API tests -------------------------------------------------------------
run_api_tests() {
  banner "API tests (tests/api, node --test)"
  PLATFORM_ENV_FILE=$ENV_FILE REPO_ROOT=$ROOT \
    timeout --foreground "${API_TEST_TIMEOUT:-1200}" node --test --test-concurrency=1 tests/api/
}

# d. docker-compose file ----------------------------------------------------
check_compose() {
  banner "docker-compose config"
  command -v docker-compose >/dev/null || {
    echo "docker-compose is not installed (scripts/deps.sh installs it)" >&2
    return 1
  }
  docker-compose -f deploy/docker-compose.yml config -q
}

# The C sources follow .clang-format: a change that does not is a failure
# here rather than noise in the next change's diff.
check_format() {
  banner "clang-format"
  command -v clang-format >/dev/null || {
    echo "clang-format is not installed (scripts/deps.sh installs it)" >&2
    return 1
  }
  git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run --Werror
}

# e. teardown (EXIT trap) ---------------------------------------------------
teardown() {
  local rc=$? f reports=()
  trap - EXIT INT TERM
  set +e
  if ((PLATFORM_STARTED)); then
    banner "stopping the test platform"
    services_stop "$VAR_DIR" 30
    if (($? == 0)); then pass "services exit on SIGTERM"; else fail "services exit on SIGTERM"; fi
    "$INFRA" stop "$ENV_FILE" || fail "infrastructure stop"
    shopt -s nullglob
    reports=("$VAR_DIR"/log/asan.* "$VAR_DIR"/log/ubsan.*)
    shopt -u nullglob
    if ((${#reports[@]} == 0)); then
      pass "no sanitizer reports"
    else
      for f in "${reports[@]}"; do
        printf '\n----- sanitizer report %s -----\n' "$f"
        cat "$f"
      done
      fail "sanitizer reports (${#reports[@]} in $VAR_DIR/log)"
    fi
  fi
  if ((rc != 0 && FAILED == 0)); then fail "run-tests.sh aborted (status $rc)"; fi
  if ((FAILED)); then
    printf '\nFailed:\n'
    printf '  - %s\n' "${FAILED_NAMES[@]}"
    printf 'Logs: %s/log/\n' "$VAR_DIR"
  fi
  printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
  ((FAILED == 0)) && exit 0
  exit 1
}

main() {
  trap teardown EXIT
  trap 'exit 130' INT TERM
  run_unit_tests
  if start_test_platform; then
    pass "test platform start"
    local rc=0
    run_api_tests || rc=$?
    # Ctrl-C: node exits 130 by itself, so bash does not act on the SIGINT.
    ((rc == 130)) && exit 130
    if ((rc == 0)); then pass "API tests"; else fail "API tests"; fi
  else
    fail "test platform start"
    fail "API tests (not run: the platform did not start)"
  fi
  if check_compose; then pass "docker-compose config"; else fail "docker-compose config"; fi
  if check_format; then pass "clang-format"; else fail "clang-format"; fi
}

main "$@"
