//! Integration tests of the server: the real router on a real socket, a real HTTP client.

mod about;
mod health;
mod helpers;
mod identity;
mod pages;
mod security_matrix;
