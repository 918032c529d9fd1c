//! Empty on purpose: cargo resolves build dependencies only for a package with a build script,
//! and the `syn` build dependency exists to unify its features for proc-macros (see Cargo.toml).
fn main() {}
