//! `/lineage`: commits newest first — when each was built, its runs and how they ended, the
//! accuracy of its batch transform, the decision and who made it, and where it serves now.
//! A GET form searches by the beginning of a commit ID, so it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::error_banner::ErrorBanner;
use crate::components::role_gate::RoleGate;
use crate::components::status::StatusBadge;
use crate::errors::AppError;
use crate::functions::lineage::list_lineage;
use crate::models::approvals::verdict_word;
use crate::models::evidence::percent;
use crate::models::identity::Role;
use crate::models::lineage::{LineageList, LineageRow, LINEAGE_PAGE};
use crate::models::live;

#[component]
pub fn LineagePage() -> impl IntoView {
    // Loaded outside the role gate (see the executions page).
    let query = use_query_map();
    let prefix = Memo::new(move |_| query.with(|q| q.get("commit")));
    let list = Resource::new_blocking(move || prefix.get(), list_lineage);
    view! {
        <Title text="Lineage"/>
        <RoleGate role=Role::Viewer>
            <Lineage prefix list/>
        </RoleGate>
    }
}

#[component]
fn Lineage(
    prefix: Memo<Option<String>>,
    list: Resource<Result<LineageList, AppError>>,
) -> impl IntoView {
    view! {
        <section class="lineage" data-live=live::RUNS>
            <h1>"Lineage"</h1>
            <p class="hint">
                "Every commit the pipeline built, newest first: its runs, how well its model did on \
                 the test data, who decided, and where it serves. Open a commit for the whole chain."
            </p>
            <form method="get" action="/lineage" class="filters" role="search">
                <label>
                    "Commit begins with "
                    <input name="commit" value=move || prefix.get().unwrap_or_default()
                        placeholder="3f2a9c1e" maxlength="64" autocomplete="off"
                        data-testid="commit-search"/>
                </label>
                <button type="submit">"Search"</button>
                {move || prefix.get().filter(|p| !p.trim().is_empty()).map(|_| view! { <a href="/lineage">"Show all"</a> })}
            </form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) if list.rows.is_empty() => view! {
                            <p data-testid="no-commits">
                                {if list.prefix.is_some() {
                                    "No commit begins so."
                                } else {
                                    "No commits yet: one appears when a run of the pipeline starts."
                                }}
                            </p>
                        }
                        .into_any(),
                        Ok(list) => view! { <Table list/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Table(list: LineageList) -> impl IntoView {
    let more = (list.more > 0).then(|| {
        view! {
            <p class="hint" data-testid="more-commits">
                {format!(
                    "The newest {LINEAGE_PAGE} are shown; {} more match. Search by a longer prefix.",
                    list.more
                )}
            </p>
        }
    });
    view! {
        <table class="data-table" data-testid="lineage-table">
            <thead>
                <tr>
                    <th scope="col">"Commit"</th>
                    <th scope="col">"Built"</th>
                    <th scope="col">"Runs"</th>
                    <th scope="col">"Accuracy"</th>
                    <th scope="col">"Decision"</th>
                    <th scope="col">"Serving"</th>
                </tr>
            </thead>
            <tbody>
                {list.rows.into_iter().map(|row| view! { <Row row/> }).collect_view()}
            </tbody>
        </table>
        {more}
    }
}

#[component]
fn Row(row: LineageRow) -> impl IntoView {
    let href = format!("/lineage/{}", row.commit.id);
    let built = row
        .commit
        .built_at
        .map(|t| format!("{} UTC", t.utc()))
        .unwrap_or_else(|| "—".into());
    let decision = match row.decision {
        Some(d) => format!("{} by {}", verdict_word(d.verdict), d.by),
        None => "—".into(),
    };
    let serving = if row.serving.is_empty() {
        view! { <span>"—"</span> }.into_any()
    } else {
        row.serving
            .into_iter()
            .map(|s| {
                let since = s
                    .since
                    .map(|t| format!(" since {} UTC", t.utc()))
                    .unwrap_or_default();
                view! {
                    <span data-testid="serving">
                        <a href=format!("/endpoints/{}", s.endpoint)>{s.endpoint.clone()}</a>
                        {since}
                    </span>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <tr data-testid="lineage-row">
            <td>
                <a href=href data-testid="commit-link"><code>{row.commit.short_sha.clone()}</code></a>
                " " <small><code>{row.commit.id.clone()}</code></small>
            </td>
            <td>{built}</td>
            <td>
                {row.runs.into_iter().map(|run| view! {
                    <a href=format!("/executions/{}", run.name) title=run.name.clone()>
                        <StatusBadge status=run.status/>
                    </a>
                    " "
                }).collect_view()}
            </td>
            <td>{percent(row.accuracy)}</td>
            <td>{decision}</td>
            <td>{serving}</td>
        </tr>
    }
}
