//! The Executions pages' server functions. Each checks its role first, then talks to the
//! pipeline through the control-plane port only.

use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::executions::{ExecutionFilter, ExecutionTable, ExecutionView};
use crate::models::pipeline::ExecutionSummary;

/// A filtered, sorted page of the pipeline's executions (viewer).
#[server(endpoint = "list_executions", input = leptos::server_fn::codec::Json)]
pub async fn list_executions(filter: ExecutionFilter) -> Result<ExecutionTable, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let pipeline = crate::state::server_context()?.pipeline;
    server::table(
        pipeline.as_ref(),
        &filter,
        crate::models::pipeline::Timestamp::now(),
    )
    .await
    .map_err(crate::functions::access::answer)
}

/// One execution with its graph, timeline and what it created (viewer). `id` is the
/// execution's name or ARN.
#[server(endpoint = "get_execution")]
pub async fn get_execution(id: String) -> Result<ExecutionView, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let pipeline = crate::state::server_context()?.pipeline;
    server::view(
        pipeline.as_ref(),
        &id,
        crate::models::pipeline::Timestamp::now(),
    )
    .await
    .map_err(crate::functions::access::answer)
}

/// Starts a run of the pipeline (operator), as CodePipeline would.
#[server(endpoint = "start_execution")]
pub async fn start_execution(
    name: String,
    commit_id: String,
    image_uri: String,
) -> Result<ExecutionSummary, AppError> {
    use crate::functions::audit_trail::{record, require_audited};
    let target = crate::models::pipeline::shorten(name.trim(), 80);
    let operator = require_audited(
        crate::models::identity::Role::Operator,
        "execution.start",
        &target,
    )
    .await?;
    let pipeline = crate::state::server_context()?.pipeline;
    let request = crate::models::pipeline::StartRequest {
        name: name.trim().to_string(),
        commit_id: commit_id.trim().to_string(),
        image_uri: image_uri.trim().to_string(),
    };
    let started = pipeline.start_execution(&request).await;
    let details = serde_json::json!({
        "commitID": crate::models::pipeline::shorten(&request.commit_id, 80),
        "imageUri": crate::models::pipeline::shorten(&request.image_uri, 200),
        "error": started.as_ref().err().map(|e| e.to_string()),
    });
    record(
        Some(&operator),
        "execution.start",
        &target,
        outcome_of(&started),
        details,
    )
    .await?;
    let started = started
        .map_err(AppError::from)
        .map_err(crate::functions::access::answer)?;
    crate::functions::form_post::answer_form(
        crate::models::navigation::outcome::STARTED,
        &started.name,
    );
    Ok(started)
}

/// Stops a running execution (operator).
#[server(endpoint = "stop_execution")]
pub async fn stop_execution(id: String, reason: String) -> Result<(), AppError> {
    use crate::functions::audit_trail::{record, require_audited};
    let target = crate::models::pipeline::shorten(id.trim(), 120);
    let operator = require_audited(
        crate::models::identity::Role::Operator,
        "execution.stop",
        &target,
    )
    .await?;
    let pipeline = crate::state::server_context()?.pipeline;
    let execution = crate::models::pipeline::ExecutionRef::parse(&id)
        .map_err(|e| crate::functions::access::answer(AppError::InvalidInput(e.0)))?;
    let reason = reason.trim();
    if reason.chars().count() > 1000 {
        return Err(crate::functions::access::answer(AppError::InvalidInput(
            "Keep the reason under 1,000 characters.".into(),
        )));
    }
    let cause = if reason.is_empty() {
        format!("Stopped by {} from Gatehouse.", operator.username)
    } else {
        format!("Stopped by {} from Gatehouse: {reason}", operator.username)
    };
    let stopped = pipeline.stop_execution(&execution, &cause).await;
    let details = serde_json::json!({
        "reason": reason,
        "error": stopped.as_ref().err().map(|e| e.to_string()),
    });
    record(
        Some(&operator),
        "execution.stop",
        execution.name(),
        outcome_of(&stopped),
        details,
    )
    .await?;
    stopped
        .map_err(AppError::from)
        .map_err(crate::functions::access::answer)?;
    crate::functions::form_post::answer_form(
        crate::models::navigation::outcome::STOPPED,
        execution.name(),
    );
    Ok(())
}

/// How a pipeline call ended, for its audit record: what the person asked wrongly is a
/// refusal, what the backend failed at is a failure.
#[cfg(feature = "ssr")]
fn outcome_of<T>(
    result: &Result<T, crate::control_plane::PipelineError>,
) -> crate::models::audit::AuditOutcome {
    use crate::control_plane::PipelineError;
    use crate::models::audit::AuditOutcome;
    match result {
        Ok(_) => AuditOutcome::Success,
        Err(
            PipelineError::Invalid(_) | PipelineError::NotFound(_) | PipelineError::Conflict(_),
        ) => AuditOutcome::Refused,
        Err(_) => AuditOutcome::Failure,
    }
}

#[cfg(feature = "ssr")]
mod server {
    use std::cmp::Ordering;

