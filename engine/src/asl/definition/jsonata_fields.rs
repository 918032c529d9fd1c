//! Reading a JSONata state's fields: which fields each type allows, `Arguments`/`Output`,
//! `Assign`, choice rules with `Condition`, and the fields that take a value or a
//! `"{% expr %}"` (`Seconds`, `Timestamp`, `TimeoutSeconds`, `HeartbeatSeconds`, `Error`,
//! `Cause`).
//!
//! <https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>: a JSONata
//! state has two data fields, `Arguments` and `Output`, instead of JSONPath's five
//! (`InputPath`, `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath`), and no `…Path`
//! field: the field itself takes an expression. The state pages (state-pass.html,
//! state-task.html, …) mark each field "JSONPath only" or "JSONata only".

use super::{ChoiceBranch, Ctx, Rule, Seconds, StateKind, TextSource, WaitFor};
use crate::asl::assign::Assign;
use crate::asl::choice::parse_timestamp;
use crate::asl::query::{Expr, Payload, QueryLanguage};
use serde_json::{Map, Value};

pub(super) fn allowed_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pass" => &["Next", "End", "Assign", "Output"],
        "Task" => &[
            "Next",
            "End",
            "Assign",
            "Output",
            "Arguments",
            "Resource",
            "TimeoutSeconds",
            "HeartbeatSeconds",
            "Retry",
            "Catch",
            "Credentials",
        ],
        "Choice" => &["Choices", "Default", "Assign", "Output"],
        "Wait" => &["Next", "End", "Assign", "Output", "Seconds", "Timestamp"],
        "Succeed" => &["Output"],
        "Fail" => &["Error", "Cause"],
        "Parallel" => &[
            "Next",
            "End",
            "Assign",
            "Output",
            "Arguments",
            "Branches",
            "Retry",
            "Catch",
        ],
        "Map" => &[
            "Next",
            "End",
            "Assign",
            "Output",
            "Items",
            "ItemSelector",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "Retry",
            "Catch",
            "Label",
        ],
        _ => &[],
    }
}

/// Fields only JSONPath states have.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "Result",
    "ItemsPath",
    "MaxConcurrencyPath",
    "SecondsPath",
    "TimestampPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "ErrorPath",
    "CausePath",
    "Variable",
];

/// Fields only JSONata states have.
const JSONATA_ONLY: &[&str] = &["Arguments", "Output", "Items", "Condition"];

/// The sentence for a field a state of this type and language does not take.
pub(super) fn unknown_field(key: &str, kind: &str, language: QueryLanguage) -> String {
    match language {
        QueryLanguage::Jsonata if JSONPATH_ONLY.contains(&key) => format!(
            "'{key}' is a JSONPath field: a JSONata state uses Arguments and Output, and takes \"{{% expression %}}\" values instead of paths"
        ),
        QueryLanguage::JsonPath if JSONATA_ONLY.contains(&key) => format!(
            "'{key}' is a JSONata field: set \"QueryLanguage\": \"JSONata\" on the state or the state machine to use it"
        ),
        _ => format!("unknown field for a {kind} state"),
    }
}

/// `Arguments`, `Output`, `Items` or `ItemSelector`: any JSON value with expressions inside.
pub(super) fn parse_payload(
    obj: &Map<String, Value>,
    field: &str,
    ctx: &mut Ctx,
) -> Option<Payload> {
    let value = obj.get(field)?;
    match Payload::compile(value, field) {
        Ok(p) => Some(p),
        Err(e) => {
            ctx.issue("", e);
            None
        }
    }
}

/// A JSONata `Assign` (of a state, a rule or a catcher); `location` is how runtime causes
/// name it, `field` how definition issues do.
pub(super) fn parse_assign(
    obj: &Map<String, Value>,
    field: &str,
    location: &str,
    ctx: &mut Ctx,
) -> Option<Assign> {
    let value = obj.get("Assign")?;
    match Assign::parse_jsonata(value, location) {
        Ok(assign) => Some(assign),
        Err(problems) => {
            for problem in problems {
                ctx.issue(field, problem);
            }
            None
        }
    }
}

fn parse_expr(value: &Value, field: &str, ctx: &mut Ctx) -> Option<Option<Expr>> {
    match Expr::from_value(value) {
        Some(Ok(expr)) => Some(Some(expr)),
        Some(Err(e)) => {
            ctx.issue(field, e);
            None
        }
        None => Some(None),
    }
}

