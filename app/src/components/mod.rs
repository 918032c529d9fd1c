//! Reusable pieces of UI.

pub mod countdown;
pub mod error_banner;
pub mod form_outcome;
pub mod live;
pub mod nav;
pub mod navigation;
pub mod role_gate;
pub mod session;
pub mod status;
pub mod theme;
