#!/usr/bin/env bash
# Runs every check Gatehouse has, in the order a reviewer would want them to fail:
# formatting; clippy (-D warnings) on every package and target, server side and wasm side;
# unit, integration and doc tests; the release build (server + size-tuned wasm); the bundle
# size gate; and the browser tests in headless Chromium. Installs the toolchain first if needed.
#
# Everything native is built once, with the release profile: the tests, the release server and
# the browser tests' server share one build of every dependency (the workspace-hack crate keeps
# their features identical), and clippy runs as the compiler of the workspace's own crates
# during those same builds instead of in a check build of its own. A cold run compiles the AWS
# SDK, Leptos and axum once, not three times. See "What the scripts do" in the README.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
"$repo_root/scripts/bootstrap.sh"
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"

started=$SECONDS
step_started=$SECONDS
step_name=""
finish_step() {
  if [ -n "$step_name" ]; then
    printf '== %s: %s s\n' "$step_name" "$((SECONDS - step_started))"
  fi
}
step() {
  finish_step
  step_name=$*
  step_started=$SECONDS
  printf '\n== %s (at %s s)\n' "$*" "$((SECONDS - started))"
}
trap finish_step EXIT

# clippy-driver is rustc plus clippy's lints. As cargo's wrapper for workspace members (what
# `cargo clippy` itself does, in a check build) it lints the crates while they are compiled for
# real, so the lints cost no second build; dependencies are compiled by plain rustc as always.
# -D warnings makes any lint, clippy's or rustc's, fail the build.
clippy_driver=$(command -v clippy-driver) ||
  {
    echo "clippy-driver not found (Debian package rust-web-clippy)" >&2
    exit 1
  }
linted() {
  RUSTC_WORKSPACE_WRAPPER="$clippy_driver" \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" "$@"
}

# The native packages tested together, so they resolve one dependency graph (the engine's tests
# turn on tokio's paused clock, which the server must not have, so the engine has its own).
native=(--workspace --exclude frontend --exclude engine)

# Fails when a server build compiles a crate that is not the workspace's own: every dependency
# must come from the test build above. The message names the crate; its feature goes into
# workspace-hack/Cargo.toml.
reuses_test_build() {
  local compiled
  compiled=$(linted cargo build --release -p server --bin gatehouse "$@" --message-format=json-render-diagnostics |
    python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and not message["fresh"]:
        if not message["package_id"].startswith("path+file://"):
            print(message["package_id"], message["target"]["name"], sorted(message["features"]))
')
  if [ -n "$compiled" ]; then
    printf 'the release server (cargo build --release -p server %s) compiled dependencies the tests had built with other features:\n%s\n' \
      "$*" "$compiled" >&2
    echo "add the features the test build uses to workspace-hack/Cargo.toml" >&2
    return 1
  fi
}

step "formatting"
cargo fmt --all -- --check

step "build and clippy: app (ssr), server, end2end, their tests and benches (release profile)"
linted cargo test --release "${native[@]}" --all-targets --no-run

step "build and clippy: engine and its tests (release profile)"
linted cargo test --release -p engine --all-targets --no-run

step "build and clippy: release servers, with aws mode and local-only, from the tests' dependencies"
reuses_test_build
# Kept apart for the dashboard image's tests: the local-only builds below write release/gatehouse.
target_dir=${CARGO_TARGET_DIR:-$repo_root/target}
cp "$target_dir/release/gatehouse" "$target_dir/release/gatehouse-aws"
reuses_test_build --no-default-features

step "infrastructure: cfn-lint, sam validate, the stacks deployed into moto (infra/tests)"
# After the engine's build, which made the gatehouse-engine binary that validates the deployed
# state machine. No Rust build of its own. The tests that need the site come after its build.
"$repo_root/scripts/check-infra.sh" -m "not dashboard_server"

step "unit, integration and doc tests"
# Eight threads: the integration tests mostly wait (on moto, timers, servers they start):
# measured on 2 cores, 91 s with the default two threads, 58 s with four, 43 s with eight.
linted cargo test --release "${native[@]}" --exclude end2end -- --test-threads=8
linted cargo test --release -p engine

step "release build and wasm clippy: cargo leptos build --release (local-only server, size-tuned wasm)"
linted cargo leptos build --release

step "bundle size"
# The pages are Leptos islands: only the top bar's four islands (navigation, live updates,
# countdowns, theme switch) are in the bundle, and no page adds to it. That took the first
# visit from 467.4 KB gzip (every page hydrated from one bundle) to 91.1 KB; the gate is that
# figure plus 10 KB, so a new island or a dependency pulled into the browser shows at once.
"$repo_root/scripts/size-report.sh" --max-kb 101

step "infrastructure: the dashboard image's layout served, a run approved through Gatehouse on the stacks in moto"
# The aws-mode server kept above and the site just built, staged as the Dockerfile lays them out,
# with the dashboard stack's environment (infra/tests/test_dashboard_server.py).
GATEHOUSE_SERVER_BIN="$target_dir/release/gatehouse-aws" GATEHOUSE_SITE_ROOT="$repo_root/target/site" \
  "$repo_root/scripts/check-infra.sh" -m dashboard_server

step "browser tests (headless Chromium)"
linted cargo test --release "${native[@]}" --test browser

step "all checks passed"
step_name=""
printf 'total: %s s\n' "$((SECONDS - started))"
