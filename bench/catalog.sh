#!/usr/bin/env bash
# catalog.sh - GET /products/:id and GET /products?q=<word>&limit=20 through
# the gateway, cached and uncached, with wrk: requests/s and p99.
#
#   bench/catalog.sh [GATEWAY_URL] [CATALOG_DATABASE_URL]
#
# Defaults: the dev platform of `make up` (http://127.0.0.1:3000 and its
# CATALOG_DATABASE_URL from var/dev/platform.env). Fill the catalog first
# (bench/catalog-gen.sh DATABASE_URL 100000), and run the platform with
# RATE_LIMIT_ENABLED=false: the gateway's rate limits would answer 429.
#
# cached:   one URL repeated (after the first request every answer is the
#           Redis copy).
# uncached: every request a different URL (wrk Lua: a product id out of 500
#           / a running minPrice), so every request misses the cache and
#           reaches PostgreSQL. (Restarting the catalog with
#           CATALOG_CACHE_TTL=0 measures the same without Redis at all.)
# Settings: CONNS=50 DURATION=10s THREADS=2 WORDS="lamp wireless ...".
# The raw wrk output goes to var/bench/catalog-*.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
GW=${1:-http://127.0.0.1:3000}
DB=${2:-}
if [[ -z $DB && -f var/dev/platform.env ]]; then
  DB=$(sed -n 's/^CATALOG_DATABASE_URL=//p' var/dev/platform.env | tr -d "'\"")
fi
: "${DB:?usage: bench/catalog.sh [GATEWAY_URL] CATALOG_DATABASE_URL}"
CONNS=${CONNS:-50} DURATION=${DURATION:-10s} THREADS=${THREADS:-2}
WORDS=${WORDS:-lamp wireless kettle jacket drone novel}
OUT=var/bench
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 2; }

count=$(psql "$DB" -Atc "SELECT count(*) FROM products WHERE deleted_at IS NULL AND is_active")
echo "catalog: $count active products; $(uptime)"
((count > 0)) || { echo "the catalog is empty: run bench/catalog-gen.sh first" >&2; exit 2; }
psql "$DB" -Atc "SELECT id FROM products WHERE deleted_at IS NULL AND is_active ORDER BY random() LIMIT 500" \
  >"$OUT/catalog-ids.txt"
ID=$(head -1 "$OUT/catalog-ids.txt")

# A wrk Lua script that walks through 'paths' (one per line).
lua_paths() {
  cat <<LUA
local paths, i = {}, 0
for line in io.lines("$1") do paths[#paths + 1] = line end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
}

# run NAME URL [LUA] - one wrk run; prints "NAME req/s p99 non2xx".
run() {
  local name=$1 url=$2 lua=${3:-} f=$OUT/catalog-$1.txt code
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url")
  [[ $code == 200 ]] || { echo "$name: $url answers $code" >&2; return 1; }
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency ${lua:+-s "$lua"} "$url" >"$f"
  awk -v n="$name" '/Requests\/sec/ {r=$2} / 99%/ {p=$2} /Non-2xx/ {e=$NF}
    END {printf "%-26s %10s req/s   p99 %8s   non-2xx %s\n", n, r, p, (e ? e : 0)}' "$f"
}

# The uncached URL lists: distinct ids; distinct minPrice per search.
sed "s|^|/products/|" "$OUT/catalog-ids.txt" >"$OUT/catalog-paths-id.txt"
: >"$OUT/catalog-paths-q.txt"
for ((n = 0; n < 20000; n++)); do
  set -- $WORDS
  shift $((n % $#))
  echo "/products?q=$1&limit=20&minPrice=$((n / 6))"
done >"$OUT/catalog-paths-q.txt"
lua_paths "$OUT/catalog-paths-id.txt" >"$OUT/catalog-id.lua"
lua_paths "$OUT/catalog-paths-q.txt" >"$OUT/catalog-q.lua"
WORD=${WORDS%% *}

printf '%-26s %16s   %12s\n' "wrk -c$CONNS -d$DURATION" "" ""
run id-cached "$GW/products/$ID" || echo "  (GET /products/:id is not served: skipped)"
run id-uncached "$GW/products/$ID" "$OUT/catalog-id.lua" || true
run search-cached "$GW/products?q=$WORD&limit=20"
run search-uncached "$GW/products?q=$WORD&limit=20" "$OUT/catalog-q.lua"
