//! The page's side of the generation worker (`static/worker.js`, which
//! loads this same WebAssembly module and calls `generate_in_worker`):
//! jobs go out as JSON, outcomes come back as JSON, so the UI thread never
//! runs the key generation.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{Event, MessageEvent, Worker, WorkerOptions, WorkerType};
use yew::Callback;

use crate::generation::{GenerateJob, GenerateOutcome};

/// Where the worker script is, next to `index.html`.
const SCRIPT: &str = "./worker.js";

/// A running worker; terminated when dropped.
pub(crate) struct Generator {
    worker: Worker,
    // Kept alive as long as the worker may call them.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Generator {
    /// Starts the worker. `on_outcome` gets every answer; `on_broken` is
    /// called when the worker cannot load or crashes.
    pub(crate) fn spawn(
        on_outcome: Callback<GenerateOutcome>,
        on_broken: Callback<String>,
    ) -> Result<Generator, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(SCRIPT, &options).map_err(describe)?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let outcome = event
                .data()
                .as_string()
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_else(|| GenerateOutcome::Failed {
                    id: 0,
                    message: "the worker sent an answer the page cannot read".to_owned(),
                });
            on_outcome.emit(outcome);
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
            on_broken.emit("the background worker failed to load or crashed".to_owned());
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Generator {
            worker,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Sends one job.
    pub(crate) fn send(&self, job: &GenerateJob) -> Result<(), String> {
        let json = serde_json::to_string(job).map_err(|e| e.to_string())?;
        self.worker
            .post_message(&JsValue::from_str(&json))
            .map_err(describe)
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// A JavaScript exception in words.
pub(crate) fn describe(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown browser error".to_owned())
}
