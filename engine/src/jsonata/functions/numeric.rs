//! Numeric, aggregation and Boolean functions.

use super::{arg, arg_items, arg_num, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::{truthy, Evaluator};
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{js_number, Val, Value};

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("number", "<(nsb)-:n>", 1, number),
    Builtin::new("abs", "<n-:n>", 1, abs),
    Builtin::new("floor", "<n-:n>", 1, floor),
    Builtin::new("ceil", "<n-:n>", 1, ceil),
    Builtin::new("round", "<n-n?:n>", 2, round),
    Builtin::new("power", "<n-n:n>", 2, power),
    Builtin::new("sqrt", "<n-:n>", 1, sqrt),
    Builtin::new("sum", "<a<n>:n>", 1, sum),
    Builtin::new("max", "<a<n>:n>", 1, max),
    Builtin::new("min", "<a<n>:n>", 1, min),
    Builtin::new("average", "<a<n>:n>", 1, average),
    Builtin::new("count", "<a:n>", 1, count),
    Builtin::new("boolean", "<x-:b>", 1, boolean),
    Builtin::new("not", "<x-:b>", 1, not),
    Builtin::new("exists", "<x:b>", 1, exists),
    Builtin::new("formatBase", "<n-n?:s>", 2, format_base),
];

fn unary(args: &[Val], f: impl Fn(f64) -> f64) -> Result<Val> {
    Ok(arg_num(args, 0).map(|n| Value::Number(f(n))))
}

/// Parses text the way `$number` accepts it: JSON numbers, and `0x`, `0o`, `0b` integers.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let json_like = {
        let t = s.strip_prefix('-').unwrap_or(s);
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (mantissa, None),
        };
        let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
        digits(int)
            && frac.is_none_or(digits)
            && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
    };
    if json_like {
        return s.parse::<f64>().ok().filter(|n| n.is_finite());
    }
    let radix = |p: &str, r: u32| {
        let body = s.strip_prefix(p)?;
        if body.is_empty() {
            return None;
        }
        u64::from_str_radix(body, r).ok().map(|n| n as f64)
    };
    radix("0x", 16)
        .or_else(|| radix("0X", 16))
        .or_else(|| radix("0o", 8))
        .or_else(|| radix("0O", 8))
        .or_else(|| radix("0b", 2))
        .or_else(|| radix("0B", 2))
}

fn number(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(match arg(args, 0) {
        None => None,
        Some(Value::Number(n)) => Some(Value::Number(n)),
        Some(Value::Bool(b)) => Some(Value::Number(if b { 1.0 } else { 0.0 })),
        Some(Value::String(s)) => match parse_number(&s) {
            Some(n) => Some(Value::Number(n)),
            None => {
                return fail(
                    ErrorCode::D3030,
                    format!("Unable to cast {:?} to a number", s.to_string()),
                )
            }
        },
        Some(other) => {
            return fail(
                ErrorCode::D3030,
                format!(
                    "Unable to cast {} to a number",
                    super::string::describe(&other)
                ),
            )
        }
    })
}

fn abs(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    unary(args, f64::abs)
}

fn floor(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    unary(args, f64::floor)
}

fn ceil(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    unary(args, f64::ceil)
}

