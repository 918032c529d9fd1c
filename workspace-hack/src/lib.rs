//! Nothing to see: this crate only turns on dependency features (see its Cargo.toml) so that
//! the tests and the release server resolve one dependency graph and build it once.
