#!/usr/bin/env bash
# Lists the biggest contributors to the browser bundle: the top N functions and data of the
# site's wasm as twiggy (crates.io) measures them. The wasm rustc built goes through the same
# wasm-bindgen and `wasm-opt -Oz` as the site's, but keeping the function names (`-g`), so the
# sizes are close to what ships and every row is named. Installs twiggy into
# /opt/gatehouse/bin on first use.
#
#   scripts/wasm-top.sh [N]          (N defaults to 10; run `cargo leptos build --release` first)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"
TWIGGY_VERSION=0.8.0
count=${1:-10}
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
wasm=${WASM:-$target_dir/front/wasm32-unknown-unknown/wasm-release/frontend.wasm}
[ -f "$wasm" ] || {
  echo "missing $wasm: run 'cargo leptos build --release' first" >&2
  exit 1
}
if ! command -v twiggy >/dev/null 2>&1; then
  echo "[wasm-top] installing twiggy $TWIGGY_VERSION into $GATEHOUSE_TOOLS/bin" >&2
  cargo install twiggy --version "=$TWIGGY_VERSION" --locked --root "$GATEHOUSE_TOOLS" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
wasm-bindgen --target web --out-dir "$work" --out-name bundle "$wasm"
wasm-opt -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$work/bundle_bg.wasm" -o "$work/named.wasm"
echo "$(wc -c <"$work/named.wasm") bytes with names ($(gzip -6 -c "$work/named.wasm" | wc -c) gzip)"
twiggy top -n "$count" "$work/named.wasm"
