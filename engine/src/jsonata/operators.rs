//! Binary operators: arithmetic, comparison, `&`, `and`/`or`, `in` and the range `..`.

use super::ast::{BinOp, Node};
use super::env::Env;
use super::error::{ErrorCode, JsonataError, Result};
use super::evaluator::{boolean, Evaluator};
use super::functions::string::{describe, stringify};
use super::value::{deep_equal, Val, Value};
use std::sync::Arc;

fn numeric_side(v: &Val, code: ErrorCode, op: BinOp) -> Result<Option<f64>> {
    match v {
        None => Ok(None),
        Some(Value::Number(n)) if n.is_infinite() => Err(JsonataError::new(
            ErrorCode::D1001,
            format!("Number out of range: {}", super::value::js_number(*n)),
        )),
        Some(Value::Number(n)) if !n.is_nan() => Ok(Some(*n)),
        Some(other) => {
            let side = if code == ErrorCode::T2001 {
                "left"
            } else {
                "right"
            };
            Err(JsonataError::new(
                code,
                format!(
                    "The {side} side of the {} operator must evaluate to a number, not {}",
                    op.symbol(),
                    describe(other)
                ),
            ))
        }
    }
}

impl Evaluator {
    pub(crate) fn binary(
        &mut self,
        op: BinOp,
        lhs: &Node,
        rhs: &Node,
        pos: usize,
        input: &Val,
        env: &Env,
    ) -> Result<Val> {
        let left = self.eval(lhs, input, env)?;
        match op {
            BinOp::And => {
                return Ok(Some(Value::Bool(
                    boolean(&left) && boolean(&self.eval(rhs, input, env)?),
                )))
            }
            BinOp::Or => {
                return Ok(Some(Value::Bool(
                    boolean(&left) || boolean(&self.eval(rhs, input, env)?),
                )))
            }
            _ => {}
        }
        let right = self.eval(rhs, input, env)?;
        self.operate(op, left, right).map_err(|e| e.or_at(pos))
    }

    fn operate(&mut self, op: BinOp, left: Val, right: Val) -> Result<Val> {
        Ok(match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                let l = numeric_side(&left, ErrorCode::T2001, op)?;
                let r = numeric_side(&right, ErrorCode::T2002, op)?;
                let (Some(l), Some(r)) = (l, r) else {
                    return Ok(None);
                };
                let n = match op {
                    BinOp::Add => l + r,
                    BinOp::Sub => l - r,
                    BinOp::Mul => l * r,
                    BinOp::Div => l / r,
                    _ => l % r,
                };
                Some(Value::Number(n))
            }
            BinOp::Eq | BinOp::Ne => {
                let (Some(l), Some(r)) = (&left, &right) else {
                    return Ok(Some(Value::Bool(false)));
                };
                let eq = deep_equal(l, r);
                Some(Value::Bool(if op == BinOp::Eq { eq } else { !eq }))
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => compare(op, &left, &right)?,
            BinOp::Concat => {
                let mut s = String::new();
                for side in [&left, &right].into_iter().flatten() {
                    let part = stringify(side, false)?;
                    self.check_string(s.len() + part.len(), 0)?;
                    s.push_str(&part);
                }
                Some(Value::string(s))
            }
            BinOp::In => {
                let (Some(l), Some(r)) = (&left, &right) else {
                    return Ok(Some(Value::Bool(false)));
                };
                let found = match r {
                    Value::Array(items, _) => items.iter().any(|i| strict_equal(l, i)),
                    other => strict_equal(l, other),
                };
                Some(Value::Bool(found))
            }
            BinOp::Range => self.range(&left, &right)?,
            BinOp::And | BinOp::Or => None,
        })
    }

    fn range(&mut self, left: &Val, right: &Val) -> Result<Val> {
        let int = |v: &Val, code, side| -> Result<Option<f64>> {
            match v {
                None => Ok(None),
                Some(Value::Number(n)) if n.fract() == 0.0 => Ok(Some(*n)),
                Some(other) => Err(JsonataError::new(
                    code,
                    format!(
                        "The {side} side of the range operator (..) must evaluate to an integer, not {}",
                        describe(other)
                    ),
                )),
            }
        };
        let l = int(left, ErrorCode::T2003, "left")?;
        let r = int(right, ErrorCode::T2004, "right")?;
        let (Some(l), Some(r)) = (l, r) else {
            return Ok(None);
        };
        if l > r {
            return Ok(None);
        }
        let size = r - l + 1.0;
        let max = self.limits().max_sequence as f64;
        if size > max {
            return Err(JsonataError::new(
                ErrorCode::D2014,
                format!(
                    "The range operator (..) would allocate {} items; the most allowed is {}",
                    super::value::js_number(size),
                    super::value::js_number(max)
                ),
            ));
        }
        let items = (0..size as usize)
            .map(|i| Value::Number(l + i as f64))
            .collect();
        Ok(Some(Value::seq(items)))
    }
}

/// JavaScript's `===`: values for primitives, identity for structures.
fn strict_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x, _), Value::Array(y, _)) => Arc::ptr_eq(x, y),
        (Value::Object(x), Value::Object(y)) => Arc::ptr_eq(x, y),
        (Value::Function(x), Value::Function(y)) => Arc::ptr_eq(x, y),
        _ => false,
    }
}

fn compare(op: BinOp, left: &Val, right: &Val) -> Result<Val> {
    let comparable = |v: &Val| matches!(v, None | Some(Value::Number(_)) | Some(Value::String(_)));
    if !comparable(left) || !comparable(right) {
        let bad = if comparable(left) { right } else { left };
        return Err(JsonataError::new(
            ErrorCode::T2010,
            format!(
                "The values either side of the {} operator must be numbers or strings, not {}",
                op.symbol(),
                bad.as_ref().map(describe).unwrap_or_default()
            ),
        ));
    }
    let (Some(l), Some(r)) = (left, right) else {
        return Ok(None);
    };
    let ord = match (l, r) {
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Value::String(a), Value::String(b)) => Some(js_string_cmp(a, b)),
        _ => {
            return Err(JsonataError::new(
                ErrorCode::T2009,
                format!(
                    "The values {} and {} either side of the {} operator must be of the same type",
                    describe(l),
                    describe(r),
                    op.symbol()
                ),
            ))
        }
    };
    let Some(ord) = ord else {
        return Ok(Some(Value::Bool(false)));
    };
    use std::cmp::Ordering::*;
    Ok(Some(Value::Bool(match op {
        BinOp::Lt => ord == Less,
        BinOp::Le => ord != Greater,
        BinOp::Gt => ord == Greater,
        _ => ord != Less,
    })))
}

/// Strings compare as JavaScript compares them: by UTF-16 code units.
pub(crate) fn js_string_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}
