//! Follows same-site links and sends forms through the [`loader`](super::loader), so moving
//! between pages and deciding on one does not reload the whole document; a click on a "Copy"
//! button goes to [`copy`](super::copy).
//!
//! Only what is a page of this site is taken over; everything else stays the browser's: a
//! modified click (new tab), a link to another site, a download (an address whose last part
//! has a file extension, like the audit export), anything under `/auth/` (signing in or out
//! changes who is asking: a clean load is right), and forms that upload files.

use wasm_bindgen::JsCast;
use web_sys::{
    Element, Event, HtmlAnchorElement, HtmlFormElement, MouseEvent, SubmitEvent, UrlSearchParams,
};

use super::loader::{self, current_url, History, PageRequest};
use super::{copy, document, listen, window};
use crate::models::copy::{COPY_ATTRIBUTE, SCRIPTED_ATTRIBUTE};

/// Starts listening for clicks, form submissions and Back/Forward. Called once per page load.
pub fn install() {
    let (Some(window), Some(document)) = (window(), document()) else {
        return;
    };
    if let Some(root) = document.document_element() {
        let _ = root.set_attribute(SCRIPTED_ATTRIBUTE, "");
    }
    listen(&document, "click", on_click);
    listen(&document, "submit", on_submit);
    listen(&window, "popstate", |_| {
        loader::navigate(PageRequest {
            url: current_url(),
            post: None,
            form: None,
            history: History::Keep,
        })
    });
}

fn on_click(event: Event) {
    let Some(click) = event.dyn_ref::<MouseEvent>() else {
        return;
    };
    if event.default_prevented()
        || click.button() != 0
        || click.meta_key()
        || click.ctrl_key()
        || click.shift_key()
        || click.alt_key()
    {
        return;
    }
    let clicked = event
        .target()
        .and_then(|target| target.dyn_into::<Element>().ok());
    if let Some(button) = clicked.as_ref().and_then(|element| {
        element
            .closest(&format!("button[{COPY_ATTRIBUTE}]"))
            .ok()
            .flatten()
    }) {
        copy::copy_for(&button);
        return;
    }
    let Some(link) = clicked
        .and_then(|element| element.closest("a[href]").ok().flatten())
        .and_then(|element| element.dyn_into::<HtmlAnchorElement>().ok())
    else {
        return;
    };
    if !link.target().is_empty()
        || link.has_attribute("download")
        || link.rel().split_whitespace().any(|rel| rel == "external")
    {
        return;
    }
    let url = link.href();
    if !is_our_page(&url) || is_jump_within_page(&url) {
        return;
    }
    event.prevent_default();
    loader::navigate(PageRequest {
        url,
        post: None,
        form: None,
        history: History::Push,
    });
}

fn on_submit(event: Event) {
    if event.default_prevented() {
        return;
    }
    let Some(form) = event
        .target()
        .and_then(|target| target.dyn_into::<HtmlFormElement>().ok())
    else {
        return;
    };
    // Read from the attributes: a form's properties are shadowed by its fields, so with an
    // `<input name="action">` (the audit filter has one) `form.action` is that input.
    let attribute = |name: &str| form.get_attribute(name).unwrap_or_default();
    let method = attribute("method").to_ascii_lowercase();
    let method = if method.is_empty() {
        "get".to_string()
    } else {
        method
    };
    let Some(action) = address_of(&attribute("action")) else {
        return;
    };
    if !attribute("target").is_empty()
        || attribute("enctype").eq_ignore_ascii_case("multipart/form-data")
        || (method != "get" && method != "post")
        || !is_our_page(&action)
    {
        return;
    }
    let Some(fields) = fields_of(&form, event.dyn_ref::<SubmitEvent>()) else {
        return;
    };
    event.prevent_default();
    // One send per click: a second press while the first is on its way is ignored.
    if form.get_attribute("aria-busy").as_deref() == Some("true") {
        return;
    }
    let _ = form.set_attribute("aria-busy", "true");
    let request = if method == "get" {
        let base = action.split(['?', '#']).next().unwrap_or_default();
        PageRequest {
            url: format!("{base}?{}", String::from(fields.to_string())),
            post: None,
            form: None,
            history: History::Push,
        }
    } else {
        PageRequest {
            url: action,
            post: Some(fields),
            form: Some(form),
            history: History::AfterForm,
        }
    };
    loader::navigate(request);
}

/// The form's fields as the browser would send them, the pressed button's name included.
fn fields_of(form: &HtmlFormElement, event: Option<&SubmitEvent>) -> Option<UrlSearchParams> {
    let data = web_sys::FormData::new_with_form(form).ok()?;
    let fields = UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
    if let Some(button) = event.and_then(SubmitEvent::submitter) {
        let name = button.get_attribute("name").unwrap_or_default();
        if !name.is_empty() {
            fields.append(&name, &button.get_attribute("value").unwrap_or_default());
        }
    }
    Some(fields)
}

/// The absolute address a form's `action` attribute names; an empty one is the page itself.
fn address_of(action: &str) -> Option<String> {
    let here = current_url();
    if action.is_empty() {
        return Some(here);
    }
    web_sys::Url::new_with_base(action, &here)
        .ok()
        .map(|url| url.href())
}

/// A page of this site the loader may show in place.
fn is_our_page(url: &str) -> bool {
    let Ok(url) = web_sys::Url::new(url) else {
        return false;
    };
    let ours = window().and_then(|window| window.location().origin().ok());
    let path = url.pathname();
    let last = path.rsplit('/').next().unwrap_or_default();
    Some(url.origin()) == ours && !path.starts_with("/auth/") && !last.contains('.')
}

/// A link to another place on the same page (`#section`): the browser scrolls there itself.
fn is_jump_within_page(url: &str) -> bool {
    let here = current_url();
    let strip = |u: &str| u.split('#').next().unwrap_or_default().to_string();
    url.contains('#') && strip(url) == strip(&here)
}
