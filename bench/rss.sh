#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# rss.sh - the memory each process of the dev platform holds, idle: the nine
# C services (the goal is under 10 MB resident each) and, for context,
# PostgreSQL, Redis, RabbitMQ and maildev.
#
# Columns, from /proc/PID/status and /proc/PID/smaps_rollup, in MB (MiB):
#   RSS    VmRSS, resident now (shared library pages included)
#   HWM    VmHWM, the most it ever was resident (a peak since start: e.g. the
#          auth service's Argon2id hashes take 64 MiB each while they run)
#   PSS    resident with shared pages divided among their users: what the
#          process costs the machine (libc, libpq... are shared by all nine)
#   anon   RssAnon: heap, malloc arenas, stacks: memory of this process only
#   file   RssFile: mapped files, almost all of it the pages of ~50 shared
#          libraries (libcrypto, libc, gnutls, krb5...), shared with every
#          other process that maps them
#   thr    threads
# A service whose RSS is over the goal is flagged "OVER". Run it when the
# platform has been idle for a few seconds; after a benchmark, HWM shows the
# peak that load caused while RSS may have shrunk back.
#
# Pids come from the pid files of scripts/platform.sh and scripts/infra.sh
# (var/dev/run/<name>.pid, PostgreSQL's postmaster.pid); nothing is looked
# up by process name. PostgreSQL is one postmaster plus one process per
# connection (each service holds one per worker thread): its row sums the
# whole process tree (RSS over-counts the shared buffers, PSS does not).
#
# Settings: LIMIT_MB=10 (the goal), VAR_DIR=var/dev.
# Exit: 0 done (even with services over the goal), 2 platform not running.
set -euo pipefail
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

LIMIT_MB=${LIMIT_MB:-10}
VAR_DIR=$(abs_path "${VAR_DIR:-var/dev}")
RUN=$VAR_DIR/run

# mem_kb PID - "rss hwm pss anon file threads" (kB x5, count).
mem_kb() {
  local pid=$1 pss
  pss=$(awk '/^Pss:/ { print $2; exit }' "/proc/$pid/smaps_rollup" 2>/dev/null) || pss=''
  awk -v pss="${pss:-0}" '
    /^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } /^RssAnon:/ { anon = $2 } /^RssFile:/ { file = $2 }
    /^Threads:/ { thr = $2 }
    END { print rss + 0, hwm + 0, pss + 0, anon + 0, file + 0, thr + 0 }' "/proc/$pid/status"
}

# row NAME PIDS NOTE - one table line; several pids are summed (a process
# tree). Prints nothing when no pid is alive.
row() {
  local name=$1 pid_list=$2 note=${3:-} pid sum='0 0 0 0 0 0' n=0 over=''
  for pid in $pid_list; do
    pid_alive "$pid" || continue
    sum=$(printf '%s\n%s\n' "$sum" "$(mem_kb "$pid")" |
      awk 'NR == 1 { for (i = 1; i <= 6; i++) s[i] = $i } NR == 2 { for (i = 1; i <= 6; i++) s[i] += $i }
           END { print s[1], s[2], s[3], s[4], s[5], s[6] }')
    n=$((n + 1))
  done
  ((n > 0)) || {
    printf '%-15s %8s  not running\n' "$name" '-'
    return 0
  }
  # shellcheck disable=SC2086 # six numbers
  set -- $sum
  if [[ $note == service ]]; then
    awk -v r="$1" -v l="$LIMIT_MB" 'BEGIN { exit !(r / 1024 > l) }' && over="OVER ${LIMIT_MB} MB"
    note=''
  fi
  printf '%-15s %8s %8.1f %8.1f %8.1f %8.1f %8.1f %5d  %s\n' "$name" "${pid_list%% *}$( ((n > 1)) && printf '+%d' $((n - 1)))" \
    "$(mb "$1")" "$(mb "$2")" "$(mb "$3")" "$(mb "$4")" "$(mb "$5")" "$6" "${over:-$note}"
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# children PID - the direct children of PID (PostgreSQL's backends).
children() { ps -o pid= --ppid "$1" 2>/dev/null | tr -s ' \n' ' '; }

main() {
  [[ -d $RUN ]] || {
    echo "ERROR: $RUN does not exist: is the platform up? (\`make up\`)" >&2
    exit 2
  }
  local name pid pm pgdata f running=0
  for name in "${SERVICES[@]}"; do
    pidfile_pid "$RUN/$name.pid" "/$name" >/dev/null && running=$((running + 1))
  done
  ((running > 0)) || {
    echo "ERROR: no service of the platform runs: \`make up\` first" >&2
    exit 2
  }
  bench_print_conditions
  printf '%-15s %8s %8s %8s %8s %8s %8s %5s\n' process pid 'RSS MB' 'HWM MB' 'PSS MB' 'anon MB' 'file MB' thr
  for name in "${SERVICES[@]}"; do
    if pid=$(pidfile_pid "$RUN/$name.pid" "/$name"); then
      row "$name" "$pid" service
    else
      printf '%-15s %8s  not running\n' "$name" '-'
    fi
  done
  echo "-- infrastructure (for context)"
  pgdata=$VAR_DIR/pg/data
  f=$pgdata/postmaster.pid
  if [[ -r $f ]] && pm=$(head -n1 "$f" | tr -dc 0-9) && [[ -n $pm ]] && pid_alive "$pm"; then
    row postgres "$pm $(children "$pm")" 'postmaster + backends (summed)'
  else
    printf '%-15s %8s  not running\n' postgres '-'
  fi
  pid=$(pidfile_pid "$RUN/redis.pid" redis-server) || pid=''
  row redis "$pid"
  pid=$(pidfile_pid "$RUN/rabbitmq.pid" beam) || pid=''
  row rabbitmq "$pid" 'Erlang VM (beam)'
  pid=$(pidfile_pid "$RUN/maildev.pid") || pid=''
  row maildev "$pid" 'Node.js'
  echo "# RSS = anon + file (+ shared memory: PostgreSQL's buffers). 'file' is mostly shared library pages that all nine services (and"
  echo "# the page cache) share; PSS splits them among their users, so PSS is what each costs."
  echo "# PSS therefore also depends on how many other processes map the same libraries."
}

main "$@"
