//! Calling functions: arguments, signatures, partial application, `~>`, and tail calls
//! (a call in tail position returns to the caller's loop instead of growing the stack, so
//! tail-recursive lambdas run in constant depth).

use super::ast::{Kind, LambdaDef, Node};
use super::env::Env;
use super::error::{ErrorCode, JsonataError, Result};
use super::evaluator::{boolean, Evaluator};
use super::function::Function;
use super::functions::string::describe;
use super::value::{Val, Value};
use std::sync::Arc;

pub(crate) enum Flow {
    Done(Val),
    Tail(Val, Vec<Val>, usize),
}

fn procedure_name(procedure: &Node) -> String {
    match &procedure.kind {
        Kind::Path(steps) => match steps.first().map(|s| &s.kind) {
            Some(Kind::Name(n)) => n.clone(),
            _ => String::new(),
        },
        Kind::Variable(v) => format!("${v}"),
        _ => String::new(),
    }
}

impl Evaluator {
    /// The "did you mean `$name`?" check for a call of a field name that is a function.
    fn forgot_dollar(
        &self,
        procedure: &Node,
        env: &Env,
        code: ErrorCode,
        pos: usize,
    ) -> Result<()> {
        if let Kind::Path(steps) = &procedure.kind {
            if let Some(Kind::Name(name)) = steps.first().map(|s| &s.kind) {
                if self.lookup(env, name).is_some() {
                    let what = if code == ErrorCode::T1005 {
                        "invoke"
                    } else {
                        "partially apply"
                    };
                    return Err(JsonataError::at(
                        code,
                        pos,
                        format!("Attempted to {what} a non-function. Did you mean ${name}?"),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn call(
        &mut self,
        node: &Node,
        procedure: &Node,
        args: &[Node],
        input: &Val,
        env: &Env,
        context: Option<Val>,
    ) -> Result<Val> {
        let proc = self.eval(procedure, input, env)?;
        if proc.is_none() {
            self.forgot_dollar(procedure, env, ErrorCode::T1005, node.pos)?;
        }
        let mut values = Vec::with_capacity(args.len() + 1);
        if let Some(c) = context {
            values.push(c);
        }
        for arg in args {
            values.push(self.eval(arg, input, env)?);
        }
        let name = procedure_name(procedure);
        self.apply(&proc, values, input, env).map_err(|e| {
            let mut e = e.or_at(node.pos);
            if e.code == ErrorCode::T1006 && !name.is_empty() {
                e.message = format!("Attempted to invoke a non-function: {name} is not a function");
            }
            e
        })
    }

    pub(crate) fn partial(
        &mut self,
        node: &Node,
        procedure: &Node,
        args: &[Option<Node>],
        input: &Val,
        env: &Env,
    ) -> Result<Val> {
        let mut values = Vec::with_capacity(args.len());
        for arg in args {
            values.push(match arg {
                Some(a) => Some(self.eval(a, input, env)?),
                None => None,
            });
        }
        let proc = self.eval(procedure, input, env)?;
        if proc.is_none() {
            self.forgot_dollar(procedure, env, ErrorCode::T1007, node.pos)?;
        }
        match proc {
            Some(target @ Value::Function(_)) => Ok(Some(Value::function(Function::Partial {
                target,
                args: values,
            }))),
            _ => Err(JsonataError::at(
                ErrorCode::T1008,
                node.pos,
                "Attempted to partially apply a non-function",
            )),
        }
    }

    pub(crate) fn apply_chain(
        &mut self,
        node: &Node,
        lhs: &Node,
        rhs: &Node,
        input: &Val,
        env: &Env,
    ) -> Result<Val> {
        let left = self.eval(lhs, input, env)?;
        if let Kind::Call { procedure, args } = &rhs.kind {
            return self.call(rhs, procedure, args, input, env, Some(left));
        }
        let func = self.eval(rhs, input, env)?;
        let Some(f @ Value::Function(_)) = func else {
            return Err(JsonataError::at(
                ErrorCode::T2006,
                node.pos,
                "The right side of the function application operator ~> must be a function",
            ));
        };
        match left {
            Some(l @ Value::Function(_)) => Ok(Some(Value::function(Function::Chain(l, f)))),
            other => self
                .apply(&Some(f), vec![other], input, env)
                .map_err(|e| e.or_at(node.pos)),
        }
    }

    /// Calls a function value with arguments; `input` is the context value at the call.
    pub(crate) fn apply(
        &mut self,
        proc: &Val,
        args: Vec<Val>,
        input: &Val,
        env: &Env,
    ) -> Result<Val> {
        let mut flow = self.apply_inner(proc, args, input, env)?;
        loop {
            match flow {
                Flow::Done(v) => return Ok(v),
                Flow::Tail(p, a, pos) => {
                    self.check_time(pos)?;
                    flow = self
                        .apply_inner(&p, a, input, env)
                        .map_err(|e| e.or_at(pos))?;
                }
            }
        }
    }

    /// Calls a function value that a built-in received as an argument.
    pub(crate) fn call_value(&mut self, f: &Value, args: Vec<Val>, env: &Env) -> Result<Val> {
        self.apply(&Some(f.clone()), args, &None, env)
    }

    fn apply_inner(&mut self, proc: &Val, args: Vec<Val>, input: &Val, env: &Env) -> Result<Flow> {
        let Some(Value::Function(f)) = proc else {
            return Err(JsonataError::new(
                ErrorCode::T1006,
                match proc {
                    Some(v) => format!("Attempted to invoke a non-function ({})", describe(v)),
                    None => "Attempted to invoke a non-function".to_string(),
                },
            ));
        };
        match &**f {
            Function::Lambda {
                def,
                input: captured,
                env: closure,
            } => self.call_lambda(def, captured, closure, args, input, true),
            Function::Builtin(b) => {
                let args = match b.signature() {
                    Some(sig) => sig.validate(args, input, &format!("${}", b.name))?,
                    None => args,
                };
                let result = (b.call)(self, &args, input, env)?;
                if let Some(Value::String(s)) = &result {
                    self.check_string(s.len(), 0)?;
                }
                Ok(Flow::Done(result))
            }
            Function::Partial {
                target,
                args: bound,
            } => {
                let mut supplied = args.into_iter();
                let full: Vec<Val> = bound
                    .iter()
                    .map(|a| match a {
                        Some(v) => v.clone(),
                        None => supplied.next().flatten(),
                    })
                    .collect();
                if let Value::Function(t) = target {
                    if let Function::Lambda {
                        def,
                        input: captured,
                        env: closure,
                    } = &**t
                    {
                        return self.call_lambda(def, captured, closure, full, input, false);
                    }
                }
                Ok(Flow::Done(self.apply(
                    &Some(target.clone()),
                    full,
                    input,
                    env,
                )?))
            }
            Function::Regex(def) => {
                let text = args.first().cloned().flatten();
                let Some(Value::String(s)) = text else {
                    return Ok(Flow::Done(None));
                };
                let m = super::functions::regex::first_match(&def.regex, &s, 0);
                Ok(Flow::Done(m.map(|m| m.to_object())))
            }
            Function::Transform { def, env: closure } => {
                let target = args.into_iter().next().flatten();
                Ok(Flow::Done(self.transform(def, closure, target)?))
            }
            Function::Chain(first, second) => {
                let x = args.into_iter().next().flatten();
                let mid = self.apply(&Some(first.clone()), vec![x], input, env)?;
                Ok(Flow::Done(self.apply(
                    &Some(second.clone()),
                    vec![mid],
                    input,
                    env,
                )?))
            }
        }
    }

    fn call_lambda(
        &mut self,
        def: &Arc<LambdaDef>,
        captured: &Val,
        closure: &Env,
        args: Vec<Val>,
        context: &Val,
        validate: bool,
    ) -> Result<Flow> {
        let args = match (&def.signature, validate) {
            (Some(sig), true) => sig.validate(args, context, "function")?,
            _ => args,
        };
        let frame = self.child(closure);
        let mut args = args.into_iter();
        for param in &def.params {
            let v = args.next().flatten();
            self.bind(&frame, param, v);
        }
        self.eval_tail(&def.body, captured, &frame)
    }

    /// Evaluates a lambda body; a call in tail position is handed back to `apply`. Each node
    /// counts once against the depth limit, as `eval` counts it.
    fn eval_tail(&mut self, node: &Node, input: &Val, env: &Env) -> Result<Flow> {
        self.enter(node.pos)?;
        let flow = self.eval_tail_node(node, input, env);
        self.leave();
        flow
    }

    fn eval_tail_node(&mut self, node: &Node, input: &Val, env: &Env) -> Result<Flow> {
        let plain = node.predicate.is_empty() && node.group.is_none() && !node.keep_array;
        if plain {
            match &node.kind {
                Kind::Call { procedure, args } => {
                    let proc = self.eval(procedure, input, env)?;
                    if proc.is_none() {
                        self.forgot_dollar(procedure, env, ErrorCode::T1005, node.pos)?;
                    }
                    let mut values = Vec::with_capacity(args.len());
                    for arg in args {
                        values.push(self.eval(arg, input, env)?);
                    }
                    return Ok(Flow::Tail(proc, values, node.pos));
                }
                Kind::Condition(cond, then, otherwise) => {
                    let c = self.eval(cond, input, env)?;
                    return if boolean(&c) {
                        self.eval_tail(then, input, env)
                    } else if let Some(e) = otherwise {
                        self.eval_tail(e, input, env)
                    } else {
                        Ok(Flow::Done(None))
                    };
                }
                Kind::Block(items) => {
                    if let Some((last, rest)) = items.split_last() {
                        let frame = self.child(env);
                        for item in rest {
                            self.eval(item, input, &frame)?;
                        }
                        return self.eval_tail(last, input, &frame);
                    }
                }
                _ => {}
            }
        }
        Ok(Flow::Done(self.eval_node(node, input, env)?))
    }
}
