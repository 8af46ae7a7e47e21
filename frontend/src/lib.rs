//! Marshal's onboarding page (Yew + WebAssembly): device credentials made in
//! the browser (in a web worker), shown with their AWS IoT certificate ID and
//! preflight findings, and registered — certificate only — into the targets
//! the API allows.
//!
//! The pure parts (`state`, `i18n`, `generation`) build natively too, so the
//! reducer and the translations are tested with plain `cargo test`; the
//! parts that know the DOM exist only on `wasm32`.

pub mod generation;
pub mod i18n;
pub mod qr;
pub mod state;
pub mod zip;

#[cfg(target_arch = "wasm32")]
mod api_client;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod components;
#[cfg(target_arch = "wasm32")]
mod download;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;

#[cfg(target_arch = "wasm32")]
pub use entry::{generate_in_worker, start_page};

#[cfg(target_arch = "wasm32")]
mod entry {
    //! What `main.js` and `worker.js` call.

    use wasm_bindgen::prelude::wasm_bindgen;

    /// Mounts the page on `<main id="app">` (or the body). Called by `main.js`.
    #[wasm_bindgen]
    pub fn start_page() {
        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("app"));
        match root {
            Some(root) => {
                yew::Renderer::<crate::app::App>::with_root(root).render();
            }
            None => {
                yew::Renderer::<crate::app::App>::new().render();
            }
        }
    }

    /// Runs one generation job (JSON of [`crate::generation::GenerateJob`])
    /// and returns the JSON of a [`crate::generation::GenerateOutcome`].
    /// Called by `worker.js`, off the page's UI thread.
    #[wasm_bindgen]
    pub fn generate_in_worker(job_json: &str) -> String {
        crate::generation::run_json(job_json)
    }
}
