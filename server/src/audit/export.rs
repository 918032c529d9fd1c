//! `GET /audit/export.csv` and `/audit/export.json`: the records a filter selects, newest
//! first, as a file to keep (admin). The filter is the audit page's query string.

use std::sync::Arc;

use app::audit::AuditLog;
use app::models::audit::{AuditFilter, AuditRecord, EXPORT_LIMIT};
use app::models::identity::Role;
use app::state::Caller;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::json as json_value;

/// The columns of the CSV export, in order.
pub const CSV_HEADER: &str =
    "seq,time,actor,roles,action,target,outcome,request_id,source_ip,details,prev_hash,hash";

/// One CSV field (RFC 4180 quoting). A field a spreadsheet would run as a formula gets a
/// leading `'`, so opening an export cannot execute what a user typed into a comment.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text != "-" {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub fn to_csv(records: &[AuditRecord]) -> String {
    let mut out = String::with_capacity(records.len() * 256 + CSV_HEADER.len() + 2);
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for r in records {
        let e = &r.entry;
        let row = [
            r.seq.to_string(),
            r.at.rfc3339(),
            field(&e.actor),
            field(&e.roles.join(" ")),
            field(&e.action),
            field(&e.target),
            e.outcome.as_str().to_string(),
            field(&e.request_id),
            field(&e.source_ip),
            field(&e.details),
            r.prev_hash.clone(),
            r.hash.clone(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn to_json(records: &[AuditRecord]) -> serde_json::Value {
    serde_json::Value::Array(
        records
            .iter()
            .map(|r| {
                let e = &r.entry;
                json_value!({
                    "seq": r.seq, "time": r.at.rfc3339(), "actor": e.actor, "roles": e.roles,
                    "action": e.action, "target": e.target, "outcome": e.outcome.as_str(),
                    "request_id": e.request_id, "source_ip": e.source_ip,
                    "details": e.details, "prev_hash": r.prev_hash, "hash": r.hash,
                })
            })
            .collect(),
    )
}

type Filter = Result<Query<AuditFilter>, axum::extract::rejection::QueryRejection>;

/// `GET /audit/export.csv`.
pub async fn csv(
    log: State<Arc<dyn AuditLog>>,
    caller: Option<Extension<Caller>>,
    filter: Filter,
) -> Response {
    export(Format::Csv, log, caller, filter).await
}

/// `GET /audit/export.json`.
pub async fn json(
    log: State<Arc<dyn AuditLog>>,
    caller: Option<Extension<Caller>>,
    filter: Filter,
) -> Response {
    export(Format::Json, log, caller, filter).await
}

#[derive(Debug, Clone, Copy)]
pub enum Format {
    Csv,
    Json,
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json_value!({ "error": message }))).into_response()
}

/// The export handler for one format.
pub async fn export(
    format: Format,
    State(log): State<Arc<dyn AuditLog>>,
    caller: Option<Extension<Caller>>,
    filter: Filter,
) -> Response {
    match caller.as_ref().and_then(|Extension(c)| c.identity()) {
        None => return refuse(StatusCode::UNAUTHORIZED, "You need to sign in to do this."),
        Some(identity) if !identity.has(Role::Admin) => {
            return refuse(
                StatusCode::FORBIDDEN,
                "This needs the admin role, which your account does not have.",
            )
        }
        Some(_) => {}
    }
    let Ok(Query(filter)) = filter else {
        return refuse(StatusCode::BAD_REQUEST, "The filter could not be read.");
    };
    let query = match filter.check(EXPORT_LIMIT) {
        Ok(query) => query,
        Err(error) => return refuse(StatusCode::BAD_REQUEST, &error.0),
    };
    let records = match log.search(&query).await {
        Ok(records) => records,
        Err(error) => {
            tracing::error!(%error, "audit export");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "The audit log is unavailable; try again shortly.",
            );
        }
    };
    match format {
        Format::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"gatehouse-audit.csv\"",
                ),
            ],
            to_csv(&records),
        )
            .into_response(),
        Format::Json => (
            [(
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"gatehouse-audit.json\"",
            )],
            Json(to_json(&records)),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\"\nbye"), "\"say \"\"hi\"\"\nbye\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-"), "-");
    }
}
