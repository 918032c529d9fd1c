//! `/playground` (viewer): try a pipeline endpoint with one row typed into a field per
//! feature, or up to a thousand pasted CSV rows. The form posts to this page, which the
//! server answers with the labels, the latency, the variant and the commit and model behind
//! it, and the same request for curl, Python and Rust. Nothing here runs in the browser of its
//! own: the page is a form and its answer (the navigation island sends the form and shows the
//! answer in place, as it does every form's, and works the snippets' "Copy" buttons).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::error_banner::ErrorBanner;
use crate::components::role_gate::RoleGate;
use crate::errors::AppError;
use crate::functions::playground::get_playground;
use crate::models::copy::COPY_LABEL;
use crate::models::identity::Role;
use crate::models::inference::MAX_PAYLOAD_BYTES;
use crate::models::playground::{PlaygroundAnswer, PlaygroundSetup, Snippets};

/// A tried request's answer, put in the page's context by the server when it answers the
/// form's POST.
#[derive(Debug, Clone)]
pub struct TriedAnswer(pub PlaygroundAnswer);

#[component]
pub fn PlaygroundPage() -> impl IntoView {
    let query = use_query_map();
    let answer = use_context::<TriedAnswer>().map(|a| a.0);
    let tried = answer.as_ref().map(|a| a.endpoint.clone());
    let setup = Resource::new_blocking(
        move || tried.clone().or_else(|| query.read().get("endpoint")),
        get_playground,
    );
    view! {
        <Title text="Playground"/>
        <RoleGate role=Role::Viewer>
            <Playground setup answer=answer.clone()/>
        </RoleGate>
    }
}

