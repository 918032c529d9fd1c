//! `/executions/:id`: one run — the state graph coloured by what happened, the timeline, input
//! and output, the failure, what it created. Operators may stop a running one. The page
//! follows its run live.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::error_banner::ErrorBanner;
use crate::components::form_outcome::{form_error, form_outcome};
use crate::components::role_gate::RoleGate;
use crate::components::session::use_session_user;
use crate::components::status::StatusBadge;
use crate::errors::AppError;
use crate::functions::executions::{get_execution, StopExecution};
use crate::models::executions::{EdgeKind, ExecutionView, StateGraph, StateOutcome};
use crate::models::identity::Role;
use crate::models::live;
use crate::models::navigation::outcome;
use crate::models::pipeline::{human_duration, ExecutionStatus, HistoryEvent, Timestamp};

#[component]
pub fn ExecutionPage() -> impl IntoView {
    // Data is loaded here, outside the role gate: the gate's <Suspense> walks its children
    // up to three times on the server, and a resource created inside would fetch each time.
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let execution = Resource::new_blocking(move || id.get(), get_execution);
    view! {
        <Title text="Execution"/>
        <RoleGate role=Role::Viewer>
            <Execution execution/>
        </RoleGate>
    }
}

#[component]
fn Execution(execution: Resource<Result<ExecutionView, AppError>>) -> impl IntoView {
    let session = use_session_user();
    view! {
        <section class="execution">
            <p><a href="/executions">"← Executions"</a></p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let operator = matches!(session.0.await, Ok(Some(ref who)) if who.has(Role::Operator));
                    match execution.await {
                        Ok(data) => view! { <Detail data operator/> }.into_any(),
                        Err(error) => view! {
                            <h1>"Execution"</h1>
                            <ErrorBanner error/>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Detail(data: ExecutionView, operator: bool) -> impl IntoView {
    let summary = data.detail.summary.clone();
    let running = summary.status == ExecutionStatus::Running;
    let ended = summary.stopped.unwrap_or(data.now);
    let facts = view! {
        <dl class="facts">
            <dt>"Status"</dt><dd><StatusBadge status=summary.status/></dd>
            <dt>"Commit"</dt>
            <dd>
                {summary.commit.as_ref().map(|c| c.id.clone()).unwrap_or_else(|| "—".into())}
                {summary.commit.as_ref().and_then(|c| c.built_at).map(|t| format!(" (built {} UTC)", t.utc()))}
            </dd>
            <dt>"Started"</dt><dd>{summary.started.utc()} " UTC"</dd>
            <dt>"Duration"</dt><dd>{human_duration(ended.0 - summary.started.0)} {running.then_some(" so far")}</dd>
            <dt>"Current state"</dt><dd data-testid="current-state">{summary.current_state.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"ARN"</dt><dd><code>{summary.arn.clone()}</code></dd>
        </dl>
    };
    let failure = (data.detail.error.is_some() || data.detail.cause.is_some()).then(|| {
        view! {
            <div class="error-banner" role="alert" data-testid="failure">
                <p><strong>{data.detail.error.clone().unwrap_or_else(|| "Error".into())}</strong></p>
                <pre class="wrap">{data.detail.cause.clone().unwrap_or_default()}</pre>
            </div>
        }
    });
    let graph = match (data.graph, data.graph_problem) {
        (Some(graph), _) => view! { <Graph graph/> }.into_any(),
        (None, problem) => view! { <p class="notice">{problem.unwrap_or_default()}</p> }.into_any(),
    };
    let resources = (!data.resources.is_empty()).then(|| {
        view! {
            <h2>"What it created"</h2>
            <ul class="resources" data-testid="resources">
                {data.resources.into_iter().map(|r| {
                    let name = match r.href {
                        Some(href) => view! { <a href=href>{r.name}</a> }.into_any(),
                        None => view! { <code>{r.name}</code> }.into_any(),
                    };
                    view! { <li>{r.kind} ": " {name}</li> }
                }).collect_view()}
            </ul>
        }
    });
    let stop_form = (operator && running).then(|| view! { <StopForm id=summary.name.clone()/> });
    let stop_answer = match (form_outcome(outcome::STOPPED), form_error(StopExecution::PATH)) {
        (_, Some(error)) => Some(view! { <ErrorBanner error/> }.into_any()),
        (Some(_), None) => Some(
            view! { <p class="notice" role="status" data-testid="stop-result">"Asked the pipeline to stop this run."</p> }
                .into_any(),
        ),
        (None, None) => None,
    };
    let visits = data
        .visits
        .into_iter()
        .map(|v| {
            let took = v
                .exited
                .map(|x| human_duration(x.0 - v.entered.0))
                .unwrap_or_else(|| "…".into());
            view! {
                <tr class=format!("visit-{}", v.outcome.css_class())>
                    <td>{v.state}</td>
                    <td>{v.outcome.label()}</td>
                    <td>{human_duration(v.entered.0 - summary.started.0)}</td>
                    <td>{took}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>{summary.name.clone()}</h1>
        <div data-live=live::run(&summary.name)>
        {facts}
        {failure}
        {stop_answer}
        {stop_form}
        <h2>"State graph"</h2>
        {graph}
        {resources}
        <h2>"Timeline"</h2>
        <table class="data-table" data-testid="visits">
            <thead><tr><th>"State"</th><th>"Outcome"</th><th>"Entered at"</th><th>"Took"</th></tr></thead>
            <tbody>{visits}</tbody>
        </table>
        <details>
            <summary>{format!("All {} history events", data.events.len())}</summary>
            <Events events=data.events started=summary.started/>
        </details>
        <h2>"Input"</h2>
        <pre class="json" data-testid="input">{data.input_pretty.unwrap_or_else(|| "—".into())}</pre>
        <h2>"Output"</h2>
        <pre class="json" data-testid="output">{data.output_pretty.unwrap_or_else(|| "—".into())}</pre>
        </div>
    }
}

#[component]
fn Events(events: Vec<HistoryEvent>, started: Timestamp) -> impl IntoView {
    view! {
        <table class="data-table events" data-testid="events">
            <thead><tr><th>"#"</th><th>"Event"</th><th>"State"</th><th>"At"</th><th>"Details"</th></tr></thead>
            <tbody>
                {events.into_iter().map(|e| view! {
                    <tr>
                        <td>{e.id}</td>
                        <td>{e.kind}</td>
                        <td>{e.state.unwrap_or_default()}</td>
                        <td>"+" {human_duration(e.at.0 - started.0)}</td>
                        <td>{e.details.map(|d| view! { <details><summary>"JSON"</summary><pre class="json">{d}</pre></details> })}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn Graph(graph: StateGraph) -> impl IntoView {
    let view_box = format!("0 0 {} {}", graph.width, graph.height);
    let edges = graph.edges.into_iter().map(|e| {
        let class = format!(
            "edge edge-{}{}",
            match e.kind {
                EdgeKind::Next => "next",
                EdgeKind::Choice => "choice",
                EdgeKind::Catch => "catch",
            },
            if e.taken { " taken" } else { "" }
        );
        let title = match &e.label {
            Some(label) => format!("{} → {} on {label}", e.from, e.to),
            None => format!("{} → {}", e.from, e.to),
        };
        view! { <path class=class d=e.path marker-end="url(#arrow)"><title>{title}</title></path> }
    }).collect_view();
    let nodes = graph
        .nodes
        .into_iter()
        .map(|n| {
            let class = format!("node node-{}", n.outcome.css_class());
            let label = format!("{}: {}", n.name, n.outcome.label());
            let (tx, ty) = (n.x + n.width / 2, n.y + n.height / 2 + 5);
            let state = n.name.clone();
            view! {
                <g class=class data-state=state data-outcome=n.outcome.css_class()>
                    <title>{label}</title>
                    <rect x=n.x y=n.y width=n.width height=n.height rx="8"/>
                    <text x=tx y=ty text-anchor="middle">{n.name}</text>
                </g>
            }
        })
        .collect_view();
    let legend = [
        StateOutcome::Succeeded,
        StateOutcome::Current,
        StateOutcome::Caught,
        StateOutcome::Failed,
        StateOutcome::NotReached,
    ]
    .into_iter()
    .map(|o| view! { <li class=format!("legend-{}", o.css_class())>{o.label()}</li> })
    .collect_view();
    view! {
        <figure class="state-graph">
            <svg viewBox=view_box width=graph.width role="img" aria-label="State graph of this execution" data-testid="state-graph">
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M0 0 L10 5 L0 10 z"/>
                    </marker>
                </defs>
                {edges}
                {nodes}
            </svg>
            <figcaption><ul class="legend">{legend}</ul><span class="muted">"Dashed: where errors go (Catch)."</span></figcaption>
        </figure>
    }
}

/// Stopping needs two steps: open the form, then confirm with an optional reason.
#[component]
fn StopForm(id: String) -> impl IntoView {
    view! {
        <details class="danger-zone">
            <summary>"Stop this run…"</summary>
            <form method="post" action=StopExecution::PATH data-testid="stop-form">
                <input type="hidden" name="id" value=id/>
                <label>"Reason (optional) " <input name="reason" maxlength="1000"/></label>
                <button type="submit" class="danger">"Yes, stop this execution"</button>
            </form>
        </details>
    }
}
