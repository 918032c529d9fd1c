//! Intrinsic functions (`States.Format(...)` and friends) as payload templates use them:
//! parsed once when the definition is validated, evaluated per state execution.

use crate::asl::jsonpath::{JsonPath, PathError};
use crate::asl::variables::Sources;
use crate::error::StatesError;
use base64::Engine as _;
use serde_json::{Map, Value};

mod parser;

/// Escaped braces inside string literals are kept apart from placeholders with these
/// private-use characters until the value is produced.
const OPEN_BRACE: char = '\u{E000}';
const CLOSE_BRACE: char = '\u{E001}';

/// The most characters `Base64Encode`, `Base64Decode` and `Hash` accept.
const MAX_STRING_INPUT: usize = 10_000;
/// The most elements `ArrayRange` may produce.
const MAX_RANGE_ITEMS: usize = 1000;
/// Step Functions allows up to 10 nested intrinsic functions in one field.
const MAX_NESTING: usize = 10;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IntrinsicParseError {
    #[error("invalid intrinsic function '{text}': {reason}")]
    Syntax { text: String, reason: String },
    #[error("unknown intrinsic function '{name}' in '{text}'")]
    Unknown { name: String, text: String },
    #[error("the intrinsic function {name} takes {expected} argument(s), found {found}")]
    Arity {
        name: String,
        expected: &'static str,
        found: usize,
    },
    #[error(transparent)]
    Path(#[from] PathError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Function {
    fn from_name(name: &str) -> Option<Function> {
        use Function::*;
        Some(match name {
            "States.Format" => Format,
            "States.StringToJson" => StringToJson,
            "States.JsonToString" => JsonToString,
            "States.Array" => Array,
            "States.ArrayPartition" => ArrayPartition,
            "States.ArrayContains" => ArrayContains,
            "States.ArrayRange" => ArrayRange,
            "States.ArrayGetItem" => ArrayGetItem,
            "States.ArrayLength" => ArrayLength,
            "States.ArrayUnique" => ArrayUnique,
            "States.Base64Encode" => Base64Encode,
            "States.Base64Decode" => Base64Decode,
            "States.Hash" => Hash,
            "States.JsonMerge" => JsonMerge,
            "States.MathRandom" => MathRandom,
            "States.MathAdd" => MathAdd,
            "States.StringSplit" => StringSplit,
            "States.UUID" => Uuid,
            _ => return None,
        })
    }

    /// Accepted argument counts, as (min, max, description).
    fn arity(self) -> (usize, usize, &'static str) {
        use Function::*;
        match self {
            Format => (1, usize::MAX, "at least 1"),
            Array => (0, usize::MAX, "any number of"),
            Uuid => (0, 0, "0"),
            StringToJson | JsonToString | ArrayLength | ArrayUnique | Base64Encode
            | Base64Decode => (1, 1, "1"),
            ArrayPartition | ArrayContains | ArrayGetItem | Hash | MathAdd | StringSplit => {
                (2, 2, "2")
            }
            ArrayRange | JsonMerge => (3, 3, "3"),
            MathRandom => (2, 3, "2 or 3"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Argument {
    Literal(Value),
    Path(JsonPath),
    Call(Box<Intrinsic>),
}

/// One parsed call such as `States.Format('{}', $.a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Intrinsic {
    pub name: String,
    pub function: Function,
    pub args: Vec<Argument>,
}

/// Whether a `.$` value is an intrinsic call rather than a path.
pub fn looks_like_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

impl Intrinsic {
    pub fn parse(text: &str) -> Result<Intrinsic, IntrinsicParseError> {
        parser::parse(text)
    }

    /// Evaluates the call; its path arguments read the state's data, the context object
    /// or workflow variables.
    pub fn evaluate(&self, sources: &Sources) -> Result<Value, StatesError> {
        let mut args = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            args.push(match arg {
                Argument::Literal(v) => restore_braces(v),
                Argument::Path(p) => p
                    .select(sources)
                    .map_err(|e| StatesError::runtime(e.to_string()))?,
                Argument::Call(inner) => inner.evaluate(sources)?,
            });
        }
        if let Function::Format = self.function {
            return format(&self.args, &args);
        }
        call(self.function, &self.name, args)
    }
}

fn restore_braces(value: &Value) -> Value {
    match value {
        Value::String(s) if s.contains([OPEN_BRACE, CLOSE_BRACE]) => {
            Value::String(s.replace(OPEN_BRACE, "{").replace(CLOSE_BRACE, "}"))
        }
        other => other.clone(),
    }
}

fn fail(name: &str, reason: impl std::fmt::Display) -> StatesError {
    StatesError::intrinsic(format!("Invalid arguments in {name}: {reason}"))
}

fn format(raw_args: &[Argument], args: &[Value]) -> Result<Value, StatesError> {
    let name = "States.Format";
    // The template keeps its escaped braces apart from placeholders, so read it raw.
    let (Some(raw_template), Some((template_value, values))) =
        (raw_args.first(), args.split_first())
    else {
        return Err(fail(name, "the template is missing"));
    };
    let template = match raw_template {
        Argument::Literal(Value::String(s)) => s.clone(),
        _ => match template_value {
            Value::String(s) => s.clone(),
            other => return Err(fail(name, format!("the template {other} is not a string"))),
        },
    };
    let arguments = values.len();
    let mut values = values.iter();
    let mut out = String::new();
    let mut chars = template.chars().peekable();
    let mut placeholders = 0;
    while let Some(c) = chars.next() {
        if c == '{' && chars.peek() == Some(&'}') {
            chars.next();
            placeholders += 1;
            let value = values.next().ok_or_else(|| {
                fail(
                    name,
                    format!("the template has more placeholders than the {arguments} argument(s)"),
                )
            })?;
            match value {
                Value::String(s) => out.push_str(s),
                Value::Number(_) | Value::Bool(_) | Value::Null => out.push_str(&value.to_string()),
                other => {
                    return Err(fail(
                        name,
                        format!("{other} is not a string, number, boolean or null"),
                    ))
                }
            }
        } else if c == OPEN_BRACE {
            out.push('{');
        } else if c == CLOSE_BRACE {
            out.push('}');
        } else {
            out.push(c);
        }
    }
    if placeholders != arguments {
        return Err(fail(
            name,
            format!("the template has {placeholders} placeholder(s) for {arguments} argument(s)"),
        ));
    }
    Ok(Value::String(out))
}

fn as_str<'a>(name: &str, v: &'a Value) -> Result<&'a str, StatesError> {
    v.as_str()
        .ok_or_else(|| fail(name, format!("{v} is not a string")))
}

fn as_array<'a>(name: &str, v: &'a Value) -> Result<&'a Vec<Value>, StatesError> {
    v.as_array()
        .ok_or_else(|| fail(name, format!("{v} is not an array")))
}

