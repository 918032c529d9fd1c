//! `/executions`: the pipeline's runs, filtered, sorted and paged on the server, readable
//! without JavaScript. Operators also get the start form. The list follows the pipeline live.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::error_banner::ErrorBanner;
use crate::components::form_outcome::{form_error, form_outcome};
use crate::components::role_gate::RoleGate;
use crate::components::session::use_session_user;
use crate::components::status::StatusBadge;
use crate::errors::AppError;
use crate::functions::executions::{list_executions, StartExecution};
use crate::models::executions::{ExecutionFilter, ExecutionTable, SortKey, PAGE_SIZE, PAGE_SIZES};
use crate::models::identity::Role;
use crate::models::live;
use crate::models::navigation::{encode_query_value as encode, outcome};
use crate::models::pipeline::{human_duration, ExecutionStatus};

#[component]
pub fn ExecutionsPage() -> impl IntoView {
    // Data is loaded here, outside the role gate: the gate's <Suspense> walks its children
    // up to three times on the server, and a resource created inside would fetch each time.
    let filter = filter_from_query();
    let table = Resource::new_blocking(move || filter.get(), list_executions);
    view! {
        <Title text="Executions"/>
        <RoleGate role=Role::Viewer>
            <Executions filter table/>
        </RoleGate>
    }
}

fn filter_from_query() -> Memo<ExecutionFilter> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| ExecutionFilter {
            status: q.get("status"),
            commit: q.get("commit"),
            from: q.get("from"),
            to: q.get("to"),
            sort: q.get("sort"),
            dir: q.get("dir"),
            page: q.get("page").and_then(|p| p.parse().ok()),
            per: q.get("per").and_then(|p| p.parse().ok()),
        })
    })
}

/// The list's URL with `filter`, for sort and page links.
fn href(filter: &ExecutionFilter) -> String {
    let mut parts = Vec::new();
    let mut add = |key: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            parts.push(format!("{key}={}", encode(&v)));
        }
    };
    add("status", filter.status.clone());
    add("commit", filter.commit.clone());
    add("from", filter.from.clone());
    add("to", filter.to.clone());
    add("sort", filter.sort.clone());
    add("dir", filter.dir.clone());
    add(
        "page",
        filter.page.filter(|p| *p > 1).map(|p| p.to_string()),
    );
    add(
        "per",
        filter
            .per
            .filter(|p| *p != PAGE_SIZE)
            .map(|p| p.to_string()),
    );
    if parts.is_empty() {
        "/executions".into()
    } else {
        format!("/executions?{}", parts.join("&"))
    }
}