#[component]
fn Playground(
    setup: Resource<Result<PlaygroundSetup, AppError>>,
    answer: Option<PlaygroundAnswer>,
) -> impl IntoView {
    view! {
        <section class="playground">
            <h1>"Playground"</h1>
            <p class="hint">
                "Send rows to an endpoint the pipeline deploys and see what its model answers. \
                 Every try is recorded in the audit log (who, endpoint, rows, outcome, latency; \
                 never the rows themselves)."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let answer = answer.clone();
                    Suspend::new(async move {
                        match setup.await {
                            Ok(setup) if setup.endpoints.is_empty() => view! {
                                <p data-testid="no-endpoints">
                                    "No pipeline endpoint to try yet: one appears when a run is \
                                     approved."
                                </p>
                            }
                            .into_any(),
                            Ok(setup) => view! { <Form setup answer/> }.into_any(),
                            Err(error) => view! { <ErrorBanner error/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

#[component]
fn Form(setup: PlaygroundSetup, answer: Option<PlaygroundAnswer>) -> impl IntoView {
    let chosen = setup.chosen.clone().unwrap_or_default();
    let pasted = answer
        .as_ref()
        .map(|a| a.sent.clone())
        .filter(|s| s.contains('\n') || setup.features.is_empty())
        .unwrap_or_default();
    let endpoint_options = setup
        .endpoints
        .iter()
        .map(|e| {
            let label = match &e.commit {
                Some(commit) => format!("{} — {} ({})", e.name, commit.short_sha, e.status),
                None => format!("{} ({})", e.name, e.status),
            };
            view! { <option value=e.name.clone() selected=e.name == chosen>{label}</option> }
        })
        .collect_view();
    let fields = setup
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = format!("feature_{}", i + 1);
            let hint = format!("{} – {}", f.min, f.max);
            view! {
                <label>
                    {f.name.clone()}
                    <input
                        type="text"
                        inputmode="decimal"
                        name=name
                        placeholder=hint.clone()
                        title=format!("The test data ranges over {hint}")
                        data-testid="feature-field"
                    />
                </label>
            }
        })
        .collect_view();
    view! {
        <form method="get" action="/playground" class="inline-form">
            <label>
                "Endpoint "
                <select name="endpoint" data-testid="endpoint-choice">{endpoint_options}</select>
            </label>
            <button type="submit">"Choose"</button>
        </form>
        <form method="post" action="/playground" class="playground-form" data-testid="try-form">
            <input type="hidden" name="endpoint" value=chosen.clone()/>
            <fieldset>
                <legend>"One row"</legend>
                {fields}
            </fieldset>
            <label>
                "Or paste up to 1,000 CSV rows (one per line; a label first, as in the test \
                 data, is compared with the answer)"
                <textarea name="rows" rows="6" maxlength=MAX_PAYLOAD_BYTES.to_string() data-testid="rows">
                    {pasted}
                </textarea>
            </label>
            <button type="submit" data-testid="try">"Send to " {chosen.clone()}</button>
        </form>
        {answer.map(|answer| view! { <Answer answer/> })}
    }
}

#[component]
fn Answer(answer: PlaygroundAnswer) -> impl IntoView {
    if let Some(error) = answer.error.clone() {
        return view! {
            <div class="banner error" role="alert" data-testid="try-error" data-live-hold="">
                {error}
            </div>
            <CopyAs snippets=answer.snippets/>
        }
        .into_any();
    }
    let differing = answer.rows.iter().filter(|r| r.differs()).count();
    let commit = answer.commit.clone().map(|c| {
        let href = format!("/lineage/{}", c.id);
        view! { <a href=href data-testid="answer-commit">{c.short_sha}</a> }
    });
    let rows = answer
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            view! {
                <tr class=r.differs().then_some("differs") data-testid="answer-row">
                    <td>{i + 1}</td>
                    <td data-testid="answer-label">{r.label.clone()}</td>
                    <td>{r.expected.clone().unwrap_or_default()}</td>
                    <td>{if r.differs() { "differs" } else { "" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        // The answer exists only in this POST's page: news must not refresh it away.
        <section class="answer" data-testid="answer" data-live-hold="">
            <h2>"Answer"</h2>
            <dl class="facts">
                <dt>"Latency"</dt>
                <dd data-testid="answer-latency">{format!("{:.2} ms", answer.latency_ms)}</dd>
                <dt>"Variant"</dt>
                <dd data-testid="answer-variant">{answer.variant.clone().unwrap_or_default()}</dd>
                <dt>"Model"</dt>
                <dd>{answer.model.clone().unwrap_or_default()}</dd>
                <dt>"Commit"</dt>
                <dd>{commit}</dd>
                <dt>"Rows"</dt>
                <dd>
                    {answer.rows.len()}
                    {(differing > 0).then(|| format!(" ({differing} differ from their label)"))}
                </dd>
            </dl>
            <table class="data-table">
                <thead>
                    <tr>
                        <th scope="col">"Row"</th>
                        <th scope="col">"Label"</th>
                        <th scope="col">"Its own label"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <CopyAs snippets=answer.snippets.clone()/>
        </section>
    }
    .into_any()
}

#[component]
fn CopyAs(snippets: Snippets) -> impl IntoView {
    view! {
        <h3>"Copy as"</h3>
        <p class="hint">
            "curl goes through Gatehouse (a token from POST /auth/token in $GATEHOUSE_TOKEN); \
             Python and Rust call SageMaker directly with your AWS credentials."
        </p>
        <Snippet summary="curl" id="copy-curl" code=snippets.curl open=true/>
        <Snippet summary="Python (boto3)" id="copy-python" code=snippets.python open=false/>
        <Snippet
            summary="Rust (aws-sdk-sagemakerruntime)"
            id="copy-rust"
            code=snippets.rust
            open=false
        />
    }
}

/// One request as code, with a button that copies it (the navigation island works the
/// button; without JavaScript the stylesheet hides it and the code can be selected by hand).
#[component]
fn Snippet(summary: &'static str, id: &'static str, code: String, open: bool) -> impl IntoView {
    view! {
        <details open=open>
            <summary>{summary}</summary>
            <pre id=id data-testid=id><code>{code}</code></pre>
            <button type="button" class="copy" data-testid=format!("{id}-button") data-copy=id>
                {COPY_LABEL}
            </button>
        </details>
    }
}