fn as_integer(name: &str, v: &Value) -> Result<i64, StatesError> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(f as i64),
        _ => Err(fail(name, format!("{v} is not an integer"))),
    }
}

/// `MathAdd` and `MathRandom` take integers, and Step Functions rounds a non-integer
/// argument to the nearest integer instead of failing (halves away from zero).
fn as_rounded_integer(name: &str, v: &Value) -> Result<i64, StatesError> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        Some(f) if f.is_finite() && f.abs() < 9.0e15 => Ok(f.round() as i64),
        _ => Err(fail(name, format!("{v} is not a number"))),
    }
}

fn limited<'a>(name: &str, s: &'a str) -> Result<&'a str, StatesError> {
    if s.chars().count() > MAX_STRING_INPUT {
        return Err(fail(
            name,
            format!("the input has more than {MAX_STRING_INPUT} characters"),
        ));
    }
    Ok(s)
}

/// The arguments of a function that takes exactly `N`. The parser has checked the count against
/// [`Function::arity`]; a call built some other way gets the error the parser would give.
fn exactly<'a, const N: usize>(
    function: Function,
    name: &str,
    args: &'a [Value],
) -> Result<&'a [Value; N], StatesError> {
    args.try_into()
        .map_err(|_| arity_error(function, name, args.len()))
}

fn arity_error(function: Function, name: &str, found: usize) -> StatesError {
    let error = IntrinsicParseError::Arity {
        name: name.to_string(),
        expected: function.arity().2,
        found,
    };
    StatesError::intrinsic(error.to_string())
}

