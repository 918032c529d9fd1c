//! Server functions: the only door from the browser to the server.

pub mod about;
