//! The browser's end of the live updates: one `EventSource` on `/events` per page load. When
//! news concerns something the page shows (its `data-live` scopes, see
//! [`crate::models::live`]), the page is shown afresh through the [`loader`](super::loader).
//! The browser reconnects by itself and sends `Last-Event-ID`; the server replays what was
//! missed or says `resync`.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{js_sys, EventSource, MessageEvent};

use super::{document, loader};
use crate::models::live::{
    carries_pending_count, concerns, HOLD_ATTRIBUTE, LIVE_ATTRIBUTE, NEWS_KINDS,
    PENDING_COUNT_ATTRIBUTE, SINCE_ATTRIBUTE,
};
use crate::models::navigation::encode_query_value;

/// Opens the stream. Called once per page load, and only for a signed-in reader (the stream
/// refuses anyone else, and a refused `EventSource` is an error in the console). It follows
/// the news from where it stood when the server drew the page, so nothing published while the
/// page was on its way is missed.
pub fn connect() {
    let since = document()
        .query_selector(&format!("[{SINCE_ATTRIBUTE}]"))
        .ok()
        .flatten()
        .and_then(|element| element.get_attribute(SINCE_ATTRIBUTE));
    let url = match since {
        Some(since) => format!("/events?since={}", encode_query_value(&since)),
        None => "/events".to_string(),
    };
    let Ok(source) = EventSource::new(&url) else {
        return;
    };
    for kind in NEWS_KINDS {
        let listener = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let data = event
                .data()
                .as_string()
                .and_then(|data| js_sys::JSON::parse(&data).ok());
            let field = |name: &str| {
                data.as_ref()
                    .and_then(|value| js_sys::Reflect::get(value, &name.into()).ok())
            };
            if carries_pending_count(kind) {
                if let Some(count) = field("pending").and_then(|n| n.as_f64()) {
                    show_pending_count(count as u64);
                }
            }
            let execution = field("execution").and_then(|name| name.as_string());
            if page_cares(kind, execution.as_deref()) {
                loader::refresh();
            }
        });
        let _ = source.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        // The source lives as long as the page: so do its listeners.
        listener.forget();
    }
    close_when_the_page_goes(source);
}

/// Closes the stream when the page is left, and opens one again if the page comes back from
/// the back/forward cache (`pageshow` with `persisted`). Leaving a page did not release its
/// stream at once in Chromium: a browser keeps at most six connections to one HTTP/1.1
/// server, and after six pages the seventh waited about a minute for one. The handlers are
/// the window's `onpagehide`/`onpageshow`, so a new stream replaces the old one's.
fn close_when_the_page_goes(source: EventSource) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_hide = Closure::<dyn Fn()>::new(move || source.close());
    window.set_onpagehide(Some(on_hide.as_ref().unchecked_ref()));
    on_hide.forget();
    let on_show = Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let persisted = js_sys::Reflect::get(&event, &"persisted".into())
            .ok()
            .and_then(|value| value.as_bool())
            .unwrap_or(false);
        if persisted {
            connect();
        }
    });
    window.set_onpageshow(Some(on_show.as_ref().unchecked_ref()));
    on_show.forget();
}

/// Writes the count of pending approvals the news carried into the navigation's badge.
fn show_pending_count(count: u64) {
    let Ok(badges) = document().query_selector_all(&format!("[{PENDING_COUNT_ATTRIBUTE}]")) else {
        return;
    };
    for badge in (0..badges.length())
        .filter_map(|index| badges.item(index))
        .filter_map(|node| node.dyn_into::<web_sys::Element>().ok())
    {
        badge.set_text_content(Some(&count.to_string()));
        let _ = badge.set_attribute("title", &format!("{count} pending"));
        let _ = if count == 0 {
            badge.set_attribute("hidden", "")
        } else {
            badge.remove_attribute("hidden")
        };
    }
}

/// Whether any part of the page shown now is about this news.
fn page_cares(kind: &str, execution: Option<&str>) -> bool {
    if let Ok(Some(_)) = document().query_selector(&format!("[{HOLD_ATTRIBUTE}]")) {
        return false;
    }
    let Ok(parts) = document().query_selector_all(&format!("[{LIVE_ATTRIBUTE}]")) else {
        return false;
    };
    (0..parts.length())
        .filter_map(|index| parts.item(index))
        .filter_map(|node| node.dyn_into::<web_sys::Element>().ok())
        .filter_map(|element| element.get_attribute(LIVE_ATTRIBUTE))
        .any(|scope| concerns(&scope, kind, execution))
}
