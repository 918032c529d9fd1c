use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::session::use_session_user;
use crate::models::identity::Identity;
use crate::models::section::Section;

/// Who you are signed in as, your roles, and what they let you open.
#[component]
pub fn MePage() -> impl IntoView {
    let session = use_session_user();
    view! {
        <Title text="Your account"/>
        <section class="me">
            <h1>"Your account"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match session.0.await {
                        Ok(Some(identity)) => view! { <AccountFacts identity/> }.into_any(),
                        Ok(None) => view! {
                            <p><a href="/signin?next=/me">"Sign in"</a> " to see your account."</p>
                        }
                        .into_any(),
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
fn AccountFacts(identity: Identity) -> impl IntoView {
    let roles = identity
        .roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let allowed = Section::ALL
        .into_iter()
        .filter(|section| section.required_role().is_some())
        .filter(|section| section.visible_to(Some(&identity)))
        .collect::<Vec<_>>();
    view! {
        <dl class="facts">
            <dt>"Username"</dt>
            <dd data-testid="me-username">{identity.username.clone()}</dd>
            <dt>"User id"</dt>
            <dd><code>{identity.subject.clone()}</code></dd>
            <dt>"Roles"</dt>
            <dd data-testid="me-roles">
                {if roles.is_empty() { "none".to_string() } else { roles }}
            </dd>
        </dl>
        {if allowed.is_empty() {
            view! {
                <p class="notice">"Your account has no Gatehouse role yet; ask an admin for one."</p>
            }
            .into_any()
        } else {
            view! {
                <h2>"What you can open"</h2>
                <ul data-testid="me-sections">
                    {allowed
                        .into_iter()
                        .map(|section| view! {
                            <li><a href=section.path()>{section.label()}</a></li>
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}
