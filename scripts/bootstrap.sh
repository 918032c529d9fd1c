#!/usr/bin/env bash
# Installs everything Gatehouse needs to build and test on Debian 12 (bookworm), as root.
#
# Idempotent: each step checks first and says "ok" when there is nothing to do. What it sets up:
#   1. Debian packages: Rust 1.96 (rustc-web, cargo-web, rust-web-src, rust-web-llvm,
#      rust-web-clippy, rustfmt-web), lld-22 (rust-lld points at it), Chromium and its
#      WebDriver for the browser tests, Node.js/npm (for wasm-opt), Python venv (for moto).
#   2. The wasm32-unknown-unknown standard library, built once from rust-web-src, because
#      rustup cannot download targets here. It lives in /opt/gatehouse/sysroots/<key>, keyed by
#      `rustc -vV` so a compiler update builds a matching one; /opt/gatehouse/wasm32-sysroot
#      points at the current one and .cargo/config.toml hands it to rustc for wasm32 only.
#   3. cargo-leptos (without its downloader), wasm-bindgen-cli at exactly the version in
#      Cargo.lock, and wasm-opt from the npm package binaryen (Debian's binaryen 108 emits a
#      wasm that fails to hydrate) into /opt/gatehouse/bin.
#   4. moto (the AWS-API server the AWS adapters are tested against, on loopback) in a Python
#      venv at /opt/gatehouse/moto, with its CloudFormation support (the infra deploy test creates
#      the SAM stacks in it); testsupport/moto/launcher.py runs it.
#   5. The infrastructure checks' tools in a Python venv at /opt/gatehouse/infra-tools: cfn-lint,
#      aws-sam-cli (sam validate --lint), aws-sam-translator and pytest; scripts/check-infra.sh
#      runs them.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
source "$repo_root/scripts/env.sh"

CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_VERSION=132.0.0
MOTO_VERSION=5.2.5
SAM_CLI_VERSION=1.170.0
SAM_TRANSLATOR_VERSION=1.115.0
CFN_LINT_VERSION=1.58.0
PYTEST_VERSION=9.2.0
MIN_RUSTC=1.96
tools=$GATEHOUSE_TOOLS

say() { printf '[bootstrap] %s\n' "$*" >&2; }
die() {
  printf '[bootstrap] error: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "this step needs root (or sudo): $*"
  fi
}

debian_packages() {
  [ -r /etc/debian_version ] || die "Debian 12 (bookworm) is required; this is not Debian."
  local wanted=(rustc-web cargo-web rust-web-src rust-web-llvm rust-web-clippy rustfmt-web lld-22
    chromium chromium-driver fonts-dejavu-core python3-venv gzip git ca-certificates pkg-config)
  # A machine with Node.js from elsewhere (e.g. NodeSource) keeps it; plain Debian gets its own.
  command -v npm >/dev/null 2>&1 || wanted+=(nodejs npm)
  local missing=()
  for package in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "ok: Debian packages present"
    return
  fi
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q ||
    die "apt-get update failed (rustc-web comes from bookworm-security: is it in sources.list?)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" || die "apt-get install ${missing[*]} failed"
}

check_compiler() {
  local release
  release=$(rustc -vV 2>/dev/null | sed -n 's/^release: //p')
  [ -n "$release" ] || die "rustc not found on PATH after installing rustc-web"
  local version_sorted
  version_sorted=$(printf '%s\n%s\n' "$MIN_RUSTC" "$release" | sort -V | head -n 1)
  [ "$version_sorted" = "$MIN_RUSTC" ] || die "rustc $release is older than $MIN_RUSTC"
  [ "$(command -v cargo)" = /usr/bin/cargo ] ||
    die "cargo on PATH is $(command -v cargo), expected Debian's /usr/bin/cargo"
  say "ok: rustc $release and cargo from Debian"
}

