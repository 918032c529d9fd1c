//! Time left until a deadline: rendered by the server as of the moment it drew the page, then
//! counted down every second in the browser by [`Countdowns`].

use leptos::prelude::*;

use crate::models::countdown::time_left;
use crate::models::pipeline::Timestamp;

/// A deadline's time left, as of `now` (the server's clock when it rendered the page). The
/// deadline rides along in `data-deadline-ms` (`models::countdown::DEADLINE_ATTRIBUTE`).
#[component]
pub fn Countdown(deadline: Timestamp, now: Timestamp) -> impl IntoView {
    view! {
        <span class="countdown" data-deadline-ms=deadline.0.to_string()>
            <time datetime=deadline.rfc3339()>{time_left(deadline, now)}</time>
        </span>
    }
}

/// **Island.** Counts every [`Countdown`] on the page down once a second, from the browser's
/// clock — also those that arrive later with a live update or a page change, since it looks
/// for them on each tick.
///
/// Why in the browser: the time left changes every second; a page rendered once cannot.
#[island]
pub fn Countdowns() -> impl IntoView {
    // Effects run in the browser only, after the island has woken.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Ok(handle) = set_interval_with_handle(
            crate::browser::countdowns::tick,
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
}
