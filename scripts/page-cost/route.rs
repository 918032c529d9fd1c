//! A throw-away page, only ever compiled by scripts/page-cost.sh to measure what a page costs
//! the browser bundle.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::functions::throwaway::throwaway_rows;

#[component]
pub fn ThrowawayPage() -> impl IntoView {
    let rows = Resource::new_blocking(|| (), |_| throwaway_rows(Some("x".into())));
    view! {
        <Title text="Throw-away page"/>
        <section>
            <h1>"Throw-away page"</h1>
            <form method="get" action="/throwaway"><input name="q"/><button>"Go"</button></form>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match rows.await {
                        Ok(rows) => view! {
                            <table><tbody>
                                {rows.into_iter().map(|row| view! {
                                    <tr><td>{row.name}</td><td>{row.count}</td><td>{row.note.unwrap_or_default()}</td></tr>
                                }).collect_view()}
                            </tbody></table>
                        }.into_any(),
                        Err(error) => view! { <p role="alert">{error.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
