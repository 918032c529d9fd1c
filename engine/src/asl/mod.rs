//! The Amazon States Language (JSONPath dialect): definitions, paths, templates, choice
//! rules and intrinsic functions. Pure data and functions, no I/O.

pub mod choice;
pub mod definition;
pub mod intrinsics;
pub mod jsonpath;
pub mod substitutions;
pub mod template;
