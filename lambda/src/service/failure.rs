//! Registry failures as the per-target errors callers see.

use marshal_shared::api::{TargetError, TargetErrorCode};

use super::registry::{RegistryError, RegistryErrorKind};

/// Maps a registry failure to a per-target error (AWS's message kept, nothing else).
pub(crate) fn target_error(e: &RegistryError) -> TargetError {
    let code = match e.kind {
        RegistryErrorKind::AccessDenied => TargetErrorCode::AwsAccessDenied,
        RegistryErrorKind::Throttled => TargetErrorCode::AwsThrottled,
        RegistryErrorKind::Timeout => TargetErrorCode::AwsTimeout,
        RegistryErrorKind::Conflict | RegistryErrorKind::AlreadyExists => {
            TargetErrorCode::AwsConflict
        }
        RegistryErrorKind::Invalid => TargetErrorCode::AwsInvalidRequest,
        RegistryErrorKind::NotFound => TargetErrorCode::AwsInvalidRequest,
        RegistryErrorKind::Unavailable => TargetErrorCode::AwsUnavailable,
    };
    TargetError {
        code,
        message: e.message.clone(),
    }
}

/// A per-target error with our own words.
pub(crate) fn error(code: TargetErrorCode, message: impl Into<String>) -> TargetError {
    TargetError {
        code,
        message: message.into(),
    }
}
