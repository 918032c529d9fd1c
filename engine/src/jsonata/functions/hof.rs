//! Higher-order functions: `$map`, `$filter`, `$single`, `$reduce`.

use super::object::hof_args;
use super::{arg, arg_items, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::{boolean, Evaluator};
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{Val, Value};

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("map", "<af>", 2, map),
    Builtin::new("filter", "<af>", 2, filter),
    Builtin::new("single", "<af?>", 2, single),
    Builtin::new("reduce", "<afj?:j>", 3, reduce),
];

fn map(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(items) = arg_items(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let whole = Value::array(items.clone());
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let call_args = hof_args(&f, item, Value::Number(i as f64), &whole);
        if let Some(r) = ev.call_value(&f, call_args, env)? {
            out.push(r);
        }
    }
    Ok(Some(Value::seq(out)))
}

fn filter(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(items) = arg_items(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let whole = Value::array(items.clone());
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let call_args = hof_args(&f, item.clone(), Value::Number(i as f64), &whole);
        if boolean(&ev.call_value(&f, call_args, env)?) {
            out.push(item);
        }
    }
    Ok(Some(Value::seq(out)))
}

fn single(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(items) = arg_items(args, 0) else {
        return Ok(None);
    };
    let f = arg(args, 1);
    let whole = Value::array(items.clone());
    let mut found = None;
    for (i, item) in items.into_iter().enumerate() {
        let matches = match &f {
            Some(f) => {
                let call_args = hof_args(f, item.clone(), Value::Number(i as f64), &whole);
                boolean(&ev.call_value(f, call_args, env)?)
            }
            None => true,
        };
        if matches {
            if found.is_some() {
                return fail(
                    ErrorCode::D3138,
                    "$single() expected exactly one matching result, but more matched",
                );
            }
            found = Some(item);
        }
    }
    match found {
        Some(v) => Ok(Some(v)),
        None => fail(
            ErrorCode::D3139,
            "$single() expected exactly one matching result, but none matched",
        ),
    }
}

fn reduce(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(items) = arg_items(args, 0) else {
        return Ok(None);
    };
    let Some(f) = arg(args, 1) else {
        return Ok(None);
    };
    let arity = match &f {
        Value::Function(func) => func.arity(),
        _ => 0,
    };
    if arity < 2 {
        return fail(
            ErrorCode::D3050,
            "The second argument of $reduce must be a function taking at least two arguments",
        );
    }
    let whole = Value::array(items.clone());
    let mut iter = items.into_iter().enumerate();
    let mut acc = match arg(args, 2) {
        Some(init) => Some(init),
        None => iter.next().map(|(_, v)| v),
    };
    for (i, item) in iter {
        let mut call_args = vec![acc, Some(item)];
        if arity >= 3 {
            call_args.push(Some(Value::Number(i as f64)));
        }
        if arity >= 4 {
            call_args.push(Some(whole.clone()));
        }
        acc = ev.call_value(&f, call_args, env)?;
    }
    Ok(acc)
}
