//! Reading a state's fields: which fields each type allows, paths, payload templates,
//! seconds and the Fail state's texts.

use super::{Ctx, PathField, Seconds, TextSource};
use crate::asl::assign::Assign;
use crate::asl::intrinsics::{looks_like_intrinsic, Intrinsic};
use crate::asl::jsonpath::JsonPath;
use crate::asl::template::Template;
use serde_json::{Map, Value};

pub(super) const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

pub(super) fn allowed_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "Pass" => &[
            "Next",
            "Assign",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "Result",
        ],
        "Task" => &[
            "Next",
            "Assign",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Resource",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Retry",
            "Catch",
            "Credentials",
        ],
        "Choice" => &["InputPath", "OutputPath", "Choices", "Default", "Assign"],
        "Wait" => &[
            "Next",
            "Assign",
            "End",
            "InputPath",
            "OutputPath",
            "Seconds",
            "Timestamp",
            "SecondsPath",
            "TimestampPath",
        ],
        "Succeed" => &["InputPath", "OutputPath"],
        "Fail" => &["Error", "Cause", "ErrorPath", "CausePath"],
        "Parallel" => &[
            "Next",
            "Assign",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "Branches",
            "Retry",
            "Catch",
        ],
        "Map" => &[
            "Next",
            "Assign",
            "End",
            "InputPath",
            "OutputPath",
            "ResultPath",
            "Parameters",
            "ResultSelector",
            "ItemsPath",
            "ItemSelector",
            "ItemProcessor",
            "Iterator",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "Retry",
            "Catch",
            "Label",
        ],
        _ => &[],
    }
}

pub(super) fn parse_path_field(
    obj: &Map<String, Value>,
    field: &str,
    reference: bool,
    ctx: &mut Ctx,
) -> PathField {
    match obj.get(field) {
        None => PathField::Default,
        Some(Value::Null) => PathField::Discard,
        Some(Value::String(text)) => match JsonPath::parse(text) {
            Ok(path) if reference && path.variable().is_some() => {
                ctx.issue(
                    field,
                    format!("'{text}' reads a variable: variables cannot be used in {field}, which places the result in the state's input"),
                );
                PathField::Default
            }
            Ok(path) if reference && !path.is_reference_path() => {
                ctx.issue(
                    field,
                    format!("'{text}' is not a reference path (only fields and indexes on $)"),
                );
                PathField::Default
            }
            Ok(path) => PathField::Path(path),
            Err(e) => {
                ctx.issue(field, e.to_string());
                PathField::Default
            }
        },
        Some(_) => {
            ctx.issue(field, "must be a path string or null");
            PathField::Default
        }
    }
}

/// `Assign` (of a state, a choice rule or a catcher), `field` naming it for the issues.
pub(super) fn parse_assign(obj: &Map<String, Value>, field: &str, ctx: &mut Ctx) -> Option<Assign> {
    let value = obj.get("Assign")?;
    match Assign::parse(value) {
        Ok(assign) => Some(assign),
        Err(problems) => {
            for problem in problems {
                ctx.issue(field, problem);
            }
            None
        }
    }
}

pub(super) fn parse_template(
    obj: &Map<String, Value>,
    field: &str,
    ctx: &mut Ctx,
) -> Option<Template> {
    let value = obj.get(field)?;
    match Template::compile(value) {
        Ok(t) => Some(t),
        Err(e) => {
            ctx.issue(field, e);
            None
        }
    }
}

pub(super) fn parse_path(obj: &Map<String, Value>, field: &str, ctx: &mut Ctx) -> Option<JsonPath> {
    let text = obj.get(field)?;
    let Some(text) = text.as_str() else {
        ctx.issue(field, "must be a path string");
        return None;
    };
    match JsonPath::parse(text) {
        Ok(p) => Some(p),
        Err(e) => {
            ctx.issue(field, e.to_string());
            None
        }
    }
}

pub(super) fn parse_seconds(
    obj: &Map<String, Value>,
    field: &str,
    ctx: &mut Ctx,
) -> Option<Seconds> {
    let path_field = format!("{field}Path");
    match (obj.get(field), obj.get(&path_field)) {
        (Some(_), Some(_)) => {
            ctx.issue(
                field,
                format!("{field} and {path_field} cannot both be set"),
            );
            None
        }
        (Some(v), None) => match v.as_u64() {
            Some(n) if n > 0 => Some(Seconds::Fixed(n)),
            _ => {
                ctx.issue(field, "must be a positive integer");
                None
            }
        },
        (None, Some(_)) => parse_path(obj, &path_field, ctx).map(Seconds::Path),
        (None, None) => None,
    }
}

pub(super) fn parse_text_source(
    obj: &Map<String, Value>,
    field: &str,
    ctx: &mut Ctx,
) -> Option<TextSource> {
    let path_field = format!("{field}Path");
    match (obj.get(field), obj.get(&path_field)) {
        (Some(_), Some(_)) => {
            ctx.issue(
                field,
                format!("{field} and {path_field} cannot both be set"),
            );
            None
        }
        (Some(Value::String(s)), None) => Some(TextSource::Literal(s.clone())),
        (Some(_), None) => {
            ctx.issue(field, "must be a string");
            None
        }
        (None, Some(Value::String(text))) if looks_like_intrinsic(text) => {
            match Intrinsic::parse(text) {
                Ok(i) => Some(TextSource::Intrinsic(i)),
                Err(e) => {
                    ctx.issue(&path_field, e.to_string());
                    None
                }
            }
        }
        (None, Some(_)) => parse_path(obj, &path_field, ctx).map(TextSource::Path),
        (None, None) => None,
    }
}
