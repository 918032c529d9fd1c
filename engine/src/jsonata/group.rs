//! Order-by `^( )`, grouping into objects `{ key: value }`, and transforms `| p | u, d |`.

use super::ast::{Group, Kind, Node, TransformDef};
use super::env::Env;
use super::error::{ErrorCode, JsonataError, Result};
use super::evaluator::{tuple_get, Evaluator};
use super::functions::array::append;
use super::functions::string::describe;
use super::operators::js_string_cmp;
use super::value::{too_deep, Flags, Members, Val, Value, MAX_VALUE_DEPTH};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Arc;

/// A stable merge sort with a fallible "comes after" test (never panics, whatever the test
/// answers).
pub(crate) fn merge_sort<T: Clone>(
    items: Vec<T>,
    after: &mut dyn FnMut(&T, &T) -> Result<bool>,
) -> Result<Vec<T>> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut left = items;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort(left, after)?;
    let right = merge_sort(right, after)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let next = if after(l, r)? {
            right.next()
        } else {
            left.next()
        };
        out.extend(next);
    }
    out.extend(left);
    out.extend(right);
    Ok(out)
}

impl Evaluator {
    pub(crate) fn sort_step(&mut self, node: &Node, input: Val, env: &Env) -> Result<Val> {
        let Kind::Sort(terms) = &node.kind else {
            return Ok(input);
        };
        let Some(input) = input else { return Ok(None) };
        let (items, flags) = match &input {
            Value::Array(items, flags) => (items.to_vec(), *flags),
            other => (vec![other.clone()], Flags::SEQUENCE),
        };
        if items.len() <= 1 {
            return Ok(Some(input));
        }
        let tuples = flags.has(Flags::TUPLE_STREAM);
        let mut keyed = Vec::with_capacity(items.len());
        for item in items {
            let (context, frame) = if tuples {
                (tuple_get(&item, "@"), self.tuple_frame(env, &item))
            } else {
                (Some(item.clone()), env.clone())
            };
            let mut keys = Vec::with_capacity(terms.len());
            for term in terms {
                keys.push(self.eval(&term.expr, &context, &frame)?);
            }
            keyed.push((item, keys));
        }
        let pos = node.pos;
        let mut after = |a: &(Value, Vec<Val>), b: &(Value, Vec<Val>)| -> Result<bool> {
            // Every item has one key per term.
            for ((term, x), y) in terms.iter().zip(&a.1).zip(&b.1) {
                let (x, y) = match (x, y) {
                    (None, None) => continue,
                    (None, Some(_)) => return Ok(true),
                    (Some(_), None) => return Ok(false),
                    (Some(x), Some(y)) => (x, y),
                };
                let ord = match (x, y) {
                    (Value::Number(p), Value::Number(q)) => p.partial_cmp(q),
                    (Value::String(p), Value::String(q)) => Some(js_string_cmp(p, q)),
                    (Value::Number(_) | Value::String(_), Value::Number(_) | Value::String(_)) => {
                        return Err(JsonataError::at(
                            ErrorCode::T2007,
                            pos,
                            format!(
                                "Type mismatch when comparing {} and {} in an order-by clause",
                                describe(x),
                                describe(y)
                            ),
                        ))
                    }
                    _ => {
                        return Err(JsonataError::at(
                            ErrorCode::T2008,
                            pos,
                            "The expressions within an order-by clause must evaluate to numbers or strings",
                        ))
                    }
                };
                match ord {
                    Some(std::cmp::Ordering::Equal) | None => continue,
                    Some(o) => {
                        let greater = o == std::cmp::Ordering::Greater;
                        return Ok(greater != term.descending);
                    }
                }
            }
            Ok(false)
        };
        let sorted = merge_sort(keyed, &mut after)?;
        let out_flags = if tuples {
            Flags::SEQUENCE.with(Flags::TUPLE_STREAM)
        } else {
            Flags::NONE
        };
        Ok(Some(Value::with_flags(
            sorted.into_iter().map(|(v, _)| v).collect(),
            out_flags,
        )))
    }

    pub(crate) fn group(&mut self, group: &Group, input: Val, env: &Env) -> Result<Value> {
        let reduce = input
            .as_ref()
            .is_some_and(|v| v.flags().has(Flags::TUPLE_STREAM));
        let mut items: Vec<Val> = match input {
            Some(Value::Array(items, _)) => items.iter().cloned().map(Some).collect(),
            Some(v) => vec![Some(v)],
            None => Vec::new(),
        };
        if items.is_empty() && !reduce {
            items.push(None);
        }
        let mut groups: IndexMap<String, (Val, usize)> = IndexMap::new();
        for item in items {
            let (context, frame) = match (&item, reduce) {
                (Some(t), true) => (tuple_get(t, "@"), self.tuple_frame(env, t)),
                _ => (item.clone(), env.clone()),
            };
            for (index, (key_expr, _)) in group.pairs.iter().enumerate() {
                let key = match self.eval(key_expr, &context, &frame)? {
                    None => continue,
                    Some(Value::String(s)) => s.to_string(),
                    Some(other) => {
                        return Err(JsonataError::at(
                            ErrorCode::T1003,
                            group.pos,
                            format!(
                                "A key in an object constructor must evaluate to a string, not {}",
                                describe(&other)
                            ),
                        ))
                    }
                };
                match groups.get_mut(&key) {
                    Some((data, existing)) => {
                        if *existing != index {
                            return Err(JsonataError::at(
                                ErrorCode::D1009,
                                group.pos,
                                format!(
                                    "Several key definitions evaluate to the same key: {key:?}"
                                ),
                            ));
                        }
                        *data = append(data.take(), item.clone());
                    }
                    None => {
                        groups.insert(key, (item.clone(), index));
                    }
                }
            }
        }
        let mut out = IndexMap::with_capacity(groups.len());
        for (key, (data, index)) in groups {
            let (context, frame) = if reduce {
                let mut tuple = reduce_tuples(data);
                let at = tuple.shift_remove("@");
                let frame = self.tuple_frame(env, &Value::object(tuple));
                (at, frame)
            } else {
                (data, env.clone())
            };
            let Some((_, expr)) = group.pairs.get(index) else {
                continue;
            };
            if let Some(v) = self.eval(expr, &context, &frame)? {
                out.insert(key, v);
            }
        }
        Ok(Value::object(out))
    }

