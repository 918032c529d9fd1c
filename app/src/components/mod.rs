//! Reusable pieces of UI.

pub mod error_banner;
pub mod nav;
pub mod role_gate;
pub mod session;
pub mod status;
pub mod theme;
