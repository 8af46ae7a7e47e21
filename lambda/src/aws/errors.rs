//! Turns AWS SDK errors (IoT and STS) into [`RegistryError`]s: the kind from
//! the service's error code, the message from AWS's own words.

use aws_sdk_iot::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

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
            let message = match (e.message(), e.code(), status) {
                (Some(m), _, _) if !m.trim().is_empty() => m.trim().to_owned(),
                (_, Some(code), _) => format!("{operation}: {code}"),
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
