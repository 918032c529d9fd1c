//! Moving between pages without reloading the whole document.

use leptos::prelude::*;

/// **Island.** Takes over same-site links, forms and Back/Forward: it fetches the server's
/// rendering of the next page and brings the document in line with it in place, so the
/// header, the theme and the live connection stay, and a form's answer appears without a
/// reload. What it does not take over (downloads, sign-in and sign-out, other sites) the
/// browser does as usual.
///
/// Why in the browser: catching a click or a form before the browser acts on it is something
/// only the browser can do. Without JavaScript every link and form is an ordinary page load,
/// and shows the same.
#[island]
pub fn Navigation() -> impl IntoView {
    // Effects run in the browser only, after the island has woken.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        crate::browser::navigation::install();
    });
}
