//! One module per page.

pub mod about;
pub mod not_built;
pub mod not_found;
