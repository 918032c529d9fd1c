//! Filters `[?(@.a > 1 && @.b)]`: their parser (on the path parser) and their evaluation.

use super::{apply_steps, Comparison, Filter, StepParser};
use serde_json::Value;

pub(super) fn filter_matches(filter: &Filter, candidate: &Value) -> bool {
    match filter {
        Filter::Exists(steps) => !apply_steps(steps, candidate).is_empty(),
        Filter::Compare(steps, op, literal) => {
            let found = apply_steps(steps, candidate);
            let Some(left) = found.first() else {
                return false;
            };
            compare_values(left, *op, literal)
        }
        Filter::And(a, b) => filter_matches(a, candidate) && filter_matches(b, candidate),
        Filter::Or(a, b) => filter_matches(a, candidate) || filter_matches(b, candidate),
    }
}

fn compare_values(left: &Value, op: Comparison, right: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match (left, right) {
        (Value::Number(a), Value::Number(b)) => a
            .as_f64()
            .zip(b.as_f64())
            .and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (a, b) if a == b => Some(Ordering::Equal),
        _ => None,
    };
    match (op, ordering) {
        (Comparison::Eq, Some(o)) => o == Ordering::Equal,
        (Comparison::Ne, o) => o != Some(Ordering::Equal),
        (Comparison::Lt, Some(o)) => o == Ordering::Less,
        (Comparison::Le, Some(o)) => o != Ordering::Greater,
        (Comparison::Gt, Some(o)) => o == Ordering::Greater,
        (Comparison::Ge, Some(o)) => o != Ordering::Less,
        _ => false,
    }
}

impl StepParser {
    pub(super) fn filter_or(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_and()?;
        loop {
            self.skip_spaces();
            if self.peek() == Some('|') && self.peek_at(1) == Some('|') {
                self.pos += 2;
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_term()?;
        loop {
            self.skip_spaces();
            if self.peek() == Some('&') && self.peek_at(1) == Some('&') {
                self.pos += 2;
                let right = self.filter_term()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_term(&mut self) -> Result<Filter, String> {
        self.skip_spaces();
        if !self.eat('@') {
            return Err("a filter condition must start with '@'".into());
        }
        let steps = self.steps(true)?;
        self.skip_spaces();
        let op = match (self.peek(), self.peek_at(1)) {
            (Some('='), Some('=')) => Some((Comparison::Eq, 2)),
            (Some('!'), Some('=')) => Some((Comparison::Ne, 2)),
            (Some('<'), Some('=')) => Some((Comparison::Le, 2)),
            (Some('>'), Some('=')) => Some((Comparison::Ge, 2)),
            (Some('<'), _) => Some((Comparison::Lt, 1)),
            (Some('>'), _) => Some((Comparison::Gt, 1)),
            _ => None,
        };
        let Some((op, width)) = op else {
            return Ok(Filter::Exists(steps));
        };
        self.pos += width;
        self.skip_spaces();
        let literal = self.literal()?;
        Ok(Filter::Compare(steps, op, literal))
    }

    fn literal(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some('\'') | Some('"') => Ok(Value::String(self.quoted()?)),
            _ => {
                let start = self.pos;
                while self
                    .peek()
                    .is_some_and(|c| !c.is_whitespace() && c != ')' && c != '&' && c != '|')
                {
                    self.pos += 1;
                }
                let text = self.read_since(start);
                serde_json::from_str(&text).map_err(|_| format!("'{text}' is not a literal"))
            }
        }
    }
}
