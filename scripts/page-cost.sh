#!/usr/bin/env bash
# What one more server-only page costs the browser bundle. Clones the committed tree into a
# temporary folder, builds the wasm as it ships (`cargo leptos build --release
# --frontend-only`), then adds a throw-away page — its own server function, its own route, a
# table and a GET form (scripts/page-cost/) — builds again and prints both sizes. With the
# pages as islands the difference should stay within a few hundred bytes: pages are not in
# the bundle. Shares the cargo target folder, so after a release build only the app and
# frontend crates compile (about a minute each here).
#
#   scripts/page-cost.sh
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo_root/target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo_root" "$work/tree"
cd "$work/tree"

measure() {
  cargo leptos build --release --frontend-only >"$work/build-$1.log" 2>&1 || {
    cat "$work/build-$1.log" >&2
    exit 1
  }
  local wasm=target/site/pkg/gatehouse.wasm
  printf '%-22s %8d bytes %8d gzip\n' "$1" "$(wc -c <"$wasm")" "$(gzip -9 -c "$wasm" | wc -c)"
}

measure "as committed"
cp "$repo_root/scripts/page-cost/functions.rs" app/src/functions/throwaway.rs
cp "$repo_root/scripts/page-cost/route.rs" app/src/routes/throwaway.rs
echo 'pub mod throwaway;' >>app/src/functions/mod.rs
echo 'pub mod throwaway;' >>app/src/routes/mod.rs
route='<Route path=path!("/throwaway") ssr=SsrMode::Async view=crate::routes::throwaway::ThrowawayPage/>'
anchor='<Route path=path!("/about") ssr=SsrMode::Async view=AboutPage/>'
grep -qF "$anchor" app/src/lib.rs || {
  echo "page-cost: the /about route in app/src/lib.rs changed; update the anchor here" >&2
  exit 1
}
sed -i "s|$(printf '%s' "$anchor" | sed 's/[][\.*^$|]/\\&/g')|&\n                    $route|" app/src/lib.rs
grep -qF '/throwaway' app/src/lib.rs
measure "with a throw-away page"
