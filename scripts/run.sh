#!/usr/bin/env bash
# Builds Gatehouse (release, local mode only) and starts it on http://127.0.0.1:3000.
# Installs the toolchain first if needed. Extra arguments go to the server (see --help).
#
# Local mode needs none of the AWS SDK, so this build leaves it out (the server's `aws`
# feature): that is half of what a cold release build compiles. For aws mode, build with
# `cargo leptos build --release --bin-features aws`.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

started=$SECONDS
stage_started=$SECONDS
stage() {
  stage_started=$SECONDS
  printf '[run] %s\n' "$*" >&2
}
done_stage() {
  printf '[run] %s (%s s; %s s so far)\n' "$*" "$((SECONDS - stage_started))" "$((SECONDS - started))" >&2
}

stage "1/3 toolchain: checking (a fresh machine installs it first: about 22 min)"
"$repo_root/scripts/bootstrap.sh"
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"
done_stage "1/3 toolchain ready"

target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
if [ -x "$target_dir/release/gatehouse" ]; then
  stage "2/3 build: server and browser bundle (release); only what changed is rebuilt"
else
  stage "2/3 build: server and browser bundle (release). A first build compiles about 520 crates: about 11 min on 2 cores (measured 10 min 49 s), most of it the server's dependencies; later builds take a minute or two"
fi
cargo leptos build --release
done_stage "2/3 built"

stage "3/3 starting Gatehouse (local mode) on http://127.0.0.1:3000"
exec "$target_dir/release/gatehouse" --site-root "$repo_root/target/site" "$@"
