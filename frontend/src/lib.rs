//! Marshal's onboarding page (Yew + WebAssembly): device credentials made in
//! the browser (in a web worker), shown with their AWS IoT certificate ID and
//! preflight findings, and registered — certificate only — into the targets
//! the API allows.
//!
//! The pure parts (`state`, `i18n`, `generation`, `auth`, `runtime_config`)
//! build natively too, so the reducer, sign-in's logic and the translations
//! are tested with plain `cargo test`; the parts that know the DOM exist
//! only on `wasm32`.

pub mod auth;
pub mod batch;
pub mod device_kit;
pub mod generation;
pub mod i18n;
pub mod importing;
pub mod qr;
pub mod runtime_config;
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
mod sign_in;
#[cfg(target_arch = "wasm32")]
mod worker;

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod test_support;

#[cfg(target_arch = "wasm32")]
pub use entry::{BatchRun, generate_in_worker, start_page};

#[cfg(target_arch = "wasm32")]
mod entry {
    //! What `main.js` and `worker.js` call.

    use wasm_bindgen::prelude::wasm_bindgen;

    /// Mounts the page on `<main id="app">` (or the body), once `config.json`
    /// says where the API is. Called by `main.js`. In the sign-in popup,
    /// back from the provider, it relays the answer instead and mounts
    /// nothing.
    #[wasm_bindgen]
    pub fn start_page() {
        if crate::sign_in::relay_callback() {
            return;
        }
        wasm_bindgen_futures::spawn_local(async {
            crate::api_client::configure(crate::api_client::load_runtime_config().await);
            mount();
        });
    }

    fn mount() {
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
    /// `rsa_pkcs8` is the key WebCrypto made for an RSA job. Called by
    /// `worker.js`, off the page's UI thread.
    #[wasm_bindgen]
    pub fn generate_in_worker(job_json: &str, rsa_pkcs8: Option<Vec<u8>>) -> String {
        let key = rsa_pkcs8.map(zeroize::Zeroizing::new);
        crate::generation::run_json(job_json, key.as_ref().map(|k| k.as_slice()))
    }

    /// A batch in the worker: `worker.js` makes (for RSA) each key with
    /// WebCrypto and calls [`BatchRun::add_next`] until it returns false,
    /// posting progress between calls, then [`BatchRun::finish`].
    #[wasm_bindgen]
    #[derive(Debug)]
    pub struct BatchRun {
        job: crate::batch::BatchJob,
        next: usize,
        zip: crate::batch::BatchZip,
    }

    #[wasm_bindgen]
    impl BatchRun {
        /// Reads a [`crate::batch::BatchJob`] (JSON).
        #[wasm_bindgen(constructor)]
        pub fn new(job_json: &str) -> Result<BatchRun, String> {
            let job: crate::batch::BatchJob = serde_json::from_str(job_json)
                .map_err(|e| format!("the page sent the worker a batch it cannot read: {e}"))?;
            let now = (job.settings.now_unix_ms / 1000.0) as i64;
            let zip = crate::batch::BatchZip::new(job.names.len(), now);
            Ok(BatchRun { job, next: 0, zip })
        }

        /// How many credentials the batch makes.
        pub fn total(&self) -> usize {
            self.job.names.len()
        }

        /// `rsa-2048` etc. when `worker.js` must bring a WebCrypto key.
        pub fn rsa_bits(&self) -> Option<u32> {
            let key_type: marshal_shared::KeyType = self.job.settings.key_type.parse().ok()?;
            key_type.rsa_bits().and_then(|b| u32::try_from(b).ok())
        }

        /// Makes the next credential; false when all are made.
        pub fn add_next(&mut self, rsa_pkcs8: Option<Vec<u8>>) -> Result<bool, String> {
            let Some(name) = self.job.names.get(self.next) else {
                return Ok(false);
            };
            let key = rsa_pkcs8.map(zeroize::Zeroizing::new);
            let (certificate, private_key) = self
                .job
                .settings
                .credentials(name, key.as_ref().map(|k| k.as_slice()))
                .map_err(|e| format!("{name}: {e}"))?;
            self.zip
                .add(name, &certificate, &private_key)
                .map_err(|e| format!("{name}: {e}"))?;
            self.next += 1;
            Ok(self.next < self.job.names.len())
        }

        /// The zip's file name.
        pub fn file_name(&self) -> String {
            format!("{}.zip", self.zip.name())
        }

        /// The certificates as a job file (NDJSON, public parts only), for
        /// registering the batch as a job; call before [`BatchRun::finish`].
        pub fn job_file(&self) -> String {
            self.zip.job_file().to_owned()
        }

        /// The zip (it holds private keys: the page hands it to a download).
        pub fn finish(self) -> Result<Vec<u8>, String> {
            self.zip.finish().map_err(|e| e.to_string())
        }
    }
}
