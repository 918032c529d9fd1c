//! Location paths (`a.b[c].d`): each step maps over the sequence the previous one produced
//! and the results are flattened. Steps that bind variables (`@$v`, `#$i`) or feed a parent
//! operator `%` run over a stream of tuples instead.

use super::ast::{Kind, Node, Stage};
use super::env::Env;
use super::error::Result;
use super::evaluator::{tuple_get, Evaluator};
use super::value::{Flags, Val, Value};
use indexmap::IndexMap;

fn members(v: &Val) -> Vec<Val> {
    match v {
        Some(Value::Array(items, _)) => items.iter().cloned().map(Some).collect(),
        Some(other) => vec![Some(other.clone())],
        None => Vec::new(),
    }
}

fn defined(items: &[Val]) -> Vec<Value> {
    items.iter().flatten().cloned().collect()
}

fn tuple(pairs: IndexMap<String, Value>) -> Value {
    Value::object(pairs)
}

fn tuple_members(t: &Value) -> IndexMap<String, Value> {
    match t {
        Value::Object(m) => m.0.clone(),
        _ => IndexMap::new(),
    }
}

impl Evaluator {
    pub(crate) fn path(
        &mut self,
        node: &Node,
        steps: &[Node],
        input: &Val,
        env: &Env,
    ) -> Result<Val> {
        let first_is_variable = steps
            .first()
            .is_some_and(|s| matches!(s.kind, Kind::Variable(_)));
        let mut input_seq: Vec<Val> = match input {
            Some(Value::Array(items, _)) if !first_is_variable => {
                items.iter().cloned().map(Some).collect()
            }
            other => vec![other.clone()],
        };
        let mut result: Val = None;
        let mut is_tuple = false;
        let mut tuples: Option<Vec<Value>> = None;
        let last = steps.len().saturating_sub(1);
        for (i, step) in steps.iter().enumerate() {
            if step.tuple {
                is_tuple = true;
            }
            if i == 0 && step.cons_array {
                let seq = Some(Value::seq(defined(&input_seq)));
                result = self.eval(step, &seq, env)?;
            } else if is_tuple {
                tuples = Some(self.tuple_step(step, &input_seq, tuples, env)?);
            } else {
                result = self.step(step, &input_seq, env, i == last)?;
            }
            if !is_tuple {
                let empty = match &result {
                    None => true,
                    Some(Value::Array(items, _)) => items.is_empty(),
                    _ => false,
                };
                if empty {
                    break;
                }
            }
            if step.focus.is_none() {
                input_seq = members(&result);
            }
        }
        let mut stream_value = None;
        if is_tuple {
            let stream = tuples.unwrap_or_default();
            let tuple_stream = Value::with_flags(stream, Flags::SEQUENCE.with(Flags::TUPLE_STREAM));
            result = Some(if node.tuple {
                tuple_stream.clone()
            } else {
                match &tuple_stream {
                    Value::Array(items, _) => {
                        Value::seq(items.iter().filter_map(|t| tuple_get(t, "@")).collect())
                    }
                    _ => Value::seq(Vec::new()),
                }
            });
            stream_value = Some(tuple_stream);
        }
        if node.keep_singleton_array {
            result = result.map(|r| {
                let r = match r {
                    Value::Array(items, flags)
                        if flags.has(Flags::CONS) && !flags.has(Flags::SEQUENCE) =>
                    {
                        Value::seq(vec![Value::Array(items, flags)])
                    }
                    other => other,
                };
                r.flagged(Flags::KEEP_SINGLETON)
            });
        }
        if let Some(group) = &node.group {
            let grouped = if is_tuple { stream_value } else { result };
            result = Some(self.group(group, grouped, env)?);
        }
        Ok(result)
    }

