#!/usr/bin/env bash
# What a warm agent costs: wall time of `ttvault exec -- true` with a warm agent, of a
# bare `true`, and of `ttvault exec -- true` without an agent (vault decrypt at the default
# ~1 s KDF plus one refresh), against the stand-in. Release build; medians over $RUNS runs.
#
#     benches/agent.sh            # RUNS=30 by default
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-30}"
PORT="${PORT:-18917}"

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
unset TTVAULT_PASSPHRASE TTVAULT_KDF_TARGET_MS
umask 077
printf 'bench passphrase\n' >"$work/pw"
printf 'TT_API_CLIENT_ID=demo-client-id\nTT_API_CLIENT_SECRET=demo-client-secret\nTT_REFRESH_TOKEN=%s\n' "$refresh" >"$work/legacy.env"
"$BIN" import "$work/legacy.env" --passphrase-file "$work/pw" >/dev/null

# Milliseconds (3 decimals) per run of "$@", one a line.
measure() {
  local i t0 t1
  for i in $(seq "$RUNS"); do
    t0=$EPOCHREALTIME
    "$@" >/dev/null
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
  done
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bare=$(measure /bin/true | median)
"$BIN" unlock --passphrase-file "$work/pw" --ttl 30m >/dev/null
"$BIN" exec -- /bin/true # warm: the agent's one refresh
warm=$(measure "$BIN" exec -- /bin/true | median)
"$BIN" lock >/dev/null
cold=$(measure "$BIN" --no-agent --passphrase-file "$work/pw" exec -- /bin/true | median)

printf '\nttvault %s, %s runs each, medians (%s, %s cores)\n' "$("$BIN" --version | cut -d' ' -f2)" "$RUNS" "$(uname -sm)" "$(nproc)"
printf '%-46s %12s\n' "command" "wall (ms)"
printf '%-46s %12s\n' "true (bare)" "$bare"
printf '%-46s %12s\n' "ttvault exec -- true (warm agent)" "$warm"
printf '%-46s %12s\n' "ttvault exec -- true (no agent: KDF + refresh)" "$cold"
awk -v w="$warm" -v b="$bare" 'BEGIN { printf "%-46s %12.3f\n", "warm agent overhead over bare true", w - b }'
