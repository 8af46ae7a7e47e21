//! Saving files: a Blob behind a short-lived object URL and a clicked
//! `<a download>`. Nothing is stored; the URL is revoked at once after the
//! browser has taken the file.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{Closure, JsValue};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use crate::worker::describe;

/// Offers `text` as a download named `filename`.
pub(crate) fn save_text(filename: &str, mime: &str, text: &str) -> Result<(), String> {
    save_bytes(filename, mime, text.as_bytes())
}

/// Offers `bytes` as a download named `filename`.
pub(crate) fn save_bytes(filename: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    // A copy in JavaScript memory, owned by the Blob.
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(describe)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(describe)?;
    let anchor: HtmlAnchorElement = document
        .create_element("a")
        .map_err(describe)?
        .dyn_into()
        .map_err(|_| "not an anchor".to_owned())?;
    anchor.set_href(&url);
    anchor.set_download(filename);
    anchor.click();
    // Revoked on the next task: some browsers read the blob after click() returns.
    let revoke = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    window
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 0)
        .map_err(describe)?;
    let _: JsValue = array.into();
    Ok(())
}
