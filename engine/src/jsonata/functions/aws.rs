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
    let Some(items) = arg_items(args, 0) else {
        return Ok(None);
    };
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
    let chunks = items
        .chunks(size)
        .map(|c| Value::array(c.to_vec()))
        .collect();
    Ok(Some(Value::array(chunks)))
}

/// `$range(start, end, step)`: from `start` towards `end` by `step` (which may be
/// negative), including `end` when a step lands on it.
fn range(ev: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let (Some(start), Some(end), Some(step)) =
        (arg_num(args, 0), arg_num(args, 1), arg_num(args, 2))
    else {
        return Ok(None);
    };
    let (start, end, step) = (start.floor(), end.floor(), step.floor());
    if step == 0.0 {
        return fail(ErrorCode::U3001, "The step of $range must not be zero");
    }
    let count = ((end - start) / step).floor() + 1.0;
    let count = if count.is_finite() && count > 0.0 {
        count
    } else {
        0.0
    };
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

#[cfg(test)]
mod tests {
    use crate::jsonata::{Bindings, ErrorCode, Expression};
    use serde_json::{json, Value as Json};

    fn eval(expr: &str) -> Result<Option<Json>, crate::jsonata::JsonataError> {
        Expression::parse(expr)?.evaluate(&json!({}), &Bindings::new())
    }

    fn value(expr: &str) -> Json {
        eval(expr)
            .unwrap_or_else(|e| panic!("{expr}: {e}"))
            .unwrap_or_else(|| panic!("{expr}: undefined"))
    }

    // $partition is "the JSONata equivalent of States.ArrayPartition"; the intrinsic's
    // example (intrinsic-functions.html#asl-intrsc-func-arrays): [1..9] in chunks of 4 gives
    // [[1,2,3,4],[5,6,7,8],[9]].
    #[test]
    fn partition_chunks_as_the_array_partition_intrinsic_does() {
        assert_eq!(
            value("$partition([1,2,3,4,5,6,7,8,9], 4)"),
            json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]])
        );
        // "functions that require integer values ... round down any non-integer numbers"
        assert_eq!(
            value("$partition([1,2,3,4,5], 2.6)"),
            json!([[1, 2], [3, 4], [5]])
        );
        assert_eq!(
            eval("$partition([1,2,3], 0)").unwrap_err().code,
            ErrorCode::U3001
        );
    }

    // transforming-data.html: "$range(0, 10, 2)"; the values run "from the first argument
    // to the second argument with elements in between adjusted by the delta", and a
    // negative delta decrements. The ArrayRange intrinsic's example: (1, 9, 2) gives
    // [1,3,5,7,9].
    #[test]
    fn range_steps_from_start_to_end() {
        assert_eq!(value("$range(0, 10, 2)"), json!([0, 2, 4, 6, 8, 10]));
        assert_eq!(value("$range(1, 9, 2)"), json!([1, 3, 5, 7, 9]));
        assert_eq!(value("$range(10, 0, -5)"), json!([10, 5, 0]));
        assert_eq!(value("$range(1, 4, 2)"), json!([1, 3]));
        assert_eq!(eval("$range(1, 4, 0)").unwrap_err().code, ErrorCode::U3001);
    }

    // The States.Hash example (intrinsic-functions.html#asl-intrsc-func-hash-calc) gives
    // SHA-1 of "input data"; the other digests of "abc" are the published test vectors
    // (RFC 1321 for MD5, FIPS 180-2 for the SHA family).
    #[test]
    fn hash_supports_the_five_documented_algorithms() {
        assert_eq!(
            value("$hash('input data', 'SHA-1')"),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
        );
        assert_eq!(
            value("$hash('abc', 'MD5')"),
            json!("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            value("$hash('abc', 'SHA-256')"),
            json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            value("$hash('abc', 'SHA-384')"),
            json!("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7")
        );
        assert_eq!(
            value("$hash('abc', 'SHA-512')"),
            json!("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        );
        assert_eq!(
            eval("$hash('abc', 'CRC32')").unwrap_err().code,
            ErrorCode::U3001
        );
    }

    // "$random ... return a random number n where 0 ≤ n < 1 ... If you use this function with
    // the same seed value, it returns an identical number."
    #[test]
    fn random_is_in_the_unit_interval_and_repeatable_with_a_seed() {
        let seeded = value("[$random(42), $random(42), $random(7)]");
        assert_eq!(seeded[0], seeded[1]);
        for n in seeded
            .as_array()
            .unwrap()
            .iter()
            .chain([&value("$random()")])
        {
            let n = n.as_f64().unwrap();
            assert!((0.0..1.0).contains(&n), "{n}");
        }
        assert_ne!(
            value("[$random(), $random()]")[0],
            value("[$random(), $random()]")[1]
        );
    }

    // "$uuid ... takes no arguments. This function return a v4 UUID."
    #[test]
    fn uuid_is_a_version_4_uuid() {
        let u = value("$uuid()");
        let parsed = uuid::Uuid::parse_str(u.as_str().unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(u, value("$uuid()"));
        assert_eq!(eval("$uuid('x')").unwrap_err().code, ErrorCode::T0410);
    }

    // "$parse - JSONata function to deserialize JSON strings"; the StringToJson example
    // (intrinsic-functions.html#asl-intrsc-func-json-manipulate) turns
    // "{\"foo\": \"bar\"}" into {"foo": "bar"}.
    #[test]
    fn parse_deserializes_json_text() {
        assert_eq!(value(r#"$parse('{"foo": "bar"}')"#), json!({"foo": "bar"}));
        assert_eq!(value("$parse('[1, 2.5, null]')"), json!([1, 2.5, null]));
        assert_eq!(eval("$parse('{bad')").unwrap_err().code, ErrorCode::U3001);
    }
}
