//! Server functions: the only door from the browser to the server.

pub mod about;
#[cfg(feature = "ssr")]
pub mod access;
pub mod identity;
