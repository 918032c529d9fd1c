//! Integration tests of the server: the real router on a real socket, a real HTTP client.

mod about;
mod health;
mod helpers;
mod pages;
