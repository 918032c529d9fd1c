//! "Copy" buttons: a `<button data-copy="ID">` puts the text of the element with that id on
//! the clipboard, and says so on the button for a moment.
//!
//! The clipboard is there only in a secure context (HTTPS, or the loopback address); on a
//! plain-HTTP address, or when the browser refuses, the text is selected instead and the
//! button asks the reader to press Ctrl+C, so the command is one keystroke away either way.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::js_sys;
use web_sys::Element;

use super::{document, window};
use crate::models::copy::{COPY_ATTRIBUTE, COPY_DONE, COPY_LABEL, COPY_SELECTED};

/// How long the button shows what happened before it says "Copy" again.
const SAYS_FOR_MS: i32 = 2_000;

/// Copies the text the button names. Called by the navigation island's click listener.
pub fn copy_for(button: &Element) {
    let (Some(window), Some(document)) = (window(), document()) else {
        return;
    };
    let Some(source) = button
        .get_attribute(COPY_ATTRIBUTE)
        .and_then(|id| document.get_element_by_id(&id))
    else {
        return;
    };
    let text = source.text_content().unwrap_or_default();
    let navigator = window.navigator();
    let has_clipboard = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .is_ok_and(|clipboard| !clipboard.is_undefined() && !clipboard.is_null());
    if !has_clipboard {
        select(&source);
        say(button, COPY_SELECTED);
        return;
    }
    let button = button.clone();
    spawn_local(async move {
        let written = JsFuture::from(navigator.clipboard().write_text(&text)).await;
        if written.is_ok() {
            say(&button, COPY_DONE);
        } else {
            select(&source);
            say(&button, COPY_SELECTED);
        }
    });
}

/// Selects everything inside `element`, for the reader to copy by hand.
fn select(element: &Element) {
    let (Some(window), Some(document)) = (window(), document()) else {
        return;
    };
    let Ok(range) = document.create_range() else {
        return;
    };
    if range.select_node_contents(element).is_err() {
        return;
    }
    if let Ok(Some(selection)) = window.get_selection() {
        let _ = selection.remove_all_ranges();
        let _ = selection.add_range(&range);
    }
}

/// Shows `words` on the button, then its usual label again.
fn say(button: &Element, words: &str) {
    button.set_text_content(Some(words));
    let button = button.clone();
    let back = Closure::once_into_js(move || button.set_text_content(Some(COPY_LABEL)));
    let Some(window) = window() else {
        return;
    };
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(back.unchecked_ref(), SAYS_FOR_MS);
}
