//! Reading `Retry` and `Catch`: retriers, catchers and their error name lists.

use super::{
    join, jsonata_fields, parse_assign, parse_path_field, Catcher, Ctx, PathField, Retrier,
};
use crate::asl::query::{Payload, QueryLanguage};
use serde_json::{Map, Value};

fn parse_error_list(value: Option<&Value>, field: &str, ctx: &mut Ctx) -> Vec<String> {
    let Some(items) = value.and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        ctx.issue(
            field,
            "ErrorEquals must be a non-empty array of error names",
        );
        return Vec::new();
    };
    let names: Vec<String> = items
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if names.len() != items.len() {
        ctx.issue(field, "every error name must be a string");
    }
    if names.iter().any(|n| n == "States.ALL") && names.len() > 1 {
        ctx.issue(field, "States.ALL must appear alone in ErrorEquals");
    }
    names
}

pub(super) fn parse_retry(obj: &Map<String, Value>, ctx: &mut Ctx) -> Vec<Retrier> {
    let Some(value) = obj.get("Retry") else {
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        ctx.issue("Retry", "must be an array of retriers");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("Retry[{i}]");
        let Some(r) = item.as_object() else {
            ctx.issue(&field, "must be an object");
            continue;
        };
        let error_equals =
            parse_error_list(r.get("ErrorEquals"), &format!("{field}.ErrorEquals"), ctx);
        if error_equals.iter().any(|e| e == "States.ALL") && i + 1 != items.len() {
            ctx.issue(&field, "a retrier with States.ALL must be the last one");
        }
        let number = |name: &str, default: f64, ctx: &mut Ctx| -> f64 {
            match r.get(name) {
                None => default,
                Some(v) => v.as_f64().unwrap_or_else(|| {
                    ctx.issue(&format!("{field}.{name}"), "must be a number");
                    default
                }),
            }
        };
        let interval_seconds = number("IntervalSeconds", 1.0, ctx);
        if interval_seconds < 1.0 || interval_seconds.fract() != 0.0 {
            ctx.issue(
                &format!("{field}.IntervalSeconds"),
                "must be a positive integer",
            );
        }
        let max_attempts = number("MaxAttempts", 3.0, ctx);
        if max_attempts < 0.0 || max_attempts.fract() != 0.0 {
            ctx.issue(
                &format!("{field}.MaxAttempts"),
                "must be a non-negative integer",
            );
        }
        let backoff_rate = number("BackoffRate", 2.0, ctx);
        if backoff_rate < 1.0 {
            ctx.issue(&format!("{field}.BackoffRate"), "must be at least 1.0");
        }
        let max_delay_seconds = r
            .get("MaxDelaySeconds")
            .map(|_| number("MaxDelaySeconds", 0.0, ctx));
        if max_delay_seconds.is_some_and(|d| d < 1.0) {
            ctx.issue(
                &format!("{field}.MaxDelaySeconds"),
                "must be a positive integer",
            );
        }
        let full_jitter = match r.get("JitterStrategy").map(|v| v.as_str()) {
            None | Some(Some("NONE")) => false,
            Some(Some("FULL")) => true,
            Some(_) => {
                ctx.issue(&format!("{field}.JitterStrategy"), "must be FULL or NONE");
                false
            }
        };
        for key in r.keys() {
            if ![
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ]
            .contains(&key.as_str())
            {
                ctx.issue(&format!("{field}.{key}"), "unknown field");
            }
        }
        out.push(Retrier {
            error_equals,
            interval_seconds,
            max_attempts: max_attempts.max(0.0) as u32,
            backoff_rate,
            max_delay_seconds,
            full_jitter,
        });
    }
    out
}

/// `Catch`: a JSONPath catcher places the error output with `ResultPath`; a JSONata one
/// shapes the state's output with `Output` (`$states.errorOutput` when absent).
pub(super) fn parse_catch(
    obj: &Map<String, Value>,
    language: QueryLanguage,
    ctx: &mut Ctx,
) -> Vec<Catcher> {
    let Some(value) = obj.get("Catch") else {
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        ctx.issue("Catch", "must be an array of catchers");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("Catch[{i}]");
        let Some(c) = item.as_object() else {
            ctx.issue(&field, "must be an object");
            continue;
        };
        let error_equals =
            parse_error_list(c.get("ErrorEquals"), &format!("{field}.ErrorEquals"), ctx);
        if error_equals.iter().any(|e| e == "States.ALL") && i + 1 != items.len() {
            ctx.issue(&field, "a catcher with States.ALL must be the last one");
        }
        let mut inner = Ctx {
            issues: ctx.issues,
            location: join(&ctx.location, &field),
        };
        let (result_path, assign, output) = if language == QueryLanguage::Jsonata {
            if c.contains_key("ResultPath") {
                inner.issue(
                    "ResultPath",
                    jsonata_fields::unknown_field("ResultPath", "catcher", language),
                );
            }
            let output = c.get("Output").and_then(|v| {
                match Payload::compile(v, &format!("{field}/Output")) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        inner.issue("", e);
                        None
                    }
                }
            });
            let assign =
                jsonata_fields::parse_assign(c, "Assign", &format!("{field}/Assign"), &mut inner);
            (PathField::Default, assign, output)
        } else {
            if c.contains_key("Output") {
                inner.issue(
                    "Output",
                    jsonata_fields::unknown_field("Output", "catcher", language),
                );
            }
            let result_path = parse_path_field(c, "ResultPath", true, &mut inner);
            (result_path, parse_assign(c, "Assign", &mut inner), None)
        };
        let Some(next) = c.get("Next").and_then(Value::as_str) else {
            ctx.issue(&format!("{field}.Next"), "missing required field Next");
            continue;
        };
        out.push(Catcher {
            error_equals,
            result_path,
            next: next.to_string(),
            assign,
            output,
        });
    }
    out
}
