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

pub(crate) fn window() -> Window {
    web_sys::window().expect("the islands run in a browser window")
}

pub(crate) fn document() -> Document {
    window()
        .document()
        .expect("a browser window has a document")
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