wasm_sysroot() {
  local host key sysroot lib build
  host=$(rustc -vV | sed -n 's/^host: //p')
  key=$(rustc -vV | sha256sum | cut -c1-16)
  sysroot=$tools/sysroots/$key
  lib=$sysroot/lib/rustlib/wasm32-unknown-unknown/lib
  if [ -f "$sysroot/.complete" ]; then
    say "ok: wasm32 standard library for this rustc ($key)"
  else
    say "building the wasm32 standard library from rust-web-src (once per compiler version)"
    build=$tools/build/wasm-std
    rm -rf "$build" "$sysroot"
    mkdir -p "$build/src" "$lib"
    cat >"$build/Cargo.toml" <<'TOML'
[package]
name = "wasm-std-seed"
version = "0.0.0"
edition = "2021"

[lib]
path = "src/lib.rs"

[workspace]
TOML
    printf '#![no_std]\n' >"$build/src/lib.rs"
    # Bitcode is embedded so the size-tuned wasm profile can run LTO across std as well.
    (cd "$build" && RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" CARGO_TARGET_DIR="$build/target" \
      cargo build --release -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown) ||
      die "building the wasm32 standard library failed"
    find "$build/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' \
      ! -name 'libwasm_std_seed-*' -exec cp {} "$lib/" \;
    # Host tools (rust-lld's gcc-ld shims) are found through the sysroot too.
    ln -sfn "/usr/lib/rustlib/$host" "$sysroot/lib/rustlib/$host"
    touch "$sysroot/.complete"
    rm -rf "$build"
  fi
  if [ "$(readlink "$tools/wasm32-sysroot" 2>/dev/null)" != "$sysroot" ]; then
    ln -sfn "$sysroot" "$tools/wasm32-sysroot"
    say "pointed $tools/wasm32-sysroot at $sysroot"
  fi
}

cargo_leptos() {
  if [ "$("$tools/bin/cargo-leptos" --version 2>/dev/null)" = "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    say "ok: cargo-leptos $CARGO_LEPTOS_VERSION"
    return
  fi
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (a long compile, once)"
  # --debug: it only orchestrates builds, and compiling it optimised (its release profile
  # even asks for fat LTO) was the longest step of a cold bootstrap on two cores.
  # Without debug info, too: nobody debugs it, and it makes a 690 MB binary.
  CARGO_PROFILE_DEV_DEBUG=false \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --debug \
      --root "$tools" || die "installing cargo-leptos failed"
}

wasm_bindgen() {
  local version
  version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' \
    "$repo_root/Cargo.lock")
  [ -n "$version" ] || die "no wasm-bindgen version in Cargo.lock"
  if [ "$("$tools/bin/wasm-bindgen" --version 2>/dev/null)" = "wasm-bindgen $version" ]; then
    say "ok: wasm-bindgen $version"
    return
  fi
  say "installing wasm-bindgen-cli $version (the version Cargo.lock pins)"
  # Not --locked: the CLI's own lock file may not build with this compiler, and only its
  # version has to match the library's.
  cargo install wasm-bindgen-cli --version "=$version" --root "$tools" ||
    die "installing wasm-bindgen-cli $version failed"
}

wasm_opt() {
  if "$tools/bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
    say "ok: wasm-opt (binaryen $BINARYEN_VERSION)"
    return
  fi
  say "installing wasm-opt from npm binaryen@$BINARYEN_VERSION"
  mkdir -p "$tools/binaryen" "$tools/bin"
  npm install --prefix "$tools/binaryen" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >&2 ||
    die "npm install binaryen failed"
  ln -sfn "$tools/binaryen/node_modules/.bin/wasm-opt" "$tools/bin/wasm-opt"
}

moto() {
  local venv=$tools/moto
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ] &&
    "$venv/bin/python" -c 'import moto.server, flask, joserfc, cfnlint, graphql, jsonpath_ng, aws_xray_sdk' 2>/dev/null; then
    say "ok: moto $MOTO_VERSION in $venv"
    return
  fi
  say "installing moto $MOTO_VERSION into $venv (a Python venv)"
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "moto[server,cognitoidp,stepfunctions,sagemaker,dynamodb,s3,cloudformation]==$MOTO_VERSION" >&2 ||
    die "pip install moto $MOTO_VERSION failed"
}

infra_tools() {
  local venv=$tools/infra-tools
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(" ".join(m.version(p) for p in ("aws-sam-cli", "aws-sam-translator", "cfn-lint", "pytest")))' 2>/dev/null)" = \
    "$SAM_CLI_VERSION $SAM_TRANSLATOR_VERSION $CFN_LINT_VERSION $PYTEST_VERSION" ]; then
    say "ok: aws-sam-cli $SAM_CLI_VERSION, aws-sam-translator $SAM_TRANSLATOR_VERSION, cfn-lint $CFN_LINT_VERSION in $venv"
    return
  fi
  say "installing aws-sam-cli $SAM_CLI_VERSION, aws-sam-translator $SAM_TRANSLATOR_VERSION, cfn-lint $CFN_LINT_VERSION, pytest $PYTEST_VERSION into $venv (a Python venv)"
  [ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv "$venv" || die "python3 -m venv $venv failed"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "aws-sam-cli==$SAM_CLI_VERSION" "aws-sam-translator==$SAM_TRANSLATOR_VERSION" \
    "cfn-lint==$CFN_LINT_VERSION" "pytest==$PYTEST_VERSION" >&2 ||
    die "pip install of the infrastructure tools failed"
}

mkdir -p "$tools/bin"
debian_packages
check_compiler
wasm_sysroot
cargo_leptos
wasm_bindgen
wasm_opt
moto
infra_tools
say "toolchain ready"
