//! String functions, and how JSONata turns any value into a string (`$string`, `&`).

use super::{arg, arg_num, arg_str, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::Evaluator;
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{js_number, too_deep, Flags, Val, Value, MAX_VALUE_DEPTH};
use base64::Engine as _;

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("string", "<x-b?:s>", 1, string),
    Builtin::new("substring", "<s-nn?:s>", 3, substring),
    Builtin::new("substringBefore", "<s-s:s>", 2, substring_before),
    Builtin::new("substringAfter", "<s-s:s>", 2, substring_after),
    Builtin::new("lowercase", "<s-:s>", 1, lowercase),
    Builtin::new("uppercase", "<s-:s>", 1, uppercase),
    Builtin::new("length", "<s-:n>", 1, length),
    Builtin::new("trim", "<s-:s>", 1, trim),
    Builtin::new("pad", "<s-ns?:s>", 3, pad),
    Builtin::new("join", "<a<s>s?:s>", 2, join),
    Builtin::new("base64encode", "<s-:s>", 1, base64encode),
    Builtin::new("base64decode", "<s-:s>", 1, base64decode),
];

/// A number rounded to 15 significant digits, as `$string` prints numbers inside
/// structures (so that `0.1 + 0.2` prints as `0.3`).
pub(crate) fn precision15(n: f64) -> f64 {
    if n.fract() == 0.0 || !n.is_finite() {
        return n;
    }
    format!("{n:.14e}").parse().unwrap_or(n)
}

/// `$string(value)`: strings as they are, functions as "", anything else as JSON.
pub(crate) fn stringify(value: &Value, pretty: bool) -> Result<String> {
    match value {
        Value::String(s) => Ok(s.to_string()),
        Value::Function(_) => Ok(String::new()),
        Value::Number(n) if !n.is_finite() => fail(
            ErrorCode::D3001,
            "Attempting to invoke a string function on Infinity or NaN",
        ),
        Value::Array(items, flags) if flags.has(Flags::OUTER_WRAPPER) && !items.is_empty() => items
            .first()
            .map_or_else(|| Ok(String::new()), |first| stringify(first, pretty)),
        other => {
            let mut out = String::new();
            write_json(other, pretty, 0, &mut out)?;
            Ok(out)
        }
    }
}

fn write_json(value: &Value, pretty: bool, depth: usize, out: &mut String) -> Result<()> {
    if depth > MAX_VALUE_DEPTH {
        return too_deep();
    }
    let newline = |out: &mut String, level: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(level));
        }
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if !n.is_finite() {
                return fail(
                    ErrorCode::D1001,
                    format!("Number out of range: {}", js_number(*n)),
                );
            }
            out.push_str(&js_number(precision15(*n)));
        }
        Value::String(s) => out.push_str(&serde_json::to_string(&**s).unwrap_or_default()),
        Value::Function(_) => out.push_str("\"\""),
        Value::Array(items, _) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json(item, pretty, depth + 1, out)?;
            }
            if !items.is_empty() {
                newline(out, depth);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(v, pretty, depth + 1, out)?;
            }
            if !members.is_empty() {
                newline(out, depth);
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A short rendering of a value for error messages.
pub(crate) fn describe(value: &Value) -> String {
    let text = match value {
        Value::String(s) => serde_json::to_string(&**s).unwrap_or_default(),
        Value::Function(_) => "a function".into(),
        Value::Number(n) => js_number(*n),
        other => stringify(other, false).unwrap_or_else(|_| other.type_name().into()),
    };
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

fn string(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let pretty = matches!(arg(args, 1), Some(Value::Bool(true)));
    Ok(Some(Value::string(stringify(&v, pretty)?)))
}

/// JavaScript's `Array.prototype.slice` bounds over `len` items.
pub(crate) fn js_slice(len: usize, start: f64, end: Option<f64>) -> (usize, usize) {
    let clamp = |x: f64| -> usize {
        let x = if x.is_nan() { 0.0 } else { x.trunc() };
        if x < 0.0 {
            (len as f64 + x).max(0.0) as usize
        } else {
            x.min(len as f64) as usize
        }
    };
    let s = clamp(start);
    let e = end.map(clamp).unwrap_or(len);
    (s, e.max(s))
}

fn substring(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as f64;
    let mut start = arg_num(args, 1).unwrap_or(0.0);
    if len + start < 0.0 {
        start = 0.0;
    }
    let end = match arg_num(args, 2) {
        Some(length) => {
            if length <= 0.0 {
                return Ok(Some(Value::str("")));
            }
            Some(if start >= 0.0 {
                start + length
            } else {
                len + start + length
            })
        }
        None => None,
    };
    let (a, b) = js_slice(chars.len(), start, end);
    let slice = chars.get(a..b).unwrap_or_default();
    Ok(Some(Value::string(slice.iter().collect())))
}

fn substring_before(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let chars = arg_str(args, 1).unwrap_or_default();
    Ok(Some(Value::str(match s.find(&chars) {
        Some(i) => &s[..i],
        None => &s,
    })))
}

fn substring_after(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let chars = arg_str(args, 1).unwrap_or_default();
    Ok(Some(Value::str(match s.find(&chars) {
        Some(i) => &s[i + chars.len()..],
        None => &s,
    })))
}

fn lowercase(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg_str(args, 0).map(|s| Value::string(s.to_lowercase())))
}

fn uppercase(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg_str(args, 0).map(|s| Value::string(s.to_uppercase())))
}

fn length(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg_str(args, 0).map(|s| Value::Number(s.chars().count() as f64)))
}

fn trim(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\r') {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    let trimmed = out.strip_prefix(' ').unwrap_or(&out);
    let trimmed = trimmed.strip_suffix(' ').unwrap_or(trimmed);
    Ok(Some(Value::str(trimmed)))
}

/// The most characters `$pad` produces, so a huge width cannot exhaust memory.
const MAX_PAD: f64 = 10_000_000.0;

fn pad(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let width = arg_num(args, 1).unwrap_or(0.0).trunc();
    if width.abs() > MAX_PAD {
        return fail(
            ErrorCode::D3001,
            format!(
                "$pad cannot produce a string of {} characters",
                js_number(width)
            ),
        );
    }
    let padding_char = match arg_str(args, 2) {
        Some(c) if !c.is_empty() => c,
        _ => " ".to_string(),
    };
    let pad_len = width.abs() as usize;
    let current = s.chars().count();
    if pad_len <= current {
        return Ok(Some(Value::string(s)));
    }
    let padding: String = padding_char
        .chars()
        .cycle()
        .take(pad_len - current)
        .collect();
    Ok(Some(Value::string(if width > 0.0 {
        s + &padding
    } else {
        padding + &s
    })))
}

fn join(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(items) = super::arg_items(args, 0) else {
        return Ok(None);
    };
    let sep = arg_str(args, 1).unwrap_or_default();
    let parts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
    Ok(Some(Value::string(parts.join(&sep))))
}

fn base64encode(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg_str(args, 0)
        .map(|s| Value::string(base64::engine::general_purpose::STANDARD.encode(s.as_bytes()))))
}

fn base64decode(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let config = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    let engine = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, config);
    let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    match engine.decode(cleaned.as_bytes()) {
        Ok(bytes) => Ok(Some(Value::string(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))),
        Err(e) => fail(
            ErrorCode::U3001,
            format!("$base64decode was given text that is not base64: {e}"),
        ),
    }
}
