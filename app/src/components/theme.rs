//! The light/dark switch.
//!
//! With no choice made the page follows the system setting (CSS `prefers-color-scheme`). A click
//! picks the opposite of what is shown now and remembers it in `localStorage`; the small
//! `public/theme-init.js` applies a remembered choice before the first paint. The switch is
//! rendered disabled on the server and enabled once its island has woken, because only then
//! can it work.

use leptos::prelude::*;

/// The key under which the browser remembers the choice. `public/theme-init.js` reads the same.
const STORAGE_KEY: &str = "gatehouse-theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn parse(value: &str) -> Option<Theme> {
        match value {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    fn opposite(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }
}

/// **Island.** The theme switch.
///
/// Why in the browser: the choice lives in the browser (`localStorage`) and the system
/// preference is only known there; the server cannot know which theme is on screen.
#[island]
pub fn ThemeToggle() -> impl IntoView {
    // `None` until the island wakes: the server cannot know what the browser shows.
    let shown = RwSignal::new(None::<Theme>);
    Effect::new(move |_| shown.set(Some(browser::shown_theme())));

    let switch = move |_| {
        if let Some(current) = shown.get_untracked() {
            let next = current.opposite();
            browser::apply_and_remember(next);
            shown.set(Some(next));
        }
    };

    view! {
        <button
            type="button"
            class="theme-toggle"
            data-testid="theme-toggle"
            disabled=move || shown.get().is_none()
            aria-label=move || match shown.get() {
                Some(theme) => format!("Switch to {} theme", theme.opposite().as_str()),
                None => "Theme switch (available once the page has loaded)".to_string(),
            }
            on:click=switch
        >
            {move || match shown.get() {
                Some(Theme::Dark) => "☀ Light",
                Some(Theme::Light) => "☾ Dark",
                None => "Theme",
            }}
        </button>
    }
}

/// Browser-side effects of the switch. Only ever called from effects and event handlers,
/// which run in the browser, never during server rendering.
mod browser {
    use super::{Theme, STORAGE_KEY};
    use leptos::prelude::window;

    /// The theme on screen: the remembered choice, else what the system prefers.
    pub fn shown_theme() -> Theme {
        remembered().unwrap_or_else(system_preference)
    }

    pub fn apply_and_remember(theme: Theme) {
        if let Some(root) = window().document().and_then(|doc| doc.document_element()) {
            // Failing to set an attribute leaves the old theme on screen; nothing to recover.
            let _ = root.set_attribute("data-theme", theme.as_str());
        }
        if let Ok(Some(storage)) = window().local_storage() {
            // Storage can be full or disabled (private mode): the switch still works for
            // this page, it just is not remembered.
            let _ = storage.set_item(STORAGE_KEY, theme.as_str());
        }
    }

    fn remembered() -> Option<Theme> {
        let storage = window().local_storage().ok().flatten()?;
        let value = storage.get_item(STORAGE_KEY).ok().flatten()?;
        Theme::parse(&value)
    }

    fn system_preference() -> Theme {
        let prefers_dark = window()
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|query| query.matches());
        if prefers_dark {
            Theme::Dark
        } else {
            Theme::Light
        }
    }
}
