//! `/approvals`: every pending approval, newest first, with how long it has waited and how
//! long it has left (counting down live in the browser). Viewers may look. The list follows
//! the pipeline live.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::countdown::Countdown;
use crate::components::error_banner::ErrorBanner;
use crate::components::role_gate::RoleGate;
use crate::errors::AppError;
use crate::functions::approvals::list_approvals;
use crate::models::approvals::ApprovalList;
use crate::models::identity::Role;
use crate::models::live;

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    // Data is loaded here, outside the role gate: the gate's <Suspense> walks its children
    // up to three times on the server, and a resource created inside would fetch each time.
    let approvals = Resource::new_blocking(|| (), |_| list_approvals());
    view! {
        <Title text="Approvals"/>
        <RoleGate role=Role::Viewer>
            <Approvals approvals/>
        </RoleGate>
    }
}

#[component]
fn Approvals(approvals: Resource<Result<ApprovalList, AppError>>) -> impl IntoView {
    view! {
        <section class="approvals" data-live=live::RUNS>
            <h1>"Approvals"</h1>
            <p class="hint">
                "Runs waiting for a person to look at the evidence and approve or reject. A link \
                 to one decides nothing by itself: deciding needs a signed-in approver."
            </p>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match approvals.await {
                        Ok(list) if list.approvals.is_empty() => view! {
                            <p data-testid="no-approvals">"Nothing is waiting for a decision."</p>
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
fn Table(list: ApprovalList) -> impl IntoView {
    let now = list.now;
    view! {
        <table class="data-table" data-testid="approvals-table">
            <thead>
                <tr>
                    <th>"Execution"</th><th>"Commit"</th><th>"Waiting since (UTC)"</th>
                    <th>"Time left"</th><th></th>
                </tr>
            </thead>
            <tbody>
                {list
                    .approvals
                    .into_iter()
                    .map(|a| {
                        let name = a.execution.name.clone();
                        let row_name = name.clone();
                        let href = format!("/approvals/{name}");
                        let review = href.clone();
                        let commit = a
                            .execution
                            .commit
                            .as_ref()
                            .map(|c| c.short_sha.clone())
                            .unwrap_or_else(|| "—".into());
                        let left = match a.deadline {
                            Some(deadline) => view! { <Countdown deadline now/> }.into_any(),
                            None => view! { <span class="muted">"no limit"</span> }.into_any(),
                        };
                        view! {
                            <tr data-execution=row_name>
                                <td><a href=href>{name}</a></td>
                                <td><code>{commit}</code></td>
                                <td><time datetime=a.waiting_since.rfc3339()>{a.waiting_since.utc()}</time></td>
                                <td>{left}</td>
                                <td><a href=review class="button">"Review"</a></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
