//! Object functions, `$type`, `$error`, `$assert`, and `$clone` (which transforms use).

use super::{arg, arg_items, arg_str, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::{boolean, lookup_field, Evaluator};
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{too_deep, Val, Value, MAX_VALUE_DEPTH};
use indexmap::IndexMap;

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("keys", "<x-:a<s>>", 1, keys),
    Builtin::new("lookup", "<x-s:x>", 2, lookup),
    Builtin::new("spread", "<x-:a<o>>", 1, spread),
    Builtin::new("merge", "<a<o>:o>", 1, merge),
    Builtin::new("sift", "<o-f?:o>", 2, sift),
    Builtin::new("each", "<o-f:a>", 2, each),
    Builtin::new("error", "<s?:x>", 1, error),
    Builtin::new("assert", "<bs?:x>", 2, assert),
    Builtin::new("type", "<x:s>", 1, type_of),
    Builtin::new("clone", "<(oa)-:o>", 1, clone),
];

fn collect_keys(v: &Value, out: &mut IndexMap<String, ()>, depth: usize) -> Result<()> {
    if depth > MAX_VALUE_DEPTH {
        return too_deep();
    }
    match v {
        Value::Array(items, _) => {
            for item in items.iter() {
                collect_keys(item, out, depth + 1)?;
            }
        }
        Value::Object(members) => {
            for k in members.keys() {
                out.insert(k.clone(), ());
            }
        }
        _ => {}
    }
    Ok(())
}

fn keys(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(v) = arg(args, 0) else {
        return Ok(Some(Value::seq(Vec::new())));
    };
    let mut out = IndexMap::new();
    collect_keys(&v, &mut out, 0)?;
    Ok(Some(Value::seq(
        out.into_keys().map(Value::string).collect(),
    )))
}

fn lookup(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let key = arg_str(args, 1).unwrap_or_default();
    lookup_field(&arg(args, 0), &key, 0)
}

fn spread_into(v: &Value, out: &mut Vec<Value>, depth: usize) -> Result<()> {
    if depth > MAX_VALUE_DEPTH {
        return too_deep();
    }
    match v {
        Value::Array(items, _) => {
            for item in items.iter() {
                spread_into(item, out, depth + 1)?;
            }
        }
        Value::Object(members) => {
            for (k, val) in members.iter() {
                let mut one = IndexMap::new();
                one.insert(k.clone(), val.clone());
                out.push(Value::object(one));
            }
        }
        other => out.push(other.clone()),
    }
    Ok(())
}

fn spread(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    if !matches!(v, Value::Array(..) | Value::Object(_)) {
        return Ok(Some(v));
    }
    let mut out = Vec::new();
    spread_into(&v, &mut out, 0)?;
    Ok(Some(Value::seq(out)))
}

fn merge(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(items) = arg_items(args, 0) else {
        return Ok(None);
    };
    let mut out = IndexMap::new();
    for item in items {
        if let Value::Object(members) = item {
            for (k, v) in members.iter() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Some(Value::object(out)))
}

/// The arguments a function passed to a higher-order function receives, by its arity:
/// the value, then the key or index, then the whole object or array.
pub(crate) fn hof_args(f: &Value, value: Value, key: Value, whole: &Value) -> Vec<Val> {
    let arity = match f {
        Value::Function(func) => func.arity(),
        _ => 1,
    };
    let mut args = vec![Some(value)];
    if arity >= 2 {
        args.push(Some(key));
    }
    if arity >= 3 {
        args.push(Some(whole.clone()));
    }
    args
}

fn sift(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(obj @ Value::Object(_)) = arg(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let Value::Object(members) = &obj else {
        return Ok(None);
    };
    let mut out = IndexMap::new();
    for (k, v) in members.iter() {
        let call_args = hof_args(&f, v.clone(), Value::str(k), &obj);
        if boolean(&ev.call_value(&f, call_args, env)?) {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(if out.is_empty() {
        None
    } else {
        Some(Value::object(out))
    })
}

fn each(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(obj @ Value::Object(_)) = arg(args, 0) else {
        return Ok(Some(Value::seq(Vec::new())));
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let Value::Object(members) = &obj else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (k, v) in members.iter() {
        let call_args = hof_args(&f, v.clone(), Value::str(k), &obj);
        if let Some(r) = ev.call_value(&f, call_args, env)? {
            out.push(r);
        }
    }
    Ok(Some(Value::seq(out)))
}

fn error(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let message = arg_str(args, 0)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "$error() function evaluated".into());
    fail(ErrorCode::D3137, message)
}

fn assert(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let ok = matches!(arg(args, 0), Some(Value::Bool(true)));
    if !ok {
        let message = arg_str(args, 1)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "$assert() statement failed".into());
        return fail(ErrorCode::D3141, message);
    }
    Ok(None)
}

fn type_of(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg(args, 0).map(|v| Value::str(v.type_name())))
}

/// A deep copy with fresh identities, numbers as `$string` would print them, functions as
/// empty strings: what the reference implementation's JSON round trip produces.
pub(crate) fn deep_copy(v: &Value, depth: usize) -> Result<Value> {
    if depth > MAX_VALUE_DEPTH {
        return too_deep();
    }
    Ok(match v {
        Value::Number(n) => Value::Number(super::string::precision15(*n)),
        Value::Function(_) => Value::str(""),
        Value::Array(items, _) => Value::array(
            items
                .iter()
                .map(|i| deep_copy(i, depth + 1))
                .collect::<Result<_>>()?,
        ),
        Value::Object(members) => {
            let mut out = IndexMap::with_capacity(members.len());
            for (k, val) in members.iter() {
                out.insert(k.clone(), deep_copy(val, depth + 1)?);
            }
            Value::object(out)
        }
        other => other.clone(),
    })
}

fn clone(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    match arg(args, 0) {
        None => Ok(None),
        Some(v) => Ok(Some(deep_copy(&v, 0)?)),
    }
}
