#!/usr/bin/env bash
# Builds Gatehouse (release) and starts it in local mode on http://127.0.0.1:3000.
# Installs the toolchain first if needed. Extra arguments go to the server (see --help).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
"$repo_root/scripts/bootstrap.sh"
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"

cargo leptos build --release
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
exec "$target_dir/release/gatehouse" --site-root "$repo_root/target/site" "$@"
