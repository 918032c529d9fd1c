//! The Map state's fields (inline mode only): its processor, ItemsPath, ItemSelector and
//! the concurrency bound, fixed or read from the input.

use super::{
    join, jsonata_fields, parse_machine, parse_path_field, parse_template, Ctx, Languages,
    PathField, StateKind,
};
use crate::asl::jsonpath::JsonPath;
use crate::asl::query::{Expr, QueryLanguage};
use serde_json::{Map, Value};
use std::sync::Arc;

/// How many iterations may run at once; 0 means no bound.
#[derive(Debug, Clone, PartialEq)]
pub enum MaxConcurrency {
    Fixed(usize),
    /// `MaxConcurrencyPath`: a reference path into the state input or a variable, resolved
    /// per visit.
    Path(JsonPath),
    /// A JSONata state's `MaxConcurrency` expression, evaluated per visit.
    Expr(Expr),
}

pub(super) fn parse(
    obj: &Map<String, Value>,
    location: &str,
    languages: Languages,
    language: QueryLanguage,
    ctx: &mut Ctx,
) -> Option<StateKind> {
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
    let processor = parse_machine(processor_value, &loc, Some(languages), ctx.issues).map(Arc::new);
    if language == QueryLanguage::Jsonata {
        let max_concurrency = match obj.get("MaxConcurrency") {
            None => MaxConcurrency::Fixed(0),
            Some(v) => match Expr::from_value(v) {
                Some(Ok(expr)) => MaxConcurrency::Expr(expr),
                Some(Err(e)) => {
                    ctx.issue("MaxConcurrency", e);
                    MaxConcurrency::Fixed(0)
                }
                None => fixed_concurrency(v, ctx),
            },
        };
        return Some(StateKind::Map {
            processor: processor?,
            items_path: PathField::Default,
            item_selector: None,
            max_concurrency,
            items: jsonata_fields::parse_payload(obj, "Items", ctx),
            jsonata_selector: jsonata_fields::parse_payload(obj, "ItemSelector", ctx),
        });
    }
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
        items: None,
        jsonata_selector: None,
    })
}

fn fixed_concurrency(v: &Value, ctx: &mut Ctx) -> MaxConcurrency {
    MaxConcurrency::Fixed(v.as_u64().map(|n| n as usize).unwrap_or_else(|| {
        ctx.issue("MaxConcurrency", "must be a non-negative integer");
        0
    }))
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
        (Some(v), None) => fixed_concurrency(v, ctx),
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