/// Rounds half to even ("banker's rounding") at `precision` decimal places, working on the
/// decimal representation so that 2.675 rounds as written rather than as stored.
pub(crate) fn round_half_even(n: f64, precision: i32) -> f64 {
    let shift = |x: f64, by: i32| -> f64 {
        let s = format!("{x:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = e.parse().unwrap_or(0);
        format!("{m}e{}", e + by).parse().unwrap_or(x)
    };
    let scaled = if precision != 0 {
        shift(n, precision)
    } else {
        n
    };
    let mut rounded = (scaled + 0.5).floor();
    if (rounded - scaled).abs() == 0.5 && rounded % 2.0 != 0.0 {
        rounded -= 1.0;
    }
    let result = if precision != 0 {
        shift(rounded, -precision)
    } else {
        rounded
    };
    if result == 0.0 {
        0.0
    } else {
        result
    }
}

fn round(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(n) = arg_num(args, 0) else {
        return Ok(None);
    };
    let precision = arg_num(args, 1).unwrap_or(0.0).trunc().clamp(-400.0, 400.0) as i32;
    Ok(Some(Value::Number(round_half_even(n, precision))))
}

fn power(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(base) = arg_num(args, 0) else {
        return Ok(None);
    };
    let exp = arg_num(args, 1).unwrap_or(f64::NAN);
    let r = base.powf(exp);
    if !r.is_finite() {
        return fail(
            ErrorCode::D3061,
            format!(
                "The power function's result for base {} and exponent {} cannot be represented as a JSON number",
                js_number(base),
                js_number(exp)
            ),
        );
    }
    Ok(Some(Value::Number(r)))
}

fn sqrt(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(n) = arg_num(args, 0) else {
        return Ok(None);
    };
    if n < 0.0 {
        return fail(
            ErrorCode::D3060,
            format!(
                "The sqrt function cannot be applied to a negative number: {}",
                js_number(n)
            ),
        );
    }
    Ok(Some(Value::Number(n.sqrt())))
}

fn numbers(args: &[Val]) -> Option<Vec<f64>> {
    arg_items(args, 0).map(|items| items.iter().filter_map(Value::as_number).collect())
}

fn sum(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(numbers(args).map(|ns| Value::Number(ns.iter().sum())))
}

fn max(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(numbers(args)
        .filter(|ns| !ns.is_empty())
        .map(|ns| Value::Number(ns.into_iter().fold(f64::NEG_INFINITY, f64::max))))
}

fn min(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(numbers(args)
        .filter(|ns| !ns.is_empty())
        .map(|ns| Value::Number(ns.into_iter().fold(f64::INFINITY, f64::min))))
}

fn average(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(numbers(args)
        .filter(|ns| !ns.is_empty())
        .map(|ns| Value::Number(ns.iter().sum::<f64>() / ns.len() as f64)))
}

fn count(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(Some(Value::Number(
        arg_items(args, 0).map(|i| i.len()).unwrap_or(0) as f64,
    )))
}

fn boolean(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg(args, 0).map(|v| Value::Bool(truthy(&v))))
}

fn not(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg(args, 0).map(|v| Value::Bool(!truthy(&v))))
}

fn exists(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(Some(Value::Bool(arg(args, 0).is_some())))
}

fn format_base(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(n) = arg_num(args, 0) else {
        return Ok(None);
    };
    let radix = arg_num(args, 1)
        .map(|r| round_half_even(r, 0))
        .unwrap_or(10.0);
    if !(2.0..=36.0).contains(&radix) {
        return fail(
            ErrorCode::D3100,
            format!(
                "The radix of $formatBase must be between 2 and 36, not {}",
                js_number(radix)
            ),
        );
    }
    if !n.is_finite() {
        return Ok(Some(Value::string(js_number(n))));
    }
    let value = round_half_even(n, 0);
    let radix = radix as u32;
    let negative = value < 0.0;
    let mut v = value.abs();
    if v > 9.007_199_254_740_992e15 {
        return fail(
            ErrorCode::D3100,
            "$formatBase only formats integers up to 2^53",
        );
    }
    let mut digits = Vec::new();
    loop {
        let d = (v % radix as f64) as u32;
        digits.push(std::char::from_digit(d, radix).unwrap_or('0'));
        v = (v / radix as f64).floor();
        if v < 1.0 {
            break;
        }
    }
    if negative {
        digits.push('-');
    }
    Ok(Some(Value::string(digits.into_iter().rev().collect())))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values: the examples of https://docs.jsonata.org/numeric-functions#round
    #[test]
    fn rounding_is_half_to_even_as_documented() {
        assert_eq!(round_half_even(123.456, 0), 123.0);
        assert_eq!(round_half_even(123.456, 2), 123.46);
        assert_eq!(round_half_even(123.456, -1), 120.0);
        assert_eq!(round_half_even(123.456, -2), 100.0);
        assert_eq!(round_half_even(11.5, 0), 12.0);
        assert_eq!(round_half_even(12.5, 0), 12.0);
        assert_eq!(round_half_even(125.0, -1), 120.0);
    }

    // Expected values: https://docs.jsonata.org/numeric-functions#number
    #[test]
    fn numbers_parse_from_json_and_prefixed_integers() {
        assert_eq!(parse_number("5"), Some(5.0));
        assert_eq!(parse_number("-0.05"), Some(-0.05));
        assert_eq!(parse_number("0x12"), Some(18.0));
        assert_eq!(parse_number("1e2"), Some(100.0));
        assert_eq!(parse_number("12a"), None);
        assert_eq!(parse_number(".5"), None);
    }
}
