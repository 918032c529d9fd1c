//! Live updates: pages that show runs follow the pipeline without a reload.

use leptos::prelude::*;

/// **Island.** Listens to the server's live news (`/events`) and, when news concerns what the
/// page shows (its `data-live` scopes), shows the page afresh in place — a new run's row, a
/// status, a pending approval or a decision appear within the server's watch interval, and
/// nothing flashes, scrolls or loses what is being typed.
///
/// Why in the browser: only an open page can keep a connection and change itself when the
/// server has news. Without JavaScript nothing is lost but the liveness: a reload shows the same.
/// Rendered only for a signed-in reader: the stream refuses anyone else.
#[island]
pub fn LiveUpdates() -> impl IntoView {
    // Effects run in the browser only, after the island has woken.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        crate::browser::live::connect();
    });
}