fn call(function: Function, name: &str, args: Vec<Value>) -> Result<Value, StatesError> {
    use Function::*;
    match function {
        Format => unreachable_format(),
        StringToJson => {
            let [text] = exactly(function, name, &args)?;
            let text = as_str(name, text)?;
            if text.trim().is_empty() {
                return Err(fail(name, "the empty string is not JSON text"));
            }
            serde_json::from_str(text).map_err(|e| fail(name, format!("not JSON: {e}")))
        }
        JsonToString => {
            let [value] = exactly(function, name, &args)?;
            Ok(Value::String(value.to_string()))
        }
        Array => Ok(Value::Array(args)),
        ArrayPartition => {
            let [items, size] = exactly(function, name, &args)?;
            let items = as_array(name, items)?;
            let size = as_integer(name, size)?;
            if size <= 0 {
                return Err(fail(name, "the chunk size must be a positive integer"));
            }
            Ok(Value::Array(
                items
                    .chunks(size as usize)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            ))
        }
        ArrayContains => {
            let [items, item] = exactly(function, name, &args)?;
            Ok(Value::Bool(as_array(name, items)?.contains(item)))
        }
        ArrayRange => {
            let [start, end, step] = exactly(function, name, &args)?;
            let start = as_integer(name, start)?;
            let end = as_integer(name, end)?;
            let step = as_integer(name, step)?;
            if step == 0 {
                return Err(fail(name, "the step cannot be 0"));
            }
            let mut out = Vec::new();
            let mut at = start;
            while (step > 0 && at <= end) || (step < 0 && at >= end) {
                if out.len() == MAX_RANGE_ITEMS {
                    return Err(fail(
                        name,
                        format!("the range has more than {MAX_RANGE_ITEMS} items"),
                    ));
                }
                out.push(Value::from(at));
                at = match at.checked_add(step) {
                    Some(next) => next,
                    None => break,
                };
            }
            Ok(Value::Array(out))
        }
        ArrayGetItem => {
            let [items, index] = exactly(function, name, &args)?;
            let items = as_array(name, items)?;
            let index = as_integer(name, index)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| fail(name, format!("the index {index} is out of bounds")))
        }
        ArrayLength => {
            let [items] = exactly(function, name, &args)?;
            Ok(Value::from(as_array(name, items)?.len()))
        }
        ArrayUnique => {
            let [items] = exactly(function, name, &args)?;
            let mut seen: Vec<Value> = Vec::new();
            for item in as_array(name, items)? {
                if !seen.contains(item) {
                    seen.push(item.clone());
                }
            }
            Ok(Value::Array(seen))
        }
        Base64Encode => {
            let [text] = exactly(function, name, &args)?;
            let text = limited(name, as_str(name, text)?)?;
            Ok(Value::String(
                base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            ))
        }
        Base64Decode => {
            let [text] = exactly(function, name, &args)?;
            let text = limited(name, as_str(name, text)?)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| fail(name, format!("not base64: {e}")))?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| fail(name, "the decoded data is not UTF-8 text"))
        }
        Hash => {
            let [text, algorithm] = exactly(function, name, &args)?;
            let text = limited(name, as_str(name, text)?)?;
            let algorithm = as_str(name, algorithm)?;
            hash(text.as_bytes(), algorithm)
                .map(Value::String)
                .ok_or_else(|| {
                    fail(
                        name,
                        format!(
                            "unknown algorithm '{algorithm}' (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"
                        ),
                    )
                })
        }
        JsonMerge => {
            let [left, right, deep] = exactly(function, name, &args)?;
            let (Value::Object(left), Value::Object(right)) = (left, right) else {
                return Err(fail(name, "both values to merge must be objects"));
            };
            if *deep != Value::Bool(false) {
                return Err(fail(
                    name,
                    "only a shallow merge is supported: the third argument must be false",
                ));
            }
            let mut merged: Map<String, Value> = left.clone();
            for (k, v) in right {
                merged.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(merged))
        }
        MathRandom => {
            let (start, end, seed) = match args.as_slice() {
                [start, end] => (start, end, None),
                [start, end, seed] => (start, end, Some(seed)),
                _ => return Err(arity_error(function, name, args.len())),
            };
            let start = as_rounded_integer(name, start)?;
            let end = as_rounded_integer(name, end)?;
            if start >= end {
                return Err(fail(name, "the start must be lower than the end"));
            }
            let seed = match seed {
                Some(v) => Some(as_integer(name, v)?),
                None => None,
            };
            Ok(Value::from(random_between(start, end, seed)))
        }
        MathAdd => {
            let [a, b] = exactly(function, name, &args)?;
            let a = as_rounded_integer(name, a)?;
            let b = as_rounded_integer(name, b)?;
            let range = i64::from(i32::MIN)..=i64::from(i32::MAX);
            if !range.contains(&a) || !range.contains(&b) {
                return Err(fail(name, "the values must be 32-bit integers"));
            }
            Ok(Value::from(a + b))
        }
        StringSplit => {
            let [text, splitters] = exactly(function, name, &args)?;
            let text = as_str(name, text)?;
            let splitters: Vec<char> = as_str(name, splitters)?.chars().collect();
            Ok(Value::Array(
                text.split(|c| splitters.contains(&c))
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ))
        }
        Uuid => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
    }
}

