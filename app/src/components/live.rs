//! Live updates in the browser: one `EventSource` on `/events` for the whole app, opened once
//! the app is hydrated, turning each server-sent event into a [`LiveNotice`] that pages watch
//! to fetch their data again. The browser reconnects by itself and sends `Last-Event-ID`; the
//! server replays what was missed or says `resync`. Without JavaScript nothing changes: pages
//! are correct as rendered and a reload shows the news.

use leptos::prelude::*;

use crate::components::session::use_session_user;

/// One event: its kind (`execution`, `approval`, `decision`, `resync`), the execution it is
/// about (none for `resync`), and a counter so two equal events still differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveNotice {
    pub kind: String,
    pub execution: Option<String>,
    pub count: u64,
}

impl LiveNotice {
    /// Whether a page showing `execution` (or every execution, for `None`) should fetch again.
    pub fn concerns(&self, execution: Option<&str>) -> bool {
        match (self.kind.as_str(), execution) {
            ("resync", _) => true,
            (_, None) => true,
            (_, Some(name)) => self.execution.as_deref() == Some(name),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Live(pub RwSignal<Option<LiveNotice>>);

/// Provides [`Live`] and, in the browser, connects it to `/events` once someone is signed in
/// (the stream refuses anonymous visitors, and a refused `EventSource` is an error in the
/// browser's console).
pub fn provide_live() {
    let notice = RwSignal::new(None);
    provide_context(Live(notice));
    let session = use_session_user();
    let connected = StoredValue::new(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        let signed_in = matches!(session.0.get(), Some(Ok(Some(_))));
        if signed_in && !connected.get_value() {
            connected.set_value(true);
            connect(notice);
        }
    });
}

/// A signal that changes whenever an event concerns `execution` (every execution for
/// `None`): put it in a resource's source to fetch again on news.
pub fn live_version(execution: impl Fn() -> Option<String> + Send + Sync + 'static) -> Memo<u64> {
    let live = use_context::<Live>();
    Memo::new(move |previous: Option<&u64>| {
        let previous = previous.copied().unwrap_or(0);
        let Some(Live(notice)) = live else {
            return previous;
        };
        match notice.get() {
            Some(n) if n.concerns(execution().as_deref()) => n.count,
            _ => previous,
        }
    })
}

#[cfg(feature = "hydrate")]
fn connect(notice: RwSignal<Option<LiveNotice>>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{EventSource, MessageEvent};

    let Ok(source) = EventSource::new("/events") else {
        return;
    };
    let count = std::rc::Rc::new(std::cell::Cell::new(0u64));
    for kind in ["execution", "approval", "decision", "resync"] {
        let count = std::rc::Rc::clone(&count);
        let listener = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let execution = event
                .data()
                .as_string()
                .and_then(|data| serde_json::from_str::<serde_json::Value>(&data).ok())
                .and_then(|v| v["execution"].as_str().map(str::to_string));
            count.set(count.get() + 1);
            notice.set(Some(LiveNotice {
                kind: kind.to_string(),
                execution,
                count: count.get(),
            }));
        });
        let _ = source.add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        // The source lives as long as the page: so do its listeners.
        listener.forget();
    }
    // Kept for the page's lifetime; the browser closes it when the page goes.
    std::mem::forget(source);
}

#[cfg(not(feature = "hydrate"))]
fn connect(_: RwSignal<Option<LiveNotice>>) {}
