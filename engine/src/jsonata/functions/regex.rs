//! Regular expressions and the functions that take a pattern: `$contains`, `$split`,
//! `$match`, `$replace`.
//!
//! JSONata writes JavaScript regular expressions; they run on Rust's `regex` crate, which
//! has no look-around and no backreferences (such patterns are refused with S0303), and
//! whose `.` also matches `\r`. `\d` and `\w` are translated to their ASCII meaning, as in
//! JavaScript. Match positions count characters (JavaScript counts UTF-16 units; they
//! differ only beyond the Basic Multilingual Plane).

use super::{arg, arg_num, arg_str, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::Evaluator;
use crate::jsonata::function::{Builtin, Function};
use crate::jsonata::value::{Val, Value};
use indexmap::IndexMap;

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("contains", "<s-(sf):b>", 2, contains),
    Builtin::new("split", "<s-(sf)n?:a<s>>", 3, split),
    Builtin::new("match", "<s-f<s:o>n?:a<o>>", 3, match_fn),
    Builtin::new("replace", "<s-(sf)(sf)n?:s>", 4, replace),
];

/// Compiles a JavaScript-syntax pattern with its flags (`i`, `m`).
pub(crate) fn compile(pattern: &str, flags: &str) -> std::result::Result<regex::Regex, String> {
    let mut out = String::new();
    if flags.contains('i') {
        out.push_str("(?i)");
    }
    if flags.contains('m') {
        out.push_str("(?m)");
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut in_class = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let escaped = chars.get(i + 1).copied().filter(|_| c == '\\');
        if let Some(e) = escaped {
            i += 2;
            match (e, in_class) {
                ('d', false) => out.push_str("[0-9]"),
                ('d', true) => out.push_str("0-9"),
                ('w', false) => out.push_str("[0-9A-Za-z_]"),
                ('w', true) => out.push_str("0-9A-Za-z_"),
                ('D', false) => out.push_str("[^0-9]"),
                ('W', false) => out.push_str("[^0-9A-Za-z_]"),
                ('/', _) => out.push('/'),
                ('u', _) if i + 4 <= chars.len() => {
                    let hex: String = chars.iter().skip(i).take(4).collect();
                    out.push_str(&format!("\\x{{{hex}}}"));
                    i += 4;
                }
                ('1'..='9', false) => {
                    return Err(format!(
                        "The regular expression /{pattern}/ uses a backreference (\\{e}), which is not supported"
                    ))
                }
                _ => {
                    out.push('\\');
                    out.push(e);
                }
            }
            continue;
        }
        if !in_class && c == '(' && chars.get(i + 1) == Some(&'?') {
            let next = chars.get(i + 2).copied();
            let look_behind =
                next == Some('<') && matches!(chars.get(i + 3), Some('=') | Some('!'));
            if matches!(next, Some('=') | Some('!')) || look_behind {
                return Err(format!(
                    "The regular expression /{pattern}/ uses look-around, which is not supported"
                ));
            }
        }
        if c == '[' && !in_class {
            in_class = true;
        } else if c == ']' && in_class {
            in_class = false;
        }
        out.push(c);
        i += 1;
    }
    regex::RegexBuilder::new(&out)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("The regular expression /{pattern}/ is not valid: {e}"))
}

/// One match: the matched text, its byte range, and the captured groups.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub char_index: usize,
    pub groups: Vec<Option<String>>,
}

impl Found {
    /// The object a regular expression returns when called as a function.
    pub fn to_object(&self) -> Value {
        let mut m = IndexMap::new();
        m.insert("match".into(), Value::str(&self.text));
        m.insert("start".into(), Value::Number(self.char_index as f64));
        m.insert(
            "end".into(),
            Value::Number((self.char_index + self.text.chars().count()) as f64),
        );
        m.insert("groups".into(), self.group_values());
        Value::object(m)
    }

    fn group_values(&self) -> Value {
        Value::array(
            self.groups
                .iter()
                .map(|g| Value::str(g.as_deref().unwrap_or("")))
                .collect(),
        )
    }
}

pub(crate) fn first_match(re: &regex::Regex, s: &str, from: usize) -> Option<Found> {
    let caps = re.captures_at(s, from)?;
    let whole = caps.get(0)?;
    Some(Found {
        text: whole.as_str().to_string(),
        start: whole.start(),
        end: whole.end(),
        char_index: s[..whole.start()].chars().count(),
        groups: caps
            .iter()
            .skip(1)
            .map(|g| g.map(|m| m.as_str().to_string()))
            .collect(),
    })
}

