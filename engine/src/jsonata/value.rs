//! The values an expression works on: JSON's, plus functions, plus the flags JSONata keeps
//! on arrays (a *sequence* of results is unwrapped when it holds one value; an array built
//! by `[...]` is not).

use super::error::{err, ErrorCode, Result};
use super::function::Function;
use indexmap::IndexMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// How deep a value may nest before the evaluator refuses to compare, print or convert it.
pub(crate) const MAX_VALUE_DEPTH: usize = 500;

#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Flags(u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// A sequence of results (unwrapped when it has a single member).
    pub const SEQUENCE: Flags = Flags(1);
    /// A sequence that must stay an array even with one member (`a[]`).
    pub const KEEP_SINGLETON: Flags = Flags(2);
    /// The input document was an array, wrapped so that it counts as one value.
    pub const OUTER_WRAPPER: Flags = Flags(4);
    /// A stream of tuples (bindings of `@`, `#` and `%` along a path).
    pub const TUPLE_STREAM: Flags = Flags(8);
    /// An array built by an array constructor inside a path (never flattened).
    pub const CONS: Flags = Flags(16);

    pub fn has(self, f: Flags) -> bool {
        self.0 & f.0 != 0
    }
    pub fn with(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }
}

/// The members of an array. Dropped without recursion, so that a value nested thousands of
/// levels deep (easy to build with `$reduce`) cannot exhaust the stack.
#[derive(Default, Debug)]
pub(crate) struct Items(pub Vec<Value>);

/// The members of an object, in insertion order.
#[derive(Default, Debug, Clone)]
pub(crate) struct Members(pub IndexMap<String, Value>);

impl Clone for Items {
    fn clone(&self) -> Self {
        Items(self.0.clone())
    }
}

impl Deref for Items {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}
impl DerefMut for Items {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}
impl Deref for Members {
    type Target = IndexMap<String, Value>;
    fn deref(&self) -> &IndexMap<String, Value> {
        &self.0
    }
}
impl DerefMut for Members {
    fn deref_mut(&mut self) -> &mut IndexMap<String, Value> {
        &mut self.0
    }
}

fn take_children(value: Value, stack: &mut Vec<Value>) {
    match value {
        Value::Array(a, _) => {
            if let Ok(mut items) = Arc::try_unwrap(a) {
                stack.append(&mut items.0);
            }
        }
        Value::Object(o) => {
            if let Ok(mut members) = Arc::try_unwrap(o) {
                stack.extend(std::mem::take(&mut members.0).into_values());
            }
        }
        _ => {}
    }
}

impl Drop for Items {
    fn drop(&mut self) {
        let mut stack = std::mem::take(&mut self.0);
        while let Some(v) = stack.pop() {
            take_children(v, &mut stack);
        }
    }
}

impl Drop for Members {
    fn drop(&mut self) {
        let mut stack: Vec<Value> = std::mem::take(&mut self.0).into_values().collect();
        while let Some(v) = stack.pop() {
            take_children(v, &mut stack);
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(Arc<str>),
    Array(Arc<Items>, Flags),
    Object(Arc<Members>),
    Function(Arc<Function>),
}

/// A value or JSONata's *undefined* (`None`).
pub(crate) type Val = Option<Value>;

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(Arc::from(s))
    }
    pub fn string(s: String) -> Value {
        Value::String(Arc::from(s))
    }
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(Items(items)), Flags::NONE)
    }
    pub fn seq(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(Items(items)), Flags::SEQUENCE)
    }
    pub fn with_flags(items: Vec<Value>, flags: Flags) -> Value {
        Value::Array(Arc::new(Items(items)), flags)
    }
    pub fn object(members: IndexMap<String, Value>) -> Value {
        Value::Object(Arc::new(Members(members)))
    }
    pub fn function(f: Function) -> Value {
        Value::Function(Arc::new(f))
    }

    pub fn flags(&self) -> Flags {
        match self {
            Value::Array(_, f) => *f,
            _ => Flags::NONE,
        }
    }
    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(..))
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The same array with extra flags (other values are returned as they are).
    pub fn flagged(self, extra: Flags) -> Value {
        match self {
            Value::Array(a, f) => Value::Array(a, f.with(extra)),
            v => v,
        }
    }

    /// JSONata's type names, as `$type` returns them.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(..) => "array",
            Value::Object(_) => "object",
            Value::Function(_) => "function",
        }
    }

    /// The letter a function signature uses for this value's type.
    pub fn signature_symbol(&self) -> char {
        match self {
            Value::Null => 'l',
            Value::Bool(_) => 'b',
            Value::Number(_) => 'n',
            Value::String(_) => 's',
            Value::Array(..) => 'a',
            Value::Object(_) => 'o',
            Value::Function(_) => 'f',
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => Value::array(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The JSON form of a result. Functions become empty strings, as `$string` prints them.
    pub fn to_json(&self) -> Result<serde_json::Value> {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> Result<serde_json::Value> {
        if depth > MAX_VALUE_DEPTH {
            return too_deep();
        }
        Ok(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n)?,
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a, _) => serde_json::Value::Array(
                a.iter()
                    .map(|v| v.to_json_at(depth + 1))
                    .collect::<Result<_>>()?,
            ),
            Value::Object(o) => {
                let mut map = serde_json::Map::with_capacity(o.len());
                for (k, v) in o.iter() {
                    map.insert(k.clone(), v.to_json_at(depth + 1)?);
                }
                serde_json::Value::Object(map)
            }
            Value::Function(_) => serde_json::Value::String(String::new()),
        })
    }
}

