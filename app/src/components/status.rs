//! An execution's status as colour and text (never colour alone).

use leptos::prelude::*;

use crate::models::pipeline::ExecutionStatus;

#[component]
pub fn StatusBadge(status: ExecutionStatus) -> impl IntoView {
    let class = format!(
        "status status-{}",
        status.as_str().to_lowercase().replace('_', "-")
    );
    view! { <span class=class data-status=status.as_str()>{status.label()}</span> }
}
