#!/usr/bin/env bash
# Runs the fuzz targets with cargo-fuzz (libFuzzer), one after the other: the machine has two
# cores, and a target running alone gets the same coverage per minute every time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS is each target's time (default 600). TARGETs are `app/<name>` or `engine/<name>`;
# without any, every target of app/fuzz and engine/fuzz runs. The summary at the end gives each
# target's time, executions and whether it crashed; a crash leaves its input under
# <crate>/fuzz/artifacts/<target>/ and the script fails.
#
# cargo-fuzz is installed once into /var/cache/gatehouse/cargo-fuzz. It passes the compiler
# unstable flags (-Z), which the stable compiler the project builds with takes with
# RUSTC_BOOTSTRAP=1. The parsers are safe Rust, so the targets are built without a sanitizer
# (`--sanitizer none`: the Debian compiler ships no AddressSanitizer runtime) but with debug
# assertions and overflow checks, so arithmetic that would wrap is a crash too.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"

seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(app/evidence_csv app/start_input app/audit_filter app/inference_rows engine/asl engine/jsonata_states)
fi

tools=/var/cache/gatehouse/cargo-fuzz
if [ ! -x "$tools/bin/cargo-fuzz" ]; then
  cargo install cargo-fuzz --version 0.13.2 --locked --root "$tools"
fi
export PATH="$tools/bin:$PATH"
export RUSTC_BOOTSTRAP=1
target_dir=${CARGO_TARGET_DIR_FUZZ:-/var/cache/gatehouse/target-fuzz}

summary=()
failed=0
for target in "${targets[@]}"; do
  crate=${target%%/*}
  name=${target#*/}
  corpus="$repo_root/$crate/fuzz/corpus/$name"
  mkdir -p "$corpus"
  log=$(mktemp)
  started=$SECONDS
  if (cd "$repo_root/$crate/fuzz" &&
    cargo fuzz run --sanitizer none --release --debug-assertions --target-dir "$target_dir" \
      "$name" "$corpus" -- -max_total_time="$seconds" -print_final_stats=1) >"$log" 2>&1; then
    outcome="no crash"
  else
    outcome="CRASH or build failure (see $log)"
    failed=1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1 || true)
  summary+=("$(printf '%-22s %5d s  %12s runs  %s' "$target" "$((SECONDS - started))" "${runs:-?}" "$outcome")")
  tail -3 "$log"
done
printf '\n%s\n' "${summary[@]}"
exit "$failed"
