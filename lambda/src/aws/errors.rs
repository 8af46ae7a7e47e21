//! Turns AWS SDK errors (IoT and STS) into [`RegistryError`]s: the kind from
//! the service's error code, the message from AWS's own words.

use aws_sdk_iot::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use marshal_shared::debug_text::looks_like_debug;

use crate::service::registry::{RegistryError, RegistryErrorKind};

/// Classifies a failed SDK call. `operation` (e.g. `DescribeCertificate`)
/// names the call in messages that have no AWS text of their own.
///
/// The message is AWS's message for a service error and a fixed sentence
/// otherwise: never a request body, never credentials. The full error chain
/// goes to the log for operators.
pub(crate) fn classify<E>(operation: &str, err: SdkError<E>) -> RegistryError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (kind, message) = match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let kind = kind_of(e.code(), status, e.message().unwrap_or_default());
            // AWS's message is a sentence; one that reads as a program's
            // Debug output (a proxy's or emulator's) is replaced by ours.
            let message = match (e.message(), e.code(), status) {
                (Some(m), _, _) if !m.trim().is_empty() && !looks_like_debug(m) => {
                    m.trim().to_owned()
                }
                (_, Some(code), _) => {
                    format!("AWS refused {operation} with {code}, without a message")
                }
                (_, None, Some(status)) => format!("{operation}: AWS answered HTTP {status}"),
                (_, None, None) => format!("{operation} failed"),
            };
            (kind, message)
        }
        SdkError::TimeoutError(_) => (
            RegistryErrorKind::Timeout,
            format!("{operation}: no answer from AWS in time"),
        ),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => (
            RegistryErrorKind::Timeout,
            format!("{operation}: no answer from AWS in time"),
        ),
        SdkError::DispatchFailure(_) => (
            RegistryErrorKind::Unavailable,
            format!("{operation}: could not reach AWS"),
        ),
        SdkError::ResponseError(_) => (
            RegistryErrorKind::Unavailable,
            format!("{operation}: AWS gave an answer that could not be read"),
        ),
        // Our request could not be built (or signed): a bug or missing
        // credentials on our side, not the caller's input.
        _ => (
            RegistryErrorKind::Unavailable,
            format!("{operation}: the request could not be made"),
        ),
    };
    let detail = DisplayErrorContext(&err);
    match kind {
        RegistryErrorKind::Timeout | RegistryErrorKind::Unavailable => {
            tracing::warn!(operation, ?kind, error = %detail, "AWS call failed");
        }
        _ => tracing::debug!(operation, ?kind, error = %detail, "AWS call refused"),
    }
    RegistryError::new(kind, message)
}

