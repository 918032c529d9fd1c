//! Function signatures (`<s-nn?:s>`): which arguments a function takes, and how missing
//! ones are filled from the context value. Checked on every call, as JSONata does.

use super::error::{ErrorCode, JsonataError, Result};
use super::value::{Val, Value};

#[derive(Debug, Clone, PartialEq)]
struct Param {
    /// Type letters this parameter accepts; `m` means undefined ("missing").
    accepts: String,
    kind: String,
    optional: bool,
    repeated: bool,
    /// `-`: when the argument is absent, the context value is used.
    context: bool,
    /// The type of the members of an array (`a<n>`).
    subtype: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Signature {
    params: Vec<Param>,
}

impl Param {
    fn new(kind: &str, accepts: &str) -> Param {
        Param {
            accepts: accepts.into(),
            kind: kind.into(),
            optional: false,
            repeated: false,
            context: false,
            subtype: None,
        }
    }
    fn matches_symbol(&self, c: char) -> bool {
        self.accepts.contains(c)
    }
}

impl Signature {
    /// Parses `<...>`; on failure returns the code, the offset in the text and a message.
    pub fn parse(text: &str) -> std::result::Result<Signature, (ErrorCode, usize, String)> {
        let chars: Vec<char> = text.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut i = 1;
        while let Some(&c) = chars.get(i) {
            if c == ':' {
                break;
            }
            match c {
                's' | 'n' | 'b' | 'l' | 'o' => {
                    params.push(Param::new(&c.to_string(), &format!("{c}m")))
                }
                'a' => params.push(Param::new("a", "asnblfom")),
                'f' => params.push(Param::new("f", "f")),
                'j' => params.push(Param::new("j", "asnblom")),
                'x' => params.push(Param::new("x", "asnblfom")),
                '-' => {
                    if let Some(p) = params.last_mut() {
                        p.context = true;
                        p.optional = true;
                    }
                }
                '?' => {
                    if let Some(p) = params.last_mut() {
                        p.optional = true;
                    }
                }
                '+' => {
                    if let Some(p) = params.last_mut() {
                        p.repeated = true;
                    }
                }
                '(' => {
                    let end = closing(&chars, i, '(', ')');
                    let choice: String = chars.get(i + 1..end).unwrap_or_default().iter().collect();
                    if choice.contains('<') {
                        return Err((
                            ErrorCode::S0402,
                            i,
                            "Choice groups containing parameterised types are not supported".into(),
                        ));
                    }
                    params.push(Param::new(&format!("({choice})"), &format!("{choice}m")));
                    i = end;
                }
                '<' => {
                    let Some(p) = params.last_mut().filter(|p| p.kind == "a" || p.kind == "f")
                    else {
                        return Err((
                            ErrorCode::S0401,
                            i,
                            "Type parameters can only be applied to functions and arrays".into(),
                        ));
                    };
                    let end = closing(&chars, i, '<', '>');
                    p.subtype = Some(chars.get(i + 1..end).unwrap_or_default().iter().collect());
                    i = end;
                }
                _ => {}
            }
            i += 1;
        }
        Ok(Signature { params })
    }

    /// Checks the arguments of a call and fills in the context value where the signature
    /// allows it. `name` is used in error messages.
    pub fn validate(&self, args: Vec<Val>, context: &Val, name: &str) -> Result<Vec<Val>> {
        let symbols: Vec<char> = args
            .iter()
            .map(|a| a.as_ref().map(Value::signature_symbol).unwrap_or('m'))
            .collect();
        let Some(counts) = match_params(&self.params, &symbols, 0, true) else {
            return Err(self.mismatch(&symbols, name));
        };
        let mut out = Vec::with_capacity(self.params.len());
        let mut args = args.into_iter();
        let mut index = 0;
        for (param, count) in self.params.iter().zip(counts) {
            if count == 0 {
                if param.context {
                    let symbol = context.as_ref().map(Value::signature_symbol).unwrap_or('m');
                    if !param.matches_symbol(symbol) {
                        return Err(JsonataError::new(
                            ErrorCode::T0411,
                            format!(
                                "The context value is not a compatible type for argument {} of function {name}",
                                index + 1
                            ),
                        ));
                    }
                    out.push(context.clone());
                } else {
                    out.push(args.next().flatten());
                    index += 1;
                }
                continue;
            }
            for _ in 0..count {
                let arg = args.next().flatten();
                index += 1;
                if param.kind != "a" {
                    out.push(arg);
                    continue;
                }
                out.push(match arg {
                    None => None,
                    Some(v) => Some(array_argument(param, v, count, index, name)?),
                });
            }
        }
        Ok(out)
    }

