#!/usr/bin/env bash
# Before touching a parser: build every fuzz target with sanitizers, as cargo fuzz does, and
# run each one for a short while from its committed seeds. CI only type-checks the targets
# (.ci/run); this is the real thing, minutes per run.
#
#   fuzz/run.sh                  # every target, 30 s each
#   fuzz/run.sh 120 dotenv payload
#
# New inputs go to fuzz/corpus/TARGET (gitignored), crashes to fuzz/artifacts/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
# There is no nightly toolchain here; cargo-fuzz's -Z flags work on stable with this set.
export RUSTC_BOOTSTRAP=1
cargo fuzz build
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
for target in "${targets[@]}"; do
  corpus=("fuzz/corpus/$target")
  mkdir -p "${corpus[0]}"
  [ -d "fuzz/seeds/$target" ] && corpus+=("fuzz/seeds/$target")
  # A KDF cost the caps let through must show as an out-of-memory or a timeout.
  limits=(-rss_limit_mb=2048 -timeout=60)
  printf '\n== %s (%ss)\n' "$target" "$seconds"
  cargo fuzz run "$target" "${corpus[@]}" -- -max_total_time="$seconds" "${limits[@]}"
done
