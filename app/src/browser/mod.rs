//! What the islands do to the page in the browser (compiled for the browser only).
//!
//! Pages are rendered by the server. To show news or follow a link without a full page load,
//! the browser fetches the server's rendering of the page and brings the document in line with
//! it in place ([`morph`]), so nothing flashes, scroll stays where it was and a half-typed
//! form keeps what was typed. [`loader`] does the fetching, one page at a time, newest wins;
//! [`navigation`] sends links and forms through it (and works the pages' [`copy`] buttons),
//! [`live`] sends news through it.

pub mod copy;
pub mod countdowns;
pub mod live;
pub mod loader;
pub mod morph;
pub mod navigation;

use wasm_bindgen::JsCast;
use web_sys::{Document, Window};

// The islands run in a browser window with a document, but a script can also land in a worker
// or a frameless context; there the islands do nothing and the plain page keeps working.
pub(crate) fn window() -> Option<Window> {
    web_sys::window()
}

pub(crate) fn document() -> Option<Document> {
    window()?.document()
}

/// Adds `listener` for `event` on `target` for the page's lifetime.
pub(crate) fn listen(
    target: &web_sys::EventTarget,
    event: &str,
    listener: impl FnMut(web_sys::Event) + 'static,
) {
    let closure = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::Event)>::new(listener);
    // A listener that cannot be added leaves the plain page working: links and forms still
    // navigate the ordinary way.
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    // The listeners live as long as the page does.
    closure.forget();
}
