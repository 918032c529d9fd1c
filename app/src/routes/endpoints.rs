//! `/endpoints`: every endpoint with its status, the commit it serves, and the last change an
//! operator made to it through Gatehouse. Viewers may look. The list follows the endpoints
//! live.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::error_banner::ErrorBanner;
use crate::components::form_outcome::form_outcome;
use crate::components::role_gate::RoleGate;
use crate::errors::AppError;
use crate::functions::endpoints::list_endpoints;
use crate::models::endpoints::EndpointList;
use crate::models::identity::Role;
use crate::models::live;
use crate::models::navigation::outcome;

#[component]
pub fn EndpointsPage() -> impl IntoView {
    // Loaded outside the role gate, whose <Suspense> walks its children more than once on the
    // server (a resource inside would fetch each time).
    let endpoints = Resource::new_blocking(|| (), |_| list_endpoints());
    view! {
        <Title text="Endpoints"/>
        <RoleGate role=Role::Viewer>
            <Endpoints endpoints/>
        </RoleGate>
    }
}

#[component]
fn Endpoints(endpoints: Resource<Result<EndpointList, AppError>>) -> impl IntoView {
    view! {
        <section class="endpoints" data-live=live::RUNS>
            <h1>"Endpoints"</h1>
            <p class="hint">
                "Every approved commit is deployed to the pipeline's endpoint; an operator can \
                 roll an endpoint back to an earlier commit from its page."
            </p>
            {form_outcome(outcome::DELETED).map(|name| view! {
                <p class="notice" role="status" data-testid="delete-result">
                    "Deleted endpoint " <code>{name}</code> "; it no longer answers."
                </p>
            })}
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match endpoints.await {
                        Ok(list) if list.rows.is_empty() => view! {
                            <p data-testid="no-endpoints">
                                "No endpoints yet: one appears when a run is approved."
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
fn Table(list: EndpointList) -> impl IntoView {
    view! {
        <table class="data-table" data-testid="endpoints-table">
            <thead>
                <tr>
                    <th scope="col">"Endpoint"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Commit"</th>
                    <th scope="col">"Endpoint config"</th>
                    <th scope="col">"Variants (share of requests)"</th>
                    <th scope="col">"Last change"</th>
                </tr>
            </thead>
            <tbody>
                {list.rows.into_iter().map(|row| {
                    let e = row.endpoint;
                    let href = format!("/endpoints/{}", e.name);
                    let commit = match row.commit {
                        Some(c) => view! { <a href=format!("/lineage/{}", c.id)><code>{c.short_sha}</code></a> }.into_any(),
                        None => view! { <span>"—"</span> }.into_any(),
                    };
                    let variants = e
                        .variants
                        .iter()
                        .zip(e.traffic_shares())
                        .map(|(v, share)| format!("{} {share}%", v.variant))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let changed = match row.last_change {
                        Some(c) => format!("{} by {}, {} UTC", c.action, c.by, c.at.utc()),
                        None => e
                            .modified
                            .map(|t| format!("deployed {} UTC", t.utc()))
                            .unwrap_or_else(|| "—".into()),
                    };
                    view! {
                        <tr data-testid="endpoint-row">
                            <td><a href=href>{e.name}</a></td>
                            <td data-testid="endpoint-row-status">{e.status}</td>
                            <td>{commit}</td>
                            <td><code>{e.config_name.unwrap_or_else(|| "—".into())}</code></td>
                            <td data-testid="endpoint-row-variants">{variants}</td>
                            <td>{changed}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
