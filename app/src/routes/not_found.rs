use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_location;

/// Shown for any path the router does not know; the server answers it with status 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let path = use_location().pathname;

    view! {
        <Title text="Not found"/>
        <section class="not-found" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p>"Nothing lives at " <code>{move || path.get()}</code> "."</p>
            <p><a href="/executions">"Back to the dashboard"</a></p>
        </section>
    }
}
