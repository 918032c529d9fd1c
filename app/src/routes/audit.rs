//! `/audit`: the audit log for admins — filter by actor, action, target, outcome and time,
//! page back through it, export what the filter selects as CSV or JSON. Plain GET forms and
//! links, so it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::error_banner::ErrorBanner;
use crate::components::role_gate::RoleGate;
use crate::errors::AppError;
use crate::functions::audit::list_audit;
use crate::models::audit::{AuditFilter, AuditOutcome, AuditPage};
use crate::models::identity::Role;

#[component]
pub fn AuditPage() -> impl IntoView {
    // Data is loaded here, outside the role gate: the gate's <Suspense> walks its children
    // up to three times on the server, and a resource created inside would fetch each time.
    let filter = filter_from_query();
    let page = Resource::new_blocking(move || filter.get(), list_audit);
    view! {
        <Title text="Audit log"/>
        <RoleGate role=Role::Admin>
            <AuditLog filter page/>
        </RoleGate>
    }
}

fn filter_from_query() -> Memo<AuditFilter> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| AuditFilter {
            actor: q.get("actor"),
            action: q.get("action"),
            target: q.get("target"),
            outcome: q.get("outcome"),
            from: q.get("from"),
            until: q.get("until"),
            before: q.get("before"),
        })
    })
}

#[component]
fn AuditLog(
    filter: Memo<AuditFilter>,
    page: Resource<Result<AuditPage, AppError>>,
) -> impl IntoView {
    view! {
        <section class="audit">
            <h1>"Audit log"</h1>
            <p class="hint">
                "Every sign-in, decision, start and stop, newest first. Each record carries the hash \
                 of the one before; "<code>"gatehouse audit verify"</code>" proves none was changed, \
                 removed or moved."
            </p>
            <FilterForm filter/>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Records page/> }.into_any(),
                        Err(error) => view! { <ErrorBanner error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn FilterForm(filter: Memo<AuditFilter>) -> impl IntoView {
    let current = filter.get_untracked();
    let outcome = current.outcome.clone().unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    view! {
        <form class="filters" method="get" action="/audit" data-testid="audit-filters">
            <label>"Actor " <input type="search" name="actor" value=text(&current.actor)/></label>
            <label>
                "Action "
                <input type="search" name="action" placeholder="approval. or auth.sign_in" value=text(&current.action)/>
            </label>
            <label>"Target " <input type="search" name="target" value=text(&current.target)/></label>
            <label>
                "Outcome "
                <select name="outcome">
                    <option value="" selected=outcome.is_empty()>"Any"</option>
                    {AuditOutcome::ALL
                        .into_iter()
                        .map(|o| {
                            let selected = outcome.eq_ignore_ascii_case(o.as_str());
                            view! { <option value=o.as_str() selected=selected>{o.as_str()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>"From " <input type="date" name="from" value=text(&current.from)/></label>
            <label>"Until " <input type="date" name="until" value=text(&current.until)/></label>
            <button type="submit">"Filter"</button>
            <a href="/audit">"Clear"</a>
        </form>
    }
}

#[component]
fn Records(page: AuditPage) -> impl IntoView {
    let joined = |base: &str| {
        if page.query.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", page.query)
        }
    };
    let csv = joined("/audit/export.csv");
    let json = joined("/audit/export.json");
    let next = page.next_before.map(|before| {
        let href = if page.query.is_empty() {
            format!("/audit?before={before}")
        } else {
            format!("/audit?{}&before={before}", page.query)
        };
        view! { <a href=href rel="next">"Older records"</a> }
    });
    let empty = page.records.is_empty();
    view! {
        <p class="exports">
            "Export this filter: "
            // Plain links: the browser downloads the file, no script involved.
            <a href=csv rel="external" download="gatehouse-audit.csv">"CSV"</a>
            " · "
            <a href=json rel="external" download="gatehouse-audit.json">"JSON"</a>
        </p>
        {empty.then(|| view! { <p>"No records match this filter."</p> })}
        <table class="data-table" data-testid="audit-table">
            <thead>
                <tr>
                    <th>"#"</th><th>"Time (UTC)"</th><th>"Actor"</th><th>"Action"</th>
                    <th>"Target"</th><th>"Outcome"</th><th>"From"</th><th>"Details"</th>
                </tr>
            </thead>
            <tbody>
                {page
                    .records
                    .into_iter()
                    .map(|r| {
                        let outcome = r.entry.outcome.as_str();
                        let roles = r.entry.roles.join(", ");
                        view! {
                            <tr data-seq=r.seq.to_string()>
                                <td>{r.seq}</td>
                                <td><time datetime=r.at.rfc3339()>{r.at.utc()}</time></td>
                                <td title=roles>{r.entry.actor}</td>
                                <td><code>{r.entry.action}</code></td>
                                <td>{r.entry.target}</td>
                                <td><span class=format!("outcome outcome-{outcome}")>{outcome}</span></td>
                                <td>{r.entry.source_ip}</td>
                                <td class="details"><code>{r.entry.details}</code></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <nav class="pager">{next}</nav>
    }
}
