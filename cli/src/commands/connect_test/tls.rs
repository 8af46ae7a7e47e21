//! The TLS client configuration of `connect-test`: rustls with the ring
//! provider, the given trust anchors, the device certificate and key, and
//! ALPN on port 443; plus TLS names as people and RFCs write them.

use std::sync::Arc;

use marshal_shared::{Certificate, PrivateKey};
use rustls::{
    AlertDescription, ClientConfig, ProtocolVersion, RootCertStore,
    crypto::ring,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    sign::{CertifiedKey, SingleCertAndKey},
};

use crate::outcome::Failure;

/// A client configuration that trusts `trust`, authenticates with
/// `chain` (device certificate first) and `key`, and offers `alpn`.
///
/// The ring provider is named explicitly: the workspace also builds rustls
/// with aws-lc-rs (for the AWS SDK), so a process-wide default provider
/// would depend on which crates happen to be linked.
pub(crate) fn client_config(
    trust: &[Certificate],
    chain: &[&Certificate],
    key: &PrivateKey,
    alpn: Option<&str>,
) -> Result<Arc<ClientConfig>, Failure> {
    let provider = Arc::new(ring::default_provider());

    let mut roots = RootCertStore::empty();
    for (i, ca) in trust.iter().enumerate() {
        roots
            .add(CertificateDer::from(ca.der().to_vec()))
            .map_err(|e| {
                Failure::input(
                    "unusable_ca",
                    format!("CA certificate #{} cannot be a trust anchor: {e}", i + 1),
                )
            })?;
    }

    // Borrowed, not copied: the only copy of the key stays in `PrivateKey`,
    // which wipes it on drop.
    let signing_key = ring::sign::any_supported_type(&PrivateKeyDer::Pkcs8(
        PrivatePkcs8KeyDer::from(key.pkcs8_der()),
    ))
    .map_err(|e| {
        Failure::input(
            "unsupported_key",
            format!(
                "this {} key cannot sign a TLS handshake here ({e}); \
                 AWS IoT devices use ECDSA P-256/P-384 or RSA 2048+",
                key.algorithm()
            ),
        )
    })?;
    let chain = chain
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let certified = CertifiedKey::new(chain, signing_key);

    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(internal)?
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    if let Some(alpn) = alpn {
        config.alpn_protocols = vec![alpn.as_bytes().to_vec()];
    }
    Ok(Arc::new(config))
}

fn internal(e: rustls::Error) -> Failure {
    Failure {
        status: 1,
        code: "internal_error".into(),
        message: format!("cannot set up TLS: {e}"),
    }
}

/// `TLS 1.3`, `TLS 1.2`.
pub(crate) fn version_name(version: ProtocolVersion) -> String {
    match version {
        ProtocolVersion::TLSv1_3 => "TLS 1.3".to_owned(),
        ProtocolVersion::TLSv1_2 => "TLS 1.2".to_owned(),
        other => format!("{other:?}"),
    }
}

/// An alert's name as RFC 8446 writes it (`unknown_ca`, `bad_certificate`).
pub(crate) fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::CloseNotify => "close_notify",
        AlertDescription::UnexpectedMessage => "unexpected_message",
        AlertDescription::BadRecordMac => "bad_record_mac",
        AlertDescription::RecordOverflow => "record_overflow",
        AlertDescription::HandshakeFailure => "handshake_failure",
        AlertDescription::NoCertificate => "no_certificate",
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::IllegalParameter => "illegal_parameter",
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::DecodeError => "decode_error",
        AlertDescription::DecryptError => "decrypt_error",
        AlertDescription::ProtocolVersion => "protocol_version",
        AlertDescription::InsufficientSecurity => "insufficient_security",
        AlertDescription::InternalError => "internal_error",
        AlertDescription::InappropriateFallback => "inappropriate_fallback",
        AlertDescription::UserCanceled => "user_canceled",
        AlertDescription::MissingExtension => "missing_extension",
        AlertDescription::UnsupportedExtension => "unsupported_extension",
        AlertDescription::UnrecognisedName => "unrecognized_name",
        AlertDescription::CertificateRequired => "certificate_required",
        AlertDescription::NoApplicationProtocol => "no_application_protocol",
        other => return format!("alert {}", u8::from(other)),
    };
    name.to_owned()
}

/// Alerts by which a server says it does not accept our client certificate.
pub(crate) fn refuses_client_certificate(alert: AlertDescription) -> bool {
    matches!(
        alert,
        AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateExpired
            | AlertDescription::CertificateUnknown
            | AlertDescription::UnknownCA
            | AlertDescription::AccessDenied
            | AlertDescription::CertificateRequired
            | AlertDescription::NoCertificate
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_follow_the_rfc() {
        assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
        assert_eq!(
            alert_name(AlertDescription::CertificateRequired),
            "certificate_required"
        );
        assert_eq!(alert_name(AlertDescription::from(0xfe)), "alert 254");
        assert!(refuses_client_certificate(AlertDescription::BadCertificate));
        assert!(!refuses_client_certificate(
            AlertDescription::ProtocolVersion
        ));
    }

    #[test]
    fn configures_a_generated_device() {
        let request = marshal_shared::CertificateRequest {
            common_name: "dev".to_owned(),
            organization: None,
            organizational_unit: None,
            country: None,
            validity_days: 1,
        };
        let credentials = marshal_shared::generate(
            marshal_shared::KeyType::EcP256,
            &request,
            marshal_shared::OffsetDateTime::now_utc(),
        )
        .unwrap();
        let amazon = Certificate::from_pem(marshal_shared::AMAZON_ROOT_CA_1_PEM).unwrap();
        let config = client_config(
            &[amazon],
            &[&credentials.certificate],
            &credentials.private_key,
            Some("x-amzn-mqtt-ca"),
        )
        .unwrap();
        assert_eq!(config.alpn_protocols, vec![b"x-amzn-mqtt-ca".to_vec()]);
        assert!(config.enable_sni);
    }
}
