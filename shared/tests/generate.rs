//! The device profile of generated credentials, checked field by field with an
//! X.509 decoder other than the encoder that wrote them (RustCrypto
//! `x509-cert` reads what `generate/x509.rs` wrote; openssl and Python check them in `tests/`).

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use der::{Decode, Encode};
use marshal_shared::{
    CertificateRequest, Curve, Error, KeyAlgorithm, KeyType, OffsetDateTime, PrivateKey,
    SERIAL_BYTES, csr, generate, generate_rsa_pkcs8, import, pkcs12, preflight, self_signed,
};
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap()
}

/// Generates one credential of `key_type` and checks the whole device profile.
fn check_profile(key_type: KeyType, expected: KeyAlgorithm) {
    let request = CertificateRequest {
        common_name: "sensor-01".into(),
        organization: Some("Example Factory".into()),
        organizational_unit: Some("Line 1".into()),
        country: Some("JP".into()),
        validity_days: 30,
    };
    let creds = generate(key_type, &request, now()).unwrap();
    let cert = &creds.certificate;
    let parsed = x509_cert::Certificate::from_der(cert.der()).unwrap();
    let tbs = parsed.tbs_certificate();

    // RFC 4514 text lists RDNs last-first: encoded order is C, O, OU, CN as openssl shows it.
    assert_eq!(
        tbs.subject().to_string(),
        "CN=sensor-01,OU=Line 1,O=Example Factory,C=JP"
    );
    assert_eq!(tbs.issuer(), tbs.subject(), "self-signed");
    let serial = tbs.serial_number().as_bytes();
    assert_eq!(
        serial.len(),
        SERIAL_BYTES,
        "{key_type}: serial {serial:02x?}"
    );
    assert!(
        serial[0] & 0x80 == 0 && serial[0] != 0,
        "{key_type}: serial must be positive and minimal"
    );

    let (from, to) = cert.validity();
    assert_eq!(from.unix_timestamp(), now().unix_timestamp());
    assert_eq!((to - from).whole_days(), 30);

    let (critical, bc) = tbs.get_extension::<BasicConstraints>().unwrap().unwrap();
    assert!(
        critical && !bc.ca,
        "{key_type}: basicConstraints CA:false, critical"
    );
    let (_, KeyUsage(usage)) = tbs.get_extension::<KeyUsage>().unwrap().unwrap();
    assert!(usage.contains(KeyUsages::DigitalSignature));
    assert_eq!(
        usage.contains(KeyUsages::KeyEncipherment),
        key_type.rsa_bits().is_some(),
        "{key_type}"
    );
    assert!(!usage.contains(KeyUsages::KeyCertSign));
    let (_, ExtendedKeyUsage(eku)) = tbs.get_extension::<ExtendedKeyUsage>().unwrap().unwrap();
    assert_eq!(
        eku.iter().map(|o| o.to_string()).collect::<Vec<_>>(),
        ["1.3.6.1.5.5.7.3.2"]
    );
    let (_, ski) = tbs
        .get_extension::<SubjectKeyIdentifier>()
        .unwrap()
        .unwrap();
    assert!(!ski.0.as_bytes().is_empty());

    assert_eq!(creds.private_key.algorithm(), &expected);
    assert_eq!(cert.key_algorithm().unwrap(), expected);
    creds.private_key.check_matches(cert).unwrap();
    assert!(
        cert.is_self_signed(),
        "{key_type}: signature must verify with its own key"
    );
    assert!(preflight::accepted(&preflight::check_certificate(
        cert,
        now()
    )));

    // The PKCS#8 PEM reads back as the same key.
    let pem = creds.private_key.to_pkcs8_pem();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let back = PrivateKey::from_pem(&pem, "").unwrap();
    assert_eq!(back.pkcs8_der(), creds.private_key.pkcs8_der());

    // The CSR carries the same subject and key, and is signed by it.
    let csr_pem = csr(&creds.private_key, &request).unwrap();
    let block = &marshal_shared::pem::parse_blocks(&csr_pem).unwrap()[0];
    assert_eq!(block.label, "CERTIFICATE REQUEST");
    let req = x509_cert::request::CertReq::from_der(&block.der).unwrap();
    assert_eq!(req.info.subject, *tbs.subject());
    assert_eq!(
        req.info.public_key.to_der().unwrap(),
        tbs.subject_public_key_info().to_der().unwrap()
    );
}

