//! The device profile of generated credentials, checked field by field with an
//! X.509 decoder other than the encoder that wrote them (RustCrypto
//! `x509-cert` reads what rcgen wrote; openssl and Python check them in `tests/`).

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
    // The key as handed out is the key as read back (an EC key made here is
    // not proven twice: what it claims must hold when read from its PKCS#8).
    let reread = PrivateKey::from_pkcs8_der(creds.private_key.pkcs8_der()).unwrap();
    assert_eq!(reread.algorithm(), creds.private_key.algorithm());
    assert_eq!(
        reread.public_key_bits(),
        creds.private_key.public_key_bits()
    );
    reread.check_matches(cert).unwrap();
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
    assert!(pem.starts_with(concat!("-----", "BEGIN PRIVATE KEY", "-----\n")));
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

    // AWS IoT takes no Ed25519 device certificates. (RSA below 2048 bits is
    // refused earlier: such a key does not load, see `key/tests.rs`.)
    let ed25519 =
        ring::signature::Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
    let ed25519 = PrivateKey::from_pkcs8_der(ed25519.as_ref()).unwrap();
    assert_eq!(ed25519.algorithm(), &KeyAlgorithm::Ed25519);
    let err = PrivateKey::from_pkcs8_der(&generate_rsa_pkcs8(1024).unwrap()).unwrap_err();
    assert_eq!(err.code(), "unsupported_key_type", "{err}");
    for key in [&p521, &ed25519] {
        let request = CertificateRequest::new("x");
        let err = self_signed(key, &request, now()).unwrap_err();
        assert_eq!(err.code(), "unsupported_key_type", "{key:?}: {err}");
        let err = csr(key, &request).unwrap_err();
        assert_eq!(err.code(), "unsupported_key_type", "{key:?}: {err}");
    }
}

/// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always
/// in UTC (`Z`) and whole seconds, whatever offset `now` carries.
#[test]
fn validity_times_switch_to_generalized_in_2050() {
    use time::macros::datetime;
    use x509_cert::time::Time;
    let key = import(include_bytes!("examples/p256.key.pem"), "")
        .unwrap()
        .private_key
        .unwrap();
    let encoded = |now: OffsetDateTime, days: u32| {
        let request = CertificateRequest {
            validity_days: days,
            ..CertificateRequest::new("times")
        };
        let cert = self_signed(&key, &request, now).unwrap();
        let parsed = x509_cert::Certificate::from_der(cert.der()).unwrap();
        let validity = parsed.tbs_certificate().validity();
        [validity.not_before, validity.not_after].map(|t| {
            (
                matches!(t, Time::UtcTime(_)),
                t.to_der().unwrap()[2..].to_vec(),
            )
        })
    };
    let utc = |s: &str| (true, s.as_bytes().to_vec());
    let generalized = |s: &str| (false, s.as_bytes().to_vec());

    assert_eq!(
        encoded(datetime!(2026-11-29 20:34:14.999 +09:00), 1),
        [utc("261129113414Z"), utc("261130113414Z")]
    );
    assert_eq!(
        encoded(datetime!(2049-12-31 23:59:59 UTC), 1),
        [utc("491231235959Z"), generalized("20500101235959Z")]
    );
    // 2049 in its own offset, 2050 in UTC.
    assert_eq!(
        encoded(datetime!(2049-12-31 22:00:00 -05:00), 1),
        [
            generalized("20500101030000Z"),
            generalized("20500102030000Z")
        ]
    );
    assert_eq!(
        encoded(datetime!(9000-01-01 00:00:00 UTC), 10),
        [
            generalized("90000101000000Z"),
            generalized("90000111000000Z")
        ]
    );
}

/// Times X.509 cannot hold are refused, not a panic.
#[test]
fn validity_beyond_what_x509_holds_is_refused() {
    use time::macros::datetime;
    let key = import(include_bytes!("examples/p256.key.pem"), "")
        .unwrap()
        .private_key
        .unwrap();
    for (now, days) in [
        (datetime!(9999-12-01 00:00:00 UTC), 365),
        (datetime!(9999-12-31 23:00:00 -05:00), 1),
        (datetime!(1949-12-31 00:00:00 UTC), 1),
        (
            OffsetDateTime::from_unix_timestamp(253_402_300_799).unwrap(),
            36_500,
        ),
    ] {
        let request = CertificateRequest {
            validity_days: days,
            ..CertificateRequest::new("times")
        };
        let err = self_signed(&key, &request, now).unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest(_)),
            "{now} + {days}: {err:?}"
        );
    }
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
