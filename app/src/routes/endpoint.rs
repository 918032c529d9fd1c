//! `/endpoints/:name`: one endpoint — its status (followed live), the config and commit it
//! serves, its variants, why its last change failed; operators can roll it back to any earlier
//! config (each with a confirmation naming the commit going out and the one coming in, and a
//! required reason) or delete it (by typing its name).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::error_banner::ErrorBanner;
use crate::components::form_outcome::{form_error, form_outcome};
use crate::components::role_gate::RoleGate;
use crate::components::session::use_session_user;
use crate::errors::AppError;
use crate::functions::endpoints::{get_endpoint, DeleteEndpoint, RollbackEndpoint};
use crate::models::endpoints::{DeploymentEntry, EndpointView, RollbackChoice};
use crate::models::identity::Role;
use crate::models::live;
use crate::models::navigation::outcome;
use crate::models::pipeline::Commit;

#[component]
pub fn EndpointPage() -> impl IntoView {
    // Loaded outside the role gate (see the executions page).
    let params = use_params_map();
    let name = Memo::new(move |_| params.with(|p| p.get("name").unwrap_or_default()));
    let endpoint = Resource::new_blocking(move || name.get(), get_endpoint);
    view! {
        <Title text="Endpoint"/>
        <RoleGate role=Role::Viewer>
            <Endpoint endpoint name/>
        </RoleGate>
    }
}

