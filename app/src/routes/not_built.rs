use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::role_gate::RoleGate;
use crate::models::section::Section;

/// The honest placeholder for a section whose page has not been built yet: it says what the
/// page will hold and shows no data at all. Gated by the section's role like the real page.
#[component]
pub fn NotBuiltPage(section: Section) -> impl IntoView {
    let body = move || {
        view! {
            <section class="not-built" data-testid="not-built">
                <h1>{section.label()}</h1>
                <p class="notice">"This page is not built yet."</p>
                <p>"When it is, it will show: " {section.purpose()}</p>
            </section>
        }
    };
    view! {
        <Title text=section.label()/>
        {match section.required_role() {
            Some(role) => view! { <RoleGate role>{body}</RoleGate> }.into_any(),
            None => body().into_any(),
        }}
    }
}
