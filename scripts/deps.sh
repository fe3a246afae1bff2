#!/usr/bin/env bash
# deps.sh - install what building, running and testing the platform needs,
# on Debian 12 as root (or with sudo). Idempotent, and quick when everything
# is there: one dpkg-query and one file-date comparison, no network.
#
#   apt: the -dev libraries of the services, the servers (PostgreSQL 15,
#        Redis 7, RabbitMQ 3.10), the tools (curl, wrk, nginx-light for
#        benchmarks, docker-compose v1 to validate deploy/docker-compose.yml);
#   npm: package.json's pinned packages (swagger-ui-dist, maildev,
#        socket.io-client) into node_modules, with `npm ci`, when node_modules
#        is missing or older than package-lock.json.
# Node.js >= 20 and npm must already be installed (Debian 12 ships Node 18,
# too old for maildev 3).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(
  # build (libcurl4-gnutls-dev, not -openssl-dev: the latter conflicts with
  # libulfius-dev)
  gcc make libc6-dev pkg-config
  libulfius-dev libmicrohttpd-dev libjansson-dev libpq-dev libhiredis-dev librabbitmq-dev
  libsodium-dev libjwt-dev libcurl4-gnutls-dev libcmocka-dev libh2o-evloop-dev
  libwebsockets-dev libvips-dev libssl-dev zlib1g-dev clang-format
  # servers, run as project-local processes by scripts/infra.sh
  postgresql redis-server rabbitmq-server
  # tools: health checks, benchmarks, compose file validation, ps/ss
  curl wrk nginx-light docker-compose procps iproute2 ca-certificates
)

as_root() {
  if ((EUID == 0)); then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# missing_packages - the APT_PACKAGES not installed, one per line.
missing_packages() {
  local installed
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null |
    awk '$2 == "installed" { print $1 }') || true
  printf '%s\n' "${APT_PACKAGES[@]}" | grep -vxF -f <(printf '%s\n' "$installed") || true
}

install_apt() {
  local -a missing
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]} == 0)) && return 0
  log "installing Debian packages: ${missing[*]}"
  # The postinst scripts of postgresql, redis-server, rabbitmq-server and
  # nginx would start system-wide servers on the very ports of the dev
  # platform. A policy-rc.d answering 101 ("action forbidden") stops that
  # (Docker's Debian images ship the same file); ours is removed afterwards.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [[ ! -e $policy ]]; then
    as_root sh -c "printf '#!/bin/sh\n# scripts/deps.sh: no service starts during install\nexit 101\n' >$policy && chmod 755 $policy"
    ours=1
  fi
  local rc=0
  as_root apt-get update -q || rc=$?
  if ((rc == 0)); then
    # --no-install-recommends matters most for docker-compose: its
    # recommends pull in the whole Docker engine.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      "${missing[@]}" || rc=$?
  fi
  ((ours)) && as_root rm -f "$policy"
  ((rc == 0)) || die "apt-get failed (status $rc)"
}

check_node() {
  local major
  command -v node >/dev/null && command -v npm >/dev/null ||
    die "Node.js >= 20 and npm are required (not found on PATH)"
  major=$(node -p 'process.versions.node.split(".")[0]')
  ((major >= 20)) || die "Node.js >= 20 is required, found $(node --version)"
}

# npm ci only when node_modules is missing or older than the lock file.
# npm writes node_modules/.package-lock.json at the end of each install, so
# its date is when node_modules was last made.
install_npm() {
  local stamp=$ROOT/node_modules/.package-lock.json
  if [[ -f $stamp && ! $ROOT/package-lock.json -nt $stamp && ! $ROOT/package.json -nt $stamp ]]; then
    return 0
  fi
  log "installing npm packages (npm ci)"
  # --ignore-scripts: none of our packages needs an install script (maildev
  # runs without; swagger-ui-dist's only one is @scarf/scarf's telemetry).
  (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
}

install_apt
check_node
install_npm