/// The kind of a service error, from its code; the HTTP status decides only
/// for codes not known here (or none, as for moto's HTML 500 pages).
fn kind_of(code: Option<&str>, status: Option<u16>, message: &str) -> RegistryErrorKind {
    use RegistryErrorKind::*;
    match code {
        Some("ResourceNotFoundException" | "NoSuchEntity") => NotFound,
        Some("ResourceAlreadyExistsException") => AlreadyExists,
        Some(
            "DeleteConflictException"
            | "CertificateStateException"
            | "CertificateConflictException"
            | "ConflictException"
            | "ConflictingResourceUpdateException"
            | "TransferConflictException"
            | "VersionConflictException",
        ) => Conflict,
        // DeleteThing on a thing that still has principals answers
        // InvalidRequestException (409 on moto, 400 on AWS): it is about the
        // thing's state, not a malformed request.
        Some("InvalidRequestException")
            if status == Some(409) || message.contains("attached to") =>
        {
            Conflict
        }
        Some(
            "InvalidRequestException"
            | "CertificateValidationException"
            | "MalformedPolicyException"
            | "MalformedPolicyDocument"
            | "PackedPolicyTooLarge"
            | "ValidationError"
            | "ValidationException"
            | "VersionsLimitExceededException",
        ) => Invalid,
        Some(
            "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedException"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "RegionDisabledException",
        ) => AccessDenied,
        Some(
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded",
        ) => Throttled,
        Some(
            "ServiceUnavailableException"
            | "ServiceUnavailable"
            | "InternalFailureException"
            | "InternalFailure"
            | "InternalException"
            | "InternalServerException",
        ) => Unavailable,
        _ => match status {
            Some(404) => NotFound,
            Some(409) => Conflict,
            Some(401 | 403) => AccessDenied,
            Some(429) => Throttled,
            Some(400..=499) => Invalid,
            _ => Unavailable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistryErrorKind::*;

    use aws_sdk_iot::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_iot::operation::describe_certificate::DescribeCertificateError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use marshal_shared::debug_text::debug_shapes;

    type Sdk = SdkError<DescribeCertificateError>;

    fn response(status: u16) -> aws_sdk_iot::config::http::HttpResponse {
        Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
    }

    fn service(code: Option<&str>, message: Option<&str>, status: u16) -> Sdk {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        if let Some(message) = message {
            meta = meta.message(message);
        }
        SdkError::service_error(
            DescribeCertificateError::generic(meta.build()),
            response(status),
        )
    }

    /// Every kind of SDK failure reaches callers (the per-target error in the
    /// JSON body) as a sentence: never the SDK's error chain, whose `Debug`
    /// and `DisplayErrorContext` texts go to the log only.
    #[test]
    fn every_sdk_error_reaches_callers_as_words() {
        let inner = || std::io::Error::other("Custom { kind: Other, error: \"secret detail\" }");
        let cases: Vec<(Sdk, RegistryErrorKind, &str)> = vec![
            (
                service(
                    Some("ResourceNotFoundException"),
                    Some("The certificate does not exist."),
                    404,
                ),
                NotFound,
                "The certificate does not exist.",
            ),
            (
                service(Some("AccessDeniedException"), None, 403),
                AccessDenied,
                "AWS refused DescribeCertificate with AccessDeniedException, without a message",
            ),
            (
                service(
                    Some("InternalFailureException"),
                    Some("Error { code: Some(\"X\") }"),
                    500,
                ),
                Unavailable,
                "AWS refused DescribeCertificate with InternalFailureException, without a message",
            ),
            (
                service(None, None, 500),
                Unavailable,
                "DescribeCertificate: AWS answered HTTP 500",
            ),
            (
                SdkError::timeout_error(inner()),
                Timeout,
                "DescribeCertificate: no answer from AWS in time",
            ),
            (
                SdkError::dispatch_failure(ConnectorError::timeout(Box::new(inner()))),
                Timeout,
                "DescribeCertificate: no answer from AWS in time",
            ),
            (
                SdkError::dispatch_failure(ConnectorError::io(Box::new(inner()))),
                Unavailable,
                "DescribeCertificate: could not reach AWS",
            ),
            (
                SdkError::response_error(inner(), response(200)),
                Unavailable,
                "DescribeCertificate: AWS gave an answer that could not be read",
            ),
            (
                SdkError::construction_failure(inner()),
                Unavailable,
                "DescribeCertificate: the request could not be made",
            ),
        ];
        for (error, kind, message) in cases {
            let classified = classify("DescribeCertificate", error);
            assert_eq!(
                (classified.kind, classified.message.as_str()),
                (kind, message)
            );
            // What the per-target error in the JSON body carries.
            let shown = classified.message;
            assert_eq!(debug_shapes(&shown), Vec::<&str>::new(), "{shown}");
            assert!(!shown.contains("secret detail"), "{shown}");
        }
    }

    /// One row per answer AWS or moto gives (see /tmp/moto-probe/FINDINGS.md).
    #[test]
    fn codes_map_to_kinds() {
        let cases: &[(Option<&str>, Option<u16>, &str, RegistryErrorKind)] = &[
            (Some("ResourceNotFoundException"), Some(404), "", NotFound),
            (
                Some("ResourceAlreadyExistsException"),
                Some(409),
                "The certificate is already provisioned or registered",
                AlreadyExists,
            ),
            (Some("DeleteConflictException"), Some(409), "", Conflict),
            (Some("CertificateStateException"), Some(406), "", Conflict),
            (
                Some("CertificateConflictException"),
                Some(409),
                "",
                Conflict,
            ),
            (
                Some("InvalidRequestException"),
                Some(409),
                "Cannot delete. Thing dev-1 is still attached to one or more principals",
                Conflict,
            ),
            (
                Some("InvalidRequestException"),
                Some(400),
                "Cannot delete. Thing dev-1 is still attached to one or more principals",
                Conflict,
            ),
            (
                Some("InvalidRequestException"),
                Some(400),
                "Endpoint type bogus not recognized.",
                Invalid,
            ),
            (
                Some("CertificateValidationException"),
                Some(400),
                "",
                Invalid,
            ),
            (Some("MalformedPolicyException"), Some(400), "", Invalid),
            (Some("AccessDenied"), Some(403), "", AccessDenied),
            (Some("UnauthorizedException"), Some(401), "", AccessDenied),
            (Some("AccessDeniedException"), Some(403), "", AccessDenied),
            (Some("ThrottlingException"), Some(429), "", Throttled),
            (Some("Throttling"), Some(400), "", Throttled),
            (
                Some("ServiceUnavailableException"),
                Some(503),
                "",
                Unavailable,
            ),
            (Some("InternalFailureException"), Some(500), "", Unavailable),
            // moto's HTML 500 page for a PEM it cannot read: no code at all.
            (None, Some(500), "", Unavailable),
            (Some("SomethingNew"), Some(400), "", Invalid),
            (Some("SomethingNew"), Some(404), "", NotFound),
            (Some("SomethingNew"), Some(502), "", Unavailable),
            (None, None, "", Unavailable),
        ];
        for (code, status, message, want) in cases {
            assert_eq!(
                kind_of(*code, *status, message),
                *want,
                "code {code:?}, HTTP {status:?}, message {message:?}"
            );
        }
    }
}
