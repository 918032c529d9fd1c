//! Turns the parser's tree into the evaluator's: `a.b[c]` becomes a path of steps with
//! their predicates, `@`/`#` bindings go onto their steps, and each parent operator `%` is
//! tied to the step whose input it refers to.

use super::ast::{BinOp, Group, Kind, LambdaDef, Node, RegexDef, SortTerm, Stage, TransformDef};
use super::error::{ErrorCode, JsonataError, Result};
use super::evaluator::stack_address;
use super::parser::{Ast, AstKind};
use std::sync::Arc;

struct Slot {
    label: Arc<str>,
    level: i32,
}

pub(crate) struct Processor {
    slots: Vec<Slot>,
    stack_base: usize,
}

/// The most stack processing may use (frames are much larger in unoptimised builds).
const MAX_PROCESS_STACK: usize = 1 << 20;

/// Processes a parsed expression; returns the tree and the labels of the parent slots.
pub(crate) fn process(ast: Ast) -> Result<(Node, Vec<Arc<str>>)> {
    let mut p = Processor {
        slots: Vec::new(),
        stack_base: stack_address(),
    };
    let node = p.node(ast)?;
    if matches!(node.kind, Kind::Parent(_)) || !node.seeking_parent.is_empty() {
        return Err(no_parent(&node));
    }
    Ok((node, p.slots.into_iter().map(|s| s.label).collect()))
}

fn no_parent(node: &Node) -> JsonataError {
    JsonataError::at(
        ErrorCode::S0217,
        node.pos,
        format!(
            "The parent of a {} expression cannot be derived",
            node.kind_name()
        ),
    )
}

fn push_ancestry(target: &mut Node, value: &Node) {
    target
        .seeking_parent
        .extend(value.seeking_parent.iter().copied());
    if let Kind::Parent(slot) = value.kind {
        target.seeking_parent.push(slot);
    }
}

/// Whether the step at `i` binds a focus variable (`@$v`).
fn has_focus(steps: &[Node], i: usize) -> bool {
    steps.get(i).is_some_and(|step| step.focus.is_some())
}

impl Processor {
    /// How many more steps up the slot's parent is; a slot is only ever named after it was
    /// created, and an unknown one has nothing left to seek.
    fn level(&self, slot: usize) -> i32 {
        self.slots.get(slot).map_or(0, |s| s.level)
    }

    /// Moves the slot's level by `by` and returns the new level.
    fn adjust(&mut self, slot: usize, by: i32) -> i32 {
        match self.slots.get_mut(slot) {
            Some(s) => {
                s.level += by;
                s.level
            }
            None => 0,
        }
    }

    fn seek_parent(&mut self, node: &mut Node, slot: usize) -> Result<()> {
        match &mut node.kind {
            Kind::Name(_) | Kind::Wildcard => {
                if self.adjust(slot, -1) == 0 {
                    let label = node
                        .ancestor
                        .and_then(|existing| self.slots.get(existing))
                        .map(|existing| existing.label.clone());
                    if let (Some(label), Some(target)) = (label, self.slots.get_mut(slot)) {
                        target.label = label;
                    }
                    node.ancestor = Some(slot);
                    node.tuple = true;
                }
            }
            Kind::Parent(_) => {
                self.adjust(slot, 1);
            }
            Kind::Block(items) => {
                if let Some(last) = items.last_mut() {
                    self.seek_parent(last, slot)?;
                    node.tuple = true;
                }
            }
            Kind::Path(steps) => {
                let mut from_last = steps.iter_mut().rev();
                if let Some(last) = from_last.next() {
                    self.seek_parent(last, slot)?;
                }
                for step in from_last {
                    if self.level(slot) <= 0 {
                        break;
                    }
                    self.seek_parent(step, slot)?;
                }
                node.tuple = true;
            }
            _ => return Err(no_parent(node)),
        }
        Ok(())
    }

    fn resolve_ancestry(&mut self, path: &mut Node) -> Result<()> {
        let Kind::Path(steps) = &mut path.kind else {
            return Ok(());
        };
        let Some(last) = steps.last() else {
            return Ok(());
        };
        let mut slots = last.seeking_parent.clone();
        if let Kind::Parent(s) = last.kind {
            slots.push(s);
        }
        let mut unresolved = Vec::new();
        for slot in slots {
            let mut index = steps.len() as isize - 2;
            while self.level(slot) > 0 {
                let Ok(mut i) = usize::try_from(index) else {
                    unresolved.push(slot);
                    break;
                };
                index -= 1;
                // contiguous steps that bind a focus variable count as one
                while let Ok(previous) = usize::try_from(index) {
                    if !(has_focus(steps, i) && has_focus(steps, previous)) {
                        break;
                    }
                    i = previous;
                    index -= 1;
                }
                let Some(step) = steps.get_mut(i) else {
                    unresolved.push(slot);
                    break;
                };
                self.seek_parent(step, slot)?;
            }
        }
        path.seeking_parent.extend(unresolved);
        Ok(())
    }