    pub(crate) fn transform(&mut self, def: &TransformDef, env: &Env, target: Val) -> Result<Val> {
        let Some(target) = target else {
            return Ok(None);
        };
        if !matches!(target, Value::Object(_) | Value::Array(..)) {
            return Err(JsonataError::at(
                ErrorCode::T0410,
                def.pos,
                "Argument 1 of the transform must be an object or an array",
            ));
        }
        let clone = self.lookup(env, "clone");
        if !matches!(clone, Some(Value::Function(_))) {
            return Err(JsonataError::at(
                ErrorCode::T2013,
                def.pos,
                "The transform expression copies its input with $clone(), which has been redefined as something other than a function",
            ));
        }
        let result = self.apply(&clone, vec![Some(target)], &None, env)?;
        let matched = match self.eval(&def.pattern, &result, env)? {
            None => Vec::new(),
            Some(Value::Array(items, _)) => items.to_vec(),
            Some(v) => vec![v],
        };
        let mut updates: HashMap<usize, Value> = HashMap::new();
        for m in &matched {
            let Value::Object(original) = m else { continue };
            let current = rebuild(m, &updates, 0)?;
            let update = self.eval(&def.update, &Some(current.clone()), env)?;
            let mut members = match &current {
                Value::Object(o) => o.0.clone(),
                _ => IndexMap::new(),
            };
            match update {
                None => {}
                Some(Value::Object(u)) => {
                    for (k, v) in u.iter() {
                        members.insert(k.clone(), v.clone());
                    }
                }
                Some(other) => {
                    return Err(JsonataError::at(
                        ErrorCode::T2011,
                        def.update.pos,
                        format!(
                            "The update clause of a transform must evaluate to an object, not {}",
                            describe(&other)
                        ),
                    ))
                }
            }
            if let Some(delete) = &def.delete {
                let updated = Value::object(members.clone());
                if let Some(d) = self.eval(delete, &Some(updated), env)? {
                    let names: Option<Vec<String>> = match &d {
                        Value::String(s) => Some(vec![s.to_string()]),
                        Value::Array(items, _) => items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string))
                            .collect(),
                        _ => None,
                    };
                    let Some(names) = names else {
                        return Err(JsonataError::at(
                            ErrorCode::T2012,
                            delete.pos,
                            format!(
                                "The delete clause of a transform must evaluate to a string or an array of strings, not {}",
                                describe(&d)
                            ),
                        ));
                    };
                    for name in names {
                        members.shift_remove(&name);
                    }
                }
            }
            updates.insert(Arc::as_ptr(original) as usize, Value::object(members));
        }
        Ok(Some(rebuild(&result.unwrap_or(Value::Null), &updates, 0)?))
    }
}

/// The value with every updated object replaced by its new version, at any depth.
fn rebuild(value: &Value, updates: &HashMap<usize, Value>, depth: usize) -> Result<Value> {
    if depth > MAX_VALUE_DEPTH {
        return too_deep();
    }
    Ok(match value {
        Value::Object(o) => {
            let base = updates.get(&(Arc::as_ptr(o) as usize)).unwrap_or(value);
            let Value::Object(members) = base else {
                return Ok(base.clone());
            };
            let mut out = IndexMap::with_capacity(members.len());
            for (k, v) in members.iter() {
                out.insert(k.clone(), rebuild(v, updates, depth + 1)?);
            }
            Value::Object(Arc::new(Members(out)))
        }
        Value::Array(items, flags) => Value::with_flags(
            items
                .iter()
                .map(|v| rebuild(v, updates, depth + 1))
                .collect::<Result<_>>()?,
            *flags,
        ),
        other => other.clone(),
    })
}

/// Merges the tuples of a group into one, appending the values bound to each name.
fn reduce_tuples(data: Val) -> IndexMap<String, Value> {
    let tuples: Vec<Value> = match data {
        Some(Value::Array(items, _)) => items.to_vec(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    let mut out: IndexMap<String, Val> = IndexMap::new();
    for (i, t) in tuples.iter().enumerate() {
        let Value::Object(m) = t else { continue };
        for (k, v) in m.iter() {
            match out.get_mut(k) {
                Some(slot) if i > 0 => *slot = append(slot.take(), Some(v.clone())),
                _ => {
                    out.insert(k.clone(), Some(v.clone()));
                }
            }
        }
    }
    out.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}
