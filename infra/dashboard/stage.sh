#!/usr/bin/env bash
# Puts the aws-mode release server and the built site into infra/dashboard/.build, the Docker
# context of infra/dashboard/Dockerfile, so the image build sends two things instead of the
# whole target folder. Build them first, on Debian 12 (scripts/bootstrap.sh installs the tools):
#   cargo leptos build --release --bin-features aws
# The server comes from ${CARGO_TARGET_DIR:-target}/release/gatehouse, the site from target/site.
# Settings, for a server, site or context kept elsewhere (the test command keeps its aws-mode
# server apart from the local-only one that later overwrites release/gatehouse; the infra tests
# stage into a folder of their own):
#   GATEHOUSE_SERVER_BIN  the aws-mode server to stage (default above)
#   GATEHOUSE_SITE_ROOT   the built site, with pkg/ (default above)
#   GATEHOUSE_STAGE_DIR   the folder to fill, emptied first (default infra/dashboard/.build)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
server=${GATEHOUSE_SERVER_BIN:-$target_dir/release/gatehouse}
site=${GATEHOUSE_SITE_ROOT:-$repo_root/target/site}
out=${GATEHOUSE_STAGE_DIR:-$repo_root/infra/dashboard/.build}

die() {
  printf 'stage: %s\n' "$*" >&2
  exit 1
}

[ -x "$server" ] || die "no server at $server: run 'cargo leptos build --release --bin-features aws' first"
# A local-only build carries the sentence it refuses aws mode with; an aws build does not.
if grep -q "was built for local mode only" "$server"; then
  die "$server was built without the aws feature: run 'cargo leptos build --release --bin-features aws'"
fi
compgen -G "$site/pkg/*.wasm" >/dev/null || die "no wasm bundle under $site/pkg: the site was not built"

# Emptied first: refuse a folder that holds something other than an earlier staging.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/Dockerfile" ]; then
  die "$out is not empty and holds no staged image: name a new or empty folder"
fi
rm -rf "$out"
mkdir -p "$out"
cp "$server" "$out/gatehouse"
cp -r "$site" "$out/site"
cp "$repo_root/infra/dashboard/Dockerfile" "$out/Dockerfile"
printf 'staged %s (%s bytes) and %s into %s\n' "$server" "$(stat -c %s "$server")" "$site" "$out"
