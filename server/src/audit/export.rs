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

/// The columns of the CSV export, in order: the header row the export starts with.
pub const CSV_COLUMNS: [&str; 12] = [
    "seq",
    "time",
    "actor",
    "roles",
    "action",
    "target",
    "outcome",
    "request_id",
    "source_ip",
    "details",
    "prev_hash",
    "hash",
];

/// A field a spreadsheet would run as a formula gets a leading `'`, so opening an export
/// cannot execute what a user typed into a comment.
fn defused(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text != "-" {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The records as CSV (RFC 4180 through the `csv` crate: a header row, fields quoted when
/// they hold a comma, quote or line break, quotes doubled, every record ended by CRLF).
pub fn to_csv(records: &[AuditRecord]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(records.len() * 256 + 128));
    // Writing into memory cannot fail.
    let _ = writer.write_record(CSV_COLUMNS);
    for r in records {
        let e = &r.entry;
        let _ = writer.write_record([
            r.seq.to_string(),
            r.at.rfc3339(),
            defused(&e.actor),
            defused(&e.roles.join(" ")),
            defused(&e.action),
            defused(&e.target),
            e.outcome.as_str().to_string(),
            defused(&e.request_id),
            defused(&e.source_ip),
            defused(&e.details),
            r.prev_hash.clone(),
            r.hash.clone(),
        ]);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
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

    fn record(actor: &str, details: &str) -> AuditRecord {
        use app::models::audit::{AuditEntry, AuditOutcome};
        AuditRecord {
            seq: 7,
            at: app::models::pipeline::Timestamp(1_764_000_000_000),
            entry: AuditEntry {
                actor: actor.into(),
                roles: vec!["approver".into(), "viewer".into()],
                action: "approval.decide".into(),
                target: "run-1".into(),
                outcome: AuditOutcome::Success,
                request_id: "-".into(),
                source_ip: "127.0.0.1".into(),
                details: details.into(),
            },
            prev_hash: "00".into(),
            hash: "ab".into(),
        }
    }

    /// The expected text is written by hand from RFC 4180 section 2: a header row (rule 3),
    /// CRLF after every record (rules 1 and 2), a field with a comma, quote or line break in
    /// quotes (rule 6), a quote inside doubled (rule 7).
    #[test]
    fn the_export_is_rfc_4180_with_a_header_and_formulas_defused() {
        let csv = to_csv(&[record(
            "ana",
            "{\"comment\":\"ok, \\\"fine\\\"\"}\nnext line",
        )]);
        assert_eq!(
            csv,
            "seq,time,actor,roles,action,target,outcome,request_id,source_ip,details,prev_hash,hash\r\n\
             7,2025-11-24T16:00:00.000Z,ana,approver viewer,approval.decide,run-1,success,-,127.0.0.1,\
             \"{\"\"comment\"\":\"\"ok, \\\"\"fine\\\"\"\"\"}\nnext line\",00,ab\r\n"
        );
        let formula = to_csv(&[record("=HYPERLINK(\"x\")", "+1")]);
        let row = formula.split("\r\n").nth(1).expect("a row");
        assert!(
            row.starts_with("7,2025-11-24T16:00:00.000Z,\"'=HYPERLINK(\"\"x\"\")\",approver"),
            "{row}"
        );
        assert!(row.contains(",'+1,00,ab"), "{row}");
        assert_eq!(defused("-"), "-");
        assert_eq!(to_csv(&[]), format!("{}\r\n", CSV_COLUMNS.join(",")));
    }
}
