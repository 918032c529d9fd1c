//! The Map state's fields (inline mode only): its processor, ItemsPath, ItemSelector and
//! the concurrency bound, fixed or read from the input.

use super::{join, parse_machine, parse_path_field, parse_template, Ctx, StateKind};
use crate::asl::jsonpath::JsonPath;
use serde_json::{Map, Value};
use std::sync::Arc;

/// How many iterations may run at once; 0 means no bound.
#[derive(Debug, Clone, PartialEq)]
pub enum MaxConcurrency {
    Fixed(usize),
    /// `MaxConcurrencyPath`: a reference path into the state input or a variable, resolved
    /// per visit.
    Path(JsonPath),
}

pub(super) fn parse(obj: &Map<String, Value>, location: &str, ctx: &mut Ctx) -> Option<StateKind> {
    let (processor_value, field) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
        (Some(p), None) => (p, "ItemProcessor"),
        (None, Some(p)) => (p, "Iterator"),
        _ => {
            ctx.issue(
                "ItemProcessor",
                "a Map state needs exactly one of ItemProcessor or Iterator",
            );
            return None;
        }
    };
    let mode = processor_value
        .get("ProcessorConfig")
        .and_then(|c| c.get("Mode"))
        .and_then(Value::as_str)
        .unwrap_or("INLINE");
    if mode != "INLINE" {
        ctx.issue(
            &format!("{field}.ProcessorConfig.Mode"),
            format!("mode {mode} is not supported: only INLINE Map states run locally"),
        );
    }
    let loc = join(location, field);
    let processor = parse_machine(processor_value, &loc, false, ctx.issues).map(Arc::new);
    if obj.contains_key("ItemSelector") && obj.contains_key("Parameters") {
        ctx.issue(
            "ItemSelector",
            "ItemSelector and Parameters cannot both be set",
        );
    }
    let selector_field = if obj.contains_key("ItemSelector") {
        "ItemSelector"
    } else {
        "Parameters"
    };
    let item_selector = parse_template(obj, selector_field, ctx);
    let max_concurrency = max_concurrency(obj, ctx);
    Some(StateKind::Map {
        processor: processor?,
        items_path: parse_path_field(obj, "ItemsPath", false, ctx),
        item_selector,
        max_concurrency,
    })
}

/// `MaxConcurrency` (a non-negative integer) or `MaxConcurrencyPath` (a reference path on
/// the input or a variable), not both.
fn max_concurrency(obj: &Map<String, Value>, ctx: &mut Ctx) -> MaxConcurrency {
    match (obj.get("MaxConcurrency"), obj.get("MaxConcurrencyPath")) {
        (Some(_), Some(_)) => {
            ctx.issue(
                "MaxConcurrencyPath",
                "a Map state cannot include both MaxConcurrency and MaxConcurrencyPath",
            );
            MaxConcurrency::Fixed(0)
        }
        (Some(v), None) => {
            MaxConcurrency::Fixed(v.as_u64().map(|n| n as usize).unwrap_or_else(|| {
                ctx.issue("MaxConcurrency", "must be a non-negative integer");
                0
            }))
        }
        (None, Some(v)) => match v.as_str().map(JsonPath::parse) {
            Some(Ok(path)) if path.is_data_reference_path() => MaxConcurrency::Path(path),
            Some(Ok(_)) => {
                ctx.issue(
                    "MaxConcurrencyPath",
                    "must be a reference path (only fields and indexes on $ or on a variable)",
                );
                MaxConcurrency::Fixed(0)
            }
            Some(Err(e)) => {
                ctx.issue("MaxConcurrencyPath", e.to_string());
                MaxConcurrency::Fixed(0)
            }
            None => {
                ctx.issue("MaxConcurrencyPath", "must be a path string");
                MaxConcurrency::Fixed(0)
            }
        },
        (None, None) => MaxConcurrency::Fixed(0),
    }
}
