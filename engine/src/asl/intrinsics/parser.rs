//! The parser of intrinsic function calls: `States.Name(arg, ...)` with string literals
//! (`'...'`, backslash escapes), numbers, booleans, null, paths and nested calls.

use super::{
    Argument, Function, Intrinsic, IntrinsicParseError, CLOSE_BRACE, MAX_NESTING, OPEN_BRACE,
};
use crate::asl::jsonpath::JsonPath;
use serde_json::Value;

/// Parses one whole call; nothing but spaces may follow its closing parenthesis.
pub(super) fn parse(text: &str) -> Result<Intrinsic, IntrinsicParseError> {
    let mut parser = Parser {
        text,
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
    };
    parser.skip_spaces();
    let call = parser.call()?;
    parser.skip_spaces();
    if parser.pos != parser.chars.len() {
        return Err(parser.syntax("unexpected characters after the closing ')'"));
    }
    Ok(call)
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn syntax(&self, reason: &str) -> IntrinsicParseError {
        IntrinsicParseError::Syntax {
            text: self.text.to_string(),
            reason: reason.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The text read since `start`.
    fn read_since(&self, start: usize) -> String {
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn call(&mut self) -> Result<Intrinsic, IntrinsicParseError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.syntax(&format!(
                "more than {MAX_NESTING} nested intrinsic functions"
            )));
        }
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
        {
            self.pos += 1;
        }
        let name: String = self.read_since(start);
        let function = Function::from_name(&name).ok_or_else(|| IntrinsicParseError::Unknown {
            name: name.clone(),
            text: self.text.to_string(),
        })?;
        self.skip_spaces();
        if self.peek() != Some('(') {
            return Err(self.syntax("expected '(' after the function name"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_spaces();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.skip_spaces();
                args.push(self.argument()?);
                self.skip_spaces();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.syntax("expected ',' or ')' after an argument")),
                }
            }
        }
        self.depth -= 1;
        let (min, max, expected) = function.arity();
        if args.len() < min || args.len() > max {
            return Err(IntrinsicParseError::Arity {
                name,
                expected,
                found: args.len(),
            });
        }
        Ok(Intrinsic {
            name,
            function,
            args,
        })
    }

    fn argument(&mut self) -> Result<Argument, IntrinsicParseError> {
        match self.peek() {
            Some('\'') => self.string().map(|s| Argument::Literal(Value::String(s))),
            Some('$') => {
                let start = self.pos;
                let mut depth = 0i32;
                let mut quote: Option<char> = None;
                while let Some(c) = self.peek() {
                    match (quote, c) {
                        // A backslash inside a quoted name escapes the next character
                        // (`$['a\'b']`): the path parser reads the escape.
                        (Some(_), '\\') => self.pos += 1,
                        (Some(q), c) if c == q => quote = None,
                        (Some(_), _) => {}
                        (None, '\'') | (None, '"') => quote = Some(c),
                        (None, '[') | (None, '(') => depth += 1,
                        (None, ']') => depth -= 1,
                        (None, ')') if depth == 0 => break,
                        (None, ')') => depth -= 1,
                        (None, ',') if depth == 0 => break,
                        (None, c) if c.is_whitespace() && depth == 0 => break,
                        _ => {}
                    }
                    self.pos += 1;
                }
                let text: String = self.read_since(start);
                Ok(Argument::Path(JsonPath::parse(&text)?))
            }
            Some('S') => Ok(Argument::Call(Box::new(self.call()?))),
            Some(_) => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| c != ',' && c != ')' && !c.is_whitespace())
                {
                    self.pos += 1;
                }
                let text: String = self.read_since(start);
                match serde_json::from_str::<Value>(&text) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        Ok(Argument::Literal(v))
                    }
                    _ => Err(self.syntax(&format!(
                        "'{text}' is not a string, number, boolean, null, path or function"
                    ))),
                }
            }
            None => Err(self.syntax("missing argument")),
        }
    }

    fn string(&mut self) -> Result<String, IntrinsicParseError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.syntax("unterminated string literal")),
                Some('\\') => {
                    let escaped = self
                        .chars
                        .get(self.pos + 1)
                        .copied()
                        .ok_or_else(|| self.syntax("unterminated string literal"))?;
                    out.push(match escaped {
                        '{' => OPEN_BRACE,
                        '}' => CLOSE_BRACE,
                        other => other,
                    });
                    self.pos += 2;
                }
                Some('\'') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}