    fn step(&mut self, step: &Node, input: &[Val], env: &Env, last: bool) -> Result<Val> {
        if matches!(step.kind, Kind::Sort(_)) {
            let mut result = self.sort_step(step, Some(Value::seq(defined(input))), env)?;
            for stage in &step.stages {
                result = self.stage(stage, result, env)?;
            }
            return Ok(result);
        }
        let mut results = Vec::with_capacity(input.len());
        for item in input {
            let mut res = self.eval(step, item, env)?;
            for stage in &step.stages {
                if let Stage::Filter(pred) = stage {
                    res = self.filter(pred, res, env)?;
                }
            }
            if let Some(r) = res {
                results.push(r);
            }
        }
        if let (true, [Value::Array(_, flags)]) = (last, results.as_slice()) {
            if !flags.has(Flags::SEQUENCE) {
                return Ok(results.pop());
            }
        }
        let mut flat = Vec::with_capacity(results.len());
        for r in results {
            match r {
                Value::Array(items, flags) if !flags.has(Flags::CONS) => {
                    flat.extend(items.iter().cloned())
                }
                other => flat.push(other),
            }
        }
        self.check_size(flat.len(), step.pos)?;
        Ok(Some(Value::seq(flat)))
    }

    fn stage(&mut self, stage: &Stage, input: Val, env: &Env) -> Result<Val> {
        match stage {
            Stage::Filter(pred) => self.filter(pred, input, env),
            Stage::Index(name) => Ok(input.map(|stream| match stream {
                Value::Array(items, flags) => {
                    let indexed = items
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            let mut m = tuple_members(t);
                            m.insert(name.to_string(), Value::Number(i as f64));
                            tuple(m)
                        })
                        .collect();
                    Value::with_flags(indexed, flags)
                }
                other => other,
            })),
        }
    }

    fn tuple_step(
        &mut self,
        step: &Node,
        input: &[Val],
        tuples: Option<Vec<Value>>,
        env: &Env,
    ) -> Result<Vec<Value>> {
        if matches!(step.kind, Kind::Sort(_)) {
            let mut result = match tuples {
                Some(t) => self.sort_step(
                    step,
                    Some(Value::with_flags(
                        t,
                        Flags::SEQUENCE.with(Flags::TUPLE_STREAM),
                    )),
                    env,
                )?,
                None => {
                    let sorted = self.sort_step(step, Some(Value::seq(defined(input))), env)?;
                    let stream = members(&sorted)
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .map(|(i, v)| {
                            let mut m = IndexMap::new();
                            m.insert("@".to_string(), v);
                            if let Some(index) = &step.index {
                                m.insert(index.to_string(), Value::Number(i as f64));
                            }
                            tuple(m)
                        })
                        .collect();
                    Some(Value::with_flags(
                        stream,
                        Flags::SEQUENCE.with(Flags::TUPLE_STREAM),
                    ))
                }
            };
            for stage in &step.stages {
                result = self.stage(stage, result, env)?;
            }
            return Ok(members(&result).into_iter().flatten().collect());
        }
        let tuples = tuples.unwrap_or_else(|| {
            input
                .iter()
                .map(|item| {
                    let mut m = IndexMap::new();
                    if let Some(v) = item {
                        m.insert("@".to_string(), v.clone());
                    }
                    tuple(m)
                })
                .collect()
        });
        let mut out = Vec::new();
        let ancestor_label = step.ancestor.map(|slot| self.label(slot));
        for t in &tuples {
            let frame = self.tuple_frame(env, t);
            let context = tuple_get(t, "@");
            let Some(res) = self.eval(step, &context, &frame)? else {
                continue;
            };
            let is_stream = res.flags().has(Flags::TUPLE_STREAM);
            let results: Vec<Value> = match res {
                Value::Array(items, _) => items.to_vec(),
                other => vec![other],
            };
            for (bb, r) in results.into_iter().enumerate() {
                let mut m = tuple_members(t);
                if is_stream {
                    m.extend(tuple_members(&r));
                } else {
                    if let Some(focus) = &step.focus {
                        m.insert(focus.to_string(), r);
                        match &context {
                            Some(c) => m.insert("@".to_string(), c.clone()),
                            None => m.shift_remove("@"),
                        };
                    } else {
                        m.insert("@".to_string(), r);
                    }
                    if let Some(index) = &step.index {
                        m.insert(index.to_string(), Value::Number(bb as f64));
                    }
                    if let (Some(label), Some(c)) = (&ancestor_label, &context) {
                        m.insert(label.to_string(), c.clone());
                    }
                }
                out.push(tuple(m));
            }
            self.check_size(out.len(), step.pos)?;
        }
        let mut result = Some(Value::with_flags(
            out,
            Flags::SEQUENCE.with(Flags::TUPLE_STREAM),
        ));
        for stage in &step.stages {
            result = self.stage(stage, result, env)?;
        }
        Ok(members(&result).into_iter().flatten().collect())
    }
}
