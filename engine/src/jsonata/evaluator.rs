//! The evaluator: walks the processed tree against the input. Paths live in `path.rs`,
//! operators in `operators.rs`, calls in `apply.rs`, ordering, grouping and transforms in
//! `group.rs`.

use super::ast::{Kind, Node, Stage};
use super::env::{may_hold_function, Env, Frame};
use super::error::{ErrorCode, JsonataError, Result};
use super::function::Function;
use super::value::{Flags, Val, Value, MAX_VALUE_DEPTH};
use super::Limits;
use std::sync::Arc;
use std::time::Instant;

pub(crate) struct Evaluator {
    depth: usize,
    /// Where the stack was when the evaluation started, to measure how much it has used.
    stack_base: usize,
    limits: Limits,
    deadline: Option<Instant>,
    labels: Arc<[Arc<str>]>,
    /// The time `$now()` and `$millis()` report: fixed for one evaluation.
    pub now_millis: f64,
    /// Frames that hold functions, cleared at the end to break reference cycles.
    cyclic: Vec<Env>,
}

impl Drop for Evaluator {
    fn drop(&mut self) {
        for frame in self.cyclic.drain(..) {
            frame.clear();
        }
    }
}

impl Evaluator {
    pub fn new(limits: Limits, labels: Arc<[Arc<str>]>, now_millis: f64) -> Evaluator {
        Evaluator {
            depth: 0,
            stack_base: stack_address(),
            deadline: limits.timeout.map(|t| Instant::now() + t),
            limits,
            labels,
            now_millis,
            cyclic: Vec::new(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Binds a variable, remembering frames that could end up in a reference cycle.
    pub fn bind(&mut self, env: &Env, name: &Arc<str>, value: Val) {
        if may_hold_function(&value) {
            self.cyclic.push(env.clone());
        }
        env.bind(name, value);
    }

    pub fn child(&mut self, env: &Env) -> Env {
        Frame::child(env)
    }

    pub fn lookup(&self, env: &Env, name: &str) -> Val {
        match env.lookup(name) {
            Some(v) => v,
            None => super::functions::builtin(name).map(|b| Value::function(Function::Builtin(b))),
        }
    }

    pub fn label(&self, slot: usize) -> Arc<str> {
        self.labels
            .get(slot)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    pub fn check_time(&self, pos: usize) -> Result<()> {
        if let Some(deadline) = self.deadline {
            if Instant::now() > deadline {
                return Err(JsonataError::at(
                    ErrorCode::D1012,
                    pos,
                    format!(
                        "The evaluation took longer than {} ms. Check for an infinite loop",
                        self.limits.timeout.map(|t| t.as_millis()).unwrap_or(0)
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn enter(&mut self, pos: usize) -> Result<()> {
        self.depth += 1;
        let stack_used = self.stack_base.abs_diff(stack_address());
        if self.depth > self.limits.max_depth || stack_used > self.limits.max_stack {
            return Err(JsonataError::at(
                ErrorCode::D1011,
                pos,
                format!(
                    "Stack overflow: the evaluation went more than {} levels deep. Check for a non-terminating recursive function, or rewrite it to be tail-recursive",
                    self.limits.max_depth
                ),
            ));
        }
        self.check_time(pos)
    }

    pub fn eval(&mut self, node: &Node, input: &Val, env: &Env) -> Result<Val> {
        self.enter(node.pos)?;
        let result = self.eval_node(node, input, env);
        self.leave();
        result
    }

    pub fn eval_node(&mut self, node: &Node, input: &Val, env: &Env) -> Result<Val> {
        let mut result = self.eval_kind(node, input, env)?;
        for stage in &node.predicate {
            if let Stage::Filter(pred) = stage {
                result = self.filter(pred, result, env)?;
            }
        }
        if !matches!(node.kind, Kind::Path(_)) {
            if let Some(group) = &node.group {
                result = Some(self.group(group, result, env)?);
            }
        }
        Ok(normalize(result, node.keep_array))
    }

    fn eval_kind(&mut self, node: &Node, input: &Val, env: &Env) -> Result<Val> {
        Ok(match &node.kind {
            Kind::Path(steps) => return self.path(node, steps, input, env),
            Kind::Binary(op, lhs, rhs) => return self.binary(*op, lhs, rhs, node.pos, input, env),
            Kind::Negate(inner) => match self.eval(inner, input, env)? {
                None => None,
                Some(Value::Number(n)) => Some(Value::Number(-n)),
                Some(other) => {
                    return Err(JsonataError::at(
                        ErrorCode::D1002,
                        node.pos,
                        format!(
                            "Cannot negate a non-numeric value: {}",
                            super::functions::string::describe(&other)
                        ),
                    ))
                }
            },
            Kind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match self.eval(item, input, env)? {
                        None => {}
                        Some(v) if matches!(item.kind, Kind::Array(_)) => out.push(v),
                        Some(Value::Array(members, _)) => out.extend(members.iter().cloned()),
                        Some(v) => out.push(v),
                    }
                    self.check_size(out.len(), node.pos)?;
                }
                let flags = if node.cons_array {
                    Flags::CONS
                } else {
                    Flags::NONE
                };
                Some(Value::with_flags(out, flags))
            }
            Kind::Object(group) => Some(self.group(group, input.clone(), env)?),
            Kind::Name(name) => lookup_field(input, name, 0)?,
            Kind::Str(s) => Some(Value::String(s.clone())),
            Kind::Num(n) => Some(Value::Number(*n)),
            Kind::Bool(b) => Some(Value::Bool(*b)),
            Kind::Null => Some(Value::Null),
            Kind::Wildcard => wildcard(input)?,
            Kind::Descendant => descendants(input)?,
            Kind::Parent(slot) => env.lookup(&self.label(*slot)).flatten(),
            Kind::Condition(cond, then, otherwise) => {
                let c = self.eval(cond, input, env)?;
                if boolean(&c) {
                    self.eval(then, input, env)?
                } else if let Some(e) = otherwise {
                    self.eval(e, input, env)?
                } else {
                    None
                }
            }
            Kind::Coalesce(lhs, rhs) => match self.eval(lhs, input, env)? {
                Some(v) => Some(v),
                None => self.eval(rhs, input, env)?,
            },
            Kind::Default(lhs, rhs) => {
                let v = self.eval(lhs, input, env)?;
                if boolean(&v) {
                    v
                } else {
                    self.eval(rhs, input, env)?
                }
            }
            Kind::Block(items) => {
                let frame = self.child(env);
                let mut last = None;
                for item in items {
                    last = self.eval(item, input, &frame)?;
                }
                last
            }
            Kind::Bind(name, value) => {
                let v = self.eval(value, input, env)?;
                self.bind(env, name, v.clone());
                v
            }
            Kind::Regex(def) => Some(Value::function(Function::Regex(def.clone()))),
            Kind::Call { procedure, args } => {
                return self.call(node, procedure, args, input, env, None)
            }
            Kind::Partial { procedure, args } => {
                return self.partial(node, procedure, args, input, env)
            }
            Kind::Lambda(def) => Some(Value::function(Function::Lambda {
                def: def.clone(),
                input: input.clone(),
                env: env.clone(),
            })),
            Kind::Variable(name) => {
                if name.is_empty() {
                    match input {
                        Some(Value::Array(items, flags)) if flags.has(Flags::OUTER_WRAPPER) => {
                            items.first().cloned()
                        }
                        other => other.clone(),
                    }
                } else {
                    self.lookup(env, name)
                }
            }
            Kind::Apply(lhs, rhs) => return self.apply_chain(node, lhs, rhs, input, env),
            Kind::Transform(def) => Some(Value::function(Function::Transform {
                def: def.clone(),
                env: env.clone(),
            })),
            Kind::Sort(_) => return self.sort_step(node, input.clone(), env),
            Kind::Placeholder => {
                return Err(JsonataError::at(
                    ErrorCode::S0201,
                    node.pos,
                    "Syntax error: '?' is only allowed as an argument of a function call",
                ))
            }
        })
    }

    /// Refuses sequences longer than the configured limit.
    pub fn check_size(&self, len: usize, pos: usize) -> Result<()> {
        if len > self.limits.max_sequence {
            return Err(JsonataError::at(
                ErrorCode::D2014,
                pos,
                format!(
                    "The sequence would have more than {} items",
                    self.limits.max_sequence
                ),
            ));
        }
        Ok(())
    }

    /// Refuses strings longer than the configured limit.
    pub fn check_string(&self, len: usize, pos: usize) -> Result<()> {
        if len > self.limits.max_string {
            return Err(JsonataError::at(
                ErrorCode::U1004,
                pos,
                format!(
                    "The string would be longer than {} bytes",
                    self.limits.max_string
                ),
            ));
        }
        Ok(())
    }

    /// Applies one predicate (`[...]`) to a value or sequence.
    pub fn filter(&mut self, predicate: &Node, input: Val, env: &Env) -> Result<Val> {
        let flags = input.as_ref().map(Value::flags).unwrap_or_default();
        let tuples = flags.has(Flags::TUPLE_STREAM);
        let items: Vec<Value> = match input {
            None => Vec::new(),
            Some(Value::Array(items, _)) => items.to_vec(),
            Some(v) => vec![v],
        };
        let out_flags = if tuples {
            Flags::SEQUENCE.with(Flags::TUPLE_STREAM)
        } else {
            Flags::SEQUENCE
        };
        if let Kind::Num(n) = predicate.kind {
            let mut index = n.floor();
            if index < 0.0 {
                index += items.len() as f64;
            }
            let item = if index >= 0.0 {
                items.get(index as usize)
            } else {
                None
            };
            return Ok(Some(match item {
                Some(v @ Value::Array(..)) => v.clone(),
                Some(v) => Value::with_flags(vec![v.clone()], out_flags),
                None => Value::with_flags(Vec::new(), out_flags),
            }));
        }
        let mut out = Vec::new();
        let len = items.len();
        for (index, item) in items.into_iter().enumerate() {
            let (context, frame) = if tuples {
                let frame = self.tuple_frame(env, &item);
                (tuple_get(&item, "@"), frame)
            } else {
                (Some(item.clone()), env.clone())
            };
            let res = self.eval(predicate, &context, &frame)?;
            let numbers: Option<Vec<f64>> = match &res {
                Some(Value::Number(n)) => Some(vec![*n]),
                Some(Value::Array(a, _)) if a.iter().all(|v| matches!(v, Value::Number(_))) => {
                    Some(a.iter().filter_map(Value::as_number).collect())
                }
                _ => None,
            };
            match numbers {
                Some(ns) => {
                    for n in ns {
                        let mut i = n.floor();
                        if i < 0.0 {
                            i += len as f64;
                        }
                        if i == index as f64 {
                            out.push(item.clone());
                        }
                    }
                }
                None => {
                    if boolean(&res) {
                        out.push(item);
                    }
                }
            }
        }
        Ok(Some(Value::with_flags(out, out_flags)))
    }

    /// A frame binding every member of a tuple as a variable.
    pub fn tuple_frame(&mut self, env: &Env, tuple: &Value) -> Env {
        let frame = self.child(env);
        if let Value::Object(members) = tuple {
            for (k, v) in members.iter() {
                self.bind(&frame, &Arc::from(k.as_str()), Some(v.clone()));
            }
        }
        frame
    }
}

/// The address of a local variable: how far down the stack the current call is.
pub(crate) fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

pub(crate) fn tuple_get(tuple: &Value, key: &str) -> Val {
    match tuple {
        Value::Object(m) => m.get(key).cloned(),
        _ => None,
    }
}

/// A sequence of no values is undefined; of one value, that value (unless it must stay an
/// array).
pub(crate) fn normalize(result: Val, keep_array: bool) -> Val {
    match result {
        Some(Value::Array(items, flags))
            if flags.has(Flags::SEQUENCE) && !flags.has(Flags::TUPLE_STREAM) =>
        {
            let flags = if keep_array {
                flags.with(Flags::KEEP_SINGLETON)
            } else {
                flags
            };
            match items.len() {
                0 => None,
                1 if !flags.has(Flags::KEEP_SINGLETON) => items.first().cloned(),
                _ => Some(Value::Array(items, flags)),
            }
        }
        other => other,
    }
}

/// JSONata's truthiness (`$boolean`), with undefined counting as false.
pub(crate) fn boolean(value: &Val) -> bool {
    value.as_ref().map(truthy).unwrap_or(false)
}

pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => *n != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Array(items, _) => match items.as_slice() {
            [] => false,
            [only] => truthy(only),
            _ => items.iter().any(truthy),
        },
        Value::Object(m) => !m.is_empty(),
        Value::Function(_) => false,
    }
}

/// A field of an object, or of every object in an array (flattening one level).
pub(crate) fn lookup_field(input: &Val, key: &str, depth: usize) -> Result<Val> {
    if depth > MAX_VALUE_DEPTH {
        return super::value::too_deep();
    }
    Ok(match input {
        Some(Value::Array(items, _)) => {
            let mut out = Vec::new();
            for item in items.iter() {
                match lookup_field(&Some(item.clone()), key, depth + 1)? {
                    Some(Value::Array(vals, _)) => out.extend(vals.iter().cloned()),
                    Some(v) => out.push(v),
                    None => {}
                }
            }
            Some(Value::seq(out))
        }
        Some(Value::Object(members)) => members.get(key).cloned(),
        _ => None,
    })
}

fn flatten_into(value: &Value, out: &mut Vec<Value>, depth: usize) -> Result<()> {
    if depth > MAX_VALUE_DEPTH {
        return super::value::too_deep();
    }
    match value {
        Value::Array(items, _) => {
            for item in items.iter() {
                flatten_into(item, out, depth + 1)?;
            }
        }
        v => out.push(v.clone()),
    }
    Ok(())
}

fn wildcard(input: &Val) -> Result<Val> {
    let input = match input {
        Some(Value::Array(items, flags))
            if flags.has(Flags::OUTER_WRAPPER) && !items.is_empty() =>
        {
            items.first().cloned()
        }
        other => other.clone(),
    };
    let mut out = Vec::new();
    // Appending a flattened array makes the result a plain array, as in the reference
    // implementation.
    let mut plain = false;
    // An array's members count as the fields of an object (its keys are its indexes).
    let fields: Vec<&Value> = match &input {
        Some(Value::Object(members)) => members.values().collect(),
        Some(Value::Array(items, _)) => items.iter().collect(),
        _ => Vec::new(),
    };
    for value in fields {
        if value.is_array() {
            flatten_into(value, &mut out, 0)?;
            plain = true;
        } else {
            out.push(value.clone());
        }
    }
    Ok(Some(if plain {
        Value::array(out)
    } else {
        Value::seq(out)
    }))
}

fn descendants(input: &Val) -> Result<Val> {
    let Some(input) = input else { return Ok(None) };
    let mut out = Vec::new();
    let mut stack = vec![(input.clone(), 0usize)];
    while let Some((v, depth)) = stack.pop() {
        if depth > MAX_VALUE_DEPTH {
            return super::value::too_deep();
        }
        match &v {
            Value::Array(items, _) => {
                stack.extend(items.iter().rev().map(|i| (i.clone(), depth + 1)));
            }
            Value::Object(members) => {
                out.push(v.clone());
                stack.extend(members.values().rev().map(|i| (i.clone(), depth + 1)));
            }
            _ => out.push(v.clone()),
        }
    }
    Ok(Some(if out.len() == 1 {
        out.pop().unwrap_or(Value::Null)
    } else {
        Value::seq(out)
    }))
}