/// `TimeoutSeconds` or `HeartbeatSeconds`: a positive integer or an expression.
pub(super) fn parse_seconds(
    obj: &Map<String, Value>,
    field: &str,
    ctx: &mut Ctx,
) -> Option<Seconds> {
    let value = obj.get(field)?;
    if let Some(expr) = parse_expr(value, field, ctx)? {
        return Some(Seconds::Expr(expr));
    }
    match value.as_u64() {
        Some(n) if n > 0 => Some(Seconds::Fixed(n)),
        _ => {
            ctx.issue(
                field,
                "must be a positive integer or a \"{% expression %}\"",
            );
            None
        }
    }
}

/// A JSONata Wait state: exactly one of `Seconds` and `Timestamp`, each a value or an
/// expression.
pub(super) fn parse_wait(obj: &Map<String, Value>, ctx: &mut Ctx) -> Option<StateKind> {
    match (obj.get("Seconds"), obj.get("Timestamp")) {
        (Some(v), None) => {
            if let Some(expr) = parse_expr(v, "Seconds", ctx)? {
                return Some(StateKind::Wait(WaitFor::SecondsExpr(expr)));
            }
            match v.as_u64() {
                Some(n) => Some(StateKind::Wait(WaitFor::Seconds(n))),
                None => {
                    ctx.issue(
                        "Seconds",
                        "must be a non-negative integer or a \"{% expression %}\"",
                    );
                    None
                }
            }
        }
        (None, Some(v)) => {
            if let Some(expr) = parse_expr(v, "Timestamp", ctx)? {
                return Some(StateKind::Wait(WaitFor::TimestampExpr(expr)));
            }
            match v.as_str().and_then(parse_timestamp) {
                Some(t) => Some(StateKind::Wait(WaitFor::Timestamp(t))),
                None => {
                    ctx.issue(
                        "Timestamp",
                        "must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z, or a \"{% expression %}\"",
                    );
                    None
                }
            }
        }
        _ => {
            ctx.issue(
                "",
                "a JSONata Wait state needs exactly one of Seconds and Timestamp",
            );
            None
        }
    }
}

/// A JSONata Fail state's `Error` or `Cause`: a string or an expression.
pub(super) fn parse_text(
    obj: &Map<String, Value>,
    field: &str,
    ctx: &mut Ctx,
) -> Option<TextSource> {
    let value = obj.get(field)?;
    if let Some(expr) = parse_expr(value, field, ctx)? {
        return Some(TextSource::Expr(expr));
    }
    match value {
        Value::String(s) => Some(TextSource::Literal(s.clone())),
        _ => {
            ctx.issue(field, "must be a string or a \"{% expression %}\"");
            None
        }
    }
}

/// A choice rule of a JSONata state: `Condition` (an expression), `Next`, and optionally
/// `Assign` and `Output`.
/// <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html> ("Choice Rules
/// (JSONata)").
pub(super) fn parse_rule(
    rule: &Map<String, Value>,
    index: usize,
    next: &str,
    ctx: &mut Ctx,
) -> Option<ChoiceBranch> {
    let field = format!("Choices[{index}]");
    for key in rule.keys() {
        if !["Condition", "Next", "Assign", "Output", "Comment"].contains(&key.as_str()) {
            let message = if JSONPATH_ONLY.contains(&key.as_str())
                || crate::asl::choice::is_operator(key)
                || ["And", "Or", "Not"].contains(&key.as_str())
            {
                format!("'{key}' belongs to JSONPath choice rules: a JSONata rule tests a \"Condition\": \"{{% expression %}}\"")
            } else {
                "unknown field for a choice rule".to_string()
            };
            ctx.issue(&format!("{field}.{key}"), message);
        }
    }
    let Some(value) = rule.get("Condition") else {
        ctx.issue(
            &format!("{field}.Condition"),
            "a JSONata choice rule needs Condition",
        );
        return None;
    };
    let condition = match parse_expr(value, &format!("{field}.Condition"), ctx)? {
        Some(expr) => expr,
        None => {
            ctx.issue(
                &format!("{field}.Condition"),
                "must be a \"{% expression %}\" that gives true or false",
            );
            return None;
        }
    };
    let output = match rule.get("Output") {
        None => None,
        Some(value) => match Payload::compile(value, &format!("{field}/Output")) {
            Ok(p) => Some(p),
            Err(e) => {
                ctx.issue("", e);
                return None;
            }
        },
    };
    Some(ChoiceBranch {
        condition: Rule::Jsonata(condition),
        next: next.to_string(),
        assign: parse_assign(
            rule,
            &format!("{field}.Assign"),
            &format!("{field}/Assign"),
            ctx,
        ),
        output,
    })
}