/// `Format` is handled before `call` because it needs the raw template.
fn unreachable_format() -> Result<Value, StatesError> {
    Err(StatesError::intrinsic(
        "States.Format evaluated out of order",
    ))
}

fn random_between(start: i64, end: i64, seed: Option<i64>) -> i64 {
    use rand::{Rng, SeedableRng};
    match seed {
        Some(seed) => rand::rngs::StdRng::seed_from_u64(seed as u64).random_range(start..end),
        None => rand::rng().random_range(start..end),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(data: &[u8], algorithm: &str) -> Option<String> {
    use sha2::Digest;
    Some(match algorithm {
        "MD5" => hex(&md5::Md5::digest(data)),
        "SHA-1" => hex(&sha1::Sha1::digest(data)),
        "SHA-256" => hex(&sha2::Sha256::digest(data)),
        "SHA-384" => hex(&sha2::Sha384::digest(data)),
        "SHA-512" => hex(&sha2::Sha512::digest(data)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::variables::Variables;
    use serde_json::json;

    const PAGE: &str =
        "https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html";

    fn eval(text: &str, input: Value) -> Result<Value, StatesError> {
        Intrinsic::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e} ({PAGE})"))
            .evaluate(&Sources::new(&input, &json!({}), &Variables::new()))
    }

    /// A call that cannot be evaluated fails with `States.IntrinsicFailure`
    /// (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
    fn assert_intrinsic_failure(text: &str, input: Value) {
        let err = eval(text, input).expect_err(text);
        assert_eq!(
            err.error, "States.IntrinsicFailure",
            "{text}: {}",
            err.cause
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-generic
    #[test]
    fn format_from_the_docs() {
        assert_eq!(
            eval(
                "States.Format('Hello, my name is {}.', $.name)",
                json!({"name": "Arnav"})
            )
            .unwrap(),
            json!("Hello, my name is Arnav.")
        );
        assert_eq!(
            eval(r"States.Format('\{\} {} \\ \'x\'', 3)", json!({})).unwrap(),
            json!(r"{} 3 \ 'x'")
        );
        assert_eq!(
            eval("States.Format('{} and {}', true, null)", json!({})).unwrap(),
            json!("true and null")
        );
        let err = eval("States.Format('{} {}', 1)", json!({})).unwrap_err();
        assert_eq!(err.error, "States.IntrinsicFailure");
        assert_intrinsic_failure("States.Format('{}', $.o)", json!({"o": {"a": 1}}));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html ("in
    // JSONPath fields that accept intrinsic functions, variables can be used in the
    // arguments, for example States.Format('The order number is {}', $order.number)")
    #[test]
    fn arguments_read_variables() {
        let mut variables = Variables::new();
        variables.apply(
            json!({"order": {"number": 12}})
                .as_object()
                .unwrap()
                .clone(),
        );
        let call =
            Intrinsic::parse("States.Format('The order number is {}', $order.number)").unwrap();
        let out = call
            .evaluate(&Sources::new(&json!({}), &json!({}), &variables))
            .unwrap();
        assert_eq!(out, json!("The order number is 12"));
        let missing = call
            .evaluate(&Sources::new(&json!({}), &json!({}), &Variables::new()))
            .unwrap_err();
        assert_eq!(missing.error, "States.Runtime");
        assert!(missing.cause.contains("'$order'"), "{}", missing.cause);
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-json-manipulate
    #[test]
    fn json_string_conversions_from_the_docs() {
        assert_eq!(
            eval(
                "States.StringToJson($.escapedJsonString)",
                json!({"escapedJsonString": "{\"foo\": \"bar\"}"})
            )
            .unwrap(),
            json!({"foo": "bar"})
        );
        assert_eq!(
            eval(
                "States.JsonToString($.unescapedJson)",
                json!({"unescapedJson": {"foo": "bar"}})
            )
            .unwrap(),
            json!("{\"foo\":\"bar\"}")
        );
        assert_intrinsic_failure("States.StringToJson('{nope')", json!({}));
        // The page does not say what the empty string gives; the engine refuses it as it
        // refuses any text that is not JSON, and says why.
        let err = eval("States.StringToJson($.s)", json!({"s": ""})).unwrap_err();
        assert_eq!(err.error, "States.IntrinsicFailure");
        assert!(err.cause.contains("empty string"), "{}", err.cause);
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-arrays
    #[test]
    fn array_functions_from_the_docs() {
        let nine = json!({"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5, "index": 5});
        assert_eq!(
            eval(
                "States.Array('Foo', 2020, $.someJson, null)",
                json!({"someJson": {"random": "abcdefghij"}})
            )
            .unwrap(),
            json!(["Foo", 2020, {"random": "abcdefghij"}, null])
        );
        assert_eq!(
            eval("States.ArrayPartition($.inputArray,4)", nine.clone()).unwrap(),
            json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]])
        );
        assert_eq!(
            eval(
                "States.ArrayContains($.inputArray, $.lookingFor)",
                nine.clone()
            )
            .unwrap(),
            json!(true)
        );
        assert_eq!(
            eval("States.ArrayRange(1, 9, 2)", json!({})).unwrap(),
            json!([1, 3, 5, 7, 9])
        );
        assert_eq!(
            eval("States.ArrayGetItem($.inputArray, $.index)", nine.clone()).unwrap(),
            json!(6)
        );
        assert_eq!(
            eval("States.ArrayLength($.inputArray)", nine).unwrap(),
            json!(9)
        );
        assert_eq!(
            eval(
                "States.ArrayUnique($.inputArray)",
                json!({"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]})
            )
            .unwrap(),
            json!([1, 2, 3, 4])
        );
        assert_intrinsic_failure("States.ArrayRange(1, 5000, 1)", json!({}));
        assert_eq!(
            eval(
                "States.ArrayRange(9223372036854775806, 9223372036854775807, 5)",
                json!({})
            )
            .unwrap(),
            json!([9223372036854775806i64])
        );
        assert_intrinsic_failure("States.ArrayGetItem($.a, 3)", json!({"a": [1]}));
        assert_intrinsic_failure("States.ArrayPartition($.a, 0)", json!({"a": [1]}));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-data-encode-decode
    #[test]
    fn base64_from_the_docs() {
        assert_eq!(
            eval(
                "States.Base64Encode($.input)",
                json!({"input": "Data to encode"})
            )
            .unwrap(),
            json!("RGF0YSB0byBlbmNvZGU=")
        );
        assert_eq!(
            eval(
                "States.Base64Decode($.base64)",
                json!({"base64": "RGF0YSB0byBlbmNvZGU="})
            )
            .unwrap(),
            json!("Data to encode")
        );
        assert_intrinsic_failure("States.Base64Decode('***')", json!({}));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-uuid-generate
    #[test]
    fn hash_from_the_docs() {
        assert_eq!(
            eval(
                "States.Hash($.Data, $.Algorithm)",
                json!({"Data": "input data", "Algorithm": "SHA-1"})
            )
            .unwrap(),
            json!("aaff4a450a104cd177d28d18d74485e8cae074b7")
        );
        assert_eq!(
            eval("States.Hash('abc', 'MD5')", json!({})).unwrap(),
            json!("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_intrinsic_failure("States.Hash('abc', 'CRC32')", json!({}));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-json-manipulate
    #[test]
    fn json_merge_from_the_docs() {
        let input = json!({"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}});
        assert_eq!(
            eval("States.JsonMerge($.json1, $.json2, false)", input.clone()).unwrap(),
            json!({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3})
        );
        assert_intrinsic_failure("States.JsonMerge($.json1, $.json2, true)", input);
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-math-operation
    #[test]
    fn math_from_the_docs() {
        assert_eq!(
            eval(
                "States.MathAdd($.value1, $.step)",
                json!({"value1": 111, "step": -1})
            )
            .unwrap(),
            json!(110)
        );
        for _ in 0..50 {
            let v = eval(
                "States.MathRandom($.start, $.end)",
                json!({"start": 1, "end": 999}),
            )
            .unwrap()
            .as_i64()
            .unwrap();
            assert!((1..999).contains(&v));
        }
        let seeded = "States.MathRandom(1, 999, 7)";
        assert_eq!(
            eval(seeded, json!({})).unwrap(),
            eval(seeded, json!({})).unwrap()
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-math-operation
    // (States.MathAdd, input validation: "If you specify a non-integer value for one or both
    // the arguments, Step Functions will round it off to the nearest integer", and the
    // values must lie between -2147483648 and 2147483647; MathRandom rounds its start and
    // end the same way)
    #[test]
    fn math_rounds_non_integer_arguments_to_the_nearest_integer() {
        assert_eq!(
            eval("States.MathAdd(1.7, 2.2)", json!({})).unwrap(),
            json!(4)
        );
        assert_eq!(
            eval(
                "States.MathAdd($.value1, $.step)",
                json!({"value1": 111.6, "step": -1.4})
            )
            .unwrap(),
            json!(111)
        );
        assert_eq!(
            eval("States.MathAdd(-2147483648, 2147483647)", json!({})).unwrap(),
            json!(-1)
        );
        let err = eval("States.MathAdd(2147483648, 1)", json!({})).unwrap_err();
        assert_eq!(err.error, "States.IntrinsicFailure");
        let err = eval("States.MathAdd('one', 1)", json!({})).unwrap_err();
        assert_eq!(err.error, "States.IntrinsicFailure");
        // [0.6, 1.4) rounds to [1, 1): no integer lies between the rounded bounds.
        assert_intrinsic_failure("States.MathRandom(0.6, 1.4)", json!({}));
        assert_eq!(
            eval("States.MathRandom(0.6, 1.6)", json!({})).unwrap(),
            json!(1)
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-string-operation
    #[test]
    fn string_split_from_the_docs() {
        assert_eq!(
            eval(
                "States.StringSplit($.inputString, $.splitter)",
                json!({"inputString": "1,2,3,4,5", "splitter": ","})
            )
            .unwrap(),
            json!(["1", "2", "3", "4", "5"])
        );
        assert_eq!(
            eval(
                "States.StringSplit($.inputString, $.splitter)",
                json!({"inputString": "This.is+a,test=string", "splitter": ".+,="})
            )
            .unwrap(),
            json!(["This", "is", "a", "test", "string"])
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-uuid-generate
    #[test]
    fn uuid_is_a_v4_uuid() {
        let v = eval("States.UUID()", json!({})).unwrap();
        let parsed = uuid::Uuid::parse_str(v.as_str().unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
    // (a path argument in bracket notation may escape a quote inside the name)
    #[test]
    fn path_arguments_with_escaped_quotes() {
        let input = json!({"a'b": "x", "c,d)": "y"});
        assert_eq!(
            eval(
                r"States.Format('{} {}', $['a\'b'], $['c,d)'])",
                input.clone()
            )
            .unwrap(),
            json!("x y")
        );
        assert_eq!(
            eval(r"States.Array($['a\'b'])", input).unwrap(),
            json!(["x"])
        );
    }

    #[test]
    fn nested_calls_and_parse_errors() {
        assert_eq!(
            eval(
                "States.ArrayLength(States.Array(1, 2, States.UUID()))",
                json!({})
            )
            .unwrap(),
            json!(3)
        );
        assert!(matches!(
            Intrinsic::parse("States.Nope(1)"),
            Err(IntrinsicParseError::Unknown { .. })
        ));
        assert!(matches!(
            Intrinsic::parse("States.UUID(1)"),
            Err(IntrinsicParseError::Arity { .. })
        ));
        for bad in ["States.Format('x'", "States.Array(foo)"] {
            assert!(
                matches!(
                    Intrinsic::parse(bad),
                    Err(IntrinsicParseError::Syntax { .. })
                ),
                "{bad}"
            );
        }
        // https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html
        // ("You can nest up to 10 intrinsic functions within a field")
        let nest = |n: usize| format!("{}1{}", "States.Array(".repeat(n), ")".repeat(n));
        assert!(Intrinsic::parse(&nest(10)).is_ok());
        assert!(matches!(
            Intrinsic::parse(&nest(11)),
            Err(IntrinsicParseError::Syntax { .. })
        ));
    }
}