fn zero_length(re: &str) -> crate::jsonata::error::JsonataError {
    crate::jsonata::error::JsonataError::new(
        ErrorCode::D1004,
        format!("The regular expression /{re}/ matches a zero-length string"),
    )
}

fn byte_offset(s: &str, chars: usize) -> usize {
    s.char_indices()
        .nth(chars)
        .map(|(b, _)| b)
        .unwrap_or(s.len())
}

/// Every match of a matcher (a regular expression or a function behaving like one), at
/// most `limit` of them.
fn find_all(
    ev: &mut Evaluator,
    matcher: &Value,
    s: &str,
    limit: Option<usize>,
    env: &Env,
) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    if limit == Some(0) {
        return Ok(out);
    }
    if let Value::Function(f) = matcher {
        if let Function::Regex(def) = &**f {
            let mut next = first_match(&def.regex, s, 0);
            while let Some(m) = next {
                let end = m.end;
                out.push(m);
                if limit.is_some_and(|l| out.len() >= l) || end >= s.len() {
                    break;
                }
                next = first_match(&def.regex, s, end);
                if next.as_ref().is_some_and(|n| n.text.is_empty()) {
                    return Err(zero_length(&def.source));
                }
            }
            return Ok(out);
        }
    }
    let mut result = ev.call_value(matcher, vec![Some(Value::str(s))], env)?;
    while let Some(obj) = result {
        let Value::Object(m) = &obj else {
            return fail(
                ErrorCode::T1010,
                "The matcher function did not return the structure of a match",
            );
        };
        let text = m
            .get("match")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let start = m.get("start").and_then(Value::as_number);
        let next = m.get("next").cloned();
        let groups = match m.get("groups") {
            Some(Value::Array(g, _)) => g.iter().map(|v| v.as_str().map(String::from)).collect(),
            _ => Vec::new(),
        };
        if start.is_none() && groups.is_empty() && !matches!(next, Some(Value::Function(_))) {
            return fail(
                ErrorCode::T1010,
                "The matcher function did not return the structure of a match",
            );
        }
        let char_index = start.unwrap_or(0.0).max(0.0) as usize;
        let b = byte_offset(s, char_index);
        let e = byte_offset(s, char_index + text.chars().count());
        out.push(Found {
            text,
            start: b,
            end: e,
            char_index,
            groups,
        });
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        ev.check_size(out.len(), 0)?;
        result = match next {
            Some(f @ Value::Function(_)) => ev.call_value(&f, vec![], env)?,
            _ => None,
        };
    }
    Ok(out)
}

fn limit_arg(args: &[Val], i: usize, code: ErrorCode, name: &str) -> Result<Option<usize>> {
    match arg_num(args, i) {
        None => Ok(None),
        Some(n) if n < 0.0 => fail(
            code,
            format!("The limit argument of ${name} must not be negative"),
        ),
        Some(n) => Ok(Some(n.floor() as usize)),
    }
}

fn contains(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let (Some(s), Some(token)) = (arg_str(args, 0), arg(args, 1)) else {
        return Ok(None);
    };
    Ok(Some(Value::Bool(match &token {
        Value::String(t) => s.contains(&**t),
        matcher => !find_all(ev, matcher, &s, Some(1), env)?.is_empty(),
    })))
}

fn split(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(args, 2, ErrorCode::D3020, "split")?;
    let sep = arg(args, 1);
    let mut parts: Vec<String> = match &sep {
        Some(Value::String(sep)) if sep.is_empty() => s.chars().map(String::from).collect(),
        Some(Value::String(sep)) => s.split(&**sep).map(String::from).collect(),
        Some(matcher) => {
            let found = find_all(ev, matcher, &s, limit, env)?;
            let mut parts = Vec::new();
            let mut start = 0;
            for m in &found {
                parts.push(s.get(start..m.start).unwrap_or("").to_string());
                start = m.end;
            }
            if limit.is_none_or(|l| found.len() < l) {
                parts.push(s.get(start..).unwrap_or("").to_string());
            }
            parts
        }
        None => vec![s.clone()],
    };
    if let Some(l) = limit {
        parts.truncate(l);
    }
    Ok(Some(Value::array(
        parts.into_iter().map(Value::string).collect(),
    )))
}