pub(crate) fn too_deep<T>() -> Result<T> {
    err(
        ErrorCode::U1002,
        format!("The value is nested more than {MAX_VALUE_DEPTH} levels deep"),
    )
}

/// A JSON number for a finite f64: integers stay integers.
pub(crate) fn number_to_json(n: f64) -> Result<serde_json::Value> {
    if !n.is_finite() {
        return err(
            ErrorCode::D1001,
            format!("The number {} cannot be represented in JSON", js_number(n)),
        );
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        return Ok(serde_json::Value::from(n as i64));
    }
    Ok(serde_json::Number::from_f64(n)
        .map(serde_json::Value::Number)
        .unwrap_or(serde_json::Value::Null))
}

/// Structural equality as JSONata's `=` and `$distinct` use it.
pub(crate) fn deep_equal(a: &Value, b: &Value) -> bool {
    deep_equal_at(a, b, 0)
}

fn deep_equal_at(a: &Value, b: &Value, depth: usize) -> bool {
    if depth > MAX_VALUE_DEPTH {
        return false;
    }
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x, _), Value::Array(y, _)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| deep_equal_at(p, q, depth + 1))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.get(k)
                        .map(|w| deep_equal_at(v, w, depth + 1))
                        .unwrap_or(false)
                })
        }
        (Value::Function(x), Value::Function(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

/// A number as JavaScript's `String(n)` writes it (JSONata's results are defined that way):
/// shortest round-trip digits, exponent form below 1e-6 and from 1e21.
pub(crate) fn js_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n == 0.0 {
        return "0".into();
    }
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if n < 0.0 { "-" } else { "" };
    let k = digits.len() as i32;
    let out = if (-7 < exp) && exp < 21 {
        if exp >= k - 1 {
            format!("{digits}{}", "0".repeat((exp - (k - 1)) as usize))
        } else if exp >= 0 {
            let (i, f) = digits.split_at((exp + 1) as usize);
            format!("{i}.{f}")
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        }
    } else {
        let m = if k == 1 {
            digits.clone()
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        let es = if exp >= 0 { "+" } else { "-" };
        format!("{m}e{es}{}", exp.abs())
    };
    format!("{sign}{out}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings are what JavaScript's Number.prototype.toString prints (ECMA-262
    // Number::toString), the form JSONata's documentation shows its numbers in.
    #[test]
    fn numbers_print_as_javascript_prints_them() {
        assert_eq!(js_number(1.0), "1");
        assert_eq!(js_number(-2.5), "-2.5");
        assert_eq!(js_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(js_number(1e21), "1e+21");
        assert_eq!(js_number(1e20), "100000000000000000000");
        assert_eq!(js_number(1.5e-7), "1.5e-7");
        assert_eq!(js_number(0.000001), "0.000001");
        assert_eq!(js_number(123456.789), "123456.789");
    }

    #[test]
    fn a_deeply_nested_value_drops_without_exhausting_the_stack() {
        let mut v = Value::Null;
        for _ in 0..200_000 {
            v = Value::array(vec![v]);
        }
        drop(v);
    }

    #[test]
    fn integers_convert_to_json_integers() {
        assert_eq!(number_to_json(3.0).unwrap(), serde_json::json!(3));
        assert_eq!(number_to_json(3.5).unwrap(), serde_json::json!(3.5));
        // JSONata's error table: D1001 "Number out of range"
        // (https://github.com/jsonata-js/jsonata/blob/master/src/jsonata.js, errorCodes).
        let err = number_to_json(f64::INFINITY).unwrap_err();
        assert_eq!(err.code, ErrorCode::D1001, "{err:?}");
    }
}
