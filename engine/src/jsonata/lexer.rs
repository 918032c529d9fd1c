//! Splits a JSONata expression into tokens. Positions are character offsets.

use super::error::{ErrorCode, JsonataError, Result};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Operator(&'static str),
    Name(String),
    Variable(String),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex { pattern: String, flags: String },
    End,
}

impl Tok {
    /// The token as the expression spells it, for error messages and signatures.
    pub fn text(&self) -> String {
        match self {
            Tok::Operator(o) => (*o).to_string(),
            Tok::Name(n) => n.clone(),
            Tok::Variable(v) => format!("${v}"),
            Tok::Str(s) => s.clone(),
            Tok::Num(n) => super::value::js_number(*n),
            Tok::Bool(b) => b.to_string(),
            Tok::Null => "null".into(),
            Tok::Regex { pattern, flags } => format!("/{pattern}/{flags}"),
            Tok::End => "(end)".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
}

/// Single-character operators; also the characters that end a name.
const SINGLE: &[(char, &str)] = &[
    ('.', "."),
    ('[', "["),
    (']', "]"),
    ('{', "{"),
    ('}', "}"),
    ('(', "("),
    (')', ")"),
    (',', ","),
    ('@', "@"),
    ('#', "#"),
    (';', ";"),
    (':', ":"),
    ('?', "?"),
    ('+', "+"),
    ('-', "-"),
    ('*', "*"),
    ('/', "/"),
    ('%', "%"),
    ('|', "|"),
    ('=', "="),
    ('<', "<"),
    ('>', ">"),
    ('^', "^"),
    ('&', "&"),
    ('!', "!"),
    ('~', "~"),
];

const DOUBLE: &[(&str, &str)] = &[
    ("..", ".."),
    (":=", ":="),
    ("!=", "!="),
    (">=", ">="),
    ("<=", "<="),
    ("**", "**"),
    ("~>", "~>"),
    ("?:", "?:"),
    ("??", "??"),
];

fn single(c: char) -> Option<&'static str> {
    SINGLE.iter().find(|(ch, _)| *ch == c).map(|(_, s)| *s)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}')
}

pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    pub fn new(source: &str) -> Self {
        Lexer {
            chars: source.chars().collect(),
            pos: 0,
        }
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    /// The source text from `from` up to `to`.
    fn text(&self, from: usize, to: usize) -> String {
        self.chars
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    /// The next token. `infix` says an operator is expected, so `/` divides rather than
    /// starting a regular expression.
    pub fn next(&mut self, infix: bool) -> Result<Token> {
        loop {
            while self.at(self.pos).is_some_and(is_space) {
                self.pos += 1;
            }
            if self.at(self.pos) == Some('/') && self.at(self.pos + 1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    match self.at(self.pos) {
                        None => {
                            return Err(JsonataError::at(
                                ErrorCode::S0106,
                                start,
                                "The comment has no closing '*/'",
                            ))
                        }
                        Some('*') if self.at(self.pos + 1) == Some('/') => {
                            self.pos += 2;
                            break;
                        }
                        _ => self.pos += 1,
                    }
                }
                continue;
            }
            break;
        }
        let start = self.pos;
        let token = |tok| Ok(Token { tok, pos: start });
        let Some(c) = self.at(self.pos) else {
            return token(Tok::End);
        };
        if !infix && c == '/' {
            self.pos += 1;
            return self.regex(start).and_then(token);
        }
        if let Some(next) = self.at(self.pos + 1) {
            let pair: String = [c, next].iter().collect();
            if let Some((_, op)) = DOUBLE.iter().find(|(p, _)| *p == pair) {
                self.pos += 2;
                return token(Tok::Operator(op));
            }
        }
        if let Some(op) = single(c) {
            self.pos += 1;
            return token(Tok::Operator(op));
        }
        if c == '"' || c == '\'' {
            return self.string(c).and_then(token);
        }
        if c.is_ascii_digit() {
            return self.number().and_then(token);
        }
        if c == '`' {
            self.pos += 1;
            let closing = self.chars.iter().skip(self.pos).position(|ch| *ch == '`');
            return match closing {
                Some(end) => {
                    let name = self.text(self.pos, self.pos + end);
                    self.pos += end + 1;
                    token(Tok::Name(name))
                }
                None => {
                    self.pos = self.chars.len();
                    Err(JsonataError::at(
                        ErrorCode::S0105,
                        start,
                        "A quoted name must end with a backquote (`)",
                    ))
                }
            };
        }
        let mut end = self.pos;
        while let Some(ch) = self.at(end) {
            if is_space(ch) || single(ch).is_some() {
                break;
            }
            end += 1;
        }
        let word = self.text(self.pos, end);
        self.pos = end;
        if let Some(var) = word.strip_prefix('$') {
            return token(Tok::Variable(var.to_string()));
        }
        token(match word.as_str() {
            "and" => Tok::Operator("and"),
            "or" => Tok::Operator("or"),
            "in" => Tok::Operator("in"),
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "null" => Tok::Null,
            _ => Tok::Name(word),
        })
    }

    fn string(&mut self, quote: char) -> Result<Tok> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        while let Some(c) = self.at(self.pos) {
            if c == '\\' {
                self.pos += 1;
                let esc = self.at(self.pos);
                match esc {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('u') => {
                        let unit = self.hex4(self.pos + 1).ok_or_else(|| {
                            JsonataError::at(
                                ErrorCode::S0104,
                                self.pos,
                                "The escape sequence \\u must be followed by 4 hexadecimal digits",
                            )
                        })?;
                        self.pos += 4;
                        out.push(self.utf16_unit(unit));
                    }
                    other => {
                        return Err(JsonataError::at(
                            ErrorCode::S0103,
                            self.pos,
                            format!(
                                "Unsupported escape sequence: \\{}",
                                other.map(String::from).unwrap_or_default()
                            ),
                        ))
                    }
                }
            } else if c == quote {
                self.pos += 1;
                return Ok(Tok::Str(out));
            } else {
                out.push(c);
            }
            self.pos += 1;
        }
        Err(JsonataError::at(
            ErrorCode::S0101,
            start,
            "The string literal is not closed by a matching quote",
        ))
    }

    fn hex4(&self, from: usize) -> Option<u32> {
        let digits: String = self.chars.get(from..from + 4)?.iter().collect();
        if digits.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&digits, 16).ok()
        } else {
            None
        }
    }

    /// A `\uXXXX` escape; a high surrogate followed by `\uDC00`–`\uDFFF` makes one character.
    /// A lone surrogate (which Rust strings cannot hold) becomes U+FFFD.
    fn utf16_unit(&mut self, unit: u32) -> char {
        if (0xD800..0xDC00).contains(&unit)
            && self.at(self.pos + 1) == Some('\\')
            && self.at(self.pos + 2) == Some('u')
        {
            if let Some(low) = self.hex4(self.pos + 3) {
                if (0xDC00..0xE000).contains(&low) {
                    self.pos += 6;
                    let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    return char::from_u32(c).unwrap_or('\u{FFFD}');
                }
            }
        }
        char::from_u32(unit).unwrap_or('\u{FFFD}')
    }

    fn number(&mut self) -> Result<Tok> {
        let start = self.pos;
        let mut end = start;
        let digits = |mut i: usize| {
            while self.at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            i
        };
        if self.at(end) == Some('0') {
            end += 1;
        } else {
            end = digits(end);
        }
        if self.at(end) == Some('.') && self.at(end + 1).is_some_and(|c| c.is_ascii_digit()) {
            end = digits(end + 1);
        }
        if matches!(self.at(end), Some('e' | 'E')) {
            let mut e = end + 1;
            if matches!(self.at(e), Some('+' | '-')) {
                e += 1;
            }
            if self.at(e).is_some_and(|c| c.is_ascii_digit()) {
                end = digits(e);
            }
        }
        let text = self.text(start, end);
        self.pos = end;
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Tok::Num(n)),
            _ => Err(JsonataError::at(
                ErrorCode::S0102,
                start,
                format!("The number {text} is out of range"),
            )),
        }
    }

    /// A regular expression literal; the opening `/` has been read.
    fn regex(&mut self, start: usize) -> Result<Tok> {
        let begin = self.pos;
        let mut depth: i32 = 0;
        while let Some(c) = self.at(self.pos) {
            let escaped = self.pos > 0 && self.at(self.pos - 1) == Some('\\');
            if c == '/' && depth == 0 {
                let mut backslashes = 0;
                while self.pos > backslashes && self.at(self.pos - backslashes - 1) == Some('\\') {
                    backslashes += 1;
                }
                if backslashes % 2 == 0 {
                    let pattern = self.text(begin, self.pos);
                    if pattern.is_empty() {
                        return Err(JsonataError::at(
                            ErrorCode::S0301,
                            start,
                            "An empty regular expression is not allowed",
                        ));
                    }
                    self.pos += 1;
                    let mut flags = String::new();
                    while let Some(f @ ('i' | 'm')) = self.at(self.pos) {
                        flags.push(f);
                        self.pos += 1;
                    }
                    return Ok(Tok::Regex { pattern, flags });
                }
            }
            if matches!(c, '(' | '[' | '{') && !escaped {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && !escaped {
                depth -= 1;
            }
            self.pos += 1;
        }
        Err(JsonataError::at(
            ErrorCode::S0302,
            start,
            "The regular expression has no closing '/'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(src: &str) -> Vec<Tok> {
        let mut l = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = l.next(true).unwrap().tok;
            if t == Tok::End {
                return out;
            }
            out.push(t);
        }
    }

    #[test]
    fn splits_paths_operators_and_literals() {
        assert_eq!(
            all("Account.`Order Id` != 'x\\n' and $v ~> $f /* c */ 1.5e2"),
            vec![
                Tok::Name("Account".into()),
                Tok::Operator("."),
                Tok::Name("Order Id".into()),
                Tok::Operator("!="),
                Tok::Str("x\n".into()),
                Tok::Operator("and"),
                Tok::Variable("v".into()),
                Tok::Operator("~>"),
                Tok::Variable("f".into()),
                Tok::Num(150.0),
            ]
        );
    }

    #[test]
    fn a_slash_in_prefix_position_starts_a_regex() {
        let mut l = Lexer::new("/a(b/c)d/i");
        assert_eq!(
            l.next(false).unwrap().tok,
            Tok::Regex {
                pattern: "a(b/c)d".into(),
                flags: "i".into()
            }
        );
    }

    #[test]
    fn bad_literals_are_reported_with_their_codes() {
        let code = |src: &str| Lexer::new(src).next(false).unwrap_err().code;
        assert_eq!(code("'abc"), ErrorCode::S0101);
        assert_eq!(code("\"\\q\""), ErrorCode::S0103);
        assert_eq!(code("\"\\u12\""), ErrorCode::S0104);
        assert_eq!(code("`abc"), ErrorCode::S0105);
        assert_eq!(code("/* open"), ErrorCode::S0106);
        assert_eq!(code("1e999"), ErrorCode::S0102);
        assert_eq!(code("//"), ErrorCode::S0301);
        assert_eq!(code("/abc"), ErrorCode::S0302);
    }
}