    fn boxed(&mut self, ast: Ast) -> Result<Box<Node>> {
        Ok(Box::new(self.node(ast)?))
    }

    pub fn node(&mut self, ast: Ast) -> Result<Node> {
        let pos = ast.pos;
        if self.stack_base.abs_diff(stack_address()) > MAX_PROCESS_STACK {
            return Err(JsonataError::at(
                ErrorCode::U1003,
                pos,
                "The expression is nested too deeply to process",
            ));
        }
        let keep_array = ast.keep_array;
        let mut result = match ast.kind {
            AstKind::Binary(op, lhs, rhs) => self.binary(op, *lhs, *rhs, pos, keep_array)?,
            AstKind::Negate(inner) => {
                let inner = self.node(*inner)?;
                if let Kind::Num(n) = inner.kind {
                    let mut literal = inner;
                    literal.kind = Kind::Num(-n);
                    literal
                } else {
                    let mut node = Node::new(Kind::Null, pos);
                    push_ancestry(&mut node, &inner);
                    node.kind = Kind::Negate(Box::new(inner));
                    node
                }
            }
            AstKind::Array(items) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let n = self.node(item)?;
                    push_ancestry(&mut node, &n);
                    out.push(n);
                }
                node.kind = Kind::Array(out);
                node
            }
            AstKind::Object(pairs) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    let k = self.node(k)?;
                    push_ancestry(&mut node, &k);
                    let v = self.node(v)?;
                    push_ancestry(&mut node, &v);
                    out.push((k, v));
                }
                node.kind = Kind::Object(Group { pairs: out, pos });
                node
            }
            AstKind::Group(lhs, pairs) => {
                let mut node = self.node(*lhs)?;
                if node.group.is_some() {
                    return Err(JsonataError::at(
                        ErrorCode::S0210,
                        pos,
                        "Each step can only have one grouping expression",
                    ));
                }
                let mut out = Vec::with_capacity(pairs.len());
                for (k, v) in pairs {
                    out.push((self.node(k)?, self.node(v)?));
                }
                node.group = Some(Box::new(Group { pairs: out, pos }));
                node
            }
            AstKind::Sort(lhs, terms) => {
                let mut node = self.node(*lhs)?;
                if !matches!(node.kind, Kind::Path(_)) {
                    node = path_of(node);
                }
                let mut sort = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(terms.len());
                for (descending, expr) in terms {
                    let expr = self.node(expr)?;
                    push_ancestry(&mut sort, &expr);
                    out.push(SortTerm { descending, expr });
                }
                sort.kind = Kind::Sort(out);
                if let Kind::Path(steps) = &mut node.kind {
                    steps.push(sort);
                }
                self.resolve_ancestry(&mut node)?;
                node
            }
            AstKind::Call {
                procedure,
                args,
                partial,
            } => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(args.len());
                for arg in args {
                    if matches!(arg.kind, AstKind::Placeholder) {
                        out.push(None);
                        continue;
                    }
                    let a = self.node(arg)?;
                    push_ancestry(&mut node, &a);
                    out.push(Some(a));
                }
                let procedure = self.boxed(*procedure)?;
                node.kind = if partial {
                    Kind::Partial {
                        procedure,
                        args: out,
                    }
                } else {
                    Kind::Call {
                        procedure,
                        args: out.into_iter().flatten().collect(),
                    }
                };
                node
            }
            AstKind::Lambda {
                params,
                signature,
                body,
            } => {
                let body = self.node(*body)?;
                Node::new(
                    Kind::Lambda(Arc::new(LambdaDef {
                        params: params.into_iter().map(Arc::from).collect(),
                        signature,
                        body,
                    })),
                    pos,
                )
            }
            AstKind::Condition(c, t, e) => {
                let mut node = Node::new(Kind::Null, pos);
                let c = self.boxed(*c)?;
                push_ancestry(&mut node, &c);
                let t = self.boxed(*t)?;
                push_ancestry(&mut node, &t);
                let e = match e {
                    Some(e) => {
                        let e = self.boxed(*e)?;
                        push_ancestry(&mut node, &e);
                        Some(e)
                    }
                    None => None,
                };
                node.kind = Kind::Condition(c, t, e);
                node
            }
            AstKind::Coalesce(l, r) => self.either(true, *l, *r, pos)?,
            AstKind::Default(l, r) => self.either(false, *l, *r, pos)?,
            AstKind::Block(items) => {
                let mut node = Node::new(Kind::Null, pos);
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let part = self.node(item)?;
                    push_ancestry(&mut node, &part);
                    let cons = part.cons_array
                        || matches!(&part.kind, Kind::Path(s) if s.first().is_some_and(|f| f.cons_array));
                    if cons {
                        node.cons_array = true;
                    }
                    out.push(part);
                }
                node.kind = Kind::Block(out);
                node
            }
            AstKind::Transform(pattern, update, delete) => {
                let def = TransformDef {
                    pattern: self.node(*pattern)?,
                    update: self.node(*update)?,
                    delete: match delete {
                        Some(d) => Some(self.node(*d)?),
                        None => None,
                    },
                    pos,
                };
                Node::new(Kind::Transform(Arc::new(def)), pos)
            }
            AstKind::Name(name) => {
                let mut step = Node::new(Kind::Name(name), pos);
                step.keep_array = keep_array;
                let mut path = path_of(step);
                path.keep_singleton_array = keep_array;
                path
            }
            AstKind::OperatorName(op) => path_of(Node::new(Kind::Name(op.to_string()), pos)),
            AstKind::Parent => {
                let slot = self.slots.len();
                self.slots.push(Slot {
                    label: Arc::from(format!("!{slot}")),
                    level: 1,
                });
                Node::new(Kind::Parent(slot), pos)
            }
            AstKind::Str(s) => Node::new(Kind::Str(Arc::from(s)), pos),
            AstKind::Num(n) => Node::new(Kind::Num(n), pos),
            AstKind::Bool(b) => Node::new(Kind::Bool(b), pos),
            AstKind::Null => Node::new(Kind::Null, pos),
            AstKind::Wildcard => Node::new(Kind::Wildcard, pos),
            AstKind::Descendant => Node::new(Kind::Descendant, pos),
            AstKind::Variable(v) => Node::new(Kind::Variable(Arc::from(v)), pos),
            AstKind::Regex { pattern, flags } => {
                let regex = super::functions::regex::compile(&pattern, &flags)
                    .map_err(|e| JsonataError::at(ErrorCode::S0303, pos, e))?;
                let source = pattern;
                Node::new(Kind::Regex(Arc::new(RegexDef { regex, source })), pos)
            }
            AstKind::Placeholder => Node::new(Kind::Placeholder, pos),
            AstKind::End => {
                return Err(JsonataError::at(
                    ErrorCode::S0207,
                    pos,
                    "Unexpected end of expression",
                ))
            }
        };
        if keep_array {
            result.keep_array = true;
        }
        Ok(result)
    }

    fn either(&mut self, coalesce: bool, l: Ast, r: Ast, pos: usize) -> Result<Node> {
        let mut node = Node::new(Kind::Null, pos);
        let l = self.boxed(l)?;
        push_ancestry(&mut node, &l);
        let r = self.boxed(r)?;
        push_ancestry(&mut node, &r);
        node.kind = if coalesce {
            Kind::Coalesce(l, r)
        } else {
            Kind::Default(l, r)
        };
        Ok(node)
    }

    fn binary(&mut self, op: &str, lhs: Ast, rhs: Ast, pos: usize, keep: bool) -> Result<Node> {
        match op {
            "." => self.dot(lhs, rhs),
            "[" => {
                let mut result = self.node(lhs)?;
                let mut predicate = self.node(rhs)?;
                let in_path = matches!(result.kind, Kind::Path(_));
                if with_last(&mut result, |step| step.group.is_some()) {
                    return Err(JsonataError::at(
                        ErrorCode::S0209,
                        pos,
                        "A predicate cannot follow a grouping expression in a step",
                    ));
                }
                if !predicate.seeking_parent.is_empty() {
                    let seeking = std::mem::take(&mut predicate.seeking_parent);
                    for slot in &seeking {
                        if self.level(*slot) == 1 {
                            with_last(&mut result, |step| self.seek_parent(step, *slot))?;
                        } else {
                            self.adjust(*slot, -1);
                        }
                    }
                    with_last(&mut result, |step| step.seeking_parent.extend(seeking));
                }
                with_last(&mut result, |step| {
                    if in_path {
                        step.stages.push(Stage::Filter(predicate));
                    } else {
                        step.predicate.push(Stage::Filter(predicate));
                    }
                });
                Ok(result)
            }
            ":=" => {
                let AstKind::Variable(name) = lhs.kind else {
                    return Err(JsonataError::at(
                        ErrorCode::S0212,
                        lhs.pos,
                        "The left side of := must be a variable name (starting with $)",
                    ));
                };
                let rhs = self.node(rhs)?;
                let mut node = Node::new(Kind::Null, pos);
                push_ancestry(&mut node, &rhs);
                node.kind = Kind::Bind(Arc::from(name), Box::new(rhs));
                Ok(node)
            }
            "@" => {
                let AstKind::Variable(var) = rhs.kind else {
                    return not_a_variable(pos);
                };
                let mut result = self.node(lhs)?;
                with_last(&mut result, |step| {
                    if !step.stages.is_empty() || !step.predicate.is_empty() {
                        return Err(JsonataError::at(
                            ErrorCode::S0215,
                            pos,
                            "A context variable binding must come before any predicates on a step",
                        ));
                    }
                    if matches!(step.kind, Kind::Sort(_)) {
                        return Err(JsonataError::at(
                            ErrorCode::S0216,
                            pos,
                            "A context variable binding must come before the order-by clause on a step",
                        ));
                    }
                    if keep {
                        step.keep_array = true;
                    }
                    step.focus = Some(Arc::from(var));
                    step.tuple = true;
                    Ok(())
                })?;
                Ok(result)
            }
            "#" => {
                let AstKind::Variable(var) = rhs.kind else {
                    return not_a_variable(pos);
                };
                let mut result = self.node(lhs)?;
                if !matches!(result.kind, Kind::Path(_)) {
                    let predicate = std::mem::take(&mut result.predicate);
                    result.stages = predicate;
                    result = path_of(result);
                }
                with_last(&mut result, |step| {
                    if step.stages.is_empty() {
                        step.index = Some(Arc::from(var));
                    } else {
                        step.stages.push(Stage::Index(Arc::from(var)));
                    }
                    step.tuple = true;
                });
                Ok(result)
            }
            "~>" => {
                let lhs = self.node(lhs)?;
                let rhs = self.node(rhs)?;
                let mut node = Node::new(Kind::Null, pos);
                node.keep_array = lhs.keep_array || rhs.keep_array;
                node.kind = Kind::Apply(Box::new(lhs), Box::new(rhs));
                Ok(node)
            }
            _ => {
                let Some(bin) = BinOp::from_str(op) else {
                    return Err(JsonataError::at(
                        ErrorCode::S0201,
                        pos,
                        format!("Syntax error: unexpected '{op}'"),
                    ));
                };
                let lhs = self.node(lhs)?;
                let rhs = self.node(rhs)?;
                let mut node = Node::new(Kind::Null, pos);
                push_ancestry(&mut node, &lhs);
                push_ancestry(&mut node, &rhs);
                node.kind = Kind::Binary(bin, Box::new(lhs), Box::new(rhs));
                Ok(node)
            }
        }
    }

    fn dot(&mut self, lhs: Ast, rhs: Ast) -> Result<Node> {
        let lstep = self.node(lhs)?;
        let lstep_parent = match lstep.kind {
            Kind::Parent(slot) => Some(slot),
            _ => None,
        };
        let mut result = if matches!(lstep.kind, Kind::Path(_)) {
            lstep
        } else {
            path_of(lstep)
        };
        if let Some(slot) = lstep_parent {
            result.seeking_parent = vec![slot];
        }
        let mut rest = self.node(rhs)?;
        let Kind::Path(steps) = &mut result.kind else {
            return Ok(result);
        };
        match rest.kind {
            Kind::Path(more) => steps.extend(more),
            _ => {
                if !rest.predicate.is_empty() {
                    rest.stages = std::mem::take(&mut rest.predicate);
                }
                steps.push(rest);
            }
        }
        for step in steps.iter_mut() {
            match &step.kind {
                Kind::Num(_) | Kind::Bool(_) | Kind::Null => {
                    return Err(JsonataError::at(
                        ErrorCode::S0213,
                        step.pos,
                        "A literal value cannot be used as a step within a path expression",
                    ))
                }
                Kind::Str(s) => step.kind = Kind::Name(s.to_string()),
                _ => {}
            }
        }
        if steps.iter().any(|s| s.keep_array) {
            result.keep_singleton_array = true;
        }
        if let Some(first) = steps.first_mut() {
            if matches!(first.kind, Kind::Array(_)) {
                first.cons_array = true;
            }
        }
        if let Some(last) = steps.last_mut() {
            if matches!(last.kind, Kind::Array(_)) {
                last.cons_array = true;
            }
        }
        self.resolve_ancestry(&mut result)?;
        Ok(result)
    }
}

fn not_a_variable<T>(pos: usize) -> Result<T> {
    Err(JsonataError::at(
        ErrorCode::S0214,
        pos,
        "The right side of @ or # must be a variable name (starting with $)",
    ))
}

fn path_of(step: Node) -> Node {
    let pos = step.pos;
    Node::new(Kind::Path(vec![step]), pos)
}

/// Runs `f` on the last step of a path, or on the node itself when it is not a path.
fn with_last<R>(node: &mut Node, f: impl FnOnce(&mut Node) -> R) -> R {
    if let Kind::Path(steps) = &mut node.kind {
        if let Some(last) = steps.last_mut() {
            return f(last);
        }
    }
    f(node)
}
