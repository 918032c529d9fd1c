# Sourced by the project's scripts: puts the toolchain the project builds with first on PATH.
#
# Debian's rustc/cargo 1.96 (packages rustc-web, cargo-web) live in /usr/bin and must win over
# a rustup toolchain in ~/.cargo/bin: the wasm32 standard library in /opt/gatehouse is built
# by, and only usable with, exactly that compiler. /opt/gatehouse/bin holds cargo-leptos,
# wasm-bindgen and wasm-opt as scripts/bootstrap.sh installs them.

GATEHOUSE_TOOLS=/opt/gatehouse
export PATH="$GATEHOUSE_TOOLS/bin:/usr/bin:$PATH"
