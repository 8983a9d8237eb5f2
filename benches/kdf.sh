#!/usr/bin/env bash
# Unlock cost of a ttvault vault (argon2id, default tuning: about 1 s on the machine that
# writes it) against stock `age -p` (scrypt, default work factor) on the same content.
# Prints one table; every figure is measured in this run.
#
#     benches/kdf.sh [RUNS]        (default 5; needs the `age` and `script` commands)
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for tool in age script; do
    command -v "$tool" >/dev/null || { echo "benches/kdf.sh: needs \`$tool\`" >&2; exit 1; }
done
cargo build --release --quiet
bin="$root/target/release/ttvault"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077

pass='benchmark passphrase'
printf '%s\n' "$pass" > "$work/pass"
cat > "$work/legacy.secrets" <<'SECRETS'
TT_API_CLIENT_ID=bench-client-id
TT_API_CLIENT_SECRET=bench-client-secret-0123456789abcdef
TT_REFRESH_TOKEN=eyJhbGciOiJIUzI1NiJ9.eyJzY29wZSI6InJlYWQgdHJhZGUifQ.benchmark-refresh-token
SECRETS

# The vault, written with the default tuning (TTVAULT_KDF_TARGET_MS unset).
unset TTVAULT_KDF_TARGET_MS TTVAULT_PASSPHRASE
"$bin" --vault "$work/vault" --passphrase-file "$work/pass" import "$work/legacy.secrets" >/dev/null
kdf=$("$bin" --vault "$work/vault" status | sed -n 's/.*argon2id m=\([0-9]*\) KiB t=\([0-9]*\) p=\([0-9]*\).*/\1 \2 \3/p')
read -r mem iters lanes <<<"$kdf"

# The stock age -p file of the same content (the passphrase typed into a pty, twice).
printf '%s\n%s\n' "$pass" "$pass" |
    script -qc "age -e -p -o '$work/age.age' '$work/legacy.secrets'" /dev/null >/dev/null
log_n=$(sed -n '2s/^-> scrypt [^ ]* \([0-9]*\)$/\1/p' "$work/age.age")

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

ttvault_ms=$(for _ in $(seq "$runs"); do
    t0=$(now)
    "$bin" --vault "$work/vault" --passphrase-file "$work/pass" --no-agent show >/dev/null
    echo $(( ($(now) - t0) / 1000000 ))
done | median)

age_ms=$(for _ in $(seq "$runs"); do
    t0=$(now)
    printf '%s\n' "$pass" | script -qc "age -d -o /dev/null '$work/age.age'" /dev/null >/dev/null
    echo $(( ($(now) - t0) / 1000000 ))
done | median)

# The pty costs age a few milliseconds; measure it so the table can say how much.
pty_ms=$(for _ in $(seq "$runs"); do
    t0=$(now)
    script -qc true /dev/null >/dev/null </dev/null
    echo $(( ($(now) - t0) / 1000000 ))
done | median)

ratio=$(awk -v a="$ttvault_ms" -v b="$age_ms" 'BEGIN {printf "%.2f", a / b}')
printf '%-34s %-34s %10s\n' "unlock ($runs runs, median)" "KDF parameters" "wall ms"
printf '%-34s %-34s %10s\n' "ttvault show (release)" "argon2id m=${mem} KiB t=${iters} p=${lanes}" "$ttvault_ms"
printf '%-34s %-34s %10s\n' "age -d (age $(age --version))" "scrypt N=2^${log_n} r=8 p=1" "$age_ms"
printf '%-34s %-34s %10s\n' "  of which pty (script -qc true)" "" "$pty_ms"
printf '%-34s %-34s %10s\n' "ratio ttvault / age" "" "$ratio"
