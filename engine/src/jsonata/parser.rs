//! Top-down operator-precedence (Pratt) parser: tokens to a syntax tree, which `process`
//! then turns into the tree the evaluator runs.

use super::error::{ErrorCode, JsonataError, Result};
use super::evaluator::stack_address;
use super::lexer::{Lexer, Tok, Token};
use super::signature::Signature;

/// How deeply an expression may nest; deeper ones are refused rather than risking the stack.
pub(crate) const MAX_NESTING: usize = 300;
/// The most stack the parser may use (frames are much larger in unoptimised builds).
const MAX_PARSE_STACK: usize = 1 << 20;

#[derive(Debug, Clone)]
pub(crate) struct Ast {
    pub kind: AstKind,
    pub pos: usize,
    /// Set by an empty predicate `[]`: keep a singleton result as an array.
    pub keep_array: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum AstKind {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex {
        pattern: String,
        flags: String,
    },
    Name(String),
    Variable(String),
    Wildcard,
    Descendant,
    Parent,
    /// `and`, `or` or `in` where a term was expected: a field name.
    OperatorName(&'static str),
    /// `?` standing for an argument of a partial application.
    Placeholder,
    Binary(&'static str, Box<Ast>, Box<Ast>),
    Negate(Box<Ast>),
    Array(Vec<Ast>),
    Object(Vec<(Ast, Ast)>),
    Group(Box<Ast>, Vec<(Ast, Ast)>),
    Sort(Box<Ast>, Vec<(bool, Ast)>),
    Call {
        procedure: Box<Ast>,
        args: Vec<Ast>,
        partial: bool,
    },
    Lambda {
        params: Vec<String>,
        signature: Option<Signature>,
        body: Box<Ast>,
    },
    Condition(Box<Ast>, Box<Ast>, Option<Box<Ast>>),
    Coalesce(Box<Ast>, Box<Ast>),
    Default(Box<Ast>, Box<Ast>),
    Block(Vec<Ast>),
    Transform(Box<Ast>, Box<Ast>, Option<Box<Ast>>),
    End,
}

impl Ast {
    fn new(kind: AstKind, pos: usize) -> Ast {
        Ast {
            kind,
            pos,
            keep_array: false,
        }
    }
}

fn left_binding_power(tok: &Tok) -> u32 {
    match tok {
        Tok::Operator(op) => match *op {
            "." => 75,
            "[" | "(" | "@" | "#" => 80,
            "{" => 70,
            "*" | "/" | "%" => 60,
            "+" | "-" | "&" => 50,
            "=" | "<" | ">" | "!=" | "<=" | ">=" | "^" | "~>" | "?:" | "??" | "in" => 40,
            "and" => 30,
            "or" => 25,
            "?" => 20,
            ":=" => 10,
            _ => 0,
        },
        _ => 0,
    }
}

pub(crate) struct Parser {
    lexer: Lexer,
    token: Token,
    depth: usize,
    stack_base: usize,
}

pub(crate) fn parse(source: &str) -> Result<Ast> {
    let mut lexer = Lexer::new(source);
    let token = lexer.next(false)?;
    let mut p = Parser {
        lexer,
        token,
        depth: 0,
        stack_base: stack_address(),
    };
    check_known(&p.token)?;
    let ast = p.expression(0)?;
    if p.token.tok != Tok::End {
        return Err(JsonataError::at(
            ErrorCode::S0201,
            p.token.pos,
            format!("Syntax error: unexpected '{}'", p.token.tok.text()),
        ));
    }
    Ok(ast)
}

fn too_deep(pos: usize) -> JsonataError {
    JsonataError::at(
        ErrorCode::U1003,
        pos,
        format!("The expression is nested more than {MAX_NESTING} levels deep"),
    )
}

/// `!` and `~` end names but are not operators on their own.
fn check_known(token: &Token) -> Result<()> {
    if let Tok::Operator(op @ ("!" | "~")) = token.tok {
        return Err(JsonataError::at(
            ErrorCode::S0204,
            token.pos,
            format!("Unknown operator: '{op}'"),
        ));
    }
    Ok(())
}

impl Parser {
    fn is(&self, op: &str) -> bool {
        self.token.tok == Tok::Operator(leak(op))
    }

    /// Moves to the next token; with `expected`, the current token must be that operator.
    fn advance(&mut self, expected: Option<&str>, infix: bool) -> Result<()> {
        if let Some(id) = expected {
            if !self.is(id) {
                return Err(if self.token.tok == Tok::End {
                    JsonataError::at(
                        ErrorCode::S0203,
                        self.token.pos,
                        format!("Expected '{id}' before the end of the expression"),
                    )
                } else {
                    JsonataError::at(
                        ErrorCode::S0202,
                        self.token.pos,
                        format!("Expected '{id}', got '{}'", self.token.tok.text()),
                    )
                });
            }
        }
        self.token = self.lexer.next(infix)?;
        check_known(&self.token)
    }

    fn expression(&mut self, rbp: u32) -> Result<Ast> {
        self.depth += 1;
        if self.depth > MAX_NESTING || self.stack_base.abs_diff(stack_address()) > MAX_PARSE_STACK {
            return Err(too_deep(self.token.pos));
        }
        let t = self.token.clone();
        self.advance(None, true)?;
        let mut left = self.nud(t)?;
        // each operator applied in this loop nests the tree one level deeper
        let mut chain = 0;
        while rbp < left_binding_power(&self.token.tok) {
            chain += 1;
            if self.depth + chain > MAX_NESTING {
                return Err(too_deep(self.token.pos));
            }
            let t = self.token.clone();
            self.advance(None, false)?;
            left = self.led(t, left)?;
        }
        self.depth -= 1;
        Ok(left)
    }

    fn nud(&mut self, t: Token) -> Result<Ast> {
        let pos = t.pos;
        let kind = match t.tok {
            Tok::Name(n) => AstKind::Name(n),
            Tok::Variable(v) => AstKind::Variable(v),
            Tok::Str(s) => AstKind::Str(s),
            Tok::Num(n) => AstKind::Num(n),
            Tok::Bool(b) => AstKind::Bool(b),
            Tok::Null => AstKind::Null,
            Tok::Regex { pattern, flags } => AstKind::Regex { pattern, flags },
            Tok::End => AstKind::End,
            Tok::Operator(op) => match op {
                "and" | "or" | "in" => AstKind::OperatorName(op),
                "-" => AstKind::Negate(Box::new(self.expression(70)?)),
                "*" => AstKind::Wildcard,
                "**" => AstKind::Descendant,
                "%" => AstKind::Parent,
                "(" => {
                    let mut items = Vec::new();
                    while !self.is(")") {
                        items.push(self.expression(0)?);
                        if !self.is(";") {
                            break;
                        }
                        self.advance(Some(";"), false)?;
                    }
                    self.advance(Some(")"), true)?;
                    AstKind::Block(items)
                }
                "[" => {
                    let mut items = Vec::new();
                    if !self.is("]") {
                        loop {
                            let mut item = self.expression(0)?;
                            if self.is("..") {
                                let rpos = self.token.pos;
                                self.advance(Some(".."), false)?;
                                let rhs = self.expression(0)?;
                                item = Ast::new(
                                    AstKind::Binary("..", Box::new(item), Box::new(rhs)),
                                    rpos,
                                );
                            }
                            items.push(item);
                            if !self.is(",") {
                                break;
                            }
                            self.advance(Some(","), false)?;
                        }
                    }
                    self.advance(Some("]"), true)?;
                    AstKind::Array(items)
                }
                "{" => AstKind::Object(self.object_pairs()?),
                "|" => {
                    let pattern = self.expression(0)?;
                    self.advance(Some("|"), false)?;
                    let update = self.expression(0)?;
                    let delete = if self.is(",") {
                        self.advance(Some(","), false)?;
                        Some(Box::new(self.expression(0)?))
                    } else {
                        None
                    };
                    self.advance(Some("|"), true)?;
                    AstKind::Transform(Box::new(pattern), Box::new(update), delete)
                }
                _ => {
                    return Err(JsonataError::at(
                        ErrorCode::S0211,
                        pos,
                        format!("The symbol '{op}' cannot be used as a unary operator"),
                    ))
                }
            },
        };
        Ok(Ast::new(kind, pos))
    }

    fn object_pairs(&mut self) -> Result<Vec<(Ast, Ast)>> {
        let mut pairs = Vec::new();
        if !self.is("}") {
            loop {
                let key = self.expression(0)?;
                self.advance(Some(":"), false)?;
                let value = self.expression(0)?;
                pairs.push((key, value));
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some("}"), true)?;
        Ok(pairs)
    }

    fn led(&mut self, t: Token, left: Ast) -> Result<Ast> {
        let pos = t.pos;
        let Tok::Operator(op) = t.tok else {
            return Err(JsonataError::at(
                ErrorCode::S0201,
                pos,
                format!("Syntax error: unexpected '{}'", t.tok.text()),
            ));
        };
        let bp = left_binding_power(&t.tok);
        let b = Box::new;
        let kind = match op {
            "(" => return self.call(left, pos),
            "[" => {
                if self.is("]") {
                    let mut left = left;
                    mark_keep_array(&mut left);
                    self.advance(Some("]"), true)?;
                    return Ok(left);
                }
                let rhs = self.expression(0)?;
                self.advance(Some("]"), true)?;
                AstKind::Binary("[", b(left), b(rhs))
            }
            "^" => {
                self.advance(Some("("), false)?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.is("<") {
                        self.advance(Some("<"), false)?;
                    } else if self.is(">") {
                        descending = true;
                        self.advance(Some(">"), false)?;
                    }
                    terms.push((descending, self.expression(0)?));
                    if !self.is(",") {
                        break;
                    }
                    self.advance(Some(","), false)?;
                }
                self.advance(Some(")"), true)?;
                AstKind::Sort(b(left), terms)
            }
            "{" => AstKind::Group(b(left), self.object_pairs()?),
            ":=" => {
                if !matches!(left.kind, AstKind::Variable(_)) {
                    return Err(JsonataError::at(
                        ErrorCode::S0212,
                        left.pos,
                        "The left side of := must be a variable name (starting with $)",
                    ));
                }
                AstKind::Binary(":=", b(left), b(self.expression(bp - 1)?))
            }
            "@" | "#" => {
                let rhs = self.expression(bp)?;
                if !matches!(rhs.kind, AstKind::Variable(_)) {
                    return Err(JsonataError::at(
                        ErrorCode::S0214,
                        rhs.pos,
                        format!("The right side of {op} must be a variable name (starting with $)"),
                    ));
                }
                AstKind::Binary(op, b(left), b(rhs))
            }
            "?" => {
                let then = self.expression(0)?;
                let otherwise = if self.is(":") {
                    self.advance(Some(":"), false)?;
                    Some(b(self.expression(0)?))
                } else {
                    None
                };
                AstKind::Condition(b(left), b(then), otherwise)
            }
            "?:" => AstKind::Default(b(left), b(self.expression(0)?)),
            "??" => AstKind::Coalesce(b(left), b(self.expression(0)?)),
            _ if bp > 0 => AstKind::Binary(op, b(left), b(self.expression(bp)?)),
            _ => {
                return Err(JsonataError::at(
                    ErrorCode::S0201,
                    pos,
                    format!("Syntax error: unexpected '{op}'"),
                ))
            }
        };
        Ok(Ast::new(kind, pos))
    }

    fn call(&mut self, procedure: Ast, pos: usize) -> Result<Ast> {
        let mut args = Vec::new();
        let mut partial = false;
        if !self.is(")") {
            loop {
                if self.is("?") {
                    partial = true;
                    args.push(Ast::new(AstKind::Placeholder, self.token.pos));
                    self.advance(Some("?"), false)?;
                } else {
                    args.push(self.expression(0)?);
                }
                if !self.is(",") {
                    break;
                }
                self.advance(Some(","), false)?;
            }
        }
        self.advance(Some(")"), true)?;
        let is_lambda =
            matches!(&procedure.kind, AstKind::Name(n) if n == "function" || n == "\u{3bb}");
        if !is_lambda {
            let kind = AstKind::Call {
                procedure: Box::new(procedure),
                args,
                partial,
            };
            return Ok(Ast::new(kind, pos));
        }
        let mut params = Vec::new();
        for (i, arg) in args.into_iter().enumerate() {
            match arg.kind {
                AstKind::Variable(v) => params.push(v),
                _ => {
                    return Err(JsonataError::at(
                        ErrorCode::S0208,
                        arg.pos,
                        format!(
                            "Parameter {} of the function definition must be a variable name (starting with $)",
                            i + 1
                        ),
                    ))
                }
            }
        }
        let mut signature = None;
        if self.is("<") {
            let sig_pos = self.token.pos;
            let mut depth = 1;
            let mut text = String::from("<");
            while depth > 0 && !self.is("{") && self.token.tok != Tok::End {
                self.advance(None, false)?;
                if self.is(">") {
                    depth -= 1;
                } else if self.is("<") {
                    depth += 1;
                }
                text.push_str(&self.token.tok.text());
            }
            self.advance(Some(">"), false)?;
            signature =
                Some(Signature::parse(&text).map_err(|(code, offset, msg)| {
                    JsonataError::at(code, sig_pos + offset, msg)
                })?);
        }
        self.advance(Some("{"), false)?;
        let body = self.expression(0)?;
        self.advance(Some("}"), true)?;
        Ok(Ast::new(
            AstKind::Lambda {
                params,
                signature,
                body: Box::new(body),
            },
            pos,
        ))
    }
}

/// `[]` after a step marks the step itself (beneath any predicates) to keep arrays.
fn mark_keep_array(ast: &mut Ast) {
    let mut step = ast;
    while let AstKind::Binary("[", lhs, _) = &mut step.kind {
        step = lhs;
    }
    step.keep_array = true;
}

/// Operators are compared as the static strings the lexer produces.
fn leak(op: &str) -> &'static str {
    const OPS: &[&str] = &[
        ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%",
        "|", "=", "<", ">", "^", "&", "!", "~", "..", ":=", "!=", ">=", "<=", "**", "~>", "?:",
        "??", "and", "or", "in",
    ];
    OPS.iter().find(|o| **o == op).copied().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(src: &str) -> ErrorCode {
        parse(src).unwrap_err().code
    }

    #[test]
    fn syntax_errors_carry_the_specification_codes() {
        assert_eq!(code("(1"), ErrorCode::S0203);
        assert_eq!(code("[1 2]"), ErrorCode::S0202);
        assert_eq!(code("1 ! 2"), ErrorCode::S0204);
        assert_eq!(code("function(a){1}"), ErrorCode::S0208);
        assert_eq!(code(":1"), ErrorCode::S0211);
        assert_eq!(code("1 := 2"), ErrorCode::S0212);
        assert_eq!(code("a@b"), ErrorCode::S0214);
        assert_eq!(code("1 2"), ErrorCode::S0201);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let src = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(code(&src), ErrorCode::U1003);
        // left-nested chains are built by a loop, not by recursion: still bounded
        assert_eq!(code(&vec!["1"; 100_000].join("+")), ErrorCode::U1003);
        assert_eq!(code(&vec!["a"; 100_000].join(".")), ErrorCode::U1003);
        assert!(parse(&vec!["1"; 100].join("+")).is_ok());
    }

    #[test]
    fn precedence_binds_multiplication_tighter_than_addition() {
        let ast = parse("1 + 2 * 3").unwrap();
        let AstKind::Binary("+", _, rhs) = ast.kind else {
            panic!("{ast:?}")
        };
        assert!(matches!(rhs.kind, AstKind::Binary("*", _, _)));
    }
}
