//! The TLS client configuration of `connect-test`: rustls with the ring
//! provider, the given trust anchors, the device certificate and key, and
//! ALPN on port 443; plus TLS version and cipher suite names as people and
//! RFCs write them.

use std::sync::Arc;

use marshal_shared::{Certificate, PrivateKey};
use rustls::{
    CipherSuite, ClientConfig, ProtocolVersion, RootCertStore,
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
            .map_err(|_| {
                Failure::input(
                    "unusable_ca",
                    format!(
                        "CA certificate #{} cannot be a trust anchor: TLS needs an X.509 \
                         version 3 certificate that it can read",
                        i + 1
                    ),
                )
            })?;
    }

    // Borrowed, not copied: the only copy of the key stays in `PrivateKey`,
    // which wipes it on drop.
    let signing_key = ring::sign::any_supported_type(&PrivateKeyDer::Pkcs8(
        PrivatePkcs8KeyDer::from(key.pkcs8_der()),
    ))
    .map_err(|_| {
        Failure::input(
            "unsupported_key",
            format!(
                "this {} key cannot sign a TLS handshake here; \
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

/// Only a provider without any safe TLS version fails here: a build problem.
fn internal(_: rustls::Error) -> Failure {
    Failure {
        status: 1,
        code: "internal_error".into(),
        message: "cannot set up TLS: this build's TLS provider offers no safe TLS version \
                  (report it with `marshal --version`)"
            .to_owned(),
    }
}

/// `TLS 1.3`, `TLS 1.2`.
pub(crate) fn version_name(version: ProtocolVersion) -> String {
    match version {
        ProtocolVersion::TLSv1_3 => "TLS 1.3".to_owned(),
        ProtocolVersion::TLSv1_2 => "TLS 1.2".to_owned(),
        other => format!("TLS version number {:#06x}", u16::from(other)),
    }
}

/// A cipher suite by its IANA name (`TLS13_AES_256_GCM_SHA384`).
pub(crate) fn suite_name(suite: CipherSuite) -> String {
    match suite.as_str() {
        Some(name) => name.to_owned(),
        None => format!("cipher suite number {:#06x}", u16::from(suite)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
