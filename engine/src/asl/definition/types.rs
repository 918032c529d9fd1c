//! The typed form of a state machine definition: machines, states and their fields, as
//! the parser leaves them for the interpreter.

use super::MaxConcurrency;
use crate::asl::assign::Assign;
use crate::asl::choice::Condition;
use crate::asl::intrinsics::Intrinsic;
use crate::asl::jsonpath::JsonPath;
use crate::asl::query::{Expr, Payload, QueryLanguage};
use crate::asl::template::Template;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use time::OffsetDateTime;

/// Where a state's `InputPath`/`OutputPath`/`ResultPath` points.
#[derive(Debug, Clone, PartialEq)]
pub enum PathField {
    /// The field is absent: `$`.
    Default,
    /// The field is `null`: discard (an empty object for input/output, the input for results).
    Discard,
    Path(JsonPath),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Seconds {
    Fixed(u64),
    Path(JsonPath),
    /// A JSONata state's `"{% expr %}"`, evaluated per visit.
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    pub resource: String,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WaitFor {
    Seconds(u64),
    Timestamp(OffsetDateTime),
    SecondsPath(JsonPath),
    TimestampPath(JsonPath),
    /// A JSONata state's `Seconds` expression.
    SecondsExpr(Expr),
    /// A JSONata state's `Timestamp` expression.
    TimestampExpr(Expr),
}

/// `Error`/`Cause` of a Fail state: written out, or read from a path or intrinsic.
#[derive(Debug, Clone, PartialEq)]
pub enum TextSource {
    Literal(String),
    Path(JsonPath),
    Intrinsic(Intrinsic),
    /// A JSONata state's `"{% expr %}"`.
    Expr(Expr),
}

/// What a top-level choice rule tests.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// A JSONPath rule: `Variable` and a comparison, or `And`/`Or`/`Not`.
    Path(Condition),
    /// A JSONata rule's `Condition`, which must give `true` or `false`.
    Jsonata(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceBranch {
    pub condition: Rule,
    pub next: String,
    /// Evaluated only when this rule is the one that matches.
    pub assign: Option<Assign>,
    /// A JSONata rule's `Output`, the state's output when this rule matches.
    pub output: Option<Payload>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    Pass {
        result: Option<Value>,
    },
    Task(TaskSpec),
    Choice {
        choices: Vec<ChoiceBranch>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Succeed,
    Fail {
        error: Option<TextSource>,
        cause: Option<TextSource>,
    },
    Parallel {
        branches: Vec<Arc<StateMachine>>,
    },
    Map {
        processor: Arc<StateMachine>,
        items_path: PathField,
        item_selector: Option<Template>,
        max_concurrency: MaxConcurrency,
        /// A JSONata Map's `Items` (an array or an expression; its input when absent).
        items: Option<Payload>,
        /// A JSONata Map's `ItemSelector`.
        jsonata_selector: Option<Payload>,
    },
}

impl StateKind {
    /// The prefix of this state's history events (`TaskStateEntered`, …).
    pub fn event_prefix(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail { .. } => "Fail",
            StateKind::Parallel { .. } => "Parallel",
            StateKind::Map { .. } => "Map",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub full_jitter: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub result_path: PathField,
    pub next: String,
    /// Assigns in the scope of the state that caught the error; `$` is the error output.
    pub assign: Option<Assign>,
    /// A JSONata catcher's `Output` (the error output when absent).
    pub output: Option<Payload>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub name: String,
    pub kind: StateKind,
    pub input_path: PathField,
    pub output_path: PathField,
    pub result_path: PathField,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    /// `None` for a state that ends its machine (`End: true`, Succeed, Fail).
    pub next: Option<String>,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// For a Choice state, evaluated only when the `Default` transition is taken.
    pub assign: Option<Assign>,
    pub language: QueryLanguage,
    /// A JSONata state's `Arguments` (Task and Parallel).
    pub arguments: Option<Payload>,
    /// A JSONata state's `Output`.
    pub output: Option<Payload>,
}

/// A state machine, or a Parallel branch, or a Map's item processor.
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    pub comment: Option<String>,
    pub start_at: String,
    pub states: BTreeMap<String, Arc<State>>,
    pub timeout_seconds: Option<u64>,
    /// The machine's `QueryLanguage`: the default of its states.
    pub language: QueryLanguage,
}
