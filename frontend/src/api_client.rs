//! The one typed client of the HTTP API, built on `shared::api`. Every call
//! goes to the API named by `config.json` (the page's own origin without
//! one) and carries the signed-in user's id token when sign-in is
//! configured; without a valid token it is not sent at all. Failures come
//! back as [`ApiFailure`]s the page can put into words; raw bodies are
//! never shown.

use std::cell::RefCell;

use marshal_shared::api::{
    CreateRegistrationRequest, CreateRegistrationResponse, ErrorBody, GetConfigResponse, Job,
};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};
use yew::Callback;

use crate::auth::{IdToken, Session};
use crate::runtime_config::{ConfigProblem, RuntimeConfig};
use crate::state::ApiFailure;
use crate::worker::describe;

/// Where the API is and who calls it. The page is single-threaded and
/// these are page-wide facts — set once at start ([`configure`]) and by the
/// sign-in bar, read by every call — so they live here rather than being
/// handed through every component.
struct Access {
    config: Result<RuntimeConfig, ConfigProblem>,
    session: Session,
    /// Told whenever `session` changes (the sign-in bar redraws).
    on_change: Option<Callback<()>>,
}

thread_local! {
    static ACCESS: RefCell<Access> = RefCell::new(Access {
        config: Ok(RuntimeConfig::local()),
        session: Session::NotRequired,
        on_change: None,
    });
}

/// Fetches `./config.json` (same origin). None there (404) is the local
/// mode: the page's own origin, no sign-in.
pub(crate) async fn load_runtime_config() -> Result<RuntimeConfig, ConfigProblem> {
    let unreachable = |e: JsValue| ConfigProblem::Unreachable {
        detail: describe(e),
    };
    let window = web_sys::window().ok_or_else(|| ConfigProblem::Unreachable {
        detail: "no window".to_owned(),
    })?;
    let init = RequestInit::new();
    init.set_method("GET");
    let request = Request::new_with_str_and_init("./config.json", &init).map_err(unreachable)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(unreachable)?
        .dyn_into()
        .map_err(unreachable)?;
    match response.status() {
        404 => Ok(RuntimeConfig::local()),
        200 => {
            let text = JsFuture::from(response.text().map_err(unreachable)?)
                .await
                .map_err(unreachable)?
                .as_string()
                .unwrap_or_default();
            RuntimeConfig::from_json(&text)
        }
        status => Err(ConfigProblem::Unavailable { status }),
    }
}

/// Sets where calls go; signed out when the config asks for sign-in.
pub(crate) fn configure(config: Result<RuntimeConfig, ConfigProblem>) {
    let session = Session::new(matches!(&config, Ok(c) if c.sign_in().is_some()));
    ACCESS.with_borrow_mut(|access| {
        access.config = config;
        access.session = session;
    });
}

/// The configuration read at start.
pub(crate) fn runtime_config() -> Result<RuntimeConfig, ConfigProblem> {
    ACCESS.with_borrow(|access| access.config.clone())
}

/// The session as it is now.
pub(crate) fn session() -> Session {
    ACCESS.with_borrow(|access| access.session.clone())
}

/// Calls `on_change` whenever the session changes (one listener: the bar).
pub(crate) fn watch_session(on_change: Callback<()>) {
    ACCESS.with_borrow_mut(|access| access.on_change = Some(on_change));
}

/// Signed in: later calls carry `token`.
pub(crate) fn signed_in(token: IdToken) {
    change_session(|session| *session = Session::SignedIn(token));
}

/// Signed out: the token is forgotten.
pub(crate) fn sign_out() {
    change_session(Session::sign_out);
}

/// Ends the session if its token is (nearly) expired now.
pub(crate) fn expire_if_due() {
    let _ = change_session(|session| session.expire_if_due(now_secs()));
}

/// Applies `change` to the session and, when it changed, tells the
/// listener after the borrow ends (so the listener may read it again).
fn change_session<R>(change: impl FnOnce(&mut Session) -> R) -> R {
    let (result, listener) = ACCESS.with_borrow_mut(|access| {
        let before = access.session.clone();
        let result = change(&mut access.session);
        let changed = access.session != before;
        (result, changed.then(|| access.on_change.clone()).flatten())
    });
    if let Some(listener) = listener {
        listener.emit(());
    }
    result
}

fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

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
    // Only the decoding is generic: one copy of the fetch for every call.
    let (status, text) = fetch(method, path, body, ok).await?;
    serde_json::from_str(&text).map_err(|e| {
        unreachable(format!(
            "HTTP {status} with an answer the page cannot read ({e})"
        ))
    })
}

/// Sends the call; the status and the body of an answer in `ok`, else
/// the failure in words.
async fn fetch(
    method: &str,
    path: &str,
    body: Option<String>,
    ok: &[u16],
) -> Result<(u16, String), ApiFailure> {
    // The one place a call's URL and token are decided: without a usable
    // config or a valid token, nothing is sent.
    expire_if_due();
    let (url, authorization) = ACCESS.with_borrow_mut(|access| {
        let config = access.config.as_ref().map_err(|_| ApiFailure::PageConfig)?;
        let authorization = access
            .session
            .authorization(now_secs())
            .map_err(ApiFailure::SignIn)?;
        Ok::<_, ApiFailure>((config.api_url(path), authorization))
    })?;
    let mut headers = vec![("Accept", "application/json")];
    if let Some(authorization) = &authorization {
        headers.push(("Authorization", authorization));
    }
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    let (status, text) = exchange(method, &url, &headers, body.as_deref())
        .await
        .map_err(js_failure)?;
    if status == 401 {
        // API Gateway's JWT authorizer: the token is missing, expired or
        // revoked. The session ends; the page says so.
        return Err(ApiFailure::SignIn(change_session(Session::rejected)));
    }
    if ok.contains(&status) {
        return Ok((status, text));
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

/// One request from the browser with exactly `headers`: its status and
/// the text of its body.
async fn exchange(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, String), JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    let request_headers = Headers::new()?;
    for (name, value) in headers {
        request_headers.set(name, value)?;
    }
    init.set_headers(&request_headers);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    let request = Request::new_with_str_and_init(url, &init)?;
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()?;
    let text = JsFuture::from(response.text()?)
        .await?
        .as_string()
        .unwrap_or_default();
    Ok((response.status(), text))
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

/// `POST /v1/certificates/{id}/adopt` (target admins).
pub(crate) async fn adopt_certificate(
    id: &str,
    request: &marshal_shared::api::AdoptRequest,
) -> Result<marshal_shared::api::AdoptCertificateResponse, ApiFailure> {
    let body = serde_json::to_string(request).map_err(unreachable)?;
    let path = format!("/v1/certificates/{id}/adopt");
    call("POST", &path, Some(body), &[200, 207]).await
}

/// `GET /v1/certificates?…`: one page of the inventory (the first, or the
/// one after `cursor`), every filter percent-encoded by the query.
pub(crate) async fn list_certificates(
    query: &crate::state::inventory::InventoryQuery,
    cursor: Option<&str>,
) -> Result<marshal_shared::api::InventoryResponse, ApiFailure> {
    call("GET", &query.path(cursor), None, &[200]).await
}

/// `GET /v1/certificates/{id}/history`, oldest first. `id` comes from an
/// answer of the server: it goes into the path only if it is canonical.
pub(crate) async fn certificate_history(
    id: &str,
) -> Result<marshal_shared::api::CertificateHistoryResponse, ApiFailure> {
    let id = canonical(id)?;
    call(
        "GET",
        &format!("/v1/certificates/{id}/history"),
        None,
        &[200],
    )
    .await
}

/// `POST /v1/certificates/{id}/rotate`: 200 or 207. The body holds the
/// new certificate's PEM, never its key.
pub(crate) async fn rotate_certificate(
    id: &str,
    request: &marshal_shared::api::RotateCertificateRequest,
) -> Result<marshal_shared::api::RotateCertificateResponse, ApiFailure> {
    let id = canonical(id)?;
    let body = serde_json::to_string(request).map_err(unreachable)?;
    let path = format!("/v1/certificates/{id}/rotate");
    call("POST", &path, Some(body), &[200, 207]).await
}

/// `POST /v1/certificates/{id}/retire`: 200 or 207.
pub(crate) async fn retire_certificate(
    id: &str,
    request: &marshal_shared::api::RetireCertificateRequest,
) -> Result<marshal_shared::api::RetireCertificateResponse, ApiFailure> {
    let id = canonical(id)?;
    let body = serde_json::to_string(request).map_err(unreachable)?;
    let path = format!("/v1/certificates/{id}/retire");
    call("POST", &path, Some(body), &[200, 207]).await
}

/// The canonical form of `id` (64 lowercase hex digits), safe in a path;
/// anything else is not sent.
fn canonical(id: &str) -> Result<String, ApiFailure> {
    crate::state::manage::parse_certificate_id(id)
        .map_err(|_| unreachable("not a certificate ID; nothing was sent"))
}

/// `POST /v1/jobs`: 201 with the job, and for an upload job where to put
/// its file.
pub(crate) async fn create_job(
    request: &marshal_shared::api::CreateJobRequest,
) -> Result<marshal_shared::api::CreateJobResponse, ApiFailure> {
    let body = serde_json::to_string(request).map_err(unreachable)?;
    call("POST", "/v1/jobs", Some(body), &[201]).await
}

/// `GET /v1/jobs/{id}`, `POST …/start` (202) and `POST …/cancel`: the job
/// as it stands. `id` comes from an answer of the server: it goes into the
/// path only if it is a job id.
pub(crate) async fn job(id: &str, action: JobCall) -> Result<Job, ApiFailure> {
    if !marshal_shared::validate::is_job_id(id) {
        return Err(unreachable("not a job id; nothing was sent"));
    }
    match action {
        JobCall::Read => call("GET", &format!("/v1/jobs/{id}"), None, &[200]).await,
        JobCall::Start => {
            let path = format!("/v1/jobs/{id}/start");
            call("POST", &path, Some("{}".to_owned()), &[202]).await
        }
        JobCall::Cancel => {
            let path = format!("/v1/jobs/{id}/cancel");
            call("POST", &path, Some("{}".to_owned()), &[200]).await
        }
    }
}

/// What [`job`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobCall {
    Read,
    Start,
    Cancel,
}

/// `GET /v1/jobs/{id}/results`, then the CSV behind its presigned URL.
pub(crate) async fn job_results(id: &str) -> Result<String, ApiFailure> {
    if !marshal_shared::validate::is_job_id(id) {
        return Err(unreachable("not a job id; nothing was sent"));
    }
    let answer: marshal_shared::api::JobResultsResponse =
        call("GET", &format!("/v1/jobs/{id}/results"), None, &[200]).await?;
    let (_, text) = transfer("GET", &answer.url, &[], None).await?;
    Ok(text)
}

/// PUTs a job's file where `POST /v1/jobs` said, with exactly the headers
/// it said (they are signed). The URL is presigned: no token goes with it.
pub(crate) async fn upload_job_file(
    upload: &marshal_shared::api::UploadInstructions,
    file: &str,
) -> Result<(), ApiFailure> {
    if file.len() as u64 > upload.max_bytes {
        return Err(unreachable(format!(
            "the job file is {} bytes, more than the {} this deployment accepts",
            file.len(),
            upload.max_bytes
        )));
    }
    transfer(&upload.method, &upload.url, &upload.headers, Some(file)).await?;
    Ok(())
}

/// A request to a presigned URL of the job bucket: no token, `headers` as
/// given; any 2xx is success, anything else a failure in words (S3's error
/// body is XML, not the API's).
async fn transfer(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Result<(u16, String), ApiFailure> {
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(unreachable("the server gave no usable file URL"));
    }
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let (status, text) = exchange(method, url, &headers, body).await.map_err(|e| {
        unreachable(format!(
            "the job bucket cannot be reached ({})",
            describe(e)
        ))
    })?;
    if (200..300).contains(&status) {
        Ok((status, text))
    } else {
        Err(unreachable(format!(
            "the job bucket answered HTTP {status}"
        )))
    }
}
