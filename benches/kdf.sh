#!/usr/bin/env bash
# Unlock cost of a ttvault vault (argon2id, default calibration: 256 MiB or more, about
# 1 s on the machine that writes it) against stock `age -p` (scrypt, default work factor)
# on the same content, and what a guess costs an attacker: memory × time, the measure that
# counts against GPU and ASIC guessers. Also the cost of a hostile file at ttvault's read
# caps (argon2id 1 GiB, t=8). Prints one table; every figure is measured in this run.
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

# The vault, written with the default calibration (the test-only overrides unset).
unset TTVAULT_KDF_TARGET_MS TTVAULT_KDF_MEMORY_MIB TTVAULT_PASSPHRASE
"$bin" --vault "$work/vault" --passphrase-file "$work/pass" import "$work/legacy.secrets" >/dev/null
kdf=$("$bin" --vault "$work/vault" status | sed -n 's/.*argon2id m=\([0-9]*\) KiB t=\([0-9]*\) p=\([0-9]*\).*/\1 \2 \3/p')
read -r mem iters lanes <<<"$kdf"

# The stock age -p file of the same content (the passphrase typed into a pty, twice).
age_tty -e -p -o "$work/age.age" "$work/plain.env" >/dev/null
log_n=$(sed -n '2s/^-> scrypt [^ ]* \([0-9]*\)$/\1/p' "$work/age.age")

# Runs a command and prints its wall time (ms) and peak memory (KiB, max RSS).
measured() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
elapsed = time.monotonic() - start
if done.returncode != 0:
    sys.exit(f"{sys.argv[1]} failed")
print(round(elapsed * 1000), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

tt_runs=$(for _ in $(seq "$runs"); do
    measured "$bin" --vault "$work/vault" --passphrase-file "$work/pass" --no-agent show
done)
ttvault_ms=$(cut -d' ' -f1 <<<"$tt_runs" | median)
ttvault_rss=$(cut -d' ' -f2 <<<"$tt_runs" | median)

age_ms=$(for _ in $(seq "$runs"); do age_tty -d -o /dev/null "$work/age.age"; done | median)

# The pty and python cost age a few milliseconds: `age --version` through the same path.
pty_ms=$(for _ in $(seq "$runs"); do age_tty --version; done | median)

# A hostile file at the read caps (1 GiB, t=8: m × t at its cap), written through the
# test-only memory override and a target long enough that the passes reach the cap.
TTVAULT_KDF_MEMORY_MIB=1024 TTVAULT_KDF_TARGET_MS=600000 \
    "$bin" --vault "$work/capped" --passphrase-file "$work/pass" import "$work/plain.env" >/dev/null
cap=$("$bin" --vault "$work/capped" status | sed -n 's/.*argon2id m=\([0-9]*\) KiB t=\([0-9]*\) .*/\1 \2/p')
read -r cap_mem cap_iters <<<"$cap"
cap_runs=$(for _ in $(seq "$(( (runs + 1) / 2 ))"); do
    measured "$bin" --vault "$work/capped" --passphrase-file "$work/pass" --no-agent show
done)
cap_ms=$(cut -d' ' -f1 <<<"$cap_runs" | median)
cap_rss=$(cut -d' ' -f2 <<<"$cap_runs" | median)

# What a guess costs: the KDF's memory × the unlock's time. scrypt with r=8 uses
# 128 × 8 × N bytes, i.e. N KiB.
age_kdf_ms=$(( age_ms > pty_ms ? age_ms - pty_ms : age_ms ))
age_mem=$(( 1 << log_n ))
ratio=$(awk -v a="$ttvault_ms" -v b="$age_kdf_ms" 'BEGIN {printf "%.2f", a / b}')
cost_ratio=$(awk -v m1="$mem" -v t1="$ttvault_ms" -v m2="$age_mem" -v t2="$age_kdf_ms" \
    'BEGIN {printf "%.2f", (m1 * t1) / (m2 * t2)}')
mib() { echo $(( $1 / 1024 )); }
printf '%-38s %-32s %8s %9s %12s\n' "unlock ($runs runs, median)" "KDF parameters" "wall ms" "peak MiB" "MiB × s"
printf '%-38s %-32s %8s %9s %12s\n' "ttvault show (release)" "argon2id m=$(mib "$mem") MiB t=${iters} p=${lanes}" \
    "$ttvault_ms" "$(mib "$ttvault_rss")" "$(awk -v m="$mem" -v t="$ttvault_ms" 'BEGIN {printf "%.0f", m / 1024 * t / 1000}')"
printf '%-38s %-32s %8s %9s %12s\n' "age -d (age $(age --version))" "scrypt N=2^${log_n} r=8 p=1" \
    "$age_kdf_ms" "$(mib "$age_mem")" "$(awk -v m="$age_mem" -v t="$age_kdf_ms" 'BEGIN {printf "%.0f", m / 1024 * t / 1000}')"
printf '%-38s %-32s %8s\n' "  (age's wall $age_ms ms less pty+python $pty_ms ms)" "" ""
printf '%-38s %-32s %8s %9s\n' "hostile file at the caps (ttvault)" "argon2id m=$(mib "$cap_mem") MiB t=${cap_iters} p=1" \
    "$cap_ms" "$(mib "$cap_rss")"
printf '%-38s %-32s %8s\n' "unlock time ttvault / age" "" "$ratio"
printf '%-38s %-32s %8s\n' "a guess's memory × time, ttvault / age" "" "$cost_ratio"
