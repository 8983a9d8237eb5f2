#!/usr/bin/env bash
# Unlock cost of a ttvault vault (argon2id, default tuning: about 1 s on the machine that
# writes it) against stock `age -p` (scrypt, default work factor) on the same content.
# Prints one table; every figure is measured in this run.
#
#     benches/kdf.sh [RUNS]        (default 5; needs `age` and python3)
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for tool in age python3; do
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
cp "$work/legacy.secrets" "$work/plain.env"   # import removes the plaintext it encrypts

# Runs `age ARGS…` on a pty, typing the passphrase at each prompt (age reads it from the
# terminal only), and prints the wall time in milliseconds from start to exit.
age_tty() {
    python3 - "$pass" "$@" <<'PY'
import os, pty, sys, time
passphrase, args = sys.argv[1].encode() + b"\n", sys.argv[2:]
start = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("age", ["age", *args])
buf = b""
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
    if buf.rstrip().endswith(b":"):
        os.write(fd, passphrase)
        buf = b""
_, status = os.waitpid(pid, 0)
elapsed = time.monotonic() - start
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(f"age {' '.join(args)} failed")
print(round(elapsed * 1000))
PY
}

# The vault, written with the default tuning (TTVAULT_KDF_TARGET_MS unset).
unset TTVAULT_KDF_TARGET_MS TTVAULT_PASSPHRASE
"$bin" --vault "$work/vault" --passphrase-file "$work/pass" import "$work/legacy.secrets" >/dev/null
kdf=$("$bin" --vault "$work/vault" status | sed -n 's/.*argon2id m=\([0-9]*\) KiB t=\([0-9]*\) p=\([0-9]*\).*/\1 \2 \3/p')
read -r mem iters lanes <<<"$kdf"

# The stock age -p file of the same content (the passphrase typed into a pty, twice).
age_tty -e -p -o "$work/age.age" "$work/plain.env" >/dev/null
log_n=$(sed -n '2s/^-> scrypt [^ ]* \([0-9]*\)$/\1/p' "$work/age.age")

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

ttvault_ms=$(for _ in $(seq "$runs"); do
    t0=$(now)
    "$bin" --vault "$work/vault" --passphrase-file "$work/pass" --no-agent show >/dev/null
    echo $(( ($(now) - t0) / 1000000 ))
done | median)

age_ms=$(for _ in $(seq "$runs"); do age_tty -d -o /dev/null "$work/age.age"; done | median)

# The pty and python cost age a few milliseconds: `age --version` through the same path.
pty_ms=$(for _ in $(seq "$runs"); do age_tty --version; done | median)

ratio=$(awk -v a="$ttvault_ms" -v b="$age_ms" 'BEGIN {printf "%.2f", a / b}')
printf '%-38s %-34s %8s\n' "unlock ($runs runs, median)" "KDF parameters" "wall ms"
printf '%-38s %-34s %8s\n' "ttvault show (release)" "argon2id m=${mem} KiB t=${iters} p=${lanes}" "$ttvault_ms"
printf '%-38s %-34s %8s\n' "age -d (age $(age --version))" "scrypt N=2^${log_n} r=8 p=1" "$age_ms"
printf '%-38s %-34s %8s\n' "  of which pty+python (age --version)" "" "$pty_ms"
printf '%-38s %-34s %8s\n' "ratio ttvault / age" "" "$ratio"
