//! Fetches the server's rendering of a page and shows it in place of the current one.
//!
//! One load shows at a time. A load the reader asked for (a link, a form, Back) supersedes
//! whatever is loading: a slower, older answer is dropped when it arrives. A refresh (news
//! from the live updates) never races one: it waits and runs once the page has settled, and
//! several pieces of news while it waits make one refresh.
//!
//! Whatever cannot be shown in place is left to the browser: an answer that is not a page
//! (a download), or that ends on the sign-in page (identity changes deserve a clean load),
//! is visited the ordinary way.

use std::cell::RefCell;

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::js_sys;
use web_sys::{
    DomParser, Element, Headers, HtmlFormElement, RequestCredentials, RequestInit, RequestRedirect,
    Response, SupportedType, UrlSearchParams,
};

use super::{document, morph, window};

/// How the address bar follows a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// A new entry (a link or a search form): Back returns to the page before.
    Push,
    /// A form sent to the server: a new entry only if it lands on another page.
    AfterForm,
    /// Back or Forward already moved the address bar; a refresh leaves it alone.
    Keep,
}

/// A page to load.
pub struct PageRequest {
    pub url: String,
    /// A form's fields to POST; `None` for a GET.
    pub post: Option<UrlSearchParams>,
    /// The form that was sent: emptied once the server took it without an error.
    pub form: Option<HtmlFormElement>,
    pub history: History,
}

#[derive(Default)]
struct Loader {
    /// Bumped by every load the reader asks for; an answer for an older one is dropped.
    generation: u64,
    busy: bool,
    refresh_wanted: bool,
}

thread_local! {
    static LOADER: RefCell<Loader> = RefCell::default();
}

/// What went wrong with a load: the browser takes over.
enum Fallback {
    /// Go to this address the ordinary way.
    Visit(String),
    /// Nothing usable came back.
    Failed,
}

/// Loads the page the reader asked for, superseding whatever is loading.
pub fn navigate(request: PageRequest) {
    let generation = LOADER.with_borrow_mut(|loader| {
        loader.generation += 1;
        loader.busy = true;
        loader.generation
    });
    spawn_local(async move {
        let url = request.url.clone();
        let form = request.form.clone();
        let posted = request.post.is_some();
        if let Err(fallback) = load(request, generation).await {
            if current_generation() == generation {
                match (fallback, form) {
                    (Fallback::Visit(url), _) => visit(&url),
                    // The form never reached the server: send it the ordinary way.
                    (Fallback::Failed, Some(form)) if posted => {
                        let _ = form.submit();
                    }
                    (Fallback::Failed, _) => visit(&url),
                }
            }
        }
        finished(generation);
    });
}

/// Shows the current page afresh, once nothing else is loading.
pub fn refresh() {
    let generation = LOADER.with_borrow_mut(|loader| {
        if loader.busy {
            loader.refresh_wanted = true;
            None
        } else {
            loader.busy = true;
            Some(loader.generation)
        }
    });
    let Some(generation) = generation else {
        return;
    };
    spawn_local(async move {
        let request = PageRequest {
            url: current_url(),
            post: None,
            form: None,
            history: History::Keep,
        };
        // A failed refresh changes nothing: the next news, or a reload, shows the page.
        let _ = load(request, generation).await;
        finished(generation);
    });
}

fn current_generation() -> u64 {
    LOADER.with_borrow(|loader| loader.generation)
}

fn finished(generation: u64) {
    let again = LOADER.with_borrow_mut(|loader| {
        if loader.generation != generation {
            // A newer load owns the page; it finishes the bookkeeping.
            return false;
        }
        loader.busy = false;
        std::mem::take(&mut loader.refresh_wanted)
    });
    if again {
        refresh();
    }
}

pub(crate) fn current_url() -> String {
    window()
        .and_then(|window| window.location().href().ok())
        .unwrap_or_default()
}

fn visit(url: &str) {
    if let Some(window) = window() {
        let _ = window.location().assign(url);
    }
}

async fn load(request: PageRequest, generation: u64) -> Result<(), Fallback> {
    let response = fetch(&request).await.ok_or(Fallback::Failed)?;
    let landed = response.url();
    let is_page = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .is_some_and(|kind| kind.starts_with("text/html"));
    if !is_page || path_of(&landed).as_deref() == Some("/signin") {
        return Err(Fallback::Visit(landed));
    }
    let text = match response.text() {
        Ok(text) => JsFuture::from(text).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    }
    .ok_or(Fallback::Failed)?;
    if current_generation() != generation {
        // The reader has moved on; this answer is stale.
        return Ok(());
    }
    let parsed = DomParser::new()
        .and_then(|parser| parser.parse_from_string(&text, SupportedType::TextHtml))
        .map_err(|_| Fallback::Visit(landed.clone()))?;
    let Some(document) = document() else {
        return Err(Fallback::Visit(landed));
    };
    let (Some(body), Some(fresh)) = (document.body(), parsed.body()) else {
        return Err(Fallback::Visit(landed));
    };
    if let Some(form) = &request.form {
        // Taken without an error: the form's work is done, so it starts empty again.
        // With an error, what was typed stays for the reader to correct.
        if !landed.contains("__err=") {
            form.reset();
        }
    }
    let before = current_url();
    let mut new_islands = Vec::new();
    morph::morph_children(&document, &body, &fresh, &mut new_islands);
    document.set_title(&parsed.title());
    let moved = path_of(&landed) != path_of(&before);
    if let Some(history) = window().and_then(|window| window.history().ok()) {
        let push = match request.history {
            History::Push => landed != before,
            History::AfterForm => moved,
            History::Keep => false,
        };
        if push {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&landed));
        } else if landed != before && request.history != History::Keep {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&landed));
        }
    }
    if moved && request.history != History::Keep {
        if let Some(window) = window() {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
    }
    wake(new_islands);
    Ok(())
}

async fn fetch(request: &PageRequest) -> Option<Response> {
    let init = RequestInit::new();
    let headers = Headers::new().ok()?;
    // A page, not data: server functions sent by a form answer a page with this too.
    headers.set("Accept", "text/html").ok()?;
    init.set_headers(&headers);
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_redirect(RequestRedirect::Follow);
    if let Some(fields) = &request.post {
        init.set_method("POST");
        init.set_body(fields);
    }
    let answer = JsFuture::from(window()?.fetch_with_str_and_init(&request.url, &init))
        .await
        .ok()?;
    answer.dyn_into::<Response>().ok()
}

/// The path of an absolute address of this site.
pub(crate) fn path_of(url: &str) -> Option<String> {
    web_sys::Url::new(url).ok().map(|url| url.pathname())
}

/// Hydrates islands that arrived with new content, through the function Leptos' island
/// loader leaves on `window` for exactly this.
fn wake(islands: Vec<Element>) {
    if islands.is_empty() {
        return;
    }
    let Some(window) = window() else {
        return;
    };
    let Ok(hydrate) = js_sys::Reflect::get(&window, &JsValue::from_str("__hydrateIsland")) else {
        return;
    };
    let Some(hydrate) = hydrate.dyn_ref::<js_sys::Function>() else {
        return;
    };
    for island in islands {
        let id = island.get_attribute("data-component").unwrap_or_default();
        let _ = hydrate.call2(&JsValue::NULL, &island, &JsValue::from_str(&id));
    }
}