fn match_fn(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let limit = limit_arg(args, 2, ErrorCode::D3040, "match")?;
    let Some(matcher) = arg(args, 1) else {
        return Ok(None);
    };
    let found = find_all(ev, &matcher, &s, limit, env)?;
    let items = found
        .iter()
        .map(|m| {
            let mut o = IndexMap::new();
            o.insert("match".to_string(), Value::str(&m.text));
            o.insert("index".to_string(), Value::Number(m.char_index as f64));
            o.insert("groups".to_string(), m.group_values());
            Value::object(o)
        })
        .collect();
    Ok(Some(Value::seq(items)))
}

/// `$1`…`$n` in a replacement string: the captured groups; `$0` the whole match; `$$` a `$`.
fn substitute(replacement: &str, m: &Found) -> String {
    let r: Vec<char> = replacement.chars().collect();
    let digits_at = |from: usize, max: usize| -> Option<usize> {
        let text: String = r
            .iter()
            .skip(from)
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .collect();
        text.parse().ok()
    };
    let mut out = String::new();
    let mut pos = 0;
    while let Some(offset) = r.iter().skip(pos).position(|c| *c == '$') {
        out.extend(r.iter().skip(pos).take(offset));
        pos += offset + 1;
        match r.get(pos) {
            Some('$') => {
                out.push('$');
                pos += 1;
            }
            Some('0') => {
                out.push_str(&m.text);
                pos += 1;
            }
            _ => {
                let groups = m.groups.len();
                let max = if groups == 0 {
                    1
                } else {
                    (groups as f64).log10().floor() as usize + 1
                };
                let mut index = digits_at(pos, max);
                if max > 1 && index.is_some_and(|i| i > groups) {
                    index = digits_at(pos, max - 1);
                }
                match index {
                    Some(i) => {
                        if i >= 1 {
                            if let Some(Some(g)) = m.groups.get(i - 1) {
                                out.push_str(g);
                            }
                        }
                        pos += i.to_string().len();
                    }
                    None => out.push('$'),
                }
            }
        }
    }
    out.extend(r.iter().skip(pos));
    out
}

fn replace(ev: &mut Evaluator, args: &[Val], _: &Val, env: &Env) -> Result<Val> {
    let Some(s) = arg_str(args, 0) else {
        return Ok(None);
    };
    let pattern = arg(args, 1);
    if matches!(&pattern, Some(Value::String(p)) if p.is_empty()) {
        return fail(
            ErrorCode::D3010,
            "The second argument of $replace (the pattern) cannot be an empty string",
        );
    }
    let limit = limit_arg(args, 3, ErrorCode::D3011, "replace")?;
    let replacement = arg(args, 2);
    let Some(pattern) = pattern else {
        return Ok(Some(Value::string(s)));
    };
    if let Value::String(p) = &pattern {
        let Some(Value::String(with)) = &replacement else {
            return fail(
                ErrorCode::D3012,
                "A string pattern must be replaced with a string",
            );
        };
        let mut out = String::new();
        let mut rest = s.as_str();
        let mut count = 0;
        while let Some(i) = rest.find(&**p) {
            if limit.is_some_and(|l| count >= l) {
                break;
            }
            out.push_str(&rest[..i]);
            out.push_str(with);
            rest = &rest[i + p.len()..];
            count += 1;
        }
        out.push_str(rest);
        return Ok(Some(Value::string(out)));
    }
    let found = find_all(ev, &pattern, &s, limit, env)?;
    let mut out = String::new();
    let mut pos = 0;
    for m in &found {
        out.push_str(s.get(pos..m.start).unwrap_or(""));
        let with = match &replacement {
            Some(Value::String(r)) => substitute(r, m),
            Some(f @ Value::Function(_)) => {
                match ev.call_value(f, vec![Some(m.to_object())], env)? {
                    Some(Value::String(r)) => r.to_string(),
                    other => {
                        return fail(
                            ErrorCode::D3012,
                            format!(
                                "The replacement function returned {}, not a string",
                                other
                                    .as_ref()
                                    .map(super::string::describe)
                                    .unwrap_or_else(|| "nothing".into())
                            ),
                        )
                    }
                }
            }
            _ => String::new(),
        };
        out.push_str(&with);
        pos = m.end;
    }
    out.push_str(s.get(pos..).unwrap_or(""));
    Ok(Some(Value::string(out)))
}
