//! The syntax tree the evaluator runs: paths flattened into steps, predicates attached to
//! the step they filter, and the bindings of `@`, `#` and `%` resolved.

use super::signature::Signature;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Concat,
    And,
    Or,
    In,
    Range,
}

impl BinOp {
    pub fn from_str(op: &str) -> Option<BinOp> {
        Some(match op {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "%" => BinOp::Mod,
            "=" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "&" => BinOp::Concat,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            "in" => BinOp::In,
            ".." => BinOp::Range,
            _ => return None,
        })
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Concat => "&",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::In => "in",
            BinOp::Range => "..",
        }
    }
}

#[derive(Debug)]
pub(crate) enum Stage {
    Filter(Node),
    /// `#$i`: binds each item's position in the stream to `$i`.
    Index(Arc<str>),
}

#[derive(Debug)]
pub(crate) struct Group {
    pub pairs: Vec<(Node, Node)>,
    pub pos: usize,
}

#[derive(Debug)]
pub(crate) struct SortTerm {
    pub descending: bool,
    pub expr: Node,
}

#[derive(Debug)]
pub(crate) struct LambdaDef {
    pub params: Vec<Arc<str>>,
    pub signature: Option<Signature>,
    pub body: Node,
}

#[derive(Debug)]
pub(crate) struct TransformDef {
    pub pattern: Node,
    pub update: Node,
    pub delete: Option<Node>,
    pub pos: usize,
}

#[derive(Debug)]
pub(crate) struct RegexDef {
    pub regex: regex::Regex,
    pub source: String,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Path(Vec<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    Negate(Box<Node>),
    Array(Vec<Node>),
    Object(Group),
    Name(String),
    Str(Arc<str>),
    Num(f64),
    Bool(bool),
    Null,
    Wildcard,
    Descendant,
    /// `%`: the parent of the context value, found through the numbered slot.
    Parent(usize),
    Condition(Box<Node>, Box<Node>, Option<Box<Node>>),
    Coalesce(Box<Node>, Box<Node>),
    Default(Box<Node>, Box<Node>),
    Block(Vec<Node>),
    Bind(Arc<str>, Box<Node>),
    Regex(Arc<RegexDef>),
    Call {
        procedure: Box<Node>,
        args: Vec<Node>,
    },
    /// A call with `?` placeholders (`None`), which makes a new function.
    Partial {
        procedure: Box<Node>,
        args: Vec<Option<Node>>,
    },
    Lambda(Arc<LambdaDef>),
    Variable(Arc<str>),
    Apply(Box<Node>, Box<Node>),
    Transform(Arc<TransformDef>),
    Sort(Vec<SortTerm>),
    /// `?` outside a call; kept only so the processing step can report it.
    Placeholder,
}

#[derive(Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub pos: usize,
    pub keep_array: bool,
    /// Filters applied to this expression's result.
    pub predicate: Vec<Stage>,
    /// Filters (and `#` bindings) applied when this node is a step of a path.
    pub stages: Vec<Stage>,
    pub group: Option<Box<Group>>,
    /// `@$v`: the step binds its result to `$v` instead of moving the context.
    pub focus: Option<Arc<str>>,
    /// `#$i`: the step binds each result's position to `$i`.
    pub index: Option<Arc<str>>,
    /// The step takes part in a stream of tuples (variable bindings along the path).
    pub tuple: bool,
    /// The slot of a `%` that this step provides the parent for.
    pub ancestor: Option<usize>,
    pub cons_array: bool,
    pub keep_singleton_array: bool,
    /// Slots of `%` operators inside this expression still looking for their step.
    pub seeking_parent: Vec<usize>,
}

impl Node {
    pub fn new(kind: Kind, pos: usize) -> Node {
        Node {
            kind,
            pos,
            keep_array: false,
            predicate: Vec::new(),
            stages: Vec::new(),
            group: None,
            focus: None,
            index: None,
            tuple: false,
            ancestor: None,
            cons_array: false,
            keep_singleton_array: false,
            seeking_parent: Vec::new(),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Path(_) => "path",
            Kind::Binary(..) => "binary",
            Kind::Negate(_) | Kind::Array(_) | Kind::Object(_) => "unary",
            Kind::Name(_) => "name",
            Kind::Str(_) => "string",
            Kind::Num(_) => "number",
            Kind::Bool(_) | Kind::Null => "value",
            Kind::Wildcard => "wildcard",
            Kind::Descendant => "descendant",
            Kind::Parent(_) => "parent",
            Kind::Condition(..) | Kind::Coalesce(..) | Kind::Default(..) => "condition",
            Kind::Block(_) => "block",
            Kind::Bind(..) => "bind",
            Kind::Regex(_) => "regex",
            Kind::Call { .. } => "function",
            Kind::Partial { .. } => "partial",
            Kind::Lambda(_) => "lambda",
            Kind::Variable(_) => "variable",
            Kind::Apply(..) => "apply",
            Kind::Transform(_) => "transform",
            Kind::Sort(_) => "sort",
            Kind::Placeholder => "operator",
        }
    }
}
