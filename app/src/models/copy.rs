//! The "Copy" buttons' contract between the pages that draw them and the browser code that
//! makes them work (`browser::copy`).

/// On a `<button>`: the id of the element whose text the button copies (the view macro
/// needs the name literally, so the pages write `data-copy=...`).
pub const COPY_ATTRIBUTE: &str = "data-copy";
/// On `<html>`, set by the browser code once it runs: the buttons are shown only then (the
/// stylesheet hides them otherwise), since without JavaScript they could do nothing.
pub const SCRIPTED_ATTRIBUTE: &str = "data-scripted";

/// What a button says before it is pressed.
pub const COPY_LABEL: &str = "Copy";
/// What it says once the text is on the clipboard.
pub const COPY_DONE: &str = "Copied";
/// What it says when the browser has no clipboard for this page (plain HTTP) or refused.
pub const COPY_SELECTED: &str = "Selected: press Ctrl+C";
