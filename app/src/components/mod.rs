//! Reusable pieces of UI.

pub mod nav;
pub mod role_gate;
pub mod session;
pub mod theme;
