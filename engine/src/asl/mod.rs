//! The Amazon States Language (JSONPath and JSONata states): definitions, paths, templates,
//! choice rules, intrinsic functions, JSONata fields and workflow variables. Pure data and
//! functions, no I/O.

pub mod assign;
pub mod choice;
pub mod definition;
pub mod intrinsics;
pub mod jsonpath;
pub mod query;
pub mod substitutions;
pub mod template;
pub mod variables;