#[test]
fn p256_profile() {
    check_profile(KeyType::EcP256, KeyAlgorithm::Ec { curve: Curve::P256 });
}

#[test]
fn p384_profile() {
    check_profile(KeyType::EcP384, KeyAlgorithm::Ec { curve: Curve::P384 });
}

#[test]
fn rsa2048_profile() {
    check_profile(KeyType::Rsa2048, KeyAlgorithm::Rsa { bits: 2048 });
}

#[test]
fn rsa3072_key_size() {
    let creds = generate(KeyType::Rsa3072, &CertificateRequest::new("big"), now()).unwrap();
    assert_eq!(
        creds.private_key.algorithm(),
        &KeyAlgorithm::Rsa { bits: 3072 }
    );
}

#[test]
fn serials_differ() {
    let request = CertificateRequest::new("same");
    let a = generate(KeyType::EcP256, &request, now()).unwrap();
    let b = generate(KeyType::EcP256, &request, now()).unwrap();
    assert_ne!(
        a.certificate.info().unwrap().serial,
        b.certificate.info().unwrap().serial
    );
    assert_ne!(a.certificate.id(), b.certificate.id());
}

/// The page makes RSA keys with WebCrypto and hands `shared` the PKCS#8.
#[test]
fn self_signed_with_an_existing_rsa_key() {
    let pkcs8 = generate_rsa_pkcs8(2048).unwrap();
    let key = PrivateKey::from_pkcs8_der(&pkcs8).unwrap();
    let cert = self_signed(&key, &CertificateRequest::new("webcrypto"), now()).unwrap();
    key.check_matches(&cert).unwrap();
    assert_eq!(cert.common_name().as_deref(), Some("webcrypto"));
    assert_eq!(cert.key_usage(), ["digitalSignature", "keyEncipherment"]);
}

#[test]
fn keys_that_cannot_sign_device_certificates() {
    let ed = import(include_bytes!("examples/ed25519.cert.pem"), "").unwrap();
    assert!(ed.private_key.is_none());
    let p521 = import(include_bytes!("examples/p521.key.pem"), "")
        .unwrap()
        .private_key
        .unwrap();
    let err = self_signed(&p521, &CertificateRequest::new("x"), now()).unwrap_err();
    assert_eq!(err.code(), "unsupported_key_type");
}

#[test]
fn invalid_requests_name_the_field() {
    let base = CertificateRequest::new("ok");
    let cases: Vec<(CertificateRequest, &str)> = vec![
        (CertificateRequest::new(""), "common name"),
        (CertificateRequest::new("a".repeat(65)), "64 characters"),
        (CertificateRequest::new("tab\there"), "control characters"),
        (
            CertificateRequest {
                country: Some("jp".into()),
                ..base.clone()
            },
            "country",
        ),
        (
            CertificateRequest {
                country: Some("JPN".into()),
                ..base.clone()
            },
            "country",
        ),
        (
            CertificateRequest {
                organization: Some(" ".into()),
                ..base.clone()
            },
            "organization",
        ),
        (
            CertificateRequest {
                validity_days: 0,
                ..base.clone()
            },
            "validity",
        ),
        (
            CertificateRequest {
                validity_days: 36_501,
                ..base.clone()
            },
            "validity",
        ),
    ];
    for (request, needle) in cases {
        let err = generate(KeyType::EcP256, &request, now()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(_)),
            "{request:?}: {err:?}"
        );
        assert!(err.to_string().contains(needle), "{request:?}: {err}");
    }
}

#[test]
fn pkcs12_export_round_trip_with_and_without_password() {
    let creds = generate(KeyType::EcP256, &CertificateRequest::new("p12"), now()).unwrap();
    for password in ["", "s3cret pässword"] {
        let p12 = pkcs12::export(&creds.certificate, &creds.private_key, password, "p12").unwrap();
        let back = import(&p12, password).unwrap();
        assert_eq!(back.leaf().unwrap(), &creds.certificate);
        assert_eq!(
            back.key().unwrap().pkcs8_der(),
            creds.private_key.pkcs8_der()
        );
        if !password.is_empty() {
            assert_eq!(
                import(&p12, "wrong").unwrap_err(),
                Error::WrongPassword("the PKCS#12 file")
            );
        }
    }
    let other = generate(KeyType::EcP256, &CertificateRequest::new("other"), now()).unwrap();
    assert_eq!(
        pkcs12::export(&creds.certificate, &other.private_key, "", "x").unwrap_err(),
        Error::KeyMismatch
    );
}
