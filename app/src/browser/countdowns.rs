//! Counting the page's deadlines down in the browser.

use wasm_bindgen::JsCast;
use web_sys::{js_sys, Element};

use super::document;
use crate::models::countdown::{time_left, DEADLINE_ATTRIBUTE};
use crate::models::pipeline::Timestamp;

/// Sets every countdown on the page to the time left now, by the browser's clock.
pub fn tick() {
    let now = Timestamp(js_sys::Date::now() as i64);
    let Some(Ok(found)) =
        document().map(|document| document.query_selector_all(&format!("[{DEADLINE_ATTRIBUTE}]")))
    else {
        return;
    };
    for index in 0..found.length() {
        let Some(element) = found
            .item(index)
            .and_then(|node| node.dyn_into::<Element>().ok())
        else {
            continue;
        };
        let Some(deadline) = element
            .get_attribute(DEADLINE_ATTRIBUTE)
            .and_then(|ms| ms.parse().ok())
        else {
            continue;
        };
        let text = time_left(Timestamp(deadline), now);
        if let Ok(Some(time)) = element.query_selector("time") {
            if time.text_content().as_deref() != Some(text.as_str()) {
                time.set_text_content(Some(&text));
            }
        }
    }
}
