//! Request guards that stand in front of every route: cross-site request refusal and sign-in
//! throttling.

pub mod csrf;
pub mod throttle;
