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
        message: without_arns(&e.message),
    }
}

/// AWS's words with every ARN taken out: an AccessDenied names the hub's
/// assumed role and the target's resources, which callers need not see (the
/// log keeps the whole message).
fn without_arns(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            if word.contains("arn:") {
                "(an ARN)"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A per-target error with our own words.
pub(crate) fn error(code: TargetErrorCode, message: impl Into<String>) -> TargetError {
    TargetError {
        code,
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_messages_reach_callers_without_arns() {
        let e = RegistryError::new(
            RegistryErrorKind::AccessDenied,
            "User: arn:aws:sts::999999999999:assumed-role/MarshalHub/marshal-x is not authorized \
             to perform: iot:UpdateCertificate on resource: arn:aws:iot:ap-northeast-1:1:cert/ab",
        );
        let shown = target_error(&e).message;
        assert!(
            !shown.contains("arn:") && !shown.contains("MarshalHub"),
            "{shown}"
        );
        assert!(shown.contains("iot:UpdateCertificate"), "{shown}");
    }
}
