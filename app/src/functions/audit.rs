//! The audit page's server function: a filtered page of the log, newest first (admin).

use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::audit::{AuditFilter, AuditPage};

#[server(endpoint = "list_audit", input = leptos::server_fn::codec::Json)]
pub async fn list_audit(filter: AuditFilter) -> Result<AuditPage, AppError> {
    use crate::models::audit::AUDIT_PAGE_SIZE;
    crate::functions::access::require(crate::models::identity::Role::Admin)?;
    let audit = crate::state::server_context()?.audit;
    let query = filter
        .check(AUDIT_PAGE_SIZE + 1)
        .map_err(|e| crate::functions::access::answer(AppError::InvalidInput(e.0)))?;
    let mut records = audit
        .search(&query)
        .await
        .map_err(|e| crate::functions::access::answer(AppError::from(e)))?;
    // One more than a page was asked for: its presence says there is a next page.
    let more = records.len() > AUDIT_PAGE_SIZE;
    records.truncate(AUDIT_PAGE_SIZE);
    let next_before = if more {
        records.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(AuditPage {
        records,
        next_before,
        query: filter.query_string(),
    })
}
