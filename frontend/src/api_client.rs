//! The one typed client of the HTTP API (same origin), built on
//! `shared::api`. Failures come back as [`ApiFailure`]s the page can put
//! into words; raw bodies are never shown.

use marshal_shared::api::{
    CreateRegistrationRequest, CreateRegistrationResponse, ErrorBody, GetConfigResponse,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::state::ApiFailure;
use crate::worker::describe;

/// `GET /v1/config`.
pub(crate) async fn get_config() -> Result<GetConfigResponse, ApiFailure> {
    call("GET", "/v1/config", None, &[200]).await
}

/// `POST /v1/registrations`: 200 when all succeeded, 207 when some failed.
pub(crate) async fn create_registration(
    request: &CreateRegistrationRequest,
) -> Result<CreateRegistrationResponse, ApiFailure> {
    let body = serde_json::to_string(request).map_err(unreachable)?;
    call("POST", "/v1/registrations", Some(body), &[200, 207]).await
}

async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
    ok: &[u16],
) -> Result<T, ApiFailure> {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = Headers::new().map_err(js_failure)?;
    headers
        .set("Accept", "application/json")
        .map_err(js_failure)?;
    if let Some(body) = &body {
        headers
            .set("Content-Type", "application/json")
            .map_err(js_failure)?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(js_failure)?;
    let window = web_sys::window().ok_or_else(|| unreachable("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_failure)?
        .dyn_into()
        .map_err(js_failure)?;
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(js_failure)?)
        .await
        .map_err(js_failure)?
        .as_string()
        .unwrap_or_default();
    if ok.contains(&status) {
        return serde_json::from_str(&text).map_err(|e| {
            unreachable(format!(
                "HTTP {status} with an answer the page cannot read ({e})"
            ))
        });
    }
    match serde_json::from_str::<ErrorBody>(&text) {
        Ok(ErrorBody { error }) => Err(ApiFailure::Refused {
            status,
            code: error.code,
            message: error.message,
            request_id: error.request_id,
        }),
        Err(_) => Err(unreachable(format!("HTTP {status} from {path}"))),
    }
}

fn unreachable(detail: impl ToString) -> ApiFailure {
    ApiFailure::Unreachable {
        detail: detail.to_string(),
    }
}

fn js_failure(error: JsValue) -> ApiFailure {
    unreachable(describe(error))
}

/// `GET /v1/certificates/{id}`: the certificate in every visible target.
/// `id` is canonical (64 lowercase hex digits), safe in a path as it is.
pub(crate) async fn get_certificate(
    id: &str,
) -> Result<marshal_shared::api::GetCertificateResponse, ApiFailure> {
    call("GET", &format!("/v1/certificates/{id}"), None, &[200]).await
}

/// `POST /v1/certificates/{id}/status`: 200 when all succeeded, 207 when some failed.
pub(crate) async fn update_certificate_status(
    id: &str,
    request: &marshal_shared::api::UpdateStatusRequest,
) -> Result<marshal_shared::api::UpdateStatusResponse, ApiFailure> {
    let body = serde_json::to_string(request).map_err(unreachable)?;
    let path = format!("/v1/certificates/{id}/status");
    call("POST", &path, Some(body), &[200, 207]).await
}

/// `DELETE /v1/certificates/{id}?targets=a,b`: 200 or 207.
pub(crate) async fn delete_certificate(
    id: &str,
    targets: &[String],
) -> Result<marshal_shared::api::DeleteCertificateResponse, ApiFailure> {
    let targets: Vec<String> = targets
        .iter()
        .map(|t| String::from(js_sys::encode_uri_component(t)))
        .collect();
    let path = format!("/v1/certificates/{id}?targets={}", targets.join(","));
    call("DELETE", &path, None, &[200, 207]).await
}

/// `POST /v1/certificates/{id}/transfer`: 200 or 207.
pub(crate) async fn transfer_certificate(
    id: &str,
    request: &marshal_shared::api::TransferCertificateRequest,
) -> Result<marshal_shared::api::TransferCertificateResponse, ApiFailure> {
    let body = serde_json::to_string(request).map_err(unreachable)?;
    let path = format!("/v1/certificates/{id}/transfer");
    call("POST", &path, Some(body), &[200, 207]).await
}
