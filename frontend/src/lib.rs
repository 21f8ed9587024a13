//! The browser entry point: brings the page's islands (the interactive
//! forms) to life; everything else is server-rendered HTML.

// Links the app crate, whose `#[island]`s export their own hydration entry
// points; nothing here names them directly.
extern crate app;

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Island forms call server functions themselves (see `ServerForm`); a
    // redirect from one is a full page load.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|location: &str| {
        let _ = leptos::prelude::window().location().set_href(location);
    });
    leptos::mount::hydrate_islands();
    // Tells the page script (`app/src/ui/page_script.js`) that pages it
    // shows from now on have their islands hydrated by it.
    if let Ok(ready) = leptos::web_sys::Event::new("gatehouse:islands-ready") {
        let _ = leptos::prelude::window().dispatch_event(&ready);
    }
}
