use leptos::prelude::*;
use leptos_meta::Title;

use crate::models::section::Section;

/// The honest placeholder for a section whose page has not been built yet: it says what the
/// page will hold and shows no data at all.
#[component]
pub fn NotBuiltPage(section: Section) -> impl IntoView {
    view! {
        <Title text=section.label()/>
        <section class="not-built" data-testid="not-built">
            <h1>{section.label()}</h1>
            <p class="notice">"This page is not built yet."</p>
            <p>"When it is, it will show: " {section.purpose()}</p>
        </section>
    }
}
