//! `/approvals/:id`: the evidence for one decision — this run's predictions against the test
//! data's labels (accuracy, a confusion matrix drawn as a picture, per-class precision and
//! recall), the same figures for the model serving now, the policy — and, for approvers, the
//! decision forms. Plain forms: deciding works without JavaScript too.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::countdown::Countdown;
use crate::components::error_banner::ErrorBanner;
use crate::components::form_outcome::{form_error, form_outcome};
use crate::components::role_gate::RoleGate;
use crate::components::status::StatusBadge;
use crate::errors::AppError;
use crate::functions::approvals::{get_approval, Decide};
use crate::models::approvals::{verdict_word, ApprovalView};
use crate::models::evidence::{percent, ClassTable, Evidence, Figures as Tallied};
use crate::models::identity::Role;
use crate::models::live;
use crate::models::navigation::outcome;

#[component]
pub fn ApprovalPage() -> impl IntoView {
    // Data is loaded here, outside the role gate: the gate's <Suspense> walks its children
    // up to three times on the server, and a resource created inside would fetch each time.
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let view = Resource::new_blocking(move || id.get(), get_approval);
    view! {
        <Title text="Approval"/>
        <RoleGate role=Role::Viewer>
            <Approval view/>
        </RoleGate>
    }
}

#[component]
fn Approval(view: Resource<Result<ApprovalView, AppError>>) -> impl IntoView {
    view! {
        <section class="approval">
            <p><a href="/approvals">"← Approvals"</a></p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(data) => view! { <Detail data/> }.into_any(),
                        Err(error) => view! { <h1>"Approval"</h1><ErrorBanner error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Detail(data: ApprovalView) -> impl IntoView {
    let execution = data.execution.clone();
    let name = execution.name.clone();
    let state = match (&data.pending, &data.decided) {
        (Some(pending), _) => {
            let left = pending
                .deadline
                .map(|deadline| view! { " · " <Countdown deadline now=data.now/> });
            view! {
                <p class="notice" data-testid="approval-state">
                    "Waiting for a decision at " <strong>{pending.state.clone()}</strong>
                    " since " {pending.waiting_since.utc()} " UTC" {left}
                </p>
            }
            .into_any()
        }
        (None, Some(decided)) => view! {
            <p class="notice" data-testid="approval-state">
                {format!("{} by {} at {}", capitalised(verdict_word(decided.verdict)), decided.by, decided.at)}
                {(!decided.comment.is_empty()).then(|| view! { ": " <q>{decided.comment.clone()}</q> })}
            </p>
        }
        .into_any(),
        (None, None) => view! {
            <p class="notice" data-testid="approval-state">"This run is not waiting for a decision."</p>
        }
        .into_any(),
    };
    let policy = format!(
        "Policy: {} approver{} must approve; any rejection rejects.{}",
        data.policy.quorum,
        if data.policy.quorum == 1 { "" } else { "s" },
        if data.policy.no_self_approval {
            " The commit's author may not approve it."
        } else {
            ""
        }
    );
    let votes = (!data.votes.is_empty()).then(|| {
        view! {
            <p data-testid="votes">
                "Approved so far by: "
                {data.votes.iter().map(|v| v.by.clone()).collect::<Vec<_>>().join(", ")}
                {format!(" ({} of {})", data.votes.len(), data.policy.quorum)}
            </p>
        }
    });
    let forms = match data.cannot_decide.clone() {
        None => view! { <DecideForms id=name.clone()/> }.into_any(),
        Some(reason) => {
            view! { <p class="muted" data-testid="cannot-decide">{reason}</p> }.into_any()
        }
    };
    let serving = data.serving.clone().map(|(endpoint, figures)| {
        view! {
            <section class="evidence-column">
                <h2>"Serving now: " <code>{endpoint}</code></h2>
                <Figures figures/>
            </section>
        }
    });
    let endpoint = data.endpoint.clone().map(|e| {
        view! {
            <p class="notice" data-testid="endpoint">
                "Endpoint " <code>{e.name}</code> ": " <strong data-testid="endpoint-status">{e.status}</strong>
            </p>
        }
    });
    view! {
        <h1>"Approval: " {name.clone()}</h1>
        // The page follows its run: the decision, then the endpoint coming into service.
        <div data-live=live::run(&name)>
        <dl class="facts">
            <dt>"Status"</dt><dd><StatusBadge status=execution.status/></dd>
            <dt>"Commit"</dt>
            <dd>{execution.commit.as_ref().map(|c| c.id.clone()).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Author"</dt><dd>{data.author.clone().unwrap_or_else(|| "not named by the pipeline".into())}</dd>
            <dt>"Execution"</dt><dd><a href=format!("/executions/{name}")>{name.clone()}</a></dd>
        </dl>
        {state}
        {endpoint}
        <div class="evidence">
            <section class="evidence-column">
                <h2>"This run's model"</h2>
                <Figures figures=data.evidence.clone()/>
            </section>
            {serving}
        </div>
        <p class="muted">{policy}</p>
        {votes}
        <DecideResult/>
        {forms}
        </div>
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[component]
fn Figures(figures: Result<Evidence, String>) -> impl IntoView {
    let evidence = match figures {
        Ok(evidence) => evidence,
        Err(problem) => return view! { <p class="notice">{problem}</p> }.into_any(),
    };
    let problems = evidence
        .problems
        .iter()
        .map(|p| view! { <p class="notice" data-testid="evidence-problem">{p.clone()}</p> })
        .collect_view();
    let sample = evidence
        .sample
        .iter()
        .map(|(label, predicted)| {
            let class = if label == predicted { "hit" } else { "miss" };
            view! { <tr class=class><td>{label.clone()}</td><td>{predicted.clone()}</td></tr> }
        })
        .collect_view();
    let sample = (!evidence.sample.is_empty()).then(|| {
        view! {
            <details>
                <summary>"Predictions beside the labels"</summary>
                <table class="data-table compact">
                    <thead><tr><th>"Label"</th><th>"Predicted"</th></tr></thead>
                    <tbody>{sample}</tbody>
                </table>
            </details>
        }
    });
    let figures = match &evidence.figures {
        Tallied::Classes(table) if evidence.total > 0 => {
            view! { <ClassFigures table=table.clone()/> }.into_any()
        }
        Tallied::Classes(_) => ().into_any(),
        Tallied::NotAClassifier(why) => view! {
            <p class="notice" data-testid="not-a-classifier">{why.sentence()}</p>
        }
        .into_any(),
    };
    view! {
        <p class="accuracy" data-testid="accuracy">
            "Accuracy " <strong>{percent(evidence.accuracy())}</strong>
            {format!(" ({} of {} test rows)", evidence.correct, evidence.total)}
        </p>
        {problems}
        {figures}
        {sample}
    }
    .into_any()
}

/// A classifier's confusion matrix and per-class precision and recall.
#[component]
fn ClassFigures(table: ClassTable) -> impl IntoView {
    let per_class = table
        .per_class
        .iter()
        .map(|c| {
            view! {
                <tr>
                    <td>{c.class.clone()}</td>
                    <td>{percent(c.precision)}</td>
                    <td>{percent(c.recall)}</td>
                    <td>{c.support}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <ConfusionMatrix table=table.clone()/>
        <table class="data-table compact">
            <thead><tr><th>"Class"</th><th>"Precision"</th><th>"Recall"</th><th>"Rows"</th></tr></thead>
            <tbody>{per_class}</tbody>
        </table>
    }
}

/// The confusion matrix as an SVG grid: rows are the true classes, columns the predictions;
/// a cell's shade grows with its share of the row.
#[component]
fn ConfusionMatrix(table: ClassTable) -> impl IntoView {
    const CELL: usize = 56;
    const LABEL: usize = 110;
    let n = table.classes.len();
    let size = LABEL + CELL * n;
    let cells = table
        .confusion
        .iter()
        .zip(&table.classes)
        .enumerate()
        .flat_map(|(row, (counts, actual))| {
            let total: u32 = counts.iter().sum();
            let cells: Vec<(u32, String)> = counts
                .iter()
                .copied()
                .zip(table.classes.iter().cloned())
                .collect();
            let actual = actual.clone();
            cells.into_iter().enumerate().map(move |(column, (count, predicted))| {
                let share = if total == 0 { 0.0 } else { f64::from(count) / f64::from(total) };
                let (x, y) = (LABEL + column * CELL, LABEL + row * CELL);
                let class = if row == column { "cell diagonal" } else { "cell" };
                let title = format!("{count} {actual} predicted as {predicted}");
                view! {
                    <g class=class>
                        <title>{title}</title>
                        <rect x=x y=y width=CELL height=CELL fill-opacity=format!("{:.2}", 0.08 + 0.92 * share)/>
                        <text x={x + CELL / 2} y={y + CELL / 2 + 5} text-anchor="middle">{count}</text>
                    </g>
                }
            })
        })
        .collect_view();
    let labels = table
        .classes
        .iter()
        .enumerate()
        .map(|(i, class)| {
            let offset = LABEL + i * CELL + CELL / 2;
            view! {
                <text class="label" x={LABEL - 6} y={offset + 5} text-anchor="end">{class.clone()}</text>
                <text class="label" x=offset y={LABEL - 8} text-anchor="middle">{class.clone()}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="confusion-matrix">
            <svg viewBox=format!("0 0 {size} {size}") width=size role="img"
                aria-label="Confusion matrix: rows are the true classes, columns the predictions"
                data-testid="confusion-matrix">
                {labels}
                {cells}
            </svg>
            <figcaption class="muted">"Rows: the label. Columns: the prediction. The diagonal is right."</figcaption>
        </figure>
    }
}

/// Plain forms: deciding works without JavaScript too, and the server sends the browser back
/// here with the answer.
#[component]
fn DecideForms(id: String) -> impl IntoView {
    let reject_id = id.clone();
    view! {
        <div class="decide" data-testid="decide-forms">
            <form method="post" action=Decide::PATH data-testid="approve-form">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="verdict" value="approve"/>
                <label>"Comment (optional) " <textarea name="comment" maxlength="2000" rows="2"></textarea></label>
                <button type="submit" class="approve">"Approve"</button>
            </form>
            <form method="post" action=Decide::PATH data-testid="reject-form">
                <input type="hidden" name="id" value=reject_id/>
                <input type="hidden" name="verdict" value="reject"/>
                <label>"Why reject (required) " <textarea name="comment" maxlength="2000" rows="2" required></textarea></label>
                <button type="submit" class="danger">"Reject"</button>
            </form>
        </div>
    }
}

/// What became of the reader's decision, from the address the server sent them back to.
#[component]
fn DecideResult() -> impl IntoView {
    if let Some(error) = form_error(Decide::PATH) {
        return view! { <ErrorBanner error/> }.into_any();
    }
    if let Some(verdict) = form_outcome(outcome::DECIDED) {
        let verdict = match verdict.as_str() {
            "approved" => verdict_word(crate::models::pipeline::Verdict::Approved),
            "rejected" => verdict_word(crate::models::pipeline::Verdict::Rejected),
            _ => return ().into_any(),
        };
        return view! {
            <p class="notice success" data-testid="decision-result">
                {format!("Decision sent: {verdict}.")}
            </p>
        }
        .into_any();
    }
    let counted = form_outcome(outcome::COUNTED).and_then(|text| {
        let (approvals, needed) = text.split_once("-of-")?;
        Some((approvals.parse::<u32>().ok()?, needed.parse::<u32>().ok()?))
    });
    match counted {
        Some((approvals, needed)) => view! {
            <p class="notice" data-testid="decision-result">
                {format!("Your approval is counted: {approvals} of {needed}.")}
            </p>
        }
        .into_any(),
        None => ().into_any(),
    }
}
