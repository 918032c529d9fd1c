use leptos::prelude::*;
use leptos_meta::Title;

use crate::functions::about::get_about;
use crate::models::about::{format_uptime, AboutInfo};

/// Mode, version, build commit and uptime of the server.
#[component]
pub fn AboutPage() -> impl IntoView {
    // Blocking, so the facts are in the HTML the server sends, not filled in by a script.
    let info = Resource::new_blocking(|| (), |_| get_about());

    view! {
        <Title text="About"/>
        <section class="about">
            <h1>"About this Gatehouse"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(about) => view! { <AboutFacts about/> }.into_any(),
                        Err(error) => view! {
                            <p class="error-banner" role="alert">{error.to_string()}</p>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AboutFacts(about: AboutInfo) -> impl IntoView {
    view! {
        <dl class="facts" data-testid="about-facts">
            <dt>"Mode"</dt>
            <dd data-testid="about-mode">{about.mode.as_str()}</dd>
            <dt>"Version"</dt>
            <dd data-testid="about-version">{about.version}</dd>
            <dt>"Build commit"</dt>
            <dd data-testid="about-commit"><code>{about.git_commit}</code></dd>
            <dt>"Started"</dt>
            <dd data-testid="about-started"><time datetime=about.started_at.clone()>{about.started_at.clone()}</time></dd>
            <dt>"Uptime"</dt>
            <dd data-testid="about-uptime">{format_uptime(about.uptime_seconds)}</dd>
        </dl>
    }
}
