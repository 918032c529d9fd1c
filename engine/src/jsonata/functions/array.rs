//! Array functions.

use super::{arg, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::{boolean, Evaluator};
use crate::jsonata::function::Builtin;
use crate::jsonata::group::merge_sort;
use crate::jsonata::operators::js_string_cmp;
use crate::jsonata::value::{deep_equal, Flags, Val, Value};
use rand::Rng;

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("append", "<xx:a>", 2, append_fn),
    Builtin::new("sort", "<af?:a>", 2, sort),
    Builtin::new("reverse", "<a:a>", 1, reverse),
    Builtin::new("shuffle", "<a:a>", 1, shuffle),
    Builtin::new("distinct", "<x:x>", 1, distinct),
    Builtin::new("zip", "<a+>", 0, zip),
];

/// `$append` as JSONata defines it: undefined on either side gives the other; otherwise a
/// new (plain) array of both sides' members.
pub(crate) fn append(a: Val, b: Val) -> Val {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => {
            let mut items = match a {
                Value::Array(items, _) => items.to_vec(),
                v => vec![v],
            };
            match b {
                Value::Array(more, _) => items.extend(more.iter().cloned()),
                v => items.push(v),
            }
            Some(Value::array(items))
        }
    }
}

fn append_fn(ev: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let len = |v: &Val| match v {
        Some(Value::Array(items, _)) => items.len(),
        Some(_) => 1,
        None => 0,
    };
    let (a, b) = (arg(args, 0), arg(args, 1));
    ev.check_size(len(&a) + len(&b), 0)?;
    Ok(append(a, b))
}

fn sort(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(array) = arg(args, 0) else {
        return Ok(None);
    };
    let items = match &array {
        Value::Array(items, _) => items.to_vec(),
        v => vec![v.clone()],
    };
    if items.len() <= 1 {
        return Ok(Some(array));
    }
    let sorted = match arg(args, 1) {
        Some(f) => {
            let mut after = |a: &Value, b: &Value| -> Result<bool> {
                let r = ev.call_value(&f, vec![Some(a.clone()), Some(b.clone())], env)?;
                Ok(boolean(&r))
            };
            merge_sort(items, &mut after)?
        }
        None => {
            let all_numbers = items.iter().all(|v| matches!(v, Value::Number(_)));
            let all_strings = items.iter().all(|v| matches!(v, Value::String(_)));
            if !all_numbers && !all_strings {
                return fail(
                    ErrorCode::D3070,
                    "$sort without a comparison function can only sort an array of strings or an array of numbers; give a function as the second argument",
                );
            }
            let mut after = |a: &Value, b: &Value| -> Result<bool> {
                Ok(match (a, b) {
                    (Value::Number(x), Value::Number(y)) => x > y,
                    (Value::String(x), Value::String(y)) => {
                        js_string_cmp(x, y) == std::cmp::Ordering::Greater
                    }
                    _ => false,
                })
            };
            merge_sort(items, &mut after)?
        }
    };
    Ok(Some(Value::array(sorted)))
}

fn reverse(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(array) = arg(args, 0) else {
        return Ok(None);
    };
    let mut items = match &array {
        Value::Array(items, _) if items.len() > 1 => items.to_vec(),
        _ => return Ok(Some(array)),
    };
    items.reverse();
    Ok(Some(Value::array(items)))
}

fn shuffle(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(array) = arg(args, 0) else {
        return Ok(None);
    };
    let mut items = match &array {
        Value::Array(items, _) if items.len() > 1 => items.to_vec(),
        _ => return Ok(Some(array)),
    };
    let mut rng = rand::rng();
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
    Ok(Some(Value::array(items)))
}

fn distinct(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(array) = arg(args, 0) else {
        return Ok(None);
    };
    let (items, flags) = match &array {
        Value::Array(items, flags) if items.len() > 1 => (items, *flags),
        _ => return Ok(Some(array)),
    };
    let mut out: Vec<Value> = Vec::new();
    for v in items.iter() {
        if !out.iter().any(|o| deep_equal(o, v)) {
            out.push(v.clone());
        }
    }
    let flags = if flags.has(Flags::SEQUENCE) {
        Flags::SEQUENCE
    } else {
        Flags::NONE
    };
    Ok(Some(Value::with_flags(out, flags)))
}

fn zip(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let arrays: Vec<Vec<Value>> = (0..args.len())
        .map(|i| match arg(args, i) {
            Some(Value::Array(items, _)) => items.to_vec(),
            _ => Vec::new(),
        })
        .collect();
    let len = arrays.iter().map(Vec::len).min().unwrap_or(0);
    let rows = (0..len)
        .map(|i| Value::array(arrays.iter().filter_map(|a| a.get(i).cloned()).collect()))
        .collect();
    Ok(Some(Value::array(rows)))
}
