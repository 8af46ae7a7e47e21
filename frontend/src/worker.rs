//! The page's side of the generation workers (`static/worker.js`, which
//! loads this same WebAssembly module): jobs go out, answers come back as
//! [`WorkerMessage`]s, so the UI thread never runs key generation. Single
//! credentials and batches use separate workers, so cancelling a batch
//! (terminating its worker) leaves the other untouched.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{Event, MessageEvent, Worker, WorkerOptions, WorkerType};
use yew::Callback;
use zeroize::Zeroizing;

use crate::batch::BatchJob;
use crate::generation::{GenerateJob, GenerateOutcome};

/// Where the worker script is, next to `index.html`.
const SCRIPT: &str = "./worker.js";

/// What a worker says.
#[derive(Debug)]
pub(crate) enum WorkerMessage {
    Generated(GenerateOutcome),
    Progress {
        done: usize,
    },
    BatchDone {
        file_name: String,
        count: usize,
        ms: f64,
        zip: Zeroizing<Vec<u8>>,
        /// The certificates as an NDJSON job file (no keys).
        job_file: String,
    },
    BatchFailed(String),
}

/// A running worker; terminated when dropped.
pub(crate) struct Generator {
    worker: Worker,
    // Kept alive as long as the worker may call them.
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Generator")
    }
}

impl Generator {
    /// Starts a worker. `on_message` gets every answer; `on_broken` is
    /// called when the worker cannot load or crashes.
    pub(crate) fn spawn(
        on_message: Callback<WorkerMessage>,
        on_broken: Callback<String>,
    ) -> Result<Generator, String> {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Module);
        let worker = Worker::new_with_options(SCRIPT, &options).map_err(describe)?;
        let handler = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            on_message.emit(read_message(&event.data()));
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_event: Event| {
            on_broken.emit("the background worker failed to load or crashed".to_owned());
        });
        worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Generator {
            worker,
            _on_message: handler,
            _on_error: on_error,
        })
    }

    /// Sends one job.
    pub(crate) fn send(&self, job: &GenerateJob) -> Result<(), String> {
        self.post(
            "generate",
            &serde_json::to_string(job).map_err(|e| e.to_string())?,
        )
    }

    /// Sends a batch.
    pub(crate) fn send_batch(&self, job: &BatchJob) -> Result<(), String> {
        self.post(
            "batch",
            &serde_json::to_string(job).map_err(|e| e.to_string())?,
        )
    }

    fn post(&self, kind: &str, job: &str) -> Result<(), String> {
        let message = js_sys::Object::new();
        set(&message, "kind", &JsValue::from_str(kind))?;
        set(&message, "job", &JsValue::from_str(job))?;
        self.worker.post_message(&message).map_err(describe)
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

fn set(object: &js_sys::Object, key: &str, value: &JsValue) -> Result<(), String> {
    js_sys::Reflect::set(object, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(describe)
}

fn get(object: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A worker message in Rust terms; anything unreadable is a failure in words.
fn read_message(data: &JsValue) -> WorkerMessage {
    let number = |key| get(data, key).as_f64().unwrap_or(0.0);
    match get(data, "kind").as_string().as_deref() {
        Some("generated") => WorkerMessage::Generated(
            get(data, "outcome")
                .as_string()
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_else(|| GenerateOutcome::Failed {
                    id: 0,
                    message: "the worker sent an answer the page cannot read".to_owned(),
                }),
        ),
        Some("progress") => WorkerMessage::Progress {
            done: number("done") as usize,
        },
        Some("batch") => match get(data, "zip").dyn_into::<js_sys::Uint8Array>() {
            Ok(zip) => WorkerMessage::BatchDone {
                file_name: get(data, "fileName")
                    .as_string()
                    .unwrap_or_else(|| "marshal-batch.zip".to_owned()),
                count: number("count") as usize,
                ms: number("ms"),
                zip: Zeroizing::new(zip.to_vec()),
                job_file: get(data, "jobFile").as_string().unwrap_or_default(),
            },
            Err(_) => WorkerMessage::BatchFailed("the worker sent no zip".to_owned()),
        },
        Some("batchFailed") => WorkerMessage::BatchFailed(
            get(data, "message")
                .as_string()
                .unwrap_or_else(|| "unknown error".to_owned()),
        ),
        _ => {
            WorkerMessage::BatchFailed("the worker sent a message the page cannot read".to_owned())
        }
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
