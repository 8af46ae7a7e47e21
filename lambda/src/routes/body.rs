//! The JSON body extractor: size limit (413), content type (415), refusal of
//! private key material (422, before parsing into types and before any log),
//! then JSON into the request type (400 with the serde message).

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::header::CONTENT_TYPE,
};
use marshal_shared::{api::ErrorCode, find_key_material};
use serde::de::DeserializeOwned;

use super::AppState;
use crate::error::ApiError;

/// A checked JSON body.
pub(crate) struct JsonBody<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let limit = state.service.config().limits.max_body_bytes;
        let is_json = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let too_large = || {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                format!("the body is larger than {limit} bytes"),
            )
        };
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| too_large())?;
        if bytes.len() > limit {
            return Err(too_large());
        }
        parse(&bytes)
    }
}

/// Refuses key material anywhere in the body, then deserialises.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<JsonBody<T>, ApiError> {
    let refuse = |what: &str| {
        ApiError::new(
            ErrorCode::KeyMaterialRefused,
            format!(
                "the body carries {what}; private keys never leave the device — send certificates only. Nothing was done."
            ),
        )
    };
    // Raw bytes first (catches labels even in invalid JSON), then every
    // decoded string (catches escaped and base64 forms).
    if let Some(found) = find_key_material(&String::from_utf8_lossy(bytes)) {
        return Err(refuse(found.describe()));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if let Some(found) = strings(&value).find_map(find_key_material) {
        return Err(refuse(found.describe()));
    }
    serde_json::from_value(value).map(JsonBody).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body does not have the expected shape: {e}"),
        )
    })
}

/// Every string in a JSON value, keys included.
fn strings(value: &serde_json::Value) -> Box<dyn Iterator<Item = &str> + '_> {
    use serde_json::Value;
    match value {
        Value::String(s) => Box::new(std::iter::once(s.as_str())),
        Value::Array(items) => Box::new(items.iter().flat_map(strings)),
        Value::Object(map) => Box::new(
            map.iter()
                .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(strings(v))),
        ),
        _ => Box::new(std::iter::empty()),
    }
}
