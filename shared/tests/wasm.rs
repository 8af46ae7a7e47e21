//! The core inside a real browser (headless Chromium via wasm-bindgen-test):
//! generate, fingerprint, import PKCS#12 — what the page will do.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use marshal_shared::{
    CertificateRequest, Curve, KeyAlgorithm, KeyType, OffsetDateTime, PrivateKey, certificate_id,
    generate, generate_rsa_pkcs8, import, pkcs12, preflight, self_signed,
};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_830_000_000).unwrap()
}

#[wasm_bindgen_test]
fn generates_a_p256_device_credential() {
    let creds = generate(
        KeyType::EcP256,
        &CertificateRequest::new("browser-thing"),
        now(),
    )
    .unwrap();
    assert_eq!(
        creds.private_key.algorithm(),
        &KeyAlgorithm::Ec { curve: Curve::P256 }
    );
    creds.private_key.check_matches(&creds.certificate).unwrap();
    assert!(creds.certificate.is_self_signed());
    assert!(preflight::accepted(&preflight::check_certificate(
        &creds.certificate,
        now()
    )));
    let id = creds.certificate.id();
    assert_eq!(id.len(), 64);
    assert_eq!(id, certificate_id(creds.certificate.der()));
}

#[wasm_bindgen_test]
fn fingerprints_match_openssl() {
    let fingerprints = include_str!("examples/openssl-fingerprints.txt");
    let line = fingerprints
        .lines()
        .find(|l| l.starts_with("p256.cert.pem "))
        .unwrap();
    let expected = line
        .split_once('=')
        .unwrap()
        .1
        .replace(':', "")
        .to_ascii_lowercase();
    let cert = import(include_bytes!("examples/p256.cer"), "").unwrap();
    assert_eq!(cert.leaf().unwrap().id(), expected);
}

#[wasm_bindgen_test]
fn imports_legacy_and_modern_pkcs12() {
    let reference = import(include_bytes!("examples/p256.cert.pem"), "").unwrap();
    let files: [(&[u8], &str); 4] = [
        (include_bytes!("examples/p256.legacy.p12"), ""),
        (
            include_bytes!("examples/p256.legacy.pw.p12"),
            "marshal-test",
        ),
        (include_bytes!("examples/p256.modern.p12"), ""),
        (
            include_bytes!("examples/p256.modern.pw.p12"),
            "marshal-test",
        ),
    ];
    for (bytes, password) in files {
        let got = import(bytes, password).unwrap();
        assert_eq!(got.leaf().unwrap(), reference.leaf().unwrap());
        assert_eq!(got.key_matches(), Some(Ok(())));
    }
    assert_eq!(
        import(include_bytes!("examples/p256.modern.pw.p12"), "nope")
            .unwrap_err()
            .code(),
        "wrong_password"
    );
}

#[wasm_bindgen_test]
fn exports_pkcs12_and_signs_with_an_rsa_key() {
    let pkcs8 = generate_rsa_pkcs8(2048).unwrap();
    let key = PrivateKey::from_pkcs8_der(&pkcs8).unwrap();
    let cert = self_signed(&key, &CertificateRequest::new("rsa-in-browser"), now()).unwrap();
    let p12 = pkcs12::export(&cert, &key, "pw", "rsa-in-browser").unwrap();
    let back = import(&p12, "pw").unwrap();
    assert_eq!(back.leaf().unwrap(), &cert);
}
