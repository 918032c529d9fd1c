//! The functions AWS Step Functions adds to JSONata, as
//! https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html
//! ("JSONata functions provided by Step Functions") describes them: `$partition`,
//! `$range`, `$hash`, `$random` (which, unlike JSONata's, takes a seed), `$uuid`, `$parse`.
//! "Built-in JSONata functions that require integer values as parameters will automatically
//! round down any non-integer numbers provided." `$eval` is not supported in Step Functions,
//! and this library does not provide it.

use super::{arg, arg_items, arg_num, arg_str, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::Evaluator;
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{js_number, Val, Value};
use rand::{Rng, SeedableRng};

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("partition", "<an?:a>", 2, partition),
    Builtin::new("range", "<nnn:a>", 3, range),
    Builtin::new("hash", "<ss:s>", 2, hash),
    Builtin::new("random", "<n?:n>", 1, random),
    Builtin::new("uuid", "<:s>", 0, uuid),
    Builtin::new("parse", "<s:x>", 1, parse),
];

/// `$partition(array, size)`: the array cut into chunks of `size` (the last may be shorter).
fn partition(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(items) = arg_items(args, 0) else { return Ok(None) };
    let size = match arg_num(args, 1) {
        None => items.len().max(1) as f64,
        Some(n) => n.floor(),
    };
    if size < 1.0 {
        return fail(
            ErrorCode::U3001,
            format!(
                "The chunk size of $partition must be a positive integer, not {}",
                js_number(size)
            ),
        );
    }
    let size = size.min(items.len().max(1) as f64) as usize;
    let chunks = items.chunks(size).map(|c| Value::array(c.to_vec())).collect();
    Ok(Some(Value::array(chunks)))
}

/// `$range(start, end, step)`: from `start` towards `end` by `step` (which may be
/// negative), including `end` when a step lands on it.
fn range(ev: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let (Some(start), Some(end), Some(step)) = (arg_num(args, 0), arg_num(args, 1), arg_num(args, 2))
    else {
        return Ok(None);
    };
    let (start, end, step) = (start.floor(), end.floor(), step.floor());
    if step == 0.0 {
        return fail(ErrorCode::U3001, "The step of $range must not be zero");
    }
    let count = ((end - start) / step).floor() + 1.0;
    let count = if count.is_finite() && count > 0.0 { count } else { 0.0 };
    let max = ev.limits().max_sequence as f64;
    if count > max {
        return fail(
            ErrorCode::D2014,
            format!(
                "$range would produce {} items; the most allowed is {}",
                js_number(count),
                js_number(max)
            ),
        );
    }
    let items = (0..count as usize)
        .map(|i| Value::Number(start + step * i as f64))
        .collect();
    Ok(Some(Value::array(items)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `$hash(value, algorithm)`: the hexadecimal digest of the string's UTF-8 bytes.
fn hash(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let (Some(data), Some(algorithm)) = (arg_str(args, 0), arg_str(args, 1)) else {
        return Ok(None);
    };
    use sha2::Digest;
    let bytes = data.as_bytes();
    let digest = match algorithm.as_str() {
        "MD5" => hex(&md5::Md5::digest(bytes)),
        "SHA-1" => hex(&sha1::Sha1::digest(bytes)),
        "SHA-256" => hex(&sha2::Sha256::digest(bytes)),
        "SHA-384" => hex(&sha2::Sha384::digest(bytes)),
        "SHA-512" => hex(&sha2::Sha512::digest(bytes)),
        other => {
            return fail(
                ErrorCode::U3001,
                format!(
                    "$hash does not know the algorithm {other:?}; use one of \"MD5\", \"SHA-1\", \"SHA-256\", \"SHA-384\", \"SHA-512\""
                ),
            )
        }
    };
    Ok(Some(Value::string(digest)))
}

/// `$random(seed?)`: a number in [0, 1); the same seed gives the same number.
fn random(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let n: f64 = match arg_num(args, 0) {
        Some(seed) => {
            let seed = seed.floor();
            rand::rngs::StdRng::seed_from_u64(seed as i64 as u64).random::<f64>()
        }
        None => rand::rng().random::<f64>(),
    };
    Ok(Some(Value::Number(n)))
}

/// `$uuid()`: a version 4 UUID.
fn uuid(_: &mut Evaluator, _: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(Some(Value::string(uuid::Uuid::new_v4().to_string())))
}

/// `$parse(jsonString)`: the JSON value the string holds.
fn parse(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(Value::String(text)) = arg(args, 0) else {
        return Ok(None);
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => Ok(Some(Value::from_json(&json))),
        Err(e) => fail(
            ErrorCode::U3001,
            format!("$parse was given text that is not JSON: {e}"),
        ),
    }
}
