//! The one place errors become HTTP responses: `{"error": {code, message, requestId}}`
//! with the status `shared::api` defines for the code. Internal causes are logged,
//! never sent.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use marshal_shared::api::{ErrorBody, ErrorCode, ErrorDetail, IndexedFinding};

/// A refused request.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Stable code (decides the status).
    pub code: ErrorCode,
    /// Message for the caller.
    pub message: String,
    /// Preflight findings, for `preflight_failed`.
    pub findings: Vec<IndexedFinding>,
    /// A `WWW-Authenticate` challenge to send with a 401 (RFC 6750).
    pub challenge: Option<&'static str>,
}

impl ApiError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            findings: Vec::new(),
            challenge: None,
        }
    }

    /// 401 for a bearer token that was refused: `WWW-Authenticate: Bearer
    /// error="invalid_token"` and `message` (never the token itself).
    pub fn invalid_token(message: impl Into<String>) -> ApiError {
        ApiError {
            challenge: Some("Bearer error=\"invalid_token\""),
            ..ApiError::new(ErrorCode::Unauthorized, message)
        }
    }

    /// Attaches the request id and renders the response.
    pub fn into_response_with(self, request_id: &str) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                request_id: request_id.to_owned(),
                findings: self.findings,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl IntoResponse for ApiError {
    /// Without a request id at hand (extractor rejections); the request-id
    /// middleware fills it in from the response header it sets.
    fn into_response(self) -> Response {
        let mut response = self.clone().into_response_with("");
        response.extensions_mut().insert(PendingRequestId(self));
        response
    }
}

/// Marks an error response whose body still lacks the request id.
#[derive(Debug, Clone)]
pub(crate) struct PendingRequestId(pub(crate) ApiError);
