//! How a page shows a server function's error: one readable line, never a stack or a 500 page.

use leptos::prelude::*;

use crate::errors::AppError;

#[component]
pub fn ErrorBanner(error: AppError) -> impl IntoView {
    let hint = match &error {
        AppError::Upstream(_) => {
            Some("The pipeline's backend is not answering as it should; try again in a moment.")
        }
        AppError::Transport(_) => {
            Some("The request did not reach the server; check the connection and try again.")
        }
        _ => None,
    };
    view! {
        <div class="error-banner" role="alert" data-testid="error-banner">
            <p>{error.to_string()}</p>
            {hint.map(|hint| view! { <p class="muted">{hint}</p> })}
        </div>
    }
}
