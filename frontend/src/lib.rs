//! The browser entry point: brings the page's islands (the interactive
//! forms) to life; everything else is server-rendered HTML.

// Links the app crate, whose `#[island]`s export their own hydration entry
// points; nothing here names them directly.
extern crate app;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