#[component]
fn Executions(
    filter: Memo<ExecutionFilter>,
    table: Resource<Result<ExecutionTable, AppError>>,
) -> impl IntoView {
    let session = use_session_user();
    view! {
        <section class="executions" data-live=live::RUNS>
            <h1>"Executions"</h1>
            <FilterForm filter/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let operator = matches!(session.0.await, Ok(Some(ref who)) if who.has(Role::Operator));
                    let form = operator.then(|| view! { <StartForm/> });
                    let body = match table.await {
                        Ok(table) => view! { <Table table filter=filter.get_untracked()/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    };
                    view! { {form} {body} }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn FilterForm(filter: Memo<ExecutionFilter>) -> impl IntoView {
    let current = filter.get_untracked();
    let status = current.status.clone().unwrap_or_default();
    view! {
        <form class="filters" method="get" action="/executions" data-testid="filters">
            <label>
                "Status "
                <select name="status">
                    <option value="" selected=status.is_empty()>"Any"</option>
                    {ExecutionStatus::ALL
                        .into_iter()
                        .map(|s| {
                            let selected = status.eq_ignore_ascii_case(s.as_str());
                            view! { <option value=s.as_str() selected=selected>{s.label()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Commit "
                <input type="search" name="commit" placeholder="SHA or name" value=current.commit.clone().unwrap_or_default()/>
            </label>
            <label>"From " <input type="date" name="from" value=current.from.clone().unwrap_or_default()/></label>
            <label>"To " <input type="date" name="to" value=current.to.clone().unwrap_or_default()/></label>
            <label>
                "Rows "
                <select name="per">
                    {PAGE_SIZES
                        .into_iter()
                        .map(|n| {
                            let selected = current.per.unwrap_or(PAGE_SIZE) == n;
                            view! { <option value=n.to_string() selected=selected>{n}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
            <a href="/executions">"Clear"</a>
        </form>
    }
}

#[component]
fn Table(table: ExecutionTable, filter: ExecutionFilter) -> impl IntoView {
    let header = |key: SortKey, label: &'static str| {
        let active = table.sort == key;
        let mut next = filter.clone();
        next.sort = Some(key.as_str().into());
        next.dir = Some(
            if active && table.descending {
                "asc"
            } else {
                "desc"
            }
            .into(),
        );
        next.page = None;
        let arrow = match (active, table.descending) {
            (false, _) => "",
            (true, true) => " ▼",
            (true, false) => " ▲",
        };
        let sort = match (active, table.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        view! { <th aria-sort=sort><a href=href(&next)>{label}{arrow}</a></th> }
    };
    let page_link = |page: usize, label: &'static str| {
        let mut next = filter.clone();
        next.page = Some(page);
        view! { <a href=href(&next)>{label}</a> }
    };
    let now = table.now;
    let summary = format!(
        "{} execution{}{}",
        table.matching,
        if table.matching == 1 { "" } else { "s" },
        if table.truncated {
            " (the newest 10,000 read)"
        } else {
            ""
        }
    );
    let rows = table
        .rows
        .into_iter()
        .map(|row| {
            let link = format!("/executions/{}", encode(&row.name));
            let (sha, built) = match &row.commit {
                Some(c) => (
                    c.short_sha.clone(),
                    c.built_at.map(|t| t.utc()).unwrap_or_default(),
                ),
                None => ("—".to_string(), String::new()),
            };
            let duration = human_duration(row.stopped.unwrap_or(now).0 - row.started.0);
            view! {
                <tr data-testid="execution-row">
                    <td><a href=link>{row.name}</a></td>
                    <td><code>{sha}</code> <small class="muted">{built}</small></td>
                    <td><StatusBadge status=row.status/></td>
                    <td><time datetime=row.started.rfc3339()>{row.started.utc()}</time></td>
                    <td>{duration}</td>
                    <td>{row.current_state.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted" data-testid="execution-count">{summary}</p>
        <table class="data-table" data-testid="executions-table">
            <thead>
                <tr>
                    {header(SortKey::Name, "Name")}
                    <th>"Commit"</th>
                    {header(SortKey::Status, "Status")}
                    {header(SortKey::Started, "Started (UTC)")}
                    {header(SortKey::Duration, "Duration")}
                    <th>"Current state"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {(table.page > 1).then(|| page_link(table.page - 1, "← Newer"))}
            <span>{format!("Page {} of {}", table.page, table.pages)}</span>
            {(table.page < table.pages).then(|| page_link(table.page + 1, "Older →"))}
        </nav>
    }
}

/// Operators: start a run as CodePipeline would. A plain form: the server sends the browser
/// back here with the started run, or with the reason it did not start.
#[component]
fn StartForm() -> impl IntoView {
    let started = form_outcome(outcome::STARTED);
    let error = form_error(StartExecution::PATH);
    let answer = match (started, error.clone()) {
        (_, Some(error)) => view! { <ErrorBanner error/> }.into_any(),
        (Some(name), None) => view! {
            <p class="notice" role="status" data-testid="start-result">
                "Started " <a href=format!("/executions/{}", encode(&name))>{name.clone()}</a>
            </p>
        }
        .into_any(),
        (None, None) => ().into_any(),
    };
    view! {
        {answer}
        // Open again after a failure, so the reason sits beside the fields to correct.
        <details class="start-form" open=error.is_some()>
            <summary>"Start a run"</summary>
            <form method="post" action=StartExecution::PATH data-testid="start-form">
                <label>"Commit ID " <input name="commit_id" required placeholder="1a2b3c4d-2026-11-25-10-00-00"/></label>
                <label>"Image URI " <input name="image_uri" required placeholder="123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris-model:1a2b3c4d"/></label>
                <label>"Execution name " <input name="name" required placeholder="usually the commit ID"/></label>
                <button type="submit">"Start"</button>
            </form>
        </details>
    }
}