    use crate::control_plane::ControlPlane;
    use crate::errors::AppError;
    use crate::functions::execution_graph;
    use crate::models::executions::{
        CreatedResource, ExecutionFilter, ExecutionTable, ExecutionView, SortKey, PAGE_SIZE,
        PAGE_SIZES,
    };
    use crate::models::pipeline::{
        shorten, ExecutionQuery, ExecutionRef, ExecutionStatus, ExecutionSummary, Timestamp,
    };

    /// How many executions the list reads at most to filter and sort (newest first).
    pub const LIST_LIMIT: usize = 10_000;

    struct Checked {
        status: Option<ExecutionStatus>,
        text: Option<String>,
        from: Option<Timestamp>,
        until: Option<Timestamp>,
        sort: SortKey,
        descending: bool,
        page: usize,
        per_page: usize,
    }

    fn check(filter: &ExecutionFilter) -> Result<Checked, AppError> {
        let present = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let status = match present(&filter.status) {
            None => None,
            Some(s) => Some(ExecutionStatus::parse(&s).ok_or_else(|| {
                AppError::InvalidInput(format!(
                    "'{}' is not a status; use one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED.",
                    shorten(&s, 40)
                ))
            })?),
        };
        let date = |v: &Option<String>, what: &str| -> Result<Option<Timestamp>, AppError> {
            match present(v) {
                None => Ok(None),
                Some(text) => Timestamp::from_date(&text).map(Some).ok_or_else(|| {
                    AppError::InvalidInput(format!(
                        "The {what} date '{}' is not a date like 2026-11-25.",
                        shorten(&text, 40)
                    ))
                }),
            }
        };
        let from = date(&filter.from, "from")?;
        // "to" a day means up to the end of that day.
        let until = date(&filter.to, "to")?.map(|t| Timestamp(t.0 + 86_400_000 - 1));
        if let (Some(f), Some(u)) = (from, until) {
            if f > u {
                return Err(AppError::InvalidInput(
                    "The from date is after the to date.".into(),
                ));
            }
        }
        let sort = match present(&filter.sort) {
            None => SortKey::Started,
            Some(s) => SortKey::parse(&s).ok_or_else(|| {
                AppError::InvalidInput(format!(
                    "Cannot sort by '{}'; use started, name, status or duration.",
                    shorten(&s, 40)
                ))
            })?,
        };
        let descending = match present(&filter.dir).as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                return Err(AppError::InvalidInput(format!(
                    "The sort direction '{}' is neither asc nor desc.",
                    shorten(other, 20)
                )))
            }
        };
        let text = present(&filter.commit).map(|t| t.to_lowercase());
        if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
            return Err(AppError::InvalidInput(
                "The commit filter is too long (200 characters at most).".into(),
            ));
        }
        let page = filter.page.unwrap_or(1);
        if page == 0 {
            return Err(AppError::InvalidInput("Pages are numbered from 1.".into()));
        }
        let per_page = match filter.per {
            None => PAGE_SIZE,
            Some(per) if PAGE_SIZES.contains(&per) => per,
            Some(per) => {
                return Err(AppError::InvalidInput(format!(
                    "{per} rows per page is not offered; choose 25, 50 or 100."
                )))
            }
        };
        Ok(Checked {
            status,
            text,
            from,
            until,
            sort,
            descending,
            page,
            per_page,
        })
    }

    fn duration(row: &ExecutionSummary, now: Timestamp) -> i64 {
        row.stopped.unwrap_or(now).0 - row.started.0
    }

    /// The list as it opens (newest first, no text or date filter) from a backend that can
    /// count: the count and only the rows up to the page asked for, instead of every
    /// execution read, sorted and cut to one page. Executions are listed in the order they
    /// started, which is the order of their start times; two started within the same
    /// millisecond come newest first here and by name in the full sort. `None` when the
    /// filter or the backend needs the full read.
    async fn newest_first_page(
        pipeline: &dyn ControlPlane,
        checked: &Checked,
        now: Timestamp,
    ) -> Result<Option<ExecutionTable>, AppError> {
        let plain = checked.text.is_none()
            && checked.from.is_none()
            && checked.until.is_none()
            && checked.sort == SortKey::Started
            && checked.descending;
        if !plain {
            return Ok(None);
        }
        let Some(total) = pipeline.count_executions(checked.status).await? else {
            return Ok(None);
        };
        let matching = total.min(LIST_LIMIT);
        let per_page = checked.per_page;
        let pages = matching.div_ceil(per_page).max(1);
        let page = checked.page.min(pages);
        let through = (page * per_page).min(matching);
        let mut rows: Vec<ExecutionSummary> = Vec::with_capacity(through);
        let mut next_token = None;
        while rows.len() < through {
            let listed = pipeline
                .list_executions(&ExecutionQuery {
                    status: checked.status,
                    max_results: (through - rows.len()).min(1000),
                    next_token,
                })
                .await?;
            rows.extend(listed.executions);
            next_token = listed.next_token;
            if next_token.is_none() {
                break;
            }
        }
        Ok(Some(
            page_of(pipeline, checked, rows, matching, total > LIST_LIMIT, now).await,
        ))
    }

    /// The page `checked` asks for out of `rows` (every matching row in order, or at least
    /// those up to that page), with the state each running row is in.
    async fn page_of(
        pipeline: &dyn ControlPlane,
        checked: &Checked,
        rows: Vec<ExecutionSummary>,
        matching: usize,
        truncated: bool,
        now: Timestamp,
    ) -> ExecutionTable {
        let per_page = checked.per_page;
        let pages = matching.div_ceil(per_page).max(1);
        let page = checked.page.min(pages);
        let mut rows: Vec<ExecutionSummary> = rows
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        fill_current_states(pipeline, &mut rows).await;
        ExecutionTable {
            rows,
            matching,
            page,
            pages,
            per_page,
            sort: checked.sort,
            descending: checked.descending,
            now,
            truncated,
        }
    }

    /// The state each running row of a page is in, where its summary does not say.
    async fn fill_current_states(pipeline: &dyn ControlPlane, rows: &mut [ExecutionSummary]) {
        let states = pipeline.current_states(rows).await;
        for (row, state) in rows.iter_mut().zip(states) {
            if row.current_state.is_none() {
                row.current_state = state;
            }
        }
    }

    pub async fn table(
        pipeline: &dyn ControlPlane,
        filter: &ExecutionFilter,
        now: Timestamp,
    ) -> Result<ExecutionTable, AppError> {
        let checked = check(filter)?;
        if let Some(table) = newest_first_page(pipeline, &checked, now).await? {
            return Ok(table);
        }
        // Newest first: with a `from` date, reading can stop at the first older execution.
        let mut rows: Vec<ExecutionSummary> = Vec::new();
        let mut next_token = None;
        let mut truncated = false;
        loop {
            let page = pipeline
                .list_executions(&ExecutionQuery {
                    status: checked.status,
                    max_results: 1000,
                    next_token,
                })
                .await?;
            let reached_from = checked
                .from
                .is_some_and(|from| page.executions.last().is_some_and(|e| e.started < from));
            rows.extend(page.executions);
            next_token = page.next_token;
            if rows.len() >= LIST_LIMIT {
                truncated = next_token.is_some() || rows.len() > LIST_LIMIT;
                rows.truncate(LIST_LIMIT);
                break;
            }
            if next_token.is_none() || reached_from {
                break;
            }
        }
        rows.retain(|row| {
            checked.from.is_none_or(|f| row.started >= f)
                && checked.until.is_none_or(|u| row.started <= u)
                && checked.text.as_ref().is_none_or(|t| {
                    row.name.to_lowercase().contains(t)
                        || row
                            .commit
                            .as_ref()
                            .is_some_and(|c| c.id.to_lowercase().contains(t))
                })
        });
        let by_started = |a: &ExecutionSummary, b: &ExecutionSummary| a.started.cmp(&b.started);
        let order = |a: &ExecutionSummary, b: &ExecutionSummary| -> Ordering {
            let primary = match checked.sort {
                SortKey::Started => Ordering::Equal,
                SortKey::Name => a.name.cmp(&b.name),
                SortKey::Status => a.status.as_str().cmp(b.status.as_str()),
                SortKey::Duration => duration(a, now).cmp(&duration(b, now)),
            };
            primary
                .then_with(|| by_started(a, b))
                .then_with(|| a.name.cmp(&b.name))
        };
        rows.sort_by(|a, b| {
            if checked.descending {
                order(b, a)
            } else {
                order(a, b)
            }
        });
        let matching = rows.len();
        Ok(page_of(pipeline, &checked, rows, matching, truncated, now).await)
    }

    fn pretty(json: Option<&str>) -> Option<String> {
        let text = json?;
        Some(
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| text.to_string()),
        )
    }

    pub async fn view(
        pipeline: &dyn ControlPlane,
        id: &str,
        now: Timestamp,
    ) -> Result<ExecutionView, AppError> {
        let execution = ExecutionRef::parse(id).map_err(|e| AppError::InvalidInput(e.0))?;
        let (detail, events, definition) = tokio::join!(
            pipeline.describe_execution(&execution),
            pipeline.execution_history(&execution),
            pipeline.definition(),
        );
        let detail = detail?;
        let events = events?;
        let visits = execution_graph::visits(&events, detail.summary.status);
        let (graph, graph_problem) = match definition
            .map_err(|e| e.to_string())
            .and_then(|text| {
                serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
            })
            .and_then(|value| execution_graph::layout(&value, &visits))
        {
            Ok(graph) => (Some(graph), None),
            Err(problem) => {
                tracing::warn!(%problem, "cannot draw the state graph");
                (
                    None,
                    Some(format!("The state graph cannot be drawn: {problem}")),
                )
            }
        };
        Ok(ExecutionView {
            input_pretty: pretty(detail.input.as_deref()),
            output_pretty: pretty(detail.output.as_deref()),
            resources: CreatedResource::from_history(&events),
            detail,
            graph,
            graph_problem,
            visits,
            events,
            now,
        })
    }
}

/// What the pages' server functions do after their role check, for benchmarks that measure
/// the same work without HTTP.
#[cfg(feature = "ssr")]
pub use server::{table as execution_table, view as execution_view_of, LIST_LIMIT};