    fn mismatch(&self, symbols: &[char], name: &str) -> JsonataError {
        let mut good = 0;
        for n in 1..=self.params.len() {
            let params = self.params.get(..n).unwrap_or_default();
            match match_params(params, symbols, 0, false) {
                Some(counts) => good = counts.iter().sum(),
                None => break,
            }
        }
        JsonataError::new(
            ErrorCode::T0410,
            format!(
                "Argument {} of function {name} does not match the function's signature",
                good + 1
            ),
        )
    }
}

/// Checks an argument for an `a` parameter and wraps a single value in an array.
fn array_argument(
    param: &Param,
    v: Value,
    count: usize,
    index: usize,
    name: &str,
) -> Result<Value> {
    if let Some(sub) = &param.subtype {
        let first = sub.chars().next().unwrap_or('x');
        let ok = match &v {
            Value::Array(items, _) => items.iter().all(|i| i.signature_symbol() == first),
            other => count == 1 && other.signature_symbol().to_string() == *sub,
        };
        if !ok {
            let plural = match first {
                'a' => "arrays",
                'b' => "booleans",
                'f' => "functions",
                'n' => "numbers",
                'o' => "objects",
                's' => "strings",
                _ => "values",
            };
            return Err(JsonataError::new(
                ErrorCode::T0412,
                format!("Argument {index} of function {name} must be an array of {plural}"),
            ));
        }
    }
    Ok(match v {
        v @ Value::Array(..) => v,
        other => Value::array(vec![other]),
    })
}

fn closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut i = start;
    while let Some(&c) = chars.get(i + 1) {
        i += 1;
        if c == close {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        } else if c == open {
            depth += 1;
        }
    }
    chars.len().saturating_sub(1).max(start)
}

/// Matches the argument type letters against the parameters the way a regular expression
/// `^(p1)(p2)…$` with greedy quantifiers would; returns how many letters each took.
fn match_params(params: &[Param], symbols: &[char], at: usize, to_end: bool) -> Option<Vec<usize>> {
    let Some((first, rest)) = params.split_first() else {
        return (!to_end || at == symbols.len()).then(Vec::new);
    };
    let mut most = 0;
    while symbols
        .get(at + most)
        .is_some_and(|symbol| first.matches_symbol(*symbol))
    {
        most += 1;
        if !first.repeated {
            break;
        }
    }
    let least = if first.optional { 0 } else { 1 };
    let mut n = most;
    loop {
        if n < least {
            return None;
        }
        if let Some(mut tail) = match_params(rest, symbols, at + n, to_end) {
            tail.insert(0, n);
            return Some(tail);
        }
        if n == 0 {
            return None;
        }
        n -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(n: f64) -> Val {
        Some(Value::Number(n))
    }

    #[test]
    fn a_missing_first_argument_is_taken_from_the_context() {
        let sig = Signature::parse("<s-nn?:s>").unwrap();
        let ctx = Some(Value::str("hello"));
        let out = sig.validate(vec![num(1.0)], &ctx, "substring").unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].as_ref().and_then(Value::as_str), Some("hello"));
    }

    #[test]
    fn wrong_types_report_the_offending_argument() {
        let sig = Signature::parse("<s-nn?:s>").unwrap();
        let e = sig
            .validate(
                vec![Some(Value::str("a")), Some(Value::str("b"))],
                &None,
                "substring",
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::T0410);
        assert!(e.message.contains("Argument 2"), "{}", e.message);
    }

    #[test]
    fn typed_arrays_are_checked_and_single_values_wrapped() {
        let sig = Signature::parse("<a<n>:n>").unwrap();
        let out = sig.validate(vec![num(2.0)], &None, "sum").unwrap();
        assert!(out[0].as_ref().unwrap().is_array());
        let strings = Some(Value::array(vec![Value::str("x")]));
        assert_eq!(
            sig.validate(vec![strings], &None, "sum").unwrap_err().code,
            ErrorCode::T0412
        );
    }
}
