//! HTTP: the router, request ids and access logs, and one module per resource.
//! Handlers parse and check; the service does the work.

mod body;
mod certificates;
mod jobs;
mod ledger;
pub mod loopback;
mod meta;
mod registrations;

use std::{sync::Arc, time::Instant};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderValue, StatusCode, request::Parts},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use lambda_http::request::RequestContext;
use marshal_shared::api::ErrorCode;

use crate::{
    config::AuthMode,
    error::{ApiError, PendingRequestId},
    identity::Caller,
    jwt::{self, TokenVerifier},
    service::Service,
};

/// The request id: API Gateway's when there is one, else random.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Shared state of every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases.
    pub service: Service,
    /// Outside Lambda with `auth = "jwt"`: the bearer-token check API
    /// Gateway's authorizer does in AWS.
    pub verifier: Option<Arc<TokenVerifier>>,
}

/// The API under `/v1`, as AWS Lambda runs it: with `auth = "jwt"` the
/// caller comes from API Gateway's authorizer claims. Body limits come
/// from the configuration.
pub fn router(service: Service) -> Router {
    build(service, None)
}

/// The API under `/v1` checking bearer tokens itself with `verifier`, for
/// the local server with `auth = "jwt"`.
pub fn router_verifying(service: Service, verifier: TokenVerifier) -> Router {
    build(service, Some(Arc::new(verifier)))
}

fn build(service: Service, verifier: Option<Arc<TokenVerifier>>) -> Router {
    let limit = service.config().limits.max_body_bytes;
    let auth = service.config().auth;
    let state = Arc::new(AppState { service, verifier });
    let v1 = Router::new()
        .route("/health", get(meta::health))
        .route("/config", get(meta::config))
        .route("/openapi.json", get(meta::openapi))
        .route("/registrations", post(registrations::create))
        .route("/certificates", get(ledger::list))
        .route("/certificates/{id}/history", get(ledger::history))
        .route("/certificates/{id}/rotate", post(ledger::rotate))
        .route("/certificates/{id}/retire", post(ledger::retire))
        .route("/reconcile", post(ledger::reconcile))
        .route("/jobs", post(jobs::create))
        .route("/jobs/{id}", get(jobs::get))
        .route("/jobs/{id}/start", post(jobs::start))
        .route("/jobs/{id}/cancel", post(jobs::cancel))
        .route("/jobs/{id}/results", get(jobs::results))
        .route(
            "/certificates/{id}",
            get(certificates::get).delete(certificates::delete),
        )
        .route(
            "/certificates/{id}/status",
            post(certificates::update_status),
        )
        .route("/certificates/{id}/transfer", post(certificates::transfer))
        .route("/certificates/{id}/adopt", post(certificates::adopt))
        .route("/things/{name}/adopt", post(certificates::adopt_thing));
    Router::new()
        .nest("/v1", v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body extractor enforces the limit itself to answer with our
        // error body; axum's default (2 MB) is lifted accordingly.
        .layer(DefaultBodyLimit::max(limit.saturating_add(1)))
        // Inside the request id and log layer, so refusals carry an id and
        // are logged like any other answer.
        .layer(middleware::from_fn_with_state(
            auth,
            loopback::loopback_only,
        ))
        .layer(middleware::from_fn(request_id_and_log))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such route; the API lives under /v1",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take that method",
    )
}

/// Gives every request an id, stamps it into error bodies and the
/// `x-request-id` header, and logs one line per request (no bodies, no tokens).
async fn request_id_and_log(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
        _ => None,
    }
    .unwrap_or_else(random_id);
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    // The route's template (`/v1/certificates/{id}`), never the caller's
    // text: an unmatched path is logged by its length only.
    let path = match request.extensions().get::<axum::extract::MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None => format!("(no route, {} bytes)", request.uri().path().len()),
    };

    // Every log line inside the request carries its id (JSON logs show the span).
    let span = tracing::info_span!("request", request_id = %id);
    let mut response = tracing::Instrument::instrument(next.run(request), span).await;
    if let Some(PendingRequestId(error)) = response.extensions_mut().remove::<PendingRequestId>() {
        response = error.into_response_with(&id);
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let status = response.status();
    tracing::info!(
        request_id = %id, method = %method, path = %path, status = status.as_u16(),
        duration_ms = started.elapsed().as_millis() as u64, "request"
    );
    response
}

fn random_id() -> String {
    let mut bytes = [0u8; 12];
    // A failing OS RNG leaves zeros: still a usable (if not unique) id.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// The caller of a request, or 401.
pub(crate) struct Authenticated(pub(crate) Caller);

impl axum::extract::FromRequestParts<Arc<AppState>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        let auth = state.service.config().auth;
        let mut caller = if let (AuthMode::Jwt, Some(verifier)) = (auth, &state.verifier) {
            verified_caller(parts, verifier).await?
        } else {
            Caller::from_parts(parts, auth).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Unauthorized,
                    "no caller identity: a valid JWT is required",
                )
            })?
        };
        if let Some(RequestId(id)) = parts.extensions.get::<RequestId>() {
            caller.request_id.clone_from(id);
        }
        Ok(Authenticated(caller))
    }
}

/// The caller of a request whose `Authorization: Bearer` token `verifier`
/// accepts. Refusals are logged by reason, never with the token.
async fn verified_caller(parts: &Parts, verifier: &TokenVerifier) -> Result<Caller, ApiError> {
    let mut values = parts
        .headers
        .get_all(axum::http::header::AUTHORIZATION)
        .iter();
    let token = match (values.next(), values.next()) {
        (None, _) => {
            return Err(ApiError {
                challenge: Some("Bearer"),
                ..ApiError::new(
                    ErrorCode::Unauthorized,
                    "no bearer token: sign in and send it as `Authorization: Bearer <token>`",
                )
            });
        }
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty()),
        (Some(_), Some(_)) => None,
    };
    let Some(token) = token else {
        return Err(ApiError::invalid_token(
            "the Authorization header is not one `Bearer <token>`",
        ));
    };
    let refused = |problem: jwt::TokenProblem| {
        if problem.is_callers() {
            tracing::info!(reason = %problem, "bearer token refused");
            ApiError::invalid_token(problem.to_string())
        } else {
            tracing::error!(error = %problem, "bearer token not checked");
            ApiError::new(
                ErrorCode::InternalError,
                "the token issuer's keys could not be fetched; try again shortly",
            )
        }
    };
    let claims = verifier
        .verify(token, jwt::unix_now())
        .await
        .map_err(refused)?;
    Caller::from_verified(&claims).ok_or_else(|| refused(jwt::TokenProblem::NoSubject))
}

/// 200 when every part succeeded, 207 when some failed.
pub(crate) fn multi_status(all_ok: bool) -> StatusCode {
    if all_ok {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    }
}

/// Shorthand for handlers.
pub(crate) type Handled = Result<Response, ApiError>;

pub(crate) fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    (status, axum::Json(value)).into_response()
}

pub(crate) type AppStateRef = State<Arc<AppState>>;