#[component]
fn Endpoint(
    endpoint: Resource<Result<EndpointView, AppError>>,
    name: Memo<String>,
) -> impl IntoView {
    let session = use_session_user();
    view! {
        <section class="endpoint">
            <p><a href="/endpoints">"← Endpoints"</a></p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let operator = matches!(session.0.await, Ok(Some(ref who)) if who.has(Role::Operator));
                    match endpoint.await {
                        Ok(data) => view! { <Detail data operator/> }.into_any(),
                        Err(error) => view! {
                            <h1>{name.get_untracked()}</h1>
                            <ErrorBanner error/>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn commit_words(commit: Option<&Commit>, config: &str) -> String {
    match commit {
        Some(c) => format!("commit {} ({config})", c.short_sha),
        None => config.to_string(),
    }
}

#[component]
fn Detail(data: EndpointView, operator: bool) -> impl IntoView {
    let e = data.endpoint.clone();
    let serving = e.config_name.clone().unwrap_or_else(|| "—".into());
    let outgoing = commit_words(data.commit.as_ref(), &serving);
    let why_not = data.why_not_changeable();
    // SageMaker keeps serving the old config when an update fails and says why: a rollback
    // asked for but not carried out shows here.
    let failure = e.failure_reason.clone().map(|reason| {
        let words = if e.status == "InService" {
            format!("The last update did not take: SageMaker rolled it back and {serving} still serves. ")
        } else {
            String::new()
        };
        view! {
            <div class="error-banner" role="alert" data-testid="endpoint-failure">
                <p>{words} <strong>"Reason: "</strong> {reason}</p>
            </div>
        }
    });
    let variants = data.config.clone().map(|config| {
        let shares = config.traffic_shares();
        view! {
            <h2>"Variants"</h2>
            <table class="data-table" data-testid="variants">
                <thead><tr><th scope="col">"Variant"</th><th scope="col">"Model"</th><th scope="col">"Weight"</th><th scope="col">"Instances"</th></tr></thead>
                <tbody>
                    {config.variants.into_iter().zip(shares).map(|(v, share)| view! {
                        <tr>
                            <td>{v.variant}</td>
                            <td><code>{v.model_name}</code></td>
                            <td>{v.weight.unwrap_or_else(|| "1".into())} " (" {share} "% of requests)"</td>
                            <td>{v.instance_count.map(|n| n.to_string()).unwrap_or_default()} " " {v.instance_type.unwrap_or_default()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }
    });
    let answer = match (
        form_outcome(outcome::ROLLED_BACK),
        form_error(RollbackEndpoint::PATH).or_else(|| form_error(DeleteEndpoint::PATH)),
    ) {
        (_, Some(error)) => Some(view! { <ErrorBanner error/> }.into_any()),
        (Some(config), None) => Some(
            view! {
                <p class="notice" role="status" data-testid="rollback-result">
                    "Asked SageMaker to serve " <code>{config}</code> " again; the status below follows the update."
                </p>
            }
            .into_any(),
        ),
        (None, None) => None,
    };
    let last_change = data.last_change.clone().map(|c| {
        view! {
            <dt>"Last change"</dt>
            <dd>{format!("{} by {}, {} UTC", c.action, c.by, c.at.utc())}</dd>
        }
    });
    let controls = operator.then(|| {
        let rollbacks = match why_not {
            Some(reason) => view! { <p class="hint" data-testid="rollback-unavailable">{reason}</p> }.into_any(),
            None if data.choices.is_empty() => view! { <p class="hint">"No earlier config to go back to."</p> }.into_any(),
            None => view! {
                <ul class="rollback-choices" data-testid="rollback-choices">
                    {data.choices.iter().map(|choice| view! {
                        <RollbackForm endpoint=e.name.clone() outgoing=outgoing.clone() choice=choice.clone()/>
                    }).collect_view()}
                </ul>
            }
            .into_any(),
        };
        view! {
            <h2>"Roll back"</h2>
            {rollbacks}
            <DeleteForm endpoint=e.name.clone()/>
        }
    });
    view! {
        <h1>{e.name.clone()}</h1>
        <div data-live=live::endpoint(&e.name)>
            {answer}
            <dl class="facts">
                <dt>"Status"</dt><dd data-testid="endpoint-status">{e.status.clone()}</dd>
                <dt>"Serves"</dt>
                <dd data-testid="endpoint-serves">
                    {outgoing.clone()}
                    {data.commit.as_ref().map(|c| view! {
                        " · " <a href=format!("/lineage/{}", c.id) data-testid="serves-lineage">"lineage"</a>
                    })}
                </dd>
                {e.pending_config_name.clone().map(|p| view! { <dt>"Moving to"</dt><dd><code>{p}</code></dd> })}
                <dt>"Created"</dt><dd>{e.created.map(|t| format!("{} UTC", t.utc())).unwrap_or_default()}</dd>
                <dt>"Last modified"</dt><dd>{e.modified.map(|t| format!("{} UTC", t.utc())).unwrap_or_default()}</dd>
                {last_change}
            </dl>
            {failure}
            {variants}
            <History entries=data.history.clone()/>
            {controls}
        </div>
    }
}

/// Every config the endpoint was asked to serve, newest first, from when to when, and who
/// asked for it.
#[component]
fn History(entries: Vec<DeploymentEntry>) -> impl IntoView {
    let utc = |t: Option<crate::models::pipeline::Timestamp>| {
        t.map(|t| format!("{} UTC", t.utc()))
            .unwrap_or_else(|| "—".into())
    };
    view! {
        <h2>"Deployment history"</h2>
        {if entries.is_empty() {
            view! { <p class="hint">"Nothing recorded."</p> }.into_any()
        } else {
            view! {
                <table class="data-table" data-testid="deployment-history">
                    <thead>
                        <tr>
                            <th scope="col">"Commit"</th>
                            <th scope="col">"Endpoint config"</th>
                            <th scope="col">"Served from"</th>
                            <th scope="col">"Until"</th>
                            <th scope="col">"By"</th>
                            <th scope="col">"Failure"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {entries.into_iter().map(|entry| {
                            let d = entry.deployment;
                            let until = if d.serving_now() {
                                "serving now".to_string()
                            } else if d.served_from.is_none() {
                                "never served".to_string()
                            } else {
                                utc(d.served_until)
                            };
                            let commit = entry.commit.map(|c| view! {
                                <a href=format!("/lineage/{}", c.id)><code>{c.short_sha}</code></a>
                            });
                            view! {
                                <tr data-testid="deployment">
                                    <td>{commit}</td>
                                    <td><code>{d.config_name}</code></td>
                                    <td>{utc(d.served_from)}</td>
                                    <td data-testid="deployment-until">{until}</td>
                                    <td>{entry.by.unwrap_or_else(|| "—".into())}</td>
                                    <td>{d.failure_reason.unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }}
    }
}

/// One earlier config and the form that rolls the endpoint back to it. A `<details>` holds the
/// confirmation, so it works without JavaScript.
#[component]
fn RollbackForm(endpoint: String, outgoing: String, choice: RollbackChoice) -> impl IntoView {
    let incoming = commit_words(choice.commit.as_ref(), &choice.config_name);
    let created = choice
        .created
        .map(|t| format!(", made {} UTC", t.utc()))
        .unwrap_or_default();
    view! {
        <li>
            <details>
                <summary>"Roll back to " {incoming.clone()} {created}</summary>
                <form method="post" action=RollbackEndpoint::PATH data-testid="rollback-form">
                    <input type="hidden" name="name" value=endpoint.clone()/>
                    <input type="hidden" name="config" value=choice.config_name.clone()/>
                    <p>
                        <strong>{outgoing}</strong> " goes out; " <strong>{incoming}</strong>
                        " comes in. " {endpoint.clone()} " keeps serving while SageMaker updates it."
                    </p>
                    <label>"Reason (required) " <input name="reason" required maxlength="1000"/></label>
                    <button type="submit" class="danger">"Roll back"</button>
                </form>
            </details>
        </li>
    }
}

#[component]
fn DeleteForm(endpoint: String) -> impl IntoView {
    view! {
        <details class="danger-zone">
            <summary>"Delete this endpoint…"</summary>
            <form method="post" action=DeleteEndpoint::PATH data-testid="delete-form">
                <input type="hidden" name="name" value=endpoint.clone()/>
                <p>"It stops answering at once. Type " <code>{endpoint.clone()}</code> " to confirm."</p>
                <label>"Endpoint name " <input name="typed_name" required autocomplete="off"/></label>
                <button type="submit" class="danger">"Delete the endpoint"</button>
            </form>
        </details>
    }
}
