//! The browser entry point: wake the server-rendered page's islands, the only parts of
//! Gatehouse that run in the browser.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    app::hydrate_islands();
}
