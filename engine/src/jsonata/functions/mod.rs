//! JSONata's function library, plus the functions AWS Step Functions adds (`aws.rs`).
//! Each built-in declares its JSONata signature; arguments are checked against it before
//! the body runs, so bodies only see the types the signature allows.

pub(crate) mod array;
pub(crate) mod aws;
pub(crate) mod datetime;
pub(crate) mod format_number;
pub(crate) mod hof;
pub(crate) mod integer_format;
pub(crate) mod numeric;
pub(crate) mod object;
pub(crate) mod picture;
pub(crate) mod picture_parse;
pub(crate) mod regex;
pub(crate) mod string;
pub(crate) mod url;

use super::error::{ErrorCode, JsonataError, Result};
use super::function::Builtin;
use super::value::{Val, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The argument at `i` (undefined when absent).
pub(crate) fn arg(args: &[Val], i: usize) -> Val {
    args.get(i).cloned().flatten()
}

pub(crate) fn arg_str(args: &[Val], i: usize) -> Option<String> {
    match args.get(i) {
        Some(Some(Value::String(s))) => Some(s.to_string()),
        _ => None,
    }
}

pub(crate) fn arg_num(args: &[Val], i: usize) -> Option<f64> {
    match args.get(i) {
        Some(Some(Value::Number(n))) => Some(*n),
        _ => None,
    }
}

pub(crate) fn arg_items(args: &[Val], i: usize) -> Option<Vec<Value>> {
    match args.get(i) {
        Some(Some(Value::Array(items, _))) => Some(items.to_vec()),
        Some(Some(v)) => Some(vec![v.clone()]),
        _ => None,
    }
}

/// An error raised by a built-in for an argument the signature cannot rule out.
pub(crate) fn fail<T>(code: ErrorCode, message: impl Into<String>) -> Result<T> {
    Err(JsonataError::new(code, message))
}

static LIBRARY: &[&[Builtin]] = &[
    string::FUNCTIONS,
    regex::FUNCTIONS,
    numeric::FUNCTIONS,
    array::FUNCTIONS,
    object::FUNCTIONS,
    hof::FUNCTIONS,
    url::FUNCTIONS,
    datetime::FUNCTIONS,
    format_number::FUNCTIONS,
    integer_format::FUNCTIONS,
    aws::FUNCTIONS,
];

/// The built-in bound to `$name`, if any. AWS's functions come last and replace JSONata's
/// of the same name (`$random` takes a seed in Step Functions).
pub(crate) fn builtin(name: &str) -> Option<&'static Builtin> {
    static INDEX: OnceLock<HashMap<&'static str, &'static Builtin>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            let mut map = HashMap::new();
            for group in LIBRARY {
                for b in group.iter() {
                    map.insert(b.name, b);
                }
            }
            map
        })
        .get(name)
        .copied()
}

/// Every built-in's name, for documentation and tests.
pub(crate) fn names() -> Vec<&'static str> {
    let mut names: Vec<&str> = LIBRARY
        .iter()
        .flat_map(|g| g.iter().map(|b| b.name))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_parses() {
        for name in names() {
            let b = builtin(name).unwrap();
            assert!(b.signature().is_some(), "${name} {}", b.signature);
        }
    }
}
