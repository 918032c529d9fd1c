//! Shows its children only to a caller whose roles allow them, and otherwise says why,
//! answering 401/403 on the server. Cosmetic for the UI: every server function checks its
//! role itself.

use leptos::prelude::*;

use crate::components::session::use_session_user;
use crate::errors::AppError;
use crate::models::identity::Role;

#[component]
pub fn RoleGate(role: Role, children: ChildrenFn) -> impl IntoView {
    let session = use_session_user();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.0.await {
                    Ok(Some(identity)) if identity.has(role) => {
                        children.with_value(|children| children()).into_any()
                    }
                    Ok(Some(_)) => {
                        set_status(AppError::Forbidden { required: role }.status());
                        view! {
                            <section class="refused" data-testid="forbidden">
                                <h1>"Not for your role"</h1>
                                <p>
                                    "This page needs the " <strong>{role.as_str()}</strong>
                                    " role. Your roles are on "
                                    <a href="/me">"your account page"</a>
                                    "; an admin can change them."
                                </p>
                            </section>
                        }
                        .into_any()
                    }
                    Ok(None) => {
                        set_status(AppError::NotSignedIn.status());
                        view! {
                            <section class="refused" data-testid="not-signed-in">
                                <h1>"Please sign in"</h1>
                                <p><a href="/signin">"Sign in"</a> " to see this page."</p>
                            </section>
                        }
                        .into_any()
                    }
                    Err(error) => view! {
                        <p class="error-banner" role="alert">{error.to_string()}</p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

fn set_status(_status: http::StatusCode) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(_status);
    }
}
