#!/usr/bin/env bash
# What the broker costs (docs/BROKER.md), against the stand-in on loopback, release build:
# 1. the latency a GET gains through the broker: `curl` sends $REQS GETs of /customers/me
#    over one reused connection, straight to the stand-in and through `exec --broker`
#    (CONNECT + TLS once, then the same reuse); the first request of each (the handshake)
#    is left out; median per request;
# 2. the start-up cost: `exec --broker -- true` against `exec --short-lived -- true`, both
#    with a warm agent, alternated in one loop so load on the machine hits both alike.
#
#     benches/broker.sh            # RUNS=30 REQS=200 by default
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-30}"
REQS="${REQS:-200}"
PORT="${PORT:-18918}"

cargo build --release --quiet --bin ttvault --example standin
BIN="$PWD/target/release/ttvault"
STANDIN="$PWD/target/release/examples/standin"

work="$(mktemp -d)"
standin_pid=""
cleanup() {
  XDG_RUNTIME_DIR="$work" TTVAULT_VAULT="$work/.secrets" "$BIN" lock >/dev/null 2>&1 || true
  [ -n "$standin_pid" ] && kill "$standin_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$STANDIN" --port "$PORT" >"$work/standin.out" 2>&1 &
standin_pid=$!
for _ in $(seq 100); do
  grep -q '^Requests:' "$work/standin.out" 2>/dev/null && break
  sleep 0.1
done
refresh="$(grep -A1 '^Refresh token' "$work/standin.out" | tail -1 | tr -d ' ')"
[ -n "$refresh" ] || { echo "the stand-in did not start" >&2; exit 1; }

export XDG_RUNTIME_DIR="$work" TTVAULT_VAULT="$work/.secrets"
export TTVAULT_API_URL="http://127.0.0.1:$PORT"
unset TTVAULT_PASSPHRASE TTVAULT_KDF_TARGET_MS HTTPS_PROXY https_proxy NO_PROXY no_proxy
umask 077
printf 'bench passphrase\n' >"$work/pw"
printf 'TT_API_CLIENT_ID=demo-client-id\nTT_API_CLIENT_SECRET=demo-client-secret\nTT_REFRESH_TOKEN=%s\n' "$refresh" >"$work/legacy.env"
"$BIN" import "$work/legacy.env" --broker --passphrase-file "$work/pw" >/dev/null
"$BIN" unlock --passphrase-file "$work/pw" --ttl 30m >/dev/null
"$BIN" exec --short-lived -- /bin/true # warm: the agent's one refresh

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# $REQS GETs in one curl (one connection), one time per line in ms, the first dropped.
cat >"$work/gets.sh" <<'EOF'
#!/bin/sh
# $1: the URL, $2: how many times; the token is TT_ACCESS_TOKEN.
url="$1"; n="$2"; set --
i=0; while [ "$i" -lt "$n" ]; do set -- "$@" -o /dev/null "$url"; i=$((i + 1)); done
curl -sS -H "Authorization: Bearer $TT_ACCESS_TOKEN" \
  -w '%{time_total}\n' "$@" | tail -n +2 | awk '{ printf "%.3f\n", $1 * 1000 }'
EOF
chmod +x "$work/gets.sh"
direct=$("$BIN" exec --short-lived -- "$work/gets.sh" "http://127.0.0.1:$PORT/customers/me" "$REQS" | median)
brokered=$("$BIN" exec --broker -- "$work/gets.sh" "https://api.tastyworks.com/customers/me" "$REQS" | median)

# Alternated start-up runs.
: >"$work/plain.ms"
: >"$work/broker.ms"
for _ in $(seq "$RUNS"); do
  for mode in short-lived broker; do
    t0=$EPOCHREALTIME
    "$BIN" exec "--$mode" -- /bin/true >/dev/null
    t1=$EPOCHREALTIME
    file="$work/plain.ms"; [ "$mode" = broker ] && file="$work/broker.ms"
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }' >>"$file"
  done
done
plain=$(median <"$work/plain.ms")
broker=$(median <"$work/broker.ms")

printf '\nttvault %s, medians (%s, %s cores)\n' "$("$BIN" --version | cut -d' ' -f2)" "$(uname -sm)" "$(nproc)"
printf '%-52s %10s\n' "measure" "ms"
printf '%-52s %10s\n' "GET /customers/me straight to the stand-in ($REQS, reused)" "$direct"
printf '%-52s %10s\n' "the same GET through the broker" "$brokered"
awk -v a="$brokered" -v b="$direct" 'BEGIN { printf "%-52s %10.3f\n", "added per request", a - b }'
printf '%-52s %10s\n' "ttvault exec --short-lived -- true (warm agent, $RUNS)" "$plain"
printf '%-52s %10s\n' "ttvault exec --broker -- true (alternated)" "$broker"
awk -v a="$broker" -v b="$plain" 'BEGIN { printf "%-52s %10.3f\n", "added to exec'"'"'s start", a - b }'
