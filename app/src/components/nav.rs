use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::theme::ThemeToggle;
use crate::models::section::Section;

/// The bar at the top of every page: the name, the sections, the theme switch.
#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/executions">"Gatehouse"</a>
            <nav aria-label="Sections">
                <ul>
                    {Section::ALL
                        .into_iter()
                        .map(|section| {
                            view! {
                                <li>
                                    <A href=section.path()>{section.label()}</A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            <ThemeToggle/>
        </header>
    }
}
